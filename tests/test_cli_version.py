"""Every command has ``--version``; the label release is ``--labels`` in every command, and the
old spellings (``--label-version``, ``vggsounder-hub export --versions``, ``vggsounder-stats
--version RELEASE``) still work without being shown in ``--help`` (issue 14, item 8)."""

from __future__ import annotations

import json
import subprocess
import sys
from types import ModuleType

import pytest

import vggsounder_hf
from vggsounder_hf.cli import hub, score, stats
from vggsounder_hf.core.schema import LABEL_RELEASES, LABEL_SOURCES

COMMANDS: dict[str, ModuleType] = {
    "vggsounder-score": score,
    "vggsounder-hub": hub,
    "vggsounder-stats": stats,
}
OLD_SPELLINGS = ("--label-version", "--versions")
HEAVY = ("pandas", "pyarrow", "datasets", "sklearn", "matplotlib", "huggingface_hub")


def run(capsys, prog: str, *argv: str) -> tuple[int, str, str]:
    code = COMMANDS[prog].main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------------------ --version


@pytest.mark.parametrize(
    ("prog", "argv"),
    [
        ("vggsounder-score", ["--version"]),
        ("vggsounder-score", ["model.pkl", "--version"]),
        ("vggsounder-stats", ["--version"]),
        ("vggsounder-stats", ["--json", "--version"]),
        ("vggsounder-stats", ["--version", "--json"]),  # an option is no label release
        ("vggsounder-hub", ["--version"]),
        ("vggsounder-hub", ["export", "out", "--version"]),
        ("vggsounder-hub", ["push-metric", "--version"]),
        ("vggsounder-hub", ["push-results", "--version"]),  # before the missing arguments
    ],
)
def test_version_prints_the_program_and_the_package_version(capsys, prog, argv):
    code, out, err = run(capsys, prog, *argv)
    assert (code, out, err) == (0, f"{prog} {vggsounder_hf.__version__}\n", "")


