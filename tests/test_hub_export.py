"""Specification of the Hub dataset export (vggsounder_hf.hf.hub_export, `vggsounder-hub export`).

The exported folder must load with plain `datasets` 5.x, offline, without any loading script,
and give exactly the builder's rows and features; its card must carry the label statistics
(checked against an independent count of the authors' CSVs).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import datasets
import huggingface_hub.constants
import pytest
from huggingface_hub import DatasetCard

from vggsounder_hf.cli.hub import main
from vggsounder_hf.hf import hub_export
from vggsounder_hf.hf.hub_export import card_template, export_dataset

REPO_ROOT = Path(__file__).resolve().parents[1]
FILES = {"1.0": "vggsounder+background-music.csv", "0.1.6": "vggsounder+background-music_0.1.6.csv"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory, prepared_cache_dir) -> Path:
    folder = tmp_path_factory.mktemp("export") / "vggsounder"
    return export_dataset(folder, cache_dir=prepared_cache_dir)


@pytest.fixture
def offline(monkeypatch, no_network):
    """HF offline mode, and any attempt to open a network connection fails the test."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def class_names(vggsounder_data: Path) -> list[str]:
    with open(vggsounder_data / "classes.csv", newline="", encoding="utf-8") as stream:
        return [row["display_name"] for row in csv.DictReader(stream)]


def card_data(folder: Path):
    return DatasetCard.load(folder / "README.md").data


# --------------------------------------------------------------------------- loading


def test_the_card_template_exists_once_inside_the_package():
    shipped = REPO_ROOT / "src" / "vggsounder_hf" / "hf" / "templates" / hub_export.TEMPLATE_NAME
    assert card_template() == shipped.read_text(encoding="utf-8")
    copies = [p for p in REPO_ROOT.rglob(hub_export.TEMPLATE_NAME) if ".venv" not in p.parts]
    assert copies == [shipped], f"the card template must exist once; found {copies}"
    assert (
        "hf/templates/dataset_card.md.tmpl"
        in (REPO_ROOT / "dataset_card" / "README.md").read_text()
    )


def test_folder_holds_one_parquet_file_per_config_the_card_and_eval_yaml(exported):
    files = sorted(p.relative_to(exported).as_posix() for p in exported.rglob("*") if p.is_file())
    assert files == [
        "0.1.6/test-00000-of-00001.parquet",
        "1.0/test-00000-of-00001.parquet",
        "README.md",
        "eval.yaml",
    ]


@pytest.mark.parametrize("config", [None, "1.0", "0.1.6"])
def test_load_dataset_offline_gives_the_builder_rows_and_features(
    exported, prepared_releases, offline, tmp_path, config
):
    loaded = datasets.load_dataset(str(exported), config, split="test", cache_dir=str(tmp_path))
    built = prepared_releases[config or "1.0"]
    assert loaded.features == built.features
    assert loaded.num_rows == built.num_rows
    assert loaded.to_list() == built.to_list()


def test_config_names_and_default_are_discovered_offline(exported, offline):
    assert sorted(datasets.get_dataset_config_names(str(exported))) == ["0.1.6", "1.0"]
    builder = datasets.load_dataset_builder(str(exported))
    assert builder.config.name == "1.0"


# --------------------------------------------------------------------------- card YAML


def test_yaml_declares_both_configs_with_their_data_files_and_default(exported):
    configs = {entry["config_name"]: entry for entry in card_data(exported)["configs"]}
    assert set(configs) == {"1.0", "0.1.6"}
    assert configs["1.0"]["data_files"] == [{"split": "test", "path": "1.0/test-*"}]
    assert configs["0.1.6"]["data_files"] == [{"split": "test", "path": "0.1.6/test-*"}]
    assert configs["1.0"].get("default") is True
    assert "default" not in configs["0.1.6"]


def test_yaml_dataset_info_has_class_label_names_splits_and_sizes(
    exported, vggsounder_data, reference_clips
):
    infos = {entry["config_name"]: entry for entry in card_data(exported)["dataset_info"]}
    names = class_names(vggsounder_data)
    assert len(names) == 309
    for version, file_name in FILES.items():
        info = infos[version]
        features = {feature["name"]: feature for feature in info["features"]}
        labels = features["labels"]["list"]["class_label"]["names"]
        assert [labels[str(i)] for i in range(len(names))] == names
        modalities = features["modalities"]["list"]["class_label"]["names"]
        assert [modalities[str(i)] for i in range(3)] == ["A", "V", "AV"]
        assert [split["name"] for split in info["splits"]] == ["test"]
        clips = len(reference_clips(vggsounder_data / file_name))
        assert info["splits"][0]["num_examples"] == clips
        parquet = exported / version / "test-00000-of-00001.parquet"
        assert info["download_size"] == parquet.stat().st_size
        assert info["dataset_size"] == info["splits"][0]["num_bytes"] > 0


