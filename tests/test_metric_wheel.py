"""The metric ships with the package: one module file, loadable from the wheel, named
``vggsounder``.

The wheel test builds the wheel from a copy of the sources (``pip wheel --no-deps
--no-build-isolation --no-index``: no network), installs it with ``pip install --no-deps``
into a fresh virtual environment, and runs ``evaluate.load(vggsounder_hf.METRIC_PATH)`` there
from an unrelated directory. The fresh environment borrows the *dependencies* from this
environment's site-packages through a ``.pth`` line, which ``site`` appends after the fresh
environment's own site-packages and never scans for further ``.pth`` files: so this
checkout's editable install stays invisible, and ``vggsounder_hf`` can only come from the
wheel (the test asserts where it came from).
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import warnings
from pathlib import Path

import evaluate
import pytest

import vggsounder_hf
from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.core.schema import INPUT_MODALITIES
from vggsounder_hf.hf.metric import METRIC_NAME, METRIC_PATH
from vggsounder_hf.io.safe_pickle import load_pickle

REPO_ROOT = Path(__file__).resolve().parents[1]
CHECKOUT_METRIC = REPO_ROOT / "metrics" / "vggsounder"
MODULE_FILES = ("vggsounder.py", "README.md", "requirements.txt")
REFERENCE_FIELDS = [
    "video_id",
    "labels",
    "modalities",
    "background_music",
    "static_image",
    "voice_over",
]
CLIPS = 400
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}

RUN_IN_VENV = """
import json, sys, warnings
import evaluate, vggsounder_hf
inputs = json.load(open(sys.argv[1], encoding="utf-8"))
metric = evaluate.load(vggsounder_hf.METRIC_PATH)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    results = metric.compute(
        predictions=inputs["predictions"], references=inputs["references"], clip_set="full"
    )
combined = evaluate.combine([metric, evaluate.load(vggsounder_hf.METRIC_PATH)])
output = {
    "package": vggsounder_hf.__file__,
    "metric_path": vggsounder_hf.METRIC_PATH,
    "name": metric.name,
    "combined_names": combined.evaluation_module_names,
    "results": results,
}
json.dump(output, open(sys.argv[2], "w", encoding="utf-8"))
"""


def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in OFFLINE.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="module")
def small_real_input(shared_data, prepared_releases) -> dict:
    """The first clips of release 1.0 and Gemini 1.5 Pro's released predictions for them."""
    references = prepared_releases["1.0"].select(range(CLIPS)).select_columns(REFERENCE_FIELDS)
    rows = references.to_list()
    mapping = load_pickle(shared_data / "model-predictions" / "gemini-1.5-pro.pkl")
    predictions = []
    for row in rows:
        values = mapping.get(row["video_id"], {}).get("predictions", {})
        predictions.append(
            {"video_id": row["video_id"], **{m: values.get(m) for m in INPUT_MODALITIES}}
        )
    class_names = tuple(references.features["labels"].feature.names)
    restricted = {
        row["video_id"]: mapping[row["video_id"]] for row in rows if row["video_id"] in mapping
    }
    return {
        "references": rows,
        "predictions": predictions,
        "truth": GroundTruth.from_rows(rows, class_names),
        "model": ModelPredictions.from_mapping(restricted, class_names),
    }


def _copy_sources(target: Path) -> Path:
    """What a source distribution holds: the project file, the readme and ``src``."""
    target.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(REPO_ROOT / name, target / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(REPO_ROOT / "src", target / "src", ignore=ignore)
    return target


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _check_build_backend() -> None:
    """The build runs without isolation, with this environment's setuptools: it must be one
    that the project's ``build-system`` accepts (the ``dev`` extra installs one)."""
    import tomllib
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import Requirement

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (needed,) = [Requirement(r) for r in project["build-system"]["requires"]]
    try:
        found = version(needed.name)
    except PackageNotFoundError:
        found = None
    if found is None or found not in needed.specifier:
        pytest.fail(
            f"building the wheel offline needs {needed} in this environment, found "
            f"{found or 'none'}; install the dev extra (pip install -e '.[dev]')"
        )


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory) -> Path:
    """A fresh virtual environment with the built wheel installed (no dependencies)."""
    _check_build_backend()
    root = tmp_path_factory.mktemp("wheel")
    source = _copy_sources(root / "source")
    dist = root / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    _run(
        [
            *pip,
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(dist),
            str(source),
        ]
    )
    (wheel,) = dist.glob("vggsounder_hf-*.whl")
    (root / "wheel-path.txt").write_text(str(wheel), encoding="utf-8")
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)])
    purelib = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    ).stdout.strip()
    dependencies = [*site.getsitepackages(), sysconfig.get_paths()["purelib"]]
    Path(purelib, "zz_borrowed_dependencies.pth").write_text(
        "\n".join(dict.fromkeys(dependencies)) + "\n", encoding="utf-8"
    )
    return venv


