"""What ``vggsounder-score`` writes: every report rendered from one alignment per model, then
all files replaced together.

:func:`render_outputs` renders the main table, the meta-label table, the confused clips and
the radar plot into memory. :meth:`Outputs.commit` then writes the files all or none (each to
a temporary file next to its target, every existing target backed up, then ``os.replace``;
on any failure the old files are put back and the temporaries removed) and only then prints
to stdout.

Example:
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> outputs = Outputs()
    >>> outputs.add(str(folder / "a.txt"), "first\\n")
    >>> outputs.add(str(folder / "b.txt"), b"second\\n")
    >>> outputs.commit()
    >>> sorted(path.name for path in folder.iterdir())
    ['a.txt', 'b.txt']
"""

from __future__ import annotations

import argparse
import errno
import os
import secrets
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vggsounder_hf.core.alignment import AlignedModel
from vggsounder_hf.core.schema import INPUT_MODALITIES, ResultKey

__all__ = [
    "REPORT_EXTENSIONS",
    "Model",
    "Outputs",
    "Run",
    "commit_files",
    "push",
    "render_outputs",
    "report_format",
]

REPORT_EXTENSIONS: dict[str, str] = {
    ".txt": "table",
    ".md": "markdown",
    ".markdown": "markdown",
    ".tex": "latex",
    ".csv": "csv",
    ".json": "json",
}
"""Report file extensions and the output format each stands for."""


@dataclass(frozen=True)
class Model:
    """A model of the command line: its row name, its file, its one alignment."""

    name: str
    path: str | None
    aligned: AlignedModel


@dataclass
class Outputs:
    """Rendered outputs waiting to be written: files (all or none), then stdout."""

    files: list[tuple[Path, bytes]] = field(default_factory=list)
    stdout: list[str] = field(default_factory=list)

    def add(self, path: str | None, data: str | bytes) -> None:
        """Queue ``data`` for ``path`` (``None``: stdout)."""
        if path is None:
            self.stdout.append(data if isinstance(data, str) else data.decode())
            return
        self.files.append((Path(path), data.encode() if isinstance(data, str) else data))

    def commit(self) -> None:
        """Write every file (see :func:`commit_files`), then print the stdout parts."""
        commit_files(self.files)
        for text in self.stdout:
            sys.stdout.write(text)
        sys.stdout.flush()


def report_format(
    path: str | None, chosen: str | None, default: str, *, extension_first: bool = False
) -> str:
    """The output format: ``--format`` (for ``--output``), else the file's extension, else
    ``default``. For the extra report files (``extension_first``) the extension wins.

    Example:
        >>> report_format("t.md", None, "table"), report_format("t.md", "csv", "table")
        ('markdown', 'csv')
    """
    by_extension = REPORT_EXTENSIONS.get(Path(path).suffix.lower()) if path else None
    if extension_first and by_extension is not None:
        return by_extension
    return chosen or by_extension or default


@dataclass(frozen=True)
class Run:
    """One run of the command: its options, the ground truth, the aligned models, the ks,
    the metadata of every report, a progress wrapper and a warning printer."""

    args: argparse.Namespace
    truth: Any
    models: Sequence[Model]
    ks: tuple[int, ...]
    metadata: Mapping[str, Any]
    progress: Callable[..., Any]
    warn: Callable[[str], None]

    def pairs(self) -> list[tuple[str, AlignedModel]]:
        return [(model.name, model.aligned) for model in self.models]


def render_outputs(run: Run, evaluation_options: Mapping[str, Any]) -> tuple[Outputs, list[Any]]:
    """Render every report the options ask for; return them and the main table's results
    (:class:`~vggsounder_hf.reports.tables.ModelResult`, empty when not needed)."""
    from vggsounder_hf.reports import tables

    args, outputs = run.args, Outputs()
    results: list[tables.ModelResult] = []
    if args.report == "main" or args.radar or args.push_results:
        scored = tables.score_models(
            run.truth,
            run.pairs(),
            clip_set=args.clip_set,
            ks=run.ks,
            progress=lambda items: run.progress(items, desc="scoring", unit="model"),
            **evaluation_options,
        )
        results = [
            tables.ModelResult(model.name, result.kind, result.results, model.path, model.aligned)
            for model, result in zip(run.models, scored, strict=True)
        ]
    if args.report == "main":
        table = tables.main_table(
            results, metrics=args.metrics, columns=args.columns, ks=run.ks, metadata=run.metadata
        )
        chosen = report_format(args.output, args.format, "table")
        outputs.add(args.output, tables.render(table, chosen))
    if args.report == "meta" or args.meta_report:
        _meta(run, outputs)
    if args.report == "confusion" or args.confused_clips:
        _confusion(run, outputs)
    if args.radar:
        outputs.add(args.radar, _radar(run, results))
    return outputs, results


def _meta(run: Run, outputs: Outputs) -> None:
    from vggsounder_hf.reports.meta import meta_label_report
    from vggsounder_hf.reports.render import render

    args = run.args
    info = {
        key: run.metadata[key]
        for key in ("label_version", "labels_source", "annotations_sha256")
        if key in run.metadata
    }
    if len(run.ks) > 1:
        run.warn(f"the meta-label table uses k={run.ks[0]} for score models")
    table = meta_label_report(
        run.truth,
        run.pairs(),
        k=run.ks[0],
        tie_break=args.tie_break,
        metadata=info,
        progress=lambda items: run.progress(items, desc="meta-label sets", unit="set"),
    )
    if args.report == "meta":
        outputs.add(args.output, render(table, report_format(args.output, args.format, "table")))
    if args.meta_report:
        chosen = report_format(args.meta_report, args.format, "table", extension_first=True)
        outputs.add(args.meta_report, render(table, chosen))


