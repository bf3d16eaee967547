"""Load prediction pickles without letting them run code or exhaust memory.

A pickle can call any importable function while it loads. :func:`load_pickle` resolves only
the names plain data needs (builtin containers and scalars, ``collections.defaultdict`` /
``OrderedDict``, numpy arrays, dtypes and scalars; Python 2 names of protocols 0-2, such as
``__builtin__.set``, are translated first), each through a checked stand-in
(:mod:`~vggsounder_hf.io.pickle_globals`): anything else,
or an argument no pickle writer produces, is refused with :class:`UnsafePickleError` before it
is called. Objects are never built with ``NEWOBJ``, ``INST`` or ``OBJ``, and state is set
(``BUILD``) only on numpy arrays and dtypes, after it is checked. A ``defaultdict`` (the
released files have one at the top) loads as a plain ``dict`` at any depth, since it would
invent a missing clip or ``"logits"`` key on lookup; bytes after the pickle's end (two
pickles, appended garbage) are refused, where an unpickler would silently stop at ``STOP``.

Resource limits (:mod:`vggsounder_hf.io.limits`) are checked before anything is expanded
(:class:`PickleLimitError`): memo indices bounded by the file size, numpy arrays of at most
10 million elements never allocated before their data is read, no ``bytes(n)``, tuples nested
at most 100 deep, at most max(20 million, file size) elements with every shared reference
counted in full. Structure is read by the pure-Python unpickler (each opcode checked); a
pickle that :func:`~vggsounder_hf.io.fast_floats.scan` proves free of the C unpickler's
hazards (the released files) is read by the C unpickler with the same globals (lists of
floats decoded in one pass: :mod:`~vggsounder_hf.io.float_runs`), and any error there sends
it through the checked path. Other problems (truncated, malformed, wrong argument types,
numbers out of range) are a :class:`pickle.UnpicklingError` naming the source.

Example:
    >>> import collections, pickle
    >>> safe_loads(pickle.dumps({"clip_000001": {"predictions": {"a": ["dog barking"]}}}))
    {'clip_000001': {'predictions': {'a': ['dog barking']}}}
    >>> type(safe_loads(pickle.dumps(collections.defaultdict(list, {"x": [1]})))).__name__
    'dict'
"""

from __future__ import annotations

import functools
import io
import mmap
import os
import pickle
import re
import struct
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from vggsounder_hf.core._gc import paused_garbage_collection
from vggsounder_hf.io.fast_floats import load_scanned
from vggsounder_hf.io.float_runs import load_float_rows
from vggsounder_hf.io.limits import (
    MAX_FILE_BYTES,
    MAX_NESTING,
    LimitError,
    element_budget,
    short_repr,
    structure_size,
)
from vggsounder_hf.io.pickle_globals import (
    _CONTAINERS,
    _GLOBALS,
    _SCANNED_GLOBALS,
    PickleLimitError,
    UnsafePickleError,
    _find_global,
    _set_array_state,
    _set_dtype_state,
)

__all__ = ["PickleLimitError", "UnsafePickleError", "load_pickle", "safe_loads"]


_FLOAT_RUN = re.compile(rb"(?:G.{8})*", re.DOTALL)  # consecutive BINFLOATs: lists of scores


