"""The ``evaluate`` module shipped inside the package.

The module's one source file is ``vggsounder_hf/hf/metric/vggsounder/vggsounder.py`` (with
its card ``README.md`` and ``requirements.txt`` beside it, package data of the wheel), so
that ``evaluate.load(METRIC_PATH)`` works from any directory after ``pip install
vggsounder-hf``. ``metrics/vggsounder/`` of the source checkout holds symbolic links to these
files, for ``evaluate.load("metrics/vggsounder")`` from the repository root.

``evaluate`` names a module after its class (``Vggsounder`` -> ``vggsounder``), which is the
prefix ``evaluate.combine`` gives its keys, and looks for ``<folder>/<folder>.py`` in a local
folder or a Hub Space; both are ``vggsounder`` here.

This module imports nothing heavy: ``vggsounder_hf.METRIC_PATH`` is cheap.

Example:
    >>> import os, vggsounder_hf
    >>> os.path.basename(vggsounder_hf.METRIC_PATH)
    'vggsounder'
    >>> os.path.isfile(os.path.join(vggsounder_hf.METRIC_PATH, "vggsounder.py"))
    True
"""

from __future__ import annotations

import os

__all__ = ["METRIC_NAME", "METRIC_PATH"]

METRIC_NAME = "vggsounder"
"""The module's name: its folder, its file (``vggsounder.py``) and ``evaluate``'s name for it."""

METRIC_PATH: str = os.path.join(os.path.dirname(os.path.abspath(__file__)), METRIC_NAME)
"""Folder of the installed ``evaluate`` module: ``evaluate.load(METRIC_PATH)`` (a ``str``, as
``evaluate.load`` expects)."""
