"""Read one prediction file into :class:`~vggsounder_hf.core.predictions.ModelPredictions`.

Formats (chosen from the file extension unless given):

=============  ======================  ==================================================
format         extensions              content
=============  ======================  ==================================================
``pickle``     ``.pkl``, ``.pickle``   the authors' structure ``{video_id: {"predictions":
                                       {"a": [...], "v": [...], "av": [...]}, "logits":
                                       {"a": [309 floats], ...}}}``, loaded with the
                                       restricted unpickler of :mod:`vggsounder_hf.io.safe_pickle`
``json``       ``.json``               the same structure as a JSON object (or a JSON list
                                       of JSONL records, see below)
``jsonl``      ``.jsonl``, ``.ndjson``  one record per line: ``{"video_id": ...,
                                       "predictions": {...}, "logits": {...}}`` (either of
                                       the last two may be left out)
``csv``        ``.csv``                a table, see below
``parquet``    ``.parquet``, ``.pq``   the same table as Parquet
=============  ======================  ==================================================

Tables (CSV or Parquet) have exactly these columns, one row per clip and input modality:

* **label sets**: ``video_id, input_modality, label``: one row per predicted label. A row
  whose ``label`` is empty (or null in Parquet) says that the clip was predicted with an
  empty set for that input. ``label`` is a class name from ``classes.csv`` or, when every
  non-empty value of the column is an integer, a class index ``0..308``.
* **scores**: ``video_id, input_modality, score_0, score_1, ..., score_308``: one row per
  clip and input modality holding all 309 scores (``score_<i>`` is the score of class
  ``i`` of ``classes.csv``).

``input_modality`` is ``a`` (audio), ``v`` (video) or ``av`` (audio-visual), lowercase.
Any other column, a missing column, or both ``label`` and score columns is an error.

Every problem raises :class:`ReaderError` (a :class:`~vggsounder_hf.core.predictions.PredictionError`)
whose one-line message names the file and, where it helps, the line or row.

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "my-model.csv"
    >>> _ = path.write_text("video_id,input_modality,label\\nx_000001,a,cat\\nx_000001,v,\\n")
    >>> predictions = read_predictions(path, ("dog", "cat"))
    >>> default_model_name(path), predictions.kind, predictions.input_modalities
    ('my-model', 'labels', ('a', 'v'))
    >>> predictions["a"].matrix.astype(int).tolist(), predictions["v"].matrix.tolist()
    ([[0, 1]], [[False, False]])
"""

from __future__ import annotations

import json
import os
import pickle
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vggsounder_hf.core.predictions import (
    INPUT_MODALITIES,
    ModelPredictions,
    PredictionError,
    PredictionKind,
)
from vggsounder_hf.io.safe_pickle import load_pickle

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "ReaderError",
    "default_model_name",
    "detect_format",
    "predictions_from_table",
    "read_predictions",
]

