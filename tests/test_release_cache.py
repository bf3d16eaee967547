"""The on-disk copy of a parsed release: the same table as parsing, and never trusted blindly."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from vggsounder_hf.io import release_cache, sources
from vggsounder_hf.io.annotations import read_class_names, read_clip_table


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder for this test, and no release parsed in this process yet."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(release_cache.CACHE_ENV, str(folder))
    sources.parse_release.cache_clear()
    yield folder
    sources.parse_release.cache_clear()


@pytest.fixture(scope="module")
def parsed():
    """The 1.0 release parsed from its files, without any cache."""
    files = sources.resolve_release_files("1.0")
    return files, read_clip_table(files.annotations, read_class_names(files.classes))


def _columns(table):
    return (
        table.video_ids,
        table.clip_of_row.tolist(),
        table.label_of_row.tolist(),
        table.modality_of_row.tolist(),
        {name: flags.tolist() for name, flags in table.meta.items()},
    )


def _refuse_parsing(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("parsed although a valid cached copy exists")

    monkeypatch.setattr(sources, "read_clip_table", refuse)


def test_the_cached_copy_is_the_parsed_table(cache, parsed, monkeypatch):
    _, table = parsed
    first = sources.load_release("1.0")
    assert _columns(first.clips) == _columns(table)
    assert [path.suffix for path in cache.iterdir()] == [".npz"]
    sources.parse_release.cache_clear()
    _refuse_parsing(monkeypatch)
    second = sources.load_release("1.0")
    assert _columns(second.clips) == _columns(table)
    assert list(second.clips) == list(table)  # the Clip objects too
    assert second.clips.clip_of_row.dtype == np.int64
    assert second.clips.meta["voice_over"].dtype == bool


def test_the_key_depends_on_both_files_and_the_version():
    keys = {
        release_cache.cache_key("1.0", "a" * 64, "b" * 64),
        release_cache.cache_key("1.0", "c" * 64, "b" * 64),
        release_cache.cache_key("1.0", "a" * 64, "c" * 64),
        release_cache.cache_key("0.1.6", "a" * 64, "b" * 64),
    }
    assert len(keys) == 4


def _stored(cache, parsed) -> tuple[str, object]:
    files, table = parsed
    key = release_cache.cache_key(files.version, files.annotations_sha256, files.classes_sha256)
    assert release_cache.store_table(cache, key, table)
    return key, cache / f"release-{key}.npz"


def _rewrite(path, change):
    with np.load(path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    change(arrays)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())


def _drop_meta(arrays):
    arrays.pop("voice_over")


def _extra_array(arrays):
    arrays["extra"] = np.zeros(3)


def _other_key(arrays):
    arrays["key"] = np.array("0" * 40)


def _float_rows(arrays):
    arrays["label_of_row"] = arrays["label_of_row"].astype(float)


def _short_rows(arrays):
    arrays["label_of_row"] = arrays["label_of_row"][:-1]


def _clip_out_of_range(arrays):
    arrays["clip_of_row"] = arrays["clip_of_row"] + 1


def _unsorted_clips(arrays):
    arrays["clip_of_row"] = arrays["clip_of_row"][::-1].copy()


def _short_meta(arrays):
    arrays["static_image"] = arrays["static_image"][:-1]


def _numeric_ids(arrays):
    arrays["video_ids"] = np.arange(len(arrays["video_ids"]))


@pytest.mark.parametrize(
    "change",
    [
        _drop_meta,
        _extra_array,
        _other_key,
        _float_rows,
        _short_rows,
        _clip_out_of_range,
        _unsorted_clips,
        _short_meta,
        _numeric_ids,
    ],
)
def test_an_edited_copy_is_ignored(cache, parsed, change):
    key, path = _stored(cache, parsed)
    _rewrite(path, change)
    assert release_cache.load_table(cache, key) is None


@pytest.mark.parametrize(
    "content",
    [b"", b"not a zip file", b"PK\x03\x04" + b"\x00" * 40],
    ids=["empty", "garbage", "broken zip"],
)
def test_a_broken_copy_is_ignored_and_the_release_parsed_again(cache, parsed, content):
    key, path = _stored(cache, parsed)
    path.write_bytes(content)
    assert release_cache.load_table(cache, key) is None
    release = sources.load_release("1.0")
    assert _columns(release.clips) == _columns(parsed[1])
    assert release_cache.load_table(cache, key) is not None  # written again


def test_a_truncated_copy_is_ignored(cache, parsed):
    key, path = _stored(cache, parsed)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert release_cache.load_table(cache, key) is None


def test_a_copy_with_pickled_objects_is_never_unpickled(cache, parsed):
    key, path = _stored(cache, parsed)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, np.load(path, allow_pickle=False) as stored:
        for name in stored.files:
            array = stored[name].astype(object) if name == "video_ids" else stored[name]
            with archive.open(f"{name}.npy", "w") as member:
                np.lib.format.write_array(member, array, allow_pickle=True)
    path.write_bytes(buffer.getvalue())
    assert release_cache.load_table(cache, key) is None


@pytest.mark.parametrize("off", ["off", "", "0"])
def test_the_cache_can_be_turned_off(tmp_path, monkeypatch, parsed, off):
    monkeypatch.setenv(release_cache.CACHE_ENV, off)
    monkeypatch.chdir(tmp_path)
    assert release_cache.cache_folder() is None
    sources.parse_release.cache_clear()
    try:
        assert _columns(sources.load_release("1.0").clips) == _columns(parsed[1])
    finally:
        sources.parse_release.cache_clear()
    assert list(tmp_path.iterdir()) == []


def test_the_default_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv(release_cache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert release_cache.cache_folder() == tmp_path / "vggsounder-hf"


def test_an_unwritable_folder_is_not_an_error(tmp_path, monkeypatch, parsed):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be")
    monkeypatch.setenv(release_cache.CACHE_ENV, str(blocked / "cache"))
    sources.parse_release.cache_clear()
    try:
        assert _columns(sources.load_release("1.0").clips) == _columns(parsed[1])
    finally:
        sources.parse_release.cache_clear()
    table = parsed[1]
    assert not release_cache.store_table(blocked / "cache", "k" * 40, table)


def test_a_bad_annotation_file_is_never_cached(cache, tmp_path):
    files = sources.resolve_release_files("1.0")
    bad = tmp_path / "vggsounder+background-music.csv"
    text = files.annotations.read_text(encoding="utf-8")
    bad.write_text(text.replace("male speech, man speaking", "no such class", 1), encoding="utf-8")
    broken = sources.ReleaseFiles(
        "1.0", bad, files.classes, "user", sources.file_sha256(bad), files.classes_sha256
    )
    with pytest.raises(Exception, match="no such class"):
        sources.parse_release(broken)
    assert not cache.exists() or list(cache.iterdir()) == []
