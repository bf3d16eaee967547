"""Parse and validate VGGSounder annotation files.

Two file kinds make up a label release:

* ``classes.csv`` with the header ``index,mid,display_name``: one class name per row, in
  index order.
* an annotation CSV with the columns
  ``video_id,label,modality,background_music,static_image,voice_over``: one row per
  (clip, label). The rows of one clip need not be contiguous.

Every problem found stops with an :class:`AnnotationError` that names the file, the 1-based
line and the problem. Nothing here imports the authors' ``vggsounder`` package.

Example:
    >>> from vggsounder_hf.io.annotations import read_annotations, read_class_names
    >>> names = read_class_names("classes.csv")  # doctest: +SKIP
    >>> clips = read_annotations("vggsounder+background-music.csv", names)  # doctest: +SKIP
    >>> clips[0].video_id, [names[i] for i in clips[0].labels]  # doctest: +SKIP
    ('---g-f_I2yQ_000001', ['male singing', 'people battle cry', ...])
"""

from __future__ import annotations

import csv
import io
import operator
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vggsounder_hf.core.errors import GroundTruthError
from vggsounder_hf.core.schema import META_LABELS, MODALITY_NAMES
from vggsounder_hf.io.clips import Clip, ClipTable

__all__ = [
    "ANNOTATION_COLUMNS",
    "CLASSES_COLUMNS",
    "META_LABELS",
    "MODALITY_NAMES",
    "AnnotationError",
    "Clip",
    "ClipTable",
    "read_annotations",
    "read_class_names",
    "read_clip_table",
    "split_video_id",
]


ANNOTATION_COLUMNS: tuple[str, ...] = ("video_id", "label", "modality", *META_LABELS)
"""Columns every annotation CSV must have (extra columns are ignored)."""

CLASSES_COLUMNS: tuple[str, ...] = ("index", "mid", "display_name")
"""The exact header of ``classes.csv``."""

# A YouTube id is made of letters, digits, "-" and "_"; the start second follows the LAST "_".
_VIDEO_ID = re.compile(r"([A-Za-z0-9_-]+)_([0-9]{6})")
_FLAGS = {"True": True, "False": False}
# Every valid combination of the three meta columns, parsed once: one dict look-up per row.
_META = {
    (a, b, c): (_FLAGS[a], _FLAGS[b], _FLAGS[c]) for a in _FLAGS for b in _FLAGS for c in _FLAGS
}
_MODALITY_INDEX = {name: i for i, name in enumerate(MODALITY_NAMES)}


