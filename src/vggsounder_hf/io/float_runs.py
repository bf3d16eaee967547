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
import mmap
import operator
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vggsounder_hf.core.score_rows import remember_rows
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
            put = head.group(2) or b""
            head_start, split_first, split = first - 2 - len(put), first, -1  # "]", put, "("
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
        # Only _structure writes persistent ids (the scan refuses a file that has one), each
        # ``BININT i`` of a recorded list: list indexing, called from C, instead of a Python
        # method for each of 44 thousand lists (an error falls back like any other).
        self.persistent_load = rows.__getitem__
        super().__init__(io.BytesIO(stream), encoding="latin1")
        self._find_global = find_global

    def find_class(self, module: str, name: str) -> Any:
        return self._find_global(module, name)


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
        remember_rows(flat, rows, plan.offsets)  # the reader lays them out without addresses
        loaded = _StructureUnpickler(_structure(data, layout), find_global, rows).load()
        check(loaded)
        if not in_place:
            plan.decode(data, flat)
    except Exception:  # the caller's checked path reports every error
        return None
    if in_place:
        plan.decode(data, flat)  # after every check: the pickle's bytes are now overwritten
    return (loaded,)


_MAX_PERIOD = 6
"""Lists per repeating unit tried when grouping (a score pickle has three per clip)."""


@dataclass(frozen=True)
class _FloatPlan:
    """Where each recorded list's floats lie in the pickle and in the decoded array, and the
    pieces they are converted in: each piece is lists ``first, first + step, ...`` of one
    length at constant distances (in a score pickle, one input's lists between two frame
    headers), converted as one strided big-endian view, without an index array.

    In-place decoding writes each float before any later float is read. The lists are
    therefore taken in windows, in file order, such that a window's decoded floats all end
    before its first list starts in the pickle (floats shrink from 9 bytes to 8, so windows
    grow along the file); inside a window no write can reach a byte still to be read, and
    its pieces may come in any order. A window of one list whose floats overlap their own
    destination is one numpy assignment, which copies an overlapping source first."""

    starts: np.ndarray
    splits: np.ndarray
    counts: np.ndarray
    offsets: np.ndarray
    pieces: list[tuple[int, int, int]]
    """``(first list, step, number of lists)`` in decoding order."""

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    @classmethod
    def of(cls, lists: list[tuple[int, bytes, int, int, int]]) -> _FloatPlan:
        starts, appends, splits = (
            np.fromiter(map(operator.itemgetter(field), lists), np.int64, len(lists))
            for field in (2, 3, 4)
        )
        counts = (appends - starts - 9 * (splits >= 0)) // 9  # a frame header: 9 bytes too
        offsets = (np.cumsum(counts) - counts).astype(np.int64)
        plan = cls(starts, splits, counts, offsets, [])
        plan.pieces.extend(plan._pieces(plan._windows()))
        return plan

    def _windows(self) -> np.ndarray:
        """The first list of each window (see the class docstring), in file order."""
        decoded_end = 8 * (self.offsets + self.counts)  # increasing: counts are positive
        firsts, first = [], 0
        while first < len(self.starts):
            firsts.append(first)
            stop = int(np.searchsorted(decoded_end, self.starts[first], "right"))
            first = max(first + 1, stop)
        return np.array(firsts, np.int64)

    def _pieces(self, windows: np.ndarray) -> list[tuple[int, int, int]]:
        """Pieces of every residue of the best step, cut where lengths or distances change
        and where a window starts; ordered by first list, so window by window."""
        step = self._period()
        firsts, sizes = [], []
        for residue in range(min(step, len(self.starts))):
            members = np.arange(residue, len(self.starts), step)
            cuts = np.union1d(self._breaks(members), np.searchsorted(members, windows))
            cuts = cuts[cuts < len(members)]
            firsts.append(members[cuts])
            sizes.append(np.diff(np.append(cuts, len(members))))
        if not firsts:
            return []
        first, size = np.concatenate(firsts), np.concatenate(sizes)
        order = np.argsort(first, kind="stable")
        steps = [step] * len(first)
        return list(zip(first[order].tolist(), steps, size[order].tolist(), strict=True))

    def _period(self) -> int:
        """The step (lists) that groups the lists into the fewest pieces."""
        fewest: dict[int, int] = {}
        for step in range(1, min(_MAX_PERIOD, len(self.starts)) + 1):
            members = (np.arange(r, len(self.starts), step) for r in range(step))
            fewest[step] = sum(len(self._breaks(group)) for group in members)
        return min(fewest, key=fewest.__getitem__) if fewest else 1

    def _breaks(self, members: np.ndarray) -> np.ndarray:
        """Positions in ``members`` (list indices ``step`` apart) where a new piece starts:
        another length or distance, or a list split by a frame header."""
        counts, splits = self.counts[members], self.splits[members]
        new = np.ones(len(members), dtype=bool)
        new[1:] = counts[1:] != counts[:-1]
        source_steps = np.diff(self.starts[members])
        target_steps = np.diff(self.offsets[members])
        new[2:] |= (source_steps[1:] != source_steps[:-1]) | (target_steps[1:] != target_steps[:-1])
        new |= splits >= 0
        new[1:] |= splits[:-1] >= 0
        return np.flatnonzero(new)

    def rows(self, flat: np.ndarray) -> list[np.ndarray]:
        """Each list's read-only view of ``flat``, in file order."""
        view = flat.view()
        view.flags.writeable = False
        pairs = zip(self.offsets.tolist(), self.counts.tolist(), strict=True)
        return [view[start : start + size] for start, size in pairs]

    def decode(self, data: bytes | bytearray | mmap.mmap, flat: np.ndarray) -> None:
        """Write every list's floats into ``flat`` (which may be ``data``'s own memory, see
        the class docstring), piece by piece."""
        # Python ints: indexing numpy arrays for each of thousands of pieces costs more than
        # the conversion itself.
        starts, splits = self.starts.tolist(), self.splits.tolist()
        counts, offsets = self.counts.tolist(), self.offsets.tolist()
        for first, step, rows in self.pieces:
            count, begin, start = counts[first], offsets[first], starts[first]
            if splits[first] >= 0:  # one list, its floats on both sides of a frame header
                before = (splits[first] - start) // 9
                for begin_at, size in ((start, before), (splits[first] + 9, count - before)):
                    flat[begin : begin + size] = np.ndarray(size, ">f8", data, begin_at + 1, (9,))
                    begin += size
                continue
            last = first + step * (rows - 1)
            source_step = (starts[last] - start) // max(1, rows - 1)
            target_step = (offsets[last] - begin) // max(1, rows - 1)
            values = np.ndarray((rows, count), ">f8", data, start + 1, (source_step, 9))
            # np.ndarray checks that the strided view stays inside ``flat``.
            target = np.ndarray((rows, count), np.float64, flat, 8 * begin, (8 * target_step, 8))
            target[...] = values


