"""Ranking a score matrix in bounded memory: top-k of each clip, and per-class AUC-ROC and
average precision of a column's clips, read straight from the row-major score matrix.

Both give exactly the numbers of the whole-matrix formulas of
:mod:`vggsounder_hf.core.ranking` (tested bit for bit), with temporaries of a few MB whatever
the number of clips, so that the cost stays linear in clips (fresh memory is expensive: every
new page is a page fault):

* :func:`top_k_rows`: the ``k`` best classes of each clip from ``np.argpartition`` and a sort
  of the ``k + 1`` best scores, block of rows by block of rows. A row whose ``k + 1`` best
  scores are all distinct has one answer under any tie rule; the other rows (ties at or above
  the cut) are ranked by the rule's own full sort of that row, as before.
* :func:`ranking_metrics_of_rows`: blocks of classes are gathered and transposed from the
  chosen rows into one reused buffer and sorted there, instead of transposing and gathering
  whole matrices; every count is the same integer, every precision the same quotient, summed
  in the same order, as in
  :func:`~vggsounder_hf.core.ranking.ranking_metrics_class_major`. A block whose scores are
  all ``float32`` values exactly (a network's outputs) is sorted as ``float32``: the same
  order and ties in two thirds of the time.

Example:
    >>> import numpy as np
    >>> top_k_rows(np.array([[0.1, 0.9, 0.5], [1.0, 1.0, 0.0]]), 2, "lowest_index").tolist()
    [[1, 2], [0, 1]]
    >>> auc, ap = ranking_metrics_of_rows(
    ...     np.array([[1], [0]], bool), np.array([[2.0], [1.0]]), np.array([0, 1]))
    >>> auc.tolist(), ap.tolist()
    ([1.0], [1.0])
"""

from __future__ import annotations

import numpy as np

__all__ = ["BLOCK_ELEMENTS", "full_sort_top_k", "ranking_metrics_of_rows", "top_k_rows"]

BLOCK_ELEMENTS = 1 << 19
"""Elements of the score matrix handled per block (4 MB of float64): large enough for numpy's
per-call cost to vanish (1, 2 and 4 MB blocks score the test set in the same time), small
enough to be reused memory instead of fresh pages, one block per scoring thread."""
_ROW_BLOCK_ELEMENTS = 1 << 18
"""Elements per block of rows in :func:`top_k_rows` (2 MB, in cache)."""
_TILE_ELEMENTS = 1 << 16
"""Elements per tile of a gather-and-transpose (512 KB, in cache)."""
_MOSTLY_TIED = 0.3
"""Fraction of tied rows in the first block above which :func:`top_k_rows` sorts every row:
the full sort then costs less than a partition followed by sorting most rows anyway."""


def full_sort_top_k(scores: np.ndarray, k: int, tie_break: str) -> np.ndarray:
    """The ``k`` best classes of each row by one full sort: the definition of each tie rule
    (``"reference"``: the last ``k`` columns of numpy's default ``argsort``, reversed)."""
    if tie_break == "lowest_index":
        return np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.argsort(scores, axis=1)[:, : -k - 1 : -1]


