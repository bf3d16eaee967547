"""The `evaluate` module in metrics/vggsounder: loading, inputs, streaming, distribution."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import evaluate
import numpy as np
import pytest

from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.io.safe_pickle import load_pickle

METRIC_PATH = str(Path(__file__).resolve().parents[1] / "metrics" / "vggsounder")
REFERENCE_FIELDS = ["video_id", "labels", "modalities", "background_music", "static_image"]
REFERENCE_FIELDS.append("voice_over")


@pytest.fixture(scope="module")
def release_rows(prepared_releases) -> list[dict]:
    return prepared_releases["1.0"].select_columns(REFERENCE_FIELDS).to_list()


@pytest.fixture(scope="module")
def class_names(prepared_releases) -> tuple[str, ...]:
    return tuple(prepared_releases["1.0"].features["labels"].feature.names)


def _prediction_rows(mapping: dict, video_ids: list[str], section: str) -> list[dict]:
    rows = []
    for video_id in video_ids:
        values = mapping.get(video_id, {}).get(section, {})
        rows.append({"video_id": video_id, **{m: values.get(m) for m in ("a", "v", "av")}})
    return rows


def _model_rows(shared_data: Path, model: str, release_rows: list[dict]) -> tuple[dict, list]:
    mapping = load_pickle(shared_data / "model-predictions" / f"{model}.pkl")
    video_ids = [row["video_id"] for row in release_rows]
    return mapping, _prediction_rows(mapping, video_ids, "predictions")


def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_EVALUATE_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def test_loads_offline_with_both_configs(monkeypatch):
    _offline(monkeypatch)
    labels = evaluate.load(METRIC_PATH)
    scores = evaluate.load(METRIC_PATH, "scores")
    # Issue 14: one compact Arrow cell per add_batch call (was one row per clip with nested
    # lists of names or float64 scores); what the module accepts is in its inputs_description.
    for metric in (labels, scores):
        assert {name: feature.dtype for name, feature in metric.features.items()} == {
            "predictions": "large_binary",
            "references": "large_binary",
        }
    assert "(N, 309) numpy array or torch tensor" in scores.inputs_description
    assert "VGGSounder" in labels.description


def test_released_model_through_the_module_equals_the_core(
    shared_data, release_rows, class_names, monkeypatch
):
    _offline(monkeypatch)
    mapping, rows = _model_rows(shared_data, "unified-io-2", release_rows)
    metric = evaluate.load(METRIC_PATH)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        through_module = metric.compute(predictions=rows, references=release_rows)
        direct = evaluate_predictions(
            GroundTruth.from_rows(release_rows, class_names),
            ModelPredictions.from_mapping(mapping, class_names),
        )
    # The module's rows are built from the references, so it never sees the file's 182 clips
    # outside the release: that count is the only difference from reading the whole file.
    assert direct.pop("num_unknown_clips") == 182
    assert through_module.pop("num_unknown_clips") == 0
    assert through_module.keys() == direct.keys()
    for key, value in direct.items():
        assert through_module[key] == pytest.approx(value, abs=1e-12), key


def test_module_matches_the_recorded_reference_values(
    shared_data, release_rows, reference_values, monkeypatch
):
    _offline(monkeypatch)
    _, rows = _model_rows(shared_data, "gemini-1.5-pro", release_rows)
    results = evaluate.load(METRIC_PATH).compute(predictions=rows, references=release_rows)
    expected = reference_values["results"]["default"]["gemini-1.5-pro"]
    assert results["av/f1"] == pytest.approx(expected["av"]["f1"], abs=1e-9)
    assert results["a_only/hit"] == pytest.approx(expected["a only"]["hit_rate"], abs=1e-9)
    assert results["v/subset_accuracy"] == pytest.approx(expected["v"]["accuracy"], abs=1e-9)
    assert results["mu/a_and_v"] == pytest.approx(expected["av"]["mu"], abs=1e-9)


def test_shuffled_add_batch_equals_one_compute(shared_data, release_rows, monkeypatch):
    _offline(monkeypatch)
    _, rows = _model_rows(shared_data, "pandagpt", release_rows)
    one_call = evaluate.load(METRIC_PATH).compute(predictions=rows, references=release_rows)
    order = np.random.default_rng(7).permutation(len(rows))
    streamed = evaluate.load(METRIC_PATH)
    for batch in np.array_split(order, 9):
        streamed.add_batch(
            predictions=[rows[i] for i in batch], references=[release_rows[i] for i in batch]
        )
    assert streamed.compute() == one_call


def test_score_predictions_with_shuffled_batches_and_per_class_output(
    release_rows, class_names, monkeypatch
):
    _offline(monkeypatch)
    rng = np.random.default_rng(0)
    subset = release_rows[:400]
    rows = [
        {"video_id": row["video_id"], **{m: rng.random(len(class_names)) for m in ("a", "v", "av")}}
        for row in subset
    ]
    one_call = evaluate.load(METRIC_PATH, "scores").compute(
        predictions=rows, references=subset, clip_set="full", ks=(1, 5), per_class=True
    )
    streamed = evaluate.load(METRIC_PATH, "scores")
    order = rng.permutation(len(rows))
    for batch in np.array_split(order, 4):
        streamed.add_batch(
            predictions=[rows[i] for i in batch], references=[subset[i] for i in batch]
        )
    assert streamed.compute(clip_set="full", ks=(1, 5), per_class=True) == one_call
    assert set(one_call["per_class"]["av"]) == {"f1@1", "f1@5", "auc_roc", "auc_pr"}
    assert len(one_call["per_class"]["av"]["auc_pr"]) == len(class_names)
    assert "av/auc_roc" in one_call and "av/hit@5" in one_call


_DISTRIBUTED_WORKER = textwrap.dedent(
    """
    import json, sys
    import evaluate
    path, cache_dir, process_id, rows_file, out_file = sys.argv[1:]
    data = json.load(open(rows_file))
    metric = evaluate.load(path, num_process=2, process_id=int(process_id),
                           cache_dir=cache_dir, experiment_id="vggsounder-test")
    result = metric.compute(predictions=data["predictions"], references=data["references"])
    json.dump(result, open(out_file, "w"))
    """
)


def test_two_processes_give_the_numbers_of_one(shared_data, release_rows, tmp_path):
    _, rows = _model_rows(shared_data, "ola", release_rows)
    shards = [(rows[0::2], release_rows[0::2]), (rows[1::2], release_rows[1::2])]
    commands = []
    for process_id, (predictions, references) in enumerate(shards):
        rows_file = tmp_path / f"rows{process_id}.json"
        rows_file.write_text(json.dumps({"predictions": predictions, "references": references}))
        commands.append(
            [
                sys.executable,
                "-c",
                _DISTRIBUTED_WORKER,
                METRIC_PATH,
                str(tmp_path / "cache"),
                str(process_id),
                str(rows_file),
                str(tmp_path / f"out{process_id}.json"),
            ]
        )
    env = {**__import__("os").environ, "HF_HUB_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1"}
    workers = [subprocess.Popen(command, env=env, stderr=subprocess.PIPE) for command in commands]
    for worker in workers:
        _, stderr = worker.communicate(timeout=300)
        assert worker.returncode == 0, stderr.decode()[-2000:]
    distributed = json.loads((tmp_path / "out0.json").read_text())
    single = evaluate.load(METRIC_PATH).compute(predictions=rows, references=release_rows)
    assert distributed == pytest.approx(single, abs=0)
    assert json.loads((tmp_path / "out1.json").read_text()) is None


def _two_clip_references() -> list[dict]:
    return [
        {"video_id": "clip-a_000001", "labels": [0, 5], "modalities": [0, 2]},
        {"video_id": "clip-b_000002", "labels": [3], "modalities": ["V"]},
    ]


def _references() -> list[dict]:
    flags = {"background_music": False, "static_image": False, "voice_over": False}
    return [{**row, **flags} for row in _two_clip_references()]


def test_label_indices_and_names_give_the_same_numbers(class_names):
    by_index = [
        {"video_id": "clip-a_000001", "a": [0, 5], "v": [], "av": [5]},
        {"video_id": "clip-b_000002", "a": [], "v": [3], "av": [1]},
    ]
    by_name = [
        {**row, **{m: [class_names[i] for i in row[m]] for m in ("a", "v", "av")}}
        for row in by_index
    ]
    metric = evaluate.load(METRIC_PATH)
    assert metric.compute(predictions=by_index, references=_references()) == metric.compute(
        predictions=by_name, references=_references()
    )


def test_unknown_class_names_are_ignored_counted_and_warned_about():
    predictions = [
        {"video_id": "clip-a_000001", "a": ["not a class", 0, 5], "v": [], "av": [5]},
        {"video_id": "clip-b_000002", "a": [], "v": [3], "av": []},
    ]
    with pytest.warns(UserWarning, match="not VGGSounder classes"):
        results = evaluate.load(METRIC_PATH).compute(
            predictions=predictions, references=_references()
        )
    assert results["num_unknown_labels"] == 1
    assert results["a/subset_accuracy"] == 1.0  # as the reference: the unknown name is dropped


def test_inputs_left_out_are_not_evaluated_and_mu_needs_all_three():
    predictions = [
        {"video_id": "clip-a_000001", "a": [0]},
        {"video_id": "clip-b_000002", "a": []},
    ]
    results = evaluate.load(METRIC_PATH).compute(predictions=predictions, references=_references())
    assert {key.split("/")[0] for key in results if "/" in key} == {"a", "a_only"}
    assert "mu/a" not in results


@pytest.mark.parametrize(
    ("config", "prediction", "message"),
    [
        ("scores", {"a": [0.1] * 308}, "expected 309 scores"),
        ("scores", {"a": [float("nan")] * 309}, "NaN or infinity"),
        ("scores", {"a": [float("inf")] * 309}, "NaN or infinity"),
        ("labels", {"a": "dog barking"}, "expected a list of class names"),
        ("labels", {"a": [309]}, "class index 309 outside"),
        ("labels", {"audio": ["dog barking"]}, "unknown key"),
    ],
)
def test_bad_predictions_are_refused_with_a_message_naming_the_row(config, prediction, message):
    metric = evaluate.load(METRIC_PATH, config)
    rows = [{"video_id": "clip-a_000001", **prediction}, {"video_id": "clip-b_000002"}]
    with pytest.raises(ValueError, match=message) as error:
        metric.compute(predictions=rows, references=_references())
    assert "predictions[0] (clip-a_000001)" in str(error.value)


def test_duplicate_clip_ids_are_refused():
    rows = [{"video_id": "clip-a_000001", "a": [0]}, {"video_id": "clip-a_000001", "a": [1]}]
    with pytest.raises(ValueError, match="more than once"):
        evaluate.load(METRIC_PATH).compute(predictions=rows, references=_references())


def test_empty_input_is_a_clear_error_and_fewer_predictions_are_clips_without_one():
    metric = evaluate.load(METRIC_PATH)
    # Issue 14: fewer predictions than references are clips without a prediction, as the
    # command line treats them (this used to be refused as a length mismatch).
    fewer = metric.compute(
        predictions=[{"video_id": "clip-b_000002", "v": [3]}],
        references=_references(),
        clip_set="full",
    )
    assert (fewer["v/num_clips"], fewer["v/num_missing"], fewer["v/hit"]) == (2, 1, 0.5)
    with pytest.raises(ValueError, match="every input modality is empty"):
        metric.compute(
            predictions=[{"video_id": "clip-a_000001"}, {"video_id": "clip-b_000002"}],
            references=_references(),
        )


def test_predictions_for_clips_outside_the_references_are_ignored():
    predictions = [
        {"video_id": "clip-a_000001", "a": [0, 5], "v": [], "av": [5]},
        {"video_id": "not-in-benchmark_000009", "a": [3], "v": [3], "av": [3]},
    ]
    references = _references()
    results = evaluate.load(METRIC_PATH).compute(predictions=predictions, references=references)
    assert results["a/num_clips"] == 1 and results["v/num_missing"] == 1


def test_a_score_that_is_not_a_number_is_refused_naming_its_row():
    metric = evaluate.load(METRIC_PATH, "scores")
    good = [0.5] * 309
    rows = [
        {"video_id": "clip-a_000001", "a": good},
        {"video_id": "clip-b_000002", "a": [*good[:-1], "high"]},
    ]
    with pytest.raises(ValueError, match=r"predictions\[1\] \(clip-b_000002\), input 'a'"):
        metric.compute(predictions=rows, references=_references())


def test_predictions_for_clips_outside_the_references_are_counted():
    predictions = [
        {"video_id": "clip-a_000001", "a": [0, 5], "v": [], "av": [5]},
        {"video_id": "not-in-benchmark_000009", "a": [3], "v": [3], "av": [3]},
    ]
    results = evaluate.load(METRIC_PATH).compute(predictions=predictions, references=_references())
    assert results["num_unknown_clips"] == 1


@pytest.mark.parametrize("flag", ["False", "True", 0, None])
def test_meta_flags_that_are_not_booleans_are_refused(flag):
    references = _references()
    references[1]["voice_over"] = flag
    predictions = [{"video_id": row["video_id"], "a": [0]} for row in references]
    with pytest.raises(ValueError, match=r"references\[1\] \(clip-b_000002\): 'voice_over' must"):
        evaluate.load(METRIC_PATH).compute(predictions=predictions, references=references)


def test_references_are_stored_as_the_dataset_stores_them(class_names):
    from vggsounder_hf.hf.metric_inputs import normalise_references

    named = [
        {**row, "labels": [class_names[i] for i in row["labels"]], "modalities": ["A", "AV"]}
        for row in _references()[:1]
    ]
    stored = normalise_references(named, class_names)
    assert stored == [{**_references()[0], "modalities": [0, 2]}]
    assert normalise_references(stored, class_names) == stored
    with pytest.raises(ValueError, match=r"references\[0\] \(clip-a_000001\): 2 labels but 1"):
        normalise_references([{**_references()[0], "modalities": [0]}], class_names)
    with pytest.raises(ValueError, match=r"references\[0\] .*unknown class True"):
        normalise_references([{**_references()[0], "labels": [True, 1]}], class_names)


def test_score_config_returns_every_ranking_metric_of_the_registry(class_names):
    from vggsounder_hf.core.schema import RANKING_METRICS

    rng = np.random.default_rng(1)
    references = _references()
    rows = [{"video_id": row["video_id"], "a": rng.random(len(class_names))} for row in references]
    results = evaluate.load(METRIC_PATH, "scores").compute(
        predictions=rows, references=references, clip_set="full", ks=(1,)
    )
    assert {f"a/{name}" for name in RANKING_METRICS} <= set(results)
    assert results["a/map"] == results["a/auc_pr"]
    assert "a/d_prime@1" not in results


def test_the_module_description_lists_every_metric_of_the_registry():
    from vggsounder_hf.core.schema import METRICS

    metric = evaluate.load(METRIC_PATH)
    for entry in METRICS:
        if entry.family != "count":
            assert f"{entry.name}: {entry.description}" in metric.inputs_description


def test_a_multi_hot_vector_in_the_labels_config_is_read_as_multi_hot(class_names):
    # Issue 11: a 0/1 vector used to be read as the classes 0 and 1 (av F1 0.006 for a
    # perfect model); a vector of exactly 309 values is unambiguous.
    references = _references()
    hot = [[0] * len(class_names) for _ in references]
    for vector, row in zip(hot, references, strict=True):
        for label in row["labels"]:
            vector[label] = 1
    by_vector = [
        {"video_id": row["video_id"], "a": vector, "v": [bool(x) for x in vector], "av": vector}
        for row, vector in zip(references, hot, strict=True)
    ]
    by_index = [
        {"video_id": row["video_id"], "a": row["labels"], "v": row["labels"], "av": row["labels"]}
        for row in references
    ]
    metric = evaluate.load(METRIC_PATH)
    results = metric.compute(predictions=by_vector, references=references)
    assert results == metric.compute(predictions=by_index, references=references)
    assert results["a/subset_accuracy"] == 1.0


@pytest.mark.parametrize(
    ("config", "value", "message"),
    [
        ("labels", [0, 1, 1, 0], r"4 values 0/1 look like a multi-hot vector, but one needs "),
        ("labels", [True, False], r"2 values 0/1 look like a multi-hot vector"),
        ("labels", [1.0], r"label 1\.0 \(float\) is neither a class name nor a class index"),
        ("labels", [0.0] * 309, r"309 floats are scores or a float multi-hot vector"),
        ("scores", [10**400] + [0.0] * 308, r"score of about 10\*\*400 is too large"),
        ("scores", ["0.5"] * 309, r"score '0\.5' \(str\) is not a real number"),
        ("scores", [True] * 309, r"score True \(bool\) is not a real number"),
        ("scores", [0.5j] * 309, r"score 0\.5j \(complex\) is not a real number"),
    ],
)
def test_values_of_the_wrong_kind_are_refused_naming_row_clip_and_input(config, value, message):
    rows = [{"video_id": "clip-a_000001", "a": value}, {"video_id": "clip-b_000002"}]
    with pytest.raises(ValueError, match=message) as error:
        evaluate.load(METRIC_PATH, config).compute(predictions=rows, references=_references())
    assert str(error.value).startswith("predictions[0] (clip-a_000001), input 'a': ")


def test_predictions_for_no_reference_and_an_empty_clip_set_are_reported():
    from vggsounder_hf.core.errors import EmptyClipSetError, NoMatchingClipsWarning

    metric = evaluate.load(METRIC_PATH)
    spaced = [{"video_id": " " + row["video_id"], "a": [0]} for row in _references()]
    with pytest.warns(NoMatchingClipsWarning, match=r"none of the 2 predicted clip ids"):
        metric.compute(predictions=spaced, references=_references(), clip_set="full")
    rows = [{"video_id": row["video_id"], "a": [0]} for row in _references()]
    with pytest.raises(EmptyClipSetError, match=r"clip set 'background_music' holds none"):
        metric.compute(predictions=rows, references=_references(), clip_set="background_music")


def test_a_clip_given_twice_has_the_one_wording_of_every_layer():
    rows = [{"video_id": "clip-a_000001", "a": [0]}, {"video_id": "clip-a_000001", "a": [1]}]
    with pytest.raises(ValueError) as error:
        evaluate.load(METRIC_PATH).compute(predictions=rows, references=_references())
    assert str(error.value) == (
        "predictions: clip 'clip-a_000001' appears more than once "
        "(predictions[0] and [1], input 'a')"
    )
