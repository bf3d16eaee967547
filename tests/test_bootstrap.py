"""Bootstrap confidence intervals and paired model comparison (core.bootstrap).

The resampling is checked against its definition: weighted counts with every weight 1 are
the point estimate, and a handful of resamples equal ``evaluate_predictions`` on the
resampled clips (duplicated clips renamed) exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from vggsounder_hf.core.alignment import align
from vggsounder_hf.core.bootstrap import (
    check_bootstrap_options,
    compare_models,
    percentile_interval,
    resample_weights,
    resampled_results,
)
from vggsounder_hf.core.bootstrap_counts import weighted_ranking_per_class
from vggsounder_hf.core.evaluation import evaluate_predictions, score
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.core.ranking import ranking_metrics_per_class
from vggsounder_hf.core.schema import (
    BOUNDS,
    COLUMNS,
    INPUT_MODALITIES,
    MODALITY_NAMES,
    RATE_METRICS,
    ResultKey,
)

CLASSES = tuple(f"class {index}" for index in range(8))
KS = (1, 3)
AVERAGE_PRECISION_METRICS = ("auc_pr", "map")
"""Averages of per-class AP: the weighted sum adds the same precisions in another order."""


# --------------------------------------------------------------------------- synthetic data


def _synthetic_clips(num_clips: int, seed: int) -> list[dict]:
    """Clips with labels of every modality, background music on some, a label-set prediction
    and (for most clips) scores with ties for every input."""
    rng = np.random.default_rng(seed)
    clips = []
    for index in range(num_clips):
        labels = rng.choice(len(CLASSES), size=int(rng.integers(1, 4)), replace=False)
        is_true = np.isin(np.arange(len(CLASSES)), labels)
        scores = {}
        for modality in INPUT_MODALITIES:
            signal = 1.5 * is_true * (rng.random(len(CLASSES)) < 0.7)
            scores[modality] = np.round(rng.standard_normal(len(CLASSES)) + signal, 1)
        clips.append(
            {
                "index": index,
                "labels": labels.tolist(),
                "modalities": rng.choice(MODALITY_NAMES, size=len(labels)).tolist(),
                "background_music": bool(rng.random() < 0.3),
                "predicted": {m: np.flatnonzero(s > 1.0).tolist() for m, s in scores.items()},
                "scores": scores if rng.random() > 0.1 else None,
            }
        )
    return clips


def _build(clips: list[dict], copies: list[int] | int = 1):
    """Ground truth, label-set and score predictions of the clips, clip ``i`` repeated
    ``copies[i]`` times under distinct ids."""
    if isinstance(copies, int):
        copies = [copies] * len(clips)
    rows, label_sets, scores = [], {m: {} for m in INPUT_MODALITIES}, {}
    for clip, count in zip(clips, copies, strict=True):
        for copy in range(count):
            video_id = f"clip{clip['index']:04d}copy{copy:03d}_{clip['index']:06d}"
            rows.append(
                {
                    "video_id": video_id,
                    "labels": clip["labels"],
                    "modalities": clip["modalities"],
                    "background_music": clip["background_music"],
                    "static_image": False,
                    "voice_over": False,
                }
            )
            for modality in INPUT_MODALITIES:
                label_sets[modality][video_id] = clip["predicted"][modality]
                if clip["scores"] is not None:
                    scores.setdefault(modality, {})[video_id] = clip["scores"][modality]
    return (
        GroundTruth.from_rows(rows, CLASSES),
        ModelPredictions.from_label_sets(label_sets, CLASSES),
        ModelPredictions.from_scores(scores, CLASSES),
    )


def _rate_keys(results: dict) -> list[str]:
    return [
        key
        for key in results
        if "/" in key
        and ResultKey.parse(key).bound is None
        and ResultKey.parse(key).metric in RATE_METRICS
    ]


def _bounds(key: str) -> tuple[str, str]:
    parsed = ResultKey.parse(key)
    return tuple(
        ResultKey(parsed.column, parsed.metric, parsed.k, bound).format() for bound in BOUNDS
    )


def _assert_same(key: str, expected: float, value: float) -> None:
    if math.isnan(expected):
        assert math.isnan(value), key
    elif ResultKey.parse(key).metric in AVERAGE_PRECISION_METRICS:
        assert value == pytest.approx(expected, rel=1e-12, abs=1e-15), key
    else:
        assert value == expected, key


# --------------------------------------------------------------------------- real data


def test_intervals_contain_the_point_estimate_for_a_released_model(truth_1_0, released_predictions):
    results = evaluate_predictions(
        truth_1_0, released_predictions["gemini-1.5-pro"], bootstrap=200, seed=0
    )
    rates = _rate_keys(results)
    assert len(rates) == 5 * 7 + 3
    interval_keys = {bound for key in rates for bound in _bounds(key)}
    assert interval_keys == {key for key in results if key.endswith(BOUNDS)}
    for key in rates:
        low, high = (results[bound] for bound in _bounds(key))
        assert low <= high, key
        if key == "v_only/f1_macro":
            continue  # biased under resampling: see the next test
        assert low <= results[key] <= high, key


def test_macro_f1_of_the_small_v_only_column_is_biased_low_under_resampling(
    truth_1_0, released_predictions
):
    """851 clips over 309 classes: a class with one or two clips is missing from many
    resamples and then scores 0 in the macro average, so the resampled macro F1 sits below
    the point estimate, and the percentile interval can lie entirely below it. A property of
    the percentile bootstrap of this statistic, kept visible rather than hidden."""
    model = align(truth_1_0, released_predictions["gemini-1.5-pro"])
    mask = model.mask("default")
    values = resampled_results(
        model,
        mask,
        resample_weights(int(mask.sum()), 200, 0),
        columns=("v only", "a"),
        modality_confusion=False,
        ranking_resamples=0,
    )
    point = score(model, mask, columns=("v only", "a"), modality_confusion=False)
    assert values["v_only/f1_macro"].mean() < point["v_only/f1_macro"] - 0.02
    assert abs(values["v_only/f1"].mean() - point["v_only/f1"]) < 0.005  # micro F1: no bias
    assert abs(values["a/f1_macro"].mean() - point["a/f1_macro"]) < 0.01  # many clips


def test_all_weights_one_reproduce_every_point_estimate(
    truth_1_0, released_predictions, synthetic_predictions
):
    cases = ((released_predictions["gemini-1.5-pro"], "default"), (synthetic_predictions, "full"))
    for predictions, clip_set in cases:
        model = align(truth_1_0, predictions)
        mask = model.mask(clip_set)
        point = score(model, mask)
        ones = np.ones((1, int(mask.sum())), dtype=np.float32)
        values = resampled_results(
            model, mask, ones, columns=COLUMNS, modality_confusion=True, ranking_resamples=1
        )
        assert sorted(values) == sorted(_rate_keys(point))
        for key, per_resample in values.items():
            assert per_resample.shape == (1,)
            _assert_same(key, point[key], float(per_resample[0]))


def test_a_seeded_run_is_reproducible_and_other_seeds_differ(truth_1_0, released_predictions):
    predictions = released_predictions["gemini-1.5-flash"]
    first = evaluate_predictions(truth_1_0, predictions, bootstrap=50, seed=7)
    assert evaluate_predictions(truth_1_0, predictions, bootstrap=50, seed=7) == first
    other = evaluate_predictions(truth_1_0, predictions, bootstrap=50, seed=8)
    interval_keys = [key for key in first if key.endswith(BOUNDS)]
    assert sum(first[key] != other[key] for key in interval_keys) > len(interval_keys) / 2
    assert all(first[key] == other[key] for key in first if key not in interval_keys)


def test_bootstrap_zero_changes_nothing(truth_1_0, released_predictions):
    predictions = released_predictions["ola"]
    plain = evaluate_predictions(truth_1_0, predictions)
    assert evaluate_predictions(truth_1_0, predictions, bootstrap=0, seed=3) == plain
    assert not [key for key in plain if key.endswith(BOUNDS)]


def test_a_model_against_itself_is_exactly_zero(truth_1_0, released_predictions):
    predictions = released_predictions["gemini-1.5-pro"]
    paired = compare_models(truth_1_0, predictions, predictions, bootstrap=100, seed=1)
    assert len(paired) == 5 * 7 + 3
    zero = {"difference": 0.0, "ci_low": 0.0, "ci_high": 0.0, "sign_flip": 0.0}
    assert all(entry == zero for entry in paired.values())
    truth, _, scores = _build(_synthetic_clips(80, seed=5))
    paired = compare_models(truth, scores, scores, bootstrap=60, ks=KS, clip_set="full")
    assert "av/auc_roc" in paired and "a/f1@3" in paired
    assert all(entry == zero for entry in paired.values())


def test_paired_comparison_of_two_released_models(truth_1_0, released_predictions):
    a, b = released_predictions["gemini-1.5-pro"], released_predictions["pandagpt"]
    paired = compare_models(truth_1_0, a, b, bootstrap=100, seed=0)
    point_a = evaluate_predictions(truth_1_0, a)
    point_b = evaluate_predictions(truth_1_0, b)
    for key, entry in paired.items():
        assert entry["difference"] == point_a[key] - point_b[key], key
        assert entry["ci_low"] <= entry["ci_high"], key
        assert 0.0 <= entry["sign_flip"] <= 1.0, key
    # gemini-1.5-pro is far better on av/f1 (0.57 vs 0.22): no resample says otherwise.
    assert paired["av/f1"]["ci_low"] > 0.0
    assert paired["av/f1"]["sign_flip"] == 0.0


# --------------------------------------------------------------------------- synthetic data


def test_the_resamples_equal_evaluating_the_resampled_clips():
    """A naive bootstrap: the drawn clips as a ground truth of their own (a clip drawn twice
    becomes two clips), scored by ``evaluate_predictions``; identical numbers."""
    clips = _synthetic_clips(60, seed=1)
    truth, labels, scores = _build(clips)
    mask = truth.mask("default")  # resample only the clips without background music
    in_mask = [clip for clip, keep in zip(clips, mask, strict=True) if keep]
    weights = resample_weights(len(in_mask), 5, seed=11)
    for predictions, kind in ((labels, "labels"), (scores, "scores")):
        model = align(truth, predictions, ks=KS)
        values = resampled_results(
            model, mask, weights, columns=COLUMNS, modality_confusion=True, ranking_resamples=5
        )
        assert any("auc_roc" in key for key in values) == (kind == "scores")
        assert all(per_resample.shape == (5,) for per_resample in values.values())
        for row, counts in enumerate(weights.astype(int)):
            naive_truth, naive_labels, naive_scores = _build(in_mask, counts.tolist())
            naive = evaluate_predictions(
                naive_truth,
                naive_labels if kind == "labels" else naive_scores,
                clip_set="full",
                ks=KS,
            )
            assert sorted(values) == sorted(_rate_keys(naive))
            for key, per_resample in values.items():
                _assert_same(key, naive[key], float(per_resample[row]))


def test_weighted_auc_and_ap_equal_those_of_the_resampled_clips():
    """Per class, larger than the synthetic clip sets above: rare positives leave long runs
    of negatives between them (summed apart from the short segments)."""
    rng = np.random.default_rng(0)
    y_true = rng.random((3000, 12)) < 0.01
    y_true[:, 0] = False  # no positive: nan in every resample
    scores = rng.standard_normal((3000, 12)) + 1.5 * y_true
    scores[::3] = np.round(scores[::3], 1)  # ties, among negatives and across labels
    weights = resample_weights(3000, 8, seed=2)
    auc, average_precision = weighted_ranking_per_class(
        y_true, np.ascontiguousarray(scores.T), weights
    )
    assert auc.shape == average_precision.shape == (8, 12)
    for row, counts in enumerate(weights.astype(int)):
        drawn = np.repeat(np.arange(3000), counts)
        expected_auc, expected_ap = ranking_metrics_per_class(y_true[drawn], scores[drawn])
        assert np.array_equal(auc[row], expected_auc, equal_nan=True)
        np.testing.assert_allclose(average_precision[row], expected_ap, rtol=1e-12, atol=0)
    assert np.isnan(auc[:, 0]).all() and not np.isnan(auc[:, 1:]).any()


def test_intervals_shrink_as_the_clips_grow():
    """The same clips 16 times over: about a quarter of the width (1 / sqrt(16))."""
    clips = _synthetic_clips(50, seed=2)
    for kind in (1, 2):  # label sets, scores
        small = _build(clips, 1)
        large = _build(clips, 16)
        options = {"clip_set": "full", "ks": KS, "bootstrap": 300, "seed": 0}
        results_small = evaluate_predictions(small[0], small[kind], **options)
        results_large = evaluate_predictions(large[0], large[kind], **options)
        ratios = []
        for key in _rate_keys(results_small):
            assert results_large[key] == pytest.approx(results_small[key], abs=1e-12), key
            low, high = (results_small[bound] for bound in _bounds(key))
            low_16, high_16 = (results_large[bound] for bound in _bounds(key))
            if high > low:
                assert high_16 - low_16 < high - low, key
                ratios.append((high_16 - low_16) / (high - low))
        assert len(ratios) > 0.8 * len(_rate_keys(results_small))
        assert 0.15 < float(np.median(ratios)) < 0.4


def test_undefined_resamples_do_not_poison_the_interval():
    """One clip of 30 has a visual-only label: many resamples have no v-only clip."""
    clips = _synthetic_clips(30, seed=3)
    for clip in clips:
        clip["modalities"] = ["A"] * len(clip["labels"])
        clip["background_music"] = False
    clips[0]["modalities"][0] = "V"
    truth, labels, _ = _build(clips)
    model = align(truth, labels)
    mask = truth.mask("full")
    weights = resample_weights(30, 200, seed=0)
    values = resampled_results(
        model, mask, weights, columns=COLUMNS, modality_confusion=True, ranking_resamples=0
    )
    empty = weights[:, 0] == 0
    assert 0 < empty.sum() < 200
    assert np.isnan(values["v_only/hit"][empty]).all()
    assert not np.isnan(values["v_only/hit"][~empty]).any()
    results = evaluate_predictions(truth, labels, clip_set="full", bootstrap=200, seed=0)
    assert not math.isnan(results["v_only/hit/ci_low"])
    assert not math.isnan(results["v_only/hit/ci_high"])


def test_ranking_metrics_use_the_first_resamples_of_the_same_draw():
    truth, _, scores = _build(_synthetic_clips(60, seed=4))
    options = {"clip_set": "full", "ks": KS, "seed": 3}
    many = evaluate_predictions(truth, scores, bootstrap=300, ranking_resamples=100, **options)
    few = evaluate_predictions(truth, scores, bootstrap=100, **options)
    ranking_keys = [key for key in many if key.endswith(BOUNDS) and "auc_roc" in key]
    assert len(ranking_keys) == 2 * 5
    assert all(many[key] == few[key] for key in ranking_keys)
    none = evaluate_predictions(truth, scores, bootstrap=50, ranking_resamples=0, **options)
    assert not [key for key in none if key.endswith(BOUNDS) and "auc" in key]
    assert "a/f1@3/ci_low" in none and "mu/a/ci_high" in none


def test_resample_weights_are_counts_of_draws_with_replacement():
    weights = resample_weights(1000, 200, seed=0)
    assert weights.dtype == np.float32
    assert (weights.sum(axis=1) == 1000).all()
    assert (weights == np.round(weights)).all() and weights.min() == 0
    assert abs(weights.mean() - 1.0) < 1e-6 and abs(weights.var() - 1.0) < 0.02  # multinomial
    assert np.array_equal(resample_weights(1000, 70, seed=0), weights[:70])
    assert resample_weights(0, 3, seed=0).shape == (3, 0)


def test_percentile_interval_is_numpy_linear_quantile_without_nan():
    values = np.array([3.0, np.nan, 1.0, 2.0, 4.0, np.nan, 0.0])
    defined = values[~np.isnan(values)]
    expected = np.quantile(defined, [(1 - 0.9) / 2, 1 - (1 - 0.9) / 2], method="linear")
    assert percentile_interval(values, 0.9) == (float(expected[0]), float(expected[1]))
    low, high = percentile_interval(np.array([np.nan, np.nan]), 0.95)
    assert math.isnan(low) and math.isnan(high)


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"bootstrap": -1}, "bootstrap must be a non-negative integer"),
        ({"bootstrap": 2.5}, "bootstrap must be a non-negative integer"),
        ({"bootstrap": True}, "bootstrap must be a non-negative integer"),
        ({"bootstrap": "100"}, "bootstrap must be a non-negative integer"),
        ({"bootstrap": 10, "confidence": 0}, "confidence must be a number strictly between"),
        ({"bootstrap": 10, "confidence": 1.0}, "confidence must be a number strictly between"),
        ({"bootstrap": 10, "confidence": 95}, "confidence must be a number strictly between"),
        ({"bootstrap": 10, "confidence": math.nan}, "confidence must be a number"),
        ({"bootstrap": 10, "confidence": "0.9"}, "confidence must be a number"),
        ({"bootstrap": 10, "seed": "zero"}, "seed must be an integer or None"),
        ({"bootstrap": 10, "seed": 1.5}, "seed must be an integer or None"),
        ({"bootstrap": 10, "ranking_resamples": 11}, r"ranking_resamples must be .* \(10\)"),
        ({"bootstrap": 10, "ranking_resamples": -1}, "ranking_resamples must be an integer"),
    ],
)
def test_bad_bootstrap_options_are_refused_before_any_work(options, message):
    truth, labels, _ = _build(_synthetic_clips(5, seed=0))
    other_classes = ModelPredictions.from_label_sets({"a": {"x_000001": []}}, ("only",))
    for predictions in (labels, other_classes):  # checked before the class lists are
        with pytest.raises(ValueError, match=message):
            evaluate_predictions(truth, predictions, **options)
    with pytest.raises(ValueError, match=message):
        score(align(truth, labels), "full", **options)


def test_bootstrap_options_resolve_the_ranking_resamples():
    assert check_bootstrap_options(1000, 0.95, None, None) == (1000, 0.95, None, 200)
    assert check_bootstrap_options(50, 0.5, np.int64(3), None) == (50, 0.5, 3, 50)
    assert check_bootstrap_options(0, 0.95, 0, None) == (0, 0.95, 0, 0)


def test_compare_models_refuses_what_it_cannot_compare():
    truth, labels, scores = _build(_synthetic_clips(20, seed=6))
    with pytest.raises(ValueError, match="bootstrap of at least 1"):
        compare_models(truth, labels, labels, bootstrap=0)
    with pytest.raises(ValueError, match="share no result key"):
        compare_models(truth, labels, scores, bootstrap=10, ks=KS, modality_confusion=False)
    shared = compare_models(truth, labels, scores, bootstrap=10, ks=KS, clip_set="full")
    assert sorted(shared) == ["mu/a", "mu/a_and_v", "mu/v"]  # label sets vs scores: only μ
    other_truth = _build(_synthetic_clips(20, seed=7))[0]
    with pytest.raises(ValueError, match="model b was aligned to another ground truth"):
        compare_models(truth, labels, align(other_truth, labels), bootstrap=10)
