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
and, where it helps, the line or row.

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
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.core.schema import PREDICTION_KINDS, PredictionKind
from vggsounder_hf.io.safe_pickle import load_pickle
from vggsounder_hf.io.tables import ReaderError, predictions_from_table, read_table, reading

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
        frame, first_row, row_word = read_table(Path(path), chosen)
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
    with reading(path):
        size = path.stat().st_size
    if size == 0:
        raise ReaderError(f"{path}: file is empty")


def _read_pickle(source: str) -> Any:
    try:
        with reading(source):
            return load_pickle(source)
    except pickle.UnpicklingError as error:  # includes UnsafePickleError
        raise ReaderError(str(error)) from None


def _read_text(path: Path) -> str:
    with reading(path):
        text = path.read_text(encoding="utf-8")
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

    def records() -> Iterable[tuple[str, Any]]:
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
