"""Specification of vggsounder_hf.hf.trainer: VGGSounder metrics as Trainer's compute_metrics.

The metric values themselves are the core's (``evaluate_predictions``, tested against the
authors' reference elsewhere); these tests pin that ``compute_metrics`` hands the core the
right clips, in the Trainer's row order, for the right inputs, under names that survive
Trainer's ``eval_`` prefix, batch by batch as in one call; and that the numbers of a real
``Trainer`` run equal the ``evaluate`` module's on the same logits.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import datasets
import numpy as np
import pytest

from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions, PredictionError
from vggsounder_hf.hf.trainer import (
    DEFAULT_METRICS,
    make_compute_metrics,
    multi_hot_features,
    multi_hot_labels,
    with_multi_hot_labels,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPT = REPO_ROOT / "scripts" / "train_trainer_example.py"
METRIC_MODULE = REPO_ROOT / "metrics" / "vggsounder"
INPUTS = ("a", "v", "av")
NUM_CLASSES = 12
CLASS_NAMES = tuple(f"class {index}" for index in range(NUM_CLASSES))


def features(class_names=CLASS_NAMES) -> datasets.Features:
    return datasets.Features(
        {
            "video_id": datasets.Value("string"),
            "labels": datasets.List(datasets.ClassLabel(names=list(class_names))),
            "modalities": datasets.List(datasets.ClassLabel(names=["A", "V", "AV"])),
            "background_music": datasets.Value("bool"),
            "static_image": datasets.Value("bool"),
            "voice_over": datasets.Value("bool"),
        }
    )


def synthetic_split(num_clips: int = 80, seed: int = 0) -> datasets.Dataset:
    """Clips with 1-3 labels of random modality and random meta flags, in an order that is
    not the sorted order of their ids (as after ``select`` or ``shuffle``)."""
    rng = np.random.default_rng(seed)
    rows = []
    for index in range(num_clips):
        count = int(rng.integers(1, 4))
        rows.append(
            {
                "video_id": f"{rng.integers(10**6):06d}yt_{index:06d}",
                "labels": rng.choice(NUM_CLASSES, count, replace=False).tolist(),
                "modalities": rng.integers(0, 3, count).tolist(),
                "background_music": bool(rng.random() < 0.3),
                "static_image": bool(rng.random() < 0.2),
                "voice_over": bool(rng.random() < 0.2),
            }
        )
    return datasets.Dataset.from_list(rows, features=features())


def multi_hot_matrix(split: datasets.Dataset) -> np.ndarray:
    """The multi-hot labels Trainer passes as label_ids, in row order."""
    return with_multi_hot_labels(split).with_format("numpy")[:]["labels"]


def random_logits(num_rows: int, seed: int = 1, inputs: int | None = None) -> np.ndarray:
    shape = (num_rows, NUM_CLASSES) if inputs is None else (num_rows, inputs, NUM_CLASSES)
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def core_results(split, logits_by_input: dict, **kwargs) -> dict:
    """evaluate_predictions called directly, predictions keyed by clip id (not row order)."""
    truth = GroundTruth.from_rows(split.to_list(), split.features["labels"].feature.names)
    scores = {
        modality: dict(zip(split["video_id"], np.asarray(logits).tolist(), strict=True))
        for modality, logits in logits_by_input.items()
    }
    predictions = ModelPredictions.from_scores(scores, truth.class_names)
    return evaluate_predictions(truth, predictions, **kwargs)


# --- which metrics, under which names -------------------------------------------------


def test_one_input_gives_its_columns_under_slash_names():
    split = synthetic_split()
    expected_columns = {"a": ("a", "a_only"), "v": ("v", "v_only"), "av": ("av",)}
    names = ("hit@1", "f1@1", "subset_accuracy@1", "auc_roc", "auc_pr")
    for modality, columns in expected_columns.items():
        results = make_compute_metrics(split, modality)((random_logits(len(split)), None))
        assert set(results) == {f"{column}/{name}" for column in columns for name in names}


def test_metric_names_list_the_keys_of_every_call():
    split = synthetic_split()
    compute_metrics = make_compute_metrics(split, "av", ks=(1, 3))
    assert compute_metrics.metric_names == (
        "av/hit@1",
        "av/hit@3",
        "av/f1@1",
        "av/f1@3",
        "av/subset_accuracy@1",
        "av/subset_accuracy@3",
        "av/auc_roc",
        "av/auc_pr",
    )
    results = compute_metrics((random_logits(len(split)), None))
    assert tuple(results) == compute_metrics.metric_names


def test_values_are_plain_json_numbers():
    split = synthetic_split()
    results = make_compute_metrics(split, "all", metrics=(*DEFAULT_METRICS, "num_clips"))(
        (random_logits(len(split), inputs=3), None)
    )
    assert all(type(value) in (float, int) for value in results.values())
    assert json.loads(json.dumps(results)) == results
    assert isinstance(results["av/num_clips"], int)


def test_prefix_goes_before_every_name():
    split = synthetic_split()
    results = make_compute_metrics(split, "av", prefix="vggsounder/")((random_logits(80), None))
    assert set(results) == {
        f"vggsounder/{name}" for name in make_compute_metrics(split).metric_names
    }


def test_metrics_selects_what_is_returned():
    split = synthetic_split()
    results = make_compute_metrics(split, "v", metrics=("precision", "recall", "num_clips"))(
        (random_logits(80), None)
    )
    assert set(results) == {
        "v/precision@1",
        "v/recall@1",
        "v/num_clips",
        "v_only/precision@1",
        "v_only/recall@1",
        "v_only/num_clips",
    }


def test_every_ranking_metric_of_the_registry_can_be_asked_for_once_per_column():
    from vggsounder_hf.core.schema import RANKING_METRICS

    split = synthetic_split()
    logits = random_logits(len(split))
    compute_metrics = make_compute_metrics(split, "a", metrics=RANKING_METRICS, ks=(1, 3))
    assert compute_metrics.metric_names == tuple(
        f"{column}/{name}" for column in ("a", "a_only") for name in RANKING_METRICS
    )
    results = compute_metrics((logits, None))
    expected = core_results(split, {"a": logits}, ks=(1, 3))
    assert results == {name: expected[name] for name in compute_metrics.metric_names}
    assert results["a/map"] == results["a/auc_pr"]


def test_metric_names_are_the_keys_of_the_scoring():
    from vggsounder_hf.core.schema import METRICS as REGISTRY
    from vggsounder_hf.hf import trainer

    asked = tuple(e.name for e in REGISTRY if e.family in ("label_set", "ranking"))
    assert (*asked, "num_clips") == trainer.METRICS
    split = synthetic_split()
    logits = random_logits(len(split), inputs=3)
    expected = core_results(split, {m: logits[:, i] for i, m in enumerate(INPUTS)}, ks=(1, 2))
    names = trainer.metric_names(
        ("a", "v", "av", "a only", "v only"), trainer.METRICS, (1, 2), True
    )
    scored = {key for key in expected if key not in ("num_unknown_labels", "num_unknown_clips")}
    assert set(names) == scored - {f"{c}/num_missing" for c in ("a", "v", "av", "a_only", "v_only")}


def test_columns_may_be_spelled_as_result_keys():
    split = synthetic_split()
    compute_metrics = make_compute_metrics(split, "a", columns=("a_only",), metrics=("hit",))
    assert compute_metrics.metric_names == ("a_only/hit@1",)


def test_multi_hot_helpers_are_the_same_objects_in_both_modules():
    from vggsounder_hf.hf import multi_hot, trainer

    for name in ("multi_hot_labels", "multi_hot_features", "with_multi_hot_labels"):
        assert getattr(trainer, name) is getattr(multi_hot, name)


# --- the numbers -----------------------------------------------------------------------


def hand_split() -> datasets.Dataset:
    """Three clips in non-sorted order; the one with background music is not in 'default'."""
    rows = [
        {"video_id": "c2_000000", "labels": [2], "modalities": [1]},  # bird (V)
        {"video_id": "c1_000000", "labels": [0, 1], "modalities": [2, 0]},  # dog AV, cat A
        {"video_id": "c0_000000", "labels": [1], "modalities": [2], "background_music": True},
    ]
    for row in rows:
        row.setdefault("background_music", False)
        row.update(static_image=False, voice_over=False)
    return datasets.Dataset.from_list(rows, features=features(("dog", "cat", "bird")))


def test_hand_computed_values_on_rows_in_dataset_order():
    split = hand_split()
    av_logits = np.array([[0.0, 0.0, 1.0], [0.9, 0.1, 0.0], [0.9, 0.0, 0.1]])
    av = make_compute_metrics(split, "av", metrics=("hit", "subset_accuracy", "num_clips"))
    # Only c1 is in column av of the default set; its top-1 (dog) is its AV label.
    assert av((av_logits, None)) == {
        "av/hit@1": 1.0,
        "av/subset_accuracy@1": 1.0,
        "av/num_clips": 1,
    }
    # With every clip, c0 (AV label cat, top-1 dog) misses.
    full = make_compute_metrics(split, "av", clip_set="full", metrics=("hit", "num_clips"))
    assert full((av_logits, None)) == {"av/hit@1": 0.5, "av/num_clips": 2}

    a_logits = np.array([[1.0, 0.0, 0.0], [0.1, 0.9, 0.0], [0.0, 0.0, 1.0]])
    a = make_compute_metrics(split, "a", metrics=("hit", "f1", "subset_accuracy"))
    # c1: audible {dog, cat}, top-1 cat: a hit, not the whole set, F1 = 2/3.
    # a only: c1's A-only label is cat: hit and exact.
    assert a((a_logits, None)) == pytest.approx(
        {
            "a/hit@1": 1.0,
            "a/f1@1": 2 / 3,
            "a/subset_accuracy@1": 0.0,
            "a_only/hit@1": 1.0,
            "a_only/f1@1": 1.0,
            "a_only/subset_accuracy@1": 1.0,
        }
    )


@pytest.mark.parametrize("clip_set", ["default", "full", "static_image", {"voice_over": False}])
@pytest.mark.parametrize("modality", INPUTS)
def test_one_input_equals_evaluate_predictions(modality, clip_set):
    split = synthetic_split()
    logits = random_logits(len(split))
    compute_metrics = make_compute_metrics(split, modality, clip_set=clip_set, ks=(1, 3))
    results = compute_metrics((logits, None))
    expected = core_results(split, {modality: logits}, clip_set=clip_set, ks=(1, 3))
    assert results == {name: expected[name] for name in compute_metrics.metric_names}


def test_the_default_clip_set_ignores_clips_with_background_music():
    split = synthetic_split()
    music = np.asarray(split["background_music"])
    assert 0 < music.sum() < len(split)
    logits = random_logits(len(split))
    changed = logits.copy()
    changed[music] = random_logits(int(music.sum()), seed=7)
    default = make_compute_metrics(split, "av")
    assert default((changed, None)) == default((logits, None))
    assert default.num_scored == int((~music).sum())
    full = make_compute_metrics(split, "av", clip_set="full")
    assert full((changed, None)) != full((logits, None))


def test_three_inputs_as_array_tuple_mapping_or_list_of_batches_agree_and_give_mu():
    split = synthetic_split()
    stacked = random_logits(len(split), inputs=3)
    compute_metrics = make_compute_metrics(split, "all", ks=(1, 5))
    results = compute_metrics((stacked, None))
    expected = core_results(split, {m: stacked[:, i] for i, m in enumerate(INPUTS)}, ks=(1, 5))
    assert results == {name: expected[name] for name in compute_metrics.metric_names}
    assert {"mu/a", "mu/v", "mu/a_and_v"} <= set(results)
    assert {"a/hit@1", "v/hit@1", "av/hit@1", "a_only/hit@1", "v_only/hit@1"} <= set(results)
    as_tuple = tuple(stacked[:, i] for i in range(3))
    as_mapping = {m: stacked[:, i] for i, m in enumerate(INPUTS)}
    as_batches = [stacked[:30], stacked[30:55], stacked[55:]]  # eval_do_concat_batches=False
    for predictions in (as_tuple, as_mapping, as_batches):
        assert compute_metrics((predictions, None)) == results


def test_inputs_follow_the_order_given():
    split = synthetic_split()
    stacked = random_logits(len(split), inputs=3)
    reordered = make_compute_metrics(split, ("av", "a", "v"))
    results = reordered((stacked[:, [2, 0, 1]], None))
    assert results == make_compute_metrics(split, "all")((stacked, None))


def test_a_tuple_of_model_outputs_uses_its_first_item_for_one_input():
    split = synthetic_split()
    logits = random_logits(len(split))
    hidden_states = np.ones((len(split), 5), dtype=np.float32)
    compute_metrics = make_compute_metrics(split, "av")
    assert compute_metrics(((logits, hidden_states), None)) == compute_metrics((logits, None))


def test_ties_follow_tie_break():
    split = synthetic_split()
    equal = np.zeros((len(split), NUM_CLASSES), dtype=np.float32)
    compute_metrics = make_compute_metrics(split, "av", tie_break="lowest_index")
    expected = core_results(split, {"av": equal}, ks=(1,), tie_break="lowest_index")
    assert compute_metrics((equal, None))["av/hit@1"] == expected["av/hit@1"]
    # lowest_index on equal scores predicts class 0: hit@1 = share of av clips with AV class 0.
    av = np.zeros(len(split), dtype=bool)
    class_0 = np.zeros(len(split), dtype=bool)
    for row, clip in enumerate(split):
        if clip["background_music"]:
            continue
        av[row] = 2 in clip["modalities"]
        pairs = zip(clip["labels"], clip["modalities"], strict=True)
        class_0[row] = (0, 2) in pairs
    assert compute_metrics((equal, None))["av/hit@1"] == class_0.sum() / av.sum()


def test_release_split_scores_the_reference_clips_per_column(prepared_releases):
    """On the whole 1.0 release, the default set has the reference's clips per column."""
    release = prepared_releases["1.0"]
    compute_metrics = make_compute_metrics(release, "all", metrics=("hit", "num_clips"))
    logits = np.random.default_rng(3).standard_normal((release.num_rows, 3, 309))
    results = compute_metrics((logits.astype(np.float32), None))
    assert compute_metrics.num_scored == 12_014
    assert {
        name: results[f"{name}/num_clips"] for name in ("av", "a", "v", "a_only", "v_only")
    } == {
        "av": 9_889,
        "a": 11_917,
        "v": 10_188,
        "a_only": 6_393,
        "v_only": 851,
    }
    assert results["mu/num_clips"] == 12_014


