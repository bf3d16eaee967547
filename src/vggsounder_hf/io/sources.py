"""Where the VGGSounder labels come from: the authors' release, pinned by sha256.

Sources, in priority order:

1. ``data_path`` given by the user: a directory holding the release's file names (for example
   a checkout of the authors' ``vggsounder/data`` folder) or a single annotation CSV (then
   ``classes.csv`` next to it, else the pinned one). User files are **not** checked against the
   pinned sha256: they may be deliberately custom. Their sha256 is still computed and recorded
   (it keys the ``datasets`` cache).
2. The CSVs inside the installed authors' wheel ``vggsounder==1.0``, located through
   :mod:`vggsounder_hf.io.authors_wheel` (the authors' package is never imported).
3. A download through a ``datasets`` ``DownloadManager`` from the authors' GitHub repository at
   a pinned commit.

Files from sources 2 and 3 must match the pinned sha256, else :class:`ChecksumError`.

VGGSound's own labels (``"vggsound"``, :mod:`vggsounder_hf.io.vggsound`): a user file or folder
(``data_path``, any of the three formats), else VGGSound's public ``vggsound.csv``, downloaded and
checked by the sha256 of its parsed test split; ``classes.csv`` as for the releases.

Example:
    >>> from vggsounder_hf.core.schema import NUM_CLASSES
    >>> from vggsounder_hf.io.sources import load_release
    >>> release = load_release()  # the default release
    >>> release.files.source, len(release.clips)
    ('wheel', 15069)
    >>> len(release.class_names) == NUM_CLASSES
    True
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vggsounder_hf.core import schema
from vggsounder_hf.core._gc import paused_garbage_collection
from vggsounder_hf.core.schema import CLASSES_FILE, DEFAULT_LABEL_RELEASE, LABEL_RELEASES
from vggsounder_hf.io import release_cache, vggsound
from vggsounder_hf.io.annotations import read_class_names, read_clip_table
from vggsounder_hf.io.authors_wheel import AUTHORS_DISTRIBUTION, wheel_file
from vggsounder_hf.io.clips import Clip

__all__ = [
    "AUTHORS_DISTRIBUTION",
    "AUTHORS_WHEEL_VERSION",
    "DEFAULT_LABEL_VERSION",
    "GITHUB_COMMIT",
    "GITHUB_REPOSITORY",
    "LABEL_VERSIONS",
    "RELEASES",
    "ChecksumError",
    "DownloadError",
    "PinnedFile",
    "Release",
    "ReleaseFiles",
    "ReleasePin",
    "VGGSoundDownloadError",
    "file_sha256",
    "load_release",
    "make_download_manager",
    "parse_release",
    "pinned_url",
    "resolve_release_files",
]

LABEL_VERSIONS = LABEL_RELEASES
"""The authors' label releases: :data:`vggsounder_hf.core.schema.LABEL_RELEASES`."""
DEFAULT_LABEL_VERSION = DEFAULT_LABEL_RELEASE
"""The release used when none is named: :data:`vggsounder_hf.core.schema.DEFAULT_LABEL_RELEASE`."""

AUTHORS_WHEEL_VERSION = "1.0"
"""The wheel whose data files the pins below were computed from (a package version, not a label
release)."""

GITHUB_REPOSITORY = "Bizilizi/VGGSounder"
GITHUB_COMMIT = "b54eb3abc2450d39e4bf9b37ad05f0aa1e0f44f2"
_URL_TEMPLATE = "https://raw.githubusercontent.com/{repo}/{commit}/vggsounder/data/{name}"

_CHUNK = 1 << 20


@dataclass(frozen=True)
class PinnedFile:
    """One file of the authors' release: its name and its sha256 (hex)."""

    name: str
    sha256: str


@dataclass(frozen=True)
class ReleasePin:
    """The pinned files of one label release.

    ``annotations`` is the ``+background-music`` file (all clips); ``without_background_music``
    is the authors' filtered file (clips with ``background_music == False``), kept for checks.
    """

    version: str
    annotations: PinnedFile
    without_background_music: PinnedFile
    classes: PinnedFile


_CLASSES = PinnedFile(
    CLASSES_FILE, "90a5cd19345019f50d0c3540629c1f4cde33266f00c57ce0cf67cd69835993c2"
)

