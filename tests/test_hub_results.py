"""Specification of VGGSounder results in model cards (vggsounder_hf.hf.hub_results,
`vggsounder-hub push-results`).

Results become `model-index` entries through huggingface_hub's ModelCard / EvalResult API,
parse back to the same numbers, merge with what a card already holds, and reach the Hub only
through one upload call, which the tests replace (the Hub cannot be reached from here).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx2
import numpy as np
import pytest
from huggingface_hub import EvalResult, ModelCard, metadata_load
from huggingface_hub.errors import RemoteEntryNotFoundError, RepositoryNotFoundError
from huggingface_hub.repocard_data import model_index_to_eval_results

from vggsounder_hf.cli.hub import main
from vggsounder_hf.core.errors import HubError, ModelCardError, ResultsError
from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.hf import hub_results
from vggsounder_hf.hf.hub_results import (
    card_results,
    merge_model_card,
    push_results,
    results_to_eval_results,
)
from vggsounder_hf.reports.tables import ModelResult, main_table, render

NAMES = ("dog barking", "cat purring", "car passing by")
SECRET = "hf_ThisIsNotARealTokenButMustNeverBePrinted"


def _truth() -> GroundTruth:
    rows = [
        {
            "video_id": f"clip{i}_{i:06d}",
            "labels": [i % 3, (i + 1) % 3],
            "modalities": ["A", "AV"] if i % 2 else ["V", "AV"],
            "background_music": i == 5,
            "static_image": bool(i % 2),
            "voice_over": False,
        }
        for i in range(6)
    ]
    return GroundTruth.from_rows(rows, class_names=NAMES)


@pytest.fixture(autouse=True)
def private_hub_state(tmp_path, monkeypatch):
    """The Hub state `export --push-to-hub` records (hf.eval_results) lives in the test's own
    folder: nothing is written to the user's HF_HOME, and no earlier test leaks into this one."""
    monkeypatch.setenv("VGGSOUNDER_HF_STATE", str(tmp_path / "vggsounder-hf-state.json"))


@pytest.fixture(scope="module")
def label_results() -> dict:
    truth = _truth()
    sets = {
        m: {vid: [NAMES[i % 3]] for i, vid in enumerate(truth.video_ids)} for m in ("a", "v", "av")
    }
    return evaluate_predictions(truth, ModelPredictions.from_label_sets(sets, class_names=NAMES))


@pytest.fixture(scope="module")
def score_results() -> dict:
    truth = _truth()
    matrix = np.random.default_rng(0).random((len(truth.video_ids), 3))
    scores = {m: (list(truth.video_ids), matrix) for m in ("a", "v", "av")}
    predictions = ModelPredictions.from_scores(scores, class_names=NAMES)
    return evaluate_predictions(truth, predictions, ks=(1, 2))


def metric_values(results: dict) -> dict:
    """The metric values of a result dict (no counts, no per-class details)."""
    return {
        key: value
        for key, value in results.items()
        if "/" in key and not key.endswith(("/num_clips", "/num_missing"))
    }


OTHER_CARD = """\
---
license: apache-2.0
tags:
- audio
model-index:
- name: my-model
  results:
  - task:
      type: audio-classification
    dataset:
      name: ESC-50
      type: esc50
      split: test
    metrics:
    - type: accuracy
      value: 0.91
      name: Accuracy
  - task:
      type: video-classification
      name: Audio-visual multi-label classification
    dataset:
      name: VGGSounder
      type: vggsounder
      config: '1.0'
      split: test
    metrics:
    - type: f1
      value: 0.123
      name: F1 (av)
      config: labels
      args:
        column: av
        clip_set: default
        average: micro
    - type: f1
      value: 0.456
      name: F1 (av) [full]
      config: labels
      args:
        column: av
        clip_set: full
        average: micro
---

# My model

Trained on many things.
"""


# --------------------------------------------------------------------------- conversion


