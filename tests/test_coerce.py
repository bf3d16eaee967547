"""`as_ground_truth` / `as_predictions` take what the README hands a user: its `test` dataset
and its `predictions` rows, and refuse anything else with a message that says what to pass."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from vggsounder_hf.core.alignment import align
from vggsounder_hf.core.coerce import as_ground_truth, as_predictions
from vggsounder_hf.core.errors import GroundTruthError, PredictionError, VGGSounderInputError
from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.io.safe_pickle import load_pickle

CLASSES = ("dog", "cat", "bird")
ROW = {"background_music": False, "static_image": False, "voice_over": False}


@pytest.fixture(scope="module")
def readme_test(prepared_releases):
    """The README's ``test``: the 1.0 release as a ``datasets.Dataset``."""
    return prepared_releases["1.0"]


@pytest.fixture(scope="module")
def readme_model(shared_data):
    return load_pickle(shared_data / "model-predictions" / "gemini-1.5-pro.pkl")


@pytest.fixture(scope="module")
def readme_predictions(readme_test, readme_model):
    """The README's ``predictions``: evaluate-module rows, one per clip of ``test``."""
    return [
        {"video_id": vid, **readme_model.get(vid, {}).get("predictions", {})}
        for vid in readme_test["video_id"]
    ]


def test_the_readme_dataset_is_the_release_ground_truth(readme_test, truth_1_0):
    truth = as_ground_truth(readme_test)
    assert truth.class_names == truth_1_0.class_names
    assert truth.video_ids.tolist() == truth_1_0.video_ids.tolist()
    assert np.array_equal(truth.modality_codes, truth_1_0.modality_codes)
    for name, flags in truth_1_0.meta.items():
        assert np.array_equal(truth.meta[name], flags)


def test_the_readme_rows_score_as_the_authors_file(
    readme_test, readme_predictions, truth_1_0, released_predictions
):
    truth = as_ground_truth(readme_test)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = as_predictions(readme_predictions, truth.class_names)
        ours = evaluate_predictions(truth, model)
        expected = evaluate_predictions(truth_1_0, released_predictions["gemini-1.5-pro"])
    assert model.kind == "labels"
    assert ours["av/f1"] == pytest.approx(0.5720, abs=5e-5)
    # The rows hold only the clips of ``test``; the file also has 376 clips outside it.
    assert ours.pop("num_unknown_clips") == 0
    assert expected.pop("num_unknown_clips") == 376
    assert ours == pytest.approx(expected, nan_ok=True)


def test_the_authors_mapping_is_read_as_the_reader_reads_it(readme_model, release_1_0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = as_predictions(readme_model, release_1_0.class_names)
        direct = ModelPredictions.from_mapping(readme_model, release_1_0.class_names)
    assert model.kind == direct.kind == "labels"
    for modality in direct.inputs:
        assert np.array_equal(model[modality].matrix, direct[modality].matrix)


def test_objects_of_the_core_are_returned_as_they_are(small_truth):
    truth = small_truth([("x_000001", ["dog"], ["AV"])], CLASSES)
    model = ModelPredictions.from_label_sets({"av": {"x_000001": ["dog"]}}, CLASSES)
    aligned = align(truth, model)
    assert as_ground_truth(truth) is truth
    assert as_predictions(model, CLASSES) is model
    assert as_predictions(aligned, CLASSES) is aligned


def test_rows_and_score_rows():
    rows = [{"video_id": "x_000001", "labels": ["cat"], "modalities": ["A"], **ROW}]
    truth = as_ground_truth(rows, CLASSES)
    assert isinstance(truth, GroundTruth) and truth.video_ids.tolist() == ["x_000001"]
    scores = as_predictions([{"video_id": "x_000001", "a": np.array([0.1, 0.7, 0.2])}], CLASSES)
    assert scores.kind == "scores" and scores["a"].matrix.tolist() == [[0.1, 0.7, 0.2]]
    labels = as_predictions([{"video_id": "x_000001", "a": [0, 1, 2]}], CLASSES)
    assert labels.kind == "labels"  # integers are class indices, not scores
    forced = as_predictions([{"video_id": "x_000001", "v": [1, 0, 0]}], CLASSES, kind="scores")
    assert forced.kind == "scores"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("truth.csv", "ground truth: got str; pass a GroundTruth, the datasets.Dataset"),
        (17, "ground truth: got int; pass a GroundTruth"),
        ({"x_000001": ["dog"]}, "ground truth: got dict; pass a GroundTruth"),
    ],
)
def test_other_ground_truth_is_refused_saying_what_to_pass(value, message):
    with pytest.raises(GroundTruthError, match="^" + message):
        as_ground_truth(value, CLASSES)


def test_rows_without_class_names_are_refused():
    with pytest.raises(GroundTruthError, match="rows need class_names"):
        as_ground_truth([{"video_id": "x_000001", "labels": [0], "modalities": [2], **ROW}])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("model.pkl", "predictions: got str; pass ModelPredictions, an AlignedModel, rows"),
        (3.5, "predictions: got float; pass ModelPredictions"),
        ([], "predictions: the list is empty"),
        ([["dog"]], r"predictions\[0\] is a list, not a mapping"),
        ([{"a": ["dog"]}], r"predictions\[0\] needs a string 'video_id', got None"),
        ([{"video_id": "x_000001", "audio": ["dog"]}], r"unknown key\(s\) \['audio'\]"),
        ([{"video_id": "x_000001", "a": None}], "every input of every row is missing or None"),
        (
            [{"video_id": "x_000001", "a": ["dog"]}, {"video_id": "x_000001", "a": ["cat"]}],
            "clip 'x_000001' appears more than once",
        ),
    ],
)
def test_other_predictions_are_refused_saying_what_to_pass(value, message):
    with pytest.raises(PredictionError, match=message):
        as_predictions(value, CLASSES)


def test_an_unknown_kind_is_refused():
    with pytest.raises(VGGSounderInputError, match="unknown kind 'probabilities'"):
        as_predictions([{"video_id": "x_000001", "a": ["dog"]}], CLASSES, kind="probabilities")
