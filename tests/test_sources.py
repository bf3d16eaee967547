"""Specification of vggsounder_hf.io.sources: where the labels come from, pinned by sha256."""

from __future__ import annotations

import hashlib
import importlib.metadata
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vggsounder_hf.io import authors_wheel, sources
from vggsounder_hf.io.annotations import AnnotationError
from vggsounder_hf.io.sources import (
    DEFAULT_LABEL_VERSION,
    LABEL_VERSIONS,
    RELEASES,
    ChecksumError,
    DownloadError,
    load_release,
    resolve_release_files,
)

COMMIT = "b54eb3abc2450d39e4bf9b37ad05f0aa1e0f44f2"
RAW = f"https://raw.githubusercontent.com/Bizilizi/VGGSounder/{COMMIT}/vggsounder/data/"
FILES = {
    "1.0": ("vggsounder+background-music.csv", "vggsounder.csv"),
    "0.1.6": ("vggsounder+background-music_0.1.6.csv", "vggsounder_0.1.6.csv"),
}


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class FakeDistribution:
    """Stands in for the authors' installed wheel, rooted at ``root``."""

    def __init__(self, root: Path, names: list[str]):
        self.root = root
        self.files = [importlib.metadata.PackagePath(f"vggsounder/data/{n}") for n in names]

    def locate_file(self, path):
        return self.root / str(path)


def patch_distribution(monkeypatch, replacement):
    """Make importlib.metadata.distribution('vggsounder') return/raise ``replacement``."""
    real = importlib.metadata.distribution

    def distribution(name):
        if name != "vggsounder":
            return real(name)
        if isinstance(replacement, Exception):
            raise replacement
        return replacement

    monkeypatch.setattr(importlib.metadata, "distribution", distribution)
    # The fast .dist-info finder would find the real wheel: leave the answer to the stand-in.
    monkeypatch.setattr(authors_wheel, "_dist_info_file", lambda name: authors_wheel._UNKNOWN)


def without_wheel(monkeypatch):
    patch_distribution(monkeypatch, importlib.metadata.PackageNotFoundError("vggsounder"))


class FakeDownloadManager:
    """A datasets-style download manager that serves the pinned URLs from a local folder."""

    def __init__(self, folder: Path, target: Path, tamper: str | None = None):
        self.folder, self.target, self.tamper = folder, target, tamper
        self.requested: list[dict[str, str]] = []

    def download(self, url_or_urls):
        self.requested.append(dict(url_or_urls))
        out = {}
        for key, url in url_or_urls.items():
            name = url.rsplit("/", 1)[1]
            local = self.target / f"downloaded-{name}"
            shutil.copyfile(self.folder / name, local)
            if name == self.tamper:
                with open(local, "a") as stream:
                    stream.write("extra,row\n")
            out[key] = str(local)
        return out


# --- pins -------------------------------------------------------------------------------------


def test_versions_and_default():
    assert LABEL_VERSIONS == ("1.0", "0.1.6")
    assert DEFAULT_LABEL_VERSION == "1.0"
    assert set(RELEASES) == set(LABEL_VERSIONS)


def test_the_release_names_are_the_schemas_own_objects_and_every_one_is_pinned():
    from vggsounder_hf.core import schema

    assert LABEL_VERSIONS is schema.LABEL_RELEASES
    assert DEFAULT_LABEL_VERSION is schema.DEFAULT_LABEL_RELEASE
    assert tuple(RELEASES) == schema.LABEL_RELEASES  # same order: the default config first
    assert all(RELEASES[name].version == name for name in RELEASES)
    assert {pin.classes.name for pin in RELEASES.values()} == {schema.CLASSES_FILE}


@pytest.mark.parametrize("version", ["1.0", "0.1.6"])
def test_pins_equal_the_sha256_of_the_shared_release_files(vggsounder_data, version):
    pin = RELEASES[version]
    full, filtered = FILES[version]
    assert pin.annotations.name == full
    assert pin.without_background_music.name == filtered
    assert pin.classes.name == "classes.csv"
    for pinned in (pin.annotations, pin.without_background_music, pin.classes):
        assert pinned.sha256 == sha256(vggsounder_data / pinned.name)


def test_pinned_urls_point_at_the_authors_repository_at_a_fixed_commit():
    assert sources.pinned_url("classes.csv") == RAW + "classes.csv"