_PINS: tuple[ReleasePin, ...] = (
    ReleasePin(
        version="1.0",
        annotations=PinnedFile(
            "vggsounder+background-music.csv",
            "6279875ac93df11d90b1a9d60da7dee89073ce233b0843759856bc72e00396ba",
        ),
        without_background_music=PinnedFile(
            "vggsounder.csv",
            "400979ea3dee34bed145d3fd96966e16689352df63b645c4730caf8eb2cacb06",
        ),
        classes=_CLASSES,
    ),
    ReleasePin(
        version="0.1.6",
        annotations=PinnedFile(
            "vggsounder+background-music_0.1.6.csv",
            "54514b9e1118ff7395969d26daec8a59da9715181422352ab2e46fd56e231669",
        ),
        without_background_music=PinnedFile(
            "vggsounder_0.1.6.csv",
            "3b059cf39a761cd4eab9a7e9fc2db9519b42ae92bafa4aa5ceaaafc942d323be",
        ),
        classes=_CLASSES,
    ),
)
RELEASES: dict[str, ReleasePin] = {pin.version: pin for pin in _PINS}
"""sha256 of every file, computed from the ``vggsounder==1.0`` wheel's ``vggsounder/data``."""
if tuple(RELEASES) != LABEL_RELEASES:  # the pins are facts about the schema's releases
    raise ImportError(
        f"pinned releases {tuple(RELEASES)} differ from the schema's {LABEL_RELEASES}"
    )


class ChecksumError(ValueError):
    """A release file whose sha256 differs from the pinned one (``advice``: what to do)."""

    def __init__(
        self, name: str, path: str | os.PathLike[str], expected: str, got: str, advice: str = ""
    ) -> None:
        self.name, self.path, self.expected, self.got = name, str(path), expected, got
        self.advice = advice or (
            f"Reinstall the authors' release (pip install {AUTHORS_DISTRIBUTION}=="
            f"{AUTHORS_WHEEL_VERSION}) or pass your own files as data_path."
        )
        super().__init__(
            f"checksum mismatch for {name} ({self.path}): expected sha256 {expected}, got {got}. "
            + self.advice
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.name, self.path, self.expected, self.got, self.advice))


class DownloadError(OSError):
    """The authors' wheel is absent and the pinned files could not be downloaded."""

    def __init__(self, urls: dict[str, str], cause: BaseException) -> None:
        self.urls = dict(urls)
        super().__init__(
            f"the authors' wheel {AUTHORS_DISTRIBUTION}=={AUTHORS_WHEEL_VERSION} is not installed "
            f"and downloading {', '.join(self.urls.values())} failed "
            f"({type(cause).__name__}: {cause}). Install it (pip install "
            f"{AUTHORS_DISTRIBUTION}=={AUTHORS_WHEEL_VERSION}) or pass data_path=<folder with "
            "the release CSVs>."
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.urls, OSError(str(self))))


class VGGSoundDownloadError(DownloadError):
    """VGGSound's public label file could not be downloaded."""

    def __init__(self, urls: dict[str, str], cause: BaseException) -> None:
        self.urls = dict(urls)
        OSError.__init__(
            self,
            f"downloading VGGSound's labels from {', '.join(self.urls.values())} failed "
            f"({type(cause).__name__}: {cause}). Pass a copy as data_path (vggsounder-score: "
            "--data-path with --labels vggsound, --vggsound-labels with --compare-vggsound): "
            f"{', '.join(vggsound.VGGSOUND_FILE_NAMES)}, in any of their formats.",
        )


@dataclass(frozen=True)
class ReleaseFiles:
    """The local files of one label release and where they came from.

    ``source`` is ``"user"``, ``"wheel"`` or ``"download"``; the sha256 fields hold the
    actual files' hashes (equal to the pins unless ``source == "user"`` or ``verify=False``).
    ``content_sha256``: for VGGSound's labels, the hash of the parsed test clips (pinned).
    """

    version: str
    annotations: Path
    classes: Path
    source: str
    annotations_sha256: str
    classes_sha256: str
    content_sha256: str | None = None