def top_k_rows(scores: np.ndarray, k: int, tie_break: str = "reference") -> np.ndarray:
    """:func:`full_sort_top_k` of a 2-D float64 matrix, without sorting whole rows where
    their ``k + 1`` best scores are distinct (then every tie rule gives the same classes)."""
    n_rows, n_classes = scores.shape
    if k + 1 >= n_classes or n_rows == 0:
        return full_sort_top_k(scores, k, tie_break)
    ranking = np.empty((n_rows, k), dtype=np.intp)
    step = max(1, _ROW_BLOCK_ELEMENTS // n_classes)
    cut = n_classes - k - 1
    tied_fraction = 0.0
    for start in range(0, n_rows, step):
        block = scores[start : start + step]
        if tied_fraction > _MOSTLY_TIED:  # known from the first block
            ranking[start : start + len(block)] = full_sort_top_k(block, k, tie_break)
            continue
        best = np.argpartition(block, cut, axis=1)[:, cut:]  # the k + 1 best, any order
        values = np.take_along_axis(block, best, axis=1)
        order = np.argsort(values, axis=1)
        values = np.take_along_axis(values, order, axis=1)
        best = np.take_along_axis(best, order, axis=1)
        out = ranking[start : start + len(block)]
        out[...] = best[:, :0:-1]  # the k best, best first
        # NaN compares false: such rows are tied rows too, ranked by the full sort.
        tied = ~(values[:, 1:] > values[:, :-1]).all(axis=1)
        if tied.any():
            out[tied] = full_sort_top_k(block[tied], k, tie_break)
        if not start:
            tied_fraction = np.count_nonzero(tied) / len(block)
    return ranking


def ranking_metrics_of_rows(
    y_true: np.ndarray, scores: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """AUC-ROC and average precision of every class over the clips ``rows`` of a row-major
    ``(n_prediction_rows, n_classes)`` score matrix, ``y_true`` being their ``(len(rows),
    n_classes)`` boolean truth: ``ranking_metrics_class_major(y_true.T, scores[rows].T)``
    without either transposed matrix. ``nan`` for a class without a positive or a negative.
    """
    n_clips, n_classes = y_true.shape
    auc = np.full(n_classes, np.nan)
    average_precision = np.full(n_classes, np.nan)
    if n_clips == 0:
        return auc, average_precision
    # At least 8 classes (64 bytes of each row) per block: fewer would read every cache line
    # of the rows several times over.
    step = min(n_classes, max(8, BLOCK_ELEMENTS // n_clips))
    buffer = np.empty(step * n_clips, dtype=np.float64)
    narrow = np.empty(step * n_clips, dtype=np.float32)
    for first in range(0, n_classes, step):
        last = min(first + step, n_classes)
        block = buffer[: (last - first) * n_clips].reshape(last - first, n_clips)
        _gather_transposed(scores, rows, first, last, block)
        block = _narrowed(block, narrow[: block.size].reshape(block.shape))
        truth = np.ascontiguousarray(y_true[:, first:last].T)
        found = _block_metrics(truth, block)
        auc[first:last], average_precision[first:last] = found
    return auc, average_precision


def _narrowed(block: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``block`` as ``float32`` (in ``out``) when every score is a ``float32`` exactly (a
    network's outputs are): the same order and the same ties, so the same counts, and
    ``float32`` sorts in two thirds of the time. ``block`` itself otherwise."""
    np.copyto(out, block, casting="same_kind")
    return out if np.array_equal(out, block) else block


def _gather_transposed(
    scores: np.ndarray, rows: np.ndarray, first: int, last: int, out: np.ndarray
) -> None:
    """``out[:] = scores[rows, first:last].T``, in row tiles that stay in cache."""
    tile = max(1, _TILE_ELEMENTS // max(1, last - first))
    columns = scores[:, first:last]
    for start in range(0, len(rows), tile):
        out[:, start : start + tile] = columns[rows[start : start + tile]].T


def _block_metrics(truth: np.ndarray, block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AUC-ROC and AP of the classes of one block: ``truth`` and ``block`` are ``(b,
    n_clips)``; ``block`` is sorted in place."""
    n_classes, n_clips = truth.shape
    auc = np.full(n_classes, np.nan)
    average_precision = np.full(n_classes, np.nan)
    positives_per_class = np.count_nonzero(truth, axis=1)
    # The positives of every class, class by class, each class's in clip order.
    positive_scores = block[truth]
    block.sort(axis=1)
    starts = np.concatenate(([0], np.cumsum(positives_per_class)))
    classes = np.repeat(np.arange(n_classes), positives_per_class)
    order = np.lexsort((positive_scores, classes))  # by class, then score
    ranked = positive_scores[order]
    # Positives below / up to each ranked positive: the bounds of its group of equal scores.
    new_group = np.ones(len(ranked) + 1, dtype=bool)
    new_group[1:-1] = (ranked[1:] != ranked[:-1]) | (classes[1:] != classes[:-1])
    group_starts = np.flatnonzero(new_group)
    group_of = np.cumsum(new_group[:-1]) - 1
    positives_below = np.empty(len(ranked), dtype=np.int64)
    positives_up_to = np.empty(len(ranked), dtype=np.int64)
    positives_below[order] = group_starts[group_of] - starts[classes]
    positives_up_to[order] = group_starts[group_of + 1] - starts[classes]
    below = np.zeros(len(ranked), dtype=np.int64)  # zeros: classes left undefined add 0
    up_to = np.zeros(len(ranked), dtype=np.int64)
    defined = np.flatnonzero((positives_per_class > 0) & (positives_per_class < n_clips))
    for index in defined:  # sorted queries: each search starts where the previous ended
        part = slice(starts[index], starts[index + 1])
        below[order[part]] = block[index].searchsorted(ranked[part], "left")
        up_to[order[part]] = block[index].searchsorted(ranked[part], "right")
    negatives_below = below - positives_below
    negatives_tied = (up_to - below) - (positives_up_to - positives_below)
    # Integer counts and halves: the AUC numerator is exact (and so is any order of sums).
    first, after = starts[defined], starts[defined + 1]
    total_below = np.concatenate(([0], np.cumsum(negatives_below)))
    total_tied = np.concatenate(([0], np.cumsum(negatives_tied)))
    positives = positives_per_class[defined]
    wins = (total_below[after] - total_below[first]) + 0.5 * (total_tied[after] - total_tied[first])
    auc[defined] = wins / (positives * (n_clips - positives))
    precision = (positives_per_class[classes] - positives_below) / (n_clips - below)
    for index in defined:  # summed class by class, in clip order, as the whole-matrix formula
        average_precision[index] = precision[starts[index] : starts[index + 1]].sum() / int(
            positives_per_class[index]
        )
    return auc, average_precision
