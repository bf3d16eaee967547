"""Block-wise ranking gives the whole-matrix formulas' numbers bit for bit.

:mod:`vggsounder_hf.core.ranking_blocks` is the fast path of every score model's top-k and
AUC/AP; the whole-matrix formulas of :mod:`vggsounder_hf.core.ranking` (themselves checked
against scikit-learn and the authors' package elsewhere) are its specification here.
"""

from __future__ import annotations

import numpy as np
import pytest

from vggsounder_hf.core import ranking_blocks
from vggsounder_hf.core.ranking import ranking_metrics_class_major
from vggsounder_hf.core.ranking_blocks import (
    full_sort_top_k,
    ranking_metrics_of_rows,
    top_k_rows,
)


def _scores_with_ties(rng: np.random.Generator, n_rows: int, n_classes: int) -> np.ndarray:
    scores = rng.normal(size=(n_rows, n_classes))
    rounded = rng.random(n_rows) < 0.3
    scores[rounded] = np.round(scores[rounded], 1)  # many ties everywhere in the row
    top_tied = rng.random(n_rows) < 0.2
    best = scores.argmax(axis=1)
    other = (best + 1) % n_classes
    scores[top_tied, other[top_tied]] = scores[top_tied, best[top_tied]]
    scores[rng.random(n_rows) < 0.01] = 0.25  # constant rows
    return scores


@pytest.mark.parametrize("tie_break", ["reference", "lowest_index"])
@pytest.mark.parametrize("k", [1, 3, 5, 10])
@pytest.mark.parametrize("n_rows", [0, 1, 7, 3000])
def test_top_k_rows_equals_the_full_sort_of_each_tie_rule(n_rows, k, tie_break):
    scores = _scores_with_ties(np.random.default_rng(n_rows * 31 + k), n_rows, 309)
    expected = full_sort_top_k(scores, k, tie_break)
    found = top_k_rows(scores, k, tie_break)
    assert found.shape == (n_rows, k)
    np.testing.assert_array_equal(found, expected)


def test_top_k_rows_of_mostly_tied_scores_equals_the_full_sort(monkeypatch):
    # Small blocks, so that the "mostly tied" switch of the first block governs the rest.
    monkeypatch.setattr(ranking_blocks, "_ROW_BLOCK_ELEMENTS", 309 * 16)
    scores = np.round(np.random.default_rng(3).random((500, 309)), 1)
    np.testing.assert_array_equal(
        top_k_rows(scores, 5, "reference"), full_sort_top_k(scores, 5, "reference")
    )


def test_top_k_rows_with_k_close_to_the_number_of_classes_is_the_full_sort():
    scores = _scores_with_ties(np.random.default_rng(4), 50, 6)
    for k in (5, 6):
        np.testing.assert_array_equal(
            top_k_rows(scores, k, "reference"), full_sort_top_k(scores, k, "reference")
        )


def _truth(rng: np.random.Generator, n_clips: int, n_classes: int) -> np.ndarray:
    truth = rng.random((n_clips, n_classes)) < 0.05
    truth[:, 0] = False  # no positive: undefined
    truth[:, 1] = True  # no negative: undefined
    return truth


@pytest.mark.parametrize("n_rows", [1, 2, 500, 4000])
def test_ranking_metrics_of_rows_equal_the_class_major_formula_bit_for_bit(n_rows):
    rng = np.random.default_rng(n_rows)
    scores = _scores_with_ties(rng, n_rows, 309)
    rows = np.sort(rng.choice(n_rows, size=max(1, n_rows * 3 // 4), replace=False))
    truth = _truth(rng, len(rows), 309)
    expected = ranking_metrics_class_major(
        np.ascontiguousarray(truth.T), np.ascontiguousarray(scores[rows].T)
    )
    found = ranking_metrics_of_rows(truth, scores, rows)
    for got, want in zip(found, expected, strict=True):
        np.testing.assert_array_equal(got, want)  # NaN where NaN, every bit elsewhere
    assert np.isnan(found[0][:2]).all() and np.isnan(found[1][:2]).all()


def test_ranking_metrics_of_rows_with_small_blocks_and_repeated_rows(monkeypatch):
    monkeypatch.setattr(ranking_blocks, "BLOCK_ELEMENTS", 1000)
    monkeypatch.setattr(ranking_blocks, "_TILE_ELEMENTS", 64)
    rng = np.random.default_rng(9)
    scores = _scores_with_ties(rng, 300, 40)
    rows = rng.integers(0, 300, size=450)  # unsorted, repeated: a bootstrap resample
    truth = _truth(rng, len(rows), 40)
    expected = ranking_metrics_class_major(
        np.ascontiguousarray(truth.T), np.ascontiguousarray(scores[rows].T)
    )
    for got, want in zip(ranking_metrics_of_rows(truth, scores, rows), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_ranking_metrics_of_no_rows_are_undefined():
    auc, ap = ranking_metrics_of_rows(
        np.zeros((0, 3), bool), np.zeros((4, 3)), np.zeros(0, np.intp)
    )
    assert np.isnan(auc).all() and np.isnan(ap).all() and auc.shape == (3,)


def _float32_scores_with_ties(rng: np.random.Generator, n_rows: int, n_classes: int):
    """Scores a float32 network could give (each a float32 exactly), ties included."""
    scores = rng.normal(size=(n_rows, n_classes)).astype(np.float32)
    rounded = rng.random(n_rows) < 0.3
    scores[rounded] = np.round(scores[rounded], 1)  # still float32 values
    best = scores.argmax(axis=1)
    tied = rng.random(n_rows) < 0.2
    scores[tied, (best[tied] + 1) % n_classes] = scores[tied, best[tied]]
    scores[:, 3] = 1e-45  # a subnormal float32: exact too
    return scores.astype(np.float64)


@pytest.mark.parametrize("exact_in_float32", [True, False])
def test_blocks_of_float32_scores_are_ranked_as_float32_with_the_same_numbers(
    monkeypatch, exact_in_float32
):
    monkeypatch.setattr(ranking_blocks, "BLOCK_ELEMENTS", 4000)
    rng = np.random.default_rng(21)
    scores = _float32_scores_with_ties(rng, 500, 60)
    rows = rng.permutation(500)[:400]
    truth = _truth(rng, len(rows), 60)
    if not exact_in_float32:
        # A positive just above a negative in float64, tied with it in float32: ranking
        # this block as float32 would change class 50's AUC.
        positive, negative = np.flatnonzero(truth[:, 50])[0], np.flatnonzero(~truth[:, 50])[0]
        scores[rows[negative], 50], scores[rows[positive], 50] = 0.5, 0.5 + 1e-12
    dtypes = []
    real = ranking_blocks._narrowed
    monkeypatch.setattr(
        ranking_blocks, "_narrowed", lambda *a: dtypes.append(real(*a).dtype) or real(*a)
    )
    expected = ranking_metrics_class_major(
        np.ascontiguousarray(truth.T), np.ascontiguousarray(scores[rows].T)
    )
    for got, want in zip(ranking_metrics_of_rows(truth, scores, rows), expected, strict=True):
        np.testing.assert_array_equal(got, want)
    assert len(dtypes) == 6  # 60 classes in blocks of 10
    if exact_in_float32:
        assert set(dtypes) == {np.dtype(np.float32)}
    else:  # column 50 lies in the sixth block
        assert dtypes == [np.dtype(np.float32)] * 5 + [np.dtype(np.float64)]
