"""Prediction tables: CSV or Parquet files, and ``pandas`` frames, as model predictions.

A table has exactly these columns, one row per clip and input modality:

* **label sets**: ``video_id, input_modality, label``: one row per predicted label. A row
  whose ``label`` is empty (or null in Parquet) says that the clip was predicted with an
  empty set for that input. ``label`` is a class name from ``classes.csv`` or, when every
  non-empty value of the column is an integer, a class index (``0`` to the number of classes
  minus one).
* **scores**: ``video_id, input_modality, score_0, score_1, ...``: one row per clip and
  input modality holding one score per class (``score_<i>`` is the score of class ``i`` of
  ``classes.csv``).

``input_modality`` is one of :data:`~vggsounder_hf.core.schema.INPUT_MODALITIES`, lowercase.
Any other column, a missing or repeated column, or both ``label`` and score columns is an
error; so is a CSV row with fewer or more fields than the header, a label given as a boolean,
a complex number or a float (a float column of whole numbers with nulls, how pandas stores
integers with missing values, holds class indices), labels that are all numbers or all
``True``/``False`` when some are no integer, a score that is not a real number (a string, a
boolean, a complex number), and more than
:data:`~vggsounder_hf.io.limits.MAX_LABELS_PER_CLIP` rows for one clip and input. Files are
read by :mod:`vggsounder_hf.io.readers`, which also refuses a Parquet file that would expand
beyond :func:`~vggsounder_hf.io.limits.element_budget` cells.

:class:`ReaderError`, the error of every prediction reader of this package, lives here so
that :mod:`vggsounder_hf.io.readers` (which re-exports it) and this module share it.

Example:
    >>> import pandas as pd
    >>> table = pd.DataFrame({"video_id": ["x_000001", "x_000001"], "input_modality": ["a", "v"],
    ...                       "label": ["cat", ""]})
    >>> predictions = predictions_from_table(table, ("dog", "cat"))
    >>> predictions["a"].matrix.astype(int).tolist(), predictions["v"].matrix.tolist()
    ([[0, 1]], [[False, False]])
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from vggsounder_hf.core.errors import is_label_type, is_score_type, not_a_label_message
from vggsounder_hf.core.predictions import ModelPredictions, PredictionError
from vggsounder_hf.core.schema import INPUT_MODALITIES, PredictionKind
from vggsounder_hf.io.limits import MAX_LABELS_PER_CLIP, abbreviated, too_many_labels_message

__all__ = [
    "ID_COLUMNS",
    "SCORE_PREFIX",
    "ReaderError",
    "first_line_of",
    "predictions_from_table",
    "reading",
]

ID_COLUMNS: tuple[str, str] = ("video_id", "input_modality")
SCORE_PREFIX = "score_"
"""Score columns are ``score_<class index>``."""

Where = Callable[[int], str]
"""Names the data row at a position, for messages (``"line 7"``, ``"row 6"``)."""
_INDEX = r"[+-]?[0-9]{1,18}"
"""A class index as text (at most 18 digits: an int64)."""
_NUMBER = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:nan|inf)"
"""A number as text (matched without regard to case): not a class name."""


class ReaderError(PredictionError):
    """A prediction file that cannot be read; the message names the file and the problem."""


@contextlib.contextmanager
def reading(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn the operating system's and the decoder's errors into a :class:`ReaderError`.

    Example:
        >>> with reading("model.json"):
        ...     b"[\\n 1, \\xff]".decode("utf-8")
        Traceback (most recent call last):
        vggsounder_hf.io.tables.ReaderError: model.json: not UTF-8 text: byte 0xff at offset 6 \
(line 2)
    """
    try:
        yield
    except UnicodeDecodeError as error:
        raw, error = _first_undecodable(path, error)
        byte = f"byte 0x{raw[error.start]:02x}" if error.start < len(raw) else "a byte"
        line = raw[: error.start].count(b"\n") + 1
        raise ReaderError(
            f"{path}: not UTF-8 text: {byte} at offset {error.start} (line {line})"
        ) from None
    except MemoryError:
        raise ReaderError(f"{path}: too large to read into memory") from None
    except OSError as error:
        raise ReaderError(f"{path}: cannot read ({error.strerror})") from None


