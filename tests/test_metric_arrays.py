"""Standard shapes in (issue 14): arrays and tensors per input, optional references, multi-hot
targets, thresholds instead of top-k, compact storage, ``evaluate.combine``, and the options
of ``evaluate_predictions`` in the module (bootstrap, protocol).

The numbers are the core's (``evaluate_predictions``, tested against the authors' reference
elsewhere): these tests pin that every input form hands the core the same predictions and
references, and that thresholds are the documented rule.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import evaluate
import numpy as np
import pytest

import vggsounder_hf
from vggsounder_hf.core import ranking, schema
from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.hf import metric_arrays

METRIC = vggsounder_hf.METRIC_PATH
INPUTS = schema.INPUT_MODALITIES
FIELDS = ["video_id", "labels", "modalities", "background_music", "static_image", "voice_over"]
F1_MODULE = '''
import datasets
import evaluate
import numpy as np
from sklearn.metrics import f1_score


class F1(evaluate.Metric):
    """The inputs, options and output of evaluate-metric/f1 (the Hub's), for offline tests."""

    def _info(self):
        value = datasets.Value("int32")
        multilabel = self.config_name == "multilabel"
        return evaluate.MetricInfo(
            description="F1", citation="", inputs_description="",
            features=datasets.Features({
                "predictions": datasets.Sequence(value) if multilabel else value,
                "references": datasets.Sequence(value) if multilabel else value,
            }),
        )

    def _compute(self, predictions, references, labels=None, pos_label=1, average="binary",
                 sample_weight=None):
        score = np.asarray(f1_score(references, predictions, labels=labels,
                                    pos_label=pos_label, average=average,
                                    sample_weight=sample_weight))
        return {"f1": float(score) if score.size == 1 else score}
'''


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    for name in ("HF_HUB_OFFLINE", "HF_EVALUATE_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.setenv(name, "1")


@pytest.fixture(scope="module")
def test_split(prepared_releases):
    return prepared_releases["1.0"].select_columns(FIELDS)


@pytest.fixture(scope="module")
def release():
    """The default references: the ground truth of release 1.0 and its test split's ids."""
    return metric_arrays.release_rows()


def _matrix(truth: GroundTruth, ids, subset: str) -> np.ndarray:
    return truth.labels(subset)[truth.row_of(list(ids))]


def _scores(num_rows: int, seed: int = 0, dtype=np.float64) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {m: rng.standard_normal((num_rows, 309)).astype(dtype) for m in INPUTS}


def _core(truth, scores_or_sets, ids, kind="scores", **options) -> dict:
    if kind == "scores":
        model = ModelPredictions.from_scores(
            {m: (list(ids), matrix) for m, matrix in scores_or_sets.items()}, truth.class_names
        )
    else:
        names = truth.class_names
        model = ModelPredictions.from_label_sets(
            {
                m: {
                    vid: [names[i] for i in np.flatnonzero(row)]
                    for vid, row in zip(ids, hot, strict=True)
                }
                for m, hot in scores_or_sets.items()
            },
            names,
        )
    return evaluate_predictions(truth, model, **options)


# --------------------------------------------------------------------------- arrays in


def test_score_arrays_per_input_equal_rows_and_the_core(test_split):
    subset = test_split.select(range(300))
    ids = subset["video_id"]
    scores = _scores(len(ids))
    truth = GroundTruth.from_rows(subset.to_list(), metric_arrays.release_rows()[0].class_names)
    metric = evaluate.load(METRIC, "scores")
    by_arrays = metric.compute(predictions=scores, references=subset, clip_set="full", ks=(1, 5))
    rows = [
        {"video_id": v, **{m: scores[m][i].tolist() for m in INPUTS}} for i, v in enumerate(ids)
    ]
    by_rows = metric.compute(predictions=rows, references=subset, clip_set="full", ks=(1, 5))
    assert by_arrays == by_rows == _core(truth, scores, ids, clip_set="full", ks=(1, 5))


def test_torch_tensors_float32_and_one_array_for_one_input(test_split):
    torch = pytest.importorskip("torch")
    subset = test_split.select(range(200))
    scores = _scores(len(subset), seed=1, dtype=np.float32)
    metric = evaluate.load(METRIC, "scores")
    as_numpy = metric.compute(predictions=scores, references=subset, clip_set="full")
    tensors = {m: torch.from_numpy(matrix) for m, matrix in scores.items()}
    assert metric.compute(predictions=tensors, references=subset, clip_set="full") == as_numpy
    one = metric.compute(predictions=tensors["av"], references=subset, clip_set="full")
    assert {key.split("/")[0] for key in one if "/" in key} == {"av"}
    assert one == metric.compute(
        predictions={"av": scores["av"]}, references=subset, clip_set="full"
    )
    audio = evaluate.load(METRIC, "scores", input_modality="a").compute(
        predictions=scores["a"], references=subset, clip_set="full"
    )
    assert audio["a/auc_roc"] == as_numpy["a/auc_roc"] and "av/auc_roc" not in audio


def test_scores_are_stored_compactly_in_their_own_float_type():
    names = [f"c{i}" for i in range(309)]
    for dtype, arrow in ((np.float32, "float"), (np.float64, "double"), (np.int64, "double")):
        cell, references = metric_arrays.stored_batch(
            {"a": np.zeros((2, 309), dtype)}, None, "scores", names, video_ids=["x", "y"]
        )
        table = metric_arrays.read_batch(cell)
        assert str(table.schema.field("a").type) == f"fixed_size_list<item: {arrow}>[309]"
        assert references is None  # the release's rows
        assert table.column("video_id").to_pylist() == ["x", "y"]


def test_references_omitted_are_every_clip_of_the_release(release, released_predictions):
    truth, ids = release
    # Rows in the test split's order, no video_ids, no references: the release's test split.
    hot = {m: np.random.default_rng(9).random((len(ids), 309)) > 0.99 for m in INPUTS}
    results = evaluate.load(METRIC).compute(predictions=hot)
    assert results == _core(truth, hot, ids, "labels")
    # A released file, one add_batch per input (each input names its own clips).
    model = released_predictions["gemini-1.5-pro"]
    metric = evaluate.load(METRIC)
    for modality in INPUTS:
        given = model[modality]
        inside = truth.row_of(given.video_ids) >= 0
        metric.add_batch(
            predictions={modality: given.matrix[inside]}, video_ids=given.video_ids[inside]
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = metric.compute()
        expected = evaluate_predictions(truth, model)
    assert expected.pop("num_unknown_clips") > 0  # the file names clips outside the release
    assert results.pop("num_unknown_clips") == 0
    assert results == expected


def test_video_ids_name_rows_in_any_order_and_fewer_rows_are_missing_clips(release):
    truth, ids = release
    chosen = np.random.default_rng(2).permutation(len(ids))[:5000]
    chosen_ids = [ids[i] for i in chosen]
    scores = _scores(len(chosen_ids), seed=3)
    hot = {m: _matrix(truth, chosen_ids, "a" if m == "a" else "av") for m in INPUTS}
    av_clips = int((truth.labels("av").any(axis=1) & truth.mask("default")).sum())
    for kind, given in (("scores", scores), ("labels", hot)):
        results = evaluate.load(METRIC, kind).compute(predictions=given, video_ids=chosen_ids)
        assert results == _core(truth, given, chosen_ids, kind)
        # As the command line: a clip without a prediction is an empty label set, and is left
        # out for scores.
        missing = results["av/num_missing"]
        assert 0 < missing < av_clips
        assert results["av/num_clips"] == (av_clips if kind == "labels" else av_clips - missing)
    order = np.argsort(chosen_ids)
    shuffled = {m: matrix[order] for m, matrix in scores.items()}
    again = evaluate.load(METRIC, "scores").compute(
        predictions=shuffled, video_ids=[chosen_ids[i] for i in order]
    )
    assert again == _core(truth, scores, chosen_ids)


def test_add_batch_of_arrays_in_any_order_equals_one_compute(test_split):
    subset = test_split.select(range(400))
    scores = _scores(len(subset), seed=4, dtype=np.float32)
    ids = subset["video_id"]
    one_call = evaluate.load(METRIC, "scores").compute(
        predictions=scores, references=subset, clip_set="full"
    )
    streamed = evaluate.load(METRIC, "scores")
    for part in np.array_split(np.random.default_rng(5).permutation(len(ids)), 3):
        streamed.add_batch(
            predictions={m: matrix[part] for m, matrix in scores.items()},
            references=subset.select(part),
        )
    assert streamed.compute(clip_set="full") == one_call
    streamed = evaluate.load(METRIC, "scores")
    for part in np.array_split(np.arange(len(ids)), 2):
        streamed.add_batch(
            predictions={m: matrix[part] for m, matrix in scores.items()},
            video_ids=[ids[i] for i in part],
        )
    truth = metric_arrays.release_rows()[0]
    assert streamed.compute(clip_set="full") == _core(truth, scores, ids, clip_set="full")


def test_multi_hot_references_stand_for_the_release_rows_and_are_checked(release):
    truth, ids = release
    targets = _matrix(truth, ids, "all").astype(np.float32)  # with_multi_hot_labels' vectors
    hot = {"av": _matrix(truth, ids, "av")}
    metric = evaluate.load(METRIC)
    assert metric.compute(predictions=hot, references=targets) == metric.compute(predictions=hot)
    with pytest.raises(ValueError, match=r"references row 0 marks class .* not a label of clip"):
        metric.compute(predictions=hot, references=targets[::-1])
    with pytest.raises(ValueError, match=r"multi-hot targets for .* prediction rows"):
        metric.compute(predictions=hot, references=targets[:10])


@pytest.mark.parametrize(
    ("config", "predictions", "message"),
    [
        (
            "labels",
            {"a": np.full((3, 309), 0.7)},
            r"input 'a': the 'labels' config takes multi-hot",
        ),
        ("scores", {"a": np.zeros((3, 309), bool)}, r"booleans are label sets"),
        ("scores", {"a": np.zeros((3, 5))}, r"input 'a': expected an \(N, 309\) array"),
        (
            "scores",
            {"a": np.zeros((3, 309)), "v": np.zeros((2, 309))},
            r"different numbers of rows",
        ),
        (
            "scores",
            np.zeros((3, 309)),
            r"3 rows but the release's test split name 15069 clips; pass",
        ),
    ],
)
def test_bad_arrays_are_refused_with_one_clear_message(config, predictions, message):
    with pytest.raises(ValueError, match=message):
        evaluate.load(METRIC, config).compute(predictions=predictions)


def test_non_finite_scores_name_the_row_and_clip():
    scores = np.zeros((2, 309))
    scores[1, 4] = np.inf
    with pytest.raises(ValueError, match=r"input 'av': row 1 \(y_000002\): scores contain NaN"):
        evaluate.load(METRIC, "scores").compute(
            predictions=scores, video_ids=["x_000001", "y_000002"]
        )


def test_references_in_some_batches_only_are_refused(test_split):
    subset = test_split.select(range(4))
    metric = evaluate.load(METRIC, "scores")
    metric.add_batch(predictions=_scores(2)["a"], video_ids=subset["video_id"][:2])
    metric.add_batch(predictions=_scores(2)["a"], references=subset.select([2, 3]))
    with pytest.raises(ValueError, match="given in some add_batch calls and omitted in others"):
        metric.compute()


def test_video_ids_with_rows_and_a_clip_given_twice_are_refused():
    metric = evaluate.load(METRIC)
    with pytest.raises(ValueError, match="prediction rows carry their own 'video_id'"):
        metric.compute(predictions=[{"video_id": "x_000001", "a": [0]}], video_ids=["x_000001"])
    metric.add_batch(predictions={"a": np.eye(1, 309)}, video_ids=["x_000001"])
    with pytest.raises(ValueError, match=r"clip 'x_000001' appears more than once \(predictions"):
        metric.compute(predictions={"a": np.eye(1, 309)}, video_ids=["x_000001"])


# --------------------------------------------------------------------------- thresholds


def test_threshold_is_strictly_above_and_sigmoid_is_the_logistic():
    scores = np.array([[0.5, 0.51, -3.0, 3.0]])
    assert ranking.threshold_mask(scores, 0.5).tolist() == [[False, True, False, True]]
    logits = np.log(np.array([0.4, 0.6, 0.5]) / (1 - np.array([0.4, 0.6, 0.5])))
    assert ranking.threshold_mask(logits[None], 0.5, sigmoid=True).tolist() == [
        [False, True, False]
    ]
    assert ranking.sigmoid_of(np.array([-800.0, 800.0])).tolist() == [0.0, 1.0]
    for bad, message in ((True, "real number"), (float("nan"), "finite"), ("0.5", "real number")):
        with pytest.raises(ValueError, match=message):
            ranking.checked_threshold(bad)
    with pytest.raises(ValueError, match="between 0 and 1"):
        ranking.checked_threshold(2.0, sigmoid=True)
    with pytest.raises(ValueError, match="sigmoid=True applies the logistic before threshold"):
        ranking.checked_threshold(None, sigmoid=True)


def test_a_thresholded_score_model_is_its_label_sets_plus_its_ranking_metrics(
    truth_1_0, synthetic_predictions
):
    thresholded = evaluate_predictions(truth_1_0, synthetic_predictions, threshold=0.5)
    top_k = evaluate_predictions(truth_1_0, synthetic_predictions)
    scored = {m: synthetic_predictions[m] for m in INPUTS}
    sets = ModelPredictions.from_label_sets(
        {
            m: {
                v: [truth_1_0.class_names[i] for i in np.flatnonzero(row > 0.5)]
                for v, row in zip(p.video_ids, p.matrix, strict=True)
            }
            for m, p in scored.items()
        },
        truth_1_0.class_names,
    )
    # The clips without scores are left out (the score models' rule), so the label-set model
    # is scored on the clips that have scores.
    rows = truth_1_0.row_of(scored["a"].video_ids)
    with_scores = np.zeros(len(truth_1_0), bool)
    with_scores[rows[rows >= 0]] = True
    as_sets = evaluate_predictions(truth_1_0.take(with_scores), sets)
    for spec in schema.COLUMN_SPECS:
        for name in schema.LABEL_SET_METRICS:
            assert thresholded[f"{spec.key}/{name}"] == as_sets[f"{spec.key}/{name}"]
            assert f"{spec.key}/{name}@1" not in thresholded
        for name in schema.RANKING_METRICS:
            assert thresholded[f"{spec.key}/{name}"] == top_k[f"{spec.key}/{name}"]
    for part in schema.MU_PARTS:
        assert thresholded[f"mu/{part}"] == pytest.approx(as_sets[f"mu/{part}"], abs=0)
    for key in thresholded:
        assert schema.ResultKey.parse(key).format() == key


def test_sigmoid_threshold_equals_the_threshold_on_logits_at_zero(truth_1_0, synthetic_predictions):
    logits = ModelPredictions.from_scores(
        {m: (p.video_ids, p.matrix - 0.5) for m, p in synthetic_predictions.inputs.items()},
        truth_1_0.class_names,
    )
    on_probabilities = evaluate_predictions(truth_1_0, logits, threshold=0.5, sigmoid=True)
    on_logits = evaluate_predictions(truth_1_0, logits, threshold=0.0)
    assert on_probabilities == on_logits


def test_the_module_thresholds_like_the_core_and_refuses_it_for_label_sets(test_split):
    subset = test_split.select(range(300))
    scores = _scores(len(subset), seed=6)
    truth = GroundTruth.from_rows(subset.to_list(), metric_arrays.release_rows()[0].class_names)
    results = evaluate.load(METRIC, "scores").compute(
        predictions=scores, references=subset, threshold=0.9, sigmoid=True, clip_set="full"
    )
    expected = _core(
        truth, scores, subset["video_id"], threshold=0.9, sigmoid=True, clip_set="full"
    )
    assert results == expected and "av/f1" in results and "av/f1@1" not in results
    with pytest.raises(ValueError, match="threshold= and sigmoid= turn scores into label sets"):
        evaluate.load(METRIC).compute(
            predictions={"a": np.zeros((1, 309))}, video_ids=["x"], threshold=0.5
        )


# --------------------------------------------------------------------------- options, keys


def test_bootstrap_and_protocol_options_equal_evaluate_predictions(test_split):
    subset = test_split.select(range(500))
    truth = GroundTruth.from_rows(subset.to_list(), metric_arrays.release_rows()[0].class_names)
    ids = subset["video_id"]
    scores = _scores(len(ids), seed=7)
    options = {"bootstrap": 20, "confidence": 0.9, "seed": 3, "ranking_resamples": 5}
    options.update(protocol="paper", clip_set="full", ks=(1, 3))
    results = evaluate.load(METRIC, "scores").compute(
        predictions=scores, references=subset, **options
    )
    assert results == _core(truth, scores, ids, **options)
    assert "av/f1@3/ci_low" in results and "av/auc_roc/ci_high" in results
    hot = {m: scores[m] > 1.5 for m in INPUTS}
    labels = evaluate.load(METRIC).compute(
        predictions=hot, references=subset, mu_ground_truth="av_labels", bootstrap=10, seed=1
    )
    assert labels == _core(
        truth, hot, ids, "labels", mu_ground_truth="av_labels", bootstrap=10, seed=1
    )


def test_result_keys_are_stable_and_in_the_documented_order(release):
    truth, ids = release
    hot = {m: _matrix(truth, ids, "all") for m in INPUTS}
    labels = list(evaluate.load(METRIC).compute(predictions=hot))
    expected = []
    for spec in schema.COLUMN_SPECS:
        expected += [
            f"{spec.key}/{name}" for name in ("num_clips", "num_missing", *schema.LABEL_SET_METRICS)
        ]
    expected += [f"mu/{part}" for part in schema.MU_PARTS] + ["mu/num_clips", *schema.GLOBAL_COUNTS]
    assert labels == expected
    scores = list(
        evaluate.load(METRIC, "scores").compute(
            predictions={"v": truth.labels("v")[truth.row_of(list(ids))] * 1.0}, ks=(1, 3)
        )
    )
    per_column = ["num_clips", "num_missing"]
    per_column += [f"{name}@{k}" for k in (1, 3) for name in schema.LABEL_SET_METRICS]
    per_column += list(schema.RANKING_METRICS)
    assert scores == [f"{c}/{n}" for c in ("v", "v_only") for n in per_column] + list(
        schema.GLOBAL_COUNTS
    )


# --------------------------------------------------------------------------- evaluate.combine


@pytest.fixture(scope="module")
def tiny_release(tmp_path_factory, release):
    """A six-clip annotation file (labels release 1.0's classes) as the module's data_path."""
    truth, _ = release
    folder = tmp_path_factory.mktemp("tiny-release")
    path = folder / "tiny.csv"
    clips = [
        ("aaaaaaaaaaa_000001", [(0, "A"), (5, "AV")]),
        ("bbbbbbbbbbb_000002", [(3, "V")]),
        ("ccccccccccc_000003", [(7, "AV")]),
        ("ddddddddddd_000004", [(7, "AV"), (9, "A")]),
        ("eeeeeeeeeee_000005", [(2, "AV")]),
        ("fffffffffff_000006", [(4, "V"), (2, "A")]),
    ]
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(
            ["video_id", "label", "modality", "background_music", "static_image", "voice_over"]
        )
        for video_id, labels in clips:
            for label, modality in labels:
                writer.writerow([video_id, truth.class_names[label], modality, False, False, False])
    return str(path)


def test_evaluate_combine_with_f1_takes_one_pair_of_arrays(tmp_path, tiny_release):
    module = tmp_path / "f1"
    module.mkdir()
    (module / "f1.py").write_text(F1_MODULE, encoding="utf-8")
    vggsounder = evaluate.load(METRIC, data_path=tiny_release)
    truth, ids = metric_arrays.release_rows("1.0", tiny_release)
    targets = _matrix(truth, ids, "all").astype(np.int64)
    predictions = _matrix(truth, ids, "av").astype(np.int64)  # the av input's label sets
    combined = evaluate.combine([vggsounder, evaluate.load(str(module), "multilabel")])
    results = combined.compute(predictions=predictions, references=targets, average="micro")
    alone = evaluate.load(METRIC, data_path=tiny_release).compute(predictions=predictions)
    assert {key: results[key] for key in alone} == alone
    assert alone["av/f1"] == 1.0 and alone["av/num_clips"] == 4
    from sklearn.metrics import f1_score

    assert results["f1"] == f1_score(targets, predictions, average="micro")


# --------------------------------------------------------------------------- distributed


_WORKER = textwrap.dedent(
    """
    import json, sys
    import numpy as np, evaluate, vggsounder_hf
    cache_dir, process_id, inputs, out = sys.argv[1:]
    data = json.load(open(inputs))
    metric = evaluate.load(vggsounder_hf.METRIC_PATH, "scores", num_process=2,
                           process_id=int(process_id), cache_dir=cache_dir, experiment_id="arr")
    scores = {m: np.asarray(v, dtype=np.float32) for m, v in data["scores"].items()}
    result = metric.compute(predictions=scores, video_ids=data["ids"], clip_set="full")
    json.dump(result, open(out, "w"))
    """
)


def test_two_processes_with_arrays_give_the_numbers_of_one(release, tmp_path):
    _, ids = release
    chosen = list(ids[:600])
    scores = _scores(len(chosen), seed=8, dtype=np.float32)
    workers = []
    for process_id, part in enumerate((slice(0, None, 2), slice(1, None, 2))):
        inputs = tmp_path / f"in{process_id}.json"
        inputs.write_text(
            json.dumps(
                {"ids": chosen[part], "scores": {m: s[part].tolist() for m, s in scores.items()}}
            )
        )
        command = [
            sys.executable,
            "-c",
            _WORKER,
            str(tmp_path / "cache"),
            str(process_id),
            str(inputs),
            str(tmp_path / f"out{process_id}.json"),
        ]
        workers.append(subprocess.Popen(command, stderr=subprocess.PIPE))
    for worker in workers:
        _, stderr = worker.communicate(timeout=300)
        assert worker.returncode == 0, stderr.decode()[-2000:]
    distributed = json.loads((tmp_path / "out0.json").read_text())
    single = evaluate.load(METRIC, "scores").compute(
        predictions=scores, video_ids=chosen, clip_set="full"
    )
    assert distributed == pytest.approx(single, abs=0)
    assert json.loads((tmp_path / "out1.json").read_text()) is None
    assert Path(tmp_path / "cache").is_dir()


# --------------------------------------------------------------------------- the CLI


@pytest.fixture(scope="module")
def score_pickle(tmp_path_factory, synthetic_mapping) -> Path:
    import pickle

    path = tmp_path_factory.mktemp("threshold") / "synthetic.pkl"
    path.write_bytes(pickle.dumps(synthetic_mapping))
    return path


def test_cli_threshold_and_sigmoid_reach_the_core(capsys, score_pickle, truth_1_0):
    from vggsounder_hf.cli.score import main
    from vggsounder_hf.io.readers import read_predictions

    code = main([str(score_pickle), "--threshold", "0.6", "--sigmoid", "--format", "json", "-q"])
    out, _ = capsys.readouterr()
    assert code == 0
    payload = json.loads(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = read_predictions(score_pickle, truth_1_0.class_names)
    expected = evaluate_predictions(truth_1_0, model, threshold=0.6, sigmoid=True)
    (row,) = payload["rows"]
    assert row["k"] is None  # one row: a thresholded score model has no top-k
    assert row["values"]["f1/av"] == expected["av/f1"]
    assert row["values"]["hit/a"] == expected["a/hit"]
    assert row["values"]["mu/a_and_v"] == expected["mu/a_and_v"]
    assert (payload["metadata"]["threshold"], payload["metadata"]["sigmoid"]) == (0.6, True)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--threshold", "0.5", "--k", "3"], "--threshold and --k/--ks are alternatives"),
        (["--sigmoid"], "--sigmoid applies the logistic before --threshold"),
        (["--threshold", "nan"], "--threshold: threshold must be finite"),
        (["--threshold", "1.5", "--sigmoid"], "must be between 0 and 1"),
    ],
)
def test_cli_threshold_options_are_checked(capsys, score_pickle, options, message):
    from vggsounder_hf.cli.score import main

    assert main([str(score_pickle), *options, "-q"]) == 2
    assert message in capsys.readouterr().err
