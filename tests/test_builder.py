"""Specification of the datasets builder (vggsounder_hf.hf.builder and the root vggsounder.py)."""

from __future__ import annotations

import csv
import importlib.metadata
import importlib.util
import shutil
from pathlib import Path

import datasets
import pytest

from vggsounder_hf.hf.builder import VGGSounderBuilder
from vggsounder_hf.io import authors_wheel, sources
from vggsounder_hf.io.annotations import AnnotationError

REPO_ROOT = Path(__file__).resolve().parents[1]
FULL = {"1.0": "vggsounder+background-music.csv", "0.1.6": "vggsounder+background-music_0.1.6.csv"}
FILTERED = {"1.0": "vggsounder.csv", "0.1.6": "vggsounder_0.1.6.csv"}
HEADER = "video_id,label,modality,background_music,static_image,voice_over\n"


def decoded(dataset: datasets.Dataset) -> dict[str, dict]:
    """Dataset rows in the reference's shape: {video_id: {"pairs": [...], "meta": (...)}}."""
    labels = dataset.features["labels"].feature
    modalities = dataset.features["modalities"].feature
    columns = dataset[:]
    out = {}
    for i, video_id in enumerate(columns["video_id"]):
        pairs = [
            (labels.int2str(lab), modalities.int2str(m))
            for lab, m in zip(columns["labels"][i], columns["modalities"][i], strict=True)
        ]
        meta = tuple(columns[k][i] for k in ("background_music", "static_image", "voice_over"))
        out[video_id] = {"pairs": pairs, "meta": meta}
    return out


