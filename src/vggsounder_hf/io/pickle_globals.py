"""The globals a prediction pickle may name, each resolved to a checked stand-in.

:mod:`vggsounder_hf.io.safe_pickle` resolves every global through :func:`_find_global` and
this table: builtin containers and scalars, ``collections.OrderedDict`` and ``defaultdict``
(loaded as a plain ``dict``), Latin-1 ``_codecs.encode`` (how protocols 0-2 carry bytes) and
the numpy names of arrays, dtypes and scalars. Each stand-in checks its arguments before it
calls anything; ``BUILD`` state is set only on arrays and dtypes, by the two state setters.
"""

from __future__ import annotations

import _compat_pickle
import codecs
import collections
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy._core import multiarray
from numpy._core.numeric import _frombuffer

from vggsounder_hf.io.limits import array_elements, plain_dtype, short_repr

__all__ = ["PickleLimitError", "UnsafePickleError"]


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle asked for a global, an opcode or an argument that is not plain data."""


class PickleLimitError(pickle.UnpicklingError):
    """The pickle describes more data than the resource limits allow."""


_CONTAINERS = (list, tuple, set, frozenset, dict)
_SCALARS = (str, bytes, int, float, complex)


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
