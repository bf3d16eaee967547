"""Find the media of VGGSound clips in a local folder, by clip id.

A copy of VGGSound is a folder of files named after the clips, in sub-folders or not:
``<video_id>.mp4`` (``<youtube id>_<start second, 6 digits>``), or variants with another
zero-padding of the start second (``-abc_30.mp4`` for ``-abc_000030``), or with the end second
too (``-abc_30_40.mp4``, ``-abc_000030_000040.wav``). :func:`scan_media_folder` indexes them:

* video files (:data:`VIDEO_EXTENSIONS`) are a clip's ``video``;
* audio files (:data:`AUDIO_EXTENSIONS`) are its ``audio``; a clip without an audio file
  takes its video file as ``audio`` (the audio track of the video), unless
  ``audio_from_video=False``;
* files whose names are no clip of ``video_ids`` are listed as unmatched, not an error (a
  folder may hold other clips); two files for the same clip and kind are an error.

Only names are read; nothing is decoded (see :mod:`vggsounder_hf.hf.media` for decoding).

Example:
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("-abc_30.mp4", "sub/-abc_000030.wav", "notes.txt", "zzz_1.flac"):
    ...     (folder / name).parent.mkdir(exist_ok=True)
    ...     _ = (folder / name).write_bytes(b"")
    >>> index = scan_media_folder(folder, video_ids=["-abc_000030", "x_000001"])
    >>> sorted(index.video), index.audio["-abc_000030"].endswith("sub/-abc_000030.wav")
    (['-abc_000030'], True)
    >>> [pathlib.Path(path).name for path in index.unmatched]
    ['zzz_1.flac']
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from vggsounder_hf.core.clip_sets import CLIP_SETS, WITH_MEDIA, clip_set_mask
from vggsounder_hf.core.errors import VGGSounderInputError

__all__ = [
    "AUDIO_EXTENSIONS",
    "MEDIA_KINDS",
    "REPORT_CLIP_SETS",
    "VIDEO_EXTENSIONS",
    "MediaError",
    "MediaIndex",
    "MediaReport",
    "clip_id_candidates",
    "match_clip_id",
    "scan_media_folder",
]

VIDEO_EXTENSIONS: tuple[str, ...] = (".mp4", ".mkv", ".webm", ".avi", ".mov")
AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".mp3", ".ogg", ".m4a", ".opus")
MEDIA_KINDS: tuple[str, ...] = ("audio", "video")
"""The media columns a clip can have, in column order."""
_START_DIGITS = 6
REPORT_CLIP_SETS: tuple[str, ...] = tuple(name for name in CLIP_SETS if name != WITH_MEDIA)
"""The clip sets a :class:`MediaReport` counts."""
_REPORT_TAG = "vggsounder-media-report: "


class MediaError(VGGSounderInputError):
    """Media that cannot be joined to the labels; the message names the source and problem."""


@dataclass(frozen=True)
class MediaIndex:
    """Where the media of each clip are.

    Attributes:
        source: The folder (for messages and the media report).
        audio: ``{video_id: absolute path}`` of the clips' audio.
        video: ``{video_id: absolute path}`` of the clips' video.
        unmatched: Media files whose names are no known clip (absolute paths, sorted).
    """

    source: str
    audio: Mapping[str, str]
    video: Mapping[str, str]
    unmatched: tuple[str, ...] = ()

    def of(self, kind: str) -> Mapping[str, str]:
        """The paths of one kind, ``"audio"`` or ``"video"``."""
        return self.audio if kind == "audio" else self.video

    @property
    def video_ids(self) -> set[str]:
        """The clips with any media."""
        return set(self.audio) | set(self.video)


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _stem(name: str) -> str:
    """``name`` without a media extension."""
    lowered = name.lower()
    extension = next((e for e in VIDEO_EXTENSIONS + AUDIO_EXTENSIONS if lowered.endswith(e)), "")
    return name[: len(name) - len(extension)]


def _padded(head: str, start: str) -> str:
    return f"{head}_{int(start):0{_START_DIGITS}d}"


def clip_id_candidates(name: str) -> list[str]:
    """The clip ids a file stem (or a media dataset's ``video_id``) may stand for, most
    literal first: the name itself (without a media extension), then ``<id>_<start>`` with
    the start second padded to six digits, then ``<id>_<start>_<end>`` read as the clip
    starting at ``start``.

    Example:
        >>> clip_id_candidates("a_b_30_40")
        ['a_b_30_40', 'a_b_30_000040', 'a_b_000030']
        >>> clip_id_candidates("x_000001.mp4")
        ['x_000001.mp4', 'x_000001']
    """
    stem = _stem(name)
    candidates = [name, stem]
    head, _, last = stem.rpartition("_")
    if head and _is_number(last):
        candidates.append(_padded(head, last))
        first, _, middle = head.rpartition("_")
        if first and _is_number(middle):
            candidates.append(_padded(first, middle))
    return list(dict.fromkeys(candidates))


def match_clip_id(name: str, video_ids: set[str] | frozenset[str] | None) -> str | None:
    """The clip a name stands for: the first of :func:`clip_id_candidates` in ``video_ids``
    (without ``video_ids``: the name read as ``<id>_<start>``, the start second padded to six
    digits; ``None`` for a name of another form).

    Example:
        >>> match_clip_id("abc_30", {"abc_000030"}), match_clip_id("abc_30.mp4", None)
        ('abc_000030', 'abc_000030')
        >>> match_clip_id("notes", None) is None
        True
    """
    if video_ids is None:
        head, _, start = _stem(name).rpartition("_")
        return _padded(head, start) if head and _is_number(start) else None
    return next((c for c in clip_id_candidates(name) if c in video_ids), None)


def _media_files(folder: Path) -> Iterable[tuple[str, Path]]:
    """``(kind, path)`` of every media file under ``folder`` (following no symlinked folder
    twice), in a stable order."""
    seen: set[str] = set()
    for root, folders, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:  # a symlink back up the tree
            folders.clear()
            continue
        seen.add(real)
        folders.sort()
        for name in sorted(files):
            suffix = os.path.splitext(name)[1].lower()
            if suffix in VIDEO_EXTENSIONS:
                yield "video", Path(root, name)
            elif suffix in AUDIO_EXTENSIONS:
                yield "audio", Path(root, name)


def scan_media_folder(
    folder: str | os.PathLike[str],
    video_ids: Iterable[str] | None = None,
    *,
    audio_from_video: bool = True,
) -> MediaIndex:
    """Index the media files of a folder (and its sub-folders) by clip id.

    Args:
        folder: The folder.
        video_ids: The clips to look for (names are matched to them as in
            :func:`match_clip_id`); ``None``: every name of the form ``<id>_<start>``.
        audio_from_video: A clip without an audio file takes its video file as audio.

    Raises:
        MediaError: The folder does not exist or is not a folder, or two files are the same
            kind of media of one clip.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        problem = "is not a folder" if root.exists() else "does not exist"
        raise MediaError(f"media folder {root} {problem}")
    known = None if video_ids is None else frozenset(video_ids)
    found: dict[str, dict[str, str]] = {kind: {} for kind in MEDIA_KINDS}
    unmatched: list[str] = []
    for kind, path in _media_files(root):
        video_id = match_clip_id(path.stem, known)
        if video_id is None:
            unmatched.append(str(path.absolute()))
            continue
        earlier = found[kind].get(video_id)
        if earlier is not None:
            raise MediaError(
                f"media folder {root}: clip {video_id!r} has two {kind} files, {earlier} and "
                f"{path.absolute()}; keep one"
            )
        found[kind][video_id] = str(path.absolute())
    if audio_from_video:
        found["audio"] = {**found["video"], **found["audio"]}
    return MediaIndex(str(root), found["audio"], found["video"], tuple(sorted(unmatched)))


@dataclass(frozen=True)
class MediaReport:
    """How many clips have media, per clip set.

    Attributes:
        source: Where the media came from.
        clip_sets: ``{clip set: (clips with media, clips without)}`` for
            :data:`REPORT_CLIP_SETS`.
        with_audio, with_video: Clips with audio, with video.
        unmatched: Media files or rows whose clip is not in the labels.

    Example:
        >>> meta = {"background_music": np.array([False, True]),
        ...         "static_image": np.zeros(2, bool), "voice_over": np.zeros(2, bool)}
        >>> has = {"audio": np.array([True, False]), "video": np.array([False, False])}
        >>> report = MediaReport.count("clips/", meta, has)
        >>> report.clip_sets["full"], report.clip_sets["default"], report.with_audio
        ((1, 1), (1, 0), 1)
        >>> described = report.describe(report.describe("VGGSounder labels."))
        >>> described.count("Media from"), MediaReport.from_description(described) == report
        (1, True)
        >>> [line[:28] for line in described.splitlines()[:4]]
        ['VGGSounder labels.', '', 'Media from clips/: 1 of 2 cl', 'clip set             with me']
    """

    source: str
    clip_sets: dict[str, tuple[int, int]]
    with_audio: int
    with_video: int
    unmatched: int = 0

    @classmethod
    def count(
        cls,
        source: str,
        meta: Mapping[str, np.ndarray],
        has: Mapping[str, np.ndarray],
        unmatched: int = 0,
    ) -> MediaReport:
        """Count from per-clip meta flags and ``{"audio": flags, "video": flags}``."""
        any_media = has["audio"] | has["video"]
        counts = {}
        for name in REPORT_CLIP_SETS:
            mask = clip_set_mask(name, meta, len(any_media))
            counts[name] = (int((mask & any_media).sum()), int((mask & ~any_media).sum()))
        audio, video = int(has["audio"].sum()), int(has["video"].sum())
        return cls(source, counts, audio, video, unmatched)

    def format(self) -> str:
        """The report as a short text table."""
        with_media, without = self.clip_sets["full"]
        lines = [
            f"Media from {self.source}: {with_media} of {with_media + without} clips have media "
            f"({self.with_audio} with audio, {self.with_video} with video); "
            f"{self.unmatched} media file(s) or row(s) match no clip.",
            f"{'clip set':<20} {'with media':>10} {'without':>8}",
        ]
        lines += [f"{name:<20} {n:>10} {lack:>8}" for name, (n, lack) in self.clip_sets.items()]
        return "\n".join(lines)

    def describe(self, description: str | None) -> str:
        """``description`` with this report appended (the text, then one JSON line that
        :meth:`from_description` reads back); an earlier report is replaced."""
        lines = (description or "").splitlines()
        if any(line.startswith(_REPORT_TAG) for line in lines):  # cut the earlier report
            end = max(i for i, line in enumerate(lines) if line.startswith(_REPORT_TAG))
            start = max(i for i, line in enumerate(lines[:end]) if line.startswith("Media from "))
            lines = lines[:start] + lines[end + 1 :]
        while lines and not lines[-1].strip():
            lines.pop()
        text = "\n".join([*lines, "", self.format(), _REPORT_TAG + json.dumps(asdict(self))])
        return text.strip("\n") + "\n"

    @classmethod
    def from_description(cls, description: str | None) -> MediaReport | None:
        """The report :meth:`describe` stored in a description, or ``None``."""
        for line in (description or "").splitlines():
            if line.startswith(_REPORT_TAG):
                stored = json.loads(line[len(_REPORT_TAG) :])
                stored["clip_sets"] = {k: tuple(v) for k, v in stored["clip_sets"].items()}
                return cls(**stored)
        return None
