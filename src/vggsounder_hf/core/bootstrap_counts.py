"""Bootstrap resamples as weights: every metric of every resample from weighted per-clip counts.

A resample of ``N`` clips drawn with replacement is a row of multinomial counts, how often
each clip was drawn. Every label-set metric is a formula of sums of per-clip counts
(:class:`~vggsounder_hf.core.counting.LabelSetCounts`), so ``B`` resamples are one matrix
product: the ``(B, N)`` weight matrix times the per-clip, per-class indicator matrices. The
weighted counts then go through the very formulas of the point estimate
(:func:`vggsounder_hf.core.functional.scores_from_counts`), which take leading axes. With
every weight ``1`` the counts are the point estimate's counts, so the numbers are identical.

Integer weights are multiplicities, so the weighted counts equal the counts of the resampled
clip list exactly. They are computed in ``float32`` (the weight matrix's type) when ``N <
2**24``: every partial sum is an integer of at most ``N``, which ``float32`` represents exactly.

Per-class AUC-ROC and average precision (:func:`weighted_ranking_per_class`) sort each
class's scores once and reuse the sort for every resample. They cost about ``N x classes``
operations per resample (the label-set metrics far less), so they are resampled on the
first ``ranking_resamples`` rows of the same weights only (see
:mod:`vggsounder_hf.core.bootstrap`).

Example:
    >>> import numpy as np
    >>> weights = resample_weights(4, 3, seed=0)
    >>> weights.shape, weights.sum(axis=1).tolist()
    ((3, 4), [4.0, 4.0, 4.0])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vggsounder_hf.core import functional
from vggsounder_hf.core.alignment import AlignedModel, ColumnView
from vggsounder_hf.core.counting import LabelSetCounts, check_label_matrices
from vggsounder_hf.core.schema import INPUT_MODALITIES, MU_PARTS, ResultKey, column

__all__ = [
    "column_resamples",
    "confusion_resamples",
    "resample_weights",
    "resampled_results",
    "weighted_label_set_counts",
    "weighted_ranking_per_class",
]

_ROWS_PER_DRAW = 64
"""Resamples drawn per call of the generator: bounds the memory of the index draw. Part of
what a seed means (the draw order), so fixed."""

_LONG_SEGMENT = 64
"""Segments of at least this many clips are summed on their own (see ``_segment_sums``)."""

_FLOAT32_EXACT = 2**24
"""Below this, every integer (and so every weighted count of at most ``N``) is a float32."""


def resample_weights(num_clips: int, resamples: int, seed: int | None) -> np.ndarray:
    """``(resamples, num_clips)`` multinomial counts: row ``b`` says how often each clip was
    drawn in resample ``b`` (``num_clips`` draws with replacement, uniform).

    Drawn by ``numpy.random.default_rng(seed).integers`` and counted with one ``bincount``
    per block of rows; ``float32`` (exact, see the module docstring) unless ``num_clips``
    reaches ``2**24``.

    Example:
        >>> import numpy as np
        >>> np.array_equal(resample_weights(5, 2, 7), resample_weights(5, 2, 7))
        True
    """
    dtype = np.float32 if num_clips < _FLOAT32_EXACT else np.float64
    weights = np.zeros((resamples, num_clips), dtype=dtype)
    if num_clips == 0:
        return weights
    rng = np.random.default_rng(seed)
    for start in range(0, resamples, _ROWS_PER_DRAW):
        rows = min(_ROWS_PER_DRAW, resamples - start)
        drawn = rng.integers(0, num_clips, size=(rows, num_clips))
        drawn += np.arange(rows)[:, None] * num_clips  # one bincount for the whole block
        counts = np.bincount(drawn.ravel(), minlength=rows * num_clips)
        weights[start : start + rows] = counts.reshape(rows, num_clips)
    return weights


def _weighted_sums(weights: np.ndarray, indicators: np.ndarray) -> np.ndarray:
    """``weights @ indicators`` as ``int64``: exact (integers below ``2**24``)."""
    return (weights @ indicators.astype(weights.dtype, copy=False)).astype(np.int64)


def _clip_outcomes(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Per clip: exact match, hit, and a one (the clip itself), side by side.

    The per-clip terms that :func:`~vggsounder_hf.core.counting.label_set_counts` sums."""
    exact = ~np.any(y_true != y_pred, axis=1)
    hit = np.any(y_true & y_pred, axis=1)
    return np.stack([exact, hit, np.ones_like(exact)], axis=1)


