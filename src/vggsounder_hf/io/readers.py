"""Read one prediction file into :class:`~vggsounder_hf.core.predictions.ModelPredictions`.

Formats (chosen from the file extension unless given):

=============  ======================  ==================================================
format         extensions              content
=============  ======================  ==================================================
``pickle``     ``.pkl``, ``.pickle``   the authors' structure ``{video_id: {"predictions":
                                       {"a": [...], "v": [...], "av": [...]}, "logits":
                                       {"a": [one float per class], ...}}}``, loaded with
                                       the restricted unpickler of
                                       :mod:`vggsounder_hf.io.safe_pickle`
``json``       ``.json``               the same structure as a JSON object (or a JSON list
                                       of JSONL records, see below)
``jsonl``      ``.jsonl``, ``.ndjson``  one record per line: ``{"video_id": ...,
                                       "predictions": {...}, "logits": {...}}`` (either of
                                       the last two may be left out)
``csv``        ``.csv``                a table, see below
``parquet``    ``.parquet``, ``.pq``   the same table as Parquet
=============  ======================  ==================================================

Tables (CSV or Parquet) are described in :mod:`vggsounder_hf.io.tables`: ``video_id,
input_modality, label`` for label sets (an empty ``label`` for an empty set), or ``video_id,
input_modality, score_0, ..., score_<n-1>`` for scores, one row per clip and input modality.

Every problem raises :class:`ReaderError` (a
:class:`~vggsounder_hf.core.predictions.PredictionError`) whose one-line message names the file
and, where it helps, the line or row. Besides malformed files, the readers refuse what the
file itself shows to be wrong before the core sees it: a key repeated in a JSON object, JSON
nested too deeply to parse, booleans or floats given as class indices (``[true, false]`` is
not two classes), strings, booleans or complex numbers given as scores, more than
:data:`~vggsounder_hf.io.limits.MAX_LABELS_PER_CLIP` labels for one clip, and files beyond the
limits of :mod:`vggsounder_hf.io.limits`.

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

import csv
import json
import os
import pickle
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from vggsounder_hf.core._gc import paused_garbage_collection
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.core.schema import PREDICTION_KINDS, PredictionKind
from vggsounder_hf.io.arrow_scores import checked_parquet_schema, read_score_table
from vggsounder_hf.io.limits import MAX_FILE_BYTES, abbreviated, check_values
from vggsounder_hf.io.safe_pickle import load_pickle
from vggsounder_hf.io.tables import (
    ID_COLUMNS,
    ReaderError,
    Where,
    first_line_of,
    predictions_from_table,
    reading,
)

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "INPUT_FORMATS",
    "ReaderError",
    "default_model_name",
    "detect_format",
    "predictions_from_table",
    "read_predictions",
]

INPUT_FORMATS: tuple[str, ...] = ("pickle", "json", "jsonl", "csv", "parquet")
"""Formats of prediction files."""
FORMATS = INPUT_FORMATS
"""Former name of :data:`INPUT_FORMATS` (the same object)."""
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
_RECORD_KEYS = frozenset({"video_id", "predictions", "logits"})
# A JSON escape of a UTF-16 surrogate: legal in JSON, but unpaired it is not Unicode text.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def detect_format(path: str | os.PathLike[str], format: str | None = None) -> str:
    """The format of a prediction file: ``format`` if given, else from its extension.

    Example:
        >>> detect_format("runs/model.pkl"), detect_format("x.txt", "jsonl")
        ('pickle', 'jsonl')
    """
    if format is not None:
        if format not in INPUT_FORMATS:
            raise ReaderError(f"{path}: unknown format {format!r}; use one of {INPUT_FORMATS}")
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
        class_names: The class names in ``classes.csv`` order.
        format: One of :data:`INPUT_FORMATS`; by default from the extension.
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
    if kind is not None and kind not in PREDICTION_KINDS:
        raise ReaderError(f"{source}: kind must be one of {PREDICTION_KINDS}, got {kind!r}")
    if chosen in ("csv", "parquet"):
        schema = checked_parquet_schema(Path(path)) if chosen == "parquet" else None
        if schema is not None and kind != "labels":  # a clean score table: no pandas
            fast = read_score_table(Path(path), class_names, source)
            if fast is not None:
                return fast
        frame, where = read_table(Path(path), chosen, schema)
        return predictions_from_table(frame, class_names, source, kind=kind, where=where)
    # One pause from the first object to the matrices: the collector resumes only once the
    # mapping's hundreds of thousands of containers are freed, instead of rescanning them.
    with paused_garbage_collection():
        if chosen == "pickle":
            mapping = _read_pickle(source)
        elif chosen == "json":
            mapping = _read_json(Path(path))
        else:
            mapping = _read_jsonl(Path(path))
        check_values(mapping, len(class_names), source, kind)
        predictions = ModelPredictions.from_mapping(mapping, class_names, source, kind)
        del mapping
    return predictions


def _check_file(path: Path) -> None:
    if not path.exists():
        raise ReaderError(f"{path}: no such file")
    if path.is_dir():
        raise ReaderError(f"{path}: is a directory, not a prediction file")
    with reading(path):
        size = path.stat().st_size
    if size == 0:
        raise ReaderError(f"{path}: file is empty")
    if size > MAX_FILE_BYTES:
        raise ReaderError(
            f"{path}: {size} bytes is larger than the limit of {MAX_FILE_BYTES} bytes for a "
            "prediction file"
        )


def _read_pickle(source: str) -> Any:
    try:
        with reading(source):
            return load_pickle(source, float_arrays=True)
    except pickle.UnpicklingError as error:  # includes UnsafePickleError
        raise ReaderError(str(error)) from None


def _read_text(path: Path) -> str:
    with reading(path):
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark is not content
    if not text.strip():
        raise ReaderError(f"{path}: file is empty")
    return text


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: a JSON object as a dict, refusing a key given twice (the plain
    decoder would silently keep the last value)."""
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        raise _DuplicateKey(next(key for key, _ in pairs if key in seen or seen.add(key)))
    return result


