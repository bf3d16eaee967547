"""Specification of vggsounder_hf.reports.meta: the paper's Table 3 (meta-label analysis)."""

from __future__ import annotations

import json
import warnings

import pytest

from vggsounder_hf.core.clip_sets import CLIP_SETS
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.reports.meta import META_CLIP_SETS, meta_columns, meta_label_report
from vggsounder_hf.reports.tables import render

CLASSES = ("dog", "cat")
# (video id, true class, predicted class, background_music, static_image, voice_over);
# every label is AV, so the a, v and av columns see the same clips.
CLIPS = [
    ("c_000001", "dog", "dog", True, False, False),
    ("c_000002", "cat", "cat", True, True, False),
    ("c_000003", "dog", "cat", False, False, False),
    ("c_000004", "cat", "dog", False, True, True),
    ("c_000005", "dog", "dog", False, False, False),
]
# Worked out by hand from CLIPS (micro F1 = 2TP / (2TP + FP + FN)):
#   background music {1,2}: F1 1; without {3,4,5}: TP 1, FP 2, FN 2 -> 1/3; delta +66.67
#   voice over {4}: F1 0; without {1,2,3,5}: TP 3, FP 1, FN 1 -> 3/4; delta -75.00
#   static image {2,4}: TP 1, FP 1, FN 1 -> 1/2; without {1,3,5}: 2/3; delta -16.67
#   subset accuracy static image {2,4}: 1/2; without {1,3,5}: 2/3
#   all: TP 3, FP 2, FN 2 -> 3/5; none of the meta labels {3,5}: 1/2; delta +10.00
EXPECTED_ROW = [
    *["+66.67"] * 3,
    "-75.00",
    *["-16.67"] * 2,
    *["50.00"] * 2,
    *["66.67"] * 2,
    *["+10.00"] * 3,
]


@pytest.fixture(scope="module")
def toy_truth() -> GroundTruth:
    return GroundTruth.from_rows(
        [
            {
                "video_id": video_id,
                "labels": [label],
                "modalities": ["AV"],
                "background_music": music,
                "static_image": image,
                "voice_over": voice,
            }
            for video_id, label, _, music, image, voice in CLIPS
        ],
        CLASSES,
    )


def toy_labels() -> ModelPredictions:
    per_clip = {video_id: [predicted] for video_id, _, predicted, *_ in CLIPS}
    return ModelPredictions.from_label_sets(dict.fromkeys(("a", "v", "av"), per_clip), CLASSES)


def toy_scores() -> ModelPredictions:
    per_clip = {
        video_id: [0.9, 0.1] if predicted == "dog" else [0.2, 0.7]
        for video_id, _, predicted, *_ in CLIPS
    }
    return ModelPredictions.from_scores(dict.fromkeys(("a", "v", "av"), per_clip), CLASSES)


def markdown_row(text: str, index: int = 0) -> list[str]:
    lines = [line for line in text.splitlines() if line.startswith("|")][2:]
    return [cell.strip() for cell in lines[index].strip("|").split("|")]


def test_columns_follow_table_3():
    assert [column.key for column in meta_columns()] == [
        "delta_f1/background_music/a",
        "delta_f1/background_music/v",
        "delta_f1/background_music/av",
        "delta_f1/voice_over/a",
        "delta_f1/static_image/a",
        "delta_f1/static_image/v",
        "subset_accuracy/static_image/a",
        "subset_accuracy/static_image/v",
        "subset_accuracy/no_static_image/a",
        "subset_accuracy/no_static_image/v",
        "delta_f1/all_minus_none/a",
        "delta_f1/all_minus_none/v",
        "delta_f1/all_minus_none/av",
    ]
    assert [column.signed for column in meta_columns()].count(True) == 9


def test_compares_named_clip_sets_of_the_full_release():
    assert set(META_CLIP_SETS) == {
        "background_music",
        "no_background_music",
        "voice_over",
        "no_voice_over",
        "static_image",
        "no_static_image",
        "full",
        "no_meta",
    }
    assert set(META_CLIP_SETS) <= set(CLIP_SETS)