def _confusion(run: Run, outputs: Outputs) -> None:
    from vggsounder_hf.reports.confusion import (
        CONFUSION_FORMATS,
        confused_clips,
        render_confusion_report,
    )

    args = run.args
    rows: list[dict[str, Any]] = []
    for model in run.progress(run.models, desc="confused clips", unit="model"):
        missing = [m for m in INPUT_MODALITIES if m not in model.aligned.inputs]
        if missing:
            run.warn(f"{model.name}: no input {', '.join(missing)}; left out of the confused clips")
            continue
        rows += confused_clips(run.truth, model.aligned, model=model.name, clip_set=args.clip_set)
    info = {
        key: run.metadata[key] for key in ("label_version", "clip_set", "num_clips", "tie_break")
    }
    if args.report == "confusion":
        chosen = report_format(args.output, args.format, "csv")
        if chosen not in CONFUSION_FORMATS:
            raise ValueError(f"{args.output}: the confused-clips report is written as csv or json")
        outputs.add(args.output, render_confusion_report(rows, chosen, metadata=info))
    if args.confused_clips:
        chosen = Path(args.confused_clips).suffix.lower().lstrip(".")
        outputs.add(args.confused_clips, render_confusion_report(rows, chosen, metadata=info))


def _radar(run: Run, results: Sequence[Any]) -> bytes:
    from vggsounder_hf.reports.plots import plot_format, render_radar

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = render_radar(
            results,
            format=plot_format(run.args.radar),
            metric=run.args.radar_metric,
            k=run.ks[0],
        )
    for warning in caught:
        run.warn(str(warning.message))
    return data


def push(args: argparse.Namespace, result: Any, metadata: Mapping[str, Any], prog: str) -> None:
    """Write one model's results into the model card of ``--push-results`` (bootstrap bounds
    are left out: a model-index holds values)."""
    try:
        from vggsounder_hf.hf.hub_results import push_results
    except ImportError as error:  # pragma: no cover - depends on the installation
        raise ValueError(f"--push-results is not available: {error}") from None
    entry = {
        "results": {key: value for key, value in result.results.items() if not _is_bound(key)},
        "label_version": metadata["label_version"],
        "clip_set": metadata["clip_set"],
    }
    push_results(
        args.push_results,
        [entry],
        label_version=metadata["label_version"],
        clip_set=metadata["clip_set"],
        dry_run=args.dry_run,
        stream=sys.stdout,
    )
    if not args.dry_run:
        print(
            f"{prog}: wrote the results into the model card of {args.push_results}", file=sys.stderr
        )


def _is_bound(key: str) -> bool:
    try:
        return ResultKey.parse(key).bound is not None
    except ValueError:
        return False


# --------------------------------------------------------------------------- all or nothing


def commit_files(files: Sequence[tuple[Path, bytes]]) -> None:
    """Write every ``(path, data)``, or change none of the files.

    Every file is first written to a temporary file in its target's folder; then every
    existing target is backed up (a hard link, or a copy) and the temporaries are moved onto
    the targets. If anything fails, the targets already replaced get their old content back
    (or are removed if they did not exist), and no temporary file is left behind.

    Raises:
        OSError: A file cannot be written, naming the file the user asked for.
    """
    staged: list[tuple[Path, Path]] = []
    backups: dict[Path, Path] = {}
    try:
        for target, data in files:
            staged.append((_stage(target, data), target))
        for _, target in staged:
            if target.is_dir():
                raise IsADirectoryError(errno.EISDIR, "is a directory, not a file", str(target))
            if target.exists():
                backups[target] = _backup(target)
        _replace_all(staged, backups)
    finally:
        for path in [temporary for temporary, _ in staged] + list(backups.values()):
            path.unlink(missing_ok=True)


def _stage(target: Path, data: bytes) -> Path:
    """``data`` in a new temporary file next to ``target`` (same suffix, normal permissions)."""
    folder = target.parent if str(target.parent) else Path(".")
    try:
        handle, name = tempfile.mkstemp(
            dir=folder, prefix=f".{target.name}.", suffix=f".tmp{target.suffix}"
        )
    except OSError as error:  # name the file the user asked for, not the temporary one
        raise OSError(error.errno, f"cannot write ({error.strerror})", str(target)) from None
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _backup(target: Path) -> Path:
    """A second name for ``target``'s current content, to restore it from."""
    backup = target.with_name(f".{target.name}.{secrets.token_hex(6)}.bak")
    try:
        os.link(target, backup)
    except OSError:  # no hard links here: copy
        try:
            shutil.copy2(target, backup)
        except OSError as error:
            backup.unlink(missing_ok=True)
            raise OSError(error.errno, f"cannot back up ({error.strerror})", str(target)) from None
    return backup


def _replace_all(staged: Sequence[tuple[Path, Path]], backups: Mapping[Path, Path]) -> None:
    done: list[Path] = []
    try:
        for temporary, target in staged:
            try:
                os.replace(temporary, target)
            except OSError as error:
                raise OSError(
                    error.errno, f"cannot write ({error.strerror})", str(target)
                ) from None
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
