"""Write a model's predictions as it makes them, in a file every reader of this package reads.

:class:`PredictionWriter` takes one clip at a time (:meth:`~PredictionWriter.add`) or a batch
(:meth:`~PredictionWriter.add_batch`), checks it as the readers would, and writes it in chunks,
so that a run over the 15,446 clips never holds its predictions twice. The format follows
the extension (as :func:`vggsounder_hf.io.readers.read_predictions` reads it):

===========  =========================  ======================================================
format       extensions                 written as
===========  =========================  ======================================================
Parquet      ``.parquet``, ``.pq``      the project's table (:mod:`vggsounder_hf.io.tables`),
                                        one row group per chunk (``ParquetWriter``)
JSONL        ``.jsonl``, ``.ndjson``    one ``{"video_id", "predictions"|"logits"}`` record
                                        per line, written as it comes
pickle       ``.pkl``, ``.pickle``      the authors' ``{video_id: {"predictions": ...}}``;
                                        a pickle is one object, so the mapping is built in
                                        memory (scores as lists of floats, as in the authors'
                                        files) and written on close: prefer Parquet for scores
===========  =========================  ======================================================

The file appears only on :meth:`~PredictionWriter.close` (or at the end of a ``with`` block):
everything is written to a temporary file next to it, then moved in place with
``os.replace``. After an exception in the ``with`` block, or :meth:`~PredictionWriter.abort`,
no file is written (an existing one is left as it was).

Refused as the readers refuse them, each a :class:`PredictionWriterError` naming the file, clip
and input: a clip given twice (ids compared without a trailing ``.mp4``), no input, label sets
that are not lists of class names or indices (not booleans or floats), an empty class name,
too many labels, and scores that are not one finite real number per class. A Parquet table's
label column holds names: class indices are written as their names.

Example:
    >>> import pathlib, tempfile
    >>> from vggsounder_hf.io.readers import read_predictions
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.parquet"
    >>> with PredictionWriter(path, "labels", class_names=("dog", "cat")) as writer:
    ...     writer.add("x_000001", a=["dog"], v=[], av=["dog", 1])
    ...     writer.add_batch(["x_000002", "x_000003"], a=[["cat"], []])
    >>> predictions = read_predictions(path, ("dog", "cat"))
    >>> predictions["av"].matrix.astype(int).tolist(), predictions["a"].video_ids.tolist()
    ([[1, 1]], ['x_000001', 'x_000002', 'x_000003'])
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from vggsounder_hf.core.errors import (
    PredictionError,
    duplicate_clip_message,
    is_label_type,
    is_score_type,
    not_a_label_message,
    not_a_score_message,
)
from vggsounder_hf.core.schema import INPUT_MODALITIES, NUM_CLASSES, PREDICTION_KINDS
from vggsounder_hf.io.atomic import atomic_path
from vggsounder_hf.io.limits import MAX_LABELS_PER_CLIP, too_many_labels_message
from vggsounder_hf.io.readers import EXTENSIONS
from vggsounder_hf.io.tables import ID_COLUMNS, SCORE_PREFIX

__all__ = ["WRITER_FORMATS", "PredictionWriter", "PredictionWriterError"]

WRITER_FORMATS: tuple[str, ...] = ("parquet", "jsonl", "pickle")
"""The formats :class:`PredictionWriter` writes (a subset of the readers')."""
_PICKLE_PROTOCOL = 4
_SECTION = {"labels": "predictions", "scores": "logits"}


class PredictionWriterError(PredictionError):
    """Predictions that cannot be written; the message names the file and the problem."""


def _writer_format(path: Path, format: str | None) -> str:
    chosen = format if format is not None else EXTENSIONS.get(path.suffix.lower())
    if chosen not in WRITER_FORMATS:
        extensions = ", ".join(e for e, f in EXTENSIONS.items() if f in WRITER_FORMATS)
        given = f"format {format!r}" if format is not None else f"extension {path.suffix!r}"
        raise PredictionWriterError(
            f"{path}: cannot write predictions with {given}; use one of {extensions}"
        )
    return chosen


class PredictionWriter:
    """Write predictions clip by clip (see the module docstring).

    Args:
        path: The file to write; its extension chooses the format unless ``format`` is given.
        kind: ``"labels"`` (label sets: class names or indices) or ``"scores"`` (one score
            per class).
        class_names: The classes, in ``classes.csv`` order: the number of scores per clip,
            the range of class indices, and the names written for indices in a Parquet
            table. Default: the 309 VGGSounder classes (read when first needed).
        format: ``"parquet"``, ``"jsonl"`` or ``"pickle"`` instead of the extension's.
        chunk_size: Clips written at a time (one Parquet row group).

    Raises:
        PredictionWriterError: Unknown format or kind, or a bad ``chunk_size``.
        OSError: The folder does not exist or cannot be written (naming ``path``).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        kind: str = "labels",
        *,
        class_names: Sequence[str] | None = None,
        format: str | None = None,
        chunk_size: int = 1024,
    ) -> None:
        self.path = Path(path)
        if kind not in PREDICTION_KINDS:
            raise PredictionWriterError(f"{path}: kind must be one of {PREDICTION_KINDS}")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise PredictionWriterError(f"{path}: chunk_size must be a positive integer")
        self.kind = kind
        self.format = _writer_format(self.path, format)
        self._class_names = None if class_names is None else tuple(class_names)
        self.num_classes = NUM_CLASSES if class_names is None else len(self._class_names)
        self.chunk_size = chunk_size
        self.num_clips = 0
        self._seen: set[str] = set()
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self._stack = contextlib.ExitStack()
        self._temporary = self._stack.enter_context(atomic_path(self.path))
        self._sink: Any = None
        self._open = True

    # ----------------------------------------------------------------- the public calls

    def add(self, video_id: str, *, a: Any = None, v: Any = None, av: Any = None) -> None:
        """Add one clip's predictions for the inputs given (at least one).

        Label sets are lists (tuples, 1-D arrays) of class names or indices; scores are one
        real number per class. A clip is added once, with all of its inputs.
        """
        self._check_open()
        self._clip_key(video_id)
        self._append(video_id, self._checked_inputs(video_id, {"a": a, "v": v, "av": av}))

    def add_batch(
        self, video_ids: Sequence[str], *, a: Any = None, v: Any = None, av: Any = None
    ) -> None:
        """Add several clips: each input given is a sequence with one entry per clip (for
        scores, a ``(clips, classes)`` array); the clips are checked before any is added."""
        self._check_open()
        video_ids = list(video_ids)
        inputs = {"a": a, "v": v, "av": av}
        given = {name: value for name, value in inputs.items() if value is not None}
        if not given:
            raise PredictionWriterError(f"{self.path}: add_batch() got no input (a=, v=, av=)")
        for name, values in given.items():
            if len(values) != len(video_ids):
                raise PredictionWriterError(
                    f"{self.path}: input {name!r} has {len(values)} entries for "
                    f"{len(video_ids)} video ids"
                )
        batch_ids = [self._clip_key(video_id) for video_id in video_ids]
        if len(set(batch_ids)) != len(batch_ids):
            seen: set[str] = set()
            repeated = next(key for key in batch_ids if key in seen or seen.add(key))
            raise PredictionWriterError(duplicate_clip_message(str(self.path), repeated))
        checked = [
            (video_id, self._checked_inputs(video_id, {k: v[row] for k, v in given.items()}))
            for row, video_id in enumerate(video_ids)
        ]
        for video_id, inputs in checked:
            self._append(video_id, inputs)

    def close(self) -> Path:
        """Write what is left and move the file in place; return its path.

        Raises:
            PredictionWriterError: No clip was added (a prediction file holds at least one);
                no file is written.
        """
        self._check_open()
        if not self.num_clips:
            self.abort()
            raise PredictionWriterError(f"{self.path}: no prediction was added; nothing written")
        try:
            self._flush()
            self._sink_for().close()
        except BaseException as error:
            self._finish(error)
            raise
        self._finish(None)
        return self.path

    def abort(self) -> None:
        """Discard everything: no file is written (an existing one is left unchanged)."""
        if self._open:
            self._finish(_Discarded())

    def __enter__(self) -> PredictionWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is None and self._open:
            self.close()
        elif self._open:
            self._finish(error)

    # ----------------------------------------------------------------- checks

    def _check_open(self) -> None:
        if not self._open:
            raise PredictionWriterError(f"{self.path}: the writer is closed")

    def _clip_key(self, video_id: Any) -> str:
        if not isinstance(video_id, str) or not video_id.strip():
            raise PredictionWriterError(
                f"{self.path}: video id {video_id!r} must be a non-empty string"
            )
        _check_text(video_id, f"{self.path}: video id")
        key = video_id.removesuffix(".mp4")
        if key in self._seen:
            raise PredictionWriterError(duplicate_clip_message(str(self.path), key))
        return key

    def _checked_inputs(self, video_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        given = {name: value for name, value in inputs.items() if value is not None}
        if not given:
            raise PredictionWriterError(
                f"{self.path}: clip {video_id!r} has no input (give a=, v= and/or av=)"
            )
        check = self._checked_labels if self.kind == "labels" else self._checked_scores
        return {
            name: check(given[name], f"{self.path}: clip {video_id!r}, input {name!r}")
            for name in INPUT_MODALITIES
            if name in given
        }

    def _checked_labels(self, labels: Any, where: str) -> list[Any]:
        if isinstance(labels, np.ndarray) and labels.ndim == 1:
            labels = labels.tolist()
        if not isinstance(labels, list | tuple):
            raise PredictionWriterError(
                f"{where}: expected a list of class names or indices, got {type(labels).__name__}"
            )
        if len(labels) > MAX_LABELS_PER_CLIP:
            raise PredictionWriterError(too_many_labels_message(where, len(labels)))
        checked = []
        for label in labels:
            if not is_label_type(type(label)):
                raise PredictionWriterError(not_a_label_message(where, label, self.num_classes))
            if isinstance(label, str):
                if not label.strip():
                    raise PredictionWriterError(f"{where}: label {label!r} is empty")
                _check_text(label, f"{where}: label")
                checked.append(str(label))
            elif 0 <= label < self.num_classes:
                checked.append(int(label))
            else:
                raise PredictionWriterError(not_a_label_message(where, label, self.num_classes))
        return checked

    def _checked_scores(self, scores: Any, where: str) -> np.ndarray:
        if isinstance(scores, list | tuple):
            odd = {kind for kind in set(map(type, scores)) if not is_score_type(kind)}
            if odd:
                first = next(value for value in scores if type(value) in odd)
                raise PredictionWriterError(not_a_score_message(where, first))
            try:
                scores = np.asarray(scores, dtype=np.float64)
            except OverflowError:
                raise PredictionWriterError(f"{where}: a score is too large for a float") from None
        if not isinstance(scores, np.ndarray) or scores.ndim != 1:
            shape = f"a {scores.ndim}-D array" if isinstance(scores, np.ndarray) else None
            raise PredictionWriterError(
                f"{where}: expected a list of {self.num_classes} scores, got "
                f"{shape or type(scores).__name__}"
            )
        if scores.dtype.kind not in "iuf":
            value = scores.flat[0].item() if scores.size else scores.dtype
            raise PredictionWriterError(not_a_score_message(where, value))
        if len(scores) != self.num_classes:
            raise PredictionWriterError(
                f"{where}: expected {self.num_classes} scores, got {len(scores)}"
            )
        scores = scores.astype(np.float64)  # a copy: the caller may reuse its buffer
        if not np.isfinite(scores).all():
            raise PredictionWriterError(f"{where}: scores contain NaN or infinity")
        return scores

    # ----------------------------------------------------------------- writing

    def _append(self, video_id: str, inputs: dict[str, Any]) -> None:
        self._seen.add(video_id.removesuffix(".mp4"))
        self._pending.append((video_id, inputs))
        self.num_clips += 1
        if len(self._pending) >= self.chunk_size:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._sink_for().write(self._pending)
            self._pending = []

    def _sink_for(self) -> Any:
        if self._sink is None:
            sinks = {"parquet": _ParquetSink, "jsonl": _JsonlSink, "pickle": _PickleSink}
            self._sink = sinks[self.format](self)
        return self._sink

    @property
    def class_names(self) -> tuple[str, ...]:
        """The class names (the VGGSounder classes unless given)."""
        if self._class_names is None:
            from vggsounder_hf.io.annotations import read_class_names
            from vggsounder_hf.io.sources import resolve_release_files

            self._class_names = read_class_names(resolve_release_files().classes)
        return self._class_names

    def _finish(self, error: BaseException | None) -> None:
        """Close the file handles, then publish (``error is None``) or discard the file."""
        self._open = False
        self._pending = []
        if error is None:
            self._stack.close()
            return
        if self._sink is not None:
            with contextlib.suppress(Exception):
                self._sink.discard()
        discard = _Discarded()  # not the caller's error: atomic_path re-raises an OSError
        self._stack.__exit__(_Discarded, discard, None)


class _Discarded(Exception):
    """Thrown into :func:`~vggsounder_hf.io.atomic.atomic_path` to drop the temporary file."""


def _check_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise PredictionWriterError(f"{where} {text!r} is not valid Unicode text") from None


class _ParquetSink:
    """The project's table, one row group per chunk."""

    def __init__(self, writer: PredictionWriter) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa, self._writer = pa, writer
        if writer.kind == "labels":
            names, types = [*ID_COLUMNS, "label"], [pa.string()] * 3
        else:
            names = [*ID_COLUMNS, *(f"{SCORE_PREFIX}{i}" for i in range(writer.num_classes))]
            types = [pa.string()] * 2 + [pa.float64()] * writer.num_classes
        self._schema = pa.schema(list(zip(names, types, strict=True)))
        self._file = pq.ParquetWriter(
            writer._temporary, self._schema, use_dictionary=list(ID_COLUMNS)
        )

    def write(self, chunk: list[tuple[str, dict[str, Any]]]) -> None:
        pa = self._pa
        ids, modalities, values = [], [], []
        for video_id, inputs in chunk:
            for modality, value in inputs.items():
                rows = (value or [None]) if self._writer.kind == "labels" else [value]
                ids += [video_id] * len(rows)
                modalities += [modality] * len(rows)
                values += rows
        if self._writer.kind == "labels":
            names = self._writer.class_names if any(type(v) is int for v in values) else ()
            labels = [names[v] if type(v) is int else v for v in values]
            columns = [pa.array(ids), pa.array(modalities), pa.array(labels, pa.string())]
        else:
            matrix = np.stack(values)
            columns = [pa.array(ids), pa.array(modalities)]
            columns += [pa.array(matrix[:, index]) for index in range(matrix.shape[1])]
        self._file.write_table(pa.Table.from_arrays(columns, schema=self._schema))

    def close(self) -> None:
        self._file.close()

    discard = close


class _JsonlSink:
    """One record per line."""

    def __init__(self, writer: PredictionWriter) -> None:
        self._section = _SECTION[writer.kind]
        self._file = open(writer._temporary, "w", encoding="utf-8", newline="\n")  # noqa: SIM115

    def write(self, chunk: list[tuple[str, dict[str, Any]]]) -> None:
        lines = [
            json.dumps(
                {"video_id": video_id, self._section: _plain(inputs)},
                ensure_ascii=False,
                allow_nan=False,
            )
            for video_id, inputs in chunk
        ]
        self._file.write("\n".join(lines) + "\n")
        self._file.flush()  # the chunk is on disk: a crash loses at most the pending one

    def close(self) -> None:
        self._file.close()

    discard = close


class _PickleSink:
    """The authors' mapping, built in memory and written on close (a pickle is one object)."""

    def __init__(self, writer: PredictionWriter) -> None:
        self._writer = writer
        self._section = _SECTION[writer.kind]
        self._mapping: dict[str, dict[str, Any]] = {}

    def write(self, chunk: list[tuple[str, dict[str, Any]]]) -> None:
        for video_id, inputs in chunk:
            self._mapping[video_id] = {self._section: _plain(inputs)}

    def close(self) -> None:
        with open(self._writer._temporary, "wb") as handle:
            pickle.dump(self._mapping, handle, protocol=_PICKLE_PROTOCOL)
        self._mapping = {}

    def discard(self) -> None:
        self._mapping = {}


def _plain(inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs as JSON and pickle write them: score arrays as lists of Python floats."""
    return {
        name: value.tolist() if isinstance(value, np.ndarray) else value
        for name, value in inputs.items()
    }
