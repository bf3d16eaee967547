"""A byte-level pass over a pickle that proves it free of the C unpickler's hazards.

:mod:`vggsounder_hf.io.safe_pickle` reads structure with a checked pure-Python unpickler,
because Python's C unpickler has hazards no ``find_class`` can guard: a ``LONG_BINPUT``
index of ~4e9 makes it allocate gigabytes of memo, hashing tuples nested a million deep
overflows the C stack, ``BUILD`` sets a numpy array's state unchecked, and a length field
larger than the data may be allocated before it is read. The released prediction files use
none of that, and the C unpickler reads them 20 times faster.

:func:`scan` walks the opcodes once (runs of fixed-length opcodes with one regular
expression, strings and frames with their lengths) and returns ``True`` only if all of these
hold, so that the C unpickler with the same restricted ``find_class`` builds exactly what the
checked unpickler would:

* protocol 2 to 5, and only these opcodes: containers (empty list, dict, tuple; ``MARK``,
  ``APPEND(S)``, ``SETITEM(S)``, ``TUPLE``...), ints, floats, ``None``, booleans, UTF-8
  strings, memo ``GET``/``PUT``/``MEMOIZE``, ``FRAME``, ``GLOBAL``/``STACK_GLOBAL``,
  ``REDUCE`` and ``STOP``; no ``BUILD``, no bytes, no object creation, no persistent ids;
* every memo index written is at most the file's size (the checked unpickler's limit);
* at most :data:`~vggsounder_hf.io.limits.MAX_NESTING` opcodes that can make a tuple or call
  a global, so tuples cannot nest deeper than the checked unpickler allows;
* every length lies inside the data, every frame is whole and no opcode straddles the end of
  one (as the pure-Python unpickler requires), and ``STOP`` is the last byte.

Anything else returns ``False`` and the caller uses the checked unpickler, which then gives
the same result or the same error as it always did: this pass can only make loading faster,
never accept more.

Example:
    >>> import pickle
    >>> scan(pickle.dumps({"clip_000001": [0.5] * 600}, protocol=4))
    True
    >>> scan(pickle.dumps({"clip_000001": [b"raw"] * 600}, protocol=4))  # bytes: not plain text
    False
"""

from __future__ import annotations

import io
import pickle
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vggsounder_hf.io.limits import MAX_NESTING

if TYPE_CHECKING:
    from vggsounder_hf.io.float_runs import Layout

__all__ = ["MIN_FAST_BYTES", "load_scanned", "scan"]

MIN_FAST_BYTES = 4096
"""Smaller pickles always take the checked path (speed does not matter there, and a 1-byte
memo index could exceed the file size)."""

FREE_OPCODE = rb"[\x94\]\}\(aesuN\x88\x89)]|[hqK].|M..|[jJ]...."
"""One opcode that needs no check (see :data:`_FREE`)."""
_FREE = re.compile(rb"(?:" + FREE_OPCODE + rb")*", re.DOTALL)
"""A run of opcodes that need no check: fixed length, no allocation beyond one object, no
call, and at most a 1-byte memo index (``BINPUT``; the file is larger than 255 bytes).
``BINFLOAT`` is as free, but a score model has 14 million of them: :func:`_floats` skips a
run of them with one strided slice instead of one regular-expression step each."""

_FLOAT_RUN = 9 * 1024
"""Bytes of floats :func:`_floats` looks at per slice (a pickler appends 1000 at most)."""

_COUNTED = frozenset(b"\x85\x86\x87tR\x93")
"""``TUPLE1-3``, ``TUPLE``, ``REDUCE``, ``STACK_GLOBAL``: each may add a level of tuples."""


