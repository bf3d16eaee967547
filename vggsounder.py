"""VGGSounder (ICCV 2025) labels as a Hugging Face ``datasets`` builder.

This file only re-exports the builder of the installed ``vggsounder-hf`` project; everything
lives in :mod:`vggsounder_hf.hf.builder`. Configs: ``"1.0"`` (default) and ``"0.1.6"``, the
authors' label releases; one split, ``test``.

With ``datasets`` 5.x, use the class (or :func:`vggsounder_hf.load_vggsounder`):

    from vggsounder_hf import VGGSounderBuilder
    builder = VGGSounderBuilder(config_name="1.0")
    builder.download_and_prepare()
    ds = builder.as_dataset(split="test")

The name ``vggsounder`` belongs to the authors' package. This file is not installed, and if it
is ever imported as the top-level module ``vggsounder`` (Python started in the repository root
puts the root on ``sys.path``), it loads the authors' installed package in its place, so
``import vggsounder`` always means theirs.
"""

import importlib.machinery
import importlib.util
import os
import sys


def _hand_over_to_the_authors_package() -> bool:
    """Replace this module in ``sys.modules`` by the authors' ``vggsounder``; False if absent."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("vggsounder", path)
    if spec is None or spec.loader is None:
        return False
    module = importlib.util.module_from_spec(spec)
    sys.modules["vggsounder"] = module  # the import statement returns sys.modules' entry
    spec.loader.exec_module(module)
    return True


if not (__name__ == "vggsounder" and _hand_over_to_the_authors_package()):
    from vggsounder_hf.hf.builder import VGGSounderBuilder, VGGSounderConfig

    VGGSounder = VGGSounderBuilder

    __all__ = ["VGGSounder", "VGGSounderBuilder", "VGGSounderConfig"]
