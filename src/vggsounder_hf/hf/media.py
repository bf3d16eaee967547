"""VGGSound media joined to the VGGSounder labels by ``video_id``, and decoders for them.

:func:`join_media` (what ``load_vggsounder(version, media=...)`` calls) gives every row of a
labels dataset an ``audio`` and a ``video`` column, ``None`` where the clip has no such media.
The media come from

* a local folder of clips (``<video_id>.mp4``, ``<youtube_id>_<start>.mp4`` with any
  zero-padding, ``.wav``/``.flac`` audio, in sub-folders or not; see
  :mod:`vggsounder_hf.io.media_files`), or
* a ``datasets`` dataset with a ``video_id`` column and ``audio`` and/or ``video`` columns:
  a ``Dataset`` object, a folder written by ``save_to_disk`` or readable by
  ``datasets.load_dataset``, or a Hub id such as the authors' ``11hu83/vggsound``.

The columns are ``datasets.Audio(decode=False)`` and ``datasets.Video(decode=False)``:
``{"path": ..., "bytes": ...}`` per clip. ``datasets`` decodes these features with
``torchcodec``, which needs FFmpeg's shared libraries; they are not on every machine, so
nothing is decoded here: :func:`decode_audio` and :func:`decode_video` decode a row's value
with PyAV, whose wheels bring their own FFmpeg (``pip install "vggsounder-hf[media]"``).
Where ``torchcodec`` works, ``dataset.cast_column("audio", datasets.Audio())`` decodes with it.

Many VGGSound videos are gone from YouTube, so missing media are normal: such clips are kept
with ``None`` (or dropped with ``drop_missing_media=True``). The number of clips with and
without media per clip set (:class:`MediaReport`, :func:`media_report`) is logged, and
stored in ``dataset.info.description``. Score on the clips that have media with the clip
set ``with_media``, alone or combined (``{"background_music": False, "with_media": True}``),
on the ground truth of :func:`media_ground_truth`.

Media are joined a batch of rows at a time: a folder gives paths only; a media dataset is
read from its memory-mapped files, never whole. Without streaming, the joined rows are
written once into the labels' cache (with a media dataset's bytes: ``streaming=True`` joins
as the rows are iterated instead, and copies nothing). A media dataset must allow random
access: a streaming (iterable) one cannot be joined by id.

Example:
    >>> import datasets
    >>> labels = datasets.Dataset.from_dict({"video_id": ["x_000001", "y_000002"],
    ...     "background_music": [False, True], "static_image": [False, False],
    ...     "voice_over": [False, False]})
    >>> media = datasets.Dataset.from_dict({"video_id": ["x_1"], "video": ["/clips/x.mp4"]})
    >>> joined = join_media(labels, media)
    >>> joined[0]["video"], joined[1]["video"], joined[0]["audio"]
    ({'bytes': None, 'path': '/clips/x.mp4'}, None, None)
    >>> media_report(joined).clip_sets["full"]
    (1, 1)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pyarrow as pa

from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.schema import META_LABELS
from vggsounder_hf.io.media_decoding import MediaDependencyError, decode_audio, decode_video
from vggsounder_hf.io.media_files import (
    MEDIA_KINDS,
    REPORT_CLIP_SETS,
    MediaError,
    MediaIndex,
    MediaReport,
    match_clip_id,
    scan_media_folder,
)

__all__ = [
    "MEDIA_KINDS",
    "REPORT_CLIP_SETS",
    "MediaDependencyError",
    "MediaError",
    "MediaReport",
    "decode_audio",
    "decode_video",
    "join_media",
    "media_features",
    "media_ground_truth",
    "media_report",
    "media_video_ids",
]

logger = logging.getLogger(__name__)
_JOIN_SCHEMA = "vggsounder-hf/media/1"
_HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")
_DATASET_MARKERS = ("dataset_info.json", "state.json", "dataset_dict.json")

Labels = datasets.Dataset | datasets.IterableDataset
MediaSource = str | os.PathLike[str] | MediaIndex | datasets.Dataset | datasets.DatasetDict


def media_features() -> datasets.Features:
    """The two media columns, undecoded (see the module docstring for why)."""
    return datasets.Features(
        {"audio": datasets.Audio(decode=False), "video": datasets.Video(decode=False)}
    )


# --------------------------------------------------------------------------- sources


class _FolderMedia:
    """Media found in a local folder: paths only."""

    def __init__(self, index: MediaIndex) -> None:
        self.index = index
        self.source = index.source
        self.unmatched = len(index.unmatched)
        self.found = {kind: set(index.of(kind)) for kind in MEDIA_KINDS}
        items = sorted((kind, *item) for kind in MEDIA_KINDS for item in index.of(kind).items())
        self.fingerprint = hashlib.sha256(json.dumps(items).encode()).hexdigest()[:16]

    def columns(self, video_ids: list[str]) -> dict[str, pa.Array]:
        schema = media_features().arrow_schema
        return {
            kind: pa.array(
                [
                    None if path is None else {"bytes": None, "path": path}
                    for path in map(self.index.of(kind).get, video_ids)
                ],
                type=schema.field(kind).type,
            )
            for kind in MEDIA_KINDS
        }


class _TableMedia:
    """Media rows of a ``datasets.Dataset``, looked up by clip id one batch at a time."""

    def __init__(self, table: datasets.Dataset, source: str, known: frozenset[str]) -> None:
        if "video_id" not in table.column_names:
            raise MediaError(f"media dataset {source}: has no 'video_id' column")
        kinds = [kind for kind in MEDIA_KINDS if kind in table.column_names]
        if not kinds:
            raise MediaError(
                f"media dataset {source}: has neither an 'audio' nor a 'video' column "
                f"(columns: {', '.join(table.column_names)})"
            )
        table = table.select_columns(["video_id", *kinds])
        for kind in kinds:
            try:
                table = table.cast_column(kind, media_features()[kind])
            except (TypeError, ValueError, pa.ArrowException) as error:
                raise MediaError(
                    f"media dataset {source}: column {kind!r} ({table.features[kind]}) is not "
                    f"audio or video (paths, bytes or an Audio/Video feature): {error}"
                ) from None
        self.table, self.source, self.kinds = table.with_format("arrow"), source, kinds
        self.rows: dict[str, int] = {}
        self.unmatched = 0
        for row, name in enumerate(self.table["video_id"].to_pylist()):
            video_id = match_clip_id(str(name), known) if name is not None else None
            if video_id is None:
                self.unmatched += 1
            elif self.rows.setdefault(video_id, row) != row:
                raise MediaError(
                    f"media dataset {source}: clip {video_id!r} is in rows "
                    f"{self.rows[video_id]} and {row}; keep one"
                )
        valid = _validity(table, kinds)
        self.found = {
            kind: {video_id for video_id, row in self.rows.items() if valid[kind][row]}
            if kind in kinds
            else set()
            for kind in MEDIA_KINDS
        }
        self.fingerprint = f"{table._fingerprint}-{len(self.rows)}"

    def columns(self, video_ids: list[str]) -> dict[str, pa.Array]:
        rows = [self.rows.get(video_id) for video_id in video_ids]
        wanted = [row for row in rows if row is not None]
        taken = self.table[wanted] if wanted else None
        position = iter(range(len(wanted)))
        places = pa.array([None if row is None else next(position) for row in rows], pa.int64())
        arrays = {}
        for kind in MEDIA_KINDS:
            kind_type = media_features().arrow_schema.field(kind).type
            if taken is None or kind not in self.kinds:
                arrays[kind] = pa.nulls(len(video_ids), kind_type)
            else:
                arrays[kind] = taken.column(kind).combine_chunks().take(places)
        return arrays


def _load_media_dataset(source: Any, split: str) -> datasets.Dataset:
    if isinstance(source, datasets.DatasetDict):
        if split not in source:
            raise MediaError(f"media dataset has no split {split!r} (it has {', '.join(source)})")
        source = source[split]
    if isinstance(source, datasets.IterableDataset | datasets.IterableDatasetDict):
        raise MediaError(
            "a streaming media dataset cannot be joined by video_id (that needs random "
            "access): load it with streaming=False (it stays memory-mapped on disk) or pass "
            "a local folder of clips"
        )
    if not isinstance(source, datasets.Dataset):
        raise MediaError(f"media source of type {type(source).__name__} is not a dataset")
    return source


def _loaded(load: Any, source: str, split: str, known: frozenset[str]) -> _TableMedia:
    """A media dataset loaded by ``load(source)``, any failure named after ``source``."""
    try:
        loaded = load(source)
    except (OSError, ValueError) as error:  # datasets raises both (not found, no data files)
        raise MediaError(
            f"media source {source}: cannot be loaded as a dataset ({error})"
        ) from error
    return _TableMedia(_load_media_dataset(loaded, split), source, known)


def _open_media(source: MediaSource, known: frozenset[str], split: str) -> Any:
    """The media of a source (see the module docstring), matched to the ``known`` clips."""
    if isinstance(source, MediaIndex):
        return _FolderMedia(source)
    if not isinstance(source, str | os.PathLike):
        return _TableMedia(_load_media_dataset(source, split), "<dataset>", known)
    path = Path(source).expanduser()
    if path.is_dir():
        if any((path / marker).exists() for marker in _DATASET_MARKERS):
            return _loaded(datasets.load_from_disk, str(path), split, known)
        index = scan_media_folder(path, known)
        if index.audio or index.video or index.unmatched:
            return _FolderMedia(index)
        return _loaded(
            lambda name: datasets.load_dataset(name, split=split), str(path), split, known
        )
    if path.exists() or not _HUB_ID.fullmatch(str(source)):
        raise MediaError(
            f"media source {source!s}: not a folder of clips or of a dataset, and not a Hub "
            "dataset id (user/name)"
        )
    return _loaded(lambda name: datasets.load_dataset(name, split=split), str(source), split, known)


# --------------------------------------------------------------------------- the report


def media_report(dataset: Labels) -> MediaReport:
    """The media report of a dataset with ``audio`` and ``video`` columns.

    A ``Dataset`` is counted as it is now (after any filter); an ``IterableDataset`` has the
    report made when its media were joined (from its ``info.description``).

    Raises:
        MediaError: The dataset has no media columns (or, streaming, no stored report).
    """
    stored = MediaReport.from_description(dataset.info.description)
    if isinstance(dataset, datasets.IterableDataset):
        if stored is None:
            raise MediaError("the streaming dataset has no media report: join media first")
        return stored
    flags = _column_flags(dataset, META_LABELS)
    return MediaReport.count(
        "<dataset>" if stored is None else stored.source,
        {name: flags[name] for name in META_LABELS},
        {kind: flags[kind] for kind in MEDIA_KINDS},
        0 if stored is None else stored.unmatched,
    )


def _validity(dataset: datasets.Dataset, kinds: Sequence[str]) -> dict[str, np.ndarray]:
    """Per clip, whether each of the media columns ``kinds`` has a value (read in batches:
    the media bytes of every clip are never in memory at once)."""
    parts: dict[str, list[np.ndarray]] = {kind: [] for kind in kinds}
    for batch in dataset.select_columns(list(kinds)).with_format("arrow").iter(batch_size=4096):
        for kind in kinds:
            parts[kind].append(batch.column(kind).is_valid().to_numpy(zero_copy_only=False))
    return {kind: np.concatenate(got) if got else np.zeros(0, bool) for kind, got in parts.items()}


def _column_flags(dataset: Labels, names: Sequence[str]) -> dict[str, np.ndarray]:
    """The boolean columns ``names`` and, per media kind, whether a clip has it."""
    _check_media_columns(dataset)
    chosen = dataset.select_columns(list(names)).with_format("arrow")[:] if names else None
    flags = {name: chosen.column(name).to_numpy(zero_copy_only=False) for name in names}
    return {**flags, **_validity(dataset, MEDIA_KINDS)}


def _check_media_columns(dataset: Labels) -> None:
    missing = [name for name in ("video_id", *MEDIA_KINDS) if name not in dataset.column_names]
    if missing:
        raise MediaError(
            f"the dataset has no {', '.join(map(repr, missing))} column: load it with media="
        )


# --------------------------------------------------------------------------- the join


def _label_flags(labels: Labels) -> tuple[list[str], dict[str, np.ndarray]]:
    """Every clip id and meta flag of a labels dataset (streaming: read once, labels only)."""
    chosen = labels.select_columns(["video_id", *META_LABELS])
    if isinstance(chosen, datasets.Dataset):
        table = chosen.with_format("arrow")[:]
        meta = {name: table.column(name).to_numpy(zero_copy_only=False) for name in META_LABELS}
        return table.column("video_id").to_pylist(), meta
    rows = list(chosen)
    meta = {name: np.array([row[name] for row in rows], dtype=bool) for name in META_LABELS}
    return [row["video_id"] for row in rows], meta


def _joined_features(labels: Labels) -> datasets.Features:
    features = datasets.Features(dict(labels.features or {}))
    clash = [kind for kind in MEDIA_KINDS if kind in features]
    if clash:
        raise MediaError(f"the labels dataset already has media column(s) {', '.join(clash)}")
    features.update(media_features())
    return features


class _Among:
    """``video_ids -> [video_id in keep]``, picklable (a stream may go to DataLoader workers)."""

    def __init__(self, keep: set[str]) -> None:
        self.keep = keep

    def __call__(self, video_ids: list[str]) -> list[bool]:
        return [video_id in self.keep for video_id in video_ids]


def _join_batch(batch: pa.Table, media: Any) -> pa.Table:
    for kind, array in media.columns(batch.column("video_id").to_pylist()).items():
        batch = batch.append_column(kind, array)
    return batch


def _join_one(
    labels: Labels, media: MediaSource, drop_missing_media: bool, split: str, batch_size: int
) -> Labels:
    if not {"video_id", *META_LABELS} <= set(labels.column_names or ()):
        raise MediaError("the labels dataset needs the columns video_id, " + ", ".join(META_LABELS))
    features = _joined_features(labels)
    video_ids, meta = _label_flags(labels)
    opened = _open_media(media, frozenset(video_ids), split)
    has = {
        kind: np.fromiter((video_id in opened.found[kind] for video_id in video_ids), bool)
        for kind in MEDIA_KINDS
    }
    report = MediaReport.count(opened.source, meta, has, opened.unmatched)
    options: dict[str, Any] = {"fn_kwargs": {"media": opened}, "batched": True}
    options.update(batch_size=batch_size, features=features)
    if isinstance(labels, datasets.Dataset):
        if drop_missing_media:
            labels = labels.select(np.flatnonzero(has["audio"] | has["video"]))
        parts = [_JOIN_SCHEMA, labels._fingerprint, opened.fingerprint, str(drop_missing_media)]
        fingerprint = hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
        options.update(new_fingerprint=fingerprint, desc="Joining media")
    elif drop_missing_media:
        keep = opened.found["audio"] | opened.found["video"]
        labels = labels.filter(_Among(keep), input_columns="video_id", batched=True)
    joined = labels.with_format("arrow").map(_join_batch, **options).with_format(None)
    joined.info.description = report.describe(joined.info.description)
    logger.info("%s", report.format())
    return joined


def join_media(
    labels: Labels | datasets.DatasetDict | datasets.IterableDatasetDict,
    media: MediaSource,
    *,
    drop_missing_media: bool = False,
    media_split: str = "test",
    batch_size: int = 256,
) -> Any:
    """The labels with ``audio`` and ``video`` columns (see the module docstring).

    Args:
        labels: A VGGSounder dataset (``Dataset``, ``IterableDataset`` or a dict of them).
        media: A folder of clips, a :class:`~vggsounder_hf.io.media_files.MediaIndex`, a
            ``datasets`` dataset, a folder of one, or a Hub dataset id.
        drop_missing_media: Drop the clips with neither audio nor video.
        media_split: The split of a media dataset with several (``"test"``).
        batch_size: Rows joined at a time.

    Raises:
        MediaError: A source that is not media, a clip with two media files or rows, or a
            labels dataset without the VGGSounder columns.
    """
    if isinstance(labels, datasets.DatasetDict | datasets.IterableDatasetDict):
        return type(labels)(
            {
                name: _join_one(split, media, drop_missing_media, media_split, batch_size)
                for name, split in labels.items()
            }
        )
    return _join_one(labels, media, drop_missing_media, media_split, batch_size)


def _check_dataset(dataset: Any, what: str) -> None:
    if not isinstance(dataset, datasets.Dataset):
        raise MediaError(
            f"{what} needs a datasets.Dataset (load with streaming=False), got "
            f"{type(dataset).__name__}"
        )


def media_video_ids(dataset: datasets.Dataset) -> list[str]:
    """The clips of a dataset joined with media that have audio or video."""
    _check_dataset(dataset, "media_video_ids()")
    flags = _column_flags(dataset, ())
    has = flags["audio"] | flags["video"]
    ids = dataset.select_columns(["video_id"]).with_format("arrow")[:].column("video_id")
    return [video_id for video_id, present in zip(ids.to_pylist(), has, strict=True) if present]


def media_ground_truth(dataset: datasets.Dataset) -> GroundTruth:
    """The ground truth of a dataset loaded with ``media=``, knowing which clips have media
    (for the ``with_media`` clip set).

    Example:
        >>> import datasets
        >>> from vggsounder_hf.hf.builder import make_features
        >>> labels = datasets.Dataset.from_dict({"video_id": ["x_000001", "y_000002"],
        ...     "youtube_id": ["x", "y"], "start_seconds": [1, 2],
        ...     "labels": [[0], [1]], "modalities": [[2], [0]],
        ...     "background_music": [False, False], "static_image": [False, False],
        ...     "voice_over": [False, False]}, features=make_features(["dog", "cat"]))
        >>> truth = media_ground_truth(join_media(labels, datasets.Dataset.from_dict(
        ...     {"video_id": ["y_000002"], "audio": ["/clips/y.wav"]})))
        >>> truth.mask("with_media").tolist(), truth.mask({"with_media": False}).tolist()
        ([False, True], [True, False])
    """
    _check_dataset(dataset, "media_ground_truth()")
    _check_media_columns(dataset)
    names = ["video_id", "labels", "modalities", *META_LABELS]
    class_names = dataset.features["labels"].feature.names
    rows = dataset.select_columns(names)
    return GroundTruth.from_rows(rows, class_names).with_media_flags(media_video_ids(dataset))