def test_every_metric_value_becomes_one_entry_and_counts_are_left_out(label_results):
    entries = results_to_eval_results(label_results, label_version="1.0", clip_set="default")
    assert len(entries) == len(metric_values(label_results)) == 5 * 7 + 3
    assert all(isinstance(entry, EvalResult) for entry in entries)
    assert {e.task_type for e in entries} == {"video-classification"}
    assert {(e.dataset_type, e.dataset_name) for e in entries} == {
        ("vggsounder-hf/vggsounder", "VGGSounder")
    }
    assert {(e.dataset_config, e.dataset_split) for e in entries} == {("1.0", "test")}
    assert {e.metric_config for e in entries} == {"labels"}
    assert all(e.metric_args["clip_set"] == "default" for e in entries)


def test_entries_name_the_metric_and_column_readably(label_results):
    entries = results_to_eval_results(label_results, label_version="0.1.6")
    by_name = {e.metric_name: e for e in entries}
    assert by_name["F1 (av)"].metric_value == label_results["av/f1"]
    assert by_name["F1 (av)"].metric_type == "f1"
    assert by_name["Macro F1 (a only)"].metric_value == label_results["a_only/f1_macro"]
    assert by_name["Subset accuracy (v)"].metric_type == "accuracy"
    assert by_name["Hit (a)"].metric_value == label_results["a/hit"]
    assert by_name["μ_A∩V"].metric_value == label_results["mu/a_and_v"]
    assert by_name["μ_A∩V"].metric_type == "modality_confusion"


def test_score_results_carry_k_and_auc(score_results):
    entries = results_to_eval_results(score_results, label_version="1.0")
    by_name = {e.metric_name: e for e in entries}
    assert by_name["F1@2 (av)"].metric_value == score_results["av/f1@2"]
    assert by_name["F1@2 (av)"].metric_args == {
        "column": "av",
        "clip_set": "default",
        "average": "micro",
        "k": 2,
    }
    assert by_name["AUC-ROC (v only)"].metric_value == score_results["v_only/auc_roc"]
    assert by_name["AUC-PR (a)"].metric_type == "average_precision"
    assert {e.metric_config for e in entries} == {"scores"}


def test_k_keeps_one_top_k_and_the_k_free_metrics(score_results):
    entries = results_to_eval_results(score_results, label_version="1.0", k=1)
    names = {e.metric_name for e in entries}
    assert "F1@1 (a)" in names and "AUC-ROC (a)" in names and "μ_A" in names
    assert not any("@2" in name for name in names)
    with pytest.raises(ValueError, match=r"no top-k results at k=5; the results have k = 1, 2"):
        results_to_eval_results(score_results, label_version="1.0", k=5)


def test_a_non_default_clip_set_is_named_and_recorded(label_results):
    entries = results_to_eval_results(label_results, label_version="1.0", clip_set="static_image")
    assert all(e.metric_name.endswith(" [static_image]") for e in entries)
    assert {e.metric_args["clip_set"] for e in entries} == {"static_image"}


def test_missing_values_are_left_out_and_nan_and_bad_ones_refused():
    # Issue 11: a card never shows an undefined number; NaN used to be left out silently.
    entries = results_to_eval_results({"a/f1": None, "v/f1": np.float64(0.25)}, label_version="1.0")
    assert [(e.metric_name, e.metric_value) for e in entries] == [("F1 (v)", 0.25)]
    assert type(entries[0].metric_value) is float
    with pytest.raises(ResultsError, match=r"result 'av/f1' is NaN \(undefined"):
        results_to_eval_results({"av/f1": float("nan"), "v/f1": 0.25}, label_version="1.0")
    with pytest.raises(ValueError, match=r"unknown VGGSounder result key 'av/fancy'"):
        results_to_eval_results({"av/fancy": 0.1}, label_version="1.0")
    with pytest.raises(ValueError, match=r"result 'av/f1' must be a number, got 'high'"):
        results_to_eval_results({"av/f1": "high"}, label_version="1.0")


