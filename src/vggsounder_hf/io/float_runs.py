"""Score pickles read in one numpy pass: each whole list of floats becomes a float64 array.

A score model's pickle holds about 14 million ``BINFLOAT`` opcodes in 44 thousand lists of
309. The C unpickler makes 14 million Python floats of them, the garbage collector walks the
lists, and the reader then turns them into arrays again: about three quarters of the time a
score model takes. :func:`load_float_rows` instead

1. scans the pickle with :func:`~vggsounder_hf.io.fast_floats.scan` (which proves it free of
   the C unpickler's hazards), recording its frame headers and every list pickled as one
   batch of floats: ``EMPTY_LIST``, an optional memo put, ``MARK``, at least
   :data:`MIN_LIST_FLOATS` ``BINFLOAT`` opcodes, ``APPENDS``, at opcode boundaries the scan
   walked, inside one frame;
2. unpickles a copy of the stream, its frame headers replaced by one frame of all of it (so
   that the C unpickler reads from its own buffer), in which each such list is ``BININT
   i``, ``BINPERSID`` and the same memo put, so that every memo index stays what it was:
   the C unpickler, with the caller's restricted ``find_class``, builds only the
   structure, and ``persistent_load(i)`` gives the i-th list's read-only view of one
   float64 array;
3. once the structure has passed the caller's checks, decodes the floats of all the lists
   into that array from their big-endian bytes (exact: ``BINFLOAT`` is the IEEE 754
   double, big-endian), in numpy passes, in the pickle's own buffer when it is writable
   memory given away.

Each replaced sequence pushes exactly one object and its ``APPENDS`` cannot reach past its
own ``MARK``, so the structure is the checked unpickler's, with those lists as arrays of the
same values bit for bit (which the reader turns into the same matrices). Anything the scan
does not accept, and any error, returns ``None``: the caller then takes its usual path.

Example:
    >>> import functools, pickle
    >>> from vggsounder_hf.io.safe_pickle import _find_global, _SCANNED_GLOBALS
    >>> find = functools.partial(_find_global, _SCANNED_GLOBALS)
    >>> data = pickle.dumps({"x_000001": {"a": [0.5] * 309, "b": [1, 2]}, "pad": "y" * 4096})
    >>> loaded = load_float_rows(data, find, len)[0]["x_000001"]
    >>> type(loaded["a"]).__name__, loaded["a"].dtype, loaded["a"][:2].tolist(), loaded["b"]
    ('ndarray', dtype('float64'), [0.5, 0.5], [1, 2])
"""

from __future__ import annotations

import io
import itertools
import mmap
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vggsounder_hf.io.fast_floats import FREE_OPCODE, scan

__all__ = ["MIN_LIST_FLOATS", "Layout", "load_float_rows"]

MIN_LIST_FLOATS = 16
"""Shorter lists of floats stay lists (an array would not pay for itself)."""

_LIST_HEAD = re.compile(rb"(?:" + FREE_OPCODE + rb")*?(\](\x94|q.)?\()", re.DOTALL)
"""The free opcodes from an opcode boundary up to a run of floats, ending in ``EMPTY_LIST``,
an optional ``MEMOIZE`` or ``BINPUT`` and ``MARK``: opcodes are decoded from their first
byte, so a full match from a boundary is the one reading of those bytes."""


@dataclass
class Layout:
    """What :func:`~vggsounder_hf.io.fast_floats.scan` records for :func:`load_float_rows`:
    the position of each frame header, and of each whole list of floats as ``(start of
    EMPTY_LIST, memo put bytes, first BINFLOAT, APPENDS, frame header inside or -1)``."""

    frames: list[int] = field(default_factory=list)
    lists: list[tuple[int, bytes, int, int, int]] = field(default_factory=list)
    _open: tuple[int, bytes, int, int] | None = None
    """A list whose floats reached the end of a frame: its head, first float, frame end."""

    def add_run(self, data: bytes, region: int, first: int, end: int, frame_end: int) -> None:
        """Record the run of floats ``first``..``end`` if the free opcodes from ``region`` (an
        opcode boundary) end with the head of a list and ``APPENDS`` follows, or if it goes
        on from a list whose floats stopped at the frame header just before it."""
        opened, self._open = self._open, None
        if opened is not None and region == first == opened[3] + 9 == self.frames[-1] + 9:
            head_start, put, split_first, split = opened
        else:
            head = _LIST_HEAD.fullmatch(data, region, first)
            if head is None:
                return
            head_start, put, split_first, split = head.start(1), head.group(2) or b"", first, -1
        if end < len(data) and data[end] == 0x65:  # APPENDS: the list is whole
            if end - split_first - (9 if split >= 0 else 0) >= 9 * MIN_LIST_FLOATS:
                self.lists.append((head_start, put, split_first, end, split))
        elif end == frame_end and split < 0:
            self._open = (head_start, put, first, end)


class _StructureUnpickler(pickle.Unpickler):
    """The C unpickler for the rewritten stream: globals through ``find_global`` only, and
    persistent id ``i`` is the i-th decoded list."""

    def __init__(
        self, stream: bytes, find_global: Callable[[str, str], Any], rows: list[np.ndarray]
    ) -> None:
        super().__init__(io.BytesIO(stream), encoding="latin1")
        self._find_global = find_global
        self._rows = rows

    def find_class(self, module: str, name: str) -> Any:
        return self._find_global(module, name)

    def persistent_load(self, pid: Any) -> Any:
        if type(pid) is not int or not 0 <= pid < len(self._rows):
            raise pickle.UnpicklingError("unexpected persistent id")
        return self._rows[pid]


