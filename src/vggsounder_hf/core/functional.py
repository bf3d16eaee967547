"""Pure, vectorised numpy implementations of every VGGSounder metric.

The pipeline is fixed: **validate** the arrays once at the public boundary, **count**
(:class:`LabelSetCounts`: per-class true/false positives and false negatives, and per-clip
outcomes summed), then apply **one formula per metric** (:data:`LABEL_SET_FORMULAS`,
:data:`RANKING_FORMULAS`). The single-metric functions (:func:`f1_score`,
:func:`precision_score`, ...) are views of that core, and so is top-k scoring, which only
counts differently. The formulas take counts with any leading axes, so a bootstrap passes
``(n_resamples, n_classes)`` counts through the very same code.

Nothing here knows about files, clip ids or modalities: :mod:`vggsounder_hf.core.evaluation`
builds the matrices and calls these functions.

Conventions follow the authors' reference implementation (scikit-learn with
``zero_division=0``):

* micro scores come from the counts summed over all classes, ``0.0`` when their
  denominator is zero;
* macro F1 averages the per-class F1 over *all* classes; a class absent from both the truth
  and the predictions scores ``0.0``;
* AUC-ROC and average precision are computed per class and averaged over the classes that
  have at least one positive and one negative clip (``0.0`` when there is none);
* an empty input (zero clips) gives ``nan`` for subset accuracy and hit.

Example:
    >>> import numpy as np
    >>> y_true = np.array([[1, 0, 1], [0, 1, 0]], dtype=bool)
    >>> y_pred = np.array([[1, 0, 0], [0, 1, 0]], dtype=bool)
    >>> round(f1_score(y_true, y_pred), 4)
    0.8
    >>> hit_rate(y_true, y_pred), subset_accuracy(y_true, y_pred)
    (1.0, 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

from vggsounder_hf.core.counting import (
    LabelSetCounts,
    check_label_matrices,
    column_counts,
    confusion_counts,
    label_set_counts,
    top_k_counts,
)
from vggsounder_hf.core.ranking import (
    average_precision_per_class,
    ranking_metrics_class_major,
    ranking_metrics_per_class,
    ranking_to_mask,
    roc_auc_per_class,
    top_k_mask,
    top_k_ranking,
)
from vggsounder_hf.core.schema import TIE_BREAKS, TieBreak

# The counting and ranking steps are re-exported: ``functional`` is the one import a user needs.
__all__ = [
    "LABEL_SET_FORMULAS", "RANKING_FORMULAS", "TIE_BREAKS", "LabelSetCounts", "TieBreak",
    "average_precision_per_class", "check_label_matrices", "column_counts", "confused",
    "confusion_counts",
    "d_prime", "f1_score", "hit_rate", "hits", "jaccard_score", "label_set_counts",
    "label_set_scores", "mean_over_defined", "modality_confusion", "per_class_f1",
    "precision_score", "ranking_metrics_class_major", "ranking_metrics_per_class",
    "ranking_scores", "ranking_to_mask", "recall_score", "roc_auc_per_class",
    "scores_from_counts", "subset_accuracy", "top_k_counts", "top_k_mask", "top_k_ranking",
    "top_k_scores",
]  # fmt: skip

# --------------------------------------------------------------------------- formulas


def _ratio(numerator: Any, denominator: Any, empty: float = 0.0) -> Any:
    """``numerator / denominator``, ``empty`` where the denominator is zero; a float for
    scalar input, an array for arrays."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    result = np.full(np.broadcast(numerator, denominator).shape, empty, dtype=np.float64)
    np.divide(numerator, denominator, out=result, where=denominator != 0)
    return float(result) if result.ndim == 0 else result


def per_class_f1(tp: Any, fp: Any, fn: Any) -> np.ndarray:
    """F1 of each class from its counts; ``0.0`` where the class never occurs.

    Example:
        >>> import numpy as np
        >>> per_class_f1(np.array([1, 0]), np.array([1, 0]), np.array([0, 0])).tolist()
        [0.6666666666666666, 0.0]
    """
    tp = np.asarray(tp)
    return np.asarray(_ratio(2 * tp, 2 * tp + np.asarray(fp) + np.asarray(fn)))


def _macro_f1(counts: LabelSetCounts) -> Any:
    per_class = per_class_f1(counts.tp, counts.fp, counts.fn)
    if per_class.shape[-1] == 0:
        return 0.0 if per_class.ndim == 1 else np.zeros(per_class.shape[:-1])
    mean = per_class.mean(axis=-1)
    return float(mean) if np.ndim(mean) == 0 else mean


def _micro(counts: LabelSetCounts) -> tuple[Any, Any, Any]:
    return counts.tp.sum(axis=-1), counts.fp.sum(axis=-1), counts.fn.sum(axis=-1)


def _micro_f1(counts: LabelSetCounts) -> Any:
    tp, fp, fn = _micro(counts)
    return _ratio(2 * tp, 2 * tp + fp + fn)


def _micro_precision(counts: LabelSetCounts) -> Any:
    tp, fp, _ = _micro(counts)
    return _ratio(tp, tp + fp)


