"""The numpy metric core agrees with scikit-learn and with the metric definitions."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn import metrics as skm

from vggsounder_hf.core import functional

settings.register_profile("vggsounder", max_examples=60, deadline=None)
settings.load_profile("vggsounder")


@st.composite
def label_matrices(draw, min_clips=1):
    n_clips = draw(st.integers(min_clips, 25))
    # At least two classes: scikit-learn reads a single column as a binary target, whose
    # zero-division rules differ from the multi-label ones that VGGSounder (309) uses.
    n_classes = draw(st.integers(2, 9))
    shape = (n_clips, n_classes)
    y_true = draw(hnp.arrays(bool, shape))
    y_pred = draw(hnp.arrays(bool, shape))
    return y_true, y_pred


@st.composite
def scored_labels(draw):
    n_clips = draw(st.integers(2, 30))
    n_classes = draw(st.integers(1, 6))
    y_true = draw(hnp.arrays(bool, (n_clips, n_classes)))
    # Few distinct values, so that tied scores are common.
    scores = draw(
        hnp.arrays(np.float64, (n_clips, n_classes), elements=st.sampled_from([0.0, 0.25, 0.5, 1]))
    )
    return y_true, scores


def _sklearn(function, *args, **kwargs):
    """Call scikit-learn as the reference does (``zero_division=0``), without its warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, zero_division=0, **kwargs)


@given(label_matrices())
def test_label_set_scores_equal_scikit_learn_with_zero_division_0(matrices):
    y_true, y_pred = matrices
    scores = functional.label_set_scores(y_true, y_pred)
    expected = {
        "subset_accuracy": skm.accuracy_score(y_true, y_pred),
        "f1": _sklearn(skm.f1_score, y_true, y_pred, average="micro"),
        "f1_macro": _sklearn(skm.f1_score, y_true, y_pred, average="macro"),
        "precision": _sklearn(skm.precision_score, y_true, y_pred, average="micro"),
        "recall": _sklearn(skm.recall_score, y_true, y_pred, average="micro"),
        "jaccard": _sklearn(skm.jaccard_score, y_true, y_pred, average="micro"),
        "hit": np.mean(np.any(y_true & y_pred, axis=1)),
    }
    for name, value in expected.items():
        assert scores[name] == pytest.approx(value, abs=1e-12), name


@given(label_matrices())
def test_single_metric_functions_agree_with_the_combined_pass(matrices):
    y_true, y_pred = matrices
    combined = functional.label_set_scores(y_true, y_pred)
    assert functional.f1_score(y_true, y_pred) == combined["f1"]
    assert functional.f1_score(y_true, y_pred, average="macro") == combined["f1_macro"]
    assert functional.precision_score(y_true, y_pred) == combined["precision"]
    assert functional.recall_score(y_true, y_pred) == combined["recall"]
    assert functional.jaccard_score(y_true, y_pred) == combined["jaccard"]
    assert functional.subset_accuracy(y_true, y_pred) == combined["subset_accuracy"]
    assert functional.hit_rate(y_true, y_pred) == combined["hit"]


@given(label_matrices())
def test_perfect_predictions_score_one(matrices):
    y_true, _ = matrices
    y_true[:, 0] = True  # every clip has a label, so every rate is defined
    scores = functional.label_set_scores(y_true, y_true)
    for name in ("subset_accuracy", "f1", "precision", "recall", "jaccard", "hit"):
        assert scores[name] == 1.0, name


def test_macro_f1_counts_classes_absent_from_truth_and_predictions_as_zero():
    y_true = np.array([[1, 0, 0], [0, 1, 0]], bool)
    assert functional.f1_score(y_true, y_true, average="macro") == pytest.approx(2 / 3)


def test_empty_input_gives_nan_rates_not_a_crash():
    empty = np.zeros((0, 4), bool)
    assert np.isnan(functional.subset_accuracy(empty, empty))
    assert np.isnan(functional.hit_rate(empty, empty))
    assert functional.f1_score(empty, empty) == 0.0


@given(scored_labels())
def test_per_class_auc_roc_and_average_precision_equal_scikit_learn(data):
    y_true, scores = data
    auc = functional.roc_auc_per_class(y_true, scores)
    average_precision = functional.average_precision_per_class(y_true, scores)
    for column in range(y_true.shape[1]):
        positives = y_true[:, column].sum()
        if 0 < positives < len(y_true):
            assert auc[column] == pytest.approx(
                skm.roc_auc_score(y_true[:, column], scores[:, column]), abs=1e-12
            )
            assert average_precision[column] == pytest.approx(
                skm.average_precision_score(y_true[:, column], scores[:, column]), abs=1e-12
            )
        else:
            assert np.isnan(auc[column]) and np.isnan(average_precision[column])


