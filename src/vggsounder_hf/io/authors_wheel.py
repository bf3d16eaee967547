"""The data files of the authors' wheel (``vggsounder==1.0``), where pip installed them.

The label releases' annotation files ship inside the authors' wheel; :func:`wheel_file`
finds one the way ``importlib.metadata`` finds an installed distribution (its
``.dist-info`` folder, the first along ``sys.path``, and the file its ``RECORD`` lists),
reading the folder and ``RECORD`` directly: importing ``importlib.metadata`` costs about
35 ms, a tenth of a label-set run. Any other layout (an ``.egg-info``, two metadata folders
in one place, no wheel at all) is left to ``importlib.metadata`` itself. The authors'
package is never imported; every file found is checked against its pinned sha256 by
:mod:`vggsounder_hf.io.sources`.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

__all__ = ["AUTHORS_DISTRIBUTION", "wheel_file"]

AUTHORS_DISTRIBUTION = "vggsounder"
"""Distribution name of the authors' PyPI package (and of its importable package)."""
_WHEEL_DATA_DIR = "vggsounder/data"


def wheel_file(name: str) -> Path | None:
    """Path of ``vggsounder/data/<name>`` in the installed authors' wheel, if there is one.

    Example:
        >>> wheel_file("classes.csv").as_posix().endswith("vggsounder/data/classes.csv")
        True
    """
    found = _dist_info_file(name)
    if found is not _UNKNOWN:
        return found
    return _metadata_wheel_file(name)


_UNKNOWN = Path("?")
""":func:`_dist_info_file` could not tell: ask ``importlib.metadata``."""


def _dist_info_file(name: str) -> Path | None:
    """:func:`_metadata_wheel_file` for a wheel installed as a ``.dist-info`` folder (what pip
    does), found as ``importlib.metadata`` finds it, the first along ``sys.path``, without the
    35 ms that importing ``importlib.metadata`` costs every run. :data:`_UNKNOWN` for any other
    layout (an ``.egg-info``, no installed wheel), which ``importlib.metadata`` then decides."""
    wanted = f"{_WHEEL_DATA_DIR}/{name}"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:  # not a folder (a zip file), or gone
            continue
        infos = sorted(
            item
            for item in names
            if item.lower().endswith((".dist-info", ".egg-info"))
            and item.split("-")[0].lower().replace(".", "_") == AUTHORS_DISTRIBUTION
        )
        if not infos:
            continue
        if len(infos) > 1 or not infos[0].lower().endswith(".dist-info"):
            return _UNKNOWN
        folder = Path(entry or ".")
        try:
            with open(folder / infos[0] / "RECORD", encoding="utf-8", newline="") as handle:
                listed = any(row and row[0] == wanted for row in csv.reader(handle))
        except OSError:  # no RECORD: look where the file would be
            listed = True
        located = folder / wanted
        return located if listed and located.is_file() else None
    return _UNKNOWN


def _metadata_wheel_file(name: str) -> Path | None:
    """Path of ``vggsounder/data/<name>`` in the installed authors' wheel, by
    ``importlib.metadata``."""
    import importlib.metadata

    try:
        dist = importlib.metadata.distribution(AUTHORS_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    wanted = f"{_WHEEL_DATA_DIR}/{name}"
    if dist.files is not None:
        entries = [entry for entry in dist.files if entry.as_posix() == wanted]
        if not entries:
            return None
        located = Path(dist.locate_file(entries[0]))
    else:  # no RECORD: look where the file would be
        located = Path(dist.locate_file(wanted))
    return located if located.is_file() else None
