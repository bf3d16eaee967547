"""Model-index entries from VGGSounder result keys and back, both ways through the registry.

A result dict of :func:`vggsounder_hf.core.evaluation.evaluate_predictions` (keys like
``"av/f1"``, ``"a/f1@1"``, ``"mu/a"``) becomes a list of ``huggingface_hub.EvalResult``:

* task ``video-classification`` (the Hub's task for classifying video clips; the Hub has no
  audio-visual task), named "Audio-visual multi-label classification";
* dataset :data:`DATASET_TYPE` (the Hub id ``vggsounder-hf/vggsounder``, "VGGSounder"),
  config = label release, split ``test``;
* one metric per value. Everything about the metric comes from its row of
  :data:`vggsounder_hf.core.schema.METRICS`: ``metric_type`` is ``Metric.hub_type`` (``f1``,
  ``precision``, ``recall``, ``accuracy`` for subset accuracy, ``jaccard``, ``hit_rate``,
  ``roc_auc``, ``average_precision`` for AUC-PR, ``mean_average_precision`` for mAP,
  ``d_prime``, ``modality_confusion`` for μ); the readable ``metric_name`` is
  ``Metric.title``, the ``k`` and the column (``"F1 (av)"``, ``"Macro F1@1 (a only)"``,
  ``"d′ (v)"``, ``"μ_A"`` with :data:`~vggsounder_hf.core.schema.MU_LABELS`; the clip set
  is appended when it is not the default one); ``metric_config`` is ``labels`` or
  ``scores`` (the metric module's config); ``metric_args`` identify the value exactly:
  ``{"column": "av", "clip_set": "default", "average": "micro", "k": 1}`` (``average`` is
  ``Metric.hub_average``).

The clip set lives in ``metric_args``, not ``dataset.args``: ``huggingface_hub`` groups the
model-index by (task, dataset, config, split, revision) and keeps one ``args`` per group, so
two clip sets of the same release could not be told apart there. Values are as computed:
fractions for rates, a z-score difference for ``d_prime``. ``None`` (a value a model does not
have, such as JSON's ``null``) is left out; NaN, infinity and rates outside ``[0, 1]`` are
refused with a :class:`~vggsounder_hf.core.errors.ResultsError` naming the key: a card never
shows an undefined number. :func:`card_results` reads entries back through the same registry.

Example:
    >>> results = {"av/f1": 0.5, "av/num_clips": 10, "av/d_prime": 1.2}
    >>> [r.metric_name for r in results_to_eval_results(results, label_version="1.0",
    ...                                                   clip_set="default")]
    ['F1 (av)', 'd′ (av)']
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from huggingface_hub import EvalResult, ModelCard

from vggsounder_hf.core.errors import ModelCardError, ResultsError
from vggsounder_hf.core.schema import (
    DEFAULT_CLIP_SET,
    DEFAULT_LABEL_RELEASE,
    METRICS,
    MU_LABELS,
    MU_PARTS,
    Metric,
    ResultKey,
    column,
)
from vggsounder_hf.hf.hub_export import DEFAULT_REPO_ID

__all__ = [
    "DATASET_NAME",
    "DATASET_TYPE",
    "LEGACY_DATASET_TYPES",
    "TASK_NAME",
    "TASK_TYPE",
    "card_results",
    "dataset_id",
    "parse_card",
    "results_to_eval_results",
]

TASK_TYPE = "video-classification"
TASK_NAME = "Audio-visual multi-label classification"
DATASET_TYPE = DEFAULT_REPO_ID
"""The dataset id of every entry: the Hub id the dataset is exported to by default."""
LEGACY_DATASET_TYPES: tuple[str, ...] = ("vggsounder",)
"""Dataset ids that earlier versions wrote for :data:`DATASET_TYPE`: read as it, and
replaced by it when results are merged into a card again."""


def dataset_id(dataset_type: str | None) -> str | None:
    """An entry's dataset id, with the ids of earlier versions read as :data:`DATASET_TYPE`.

    Example:
        >>> dataset_id("vggsounder"), dataset_id("esc50")
        ('vggsounder-hf/vggsounder', 'esc50')
    """
    return DATASET_TYPE if dataset_type in LEGACY_DATASET_TYPES else dataset_type


DATASET_NAME = "VGGSounder"
_COLUMN_FAMILIES = ("label_set", "ranking")
"""Registry families reported per column (``metric_args.column``); μ is per input part."""
_SCORED_FAMILIES = (*_COLUMN_FAMILIES, "confusion")
"""Registry families whose values become model-index entries (counts do not)."""
_METRIC_BY_HUB_ID: dict[tuple[str | None, str | None], Metric] = {
    (entry.hub_type, entry.hub_average): entry
    for entry in METRICS
    if entry.family in _COLUMN_FAMILIES
}
_CONFUSION_BY_HUB_ID: dict[str | None, Metric] = {
    entry.hub_type: entry for entry in METRICS if entry.family == "confusion"
}


def _parsed_key(key: str) -> ResultKey | None:
    """The key of a metric value; ``None`` for what is not one (counts, ``per_class``,
    interval bounds)."""
    if key == "per_class":
        return None
    try:
        parsed = ResultKey.parse(key)
    except ValueError as error:
        # Keep the parser's reason when it says more than "not a key" (e.g. "has no top-k").
        reason = str(error).removeprefix(f"{key!r}: ")
        detail = "" if reason.startswith("not a VGGSounder result key") else f": {reason}"
        raise ResultsError(f"unknown VGGSounder result key {key!r}{detail}") from None
    entry = parsed.entry
    if parsed.bound is not None or entry is None or entry.family not in _SCORED_FAMILIES:
        return None
    return parsed


def _metric_value(key: str, entry: Metric, value: Any) -> float | None:
    """The value as a float; ``None`` when the model has none (``None``).

    Raises:
        ResultsError: Not a number, NaN, infinite, or a rate outside ``[0, 1]``.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ResultsError(f"result {key!r} must be a number, got {value!r}")
    try:
        value = float(value)
    except OverflowError:
        raise ResultsError(f"result {key!r} is too large to be a number of a card") from None
    if math.isnan(value):
        raise ResultsError(
            f"result {key!r} is NaN (undefined, e.g. a column without clips); leave it out "
            "or write null"
        )
    if math.isinf(value):
        raise ResultsError(f"result {key!r} is {value}, not a finite number")
    if entry.percent and not 0.0 <= value <= 1.0:
        raise ResultsError(f"result {key!r} is {value!r}; a rate must be a fraction in [0, 1]")
    return value


