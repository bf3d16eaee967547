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
        ({"x_000001": {"other": 1}}, "no entry has 'predictions'"),
        ({"x_000001": {"predictions": ["dog"]}}, "must map input modalities"),
        ({1: {"predictions": {"a": []}}}, "is not a string"),
    ],
)
def test_a_structure_that_is_not_the_authors_format_is_refused(mapping, message):
    with pytest.raises(PredictionError, match=message):
        ModelPredictions.from_mapping(mapping, CLASSES, source="model.pkl")