def test_release_split_equals_the_core_on_the_release_ground_truth(prepared_releases):
    from vggsounder_hf.io.sources import load_release

    release = prepared_releases["1.0"].shuffle(seed=5)  # any row order
    logits = np.random.default_rng(4).standard_normal((release.num_rows, 309))
    compute_metrics = make_compute_metrics(release, "av", ks=(1, 10))
    results = compute_metrics((logits.astype(np.float32), None))
    truth = GroundTruth.from_release(load_release("1.0"))
    predictions = ModelPredictions.from_scores(
        {"av": (release["video_id"], logits.astype(np.float32))}, truth.class_names
    )
    expected = evaluate_predictions(truth, predictions, ks=(1, 10), columns=("av",))
    assert results == {name: expected[name] for name in compute_metrics.metric_names}


# --- batch_eval_metrics ----------------------------------------------------------------


def test_batches_accumulate_to_the_single_call_numbers_and_reset():
    split = synthetic_split()
    stacked = random_logits(len(split), inputs=3)
    compute_metrics = make_compute_metrics(split, "all", ks=(1, 3))
    whole = compute_metrics((stacked, None))
    bounds = [0, 16, 32, 48, 64, 80]
    for _ in range(2):  # the state is reset after the final batch
        for start, stop in itertools.pairwise(bounds[:-1]):
            assert compute_metrics((stacked[start:stop], None), compute_result=False) == {}
        last = compute_metrics((stacked[bounds[-2] :], None), compute_result=True)
        assert last == whole


