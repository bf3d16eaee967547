"""Ranking score predictions: top-k class rankings, thresholds, per-class AUC-ROC and average
precision.

Score predictions become label sets in one of two ways, side by side:

==================  ===================================  ======================================
prediction rule     predicted classes of a clip          where
==================  ===================================  ======================================
top-k (default)     its ``k`` highest scores             :func:`top_k_ranking`, ``ks=``
threshold           every class with ``score > t``       :func:`threshold_mask`, ``threshold=``
                    (``sigmoid(score) > t`` with
                    ``sigmoid=True``, as torchmetrics)
==================  ===================================  ======================================

AUC-ROC and average precision come from one sort of each class's scores plus binary search,
with ties counted exactly (the AUC numerator is an integer plus halves). The averages over
classes and everything derived from them (mAP, d′) are formulas in
:mod:`vggsounder_hf.core.functional`.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np

from vggsounder_hf.core.ranking_blocks import top_k_rows
from vggsounder_hf.core.schema import TIE_BREAKS, TieBreak


def check_scores(y_true: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true).astype(bool, copy=False)
    scores = np.asarray(scores, dtype=np.float64)
    if y_true.ndim != 2 or y_true.shape != scores.shape:
        raise ValueError(
            f"y_true and scores must be 2-D arrays of one shape; got {y_true.shape} and "
            f"{scores.shape}"
        )
    if not np.isfinite(scores).all():
        raise ValueError("scores contain NaN or infinite values")
    return y_true, scores


def roc_auc_per_class(y_true: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Area under the ROC curve of every class, ``nan`` where it is undefined.

    Computed as the Mann-Whitney statistic with tied scores sharing their average rank,
    which equals the trapezoidal area under scikit-learn's ROC curve. A class without a
    positive or without a negative clip has no ROC curve and gets ``nan``.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1, 0], [0, 0], [1, 1]], bool)
        >>> scores = np.array([[0.9, 0.1], [0.2, 0.3], [0.4, 0.3]])
        >>> roc_auc_per_class(y_true, scores).tolist()
        [1.0, 0.75]
    """
    return ranking_metrics_per_class(y_true, scores)[0]


def average_precision_per_class(y_true: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Average precision (area under the precision-recall curve) of every class.

    Uses scikit-learn's definition, ``sum_n (R_n - R_{n-1}) P_n`` over the distinct score
    thresholds, so clips with tied scores enter together. ``nan`` for a class without a
    positive clip or without a negative clip (the reference skips those classes).

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1], [0], [1]], bool)
        >>> average_precision_per_class(y_true, np.array([[0.9], [0.5], [0.1]])).round(4).tolist()
        [0.8333]
    """
    return ranking_metrics_per_class(y_true, scores)[1]


def ranking_metrics_per_class(
    y_true: np.ndarray, scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """AUC-ROC and average precision of every class, from one sort of each class's scores.

    Each positive clip is located among all clips and among the positives by binary search
    in the sorted scores; this gives, with ties counted exactly, the negatives it outranks
    (AUC) and the precision at its score threshold (AP). Both are ``nan`` for a class
    without a positive or without a negative clip.

    Example:
        >>> import numpy as np
        >>> y_true, scores = np.array([[1], [0]], bool), np.array([[2.0], [1.0]])
        >>> auc, ap = ranking_metrics_per_class(y_true, scores)
        >>> auc.tolist(), ap.tolist()
        ([1.0], [1.0])
    """
    y_true, scores = check_scores(y_true, scores)
    return ranking_metrics_class_major(
        np.ascontiguousarray(y_true.T), np.ascontiguousarray(scores.T)
    )


def ranking_metrics_class_major(
    class_truth: np.ndarray, class_scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`ranking_metrics_per_class` for ``(n_classes, n_clips)`` arrays.

    The evaluation layer keeps scores class-major, so that every column's clips are one
    gather away; ``class_scores`` must be finite (it is not copied and not checked again).
    """
    n_classes, n_clips = class_truth.shape
    auc = np.full(n_classes, np.nan)
    average_precision = np.full(n_classes, np.nan)
    positives_per_class = class_truth.sum(axis=1)
    positive_scores_by_class = np.split(
        class_scores[class_truth], np.cumsum(positives_per_class)[:-1]
    )
    sorted_scores = np.sort(class_scores, axis=1)
    for index in np.flatnonzero((positives_per_class > 0) & (positives_per_class < n_clips)):
        positives = int(positives_per_class[index])
        positive_scores = positive_scores_by_class[index]
        sorted_positive_scores = np.sort(positive_scores)
        below = np.searchsorted(sorted_scores[index], positive_scores, "left")
        up_to = np.searchsorted(sorted_scores[index], positive_scores, "right")
        positives_below = np.searchsorted(sorted_positive_scores, positive_scores, "left")
        positives_up_to = np.searchsorted(sorted_positive_scores, positive_scores, "right")
        negatives_below = below - positives_below
        negatives_tied = (up_to - below) - (positives_up_to - positives_below)
        # Integer counts and halves: the AUC numerator is exact.
        wins = negatives_below.sum() + 0.5 * negatives_tied.sum()
        auc[index] = wins / (positives * (n_clips - positives))
        precision = (positives - positives_below) / (n_clips - below)
        average_precision[index] = precision.sum() / positives
    return auc, average_precision


