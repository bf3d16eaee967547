"""Specification of the vggsounder-score command (vggsounder_hf.cli.score) and scripts/score.py."""

from __future__ import annotations

import csv
import io
import json
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from vggsounder_hf.cli.score import main
from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.io.readers import read_predictions

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE_FILE = REPO_ROOT / "tests" / "reference_values" / "reference_1.0.json"
# Printed column -> (evaluate_predictions key, reference column, reference metric)
PAPER_COLUMNS = [
    ("subset_accuracy/a", "a/subset_accuracy", "a", "accuracy"),
    ("subset_accuracy/v", "v/subset_accuracy", "v", "accuracy"),
    ("subset_accuracy/av", "av/subset_accuracy", "av", "accuracy"),
    ("f1/a", "a/f1", "a", "f1"),
    ("f1/v", "v/f1", "v", "f1"),
    ("f1/av", "av/f1", "av", "f1"),
    ("f1/a_only", "a_only/f1", "a only", "f1"),
    ("f1/v_only", "v_only/f1", "v only", "f1"),
    ("hit/a", "a/hit", "a", "hit_rate"),
    ("hit/v", "v/hit", "v", "hit_rate"),
    ("hit/av", "av/hit", "av", "hit_rate"),
    ("mu/a", "mu/a", "a", "mu"),
    ("mu/v", "mu/v", "v", "mu"),
    ("mu/a_and_v", "mu/a_and_v", "av", "mu"),
]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


def percent(value: float) -> str:
    return f"{100 * value:.2f}"


@pytest.fixture(scope="module")
def release(release_1_0):
    return release_1_0


@pytest.fixture(scope="module")
def truth(truth_1_0) -> GroundTruth:
    return truth_1_0


@pytest.fixture(scope="module")
def prediction_files(shared_data, released_models) -> list[Path]:
    files = [shared_data / "model-predictions" / f"{name}.pkl" for name in released_models]
    missing = [path for path in files if not path.exists()]
    if missing:
        pytest.skip(f"released prediction files missing: {missing}")
    return files


@pytest.fixture(scope="module")
def core_results(prediction_files, truth) -> dict[str, dict]:
    """evaluate_predictions on each released file (default clip set), called directly."""
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in prediction_files:
            results[path.stem] = evaluate_predictions(
                truth, read_predictions(path, truth.class_names)
            )
    return results


@pytest.fixture(scope="module")
def reference_or_skip(request):
    if not REFERENCE_FILE.exists():
        pytest.skip(f"{REFERENCE_FILE} not recorded yet")
    return request.getfixturevalue("reference_values")


def table_rows(text: str) -> dict[str, list[str]]:
    """Body rows of the terminal table: model name -> cells."""
    lines = text.splitlines()
    rule = next(index for index, line in enumerate(lines) if line and set(line) == {"-"})
    return {line.split()[0]: line.split()[1:] for line in lines[rule + 1 :] if line.strip()}


# ------------------------------------------------------------------ the seven released models


def test_terminal_table_of_the_released_models_equals_the_core_in_percent(
    capsys, prediction_files, core_results, released_models
):
    code, out, err = run(capsys, *prediction_files)
    assert code == 0
    assert out.splitlines()[0] == (
        "VGGSounder results; protocol reference; labels 1.0; clip set default (12,014 clips); "
        "values in %"
    )
    rows = table_rows(out)
    assert list(rows) == list(released_models)
    for name, cells in rows.items():
        expected = [percent(core_results[name][key]) for _, key, _, _ in PAPER_COLUMNS]
        assert cells == expected, name
    # The two unknown class names of the released files are reported, not hidden; so are
    # their predictions for clips that are not in labels 1.0 (ignored, as the reference does).
    assert err.count("vggsounder-score: warning:") == 2 + len(released_models)
    assert "'female speech, woman someone'" in err and "'wind rustiling leaves'" in err
    for path in prediction_files:
        unknown = core_results[path.stem]["num_unknown_clips"]
        assert unknown > 0
        assert (
            f"vggsounder-score: warning: {path}: {unknown:,} predicted clip id(s) are not clips "
            "of labels 1.0 and were ignored, as the reference does: '"
        ) in err


