"""Score one model on VGGSounder: every column, every metric, modality confusion.

This is the one place that matches predictions to the ground truth and calls the metric
core (:mod:`vggsounder_hf.core.functional`); the ``evaluate`` module, the command line and the
Trainer hook all go through :func:`evaluate_predictions`.

Columns pair an input modality with a label subset, as in the paper:

============  =====================  =================================
column        predictions from       ground-truth labels
============  =====================  =================================
``a``         audio input ``a``      audible labels (A and AV)
``v``         video input ``v``      visible labels (V and AV)
``av``        audio-visual ``av``    labels both audible and visible
``a only``    audio input ``a``      labels audible only (A¬V)
``v only``    video input ``v``      labels visible only (V¬A)
============  =====================  =================================

A clip takes part in a column when it has at least one label of the column's subset.
Clips of the clip set with no prediction count as empty predictions for label sets (a
miss) and are left out for scores, exactly like the reference; predictions for clips
outside the clip set are ignored.

Result names are ``"<column>/<metric>"`` with the column's space written as ``_``
(``a``, ``v``, ``av``, ``a_only``, ``v_only``):

* label sets: ``subset_accuracy``, ``f1``, ``f1_macro``, ``precision``, ``recall``,
  ``jaccard``, ``hit``;
* scores: each of those as ``<metric>@<k>`` for every ``k``, plus ``auc_roc`` and
  ``auc_pr``;
* ``num_clips`` (clips scored in the column) and ``num_missing`` (clips of the column
  without a prediction);
* modality confusion ``mu/a``, ``mu/v``, ``mu/a_and_v`` and ``mu/num_clips`` when the
  model has all three inputs; top-1 predictions for scores;
* ``num_unknown_labels``: predicted names that are not classes (ignored).

All values are fractions in ``[0, 1]`` (counts are integers).

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

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from vggsounder_hf.core import functional
from vggsounder_hf.core.clip_sets import DEFAULT_CLIP_SET, ClipSet
from vggsounder_hf.core.ground_truth import COLUMNS, GroundTruth
from vggsounder_hf.core.predictions import INPUT_MODALITIES, ModelPredictions

DEFAULT_KS: tuple[int, ...] = (1, 3, 5, 10)
LABEL_SET_METRICS: tuple[str, ...] = (
    "subset_accuracy",
    "f1",
    "f1_macro",
    "precision",
    "recall",
    "jaccard",
    "hit",
)
COLUMN_INPUT: dict[str, str] = {"a": "a", "v": "v", "av": "av", "a only": "a", "v only": "v"}


def column_key(column: str) -> str:
    """The name of a column in result keys: ``"a only"`` -> ``"a_only"``."""
    return column.replace(" ", "_")


def evaluate_predictions(
    truth: GroundTruth,
    predictions: ModelPredictions,
    *,
    clip_set: ClipSet = DEFAULT_CLIP_SET,
    columns: Sequence[str] = COLUMNS,
    ks: Sequence[int] = DEFAULT_KS,
    tie_break: functional.TieBreak = "reference",
    modality_confusion: bool = True,
    per_class: bool = False,
) -> dict[str, Any]:
    """Every VGGSounder metric of one model.

    Args:
        truth: The ground truth (a whole release, or any set of clips).
        predictions: The model's predictions, label sets or scores.
        clip_set: Which clips of ``truth`` to score (see :mod:`vggsounder_hf.core.clip_sets`);
            ``"default"`` is the reference's default, clips without background music.
        columns: Subset of ``("a", "v", "av", "a only", "v only")``. Columns whose input
            modality the model lacks are left out.
        ks: Top-k cut-offs for score predictions.
        tie_break: ``"reference"`` (numpy's default argsort, as the authors; tied scores may
            then resolve differently on different CPUs) or ``"lowest_index"``
            (deterministic). See :func:`vggsounder_hf.core.functional.top_k_ranking`.
        modality_confusion: Compute μ when the model has all three inputs.
        per_class: Also return ``"per_class"``: per column, per-class F1 (and for scores
            average precision and AUC-ROC) keyed by class name.

    Returns:
        A flat ``dict`` of results (see the module docstring for the names), plus
        ``"per_class"`` when asked (``None`` for a class whose AUC is undefined).

    Raises:
        ValueError: Unknown column, bad ``ks``, or class lists that differ.
    """
    unknown_columns = [column for column in columns if column not in COLUMNS]
    if unknown_columns:
        raise ValueError(f"unknown column(s) {unknown_columns}; use {COLUMNS}")
    ks = checked_ks(ks, truth.num_classes) if predictions.kind == "scores" else ()
    selected, aligned, predicted, rankings = _matched_inputs(
        truth, predictions, clip_set, max(ks, default=1), tie_break
    )
    results: dict[str, Any] = {}
    per_class_results: dict[str, Any] = {}
    class_major_scores = (
        {modality: np.ascontiguousarray(scores.T) for modality, (_, scores) in aligned.items()}
        if predictions.kind == "scores"
        else {}
    )
    for column in columns:
        modality = COLUMN_INPUT[column]
        if modality not in aligned:
            continue
        column_truth = selected.labels(column)
        in_column = column_truth.any(axis=1)
        rows = aligned[modality][0]
        has_prediction = rows >= 0
        key = column_key(column)
        results[f"{key}/num_clips"] = int(
            in_column.sum() if predictions.kind == "labels" else (in_column & has_prediction).sum()
        )
        results[f"{key}/num_missing"] = int((in_column & ~has_prediction).sum())
        if predictions.kind == "labels":
            y_true = column_truth[in_column]
            y_pred = predicted[modality][in_column]
            results.update(_prefixed(key, functional.label_set_scores(y_true, y_pred)))
            if per_class:
                per_class_results[key] = {"f1": _per_class_f1(y_true, y_pred, truth.class_names)}
            continue
        scored = in_column & has_prediction
        y_true = column_truth[scored]
        ranking = rankings[modality][rows[scored]]
        column_per_class: dict[str, Any] = {}
        for k, scores_at_k in functional.top_k_scores(y_true, ranking, ks).items():
            results.update(_prefixed(key, {f"{name}@{k}": v for name, v in scores_at_k.items()}))
            if per_class:
                y_pred = functional.ranking_to_mask(ranking[:, :k], truth.num_classes)
                column_per_class[f"f1@{k}"] = _per_class_f1(y_true, y_pred, truth.class_names)
        auc_roc, average_precision = functional.ranking_metrics_class_major(
            np.ascontiguousarray(y_true.T), class_major_scores[modality][:, rows[scored]]
        )
        results[f"{key}/auc_roc"] = functional.mean_over_defined(auc_roc)
        results[f"{key}/auc_pr"] = functional.mean_over_defined(average_precision)
        if per_class:
            column_per_class["auc_roc"] = _by_class(auc_roc, truth.class_names)
            column_per_class["auc_pr"] = _by_class(average_precision, truth.class_names)
            per_class_results[key] = column_per_class
    if modality_confusion and all(modality in aligned for modality in INPUT_MODALITIES):
        results.update(_modality_confusion(selected, aligned, predicted, rankings))
    results["num_unknown_labels"] = int(sum(predictions.unknown_labels.values()))
    if per_class:
        results["per_class"] = per_class_results
    return results


def clip_set_difference(
    truth: GroundTruth,
    predictions: ModelPredictions,
    clip_set: ClipSet,
    other_clip_set: ClipSet,
    **options: Any,
) -> dict[str, float]:
    """Every rate on ``clip_set`` minus the same rate on ``other_clip_set``.

    The paper's meta-label analysis in one call: for example ``"av/f1"`` of
    ``clip_set_difference(truth, predictions, "background_music", "no_background_music")``
    is ΔF1 for background music. Counts (``num_*``) are left out. ``options`` go to
    :func:`evaluate_predictions`.

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
    with_set = evaluate_predictions(truth, predictions, clip_set=clip_set, **options)
    without = evaluate_predictions(truth, predictions, clip_set=other_clip_set, **options)
    return {
        key: with_set[key] - without[key]
        for key, value in with_set.items()
        if isinstance(value, float) and key in without and "num_" not in key
    }


