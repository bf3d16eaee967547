"""Specification of vggsounder_hf.core.ground_truth: labels, modalities and meta flags as arrays."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from vggsounder_hf.core.coverage import check_clip_set, check_overlap
from vggsounder_hf.core.errors import (
    EmptyClipSetError,
    EmptyColumnWarning,
    GroundTruthError,
    NoMatchingClipsError,
    NoMatchingClipsWarning,
)
from vggsounder_hf.core.ground_truth import GroundTruth

CLASSES = ("dog", "cat", "bird")
FLAGS = {"background_music": False, "static_image": False, "voice_over": False}


def _row(video_id, labels, modalities, **flags):
    return {"video_id": video_id, "labels": labels, "modalities": modalities, **FLAGS, **flags}


def test_each_column_keeps_the_labels_of_its_modalities():
    truth = GroundTruth.from_rows(
        [_row("x_000001", ["dog", "cat", "bird"], ["A", "V", "AV"])], CLASSES
    )
    as_lists = {
        column: truth.labels(column).astype(int).tolist()[0]
        for column in ("a", "v", "av", "a only", "v only", "all")
    }
    assert as_lists == {
        "a": [1, 0, 1],
        "v": [0, 1, 1],
        "av": [0, 0, 1],
        "a only": [1, 0, 0],
        "v only": [0, 1, 0],
        "all": [1, 1, 1],
    }


def test_names_and_indices_give_the_same_truth():
    by_name = GroundTruth.from_rows([_row("x_000001", ["cat"], ["V"])], CLASSES)
    by_index = GroundTruth.from_rows([_row("x_000001", [1], [1])], CLASSES)
    np.testing.assert_array_equal(by_name.modality_codes, by_index.modality_codes)


def test_clips_are_sorted_by_id_and_found_by_id():
    truth = GroundTruth.from_rows(
        [_row("b_000002", ["dog"], ["A"]), _row("a_000001", ["cat"], ["V"])], CLASSES
    )
    assert truth.video_ids.tolist() == ["a_000001", "b_000002"]
    assert truth.row_of(["b_000002", "nope_000000", "a_000001"]).tolist() == [1, -1, 0]


def test_select_filters_on_meta_flags():
    truth = GroundTruth.from_rows(
        [
            _row("a_000001", ["dog"], ["A"], background_music=True),
            _row("b_000002", ["cat"], ["V"]),
        ],
        CLASSES,
    )
    assert truth.select("default").video_ids.tolist() == ["b_000002"]
    assert truth.select("background_music").video_ids.tolist() == ["a_000001"]
    assert len(truth.select("full")) == 2


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([_row("a_000001", ["dog"], ["A"]), _row("a_000001", ["cat"], ["A"])], "more than once"),
        ([_row("a_000001", ["dog", "dog"], ["A", "AV"])], "lists label 'dog' more than once"),
        ([_row("a_000001", ["wolf"], ["A"])], "unknown class name 'wolf'"),
        ([_row("a_000001", [7], ["A"])], "class index 7 outside"),
        ([_row("a_000001", ["dog"], ["VA"])], "unknown modality 'VA'"),
        ([_row("a_000001", ["dog"], [])], "1 labels but 0 modalities"),
        ([{"video_id": "a_000001", "labels": [], "modalities": []}], "has no field"),
    ],
)
def test_malformed_reference_rows_are_refused(rows, message):
    with pytest.raises(ValueError, match=message):
        GroundTruth.from_rows(rows, CLASSES)


def test_release_ground_truth_equals_a_plain_read_of_the_csv(vggsounder_data, truth_1_0):
    codes = {"A": 0, "V": 1, "AV": 2}
    class_index = {name: i for i, name in enumerate(truth_1_0.class_names)}
    expected = {}
    with open(vggsounder_data / "vggsounder+background-music.csv", newline="") as stream:
        for row in csv.DictReader(stream):
            expected[(row["video_id"], class_index[row["label"]])] = codes[row["modality"]]
    rows, columns = np.nonzero(truth_1_0.modality_codes >= 0)
    found = {
        (truth_1_0.video_ids[r], c): int(truth_1_0.modality_codes[r, c])
        for r, c in zip(rows.tolist(), columns.tolist(), strict=True)
    }
    assert found == expected


SUBSET_CODES = {"all": (0, 1, 2), "a": (0, 2), "v": (1, 2), "av": (2,), "a only": (0,)}
SUBSET_CODES["v only"] = (1,)


@pytest.mark.parametrize("subset", list(SUBSET_CODES))
def test_the_labels_of_some_clips_are_their_rows_of_the_subset_matrix(truth_1_0, subset):
    truth = truth_1_0.take(np.arange(len(truth_1_0)))  # a copy that has kept no matrix yet
    rows = np.flatnonzero(np.arange(len(truth)) % 7 == 3)
    # The modality codes themselves are the independent truth of each subset.
    in_subset = np.isin(truth.modality_codes, SUBSET_CODES[subset])
    assert np.array_equal(truth.labels_of(subset, rows), in_subset[rows])
    assert np.array_equal(truth.clips_with_labels(subset), in_subset.any(axis=1))
    assert subset not in truth.__dict__.get("_labels_by_subset", {})  # nothing kept
    assert np.array_equal(truth.labels(subset), in_subset)
    assert np.array_equal(truth.labels_of(subset, rows), in_subset[rows])  # the kept one


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (_row("a_000001", ["dog"], ["A"], voice_over="False"), "'voice_over' must be True or"),
        (_row("a_000001", ["dog"], ["A"], static_image=1), "'static_image' must be True or"),
        (_row("a_000001", ["dog"], [True]), "unknown modality True"),
        (_row("a_000001", "dog", ["A", "A", "A"]), "'labels' must be a list, got str"),
        (_row(17, ["dog"], ["A"]), "'video_id' must be a string, got 17"),
        (_row("a_000001", [["dog"]], ["A"]), r"label \['dog'\] is neither a name nor an index"),
    ],
)
def test_flags_modalities_and_ids_of_the_wrong_type_are_refused(row, message):
    # "False" used to become True through bool(); True used to be modality V.
    with pytest.raises(GroundTruthError, match=message):
        GroundTruth.from_rows([row], CLASSES)


def test_numpy_booleans_are_meta_flags():
    truth = GroundTruth.from_rows([_row("a_000001", ["dog"], ["A"], voice_over=np.True_)], CLASSES)
    assert truth.meta["voice_over"].tolist() == [True]


def test_an_empty_clip_set_is_an_error_and_an_empty_column_a_warning():
    truth = GroundTruth.from_rows([_row("a_000001", ["dog"], ["AV"], voice_over=True)], CLASSES)
    with pytest.raises(EmptyClipSetError, match=r"clip set 'no_voice_over' holds none of the 1"):
        check_clip_set(truth, "no_voice_over")
    with pytest.warns(EmptyColumnWarning, match=r"'a only', 'v only' have no clip in clip set"):
        assert check_clip_set(truth, "full") == ("a only", "v only")


def test_predictions_that_match_no_clip_of_the_clip_set_are_reported():
    from vggsounder_hf.core.predictions import ModelPredictions

    truth = GroundTruth.from_rows(
        [_row("a_000001", ["dog"], ["AV"]), _row("b_000002", ["cat"], ["A"], voice_over=True)],
        CLASSES,
    )
    spaced = ModelPredictions.from_label_sets(
        {"av": {" a_000001": ["dog"], " b_000002": []}}, CLASSES, source="m.json"
    )
    with pytest.warns(NoMatchingClipsWarning, match=r"none of the 2 predicted clip ids .*' a_0"):
        assert check_overlap(truth, spaced, "full") == 0
    with pytest.raises(NoMatchingClipsError, match=r"\(2 match once surrounding spaces"):
        check_overlap(truth, spaced, "full", strict=True)
    other_set = ModelPredictions.from_label_sets({"av": {"b_000002": ["cat"]}}, CLASSES)
    with pytest.raises(NoMatchingClipsError, match=r"1 of the 1 predicted clips are in the"):
        check_overlap(truth, other_set, "no_voice_over", strict=True)
    assert check_overlap(truth, other_set, "full") == 1


@pytest.mark.parametrize("clip_set", ["full", "default", "no_voice_over", "voice_over"])
def test_an_aligned_model_overlaps_as_many_clips_as_its_predictions(truth_1_0, clip_set):
    from vggsounder_hf.core.alignment import align
    from vggsounder_hf.core.predictions import ModelPredictions

    ids = truth_1_0.video_ids.tolist()
    given = {"a": {i: ["dog barking"] for i in ids[::3]}, "v": {i: [] for i in ids[1:500]}}
    given["a"]["not_a_clip_000001"] = ["dog barking"]
    predictions = ModelPredictions.from_label_sets(given, truth_1_0.class_names)
    aligned = align(truth_1_0, predictions)
    expected = len(
        (set(ids[::3]) | set(ids[1:500])) & set(truth_1_0.select(clip_set).video_ids.tolist())
    )
    assert check_overlap(truth_1_0, aligned, clip_set) == expected
    assert check_overlap(truth_1_0, predictions, clip_set) == expected
