"""VGGSound's own test labels (one class per clip) read as a label source of VGGSounder.

VGGSound (Chen et al., ICASSP 2020) gives every test clip a single class. Read as the label
source :data:`~vggsounder_hf.core.schema.VGGSOUND_LABELS`, each label is ``AV`` and no clip has
a meta label: the ``a``, ``v`` and ``av`` columns (:data:`VGGSOUND_COLUMNS`) see every clip
with its one label, so their ``hit`` is the paper's "accuracy on VGGSound" (the share of clips
whose label is among the predictions; top-1 for scores). ``a only`` and ``v only`` have no clip.

Three file formats are accepted, told apart by their first row:

==============================  ==============================================================
format                          rows
==============================  ==============================================================
VGGSound's ``vggsound.csv``     ``youtube_id,start_seconds,label,split`` (header optional);
                                only the rows of split ``test`` are kept
the test labels                 ``<video_id>.mp4,<label>`` (no header; ``.mp4`` optional)
VGGSounder's CSV format         header ``video_id,label,modality,...``: read as any release
==============================  ==============================================================

The labels are pinned by content, not by bytes: :func:`content_sha256` hashes the sorted lines
``<video_id>,<label>`` (UTF-8, each ending in a newline), so every format of the same labels
has the hash :data:`VGGSOUND_TEST_SHA256`.

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "vggsound.csv"
    >>> _ = path.write_text('abc_000010.mp4,"dog barking, growling"\\n')
    >>> table = read_vggsound_labels(path, ("cat", "dog barking, growling"))
    >>> table.video_ids, table.label_of_row.tolist(), table.modality_of_row.tolist()
    (['abc_000010'], [1], [2])
    >>> line = b"abc_000010,dog barking, growling\\n"
    >>> content_sha256(table, ("cat", "dog barking, growling")) == hashlib.sha256(line).hexdigest()
    True
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vggsounder_hf.core.schema import AV, COLUMN_SPECS, META_LABELS
from vggsounder_hf.io.annotations import (
    ANNOTATION_COLUMNS,
    AnnotationError,
    read_clip_table,
    split_video_id,
)
from vggsounder_hf.io.clips import ClipTable

__all__ = [
    "VGGSOUND_COLUMNS",
    "VGGSOUND_CSV_URL",
    "VGGSOUND_FILE_NAMES",
    "VGGSOUND_TEST_SHA256",
    "content_sha256",
    "read_vggsound_labels",
    "user_labels_file",
]

VGGSOUND_CSV_URL = "https://www.robots.ox.ac.uk/~vgg/data/vggsound/vggsound.csv"
"""The VGGSound project's public label file (every split); the default source."""
VGGSOUND_TEST_SHA256 = "dbe9949bf65f17d5f1d0bbbb3a18e0d09539a46538411b13ed9cf6a209ea1fa1"
"""sha256 of the canonical content (:func:`content_sha256`) of the 15,446 test clips, computed
from ``vggsound_test_labels.csv`` and, equal, ``vggsound_test_in_vggsounder_format.csv``."""
VGGSOUND_FILE_NAMES: tuple[str, ...] = (
    "vggsound_test_in_vggsounder_format.csv",
    "vggsound_test_labels.csv",
    "vggsound.csv",
)
"""File names looked for, in this order, when a folder is given as the labels."""
VGGSOUND_COLUMNS: tuple[str, ...] = tuple(
    spec.name for spec in COLUMN_SPECS if AV in spec.label_codes
)
"""The columns that have clips when every label is AV: ``a``, ``v`` and ``av``."""

_PUBLIC_HEADER = ["youtube_id", "start_seconds", "label", "split"]
_TEST_SPLIT = "test"


def read_vggsound_labels(path: str | os.PathLike[str], class_names: Sequence[str]) -> ClipTable:
    """The test clips of a VGGSound label file in any of the three formats, as a clip table
    (each clip's label marked AV, every meta flag ``False``; VGGSounder-format files as written).

    Raises:
        AnnotationError: Naming the file and line: an unknown format, a row with another
            number of fields, a malformed clip id or start second, a class name not in
            ``class_names``, a clip named twice, or no test clip at all.
    """
    path = Path(path)
    rows = _rows(path)
    first = rows[0][1] if rows else []
    if set(ANNOTATION_COLUMNS) <= set(first):
        return read_clip_table(path, class_names)
    if len(first) == len(_PUBLIC_HEADER):
        pairs = _public_pairs(path, rows[1:] if first == _PUBLIC_HEADER else rows)
    elif len(first) == 2:
        pairs = _test_label_pairs(path, rows)
    else:
        raise AnnotationError(
            path,
            rows[0][0] if rows else 1,
            "not a VGGSound label file: expected rows <video_id>.mp4,<label>, or "
            f"{','.join(_PUBLIC_HEADER)}, or the VGGSounder header {','.join(ANNOTATION_COLUMNS)}",
        )
    return _clip_table(path, pairs, class_names)


