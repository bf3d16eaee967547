"""Bad inputs of every family through the command line, end to end.

Each case builds its bad input itself and runs the command in-process. The outcome is the
error policy: exit code 2, one line ``<prog>: error: <input>: <problem>`` on stderr (the words
of the problem asserted), nothing on stdout, and the files already there left untouched (an
existing report keeps its content; no file is added, not even a temporary one).
"""

from __future__ import annotations

import json
import pickle
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from vggsounder_hf.core.schema import AV, A, V

OLD_REPORT = "old report\n"


@pytest.fixture(scope="module")
def valid_mapping(release_1_0) -> dict:
    """A small valid label-set model: eight clips of the default clip set of labels 1.0."""
    names = release_1_0.class_names
    clips = [clip for clip in release_1_0.clips if not clip.background_music][:8]

    def of(clip, codes):
        pairs = zip(clip.labels, clip.modalities, strict=True)
        return [names[label] for label, modality in pairs if modality in codes]

    return {
        clip.video_id: {
            "predictions": {
                "a": of(clip, (A, AV))[:1] + ([names[number]] if number % 2 else []),
                "v": of(clip, (V, AV)),
                "av": of(clip, (AV,)) or [names[number]],
            }
        }
        for number, clip in enumerate(clips)
    }


def _pickle_str(text: str) -> bytes:
    data = text.encode()
    return b"X" + len(data).to_bytes(4, "little") + data


def _deep_pickle(video_id: str, depth: int = 100_000) -> bytes:
    """``{video_id: {"predictions": {"av": [[[...]]]}}}`` nested ``depth`` lists deep."""
    head = b"\x80\x02}(" + _pickle_str(video_id) + b"}(" + _pickle_str("predictions")
    return head + b"}(" + _pickle_str("av") + b"]" * depth + b"a" * (depth - 1) + b"uuu."


# Each case: (file name, content from the valid mapping, extra options, words of the problem:
# a regular expression where the reader's own wording and the command's are both right).
# The content is bytes or a function of the valid mapping returning bytes.
Content = bytes | Callable[[dict], bytes]


def _first(mapping: dict) -> str:
    return next(iter(mapping))