def test_yaml_round_trips_through_datasets_own_parser(exported):
    from datasets.info import DatasetInfosDict

    infos = DatasetInfosDict.from_dataset_card_data(card_data(exported))
    assert infos["0.1.6"].splits["test"].num_examples == 15_339
    assert infos["1.0"].splits["test"].num_examples == 15_069
    assert infos["1.0"].features["labels"].feature.names[0] == "ambulance siren"


def test_card_metadata_names_license_and_tasks(exported):
    data = card_data(exported)
    assert data["license"] == "cc-by-4.0"
    assert data["pretty_name"] == "VGGSounder"
    assert "audio-classification" in data["task_categories"]
    assert data["source_datasets"] == ["extended|vggsound"]
    assert data["task_ids"] == ["multi-label-classification"]


def test_card_metadata_is_not_shared_between_exports(tmp_path, prepared_cache_dir):
    """The metadata table is copied per card: one export cannot change the next one's."""
    first = export_dataset(tmp_path / "a", versions=["1.0"], cache_dir=prepared_cache_dir)
    assert hub_export.CARD_METADATA["tags"] == card_data(first)["tags"]
    assert "config_name" not in str(hub_export.CARD_METADATA)


# --------------------------------------------------------------------------- card body


def _fmt_share(part: int, whole: int) -> str:
    return f"{part:,} ({100 * part / whole:.1f}%)"


def test_card_statistics_equal_an_independent_count_of_the_csvs(
    exported, vggsounder_data, reference_clips
):
    text = (exported / "README.md").read_text(encoding="utf-8")
    per_version = {v: reference_clips(vggsounder_data / f) for v, f in FILES.items()}
    # Numbers documented in docs/VGGSOUNDER.md, not computed by the code under test.
    assert [len(per_version[v]) for v in ("1.0", "0.1.6")] == [15_069, 15_339]

    def row(label: str, cells: list[str]) -> str:
        return "| " + " | ".join([label, *cells]) + " |"

    order = ("1.0", "0.1.6")
    clips = {v: per_version[v] for v in order}
    n_clips = {v: len(clips[v]) for v in order}
    n_labels = {v: sum(len(c["pairs"]) for c in clips[v].values()) for v in order}
    assert [n_labels[v] for v in order] == [37_395, 41_173]
    assert row("clips", [f"{n_clips[v]:,}" for v in order]) in text
    assert row("labels (clip, class pairs)", [f"{n_labels[v]:,}" for v in order]) in text
    no_music = {v: sum(not c["meta"][0] for c in clips[v].values()) for v in order}
    assert no_music["1.0"] == 12_014  # docs/VGGSOUNDER.md
    assert (
        row(
            "clips without background music (the default benchmark set)",
            [_fmt_share(no_music[v], n_clips[v]) for v in order],
        )
        in text
    )
    means = [f"{n_labels[v] / n_clips[v]:.2f}" for v in order]
    assert row("labels per clip: mean", means) in text
    meaning = {"A": "audible only", "V": "visible only", "AV": "audible and visible"}
    for modality in ("A", "V", "AV"):
        counts = {
            v: sum(m == modality for c in clips[v].values() for _, m in c["pairs"]) for v in order
        }
        label = f"labels with modality `{modality}` ({meaning[modality]})"
        assert row(label, [_fmt_share(counts[v], n_labels[v]) for v in order]) in text
    for i, flag in enumerate(("background_music", "static_image", "voice_over")):
        counts = {v: sum(c["meta"][i] for c in clips[v].values()) for v in order}
        assert row(f"clips with `{flag}`", [_fmt_share(counts[v], n_clips[v]) for v in order]) in (
            text
        )
    none = {v: sum(not any(c["meta"]) for c in clips[v].values()) for v in order}
    label = "clips with none of the three meta labels"
    assert row(label, [_fmt_share(none[v], n_clips[v]) for v in order]) in text


def test_card_lists_the_most_frequent_classes_with_their_modalities(
    exported, vggsounder_data, reference_clips
):
    text = (exported / "README.md").read_text(encoding="utf-8")
    for version, file_name in FILES.items():
        clips = reference_clips(vggsounder_data / file_name)
        per_class = Counter(label for c in clips.values() for label, _ in c["pairs"])
        per_modality = Counter(pair for c in clips.values() for pair in c["pairs"])
        section = text.split(f"Most frequent classes in `{version}`", 1)[1].split("\n\n", 2)[1]
        lines = section.splitlines()[2:]
        assert len(lines) == 10
        shown = [line.strip("| ").split(" | ") for line in lines]
        counts = [int(cells[2].split(" ")[0].replace(",", "")) for cells in shown]
        top_counts = sorted(per_class.values(), reverse=True)[:10]
        assert counts == top_counts
        for rank, cells in enumerate(shown, start=1):
            name = cells[1]
            assert cells[0] == str(rank)
            assert cells[2] == _fmt_share(per_class[name], len(clips))
            assert cells[3:] == [f"{per_modality[name, m]:,}" for m in ("A", "V", "AV")]