def _micro_recall(counts: LabelSetCounts) -> Any:
    tp, _, fn = _micro(counts)
    return _ratio(tp, tp + fn)


def _micro_jaccard(counts: LabelSetCounts) -> Any:
    tp, fp, fn = _micro(counts)
    return _ratio(tp, tp + fp + fn)


LABEL_SET_FORMULAS: dict[str, Callable[[LabelSetCounts], Any]] = {
    "subset_accuracy": lambda counts: _ratio(counts.exact, counts.clips, empty=math.nan),
    "f1": _micro_f1,
    "f1_macro": _macro_f1,
    "precision": _micro_precision,
    "recall": _micro_recall,
    "jaccard": _micro_jaccard,
    "hit": lambda counts: _ratio(counts.hit, counts.clips, empty=math.nan),
}
"""One formula per label-set metric of :mod:`~vggsounder_hf.core.schema`'s registry."""


def scores_from_counts(counts: LabelSetCounts, metrics: Sequence[str] | None = None) -> dict:
    """The label-set metrics from counts: the single place where their formulas are applied.

    Example:
        >>> import numpy as np
        >>> one = np.array([1])
        >>> counts = LabelSetCounts(one, one, 0 * one, np.int64(0), np.int64(1), np.int64(1))
        >>> scores_from_counts(counts)["f1"]
        0.6666666666666666
    """
    names = LABEL_SET_FORMULAS if metrics is None else metrics
    return {name: LABEL_SET_FORMULAS[name](counts) for name in names}


def label_set_scores(y_true: Any, y_pred: Any) -> dict[str, float]:
    """Every label-set metric in one pass over the counts.

    Returns:
        ``subset_accuracy``, ``f1`` (micro), ``f1_macro``, ``precision``, ``recall``,
        ``jaccard`` (micro) and ``hit``, as fractions.

    Example:
        >>> import numpy as np
        >>> scores = label_set_scores(np.eye(2, dtype=bool), np.eye(2, dtype=bool))
        >>> scores["f1"], scores["hit"], scores["subset_accuracy"]
        (1.0, 1.0, 1.0)
    """
    return scores_from_counts(label_set_counts(y_true, y_pred))


def top_k_scores(
    y_true: np.ndarray, ranking: np.ndarray, ks: Sequence[int]
) -> dict[int, dict[str, float]]:
    """The label-set metrics of the top-k predictions, per ``k`` (see :func:`top_k_counts`).

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1, 0, 1], [0, 1, 0]], bool)
        >>> top_k_scores(y_true, np.array([[2, 1], [0, 2]]), (1,))[1]["hit"]
        0.5
    """
    return {
        k: scores_from_counts(counts) for k, counts in top_k_counts(y_true, ranking, ks).items()
    }


def f1_score(y_true: Any, y_pred: Any, average: str = "micro") -> float:
    """F1 score, micro- or macro-averaged over classes.

    ``macro`` averages over every column (309 for VGGSounder), scoring a class absent from
    both truth and predictions as ``0.0``, as the reference does.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1, 0, 0], [0, 1, 0]], bool)
        >>> f1_score(y_true, y_true), f1_score(y_true, y_true, average="macro")
        (1.0, 0.6666666666666666)
    """
    names = {"micro": "f1", "macro": "f1_macro"}
    if average not in names:
        raise ValueError(f"average must be 'micro' or 'macro', got {average!r}")
    return LABEL_SET_FORMULAS[names[average]](label_set_counts(y_true, y_pred))


def precision_score(y_true: Any, y_pred: Any) -> float:
    """Micro-averaged precision: correct predicted labels over predicted labels.

    Example:
        >>> import numpy as np
        >>> precision_score(np.array([[1, 0]], bool), np.array([[1, 1]], bool))
        0.5
    """
    return LABEL_SET_FORMULAS["precision"](label_set_counts(y_true, y_pred))


def recall_score(y_true: Any, y_pred: Any) -> float:
    """Micro-averaged recall: correct predicted labels over true labels.

    Example:
        >>> import numpy as np
        >>> recall_score(np.array([[1, 1]], bool), np.array([[1, 0]], bool))
        0.5
    """
    return LABEL_SET_FORMULAS["recall"](label_set_counts(y_true, y_pred))


def jaccard_score(y_true: Any, y_pred: Any) -> float:
    """Micro-averaged Jaccard index (intersection over union of the label sets).

    Example:
        >>> import numpy as np
        >>> jaccard_score(np.array([[1, 1, 0]], bool), np.array([[1, 0, 1]], bool))
        0.3333333333333333
    """
    return LABEL_SET_FORMULAS["jaccard"](label_set_counts(y_true, y_pred))


