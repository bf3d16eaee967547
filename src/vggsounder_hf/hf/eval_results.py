"""Hub leaderboards: the benchmark's ``eval.yaml`` and a model's ``.eval_results/vggsounder.yaml``.

The Hub's newer results format (https://huggingface.co/docs/hub/eval-results): a *benchmark*
dataset declares its tasks in ``eval.yaml`` at the root of its repository (``name``,
``description``, ``evaluation_framework``, ``tasks`` of ``id``/``config``/``split``), and a
model repository stores one value per task in ``.eval_results/*.yaml``, written with
``huggingface_hub``'s :class:`~huggingface_hub.EvalResultEntry` and
:func:`~huggingface_hub.eval_result_entries_to_yaml`. The Hub shows these values on the model
page and ranks the models on the benchmark's leaderboard.

VGGSounder's tasks (:func:`leaderboard_tasks`): every column of the paper with each metric of
:data:`LEADERBOARD_METRICS`, per label release, on the default clip set (clips without
background music, the authors' benchmark set), split ``test``. Task ids are ``<column
key>_<metric>`` for the default release (``av_f1``, ``a_only_hit``) and end in the release
for the others (``av_f1_v0_1_6``). Values are in percent, rounded to two decimals, as
leaderboards show them; score models are ranked at one top-k cut-off (``k=1`` unless
chosen).

:func:`push_eval_results` writes the file into a model repository, merged with the entries
already there, and adds the dataset to the model card's ``datasets:`` list, in one commit.
Which dataset: the id that ``vggsounder-hub export --push-to-hub`` uploaded to last
(:func:`record_export`, :func:`recorded_export`: a small JSON state file), else
:data:`~vggsounder_hf.hf.hub_export.DEFAULT_REPO_ID`.

Example:
    >>> [task.id for task in leaderboard_tasks(["1.0"])][:3]
    ['a_f1', 'a_subset_accuracy', 'a_hit']
    >>> entries = results_to_entries({"av/f1": 0.57201}, dataset_id="me/vggsounder",
    ...                              date="2026-01-01")
    >>> (entries[0].task_id, entries[0].value, entries[0].dataset_id)
    ('av_f1', 57.2, 'me/vggsounder')
"""

from __future__ import annotations

import json
import math
import numbers
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from huggingface_hub import EvalResultEntry, ModelCard, eval_result_entries_to_yaml

from vggsounder_hf.core.errors import ModelCardError, ResultsError
from vggsounder_hf.core.schema import (
    COLUMN_SPECS,
    DEFAULT_CLIP_SET,
    DEFAULT_LABEL_RELEASE,
    LABEL_RELEASES,
    ResultKey,
    column,
    metric,
    result_key,
)

__all__ = [
    "BENCHMARK_FILE",
    "EVALUATION_FRAMEWORK",
    "LEADERBOARD_METRICS",
    "RESULTS_FILE",
    "STATE_ENV",
    "LeaderboardTask",
    "benchmark_yaml",
    "entries_yaml",
    "leaderboard_tasks",
    "merge_entries",
    "parse_entries",
    "push_eval_results",
    "record_export",
    "recorded_export",
    "results_to_entries",
    "state_file",
    "with_dataset",
]

BENCHMARK_FILE = "eval.yaml"
"""The benchmark's task list, at the root of the dataset repository."""
RESULTS_FILE = ".eval_results/vggsounder.yaml"
"""Where a model repository keeps its VGGSounder values."""
EVALUATION_FRAMEWORK = "vggsounder-hf"
"""``evaluation_framework`` of ``eval.yaml``: the software that computes the values."""
LEADERBOARD_METRICS: tuple[str, ...] = tuple(
    metric(name).name for name in ("f1", "subset_accuracy", "hit")
)
"""The registry metrics ranked on the leaderboard (each per column): the paper's headline
label-set metrics, all rates where higher is better (μ, lower is better, is not ranked)."""
SPLIT = "test"
STATE_ENV = "VGGSOUNDER_HF_STATE"
"""Environment variable naming the state file (default ``$HF_HOME/vggsounder-hf/hub.json``)."""
_PROJECT_URL = "https://github.com/vggsounder-hf/vggsounder-hf"
_BENCHMARK_DESCRIPTION = (
    "VGGSounder (Zverev, Wiedemer et al., ICCV 2025; arXiv 2508.08237) re-annotates the "
    "VGGSound test set as a multi-label benchmark for audio-visual models: every label says "
    "whether the class is audible (A), visible (V) or both (AV). A model is queried with "
    "audio only, video only and both; each input is scored against the labels it can "
    "perceive (columns a, v, av, a only, v only). Each task is one metric of one column "
    "(task id <column>_<metric>, e.g. av_f1) on the clips without background music, in "
    "percent; score models at top-1 unless noted. Computed with the vggsounder-hf package, "
    "whose numbers equal the authors' reference implementation."
)

