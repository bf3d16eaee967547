"""Summary statistics of a VGGSounder label release.

Works on a parsed :class:`~vggsounder_hf.io.sources.Release` or on the ``datasets`` dataset built
from it (any ``Dataset`` with this project's features, filtered or not).

Example:
    >>> from vggsounder_hf.io.sources import load_release
    >>> from vggsounder_hf.reports.stats import release_stats
    >>> stats = release_stats(load_release("1.0"))
    >>> stats.clips, stats.labels, stats.labels_per_modality["AV"]
    (15069, 37395, 21914)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from vggsounder_hf.core.schema import META_LABELS, MODALITY_NAMES
from vggsounder_hf.io.sources import Release

__all__ = ["ReleaseStats", "release_stats"]


@dataclass(frozen=True)
class ReleaseStats:
    """Counts over the clips of one release.

    Attributes:
        version: label release (``None`` if unknown).
        clips: number of clips (rows of the dataset).
        labels: number of (clip, label) pairs, i.e. rows of the authors' CSV.
        labels_per_modality: labels per modality code ``A``, ``V``, ``AV``.
        clips_per_meta_label: clips whose meta flag is True, per meta label.
        clips_without_meta_labels: clips with none of the three meta labels.
        mean_labels_per_clip: ``labels / clips`` (0.0 without clips).
    """

    version: str | None
    clips: int
    labels: int
    labels_per_modality: dict[str, int]
    clips_per_meta_label: dict[str, int]
    clips_without_meta_labels: int
    mean_labels_per_clip: float

    def as_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready dict."""
        return asdict(self)


def release_stats(source: Any, version: str | None = None) -> ReleaseStats:
    """Statistics of a :class:`Release` or of a ``datasets.Dataset`` of VGGSounder rows.

    ``version`` defaults to the release's own version (``None`` for a dataset).

    Example:
        >>> from vggsounder_hf import load_vggsounder
        >>> release_stats(load_vggsounder("0.1.6"), "0.1.6").clips
        15339
    """
    if isinstance(source, Release):
        modality_codes = [m for clip in source.clips for m in clip.modalities]
        modality_names = MODALITY_NAMES
        flags = [
            (clip.background_music, clip.static_image, clip.voice_over) for clip in source.clips
        ]
        version = source.version if version is None else version
    else:
        modality_codes, modality_names, flags = _dataset_columns(source)

    per_code = Counter(modality_codes)
    per_modality = {name: per_code.get(i, 0) for i, name in enumerate(modality_names)}
    clips = len(flags)
    labels = len(modality_codes)
    return ReleaseStats(
        version=version,
        clips=clips,
        labels=labels,
        labels_per_modality=per_modality,
        clips_per_meta_label={
            name: sum(row[i] for row in flags) for i, name in enumerate(META_LABELS)
        },
        clips_without_meta_labels=sum(not any(row) for row in flags),
        mean_labels_per_clip=labels / clips if clips else 0.0,
    )


def _dataset_columns(dataset: Any) -> tuple[list[int], tuple[str, ...], list[tuple[bool, ...]]]:
    """Modality codes (flattened), modality names and per-clip meta flags of a dataset."""
    missing = [c for c in ("modalities", *META_LABELS) if c not in dataset.column_names]
    if missing:
        raise ValueError(
            f"not a VGGSounder dataset: missing column(s) {', '.join(missing)} "
            f"(has {', '.join(dataset.column_names)})"
        )
    names = tuple(dataset.features["modalities"].feature.names)
    table = dataset.select_columns(["modalities", *META_LABELS]).with_format("arrow")[:]
    codes = table.column("modalities").combine_chunks().flatten().to_pylist()
    meta = zip(*(table.column(name).to_pylist() for name in META_LABELS), strict=True)
    return codes, names, list(meta)