def class_names_from_csv(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert [int(row["index"]) for row in rows] == list(range(len(rows)))
    return [row["display_name"] for row in rows]


# --- configs and features ---------------------------------------------------------------------


def test_one_config_per_label_source_with_1_0_as_default():
    # The authors' two releases, then VGGSound's own labels (issue 12).
    names = [config.name for config in VGGSounderBuilder.BUILDER_CONFIGS]
    assert names == ["1.0", "0.1.6", "vggsound"]
    assert VGGSounderBuilder.DEFAULT_CONFIG_NAME == "1.0"
    assert [str(config.version) for config in VGGSounderBuilder.BUILDER_CONFIGS] == [
        "1.0.0",
        "0.1.6",
        "1.0.0",
    ]


@pytest.mark.parametrize("version", ["1.0", "0.1.6"])
def test_features_are_exactly_the_documented_ones(prepared_releases, vggsounder_data, version):
    features = prepared_releases[version].features
    names = class_names_from_csv(vggsounder_data / "classes.csv")
    assert features == datasets.Features(
        {
            "video_id": datasets.Value("string"),
            "youtube_id": datasets.Value("string"),
            "start_seconds": datasets.Value("int32"),
            "labels": datasets.List(datasets.ClassLabel(names=names)),
            "modalities": datasets.List(datasets.ClassLabel(names=["A", "V", "AV"])),
            "background_music": datasets.Value("bool"),
            "static_image": datasets.Value("bool"),
            "voice_over": datasets.Value("bool"),
        }
    )
    assert list(features) == [
        "video_id",
        "youtube_id",
        "start_seconds",
        "labels",
        "modalities",
        "background_music",
        "static_image",
        "voice_over",
    ]
    assert features["labels"].feature.names == names
    assert len(names) == 309


def test_dataset_info_describes_cites_and_licenses(prepared_releases):
    info = prepared_releases["1.0"].info
    assert info.homepage == "https://vggsounder.github.io/"
    assert "CC BY 4.0" in info.license
    assert "VGGSounder" in info.citation and "ICCV" in info.citation
    assert "VGGSound:" in info.citation.replace("{", "").replace("}", "")
    assert "ICASSP" in info.citation
    assert "multi-label" in info.description
    assert info.config_name == "1.0"
    assert info.splits["test"].num_examples == 15_069


# --- rows -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "clips"), [("1.0", 15_069), ("0.1.6", 15_339)])
def test_one_row_per_clip_of_the_full_release_in_split_test(prepared_releases, version, clips):
    dataset = prepared_releases[version]
    assert dataset.split == "test"
    assert dataset.num_rows == clips
    assert len(set(dataset["video_id"])) == clips


@pytest.mark.parametrize("version", ["1.0", "0.1.6"])
def test_every_clip_has_the_csv_pairs_and_meta_flags(
    prepared_releases, vggsounder_data, reference_clips, version
):
    reference = reference_clips(vggsounder_data / FULL[version])
    got = decoded(prepared_releases[version])
    assert list(got) == list(reference)  # same clips, in order of first appearance
    assert got == reference


@pytest.mark.parametrize("version", ["1.0", "0.1.6"])
def test_youtube_id_and_start_seconds_split_the_video_id(prepared_releases, version):
    dataset = prepared_releases[version]
    for video_id, youtube_id, start in zip(
        dataset["video_id"], dataset["youtube_id"], dataset["start_seconds"], strict=True
    ):
        head, _, tail = video_id.rpartition("_")
        assert (youtube_id, start) == (head, int(tail))
        assert len(tail) == 6


@pytest.mark.parametrize("version", ["1.0", "0.1.6"])
def test_clips_without_background_music_are_exactly_the_authors_filtered_file(
    prepared_releases, vggsounder_data, reference_clips, version
):
    without = prepared_releases[version].filter(
        lambda music: not music, input_columns="background_music"
    )
    assert decoded(without) == reference_clips(vggsounder_data / FILTERED[version])


# --- sources through the builder --------------------------------------------------------------


def test_default_source_is_the_authors_wheel(prepared_cache_dir):
    builder = VGGSounderBuilder(cache_dir=str(prepared_cache_dir))
    assert builder.config.name == "1.0"
    assert builder.release_files.source == "wheel"


def test_user_directory_overrides_and_cache_follows_its_content(tmp_path, vggsounder_data):
    data = tmp_path / "labels"
    data.mkdir()
    shutil.copyfile(vggsounder_data / "classes.csv", data / "classes.csv")
    annotations = data / "vggsounder+background-music_0.1.6.csv"
    annotations.write_text(
        HEADER + "abc-_defghi_000030,air horn,AV,False,True,False\n"
        'abc-_defghi_000030,"bird chirping, tweeting",A,False,True,False\n'
    )
    cache = str(tmp_path / "cache")

    def load():
        builder = VGGSounderBuilder(config_name="0.1.6", cache_dir=cache, data_path=str(data))
        builder.download_and_prepare()
        return builder, builder.as_dataset(split="test")

    builder, dataset = load()
    assert builder.release_files.source == "user"
    assert dataset.to_list() == [
        {
            "video_id": "abc-_defghi_000030",
            "youtube_id": "abc-_defghi",
            "start_seconds": 30,
            "labels": [308, 2],
            "modalities": [2, 0],
            "background_music": False,
            "static_image": True,
            "voice_over": False,
        }
    ]
    annotations.write_text(HEADER + "zzz_000001,air horn,V,True,False,True\n")
    _, changed = load()
    assert changed["video_id"] == ["zzz_000001"]
    assert changed["modalities"] == [[1]]


def test_data_dir_is_accepted_as_the_override_too(tmp_path, vggsounder_data):
    shutil.copyfile(vggsounder_data / "classes.csv", tmp_path / "classes.csv")
    (tmp_path / "vggsounder+background-music.csv").write_text(
        HEADER + "abc_000001,air horn,V,True,False,True\n"
    )
    builder = VGGSounderBuilder(cache_dir=str(tmp_path / "cache"), data_dir=str(tmp_path))
    builder.download_and_prepare()
    assert builder.as_dataset(split="test")["video_id"] == ["abc_000001"]


def test_bad_annotation_file_surfaces_as_annotation_error(tmp_path, vggsounder_data):
    shutil.copyfile(vggsounder_data / "classes.csv", tmp_path / "classes.csv")
    bad = tmp_path / "vggsounder+background-music.csv"
    bad.write_text(
        HEADER + "abc_000001,air horn,V,True,False,True\nabc_1,air horn,V,True,False,True\n"
    )
    builder = VGGSounderBuilder(cache_dir=str(tmp_path / "cache"), data_path=str(tmp_path))
    with pytest.raises(AnnotationError) as excinfo:
        builder.download_and_prepare()
    assert str(excinfo.value).startswith(f"{bad}, line 3: malformed video_id 'abc_1'")


def test_fallback_download_when_the_wheel_is_absent(monkeypatch, tmp_path, vggsounder_data):
    real = importlib.metadata.distribution

    def distribution(name):
        if name == "vggsounder":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    requested = []

    class FakeDownloadManager:
        def download(self, urls):
            requested.append(urls)
            return {name: str(vggsounder_data / name) for name in urls}

    made_for = []

    def make_download_manager(cache_dir=None):
        made_for.append(cache_dir)
        return FakeDownloadManager()

    monkeypatch.setattr(importlib.metadata, "distribution", distribution)
    monkeypatch.setattr(authors_wheel, "_dist_info_file", lambda name: authors_wheel._UNKNOWN)
    monkeypatch.setattr(sources, "make_download_manager", make_download_manager)
    cache = tmp_path / "cache"
    builder = VGGSounderBuilder(config_name="0.1.6", cache_dir=str(cache))
    builder.download_and_prepare()
    assert builder.release_files.source == "download"
    assert made_for == [str(cache / "downloads")]
    assert all(
        url.startswith("https://raw.githubusercontent.com/") for url in requested[0].values()
    )
    assert builder.as_dataset(split="test").num_rows == 15_339


def test_unknown_config_is_refused():
    with pytest.raises(ValueError, match=r"unknown VGGSounder label version '2\.0'"):
        VGGSounderBuilder(config_name="2.0")


# --- the root builder file --------------------------------------------------------------------


def test_root_builder_file_re_exports_the_package_builder():
    path = REPO_ROOT / "vggsounder.py"
    spec = importlib.util.spec_from_file_location("vggsounder_builder_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.VGGSounderBuilder is VGGSounderBuilder
    assert module.VGGSounder is VGGSounderBuilder
    assert module.__doc__ and "datasets" in module.__doc__


# --- VGGSound's own labels --------------------------------------------------------------------


@pytest.fixture(scope="module")
def vggsound_data(shared_data):
    folder = shared_data / "vggsound"
    if not folder.is_dir():
        pytest.skip(f"{folder} is missing")
    return folder


def test_vggsound_config_has_one_av_label_per_clip_and_no_meta_label(
    tmp_path, vggsound_data, vggsounder_data
):
    builder = VGGSounderBuilder(
        config_name="vggsound",
        cache_dir=str(tmp_path / "cache"),
        data_path=str(vggsound_data / "vggsound_test_labels.csv"),
    )
    builder.download_and_prepare()
    dataset = builder.as_dataset(split="test")
    assert builder.release_files.source == "user"
    assert builder.release_files.content_sha256 == sources.vggsound.VGGSOUND_TEST_SHA256
    assert dataset.num_rows == 15_446
    assert dataset.features["labels"].feature.names == class_names_from_csv(
        vggsounder_data / "classes.csv"
    )
    with open(vggsound_data / "vggsound_test_labels.csv", newline="", encoding="utf-8") as stream:
        expected = {name.removesuffix(".mp4"): label for name, label in csv.reader(stream)}
    rows = decoded(dataset)
    assert {video_id: row["pairs"] for video_id, row in rows.items()} == {
        video_id: [(label, "AV")] for video_id, label in expected.items()
    }
    assert {row["meta"] for row in rows.values()} == {(False, False, False)}
    assert "VGGSound's original test labels" in dataset.info.description


def test_vggsound_config_folder_and_both_shared_formats_give_the_same_rows(tmp_path, vggsound_data):
    def rows(data_path):
        builder = VGGSounderBuilder(
            config_name="vggsound", cache_dir=str(tmp_path / "cache"), data_path=str(data_path)
        )
        builder.download_and_prepare()
        return decoded(builder.as_dataset(split="test"))

    from_folder = rows(vggsound_data)  # the VGGSounder-format file comes first in a folder
    assert from_folder == rows(vggsound_data / "vggsound_test_labels.csv")
    assert len(from_folder) == 15_446


def test_vggsound_config_without_a_copy_names_the_download_and_the_way_out(monkeypatch, tmp_path):
    class Offline:
        def download(self, urls):
            raise ConnectionError("no network")

    monkeypatch.setattr(sources, "make_download_manager", lambda cache_dir=None: Offline())
    with pytest.raises(sources.VGGSoundDownloadError, match=r"vggsound\.csv failed .*data_path"):
        VGGSounderBuilder(config_name="vggsound", cache_dir=str(tmp_path / "cache"))