# --- source 2: the authors' wheel -------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.0", "0.1.6"])
def test_wheel_files_are_found_via_importlib_metadata_and_equal_shared(vggsounder_data, version):
    files = resolve_release_files(version)
    assert files.source == "wheel"
    dist = importlib.metadata.distribution("vggsounder")
    assert dist.version == "1.0"
    for path, name in ((files.annotations, FILES[version][0]), (files.classes, "classes.csv")):
        assert path.as_posix().endswith(f"vggsounder/data/{name}")
        assert path.read_bytes() == (vggsounder_data / name).read_bytes()
    assert files.annotations_sha256 == sha256(vggsounder_data / FILES[version][0])
    assert files.classes_sha256 == sha256(vggsounder_data / "classes.csv")


@pytest.mark.parametrize("name", ["classes.csv", "vggsounder+background-music.csv"])
def test_the_dist_info_finder_finds_what_importlib_metadata_finds(name):
    fast = authors_wheel._dist_info_file(name)
    assert fast is not authors_wheel._UNKNOWN  # pip's layout: decided without importlib.metadata
    assert fast == authors_wheel._metadata_wheel_file(name)
    assert authors_wheel._dist_info_file("not-in-the-wheel.csv") is None


def _site_folder(tmp_path, monkeypatch, info: str, record: str | None) -> Path:
    """A folder first on sys.path holding vggsounder/data/classes.csv and ``info``."""
    site = tmp_path / "site"
    (site / "vggsounder" / "data").mkdir(parents=True)
    (site / "vggsounder" / "data" / "classes.csv").write_text("dog\n")
    (site / info).mkdir()
    if record is not None:
        (site / info / "RECORD").write_text(record)
    monkeypatch.setattr(sys, "path", [str(tmp_path / "missing"), str(site), *sys.path])
    return site


def test_the_first_dist_info_on_sys_path_decides_by_its_record(tmp_path, monkeypatch):
    record = "vggsounder/__init__.py,sha256=x,1\nvggsounder/data/classes.csv,sha256=y,4\n"
    site = _site_folder(tmp_path, monkeypatch, "vggsounder-1.0.dist-info", record)
    assert authors_wheel.wheel_file("classes.csv") == site / "vggsounder" / "data" / "classes.csv"
    # Listed in RECORD but absent, or present but not listed: not the wheel's file.
    assert authors_wheel.wheel_file("vggsounder+background-music.csv") is None
    (site / "vggsounder-1.0.dist-info" / "RECORD").write_text("vggsounder/__init__.py,,\n")
    assert authors_wheel.wheel_file("classes.csv") is None


def test_a_dist_info_without_record_is_looked_up_where_the_file_would_be(tmp_path, monkeypatch):
    site = _site_folder(tmp_path, monkeypatch, "VGGSounder-1.0.dist-info", None)
    assert authors_wheel.wheel_file("classes.csv") == site / "vggsounder" / "data" / "classes.csv"


def test_other_layouts_are_left_to_importlib_metadata(tmp_path, monkeypatch):
    _site_folder(tmp_path, monkeypatch, "vggsounder-1.0.egg-info", None)
    assert authors_wheel._dist_info_file("classes.csv") is authors_wheel._UNKNOWN
    asked = []
    monkeypatch.setattr(authors_wheel, "_metadata_wheel_file", lambda name: asked.append(name))
    authors_wheel.wheel_file("classes.csv")
    assert asked == ["classes.csv"]


