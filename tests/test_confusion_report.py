"""Specification of vggsounder_hf.reports.confusion: the clips behind modality confusion μ."""

from __future__ import annotations

import csv
import io
import json
import warnings

import pytest

from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.reports.confusion import (
    CONFUSION_FIELDS,
    confused_clips,
    render_confusion_report,
    write_confusion_report,
)

CLASSES = ("dog", "cat", "bird")


@pytest.fixture(scope="module")
def truth(small_truth) -> GroundTruth:
    rows = [
        ("c_000001", ["dog", "cat"], ["A", "AV"]),
        ("c_000002", ["bird"], ["V"]),
        ("c_000003", ["dog"], ["AV"]),
    ]
    return small_truth(rows, CLASSES)


def labels_model() -> ModelPredictions:
    # c1: a hits (dog), v hits (cat), av misses -> confused a, v and a&v
    # c2: a misses, v and av hit                -> not confused
    # c3: a hits, v misses, av has no entry      -> confused a (a missing entry is empty)
    return ModelPredictions.from_label_sets(
        {
            "a": {"c_000001": ["dog"], "c_000002": [], "c_000003": ["dog"]},
            "v": {"c_000001": ["cat"], "c_000002": ["bird"], "c_000003": []},
            "av": {"c_000001": ["bird"], "c_000002": ["bird"]},
        },
        CLASSES,
    )


def test_rows_are_the_confused_clips_with_labels_flags_and_predictions(truth):
    rows = confused_clips(truth, labels_model(), model="toy")
    assert rows == [
        {
            "model": "toy",
            "video_id": "c_000001",
            "confused_a": True,
            "confused_v": True,
            "confused_a_and_v": True,
            "hit_a": True,
            "hit_v": True,
            "hit_av": False,
            "ground_truth": ["dog", "cat"],
            "ground_truth_modalities": ["A", "AV"],
            "pred_a": ["dog"],
            "pred_v": ["cat"],
            "pred_av": ["bird"],
        },
        {
            "model": "toy",
            "video_id": "c_000003",
            "confused_a": True,
            "confused_v": False,
            "confused_a_and_v": False,
            "hit_a": True,
            "hit_v": False,
            "hit_av": False,
            "ground_truth": ["dog"],
            "ground_truth_modalities": ["AV"],
            "pred_a": ["dog"],
            "pred_v": [],
            "pred_av": [],
        },
    ]


def test_include_all_lists_every_clip_mu_is_computed_over(truth):
    rows = confused_clips(truth, labels_model(), model="toy", include_all=True)
    assert [row["video_id"] for row in rows] == ["c_000001", "c_000002", "c_000003"]
    assert rows[1]["confused_a"] is False and rows[1]["hit_av"] is True


def test_score_models_show_their_top_1_class(truth):
    scores = {
        "a": {"c_000001": [0.9, 0.0, 0.1], "c_000002": [0.5, 0.4, 0.1]},
        "v": {"c_000001": [0.0, 0.2, 0.8], "c_000002": [0.1, 0.1, 0.8]},
        "av": {"c_000001": [0.1, 0.1, 0.8], "c_000002": [0.1, 0.2, 0.7]},
    }
    predictions = ModelPredictions.from_scores(scores, CLASSES)
    rows = confused_clips(truth, predictions, model="s", include_all=True)
    # c_000003 has no scores: left out, as in μ for score models.
    assert [row["video_id"] for row in rows] == ["c_000001", "c_000002"]
    assert [(row["pred_a"], row["pred_v"], row["pred_av"]) for row in rows] == [
        (["dog"], ["bird"], ["bird"]),
        (["dog"], ["bird"], ["bird"]),
    ]
    assert [row["confused_a"] for row in rows] == [True, False]


