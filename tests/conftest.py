"""Shared fixtures: the read-only data in ../shared and VGGSounder releases prepared once."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
RELEASED_MODELS = (
    "gemini-1.5-flash",
    "gemini-1.5-pro",
    "gemini-2.0-flash",
    "ola",
    "pandagpt",
    "unified-io-2",
    "video-llama-2-av",
)
"""The seven prediction files the authors released, in ../shared/data/model-predictions."""
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that takes ``released_model`` runs once per released prediction file."""
    if "released_model" in metafunc.fixturenames:
        metafunc.parametrize("released_model", RELEASED_MODELS)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if it opens a network connection (the Hub is never reached in tests)."""
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("the test tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="session")
def released_models() -> tuple[str, ...]:
    """Names of the seven released prediction files (stems), in alphabetical order."""
    return RELEASED_MODELS


@pytest.fixture(scope="session")
def small_truth():
    """Function ``(rows, class_names) -> GroundTruth`` for hand-made clips without meta labels.

    ``rows`` are ``(video_id, label names, modality codes)`` triples.
    """
    from vggsounder_hf.core.ground_truth import GroundTruth

    def build(rows, class_names):
        flags = {"background_music": False, "static_image": False, "voice_over": False}
        return GroundTruth.from_rows(
            [
                {"video_id": video_id, "labels": labels, "modalities": modalities, **flags}
                for video_id, labels, modalities in rows
            ],
            class_names,
        )

    return build


@pytest.fixture(scope="session")
def release_1_0():
    """The parsed 1.0 label release (the authors' files)."""
    from vggsounder_hf.io.sources import load_release

    return load_release("1.0")


@pytest.fixture(scope="session")
def truth_1_0(release_1_0):
    """The ground truth of every clip of the 1.0 release."""
    from vggsounder_hf.core.ground_truth import GroundTruth

    return GroundTruth.from_release(release_1_0)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` next to the repository; tests using it skip when it is missing."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is missing (tests read ../shared/data)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def vggsounder_data(shared_data: Path) -> Path:
    """``../shared/data/vggsounder``: the authors' release files."""
    folder = shared_data / "vggsounder"
    if not folder.is_dir():
        pytest.skip(f"{folder} is missing")
    return folder


@pytest.fixture(scope="session")
def prepared_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``datasets`` cache dir in which both label releases are prepared once per session."""
    from vggsounder_hf.hf.builder import VGGSounderBuilder
    from vggsounder_hf.io.sources import LABEL_VERSIONS

    cache_dir = tmp_path_factory.mktemp("hf-cache")
    for version in LABEL_VERSIONS:
        VGGSounderBuilder(config_name=version, cache_dir=str(cache_dir)).download_and_prepare()
    return cache_dir


@pytest.fixture(scope="session")
def prepared_releases(prepared_cache_dir: Path) -> dict:
    """``{version: datasets.Dataset}`` (split ``test``) for every label release."""
    from vggsounder_hf.hf.builder import VGGSounderBuilder
    from vggsounder_hf.io.sources import LABEL_VERSIONS

    releases = {}
    for version in LABEL_VERSIONS:
        builder = VGGSounderBuilder(config_name=version, cache_dir=str(prepared_cache_dir))
        builder.download_and_prepare()
        releases[version] = builder.as_dataset(split="test")
    return releases


def _read_reference(path: Path) -> dict[str, dict]:
    """Independent, straightforward read of an annotation CSV (not using vggsounder_hf).

    Returns ``{video_id: {"pairs": [(label, modality), ...], "meta": (bm, si, vo)}}`` with
    pairs in file order; meta flags as they appear on the clip's first row.
    """
    import csv

    clips: dict[str, dict] = {}
    with open(path, newline="", encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            meta = tuple(
                row[k] == "True" for k in ("background_music", "static_image", "voice_over")
            )
            entry = clips.setdefault(row["video_id"], {"pairs": [], "meta": meta})
            entry["pairs"].append((row["label"], row["modality"]))
    return clips


@pytest.fixture(scope="session")
def reference_clips():
    """Function ``path -> {video_id: {"pairs": [...], "meta": (...)}}`` read with plain csv."""
    return _read_reference


REFERENCE_VALUES = Path(__file__).resolve().parent / "reference_values" / "reference_1.0.json"


@pytest.fixture(scope="session")
def reference_values() -> dict:
    """Numbers recorded from the authors' package (see scripts/reference/README.md)."""
    import json

    return json.loads(REFERENCE_VALUES.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def released_predictions(shared_data, release_1_0, released_models) -> dict:
    """``{model: ModelPredictions}`` of the seven released prediction files (labels 1.0)."""
    import warnings

    from vggsounder_hf.core.predictions import ModelPredictions
    from vggsounder_hf.io.safe_pickle import load_pickle

    models = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for model in released_models:
            path = shared_data / "model-predictions" / f"{model}.pkl"
            models[model] = ModelPredictions.from_mapping(
                load_pickle(path), release_1_0.class_names, source=str(path)
            )
    return models


def _synthetic_module():
    import importlib.util

    path = Path(__file__).resolve().parent / "synthetic_scores.py"
    spec = importlib.util.spec_from_file_location("synthetic_scores_for_tests", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def synthetic_mapping(release_1_0) -> dict:
    """The score model the reference values were recorded for (same recipe and seed): ties,
    clips without scores, clips outside the release."""
    video_ids = [clip.video_id for clip in release_1_0.clips]
    label_sets = [list(clip.labels) for clip in release_1_0.clips]
    return _synthetic_module().make_score_predictions(video_ids, label_sets, 309, seed=0)


@pytest.fixture(scope="session")
def synthetic_predictions(synthetic_mapping, release_1_0):
    """:func:`synthetic_mapping` read as score predictions."""
    from vggsounder_hf.core.predictions import ModelPredictions

    return ModelPredictions.from_mapping(
        synthetic_mapping, release_1_0.class_names, source="synthetic"
    )


@pytest.fixture(autouse=True)
def _isolated_hub_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    """Never read or write a developer's real record of exported Hub datasets."""
    state = tmp_path_factory.mktemp("hub-state") / "hub.json"
    monkeypatch.setenv("VGGSOUNDER_HF_STATE", str(state))


class _ProjectSkipLocation:
    """Report a doctest skipped by ``+SKIP`` at its docstring in the project, not at the line
    of ``_pytest/doctest.py`` that raises the skip, so that ``-rs`` names the module and line.

    Registered as a plugin (not as a conftest hook) so that it also sees the doctests of
    ``src/``, which this conftest's directory does not contain.
    """

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        dtest = getattr(item, "dtest", None)
        if not (report.skipped and dtest is not None and isinstance(report.longrepr, tuple)):
            return
        reason = report.longrepr[2]
        path = Path(dtest.filename or item.path).resolve()
        if path.is_relative_to(REPO_ROOT):
            path = path.relative_to(REPO_ROOT)
        line = (dtest.lineno or 0) + 1  # doctest counts lines from 0
        report.longrepr = (str(path), line, f"{reason}: {dtest.name}")


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("vggsounder-skip-location"):
        config.pluginmanager.register(_ProjectSkipLocation(), "vggsounder-skip-location")