def test_the_installed_wheel_loads_the_metric_from_any_directory(
    wheel_venv, small_real_input, tmp_path
):
    inputs, output = tmp_path / "inputs.json", tmp_path / "output.json"
    inputs.write_text(
        json.dumps({k: small_real_input[k] for k in ("references", "predictions")}),
        encoding="utf-8",
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(OFFLINE, HF_HOME=str(tmp_path / "hf-home"))
    python = wheel_venv / "bin" / "python"
    _run([str(python), "-c", RUN_IN_VENV, str(inputs), str(output)], cwd=elsewhere, env=env)
    shown = json.loads(output.read_text(encoding="utf-8"))

    venv_root = wheel_venv.resolve()
    assert Path(shown["package"]).resolve().is_relative_to(venv_root)
    assert not Path(shown["package"]).resolve().is_relative_to(REPO_ROOT)
    assert Path(shown["metric_path"]).resolve().is_relative_to(venv_root)
    assert shown["name"] == METRIC_NAME == "vggsounder"
    assert shown["combined_names"] == ["vggsounder", "vggsounder"]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = evaluate_predictions(
            small_real_input["truth"], small_real_input["model"], clip_set="full"
        )
    assert set(shown["results"]) == set(direct)
    for key, value in direct.items():
        assert shown["results"][key] == pytest.approx(value, abs=1e-12, nan_ok=True), key


def test_there_is_one_copy_of_the_module_and_the_checkout_links_to_it():
    assert Path(METRIC_PATH) == Path(vggsounder_hf.__file__).parent / "hf" / "metric" / "vggsounder"
    assert vggsounder_hf.METRIC_PATH == METRIC_PATH
    for name in MODULE_FILES:
        packaged = Path(METRIC_PATH) / name
        linked = CHECKOUT_METRIC / name
        assert packaged.is_file() and not packaged.is_symlink(), name
        assert linked.is_symlink(), f"metrics/vggsounder/{name} must link to the packaged file"
        assert linked.resolve() == packaged.resolve(), name


@pytest.mark.parametrize("path", [METRIC_PATH, str(CHECKOUT_METRIC)], ids=["package", "checkout"])
def test_the_module_is_named_vggsounder_wherever_it_loads_from(path, monkeypatch):
    _offline(monkeypatch)
    labels = evaluate.load(path)
    scores = evaluate.load(path, "scores")
    assert labels.name == scores.name == "vggsounder"
    combined = evaluate.combine([labels, evaluate.load(path)])
    assert combined.evaluation_module_names == ["vggsounder", "vggsounder"]


def test_the_checkout_folder_loads_from_the_repository_root(monkeypatch):
    _offline(monkeypatch)
    monkeypatch.chdir(REPO_ROOT)
    assert evaluate.load("metrics/vggsounder").name == "vggsounder"


def test_the_space_layout_copies_the_file_not_the_link(tmp_path):
    """``push-metric`` uploads regular files with the module's source, as evaluate expects."""
    from vggsounder_hf.hf.hub_push import metric_module_files

    for source in (CHECKOUT_METRIC, Path(METRIC_PATH)):
        folder = tmp_path / source.parent.name / "space"
        files = {path.name: path for path in metric_module_files(folder, "me/vggsounder", source)}
        module = files["vggsounder.py"]
        assert module.is_file() and not module.is_symlink()
        packaged = (Path(METRIC_PATH) / "vggsounder.py").read_text(encoding="utf-8")
        assert module.read_text(encoding="utf-8") == packaged
        assert "class Vggsounder(evaluate.Metric)" in packaged


def test_scikit_learn_is_a_dev_dependency_only(wheel_venv):
    """Nothing under src/ imports scikit-learn; the wheel requires it only for the dev extra."""
    import ast
    import zipfile

    for path in (REPO_ROOT / "src" / "vggsounder_hf").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.split(".")[0] == "sklearn" for n in names), path
    wheel = Path((wheel_venv.parent / "wheel-path.txt").read_text(encoding="utf-8"))
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = archive.read(name).decode("utf-8")
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    sklearn = [line for line in requires if "scikit-learn" in line]
    assert sklearn == ['Requires-Dist: scikit-learn>=1.9.1; extra == "dev"']
