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
Any other column, a missing column, or both ``label`` and score columns is an error.

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
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vggsounder_hf.core.predictions import ModelPredictions, PredictionError
from vggsounder_hf.core.schema import INPUT_MODALITIES, PredictionKind

__all__ = ["ID_COLUMNS", "SCORE_PREFIX", "ReaderError", "predictions_from_table", "read_table"]

ID_COLUMNS: tuple[str, str] = ("video_id", "input_modality")
SCORE_PREFIX = "score_"
"""Score columns are ``score_<class index>``."""

_Where = Callable[[int], str]


class ReaderError(PredictionError):
    """A prediction file that cannot be read; the message names the file and the problem."""


@contextlib.contextmanager
def reading(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn the operating system's and the decoder's errors into a :class:`ReaderError`.

    Example:
        >>> with reading("model.json"):
        ...     b"\\xff".decode("utf-8")
        Traceback (most recent call last):
        vggsounder_hf.io.tables.ReaderError: model.json: not UTF-8 text (byte 0)
    """
    try:
        yield
    except UnicodeDecodeError as error:
        raise ReaderError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise ReaderError(f"{path}: cannot read ({error.strerror})") from None


def read_table(path: Path, format: str) -> tuple[Any, int, str]:
    """Read a ``"csv"`` or ``"parquet"`` table.

    Returns:
        The frame, the number of its first data row as shown in messages, and the word for a
        row (``"line"`` for CSV, ``"row"`` for Parquet): the last two arguments of
        :func:`predictions_from_table`.
    """
    import pandas as pd

    if format == "parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as error:  # pyarrow raises several unrelated types
            raise ReaderError(
                f"{path}: not a readable Parquet file ({_first_line(error)})"
            ) from None
        return frame, 1, "row"
    # index_col=False: never take surplus leading fields as an index; a row with more
    # fields than the header then raises (or warns, which is turned into an error).
    options: dict[str, Any] = {"encoding": "utf-8", "index_col": False}
    with reading(path):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)
                header = pd.read_csv(path, nrows=0, **options)
                columns = [str(column) for column in header.columns]
                if "label" in columns:
                    # Keep empty cells as "" (an empty prediction) and never turn strings like
                    # "NA" into missing values.
                    dtype: dict[str, Any] = dict.fromkeys(columns, str)
                    frame = pd.read_csv(path, dtype=dtype, keep_default_na=False, **options)
                else:
                    dtype = {column: str for column in ID_COLUMNS if column in columns}
                    frame = pd.read_csv(path, dtype=dtype, **options)
        except pd.errors.ParserWarning:
            raise ReaderError(
                f"{path}: malformed CSV (a row has more fields than the header)"
            ) from None
        except pd.errors.EmptyDataError:
            raise ReaderError(f"{path}: file is empty") from None
        except pd.errors.ParserError as error:
            raise ReaderError(f"{path}: malformed CSV ({_first_line(error)})") from None
    return frame, 2, "line"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def predictions_from_table(
    frame: Any,
    class_names: Sequence[str],
    source: str = "<table>",
    *,
    kind: PredictionKind | None = None,
    first_row: int = 1,
    row_word: str = "row",
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

    def where(position: int) -> str:
        return f"{row_word} {position + first_row}"

    video_ids = _checked_video_ids(frame["video_id"], source, where)
    modalities = _checked_input_column(frame["input_modality"], source, where)
    if found == "labels":
        labels, empty = _label_values(frame["label"], source, where)
        label_sets = _label_sets(video_ids, modalities, labels, empty)
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


def _checked_video_ids(column: Any, source: str, where: _Where) -> np.ndarray:
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


def _checked_input_column(column: Any, source: str, where: _Where) -> np.ndarray:
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


def _label_values(column: Any, source: str, where: _Where) -> tuple[np.ndarray, np.ndarray]:
    """Labels as names or ints, and a mask of empty cells (empty prediction rows)."""
    import pandas as pd

    empty = column.isna().to_numpy()
    if pd.api.types.is_bool_dtype(column.dtype):
        raise ReaderError(f"{source}: label column holds booleans, not class names or indices")
    if pd.api.types.is_numeric_dtype(column.dtype):
        numbers = column.to_numpy(dtype=np.float64, na_value=np.nan)
        integral = np.isnan(numbers) | (numbers == np.round(numbers))
        if not integral.all():
            position = int(np.argmax(~integral))
            raise ReaderError(
                f"{source}: {where(position)}: label {numbers[position]!r} is not a class index"
            )
        labels = np.where(empty, -1, np.nan_to_num(numbers, nan=-1)).astype(np.int64)
        return labels.astype(object), empty
    values = column.astype(object).to_numpy()
    text = np.array([isinstance(value, str) for value in values])
    odd = ~text & ~empty
    if odd.any():
        position = int(np.argmax(odd))
        raise ReaderError(
            f"{source}: {where(position)}: label {values[position]!r} is neither a class name "
            "nor a class index"
        )
    empty = empty | (column.astype(str).str.strip() == "").to_numpy()
    present = column[~empty].astype(str)
    if len(present) and present.str.fullmatch(r"[0-9]+").all():
        labels = np.full(len(values), -1, dtype=np.int64)
        labels[~empty] = present.astype(np.int64).to_numpy()
        return labels.astype(object), empty
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


def _score_values(scores: Any, source: str, where: _Where) -> np.ndarray:
    import pandas as pd

    for name in scores.columns:
        column = scores[name]
        if pd.api.types.is_bool_dtype(column.dtype) or not pd.api.types.is_numeric_dtype(
            column.dtype
        ):
            converted = pd.to_numeric(column, errors="coerce")
            bad = (converted.isna() & column.notna()).to_numpy()
            if pd.api.types.is_bool_dtype(column.dtype):
                bad = np.ones(len(column), dtype=bool)
            if bad.any():
                position = int(np.argmax(bad))
                raise ReaderError(
                    f"{source}: {where(position)}: {name} value "
                    f"{column.iloc[position]!r} is not a number"
                )
    matrix = scores.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(matrix)
    if missing.any():
        row, column = np.argwhere(missing)[0]
        raise ReaderError(f"{source}: {where(int(row))}: {scores.columns[column]} is empty")
    return matrix