def _decode_json(text: str, path: Path, where: str = "") -> Any:
    """``json.loads`` with every failure as one :class:`ReaderError` naming the file."""
    try:
        decoded = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        position = f" at line {error.lineno}," if not where else " at"
        position += f" column {error.colno}"
        raise ReaderError(f"{path}: {where}malformed JSON{position}: {error.msg}") from None
    except _DuplicateKey as error:
        raise ReaderError(
            f"{path}: {where}key {abbreviated(error.key)!r} appears twice in one JSON object; "
            "each key may appear once"
        ) from None
    except RecursionError:
        raise ReaderError(f"{path}: {where}JSON nested too deeply to be read") from None
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        raise ReaderError(f"{path}: {where}unreadable JSON value ({error})") from None
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(decoded, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ReaderError(
                f"{path}: {where}a string holds an unpaired \\u surrogate escape (not Unicode text)"
            ) from None
    return decoded


def _read_json(path: Path) -> Any:
    decoded = _decode_json(_read_text(path), path)
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

    def records() -> Iterable[tuple[str, Any]]:
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                yield f"line {number}", _decode_json(line, path, f"line {number}: ")

    return _records_to_mapping(records(), path)


def _records_to_mapping(records: Iterable[tuple[str, Any]], path: Path) -> dict[str, Any]:
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


def read_table(path: Path, format: str, schema: Any = None) -> tuple[Any, Where]:
    """Read a ``"csv"`` or ``"parquet"`` table (``schema``: the Parquet file's, if its
    metadata has been checked already by :func:`checked_parquet_schema`).

    Returns:
        The frame, and the ``where`` of :func:`predictions_from_table`: the words naming
        the data row at a position (``"line 7"``, the physical line of a CSV file even after
        blank lines or quoted line breaks; ``"row 6"`` for Parquet).
    """
    if format == "parquet":
        return _read_parquet(path, schema), lambda position: f"row {position + 1}"
    lines = _CsvLines(path)
    frame = _read_csv(path, lines)
    if "label" in frame.columns or frame.isna().to_numpy().any():
        lines.check_widths()  # a short row reads as an empty label or an empty score
    return frame, lines.where


class _CsvLines:
    """Header, first physical line and number of fields of every record of a CSV file, from
    the ``csv`` module (the line numbers pandas cannot give), read when first needed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._records: list[tuple[int, int]] | None = None  # (line, fields), blank rows out
        self.header = self._header()

    def _header(self) -> list[str]:
        with reading(self.path), open(self.path, encoding="utf-8-sig", newline="") as handle:
            rows = csv.reader(handle)
            try:
                header = next((row for row in rows if row), [])
            except csv.Error as error:
                raise self._malformed(rows.line_num, error) from None
            line = rows.line_num
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            places = [str(i + 1) for i, name in enumerate(header) if name == repeated[0]]
            raise ReaderError(
                f"{self.path}: line {line}: column {repeated[0]!r} appears {len(places)} times "
                f"in the header (columns {', '.join(places)}); each column may appear once"
            )
        return header

    def records(self) -> list[tuple[int, int]]:
        if self._records is None:
            found, previous = [], 0
            with reading(self.path), open(self.path, encoding="utf-8-sig", newline="") as handle:
                rows = csv.reader(handle)
                try:
                    for row in rows:
                        if row:
                            found.append((previous + 1, len(row)))
                        previous = rows.line_num
                except csv.Error as error:  # a NUL byte, a field of over 128 KiB
                    raise self._malformed(rows.line_num, error) from None
            self._records = found[1:]
        return self._records

    def _malformed(self, line: int, error: csv.Error) -> ReaderError:
        return ReaderError(f"{self.path}: malformed CSV at line {line}: {error}")

    def where(self, position: int) -> str:
        records = self.records()
        return f"line {records[position][0] if position < len(records) else position + 2}"

    def check_widths(self) -> None:
        width = len(self.header)
        for line, fields in self.records():
            if fields != width:
                short = " (a short row)" if fields < width else ""
                raise ReaderError(
                    f"{self.path}: malformed CSV at line {line}: {fields} field(s), but the "
                    f"header has {width} columns{short}"
                )


def _read_csv(path: Path, lines: _CsvLines) -> Any:
    import pandas as pd

    # index_col=False: never take surplus leading fields as an index; a row with more
    # fields than the header then raises (or warns, which is turned into an error).
    options: dict[str, Any] = {"encoding": "utf-8", "index_col": False}
    columns = lines.header
    with reading(path):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)
                if "label" in columns:
                    # Keep empty cells as "" (an empty prediction) and never turn strings like
                    # "NA" into missing values.
                    dtype: dict[str, Any] = dict.fromkeys(columns, str)
                    return pd.read_csv(path, dtype=dtype, keep_default_na=False, **options)
                dtype = {column: str for column in ID_COLUMNS if column in columns}
                return pd.read_csv(path, dtype=dtype, **options)
        except (pd.errors.ParserWarning, pd.errors.ParserError) as error:
            lines.check_widths()
            raise ReaderError(f"{path}: malformed CSV ({first_line_of(error)})") from None
        except pd.errors.EmptyDataError:
            raise ReaderError(f"{path}: file is empty (no header line)") from None


def _read_parquet(path: Path, schema: Any = None) -> Any:
    """A Parquet table, its size checked from the metadata before any data is read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if schema is None:
        schema = checked_parquet_schema(path)
    # Text columns stay dictionary-encoded: a repeated string is decoded once, not per row.
    kinds = (pa.types.is_string, pa.types.is_large_string, pa.types.is_binary)
    text = [field.name for field in schema if any(kind(field.type) for kind in kinds)]
    try:
        frame = pq.read_table(path, read_dictionary=text or None).to_pandas()
    except Exception as error:
        raise ReaderError(f"{path}: not a readable Parquet file ({first_line_of(error)})") from None
    for name in text:
        frame[name] = frame[name].astype(object)
    return frame
