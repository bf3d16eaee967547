"""Scoring on several threads gives exactly the numbers of one thread (``threads=``,
``--threads``)."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest

from vggsounder_hf.cli.score import main
from vggsounder_hf.core import parallel
from vggsounder_hf.core.alignment import align
from vggsounder_hf.core.evaluation import evaluate_predictions, score
from vggsounder_hf.core.predictions import ModelPredictions


def _same(left: dict, right: dict) -> None:
    """Equal keys in equal order, and bit-equal numbers (NaN equal to NaN)."""
    assert list(left) == list(right)
    for key, value in left.items():
        other = right[key]
        if isinstance(value, float) and math.isnan(value):
            assert isinstance(other, float) and math.isnan(other), key
        else:
            assert value == other and type(value) is type(other), key


@pytest.fixture(scope="module")
def score_model(synthetic_mapping, truth_1_0):
    """The synthetic score model (ties, missing clips) on 3,000 clips, and its alignment."""
    mapping = dict(list(synthetic_mapping.items())[:3000])
    predictions = ModelPredictions.from_mapping(mapping, truth_1_0.class_names)
    return mapping, align(truth_1_0, predictions, ks=(1, 3, 5, 10))


@pytest.mark.parametrize("threads", [2, 3, 4, 8])
def test_score_model_results_do_not_depend_on_threads(score_model, threads):
    _, model = score_model
    one = score(model, "full", threads=1)
    assert any(key.endswith("/map") for key in one) and "mu/num_clips" in one
    _same(one, score(model, "full", threads=threads))


@pytest.mark.parametrize("threads", [2, 4])
def test_rankings_of_the_inputs_do_not_depend_on_threads(score_model, truth_1_0, threads):
    mapping, one = score_model
    predictions = ModelPredictions.from_mapping(mapping, truth_1_0.class_names)
    many = align(truth_1_0, predictions, ks=(1, 3, 5, 10), threads=threads)
    assert set(many.inputs) == set(one.inputs) == {"a", "v", "av"}
    for modality, given in one.inputs.items():
        np.testing.assert_array_equal(many.inputs[modality].ranking, given.ranking)
        assert many.inputs[modality].ranking.shape == (len(predictions[modality].video_ids), 10)


@pytest.mark.parametrize("threads", [2, 3])
def test_rankings_in_blocks_of_rows_equal_one_ranking(synthetic_predictions, truth_1_0, threads):
    one = align(truth_1_0, synthetic_predictions, ks=(1, 5), threads=1)
    many = align(truth_1_0, synthetic_predictions, ks=(1, 5), threads=threads)
    for modality, given in one.inputs.items():
        assert len(given.ranking) > 4096  # large enough to be ranked in blocks
        np.testing.assert_array_equal(many.inputs[modality].ranking, given.ranking)


def test_per_class_results_do_not_depend_on_threads(score_model):
    _, model = score_model
    one = score(model, "default", per_class=True, threads=1)
    many = score(model, "default", per_class=True, threads=4)
    assert list(one["per_class"]) == list(many["per_class"])
    for name, classes in one["per_class"].items():
        assert json.dumps(classes, sort_keys=False) == json.dumps(many["per_class"][name])
    _same(
        {k: v for k, v in one.items() if k != "per_class"},
        {k: v for k, v in many.items() if k != "per_class"},
    )


def test_the_default_is_the_machines_cores_capped(score_model, monkeypatch):
    _, model = score_model
    assert 1 <= parallel.default_threads() <= parallel.MAX_DEFAULT_THREADS
    _same(score(model, "full", threads=1), score(model, "full"))


def test_evaluate_predictions_passes_threads_on(score_model, truth_1_0):
    mapping, _ = score_model
    predictions = ModelPredictions.from_mapping(mapping, truth_1_0.class_names)
    _same(
        evaluate_predictions(truth_1_0, predictions, ks=(1, 3), threads=1),
        evaluate_predictions(truth_1_0, predictions, ks=(1, 3), threads=2),
    )


def test_label_set_models_stay_on_one_thread(truth_1_0, monkeypatch):
    predictions = ModelPredictions.from_label_sets(
        {"a": {truth_1_0.video_ids[0]: [0]}, "v": {truth_1_0.video_ids[1]: [1]}},
        truth_1_0.class_names,
    )
    model = align(truth_1_0, predictions)
    seen: list[int] = []
    real = parallel.run_in_order

    def spy(tasks, threads):
        seen.append(threads)
        return real(tasks, threads)

    monkeypatch.setattr("vggsounder_hf.core.evaluation.run_in_order", spy)
    score(model, "full", threads=4)
    assert seen == [1]


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, None.__class__])
def test_bad_thread_counts_are_refused(score_model, bad):
    _, model = score_model
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        score(model, "full", threads=bad)


def test_numpy_integers_are_thread_counts():
    assert parallel.checked_threads(np.int64(3)) == 3


def test_errors_come_in_task_order():
    def fail(message):
        def task():
            raise KeyError(message)

        return task

    with pytest.raises(KeyError, match="first"):
        parallel.run_in_order([lambda: 1, fail("first"), fail("second")], threads=3)


def test_cli_threads_give_identical_json(score_model, tmp_path, capsys):
    mapping, _ = score_model
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(mapping, protocol=4))
    outputs = []
    for threads in ("1", "2"):
        output = tmp_path / f"results-{threads}.json"
        argv = [str(path), "--clip-set", "full", "--ks", "1,3,5,10", "--threads", threads]
        assert main([*argv, "--output", str(output), "--quiet"]) == 0
        outputs.append(json.loads(output.read_text()))
    assert outputs[0] == outputs[1]
    assert json.dumps(outputs[0]) == json.dumps(outputs[1])


@pytest.mark.parametrize("bad", ["0", "-2", "two"])
def test_cli_refuses_bad_thread_counts(bad, capsys):
    assert main(["--baseline", "class-prior", "--threads", bad]) == 2
    assert "--threads" in capsys.readouterr().err


def test_score_models_use_the_threads_asked_for(score_model, monkeypatch):
    _, model = score_model
    seen: list[int] = []
    real = parallel.run_in_order

    def spy(tasks, threads):
        seen.append(threads)
        return real(tasks, threads)

    monkeypatch.setattr("vggsounder_hf.core.evaluation.run_in_order", spy)
    score(model, "full", threads=3)
    assert seen == [3]
