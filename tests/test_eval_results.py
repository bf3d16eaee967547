"""Hub leaderboards: ``.eval_results/vggsounder.yaml`` written with huggingface_hub's
``EvalResultEntry`` and read back by huggingface_hub, the benchmark's tasks, the dataset id
recorded by ``export --push-to-hub``, and the card's ``datasets:`` list.

The Hub is never reached: uploads and downloads go through ``huggingface_hub`` functions
replaced by recorders."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from types import SimpleNamespace

import huggingface_hub
import pytest
import yaml
from huggingface_hub import EvalResultEntry, ModelCard, parse_eval_result_entries

from vggsounder_hf.cli.hub import main
from vggsounder_hf.core.errors import ModelCardError, ResultsError
from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.core.schema import COLUMN_SPECS, ResultKey
from vggsounder_hf.hf import eval_results
from vggsounder_hf.hf.eval_results import (
    LEADERBOARD_METRICS,
    RESULTS_FILE,
    leaderboard_tasks,
    merge_entries,
    parse_entries,
    results_to_entries,
    with_dataset,
)
from vggsounder_hf.hf.hub_results import card_results

DATASET = "me/vggsounder-bench"
CARD = """---
license: mit
datasets:
- esc50
---

# My model

Some text that must stay.
"""


@pytest.fixture(autouse=True)
def isolated_state(tmp_path, monkeypatch, no_network) -> Path:
    """Every test has its own state file (and no network)."""
    path = tmp_path / "state" / "hub.json"
    monkeypatch.setenv(eval_results.STATE_ENV, str(path))
    return path


@pytest.fixture(scope="module")
def label_results(truth_1_0, released_predictions) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evaluate_predictions(truth_1_0, released_predictions["gemini-1.5-pro"])


@pytest.fixture(scope="module")
def score_results(truth_1_0, synthetic_predictions) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evaluate_predictions(truth_1_0, synthetic_predictions)


def _json(path: Path, data) -> Path:
    path.write_text(json.dumps(data, allow_nan=False, default=float), encoding="utf-8")
    return path


def _flat(results: dict) -> dict:
    return {k: v for k, v in results.items() if k != "per_class"}


def _dry_run_parts(out: str) -> tuple[list[EvalResultEntry], ModelCard]:
    head, card = out.split("# README.md\n", 1)
    assert head.startswith(f"# {RESULTS_FILE}\n")
    data = yaml.safe_load(head.split("\n", 1)[1])
    return parse_eval_result_entries(data), ModelCard(card)


def _expected_values(results: dict, kind_k: int | None = None) -> dict[str, float]:
    values = {}
    for spec in COLUMN_SPECS:
        for name in LEADERBOARD_METRICS:
            key = ResultKey(spec.name, name, kind_k).format()
            values[f"{spec.key}_{name}"] = round(100 * results[key], 2)
    return values


# --------------------------------------------------------------------------- entries


def test_entries_are_percent_per_task_and_round_trip_through_huggingface_hub(label_results):
    entries = results_to_entries(
        label_results,
        dataset_id=DATASET,
        revision="0123abcd",
        date="2026-01-02T03:04:05Z",
        source_url="https://example.org/logs",
        source_name="logs",
    )
    text = eval_results.entries_yaml(entries)
    parsed = parse_eval_result_entries(yaml.safe_load(text))
    assert parsed == entries
    assert {e.task_id: e.value for e in parsed} == _expected_values(label_results)
    assert {e.dataset_id for e in parsed} == {DATASET}
    assert {e.dataset_revision for e in parsed} == {"0123abcd"}
    assert {e.date for e in parsed} == {"2026-01-02T03:04:05Z"}
    assert {(e.source_url, e.source_name) for e in parsed} == {("https://example.org/logs", "logs")}
    assert {e.notes for e in parsed} == {"labels; clip set default"}
    # Gemini 1.5 Pro's av F1 is 0.572 (the metric card's example): 57.2 on the leaderboard.
    assert next(e.value for e in parsed if e.task_id == "av_f1") == pytest.approx(57.2, abs=0.01)


def test_every_entry_names_a_task_of_the_benchmark(label_results):
    tasks = {(t.id, t.config) for t in leaderboard_tasks()}
    for version in ("1.0", "0.1.6"):
        entries = results_to_entries(label_results, dataset_id=DATASET, label_version=version)
        assert {(e.task_id, version) for e in entries} <= tasks
        assert len(entries) == len(COLUMN_SPECS) * len(LEADERBOARD_METRICS)


def test_score_models_are_ranked_at_top_1_unless_k_is_chosen(score_results):
    top1 = results_to_entries(score_results, dataset_id=DATASET, date="2026-01-01")
    assert {e.task_id: e.value for e in top1} == _expected_values(score_results, 1)
    assert {e.notes for e in top1} == {"scores, top-1; clip set default"}
    top5 = results_to_entries(score_results, dataset_id=DATASET, k=5, date="2026-01-01")
    assert {e.task_id: e.value for e in top5} == _expected_values(score_results, 5)


def test_default_date_is_now_and_source_is_the_project(label_results):
    (entry, *_) = results_to_entries(label_results, dataset_id=DATASET)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry.date)
    assert entry.source_url.startswith("https://")
    assert entry.source_name == "vggsounder-hf"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"clip_set": "full"}, r"defined on the clip set 'default'; these results are on 'full'"),
        ({"label_version": "vggsound"}, r"label releases 1\.0, 0\.1\.6"),
    ],
)
def test_results_off_the_leaderboard_are_refused(label_results, kwargs, message):
    with pytest.raises(ResultsError, match=message):
        results_to_entries(label_results, dataset_id=DATASET, **kwargs)


@pytest.mark.parametrize("value", [float("nan"), 1.5, -0.1, True, "0.5"])
def test_values_that_are_not_fractions_are_refused_by_key(value):
    with pytest.raises(ResultsError, match=r"result 'av/f1'"):
        results_to_entries({"av/f1": value}, dataset_id=DATASET)


def test_results_without_a_leaderboard_value_are_refused():
    with pytest.raises(ResultsError, match="no leaderboard value"):
        results_to_entries({"av/num_clips": 10, "mu/a": 0.1}, dataset_id=DATASET)


def test_merge_replaces_the_same_task_and_keeps_the_others():
    old = [
        EvalResultEntry(dataset_id="cais/hle", task_id="default", value=1.0),
        EvalResultEntry(dataset_id=DATASET, task_id="av_f1", value=10.0),
        EvalResultEntry(dataset_id=DATASET, task_id="av_hit", value=20.0),
    ]
    new = [
        EvalResultEntry(dataset_id=DATASET, task_id="av_hit", value=30.0),
        EvalResultEntry(dataset_id=DATASET, task_id="v_f1", value=40.0),
    ]
    merged = merge_entries(old, new)
    assert [(e.task_id, e.value) for e in merged] == [
        ("default", 1.0),
        ("av_f1", 10.0),
        ("av_hit", 30.0),
        ("v_f1", 40.0),
    ]


@pytest.mark.parametrize("text", ["[not: yaml", "{'a': 1}", "- dataset: {}\n  value: 1\n"])
def test_an_unreadable_eval_results_file_is_one_clear_error(text):
    with pytest.raises(ModelCardError, match=r"^me/m's file: not an eval-results file"):
        parse_entries(text, "me/m's file")


def test_the_card_gains_the_dataset_and_keeps_everything_else():
    card = with_dataset(CARD, DATASET, "me/m")
    assert card.data.datasets == ["esc50", DATASET]
    assert card.data.license == "mit"
    assert "Some text that must stay." in card.text
    assert with_dataset(str(card), DATASET, "me/m").data.datasets == ["esc50", DATASET]
    fresh = with_dataset(None, DATASET, "me/m")
    assert fresh.data.datasets == [DATASET]
    assert RESULTS_FILE in fresh.text


# --------------------------------------------------------------------------- command line


def test_cli_dry_run_prints_the_file_and_the_card(tmp_path, label_results, capsys):
    path = _json(tmp_path / "results.json", _flat(label_results))
    card = tmp_path / "README.md"
    card.write_text(CARD, encoding="utf-8")
    argv = ["push-results", "me/m", str(path), "--format", "eval-results", "--dry-run"]
    code = main([*argv, "--dataset-id", DATASET, "--card", str(card)])
    out, err = capsys.readouterr()
    assert code == 0, err
    entries, new_card = _dry_run_parts(out)
    assert {e.task_id: e.value for e in entries} == _expected_values(label_results)
    assert {e.dataset_id for e in entries} == {DATASET}
    assert {e.dataset_revision for e in entries} == {None}
    assert new_card.data.datasets == ["esc50", DATASET]
    assert {e.source_name for e in entries} == {f"vggsounder-hf {_version()}"}
    assert card.read_text(encoding="utf-8") == CARD  # only read


def _version() -> str:
    import vggsounder_hf

    return vggsounder_hf.__version__


@pytest.fixture
def fake_hub(monkeypatch):
    """Record uploads; serve an existing card and eval-results file."""
    calls: dict = {"uploads": []}
    existing = [EvalResultEntry(dataset_id="cais/hle", task_id="default", value=9.5)]

    def download(repo_id, filename, repo_type=None, token=None, **kwargs):
        calls["download"] = (repo_id, filename, repo_type)
        path = Path(calls["tmp"]) / "existing.yaml"
        path.write_text(eval_results.entries_yaml(existing), encoding="utf-8")
        return str(path)

    def create_repo(self, repo_id, **kwargs):
        calls["create_repo"] = repo_id

    def upload_folder(self, *, repo_id, folder_path, repo_type, commit_message, **kwargs):
        files = {
            p.relative_to(folder_path).as_posix(): (
                p.read_bytes() if p.suffix == ".parquet" else p.read_text(encoding="utf-8")
            )
            for p in Path(folder_path).rglob("*")
            if p.is_file()
        }
        calls["uploads"].append((repo_id, repo_type, commit_message, files))
        return SimpleNamespace(commit_url="https://hub/commit", oid="f00d")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", create_repo)
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", upload_folder)
    monkeypatch.setattr(ModelCard, "load", classmethod(lambda cls, *a, **k: cls(CARD)))
    return calls


def test_cli_push_writes_the_file_and_the_card_in_one_commit(
    tmp_path, label_results, capsys, fake_hub
):
    fake_hub["tmp"] = tmp_path
    path = _json(tmp_path / "results.json", _flat(label_results))
    argv = ["push-results", "me/m", str(path), "--format", "eval-results", "--dataset-id", DATASET]
    assert main([*argv, "--dataset-revision", "beef"]) == 0
    out, _ = capsys.readouterr()
    assert out == f"updated the eval results of me/m (dataset {DATASET})\n"
    assert fake_hub["download"] == ("me/m", RESULTS_FILE, "model")
    ((repo_id, repo_type, _, files),) = fake_hub["uploads"]
    assert (repo_id, repo_type) == ("me/m", "model")
    assert sorted(files) == [RESULTS_FILE, "README.md"]
    entries = parse_eval_result_entries(yaml.safe_load(files[RESULTS_FILE]))
    assert (entries[0].dataset_id, entries[0].value) == ("cais/hle", 9.5)  # kept
    ours = {e.task_id: e.value for e in entries[1:]}
    assert ours == _expected_values(label_results)
    assert {e.dataset_revision for e in entries[1:]} == {"beef"}
    assert ModelCard(files["README.md"]).data.datasets == ["esc50", DATASET]


def test_export_records_the_dataset_id_that_push_results_then_defaults_to(
    tmp_path, prepared_cache_dir, label_results, capsys, fake_hub, isolated_state
):
    out_dir = tmp_path / "export"
    argv = ["export", str(out_dir), "--versions", "1.0", "--cache-dir", str(prepared_cache_dir)]
    assert main([*argv, "--push-to-hub", DATASET]) == 0
    state = json.loads(isolated_state.read_text(encoding="utf-8"))
    assert (state["dataset_id"], state["revision"], state["configs"]) == (DATASET, "f00d", ["1.0"])
    uploaded = fake_hub["uploads"][0][3]
    assert "eval.yaml" in uploaded  # the benchmark's tasks travel with the dataset
    capsys.readouterr()

    path = _json(tmp_path / "results.json", _flat(label_results))
    assert main(["push-results", "me/m", str(path), "--format", "eval-results", "--dry-run"]) == 0
    entries, card = _dry_run_parts(capsys.readouterr()[0])
    assert {(e.dataset_id, e.dataset_revision) for e in entries} == {(DATASET, "f00d")}
    assert card.data.datasets == [DATASET]

    # The model-index format takes the same default: dataset.type is the Hub id.
    assert main(["push-results", "me/m", str(path), "--dry-run"]) == 0
    out = capsys.readouterr()[0]
    assert {e.dataset_type for e in ModelCard(out).data.eval_results} == {DATASET}
    assert card_results(out, dataset_type=DATASET)["av/f1"] == label_results["av/f1"]

    # Another dataset id given on the command line: the recorded revision is not used.
    argv = ["push-results", "me/m", str(path), "--format", "eval-results", "--dry-run"]
    assert main([*argv, "--dataset-id", "other/bench"]) == 0
    entries, _ = _dry_run_parts(capsys.readouterr()[0])
    assert {(e.dataset_id, e.dataset_revision) for e in entries} == {("other/bench", None)}


def test_without_a_recorded_export_eval_results_use_the_default_hub_id(
    tmp_path, label_results, capsys
):
    from vggsounder_hf.hf.hub_export import DEFAULT_REPO_ID

    path = _json(tmp_path / "results.json", _flat(label_results))
    assert main(["push-results", "me/m", str(path), "--format", "eval-results", "--dry-run"]) == 0
    entries, card = _dry_run_parts(capsys.readouterr()[0])
    assert {e.dataset_id for e in entries} == {DEFAULT_REPO_ID}
    assert "/" in DEFAULT_REPO_ID
    assert card.data.datasets == [DEFAULT_REPO_ID]


def test_a_report_with_several_k_must_choose_one(tmp_path, score_results, capsys):
    flat = _flat(score_results)
    sets = [{"results": flat, "k": 1}, {"results": flat, "k": 5}]
    path = _json(tmp_path / "results.json", sets)
    argv = ["push-results", "me/m", str(path), "--format", "eval-results", "--dry-run"]
    assert main(argv) == 2
    err = capsys.readouterr()[1]
    assert "more than one value" in err and "--k" in err
    assert len(err.strip().splitlines()) == 1
    assert main([*argv, "--k", "5"]) == 0
    entries, _ = _dry_run_parts(capsys.readouterr()[0])
    assert {e.task_id: e.value for e in entries} == _expected_values(score_results, 5)


def test_cli_refuses_results_on_another_clip_set_in_one_line(tmp_path, label_results, capsys):
    path = _json(tmp_path / "results.json", _flat(label_results))
    argv = ["push-results", "me/m", str(path), "--format", "eval-results", "--dry-run"]
    assert main([*argv, "--clip-set", "full"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("vggsounder-hub: error: ")
    assert "leaderboard tasks are defined on the clip set 'default'" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("text", ["---\nlicense: [mit\n---\n", "---\n- a\n---\n"])
def test_a_card_whose_metadata_does_not_parse_is_one_clear_error(text):
    with pytest.raises(ModelCardError, match=r"^the model card of me/m: "):
        with_dataset(text, DATASET, "me/m")
