"""Load prediction pickles without letting them run code or exhaust memory.

A pickle can call any importable function while it loads. :func:`load_pickle` resolves only
the names plain data needs (builtin containers and scalars, ``collections.defaultdict`` /
``OrderedDict``, numpy arrays, dtypes and scalars; Python 2 names of protocols 0-2, such as
``__builtin__.set``, are translated first), each through a checked stand-in: anything else,
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

import _compat_pickle
import codecs
import collections
import functools
import io
import os
import pickle
import re
import struct
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from numpy._core import multiarray
from numpy._core.numeric import _frombuffer

from vggsounder_hf.core._gc import paused_garbage_collection
from vggsounder_hf.io.fast_floats import load_scanned
from vggsounder_hf.io.float_runs import load_float_rows
from vggsounder_hf.io.limits import (
    MAX_FILE_BYTES,
    MAX_NESTING,
    LimitError,
    array_elements,
    element_budget,
    plain_dtype,
    short_repr,
    structure_size,
)

__all__ = ["PickleLimitError", "UnsafePickleError", "load_pickle", "safe_loads"]


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle asked for a global, an opcode or an argument that is not plain data."""


class PickleLimitError(pickle.UnpicklingError):
    """The pickle describes more data than the resource limits allow."""


_CONTAINERS = (list, tuple, set, frozenset, dict)
_SCALARS = (str, bytes, int, float, complex)
_FLOAT_RUN = re.compile(rb"(?:G.{8})*", re.DOTALL)  # consecutive BINFLOATs: lists of scores