def test_batches_with_multi_hot_label_ids_are_checked_per_row():
    split = synthetic_split()
    labels = multi_hot_matrix(split)
    logits = random_logits(len(split))
    compute_metrics = make_compute_metrics(split, "av")
    compute_metrics((logits[:40], labels[:40]), compute_result=False)
    assert compute_metrics((logits[40:], labels[40:]), compute_result=True) == compute_metrics(
        (logits, labels)
    )
    compute_metrics((logits[:40], labels[:40]), compute_result=False)
    with pytest.raises(ValueError, match="check_labels=False"):
        compute_metrics((logits[40:], labels[:40]), compute_result=True)  # wrong rows
    # the failed evaluation left nothing behind
    assert compute_metrics((logits, labels), compute_result=True) == compute_metrics(
        (logits, labels)
    )


def test_too_many_batches_are_refused_and_forgotten():
    split = synthetic_split()
    logits = random_logits(len(split))
    compute_metrics = make_compute_metrics(split, "av")
    compute_metrics((logits, None), compute_result=False)
    with pytest.raises(ValueError, match=r"logits for 120 clips .* has 80 rows"):
        compute_metrics((logits[:40], None), compute_result=False)
    assert compute_metrics((logits, None), compute_result=True) == compute_metrics((logits, None))