def weighted_label_set_counts(
    weights: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, actual: np.ndarray | None = None
) -> LabelSetCounts:
    """:class:`LabelSetCounts` of every resample, with leading axis ``B``.

    One matrix product weights every per-clip term: the correct and the predicted labels
    of each class, exact match, hit and the clip count (and the true labels unless given).
    Classes absent from both truth and prediction count zero in every resample and are
    left out of the product.

    Args:
        weights: ``(B, n_clips)`` clip multiplicities (see :func:`resample_weights`).
        y_true, y_pred: Boolean ``(n_clips, n_classes)`` truth and prediction.
        actual: ``(B, n_classes)`` weighted true labels when already computed (top-k reuses
            them across ``k``).

    Example:
        >>> import numpy as np
        >>> y = np.eye(2, dtype=bool)
        >>> counts = weighted_label_set_counts(np.array([[2.0, 0.0]]), y, np.ones((2, 2), bool))
        >>> counts.tp.tolist(), counts.fp.tolist(), counts.hit.tolist(), counts.clips.tolist()
        ([[2, 0]], [[0, 2]], [2], [2])
    """
    y_true, y_pred = check_label_matrices(y_true, y_pred)
    active = np.flatnonzero(np.any(y_true, axis=0) | np.any(y_pred, axis=0))
    true_active, pred_active = y_true[:, active], y_pred[:, active]
    blocks = [true_active & pred_active, pred_active, _clip_outcomes(y_true, y_pred)]
    if actual is None:
        blocks.append(true_active)
    sums = _weighted_sums(weights, np.concatenate(blocks, axis=1))
    width = len(active)

    def per_class(block: int) -> np.ndarray:
        full = np.zeros((len(weights), y_true.shape[1]), dtype=np.int64)
        full[:, active] = sums[:, block * width : (block + 1) * width]
        return full

    tp = per_class(0)
    per_clip = sums[:, 2 * width : 2 * width + 3]
    if actual is None:
        actual = np.zeros_like(tp)
        actual[:, active] = sums[:, 2 * width + 3 :]
    return LabelSetCounts(
        tp=tp,
        fp=per_class(1) - tp,
        fn=actual - tp,
        exact=per_clip[:, 0],
        hit=per_clip[:, 1],
        clips=per_clip[:, 2],
    )


# --------------------------------------------------------------------------- ranking metrics


