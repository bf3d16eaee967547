"""Label statistics of a dataset config, and their rendering for the dataset card.

:func:`config_statistics` counts what the card of :mod:`vggsounder_hf.hf.hub_export` prints
about each exported config (clips, labels per clip, labels per modality, meta-label shares,
the most frequent classes); :func:`statistics_table` and :func:`top_classes_tables` render
those counts as Markdown tables, one column (or block) per config.

Example:
    >>> share(3, 4), share(1, 0)
    ('3 (75.0%)', '1')
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vggsounder_hf.core.schema import META_LABELS, MODALITY_NAMES

__all__ = [
    "TOP_CLASSES",
    "ConfigStatistics",
    "config_statistics",
    "count",
    "share",
    "statistics_table",
    "top_classes_tables",
]

TOP_CLASSES = 10
"""Most frequent classes listed per config."""
_MODALITY_MEANING = {"A": "audible only", "V": "visible only", "AV": "audible and visible"}


@dataclass(frozen=True)
class ConfigStatistics:
    """Label statistics of one config, as printed in the card.

    Attributes:
        version: the config (label release).
        clips: rows. ``clips_without_background_music``: the authors' default benchmark set.
        labels: (clip, class) pairs. ``labels_per_clip_*``: mean, median and maximum per clip.
        labels_per_modality: labels per modality name ``A``, ``V``, ``AV``.
        clips_per_meta_label: clips whose flag is True, per meta label.
        clips_without_meta_labels: clips with none of the three meta labels.
        top_classes: ``(class name, clips, {modality: labels})`` for the most frequent classes,
            most clips first (ties: class index order).
    """

    version: str
    clips: int
    clips_without_background_music: int
    labels: int
    labels_per_clip_mean: float
    labels_per_clip_median: float
    labels_per_clip_max: int
    labels_per_modality: dict[str, int]
    clips_per_meta_label: dict[str, int]
    clips_without_meta_labels: int
    top_classes: tuple[tuple[str, int, dict[str, int]], ...]


def config_statistics(dataset: Any, version: str, top: int = TOP_CLASSES) -> ConfigStatistics:
    """Statistics of a ``datasets.Dataset`` with this project's features.

    Example:
        >>> from vggsounder_hf import load_vggsounder
        >>> stats = config_statistics(load_vggsounder("1.0"), "1.0")
        >>> stats.clips, stats.clips_without_background_music
        (15069, 12014)
    """
    columns = ["labels", "modalities", *META_LABELS]
    table = dataset.select_columns(columns).with_format("arrow")[:]
    labels = table.column("labels").to_pylist()
    modalities = table.column("modalities").to_pylist()
    flags = list(zip(*(table.column(name).to_pylist() for name in META_LABELS), strict=True))
    class_names = dataset.features["labels"].feature.names
    modality_names = dataset.features["modalities"].feature.names

    clips = len(labels)
    counts = [len(row) for row in labels]
    per_modality = Counter(code for row in modalities for code in row)
    per_class = Counter(label for row in labels for label in row)
    per_class_modality = Counter(
        (label, code)
        for row_labels, row_modalities in zip(labels, modalities, strict=True)
        for label, code in zip(row_labels, row_modalities, strict=True)
    )
    ranked = sorted(per_class, key=lambda label: (-per_class[label], label))[:top]
    return ConfigStatistics(
        version=version,
        clips=clips,
        clips_without_background_music=sum(not row[0] for row in flags),
        labels=sum(counts),
        labels_per_clip_mean=sum(counts) / clips if clips else 0.0,
        labels_per_clip_median=float(statistics.median(counts)) if clips else 0.0,
        labels_per_clip_max=max(counts, default=0),
        labels_per_modality={name: per_modality[i] for i, name in enumerate(modality_names)},
        clips_per_meta_label={
            name: sum(row[i] for row in flags) for i, name in enumerate(META_LABELS)
        },
        clips_without_meta_labels=sum(not any(row) for row in flags),
        top_classes=tuple(
            (
                class_names[label],
                per_class[label],
                {name: per_class_modality[label, i] for i, name in enumerate(modality_names)},
            )
            for label in ranked
        ),
    )


def count(value: int) -> str:
    """A count with thousands separators: ``15,069``."""
    return f"{value:,}"


def share(part: int, whole: int) -> str:
    """A count and its percentage of ``whole``: ``12,014 (79.7%)``."""
    return f"{count(part)} ({100 * part / whole:.1f}%)" if whole else count(part)


def statistics_table(stats: Sequence[ConfigStatistics]) -> str:
    """The card's statistics table: one row per statistic, one column per config."""
    rows: list[tuple[str, list[str]]] = [
        ("clips", [count(s.clips) for s in stats]),
        (
            "clips without background music (the default benchmark set)",
            [share(s.clips_without_background_music, s.clips) for s in stats],
        ),
        ("labels (clip, class pairs)", [count(s.labels) for s in stats]),
        ("labels per clip: mean", [f"{s.labels_per_clip_mean:.2f}" for s in stats]),
        (
            "labels per clip: median / max",
            [f"{s.labels_per_clip_median:g} / {s.labels_per_clip_max}" for s in stats],
        ),
    ]
    for name in MODALITY_NAMES:
        rows.append(
            (
                f"labels with modality `{name}` ({_MODALITY_MEANING[name]})",
                [share(s.labels_per_modality.get(name, 0), s.labels) for s in stats],
            )
        )
    for name in META_LABELS:
        rows.append(
            (
                f"clips with `{name}`",
                [share(s.clips_per_meta_label[name], s.clips) for s in stats],
            )
        )
    rows.append(
        (
            "clips with none of the three meta labels",
            [share(s.clips_without_meta_labels, s.clips) for s in stats],
        )
    )
    header = "| | " + " | ".join(f"`{s.version}`" for s in stats) + " |"
    rule = "|---|" + "---:|" * len(stats)
    body = ["| " + " | ".join([label, *cells]) + " |" for label, cells in rows]
    return "\n".join([header, rule, *body])


def top_classes_tables(stats: Sequence[ConfigStatistics]) -> str:
    """One table of the most frequent classes per config."""
    blocks = []
    for s in stats:
        lines = [
            f"Most frequent classes in `{s.version}` (clips with the class; its labels per "
            "modality):",
            "",
            "| # | class | clips | `A` | `V` | `AV` |",
            "|---:|---|---:|---:|---:|---:|",
        ]
        for rank, (name, clips, modalities) in enumerate(s.top_classes, start=1):
            cells = [str(rank), name, share(clips, s.clips)]
            cells += [count(modalities.get(m, 0)) for m in MODALITY_NAMES]
            lines.append("| " + " | ".join(cells) + " |")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