def test_finding_the_wheel_does_not_import_importlib_metadata():
    code = (
        "import sys; from vggsounder_hf.io.sources import load_release; load_release('1.0'); "
        "print('importlib.metadata' in sys.modules)"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert found.stdout.strip() == "False", found.stderr


def test_tampered_wheel_file_stops_with_both_hashes(monkeypatch, tmp_path, vggsounder_data):
    data = tmp_path / "vggsounder" / "data"
    data.mkdir(parents=True)
    names = ["classes.csv", "vggsounder+background-music.csv"]
    for name in names:
        shutil.copyfile(vggsounder_data / name, data / name)
    with open(data / "vggsounder+background-music.csv", "a") as stream:
        stream.write("abcdefghijk_000000,rain,A,False,False,False\n")
    patch_distribution(monkeypatch, FakeDistribution(tmp_path, names))

    with pytest.raises(ChecksumError) as excinfo:
        resolve_release_files("1.0")
    message = str(excinfo.value)
    expected = sha256(vggsounder_data / "vggsounder+background-music.csv")
    got = sha256(data / "vggsounder+background-music.csv")
    assert "vggsounder+background-music.csv" in message
    assert f"expected sha256 {expected}" in message
    assert f"got {got}" in message
    assert (excinfo.value.expected, excinfo.value.got) == (expected, got)
    copy = pickle.loads(pickle.dumps(excinfo.value))
    assert str(copy) == message

    unverified = resolve_release_files("1.0", verify=False)
    assert unverified.source == "wheel"
    assert unverified.annotations_sha256 == got


def test_wheel_without_the_data_files_falls_back_to_download(
    monkeypatch, tmp_path, vggsounder_data
):
    patch_distribution(monkeypatch, FakeDistribution(tmp_path, []))
    manager = FakeDownloadManager(vggsounder_data, tmp_path)
    assert resolve_release_files("1.0", download_manager=manager).source == "download"


# --- source 3: download -----------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.0", "0.1.6"])
def test_download_from_pinned_urls_when_the_wheel_is_absent(
    monkeypatch, tmp_path, vggsounder_data, version
):
    without_wheel(monkeypatch)
    manager = FakeDownloadManager(vggsounder_data, tmp_path)
    files = resolve_release_files(version, download_manager=manager)
    assert files.source == "download"
    (request,) = manager.requested
    assert sorted(request.values()) == sorted([RAW + FILES[version][0], RAW + "classes.csv"])
    assert files.annotations.read_bytes() == (vggsounder_data / FILES[version][0]).read_bytes()
    assert files.classes.read_bytes() == (vggsounder_data / "classes.csv").read_bytes()


def test_tampered_download_stops_with_both_hashes(monkeypatch, tmp_path, vggsounder_data):
    without_wheel(monkeypatch)
    manager = FakeDownloadManager(vggsounder_data, tmp_path, tamper="classes.csv")
    with pytest.raises(ChecksumError) as excinfo:
        resolve_release_files("1.0", download_manager=manager)
    message = str(excinfo.value)
    assert "classes.csv" in message
    assert sha256(vggsounder_data / "classes.csv") in message
    assert sha256(tmp_path / "downloaded-classes.csv") in message


def test_default_download_manager_reuses_its_cache_without_network(
    monkeypatch, tmp_path, vggsounder_data
):
    """The real datasets DownloadManager, up to the network boundary: a pre-seeded cache."""
    from datasets.utils.file_utils import hash_url_to_filename

    without_wheel(monkeypatch)
    for name in ("classes.csv", "vggsounder+background-music_0.1.6.csv"):
        shutil.copyfile(vggsounder_data / name, tmp_path / hash_url_to_filename(RAW + name))
    files = resolve_release_files("0.1.6", download_dir=tmp_path)
    assert files.source == "download"
    assert files.annotations.parent == tmp_path
    assert files.annotations_sha256 == RELEASES["0.1.6"].annotations.sha256


def test_failed_download_explains_how_to_get_the_labels(monkeypatch, tmp_path):
    without_wheel(monkeypatch)

    class Offline:
        def download(self, urls):
            raise ConnectionError("network unreachable")

    with pytest.raises(DownloadError) as excinfo:
        resolve_release_files("1.0", download_manager=Offline())
    message = str(excinfo.value)
    assert RAW + "vggsounder+background-music.csv" in message
    assert "network unreachable" in message
    assert "pip install vggsounder==1.0" in message
    assert "data_path" in message


# --- source 1: the user's files ---------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.0", "0.1.6"])
def test_user_directory_overrides_wheel(vggsounder_data, version):
    files = resolve_release_files(version, data_path=vggsounder_data)
    assert files.source == "user"
    assert files.annotations == vggsounder_data.resolve() / FILES[version][0]
    assert files.classes == vggsounder_data.resolve() / "classes.csv"


def test_user_files_are_not_checked_against_the_pins(tmp_path, vggsounder_data):
    shutil.copyfile(vggsounder_data / "classes.csv", tmp_path / "classes.csv")
    custom = tmp_path / "vggsounder+background-music.csv"
    custom.write_text(
        "video_id,label,modality,background_music,static_image,voice_over\n"
        "abcdefghijk_000000,air horn,AV,False,False,False\n"
    )
    files = resolve_release_files("1.0", data_path=tmp_path)
    assert (files.source, files.annotations_sha256) == ("user", sha256(custom))
    release = load_release("1.0", data_path=tmp_path)
    assert [clip.video_id for clip in release.clips] == ["abcdefghijk_000000"]


def test_user_directory_without_the_release_file_names_it(tmp_path, vggsounder_data):
    shutil.copyfile(vggsounder_data / "classes.csv", tmp_path / "classes.csv")
    with pytest.raises(FileNotFoundError) as excinfo:
        resolve_release_files("0.1.6", data_path=tmp_path)
    assert "vggsounder+background-music_0.1.6.csv" in str(excinfo.value)
    assert str(tmp_path) in str(excinfo.value)


def test_user_single_file_uses_classes_next_to_it(tmp_path, vggsounder_data):
    shutil.copyfile(vggsounder_data / "vggsounder.csv", tmp_path / "mine.csv")
    (tmp_path / "classes.csv").write_text("index,mid,display_name\n0,m,rain\n")
    files = resolve_release_files("1.0", data_path=tmp_path / "mine.csv")
    assert (files.source, files.annotations, files.classes) == (
        "user",
        tmp_path / "mine.csv",
        tmp_path / "classes.csv",
    )


def test_user_single_file_without_classes_uses_the_pinned_classes(tmp_path, vggsounder_data):
    shutil.copyfile(vggsounder_data / "vggsounder.csv", tmp_path / "mine.csv")
    files = resolve_release_files("1.0", data_path=tmp_path / "mine.csv")
    assert files.source == "user"
    assert files.classes.read_bytes() == (vggsounder_data / "classes.csv").read_bytes()
    assert len(load_release("1.0", data_path=tmp_path / "mine.csv").clips) == 12_014


def test_missing_user_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_release_files("1.0", data_path=tmp_path / "nope")


def test_unknown_version_lists_the_choices():
    with pytest.raises(ValueError, match=r"'2\.0'.*1\.0, 0\.1\.6"):
        resolve_release_files("2.0")


# --- load_release -----------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "clips"), [("1.0", 15_069), ("0.1.6", 15_339)])
def test_load_release_parses_every_clip_of_the_full_file(
    vggsounder_data, reference_clips, version, clips
):
    release = load_release(version)
    reference = reference_clips(vggsounder_data / FILES[version][0])
    assert release.version == version
    assert len(release.clips) == len(reference) == clips
    assert len(release.class_names) == 309
    assert release.files.source == "wheel"


def test_load_release_is_cached_until_the_file_changes(tmp_path, vggsounder_data):
    shutil.copyfile(vggsounder_data / "classes.csv", tmp_path / "classes.csv")
    path = tmp_path / "vggsounder+background-music.csv"
    header = "video_id,label,modality,background_music,static_image,voice_over\n"
    path.write_text(header + "abcdefghijk_000000,air horn,AV,False,False,False\n")
    first = load_release("1.0", data_path=tmp_path)
    assert load_release("1.0", data_path=tmp_path) is first
    path.write_text(header + "abcdefghijk_000001,air horn,A,True,False,False\n")
    second = load_release("1.0", data_path=tmp_path)
    assert [clip.video_id for clip in second.clips] == ["abcdefghijk_000001"]


def test_load_release_reports_bad_user_files(tmp_path, vggsounder_data):
    shutil.copyfile(vggsounder_data / "classes.csv", tmp_path / "classes.csv")
    path = tmp_path / "vggsounder+background-music.csv"
    path.write_text(
        "video_id,label,modality,background_music,static_image,voice_over\n"
        "abcdefghijk_000000,air horn,AX,False,False,False\n"
    )
    with pytest.raises(AnnotationError, match=r"line 2: unknown modality code 'AX'"):
        load_release("1.0", data_path=tmp_path)


# --- VGGSound's own labels (issue 12; details in test_vggsound_release.py) --------------------


def test_vggsound_is_a_label_source_beside_the_pinned_releases():
    from vggsounder_hf.core import schema

    assert "vggsound" not in RELEASES and schema.LABEL_SOURCES[-1] == "vggsound"
    with pytest.raises(ValueError, match=r"'2\.0'.*choose one of 1\.0, 0\.1\.6, vggsound"):
        resolve_release_files("2.0")


def test_checksum_errors_keep_their_advice_through_pickle():
    error = ChecksumError("x.csv", "/data/x.csv", "a" * 64, "b" * 64)
    assert str(error).endswith("pass your own files as data_path.")
    assert "pip install vggsounder==1.0" in error.advice
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.args, copy.advice) == (error.args, error.advice)
    custom = pickle.loads(pickle.dumps(ChecksumError("y", "/y", "a", "b", "Do this.")))
    assert str(custom).endswith("got b. Do this.")
