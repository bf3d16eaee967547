"""Load a VGGSounder label release in one call, with ``datasets.load_dataset``'s options.

:func:`load_vggsounder` does what ``datasets.load_dataset`` does for a builder (build, then
``download_and_prepare`` and ``as_dataset``, or ``as_streaming_dataset`` when streaming) and
passes ``load_dataset``'s keyword arguments to the step that takes them, as ``load_dataset``
does: ``streaming``, ``num_proc``, ``cache_dir``, ``keep_in_memory``, ``download_mode``,
``download_config``, ``verification_mode``, ``storage_options``, ``features`` and ``data_dir``.

With ``media=`` the rows also get the clips' ``audio`` and ``video``, joined by ``video_id``
from a local folder of VGGSound clips, a ``datasets`` dataset or a Hub id (``None`` where a
clip has no media; ``drop_missing_media=True`` drops those clips): see
:mod:`vggsounder_hf.hf.media`.

Example:
    >>> from vggsounder_hf import load_vggsounder
    >>> ds = load_vggsounder()  # the default label release
    >>> ds.num_rows, ds.features["modalities"].feature.names
    (15069, ['A', 'V', 'AV'])
    >>> no_music = ds.filter(lambda row: not row["background_music"])
    >>> no_music.num_rows  # the authors' default benchmark set
    12014
    >>> stream = load_vggsounder("1.0", streaming=True)  # an IterableDataset
    >>> next(iter(stream))["video_id"]
    '---g-f_I2yQ_000001'
    >>> clips = load_vggsounder("1.0", media="~/vggsound/clips")  # doctest: +SKIP
    >>> clips[0]["video"]  # doctest: +SKIP
    {'bytes': None, 'path': '/home/me/vggsound/clips/---g-f_I2yQ_000001.mp4'}
"""

from __future__ import annotations

import os
from typing import Any

import datasets

from vggsounder_hf.core.errors import OptionError
from vggsounder_hf.core.schema import DEFAULT_LABEL_RELEASE
from vggsounder_hf.hf.builder import VGGSounderBuilder
from vggsounder_hf.hf.media import MediaSource, join_media

__all__ = ["LOAD_KWARGS", "load_vggsounder"]

LOAD_KWARGS: dict[str, tuple[str, ...]] = {
    "features": ("builder",),
    "data_dir": ("builder",),
    "storage_options": ("builder", "prepare"),
    "download_config": ("prepare",),
    "download_mode": ("prepare",),
    "verification_mode": ("prepare",),
    "num_proc": ("prepare",),
    "keep_in_memory": ("dataset",),
}
"""``datasets.load_dataset`` keyword arguments accepted besides ``cache_dir``, ``split`` and
``streaming``, and the steps that take them: the builder, ``download_and_prepare``
(``prepare``) or ``as_dataset`` (``dataset``, where ``keep_in_memory`` is ``in_memory``)."""

_NOT_APPLICABLE = {
    "revision": "the labels are the authors' pinned files, not a Hub repository",
    "token": "nothing is read from the Hub",
    "data_files": "the data files are the release's (pass data_path= for your own)",
    "name": "the config is the version argument",
    "path": "there is no dataset path (datasets.load_dataset(<exported folder>) reads one)",
    "save_infos": "the builder's infos are not saved next to a loading script",
}


_MEDIA_KWARGS = ("media", "drop_missing_media", "media_split")