class AnnotationError(GroundTruthError):
    """A malformed annotation or class file (a ``ValueError``, like every input error).

    Attributes:
        path: the offending file.
        line: 1-based line number in that file (``None`` when the problem has no line).
        problem: what is wrong, in words.
    """

    def __init__(self, path: str | os.PathLike[str], line: int | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = self.path if line is None else f"{self.path}, line {line}"
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps the exception picklable (multiprocessing, pytest-xdist).
        return (type(self), (self.path, self.line, self.problem))


def split_video_id(video_id: str) -> tuple[str, int] | None:
    """Split ``<youtube id>_<6-digit start second>`` at the last ``_``; ``None`` if malformed.

    Example:
        >>> split_video_id("---g-f_I2yQ_000001")
        ('---g-f_I2yQ', 1)
        >>> split_video_id("no-start-second") is None
        True
    """
    match = _VIDEO_ID.fullmatch(video_id)
    if match is None:
        return None
    return match.group(1), int(match.group(2))


_Rows = Iterator[tuple[int, list[str]]]


def _csv_rows(path: Path) -> _Rows:
    """``(line, fields)`` of every row of a UTF-8 CSV file (a BOM is tolerated), blank rows
    included; ``line`` is the last physical line of the row. Undecodable bytes and CSV syntax
    errors raise with their line."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        problem = f"byte 0x{raw[error.start]:02x} at offset {error.start}: {error.reason}"
        raise AnnotationError(path, line, f"not UTF-8 text ({problem})") from None
    if not text.strip():
        raise AnnotationError(path, 1, "the file is empty (expected a CSV header and rows)")
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise AnnotationError(path, line, "contains a NUL byte (a binary file, not CSV text?)")
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for row in rows:
            yield rows.line_num, row
    except csv.Error as error:
        raise AnnotationError(path, rows.line_num, f"bad CSV syntax: {error}") from None


def _header(path: Path, rows: _Rows, required: Sequence[str]) -> tuple[int, dict[str, int], int]:
    """Read the header row; return its line, each required column's position and the number
    of columns. A required column that is missing, or named twice, is an error."""
    line, header = next(rows, (1, []))
    missing = [name for name in required if name not in header]
    if missing:
        raise AnnotationError(
            path,
            line,
            f"missing column(s) {', '.join(missing)} in header {','.join(header)!r} "
            f"(expected {','.join(required)})",
        )
    for name in required:
        places = [str(i + 1) for i, given in enumerate(header) if given == name]
        if len(places) > 1:
            raise AnnotationError(
                path,
                line,
                f"column {name!r} appears {len(places)} times in the header (columns "
                f"{', '.join(places)}); each of {','.join(required)} must appear once",
            )
    return line, {name: header.index(name) for name in required}, len(header)


def read_class_names(path: str | os.PathLike[str]) -> tuple[str, ...]:
    """Read ``classes.csv`` and return the display names in index order.

    The header must be exactly ``index,mid,display_name``; ``index`` must run 0, 1, ..., n-1;
    names must be non-empty and unique.

    Example:
        >>> from vggsounder_hf.core.schema import NUM_CLASSES
        >>> names = read_class_names("classes.csv")  # doctest: +SKIP
        >>> len(names) == NUM_CLASSES, names[0]  # doctest: +SKIP
        (True, 'ambulance siren')
    """
    path = Path(path)
    rows = _csv_rows(path)
    line, header = next(rows, (1, []))
    if tuple(header) != CLASSES_COLUMNS:
        raise AnnotationError(
            path, line, f"header is {','.join(header)!r}, expected {','.join(CLASSES_COLUMNS)!r}"
        )
    names: list[str] = []
    first_line: dict[str, int] = {}
    for line, row in rows:
        if not row:
            continue
        if len(row) != len(CLASSES_COLUMNS):
            raise AnnotationError(
                path, line, f"expected {len(CLASSES_COLUMNS)} fields, got {len(row)}"
            )
        index, _mid, name = row
        if index != str(len(names)):
            raise AnnotationError(
                path, line, f"index {index!r} out of order (expected {len(names)})"
            )
        if not name:
            raise AnnotationError(path, line, "empty display_name")
        if name in first_line:
            raise AnnotationError(
                path, line, f"duplicate class name {name!r} (first at line {first_line[name]})"
            )
        first_line[name] = line
        names.append(name)
    if not names:
        raise AnnotationError(path, line, "no classes after the header")
    return tuple(names)


def read_annotations(path: str | os.PathLike[str], class_names: Sequence[str]) -> list[Clip]:
    """Read one annotation CSV into one :class:`Clip` per ``video_id``.

    A columnar pass checks every rule below at once; only a file it finds fault with is
    read again row by row, to name the first offending line.

    Clips come in order of first appearance; a clip's labels in file order. Rows of one clip
    may be anywhere in the file.

    Raises:
        AnnotationError: missing column or one named twice in the header, a row with fewer or
            more fields than the header, malformed ``video_id``, class name not in
            ``class_names``, unknown modality code, meta flag other than ``True``/``False``,
            meta flags that disagree within a clip, duplicate (clip, label) row, or a file
            without rows.

    Example:
        >>> clips = read_annotations("vggsounder.csv", names)  # doctest: +SKIP
        >>> len(clips)  # doctest: +SKIP
        12014
    """
    return list(read_clip_table(path, class_names))


def read_clip_table(path: str | os.PathLike[str], class_names: Sequence[str]) -> ClipTable:
    """:func:`read_annotations` as a columnar :class:`ClipTable` (same checks, same order).

    Example:
        >>> table = read_clip_table("vggsounder+background-music.csv", names)  # doctest: +SKIP
        >>> len(table), table[0].video_id  # doctest: +SKIP
        (15069, '---g-f_I2yQ_000001')
    """
    path = Path(path)
    table = _read_valid_annotations_fast(path, class_names)
    if table is None:
        table = ClipTable.from_clips(_read_annotations_by_row(path, class_names))
    return table


def _read_valid_annotations_fast(path: Path, class_names: Sequence[str]) -> ClipTable | None:
    """All clips of a valid file, or ``None`` when any rule fails.

    The csv module and dict look-ups over whole columns: no per-row Python code, and no
    pyarrow (whose import, with the pandas it pulls in, costs more than the file takes).
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
        rows = [row for row in csv.reader(io.StringIO(text, newline=""), strict=True) if row]
    except (UnicodeDecodeError, csv.Error, OSError):
        return None
    if len(rows) < 2 or "\x00" in text:
        return None
    header = rows[0]
    if any(header.count(name) != 1 for name in ANNOTATION_COLUMNS):
        return None
    if set(map(len, rows)) != {len(header)}:
        return None
    columns = list(zip(*rows[1:], strict=True))  # every row has the same width
    video_ids, label_names, modality_codes, *flag_columns = (
        columns[header.index(name)] for name in ANNOTATION_COLUMNS
    )
    class_index = {name: i for i, name in enumerate(class_names)}
    labels = list(map(class_index.get, label_names))
    modalities = list(map(_MODALITY_INDEX.get, modality_codes))
    unique_ids = list(dict.fromkeys(video_ids))
    if (
        None in labels
        or None in modalities
        or not all(set(flags) <= _FLAGS.keys() for flags in flag_columns)
        or not all(map(_VIDEO_ID.fullmatch, unique_ids))
    ):
        return None
    clip_index = {video_id: i for i, video_id in enumerate(unique_ids)}
    clip_of_row = np.fromiter(map(clip_index.__getitem__, video_ids), np.int64, len(video_ids))
    label_of_row = np.array(labels, dtype=np.int64)
    pair_keys = np.sort(clip_of_row * max(len(class_names), 1) + label_of_row)
    if np.any(pair_keys[1:] == pair_keys[:-1]):
        return None  # a duplicate (clip, label) row
    # Clips are numbered in order of first appearance: a clip's first row raises the maximum.
    first_row = np.flatnonzero(np.diff(np.maximum.accumulate(clip_of_row), prepend=-1))
    meta = []
    for flags in flag_columns:
        values = np.array(flags) == "True"
        if not np.array_equal(values, values[first_row][clip_of_row]):
            return None  # meta flags that disagree within a clip
        meta.append(values[first_row])
    order = np.argsort(clip_of_row, kind="stable")
    return ClipTable(
        unique_ids,
        clip_of_row[order],
        label_of_row[order],
        np.array(modalities, dtype=np.int64)[order],
        dict(zip(META_LABELS, meta, strict=True)),
    )


@dataclass(slots=True)
class _ClipRows:
    """What the row-by-row reader knows of one clip so far."""

    first_line: int
    meta: tuple[bool, ...]
    label_lines: dict[int, int] = field(default_factory=dict)  # class index -> line, file order
    modalities: list[int] = field(default_factory=list)


def _read_annotations_by_row(path: Path, class_names: Sequence[str]) -> list[Clip]:
    """Row-by-row reader that stops at the first problem with its line number."""
    class_index = {name: i for i, name in enumerate(class_names)}
    rows = _csv_rows(path)
    line, position, width = _header(path, rows, ANNOTATION_COLUMNS)
    pick = operator.itemgetter(*(position[name] for name in ANNOTATION_COLUMNS))
    clips: dict[str, _ClipRows] = {}
    for line, row in rows:
        if not row:
            continue
        if len(row) != width:  # too few fields as much as too many: a shifted row
            raise AnnotationError(
                path, line, f"expected {width} fields, got {len(row)}: {','.join(row)!r}"
            )
        video_id, label, modality, *flags = pick(row)
        meta = _META.get(tuple(flags))
        if meta is None:
            raise AnnotationError(path, line, _bad_flag(flags))
        clip = _clip_rows(clips, video_id, meta, path, line)
        label_id = class_index.get(label)
        if label_id is None:
            raise AnnotationError(
                path, line, f"class name {label!r} is not in classes.csv (clip {video_id!r})"
            )
        modality_id = _MODALITY_INDEX.get(modality)
        if modality_id is None:
            raise AnnotationError(
                path,
                line,
                f"unknown modality code {modality!r} (expected one of {', '.join(MODALITY_NAMES)})",
            )
        if label_id in clip.label_lines:
            raise AnnotationError(
                path,
                line,
                f"duplicate label {label!r} for clip {video_id!r} "
                f"(first at line {clip.label_lines[label_id]})",
            )
        clip.label_lines[label_id] = line
        clip.modalities.append(modality_id)
    if not clips:
        raise AnnotationError(path, line, "no annotation rows after the header")
    return [
        Clip.from_video_id(video_id, list(clip.label_lines), clip.modalities, clip.meta)
        for video_id, clip in clips.items()
    ]


def _clip_rows(
    clips: dict[str, _ClipRows], video_id: str, meta: tuple[bool, ...], path: Path, line: int
) -> _ClipRows:
    """The clip of a row, new (its ``video_id`` checked) or seen before (its flags compared)."""
    clip = clips.get(video_id)
    if clip is None:
        if _VIDEO_ID.fullmatch(video_id) is None:
            raise AnnotationError(
                path,
                line,
                f"malformed video_id {video_id!r} "
                "(expected <youtube id>_<6-digit start second>, e.g. abcdefghijk_000030)",
            )
        clip = clips[video_id] = _ClipRows(line, meta)
    elif clip.meta != meta:
        raise AnnotationError(
            path,
            line,
            f"meta flags of clip {video_id!r} disagree: {_describe(meta)} here but "
            f"{_describe(clip.meta)} at line {clip.first_line}",
        )
    return clip


def _bad_flag(flags: Sequence[str]) -> str:
    for name, value in zip(META_LABELS, flags, strict=True):
        if value not in _FLAGS:
            return f"{name} must be True or False, got {value!r}"
    raise AssertionError("unreachable: all flags are valid")  # pragma: no cover


def _describe(meta: tuple[bool, ...]) -> str:
    return ", ".join(f"{name}={flag}" for name, flag in zip(META_LABELS, meta, strict=True))