def test_ranking_metrics_of_the_registry_become_entries_too(score_results):
    by_name = {
        e.metric_name: e for e in results_to_eval_results(score_results, label_version="1.0")
    }
    assert by_name["mAP (a)"].metric_type == "mean_average_precision"
    assert by_name["mAP (a)"].metric_value == score_results["a/map"] == score_results["a/auc_pr"]
    assert by_name["d′ (v only)"].metric_type == "d_prime"
    assert by_name["d′ (v only)"].metric_value == score_results["v_only/d_prime"] < 0
    assert by_name["d′ (v only)"].metric_args == {"column": "v_only", "clip_set": "default"}
    assert by_name["mAP (a)"].metric_args == {
        "column": "a",
        "clip_set": "default",
        "average": "macro",
    }


def test_every_registry_metric_round_trips_through_a_card():
    from vggsounder_hf.core.schema import METRICS, MU_PARTS, ResultKey

    results = {}
    for entry in METRICS:
        if entry.family in ("label_set", "ranking"):
            k = 3 if entry.family == "label_set" else None
            results[ResultKey("a only", entry.name, k).format()] = 0.25
    results.update({ResultKey(part, "mu").format(): 0.125 for part in MU_PARTS})
    entries = results_to_eval_results(results, label_version="1.0", clip_set="full")
    assert len(entries) == len(results)
    assert len({hub_results.result_key(entry) for entry in entries}) == len(entries)
    assert card_results(str(merge_model_card(None, entries)), clip_set="full") == results


def test_counts_and_per_class_details_are_skipped():
    skipped = {
        "num_unknown_labels": 2,
        "num_unknown_clips": 182,
        "mu/num_clips": 5,
        "per_class": {},
    }
    assert results_to_eval_results({**skipped, "a/num_missing": 1}, label_version="1.0") == []


def test_bootstrap_interval_bounds_are_not_entries_of_their_own():
    results = {"av/f1": 0.5, "av/f1/ci_low": 0.4, "av/f1/ci_high": 0.6, "mu/a/ci_low": 0.0}
    entries = results_to_eval_results(results, label_version="1.0")
    assert [(e.metric_name, e.metric_value) for e in entries] == [("F1 (av)", 0.5)]


@pytest.mark.parametrize(
    ("results", "message"),
    [
        ({"av/f1": float("inf")}, r"result 'av/f1' is inf, not a finite number"),
        ({"a/d_prime": float("-inf")}, r"result 'a/d_prime' is -inf, not a finite number"),
        ({"av/hit@1": 1.5}, r"result 'av/hit@1' is 1\.5; a rate must be a fraction in \[0, 1\]"),
        ({"mu/a": -0.1}, r"result 'mu/a' is -0\.1; a rate must be a fraction"),
        ({"v/auc_roc@1": 0.5}, r"unknown VGGSounder result key 'v/auc_roc@1': .*no top-k"),
        ({"num_things": 3}, r"unknown VGGSounder result key 'num_things'"),
    ],
)
def test_values_that_cannot_be_results_are_refused_naming_the_key(results, message):
    with pytest.raises(ValueError, match=message):
        results_to_eval_results(results, label_version="1.0")


def test_d_prime_is_not_a_fraction_and_may_leave_zero_to_one():
    (entry,) = results_to_eval_results({"av/d_prime": 2.5}, label_version="1.0")
    assert (entry.metric_value, entry.metric_config) == (2.5, "scores")


# --------------------------------------------------------------------------- the card


@pytest.mark.parametrize("fixture", ["label_results", "score_results"])
def test_card_parses_back_with_huggingface_hub_to_the_same_results(request, fixture, tmp_path):
    results = request.getfixturevalue(fixture)
    entries = results_to_eval_results(results, label_version="1.0", clip_set="default")
    card = merge_model_card(None, entries, "my-model")
    text = str(card)

    parsed = ModelCard(text).data
    assert parsed.model_name == "my-model"
    assert parsed.eval_results == entries

    path = tmp_path / "README.md"
    path.write_text(text, encoding="utf-8")
    name, from_index = model_index_to_eval_results(metadata_load(path)["model-index"])
    assert (name, from_index) == ("my-model", entries)

    assert card_results(text) == metric_values(results)