def test_printed_numbers_equal_the_recorded_reference_values(
    capsys, prediction_files, reference_or_skip, released_models
):
    code, out, _ = run(capsys, *prediction_files, "--format", "csv", "--quiet")
    assert code == 0
    reference = reference_or_skip["results"]["default"]
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["model"] for row in rows] == list(released_models)
    for row in rows:
        for printed, _, column, metric in PAPER_COLUMNS:
            assert row[printed] == percent(reference[row["model"]][column][metric]), (
                row["model"],
                printed,
            )


def test_markdown_table_has_a_header_and_a_row_per_model(capsys, prediction_files, core_results):
    code, out, _ = run(capsys, *prediction_files, "--format", "markdown", "-q")
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("|")]
    assert lines[0].startswith("| Model | Acc. a ↑ | Acc. v ↑ | Acc. av ↑ | F1 a ↑ |")
    assert len(lines) == 2 + len(prediction_files)
    ola = next(line for line in lines if line.startswith("| ola |"))
    assert f"| {percent(core_results['ola']['a/f1'])} |" in ola


def test_json_output_keeps_fractions_and_the_run_metadata(capsys, prediction_files, core_results):
    code, out, _ = run(capsys, prediction_files[3], "--format", "json", "-q")
    assert code == 0
    payload = json.loads(out)
    assert payload["metadata"]["label_version"] == "1.0"
    assert payload["metadata"]["clip_set"] == "default"
    assert payload["metadata"]["num_clips"] == 12_014
    assert payload["metadata"]["tie_break"] == "reference"
    (row,) = payload["rows"]
    assert row["name"] == "ola"
    assert row["values"]["f1/av"] == core_results["ola"]["av/f1"]
    assert row["results"] == core_results["ola"]


def test_clip_set_and_label_version_are_options(capsys, prediction_files, release):
    code, out, _ = run(capsys, prediction_files[1], "--clip-set", "full", "-q")
    assert code == 0 and "clip set full (15,069 clips)" in out
    code, out, _ = run(capsys, prediction_files[1], "--labels", "0.1.6", "-q")
    assert code == 0 and "labels 0.1.6; clip set default (12,372 clips)" in out


def test_metrics_and_columns_can_be_chosen(capsys, prediction_files, core_results):
    code, out, _ = run(
        capsys, prediction_files[0], "--metrics", "f1_macro,hit_rate", "--columns", "av,v_only"
    )
    assert code == 0
    cells = table_rows(out)["gemini-1.5-flash"]
    result = core_results["gemini-1.5-flash"]
    assert cells == [
        percent(result["av/f1_macro"]),
        percent(result["v_only/f1_macro"]),
        percent(result["av/hit"]),
        percent(result["v_only/hit"]),
    ]


# ------------------------------------------------------------------ baseline, names, scripts


def test_class_prior_baseline_needs_no_prediction_file(capsys, truth):
    from vggsounder_hf.core.baseline import class_prior_baseline

    code, out, err = run(capsys, "--baseline", "class-prior")
    assert code == 0 and err == ""
    expected = evaluate_predictions(truth, class_prior_baseline(truth))
    assert table_rows(out)["class-prior"] == [
        percent(expected[key]) for _, key, _, _ in PAPER_COLUMNS
    ]


def test_model_names_come_from_the_file_or_name_equals_file(capsys, prediction_files):
    code, out, _ = run(capsys, f"Gemini-Pro={prediction_files[1]}", prediction_files[0], "-q")
    assert code == 0
    assert list(table_rows(out)) == ["Gemini-Pro", "gemini-1.5-flash"]
    code, _, err = run(capsys, prediction_files[0], f"gemini-1.5-flash={prediction_files[1]}")
    assert code == 2
    assert "model name 'gemini-1.5-flash' is already used" in err


