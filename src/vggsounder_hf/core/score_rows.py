"""Score rows to one checked float64 matrix per input (the core of
:meth:`~vggsounder_hf.core.predictions.ModelPredictions.from_scores`).

Rows come as a 2-D array, as lists or tuples of numbers (JSON, a pickle read by the checked
unpickler) or as 1-D float64 arrays (the score pickle's fast reader,
:mod:`vggsounder_hf.io.float_runs`); each value must be a real number, each row hold one
score per class, and every score be finite; the first that is not names its clip and input.

Example:
    >>> score_matrix(np.array(["x_000001"], object), [[0.5, 1.5]], 2, "m.pkl", "a")
    array([[0.5, 1.5]])
    >>> score_matrix(np.array(["x_000001"], object), [[0.5, "1"]], 2, "m.pkl", "a")
    Traceback (most recent call last):
    vggsounder_hf.core.errors.PredictionError: m.pkl: clip 'x_000001', input 'a': score '1' \
(str) is not a real number
"""

from __future__ import annotations

import operator
import weakref
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from vggsounder_hf.core.errors import (
    PredictionError,
    fits_float,
    is_score_type,
    not_a_score_message,
    too_large_score_message,
)

__all__ = ["describe", "remember_rows", "score_matrix"]


def describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"a {value.ndim}-D array"
    return type(value).__name__


def score_matrix(
    video_ids: np.ndarray, rows: Any, num_classes: int, source: str, modality: str
) -> np.ndarray:
    """The float64 ``(len(video_ids), num_classes)`` matrix of one input's scores: a 2-D
    array, or one row per clip (lists, tuples or 1-D arrays), each checked, naming the clip
    and input of the first bad value."""
    if isinstance(rows, np.ndarray) and rows.ndim == 2 and rows.dtype.kind != "O":
        first = f"clip {video_ids[0]!r}, " if len(video_ids) else ""
        _check_score_dtype(rows, f"{source}: {first}input {modality!r}")
        matrix = rows.astype(np.float64, copy=False)
    elif _float_rows(rows, num_classes):  # the fast pickle reader's rows: nothing to check
        matrix = _evenly_spaced(rows)
        if matrix is None:
            matrix = np.concatenate(rows).reshape(len(rows), num_classes)
    else:
        rows = [
            _score_row(scores, video_ids[row], num_classes, source, modality)
            for row, scores in enumerate(rows)
        ]
        matrix = _stacked_scores(rows, video_ids, num_classes, source, modality)
    if matrix.shape != (len(video_ids), num_classes):
        raise PredictionError(
            f"{source}: scores for input {modality!r} have shape {matrix.shape}, expected "
            f"({len(video_ids)}, {num_classes})"
        )
    finite = np.isfinite(matrix).all(axis=1)
    if not finite.all():
        raise PredictionError(
            f"{source}: clip {video_ids[np.argmin(finite)]!r}, input {modality!r}: scores "
            "contain NaN or infinity"
        )
    return matrix


def _float_rows(rows: Any, num_classes: int) -> bool:
    """Whether ``rows`` is a non-empty list of 1-D float64 arrays of ``num_classes`` values."""
    return (
        type(rows) is list
        and bool(rows)
        and {(type(row), getattr(row, "shape", None)) for row in rows}
        == {(np.ndarray, (num_classes,))}
        and {row.dtype for row in rows} == {np.dtype(np.float64)}
    )


@dataclass(frozen=True)
class _RowLayout:
    """Rows known to be contiguous views of one array, and where each starts in it."""

    owner: weakref.ref
    rows: list[weakref.ref]
    offsets: np.ndarray
    """Bytes from the owner's start to each row's first element."""


_KNOWN_ROWS: dict[int, _RowLayout] = {}
"""Layouts noted by :func:`remember_rows`, by id of their (living) owner."""


def remember_rows(owner: np.ndarray, rows: list[np.ndarray], offsets: np.ndarray) -> None:
    """Note that ``rows`` are contiguous views of ``owner`` (each row's ``base``) whose first
    elements lie ``offsets`` elements into it, so that :func:`score_matrix` can lay one
    input's rows out as a strided view without asking numpy for each row's address (1 µs
    each, 44 thousand rows for a score model). The note lasts while ``owner`` lives; rows
    are held weakly and compared by identity, so a row replaced or freed since is never
    taken for another (such rows take the address path)."""
    key = id(owner)
    stride = owner.itemsize
    _KNOWN_ROWS[key] = _RowLayout(
        weakref.ref(owner, lambda _: _KNOWN_ROWS.pop(key, None)),
        list(map(weakref.ref, rows)),
        np.asarray(offsets, np.int64) * stride,
    )