def test_a_bad_batch_ends_the_evaluation_and_is_forgotten():
    split = synthetic_split()
    logits = random_logits(len(split))
    compute_metrics = make_compute_metrics(split, "av")
    compute_metrics((logits[:40], None), compute_result=False)
    with pytest.raises(ValueError, match="have shape"):
        compute_metrics((logits[40:, :5], None), compute_result=False)
    compute_metrics((logits[:40], None), compute_result=False)
    assert compute_metrics((logits[40:], None), compute_result=True) == compute_metrics(
        (logits, None)
    )


def test_kept_batches_are_copies_of_the_callers_buffers():
    split = synthetic_split()
    logits = random_logits(len(split))
    compute_metrics = make_compute_metrics(split, "av")
    buffer = logits[:40].copy()
    compute_metrics((buffer, None), compute_result=False)
    buffer[:] = 0.0  # reused by the caller for the next batch
    assert compute_metrics((logits[40:], None), compute_result=True) == compute_metrics(
        (logits, None)
    )


def test_a_plain_call_while_batches_are_pending_is_refused():
    split = synthetic_split()
    compute_metrics = make_compute_metrics(split, "av")
    compute_metrics((random_logits(40), None), compute_result=False)
    with pytest.raises(RuntimeError, match="pending"):
        compute_metrics((random_logits(80), None))
    assert compute_metrics((random_logits(80), None)) == compute_metrics((random_logits(80), None))