def load_float_rows(
    data: bytes | bytearray | mmap.mmap,
    find_global: Callable[[str, str], Any],
    check: Callable[[Any], object],
) -> tuple[Any] | None:
    """``(loaded,)`` with whole lists of floats as float64 arrays (see the module docstring),
    if :func:`~vggsounder_hf.io.fast_floats.scan` accepts ``data`` and ``check`` (the caller's
    limits) passes the result; ``None`` otherwise, or on any error.

    Writable ``data`` (a ``bytearray`` or an anonymous ``mmap``) is given away: once the
    structure has been read and checked, the floats are decoded into its own first bytes
    (each float takes 8 of the 9 bytes it took in the pickle, and is written before any
    later float is read), so that the scores never exist twice in memory; the arrays then
    keep the buffer alive."""
    layout = Layout()
    if not scan(data, layout):
        return None
    try:
        plan = _FloatPlan.of(layout.lists)
        in_place = isinstance(data, bytearray | mmap.mmap) and bool(plan.total)
        flat = np.frombuffer(data, np.float64, plan.total) if in_place else np.empty(plan.total)
        rows = plan.rows(flat)
        loaded = _StructureUnpickler(_structure(data, layout), find_global, rows).load()
        check(loaded)
        if not in_place:
            plan.decode(data, flat)
    except Exception:  # the caller's checked path reports every error
        return None
    if in_place:
        plan.decode(data, flat)  # after every check: the pickle's bytes are now overwritten
    return (loaded,)


@dataclass(frozen=True)
class _FloatPlan:
    """Where each recorded list's floats lie in the pickle and in the decoded array. Lists
    of one length at a constant distance from each other (most of a score pickle, up to a
    frame header or a longer clip id) form one segment, converted as one strided big-endian
    view, without an index array."""

    starts: np.ndarray
    splits: np.ndarray
    counts: np.ndarray
    offsets: np.ndarray
    gaps: np.ndarray
    firsts: list[int]

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    @classmethod
    def of(cls, lists: list[tuple[int, bytes, int, int, int]]) -> _FloatPlan:
        starts = np.fromiter((entry[2] for entry in lists), np.int64, len(lists))
        splits = np.fromiter((entry[4] for entry in lists), np.int64, len(lists))
        counts = np.fromiter((entry[3] for entry in lists), np.int64, len(lists)) - starts
        counts = (counts - 9 * (splits >= 0)) // 9  # a frame header is as long as a float
        new_segment = np.ones(len(lists), dtype=bool)
        new_segment[1:] = counts[1:] != counts[:-1]
        gaps = np.diff(starts)
        new_segment[2:] |= gaps[1:] != gaps[:-1]
        new_segment |= splits >= 0
        new_segment[1:] |= splits[:-1] >= 0
        offsets = (np.cumsum(counts) - counts).astype(np.int64)
        firsts = np.flatnonzero(new_segment).tolist()
        return cls(starts, splits, counts, offsets, gaps, firsts)

    def rows(self, flat: np.ndarray) -> list[np.ndarray]:
        """Each list's read-only view of ``flat``, in file order."""
        view = flat.view()
        view.flags.writeable = False
        pairs = zip(self.offsets.tolist(), self.counts.tolist(), strict=True)
        return [view[start : start + size] for start, size in pairs]

    def decode(self, data: bytes | bytearray, flat: np.ndarray) -> None:
        """Write every list's floats into ``flat``, segment by segment in file order (``flat``
        may be ``data``'s own memory: numpy copies a source that overlaps its destination)."""
        starts, splits, counts, offsets = self.starts, self.splits, self.counts, self.offsets
        bounds = [*self.firsts, len(starts)]
        for first, stop in itertools.pairwise(bounds):
            rows, count, begin = stop - first, int(counts[first]), int(offsets[first])
            if splits[first] >= 0:  # one list, its floats on both sides of a frame header
                before = (int(splits[first]) - int(starts[first])) // 9
                pieces = [(int(starts[first]), before), (int(splits[first]) + 9, count - before)]
                for start, size in pieces:
                    flat[begin : begin + size] = np.ndarray(size, ">f8", data, start + 1, (9,))
                    begin += size
                continue
            distance = int(self.gaps[first]) if rows > 1 else 0
            values = np.ndarray(
                (rows, count), ">f8", data, offset=int(starts[first]) + 1, strides=(distance, 9)
            )
            flat[begin : begin + rows * count].reshape(rows, count)[...] = values


def _structure(data: bytes, layout: Layout) -> bytes:
    """``data`` with the i-th recorded list replaced by ``BININT i``, ``BINPERSID`` and its
    memo put, and its frame headers replaced by one frame of the whole stream."""
    inside = {entry[4] for entry in layout.lists}
    cuts = [(position, position + 9, b"") for position in layout.frames if position not in inside]
    cuts += [
        (start, appends + 1, b"J" + index.to_bytes(4, "little") + b"Q" + put)
        for index, (start, put, _, appends, _) in enumerate(layout.lists)
    ]
    cuts.sort()
    pieces, done = [], 0
    for start, stop, replacement in cuts:
        pieces += (data[done:start], replacement)
        done = stop
    pieces.append(data[done:])
    stream = b"".join(pieces)
    # One frame around everything after PROTO: the C unpickler then reads the stream from
    # its own buffer, instead of calling BytesIO.read for every opcode (twice as fast).
    return stream[:2] + b"\x95" + (len(stream) - 2).to_bytes(8, "little") + stream[2:]
