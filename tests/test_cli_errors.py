"""Specification of vggsounder_hf.cli._errors: one error policy for every command."""

from __future__ import annotations

import pickle

import pytest

from vggsounder_hf.cli._errors import one_line, run_command


def _raise(error: BaseException):
    def command() -> int:
        raise error

    return command


def test_input_problems_are_one_line_and_exit_code_2(capsys):
    code = run_command("prog", _raise(ValueError("model.pkl: file is\nempty")), debug=False)
    assert code == 2
    assert capsys.readouterr().err == "prog: error: model.pkl: file is empty\n"


def test_missing_files_name_the_file(capsys):
    missing = FileNotFoundError(2, "No such file or directory", "model.pkl")
    assert run_command("prog", _raise(missing), debug=False) == 2
    assert capsys.readouterr().err == "prog: error: model.pkl: No such file or directory\n"


def test_bugs_say_so_and_exit_code_1(capsys):
    assert run_command("prog", _raise(KeyError("x")), debug=False) == 1
    err = capsys.readouterr().err
    assert err.startswith("prog: error: internal error (KeyError: 'x')")
    assert "--debug" in err and err.count("\n") == 1


def test_debug_lets_the_exception_through():
    with pytest.raises(ValueError, match="boom"):
        run_command("prog", _raise(ValueError("boom")), debug=True)


def test_interrupt_exits_with_130(capsys):
    assert run_command("prog", _raise(KeyboardInterrupt()), debug=False) == 130
    assert capsys.readouterr().err == "prog: interrupted\n"


def test_success_returns_the_commands_code():
    assert run_command("prog", lambda: 0, debug=False) == 0


def test_an_exception_without_a_message_is_named_by_its_type():
    assert one_line(ValueError()) == "ValueError"


def test_quiet_libraries_silences_datasets_and_the_hub():
    import datasets
    from huggingface_hub.utils import (
        are_progress_bars_disabled,
        disable_progress_bars,
        enable_progress_bars,
    )

    from vggsounder_hf.cli._errors import quiet_libraries

    was = (
        datasets.is_progress_bar_enabled(),
        are_progress_bars_disabled(),
        datasets.logging.get_verbosity(),
    )
    try:
        quiet_libraries()
        assert not datasets.is_progress_bar_enabled()
        assert are_progress_bars_disabled()
        assert datasets.logging.get_verbosity() == datasets.logging.ERROR
    finally:  # global switches: put them back for the other tests
        (datasets.enable_progress_bars if was[0] else datasets.disable_progress_bars)()
        (disable_progress_bars if was[1] else enable_progress_bars)()
        datasets.logging.set_verbosity(was[2])


# ------------------------------------------------------------------ which errors are input errors


def test_input_errors_are_recognised_by_class_or_by_the_name_of_a_base_class():
    from vggsounder_hf.cli._errors import is_expected

    yaml_error = type("YAMLError", (Exception,), {"__module__": "yaml.error"})
    scanner_error = type("ScannerError", (yaml_error,), {"__module__": "yaml.scanner"})
    network = type("HTTPError", (Exception,), {"__module__": "httpx"})
    assert is_expected(scanner_error("bad YAML")) and is_expected(network("offline"))
    assert is_expected(pickle.UnpicklingError("x")) and is_expected(ImportError("no matplotlib"))
    assert not is_expected(TypeError("x")) and not is_expected(AttributeError("x"))


def test_the_core_input_error_hierarchy_is_an_input_error_if_it_exists(capsys):
    errors = pytest.importorskip("vggsounder_hf.core.errors")
    from vggsounder_hf.cli._errors import is_expected

    assert is_expected(errors.VGGSounderInputError("m.json: bad"))
    assert run_command("prog", _raise(errors.VGGSounderInputError("m.json: bad")), debug=False) == 2
    assert capsys.readouterr().err == "prog: error: m.json: bad\n"


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            RecursionError("maximum recursion depth exceeded"),
            "m.json: nested too deeply to be read",
        ),
        (MemoryError(), "m.json: too large to be read into memory"),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "m.json: not UTF-8"),
        (OSError(28, "No space left on device"), "m.json: cannot read (No space left on device)"),
        (ValueError("clip 'x' appears twice"), "m.json: clip 'x' appears twice"),
        (pickle.UnpicklingError("pickle data was truncated"), "m.json: pickle data was truncated"),
    ],
)
def test_errors_while_reading_an_input_name_it(error, message, capsys):
    from vggsounder_hf.cli._errors import InputError, reading_input

    def command() -> int:
        with reading_input("m.json"):
            raise error

    assert run_command("prog", command, debug=False) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"prog: error: {message}") and err.count("\n") == 1
    with pytest.raises(InputError) as caught, reading_input("m.json"):
        raise error
    assert caught.value.__cause__ is error  # --debug shows where it came from