def _metric_values(results: Mapping[str, Any]) -> list[tuple[ResultKey, float | None]]:
    """Every metric value of a flat result dict, parsed and checked, in the dict's order."""
    values = []
    for key, raw in results.items():
        parsed = _parsed_key(key)
        if parsed is not None:
            values.append((parsed, _metric_value(key, parsed.entry, raw)))
    return values


def _metric_fields(key: ResultKey, clip_set: str) -> dict[str, Any]:
    """``metric_type``, ``metric_name`` and ``metric_args`` of one value, from the registry."""
    entry = key.entry
    if entry.family == "confusion":
        return {
            "metric_type": entry.hub_type,
            "metric_name": f"{entry.title}_{MU_LABELS[key.column]}",
            "metric_args": {"inputs": key.column, "clip_set": clip_set},
        }
    at_k = "" if key.k is None else f"@{key.k}"
    args: dict[str, Any] = {"column": column(key.column).key, "clip_set": clip_set}
    if entry.hub_average is not None:
        args["average"] = entry.hub_average
    if key.k is not None:
        args["k"] = key.k
    return {
        "metric_type": entry.hub_type,
        "metric_name": f"{entry.title}{at_k} ({key.column})",
        "metric_args": args,
    }


def results_to_eval_results(
    results: Mapping[str, Any],
    *,
    label_version: str,
    clip_set: str = DEFAULT_CLIP_SET,
    split: str = "test",
    k: int | None = None,
    dataset_type: str = DATASET_TYPE,
) -> list[EvalResult]:
    """Turn one flat VGGSounder result dict into ``EvalResult`` entries (one per value).

    Counts (``*/num_clips``, ``*/num_missing``, ``num_unknown_labels``,
    ``num_unknown_clips``), ``per_class`` and interval bounds (``.../ci_low``,
    ``.../ci_high``) are not metric values and are skipped.

    Args:
        results: ``{"<column>/<metric>[@k]": value, "mu/<a|v|a_and_v>": value, ...}``.
        label_version: the dataset config (``"1.0"`` or ``"0.1.6"``).
        clip_set: the clip set the results were computed on.
        split: dataset split.
        k: keep only top-k results at this ``k`` (scores); ``None`` keeps every ``k``.
        dataset_type: dataset id recorded in the card (e.g. the Hub id of the dataset).

    Raises:
        ResultsError: an unknown result key, a value that is not a finite number (NaN is
            refused; ``None`` is left out), a rate outside ``[0, 1]``, or no result at the
            requested ``k``.

    Example:
        >>> [(r.metric_type, r.metric_args) for r in results_to_eval_results(
        ...     {"a/hit@1": 0.9}, label_version="1.0")]
        [('hit_rate', {'column': 'a', 'clip_set': 'default', 'k': 1})]
    """
    values = _metric_values(results)
    scores = any(key.k is not None or not key.entry.applies_to("labels") for key, _ in values)
    ks_seen = {key.k for key, _ in values if key.k is not None}
    if k is not None and ks_seen and k not in ks_seen:
        available = ", ".join(map(str, sorted(ks_seen)))
        raise ResultsError(f"no top-k results at k={k}; the results have k = {available}")
    clip_suffix = "" if clip_set == DEFAULT_CLIP_SET else f" [{clip_set}]"
    common = {
        "task_type": TASK_TYPE,
        "task_name": TASK_NAME,
        "dataset_type": dataset_type,
        "dataset_name": DATASET_NAME,
        "dataset_config": label_version,
        "dataset_split": split,
        "metric_config": "scores" if scores else "labels",
    }
    converted: list[EvalResult] = []
    for key, value in values:
        if value is None or (k is not None and key.k not in (None, k)):
            continue
        fields = _metric_fields(key, clip_set)
        fields["metric_name"] += clip_suffix
        converted.append(EvalResult(metric_value=value, **fields, **common))
    return converted


