"""Load prediction pickles without letting them run code.

The authors publish predictions as pickles, and a pickle can call any importable function
while it loads. :func:`load_pickle` uses a restricted unpickler that resolves only the
names needed for plain data: builtin containers and scalars, ``collections.defaultdict`` /
``OrderedDict`` and numpy arrays, dtypes and scalars. Anything else is refused with
:class:`UnsafePickleError` before it is called.

Example:
    >>> import io, pickle
    >>> safe_loads(pickle.dumps({"clip_000001": {"predictions": {"a": ["dog barking"]}}}))
    {'clip_000001': {'predictions': {'a': ['dog barking']}}}
"""

from __future__ import annotations

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


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedIOBase, source: str) -> None:
        super().__init__(file)
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise UnsafePickleError(
                f"{self._source}: refusing to load '{module}.{name}': prediction pickles may "
                "hold only plain data (dicts, lists, strings, numbers, numpy arrays)"
            )
        if module.startswith("numpy"):
            import numpy  # noqa: F401  (makes numpy.* importable below)
        return super().find_class(module, name)

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(f"{self._source}: persistent ids are not allowed ({pid!r})")


def safe_loads(data: bytes, source: str = "<bytes>") -> Any:
    """Unpickle ``data`` admitting only plain data types.

    Args:
        data: The pickle bytes.
        source: Name used in error messages (a file name, usually).

    Raises:
        UnsafePickleError: The pickle references a disallowed global.
        pickle.UnpicklingError: The bytes are not a valid pickle.
    """
    try:
        with paused_garbage_collection():
            return _RestrictedUnpickler(io.BytesIO(data), source).load()
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError) as error:
        raise pickle.UnpicklingError(f"{source}: not a valid pickle ({error})") from None


def load_pickle(path: str | os.PathLike[str]) -> Any:
    """Read and safely unpickle the file at ``path`` (see :func:`safe_loads`)."""
    with open(path, "rb") as handle:
        data = handle.read()
    return safe_loads(data, source=os.fspath(path))