def first_line_of(error: BaseException) -> str:
    """The first line of an error's message (its type's name for an empty one), for a
    one-line :class:`ReaderError`."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _first_undecodable(
    path: str | os.PathLike[str], error: UnicodeDecodeError
) -> tuple[bytes, UnicodeDecodeError]:
    """The bytes and the decoding error counted from the start of the file: a text reader's
    error counts from the start of the chunk it was decoding."""
    try:
        with open(path, "rb") as handle:
            handle.read().decode("utf-8")
    except UnicodeDecodeError as from_start:
        return from_start.object, from_start
    except OSError:
        pass
    return (error.object if isinstance(error.object, bytes) else b""), error


def predictions_from_table(
    frame: Any,
    class_names: Sequence[str],
    source: str = "<table>",
    *,
    kind: PredictionKind | None = None,
    first_row: int = 1,
    row_word: str = "row",
    where: Where | None = None,
) -> ModelPredictions:
    """Turn a long table (a ``pandas.DataFrame``) into predictions.

    Columns: ``video_id, input_modality, label`` (label sets, one row per predicted label,
    an empty/null label for an empty set) or ``video_id, input_modality, score_0 ..
    score_<n-1>`` (scores, one row per clip and input).

    Args:
        frame: The table.
        class_names: Class names in ``classes.csv`` order.
        source: The file name, for messages.
        kind: Expected kind; an error when the columns say otherwise.
        first_row: Number shown in messages for the first data row (2 for a CSV line).
        row_word: ``"line"`` or ``"row"``, for messages.
        where: Names the row at a position, for messages (from :func:`read_table`); replaces
            ``first_row`` and ``row_word``.

    Example:
        >>> import pandas as pd
        >>> table = pd.DataFrame({"video_id": ["x_000001"], "input_modality": ["av"],
        ...                       "score_0": [0.3], "score_1": [0.7]})
        >>> predictions_from_table(table, ("dog", "cat"))["av"].matrix.tolist()
        [[0.3, 0.7]]
    """
    frame = frame.reset_index(drop=True)
    columns = [str(column) for column in frame.columns]
    frame.columns = columns
    score_columns = [f"{SCORE_PREFIX}{index}" for index in range(len(class_names))]
    found = _table_kind(columns, score_columns, source)
    if kind is not None and kind != found:
        raise ReaderError(f"{source}: asked for {kind} but the table's columns hold {found}")
    if frame.empty:
        raise ReaderError(f"{source}: table has no rows")

    def numbered(position: int) -> str:
        return f"{row_word} {position + first_row}"

    where = where or numbered
    video_ids = _checked_video_ids(frame["video_id"], source, where)
    modalities = _checked_input_column(frame["input_modality"], source, where)
    if found == "labels":
        labels, empty = _label_values(frame["label"], source, where, len(class_names))
        label_sets = _label_sets(video_ids, modalities, labels, empty)
        for modality, per_clip in label_sets.items():
            crowded = next(
                (key for key, got in per_clip.items() if len(got) > MAX_LABELS_PER_CLIP), None
            )
            if crowded is not None:
                place = f"{source}: clip {crowded!r}, input {modality!r}"
                raise ReaderError(too_many_labels_message(place, len(per_clip[crowded])))
        return ModelPredictions.from_label_sets(label_sets, class_names, source=source)
    matrix = _score_values(frame[score_columns], source, where)
    scores = {
        modality: (video_ids[modalities == modality].tolist(), matrix[modalities == modality])
        for modality in INPUT_MODALITIES
        if (modalities == modality).any()
    }
    return ModelPredictions.from_scores(scores, class_names, source=source)


def _label_sets(
    video_ids: np.ndarray, modalities: np.ndarray, labels: np.ndarray, empty: np.ndarray
) -> dict[str, dict[str, list[Any]]]:
    """``{input: {video_id: [labels]}}``; a clip whose only row is empty gets ``[]``."""
    label_sets: dict[str, dict[str, list[Any]]] = {}
    for modality in INPUT_MODALITIES:
        in_modality = modalities == modality
        if not in_modality.any():
            continue
        keep = in_modality & ~empty
        per_clip = _group_lists(video_ids[keep], labels[keep])
        label_sets[modality] = {
            video_id: per_clip.get(video_id, []) for video_id in _unique(video_ids[in_modality])
        }
    return label_sets


def _table_kind(columns: list[str], score_columns: list[str], source: str) -> str:
    last_score = score_columns[-1] if score_columns else f"{SCORE_PREFIX}0"
    expected = (
        f"expected columns video_id, input_modality and either label or "
        f"{SCORE_PREFIX}0..{last_score}"
    )
    duplicated = sorted({column for column in columns if columns.count(column) > 1})
    if duplicated:
        raise ReaderError(f"{source}: repeated column(s) {', '.join(duplicated)}")
    given_scores = [column for column in columns if column.startswith(SCORE_PREFIX)]
    has_label = "label" in columns
    if has_label and given_scores:
        raise ReaderError(f"{source}: has both a label column and score columns; {expected}")
    if not has_label and not given_scores:
        raise ReaderError(f"{source}: {expected}; found {', '.join(columns) or 'no columns'}")
    missing = [column for column in ID_COLUMNS if column not in columns]
    if missing:
        raise ReaderError(f"{source}: missing column(s) {', '.join(missing)}; {expected}")
    allowed = {*ID_COLUMNS, *(["label"] if has_label else score_columns)}
    extra = [column for column in columns if column not in allowed]
    if extra:
        shown = ", ".join(repr(column) for column in extra[:5])
        hint = " (a saved index? write the CSV with index=False)" if "Unnamed: 0" in extra else ""
        raise ReaderError(f"{source}: unexpected column(s) {shown}{hint}; {expected}")
    if not has_label:
        absent = [column for column in score_columns if column not in columns]
        if absent:
            raise ReaderError(
                f"{source}: missing score column(s) {', '.join(absent[:5])}"
                f"{' ...' if len(absent) > 5 else ''}; a score table needs "
                f"{SCORE_PREFIX}0..{last_score}"
            )
    return "labels" if has_label else "scores"


def _checked_video_ids(column: Any, source: str, where: Where) -> np.ndarray:
    missing = column.isna().to_numpy()
    values = column.astype(object).to_numpy()
    if not missing.any():
        text = np.array([isinstance(value, str) for value in values])
        missing = ~text | (column.astype(str).str.strip() == "").to_numpy()
    if missing.any():
        position = int(np.argmax(missing))
        raise ReaderError(
            f"{source}: {where(position)}: video_id is empty or not a string ({values[position]!r})"
        )
    return values


def _checked_input_column(column: Any, source: str, where: Where) -> np.ndarray:
    """The ``input_modality`` column, every value one of the schema's input modalities."""
    values = column.astype(object).to_numpy()
    known = column.isin(INPUT_MODALITIES).to_numpy()
    if not known.all():
        position = int(np.argmax(~known))
        unknown = sorted({repr(value) for value in values[~known]})
        shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        *others, last = map(repr, INPUT_MODALITIES)
        raise ReaderError(
            f"{source}: {where(position)}: unknown input modality {values[position]!r} "
            f"(unknown values: {shown}); use {', '.join(others)} or {last}"
        )
    return values