CardLoader = Callable[[str, str | None], str | None]
FileLoader = Callable[[str, str | None], str | None]
Uploader = Callable[[Path, str, str | None], Any]


@dataclass(frozen=True)
class LeaderboardTask:
    """One task of ``eval.yaml``: a metric of a column on one label release."""

    id: str
    config: str
    column: str
    metric: str
    split: str = SPLIT


def task_id(column_name: str, metric_name: str, version: str) -> str:
    """The task id of a column's metric on a label release (``av_f1``, ``av_f1_v0_1_6``)."""
    base = f"{column(column_name).key}_{metric(metric_name).name}"
    return base if version == DEFAULT_LABEL_RELEASE else f"{base}_v{version.replace('.', '_')}"


def leaderboard_tasks(versions: Iterable[str] = LABEL_RELEASES) -> list[LeaderboardTask]:
    """The tasks of the exported label releases, column by column."""
    return [
        LeaderboardTask(task_id(spec.name, name, version), version, spec.name, name)
        for version in versions
        for spec in COLUMN_SPECS
        for name in LEADERBOARD_METRICS
    ]


def benchmark_yaml(versions: Iterable[str] = LABEL_RELEASES) -> str:
    """``eval.yaml`` for a dataset repository holding these label releases (configs)."""
    import yaml

    data = {
        "name": "VGGSounder",
        "description": _BENCHMARK_DESCRIPTION,
        "evaluation_framework": EVALUATION_FRAMEWORK,
        "tasks": [
            {"id": task.id, "config": task.config, "split": task.split}
            for task in leaderboard_tasks(versions)
        ],
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=88)