def test_classes_without_a_positive_clip_are_skipped_from_the_auc_mean_not_nan():
    y_true = np.array([[1, 0], [0, 0], [1, 0]], bool)
    scores = np.array([[0.9, 0.3], [0.1, 0.2], [0.8, 0.1]])
    auc = functional.roc_auc_per_class(y_true, scores)
    assert auc[0] == 1.0 and np.isnan(auc[1])
    assert functional.mean_over_defined(auc) == 1.0
    assert functional.mean_over_defined(np.array([np.nan, np.nan])) == 0.0


def test_curve_metrics_refuse_nan_scores():
    with pytest.raises(ValueError, match="NaN or infinite"):
        functional.roc_auc_per_class(np.ones((2, 1), bool), np.array([[np.nan], [1.0]]))


@pytest.mark.parametrize("distinct_values", [3, 40, None])
def test_top_k_reference_tie_break_picks_the_classes_of_numpys_default_argsort(distinct_values):
    rng = np.random.default_rng(3)
    if distinct_values is None:
        scores = rng.random((300, 309))
    else:  # many ties, also at the top-k boundaries
        scores = rng.integers(0, distinct_values, size=(300, 309)).astype(float)
    ranking = functional.top_k_ranking(scores, 10)
    argsort = np.argsort(scores, axis=1)
    for k in range(1, 11):
        expected = np.sort(argsort[:, -k:], axis=1)
        np.testing.assert_array_equal(np.sort(ranking[:, :k], axis=1), expected)


def test_top_k_ranking_is_best_first():
    ranking = functional.top_k_ranking(np.array([[0.1, 0.9, 0.5, 0.7]]), 3)
    assert ranking.tolist() == [[1, 3, 2]]


def test_top_k_lowest_index_tie_break_prefers_the_first_class():
    scores = np.array([[0.5, 0.9, 0.9, 0.9], [1.0, 1.0, 0.0, 1.0]])
    ranking = functional.top_k_ranking(scores, 2, tie_break="lowest_index")
    assert ranking.tolist() == [[1, 2], [0, 1]]


@given(scored_labels(), st.sampled_from(["reference", "lowest_index"]))
def test_top_k_scores_equal_label_set_scores_of_the_top_k_mask(data, tie_break):
    y_true, scores = data
    y_true[:, 0] = True
    n_classes = y_true.shape[1]
    ks = tuple(range(1, n_classes + 1))
    ranking = functional.top_k_ranking(scores, n_classes, tie_break)
    fast = functional.top_k_scores(y_true, ranking, ks)
    for k in ks:
        mask = functional.ranking_to_mask(ranking[:, :k], n_classes)
        assert fast[k] == pytest.approx(functional.label_set_scores(y_true, mask), abs=1e-12)


def test_top_k_validates_k_and_tie_break():
    with pytest.raises(ValueError, match="k must be between 1 and 3"):
        functional.top_k_ranking(np.zeros((1, 3)), 4)
    with pytest.raises(ValueError, match="tie_break"):
        functional.top_k_ranking(np.zeros((1, 3)), 1, tie_break="random")


@given(hnp.arrays(bool, st.tuples(st.integers(1, 40), st.just(3))))
def test_modality_confusion_is_a_fraction_and_joint_confusion_is_the_smallest(hits):
    confusion = functional.modality_confusion(hits[:, 0], hits[:, 1], hits[:, 2])
    for value in confusion.values():
        assert 0.0 <= value <= 1.0
    assert confusion["a_and_v"] <= min(confusion["a"], confusion["v"])


def test_modality_confusion_counts_clips_a_unimodal_input_gets_and_av_misses():
    hits_audio = np.array([1, 1, 0, 0, 1], bool)
    hits_video = np.array([1, 0, 1, 0, 1], bool)
    hits_audio_visual = np.array([0, 0, 0, 0, 1], bool)
    confusion = functional.modality_confusion(hits_audio, hits_video, hits_audio_visual)
    assert confusion == {"a": 2 / 5, "v": 2 / 5, "a_and_v": 1 / 5}


@given(hnp.arrays(bool, st.tuples(st.integers(0, 700), st.integers(1, 5))))
def test_column_counts_equal_a_plain_sum_for_any_number_of_rows(mask):
    np.testing.assert_array_equal(functional.column_counts(mask), mask.sum(axis=0))


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="shape"):
        functional.f1_score(np.zeros((2, 3), bool), np.zeros((3, 3), bool))