SCORE_CASES: dict[str, tuple[str, Content, list[str], str]] = {
    "empty pickle": ("m.pkl", b"", [], "file is empty"),
    "truncated pickle": (
        "m.pkl",
        lambda m: pickle.dumps(m)[:40],
        [],
        "not a valid pickle",
    ),
    "two pickles": (
        "m.pkl",
        lambda m: pickle.dumps(m) + pickle.dumps(m),
        [],
        "more byte(s) after the end of the pickle",
    ),
    "pickle that runs code": (
        "m.pkl",
        b"cos\nsystem\n(S'echo hacked'\ntR.",
        [],
        "refusing to load 'os.system'",
    ),
    "pickle BUILD on a dict": (
        "m.pkl",
        b"\x80\x02}q\x00}q\x01b.",
        [],
        # the unpickler's own error, or the reader's wording for it
        r"not a valid pickle \(AttributeError|BUILD would set the state of a dict",
    ),
    "pickle with an unknown codec": (
        "m.pkl",
        b"\x80\x02c_codecs\nencode\nq\x00X\x01\x00\x00\x00aX\x07\x00\x00\x00nocodecq\x01\x86R.",
        [],
        r"not a valid pickle \(LookupError: unknown encoding: nocodec\)"
        r"|codec 'nocodec' is not allowed",
    ),
    "pickle defaultdict with bad arguments": (
        "m.pkl",
        b"\x80\x02ccollections\ndefaultdict\nNK\x05\x86R.",
        [],
        r"not a valid pickle|dict\(\) of a int is not plain data",
    ),
    "pickle nested too deeply": (
        "m.pkl",
        lambda m: _deep_pickle(_first(m)),
        [],
        r"nested too deeply to be read|nested more than \d+ levels deep",
    ),
    "malformed JSON": ("m.json", b'{"x": ', [], "malformed JSON at line 1"),
    "JSON nested too deeply": (
        "m.json",
        b"[" * 100_000 + b"]" * 100_000,
        [],
        "nested too deeply to be read",
    ),
    "JSON not UTF-8": (
        "m.json",
        b'{"\xff": 1}',
        [],
        r"not UTF-8 text( \(byte 2\)|: byte 0xff at offset 2)",
    ),
    "JSON of a number": ("m.json", b"5", [], "expected a JSON object"),
    "JSON entry not a mapping": (
        "m.json",
        lambda m: json.dumps({_first(m): ["dog barking"]}).encode(),
        [],
        "must be a mapping",
    ),
    "JSON with a boolean label": (
        "m.json",
        lambda m: json.dumps({_first(m): {"predictions": {"a": [True]}}}).encode(),
        [],
        "label True (bool) is neither a class name nor a class index 0..308",
    ),
    "every clip id with a leading space": (
        "m.json",
        lambda m: json.dumps({f" {key}": value for key, value in m.items()}).encode(),
        [],
        "no prediction is for a clip of clip set 'default'",
    ),
    "clips outside the clip set only": (
        "m.json",
        lambda m: json.dumps(m).encode(),
        ["--clip-set", "background_music"],
        "no prediction is for a clip of clip set 'background_music'",
    ),
    "JSONL malformed line": (
        "m.jsonl",
        lambda m: (json.dumps({"video_id": _first(m), "predictions": {}}) + "\n{oops\n").encode(),
        [],
        "line 2: malformed JSON",
    ),
    "JSONL nested too deeply": (
        "m.jsonl",
        b"[" * 100_000 + b"]" * 100_000 + b"\n",
        [],
        "nested too deeply to be read",
    ),
    "CSV unknown input modality": (
        "m.csv",
        lambda m: f"video_id,input_modality,label\n{_first(m)},sound,dog barking\n".encode(),
        [],
        "line 2: unknown input modality 'sound'",
    ),
    "CSV row longer than the header": (
        "m.csv",
        lambda m: f"video_id,input_modality,label\n{_first(m)},a,dog barking,x\n".encode(),
        [],
        r"more fields than the header|line 2: 4 field\(s\), but the header has 3 columns",
    ),
    "CSV empty clip id": (
        "m.csv",
        b"video_id,input_modality,label\n,a,dog barking\n",
        [],
        "line 2: video_id is empty",
    ),
    "Parquet garbage": ("m.parquet", b"PAR1garbagePAR1", [], "not a readable Parquet file"),
    "unknown extension": ("m.txt", b"{}", [], "cannot tell the format from the extension"),
}


def _is_pattern(problem: str) -> bool:
    return "|" in problem


@pytest.mark.parametrize("case", sorted(SCORE_CASES))
def test_bad_prediction_files(case, tmp_path, capsys, valid_mapping):
    from vggsounder_hf.cli.score import main

    name, content, options, problem = SCORE_CASES[case]
    path = tmp_path / name
    path.write_bytes(content(valid_mapping) if callable(content) else content)
    report = tmp_path / "report.md"
    report.write_text(OLD_REPORT)
    before = sorted(tmp_path.iterdir())
    code = main([str(path), "-q", "--output", str(report), *options])
    out, err = capsys.readouterr()
    assert (code, out) == (2, ""), err
    assert err.startswith(f"vggsounder-score: error: {path}: "), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert re.search(problem, err) if _is_pattern(problem) else problem in err, err
    assert report.read_text() == OLD_REPORT
    assert sorted(tmp_path.iterdir()) == before


def _run_score(capsys, argv: list[str]) -> tuple[int, str, str]:
    from vggsounder_hf.cli.score import main

    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _assert_one_error(code: int, out: str, err: str, prog: str, start: str, problem: str):
    assert (code, out) == (2, ""), err
    assert err.startswith(f"{prog}: error: {start}"), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert problem in err


def test_an_empty_clip_set_is_an_error(tmp_path, capsys, release_1_0, valid_mapping):
    clip = release_1_0.clips[0]
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "video_id,label,modality,background_music,static_image,voice_over\n"
        f"{clip.video_id},{release_1_0.class_names[clip.labels[0]]},AV,True,False,False\n"
    )
    predictions = tmp_path / "m.json"
    predictions.write_text(json.dumps({clip.video_id: {"predictions": {"av": []}}}))
    code, out, err = _run_score(capsys, [str(predictions), "-q", "--data-path", str(labels)])
    _assert_one_error(
        code, out, err, "vggsounder-score", "clip set 'default'", f"none of the 1 clips of {labels}"
    )