@dataclass(frozen=True)
class Release:
    """A parsed label release: class names and every clip of the ``+background-music`` file."""

    version: str
    class_names: tuple[str, ...]
    clips: Sequence[Clip]  # a ClipTable when parsed from files: columns, Clip objects on demand
    files: ReleaseFiles


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes.

    Example:
        >>> file_sha256("classes.csv")  # doctest: +SKIP
        '90a5cd19345019f50d0c3540629c1f4cde33266f00c57ce0cf67cd69835993c2'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def pinned_url(name: str) -> str:
    """URL of a release file in the authors' GitHub repository at the pinned commit.

    Example:
        >>> pinned_url("classes.csv")  # doctest: +ELLIPSIS
        'https://raw.githubusercontent.com/Bizilizi/VGGSounder/b54eb3.../vggsounder/data/classes.csv'
    """
    return _URL_TEMPLATE.format(repo=GITHUB_REPOSITORY, commit=GITHUB_COMMIT, name=name)


def make_download_manager(cache_dir: str | os.PathLike[str] | None = None) -> Any:
    """A ``datasets.DownloadManager`` that caches into ``cache_dir`` (default: HF's downloads).

    ``use_etag=False``: once a pinned file is cached, it is reused without network access.
    """
    import datasets  # heavy: only when a download is really needed

    config = datasets.DownloadConfig(
        cache_dir=None if cache_dir is None else str(cache_dir), use_etag=False
    )
    return datasets.DownloadManager(dataset_name="vggsounder", download_config=config)


def _check_version(version: str) -> ReleasePin:
    try:
        return RELEASES[version]
    except KeyError:
        raise ValueError(
            f"unknown VGGSounder label version {version!r}; choose one of "
            f"{', '.join(schema.LABEL_SOURCES)}"
        ) from None


def _verified(pin: PinnedFile, path: Path, verify: bool) -> str:
    digest = file_sha256(path)
    if verify and digest != pin.sha256:
        raise ChecksumError(pin.name, path, pin.sha256, digest)
    return digest


def _pinned_files(
    pins: list[PinnedFile],
    download_manager: Any,
    download_dir: str | os.PathLike[str] | None,
    verify: bool,
) -> tuple[str, list[tuple[Path, str]]]:
    """Locate pinned files in the wheel, else download them; return (source, [(path, sha)])."""
    in_wheel = [wheel_file(pin.name) for pin in pins]
    if all(path is not None for path in in_wheel):
        source, paths = "wheel", in_wheel
    else:
        manager = download_manager or make_download_manager(download_dir)
        urls = {pin.name: pinned_url(pin.name) for pin in pins}
        try:
            downloaded = manager.download(urls)
        except Exception as error:
            raise DownloadError(urls, error) from error
        source, paths = "download", [Path(downloaded[pin.name]) for pin in pins]
    return source, [(p, _verified(pin, p, verify)) for pin, p in zip(pins, paths, strict=True)]


def resolve_release_files(
    version: str = DEFAULT_LABEL_VERSION,
    data_path: str | os.PathLike[str] | None = None,
    download_manager: Any = None,
    verify: bool = True,
    download_dir: str | os.PathLike[str] | None = None,
) -> ReleaseFiles:
    """Find the annotation and class files of one label release.

    Args:
        version: label release, one of :data:`LABEL_VERSIONS`, or ``"vggsound"``
            (VGGSound's labels, see the module docstring).
        data_path: user override: a directory with the release's file names, or one
            annotation CSV (``classes.csv`` next to it, else the pinned one). Not verified.
        download_manager: object with a ``datasets``-style ``download({key: url})`` method,
            used only when the authors' wheel is absent; default :func:`make_download_manager`.
        verify: check wheel and downloaded files against the pinned sha256.
        download_dir: cache folder for the default download manager.

    Raises:
        ValueError: unknown version. FileNotFoundError: a user file is missing.
        ChecksumError: a wheel or downloaded file differs from its pin.
        DownloadError: the wheel is absent and the download failed.

    Example:
        >>> files = resolve_release_files("0.1.6")
        >>> files.source, files.annotations.name
        ('wheel', 'vggsounder+background-music_0.1.6.csv')
    """
    if version == schema.VGGSOUND_LABELS:
        return _vggsound_files(data_path, download_manager, verify, download_dir)
    pin = _check_version(version)
    if data_path is None:
        source, [(annotations, a_sha), (classes, c_sha)] = _pinned_files(
            [pin.annotations, pin.classes], download_manager, download_dir, verify
        )
        return ReleaseFiles(version, annotations, classes, source, a_sha, c_sha)

    user = Path(data_path).expanduser().resolve()
    if user.is_dir():
        annotations, classes = user / pin.annotations.name, user / pin.classes.name
        for path in (annotations, classes):
            if not path.is_file():
                raise FileNotFoundError(
                    f"data_path {str(user)!r} has no {path.name} (label version {version} needs "
                    f"{pin.annotations.name} and {pin.classes.name})"
                )
        return ReleaseFiles(
            version, annotations, classes, "user", file_sha256(annotations), file_sha256(classes)
        )
    if not user.is_file():
        raise FileNotFoundError(f"data_path {str(user)!r} does not exist")
    classes, c_sha = _classes_beside(user, download_manager, download_dir, verify)
    return ReleaseFiles(version, user, classes, "user", file_sha256(user), c_sha)