def test_card_shows_the_first_row_decoded(exported, vggsounder_data, reference_clips):
    text = (exported / "README.md").read_text(encoding="utf-8")
    clips = reference_clips(vggsounder_data / FILES["1.0"])
    video_id, first = next(iter(clips.items()))
    assert f"'video_id': {video_id!r}," in text
    assert f"'labels': {[label for label, _ in first['pairs']]!r}," in text
    assert f"'modalities': {[m for _, m in first['pairs']]!r}," in text


def test_card_explains_every_field(exported, prepared_releases):
    text = (exported / "README.md").read_text(encoding="utf-8")
    fields = text.split("## Fields", 1)[1].split("\n## ", 1)[0]
    for name in prepared_releases["1.0"].column_names:
        assert re.search(rf"^\| `{name}` \| .+ \| .+ \|$", fields, re.MULTILINE), name


def test_card_shows_how_to_evaluate_in_a_short_self_contained_snippet(exported):
    text = (exported / "README.md").read_text(encoding="utf-8")
    block = text.split("## Evaluate a model", 1)[1].split("```python\n", 1)[1].split("```")[0]
    lines = [line for line in block.strip().splitlines() if line.strip()]
    assert len(lines) <= 12
    assert "predictions = [" in block  # the snippet defines what it scores
    assert 'evaluate.load("vggsounder-hf/vggsounder", "labels")' in block
    assert "metric.compute(predictions=predictions, references=references)" in block
    assert 'load_dataset("vggsounder-hf/vggsounder", "1.0", split="test")' in block


def test_card_cites_both_papers_and_states_the_license(exported):
    text = (exported / "README.md").read_text(encoding="utf-8")
    assert "@inproceedings{zverev2025vggsounder," in text
    assert "Zverev, Daniil and Wiedemer" in text
    assert "@inproceedings{chen2020vggsound," in text
    assert "ICASSP" in text
    assert "CC BY 4.0" in text
    assert "not part of this dataset" in text


def test_card_names_the_repositories_it_is_exported_for(tmp_path, prepared_cache_dir):
    folder = export_dataset(
        tmp_path / "out",
        versions=["1.0"],
        cache_dir=prepared_cache_dir,
        repo_id="me/vgg-labels",
        metric_id="me/vgg-metric",
    )
    text = (folder / "README.md").read_text(encoding="utf-8")
    assert 'load_dataset("me/vgg-labels", "1.0", split="test")' in text
    assert 'evaluate.load("me/vgg-metric", "labels")' in text
    assert "vggsounder-hf/vggsounder" not in text


# --------------------------------------------------------------------------- options, safety


def test_one_version_exports_a_single_default_config(tmp_path, prepared_cache_dir, offline):
    folder = export_dataset(tmp_path / "only", versions=["0.1.6"], cache_dir=prepared_cache_dir)
    assert [p.name for p in folder.iterdir() if p.is_dir()] == ["0.1.6"]
    configs = card_data(folder)["configs"]
    assert [c["config_name"] for c in configs] == ["0.1.6"]
    loaded = datasets.load_dataset(str(folder), split="test", cache_dir=str(tmp_path / "c"))
    assert loaded.num_rows == 15_339


def test_unknown_version_is_refused_before_writing(tmp_path):
    with pytest.raises(ValueError, match=r"unknown VGGSounder label version.*'2\.0'"):
        export_dataset(tmp_path / "out", versions=["1.0", "2.0"])
    assert list(tmp_path.iterdir()) == []