def test_a_missing_annotation_file_is_named(tmp_path, capsys, valid_mapping):
    predictions = tmp_path / "m.json"
    predictions.write_text(json.dumps(valid_mapping))
    missing = tmp_path / "nope.csv"
    code, out, err = _run_score(capsys, [str(predictions), "-q", "--data-path", str(missing)])
    _assert_one_error(code, out, err, "vggsounder-score", "", "does not exist")
    assert str(missing) in err


def test_a_directory_as_the_last_output_changes_no_file(tmp_path, capsys, valid_mapping):
    predictions = tmp_path / "m.json"
    predictions.write_text(json.dumps(valid_mapping))
    report, meta = tmp_path / "report.md", tmp_path / "meta.md"
    report.write_text(OLD_REPORT)
    (tmp_path / "confused.csv").mkdir()
    before = sorted(tmp_path.iterdir())
    argv = [str(predictions), "-q", "--output", str(report), "--meta-report", str(meta)]
    code, out, err = _run_score(capsys, [*argv, "--confused-clips", str(tmp_path / "confused.csv")])
    _assert_one_error(
        code, out, err, "vggsounder-score", str(tmp_path / "confused.csv"), "is a directory"
    )
    assert report.read_text() == OLD_REPORT and not meta.exists()
    assert sorted(tmp_path.iterdir()) == before


# ------------------------------------------------------------------ vggsounder-hub push-results


def _run_hub(capsys, argv: list[str]) -> tuple[int, str, str]:
    from vggsounder_hf.cli.hub import main

    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


HUB_CASES: dict[str, tuple[bytes, str]] = {
    "results not UTF-8": (b'{"av/f1": 0.5, "\xff": 1}', "not UTF-8 text"),
    "results not JSON": (b'{"av/f1": ', "not JSON (line 1"),
    "results with NaN": (b'{"av/f1": NaN}', "NaN is not a result value"),
    "results with a repeated key": (b'{"av/f1": 0.5, "av/f1": 0.9}', "'av/f1' appears twice"),
    "results nested too deeply": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "results of a string": (b'"av/f1"', "expected a JSON object or list, got str"),
    "results with a rate above 1": (b'{"av/f1": 1.5}', "'av/f1' is 1.5"),
}


@pytest.mark.parametrize("case", sorted(HUB_CASES))
def test_bad_results_files(case, tmp_path, capsys, no_network):
    content, problem = HUB_CASES[case]
    path = tmp_path / "results.json"
    path.write_bytes(content)
    code, out, err = _run_hub(capsys, ["push-results", "me/model", str(path), "--dry-run"])
    _assert_one_error(code, out, err, "vggsounder-hub", f"{path}: ", problem)


def test_a_missing_results_file(tmp_path, capsys, no_network):
    path = tmp_path / "results.json"
    code, out, err = _run_hub(capsys, ["push-results", "me/model", str(path), "--dry-run"])
    _assert_one_error(code, out, err, "vggsounder-hub", f"{path}: ", "no such file")


def test_a_model_card_whose_yaml_does_not_parse(tmp_path, capsys, no_network):
    results, card = tmp_path / "results.json", tmp_path / "README.md"
    results.write_text('{"av/f1": 0.5}')
    card.write_text("---\nmodel-index: [\n---\n# my model\n")
    argv = ["push-results", "me/model", str(results), "--card", str(card), "--dry-run"]
    code, out, err = _run_hub(capsys, argv)
    _assert_one_error(code, out, err, "vggsounder-hub", f"{card}: ", "YAML metadata")
    assert card.read_text() == "---\nmodel-index: [\n---\n# my model\n"


def test_an_unreachable_hub(tmp_path, capsys, monkeypatch, no_network):
    httpx = pytest.importorskip("httpx2", reason="huggingface_hub's HTTP client")
    from vggsounder_hf.hf import hub_results

    def unreachable(repo_id, token=None):
        raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(hub_results, "load_card_text", unreachable)
    results = tmp_path / "results.json"
    results.write_text('{"av/f1": 0.5}')
    code, out, err = _run_hub(capsys, ["push-results", "me/model", str(results)])
    _assert_one_error(
        code, out, err, "vggsounder-hub", "me/model: ", "cannot reach the Hugging Face Hub"
    )