def _percent(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ResultsError(f"result {key!r} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ResultsError(f"result {key!r} is {value!r}; a rate must be a fraction in [0, 1]")
    return round(100.0 * value, 2)


def _kind(results: Mapping[str, Any]) -> str:
    """``"scores"`` when the results carry top-k keys, else ``"labels"``."""
    for key in results:
        try:
            if ResultKey.parse(key).k is not None:
                return "scores"
        except ValueError:
            continue
    return "labels"


def results_to_entries(
    results: Mapping[str, Any],
    *,
    dataset_id: str,
    label_version: str = DEFAULT_LABEL_RELEASE,
    clip_set: str = DEFAULT_CLIP_SET,
    k: int | None = None,
    revision: str | None = None,
    date: str | None = None,
    source_url: str | None = _PROJECT_URL,
    source_name: str | None = None,
) -> list[EvalResultEntry]:
    """One :class:`~huggingface_hub.EvalResultEntry` per leaderboard task the results have.

    Args:
        results: a flat result dict of
            :func:`~vggsounder_hf.core.evaluation.evaluate_predictions`.
        dataset_id: the benchmark dataset on the Hub (``owner/name``).
        label_version: the release the results were computed on (the task's config).
        clip_set: must be the default clip set: the tasks are defined on it.
        k: the top-k cut-off ranked for score models (default 1).
        revision: the dataset's Git revision, when known.
        date: ISO-8601 date or datetime of the evaluation (default: now, UTC).
        source_url, source_name: attribution shown with the value (default: this project).

    Raises:
        ResultsError: another clip set or label source, no leaderboard value, or a value
            that is not a fraction in ``[0, 1]``.
    """
    if clip_set != DEFAULT_CLIP_SET:
        raise ResultsError(
            f"leaderboard tasks are defined on the clip set {DEFAULT_CLIP_SET!r}; these "
            f"results are on {clip_set!r} (write them with --format model-index instead)"
        )
    if label_version not in LABEL_RELEASES:
        raise ResultsError(
            f"leaderboard tasks exist for the label releases {', '.join(LABEL_RELEASES)}; "
            f"these results are on {label_version!r}"
        )
    kind = _kind(results)
    when = date or datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    name = source_name or EVALUATION_FRAMEWORK
    notes = f"{kind}{f', top-{k or 1}' if kind == 'scores' else ''}; clip set {clip_set}"
    entries = []
    for task in leaderboard_tasks([label_version]):
        key = result_key(task.metric, task.column, kind, k)
        if results.get(key) is None:
            continue
        entries.append(
            EvalResultEntry(
                dataset_id=dataset_id,
                task_id=task.id,
                value=_percent(key, results[key]),
                dataset_revision=revision,
                date=when,
                source_url=source_url,
                source_name=name if source_url else None,
                notes=notes,
            )
        )
    if not entries:
        raise ResultsError(
            "the results hold no leaderboard value (e.g. "
            f"{result_key(LEADERBOARD_METRICS[0], 'av', kind, k)!r})"
        )
    return entries


def merge_entries(
    existing: Sequence[EvalResultEntry], new: Sequence[EvalResultEntry]
) -> list[EvalResultEntry]:
    """Entries already in the file stay, except those for the same (dataset, task): these
    take the new value in place; new tasks follow."""
    by_task = {(entry.dataset_id, entry.task_id): entry for entry in new}
    merged, used = [], set()
    for entry in existing:
        task = (entry.dataset_id, entry.task_id)
        if task in by_task:
            if task not in used:
                merged.append(by_task[task])
                used.add(task)
            continue
        merged.append(entry)
    return merged + [entry for task, entry in by_task.items() if task not in used]


def entries_yaml(entries: Sequence[EvalResultEntry]) -> str:
    """The text of ``.eval_results/vggsounder.yaml``."""
    import yaml

    return yaml.safe_dump(eval_result_entries_to_yaml(list(entries)), sort_keys=False)


def parse_entries(text: str | None, source: str) -> list[EvalResultEntry]:
    """Entries of an ``.eval_results`` file (``[]`` for ``None``), read by huggingface_hub.

    Raises:
        ModelCardError: not YAML, or not a list of result entries (names ``source``).
    """
    import yaml
    from huggingface_hub import parse_eval_result_entries

    if text is None:
        return []
    try:
        data = yaml.safe_load(text)
        if data is None:
            return []
        if not isinstance(data, list):
            raise TypeError(f"expected a list of entries, got {type(data).__name__}")
        return parse_eval_result_entries(data)
    except (yaml.YAMLError, TypeError, KeyError, AttributeError, ValueError) as error:
        raise ModelCardError(f"{source}: not an eval-results file ({error})") from None


def with_dataset(card_text: str | None, dataset_id: str, model_name: str) -> ModelCard:
    """The model card with ``dataset_id`` in its ``datasets:`` list (a new card if none)."""
    if card_text is None:
        card_text = (
            f"---\n\n---\n\n# {model_name}\n\n## Evaluation\n\nResults on "
            f"[VGGSounder](https://huggingface.co/datasets/{dataset_id}) are in "
            f"`{RESULTS_FILE}`.\n"
        )
    import yaml

    try:
        card = ModelCard(card_text)
    except (yaml.YAMLError, ValueError) as error:
        problem = " ".join(str(error).split())
        raise ModelCardError(f"the model card of {model_name}: {problem}") from None
    current = card.data.datasets
    listed = [current] if isinstance(current, str) else list(current or [])
    card.data.datasets = list(dict.fromkeys([*listed, dataset_id]))
    return card


# --------------------------------------------------------------------------- state of export


def state_file() -> Path:
    """The JSON file in which ``vggsounder-hub export --push-to-hub`` records its upload:
    ``$VGGSOUNDER_HF_STATE`` if set, else ``$HF_HOME/vggsounder-hf/hub.json``."""
    override = os.environ.get(STATE_ENV)
    if override:
        return Path(override).expanduser()
    from huggingface_hub import constants

    return Path(constants.HF_HOME) / "vggsounder-hf" / "hub.json"


def record_export(
    dataset_id: str, revision: str | None, folder: str | os.PathLike[str], configs: Sequence[str]
) -> Path:
    """Remember the dataset repository an export was uploaded to (the last one wins)."""
    from vggsounder_hf.io.atomic import write_atomic

    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "dataset_id": dataset_id,
        "revision": revision,
        "folder": str(Path(folder).resolve()),
        "configs": list(configs),
        "uploaded_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }
    write_atomic(path, json.dumps(state, indent=2) + "\n")
    return path


def recorded_export() -> dict[str, Any] | None:
    """What :func:`record_export` wrote last, or ``None`` (no file, or not one it wrote)."""
    path = state_file()
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not isinstance(state.get("dataset_id"), str):
        return None
    return state


# --------------------------------------------------------------------------- push


def _load_results_file(repo_id: str, token: str | None) -> str | None:
    """``.eval_results/vggsounder.yaml`` of the model repository, or ``None``."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    from vggsounder_hf.hf.hub_push import hub_request

    with hub_request(repo_id, f"reading {RESULTS_FILE} of"):
        try:
            path = hf_hub_download(repo_id, RESULTS_FILE, repo_type="model", token=token)
        except EntryNotFoundError:
            return None
    return Path(path).read_text(encoding="utf-8")


def _upload(folder: Path, repo_id: str, token: str | None) -> Any:
    from vggsounder_hf.hf.hub_push import push_folder

    return push_folder(
        folder, repo_id, "model", token=token, commit_message="Add VGGSounder eval results"
    )


def push_eval_results(
    repo_id: str,
    entries: Sequence[EvalResultEntry],
    *,
    dry_run: bool = False,
    token: str | None = None,
    card_loader: CardLoader | None = None,
    file_loader: FileLoader | None = None,
    uploader: Uploader | None = None,
    stream: TextIO | None = None,
) -> tuple[str, ModelCard]:
    """Write ``entries`` into ``.eval_results/vggsounder.yaml`` of ``repo_id`` (merged with
    the file's entries) and their datasets into the card's ``datasets:``, in one commit.

    The card and the file are read with ``card_loader`` / ``file_loader`` (default: from
    the Hub); a dry run without loaders reads nothing (no network) and prints both.

    Returns:
        The new file's text and the new card.

    Raises:
        ModelCardError: the existing file or card cannot be read. HubError: the Hub fails.
    """
    from vggsounder_hf.hf.hub_results import load_card_text

    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ValueError(f"model repository id must look like 'user/model', got {repo_id!r}")
    network = not dry_run
    read_file = file_loader or (_load_results_file if network else lambda *_: None)
    read_card = card_loader or (load_card_text if network else lambda *_: None)
    source = f"{RESULTS_FILE} of {repo_id}"
    merged = merge_entries(parse_entries(read_file(repo_id, token), source), entries)
    text = entries_yaml(merged)
    card = _card_with_datasets(read_card(repo_id, token), entries, repo_id)
    if dry_run:
        out = stream or sys.stdout
        print(f"# {RESULTS_FILE}\n{text}\n# README.md\n{card}", file=out)
        return text, card
    with tempfile.TemporaryDirectory(prefix="vggsounder-eval-results-") as temporary:
        folder = Path(temporary)
        target = folder / RESULTS_FILE
        target.parent.mkdir(parents=True)
        target.write_text(text, encoding="utf-8")
        (folder / "README.md").write_text(str(card), encoding="utf-8")
        (uploader or _upload)(folder, repo_id, token)
    return text, card


def _card_with_datasets(
    text: str | None, entries: Sequence[EvalResultEntry], repo_id: str
) -> ModelCard:
    card = None
    for dataset_id in dict.fromkeys(entry.dataset_id for entry in entries):
        card = with_dataset(text if card is None else str(card), dataset_id, repo_id)
    if card is None:
        raise ResultsError("no eval results to write")
    return card