def _classes_beside(
    user_file: Path, download_manager: Any, download_dir: Any, verify: bool
) -> tuple[Path, str]:
    """``classes.csv`` next to a user's annotation file, else the pinned one."""
    beside = user_file.parent / _CLASSES.name
    if beside.is_file():
        return beside, file_sha256(beside)
    _, [(classes, c_sha)] = _pinned_files([_CLASSES], download_manager, download_dir, verify)
    return classes, c_sha


def _vggsound_files(
    data_path: str | os.PathLike[str] | None,
    download_manager: Any,
    verify: bool,
    download_dir: str | os.PathLike[str] | None,
) -> ReleaseFiles:
    """VGGSound's labels: the user's file or folder, else the public CSV checked by content."""
    if data_path is None:
        urls = {"vggsound.csv": vggsound.VGGSOUND_CSV_URL}
        manager = download_manager or make_download_manager(download_dir)
        try:
            labels, source = Path(manager.download(urls)["vggsound.csv"]), "download"
        except Exception as error:
            raise VGGSoundDownloadError(urls, error) from error
        _, [(classes, c_sha)] = _pinned_files([_CLASSES], download_manager, download_dir, verify)
    else:
        labels, source = vggsound.user_labels_file(data_path), "user"
        classes, c_sha = _classes_beside(labels, download_manager, download_dir, verify)
    names = read_class_names(classes)
    content = vggsound.content_sha256(vggsound.read_vggsound_labels(labels, names), names)
    if verify and source != "user" and content != vggsound.VGGSOUND_TEST_SHA256:
        advice = "(sha256 of the sorted video_id,label lines of the test clips.) Pass VGGSound's "
        advice += "test labels as data_path instead."
        raise ChecksumError(labels.name, labels, vggsound.VGGSOUND_TEST_SHA256, content, advice)
    files = (labels, classes, source, file_sha256(labels), c_sha, content)
    return ReleaseFiles(schema.VGGSOUND_LABELS, *files)


@functools.lru_cache(maxsize=8)
def parse_release(files: ReleaseFiles) -> Release:
    """Parse (and validate) the files of a release; cached per files and their hashes.

    Example:
        >>> release = parse_release(resolve_release_files())
        >>> release.clips[0].video_id
        '---g-f_I2yQ_000001'
    """
    class_names = read_class_names(files.classes)
    if files.version == schema.VGGSOUND_LABELS:
        with paused_garbage_collection():
            clips = vggsound.read_vggsound_labels(files.annotations, class_names)
        return Release(files.version, class_names, clips, files)
    hashes = (files.version, files.annotations_sha256, files.classes_sha256)
    table = release_cache.cached(hashes, lambda: read_clip_table(files.annotations, class_names))
    return Release(files.version, class_names, table, files)


def load_release(
    version: str = DEFAULT_LABEL_VERSION, data_path: str | os.PathLike[str] | None = None
) -> Release:
    """Resolve and parse one label release (all clips of its ``+background-music`` file).

    Cached per (version, resolved paths, file hashes): a second call costs two sha256 passes.

    Example:
        >>> release = load_release()
        >>> len(release.clips)
        15069
    """
    return parse_release(resolve_release_files(version, data_path))
