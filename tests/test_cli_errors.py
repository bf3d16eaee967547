"""Specification of vggsounder_hf.cli._errors: one error policy for every command."""

from __future__ import annotations

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