def subset_accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of clips whose predicted label set equals the true set.

    Example:
        >>> import numpy as np
        >>> subset_accuracy(np.eye(2, dtype=bool), np.array([[1, 0], [1, 1]], bool))
        0.5
    """
    return LABEL_SET_FORMULAS["subset_accuracy"](label_set_counts(y_true, y_pred))


def hit_rate(y_true: Any, y_pred: Any) -> float:
    """Fraction of clips with at least one correct predicted label.

    Example:
        >>> import numpy as np
        >>> hit_rate(np.eye(2, dtype=bool), np.array([[1, 1], [1, 0]], bool))
        0.5
    """
    return LABEL_SET_FORMULAS["hit"](label_set_counts(y_true, y_pred))


def hits(y_true: Any, y_pred: Any) -> np.ndarray:
    """Per clip: does at least one predicted label belong to the true set?

    Example:
        >>> import numpy as np
        >>> hits(np.eye(2, dtype=bool), np.array([[1, 1], [1, 0]], bool)).tolist()
        [True, False]
    """
    y_true, y_pred = check_label_matrices(y_true, y_pred)
    return np.any(y_true & y_pred, axis=1)


# --------------------------------------------------------------------------- ranking metrics


def mean_over_defined(per_class: np.ndarray) -> float:
    """Mean over the classes whose value is defined; ``0.0`` when none is (reference rule).

    Example:
        >>> import numpy as np
        >>> mean_over_defined(np.array([1.0, np.nan, 0.5]))
        0.75
    """
    defined = per_class[~np.isnan(per_class)]
    return float(defined.mean()) if defined.size else 0.0


def d_prime(auc_roc: float) -> float:
    """VGGSound's d′ (sensitivity index) from a mean AUC-ROC: ``sqrt(2) * Φ⁻¹(auc)``.

    ``Φ⁻¹`` is the standard normal quantile function (``statistics.NormalDist``); an AUC of
    exactly 0 or 1 gives minus or plus infinity, as ``scipy.stats.norm.ppf`` does.

    Example:
        >>> d_prime(0.5), round(d_prime(0.9), 6)
        (0.0, 1.812388)
    """
    if auc_roc <= 0.0:
        return -math.inf
    if auc_roc >= 1.0:
        return math.inf
    return math.sqrt(2.0) * NormalDist().inv_cdf(auc_roc)


RANKING_FORMULAS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "auc_roc": lambda auc, ap: mean_over_defined(auc),
    "auc_pr": lambda auc, ap: mean_over_defined(ap),
    "map": lambda auc, ap: mean_over_defined(ap),
    "d_prime": lambda auc, ap: d_prime(mean_over_defined(auc)),
}
"""One formula per ranking metric, from per-class AUC-ROC and average precision."""


def ranking_scores(auc_per_class: np.ndarray, ap_per_class: np.ndarray) -> dict[str, float]:
    """Every ranking metric from the per-class AUC-ROC and average precision.

    Example:
        >>> import numpy as np
        >>> scores = ranking_scores(np.array([0.5, np.nan]), np.array([1.0, np.nan]))
        >>> scores["auc_roc"], scores["map"], scores["d_prime"]
        (0.5, 1.0, 0.0)
    """
    return {
        name: formula(auc_per_class, ap_per_class) for name, formula in RANKING_FORMULAS.items()
    }


# --------------------------------------------------------------------------- confusion


def confused(hits_audio: Any, hits_video: Any, hits_audio_visual: Any) -> dict[str, np.ndarray]:
    """Per clip, which unimodal input hits while the audio-visual input misses: the flags
    behind μ, keyed by :data:`~vggsounder_hf.core.schema.MU_PARTS`.

    Example:
        >>> import numpy as np
        >>> flags = confused(np.array([1, 1], bool), np.array([1, 0], bool), np.array([0, 1], bool))
        >>> {part: values.tolist() for part, values in flags.items()}
        {'a': [True, False], 'v': [True, False], 'a_and_v': [True, False]}
    """
    audio = np.asarray(hits_audio, dtype=bool)
    video = np.asarray(hits_video, dtype=bool)
    audio_visual = np.asarray(hits_audio_visual, dtype=bool)
    if not audio.shape == video.shape == audio_visual.shape:
        raise ValueError(
            f"hit vectors differ in length: {audio.shape}, {video.shape}, {audio_visual.shape}"
        )
    missed = ~audio_visual
    return {"a": audio & missed, "v": video & missed, "a_and_v": audio & video & missed}


def modality_confusion(
    hits_audio: Any, hits_video: Any, hits_audio_visual: Any
) -> dict[str, float]:
    """Modality confusion rates from per-clip hits of the three inputs.

    Returns:
        ``a``: fraction of clips the audio input hits and the audio-visual input misses;
        ``v``: likewise for video; ``a_and_v``: both unimodal inputs hit, audio-visual misses.
        The denominator is every clip given (lower is better).

    Example:
        >>> import numpy as np
        >>> modality_confusion(np.array([1, 1, 0], bool), np.array([1, 0, 0], bool),
        ...                    np.array([0, 0, 0], bool))
        {'a': 0.6666666666666666, 'v': 0.3333333333333333, 'a_and_v': 0.3333333333333333}
    """
    flags = confused(hits_audio, hits_video, hits_audio_visual)
    return {
        part: float(np.mean(values)) if values.size else math.nan for part, values in flags.items()
    }
