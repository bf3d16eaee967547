"""Specification of the Hub uploads (vggsounder_hf.hf.hub_push, `vggsounder-hub export
--push-to-hub` and `vggsounder-hub push-metric`).

The Hub cannot be reached from the test machines: HfApi.create_repo / upload_folder are
replaced by recorders, and sockets refuse to connect. The metric folder is loaded with
evaluate's own Hub code path, its URLs pointed at the local folder.
"""

from __future__ import annotations

from pathlib import Path

import evaluate
import evaluate.config
import evaluate.loading
import httpx2
import pytest
from huggingface_hub import HfApi, SpaceCard
from huggingface_hub.errors import HfHubHTTPError

from vggsounder_hf.cli.hub import main
from vggsounder_hf.core.errors import HubError
from vggsounder_hf.hf import hub_push
from vggsounder_hf.hf.hub_push import metric_module_files, push_folder, push_metric

REPO_ROOT = Path(__file__).resolve().parents[1]
SECRET = "hf_ThisIsNotARealTokenButMustNeverBePrinted"

TOY_MODULE = '''\
"""A toy evaluate metric: counts matches, doubled by a helper module."""

import datasets
import evaluate
from .toyhelpers import double


class ToyMatches(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="toy",
            citation="",
            inputs_description="",
            features=datasets.Features(
                {"predictions": datasets.Value("int32"), "references": datasets.Value("int32")}
            ),
        )

    def _compute(self, predictions, references):
        return {"matches": double(sum(p == r for p, r in zip(predictions, references)))}
'''

TOY_CARD = """\
---
title: Toy Matches
tags:
- evaluate
- metric
description: counts matches
sdk: gradio
sdk_version: 3.0.2
app_file: app.py
pinned: false
---

# Metric Card for Toy Matches

Counts matches.
"""


@pytest.fixture(autouse=True)
def private_hub_state(tmp_path, monkeypatch):
    """The Hub state `export --push-to-hub` records (hf.eval_results) lives in the test's own
    folder: nothing is written to the user's HF_HOME, and no earlier test leaks into this one."""
    monkeypatch.setenv("VGGSOUNDER_HF_STATE", str(tmp_path / "vggsounder-hf-state.json"))


@pytest.fixture
def toy_metric(tmp_path) -> Path:
    folder = tmp_path / "toymetric"
    folder.mkdir()
    (folder / "toymetric.py").write_text(TOY_MODULE, encoding="utf-8")
    (folder / "toyhelpers.py").write_text("def double(x):\n    return 2 * x\n", encoding="utf-8")
    (folder / "README.md").write_text(TOY_CARD, encoding="utf-8")
    (folder / "requirements.txt").write_text("evaluate>=0.4.6\nvggsounder-hf\n", encoding="utf-8")
    return folder


@pytest.fixture
def hub(monkeypatch, no_network) -> list:
    """Record HfApi.create_repo / upload_folder calls (with the files present at upload)."""
    calls: list = []

    def create_repo(self, repo_id, **kwargs):
        calls.append(("create_repo", repo_id, kwargs, self.token))
        return f"https://huggingface.co/{repo_id}"

    def upload_folder(self, **kwargs):
        folder = Path(kwargs["folder_path"])
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        contents = {name: (folder / name).read_bytes() for name in files}
        calls.append(("upload_folder", kwargs, self.token, files, contents))
        return None

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    return calls


def load_from_hub_layout(monkeypatch, folder: Path, repo_id: str, *args):
    """evaluate.load(repo_id) through evaluate's Hub factory, with the Space served from
    ``folder``: only revision ``main`` exists, as for a Space without version tags."""
    requested = []

    def local_hub_url(path, name, revision=None):
        requested.append((path, name, revision))
        root = folder if revision == "main" else folder / f"no-such-revision-{revision}"
        return str(root / name)

    monkeypatch.setattr(evaluate.loading, "hf_hub_url", local_hub_url)
    monkeypatch.setattr(evaluate.config, "HF_UPDATE_DOWNLOAD_COUNTS", False)
    module = evaluate.load(repo_id, *args)
    return module, requested


