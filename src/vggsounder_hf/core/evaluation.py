"""Score one model on VGGSounder: every column, every metric, modality confusion.

The pipeline is fixed: :func:`~vggsounder_hf.core.alignment.align` validates the options and
matches the predictions to the ground truth once; :func:`score` computes every metric of the
registry (:data:`vggsounder_hf.core.schema.METRICS`) on one set of clips, by the formulas of
:mod:`vggsounder_hf.core.functional`. :func:`evaluate_predictions` is both steps in one call,
and is what the ``evaluate`` module, the command line and the Trainer hook call.

Columns pair an input modality with a label subset (see :mod:`vggsounder_hf.core.schema`);
a clip takes part in a column when it has at least one label of the column's subset. Clips
without a prediction count as empty predictions for label sets (a miss) and are left out for
scores, exactly like the reference; predictions for clips outside the ground truth are
ignored and counted.

Result keys (:class:`~vggsounder_hf.core.schema.ResultKey`) are ``"<column>/<metric>"``
with columns ``a``, ``v``, ``av``, ``a_only``, ``v_only``:

* label sets: ``subset_accuracy``, ``f1``, ``f1_macro``, ``precision``, ``recall``,
  ``jaccard``, ``hit``;
* scores: each of those as ``<metric>@<k>`` for every ``k``, plus ``auc_roc``, ``auc_pr``,
  ``map`` (the same number as ``auc_pr``) and ``d_prime``;
* scores with ``threshold=t``: the label-set keys (no ``@k``: the predicted set is every
  class scored above ``t``), plus the same four ranking keys from the raw scores;
* ``num_clips`` (clips scored in the column) and ``num_missing`` (clips of the column
  without a prediction);
* modality confusion ``mu/a``, ``mu/v``, ``mu/a_and_v`` and ``mu/num_clips`` when the
  model has all three inputs (top-1 predictions for scores);
* ``num_unknown_labels`` (predicted names that are not classes, ignored) and
  ``num_unknown_clips`` (predicted clips that are not in the ground truth, ignored).
* with ``bootstrap=B``: ``"<key>/ci_low"`` and ``"<key>/ci_high"`` for every rate, percentile
  intervals over ``B`` resamples of the clips (see :mod:`vggsounder_hf.core.bootstrap`).

Rates are fractions in ``[0, 1]`` (``d_prime`` is a z-score difference; counts are ints).

Example:
    >>> truth = GroundTruth.from_rows(
    ...     [{"video_id": "x_000001", "labels": [0], "modalities": ["AV"],
    ...       "background_music": False, "static_image": False, "voice_over": False}],
    ...     class_names=("dog", "cat"))
    >>> predictions = ModelPredictions.from_label_sets(
    ...     {"a": {"x_000001": ["dog"]}, "v": {"x_000001": ["cat"]}, "av": {"x_000001": []}},
    ...     class_names=("dog", "cat"))
    >>> results = evaluate_predictions(truth, predictions)
    >>> results["a/hit"], results["v/hit"], results["mu/a"]
    (1.0, 0.0, 1.0)
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from vggsounder_hf.core import functional
from vggsounder_hf.core.alignment import (
    AlignedModel,
    ColumnView,
    align,
    checked_columns,
    checked_ks,
)
from vggsounder_hf.core.bootstrap import bootstrap_intervals, check_bootstrap_options
from vggsounder_hf.core.clip_sets import ClipSet
from vggsounder_hf.core.coerce import as_ground_truth, as_predictions
from vggsounder_hf.core.coverage import check_overlap
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.parallel import checked_threads, default_threads, run_in_order
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.core.ranking_blocks import ranking_metrics_of_rows
from vggsounder_hf.core.schema import (
    COLUMNS,
    DEFAULT_CLIP_SET,
    DEFAULT_KS,
    DEFAULT_PROTOCOL,
    INPUT_MODALITIES,
    MU_PARTS,
    ResultKey,
    TieBreak,
    column,
)
from vggsounder_hf.core.schema import protocol as schema_protocol

__all__ = [
    "AlignedModel",
    "align",
    "checked_ks",
    "clip_set_difference",
    "evaluate_predictions",
    "modality_confusion_per_clip",
    "score",
]


def evaluate_predictions(
    truth: GroundTruth,
    predictions: ModelPredictions | AlignedModel,
    *,
    clip_set: ClipSet = DEFAULT_CLIP_SET,
    columns: Sequence[str] = COLUMNS,
    ks: Sequence[int] = DEFAULT_KS,
    tie_break: TieBreak = "reference",
    modality_confusion: bool = True,
    per_class: bool = False,
    bootstrap: int = 0,
    confidence: float = 0.95,
    seed: int | None = 0,
    ranking_resamples: int | None = None,
    protocol: str = DEFAULT_PROTOCOL,
    mu_ground_truth: str | None = None,
    threshold: float | None = None,
    sigmoid: bool = False,
    threads: int | None = None,
) -> dict[str, Any]:
    """Every VGGSounder metric of one model.

    Args:
        truth: The ground truth (a whole release, or any set of clips).
        predictions: The model's predictions, label sets or scores, or a model already
            aligned to ``truth`` by :func:`~vggsounder_hf.core.alignment.align` (then
            ``ks`` and ``tie_break`` are the alignment's).
        clip_set: Which clips of ``truth`` to score (see :mod:`vggsounder_hf.core.clip_sets`);
            ``"default"`` is the reference's default, clips without background music.
            ``truth`` decides the label release: the paper's tables use release 0.1.6.
        columns: Subset of ``("a", "v", "av", "a only", "v only")`` (any spelling). Columns
            whose input modality the model lacks are left out.
        ks: Top-k cut-offs for score predictions (validated for every kind).
        tie_break: ``"reference"`` (numpy's default argsort, as the authors; tied scores may
            then resolve differently on different CPUs) or ``"lowest_index"``
            (deterministic). See :func:`vggsounder_hf.core.ranking.top_k_ranking`.
        modality_confusion: Compute μ when the model has all three inputs.
        per_class: Also return ``"per_class"``: per column, per-class F1 (and for scores
            average precision and AUC-ROC) keyed by class name.
        bootstrap: Resamples for confidence intervals; ``0`` (the default) computes none.
        confidence: Coverage of the intervals, strictly between 0 and 1.
        seed: Seed of the resamples (``None``: fresh entropy): one seed, one set of intervals.
        ranking_resamples: Resamples (the first of the same draws) for the ranking metrics
            of score models; ``None``: ``min(bootstrap, 200)``, as they cost far more.
        protocol: ``"reference"`` (the authors' code) or ``"paper"`` (the printed tables):
            the default of ``mu_ground_truth`` (:data:`~vggsounder_hf.core.schema.PROTOCOLS`).
        mu_ground_truth: ``"all_labels"``: μ over every clip, a hit is any of its labels
            (the authors' code); ``"av_labels"``: μ over the clips with an AV label, a hit
            is one of its AV labels (the paper's Table 2). ``None``: the protocol's.
        threshold, sigmoid: Score models: every class scored (``sigmoid=True``: whose
            sigmoid is) above ``threshold`` instead of top-k; keys without ``@k`` (``align``).
        threads: Threads ranking and scoring a score model (``None``: the cores, at most 4).

    Returns:
        A flat ``dict`` of results (see the module docstring for the names), plus
        ``"per_class"`` when asked (``None`` for a class whose AUC is undefined).

    Raises:
        ValueError: Unknown column, a bad option (``ks``, ``threshold``...), other classes.
    """
    truth = as_ground_truth(truth)
    predictions = as_predictions(predictions, truth.class_names)
    columns = checked_columns(columns)
    check_bootstrap_options(bootstrap, confidence, seed, ranking_resamples)
    alignment = {"ks": ks, "tie_break": tie_break, "threshold": threshold, "sigmoid": sigmoid}
    model = _aligned(truth, predictions, protocol, mu_ground_truth, **alignment, threads=threads)
    if not isinstance(predictions, AlignedModel):
        check_overlap(truth, predictions, clip_set)  # warns when no prediction matches
    return score(
        model,
        clip_set,
        columns=columns,
        modality_confusion=modality_confusion,
        per_class=per_class,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        ranking_resamples=ranking_resamples,
        threads=threads,
    )


def _aligned(
    truth: GroundTruth,
    predictions: ModelPredictions | AlignedModel,
    protocol: str,
    mu_ground_truth: str | None,
    *,
    ks: Sequence[int],
    tie_break: TieBreak,
    threshold: float | None = None,
    sigmoid: bool = False,
    threads: int | None = None,
) -> AlignedModel:
    """The model aligned to ``truth`` with the protocol's μ (or the given aligned model,
    checked to fit)."""
    mu = mu_ground_truth or schema_protocol(protocol).mu_ground_truth
    if isinstance(predictions, AlignedModel):
        if predictions.truth is not truth:
            raise ValueError("the aligned model was aligned to another ground truth")
        if threshold is not None and (predictions.threshold, predictions.sigmoid) != (
            threshold,
            sigmoid,
        ):
            raise ValueError(
                f"the aligned model was aligned with threshold={predictions.threshold!r}, "
                f"sigmoid={predictions.sigmoid}: pass threshold to align()"
            )
        asked = mu_ground_truth is not None or protocol != DEFAULT_PROTOCOL
        if asked and predictions.mu_ground_truth != mu:
            raise ValueError(
                f"the aligned model computes μ with {predictions.mu_ground_truth!r}, not {mu!r}:"
                " pass mu_ground_truth to align()"
            )
        return predictions
    return align(
        truth,
        predictions,
        ks=ks,
        tie_break=tie_break,
        mu_ground_truth=mu,
        threshold=threshold,
        sigmoid=sigmoid,
        threads=threads,
    )


def score(
    model: AlignedModel,
    clips: ClipSet | np.ndarray = DEFAULT_CLIP_SET,
    *,
    columns: Sequence[str] = COLUMNS,
    modality_confusion: bool = True,
    per_class: bool = False,
    bootstrap: int = 0,
    confidence: float = 0.95,
    seed: int | None = 0,
    ranking_resamples: int | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Every metric of an aligned model on one set of clips (a clip set or a boolean mask
    over the model's ground truth); see :func:`evaluate_predictions` for the arguments."""
    columns = checked_columns(columns)
    resamples, confidence, seed, ranking_resamples = check_bootstrap_options(
        bootstrap, confidence, seed, ranking_resamples
    )
    threads = default_threads() if threads is None else checked_threads(threads)
    mask = model.mask(clips)
    names = [name for name in columns if column(name).input in model.inputs]
    confusion = modality_confusion and model.has_all_inputs

    def one_column(name: str) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        view = model.column_view(name, mask)
        classes = _per_class(model, view) if per_class else None
        return view.spec.key, column_scores(model, view), classes

    tasks: list[Any] = [functools.partial(one_column, name) for name in names]
    if confusion:
        tasks.append(lambda: ("mu", confusion_scores(model, model.confusion_clips(mask)), None))
    # Label-set columns take a few ms each: threads would not pay for themselves there.
    outcomes = run_in_order(tasks, threads if model.kind == "scores" else 1)
    results: dict[str, Any] = {}
    per_class_results: dict[str, Any] = {}
    for key, scored, classes in outcomes:  # columns in order, then μ: as on one thread
        results.update(scored)
        if classes is not None:
            per_class_results[key] = classes
    results["num_unknown_labels"] = model.num_unknown_labels
    results["num_unknown_clips"] = model.num_unknown_clips
    if resamples:
        results.update(
            bootstrap_intervals(
                model,
                mask,
                resamples=resamples,
                confidence=confidence,
                seed=seed,
                ranking_resamples=ranking_resamples,
                columns=columns,
                modality_confusion=modality_confusion,
            )
        )
    if per_class:
        results["per_class"] = per_class_results
    return results


def column_scores(model: AlignedModel, view: ColumnView) -> dict[str, Any]:
    """The results of one column: its counts, then every metric of the registry that
    applies to the model's kind."""
    name = view.spec.name
    results: dict[str, Any] = {
        ResultKey(name, "num_clips").format(): view.num_clips,
        ResultKey(name, "num_missing").format(): view.num_missing,
    }
    if model.kind == "labels":
        counts = functional.label_set_counts(view.y_true, view.y_pred)
        for metric, value in functional.scores_from_counts(counts).items():
            results[ResultKey(name, metric).format()] = value
        if view.scores is None:
            return results
    else:
        results.update(_top_k_scores(model, view))
    auc, average_precision = _ranking_per_class(view)
    for metric, value in functional.ranking_scores(auc, average_precision).items():
        results[ResultKey(name, metric).format()] = value
    return results


def _top_k_scores(model: AlignedModel, view: ColumnView) -> dict[str, Any]:
    name = view.spec.name
    results: dict[str, Any] = {}
    for k, counts in functional.top_k_counts(view.y_true, view.ranking, model.ks).items():
        for metric, value in functional.scores_from_counts(counts).items():
            results[ResultKey(name, metric, k).format()] = value
    return results


def confusion_scores(model: AlignedModel, clip_indices: np.ndarray) -> dict[str, Any]:
    """μ over the given clips (see :meth:`AlignedModel.confusion_clips`)."""
    confusion = functional.modality_confusion(
        *(model.hits(modality, clip_indices) for modality in ("a", "v", "av"))
    )
    results: dict[str, Any] = {ResultKey(part, "mu").format(): confusion[part] for part in MU_PARTS}
    results[ResultKey("mu", "num_clips").format()] = len(clip_indices)
    return results


def clip_set_difference(
    truth: GroundTruth,
    predictions: ModelPredictions | AlignedModel,
    clip_set: ClipSet,
    other_clip_set: ClipSet,
    **options: Any,
) -> dict[str, float]:
    """Every rate on ``clip_set`` minus the same rate on ``other_clip_set``.

    The paper's meta-label analysis in one call: for example ``"av/f1"`` of
    ``clip_set_difference(truth, predictions, "background_music", "no_background_music")``
    is ΔF1 for background music. Counts (``num_*``) are left out. ``options`` go to
    :func:`evaluate_predictions`; the model is aligned once for both sets.

    Example:
        >>> truth = GroundTruth.from_rows(
        ...     [{"video_id": f"x_00000{i}", "labels": [0], "modalities": ["AV"],
        ...       "background_music": i == 1, "static_image": False, "voice_over": False}
        ...      for i in (1, 2)], class_names=("dog", "cat"))
        >>> predictions = ModelPredictions.from_label_sets(
        ...     {"av": {"x_000001": ["dog"], "x_000002": ["cat"]}}, ("dog", "cat"))
        >>> delta = clip_set_difference(
        ...     truth, predictions, "background_music", "no_background_music")
        >>> delta["av/f1"]
        1.0
    """
    truth = as_ground_truth(truth)
    predictions = as_predictions(predictions, truth.class_names)
    alignment = {
        key: options.pop(key)
        for key in ("ks", "tie_break", "threshold", "sigmoid")
        if key in options
    }
    model = (
        predictions
        if isinstance(predictions, AlignedModel)
        else align(truth, predictions, **alignment)
    )
    with_set = evaluate_predictions(truth, model, clip_set=clip_set, **options)
    without = evaluate_predictions(truth, model, clip_set=other_clip_set, **options)
    return {
        key: with_set[key] - without[key]
        for key, value in with_set.items()
        if isinstance(value, float) and key in without and "num_" not in key
    }


def modality_confusion_per_clip(
    truth: GroundTruth,
    predictions: ModelPredictions | AlignedModel,
    *,
    clip_set: ClipSet = DEFAULT_CLIP_SET,
    tie_break: TieBreak = "reference",
    mu_ground_truth: str = "all_labels",
) -> dict[str, np.ndarray]:
    """Per clip, which inputs hit a true label: the clip-level view behind μ.

    Uses the same clips and rules as ``mu/*`` in :func:`evaluate_predictions` (every clip
    of the clip set for label sets; clips scored by all three inputs, top-1, for scores).

    Returns:
        ``video_id`` (array of ids) and boolean arrays ``hit_a``, ``hit_v``, ``hit_av``,
        ``confused_a`` (audio hits, audio-visual misses), ``confused_v`` and
        ``confused_a_and_v`` (both unimodal inputs hit, audio-visual misses).

    Raises:
        ValueError: The model lacks one of the three inputs.
    """
    model = (
        predictions
        if isinstance(predictions, AlignedModel)
        else align(
            truth, predictions, ks=(1,), tie_break=tie_break, mu_ground_truth=mu_ground_truth
        )
    )
    missing = [modality for modality in ("a", "v", "av") if modality not in model.inputs]
    if missing:
        raise ValueError(f"modality confusion needs inputs a, v and av; missing {missing}")
    clip_indices = model.confusion_clips(clip_set)
    hit = {modality: model.hits(modality, clip_indices) for modality in INPUT_MODALITIES}
    flags = functional.confused(*hit.values())
    return {
        "video_id": model.truth.video_ids[clip_indices],
        **{f"hit_{modality}": values for modality, values in hit.items()},
        **{f"confused_{part}": values for part, values in flags.items()},
    }


def _ranking_per_class(view: ColumnView) -> tuple[np.ndarray, np.ndarray]:
    # Block by block from the row-major scores: no whole transposed matrix.
    return ranking_metrics_of_rows(view.y_true, view.scores, view.score_rows)


def _per_class(model: AlignedModel, view: ColumnView) -> dict[str, Any]:
    names = model.truth.class_names
    result: dict[str, Any] = {}
    if model.kind == "labels":
        result["f1"] = _per_class_f1(view.y_true, view.y_pred, names)
        if view.scores is None:
            return result
    for k in model.ks if model.kind == "scores" else ():
        y_pred = functional.ranking_to_mask(view.ranking[:, :k], model.truth.num_classes)
        result[f"f1@{k}"] = _per_class_f1(view.y_true, y_pred, names)
    auc, average_precision = _ranking_per_class(view)
    result["auc_roc"] = _by_class(auc, names)
    result["auc_pr"] = _by_class(average_precision, names)
    return result


def _by_class(values: np.ndarray, class_names: Sequence[str]) -> dict[str, float | None]:
    """Per-class values keyed by class name; ``None`` where undefined (JSON-safe)."""
    return {
        name: None if np.isnan(value) else float(value)
        for name, value in zip(class_names, values, strict=True)
    }


def _per_class_f1(y_true: np.ndarray, y_pred: np.ndarray, class_names: Iterable[str]) -> dict:
    counts = functional.label_set_counts(y_true, y_pred)
    return _by_class(functional.per_class_f1(counts.tp, counts.fp, counts.fn), list(class_names))
