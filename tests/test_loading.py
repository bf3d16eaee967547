"""Specification of vggsounder_hf.hf.loading.load_vggsounder: one call, prepared once, cached."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
from pathlib import Path

import datasets
import pytest

import vggsounder_hf
from vggsounder_hf.hf.loading import load_vggsounder


def arrow_files(cache: Path) -> dict[Path, int]:
    return {path: path.stat().st_mtime_ns for path in cache.rglob("vggsounder-test.arrow")}


@pytest.mark.parametrize(("version", "clips"), [("1.0", 15_069), ("0.1.6", 15_339)])
def test_one_call_returns_the_test_split(prepared_cache_dir, version, clips):
    dataset = load_vggsounder(version, cache_dir=prepared_cache_dir)
    assert isinstance(dataset, datasets.Dataset)
    assert dataset.split == "test"
    assert dataset.num_rows == clips


def test_default_version_is_1_0(prepared_cache_dir):
    assert load_vggsounder(cache_dir=prepared_cache_dir).info.config_name == "1.0"


def test_split_none_returns_a_dataset_dict(prepared_cache_dir):
    splits = load_vggsounder("0.1.6", cache_dir=prepared_cache_dir, split=None)
    assert isinstance(splits, datasets.DatasetDict)
    assert list(splits) == ["test"]
    assert splits["test"].num_rows == 15_339


def test_second_call_reuses_the_prepared_cache(tmp_path):
    first = load_vggsounder("1.0", cache_dir=tmp_path)
    written = arrow_files(tmp_path)
    assert len(written) == 1
    second = load_vggsounder("1.0", cache_dir=tmp_path)
    assert arrow_files(tmp_path) == written
    assert second.cache_files == first.cache_files


def test_data_path_overrides_the_authors_files(tmp_path, vggsounder_data):
    shutil.copyfile(vggsounder_data / "classes.csv", tmp_path / "classes.csv")
    (tmp_path / "mine.csv").write_text(
        "video_id,label,modality,background_music,static_image,voice_over\n"
        "abcdefghijk_000000,air horn,A,False,False,True\n"
    )
    dataset = load_vggsounder("1.0", cache_dir=tmp_path / "cache", data_path=tmp_path / "mine.csv")
    assert dataset["video_id"] == ["abcdefghijk_000000"]
    assert dataset.features["labels"].feature.int2str(dataset["labels"][0]) == ["air horn"]


def test_unknown_version_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"choose one of 1\.0, 0\.1\.6"):
        load_vggsounder("9.9", cache_dir=tmp_path)


def test_package_exports_the_loader_and_builder_lazily(tmp_path):
    from vggsounder_hf.hf.builder import VGGSounderBuilder

    assert vggsounder_hf.load_vggsounder is load_vggsounder
    assert vggsounder_hf.VGGSounderBuilder is VGGSounderBuilder
    assert {"load_vggsounder", "VGGSounderBuilder"} <= set(dir(vggsounder_hf))
    with pytest.raises(AttributeError):
        _ = vggsounder_hf.no_such_name
    code = "import sys, vggsounder_hf; print('datasets' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# --------------------------------------------------------------------------- load_dataset kwargs


def test_streaming_gives_an_iterable_dataset_with_the_same_rows(prepared_releases, tmp_path):
    stream = load_vggsounder("1.0", cache_dir=tmp_path, streaming=True)
    assert isinstance(stream, datasets.IterableDataset)
    prepared = prepared_releases["1.0"]
    assert stream.features == prepared.features
    first = list(itertools.islice(stream, 25))
    assert first == prepared.select(range(25)).to_list()
    assert arrow_files(tmp_path) == {}  # streaming prepares nothing


def test_streaming_with_split_none_gives_an_iterable_dataset_dict(tmp_path):
    streams = load_vggsounder("0.1.6", cache_dir=tmp_path, split=None, streaming=True)
    assert isinstance(streams, datasets.IterableDatasetDict)
    assert list(streams) == ["test"]
    assert sum(1 for _ in streams["test"]) == 15_339


def test_num_proc_and_keep_in_memory_pass_through(tmp_path, prepared_releases):
    dataset = load_vggsounder("1.0", cache_dir=tmp_path, num_proc=2, keep_in_memory=True)
    assert dataset.cache_files == []  # in memory
    assert dataset.num_rows == 15_069
    assert dataset[:5] == prepared_releases["1.0"][:5]


def test_download_mode_and_verification_mode_reach_download_and_prepare(tmp_path):
    load_vggsounder("1.0", cache_dir=tmp_path)
    before = arrow_files(tmp_path)
    again = load_vggsounder(
        "1.0",
        cache_dir=tmp_path,
        download_mode="force_redownload",
        verification_mode="all_checks",
    )
    after = arrow_files(tmp_path)
    assert list(after) == list(before)
    assert all(after[path] > before[path] for path in before)  # prepared again
    assert again.num_rows == 15_069


@pytest.mark.parametrize("name", ["revision", "token", "data_files"])
def test_load_dataset_arguments_that_do_not_apply_are_refused_by_name(tmp_path, name):
    with pytest.raises(TypeError, match=rf"does not take {name}="):
        load_vggsounder("1.0", cache_dir=tmp_path, **{name: "x"})


def test_an_unknown_keyword_argument_is_refused_with_the_accepted_ones(tmp_path):
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'stream'; .*streaming"):
        load_vggsounder("1.0", cache_dir=tmp_path, stream=True)