def test_the_dataset_id_is_the_hub_id_and_joins_the_cards_datasets_list(label_results):
    from vggsounder_hf.hf.hub_export import DEFAULT_REPO_ID
    from vggsounder_hf.hf.model_index import DATASET_TYPE

    assert DATASET_TYPE is DEFAULT_REPO_ID
    entries = results_to_eval_results(label_results, label_version="1.0")
    existing = "---\ndatasets:\n- esc50\n- vggsounder-hf/vggsounder\n---\n\n# Mine\n"
    card = merge_model_card(existing, entries, "mine")
    assert ModelCard(str(card)).data.datasets == ["esc50", "vggsounder-hf/vggsounder"]
    assert merge_model_card(None, entries, "mine").data.datasets == ["vggsounder-hf/vggsounder"]
    mine = results_to_eval_results(label_results, label_version="1.0", dataset_type="me/vgg")
    assert merge_model_card(existing, mine, "mine").data.datasets[-1] == "me/vgg"
    local = results_to_eval_results(label_results, label_version="1.0", dataset_type="local")
    assert merge_model_card(None, local, "mine").data.datasets is None  # not a Hub id


def test_entries_of_the_earlier_dataset_id_are_read_and_replaced(label_results):
    # Cards written before the id was a Hub id say `type: vggsounder` (OTHER_CARD does).
    assert card_results(OTHER_CARD) == {"av/f1": 0.123}
    assert card_results(OTHER_CARD, clip_set="full") == {"av/f1": 0.456}
    new = results_to_eval_results(label_results, label_version="1.0")
    merged = merge_model_card(OTHER_CARD, new, None).data.eval_results
    assert {e.dataset_type for e in merged} == {"esc50", "vggsounder", "vggsounder-hf/vggsounder"}
    assert [e.dataset_type for e in merged if e.metric_name == "F1 (av) [full]"] == ["vggsounder"]


def test_merging_keeps_other_datasets_and_clip_sets_and_replaces_the_same_entry(label_results):
    new = results_to_eval_results(label_results, label_version="1.0", clip_set="default")
    card = merge_model_card(OTHER_CARD, new, None)
    parsed = ModelCard(str(card)).data
    entries = parsed.eval_results

    esc = [e for e in entries if e.dataset_type == "esc50"]
    assert [(e.metric_type, e.metric_value) for e in esc] == [("accuracy", 0.91)]
    f1_av = [e for e in entries if e.metric_name == "F1 (av)"]
    assert [e.metric_value for e in f1_av] == [label_results["av/f1"]]  # replaced, once
    full = [e for e in entries if e.metric_name == "F1 (av) [full]"]
    assert [e.metric_value for e in full] == [0.456]  # another clip set: kept
    assert len(entries) == 1 + 1 + len(new)
    assert parsed.model_name == "my-model"
    assert parsed.license == "apache-2.0" and parsed.tags == ["audio"]
    assert card.text.endswith("# My model\n\nTrained on many things.\n")


def test_merging_the_same_results_twice_changes_nothing(label_results):
    new = results_to_eval_results(label_results, label_version="1.0")
    once = str(merge_model_card(OTHER_CARD, new, None))
    twice = str(merge_model_card(once, new, None))
    assert twice == once


def test_other_label_versions_are_kept_side_by_side(label_results):
    first = merge_model_card(None, results_to_eval_results({"av/f1": 0.3}, label_version="0.1.6"))
    both = merge_model_card(
        str(first), results_to_eval_results({"av/f1": 0.4}, label_version="1.0")
    )
    values = {(e.dataset_config, e.metric_value) for e in ModelCard(str(both)).data.eval_results}
    assert values == {("0.1.6", 0.3), ("1.0", 0.4)}


def test_a_new_card_is_named_after_the_model(label_results):
    card = merge_model_card(None, results_to_eval_results({"av/f1": 0.3}, label_version="1.0"))
    assert card.data.model_name == "model"
    named = merge_model_card(None, [], "cav-mae")
    assert named.data.model_name == "cav-mae"
    assert "# cav-mae" in named.text