# --- thresholds, bootstrap, protocol (the options of evaluate_predictions) ---------------


def test_threshold_with_sigmoid_gives_label_set_keys_and_the_core_numbers():
    split = synthetic_split()
    logits = random_logits(len(split), inputs=3)
    compute_metrics = make_compute_metrics(split, "all", threshold=0.5, sigmoid=True)
    results = compute_metrics((logits, None))
    by_input = {m: logits[:, i] for i, m in enumerate(INPUTS)}
    expected = core_results(split, by_input, threshold=0.5, sigmoid=True)
    assert results == {name: expected[name] for name in compute_metrics.metric_names}
    assert {"av/hit", "av/f1", "av/auc_roc", "mu/a"} <= set(results)
    assert not any("@" in name for name in results)
    # sigmoid(x) > 0.5 is x > 0: the same sets as threshold=0 on the logits
    on_logits = make_compute_metrics(split, "all", threshold=0.0)((logits, None))
    assert on_logits == results


def test_bootstrap_and_protocol_options_give_the_core_numbers_and_interval_keys():
    split = synthetic_split()
    logits = random_logits(len(split))
    options = {"bootstrap": 30, "confidence": 0.9, "seed": 4, "ranking_resamples": 6}
    options["protocol"] = "paper"
    compute_metrics = make_compute_metrics(split, "av", ks=(1, 3), **options)
    results = compute_metrics((logits, None))
    expected = core_results(split, {"av": logits}, ks=(1, 3), **options)
    assert results == {name: expected[name] for name in compute_metrics.metric_names}
    assert compute_metrics.metric_names[:3] == ("av/hit@1", "av/hit@1/ci_low", "av/hit@1/ci_high")
    assert {"av/auc_roc/ci_low", "av/f1@3/ci_high"} <= set(results)
    thresholded = make_compute_metrics(
        split, "all", threshold=0.2, bootstrap=10, mu_ground_truth="av_labels"
    )
    stacked = random_logits(len(split), inputs=3)
    got = thresholded((stacked, None))
    by_input = {m: stacked[:, i] for i, m in enumerate(INPUTS)}
    core = core_results(split, by_input, threshold=0.2, bootstrap=10, mu_ground_truth="av_labels")
    assert got == {name: core[name] for name in thresholded.metric_names}
    assert "mu/a/ci_low" in got and "av/hit/ci_high" in got
    assert "av/auc_roc/ci_low" not in got  # no ranking intervals for thresholded scores


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 0.5, "ks": (1,)}, "ks= and threshold= are alternatives"),
        ({"sigmoid": True}, "sigmoid=True applies the logistic before threshold"),
        ({"threshold": 2.0, "sigmoid": True}, "between 0 and 1"),
        ({"threshold": "0.5"}, "threshold must be a real number"),
        ({"bootstrap": -1}, "bootstrap"),
        ({"bootstrap": 5, "confidence": 1.5}, "confidence"),
        ({"protocol": "papers"}, "unknown protocol"),
        ({"mu_ground_truth": "av"}, "mu_ground_truth must be one of"),
    ],
)
def test_bad_scoring_options_are_refused_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_compute_metrics(synthetic_split(), "av", **kwargs)


def test_an_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        make_compute_metrics(synthetic_split(), "av", thresold=0.5)


# --- bad input ----------------------------------------------------------------------------


def test_logits_for_a_different_number_of_rows_are_refused():
    compute_metrics = make_compute_metrics(synthetic_split(), "av")
    with pytest.raises(ValueError, match=r"logits for 79 clips in total.*80 rows"):
        compute_metrics((random_logits(79), None))


