"""One error policy for every command of the project.

* A problem with the user's input or environment (a bad option, a missing or malformed file,
  a checksum mismatch, a full disk, an unreachable Hub) is one line on stderr,
  ``<prog>: error: <input>: <problem>``, and exit code 2.
* Anything else is a bug: one line that says so (``internal error``) and exit code 1.
* Ctrl-C prints ``<prog>: interrupted`` and exits with 130, without a traceback, also while
  the command is still importing its libraries (commands import them inside
  :func:`run_command`).
* ``--debug`` lets every exception through with its traceback.
* ``--version`` prints ``<prog> <package version>`` and exits with 0
  (:func:`add_version_option`); an option renamed keeps its old spelling as an alias that
  ``--help`` does not show (:func:`add_hidden_alias`).
* A failed run prints its error line only: warnings are collected
  (:class:`DeferredWarnings`) and printed once the run has succeeded. Stdout is an output
  like any file: :func:`write_stdout` names it when it cannot be written (a full disk).

Input errors are the ``ValueError`` family (every typed error of the core and of ``io``:
``PredictionError``, ``ReaderError``, ``AnnotationError``, ``ChecksumError``, and
``vggsounder_hf.core.errors.VGGSounderInputError`` where it exists), ``OSError`` (network
errors of ``requests``/``huggingface_hub`` among them), ``pickle.UnpicklingError``,
``ImportError`` (a missing optional dependency), and by name the errors of ``httpx`` and
YAML. While an input is read (:func:`reading_input`), ``RecursionError`` (nesting too deep),
``MemoryError`` (too large), any error raised by the unpickler on the file's content, and
messages that do not say which input they are about are turned into an :class:`InputError`
naming the input. Without ``--debug``, commands that build or upload datasets call
:func:`quiet_libraries`, so that stderr holds only that one line.

Example:
    >>> def fails():
    ...     raise ValueError("model.pkl: file is empty")
    >>> run_command("vggsounder-demo", fails, debug=False)  # prints the error line on stderr
    2
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pickle
import sys
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import NoReturn

__all__ = [
    "EXPECTED_ERRORS",
    "EXPECTED_ERROR_NAMES",
    "STDOUT",
    "DeferredWarnings",
    "InputError",
    "OneLineParser",
    "UsageError",
    "add_hidden_alias",
    "add_version_option",
    "class_names",
    "is_expected",
    "one_line",
    "package_version",
    "quiet_libraries",
    "reading_input",
    "run_command",
    "write_stdout",
]

EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    OSError,
    pickle.UnpicklingError,
    ImportError,
)
"""Errors that describe a problem with the input or the environment, not a bug."""

EXPECTED_ERROR_NAMES: frozenset[str] = frozenset(
    {
        "vggsounder_hf.core.errors.VGGSounderInputError",
        "httpx.HTTPError",
        "httpx.InvalidURL",
        "httpx._exceptions.HTTPError",
        "httpx._exceptions.InvalidURL",
        "httpx2.HTTPError",
        "httpx2.InvalidURL",
        "yaml.error.YAMLError",
    }
)
"""Expected errors recognised by the qualified names of their classes (any base class), so
that no optional library is imported to recognise its errors."""

_UNPICKLER_MODULE = "vggsounder_hf.io.safe_pickle"

STDOUT = "standard output"
"""How error messages name stdout."""


class InputError(ValueError):
    """A problem with one named input (a file, an option, a Hub repository)."""


class UsageError(ValueError):
    """A bad command line."""


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors follow the policy: one line, exit code 2
    (raised as :class:`UsageError` for :func:`run_command` to print)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def package_version() -> str:
    """The version of the installed ``vggsounder-hf`` (``vggsounder_hf.__version__``).

    Example:
        >>> import vggsounder_hf
        >>> package_version() == vggsounder_hf.__version__
        True
    """
    import vggsounder_hf

    version = getattr(vggsounder_hf, "__version__", None)
    if version is None:  # pragma: no cover - the package defines it
        from importlib.metadata import version as installed_version

        version = installed_version("vggsounder-hf")
    return str(version)


def add_version_option(parser: argparse.ArgumentParser, prog: str) -> argparse.Action:
    """``--version``: print ``<prog> <package version>`` on stdout and exit with 0.

    Example:
        >>> parser = OneLineParser(prog="vggsounder-demo")
        >>> _ = add_version_option(parser, "vggsounder-demo")
        >>> parser.parse_args(["--version"])  # prints "vggsounder-demo <version>"
        Traceback (most recent call last):
        SystemExit: 0
    """
    return parser.add_argument(
        "--version",
        action="version",
        version=f"{prog} {package_version()}",
        help="print the program's version and exit",
    )


def add_hidden_alias(
    parser: argparse.ArgumentParser, option: str, action: argparse.Action
) -> argparse.Action:
    """Accept ``option``, the old spelling of ``action``'s option, as the same option (same
    destination, values and checks; an error names the spelling used), not shown in
    ``--help``.

    Example:
        >>> parser = OneLineParser(prog="vggsounder-demo")
        >>> labels = parser.add_argument("--labels", choices=["1.0", "0.1.6"], default="1.0")
        >>> _ = add_hidden_alias(parser, "--label-version", labels)
        >>> parser.parse_args(["--label-version", "0.1.6"]).labels
        '0.1.6'
        >>> "--label-version" in parser.format_help()
        False
    """
    return parser.add_argument(
        option,
        action=type(action),
        dest=action.dest,
        nargs=action.nargs,
        const=action.const,
        choices=action.choices,
        type=action.type,
        metavar=action.metavar,
        default=action.default,  # the same; the option added first sets it
        help=argparse.SUPPRESS,
    )


def is_expected(error: BaseException) -> bool:
    """Whether ``error`` is an input or environment problem (see the module docstring).

    Example:
        >>> is_expected(FileNotFoundError("x")), is_expected(KeyError("x"))
        (True, False)
    """
    if isinstance(error, EXPECTED_ERRORS):
        return True
    return not class_names(error).isdisjoint(EXPECTED_ERROR_NAMES)


def class_names(error: BaseException) -> frozenset[str]:
    """Qualified names of the error's class and of all its base classes.

    Example:
        >>> sorted(class_names(KeyError()))[:2]
        ['builtins.BaseException', 'builtins.Exception']
    """
    return frozenset(f"{cls.__module__}.{cls.__qualname__}" for cls in type(error).__mro__)


def run_command(prog: str, command: Callable[[], int], *, debug: bool) -> int:
    """Run ``command`` and turn its exceptions into the exit codes described above."""
    try:
        return command()
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except SystemExit as stop:  # --help, --version
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 2)
    except Exception as error:
        if debug:
            raise
        if is_expected(error):
            print(f"{prog}: error: {one_line(error)}", file=sys.stderr)
            return 2
        print(
            f"{prog}: error: internal error ({type(error).__name__}: {one_line(error)}); "
            "rerun with --debug for the traceback",
            file=sys.stderr,
        )
        return 1


@contextlib.contextmanager
def reading_input(name: str | os.PathLike[str]) -> Iterator[None]:
    """Make every error raised while ``name`` is read an input error that names it.

    Errors whose message already names the input pass unchanged (``--debug`` then shows
    their own traceback); the others are raised again as :class:`InputError` from them.

    Example:
        >>> with reading_input("deep.json"):
        ...     raise RecursionError("maximum recursion depth exceeded")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        vggsounder_hf.cli._errors.InputError: deep.json: nested too deeply to be read ...
    """
    source = os.fspath(name)
    try:
        yield
    except RecursionError as error:
        raise InputError(
            f"{source}: nested too deeply to be read (more levels than Python's recursion "
            f"limit of {sys.getrecursionlimit()})"
        ) from error
    except MemoryError as error:
        raise InputError(f"{source}: too large to be read into memory") from error
    except UnicodeDecodeError as error:
        if source in str(error):
            raise
        raise InputError(f"{source}: not UTF-8 text (byte {error.start})") from error
    except OSError as error:
        if error.filename is not None or source in str(error):
            raise
        raise InputError(f"{source}: cannot read ({error.strerror or one_line(error)})") from error
    except Exception as error:
        if is_expected(error):
            if source in str(error):
                raise
            raise InputError(f"{source}: {one_line(error)}") from error
        if _raised_by_unpickler(error.__traceback__):
            raise InputError(
                f"{source}: not a valid pickle ({type(error).__name__}: {one_line(error)})"
            ) from error
        raise


def _raised_by_unpickler(traceback: TracebackType | None) -> bool:
    """Whether the error came out of the unpickler working on the file's content: the
    traceback goes through the restricted unpickler and, after it, only through library code
    (the C unpickler, numpy's reconstructors, codecs), not through other code of ours."""
    modules = []
    while traceback is not None:
        modules.append(traceback.tb_frame.f_globals.get("__name__", ""))
        traceback = traceback.tb_next
    if _UNPICKLER_MODULE not in modules:
        return False
    last = len(modules) - 1 - modules[::-1].index(_UNPICKLER_MODULE)
    return not any(module.startswith("vggsounder_hf.") for module in modules[last + 1 :])


class DeferredWarnings(list[str]):
    """The warnings of a run, printed (once each) when it has succeeded: a failed run prints
    its one error line only.

    Example:
        >>> warn = DeferredWarnings("prog")
        >>> warn("2 clip id(s) were ignored"); warn("2 clip id(s) were ignored")
        >>> warn.print()  # prints "prog: warning: 2 clip id(s) were ignored" on stderr
    """

    def __init__(self, prog: str) -> None:
        super().__init__()
        self.prog = prog

    def __call__(self, message: str) -> None:
        if message not in self:
            self.append(message)

    def print(self) -> None:
        for message in self:
            print(f"{self.prog}: warning: {message}", file=sys.stderr)


def write_stdout(*texts: str) -> None:
    """Print ``texts`` to stdout. A reader that stopped reading (``| head``) is not an error;
    a failed write (a full disk behind ``> file``) raises an ``OSError`` naming stdout.
    Either way stdout is then pointed at the null device, so that the interpreter's last
    flush of what is still buffered prints no second message."""
    try:
        for text in texts:
            sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    except OSError as error:
        _silence_stdout()
        raise OSError(error.errno, f"cannot write ({error.strerror})", STDOUT) from None


def _silence_stdout() -> None:
    with contextlib.suppress(OSError, ValueError, AttributeError):  # tests capture stdout
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


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