def test_re_export_replaces_an_earlier_export_and_leaves_no_temporary_folder(
    tmp_path, prepared_cache_dir
):
    target = tmp_path / "out"
    export_dataset(target, versions=["1.0", "0.1.6"], cache_dir=prepared_cache_dir)
    export_dataset(target, versions=["1.0"], cache_dir=prepared_cache_dir)
    assert sorted(p.name for p in target.iterdir()) == ["1.0", "README.md", "eval.yaml"]
    assert "config: 0.1.6" not in (target / "eval.yaml").read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_folder_with_other_files_is_never_replaced(tmp_path, prepared_cache_dir):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match=r"refusing to replace .*notes\.txt"):
        export_dataset(target, versions=["1.0"], cache_dir=prepared_cache_dir)
    assert (target / "notes.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]


def test_failed_export_leaves_the_previous_export_untouched(
    tmp_path, prepared_cache_dir, monkeypatch
):
    target = export_dataset(tmp_path / "out", versions=["1.0"], cache_dir=prepared_cache_dir)
    before = (target / "README.md").read_text(encoding="utf-8")

    def broken(*args, **kwargs):
        raise RuntimeError("template exploded")

    monkeypatch.setattr(hub_export, "render_card", broken)
    with pytest.raises(RuntimeError, match="template exploded"):
        export_dataset(target, versions=["0.1.6"], cache_dir=prepared_cache_dir)
    assert (target / "README.md").read_text(encoding="utf-8") == before
    assert sorted(p.name for p in target.iterdir()) == ["1.0", "README.md", "eval.yaml"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


# --------------------------------------------------------------------------- command line


def test_cli_export_writes_the_folder_quietly(tmp_path, prepared_cache_dir, capsys):
    code = main(
        [
            "export",
            str(tmp_path / "out"),
            "--versions",
            "1.0",
            "--cache-dir",
            str(prepared_cache_dir),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert err == ""
    assert f"wrote {tmp_path / 'out'}" in out
    assert (tmp_path / "out" / "1.0" / "test-00000-of-00001.parquet").is_file()


def test_cli_export_error_is_one_line_with_exit_code_2(tmp_path, capsys):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x.bin").write_bytes(b"x")
    code = main(["export", str(tmp_path / "busy"), "--versions", "1.0"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("vggsounder-hub: error: refusing to replace")
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_export_script_runs_the_same_command(tmp_path, prepared_cache_dir):
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "scripts" / "export_hub.py"),
            "export",
            str(tmp_path / "out"),
            "--versions",
            "0.1.6",
            "--cache-dir",
            str(prepared_cache_dir),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "0.1.6" / "test-00000-of-00001.parquet").is_file()


# --------------------------------------------------------------------------- user files

USER_CLASSES = (
    'index,mid,display_name\n0,/m/a,dog barking\n1,/m/b,"cat, purring"\n2,/m/c,car passing by\n'
)
USER_ANNOTATIONS = """\
video_id,label,modality,background_music,static_image,voice_over
aaa_000010,dog barking,A,False,False,False
bbb-x_y_000020,"cat, purring",AV,True,False,True
aaa_000010,car passing by,V,False,False,False
ccc_000000,dog barking,AV,False,True,False
bbb-x_y_000020,dog barking,A,True,False,True
"""


def test_user_annotation_files_are_exported_with_statistics_counted_by_hand(tmp_path, offline):
    data = tmp_path / "labels"
    data.mkdir()
    (data / "classes.csv").write_text(USER_CLASSES, encoding="utf-8")
    (data / "vggsounder+background-music.csv").write_text(USER_ANNOTATIONS, encoding="utf-8")
    folder = export_dataset(
        tmp_path / "out", versions=["1.0"], cache_dir=tmp_path / "cache", data_path=data
    )
    loaded = datasets.load_dataset(str(folder), split="test", cache_dir=str(tmp_path / "c2"))
    assert loaded.features["labels"].feature.names == [
        "dog barking",
        "cat, purring",
        "car passing by",
    ]
    assert loaded["video_id"] == ["aaa_000010", "bbb-x_y_000020", "ccc_000000"]
    assert loaded[1]["youtube_id"] == "bbb-x_y"

    text = (folder / "README.md").read_text(encoding="utf-8")
    expected_rows = [
        "| `1.0` | `vggsounder+background-music.csv` | 3 | yes |",
        "| clips | 3 |",
        "| clips without background music (the default benchmark set) | 2 (66.7%) |",
        "| labels (clip, class pairs) | 5 |",
        "| labels per clip: mean | 1.67 |",
        "| labels per clip: median / max | 2 / 2 |",
        "| labels with modality `A` (audible only) | 2 (40.0%) |",
        "| labels with modality `V` (visible only) | 1 (20.0%) |",
        "| labels with modality `AV` (audible and visible) | 2 (40.0%) |",
        "| clips with `background_music` | 1 (33.3%) |",
        "| clips with `static_image` | 1 (33.3%) |",
        "| clips with `voice_over` | 1 (33.3%) |",
        "| clips with none of the three meta labels | 1 (33.3%) |",
        "| 1 | dog barking | 3 (100.0%) | 2 | 0 | 1 |",
        "| 2 | cat, purring | 1 (33.3%) | 0 | 0 | 1 |",
        "| 3 | car passing by | 1 (33.3%) | 0 | 1 | 0 |",
        "| `labels` | list of ClassLabel (3 names) | the clip's classes, VGGSound's class list in "
        "its `classes.csv` order |",
    ]
    for line in expected_rows:
        assert line in text.splitlines(), line
    assert "    'labels': [0, 2],\n    'modalities': [0, 1]," in text
    assert "    'labels': ['dog barking', 'car passing by'],\n    'modalities': ['A', 'V']," in text