@pytest.mark.parametrize("prog", list(COMMANDS))
def test_version_in_a_fresh_process_imports_no_heavy_library(prog):
    module = COMMANDS[prog].__name__
    code = (
        "import atexit, json, runpy, sys\n"
        f"atexit.register(lambda: print('IMPORTED ' + json.dumps([m for m in {HEAVY!r} "
        "if m in sys.modules])))\n"
        f"sys.argv = [{prog!r}, '--version']\n"
        f"runpy.run_module({module!r}, run_name='__main__')\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    first, imported = completed.stdout.splitlines()
    assert first == f"{prog} {vggsounder_hf.__version__}"
    assert json.loads(imported.removeprefix("IMPORTED ")) == []
    assert completed.stderr == ""


def test_version_of_the_module_run_as_a_program():
    completed = subprocess.run(
        [sys.executable, "-m", "vggsounder_hf.cli.stats", "--version"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (completed.returncode, completed.stderr) == (0, "")
    assert completed.stdout == f"vggsounder-stats {vggsounder_hf.__version__}\n"


# ------------------------------------------------------------------------------ --labels

# (command, arguments before the option, destination, the new spelling, the old spellings)
SPELLINGS = [
    ("vggsounder-stats", [], "versions", "--labels", ("--label-version", "--version")),
    ("vggsounder-score", [], "label_version", "--labels", ("--label-version",)),
    ("vggsounder-hub", ["export", "out"], "versions", "--labels", ("--versions",)),
    (
        "vggsounder-hub",
        ["push-results", "me/model", "results.json"],
        "label_version",
        "--labels",
        ("--label-version",),
    ),
]


def _parse(prog: str, argv: list[str]):
    return COMMANDS[prog].build_parser().parse_args(argv)


@pytest.mark.parametrize(("prog", "before", "dest", "new", "olds"), SPELLINGS)
def test_old_spellings_parse_to_the_same_value_as_labels(prog, before, dest, new, olds):
    expected = _parse(prog, [*before, new, "0.1.6"])
    assert getattr(expected, dest) in ("0.1.6", ["0.1.6"])
    for old in olds:
        assert vars(_parse(prog, [*before, old, "0.1.6"])) == vars(expected), old
        assert vars(_parse(prog, [*before, f"{old}=0.1.6"])) == vars(expected), old


@pytest.mark.parametrize(
    ("prog", "before", "dest", "default"),
    [
        ("vggsounder-stats", [], "versions", None),  # None: every release
        ("vggsounder-score", [], "label_version", "1.0"),  # the protocol's, see check_protocol
        ("vggsounder-hub", ["export", "out"], "versions", list(LABEL_RELEASES)),
        ("vggsounder-hub", ["push-results", "me/m", "r.json"], "label_version", "1.0"),
    ],
)
def test_defaults_are_unchanged(prog, before, dest, default):
    assert getattr(_parse(prog, before), dest) == default


def test_stats_labels_repeat_and_mix_with_the_old_spellings():
    both = ["1.0", "0.1.6"]
    assert _parse("vggsounder-stats", ["--labels", "1.0", "--labels", "0.1.6"]).versions == both
    mixed = ["--version", "1.0", "--label-version", "0.1.6"]
    assert _parse("vggsounder-stats", mixed).versions == both
    assert _parse("vggsounder-stats", ["--labels", "1.0", "--version=0.1.6"]).versions == both


def test_hub_export_takes_several_releases_in_both_spellings():
    for option in ("--labels", "--versions"):
        args = _parse("vggsounder-hub", ["export", "out", option, "0.1.6", "1.0"])
        assert args.versions == ["0.1.6", "1.0"], option


def test_score_notes_that_either_spelling_chose_the_release():
    """A protocol's release is a default only: ``--labels`` in any spelling overrides it."""
    for option in ("--labels", "--label-version"):
        args = _parse("vggsounder-score", ["--protocol", "paper", option, "1.0"])
        assert (args.label_version, args.labels_given) == ("1.0", True), option
    assert not hasattr(_parse("vggsounder-score", []), "labels_given")


# ------------------------------------------------------------------------------ --help


@pytest.mark.parametrize(
    ("prog", "argv", "has_labels"),
    [
        ("vggsounder-score", [], True),
        ("vggsounder-stats", [], True),
        ("vggsounder-hub", [], False),
        ("vggsounder-hub", ["export"], True),
        ("vggsounder-hub", ["push-results"], True),
        ("vggsounder-hub", ["push-metric"], False),
    ],
)
def test_help_shows_labels_and_version_but_no_old_spelling(capsys, prog, argv, has_labels):
    code, out, err = run(capsys, prog, *argv, "--help")
    assert (code, err) == (0, "")
    assert "[--version]" in out  # a flag: no value in the usage line
    assert "--version [" not in out and "--version {" not in out
    assert "print the program's version and exit" in out
    for old in OLD_SPELLINGS:
        assert old not in out, old
    assert ("--labels {" in out) == has_labels


def test_stats_help_can_be_formatted_twice():
    """Formatting ``--help`` shows ``--version`` as a flag only for the time it takes."""
    parser = stats.build_parser()
    assert parser.format_help() == parser.format_help()
    assert parser.format_usage() in parser.format_help()
    assert parser.parse_args(["--version", "1.0"]).versions == ["1.0"]


# ------------------------------------------------------------------------------ errors


def _usage_error_cases() -> list:
    cases = []
    for prog, before, _, new, olds in SPELLINGS:
        choices = LABEL_SOURCES if prog == "vggsounder-score" else LABEL_RELEASES
        for option in (new, *olds):
            cases.append(pytest.param(prog, [*before, option, "2.0"], option, choices))
    return cases


@pytest.mark.parametrize(("prog", "argv", "option", "choices"), _usage_error_cases())
def test_an_unknown_release_is_one_line_naming_the_option_and_the_choices(
    capsys, prog, argv, option, choices
):
    code, out, err = run(capsys, prog, *argv)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1, err
    assert err.startswith(f"{prog}: error: argument {option}: invalid choice: '2.0' (choose from ")
    listed = err.split("choose from ", 1)[1]
    assert all(repr(choice) in listed for choice in choices), err
    assert "Traceback" not in err


# ------------------------------------------------------------------------------ real runs


def test_stats_labels_and_its_old_spellings_select_the_release(capsys, prepared_cache_dir):
    outputs = []
    for option in ("--labels", "--version", "--label-version"):
        argv = ["--cache-dir", str(prepared_cache_dir), option, "1.0", "--json"]
        code, out, err = run(capsys, "vggsounder-stats", *argv)
        assert (code, err) == (0, ""), option
        outputs.append(out)
    result = json.loads(outputs[0])
    assert list(result) == ["1.0"]
    assert (result["1.0"]["clips"], result["1.0"]["labels"]) == (15_069, 37_395)
    assert outputs[1] == outputs[0] and outputs[2] == outputs[0]


def test_stats_single_file_error_names_labels(capsys, tmp_path, vggsounder_data):
    argv = ["--cache-dir", str(tmp_path), "--data-path", str(vggsounder_data / "vggsounder.csv")]
    code, _, err = run(capsys, "vggsounder-stats", *argv)
    assert code == 2
    assert "exactly one --labels" in err


@pytest.mark.usefixtures("vggsounder_data")
def test_score_labels_and_label_version_score_the_same_release(capsys):
    outputs = []
    for option in ("--labels", "--label-version"):
        argv = ["--baseline", "class-prior", option, "0.1.6", "--format", "json", "--quiet"]
        code, out, err = run(capsys, "vggsounder-score", *argv)
        assert (code, err) == (0, ""), option
        outputs.append(out)
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["metadata"]["label_version"] == "0.1.6"


def test_hub_export_labels_writes_only_that_config(capsys, tmp_path, prepared_cache_dir):
    argv = ["export", str(tmp_path / "out"), "--labels", "0.1.6"]
    code, out, err = run(capsys, "vggsounder-hub", *argv, "--cache-dir", str(prepared_cache_dir))
    assert (code, err) == (0, "")
    assert "(configs 0.1.6)" in out
    assert (tmp_path / "out" / "0.1.6" / "test-00000-of-00001.parquet").is_file()
    assert not (tmp_path / "out" / "1.0").exists()


@pytest.mark.usefixtures("no_network")
def test_hub_push_results_labels_and_label_version_write_the_same_card(capsys, tmp_path):
    results, card = tmp_path / "results.json", tmp_path / "README.md"
    results.write_text('{"av/f1": 0.5}', encoding="utf-8")
    card.write_text("---\nlicense: mit\n---\n# my model\n", encoding="utf-8")
    cards = []
    for option in ("--labels", "--label-version"):
        argv = ["push-results", "me/model", str(results), "--card", str(card), "--dry-run"]
        code, out, err = run(capsys, "vggsounder-hub", *argv, option, "0.1.6")
        assert (code, err) == (0, ""), option
        cards.append(out)
    assert cards[0] == cards[1]
    assert "config: 0.1.6" in cards[0]