def _structure(data: bytes | bytearray | mmap.mmap, layout: Layout) -> bytes:
    """``data`` with the i-th recorded list replaced by ``BININT i``, ``BINPERSID`` and its
    memo put, and its frame headers replaced by one frame of the whole stream."""
    replacements = _replacements(layout.lists)
    if replacements is None:
        stream = _joined(data, layout)
    else:
        stream = _gathered(data, layout, replacements)
    # One frame around everything after PROTO: the C unpickler then reads the stream from
    # its own buffer, instead of calling BytesIO.read for every opcode (twice as fast).
    return stream[:2] + b"\x95" + (len(stream) - 2).to_bytes(8, "little") + stream[2:]


def _replacements(lists: list[tuple[int, bytes, int, int, int]]) -> np.ndarray | None:
    """``BININT i``, ``BINPERSID`` and the memo put of each list, one row of bytes each, when
    every put has one length (a pickler's: ``MEMOIZE``, or ``BINPUT`` and an index)."""
    if not lists or len({len(entry[1]) for entry in lists}) != 1:
        return None
    puts = b"".join(map(operator.itemgetter(1), lists))
    rows = np.empty((len(lists), 6 + len(lists[0][1])), np.uint8)
    rows[:, 0], rows[:, 5] = ord("J"), ord("Q")
    rows[:, 1:5] = np.arange(len(lists), dtype="<u4").view(np.uint8).reshape(-1, 4)
    rows[:, 6:] = np.frombuffer(puts, np.uint8).reshape(len(lists), -1)
    return rows


_GATHER_LIMIT = 1 << 21
"""Most bytes kept around the lists for which :func:`_gathered` builds index arrays (a score
pickle of the test set keeps about 0.5 MB; more structure than this is joined instead)."""


def _gathered(
    data: bytes | bytearray | mmap.mmap, layout: Layout, replacements: np.ndarray
) -> bytes:
    """The rewritten stream by numpy gathers: the bytes before, between and after the cuts
    (lists and frame headers, in file order), each followed by its cut's replacement."""
    lists = layout.lists
    frames = np.array(_frames_outside_lists(layout), int)
    starts = np.fromiter(map(operator.itemgetter(0), lists), np.int64, len(lists))
    stops = np.fromiter(map(operator.itemgetter(3), lists), np.int64, len(lists)) + 1
    order = np.argsort(np.concatenate([starts, frames]), kind="stable")
    cut_starts = np.concatenate([starts, frames])[order]
    cut_stops = np.concatenate([stops, frames + 9])[order]
    is_list = order < len(lists)
    widths = np.where(is_list, replacements.shape[1], 0)
    kept_starts = np.concatenate([[0], cut_stops])
    kept_sizes = np.concatenate([cut_starts, [len(data)]]) - kept_starts
    out_starts = np.concatenate([[0], np.cumsum(kept_sizes[:-1] + widths)])
    kept_total = int(kept_sizes.sum())
    if kept_total > _GATHER_LIMIT:  # index arrays of 8 bytes per kept byte: join instead
        return _joined(data, layout)
    within = np.arange(kept_total) - np.repeat(np.cumsum(kept_sizes) - kept_sizes, kept_sizes)
    stream = np.empty(kept_total + int(widths.sum()), np.uint8)
    source = np.frombuffer(data, np.uint8)
    stream[np.repeat(out_starts, kept_sizes) + within] = source[
        np.repeat(kept_starts, kept_sizes) + within
    ]
    cuts = np.flatnonzero(is_list)
    targets = out_starts[cuts] + kept_sizes[cuts]
    stream[targets[:, None] + np.arange(replacements.shape[1])] = replacements[order[cuts]]
    return stream.tobytes()


def _joined(data: bytes | bytearray | mmap.mmap, layout: Layout) -> bytes:
    """The rewritten stream by slicing and joining: for lists whose puts differ in length,
    and for more structure than :data:`_GATHER_LIMIT`."""
    cuts = [(position, position + 9, b"") for position in _frames_outside_lists(layout)]
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
    return b"".join(pieces)


def _frames_outside_lists(layout: Layout) -> list[int]:
    """The frame headers to cut (one inside a list goes with the list's floats)."""
    inside = {entry[4] for entry in layout.lists}
    return [position for position in layout.frames if position not in inside]