@pytest.mark.parametrize(
    ("module", "argv", "problem"),
    [
        ("hub", ["push-results", "me/model"], "the following arguments are required"),
        ("hub", ["upload"], "invalid choice: 'upload'"),
        ("stats", ["--version", "2.0"], "invalid choice: '2.0'"),
        ("score", ["--k", "zero"], "expected a positive integer, got 'zero'"),
    ],
)
def test_usage_errors_are_one_line(module, argv, problem, capsys):
    import importlib

    command = importlib.import_module(f"vggsounder_hf.cli.{module}")
    code = command.main(argv)
    out, err = capsys.readouterr()
    _assert_one_error(code, out, err, command.PROG, "", problem)
    assert f"(see {command.PROG}" in err


# ------------------------------------------------------------------ output faults

OUTPUTS = {
    "--output": "report.md",
    "--meta-report": "meta.md",
    "--confused-clips": "confused.csv",
    "--radar": "radar.svg",
}
"""The files one run can write, in the order they are committed."""
PAIRS = [(a, b) for index, a in enumerate(OUTPUTS) for b in list(OUTPUTS)[index + 1 :]]


def _full_disk(monkeypatch, target: Path, where: str) -> None:
    """Make the last step of writing ``target`` fail with ENOSPC: the bytes of its temporary
    file (``write``) or its move onto the target (``replace``)."""
    import errno
    import os

    from vggsounder_hf.io import atomic

    real_write, real_replace = os.write, os.replace

    def write(handle, data):
        if os.readlink(f"/proc/self/fd/{handle}").startswith(
            str(target.parent / f".{target.name}.")
        ):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(handle, data)

    def replace(source, destination):
        if Path(destination) == target:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(source))
        return real_replace(source, destination)

    if where == "write":
        monkeypatch.setattr(atomic.os, "write", write)
    else:
        monkeypatch.setattr(atomic.os, "replace", replace)


@pytest.mark.parametrize("where", ["write", "replace"])
@pytest.mark.parametrize(("first", "last"), PAIRS)
def test_a_full_disk_on_the_last_output_changes_no_file(
    first, last, where, tmp_path, capsys, monkeypatch, valid_mapping
):
    if "--radar" in (first, last):
        pytest.importorskip("matplotlib", reason="the radar plot needs the 'plot' extra")
    predictions = tmp_path / "m.json"
    predictions.write_text(json.dumps(valid_mapping))
    paths = {flag: tmp_path / OUTPUTS[flag] for flag in (first, last)}
    for flag, path in paths.items():
        path.write_text(f"old {flag}\n")
    before = sorted(tmp_path.iterdir())
    argv = [str(predictions), "-q"] + [item for flag in paths for item in (flag, str(paths[flag]))]
    _full_disk(monkeypatch, paths[last], where)
    code, out, err = _run_score(capsys, argv)
    _assert_one_error(
        code, out, err, "vggsounder-score", f"{paths[last]}: ", "No space left on device"
    )
    assert ".tmp" not in err  # the file the user named, not the temporary one
    assert {flag: path.read_text() for flag, path in paths.items()} == {
        flag: f"old {flag}\n" for flag in paths
    }
    assert sorted(tmp_path.iterdir()) == before
    monkeypatch.undo()
    code, _, err = _run_score(capsys, argv)
    assert code == 0, err
    assert all(path.read_text() != f"old {flag}\n" for flag, path in paths.items())
    assert sorted(tmp_path.iterdir()) == before


def test_a_full_disk_behind_stdout_says_so(tmp_path, valid_mapping):
    import subprocess
    import sys

    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    predictions = tmp_path / "m.json"
    predictions.write_text(json.dumps(valid_mapping))
    with open("/dev/full", "w") as full:
        completed = subprocess.run(
            [sys.executable, "-m", "vggsounder_hf.cli.score", str(predictions), "-q"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert completed.returncode == 2
    assert completed.stderr == (
        "vggsounder-score: error: standard output: cannot write (No space left on device)\n"
    )
