"""Export VGGSounder as a script-free Hub dataset folder: Parquet files and a card.

``datasets`` 5.x loads a Hub dataset from data files and the YAML front matter of its
``README.md``; no loading script runs. :func:`export_dataset` writes such a folder::

    <output_dir>/
        README.md                               card; YAML declares configs and dataset_info
        eval.yaml                               the Hub benchmark's leaderboard tasks
        1.0/test-00000-of-00001.parquet         config "1.0" (default), split "test"
        0.1.6/test-00000-of-00001.parquet       config "0.1.6"

The rows are exactly those of :class:`vggsounder_hf.hf.builder.VGGSounderBuilder` (same features,
same order). The YAML is written with ``datasets``' own serialisers (``DatasetInfosDict`` and
``MetadataConfigs``), so ``load_dataset(folder)`` reads back the ``ClassLabel`` names. The
Hub metadata (:data:`CARD_METADATA`: language, annotation creators, source dataset
``extended|vggsound``, tasks, license) goes through ``huggingface_hub.DatasetCardData``.
``eval.yaml`` (:func:`vggsounder_hf.hf.eval_results.benchmark_yaml`) makes the repository
a Hub benchmark whose leaderboard collects the models' ``.eval_results``.

The card is rendered from the one template ``vggsounder_hf/hf/templates/dataset_card.md.tmpl``
(a ``string.Template``: no Jinja2 dependency), shipped inside the package so that an installed
(non-editable) package renders the same card. Its label statistics are counted and rendered by
:mod:`vggsounder_hf.hf.card_stats`.

Example:
    >>> import tempfile, datasets
    >>> from vggsounder_hf.hf.hub_export import export_dataset
    >>> folder = export_dataset(f"{tempfile.mkdtemp()}/vggsounder-hub")
    >>> datasets.load_dataset(str(folder), "0.1.6", split="test").num_rows
    15339
"""

from __future__ import annotations

import copy
import importlib.resources
import os
import shutil
import string
import tempfile
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from vggsounder_hf.core.schema import DEFAULT_LABEL_RELEASE, LABEL_RELEASES
from vggsounder_hf.hf.card_stats import (
    ConfigStatistics,
    config_statistics,
    count,
    statistics_table,
    top_classes_tables,
)
from vggsounder_hf.hf.eval_results import BENCHMARK_FILE, benchmark_yaml
from vggsounder_hf.io.sources import RELEASES, resolve_release_files

__all__ = [
    "CARD_METADATA",
    "DATA_FILE_NAME",
    "DEFAULT_METRIC_ID",
    "DEFAULT_REPO_ID",
    "SPLIT",
    "TEMPLATE_NAME",
    "ConfigStatistics",
    "card_template",
    "config_statistics",
    "export_dataset",
    "render_card",
]

TEMPLATE_NAME = "dataset_card.md.tmpl"
"""File name of the card template, in ``vggsounder_hf/hf/templates/``."""
DEFAULT_REPO_ID = "vggsounder-hf/vggsounder"
"""Dataset repository named in the card's code examples unless another is given."""
DEFAULT_METRIC_ID = "vggsounder-hf/vggsounder"
"""Metric module (a Hub Space) named in the card's code examples unless another is given."""
SPLIT = "test"
DATA_FILE_NAME = f"{SPLIT}-00000-of-00001.parquet"
"""One shard per config (15k rows, under 1 MB), named like ``push_to_hub`` names shards."""
CARD_METADATA: dict[str, Any] = {
    "language": ["en"],
    "license": "cc-by-4.0",
    "pretty_name": "VGGSounder",
    "annotations_creators": ["expert-generated"],
    "source_datasets": ["extended|vggsound"],
    "size_categories": ["10K<n<100K"],
    "task_categories": ["audio-classification", "video-classification"],
    "task_ids": ["multi-label-classification"],
    "tags": ["audio-visual", "multi-label", "benchmark", "vggsound", "vggsounder"],
}
"""The card's Hub metadata. ``language`` is that of the class names; ``task_ids`` is the
Hub's multi-label classification id (its audio and video classification tasks have no
multi-label subtask); the paper (arXiv 2508.08237) is linked in the card's text, from which
the Hub takes its ``arxiv:`` tag."""


def card_template() -> str:
    """The card template shipped with the package."""
    resource = importlib.resources.files("vggsounder_hf.hf") / "templates" / TEMPLATE_NAME
    return resource.read_text(encoding="utf-8")