def test_an_aligned_model_gives_the_same_rows_without_matching_again(truth, monkeypatch):
    from vggsounder_hf.core.alignment import align
    from vggsounder_hf.reports import confusion

    scores = ModelPredictions.from_scores(
        {
            "a": {"c_000001": [0.9, 0.0, 0.1], "c_000002": [0.5, 0.5, 0.1]},
            "v": {"c_000001": [0.0, 0.2, 0.8], "c_000002": [0.1, 0.1, 0.8]},
            "av": {"c_000001": [0.1, 0.1, 0.8], "c_000002": [0.1, 0.2, 0.7]},
        },
        CLASSES,
    )
    expected = {
        "labels": confused_clips(truth, labels_model(), model="labels", include_all=True),
        "scores": confused_clips(
            truth, scores, model="scores", include_all=True, tie_break="lowest_index"
        ),
    }
    aligned = {
        "labels": align(truth, labels_model()),
        "scores": align(truth, scores, ks=(1, 3), tie_break="lowest_index"),
    }

    def no_second_alignment(*args, **kwargs):
        raise AssertionError("an aligned model was aligned again")

    monkeypatch.setattr(confusion, "align", no_second_alignment)
    rows = confused_clips(truth, aligned["labels"], model="labels", include_all=True)
    assert rows == expected["labels"]
    rows = confused_clips(truth, aligned["scores"], model="scores", include_all=True)
    # c_000002's audio ties dog and cat: the alignment's tie break (lowest index) picks dog.
    assert [row["pred_a"] for row in rows] == [["dog"], ["dog"]]
    assert rows == expected["scores"]


def test_an_aligned_model_must_belong_to_the_truth(truth, small_truth):
    from vggsounder_hf.core.alignment import align

    other = small_truth([("c_000001", ["dog"], ["AV"])], CLASSES)
    with pytest.raises(ValueError, match="aligned to another ground truth"):
        confused_clips(other, align(truth, labels_model()))


def test_a_model_without_all_three_inputs_cannot_be_reported(truth):
    predictions = ModelPredictions.from_label_sets({"a": {"c_000001": ["dog"]}}, CLASSES)
    with pytest.raises(ValueError, match="needs inputs a, v and av"):
        confused_clips(truth, predictions)


def test_csv_joins_lists_with_a_bar_and_parses_back(truth):
    text = render_confusion_report(confused_clips(truth, labels_model(), model="toy"), "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(CONFUSION_FIELDS)
    assert rows[0]["ground_truth"] == "dog | cat"
    assert rows[0]["ground_truth_modalities"] == "A | AV"
    assert (rows[1]["confused_a"], rows[1]["confused_v"], rows[1]["pred_v"]) == (
        "True",
        "False",
        "",
    )


def test_json_has_metadata_a_per_model_summary_and_the_clips(truth):
    rows = confused_clips(truth, labels_model(), model="toy")
    payload = json.loads(render_confusion_report(rows, "json", metadata={"clip_set": "default"}))
    assert payload["metadata"] == {"clip_set": "default"}
    assert payload["summary"] == {"toy": {"confused_a": 2, "confused_v": 1, "confused_a_and_v": 1}}
    assert payload["clips"] == rows


def test_written_atomically_in_the_format_of_the_extension(truth, tmp_path):
    rows = confused_clips(truth, labels_model(), model="toy")
    write_confusion_report(rows, tmp_path / "confused.json")
    write_confusion_report(rows, tmp_path / "confused.csv")
    assert json.loads((tmp_path / "confused.json").read_text())["clips"] == rows
    assert (tmp_path / "confused.csv").read_text().startswith("model,video_id,confused_a,")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["confused.csv", "confused.json"]
    with pytest.raises(ValueError, match=r"use \.csv or \.json"):
        write_confusion_report(rows, tmp_path / "confused.txt")
    assert not (tmp_path / "confused.txt").exists()


def test_released_models_have_as_many_confused_clips_as_the_reference_mu_says(
    shared_data, reference_values
):
    from vggsounder_hf.io.readers import read_predictions
    from vggsounder_hf.io.sources import load_release

    release = load_release("1.0")
    truth = GroundTruth.from_release(release)
    clips = reference_values["clip_counts"]["default"]["all"]
    assert clips == 12_014
    for name in ("gemini-1.5-pro", "ola", "video-llama-2-av"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            predictions = read_predictions(
                shared_data / "model-predictions" / f"{name}.pkl", release.class_names
            )
        rows = confused_clips(truth, predictions, model=name)
        reference = reference_values["results"]["default"][name]
        for flag, column in (("confused_a", "a"), ("confused_v", "v"), ("confused_a_and_v", "av")):
            count = sum(row[flag] for row in rows)
            assert count == round(reference[column]["mu"] * clips), (name, flag)