def _label_values(
    column: Any, source: str, where: Where, num_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Labels as names or ints, and a mask of empty cells (empty prediction rows).

    Booleans, complex numbers and floats are refused as class indices, except a float column
    of whole numbers with nulls: how pandas stores integers with missing values.
    """
    import pandas as pd

    empty = column.isna().to_numpy()
    values = column.astype(object).to_numpy()

    def refuse(bad: np.ndarray) -> ReaderError:
        position = int(np.argmax(bad))
        label = abbreviated(values[position])
        return ReaderError(not_a_label_message(f"{source}: {where(position)}", label, num_classes))

    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_complex_dtype(dtype):
        raise refuse(~empty)
    if pd.api.types.is_numeric_dtype(dtype):
        numbers = column.to_numpy(dtype=np.float64, na_value=np.nan)
        if pd.api.types.is_float_dtype(dtype) and not empty.any():
            raise refuse(~empty)  # floats without a missing value: not an integer column
        integral = np.isnan(numbers) | (numbers == np.round(numbers))
        if not integral.all():
            raise refuse(~integral)
        labels = np.where(empty, -1, np.nan_to_num(numbers, nan=-1)).astype(np.int64)
        return labels.astype(object), empty
    odd_kinds = {kind for kind in set(map(type, values)) if not is_label_type(kind)}
    if odd_kinds:
        odd = ~empty & np.fromiter((type(value) in odd_kinds for value in values), bool)
        if odd.any():
            raise refuse(odd)
    text = np.fromiter((isinstance(value, str) for value in values), bool, len(values))
    empty = empty | (text & (column.astype(str).str.strip() == "").to_numpy())
    present = pd.Series(values[~empty & text], dtype=object).astype(str)
    if len(present) and present.str.fullmatch(_INDEX).all():
        labels = values.copy()
        labels[~empty & text] = present.astype(np.int64).to_numpy()
        return labels, empty
    if len(present) and (
        present.str.fullmatch(_NUMBER, case=False).all()
        or present.str.lower().isin(("true", "false")).all()
    ):
        whole = pd.Series(values, dtype=object).astype(str).str.fullmatch(_INDEX)
        raise refuse(~empty & text & ~whole.to_numpy())
    return values, empty


def _unique(values: np.ndarray) -> list[Any]:
    return list(dict.fromkeys(values.tolist()))


def _group_lists(keys: np.ndarray, values: np.ndarray) -> dict[Any, list[Any]]:
    """``{key: [values in order]}`` with a stable sort instead of a Python loop per row."""
    if len(keys) == 0:
        return {}
    order = np.argsort(keys.astype(str), kind="stable")
    sorted_keys = keys[order]
    sorted_values = values[order].tolist()
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    ends = np.r_[starts[1:], len(sorted_keys)]
    return {
        sorted_keys[start]: sorted_values[start:end]
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True)
    }


def _score_values(scores: Any, source: str, where: Where) -> np.ndarray:
    """The score columns as one float matrix; every cell a real number."""
    import pandas as pd

    for name in scores.columns:
        column = scores[name]
        dtype = column.dtype
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_complex_dtype(dtype):
            bad = column.notna().to_numpy()
        elif pd.api.types.is_numeric_dtype(dtype):
            continue
        else:
            # Text that does not parse (a CSV cell "high"); else any value that is no number
            # (a Parquet string column "0.5"): either is refused.
            bad = (pd.to_numeric(column, errors="coerce").isna() & column.notna()).to_numpy()
            if not bad.any():
                kinds = column.astype(object).map(type).to_numpy()
                real = np.fromiter(map(is_score_type, kinds), bool, len(kinds))
                bad = column.notna().to_numpy() & ~real
        if bad.any():
            position = int(np.argmax(bad))
            value = abbreviated(column.astype(object).iloc[position])
            raise ReaderError(
                f"{source}: {where(position)}: {name} value {value!r} is not a number"
            )
    matrix = scores.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(matrix)
    if missing.any():
        row, column = np.argwhere(missing)[0]
        raise ReaderError(f"{source}: {where(int(row))}: {scores.columns[column]} is empty")
    return matrix