def test_scripts_score_py_prints_the_same_table(capsys, prediction_files):
    code, expected, _ = run(capsys, prediction_files[4], "-q")
    assert code == 0
    completed = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "score.py"), str(prediction_files[4]), "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == expected


def test_help_exits_zero(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "--push-results" in out and "NAME=FILE" in out


# ------------------------------------------------------------------ files and other reports


def test_output_file_is_written_instead_of_stdout(capsys, prediction_files, tmp_path):
    _, expected, _ = run(capsys, prediction_files[2], "--format", "markdown", "-q")
    code, out, _ = run(capsys, prediction_files[2], "-q", "--output", tmp_path / "table.md")
    assert code == 0 and out == ""
    assert (tmp_path / "table.md").read_text() == expected  # format from the extension
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.md"]


def test_an_explicit_format_wins_for_output_and_extensions_win_for_extra_reports(
    capsys, prediction_files, tmp_path
):
    code, _, _ = run(
        capsys,
        prediction_files[2],
        "-q",
        "--format",
        "csv",
        "--output",
        tmp_path / "table.md",
        "--meta-report",
        tmp_path / "meta.tex",
    )
    assert code == 0
    assert (tmp_path / "table.md").read_text().startswith("model,kind,k,subset_accuracy/a,")
    assert r"\begin{tabular}" in (tmp_path / "meta.tex").read_text()


def test_extra_reports_meta_confused_clips_and_radar(capsys, prediction_files, tmp_path):
    pytest.importorskip("matplotlib", reason="the radar plot needs the 'plot' extra")
    code, out, _ = run(
        capsys,
        prediction_files[3],
        prediction_files[6],
        "-q",
        "--meta-report",
        tmp_path / "meta.tex",
        "--confused-clips",
        tmp_path / "confused.csv",
        "--radar",
        tmp_path / "radar.svg",
    )
    assert code == 0
    assert list(table_rows(out)) == ["ola", "video-llama-2-av"]
    meta = (tmp_path / "meta.tex").read_text()
    assert r"$\Delta$F1 background music" in meta and "\nola & " in meta
    confused = list(csv.DictReader((tmp_path / "confused.csv").open()))
    assert {row["model"] for row in confused} == {"ola", "video-llama-2-av"}
    assert "video-llama-2-av" in (tmp_path / "radar.svg").read_text()


def test_report_meta_and_report_confusion_print_to_stdout(capsys, prediction_files, truth):
    code, out, _ = run(capsys, prediction_files[1], "--report", "meta", "-q")
    assert code == 0 and out.startswith(
        "VGGSounder meta-label analysis; protocol reference; labels 1.0"
    )
    assert "ΔF1 background music" in out
    code, out, _ = run(capsys, prediction_files[1], "--report", "confusion", "-q")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = evaluate_predictions(
            truth, read_predictions(prediction_files[1], truth.class_names)
        )
    assert sum(row["confused_a"] == "True" for row in rows) == round(result["mu/a"] * 12_014)
    code, _, err = run(capsys, prediction_files[1], "--report", "confusion", "--format", "latex")
    assert code == 2 and "--report confusion writes csv or json" in err


def test_progress_bar_goes_to_stderr_and_quiet_silences_it(capsys, prediction_files):
    code, _, err = run(capsys, prediction_files[1], "--progress")
    assert code == 0 and "scoring" in err and "reading" in err
    code, _, err = run(capsys, prediction_files[1], "--quiet")
    # Only the warning about the file's clips outside labels 1.0 is left: no progress bar.
    assert code == 0 and "scoring" not in err and "reading" not in err
    (line,) = err.splitlines()
    assert line.startswith("vggsounder-score: warning: ") and "predicted clip id(s)" in line
    code, _, err = run(capsys, "--baseline", "class-prior", "--quiet")
    assert code == 0 and err == ""


# ------------------------------------------------------------------ score models


@pytest.fixture(scope="module")
def score_file(tmp_path_factory, truth) -> Path:
    """A small score model in the authors' pickle format (first 600 clips, random scores)."""
    rng = np.random.default_rng(7)
    ids = truth.video_ids[:600].tolist()
    mapping = {
        video_id: {"logits": {m: rng.random(309).round(2).tolist() for m in ("a", "v", "av")}}
        for video_id in ids
    }
    path = tmp_path_factory.mktemp("scores") / "random-scores.pkl"
    path.write_bytes(pickle.dumps(mapping))
    return path


def test_score_models_are_shown_at_each_k_as_the_core_computes(capsys, score_file, truth):
    code, out, _ = run(capsys, score_file, "--ks", "1,3", "--format", "json", "-q")
    assert code == 0
    rows = json.loads(out)["rows"]
    assert [(row["name"], row["k"]) for row in rows] == [
        ("random-scores (k=1)", 1),
        ("random-scores (k=3)", 3),
    ]
    expected = evaluate_predictions(
        truth, read_predictions(score_file, truth.class_names), ks=(1, 3)
    )
    for row in rows:
        k = row["k"]
        assert row["values"]["f1/av"] == expected[f"av/f1@{k}"]
        assert row["values"]["f1/v_only"] == expected[f"v_only/f1@{k}"]
        assert row["values"]["mu/a"] == expected["mu/a"]


def test_tie_break_option_reaches_the_core(capsys, score_file, truth):
    code, out, _ = run(capsys, score_file, "--tie-break", "lowest_index", "--format", "json", "-q")
    assert code == 0
    expected = evaluate_predictions(
        truth,
        read_predictions(score_file, truth.class_names),
        ks=(1,),
        tie_break="lowest_index",
    )
    row = json.loads(out)["rows"][0]
    assert row["values"]["subset_accuracy/a"] == expected["a/subset_accuracy@1"]
    assert json.loads(out)["metadata"]["tie_break"] == "lowest_index"


def test_synthetic_score_model_auc_equals_the_reference(
    capsys, tmp_path, release, reference_or_skip
):
    """The score model the reference values were recorded for, as a Parquet score table."""
    import importlib.util

    import pandas as pd

    spec = importlib.util.spec_from_file_location(
        "synthetic_scores_cli", REPO_ROOT / "tests" / "synthetic_scores.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    mapping = module.make_score_predictions(
        [clip.video_id for clip in release.clips],
        [list(clip.labels) for clip in release.clips],
        309,
        seed=reference_or_skip["synthetic_seed"],
    )
    ids = list(mapping)
    frames = []
    for modality in ("a", "v", "av"):
        frame = pd.DataFrame(
            np.array([mapping[video_id]["logits"][modality] for video_id in ids]),
            columns=[f"score_{index}" for index in range(309)],
        )
        frame.insert(0, "input_modality", modality)
        frame.insert(0, "video_id", ids)
        frames.append(frame)
    path = tmp_path / "synthetic-scores.parquet"
    pd.concat(frames).to_parquet(path)
    code, out, _ = run(
        capsys, path, "--metrics", "auc_roc,auc_pr", "--format", "csv", "--clip-set", "full", "-q"
    )
    assert code == 0
    (row,) = list(csv.DictReader(io.StringIO(out)))
    reference = reference_or_skip["results"]["full"]["synthetic-scores"]
    for column, key in (("a", "a"), ("v", "v"), ("av", "av"), ("a only", "a_only")):
        assert row[f"auc_roc/{key}"] == percent(reference[column]["auc_roc"])
        assert row[f"auc_pr/{key}"] == percent(reference[column]["auc_pr"])


# ------------------------------------------------------------------ errors


def _errors(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    (tmp_path / "empty.pkl").write_bytes(b"")
    (tmp_path / "bad.json").write_text('{"x": ')
    (tmp_path / "wrong.json").write_text('{"x_000001": ["dog"]}')
    (tmp_path / "modality.csv").write_text("video_id,input_modality,label\nx_000001,sound,dog\n")
    (tmp_path / "ok.csv").write_text("video_id,input_modality,label\nx_000001,a,\n")
    return {
        "missing file": ([str(tmp_path / "nope.pkl")], f"{tmp_path / 'nope.pkl'}: no such file"),
        "empty file": ([str(tmp_path / "empty.pkl")], f"{tmp_path / 'empty.pkl'}: file is empty"),
        "malformed json": (
            [str(tmp_path / "bad.json")],
            f"{tmp_path / 'bad.json'}: malformed JSON at line 1",
        ),
        "wrong structure": (
            [str(tmp_path / "wrong.json")],
            f"{tmp_path / 'wrong.json'}: entry of clip 'x_000001' must be a mapping",
        ),
        "unknown input modality": (
            [str(tmp_path / "modality.csv")],
            f"{tmp_path / 'modality.csv'}: line 2: unknown input modality 'sound'",
        ),
        "unknown extension": (
            [str(tmp_path / "ok.csv") + ".bak"],
            "cannot tell the format from the extension",
        ),
        "bad clip set": ([str(tmp_path / "ok.csv"), "--clip-set", "noisy"], "--clip-set"),
        "k and ks": ([str(tmp_path / "ok.csv"), "--k", "1", "--ks", "1,3"], "--k or --ks"),
        "k too large": ([str(tmp_path / "ok.csv"), "--k", "400"], "at most 309"),
        "bad metric": ([str(tmp_path / "ok.csv"), "--metrics", "f2"], "unknown metric 'f2'"),
        "nothing to score": ([], "no prediction file given"),
        "dry run alone": ([str(tmp_path / "ok.csv"), "--dry-run"], "--dry-run only applies"),
        "push two files": (
            [str(tmp_path / "ok.csv"), str(tmp_path / "ok.csv"), "--push-results", "me/m"],
            "give exactly one prediction file",
        ),
        "missing output folder": (
            [str(tmp_path / "ok.csv"), "--output", str(tmp_path / "no" / "t.md")],
            "does not exist",
        ),
        "bad radar extension": (
            [str(tmp_path / "ok.csv"), "--radar", str(tmp_path / "r.gif")],
            "must end in .png, .svg or .pdf",
        ),
        "radar metric without columns": (
            [str(tmp_path / "ok.csv"), "--radar-metric", "mu"],
            "argument --radar-metric: invalid choice: 'mu'",
        ),
        "unknown radar metric": (
            [str(tmp_path / "ok.csv"), "--radar-metric", "f2"],
            "argument --radar-metric: unknown metric 'f2'; choose from subset_accuracy",
        ),
        "count as a metric": (
            [str(tmp_path / "ok.csv"), "--metrics", "f1,num_clips"],
            "'num_clips' is a count, not a table metric",
        ),
        "one file for two reports": (
            [
                str(tmp_path / "ok.csv"),
                "--output",
                str(tmp_path / "t.md"),
                "--meta-report",
                str(tmp_path / "t.md"),
            ],
            "--output and --meta-report name the same file",
        ),
        "bad confidence": (
            [str(tmp_path / "ok.csv"), "--confidence", "95"],
            "expected a level between 0 and 1",
        ),
        "negative bootstrap": ([str(tmp_path / "ok.csv"), "--bootstrap", "-1"], "0 or more"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing file",
        "empty file",
        "malformed json",
        "wrong structure",
        "unknown input modality",
        "unknown extension",
        "bad clip set",
        "k and ks",
        "k too large",
        "bad metric",
        "nothing to score",
        "dry run alone",
        "push two files",
        "missing output folder",
        "bad radar extension",
        "radar metric without columns",
        "unknown radar metric",
        "count as a metric",
        "one file for two reports",
        "bad confidence",
        "negative bootstrap",
    ],
)
def test_bad_input_is_one_line_on_stderr_with_exit_code_2(capsys, tmp_path, case):
    argv, problem = _errors(tmp_path)[case]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("vggsounder-score: error: ")
    assert err.count("\n") == 1, err
    assert problem in err
    assert "Traceback" not in err


def test_option_choices_come_from_the_schema():
    from vggsounder_hf.cli.score import build_parser
    from vggsounder_hf.core import schema

    actions = {action.dest: action for action in build_parser()._actions}
    assert actions["label_version"].choices == schema.LABEL_SOURCES  # releases and vggsound
    assert actions["label_version"].default == schema.DEFAULT_LABEL_RELEASE
    assert actions["clip_set"].default == schema.DEFAULT_CLIP_SET
    assert actions["tie_break"].choices == schema.TIE_BREAKS
    assert actions["radar_metric"].choices == schema.metrics_of("label_set", "ranking")
    assert (actions["bootstrap"].default, actions["confidence"].default) == (0, 0.95)
    assert actions["seed"].default == 0


def test_debug_shows_the_traceback(capsys, tmp_path):
    from vggsounder_hf.io.readers import ReaderError

    with pytest.raises(ReaderError, match="no such file"):
        main([str(tmp_path / "nope.pkl"), "--debug"])


# ------------------------------------------------------------------ results into a model card


def test_push_results_dry_run_prints_a_card_with_the_results(capsys, prediction_files, tmp_path):
    from huggingface_hub import ModelCard

    code, out, _ = run(
        capsys,
        prediction_files[5],
        "--push-results",
        "me/unified-io-2",
        "--dry-run",
        "--output",
        tmp_path / "table.txt",
        "-q",
    )
    assert code == 0
    card = ModelCard(out)
    results = {(r.metric_name, r.dataset_config): r.metric_value for r in card.data.eval_results}
    payload = json.loads(run(capsys, prediction_files[5], "--format", "json", "-q")[1])
    assert results[("F1 (av)", "1.0")] == payload["rows"][0]["results"]["av/f1"]
    assert results[("μ_A", "1.0")] == payload["rows"][0]["results"]["mu/a"]
    assert card.data.model_name == "unified-io-2"


def test_push_results_uploads_the_merged_card(capsys, prediction_files, monkeypatch):
    from vggsounder_hf.hf import hub_results

    uploads = []
    monkeypatch.setattr(hub_results, "load_card_text", lambda repo_id, token=None: None)
    monkeypatch.setattr(
        hub_results,
        "upload_card",
        lambda card, repo_id, token=None: uploads.append((repo_id, card)),
    )
    code, _, err = run(capsys, prediction_files[0], "--push-results", "me/flash", "-q")
    assert code == 0
    ((repo_id, card),) = uploads
    assert repo_id == "me/flash"
    assert any(r.metric_name == "Hit (av)" for r in card.data.eval_results)
    assert "wrote the results into the model card of me/flash" in err


# ------------------------------------------------------------------ one alignment, one commit


def test_each_model_is_aligned_once_for_every_report(
    capsys, score_file, prediction_files, monkeypatch, tmp_path
):
    from vggsounder_hf.core import alignment, evaluation
    from vggsounder_hf.reports import confusion, meta, tables

    calls = []
    real_align = alignment.align

    def counting_align(truth, predictions, **options):
        calls.append(options)
        return real_align(truth, predictions, **options)

    def no_second_alignment(*args, **kwargs):
        raise AssertionError("a model was aligned a second time")

    monkeypatch.setattr(alignment, "align", counting_align)
    for module in (evaluation, tables, meta, confusion):
        monkeypatch.setattr(module, "align", no_second_alignment)
    code, out, err = run(
        capsys,
        score_file,
        prediction_files[3],
        "--ks",
        "1,3",
        "-q",
        "--meta-report",
        tmp_path / "meta.json",
        "--confused-clips",
        tmp_path / "confused.csv",
    )
    assert code == 0, err
    options = {
        "ks": (1, 3),
        "tie_break": "reference",
        "mu_ground_truth": "all_labels",
        "threshold": None,
        "sigmoid": False,
        "threads": None,  # the machine's cores
    }
    assert calls == [options] * 2
    names = [line.split("  ")[0] for line in out.splitlines()[4:]]
    assert names == ["random-scores (k=1)", "random-scores (k=3)", "ola"]
    meta_rows = json.loads((tmp_path / "meta.json").read_text())["rows"]
    assert [row["name"] for row in meta_rows] == ["random-scores", "ola"]
    confused = list(csv.DictReader((tmp_path / "confused.csv").open()))
    assert {row["model"] for row in confused} == {"random-scores", "ola"}


def test_outputs_are_committed_together_or_not_at_all(capsys, prediction_files, tmp_path):
    table, meta = tmp_path / "table.md", tmp_path / "meta.md"
    table.write_text("old table\n")
    meta.write_text("old meta\n")
    (tmp_path / "confused.csv").mkdir()  # the last target cannot be written
    code, out, err = run(
        capsys,
        prediction_files[1],
        "-q",
        "--output",
        table,
        "--meta-report",
        meta,
        "--confused-clips",
        tmp_path / "confused.csv",
    )
    assert code == 2 and out == ""
    assert err.startswith("vggsounder-score: error: ") and "confused.csv" in err
    assert err.count("\n") == 1  # a failed run prints its error only, not its warnings
    assert table.read_text() == "old table\n"
    assert meta.read_text() == "old meta\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "confused.csv",
        "meta.md",
        "table.md",
    ]


def test_a_failed_replace_puts_the_old_files_back(tmp_path, monkeypatch):
    from vggsounder_hf.cli import _score_outputs
    from vggsounder_hf.io import atomic

    assert _score_outputs.commit_files is atomic.commit_files  # one implementation

    first, second, third = tmp_path / "first.txt", tmp_path / "second.txt", tmp_path / "third.txt"
    first.write_text("old first")
    third.write_text("old third")
    real_replace = atomic.os.replace

    def failing_replace(source, target):
        if Path(target) == third:
            raise PermissionError(13, "Permission denied", str(target))
        return real_replace(source, target)

    monkeypatch.setattr(atomic.os, "replace", failing_replace)
    files = [(first, b"new first"), (second, b"new second"), (third, b"new third")]
    with pytest.raises(OSError, match="cannot write") as caught:
        _score_outputs.commit_files(files)
    assert caught.value.filename == str(third)
    assert first.read_text() == "old first" and third.read_text() == "old third"
    assert not second.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["first.txt", "third.txt"]
    monkeypatch.setattr(atomic.os, "replace", real_replace)
    _score_outputs.commit_files(files)
    assert [path.read_text() for path in (first, second, third)] == [
        "new first",
        "new second",
        "new third",
    ]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "first.txt",
        "second.txt",
        "third.txt",
    ]