def user_labels_file(data_path: str | os.PathLike[str]) -> Path:
    """The user's VGGSound label file: ``data_path`` itself, or in a folder the first of
    :data:`VGGSOUND_FILE_NAMES` it holds.

    Raises:
        FileNotFoundError: No such file, or a folder without any of those names.
    """
    path = Path(data_path).expanduser().resolve()
    if path.is_dir():
        found = [path / name for name in VGGSOUND_FILE_NAMES if (path / name).is_file()]
        if not found:
            raise FileNotFoundError(
                f"data_path {str(path)!r} has none of {', '.join(VGGSOUND_FILE_NAMES)} "
                "(VGGSound's labels)"
            )
        return found[0]
    if not path.is_file():
        raise FileNotFoundError(f"data_path {str(path)!r} does not exist")
    return path


def content_sha256(table: ClipTable, class_names: Sequence[str]) -> str:
    """sha256 of the sorted ``<video_id>,<label>`` lines of a clip table: the same for every
    file format of the same labels."""
    lines = sorted(
        f"{table.video_ids[clip]},{class_names[label]}\n"
        for clip, label in zip(table.clip_of_row.tolist(), table.label_of_row.tolist(), strict=True)
    )
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    """``(line, fields)`` of the non-blank rows of a UTF-8 CSV file."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise AnnotationError(path, None, f"not UTF-8 text ({error.reason})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = []
    try:
        for row in reader:
            if row:
                rows.append((reader.line_num, row))
    except csv.Error as error:
        raise AnnotationError(path, reader.line_num, f"bad CSV syntax: {error}") from None
    if not rows:
        raise AnnotationError(path, 1, "the file is empty (expected VGGSound labels)")
    return rows


def _fields(path: Path, line: int, row: list[str], width: int) -> list[str]:
    if len(row) != width:
        raise AnnotationError(path, line, f"expected {width} fields, got {len(row)}")
    return row


def _checked_id(path: Path, line: int, video_id: str) -> str:
    if split_video_id(video_id) is None:
        raise AnnotationError(
            path,
            line,
            f"malformed video_id {video_id!r} (expected <youtube id>_<6-digit start second>)",
        )
    return video_id


def _test_label_pairs(path: Path, rows: list[tuple[int, list[str]]]) -> list[tuple[int, str, str]]:
    pairs = []
    for line, row in rows:
        name, label = _fields(path, line, row, 2)
        video_id = name.removesuffix(".mp4")
        pairs.append((line, _checked_id(path, line, video_id), label))
    return pairs


def _public_pairs(path: Path, rows: list[tuple[int, list[str]]]) -> list[tuple[int, str, str]]:
    pairs = []
    for line, row in rows:
        youtube_id, start, label, split = _fields(path, line, row, len(_PUBLIC_HEADER))
        if split != _TEST_SPLIT:
            continue
        if not start.isdigit() or int(start) >= 10**6:
            raise AnnotationError(
                path, line, f"start_seconds must be a whole number, got {start!r}"
            )
        pairs.append((line, _checked_id(path, line, f"{youtube_id}_{int(start):06d}"), label))
    if not pairs:
        raise AnnotationError(path, None, f"no clip of split {_TEST_SPLIT!r}")
    return pairs


def _clip_table(
    path: Path, pairs: list[tuple[int, str, str]], class_names: Sequence[str]
) -> ClipTable:
    """One clip per pair, its one label AV, no meta label."""
    index = {name: position for position, name in enumerate(class_names)}
    first_line: dict[str, int] = {}
    labels = []
    for line, video_id, label in pairs:
        if video_id in first_line:
            raise AnnotationError(
                path,
                line,
                f"clip {video_id!r} is named twice (first at line {first_line[video_id]})",
            )
        first_line[video_id] = line
        if label not in index:
            raise AnnotationError(path, line, f"class name {label!r} is not in classes.csv")
        labels.append(index[label])
    count = len(pairs)
    no_meta = np.zeros(count, dtype=bool)
    return ClipTable(
        [video_id for _, video_id, _ in pairs],
        np.arange(count),
        labels,
        np.full(count, AV),
        dict.fromkeys(META_LABELS, no_meta),
    )