def _class_segments(scores: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """One sort of a class's scores, cut into segments whose weighted sums give AUC and AP.

    Clips are ordered by score, negatives before positives among equal scores. With ``m``
    distinct scores held by positives, segment ``3j`` holds the negatives scored strictly
    between the ``(j-1)``-th and ``j``-th such score, ``3j + 1`` the negatives tied with the
    ``j``-th, ``3j + 2`` the positives at it; ``3m`` the negatives above them all.

    Returns:
        The clip order, each ordered clip's segment (non-decreasing), and ``m``.
    """
    order = np.argsort(scores)  # ties in any order: the segments are made contiguous below
    sorted_scores = scores[order]
    sorted_truth = truth[order]
    group = np.cumsum(np.r_[False, sorted_scores[1:] != sorted_scores[:-1]])
    positive_group = np.zeros(group[-1] + 1, dtype=bool)
    positive_group[group[sorted_truth]] = True
    j = (np.cumsum(positive_group) - positive_group)[group]  # positive scores below
    segment = 3 * j + positive_group[group] + sorted_truth
    contiguous = np.argsort(segment, kind="stable")
    return order[contiguous], segment[contiguous], int(positive_group.sum())


def _segment_sums(
    order: np.ndarray, segment: np.ndarray, num_segments: int, weights_t: np.ndarray, totals
) -> np.ndarray:
    """``(num_segments, R)`` weighted clip counts per segment.

    The largest negative segment (usually the mass of negatives below or above the
    positives) is not summed but taken as the total minus the others: exact, and it skips
    most of the gather. Long segments are summed one by one (``sum`` is vectorised and
    several times faster per row than ``reduceat``), the many short ones (a positive, a
    tie) by one ``reduceat``."""
    sizes = np.bincount(segment, minlength=num_segments)
    negative_sizes = np.where(np.arange(num_segments) % 3 == 2, -1, sizes)
    largest = int(np.argmax(negative_sizes))
    sizes[largest] = 0
    sums = np.zeros((num_segments, weights_t.shape[1]))
    long = sizes >= _LONG_SEGMENT
    for chosen in (long, ~long & (sizes > 0)):
        indices = np.flatnonzero(chosen)
        if not indices.size:
            continue
        block = weights_t.take(order[chosen[segment]], axis=0)  # segment order: contiguous
        starts = np.cumsum(sizes[indices]) - sizes[indices]
        if chosen is long:
            for index, first in zip(indices, starts, strict=True):
                sums[index] = block[first : first + sizes[index]].sum(axis=0)
        else:
            sums[indices] = np.add.reduceat(block, starts, axis=0)
    sums[largest] = totals - sums.sum(axis=0)
    return sums


def _auc_and_ap(sums: np.ndarray, totals: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """AUC-ROC and average precision of every resample from the segment sums.

    The same counts as :func:`~vggsounder_hf.core.ranking.ranking_metrics_class_major`, with
    clips counted by their weights: the negatives below and tied with each positive (AUC),
    the clips and positives at or above each positive's score (precision)."""
    below, tied, positive = sums[0::3], sums[1::3], sums[2::3]
    negatives_below = np.cumsum(below[:m], axis=0) + np.cumsum(tied, axis=0) - tied
    positives_below = np.cumsum(positive, axis=0) - positive
    positives = positive.sum(axis=0)
    negatives = totals - positives
    twice_wins = (positive * (2 * negatives_below + tied)).sum(axis=0)  # integers: exact
    pairs = positives * negatives
    auc = np.full(len(totals), np.nan)
    np.divide(twice_wins / 2, pairs, out=auc, where=pairs > 0)
    at_or_above = totals - negatives_below - positives_below
    precision = np.zeros_like(at_or_above)
    np.divide(positives - positives_below, at_or_above, out=precision, where=at_or_above > 0)
    average_precision = np.full(len(totals), np.nan)
    np.divide((positive * precision).sum(axis=0), positives, out=average_precision, where=pairs > 0)
    return auc, average_precision


def weighted_ranking_per_class(
    y_true: np.ndarray, class_scores: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-class AUC-ROC and average precision of every resample, ``(R, n_classes)`` each.

    A clip of weight ``w`` counts as ``w`` copies of itself, so the values equal those of
    :func:`~vggsounder_hf.core.ranking.ranking_metrics_per_class` on the resampled clips:
    ``nan`` where a resample has no positive or no negative clip of the class.

    Args:
        y_true: Boolean ``(n_clips, n_classes)`` truth.
        class_scores: ``(n_classes, n_clips)`` scores (class-major, as the aligned model
            keeps them).
        weights: ``(R, n_clips)`` clip multiplicities.

    Example:
        >>> import numpy as np
        >>> y_true, scores = np.array([[1], [0], [1]], bool), np.array([[0.9, 0.5, 0.1]])
        >>> auc, ap = weighted_ranking_per_class(y_true, scores, np.array([[1, 1, 1], [0, 1, 2]]))
        >>> auc[:, 0].tolist(), ap.round(4)[:, 0].tolist()
        ([0.5, 0.0], [0.8333, 0.6667])
    """
    num_clips, num_classes = y_true.shape
    weights_t = np.ascontiguousarray(weights.T)
    totals = weights_t.sum(axis=0, dtype=np.float64)
    auc = np.full((len(weights), num_classes), np.nan)
    average_precision = np.full_like(auc, np.nan)
    class_truth = np.ascontiguousarray(y_true.T)
    positives_per_class = class_truth.sum(axis=1)
    for index in np.flatnonzero((positives_per_class > 0) & (positives_per_class < num_clips)):
        order, segment, m = _class_segments(class_scores[index], class_truth[index])
        sums = _segment_sums(order, segment, 3 * m + 1, weights_t, totals)
        auc[:, index], average_precision[:, index] = _auc_and_ap(sums, totals, m)
    return auc, average_precision


# --------------------------------------------------------------------------- one model


def column_resamples(
    model: AlignedModel, view: ColumnView, weights: np.ndarray, ranking_resamples: int
) -> dict[str, np.ndarray]:
    """Every rate of one column in every resample, keyed as in the point results.

    Args:
        model: The aligned model.
        view: The column on the clip set (:meth:`AlignedModel.column_view`).
        weights: ``(B, view.num_clips)``: the resample weights of the column's clips.
        ranking_resamples: Resamples (the first rows of ``weights``) for the ranking
            metrics of score models; ``0`` leaves them out.

    Returns:
        ``{result key: (B,) values}``; ``(ranking_resamples,)`` for ranking metrics.
    """
    name = view.spec.name
    values: dict[str, np.ndarray] = {}
    if model.kind == "labels":
        counts = weighted_label_set_counts(weights, view.y_true, view.y_pred)
        for metric, per_resample in functional.scores_from_counts(counts).items():
            values[ResultKey(name, metric).format()] = per_resample
        return values
    actual = _weighted_sums(weights, view.y_true)  # shared by every k
    for k in model.ks:
        y_pred = functional.ranking_to_mask(view.ranking[:, :k], model.truth.num_classes)
        counts = weighted_label_set_counts(weights, view.y_true, y_pred, actual)
        for metric, per_resample in functional.scores_from_counts(counts).items():
            values[ResultKey(name, metric, k).format()] = per_resample
    if ranking_resamples:
        auc, average_precision = weighted_ranking_per_class(
            view.y_true, view.class_scores, weights[:ranking_resamples]
        )
        for metric, formula in functional.RANKING_FORMULAS.items():
            values[ResultKey(name, metric).format()] = np.array(
                [formula(*per_class) for per_class in zip(auc, average_precision, strict=True)]
            )
    return values


def confusion_resamples(
    model: AlignedModel, clip_indices: np.ndarray, weights: np.ndarray
) -> dict[str, np.ndarray]:
    """μ in every resample: the weighted share of confused clips among μ's clips.

    Args:
        model: The aligned model (all three inputs).
        clip_indices: μ's clips (:meth:`AlignedModel.confusion_clips`).
        weights: ``(B, len(clip_indices))`` their resample weights.
    """
    confused = functional.confused(
        *(model.hits(modality, clip_indices) for modality in INPUT_MODALITIES)
    )
    flags = np.stack([confused[part] for part in MU_PARTS], axis=1)
    counts = _weighted_sums(weights, flags).astype(np.float64)
    totals = weights.sum(axis=1, dtype=np.float64)[:, None]
    rates = np.full(counts.shape, np.nan)
    np.divide(counts, totals, out=rates, where=totals > 0)
    return {ResultKey(part, "mu").format(): rates[:, i] for i, part in enumerate(MU_PARTS)}


def resampled_results(
    model: AlignedModel,
    mask: np.ndarray,
    weights: np.ndarray,
    *,
    columns: Sequence[str],
    modality_confusion: bool,
    ranking_resamples: int,
) -> dict[str, np.ndarray]:
    """Every rate of :func:`~vggsounder_hf.core.evaluation.score` in every resample.

    Args:
        model: The aligned model.
        mask: Boolean clip mask over the ground truth: the clips that are resampled.
        weights: ``(B, mask.sum())`` clip multiplicities, one column per clip of the mask
            in ground-truth order; the same rows weight every column and μ, so that the
            columns of one resample are the same drawn clips.
        columns: Column names as printed (already checked).
        modality_confusion: Include μ when the model has all three inputs.
        ranking_resamples: Resamples for the ranking metrics of score models.

    Raises:
        ValueError: ``weights`` has not one column per clip of the mask.
    """
    mask_indices = np.flatnonzero(mask)
    if weights.ndim != 2 or weights.shape[1] != len(mask_indices):
        raise ValueError(
            f"weights have shape {weights.shape}; expected (resamples, {len(mask_indices)}), "
            "one column per clip of the clip set"
        )
    values: dict[str, np.ndarray] = {}
    for name in columns:
        if column(name).input not in model.inputs:
            continue
        view = model.column_view(name, mask)
        positions = np.searchsorted(mask_indices, view.clips)
        values.update(
            column_resamples(model, view, np.take(weights, positions, axis=1), ranking_resamples)
        )
    if modality_confusion and model.has_all_inputs:
        clip_indices = model.confusion_clips(mask)
        positions = np.searchsorted(mask_indices, clip_indices)
        values.update(confusion_resamples(model, clip_indices, np.take(weights, positions, axis=1)))
    return values
