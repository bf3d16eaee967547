"""Specification of the vggsounder-stats command (vggsounder_hf.cli.stats) and scripts/stats.py."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vggsounder_hf.cli.stats import main

REPO_ROOT = Path(__file__).resolve().parents[1]
HEADER = "video_id,label,modality,background_music,static_image,voice_over\n"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_for_one_version(capsys, prepared_cache_dir):
    code, out, err = run(
        capsys, "--cache-dir", str(prepared_cache_dir), "--version", "1.0", "--json"
    )
    assert code == 0
    assert err == ""  # no progress bars or log noise
    result = json.loads(out)
    assert list(result) == ["1.0"]
    stats = result["1.0"]
    assert (stats["clips"], stats["labels"]) == (15_069, 37_395)
    assert stats["labels_per_modality"] == {"A": 14_236, "V": 1_245, "AV": 21_914}
    assert stats["clips_per_meta_label"]["background_music"] == 15_069 - 12_014
    assert stats["source"] == "wheel"


def test_default_is_every_version_as_a_table(capsys, prepared_cache_dir):
    code, out, _ = run(capsys, "--cache-dir", str(prepared_cache_dir))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[-2:] == ["1.0", "0.1.6"]
    rows = {line[:28].strip(): line[28:].split() for line in lines[1:]}
    assert rows["clips"] == ["15,069", "15,339"]
    assert rows["labels (clip, label pairs)"] == ["37,395", "41,173"]
    assert rows["modality AV (both)"] == ["21,914", "26,556"]
    assert rows["clips with background_music"] == ["3,055", "2,967"]
    assert rows["source"] == ["wheel", "wheel"]


def test_data_path_directory(capsys, tmp_path, vggsounder_data):
    shutil.copyfile(vggsounder_data / "classes.csv", tmp_path / "classes.csv")
    (tmp_path / "vggsounder+background-music_0.1.6.csv").write_text(
        HEADER + "abc_000001,air horn,V,True,False,True\nabc_000001,raining,AV,True,False,True\n"
    )
    argv = ["--cache-dir", str(tmp_path / "c"), "--data-path", str(tmp_path), "--version", "0.1.6"]
    code, out, _ = run(capsys, *argv, "--json")
    assert code == 0
    stats = json.loads(out)["0.1.6"]
    assert (stats["clips"], stats["labels"], stats["source"]) == (1, 2, "user")
    assert stats["labels_per_modality"] == {"A": 0, "V": 1, "AV": 1}


def test_missing_data_path_is_a_one_line_error(capsys, tmp_path):
    code, out, err = run(capsys, "--cache-dir", str(tmp_path), "--data-path", str(tmp_path / "x"))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("vggsounder-stats: error: ")
    assert str(tmp_path / "x") in err
    assert "Traceback" not in err


def test_bad_annotation_file_names_file_and_line(capsys, tmp_path, vggsounder_data):
    shutil.copyfile(vggsounder_data / "classes.csv", tmp_path / "classes.csv")
    bad = tmp_path / "vggsounder+background-music.csv"
    bad.write_text(HEADER + "abc_000001,air horn,V,maybe,False,True\n")
    argv = ["--cache-dir", str(tmp_path / "c"), "--data-path", str(tmp_path), "--version", "1.0"]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert f"{bad}, line 2: background_music must be True or False" in err


def test_single_file_needs_exactly_one_version(capsys, tmp_path, vggsounder_data):
    code, _, err = run(
        capsys, "--cache-dir", str(tmp_path), "--data-path", str(vggsounder_data / "vggsounder.csv")
    )
    assert code == 2
    assert "exactly one --labels" in err


def test_debug_shows_the_exception(tmp_path):
    with pytest.raises(FileNotFoundError):
        main(["--cache-dir", str(tmp_path), "--data-path", str(tmp_path / "x"), "--debug"])


def test_unknown_version_is_a_usage_error_in_one_line(capsys):
    assert main(["--version", "2.0"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice" in err
    assert err.count("\n") == 1


def test_script_is_the_same_command(tmp_path, prepared_cache_dir):
    result = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "scripts" / "stats.py"),
            "--cache-dir",
            str(prepared_cache_dir),
            "--version",
            "0.1.6",
            "--json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["0.1.6"]["clips"] == 15_339
