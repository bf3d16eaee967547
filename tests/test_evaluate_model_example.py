"""scripts/evaluate_model_example.py closes the loop on generated clips (load with media, run a
baseline on a, v and av, write, score, print the table, a dry-run model card), and every
Python block of docs/evaluate.md runs as written."""

from __future__ import annotations

import importlib.util
import re
import warnings
from pathlib import Path

import datasets
import pytest

from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.hf.loading import load_vggsounder
from vggsounder_hf.hf.media import media_ground_truth
from vggsounder_hf.io.readers import read_predictions

pytest.importorskip("av")

REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPT = REPO_ROOT / "scripts" / "evaluate_model_example.py"
DOC = REPO_ROOT / "docs" / "evaluate.md"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = _load("evaluate_model_example", SCRIPT)
clips = _load("media_clips_for_example_tests", Path(__file__).resolve().parent / "media_clips.py")


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory, release_1_0) -> tuple[Path, list[str]]:
    """Six clips of the default set (one only audio) and two with background music."""
    folder = tmp_path_factory.mktemp("example-clips")
    quiet = clips.pick_ids(release_1_0, 6, background_music=False)
    music = clips.pick_ids(release_1_0, 2, background_music=True)
    for number, video_id in enumerate(quiet[:5] + music):
        clips.write_video(
            folder / f"{video_id}.mp4",
            300.0 + 40 * number,
            clips.COLORS[number % len(clips.COLORS)],
        )
    clips.write_audio(folder / "audio" / f"{quiet[5]}.flac", 500.0)
    return folder, quiet + music


def run(capsys, *argv: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. a column without clips on so few clips
        assert example.main([str(arg) for arg in argv]) == 0
    return capsys.readouterr().out


def test_the_example_scores_the_clips_with_media_and_prints_table_and_card(
    clip_folder, prepared_cache_dir, tmp_path, capsys
):
    folder, video_ids = clip_folder
    output = tmp_path / "predictions.parquet"
    out = run(
        capsys,
        "--media",
        folder,
        "--output",
        output,
        "--cache-dir",
        prepared_cache_dir,
        "--dry-run",
    )
    assert "8 of 15069 clips have media (8 with audio, 7 with video)" in out
    assert "The numbers cover 6 of the 12014 clips of clip set 'default' (those with media)" in out
    assert re.search(r"^prior-scores-baseline +\d", out, re.MULTILINE)
    assert "clip set no_background_music+with_media (6 clips)" in out
    assert "model-index:" in out and "name: prior-scores-baseline" in out
    assert "clip_set: no_background_music+with_media" in out

    predictions = read_predictions(
        output,
        load_vggsounder("1.0", cache_dir=prepared_cache_dir).features["labels"].feature.names,
    )
    assert predictions.kind == "scores"
    assert sorted(predictions["a"].video_ids) == sorted(video_ids)  # every clip with audio
    assert len(predictions["v"].video_ids) == len(predictions["av"].video_ids) == 7


def test_free_text_is_scored_only_when_matched_and_the_strategy_is_said(
    clip_folder, prepared_cache_dir, tmp_path, capsys
):
    folder, _ = clip_folder
    common = ["--media", folder, "--model", "text", "--cache-dir", prepared_cache_dir]
    exact = run(capsys, *common, "--output", tmp_path / "exact.jsonl", "--dry-run")
    assert "label matching 'exact': 0 of 22 texts matched a class; 1 did not:" in exact
    assert "'MALE SPEECH, MAN SPEAKING': did you mean 'male speech, man speaking'" in exact
    normalized = run(
        capsys,
        *common,
        "--output",
        tmp_path / "normalized.pkl",
        "--label-matching",
        "normalized",
        "--dry-run",
    )
    assert "label matching 'normalized': 22 of 22 texts matched a class" in normalized

    dataset = load_vggsounder("1.0", cache_dir=prepared_cache_dir, media=folder)
    truth = media_ground_truth(dataset)
    clip_set = {"background_music": False, "with_media": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unmatched = read_predictions(tmp_path / "exact.jsonl", truth.class_names)
        matched = read_predictions(tmp_path / "normalized.pkl", truth.class_names)
        assert evaluate_predictions(truth, unmatched, clip_set=clip_set)["a/hit"] == 0.0
        assert evaluate_predictions(truth, matched, clip_set=clip_set)["a/hit"] > 0.0


def test_demo_clips_are_written_and_decode(tmp_path, release_1_0):
    from vggsounder_hf.hf.media import decode_audio, decode_video
    from vggsounder_hf.io.media_decoding import write_demo_clips

    ids = clips.pick_ids(release_1_0, 2)
    written = write_demo_clips(tmp_path / "demo", ids)
    assert [path.stem for path in written] == ids
    samples, rate = decode_audio(written[1])
    assert (rate, samples.shape) == (16_000, (1, 16_000))
    assert decode_video(written[1]).shape == (8, 32, 32, 3)


def test_the_example_writes_demo_clips_itself(prepared_cache_dir, tmp_path, capsys):
    out = run(
        capsys,
        "--media",
        tmp_path / "demo",
        "--demo-clips",
        "4",
        "--output",
        tmp_path / "p.parquet",
        "--cache-dir",
        prepared_cache_dir,
    )
    assert len(list((tmp_path / "demo").glob("*.mp4"))) == 4
    assert "4 of 15069 clips have media" in out and "model-index:" in out


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def test_every_python_block_of_the_evaluate_page_runs(
    release_1_0, prepared_cache_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    # The page loads with the default cache: here, the one prepared for the session.
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", prepared_cache_dir)
    monkeypatch.setattr(
        datasets.config,
        "DOWNLOADED_DATASETS_PATH",
        prepared_cache_dir / datasets.config.DOWNLOADED_DATASETS_DIR,
    )
    blocks = python_blocks(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 9
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for number, block in enumerate(blocks, start=1):
            exec(compile(block, f"docs/evaluate.md block {number}", "exec"), namespace)
    demo = release_1_0.clips[::1900]
    quiet = sum(not clip.background_music for clip in demo)
    out = capsys.readouterr().out
    assert (
        f"{len(demo)} of 15069 clips have media" in out and f"{len(demo)} clips have media" in out
    )
    assert f"{quiet} of 12014 clips of the default set" in out
    assert "model-index:" in out
    assert (tmp_path / "predictions.parquet").is_file()
    assert namespace["report"].unmatched == ("a loud guitar",)
    assert namespace["matched"][:2] == [
        namespace["class_names"].index("dog barking"),
        namespace["class_names"].index("male speech, man speaking"),
    ]
