"""The outputs of ``vggsounder-score`` that reproduce the paper.

* the meta-label table (``--report meta``, ``--meta-report``) in the reading of ``--protocol``;
* ``--with-published``: the user's rows of Tables 2 and 3 under the published rows, in the
  paper's layout (:mod:`vggsounder_hf.reports.paper_render`);
* the main table on VGGSound's labels (``--labels vggsound``), with the columns that have
  clips and a note saying why the others are left out;
* ``--compare-vggsound``: Figure 4 into the ``--radar`` file, and its numbers on stdout.

:func:`core_outputs` is the run without these outputs, for
:func:`~vggsounder_hf.cli._score_outputs.render_outputs`; :func:`add_paper_outputs` renders
them into the same :class:`~vggsounder_hf.cli._score_outputs.Outputs`, committed together.
"""

from __future__ import annotations

import argparse
import dataclasses
import warnings
from collections.abc import Sequence
from typing import Any

from vggsounder_hf.cli._errors import reading_input
from vggsounder_hf.cli._score_options import evaluation_options
from vggsounder_hf.cli._score_outputs import Outputs, Run, report_format
from vggsounder_hf.core.schema import VGGSOUND_LABELS

__all__ = ["VGGSOUND_NOTE", "add_paper_outputs", "core_outputs"]

VGGSOUND_NOTE = (
    "VGGSound's labels: one label per clip, marked AV, no meta label; hit of a, v and av is "
    "the paper's accuracy on VGGSound (top-1 for score models). a only and v only are left "
    "out: no clip has an A-only or V-only label."
)
_TEXT_FORMATS = ("table", "markdown", "latex")


def _main_is_ours(args: argparse.Namespace) -> bool:
    return args.report == "main" and (args.with_published or args.label_version == VGGSOUND_LABELS)


def core_outputs(run: Run) -> Run:
    """The run as :func:`render_outputs` should see it: without the outputs made here."""
    args = argparse.Namespace(**vars(run.args))
    args.meta_report = None
    if args.report == "meta" or _main_is_ours(run.args):
        args.report = None
    if args.compare_vggsound:
        args.radar = None
    return dataclasses.replace(run, args=args)


def add_paper_outputs(run: Run, outputs: Outputs, results: Sequence[Any]) -> None:
    """Render the outputs of this module that the options ask for; ``results`` are the main
    table's results when :func:`render_outputs` computed them (else they are computed here)."""
    args = run.args
    if args.with_published:
        _with_published(run, outputs)
    elif _main_is_ours(args):
        _vggsound_main(run, outputs, results or _scored(run))
    if args.report == "meta" or args.meta_report:
        _meta(run, outputs)
    if args.compare_vggsound:
        _figure_4(run, outputs, results or _scored(run))


def _scored(run: Run) -> list[Any]:
    from vggsounder_hf.reports import tables

    return tables.score_models(
        run.truth,
        run.pairs(),
        clip_set=run.args.clip_set,
        ks=run.ks,
        progress=lambda items: run.progress(items, desc="scoring", unit="model"),
        **evaluation_options(run.args),
    )


def _info(run: Run, *keys: str) -> dict[str, Any]:
    wanted = ("label_version", "protocol", "labels_source", "annotations_sha256", *keys)
    return {key: run.metadata[key] for key in wanted if key in run.metadata}


def _meta(run: Run, outputs: Outputs) -> None:
    from vggsounder_hf.reports.meta import meta_label_report
    from vggsounder_hf.reports.render import render

    args = run.args
    if len(run.ks) > 1:
        run.warn(f"the meta-label table uses k={run.ks[0]} for score models")
    table = meta_label_report(
        run.truth,
        run.pairs(),
        k=run.ks[0],
        tie_break=args.tie_break,
        metadata=_info(run),
        progress=lambda items: run.progress(items, desc="meta-label sets", unit="set"),
        protocol=args.protocol,
    )
    if args.report == "meta":
        outputs.add(args.output, render(table, report_format(args.output, args.format, "table")))
    if args.meta_report:
        chosen = report_format(args.meta_report, args.format, "table", extension_first=True)
        outputs.add(args.meta_report, render(table, chosen))


def _with_published(run: Run, outputs: Outputs) -> None:
    from vggsounder_hf.reports.paper import (
        PAPER_TABLES,
        paper_reports,
        paper_table,
        render_paper_tables,
    )

    args = run.args
    reports = paper_reports(
        run.truth,
        run.pairs(),
        protocol_name=args.protocol,
        clip_set=args.clip_set,
        k=run.ks[0],
        tie_break=args.tie_break,
        metadata=_info(run, "vggsounder_hf_version"),
    )
    tables = [paper_table(name, report) for name, report in zip(PAPER_TABLES, reports, strict=True)]
    chosen = report_format(args.output, args.format, "table")
    outputs.add(args.output, render_paper_tables(tables, chosen))


def _vggsound_main(run: Run, outputs: Outputs, results: Sequence[Any]) -> None:
    from vggsounder_hf.reports import tables

    args = run.args
    table = tables.main_table(
        results, metrics=args.metrics, columns=args.columns, ks=run.ks, metadata=run.metadata
    )
    table = dataclasses.replace(table, notes=(*table.notes, VGGSOUND_NOTE))
    outputs.add(args.output, tables.render(table, report_format(args.output, args.format, "table")))


def _figure_4(run: Run, outputs: Outputs, vggsounder: Sequence[Any]) -> None:
    from vggsounder_hf.io.sources import load_release
    from vggsounder_hf.reports.paper import vggsound_results
    from vggsounder_hf.reports.plots import (
        benchmark_comparison,
        comparison_table,
        plot_format,
        render_comparison_radar,
    )
    from vggsounder_hf.reports.render import render

    args = run.args
    with reading_input(args.vggsound_labels or f"labels {VGGSOUND_LABELS}"):
        release = load_release(VGGSOUND_LABELS, args.vggsound_labels)
    vggsound = vggsound_results(run.pairs(), release=release, tie_break=args.tie_break)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        comparisons = benchmark_comparison(vggsounder, vggsound, k=run.ks[0])
    for warning in caught:
        run.warn(str(warning.message))
    outputs.add(args.radar, render_comparison_radar(comparisons, format=plot_format(args.radar)))
    info = {
        **_info(run, "clip_set", "num_clips"),
        "vggsound_labels_source": release.files.source,
        "vggsound_content_sha256": release.files.content_sha256,
    }
    chosen = args.format if args.format in _TEXT_FORMATS else "table"
    outputs.add(None, render(comparison_table(comparisons, info), chosen))