def _config_table(
    stats: Sequence[ConfigStatistics], default: str, source_files: Mapping[str, str]
) -> str:
    lines = ["| config | annotation file | clips | default |", "|---|---|---:|---|"]
    for s in stats:
        pinned = RELEASES[s.version].annotations.name if s.version in RELEASES else "?"
        source = source_files.get(s.version, pinned)
        mark = "yes" if s.version == default else ""
        lines.append(f"| `{s.version}` | `{source}` | {count(s.clips)} | {mark} |")
    return "\n".join(lines)


def _load_examples(repo_id: str, versions: Sequence[str], default: str) -> str:
    lines = [f'vggsounder = load_dataset("{repo_id}", split="{SPLIT}")  # config {default}']
    lines += [
        f'release_{v.replace(".", "_")} = load_dataset("{repo_id}", "{v}", split="{SPLIT}")'
        for v in versions
        if v != default
    ]
    return "\n".join(lines)


def _example(dataset: Any) -> tuple[str, str]:
    row = dataset[0]
    labels = dataset.features["labels"].feature
    modalities = dataset.features["modalities"].feature
    decoded = {
        "labels": [labels.int2str(i) for i in row["labels"]],
        "modalities": [modalities.int2str(i) for i in row["modalities"]],
    }
    return _pretty(row), _pretty(decoded)


def _pretty(mapping: Mapping[str, Any]) -> str:
    items = [f"    {key!r}: {value!r}," for key, value in mapping.items()]
    return "{\n" + "\n".join(items) + "\n}"


def _front_matter(infos: Mapping[str, Any], default: str) -> str:
    """The card's YAML (without ``---``): Hub metadata, ``dataset_info`` and ``configs``."""
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    data = DatasetCardData(**{key: copy.deepcopy(value) for key, value in CARD_METADATA.items()})
    DatasetInfosDict(infos).to_dataset_card_data(data)
    configs = {
        version: {
            "data_files": [{"split": SPLIT, "path": f"{version}/{SPLIT}-*"}],
            **({"default": True} if version == default else {}),
        }
        for version in infos
    }
    MetadataConfigs(configs).to_dataset_card_data(data)
    return data.to_yaml()


def render_card(
    datasets_by_version: Mapping[str, Any],
    infos: Mapping[str, Any],
    *,
    repo_id: str = DEFAULT_REPO_ID,
    metric_id: str = DEFAULT_METRIC_ID,
    source_files: Mapping[str, str] | None = None,
) -> str:
    """Render ``README.md`` for the given configs.

    Args:
        datasets_by_version: ``{config: datasets.Dataset}``, in card order.
        infos: ``{config: datasets.DatasetInfo}`` with features, splits and sizes.
        repo_id: dataset repository used in the card's code.
        metric_id: ``evaluate`` module used in the card's code.
        source_files: ``{config: annotation file name}`` (default: the authors' file names).
    """
    from vggsounder_hf.hf.builder import CITATION

    versions = list(datasets_by_version)
    default = _default_version(versions)
    stats = [config_statistics(datasets_by_version[v], v) for v in versions]
    example_row, example_decoded = _example(datasets_by_version[default])
    num_classes = datasets_by_version[default].features["labels"].feature.num_classes
    return string.Template(card_template()).substitute(
        front_matter=_front_matter(infos, default),
        num_classes=num_classes,
        config_table=_config_table(stats, default, source_files or {}),
        load_examples=_load_examples(repo_id, versions, default),
        default_version=default,
        release_clips=_release_clips(stats),
        example_row=example_row,
        example_decoded=example_decoded,
        statistics_table=statistics_table(stats),
        top_classes=top_classes_tables(stats),
        repo_id=repo_id,
        metric_id=metric_id,
        citation=CITATION.strip(),
    )


def _release_clips(stats: Sequence[ConfigStatistics]) -> str:
    """``15,069 clips (`1.0`) and 15,339 clips (`0.1.6`)``."""
    parts = [f"{count(s.clips)} clips (`{s.version}`)" for s in stats]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" and {parts[-1]}"


def _default_version(versions: Sequence[str]) -> str:
    return DEFAULT_LABEL_RELEASE if DEFAULT_LABEL_RELEASE in versions else versions[0]


def _check_versions(versions: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(versions))
    if not chosen:
        raise ValueError("no label version to export; choose from " + ", ".join(LABEL_RELEASES))
    unknown = [v for v in chosen if v not in LABEL_RELEASES]
    if unknown:
        raise ValueError(
            f"unknown VGGSounder label version(s) {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(LABEL_RELEASES)}"
        )
    return chosen