@functools.lru_cache(maxsize=64)
def _float_run(size: int) -> struct.Struct:
    """Unpacks ``size // 9`` BINFLOAT opcodes (the opcode byte, then a big-endian double)."""
    return struct.Struct(">" + "xd" * (size // 9))


class _RestrictedUnpickler(pickle._Unpickler):
    """The pure-Python unpickler (its memo is a dict, every opcode is Python code that can be
    checked), with the opcodes below replaced."""

    dispatch: ClassVar[dict[int, Callable[..., None]]] = dict(pickle._Unpickler.dispatch)

    def __init__(self, data: bytes, source: str) -> None:
        self._data = data
        self._stream = io.BytesIO(data)
        # Python 2 ``str`` objects (SHORT_BINSTRING) hold raw bytes: numpy's data among them.
        super().__init__(self._stream, encoding="latin1")
        self._source = source
        self._memo_limit = len(data)
        self._tuple_depths: dict[int, tuple[tuple[Any, ...], int]] = {}
        self._globals = {**_GLOBALS, ("builtins", "tuple"): self._tuple_call}

    def find_class(self, module: str, name: str) -> Any:
        return _find_global(self._globals, module, name)

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(f"persistent ids are not allowed ({short_repr(pid)})")

    def trailing_bytes(self) -> tuple[int, int]:
        """Bytes left unread after ``STOP`` (in the last frame or the file), and the end."""
        frame = self._unframer.current_frame
        in_frame = len(frame.getvalue()) - frame.tell() if frame is not None else 0
        end = self._stream.tell()
        return in_frame + len(self._data) - end, end - in_frame

    # ------------------------------------------------------------------ checked opcodes

    def _memo_put(self, index: int) -> None:
        if index < 0:
            raise pickle.UnpicklingError(f"negative memo index {index}")
        if index > self._memo_limit:
            raise PickleLimitError(
                f"memo index {index} is beyond what a pickle of {len(self._data)} bytes can use"
            )
        self.memo[index] = self.stack[-1]

    def _tuple(self, items: Any) -> tuple[Any, ...]:
        """A tuple of ``items``, refused when it would nest deeper than :data:`MAX_NESTING`."""
        made = tuple(items)
        depth = 1 + max((self._depth(item) for item in made if type(item) is tuple), default=0)
        if depth > MAX_NESTING:
            raise PickleLimitError(f"tuples are nested more than {MAX_NESTING} levels deep")
        if depth > 1:
            self._tuple_depths[id(made)] = (made, depth)
        return made

    def _depth(self, item: tuple[Any, ...], level: int = 1) -> int:
        known = self._tuple_depths.get(id(item))
        if known is not None and known[0] is item:
            return known[1]
        if level > MAX_NESTING:  # a tuple from elsewhere (none are expected): walk it
            return level
        nested = [self._depth(inner, level + 1) for inner in item if type(inner) is tuple]
        return 1 + max(nested, default=0)

    def _tuple_call(self, items: Any = ()) -> tuple[Any, ...]:
        if not isinstance(items, _CONTAINERS):
            raise UnsafePickleError(f"tuple() of a {type(items).__name__} is not plain data")
        return self._tuple(items)

    def _load_tuple(self) -> None:
        items = self.pop_mark()  # first: it replaces self.stack and self.append
        self.append(self._tuple(items))

    def _load_tuple_n(self, count: int) -> None:
        items = self.stack[-count:]
        if len(items) != count:
            raise pickle.UnpicklingError(f"TUPLE{count} needs {count} items on the stack")
        del self.stack[-count:]
        self.append(self._tuple(items))

    def _load_build(self) -> None:
        state = self.stack.pop()
        target = self.stack[-1]
        if type(target) is np.ndarray:
            _set_array_state(target, state)
        elif isinstance(target, np.dtype):
            _set_dtype_state(target, state)
        else:
            raise UnsafePickleError(
                f"BUILD would set the state of a {type(target).__name__}; in prediction files "
                "only numpy arrays and dtypes have one"
            )

    def _load_bytearray8(self) -> None:
        size = struct.unpack("<Q", self.read(8))[0]
        if size > len(self._data):
            raise PickleLimitError(f"a byte array of {size} bytes is larger than the file")
        self.append(bytearray(self.read(size)))

    def _load_binfloat(self) -> None:
        # Lists of scores are runs of BINFLOAT opcodes: unpack a whole run at once.
        frame = self._unframer.current_frame
        stream = self._stream if frame is None else frame
        data = self._data if frame is None else frame.getvalue()
        start = stream.tell() - 1
        end = _FLOAT_RUN.match(data, start).end()
        if end - start < 9:
            raise pickle.UnpicklingError("pickle data was truncated")
        stream.seek(end)
        self.stack.extend(_float_run(end - start).unpack_from(data, start))

    def _refuse_object_creation(self) -> None:
        raise UnsafePickleError(
            "refusing to create an object through its class (NEWOBJ, INST or OBJ): prediction "
            "pickles hold only plain data"
        )

    for _code, _handler in (
        (pickle.PUT, lambda self: self._memo_put(int(self.readline()[:-1]))),
        (pickle.BINPUT, lambda self: self._memo_put(self.read(1)[0])),
        (pickle.LONG_BINPUT, lambda self: self._memo_put(struct.unpack("<I", self.read(4))[0])),
        (pickle.TUPLE, _load_tuple),
        (pickle.TUPLE1, lambda self: self._load_tuple_n(1)),
        (pickle.TUPLE2, lambda self: self._load_tuple_n(2)),
        (pickle.TUPLE3, lambda self: self._load_tuple_n(3)),
        (pickle.BUILD, _load_build),
        (pickle.BYTEARRAY8, _load_bytearray8),
        (pickle.BINFLOAT, _load_binfloat),
        (pickle.NEWOBJ, _refuse_object_creation),
        (pickle.NEWOBJ_EX, _refuse_object_creation),
        (pickle.INST, _refuse_object_creation),
        (pickle.OBJ, _refuse_object_creation),
    ):
        dispatch[_code[0]] = _handler
    del _code, _handler


_INVALID = (pickle.UnpicklingError, EOFError, LookupError, ValueError, TypeError, AttributeError)
_INVALID += (OverflowError, struct.error, BufferError)
"""What malformed input makes the unpickler or a stand-in raise (never our own bugs' types)."""


def safe_loads(data: bytes, source: str = "<bytes>", *, float_arrays: bool = False) -> Any:
    """Unpickle ``data`` admitting only plain data (see the module docstring).

    ``source`` names ``data`` in messages. ``float_arrays=True``: lists of floats may come
    back as read-only float64 arrays of the same values (:mod:`~vggsounder_hf.io.float_runs`).

    Raises:
        UnsafePickleError: The pickle references a disallowed global, opcode or argument.
        PickleLimitError: The pickle would exceed a resource limit.
        pickle.UnpicklingError: The bytes are not a valid pickle, or more bytes follow it.

    Example:
        >>> two = pickle.dumps([1]) + pickle.dumps([2])
        >>> safe_loads(two, source="two.pkl")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        _pickle.UnpicklingError: two.pkl: 17 more byte(s) after the end of the pickle at byte 17...
    """
    return _loads(bytes(data), source, float_arrays)


def _loads(data: bytes | bytearray | mmap.mmap, source: str, float_arrays: bool) -> Any:
    """:func:`safe_loads` of data the caller gives away (writable memory may be overwritten
    by the decoded floats, see :func:`~vggsounder_hf.io.float_runs.load_float_rows`)."""
    fast_load = load_float_rows if float_arrays else load_scanned
    with paused_garbage_collection():
        fast = fast_load(
            data,
            functools.partial(_find_global, _SCANNED_GLOBALS),
            lambda loaded: structure_size(loaded, element_budget(len(data))),
        )
    if fast is not None:
        return fast[0]
    data = bytes(data)  # untouched: the fast path declined before decoding anything
    unpickler = _RestrictedUnpickler(data, source)
    try:
        with paused_garbage_collection():
            loaded = unpickler.load()
            structure_size(loaded, element_budget(len(data)))
    except (UnsafePickleError, PickleLimitError) as error:
        raise type(error)(f"{source}: {error}") from None
    except LimitError as error:
        raise PickleLimitError(f"{source}: {error}") from None
    except MemoryError:
        raise PickleLimitError(f"{source}: too large to load into memory") from None
    except RecursionError:
        raise PickleLimitError(f"{source}: nested too deeply to load") from None
    except _INVALID as error:
        detail = str(error).splitlines()[0][:200] if str(error).strip() else "truncated"
        raise pickle.UnpicklingError(
            f"{source}: not a valid pickle ({type(error).__name__}: {detail})"
        ) from None
    extra, end = unpickler.trailing_bytes()
    if extra:
        raise pickle.UnpicklingError(
            f"{source}: {extra} more byte(s) after the end of the pickle at byte {end} "
            "(two pickles, or data appended to one?); a prediction file holds exactly one pickle"
        )
    return loaded


def load_pickle(path: str | os.PathLike[str], *, float_arrays: bool = False) -> Any:
    """Read and safely unpickle the file at ``path`` (see :func:`safe_loads`); a file larger
    than :data:`~vggsounder_hf.io.limits.MAX_FILE_BYTES` is a :class:`PickleLimitError`."""
    source = os.fspath(path)
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > MAX_FILE_BYTES:
            raise PickleLimitError(
                f"{source}: {size} bytes is larger than the limit of {MAX_FILE_BYTES} bytes"
            )
        data = _read_into_fresh_memory(handle, size)
    return _loads(data, source, float_arrays)


_PREFAULT_BYTES = 1 << 20
"""Files from this size on are read into memory the kernel maps in one go (where it can)."""


def _read_into_fresh_memory(handle: io.BufferedReader, size: int) -> bytearray | mmap.mmap:
    """The file's bytes in writable memory of its own (the decoded scores reuse it, see
    :func:`~vggsounder_hf.io.float_runs.load_float_rows`); fewer if it shrank since ``fstat``.

    On Linux a large file goes into an anonymous mapping populated ahead (``MAP_POPULATE``):
    filling a ``bytearray`` takes one page fault per 4 KB page, which here costs more than
    twice the copy itself (85 against 47 ms for a 123 MB score pickle). It is a private copy,
    never the file mapped: the bytes checked are the bytes unpickled."""
    populate = getattr(mmap, "MAP_POPULATE", 0)
    if size >= _PREFAULT_BYTES and populate:
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | populate
        mapped = mmap.mmap(-1, size, flags=flags)
        read = handle.readinto(mapped)
        return mapped if read == size else bytearray(mapped[:read])
    data = bytearray(size)
    del data[handle.readinto(data) :]
    return data
