"""Load a VGGSounder label release in one call.

Example:
    >>> from vggsounder_hf import load_vggsounder
    >>> ds = load_vggsounder()  # the default label release  # doctest: +SKIP
    >>> ds.num_rows, ds.features["modalities"].feature.names  # doctest: +SKIP
    (15069, ['A', 'V', 'AV'])
    >>> no_music = ds.filter(lambda row: not row["background_music"])  # doctest: +SKIP
    >>> no_music.num_rows  # the authors' default benchmark set  # doctest: +SKIP
    12014
"""

from __future__ import annotations

import os

import datasets

from vggsounder_hf.core.schema import DEFAULT_LABEL_RELEASE
from vggsounder_hf.hf.builder import VGGSounderBuilder

__all__ = ["load_vggsounder"]


def load_vggsounder(
    version: str = DEFAULT_LABEL_RELEASE,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    data_path: str | os.PathLike[str] | None = None,
    split: str | None = "test",
) -> datasets.Dataset | datasets.DatasetDict:
    """Prepare (once, cached) and return one VGGSounder label release.

    Args:
        version: label release, one of :data:`~vggsounder_hf.core.schema.LABEL_RELEASES`
            (default :data:`~vggsounder_hf.core.schema.DEFAULT_LABEL_RELEASE`).
        cache_dir: ``datasets`` cache folder (default: the Hugging Face cache).
        data_path: directory or annotation CSV replacing the authors' files (not verified
            against the pinned checksums).
        split: ``"test"`` (the only split) gives a ``Dataset``; ``None`` a ``DatasetDict``.

    Raises:
        ValueError: unknown version. FileNotFoundError: missing user file.
        vggsounder_hf.io.sources.ChecksumError: the authors' files differ from the pins.
        vggsounder_hf.io.annotations.AnnotationError: a malformed annotation file.
    """
    kwargs = {} if data_path is None else {"data_path": str(data_path)}
    builder = VGGSounderBuilder(
        config_name=version,
        cache_dir=None if cache_dir is None else str(cache_dir),
        **kwargs,
    )
    builder.download_and_prepare()
    return builder.as_dataset(split=split)