# ------------------------------------------------------------------ bootstrap intervals


def test_bootstrap_intervals_are_printed_with_their_values(capsys, score_file, truth):
    argv = [score_file, "--bootstrap", "20", "--confidence", "0.9", "--seed", "3", "-q"]
    code, out, _ = run(capsys, *argv, "--metrics", "f1", "--columns", "a,av", "--format", "csv")
    assert code == 0
    (row,) = list(csv.DictReader(io.StringIO(out)))
    expected = evaluate_predictions(
        truth,
        read_predictions(score_file, truth.class_names),
        ks=(1,),
        bootstrap=20,
        confidence=0.9,
        seed=3,
    )
    for column in ("a", "av"):
        assert row[f"f1/{column}"] == percent(expected[f"{column}/f1@1"])
        assert row[f"f1/{column}/ci_low"] == percent(expected[f"{column}/f1@1/ci_low"])
        assert row[f"f1/{column}/ci_high"] == percent(expected[f"{column}/f1@1/ci_high"])
    code, out, _ = run(capsys, *argv, "--metrics", "f1", "--columns", "a")
    assert code == 0
    low, high = (percent(expected[f"a/f1@1/{bound}"]) for bound in ("ci_low", "ci_high"))
    assert f"{percent(expected['a/f1@1'])} [{low}, {high}]" in out
    assert "[90% bootstrap interval, 20 resamples]" in out.splitlines()[0]


