"""Counting: what every label-set metric is computed from.

:func:`label_set_counts` counts a boolean prediction matrix against the truth and
:func:`top_k_counts` counts the top-k classes of a ranking, for several ``k`` at once; both
give :class:`LabelSetCounts`, which the formulas of :mod:`vggsounder_hf.core.functional` turn
into metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# --------------------------------------------------------------------------- validation


def check_label_matrices(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Both matrices as boolean ``(n_clips, n_classes)`` arrays of one shape.

    Raises:
        ValueError: Not 2-D, or the shapes differ.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 2 or y_pred.ndim != 2:
        raise ValueError(
            f"y_true and y_pred must be 2-D (clips x classes); got shapes {y_true.shape} "
            f"and {y_pred.shape}"
        )
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}")
    return y_true.astype(bool, copy=False), y_pred.astype(bool, copy=False)


# --------------------------------------------------------------------------- counting


@dataclass(frozen=True)
class LabelSetCounts:
    """What every label-set metric is computed from.

    Attributes:
        tp, fp, fn: Per-class true positives, false positives, false negatives
            (``(..., n_classes)``; leading axes for resamples).
        exact: Clips whose predicted set equals the true set (``(...)``).
        hit: Clips with at least one correct predicted label.
        clips: Clips counted.
    """

    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    exact: np.ndarray
    hit: np.ndarray
    clips: np.ndarray


def column_counts(mask: np.ndarray) -> np.ndarray:
    """Number of ``True`` entries in each column of a boolean matrix, as ``int64``.

    Sums blocks of 255 rows in ``uint8`` (which cannot overflow) before widening: about
    five times faster than ``mask.sum(axis=0)`` on VGGSounder-sized matrices.

    Example:
        >>> import numpy as np
        >>> column_counts(np.array([[1, 0], [1, 1]], bool)).tolist()
        [2, 1]
    """
    as_bytes = np.ascontiguousarray(mask, dtype=bool).view(np.uint8)
    blocked_rows = as_bytes.shape[0] // 255 * 255
    blocks = as_bytes[:blocked_rows].reshape(-1, 255, as_bytes.shape[1])
    counts = blocks.sum(axis=1, dtype=np.uint8).sum(axis=0, dtype=np.int64)
    return counts + as_bytes[blocked_rows:].sum(axis=0, dtype=np.int64)


def label_set_counts(y_true: Any, y_pred: Any) -> LabelSetCounts:
    """Count a boolean prediction matrix against the truth.

    Example:
        >>> import numpy as np
        >>> counts = label_set_counts(np.eye(2, dtype=bool), np.ones((2, 2), dtype=bool))
        >>> counts.tp.tolist(), counts.fp.tolist(), int(counts.exact), int(counts.hit)
        ([1, 1], [1, 1], 0, 2)
    """
    y_true, y_pred = check_label_matrices(y_true, y_pred)
    tp = column_counts(y_true & y_pred)
    exact = ~np.any(y_true != y_pred, axis=1)
    clip_hits = np.any(y_true & y_pred, axis=1)
    return LabelSetCounts(
        tp=tp,
        fp=column_counts(y_pred) - tp,
        fn=column_counts(y_true) - tp,
        exact=np.int64(exact.sum()),
        hit=np.int64(clip_hits.sum()),
        clips=np.int64(len(y_true)),
    )


def top_k_counts(
    y_true: np.ndarray, ranking: np.ndarray, ks: Sequence[int]
) -> dict[int, LabelSetCounts]:
    """:class:`LabelSetCounts` of the top-``k`` predictions for several ``k`` at once.

    Equal to ``label_set_counts(y_true, ranking_to_mask(ranking[:, :k], n_classes))``,
    computed from the truth of the ranked classes alone.

    Args:
        y_true: Boolean ``(n_clips, n_classes)`` ground truth.
        ranking: ``(n_clips, K)`` class indices, best first (see :func:`top_k_ranking`).
        ks: Cut-offs, each at most ``K``.
    """
    y_true = np.asarray(y_true, dtype=bool)
    n_clips, n_classes = y_true.shape
    ranked_truth = np.take_along_axis(y_true, ranking, axis=1)
    correct_up_to = np.cumsum(ranked_truth, axis=1)
    labels_per_clip = y_true.sum(axis=1)
    actual = column_counts(y_true)
    counts = {}
    for k in ks:
        top = ranking[:, :k]
        predicted = np.bincount(top.ravel(), minlength=n_classes)
        tp = np.bincount(top[ranked_truth[:, :k]], minlength=n_classes)
        correct = correct_up_to[:, k - 1] if n_clips else np.zeros(0, np.int64)
        counts[k] = LabelSetCounts(
            tp=tp,
            fp=predicted - tp,
            fn=actual - tp,
            exact=np.int64(((correct == k) & (labels_per_clip == k)).sum()),
            hit=np.int64((correct > 0).sum()),
            clips=np.int64(n_clips),
        )
    return counts


def confusion_counts(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class true positives, false positives and false negatives.

    Example:
        >>> import numpy as np
        >>> tp, fp, fn = confusion_counts(np.eye(2, dtype=bool), np.ones((2, 2), dtype=bool))
        >>> tp.tolist(), fp.tolist(), fn.tolist()
        ([1, 1], [1, 1], [0, 0])
    """
    counts = label_set_counts(y_true, y_pred)
    return counts.tp, counts.fp, counts.fn