def _check_replaceable(target: Path) -> None:
    """Refuse to replace anything but an empty folder or an earlier export."""
    if not target.exists():
        return
    if not target.is_dir():
        raise FileExistsError(f"output {target} exists and is not a folder")
    unexpected = []
    for entry in sorted(target.iterdir()):
        if entry.name in ("README.md", BENCHMARK_FILE) and entry.is_file():
            continue
        if entry.name in LABEL_RELEASES and entry.is_dir():
            unexpected += [
                f"{entry.name}/{inner.name}"
                for inner in sorted(entry.iterdir())
                if not (inner.is_file() and inner.suffix == ".parquet")
            ]
            continue
        unexpected.append(entry.name)
    if unexpected:
        raise FileExistsError(
            f"refusing to replace {target}: it holds {', '.join(unexpected[:5])}, which an "
            "export does not write; choose a new or empty folder"
        )


def _move_into_place(staging: Path, target: Path) -> None:
    """Rename ``staging`` to ``target``, replacing an earlier export (two renames)."""
    if not target.exists():
        os.replace(staging, target)
        return
    previous = target.with_name(f".{target.name}.previous-{uuid.uuid4().hex[:8]}")
    os.replace(target, previous)
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(previous, target)
        raise
    shutil.rmtree(previous, ignore_errors=True)


def export_dataset(
    output_dir: str | os.PathLike[str],
    versions: Iterable[str] = LABEL_RELEASES,
    cache_dir: str | os.PathLike[str] | None = None,
    data_path: str | os.PathLike[str] | None = None,
    *,
    repo_id: str = DEFAULT_REPO_ID,
    metric_id: str = DEFAULT_METRIC_ID,
) -> Path:
    """Write a Hub-ready dataset folder (Parquet per config, ``README.md``, ``eval.yaml``);
    return its path.

    The folder is assembled in a temporary sibling folder and then renamed into place, so
    ``output_dir`` is never left half-written. An existing ``output_dir`` is replaced only
    if it is empty or holds nothing but an earlier export.

    Args:
        output_dir: folder to create (or replace).
        versions: label releases to export (configs); ``"1.0"`` is the default config.
        cache_dir: ``datasets`` cache folder for building the releases.
        data_path: user annotation files instead of the authors' (see
            :func:`vggsounder_hf.hf.loading.load_vggsounder`).
        repo_id: dataset repository named in the card's code examples.
        metric_id: metric module named in the card's code examples.

    Raises:
        ValueError: unknown version. FileExistsError: ``output_dir`` holds other files.

    Example:
        >>> import tempfile
        >>> folder = export_dataset(f"{tempfile.mkdtemp()}/out", versions=["1.0"])
        >>> sorted(path.name for path in folder.iterdir())
        ['1.0', 'README.md', 'eval.yaml']
    """
    from datasets import DatasetInfo, SplitDict, SplitInfo

    from vggsounder_hf.hf.loading import load_vggsounder

    chosen = _check_versions(versions)
    target = Path(output_dir).expanduser().resolve()
    _check_replaceable(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        loaded: dict[str, Any] = {}
        infos: dict[str, Any] = {}
        source_files: dict[str, str] = {}
        for version in chosen:
            source_files[version] = resolve_release_files(version, data_path).annotations.name
            dataset = load_vggsounder(version, cache_dir=cache_dir, data_path=data_path)
            parquet = staging / version / DATA_FILE_NAME
            parquet.parent.mkdir()
            dataset.to_parquet(str(parquet))
            # Sizes as Dataset.push_to_hub reports them: in-memory Arrow bytes and file bytes.
            splits = SplitDict()
            splits.add(
                SplitInfo(name=SPLIT, num_bytes=dataset.data.nbytes, num_examples=len(dataset))
            )
            file_size = parquet.stat().st_size
            infos[version] = DatasetInfo(
                features=dataset.features,
                splits=splits,
                download_size=file_size,
                dataset_size=dataset.data.nbytes,
            )
            loaded[version] = dataset
        card = render_card(
            loaded, infos, repo_id=repo_id, metric_id=metric_id, source_files=source_files
        )
        (staging / "README.md").write_text(card, encoding="utf-8")
        (staging / BENCHMARK_FILE).write_text(benchmark_yaml(chosen), encoding="utf-8")
        staging.chmod(0o755)  # mkdtemp makes 0o700 folders
        _move_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
