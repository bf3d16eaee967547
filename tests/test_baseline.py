"""Specification of vggsounder_hf.core.baseline: the class-prior baseline from the labels."""

from __future__ import annotations

import csv
from collections import Counter

import numpy as np
import pytest

from vggsounder_hf.core.baseline import class_prior_baseline, most_frequent_classes
from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.core.ground_truth import GroundTruth

CLASSES = ("dog", "cat", "bird")


@pytest.fixture(scope="module")
def truth(small_truth) -> GroundTruth:
    rows = [
        ("c_000001", ["dog", "cat"], ["A", "AV"]),
        ("c_000002", ["cat"], ["AV"]),
        ("c_000003", ["bird", "dog"], ["V", "A"]),
        ("c_000004", ["bird"], ["V"]),
    ]
    return small_truth(rows, CLASSES)


def test_each_input_predicts_the_most_frequent_classes_of_its_label_subset(truth):
    # audible (A, AV): dog 2, cat 2 -> tie, the first class wins; visible (V, AV): bird 2,
    # cat 2 -> cat comes first in the class list; AV: cat 2.
    assert most_frequent_classes(truth, k=1) == {"a": ["dog"], "v": ["cat"], "av": ["cat"]}
    assert most_frequent_classes(truth, k=2) == {
        "a": ["dog", "cat"],
        "v": ["cat", "bird"],
        "av": ["cat", "dog"],
    }


def test_every_clip_gets_the_same_prediction(truth):
    baseline = class_prior_baseline(truth, k=2)
    assert baseline.kind == "labels"
    assert baseline.input_modalities == ("a", "v", "av")
    assert baseline["a"].video_ids.tolist() == truth.video_ids.tolist()
    assert baseline["v"].matrix.tolist() == [[False, True, True]] * 4
    assert baseline.source == "class-prior (k=2)"


def test_the_baseline_scores_like_a_hand_computed_constant_prediction(truth):
    # a predicts {dog}, v and av predict {cat} for every clip.
    results = evaluate_predictions(truth, class_prior_baseline(truth), clip_set="full")
    # a: clips 1-3 have audible labels; only clip 3 ({dog}) is matched exactly;
    # TP 2 (clips 1, 3), FP 1 (clip 2), FN 2 (cat of clips 1, 2) -> F1 4/7.
    assert results["a/subset_accuracy"] == pytest.approx(1 / 3)
    assert results["a/hit"] == pytest.approx(2 / 3)
    assert results["a/f1"] == pytest.approx(4 / 7)
    # v: {cat}, {cat}, {bird}, {bird}; av: {cat}, {cat}
    assert results["v/subset_accuracy"] == pytest.approx(0.5)
    assert results["av/subset_accuracy"] == pytest.approx(1.0)
    # μ over all 4 clips: only clip 3 is hit by a (dog) and missed by av (cat).
    assert (results["mu/a"], results["mu/v"], results["mu/a_and_v"]) == (0.25, 0.0, 0.0)


def test_k_must_be_a_class_count(truth):
    with pytest.raises(ValueError, match="k must be an integer between 1 and 3"):
        class_prior_baseline(truth, k=4)
    with pytest.raises(ValueError, match="k must be an integer"):
        most_frequent_classes(truth, k=0)


def test_on_the_release_the_prior_is_the_most_frequent_class_counted_independently(
    vggsounder_data,
):
    from vggsounder_hf.io.sources import load_release

    audible, visible, both = Counter(), Counter(), Counter()
    with open(vggsounder_data / "vggsounder+background-music.csv", newline="") as stream:
        for row in csv.DictReader(stream):
            if row["modality"] in ("A", "AV"):
                audible[row["label"]] += 1
            if row["modality"] in ("V", "AV"):
                visible[row["label"]] += 1
            if row["modality"] == "AV":
                both[row["label"]] += 1
    truth = GroundTruth.from_release(load_release("1.0"))
    chosen = most_frequent_classes(truth, k=1)
    assert chosen["a"] == [audible.most_common(1)[0][0]]
    assert chosen["v"] == [visible.most_common(1)[0][0]]
    assert chosen["av"] == [both.most_common(1)[0][0]]
    baseline = class_prior_baseline(truth)
    assert len(baseline["av"].video_ids) == 15_069
    assert np.all(baseline["a"].matrix.sum(axis=1) == 1)