def test_messages_that_name_the_input_pass_unchanged():
    from vggsounder_hf.cli._errors import reading_input

    original = ValueError("m.json: line 3: bad")
    with pytest.raises(ValueError) as caught, reading_input("m.json"):
        raise original
    assert caught.value is original
    missing = FileNotFoundError(2, "No such file or directory", "classes.csv")
    with pytest.raises(FileNotFoundError) as caught, reading_input("labels/"):
        raise missing
    assert caught.value is missing and one_line(missing) == "classes.csv: No such file or directory"


def test_errors_of_the_unpickler_are_input_errors_and_other_bugs_stay_bugs(tmp_path, capsys):
    from vggsounder_hf.cli._errors import reading_input
    from vggsounder_hf.io.safe_pickle import safe_loads

    def unpickle() -> int:
        with reading_input("m.pkl"):
            safe_loads(b"\x80\x02}q\x00}q\x01b.", source="m.pkl")  # BUILD on a dict
        return 0

    assert run_command("prog", unpickle, debug=False) == 2
    err = capsys.readouterr().err
    assert err.startswith("prog: error: m.pkl: ") and err.count("\n") == 1

    def bug() -> int:
        with reading_input("m.pkl"):
            raise AttributeError("'NoneType' object has no attribute 'kind'")

    assert run_command("prog", bug, debug=False) == 1
    assert "internal error (AttributeError" in capsys.readouterr().err


def test_usage_errors_are_one_line():
    from vggsounder_hf.cli._errors import OneLineParser, UsageError

    parser = OneLineParser(prog="prog")
    parser.add_argument("--k", type=int)
    with pytest.raises(
        UsageError, match=r"^argument --k: invalid int value: 'x' \(see prog --help\)$"
    ):
        parser.parse_args(["--k", "x"])


def test_help_and_exit_codes_of_system_exit_are_returned(capsys):
    def helps() -> int:
        raise SystemExit(0)

    assert run_command("prog", helps, debug=False) == 0
    assert run_command("prog", _raise(SystemExit(3)), debug=False) == 3


# ------------------------------------------------------------------ stdout


class _Stdout:
    def __init__(self, error: OSError) -> None:
        self.error = error

    def write(self, text: str) -> int:
        raise self.error

    def flush(self) -> None:
        raise self.error


def test_a_full_disk_behind_stdout_is_named(monkeypatch):
    from vggsounder_hf.cli._errors import STDOUT, write_stdout

    monkeypatch.setattr("sys.stdout", _Stdout(OSError(28, "No space left on device")))
    with pytest.raises(OSError) as caught:
        write_stdout("table\n")
    assert one_line(caught.value) == f"{STDOUT}: cannot write (No space left on device)"


def test_a_closed_pipe_on_stdout_is_not_an_error(monkeypatch):
    from vggsounder_hf.cli._errors import write_stdout

    monkeypatch.setattr("sys.stdout", _Stdout(BrokenPipeError(32, "Broken pipe")))
    write_stdout("table\n")  # no exception


# ------------------------------------------------------------------ Ctrl-C during start-up


@pytest.mark.parametrize(
    ("module", "argv", "imported"),
    [
        ("score", ["m.json", "-q"], "vggsounder_hf.io.sources"),
        ("score", ["m.json", "-q"], "vggsounder_hf.reports.tables"),
        ("hub", ["push-results", "me/m", "r.json", "--dry-run"], "datasets"),
        ("stats", ["--json"], "datasets"),
    ],
)
def test_ctrl_c_while_a_command_imports_its_libraries_exits_130(
    module, argv, imported, monkeypatch, capsys
):
    import builtins
    import importlib

    command = importlib.import_module(f"vggsounder_hf.cli.{module}")
    real_import = builtins.__import__

    def interrupted_import(name, *args, **kwargs):
        if name == imported:
            raise KeyboardInterrupt
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", interrupted_import)
    code = command.main(argv)
    monkeypatch.setattr(builtins, "__import__", real_import)
    assert code == 130
    assert capsys.readouterr() == ("", f"{command.PROG}: interrupted\n")


_SIGINT_ON_NUMPY = """
import os, signal, sys

class SigintOnNumpy:  # Ctrl-C the moment the command starts importing numpy
    def find_spec(self, name, path=None, target=None):
        if name == "numpy":
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, SigintOnNumpy())
from vggsounder_hf.cli.{module} import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize(
    ("module", "prog", "argv"),
    [
        ("score", "vggsounder-score", ["--baseline", "class-prior", "-q"]),
        ("stats", "vggsounder-stats", ["--json"]),
    ],
)
def test_a_real_sigint_during_start_up_exits_130_without_a_traceback(module, prog, argv):
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-c", _SIGINT_ON_NUMPY.replace("{module}", module), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 130, completed.stderr
    assert completed.stderr == f"{prog}: interrupted\n"
    assert completed.stdout == ""


def test_the_commands_import_no_heavy_library_before_their_error_policy_runs():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import vggsounder_hf.cli.score, vggsounder_hf.cli.hub, vggsounder_hf.cli.stats\n"
        "heavy = ('numpy', 'pandas', 'datasets', 'huggingface_hub', 'matplotlib')\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert completed.stdout == "[]\n"
