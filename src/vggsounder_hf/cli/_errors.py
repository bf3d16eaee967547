"""One error policy for every command of the project.

A problem with the user's input or environment (a bad option, a missing or malformed file,
a checksum mismatch, an unreachable Hub) is one line on stderr, ``<prog>: error: <problem>``,
and exit code 2. Anything else is a bug: one line that says so and exit code 1. ``--debug``
lets every exception through with its traceback; Ctrl-C exits with 130. Without ``--debug``,
commands that build or upload datasets call :func:`quiet_libraries`, so that stderr holds
only that one line.

Example:
    >>> def fails():
    ...     raise ValueError("model.pkl: file is empty")
    >>> run_command("vggsounder-demo", fails, debug=False)  # prints the error line on stderr
    2
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Callable

EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    OSError,
    pickle.UnpicklingError,
    ImportError,
)
"""Errors that describe a problem with the input or the environment, not a bug."""


def run_command(prog: str, command: Callable[[], int], *, debug: bool) -> int:
    """Run ``command`` and turn its exceptions into the exit codes described above."""
    try:
        return command()
    except EXPECTED_ERRORS as error:
        if debug:
            raise
        print(f"{prog}: error: {one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if debug:
            raise
        print(
            f"{prog}: error: internal error ({type(error).__name__}: {one_line(error)}); "
            "rerun with --debug for the traceback",
            file=sys.stderr,
        )
        return 1


def quiet_libraries() -> None:
    """No progress bars or info logs from ``datasets`` and ``huggingface_hub``."""
    import datasets
    from huggingface_hub.utils import disable_progress_bars

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    disable_progress_bars()


def one_line(error: BaseException) -> str:
    """The error's message on one line (an ``OSError`` as ``<file>: <reason>``).

    Example:
        >>> one_line(FileNotFoundError(2, "No such file or directory", "model.pkl"))
        'model.pkl: No such file or directory'
    """
    if isinstance(error, OSError) and error.filename and error.strerror:
        return f"{error.filename}: {error.strerror}"
    text = str(error).strip()
    return " ".join(text.split()) if text else type(error).__name__