def test_logits_of_the_wrong_shape_are_refused():
    split = synthetic_split()
    with pytest.raises(ValueError, match=r"input 'av' have shape \(80, 5\)"):
        make_compute_metrics(split, "av")((np.zeros((80, 5)), None))
    with pytest.raises(ValueError, match=r"\(N, 3, 12\)"):
        make_compute_metrics(split, "all")((random_logits(80), None))


def test_non_finite_logits_name_the_clip():
    split = synthetic_split()
    logits = random_logits(len(split))
    logits[7, 3] = np.nan
    with pytest.raises(PredictionError, match=split[7]["video_id"]):
        make_compute_metrics(split, "av")((logits, None))


@pytest.mark.parametrize(
    ("logits", "message"),
    [
        (lambda x: x > 0.5, r"input 'av' have dtype bool; expected real numbers"),
        (lambda x: x.astype(str), r"input 'av' have dtype <U32; expected real numbers"),
        (lambda x: x + 1j, r"input 'av' have dtype complex64; expected real numbers"),
        (lambda x: x.astype(object), r"input 'av' have dtype object; expected real numbers"),
        (lambda x: [*x.tolist()[:-1], [0.5]], r"\('av',\) are not one rectangular array"),
        (lambda x: x[:, :, None], r"input 'av' have shape \(80, 12, 1\)"),
    ],
    ids=["bool", "str", "complex", "object", "ragged", "3-d"],
)
def test_logits_that_are_not_real_numbers_are_refused(logits, message):
    split = synthetic_split()
    with pytest.raises(PredictionError, match=message):
        make_compute_metrics(split, "av")((logits(random_logits(len(split))), None))


def test_logits_as_nested_lists_of_numbers_are_one_array():
    split = synthetic_split()
    logits = random_logits(len(split))
    compute_metrics = make_compute_metrics(split, "av")
    assert compute_metrics((logits.tolist(), None)) == compute_metrics((logits, None))


def test_label_ids_that_are_not_numbers_are_not_checked():
    split = synthetic_split()
    logits = random_logits(len(split))
    names = np.full((len(split), NUM_CLASSES), "x")
    compute_metrics = make_compute_metrics(split, "av")
    assert compute_metrics((logits, names)) == compute_metrics((logits, None))


def test_label_ids_of_other_rows_are_refused_unless_unchecked():
    split = synthetic_split()
    labels = multi_hot_matrix(split)
    logits = random_logits(len(split))
    shuffled = labels[::-1]
    with pytest.raises(ValueError, match="not a label of clip"):
        make_compute_metrics(split, "av")((logits, shuffled))
    unchecked = make_compute_metrics(split, "av", check_labels=False)
    assert unchecked((logits, shuffled)) == unchecked((logits, labels))
    # class indices (single-label targets) are not multi-hot: nothing to check
    make_compute_metrics(split, "av")((logits, np.zeros(len(split), dtype=np.int64)))


def test_a_split_already_made_multi_hot_is_refused_with_a_hint():
    with pytest.raises(ValueError, match="before with_multi_hot_labels"):
        make_compute_metrics(with_multi_hot_labels(synthetic_split()), "av")


def test_a_split_without_a_clip_of_the_clip_set_is_refused():
    split = synthetic_split().filter(lambda row: row["background_music"])
    with pytest.raises(ValueError, match="clip_set='full'"):
        make_compute_metrics(split, "av")
    assert make_compute_metrics(split, "av", clip_set="full").num_scored == len(split)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_modality": "audio"}, "input_modality must be one of"),
        ({"input_modality": ("a", "a")}, "repeats"),
        ({"metrics": ("hit", "accuracy")}, r"unknown metric\(s\) \['accuracy'\]"),
        ({"columns": ("v",)}, "column 'v' needs logits of input 'v'"),
        ({"ks": (0,)}, "every k must be an integer between 1 and 12; got 0"),
        ({"ks": (13,)}, "every k must be an integer between 1 and 12; got 13"),
        ({"tie_break": "random"}, "tie_break must be one of"),
        ({"clip_set": "no_music"}, "unknown clip set"),
    ],
)
def test_bad_options_are_refused_at_construction(kwargs, message):
    kwargs = {"input_modality": "av", **kwargs}
    with pytest.raises(ValueError, match=message):
        make_compute_metrics(synthetic_split(), **kwargs)


def test_rows_missing_a_field_are_refused():
    split = synthetic_split().remove_columns("voice_over")
    with pytest.raises(ValueError, match=r"no column\(s\) \['voice_over'\]"):
        make_compute_metrics(split, "av")