# --------------------------------------------------------------------------- module layout


@pytest.mark.parametrize("name", ["toymatches", "toy-matches"])
def test_metric_folder_has_the_layout_evaluate_loads_from_the_hub(
    toy_metric, tmp_path, monkeypatch, name
):
    repo_id = f"hubtest/{name}"
    folder = tmp_path / "space"
    files = metric_module_files(folder, repo_id, toy_metric)
    assert [p.name for p in files] == sorted(
        ["README.md", "index.html", "requirements.txt", f"{name}.py", "toyhelpers.py"]
    )
    assert (folder / f"{name}.py").read_text(encoding="utf-8") == TOY_MODULE

    metric, requested = load_from_hub_layout(monkeypatch, folder, repo_id)
    assert metric.compute(predictions=[1, 2, 3], references=[1, 0, 3]) == {"matches": 4}
    # evaluate asked for <name>.py at the Space root: first its own version tag, then main.
    assert (repo_id, f"{name}.py", "main") in requested
    assert requested[0][1] == f"{name}.py" and requested[0][2] != "main"


def test_metric_card_becomes_a_static_space_card_tagged_as_an_evaluate_metric(toy_metric, tmp_path):
    metric_module_files(tmp_path / "space", "hubtest/toymatches", toy_metric)
    card = SpaceCard.load(tmp_path / "space" / "README.md")
    assert card.data.sdk == "static"
    assert card.data.app_file == "index.html"
    assert card.data.get("sdk_version") is None
    assert card.data.title == "Toy Matches"
    assert card.data.description == "counts matches"
    assert {"evaluate", "metric"} <= set(card.data.tags)
    assert "# Metric Card for Toy Matches" in card.text
    html = (tmp_path / "space" / "index.html").read_text(encoding="utf-8")
    assert 'evaluate.load("hubtest/toymatches", "labels")' in html
    requirements = (tmp_path / "space" / "requirements.txt").read_text(encoding="utf-8")
    assert requirements == "evaluate>=0.4.6\nvggsounder-hf\n"


def test_a_card_without_front_matter_gets_one(toy_metric, tmp_path):
    (toy_metric / "README.md").write_text("# Toy\n\nNo YAML here.\n", encoding="utf-8")
    metric_module_files(tmp_path / "space", "hubtest/toymatches", toy_metric)
    card = SpaceCard.load(tmp_path / "space" / "README.md")
    assert (card.data.title, card.data.sdk) == ("VGGSounder", "static")
    assert card.text.strip() == "# Toy\n\nNo YAML here."