def test_differences_and_accuracies_match_a_hand_computed_example(toy_truth):
    table = meta_label_report(toy_truth, [("toy", toy_labels())])
    assert markdown_row(render(table, "markdown")) == ["toy", *EXPECTED_ROW]
    assert table.metadata["clip_sets"] == {
        "background_music": 2,
        "no_background_music": 3,
        "voice_over": 1,
        "no_voice_over": 4,
        "static_image": 2,
        "no_static_image": 3,
        "full": 5,
        "no_meta": 2,
    }


def test_score_models_use_their_top_k_predictions(toy_truth):
    table = meta_label_report(toy_truth, [("scores", toy_scores())], k=1)
    assert markdown_row(render(table, "markdown")) == ["scores", *EXPECTED_ROW]
    assert table.rows[0].k == 1


def test_json_keeps_every_clip_sets_full_results(toy_truth):
    payload = json.loads(render(meta_label_report(toy_truth, [("toy", toy_labels())]), "json"))
    row = payload["rows"][0]
    assert row["values"]["delta_f1/all_minus_none/a"] == pytest.approx(0.1)
    assert set(row["results_by_clip_set"]) == set(META_CLIP_SETS)
    assert row["results_by_clip_set"]["full"]["a/f1"] == pytest.approx(0.6)


def test_progress_callback_sees_every_model_and_clip_set(toy_truth):
    seen = []

    def progress(items):
        seen.extend(items)
        return items

    meta_label_report(toy_truth, [("x", toy_labels()), ("y", toy_labels())], progress=progress)
    assert len(seen) == 2 * len(META_CLIP_SETS)


def test_an_aligned_model_gives_the_same_table_and_is_scored_without_aligning_again(
    toy_truth, monkeypatch
):
    from vggsounder_hf.core.alignment import align
    from vggsounder_hf.reports import meta

    scores = align(toy_truth, toy_scores(), ks=(1, 2))
    labels = align(toy_truth, toy_labels())
    expected = meta_label_report(toy_truth, [("scores", toy_scores()), ("toy", toy_labels())])

    def no_second_alignment(*args, **kwargs):
        raise AssertionError("an aligned model was aligned again")

    monkeypatch.setattr(meta, "align", no_second_alignment)
    table = meta_label_report(toy_truth, [("scores", scores), ("toy", labels)])
    assert render(table, "markdown") == render(expected, "markdown")
    assert [row.values for row in table.rows] == [row.values for row in expected.rows]


def test_an_aligned_model_must_fit_the_report(toy_truth, small_truth):
    from vggsounder_hf.core.alignment import align

    scores = align(toy_truth, toy_scores(), ks=(1,))
    with pytest.raises(ValueError, match="scores: the model was aligned for top-k \\[1\\]"):
        meta_label_report(toy_truth, [("scores", scores)], k=2)
    with pytest.raises(ValueError, match="with tie break 'reference'"):
        meta_label_report(toy_truth, [("scores", scores)], tie_break="lowest_index")
    other = small_truth([("c_000001", ["dog"], ["AV"])], CLASSES)
    with pytest.raises(ValueError, match="toy: the aligned model was aligned to another"):
        meta_label_report(other, [("toy", align(toy_truth, toy_labels()))])


# ---------------------------------------------------------------- released models vs reference


@pytest.fixture(scope="module")
def released_table(shared_data, release_1_0, truth_1_0, released_models):
    from vggsounder_hf.io.readers import read_predictions

    release, truth = release_1_0, truth_1_0
    folder = shared_data / "model-predictions"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models = [
            (name, read_predictions(folder / f"{name}.pkl", release.class_names))
            for name in released_models
        ]
    return meta_label_report(truth, models)