@pytest.mark.parametrize("flag", ["False", 0, None])
def test_plain_rows_with_meta_flags_that_are_not_booleans_are_refused(flag):
    rows = synthetic_split().to_list()
    rows[3]["static_image"] = flag
    with pytest.raises(ValueError, match=r"evaluation row\[3\] .*'static_image' must be True or"):
        make_compute_metrics(rows, "av", class_names=CLASS_NAMES)


def test_plain_rows_need_class_names():
    rows = synthetic_split().to_list()
    with pytest.raises(ValueError, match="class_names is needed"):
        make_compute_metrics(rows, "av")
    from_rows = make_compute_metrics(rows, "av", class_names=CLASS_NAMES)
    assert from_rows((random_logits(80), None)) == make_compute_metrics(synthetic_split())(
        (random_logits(80), None)
    )


# --- multi-hot labels ---------------------------------------------------------------------


def test_multi_hot_labels_of_one_example_and_of_a_batch():
    one = multi_hot_labels({"labels": [3, 0]}, num_classes=5)["labels"]
    assert one.dtype == np.float32
    assert one.tolist() == [1.0, 0.0, 0.0, 1.0, 0.0]
    batch = multi_hot_labels(
        {"labels": [[1], [4, 2]], "video_id": ["x", "y"]}, num_classes=5, output_column="targets"
    )
    assert list(batch) == ["targets"]
    assert batch["targets"].tolist() == [[0, 1, 0, 0, 0], [0, 0, 1, 0, 1]]


def test_multi_hot_labels_refuse_what_is_not_a_class_index():
    with pytest.raises(ValueError, match=r"class index 5, outside 0\.\.4"):
        multi_hot_labels({"labels": [[1], [5]]}, num_classes=5)
    with pytest.raises(ValueError, match="not a class index"):
        multi_hot_labels({"labels": [["dog"]]}, num_classes=5)
    with pytest.raises(ValueError, match="no column 'labels'"):
        multi_hot_labels({"label": [1]}, num_classes=5)


def test_with_multi_hot_labels_replaces_labels_by_float32_vectors_and_keeps_the_rest():
    split = synthetic_split()
    mapped = with_multi_hot_labels(split)
    assert mapped.features["labels"] == datasets.List(datasets.Value("float32"), length=12)
    assert mapped.column_names == split.column_names
    assert mapped[:]["video_id"] == split[:]["video_id"]
    vectors = mapped.with_format("numpy")[:]["labels"]
    assert vectors.dtype == np.float32
    assert vectors.shape == (len(split), NUM_CLASSES)
    for row, labels in enumerate(split["labels"]):
        assert np.flatnonzero(vectors[row]).tolist() == sorted(labels)


def test_with_multi_hot_labels_into_another_column_keeps_the_class_indices():
    split = synthetic_split()
    mapped = with_multi_hot_labels(split, output_column="targets")
    assert mapped.features["labels"] == split.features["labels"]
    assert mapped.features["targets"].length == NUM_CLASSES
    # still usable to build compute_metrics
    assert make_compute_metrics(mapped, "av").num_rows == len(split)


def test_multi_hot_map_needs_features_for_the_labels_column():
    """Why with_multi_hot_labels passes features=: a plain map keeps the ClassLabel type."""
    split = synthetic_split()
    plain = split.map(multi_hot_labels, batched=True, fn_kwargs={"num_classes": NUM_CLASSES})
    assert plain.features["labels"] == split.features["labels"]  # silently integers
    explicit = split.map(
        multi_hot_labels,
        batched=True,
        fn_kwargs={"num_classes": NUM_CLASSES},
        features=multi_hot_features(split.features),
    )
    assert explicit.features["labels"] == with_multi_hot_labels(split).features["labels"]
    assert explicit[:]["labels"] == with_multi_hot_labels(split)[:]["labels"]


