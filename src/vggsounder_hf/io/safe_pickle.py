"""Load prediction pickles without letting them run code.

The authors publish predictions as pickles, and a pickle can call any importable function
while it loads. :func:`load_pickle` uses a restricted unpickler that resolves only the
names needed for plain data: builtin containers and scalars, ``collections.defaultdict`` /
``OrderedDict`` and numpy arrays, dtypes and scalars. Anything else is refused with
:class:`UnsafePickleError` before it is called.

Two more rules make the result plain data:

* A ``defaultdict`` (the released files use one at the top level) loads as a plain ``dict``,
  at any depth: a ``defaultdict`` invents a value on lookup, which would hide a missing clip
  or a missing ``"logits"`` key downstream.
* A file holds exactly one pickle: bytes after its end (two pickles concatenated, appended
  garbage) are refused, since the unpickler would silently stop at the first ``STOP``.

Example:
    >>> import collections, pickle
    >>> safe_loads(pickle.dumps({"clip_000001": {"predictions": {"a": ["dog barking"]}}}))
    {'clip_000001': {'predictions': {'a': ['dog barking']}}}
    >>> type(safe_loads(pickle.dumps(collections.defaultdict(list, {"x": [1]})))).__name__
    'dict'
"""

from __future__ import annotations

import _compat_pickle
import io
import os
import pickle
from typing import Any

from vggsounder_hf.core._gc import paused_garbage_collection

_ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    {
        ("builtins", "dict"),
        ("builtins", "list"),
        ("builtins", "tuple"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "str"),
        ("builtins", "bytes"),
        ("builtins", "int"),
        ("builtins", "float"),
        ("builtins", "bool"),
        ("builtins", "complex"),
        ("collections", "defaultdict"),
        # Protocol-2 pickles of numpy arrays carry their bytes as text through this codec.
        ("_codecs", "encode"),
        ("collections", "OrderedDict"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
    }
)


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle asked for a global that is not plain data."""


def _plain_dict(default_factory: Any = None, /, *args: Any, **kwargs: Any) -> dict[Any, Any]:
    """Stands in for ``collections.defaultdict`` while unpickling: the same items, no factory.

    The unpickler fills the returned object with ``SETITEMS``, exactly as it would fill the
    ``defaultdict``; ``default_factory`` is dropped (it has already been vetted like any global).
    """
    return dict(*args, **kwargs)


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedIOBase, source: str) -> None:
        super().__init__(file)
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        # Python 2 names in protocol 0-2 pickles (``__builtin__.list``); overriding find_class
        # skips the base class's own translation, so it is repeated here, before the check.
        module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        if (module, name) not in _ALLOWED_GLOBALS:
            raise UnsafePickleError(
                f"{self._source}: refusing to load '{module}.{name}': prediction pickles may "
                "hold only plain data (dicts, lists, strings, numbers, numpy arrays)"
            )
        if (module, name) == ("collections", "defaultdict"):
            return _plain_dict
        if module.startswith("numpy"):
            import numpy  # noqa: F401  (makes numpy.* importable below)
        return super().find_class(module, name)

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(f"{self._source}: persistent ids are not allowed ({pid!r})")


def safe_loads(data: bytes, source: str = "<bytes>") -> Any:
    """Unpickle ``data`` admitting only plain data types (see the module docstring).

    Args:
        data: The pickle bytes.
        source: Name used in error messages (a file name, usually).

    Raises:
        UnsafePickleError: The pickle references a disallowed global.
        pickle.UnpicklingError: The bytes are not a valid pickle, or more bytes follow it.

    Example:
        >>> two = pickle.dumps([1]) + pickle.dumps([2])
        >>> safe_loads(two, source="two.pkl")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        _pickle.UnpicklingError: two.pkl: 17 more byte(s) after the end of the pickle at byte 17...
    """
    stream = io.BytesIO(data)
    try:
        with paused_garbage_collection():
            loaded = _RestrictedUnpickler(stream, source).load()
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError) as error:
        raise pickle.UnpicklingError(f"{source}: not a valid pickle ({error})") from None
    end = stream.tell()
    if end != len(data):
        raise pickle.UnpicklingError(
            f"{source}: {len(data) - end} more byte(s) after the end of the pickle at byte {end} "
            "(two pickles, or data appended to one?); a prediction file holds exactly one pickle"
        )
    return loaded


def load_pickle(path: str | os.PathLike[str]) -> Any:
    """Read and safely unpickle the file at ``path`` (see :func:`safe_loads`)."""
    with open(path, "rb") as handle:
        data = handle.read()
    return safe_loads(data, source=os.fspath(path))
