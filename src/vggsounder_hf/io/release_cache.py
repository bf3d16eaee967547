"""A compact on-disk copy of a parsed label release, keyed by the sha256 of its files.

Parsing and validating ``vggsounder+background-music.csv`` takes about 0.15 s, more than
everything else a label-set run does after start-up. :func:`~vggsounder_hf.io.sources.
parse_release` therefore keeps the parsed columns of a :class:`~vggsounder_hf.io.clips.
ClipTable` as one ``.npz`` file (about 0.3 MB) in the user's cache folder. The file's name
is a hash of the release version and of the sha256 of the annotation and class files (which
:func:`~vggsounder_hf.io.sources.resolve_release_files` computes, and pins for the authors'
files), so a changed file never meets a stale copy; only a table that passed every check is
written, atomically, so a reader never sees half a file. Reading one back needs no pickle
(``allow_pickle=False``), and a copy that is not exactly what :func:`store_table` writes
(truncated, edited, another format) is ignored: the release is parsed again.

The folder is ``$VGGSOUNDER_HF_CACHE`` if set (``off`` disables the cache), else
``$XDG_CACHE_HOME/vggsounder-hf``, else ``~/.cache/vggsounder-hf``. Failing to write the cache
(a read-only home) is not an error.

Example:
    >>> import tempfile
    >>> from vggsounder_hf.io.clips import Clip, ClipTable
    >>> table = ClipTable.from_clips([Clip("abc_000010", "abc", 10, (3, 1), (2, 0),
    ...                                     False, False, True)])
    >>> folder = tempfile.mkdtemp()
    >>> key = cache_key("1.0", "a" * 64, "b" * 64)
    >>> store_table(folder, key, table), load_table(folder, key) == table
    (True, True)
    >>> load_table(folder, cache_key("1.0", "c" * 64, "b" * 64)) is None
    True
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vggsounder_hf.core._gc import paused_garbage_collection
from vggsounder_hf.core.schema import META_LABELS
from vggsounder_hf.io.atomic import write_atomic
from vggsounder_hf.io.clips import ClipTable

__all__ = [
    "CACHE_ENV",
    "FORMAT",
    "cache_folder",
    "cache_key",
    "cached",
    "load_table",
    "store_table",
]

CACHE_ENV = "VGGSOUNDER_HF_CACHE"
"""Environment variable naming the cache folder (``off``: no cache)."""
FORMAT = "clip-table-1"
"""Changes whenever the stored arrays change meaning: old copies are then never read."""
_ROWS = ("clip_of_row", "label_of_row", "modality_of_row")


def cache_folder() -> Path | None:
    """The folder for cached releases, or ``None`` when the cache is off."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "no") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vggsounder-hf"


def cache_key(version: str, annotations_sha256: str, classes_sha256: str) -> str:
    """The name of one release's cached copy: the format, the version and both files' sha256.

    Example:
        >>> len(cache_key("1.0", "a" * 64, "b" * 64))
        40
    """
    text = "\n".join((FORMAT, version, annotations_sha256, classes_sha256))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def cached(hashes: tuple[str, str, str], parse: Callable[[], ClipTable]) -> ClipTable:
    """The table of the release ``(version, annotations_sha256, classes_sha256)``: the cached
    copy if there is a valid one, else ``parse()`` (stored for the next run if it succeeds).

    Example:
        >>> import os, tempfile
        >>> from vggsounder_hf.io.clips import Clip
        >>> os.environ[CACHE_ENV] = tempfile.mkdtemp()
        >>> one = ClipTable.from_clips([Clip("abc_000010", "abc", 10, (3,), (2,), *[False] * 3)])
        >>> cached(("1.0", "a" * 64, "b" * 64), lambda: one) == one
        True
        >>> cached(("1.0", "a" * 64, "b" * 64), lambda: 1 / 0) == one  # read from the cache
        True
        >>> del os.environ[CACHE_ENV]
    """
    folder = cache_folder()
    key = cache_key(*hashes)
    table = None if folder is None else load_table(folder, key)
    if table is None:
        with paused_garbage_collection():
            table = parse()
        if folder is not None:
            store_table(folder, key, table)
    return table


def _path(folder: str | os.PathLike[str], key: str) -> Path:
    return Path(folder) / f"release-{key}.npz"


def load_table(folder: str | os.PathLike[str], key: str) -> ClipTable | None:
    """The cached table of ``key`` in ``folder``, or ``None`` if there is no valid copy."""
    path = _path(folder, key)
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except Exception:  # missing, truncated, not an .npz (zipfile's errors too): parse again
        return None
    return _table(arrays, key)


def _table(arrays: dict[str, np.ndarray], key: str) -> ClipTable | None:
    """The table the arrays spell, if they are exactly what :func:`store_table` writes."""
    expected = {"key", "video_ids", *_ROWS, *META_LABELS}
    if set(arrays) != expected or arrays["key"].shape != () or str(arrays["key"]) != key:
        return None
    video_ids = arrays["video_ids"]
    rows = [arrays[name] for name in _ROWS]
    meta = [arrays[name] for name in META_LABELS]
    clips = len(video_ids)
    if video_ids.dtype.kind != "U" or video_ids.ndim != 1:
        return None
    if any(row.dtype != np.int64 or row.shape != rows[0].shape or row.ndim != 1 for row in rows):
        return None
    if any(flags.dtype != bool or flags.shape != (clips,) for flags in meta):
        return None
    clip_of_row = rows[0]
    if clip_of_row.size and (clip_of_row.min() < 0 or clip_of_row.max() >= clips):
        return None
    if clip_of_row.size and np.any(np.diff(clip_of_row) < 0):
        return None
    return ClipTable(video_ids.tolist(), *rows, dict(zip(META_LABELS, meta, strict=True)))


def store_table(folder: str | os.PathLike[str], key: str, table: ClipTable) -> bool:
    """Write ``table`` as the copy of ``key`` in ``folder``, atomically; ``False`` if the
    folder cannot be written (the cache is an optimisation, never a requirement)."""
    buffer = io.BytesIO()
    arrays = {name: getattr(table, name) for name in _ROWS}
    arrays |= {name: table.meta[name] for name in META_LABELS}
    np.savez(buffer, key=np.array(key), video_ids=np.array(table.video_ids, dtype=str), **arrays)
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        write_atomic(_path(folder, key), buffer.getvalue())
    except OSError:
        return False
    return True
