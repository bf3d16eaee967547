"""Specification of vggsounder_hf.core.predictions: one model's predictions as dense arrays."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from vggsounder_hf.core.predictions import ModelPredictions, PredictionError, UnknownLabelWarning

CLASSES = ("dog", "cat", "bird")


def test_authors_structure_with_label_sets_reads_as_labels():
    predictions = ModelPredictions.from_mapping(
        {"x_000001": {"predictions": {"a": ["dog"], "v": [], "av": ["cat", "bird"]}}}, CLASSES
    )
    assert predictions.kind == "labels"
    assert predictions["av"].matrix.astype(int).tolist() == [[0, 1, 1]]
    assert predictions["v"].matrix.sum() == 0


def test_scores_win_when_every_entry_has_logits_as_in_the_reference():
    entry = {"predictions": {"a": ["dog"]}, "logits": {"a": [0.1, 0.2, 0.7]}}
    predictions = ModelPredictions.from_mapping({"x_000001": entry}, CLASSES)
    assert predictions.kind == "scores"
    assert predictions["a"].matrix.tolist() == [[0.1, 0.2, 0.7]]


def test_a_trailing_mp4_is_stripped_and_a_clip_named_twice_is_refused():
    predictions = ModelPredictions.from_mapping(
        {"x_000001.mp4": {"predictions": {"a": ["dog"]}}}, CLASSES
    )
    assert predictions["a"].video_ids.tolist() == ["x_000001"]
    with pytest.raises(PredictionError, match="'x_000001' appears more than once"):
        ModelPredictions.from_mapping(
            {"x_000001.mp4": {"predictions": {"a": []}}, "x_000001": {"predictions": {"a": []}}},
            CLASSES,
        )


def test_unknown_class_names_are_dropped_counted_and_warned_about():
    with pytest.warns(UnknownLabelWarning, match="'wolf' \\(2x\\)"):
        predictions = ModelPredictions.from_label_sets(
            {"a": {"x_000001": ["wolf", "dog"], "y_000002": ["wolf"]}}, CLASSES, source="m.pkl"
        )
    assert predictions.unknown_labels == {"wolf": 2}
    assert predictions["a"].matrix.astype(int).tolist() == [[1, 0, 0], [0, 0, 0]]


def test_tuples_arrays_and_indices_are_label_sets_and_none_is_empty():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        predictions = ModelPredictions.from_label_sets(
            {"a": {"x_000001": ("dog",), "y_000002": np.array([2]), "z_000003": None}}, CLASSES
        )
    assert predictions["a"].matrix.astype(int).tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 0]]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"a": {"x_000001": "dog"}}, "must be a list of class names or indices, got str"),
        ({"a": {"x_000001": [3]}}, "neither a class name nor a class index 0..2"),
        ({"a": {"x_000001": [1.5]}}, "neither a class name nor a class index"),
        ({"audio": {"x_000001": ["dog"]}}, "unknown input modality 'audio'"),
        ({}, "no input modality has predictions"),
    ],
)
def test_bad_label_sets_are_refused_naming_the_source(given, message):
    with pytest.raises(PredictionError, match=message) as error:
        ModelPredictions.from_label_sets(given, CLASSES, source="model.pkl")
    assert str(error.value).startswith("model.pkl: ")


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ([0.1, 0.2], "expected 3 scores, got 2"),
        ([0.1, float("nan"), 0.2], "NaN or infinity"),
        ([0.1, float("-inf"), 0.2], "NaN or infinity"),
        (None, "has no scores for input 'v'"),
    ],
)
def test_bad_scores_are_refused_naming_the_clip(scores, message):
    with pytest.raises(PredictionError, match=message) as error:
        ModelPredictions.from_scores({"v": {"x_000001": scores}}, CLASSES, source="model.pkl")
    assert "x_000001" in str(error.value) or "shape" in str(error.value)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ([], "expected a mapping of video ids"),
        ({}, "contains no predictions"),
        ({"x_000001": ["dog"]}, "must be a mapping with 'predictions'"),
        ({"x_000001": {}}, "no entry has 'predictions'"),
        ({"x_000001": {"other": 1}}, "entry of clip 'x_000001' has unknown key\\(s\\) 'other'"),
        ({"x_000001": {"predictions": ["dog"]}}, "must map input modalities"),
        ({1: {"predictions": {"a": []}}}, "is not a string"),
    ],
)
def test_a_structure_that_is_not_the_authors_format_is_refused(mapping, message):
    with pytest.raises(PredictionError, match=message):
        ModelPredictions.from_mapping(mapping, CLASSES, source="model.pkl")


def test_defaultdict_sections_never_invent_an_input_and_an_unknown_key_is_found():
    from collections import defaultdict

    good = defaultdict(list, {"a": ["dog"], "v": [], "av": ["cat"]})
    typo = defaultdict(list, {"a": ["dog"], "v": [], "AV": ["cat"]})
    with pytest.raises(PredictionError, match=r"unknown input modality 'AV'"):
        ModelPredictions.from_mapping(
            {"x_000001": {"predictions": good}, "y_000002": {"predictions": typo}}, CLASSES
        )
    # The first clip lacks av: av keeps the clips that have it (it used to be dropped).
    no_av = defaultdict(list, {"a": ["dog"], "v": []})
    predictions = ModelPredictions.from_mapping(
        defaultdict(dict, {"x_000001": {"predictions": no_av}, "y_000002": {"predictions": good}}),
        CLASSES,
    )
    assert predictions["av"].video_ids.tolist() == ["y_000002"]
    assert predictions["a"].video_ids.tolist() == ["x_000001", "y_000002"]
    assert dict(good) == {"a": ["dog"], "v": [], "av": ["cat"]}  # nothing was added


@pytest.mark.parametrize(
    ("labels", "shown"),
    [
        ([True, False], "True (bool)"),
        ([np.True_], "np.True_ (bool)"),
        (np.array([True]), "True (bool)"),
        ([1.0], "1.0 (float)"),
        ([np.float64(2)], "np.float64(2.0) (float64)"),
        ([["dog"]], "['dog'] (list)"),
        ([{"dog": 1}], "{'dog': 1} (dict)"),
    ],
)
def test_booleans_floats_and_unhashable_labels_are_not_class_indices(labels, shown):
    with pytest.raises(PredictionError) as error:
        ModelPredictions.from_label_sets({"a": {"x_000001": labels}}, CLASSES, source="m.pkl")
    assert str(error.value) == (
        f"m.pkl: clip 'x_000001', input 'a': label {shown} is neither a class name nor a class "
        "index 0..2"
    )


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        (["0.1", 0.2, 0.3], r"score '0\.1' \(str\) is not a real number"),
        ([True, 0.0, 1.0], r"score True \(bool\) is not a real number"),
        ([1j, 0, 0], r"score 1j \(complex\) is not a real number"),
        (np.array([True, False, True]), r"score True \(bool\) is not a real number"),
        (np.array(["1", "2", "3"]), r"score '1' \(str\) is not a real number"),
        ([10**400, 0, 0], r"score of about 10\*\*400 is too large for a floating-point number"),
        ("0.1 0.2 0.3", r"expected a list of 3 scores, got str"),
    ],
)
def test_scores_must_be_real_numbers_in_every_form(scores, message):
    with pytest.raises(PredictionError, match=message) as error:
        ModelPredictions.from_scores({"v": {"x_000001": scores}}, CLASSES, source="m.pkl")
    assert str(error.value).startswith("m.pkl: clip 'x_000001', input 'v': ")


@pytest.mark.parametrize("dtype", [bool, complex, str])
def test_score_matrices_of_other_dtypes_are_refused(dtype):
    matrix = np.ones((2, 3)).astype(dtype)
    with pytest.raises(PredictionError, match=r"m\.pkl: clip 'x_000001', input 'av': score "):
        ModelPredictions.from_scores(
            {"av": (["x_000001", "y_000002"], matrix)}, CLASSES, source="m.pkl"
        )


def test_integer_and_small_float_scores_are_read_as_float64():
    predictions = ModelPredictions.from_scores(
        {"a": {"x_000001": [1, 2, 3]}, "v": (["x_000001"], np.ones((1, 3), np.float16))}, CLASSES
    )
    assert predictions["a"].matrix.tolist() == [[1.0, 2.0, 3.0]]
    assert predictions["v"].matrix.dtype == np.float64


@pytest.mark.parametrize("kind", ["labels", "scores"])
def test_inputs_naming_the_same_clips_share_one_id_array_and_others_do_not(kind):
    value = (lambda: [0.5, 0.5]) if kind == "scores" else (lambda: ["dog"])
    same = {modality: {"x_000001": value(), "y_000002": value()} for modality in ("a", "v")}
    same["av"] = {"y_000002": value(), "x_000001": value()}  # another order: its own array
    build = ModelPredictions.from_scores if kind == "scores" else ModelPredictions.from_label_sets
    predictions = build(same, ("dog", "cat"))
    assert predictions["a"].video_ids is predictions["v"].video_ids  # aligned once
    assert predictions["av"].video_ids is not predictions["a"].video_ids
    assert predictions["av"].video_ids.tolist() == ["y_000002", "x_000001"]
