"""Write output files atomically: a temporary file in the same folder, then ``os.replace``.

A reader never sees a half-written report, and a failed write leaves the old file (or no
file) in place. :func:`commit_files` extends this to several files at once: all of them are
replaced, or none is changed.

Every error names the file the caller asked for, never the temporary file: a full disk reads
``OSError: [Errno 28] cannot write (No space left on device): 'table.md'``.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_atomic(folder / "table.md", "| model |\\n")
    >>> (folder / "table.md").read_text()
    '| model |\\n'
    >>> commit_files([(folder / "a.txt", b"a"), (folder / "table.md", b"b")])
    >>> sorted((path.name, path.read_text()) for path in folder.iterdir())
    [('a.txt', 'a'), ('table.md', 'b')]
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

__all__ = ["atomic_path", "commit_files", "stage", "write_atomic"]


def _cannot_write(error: OSError, target: Path, what: str = "cannot write") -> OSError:
    """``error`` again, naming ``target`` (the user's file) instead of a temporary file."""
    reason = error.strerror or str(error) or type(error).__name__
    return OSError(error.errno, f"{what} ({reason})", str(target))  # errno picks the subclass


def _check_target(target: Path) -> Path:
    """The folder ``target`` will be written in; refuse a missing folder or a directory."""
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"folder {folder} does not exist", str(target))
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a file", str(target))
    return folder


def _temporary_next_to(target: Path) -> tuple[int, Path]:
    """A new, empty temporary file in ``target``'s folder (open descriptor and path). It keeps
    the target's suffix, so writers that look at the extension (``savefig``) still see it."""
    import tempfile  # here: with its random, shutil and bz2 it is 8 ms of every CLI start

    folder = _check_target(target)
    try:
        handle, name = tempfile.mkstemp(
            dir=folder, prefix=f".{target.name}.", suffix=f".tmp{target.suffix}"
        )
    except OSError as error:
        raise _cannot_write(error, target) from None
    return handle, Path(name)


def _publishable(temporary: Path) -> None:
    os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; use normal permissions


def stage(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to a new temporary file next to ``target`` and return its path.

    The caller moves it onto ``target`` with ``os.replace`` (or removes it). On any failure
    (a full disk included) nothing is left behind and the error names ``target``.
    """
    target = Path(target)
    handle, temporary = _temporary_next_to(target)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view) :]
            os.fsync(handle)
        finally:
            os.close(handle)
        _publishable(temporary)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise _cannot_write(error, target) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` if the block succeeds.

    An ``OSError`` in the block (a full disk while the caller writes) is raised again naming
    ``path``.
    """
    target = Path(path)
    handle, temporary = _temporary_next_to(target)
    os.close(handle)
    try:
        try:
            yield temporary
            _publishable(temporary)
            os.replace(temporary, target)
        except OSError as error:
            raise _cannot_write(error, target) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` atomically; return the path."""
    target = Path(path)
    temporary = stage(target, data.encode("utf-8") if isinstance(data, str) else data)
    try:
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise _cannot_write(error, target) from None
    return target


def commit_files(files: Sequence[tuple[str | os.PathLike[str], bytes]]) -> None:
    """Write every ``(path, data)``, or change none of the files.

    Every file is first written to a temporary file in its target's folder (:func:`stage`);
    then every existing target is backed up (a hard link, or a copy) and the temporaries are
    moved onto the targets. If anything fails, the targets already replaced get their old
    content back (or are removed if they did not exist), and no temporary file is left behind.

    Raises:
        OSError: A file cannot be written, naming the file the caller asked for.
    """
    staged: list[tuple[Path, Path]] = []
    backups: dict[Path, Path] = {}
    try:
        for target, data in files:
            staged.append((stage(target, data), Path(target)))
        for _, target in staged:
            if target.exists():
                backups[target] = _backup(target)
        _replace_all(staged, backups)
    finally:
        for path in [temporary for temporary, _ in staged] + list(backups.values()):
            path.unlink(missing_ok=True)


def _backup(target: Path) -> Path:
    """A second name for ``target``'s current content, to restore it from."""
    import secrets
    import shutil

    backup = target.with_name(f".{target.name}.{secrets.token_hex(6)}.bak")
    try:
        os.link(target, backup)
    except OSError:  # no hard links here: copy
        try:
            shutil.copy2(target, backup)
        except OSError as error:
            backup.unlink(missing_ok=True)
            raise _cannot_write(error, target, "cannot back up") from None
    return backup


def _replace_all(staged: Sequence[tuple[Path, Path]], backups: Mapping[Path, Path]) -> None:
    done: list[Path] = []
    try:
        for temporary, target in staged:
            try:
                os.replace(temporary, target)
            except OSError as error:
                raise _cannot_write(error, target) from None
            done.append(target)
    except BaseException:
        for target in reversed(done):
            if target in backups:
                os.replace(backups[target], target)
            else:
                target.unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current
