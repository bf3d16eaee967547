"""VGGSounder for the Hugging Face ecosystem.

The package never imports the authors' ``vggsounder`` package; it only reads the annotation
files that the authors' wheel ships.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public names imported on first use, so that ``import vggsounder_hf`` stays fast (``datasets``
# alone takes about 0.6 s to import). name -> module that defines it.
_LAZY_EXPORTS: dict[str, str] = {
    "load_vggsounder": "vggsounder_hf.hf.loading",
    "VGGSounderBuilder": "vggsounder_hf.hf.builder",
}

if TYPE_CHECKING:  # pragma: no cover
    from vggsounder_hf.hf.builder import VGGSounderBuilder
    from vggsounder_hf.hf.loading import load_vggsounder

__all__ = ["VGGSounderBuilder", "__version__", "load_vggsounder"]


def __getattr__(name: str) -> Any:
    module = _LAZY_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_EXPORTS))