def _evenly_spaced(rows: list[np.ndarray]) -> np.ndarray | None:
    """The rows as one strided view when they are contiguous views of one array at equal
    distances (a score pickle's rows of one input, read by io.float_runs), else ``None``:
    a view needs neither the copy nor its fresh memory."""
    base = rows[0].base
    if base is None or len(rows) < 2:
        return None
    addresses = _remembered_addresses(rows, base)
    if addresses is None:
        if not all(row.base is base for row in rows):
            return None
        if not all(row.flags.c_contiguous for row in rows):
            return None
        addresses = np.fromiter((row.ctypes.data for row in rows), np.int64, len(rows))
    distance = int(addresses[1] - addresses[0])
    if distance <= 0 or not (np.diff(addresses) == distance).all():
        return None
    start = int(addresses[0]) - base.ctypes.data
    shape, strides = (len(rows), rows[0].size), (distance, rows[0].itemsize)
    return np.ndarray(shape, rows[0].dtype, base, offset=start, strides=strides)


def _remembered_addresses(rows: list[np.ndarray], base: Any) -> np.ndarray | None:
    """Each row's address from the layout :func:`remember_rows` noted for ``base``, when the
    rows are noted rows at one step from each other (one input of a score pickle), checked
    by identity; ``None`` otherwise."""
    layout = _KNOWN_ROWS.get(id(base))
    if layout is None or layout.owner() is not base:
        return None
    first, second = _noted_index(layout, base, rows[0]), _noted_index(layout, base, rows[1])
    if first is None or second is None or second <= first:
        return None
    noted = layout.rows[first :: second - first][: len(rows)]
    if len(noted) != len(rows) or not all(map(operator.is_, [ref() for ref in noted], rows)):
        return None
    return layout.offsets[first :: second - first][: len(rows)] + base.ctypes.data


def _noted_index(layout: _RowLayout, base: Any, row: np.ndarray) -> int | None:
    """The index of ``row`` among the noted rows, found from its address (if it is one)."""
    offset = row.ctypes.data - base.ctypes.data
    index = int(np.searchsorted(layout.offsets, offset))
    if index < len(layout.rows) and layout.rows[index]() is row:
        return index
    return None


def _score_row(scores: Any, video_id: str, num_classes: int, source: str, modality: str) -> Any:
    """One clip's scores, checked for type and length (a 1-D array, list or tuple)."""
    where = f"{source}: clip {video_id!r}, input {modality!r}"
    if scores is None:
        raise PredictionError(f"{source}: clip {video_id!r} has no scores for input {modality!r}")
    if isinstance(scores, np.ndarray) and scores.ndim == 1:
        if scores.dtype.kind == "O":
            scores = scores.tolist()
        elif len(scores) == num_classes:
            _check_score_dtype(scores, where)
    elif not isinstance(scores, list | tuple):
        raise PredictionError(
            f"{where}: expected a list of {num_classes} scores, got {describe(scores)}"
        )
    if len(scores) != num_classes:
        raise PredictionError(f"{where}: expected {num_classes} scores, got {len(scores)}")
    return scores


def _stacked_scores(
    rows: list[Any], video_ids: np.ndarray, num_classes: int, source: str, modality: str
) -> np.ndarray:
    """One float64 matrix of checked score rows whose every value is a real number."""
    if not rows:
        return np.zeros((0, num_classes), dtype=np.float64)
    lists = [row for row in rows if not isinstance(row, np.ndarray)]
    odd_types = {
        kind for kind in set(map(type, chain.from_iterable(lists))) if not is_score_type(kind)
    }
    if odd_types:
        for row, scores in enumerate(rows):
            bad = [value for value in scores if type(value) in odd_types]
            if bad:
                where = f"{source}: clip {video_ids[row]!r}, input {modality!r}"
                raise PredictionError(not_a_score_message(where, bad[0]))
    try:
        return np.array(rows, dtype=np.float64)
    except OverflowError:  # a Python integer beyond the float range, such as 10**400
        row, value = next(
            (row, value)
            for row, scores in enumerate(rows)
            for value in scores
            if not fits_float(value)
        )
        where = f"{source}: clip {video_ids[row]!r}, input {modality!r}"
        raise PredictionError(too_large_score_message(where, value)) from None


def _check_score_dtype(array: np.ndarray, where: str) -> None:
    """Only integer and floating-point arrays hold scores (not bool, complex, strings)."""
    if array.dtype.kind not in "iuf":
        value = array.flat[0].item() if array.size else array.dtype
        raise PredictionError(not_a_score_message(where, value))