def modality_confusion_per_clip(
    truth: GroundTruth,
    predictions: ModelPredictions,
    *,
    clip_set: ClipSet = DEFAULT_CLIP_SET,
    tie_break: functional.TieBreak = "reference",
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
    missing = [modality for modality in INPUT_MODALITIES if modality not in predictions.inputs]
    if missing:
        raise ValueError(f"modality confusion needs inputs a, v and av; missing {missing}")
    selected, aligned, predicted, rankings = _matched_inputs(
        truth, predictions, clip_set, 1, tie_break
    )
    clips, clip_hits = _clip_hits(selected, aligned, predicted, rankings)
    missed = ~clip_hits["av"]
    return {
        "video_id": selected.video_ids[clips],
        "hit_a": clip_hits["a"],
        "hit_v": clip_hits["v"],
        "hit_av": clip_hits["av"],
        "confused_a": clip_hits["a"] & missed,
        "confused_v": clip_hits["v"] & missed,
        "confused_a_and_v": clip_hits["a"] & clip_hits["v"] & missed,
    }


def checked_ks(ks: Iterable[int], num_classes: int) -> tuple[int, ...]:
    """``ks`` as a tuple of ints, each a valid top-k cut-off for ``num_classes`` classes.

    Example:
        >>> checked_ks([1, 5], 309)
        (1, 5)
    """
    checked = tuple(ks)
    if not checked:
        raise ValueError("ks must name at least one top-k cut-off")
    for k in checked:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= num_classes:
            raise ValueError(f"every k must be an integer between 1 and {num_classes}; got {k!r}")
    return tuple(int(k) for k in checked)


def _matched_inputs(
    truth: GroundTruth,
    predictions: ModelPredictions,
    clip_set: ClipSet,
    top_k: int,
    tie_break: functional.TieBreak,
) -> tuple[GroundTruth, dict, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The clips of the clip set and, per input, what the metrics start from.

    Returns ``(selected, aligned, predicted, rankings)``: the selected ground truth; per
    input the row of each selected clip's prediction (``-1`` if none) and the prediction
    matrix; for label sets the predicted labels on the selected clips' rows; for scores the
    ``top_k`` best classes of every prediction row.
    """
    if tuple(predictions.class_names) != tuple(truth.class_names):
        raise ValueError("predictions and ground truth use different class lists")
    selected = truth.select(clip_set)
    aligned = _align_inputs(selected, predictions)
    if predictions.kind == "labels":
        predicted = {
            modality: _predicted_rows(matrix, rows) for modality, (rows, matrix) in aligned.items()
        }
        return selected, aligned, predicted, {}
    rankings = {
        modality: functional.top_k_ranking(matrix, top_k, tie_break)
        for modality, (_, matrix) in aligned.items()
    }
    return selected, aligned, {}, rankings


def _align_inputs(
    truth: GroundTruth, predictions: ModelPredictions
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per input: for each ground-truth clip the row of its prediction (``-1`` if none),
    and the prediction matrix. Inputs sharing one id array are matched once."""
    aligned = {}
    rows_by_ids: dict[int, np.ndarray] = {}
    for modality in predictions.input_modalities:
        input_predictions = predictions[modality]
        ids_key = id(input_predictions.video_ids)
        if ids_key not in rows_by_ids:
            truth_rows = truth.row_of(input_predictions.video_ids)
            inside = truth_rows >= 0
            rows = np.full(len(truth), -1, dtype=np.int64)
            rows[truth_rows[inside]] = np.flatnonzero(inside)
            rows_by_ids[ids_key] = rows
        aligned[modality] = (rows_by_ids[ids_key], input_predictions.matrix)
    return aligned


def _predicted_rows(matrix: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``matrix[rows]`` with an empty (all-False) row wherever ``rows`` is ``-1``."""
    with_empty_row = np.concatenate([matrix, np.zeros((1, matrix.shape[1]), matrix.dtype)])
    return with_empty_row[rows]  # -1 picks the appended empty row


def _prefixed(key: str, values: dict[str, float]) -> dict[str, float]:
    return {f"{key}/{name}": value for name, value in values.items()}


def _by_class(values: np.ndarray, class_names: Sequence[str]) -> dict[str, float | None]:
    """Per-class values keyed by class name; ``None`` where undefined (JSON-safe)."""
    return {
        name: None if np.isnan(value) else float(value)
        for name, value in zip(class_names, values, strict=True)
    }


def _per_class_f1(y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]) -> dict:
    return _by_class(
        functional.per_class_f1(*functional.confusion_counts(y_true, y_pred)), class_names
    )


def _clip_hits(
    truth: GroundTruth,
    aligned: dict[str, tuple[np.ndarray, np.ndarray]],
    predicted: dict[str, np.ndarray],
    rankings: dict[str, np.ndarray],
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The clips μ is computed over, and per input whether each of them is hit."""
    all_labels = truth.labels("all")
    if predicted:
        clips = np.ones(len(truth), dtype=bool)
        return clips, {
            modality: functional.hits(all_labels, predicted_labels)
            for modality, predicted_labels in predicted.items()
        }
    clips = np.logical_and.reduce([rows >= 0 for rows, _ in aligned.values()])
    clip_hits = {}
    for modality, (rows, _) in aligned.items():
        top_1 = rankings[modality][rows[clips]][:, :1]
        clip_hits[modality] = functional.hits(
            all_labels[clips], functional.ranking_to_mask(top_1, truth.num_classes)
        )
    return clips, clip_hits


def _modality_confusion(
    truth: GroundTruth,
    aligned: dict[str, tuple[np.ndarray, np.ndarray]],
    predicted: dict[str, np.ndarray],
    rankings: dict[str, np.ndarray],
) -> dict[str, float]:
    """μ over every clip (label sets) or over clips scored by all three inputs (top-1)."""
    clips, clip_hits = _clip_hits(truth, aligned, predicted, rankings)
    confusion = functional.modality_confusion(clip_hits["a"], clip_hits["v"], clip_hits["av"])
    results = {f"mu/{name}": value for name, value in confusion.items()}
    results["mu/num_clips"] = int(clips.sum())
    return results