def test_multi_hot_labels_are_targets_of_a_multi_label_transformers_model():
    """problem_type="multi_label_classification": the model's loss is BCE on these vectors."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    config = transformers.ASTConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_mel_bins=16,
        max_length=16,
        patch_size=16,
        frequency_stride=16,
        time_stride=16,
        num_labels=NUM_CLASSES,
        problem_type="multi_label_classification",
    )
    model = transformers.ASTForAudioClassification(config)
    labels = with_multi_hot_labels(synthetic_split(num_clips=4)).with_format("torch")[:]["labels"]
    torch.manual_seed(0)
    output = model(input_values=torch.randn(4, 16, 16), labels=labels)
    assert labels.dtype == torch.float32
    expected = torch.nn.functional.binary_cross_entropy_with_logits(output.logits, labels)
    assert torch.equal(output.loss, expected)


# --- a real Trainer run -----------------------------------------------------------------------


def load_example_script():
    spec = importlib.util.spec_from_file_location("train_trainer_example", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_script_trains_and_prints_the_metrics(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    metrics_json = tmp_path / "metrics.json"
    command = [
        sys.executable,
        str(SCRIPT),
        "--steps=60",
        "--max-clips=600",
        f"--cache-dir={tmp_path / 'cache'}",
        f"--output-dir={tmp_path / 'run'}",
        f"--metrics-json={metrics_json}",
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-3000:]
    saved = json.loads(metrics_json.read_text())
    before, after = saved["untrained"], saved["trained"]
    table = {}
    for line in finished.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith("eval_"):
            table[parts[0]] = (float(parts[1]), float(parts[2]))
    names = [
        f"eval_{column}/{metric}"
        for column in ("a", "v", "av", "a_only", "v_only")
        for metric in ("hit@1", "f1@1", "subset_accuracy@1", "auc_roc", "auc_pr")
    ] + ["eval_mu/a", "eval_mu/v", "eval_mu/a_and_v"]
    assert set(names) <= set(table)
    for name in names:
        assert table[name] == (round(before[name], 4), round(after[name], 4))
        assert 0.0 <= after[name] <= 1.0
    # the synthetic features carry the labels: training must beat the untrained model
    assert after["eval_loss"] < before["eval_loss"]
    assert after["eval_av/hit@1"] > before["eval_av/hit@1"] + 0.1
    assert after["eval_a/auc_roc"] > 0.55
    assert "evaluation clips: 200, of which" in finished.stdout


@pytest.fixture(scope="module")
def trained_example(tmp_path_factory):
    """The example's Trainer after 40 steps, and the raw evaluation split it evaluates."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    script = load_example_script()
    folder = tmp_path_factory.mktemp("trainer")
    args = script.parse_args(
        ["--steps=40", "--max-clips=900", f"--cache-dir={folder / 'cache'}", "--seed=3"]
    )
    trainer, eval_split = script.build(args, str(folder / "run"))
    trainer.train()
    return trainer, eval_split


def test_trainer_reports_the_core_numbers_of_its_own_logits(trained_example):
    trainer, eval_split = trained_example
    reported = trainer.evaluate()
    logits = trainer.predict(trainer.eval_dataset).predictions
    assert logits.shape == (len(eval_split), 3, 309)
    compute_metrics = trainer.compute_metrics
    expected = core_results(eval_split, {m: logits[:, i] for i, m in enumerate(INPUTS)}, ks=(1,))
    for name in compute_metrics.metric_names:
        assert reported[f"eval_{name}"] == expected[name], name


def test_trainer_with_batch_eval_metrics_reports_the_same_numbers(trained_example):
    import dataclasses

    from transformers import Trainer

    trainer, _ = trained_example
    whole = trainer.evaluate()
    batched = Trainer(
        model=trainer.model,
        args=dataclasses.replace(
            trainer.args, batch_eval_metrics=True, per_device_eval_batch_size=64
        ),
        eval_dataset=trainer.eval_dataset,  # 300 rows: four full batches and one of 44
        compute_metrics=trainer.compute_metrics,
    )
    reported = batched.evaluate()
    for name in trainer.compute_metrics.metric_names:
        assert reported[f"eval_{name}"] == whole[f"eval_{name}"], name


def test_trainer_numbers_equal_the_evaluate_module_on_the_same_logits(trained_example):
    import evaluate

    trainer, eval_split = trained_example
    reported = trainer.evaluate()
    logits = trainer.predict(trainer.eval_dataset).predictions
    metric = evaluate.load(str(METRIC_MODULE), "scores")
    predictions = [
        {"video_id": video_id, **{m: logits[row, i].tolist() for i, m in enumerate(INPUTS)}}
        for row, video_id in enumerate(eval_split["video_id"])
    ]
    module_results = metric.compute(
        predictions=predictions,
        references=eval_split.to_list(),
        clip_set="default",
        ks=[1],
        tie_break="reference",
    )
    names = trainer.compute_metrics.metric_names
    assert len(names) == 28
    for name in names:
        assert reported[f"eval_{name}"] == module_results[name], name
        assert not math.isnan(module_results[name])