def test_no_bootstrap_option_is_passed_unless_asked_for(capsys, prediction_files, monkeypatch):
    from vggsounder_hf.core import evaluation
    from vggsounder_hf.reports import tables

    real = evaluation.evaluate_predictions

    def without_bootstrap(
        truth,
        predictions,
        *,
        clip_set="default",
        columns=("a",),
        ks=(1,),
        tie_break="reference",
        modality_confusion=True,
        per_class=False,
    ):
        return real(truth, predictions, clip_set=clip_set, ks=ks, tie_break=tie_break)

    monkeypatch.setattr(evaluation, "evaluate_predictions", without_bootstrap)
    monkeypatch.setattr(tables, "evaluate_predictions", without_bootstrap)
    code, out, _ = run(capsys, prediction_files[1], "-q")
    assert code == 0 and "gemini-1.5-pro" in out


# ------------------------------------------------------------------ clips that do not match


@pytest.fixture(scope="module")
def no_v_only_scores(tmp_path_factory, release) -> Path:
    """Scores for three clips of the default set, none of which has a visible-only label: the
    column ``v only`` has no clip to score."""
    from vggsounder_hf.core.schema import V

    clips = [c for c in release.clips if not c.background_music and V not in c.modalities][:3]
    rng = np.random.default_rng(3)
    mapping = {
        clip.video_id: {"logits": {m: rng.random(309).tolist() for m in ("a", "v", "av")}}
        for clip in clips
    }
    path = tmp_path_factory.mktemp("no-v-only") / "three-clips.pkl"
    path.write_bytes(pickle.dumps(mapping))
    return path