def test_released_models_match_the_reference_where_it_has_the_clip_sets(
    released_table, reference_values
):
    # The reference values cover background_music, default (= no background music), full,
    # full+static_image and no_meta: enough to check 8 of the 13 columns independently.
    results = reference_values["results"]
    for row in released_table.rows:
        values = dict(zip((c.key for c in released_table.columns), row.values, strict=True))
        for column in ("a", "v", "av"):
            with_music = results["background_music"][row.name][column]["f1"]
            without = results["default"][row.name][column]["f1"]
            assert values[f"delta_f1/background_music/{column}"] == pytest.approx(
                with_music - without, abs=1e-9
            )
            everything = results["full"][row.name][column]["f1"]
            clean = results["no_meta"][row.name][column]["f1"]
            assert values[f"delta_f1/all_minus_none/{column}"] == pytest.approx(
                everything - clean, abs=1e-9
            )
        for column in ("a", "v"):
            assert values[f"subset_accuracy/static_image/{column}"] == pytest.approx(
                results["full+static_image"][row.name][column]["accuracy"], abs=1e-9
            )


# ---------------------------------------------------------------- the paper's reading (issue 12)

# Worked out by hand from CLIPS, as Table 3 is printed (protocol "paper"): every "with" set is
# the full set (all five clips: F1 3/5, subset accuracy 3/5).
#   background music: F1(all) 3/5 - F1(without {3,4,5}) 1/3 -> +26.67
#   voice over: 3/5 - F1(without {1,2,3,5}) 3/4 -> -15.00
#   static image: 3/5 - F1(without {1,3,5}) 2/3 -> -6.67
#   Sub. Acc. w/: subset accuracy on all clips 3/5; w/o {1,3,5}: 2/3 (unchanged)
#   neither: 3/5 - 1/2 -> +10.00 (unchanged)
EXPECTED_PAPER_ROW = [
    *["+26.67"] * 3,
    "-15.00",
    *["-6.67"] * 2,
    *["60.00"] * 2,
    *["66.67"] * 2,
    *["+10.00"] * 3,
]


def test_the_paper_protocol_subtracts_from_the_full_set(toy_truth):
    table = meta_label_report(toy_truth, [("toy", toy_labels())], protocol="paper")
    assert markdown_row(render(table, "markdown")) == ["toy", *EXPECTED_PAPER_ROW]
    assert table.metadata["protocol"] == "paper"
    assert table.metadata["meta_difference"] == "full_minus_without"
    assert table.metadata["clip_sets"] == {
        "full": 5,
        "no_background_music": 3,
        "no_voice_over": 4,
        "no_static_image": 3,
        "no_meta": 2,
    }
    assert [column.key for column in table.columns] == [column.key for column in meta_columns()]
    assert table.notes[0].startswith("Protocol paper. ΔF1 (as the printed Table 3): F1 on every")
    scores = meta_label_report(toy_truth, [("s", toy_scores())], protocol="paper")
    assert markdown_row(render(scores, "markdown")) == ["s", *EXPECTED_PAPER_ROW]


def test_the_reference_protocol_is_the_default_and_says_so(toy_truth):
    default = meta_label_report(toy_truth, [("toy", toy_labels())])
    explicit = meta_label_report(toy_truth, [("toy", toy_labels())], protocol="reference")
    assert render(default, "json") == render(explicit, "json")
    assert default.metadata["protocol"] == "reference"
    assert default.metadata["meta_difference"] == "with_minus_without"
    assert "Protocol reference." in render(default, "markdown")


def test_comparisons_of_each_protocol(toy_truth):
    from vggsounder_hf.reports.meta import META_COMPARISONS, meta_comparisons

    assert meta_comparisons() is META_COMPARISONS
    paper = meta_comparisons("paper")
    assert [c.with_set for c in paper] == [
        "full",
        "full",
        "full",
        "full",
        "no_static_image",
        "full",
    ]
    assert [c.without_set for c in paper] == [c.without_set for c in META_COMPARISONS]
    with pytest.raises(ValueError, match="unknown protocol 'printed'"):
        meta_label_report(toy_truth, [("toy", toy_labels())], protocol="printed")