# --------------------------------------------------------------------------- push_results


def test_dry_run_prints_the_card_and_touches_no_network(label_results, capsys, no_network):
    def fail(*args):
        raise AssertionError("a dry run must not upload")

    card = push_results("me/my-model", label_results, dry_run=True, token=SECRET, uploader=fail)
    out, err = capsys.readouterr()
    assert out == str(card) + "\n"
    assert ModelCard(out).data.eval_results == card.data.eval_results
    assert card.data.model_name == "my-model"  # the repository's name
    assert SECRET not in out + err


def test_push_loads_merges_and_uploads_through_the_injected_functions(label_results, capsys):
    loads, uploads = [], []

    def loader(repo_id, token):
        loads.append((repo_id, token))
        return OTHER_CARD

    def uploader(card, repo_id, token):
        uploads.append((str(card), repo_id, token))

    card = push_results(
        "me/my-model",
        label_results,
        label_version="0.1.6",
        token=SECRET,
        card_loader=loader,
        uploader=uploader,
    )
    assert loads == [("me/my-model", SECRET)]
    assert uploads == [(str(card), "me/my-model", SECRET)]
    entries = ModelCard(uploads[0][0]).data.eval_results
    assert any(e.dataset_type == "esc50" for e in entries)
    assert card_results(uploads[0][0], label_version="0.1.6") == metric_values(label_results)
    out, err = capsys.readouterr()
    assert SECRET not in out + err


def test_default_path_uses_modelcard_load_and_push_to_hub(monkeypatch, label_results):
    calls = []

    def fake_load(cls, repo_id, repo_type=None, token=None, ignore_metadata_errors=False):
        calls.append(("load", repo_id, repo_type, token))
        return cls(OTHER_CARD)

    def fake_push(self, repo_id, token=None, repo_type=None, commit_message=None, **kwargs):
        calls.append(("push", repo_id, repo_type, token, commit_message, str(self)))
        return "https://huggingface.co/me/my-model/commit/abc"

    monkeypatch.setattr(ModelCard, "load", classmethod(fake_load))
    monkeypatch.setattr(ModelCard, "push_to_hub", fake_push)
    card = push_results("me/my-model", label_results, token=SECRET)
    assert calls[0] == ("load", "me/my-model", "model", SECRET)
    assert calls[1][:5] == ("push", "me/my-model", "model", SECRET, hub_results.COMMIT_MESSAGE)
    assert calls[1][5] == str(card)
    assert len(calls) == 2


def _http_error(cls, status):
    response = httpx2.Response(status, request=httpx2.Request("GET", "https://huggingface.co/x"))
    return cls(f"{status} Client Error", response=response)


def test_a_repository_without_a_card_gets_a_new_one(monkeypatch, label_results):
    pushed = []

    def missing(cls, *args, **kwargs):
        raise _http_error(RemoteEntryNotFoundError, 404)

    monkeypatch.setattr(ModelCard, "load", classmethod(missing))
    monkeypatch.setattr(ModelCard, "push_to_hub", lambda self, *a, **k: pushed.append(str(self)))
    push_results("me/fresh", {"av/f1": 0.5})
    assert len(pushed) == 1
    assert card_results(pushed[0]) == {"av/f1": 0.5}
    assert ModelCard(pushed[0]).data.model_name == "fresh"


def test_a_card_that_cannot_be_read_is_never_overwritten(monkeypatch):
    pushed = []

    def unreachable(cls, *args, **kwargs):
        raise _http_error(RepositoryNotFoundError, 401)

    monkeypatch.setattr(ModelCard, "load", classmethod(unreachable))
    monkeypatch.setattr(ModelCard, "push_to_hub", lambda self, *a, **k: pushed.append(self))
    with pytest.raises(
        HubError, match=r"401 Client Error \(reading the model card of me/priv"
    ) as error:
        push_results("me/private", {"av/f1": 0.5})
    assert isinstance(error.value.__cause__, RepositoryNotFoundError)
    assert error.value.repo_id == "me/private"
    assert pushed == []