def test_requirements_must_name_this_project(toy_metric, tmp_path):
    (toy_metric / "requirements.txt").write_text("evaluate\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"requirements\.txt does not list vggsounder-hf"):
        metric_module_files(tmp_path / "space", "hubtest/toymatches", toy_metric)


def test_missing_files_are_named(toy_metric, tmp_path):
    (toy_metric / "toyhelpers.py").unlink()
    with pytest.raises(FileNotFoundError, match=r"imports \.toyhelpers, but .*toyhelpers\.py"):
        metric_module_files(tmp_path / "space", "hubtest/toymatches", toy_metric)
    (toy_metric / "README.md").unlink()
    with pytest.raises(FileNotFoundError, match=r"has no README\.md"):
        metric_module_files(tmp_path / "space", "hubtest/toymatches", toy_metric)


@pytest.mark.parametrize("repo_id", ["noslash", "a/b/c", "/name", "owner/", "owner/bad name"])
def test_bad_space_ids_are_refused(toy_metric, tmp_path, repo_id):
    with pytest.raises(ValueError, match="must look like 'owner/name'"):
        metric_module_files(tmp_path / "space", repo_id, toy_metric)


def test_default_metric_dir_is_the_packaged_metric_folder():
    # Issue 14: the packaged folder (was the checkout's metrics/vggsounder, absent in a wheel),
    # to which the checkout's files link.
    import vggsounder_hf

    folder = hub_push.default_metric_dir()
    assert folder == Path(vggsounder_hf.METRIC_PATH)
    checkout = REPO_ROOT / "metrics" / "vggsounder" / "vggsounder.py"
    assert (folder / "vggsounder.py").resolve() == checkout.resolve()


def test_the_projects_metric_module_loads_from_its_space_layout(
    tmp_path, monkeypatch, prepared_releases
):
    source = REPO_ROOT / "metrics" / "vggsounder"
    missing = [n for n in ("README.md", "requirements.txt") if not (source / n).is_file()]
    if missing:
        pytest.skip(f"metrics/vggsounder has no {', '.join(missing)} yet")
    folder = tmp_path / "space"
    metric_module_files(folder, "hubtest/vggsounder", source)
    metric, _ = load_from_hub_layout(monkeypatch, folder, "hubtest/vggsounder", "labels")
    references = prepared_releases["1.0"].select(range(20))
    names = references.features["labels"].feature.names
    predictions = [
        {"video_id": row["video_id"], "av": [names[i] for i in row["labels"]]} for row in references
    ]
    results = metric.compute(predictions=predictions, references=references, clip_set="full")
    assert results["av/num_clips"] > 0


# --------------------------------------------------------------------------- uploads


def test_push_folder_creates_the_repo_then_uploads_the_folder(hub, tmp_path):
    (tmp_path / "a.txt").write_text("a")
    push_folder(tmp_path, "me/thing", "model", token=SECRET, commit_message="hello")
    assert hub[0] == (
        "create_repo",
        "me/thing",
        {"repo_type": "model", "exist_ok": True, "private": None, "space_sdk": None},
        SECRET,
    )
    kind, kwargs, token, files, _ = hub[1]
    assert kind == "upload_folder"
    assert kwargs == {
        "repo_id": "me/thing",
        "folder_path": str(tmp_path),
        "repo_type": "model",
        "commit_message": "hello",
        "delete_patterns": None,
    }
    assert (token, files) == (SECRET, ["a.txt"])
    assert len(hub) == 2


def test_push_metric_uploads_the_module_folder_as_a_static_space(
    hub, toy_metric, monkeypatch, capsys
):
    monkeypatch.setenv("HF_TOKEN", SECRET)
    names = push_metric("me/toymatches", metric_dir=toy_metric)
    assert names == [
        "README.md",
        "index.html",
        "requirements.txt",
        "toyhelpers.py",
        "toymatches.py",
    ]
    create, upload = hub
    assert create[:3] == (
        "create_repo",
        "me/toymatches",
        {"repo_type": "space", "exist_ok": True, "private": None, "space_sdk": "static"},
    )
    assert upload[1]["repo_type"] == "space" and upload[1]["repo_id"] == "me/toymatches"
    assert upload[3] == names
    assert upload[4]["toymatches.py"] == TOY_MODULE.encode()
    out, err = capsys.readouterr()
    assert SECRET not in out + err


def test_push_metric_dry_run_lists_the_files_and_uploads_nothing(hub, toy_metric, capsys):
    names = push_metric("me/toymatches", metric_dir=toy_metric, dry_run=True)
    out, _ = capsys.readouterr()
    assert hub == []
    assert out.splitlines()[0] == "would upload to the Space me/toymatches (sdk static):"
    assert [line.split()[0] for line in out.splitlines()[1:]] == names


def test_dry_run_names_source_files_that_are_not_uploaded(hub, toy_metric, capsys):
    (toy_metric / "app.py").write_text("print('gradio widget')\n", encoding="utf-8")
    names = push_metric("me/toymatches", metric_dir=toy_metric, dry_run=True)
    out, _ = capsys.readouterr()
    assert "app.py" not in names
    assert out.splitlines()[-1] == "not uploaded (not needed by evaluate.load): app.py"


def test_cli_push_metric(hub, toy_metric, capsys, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", SECRET)
    code = main(["push-metric", "me/toymatches", "--metric-dir", str(toy_metric), "--private"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert hub[0][2]["private"] is True
    assert out.startswith("uploaded README.md, index.html")
    assert SECRET not in out + err
    hub.clear()
    assert main(["push-metric", "me/toymatches", "--metric-dir", str(toy_metric), "--dry-run"]) == 0
    assert hub == []


def test_cli_export_push_uploads_exactly_the_exported_folder_as_a_dataset(
    hub, tmp_path, prepared_cache_dir, capsys, monkeypatch
):
    monkeypatch.setenv("HF_TOKEN", SECRET)
    out_dir = tmp_path / "export"
    code = main(
        [
            "export",
            str(out_dir),
            "--cache-dir",
            str(prepared_cache_dir),
            "--push-to-hub",
            "me/vggsounder-labels",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    create, upload = hub
    assert create[:3] == (
        "create_repo",
        "me/vggsounder-labels",
        {"repo_type": "dataset", "exist_ok": True, "private": None, "space_sdk": None},
    )
    _, kwargs, token, files, contents = upload
    assert token is None  # huggingface_hub reads HF_TOKEN / the login itself
    assert kwargs["folder_path"] == str(out_dir)
    assert kwargs["repo_type"] == "dataset"
    assert kwargs["repo_id"] == "me/vggsounder-labels"
    assert kwargs["delete_patterns"] == ["0.1.6/*.parquet", "1.0/*.parquet"]
    local = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file())
    assert (
        files
        == local
        == [
            "0.1.6/test-00000-of-00001.parquet",
            "1.0/test-00000-of-00001.parquet",
            "README.md",
            "eval.yaml",  # the Hub benchmark's leaderboard tasks (hf.eval_results)
        ]
    )
    assert all(contents[name] == (out_dir / name).read_bytes() for name in files)
    # The card shown on the Hub names the repository it was pushed to.
    assert b'load_dataset("me/vggsounder-labels"' in contents["README.md"]
    assert "uploaded to the dataset repository me/vggsounder-labels" in out
    assert SECRET not in out + err


def test_upload_failure_is_one_line_without_the_token(
    monkeypatch, tmp_path, toy_metric, capsys, no_network
):
    monkeypatch.setenv("HF_TOKEN", SECRET)
    response = httpx2.Response(401, request=httpx2.Request("POST", "https://huggingface.co/api"))

    def unauthorized(self, repo_id, **kwargs):
        raise HfHubHTTPError(
            "401 Client Error: Unauthorized for url: .../api/repos/create", response=response
        )

    monkeypatch.setattr(HfApi, "create_repo", unauthorized)
    code = main(["push-metric", "me/toymatches", "--metric-dir", str(toy_metric)])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("vggsounder-hub: error: 401 Client Error: Unauthorized")
    assert len(err.strip().splitlines()) == 1
    assert SECRET not in out + err


def test_push_dataset_refuses_a_folder_that_is_not_an_export(hub, tmp_path):
    with pytest.raises(FileNotFoundError, match="not an exported dataset folder"):
        hub_push.push_dataset(tmp_path, "me/x")
    assert hub == []


@pytest.mark.parametrize(
    "error",
    [httpx2.ConnectError("[Errno 111] Connection refused"), httpx2.ConnectTimeout("timed out")],
    ids=["refused", "timeout"],
)
def test_an_unreachable_hub_is_one_line_naming_the_space(
    monkeypatch, toy_metric, capsys, no_network, error
):
    def unreachable(self, repo_id, **kwargs):
        raise error

    monkeypatch.setattr(HfApi, "create_repo", unreachable)
    code = main(["push-metric", "me/toymatches", "--metric-dir", str(toy_metric)])
    out, err = capsys.readouterr()
    assert code == 2
    assert err == (
        f"vggsounder-hub: error: {error} (creating the space repository me/toymatches on the "
        "Hugging Face Hub)\n"
    )
    assert out == ""


def test_an_upload_that_fails_names_the_folder_and_the_repository(hub, monkeypatch, tmp_path):
    def broken(self, **kwargs):
        raise httpx2.RemoteProtocolError("peer closed connection")

    monkeypatch.setattr(HfApi, "upload_folder", broken)
    with pytest.raises(HubError, match=r"peer closed connection \(uploading .* to the "):
        push_folder(tmp_path, "me/x", "dataset")
    assert hub[0][0] == "create_repo"