FORMATS: tuple[str, ...] = ("pickle", "json", "jsonl", "csv", "parquet")
EXTENSIONS: dict[str, str] = {
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
ID_COLUMNS: tuple[str, str] = ("video_id", "input_modality")
_RECORD_KEYS = frozenset({"video_id", "predictions", "logits"})


class ReaderError(PredictionError):
    """A prediction file that cannot be read; the message names the file and the problem."""


def detect_format(path: str | os.PathLike[str], format: str | None = None) -> str:
    """The format of a prediction file: ``format`` if given, else from its extension.

    Example:
        >>> detect_format("runs/model.pkl"), detect_format("x.txt", "jsonl")
        ('pickle', 'jsonl')
    """
    if format is not None:
        if format not in FORMATS:
            raise ReaderError(f"{path}: unknown format {format!r}; use one of {FORMATS}")
        return format
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        raise ReaderError(
            f"{path}: cannot tell the format from the extension {suffix or '(none)'!r}; "
            f"use one of {', '.join(EXTENSIONS)} or name the format"
        )
    return EXTENSIONS[suffix]


def default_model_name(path: str | os.PathLike[str]) -> str:
    """The model name used for a file: its name without the extension.

    Example:
        >>> default_model_name("predictions/gemini-1.5-pro.pkl")
        'gemini-1.5-pro'
    """
    return Path(path).stem


def read_predictions(
    path: str | os.PathLike[str],
    class_names: Sequence[str],
    *,
    format: str | None = None,
    kind: PredictionKind | None = None,
) -> ModelPredictions:
    """Read a prediction file (see the module docstring for the formats).

    Args:
        path: The file.
        class_names: The 309 class names in ``classes.csv`` order.
        format: One of :data:`FORMATS`; by default from the extension.
        kind: ``"labels"`` or ``"scores"``. For the authors' structure the default follows
            the reference (scores when every entry has ``logits``); for tables the columns
            decide, and a different ``kind`` is an error.

    Raises:
        ReaderError: Missing, empty, unreadable or malformed file, or wrong structure.
        PredictionError: Values the metric core refuses (also naming the file).
    """
    source = os.fspath(path)
    chosen = detect_format(path, format)
    _check_file(Path(path))
    if kind is not None and kind not in ("labels", "scores"):
        raise ReaderError(f"{source}: kind must be 'labels' or 'scores', got {kind!r}")
    if chosen in ("csv", "parquet"):
        frame, first_row, row_word = _read_table(Path(path), chosen)
        return predictions_from_table(
            frame, class_names, source, kind=kind, first_row=first_row, row_word=row_word
        )
    if chosen == "pickle":
        mapping = _read_pickle(source)
    elif chosen == "json":
        mapping = _read_json(Path(path))
    else:
        mapping = _read_jsonl(Path(path))
    return ModelPredictions.from_mapping(mapping, class_names, source=source, kind=kind)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise ReaderError(f"{path}: no such file")
    if path.is_dir():
        raise ReaderError(f"{path}: is a directory, not a prediction file")
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ReaderError(f"{path}: cannot read ({error.strerror})") from None
    if size == 0:
        raise ReaderError(f"{path}: file is empty")


def _read_pickle(source: str) -> Any:
    try:
        return load_pickle(source)
    except OSError as error:
        raise ReaderError(f"{source}: cannot read ({error.strerror})") from None
    except pickle.UnpicklingError as error:  # includes UnsafePickleError
        raise ReaderError(str(error)) from None


def _read_text(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ReaderError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise ReaderError(f"{path}: cannot read ({error.strerror})") from None
    if not text.strip():
        raise ReaderError(f"{path}: file is empty")
    return text


def _read_json(path: Path) -> Any:
    text = _read_text(path)
    try:
        decoded = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReaderError(
            f"{path}: malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    if isinstance(decoded, list):
        return _records_to_mapping(
            ((f"item {number}", record) for number, record in enumerate(decoded)), path
        )
    if not isinstance(decoded, dict):
        raise ReaderError(
            f"{path}: expected a JSON object mapping video ids to predictions, got "
            f"{type(decoded).__name__}"
        )
    return decoded


def _read_jsonl(path: Path) -> dict[str, Any]:
    text = _read_text(path)

    def records():
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield f"line {number}", json.loads(line)
            except json.JSONDecodeError as error:
                raise ReaderError(
                    f"{path}: line {number}: malformed JSON at column {error.colno}: {error.msg}"
                ) from None

    return _records_to_mapping(records(), path)


def _records_to_mapping(records: Any, path: Path) -> dict[str, Any]:
    """``{"video_id", "predictions", "logits"}`` records -> the authors' mapping."""
    mapping: dict[str, Any] = {}
    seen_at: dict[str, str] = {}
    for where, record in records:
        if not isinstance(record, dict):
            raise ReaderError(
                f"{path}: {where}: expected an object with 'video_id' and 'predictions' "
                f"and/or 'logits', got {type(record).__name__}"
            )
        unknown = sorted(set(record) - _RECORD_KEYS)
        if unknown:
            raise ReaderError(
                f"{path}: {where}: unexpected key(s) {', '.join(map(repr, unknown))}; "
                "allowed: 'video_id', 'predictions', 'logits'"
            )
        video_id = record.get("video_id")
        if not isinstance(video_id, str) or not video_id:
            raise ReaderError(f"{path}: {where}: 'video_id' must be a non-empty string")
        if "predictions" not in record and "logits" not in record:
            raise ReaderError(f"{path}: {where}: has neither 'predictions' nor 'logits'")
        if video_id in seen_at:
            raise ReaderError(
                f"{path}: {where}: clip {video_id!r} already appeared at {seen_at[video_id]}"
            )
        seen_at[video_id] = where
        mapping[video_id] = {key: value for key, value in record.items() if key != "video_id"}
    if not mapping:
        raise ReaderError(f"{path}: contains no records")
    return mapping


def _read_table(path: Path, chosen: str) -> tuple[Any, int, str]:
    """Read a CSV or Parquet table; returns the frame, the number of its first data row
    as shown in messages, and the word for a row ("line" for CSV, "row" for Parquet)."""
    import pandas as pd

    if chosen == "parquet":
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
    except UnicodeDecodeError as error:
        raise ReaderError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise ReaderError(f"{path}: cannot read ({error.strerror})") from None
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
    num_classes = len(class_names)
    score_columns = [f"score_{index}" for index in range(num_classes)]
    found = _table_kind(columns, score_columns, source, num_classes)
    if kind is not None and kind != found:
        raise ReaderError(f"{source}: asked for {kind} but the table's columns hold {found}")
    if frame.empty:
        raise ReaderError(f"{source}: table has no rows")

    def where(position: int) -> str:
        return f"{row_word} {position + first_row}"

    video_ids = _checked_video_ids(frame["video_id"], source, where)
    modalities = _checked_modalities(frame["input_modality"], source, where)
    if found == "labels":
        labels, empty = _label_values(frame["label"], source, where)
        label_sets: dict[str, dict[str, list[Any]]] = {}
        for modality in INPUT_MODALITIES:
            in_modality = modalities == modality
            if not in_modality.any():
                continue
            ids = video_ids[in_modality]
            keep = in_modality & ~empty
            per_clip = _group_lists(video_ids[keep], labels[keep])
            label_sets[modality] = {
                video_id: per_clip.get(video_id, []) for video_id in _unique(ids)
            }
        return ModelPredictions.from_label_sets(label_sets, class_names, source=source)
    matrix = _score_values(frame[score_columns], source, where)
    scores = {
        modality: (video_ids[modalities == modality].tolist(), matrix[modalities == modality])
        for modality in INPUT_MODALITIES
        if (modalities == modality).any()
    }
    return ModelPredictions.from_scores(scores, class_names, source=source)


def _table_kind(columns: list[str], score_columns: list[str], source: str, n: int) -> str:
    expected = (
        f"expected columns video_id, input_modality and either label or score_0..score_{n - 1}"
    )
    duplicated = sorted({column for column in columns if columns.count(column) > 1})
    if duplicated:
        raise ReaderError(f"{source}: repeated column(s) {', '.join(duplicated)}")
    given_scores = [column for column in columns if column.startswith("score_")]
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
                f"{' ...' if len(absent) > 5 else ''}; a score table needs score_0..score_{n - 1}"
            )
    return "labels" if has_label else "scores"


def _checked_video_ids(column: Any, source: str, where: Any) -> np.ndarray:
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


def _checked_modalities(column: Any, source: str, where: Any) -> np.ndarray:
    values = column.astype(object).to_numpy()
    known = column.isin(INPUT_MODALITIES).to_numpy()
    if not known.all():
        position = int(np.argmax(~known))
        unknown = sorted({repr(value) for value in values[~known]})
        shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise ReaderError(
            f"{source}: {where(position)}: unknown input modality {values[position]!r} "
            f"(unknown values: {shown}); use 'a', 'v' or 'av'"
        )
    return values


def _label_values(column: Any, source: str, where: Any) -> tuple[np.ndarray, np.ndarray]:
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


def _score_values(scores: Any, source: str, where: Any) -> np.ndarray:
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
