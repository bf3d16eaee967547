"""What ``vggsounder-score`` writes: every report rendered from one alignment per model, then
all files replaced together.

:func:`check_clips` first makes sure each prediction file is about the clips scored: a file
none of whose clip ids is in the clip set is refused (instead of a table of zeros), and ids
that are not clips of the ground truth are counted and reported in a warning, as unknown
labels are. :func:`render_outputs` then renders the main table, the meta-label table, the
confused clips and the radar plot into memory; a column without any scored clip shows ``–``
with a note instead of ``nan`` next to ``0.00``. :meth:`Outputs.commit` writes the files all
or none (:func:`vggsounder_hf.io.atomic.commit_files`) and only then prints to stdout.

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
import dataclasses
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vggsounder_hf.cli._errors import write_stdout
from vggsounder_hf.core.schema import COLUMNS, INPUT_MODALITIES, ResultKey, column, columns, metric
from vggsounder_hf.io.atomic import commit_files

if TYPE_CHECKING:  # numpy and the core are imported when a command runs, not at start-up
    from vggsounder_hf.core.alignment import AlignedModel
    from vggsounder_hf.reports.render import ReportTable

__all__ = [
    "REPORT_EXTENSIONS",
    "Model",
    "Outputs",
    "Run",
    "check_clip_set",
    "check_clips",
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
        """Write every file (see :func:`commit_files`), then print the stdout parts.

        Raises:
            OSError: A file, or stdout, cannot be written (naming it).
        """
        commit_files(self.files)
        write_stdout(*self.stdout)


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
        table = _mark_empty_columns(table, tables.table_layout(args.metrics, args.columns), run)
        chosen = report_format(args.output, args.format, "table")
        outputs.add(args.output, tables.render(table, chosen))
    if args.report == "meta" or args.meta_report:
        _meta(run, outputs)
    if args.report == "confusion" or args.confused_clips:
        _confusion(run, outputs)
    if args.radar:
        outputs.add(args.radar, _radar(run, results))
    return outputs, results


def _mark_empty_columns(
    table: ReportTable, layout: Sequence[tuple[str, Sequence[str]]], run: Run
) -> ReportTable:
    """``–`` (not ``nan`` or ``0.00``) in every column without a scored clip, with a note
    and a warning per model saying which columns are empty."""
    slots = [
        ("μ", ResultKey("mu", "num_clips"))
        if metric(name).family == "confusion"
        else (column(part).name, ResultKey(part, "num_clips"))
        for name, parts in layout
        for part in parts
    ]
    if len(slots) != len(table.columns):  # pragma: no cover - the layout makes the columns
        raise AssertionError("the table's columns do not follow its layout")
    rows, notes = [], list(table.notes)
    for row in table.rows:
        results = row.details.get("results", {})
        empty = [results.get(key.format()) == 0 for _, key in slots]
        if not any(empty):
            rows.append(row)
            continue
        values = tuple(
            None if gone else value for value, gone in zip(row.values, empty, strict=True)
        )
        intervals = row.intervals and tuple(
            None if gone else bounds for bounds, gone in zip(row.intervals, empty, strict=True)
        )
        rows.append(dataclasses.replace(row, values=values, intervals=intervals))
        names = dict.fromkeys(name for (name, _), gone in zip(slots, empty, strict=True) if gone)
        problem = (
            f"{row.details.get('model', row.name)}: no clip of the clip set "
            f"{run.args.clip_set!r} to score in column(s) {', '.join(names)}; shown as – "
            "instead of a number"
        )
        if f"–: {problem}" not in notes:
            notes.append(f"–: {problem}")
            if row.kind == "scores":  # label sets: the clip set's own gap, warned about once
                run.warn(problem)
    return dataclasses.replace(table, rows=tuple(rows), notes=tuple(notes))


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
        key: run.metadata[key]
        for key in ("protocol", "label_version", "clip_set", "num_clips", "tie_break")
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


# --------------------------------------------------------------------------- the clips scored


def check_clip_set(truth: Any, args: argparse.Namespace, warn: Callable[[str], None]) -> None:
    """Refuse an empty clip set (every rate would be undefined); warn about table columns
    that have no clip in it (:func:`vggsounder_hf.core.coverage.check_clip_set`)."""
    from vggsounder_hf.core.coverage import check_clip_set as check

    source = args.data_path or f"labels {args.label_version}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check(
            truth, args.clip_set, columns(args.columns) if args.columns else COLUMNS, source=source
        )
    for warning in caught:
        warn(str(warning.message))


def check_clips(run: Run) -> None:
    """Refuse a prediction file none of whose clip ids is in the clip set (it would score as
    a table of zeros, :func:`vggsounder_hf.core.coverage.check_overlap`); warn about ids
    that are not clips of the ground truth (ignored, as the reference does), with their count
    and a few examples.

    Raises:
        NoMatchingClipsError: A file matches no clip of the clip set (naming the file).
    """
    from vggsounder_hf.core.coverage import check_overlap

    labels = run.args.data_path or f"labels {run.args.label_version}"
    for model in run.models:
        if model.path is None:  # a baseline, made from the ground truth itself
            continue
        check_overlap(run.truth, model.aligned, run.args.clip_set, strict=True)
        unknown = model.aligned.num_unknown_clips
        if unknown:
            examples = ", ".join(map(repr, _unknown_ids(model.aligned, 3)))
            run.warn(
                f"{model.path}: {unknown:,} predicted clip id(s) are not clips of {labels} and "
                f"were ignored, as the reference does: {examples}"
                + (", ..." if unknown > 3 else "")
            )


def _unknown_ids(aligned: AlignedModel, count: int) -> list[str]:
    """The first ``count`` predicted clip ids that are not clips of the ground truth."""
    found: dict[str, None] = {}
    arrays = {id(given.video_ids): given.video_ids for given in aligned.predictions.inputs.values()}
    for ids in arrays.values():  # inputs that share one id array are looked up once
        outside = ids[aligned.truth.row_of(ids) < 0][:count]
        found.update(dict.fromkeys(outside.tolist()))
    return list(found)[:count]