def top_k_ranking(scores: Any, k: int, tie_break: TieBreak = "reference") -> np.ndarray:
    """Indices of the ``k`` highest-scoring classes of every clip, best first.

    Args:
        scores: ``(n_clips, n_classes)`` scores.
        k: How many classes to keep per clip (``1 <= k <= n_classes``).
        tie_break: ``"reference"`` reproduces the authors' code exactly: for every
            ``j <= k``, the first ``j`` columns are the classes of the last ``j`` columns of
            numpy's default (unstable) ``argsort``; among tied scores its choice depends on
            the CPU. ``"lowest_index"`` is deterministic: among tied scores the class listed
            first wins.

    Example:
        >>> import numpy as np
        >>> top_k_ranking(np.array([[0.1, 0.9, 0.5]]), 2).tolist()
        [[1, 2]]
        >>> top_k_ranking(np.array([[1.0, 1.0, 0.0]]), 1, tie_break="lowest_index").tolist()
        [[0]]
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D (clips x classes), got shape {scores.shape}")
    n_classes = scores.shape[1]
    if not 1 <= k <= n_classes:
        raise ValueError(f"k must be between 1 and {n_classes}, got {k}")
    if tie_break not in TIE_BREAKS:
        raise ValueError(f"tie_break must be one of {TIE_BREAKS}, got {tie_break!r}")
    # The k + 1 best of each row by partition; a full sort only for rows tied at the cut.
    return top_k_rows(scores, k, tie_break)


def ranking_to_mask(ranking: np.ndarray, num_classes: int) -> np.ndarray:
    """Turn ``(n_clips, k)`` class indices into a boolean ``(n_clips, num_classes)`` matrix.

    Example:
        >>> ranking_to_mask(np.array([[2], [0]]), 3).astype(int).tolist()
        [[0, 0, 1], [1, 0, 0]]
    """
    mask = np.zeros((ranking.shape[0], num_classes), dtype=bool)
    np.put_along_axis(mask, ranking, True, axis=1)
    return mask


def top_k_mask(scores: Any, k: int, tie_break: TieBreak = "reference") -> np.ndarray:
    """Boolean prediction matrix with the ``k`` best classes of each clip set.

    Example:
        >>> import numpy as np
        >>> top_k_mask(np.array([[0.1, 0.9, 0.5]]), 1).astype(int).tolist()
        [[0, 1, 0]]
    """
    return ranking_to_mask(top_k_ranking(scores, k, tie_break), np.shape(scores)[1])


def checked_threshold(threshold: Any, sigmoid: bool = False) -> float | None:
    """``threshold`` as a float (``None`` stays ``None``: top-k), checked.

    Raises:
        ValueError: Not a finite real number (booleans are not thresholds), outside
            ``[0, 1]`` with ``sigmoid=True`` (a logistic value never leaves it), or
            ``sigmoid=True`` without a threshold.

    Example:
        >>> checked_threshold(0.5, sigmoid=True), checked_threshold(None)
        (0.5, None)
    """
    if threshold is None:
        if sigmoid:
            raise ValueError("sigmoid=True applies the logistic before threshold=; pass one")
        return None
    if isinstance(threshold, bool) or not isinstance(threshold, Real):
        raise ValueError(f"threshold must be a real number, got {threshold!r}")
    value = float(threshold)
    if not math.isfinite(value):
        raise ValueError(f"threshold must be finite, got {threshold!r}")
    if sigmoid and not 0.0 <= value <= 1.0:
        raise ValueError(
            f"with sigmoid=True the threshold compares probabilities: it must be between 0 and "
            f"1, got {threshold!r}"
        )
    return value


def threshold_mask(scores: Any, threshold: float, sigmoid: bool = False) -> np.ndarray:
    """Boolean prediction matrix: every class whose score is strictly above ``threshold``.

    Args:
        scores: ``(n_clips, n_classes)`` scores (logits with ``sigmoid=True``).
        threshold: The cut-off (see :func:`checked_threshold`).
        sigmoid: Apply the logistic function ``1 / (1 + exp(-score))`` first, as
            torchmetrics does for logits, so that ``threshold=0.5`` means probability > 0.5.

    Example:
        >>> import numpy as np
        >>> threshold_mask(np.array([[0.2, 0.7, 0.5]]), 0.5).astype(int).tolist()
        [[0, 1, 0]]
        >>> threshold_mask(np.array([[-1.0, 0.0, 2.0]]), 0.5, sigmoid=True).astype(int).tolist()
        [[0, 0, 1]]
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D (clips x classes), got shape {scores.shape}")
    cut = checked_threshold(threshold, sigmoid)
    if not sigmoid:
        return scores > cut
    return sigmoid_of(scores) > cut


def sigmoid_of(scores: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow for large negative scores.

    Example:
        >>> sigmoid_of(np.array([-1000.0, 0.0, 1000.0])).tolist()
        [0.0, 0.5, 1.0]
    """
    small = np.exp(-np.abs(scores))  # exp(-|x|) never overflows
    return np.where(scores >= 0, 1.0 / (1.0 + small), small / (1.0 + small))
