"""The exported dataset card is complete: Hub metadata read back by huggingface_hub, and the
sections a dataset card needs (what the clips are, how the labels were made, uses and
out-of-scope uses, bias and limitations, personal information), true for VGGSounder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from huggingface_hub import DatasetCard, DatasetCardData

from vggsounder_hf.hf.eval_results import BENCHMARK_FILE, benchmark_yaml, leaderboard_tasks
from vggsounder_hf.hf.hub_export import export_dataset

SECTIONS = (
    "## The clips",
    "## Annotation process",
    "## Configurations",
    "## Fields",
    "## Label statistics",
    "## Evaluate a model",
    "## Uses",
    "### Out-of-scope use",
    "## Bias, risks and limitations",
    "## Personal and sensitive information",
    "## License",
    "## Citation",
)


@pytest.fixture(scope="module")
def exported(tmp_path_factory, prepared_cache_dir) -> Path:
    folder = tmp_path_factory.mktemp("card") / "vggsounder"
    return export_dataset(folder, cache_dir=prepared_cache_dir)


@pytest.fixture(scope="module")
def card(exported) -> DatasetCard:
    return DatasetCard.load(exported / "README.md")


def _section(text: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    body = text.split(f"\n{heading}\n", 1)[1]
    stop = re.search(rf"^#{{1,{len(level)}}} ", body, re.MULTILINE)
    return body[: stop.start()] if stop else body


def test_the_metadata_parses_as_dataset_card_data_with_every_field(card):
    data = card.data
    assert isinstance(data, DatasetCardData)
    assert data.language == ["en"]
    assert data.license == "cc-by-4.0"
    assert data.pretty_name == "VGGSounder"
    assert data.annotations_creators == ["expert-generated"]
    assert data.source_datasets == ["extended|vggsound"]
    assert data.task_categories == ["audio-classification", "video-classification"]
    assert data.task_ids == ["multi-label-classification"]
    assert data.size_categories == ["10K<n<100K"]
    assert {"audio-visual", "multi-label", "benchmark"} <= set(data.tags)


def test_the_metadata_keeps_the_configs_and_dataset_info(card):
    assert {c["config_name"] for c in card.data.configs} == {"1.0", "0.1.6"}
    assert {info["config_name"] for info in card.data.dataset_info} == {"1.0", "0.1.6"}


def test_the_card_links_the_paper_on_arxiv(card):
    assert "https://arxiv.org/abs/2508.08237" in card.text
    assert "VGGSounder: Audio-Visual Evaluations for Foundation Models" in card.text


@pytest.mark.parametrize("heading", SECTIONS)
def test_every_section_exists_once_and_has_content(card, heading):
    assert card.text.count(f"\n{heading}\n") == 1, heading
    assert len(_section(card.text, heading).split()) >= 15, heading


def test_the_clips_section_explains_the_clip_counts_once(card):
    clips = _section(card.text, "## The clips")
    assert "ten-second clip of a YouTube video" in clips
    assert "15,446 clips" in clips  # VGGSound's test set (docs/VGGSOUNDER.md)
    assert "15,069 clips (`1.0`) and 15,339 clips (`0.1.6`)" in clips
    assert "dropped during the re-annotation" in clips
    assert card.text.count("dropped during the re-annotation") == 1
    assert "no audio, video or image" in clips


def test_the_annotation_process_names_modalities_and_meta_labels(card):
    process = _section(card.text, "## Annotation process")
    for term in ("`A` (audible only)", "`V` (visible only)", "`AV` (audible and visible)"):
        assert term in process
    for flag in ("`background_music`", "`static_image`", "`voice_over`"):
        assert flag in process
    assert "several" in process and "309 classes" in process
    assert "described in the paper" in process


def test_uses_say_what_the_benchmark_must_not_be_used_for(card):
    out_of_scope = _section(card.text, "### Out-of-scope use")
    assert "Training or tuning on these labels" in out_of_scope
    assert "real-world safety" in out_of_scope
    assert "test set" in _section(card.text, "## Uses")


def test_bias_and_limitations_cover_source_labels_subset_and_availability(card):
    limits = _section(card.text, "## Bias, risks and limitations")
    for term in ("YouTube", "human judgements", "background music", "disappear"):
        assert term in limits, term


def test_personal_information_names_the_youtube_ids_and_that_no_media_is_shared(card):
    personal = _section(card.text, "## Personal and sensitive information")
    assert "`youtube_id`" in personal
    assert "uploader" in personal
    assert "no media" in personal


def test_one_release_names_only_its_own_clip_count(tmp_path, prepared_cache_dir):
    folder = export_dataset(tmp_path / "one", versions=["0.1.6"], cache_dir=prepared_cache_dir)
    clips = _section(DatasetCard.load(folder / "README.md").text, "## The clips")
    assert "hold 15,339 clips (`0.1.6`). The clips" in clips
    assert "`1.0`" not in clips


def test_the_exported_folder_is_a_hub_benchmark(exported):
    text = (exported / BENCHMARK_FILE).read_text(encoding="utf-8")
    assert text == benchmark_yaml(["1.0", "0.1.6"])
    data = yaml.safe_load(text)
    assert set(data) == {"name", "description", "evaluation_framework", "tasks"}
    assert data["name"] == "VGGSounder"
    assert data["evaluation_framework"] == "vggsounder-hf"
    ids = [task["id"] for task in data["tasks"]]
    assert len(ids) == len(set(ids)) == 2 * 5 * 3
    assert all(set(task) == {"id", "config", "split"} for task in data["tasks"])
    assert {task["config"] for task in data["tasks"]} == {"1.0", "0.1.6"}
    assert {task["split"] for task in data["tasks"]} == {"test"}
    assert [t.id for t in leaderboard_tasks(["1.0", "0.1.6"])] == ids