def scan(data: bytes, layout: Layout | None = None) -> bool:
    """Whether ``data`` is a pickle the C unpickler may read (see the module docstring).

    With ``layout``, also record where its frame headers and its whole lists of floats lie
    (for :mod:`vggsounder_hf.io.float_runs`)."""
    size = len(data)
    if size < MIN_FAST_BYTES or data[0] != 0x80 or not 2 <= data[1] <= 5:
        return False
    free = _FREE.match
    pos, frame_end, counted, last_run = 2, -1, 0, _FLOAT_RUN // 9
    while True:
        end = frame_end if frame_end >= 0 else size
        region = pos
        pos = free(data, pos, end).end()
        if pos == frame_end:
            frame_end = -1
            continue
        if pos >= end:
            return False  # truncated, or an opcode straddles the end of a frame
        op = data[pos]
        if op == 0x47:  # BINFLOAT: the whole run of them (most as long as the one before)
            start, pos = pos, _floats(data, pos, end, last_run)
            last_run = (pos - start) // 9
            if pos < end and data[pos] == 0x47:
                return False  # a float straddles the end of the frame or of the data
            if layout is not None:
                layout.add_run(data, region, start, pos, frame_end)
            continue
        if op == 0x8C:  # SHORT_BINUNICODE
            pos += 2 + (data[pos + 1] if pos + 1 < end else end)
        elif op == 0x58:  # BINUNICODE
            pos += 5 + int.from_bytes(data[pos + 1 : pos + 5], "little")
        elif op == 0x95:  # FRAME
            if frame_end >= 0:
                return False  # a frame inside a frame
            if layout is not None:
                layout.frames.append(pos)
            frame_end = pos + 9 + int.from_bytes(data[pos + 1 : pos + 9], "little")
            pos += 9
            if frame_end > size or pos > size:
                return False
            continue
        elif op == 0x72:  # LONG_BINPUT: the checked unpickler's limit on memo indices
            if pos + 5 > end or int.from_bytes(data[pos + 1 : pos + 5], "little") > size:
                return False
            pos += 5
        elif op in _COUNTED:
            counted += 1
            if counted > MAX_NESTING:
                return False
            pos += 1
        elif op == 0x63:  # GLOBAL: two lines of text
            counted += 1
            first = data.find(b"\n", pos + 1, end)
            second = data.find(b"\n", first + 1, end) if first >= 0 else -1
            if second < 0 or counted > MAX_NESTING:
                return False
            pos = second + 1
        elif op == 0x2E:  # STOP: the last byte of the file, and of its frame
            return pos == size - 1 and frame_end in (-1, size)
        else:
            return False
        if pos > end:
            return False


def _floats(data: bytes, pos: int, end: int, guess: int) -> int:
    """The position after the run of whole ``BINFLOAT`` opcodes (``G`` and 8 bytes) that
    starts at ``pos`` and ends by ``end``: every 9th byte from ``pos`` is an opcode, so the
    run is the ``G`` bytes at the start of ``data[pos:end:9]``. The first slice holds
    ``guess + 1`` opcodes (a strided slice costs per byte: one list's length, not 1024)."""
    size = 9 * (guess + 1)
    while True:
        stop = min(end, pos + size)
        opcodes = data[pos : stop - 8 : 9]  # only opcodes whose 8 bytes lie before ``stop``
        run = len(opcodes) - len(opcodes.lstrip(b"G"))
        pos += 9 * run
        if run < len(opcodes) or stop == end or run == 0:
            return pos
        size = _FLOAT_RUN


class _ScannedUnpickler(pickle.Unpickler):
    """The C unpickler, resolving globals through ``find_global`` only; no persistent ids."""

    def __init__(self, data: bytes, find_global: Callable[[str, str], Any]) -> None:
        super().__init__(io.BytesIO(data), encoding="latin1")
        self._find_global = find_global

    def find_class(self, module: str, name: str) -> Any:
        return self._find_global(module, name)

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("persistent ids are not allowed")


def load_scanned(
    data: bytes, find_global: Callable[[str, str], Any], check: Callable[[Any], object]
) -> tuple[Any] | None:
    """``(loaded,)`` read by the C unpickler if :func:`scan` accepts ``data`` and ``check``
    (the caller's limits on the result) passes; ``None`` otherwise, or on any error, for the
    caller's checked unpickler to read ``data`` again and name the problem.

    Example:
        >>> import pickle
        >>> refuse = lambda module, name: pickle.UnpicklingError(f"{module}.{name}")
        >>> load_scanned(pickle.dumps(list(range(2_000)), protocol=5), refuse, len)[0][-1]
        1999
        >>> load_scanned(pickle.dumps([1]), refuse, len) is None  # too small to bother
        True
    """
    if not scan(data):
        return None
    try:
        loaded = _ScannedUnpickler(data, find_global).load()
        check(loaded)
    except Exception:  # the caller's checked path reports every error
        return None
    return (loaded,)