def _card_key(metric_type: Any, args: Mapping[str, Any]) -> str | None:
    """The result key of a model-index entry written by :func:`results_to_eval_results`
    (the registry read backwards), or ``None`` for any other entry."""
    if metric_type in _CONFUSION_BY_HUB_ID:
        part = args.get("inputs")
        name = _CONFUSION_BY_HUB_ID[metric_type].name
        return ResultKey(part, name).format() if part in MU_PARTS else None
    entry = _METRIC_BY_HUB_ID.get((metric_type, args.get("average")))
    k = args.get("k")
    if entry is None or not (k is None or (type(k) is int and entry.family == "label_set")):
        return None
    try:
        name = column(args.get("column")).name
    except ValueError:
        return None
    return ResultKey(name, entry.name, k).format()


def card_results(
    card: ModelCard | str,
    *,
    label_version: str = DEFAULT_LABEL_RELEASE,
    clip_set: str = DEFAULT_CLIP_SET,
    split: str = "test",
    dataset_type: str = DATASET_TYPE,
) -> dict[str, float]:
    """Read VGGSounder results back from a model card, as a flat result dict.

    Only entries written by :func:`results_to_eval_results` for this dataset, label version,
    split and clip set are read; keys are those of
    :func:`~vggsounder_hf.core.evaluation.evaluate_predictions` (``"av/f1"``, ``"a/hit@1"``,
    ``"mu/a"``).

    Example:
        >>> from vggsounder_hf.hf.hub_results import merge_model_card
        >>> card = merge_model_card(None, results_to_eval_results(
        ...     {"av/f1": 0.5, "mu/a": 0.1}, label_version="1.0"), "my-model")
        >>> card_results(str(card))
        {'av/f1': 0.5, 'mu/a': 0.1}
    """
    if isinstance(card, str):
        card = parse_card(card, "the model card")
    found: dict[str, float] = {}
    for result in card.data.eval_results or []:
        args = result.metric_args or {}
        if (
            dataset_id(result.dataset_type) != dataset_id(dataset_type)
            or result.dataset_config != label_version
            or result.dataset_split != split
            or args.get("clip_set") != clip_set
        ):
            continue
        key = _card_key(result.metric_type, args)
        if key is not None:
            found[key] = result.metric_value
    return found


def parse_card(text: str, source: str) -> ModelCard:
    r"""A model card from its text; metadata that does not parse is one clear error.

    Raises:
        ModelCardError: The YAML block does not parse, is not a mapping, or holds a
            ``model-index`` that ``huggingface_hub`` cannot read (message names ``source``).

    Example:
        >>> parse_card("---\nlicense: [mit\n---\n", "me/model")
        Traceback (most recent call last):
        vggsounder_hf.core.errors.ModelCardError: me/model: the card's YAML metadata does not parse (metadata line 1, column 14: expected ',' or ']', but got '<stream end>')
    """  # noqa: E501
    import yaml

    try:
        return ModelCard(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"metadata line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or type(error).__name__
        raise ModelCardError(
            f"{source}: the card's YAML metadata does not parse ({where}{problem})"
        ) from None
    except ValueError as error:
        raise ModelCardError(f"{source}: {' '.join(str(error).split())}") from None
