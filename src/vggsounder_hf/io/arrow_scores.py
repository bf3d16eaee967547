"""Parquet prediction tables: their size limits, and score tables read straight from their
Arrow buffers (no pandas, no row objects).

The project's Parquet table of a score model (``video_id, input_modality, score_0 ..
score_<n-1>``, one row per clip and input, as
:class:`~vggsounder_hf.io.prediction_writer.PredictionWriter` writes it) holds 14 million
floats for the test set. Through pandas, reading it costs the pandas import (about 0.4 s)
and a DataFrame of 311 columns; :func:`read_score_table` instead copies each score column's
values buffer into one float64 matrix and decodes the two text columns once per distinct
value (they are read dictionary-encoded).

It accepts only a table that the pandas path of :mod:`vggsounder_hf.io.tables` would accept
with exactly the same result: the score columns and nothing else, every score ``float64``
or ``float32`` and present and not NaN, every ``video_id`` a non-blank string, every
``input_modality`` one of the inputs. Anything else (label tables, nulls, text or integer
scores, unknown inputs, an unreadable file) returns ``None``, and the caller takes the
pandas path, which names the file, row and value of the problem as it always did.

Example:
    >>> import pathlib, tempfile
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.parquet"
    >>> pq.write_table(pa.table({"video_id": ["x_000001", "x_000001"], "input_modality":
    ...     ["a", "v"], "score_0": [0.25, 0.5], "score_1": [0.75, 0.5]}), path)
    >>> predictions = read_score_table(path, ("dog", "cat"), str(path))
    >>> predictions["a"].matrix.tolist(), predictions["v"].video_ids.tolist()
    ([[0.25, 0.75]], ['x_000001'])
    >>> pq.write_table(pa.table({"video_id": ["x_000001"], "input_modality": ["a"],
    ...     "label": ["dog"]}), path)
    >>> read_score_table(path, ("dog", "cat"), str(path)) is None  # labels: the pandas path
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.core.schema import INPUT_MODALITIES
from vggsounder_hf.io.limits import element_budget
from vggsounder_hf.io.tables import ID_COLUMNS, SCORE_PREFIX, ReaderError, first_line_of

__all__ = ["checked_parquet_schema", "read_score_table"]

_COLUMNS_PER_READ = 16
"""Score columns read from the file at once (about 6 MB for the test set's three inputs)."""
_SCORE_TYPES = {"double": np.float64, "float": np.float32}
"""Arrow score types taken from their buffers (others go through pandas)."""


def checked_parquet_schema(path: Path) -> Any:
    """The Arrow schema of a Parquet file whose metadata passes the size limits (read before
    any data), naming the file in a :class:`~vggsounder_hf.io.tables.ReaderError`."""
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_metadata(path)
        schema = metadata.schema.to_arrow_schema()
    except Exception as error:  # pyarrow raises several unrelated types
        raise ReaderError(f"{path}: not a readable Parquet file ({first_line_of(error)})") from None
    budget = element_budget(path.stat().st_size)
    cells = metadata.num_rows * metadata.num_columns
    expanded = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
    if cells > budget or expanded > 8 * budget:
        raise ReaderError(
            f"{path}: {metadata.num_rows} rows of {metadata.num_columns} columns "
            f"({expanded} bytes uncompressed) exceed the limit of {budget} cells for a file "
            "of this size"
        )
    names = schema.names
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ReaderError(f"{path}: repeated column(s) {', '.join(repeated)}")
    return schema


def read_score_table(
    path: Path, class_names: Sequence[str], source: str
) -> ModelPredictions | None:
    """The predictions of a clean Parquet score table (see the module docstring), or
    ``None`` for the caller's pandas path. The caller has checked the file's size limits."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    score_columns = [f"{SCORE_PREFIX}{index}" for index in range(len(class_names))]
    try:
        # One thread, no pre-buffering: the reads are column by column, and Arrow's thread
        # pools and buffers cost about 20 MB of peak memory for no gain in time here.
        file = pq.ParquetFile(path, read_dictionary=list(ID_COLUMNS), pre_buffer=False)
        names = file.schema_arrow.names
        if len(names) != len(set(names)) or set(names) != {*ID_COLUMNS, *score_columns}:
            return None
        ids = file.read(columns=list(ID_COLUMNS), use_threads=False)
        if ids.num_rows == 0 or any(column.null_count for column in ids.columns):
            return None
        video_ids = _text_column(ids.column("video_id"))
        modalities = _text_column(ids.column("input_modality"))
        if video_ids is None or modalities is None:
            return None
        if any(type(value) is not str or not value.strip() for value in set(video_ids.tolist())):
            return None
        if not set(modalities.tolist()) <= set(INPUT_MODALITIES):
            return None
        matrix = np.empty((ids.num_rows, len(score_columns)), np.float64)
        # A few columns at a time: the table never holds all the scores beside the matrix.
        for first in range(0, len(score_columns), _COLUMNS_PER_READ):
            columns = score_columns[first : first + _COLUMNS_PER_READ]
            batch = file.read(columns=columns, use_threads=False)
            for index, column in enumerate(batch.columns, start=first):
                if column.null_count or not _copy_scores(column, matrix[:, index]):
                    return None
    except Exception:  # the pandas path names what is wrong with the file
        return None
    finally:
        pa.default_memory_pool().release_unused()  # the batches' memory, for scoring
    scores = {}
    for modality in INPUT_MODALITIES:
        rows = np.flatnonzero(modalities == modality)
        if len(rows):
            scores[modality] = (video_ids[rows].tolist(), _rows_of(matrix, rows))
    return ModelPredictions.from_scores(scores, class_names, source=source)


def _text_column(column: Any) -> np.ndarray | None:
    """A dictionary-encoded string column as an object array of ``str``, each distinct
    value decoded once; ``None`` for any other type."""
    import pyarrow as pa

    kind = column.type
    if not (pa.types.is_dictionary(kind) and pa.types.is_integer(kind.index_type)):
        return None
    if not (pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type)):
        return None
    signed = pa.types.is_signed_integer(kind.index_type)
    parts = []
    for chunk in column.chunks:
        decoded = chunk.dictionary.to_pylist()
        values = np.empty(len(decoded), object)
        values[:] = decoded
        indices = chunk.indices
        dtype = np.dtype(f"{'' if signed else 'u'}int{kind.index_type.bit_width}")
        codes = np.frombuffer(
            indices.buffers()[1], dtype, len(indices), indices.offset * dtype.itemsize
        )
        if len(codes) and (codes.min() < 0 or codes.max() >= len(values)):
            return None
        parts.append(values[codes])
    return np.concatenate(parts) if parts else np.empty(0, object)


def _copy_scores(column: Any, out: np.ndarray) -> bool:
    """Copy one score column's values into ``out``; ``False`` for a type or a value (NaN)
    left to the pandas path."""
    dtype = _SCORE_TYPES.get(str(column.type))
    if dtype is None:
        return False
    start = 0
    for chunk in column.chunks:
        values = np.frombuffer(
            chunk.buffers()[1], dtype, len(chunk), chunk.offset * np.dtype(dtype).itemsize
        )
        if np.isnan(values).any():  # the pandas path reads NaN as an empty cell
            return False
        out[start : start + len(values)] = values
        start += len(values)
    return start == len(out)


def _rows_of(matrix: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``matrix[rows]``, as a strided view when the rows are evenly spaced (one input of a
    table written clip by clip, every input in turn), so that it costs no copy."""
    if len(rows) > 1:
        step = int(rows[1] - rows[0])
        if step > 0 and (np.diff(rows) == step).all():
            return matrix[rows[0] :: step][: len(rows)]
    return matrix[rows]