def test_an_empty_column_shows_a_dash_and_says_why(capsys, no_v_only_scores):
    code, out, err = run(capsys, no_v_only_scores, "-q")
    assert code == 0
    cells = table_rows(out)["three-clips"]
    assert cells[7] == "–" and "nan" not in out  # F1 of v only, the 8th column
    note = (
        "three-clips: no clip of the clip set 'default' to score in column(s) v only; shown as "
        "– instead of a number"
    )
    assert out.splitlines()[-1] == f"–: {note}"
    assert err == f"vggsounder-score: warning: {note}\n"


def test_json_output_writes_nan_as_null(capsys, no_v_only_scores):
    code, out, _ = run(capsys, no_v_only_scores, "-q", "--format", "json")
    assert code == 0

    def refuse(name):
        raise AssertionError(f"{name} in the JSON output")

    payload = json.loads(out, parse_constant=refuse)  # strict JSON: no NaN, no Infinity
    (row,) = payload["rows"]
    assert row["values"]["f1/v_only"] is None
    assert row["results"]["v_only/num_clips"] == 0
    assert row["results"]["v_only/subset_accuracy@1"] is None  # NaN in the core's results
    assert payload["notes"] == [
        f"–: {row['name']}: no clip of the clip set 'default' to score "
        "in column(s) v only; shown as – instead of a number"
    ]


def test_clip_ids_outside_the_release_are_counted_in_a_warning(capsys, tmp_path, release):
    clip = next(c for c in release.clips if not c.background_music)
    mapping = {
        clip.video_id: {"predictions": {"av": [release.class_names[clip.labels[0]]]}},
        "not-a-clip_000001": {"predictions": {"av": []}},
        f" {clip.video_id}": {"predictions": {"av": []}},
    }
    path = tmp_path / "model.json"
    path.write_text(json.dumps(mapping))
    code, out, err = run(capsys, path, "-q", "--format", "json")
    assert code == 0
    assert json.loads(out)["rows"][0]["results"]["num_unknown_clips"] == 2
    assert err == (
        f"vggsounder-score: warning: {path}: 2 predicted clip id(s) are not clips of labels 1.0 "
        f"and were ignored, as the reference does: 'not-a-clip_000001', ' {clip.video_id}'\n"
    )


def test_the_help_names_the_score_columns_from_the_schema(capsys):
    from vggsounder_hf.core.schema import NUM_CLASSES

    code, out, _ = run(capsys, "--help")
    assert code == 0 and f"score_{NUM_CLASSES - 1}" in " ".join(out.split())