def test_an_invalid_existing_model_index_stops_the_push():
    broken = "---\nmodel-index:\n- name: x\n  results:\n  - task: {}\n---\n"
    with pytest.raises(ValueError, match=r"cannot update the model card of me/m"):
        push_results("me/m", {"av/f1": 0.5}, card_loader=lambda r, t: broken, uploader=print)


def test_a_card_whose_yaml_does_not_parse_stops_the_push_naming_the_repository():
    uploads = []
    broken = "---\nlicense: [mit\n---\n# Model\n"
    with pytest.raises(ModelCardError, match=r"of me/m: the card's YAML metadata does not parse"):
        push_results(
            "me/m", {"av/f1": 0.5}, card_loader=lambda r, t: broken, uploader=uploads.append
        )
    assert uploads == []


@pytest.mark.parametrize("where", ["load", "push_to_hub"])
@pytest.mark.parametrize(
    "error",
    [
        httpx2.ConnectError("[Errno 111] Connection refused"),
        httpx2.ReadTimeout("timed out"),
        ConnectionError("offline"),
    ],
    ids=["connect", "timeout", "offline"],
)
def test_an_unreachable_hub_is_one_error_naming_the_repository(monkeypatch, where, error):
    pushed = []

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(ModelCard, "load", classmethod(lambda cls, *a, **k: cls(OTHER_CARD)))
    monkeypatch.setattr(ModelCard, "push_to_hub", lambda self, *a, **k: pushed.append(self))
    if where == "load":
        monkeypatch.setattr(ModelCard, "load", classmethod(fail))
    else:
        monkeypatch.setattr(ModelCard, "push_to_hub", fail)
    action = "reading" if where == "load" else "uploading"
    with pytest.raises(HubError, match=rf"\({action} the model card of me/m on the Hugging Face"):
        push_results("me/m", {"av/f1": 0.5})
    assert pushed == []


def test_results_and_card_files_that_are_not_utf8_json_are_refused_naming_the_file(tmp_path):
    bad = tmp_path / "results.json"
    bad.write_bytes(b'{"av/f1": 0.5, "note": "\xff"}')
    with pytest.raises(ResultsError, match=r"results\.json: not UTF-8 text \(byte 24\)"):
        hub_results.read_results_file(bad)
    bad.write_text('{"av/f1": 0.5, "av/f1": 0.7}', encoding="utf-8")
    with pytest.raises(ResultsError, match=r"results\.json: key 'av/f1' appears twice"):
        hub_results.read_results_file(bad)
    bad.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(ResultsError, match=r"results\.json: JSON nested too deeply"):
        hub_results.read_results_file(bad)
    bad.write_text('{"av/f1": NaN}', encoding="utf-8")
    with pytest.raises(ResultsError, match=r"result 'av/f1' is NaN"):
        results_to_eval_results(hub_results.read_results_file(bad), label_version="1.0")
    card = tmp_path / "README.md"
    card.write_bytes(b"---\nlicense: mit\n---\n\xfe")
    with pytest.raises(ModelCardError, match=r"README\.md: not UTF-8 text \(byte 21\)"):
        hub_results.read_card_file(card)


def test_repository_id_must_name_owner_and_model():
    with pytest.raises(ValueError, match=r"must look like 'user/model', got 'model-only'"):
        push_results("model-only", {"av/f1": 0.5}, dry_run=True)


# --------------------------------------------------------------------------- score reports


def _report(models, **metadata) -> dict:
    table = main_table(models, ks=metadata.pop("ks", (1,)), metadata=metadata)
    return json.loads(render(table, "json"))


def test_a_vggsounder_score_json_report_brings_its_label_version_and_clip_set(
    label_results, capsys
):
    report = _report(
        [ModelResult("cav-mae", "labels", label_results)], label_version="0.1.6", clip_set="full"
    )
    card = push_results("me/cav-mae", report, dry_run=True)
    capsys.readouterr()
    assert card_results(str(card), label_version="0.1.6", clip_set="full") == metric_values(
        label_results
    )