@functools.lru_cache(maxsize=64)
def _float_run(size: int) -> struct.Struct:
    """Unpacks ``size // 9`` BINFLOAT opcodes (the opcode byte, then a big-endian double)."""
    return struct.Struct(">" + "xd" * (size // 9))


_NDARRAY = object()  # stands for numpy.ndarray: only _reconstruct may receive it


def _checked_dtype(spec: Any, align: Any = False, copy: Any = False) -> np.dtype:
    if not isinstance(spec, str | bytes):
        raise UnsafePickleError(f"numpy dtype {short_repr(spec)} is not a type code")
    # Always a copy: BUILD sets the state of the dtype it gets, never of numpy's own.
    return plain_dtype(np.dtype(spec, bool(align), True))


def _checked_reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    if subtype is not _NDARRAY:
        raise UnsafePickleError(f"_reconstruct makes numpy arrays only, not {short_repr(subtype)}")
    if array_elements(shape):
        # numpy writes an empty array here and its data in the state: anything else would
        # allocate memory the file does not hold.
        raise PickleLimitError(f"_reconstruct of shape {short_repr(shape)} is not empty")
    dtype = plain_dtype(np.dtype(dtype) if isinstance(dtype, str | bytes) else dtype)
    return multiarray._reconstruct(np.ndarray, shape, dtype)


def _checked_scalar(dtype: Any, *data: Any) -> Any:
    return multiarray.scalar(plain_dtype(dtype), *data)


def _checked_frombuffer(buffer: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
    array_elements(shape)
    return _frombuffer(buffer, plain_dtype(dtype), shape, order)


def _checked_encode(text: Any, encoding: Any = "utf-8", errors: Any = "strict") -> bytes:
    """``_codecs.encode`` as pickles use it: text to bytes through Latin-1, nothing else."""
    if not isinstance(text, str) or not isinstance(encoding, str):
        raise UnsafePickleError("_codecs.encode may only turn text into bytes")
    try:
        known = codecs.lookup(encoding).name
    except LookupError:
        known = None
    if known != "iso8859-1" or errors != "strict":
        raise UnsafePickleError(
            f"codec {short_repr(encoding)} is not allowed (pickles encode bytes as latin1)"
        )
    return text.encode("latin-1")


def _checked_bytes(*args: Any) -> bytes:
    if args and isinstance(args[0], int | np.integer):
        raise PickleLimitError(f"bytes({short_repr(args[0])}) would allocate memory from nothing")
    if args and not isinstance(args[0], str | bytes | list | tuple):
        raise UnsafePickleError(f"bytes() of a {type(args[0]).__name__} is not plain data")
    return bytes(*args)


def _checked_call(kind: type, allowed: tuple[type, ...]) -> Callable[..., Any]:
    """``kind(*args)`` for arguments of the ``allowed`` types only (no ``str(anything)``,
    whose ``repr`` of a shared structure could take forever)."""

    def call(*args: Any) -> Any:
        for value in args:
            if not isinstance(value, allowed):
                raise UnsafePickleError(
                    f"{kind.__name__}() of a {type(value).__name__} is not plain data"
                )
        return kind(*args)

    call.__name__ = kind.__name__
    return call


def _plain_dict(default_factory: Any = None, /, *args: Any) -> dict[Any, Any]:
    """Stands in for ``collections.defaultdict`` while unpickling: the same items, no factory.

    The unpickler fills the returned object with ``SETITEMS``, exactly as it would fill the
    ``defaultdict``; ``default_factory`` is dropped (it has already been vetted like any global).
    """
    if default_factory is not None and not callable(default_factory):
        raise TypeError("the first argument of defaultdict must be callable or None")
    return _checked_call(dict, _CONTAINERS)(*args)


_GLOBALS: dict[tuple[str, str], Any] = {
    ("builtins", "dict"): _checked_call(dict, _CONTAINERS),
    ("builtins", "list"): _checked_call(list, _CONTAINERS),
    ("builtins", "set"): _checked_call(set, _CONTAINERS),
    ("builtins", "frozenset"): _checked_call(frozenset, _CONTAINERS),
    ("builtins", "str"): _checked_call(str, (str, bytes)),
    ("builtins", "bytes"): _checked_bytes,
    ("builtins", "int"): _checked_call(int, _SCALARS),
    ("builtins", "float"): _checked_call(float, _SCALARS),
    ("builtins", "bool"): _checked_call(bool, _SCALARS),
    ("builtins", "complex"): _checked_call(complex, _SCALARS),
    ("collections", "OrderedDict"): _checked_call(collections.OrderedDict, _CONTAINERS),
    ("collections", "defaultdict"): _plain_dict,
    # Protocol-0-2 pickles carry bytes (a numpy array's too) as text through this codec.
    ("_codecs", "encode"): _checked_encode,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _checked_dtype,
    **{
        (f"numpy.{core}.{module}", name): function
        for core in ("core", "_core")
        for module, name, function in (
            ("multiarray", "_reconstruct", _checked_reconstruct),
            ("multiarray", "scalar", _checked_scalar),
            ("numeric", "_frombuffer", _checked_frombuffer),
        )
    },
}
"""Every global a prediction pickle may name, and what it resolves to (``tuple`` is added
per unpickler: it checks nesting)."""


def _set_array_state(array: np.ndarray, state: Any) -> None:
    """``BUILD`` on an array: its shape, dtype and data, checked before numpy sees them."""
    if not isinstance(state, tuple) or len(state) not in (4, 5):
        raise UnsafePickleError("the state of a numpy array is not (shape, dtype, order, data)")
    shape, dtype, data = state[-4], state[-3], state[-1]
    count = array_elements(shape)
    dtype = plain_dtype(dtype)
    if dtype.hasobject:
        # numpy reads past the end of a short list (and crashes): the length must match.
        if not isinstance(data, list) or len(data) != count:
            raise pickle.UnpicklingError(
                f"a numpy object array of {count} elements needs a list of {count} values"
            )
    elif not isinstance(data, bytes | str) or len(data) != count * dtype.itemsize:
        raise pickle.UnpicklingError(
            f"a numpy array of shape {short_repr(shape)} and dtype {dtype} needs "
            f"{count * dtype.itemsize} bytes of data"
        )
    array.__setstate__(state)


def _set_dtype_state(dtype: np.dtype, state: Any) -> None:
    """``BUILD`` on a dtype: byte order and size only; the result must be a plain dtype."""
    if not isinstance(state, tuple) or len(state) != 8 or state[2:5] != (None,) * 3:
        raise UnsafePickleError("the state of a numpy dtype is not that of a plain dtype")
    dtype.__setstate__(state)
    expected = np.dtype(dtype.str)
    if (dtype, dtype.flags, dtype.itemsize) != (expected, expected.flags, expected.itemsize):
        raise UnsafePickleError(f"inconsistent state for numpy dtype {expected}")
    plain_dtype(dtype)


def _find_global(allowed: dict[tuple[str, str], Any], module: str, name: str) -> Any:
    # Python 2 names in protocol 0-2 pickles (``__builtin__.list``); overriding find_class
    # skips the base class's own translation, so it is repeated here, before the check.
    module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
    module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    found = allowed.get((module, name))
    if found is None:
        raise UnsafePickleError(
            f"refusing to load '{module}.{name}': prediction pickles may hold only plain "
            "data (dicts, lists, strings, numbers, numpy arrays)"
        )
    return found


_SCANNED_GLOBALS = {**_GLOBALS, ("builtins", "tuple"): _checked_call(tuple, _CONTAINERS)}
"""The globals of a scanned pickle: ``tuple`` unchecked, since the scan bounds nesting."""


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
    data = bytes(data)
    fast_load = load_float_rows if float_arrays else load_scanned
    with paused_garbage_collection():
        fast = fast_load(
            data,
            functools.partial(_find_global, _SCANNED_GLOBALS),
            lambda loaded: structure_size(loaded, element_budget(len(data))),
        )
    if fast is not None:
        return fast[0]
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
        data = handle.read()
    return safe_loads(data, source=source, float_arrays=float_arrays)