def _route(load_kwargs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Split keyword arguments by the step that takes them; refuse any other name."""
    steps: dict[str, dict[str, Any]] = {"builder": {}, "prepare": {}, "dataset": {}}
    for name, value in load_kwargs.items():
        if name in _NOT_APPLICABLE:
            raise TypeError(f"load_vggsounder() does not take {name}=: {_NOT_APPLICABLE[name]}")
        if name not in LOAD_KWARGS:
            accepted = ", ".join(
                ["cache_dir", "data_path", "split", "streaming", *_MEDIA_KWARGS, *LOAD_KWARGS]
            )
            raise TypeError(
                f"load_vggsounder() got an unexpected keyword argument {name!r}; it takes "
                f"{accepted}"
            )
        for step in LOAD_KWARGS[name]:
            steps[step][name] = value
    if "keep_in_memory" in steps["dataset"]:
        steps["dataset"]["in_memory"] = bool(steps["dataset"].pop("keep_in_memory"))
    return steps


def load_vggsounder(
    version: str = DEFAULT_LABEL_RELEASE,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    data_path: str | os.PathLike[str] | None = None,
    split: str | None = "test",
    streaming: bool = False,
    media: MediaSource | None = None,
    drop_missing_media: bool = False,
    media_split: str = "test",
    **load_kwargs: Any,
) -> (
    datasets.Dataset
    | datasets.DatasetDict
    | datasets.IterableDataset
    | datasets.IterableDatasetDict
):
    """Prepare (once, cached) and return one VGGSounder label release.

    Args:
        version: label release, one of :data:`~vggsounder_hf.core.schema.LABEL_RELEASES`
            (default :data:`~vggsounder_hf.core.schema.DEFAULT_LABEL_RELEASE`).
        cache_dir: ``datasets`` cache folder (default: the Hugging Face cache).
        data_path: directory or annotation CSV replacing the authors' files (not verified
            against the pinned checksums).
        split: ``"test"`` (the only split) gives a ``Dataset``; ``None`` a ``DatasetDict``.
        streaming: return an ``IterableDataset`` (``IterableDatasetDict`` for
            ``split=None``) that reads the annotation files as it iterates; nothing is
            prepared or cached.
        media: the clips' media, joined by ``video_id`` (see :mod:`vggsounder_hf.hf.media`):
            a folder of clips, a ``datasets`` dataset, a folder holding one, or a Hub id
            such as ``"11hu83/vggsound"``. Rows get ``audio`` and ``video`` columns (undecoded
            ``datasets.Audio``/``Video``; ``None`` where missing); the clips with and without
            media per clip set are logged and stored in ``info.description``
            (:func:`~vggsounder_hf.hf.media.media_report`).
        drop_missing_media: drop the clips with neither audio nor video (needs ``media``).
        media_split: the split of a media dataset that has several.
        **load_kwargs: further ``datasets.load_dataset`` arguments (:data:`LOAD_KWARGS`):
            ``num_proc``, ``keep_in_memory``, ``download_mode``, ``download_config``,
            ``verification_mode``, ``storage_options``, ``features``, ``data_dir``.

    Raises:
        ValueError: unknown version. FileNotFoundError: missing user file.
        TypeError: a keyword argument that ``load_vggsounder`` does not take (named).
        vggsounder_hf.io.media_files.MediaError: media that cannot be joined (named).
        vggsounder_hf.io.sources.ChecksumError: the authors' files differ from the pins.
        vggsounder_hf.io.annotations.AnnotationError: a malformed annotation file.

    Example:
        >>> load_vggsounder(revision="main")
        Traceback (most recent call last):
        TypeError: load_vggsounder() does not take revision=: the labels are the authors' pinned files, not a Hub repository
    """  # noqa: E501
    steps = _route(load_kwargs)
    if media is None and drop_missing_media:
        raise OptionError("load_vggsounder(drop_missing_media=True) needs media=")
    if data_path is not None:
        steps["builder"]["data_path"] = str(data_path)
    builder = VGGSounderBuilder(
        config_name=version,
        cache_dir=None if cache_dir is None else str(cache_dir),
        **steps["builder"],
    )
    if streaming:
        dataset = builder.as_streaming_dataset(split=split)
    else:
        builder.download_and_prepare(**steps["prepare"])
        dataset = builder.as_dataset(split=split, **steps["dataset"])
    if media is None:
        return dataset
    return join_media(
        dataset, media, drop_missing_media=drop_missing_media, media_split=media_split
    )