def test_a_report_with_several_models_needs_a_choice(label_results, score_results, capsys):
    report = _report(
        [
            ModelResult("cav-mae", "labels", label_results),
            ModelResult("imagebind", "scores", score_results),
        ],
        label_version="1.0",
        clip_set="default",
        ks=(1, 2),
    )
    with pytest.raises(ValueError, match=r"2 models \(cav-mae, imagebind\); choose one"):
        push_results("me/m", report, dry_run=True)
    with pytest.raises(ValueError, match=r"model 'x' is not in the report"):
        push_results("me/m", report, dry_run=True, model="x")
    card = push_results("me/imagebind", report, dry_run=True, model="imagebind")
    capsys.readouterr()
    assert card_results(str(card)) == metric_values(score_results)  # rows at k=1 and k=2
    one_k = push_results("me/imagebind", report, dry_run=True, model="imagebind", k=2)
    capsys.readouterr()
    assert all("@1" not in key for key in card_results(str(one_k)))


# --------------------------------------------------------------------------- command line


def _write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_cli_dry_run_prints_the_merged_card(tmp_path, label_results, capsys, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", SECRET)
    results = _write_json(tmp_path / "results.json", metric_values(label_results))
    card = tmp_path / "README.md"
    card.write_text(OTHER_CARD, encoding="utf-8")
    code = main(["push-results", "me/my-model", str(results), "--card", str(card), "--dry-run"])
    out, err = capsys.readouterr()
    assert code == 0, err
    entries = ModelCard(out).data.eval_results
    assert any(e.dataset_type == "esc50" for e in entries)
    assert card_results(out) == metric_values(label_results)
    assert SECRET not in out + err
    assert card.read_text(encoding="utf-8") == OTHER_CARD  # the local card is only read


def test_cli_reads_a_report_and_its_options(tmp_path, label_results, capsys):
    report = _report([ModelResult("m", "labels", label_results)], label_version="1.0")
    path = _write_json(tmp_path / "report.json", report)
    code = main(["push-results", "me/m", str(path), "--dry-run", "--model-name", "Nice Model"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert ModelCard(out).data.model_name == "Nice Model"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"results\.json: not JSON \(line 1"),
        ("3", r"results\.json: expected a JSON object or list, got int"),
        ('{"av/oops": 1}', r"unknown VGGSounder result key 'av/oops'"),
    ],
)
def test_cli_bad_results_file_is_one_line_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "results.json"
    path.write_text(content, encoding="utf-8")
    code = main(["push-results", "me/m", str(path), "--dry-run"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("vggsounder-hub: error: ")
    assert re.search(message, err), err


def test_cli_debug_shows_the_traceback(tmp_path):
    path = _write_json(tmp_path / "results.json", {"av/oops": 1})
    with pytest.raises(ValueError, match="unknown VGGSounder result key"):
        main(["push-results", "me/m", str(path), "--dry-run", "--debug"])


def test_cli_push_uploads_with_push_to_hub(tmp_path, monkeypatch, capsys):
    pushed = []
    monkeypatch.setattr(ModelCard, "load", classmethod(lambda cls, *a, **k: cls(OTHER_CARD)))

    def fake_push(self, repo_id, token=None, repo_type=None, commit_message=None, **kwargs):
        pushed.append((repo_id, repo_type, str(self)))

    monkeypatch.setattr(ModelCard, "push_to_hub", fake_push)
    path = _write_json(tmp_path / "results.json", {"av/f1": 0.75})
    assert main(["push-results", "me/my-model", str(path)]) == 0
    out, _ = capsys.readouterr()
    assert out == "updated the model card of me/my-model\n"
    assert [(r, t) for r, t, _ in pushed] == [("me/my-model", "model")]
    assert card_results(pushed[0][2]) == {"av/f1": 0.75}
