r"""The paper's Tables 2 and 3: the printed numbers, yours computed the same way, and both in the
paper's layout, ready to paste (Markdown, LaTeX, aligned text or JSON).

The printed values of both tables, for all eleven models of the paper, ship with the package
(:func:`published_tables`, transcribed from the paper, percent as printed). They are computed
on the ``paper`` protocol of :data:`~vggsounder_hf.core.schema.PROTOCOLS`, which differs from
the authors' code (``reference``) in three places:

=================  =================================  ===================================
\                   ``reference`` (the authors' code)  ``paper`` (the printed tables)
=================  =================================  ===================================
label release      1.0                                0.1.6
μ ground truth     every label of every clip          only AV labels, clips that have one
Table 3 ΔF1        F1(with) − F1(without)             F1(full) − F1(without)
=================  =================================  ===================================

:func:`paper_reports` scores models on a protocol as the two tables; :func:`paper_table` puts
such a table next to the published rows (row blocks by the paper's model groups, yours in the
block :data:`SUBMITTED_GROUP`); :func:`render_paper_tables` writes them with two decimals, the
best value of every column in bold (highest; lowest for μ; ΔF1 has no better direction, so no
bold), published rows marked ``†`` and the citation in the caption. :func:`vggsound_results`
scores models on VGGSound's own labels (the paper's Figure 4).

Example:
    >>> table = paper_table("table2")
    >>> [row.name for row in table.rows][:2], table.columns[-1].label
    (['CAV-MAE', 'DeepAVFusion'], 'μ_A∩V')
    >>> print(render_paper_tables([table], "markdown").splitlines()[4][:22])
    | *Embedding Models* |
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from vggsounder_hf.core.alignment import AlignedModel, align
from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.core.schema import (
    DEFAULT_CLIP_SET,
    DEFAULT_PROTOCOL,
    VGGSOUND_LABELS,
    TieBreak,
    protocol,
)
from vggsounder_hf.io.sources import Release, load_release
from vggsounder_hf.io.vggsound import VGGSOUND_COLUMNS
from vggsounder_hf.reports.meta import meta_columns, meta_label_report
from vggsounder_hf.reports.paper_render import (
    CITATION,
    PAPER_FORMATS,
    PaperColumn,
    PaperRow,
    PaperTable,
    render_paper_tables,
)
from vggsounder_hf.reports.render import ReportTable
from vggsounder_hf.reports.tables import ModelResult, main_table

__all__ = [
    "CITATION",
    "PAPER_FORMATS",
    "PAPER_PROTOCOL",
    "PAPER_TABLES",
    "SUBMITTED_GROUP",
    "PaperColumn",
    "PaperRow",
    "PaperTable",
    "paper_reports",
    "paper_table",
    "published_tables",
    "render_paper_tables",
    "vggsound_results",
]

PAPER_PROTOCOL = protocol("paper").name
"""The protocol the published numbers are computed on."""
PAPER_TABLES: tuple[str, ...] = ("table2", "table3")
"""The tables of the packaged file: Table 2 (main results) and Table 3 (meta labels)."""
SUBMITTED_GROUP = "Submitted models (not published)"
"""The row block of the models scored here."""


@functools.cache
def _packaged_text() -> str:
    data = resources.files("vggsounder_hf.reports").joinpath("data", "paper_tables.json")
    return data.read_text(encoding="utf-8")


def published_tables() -> dict[str, Any]:
    """The printed values of Tables 2 and 3 (a fresh copy of the packaged JSON): per table its
    caption, its columns (``key``: the column key of ``vggsounder-score``; the paper's
    ``group`` and ``label``) and its rows by model (``paper_name``, ``group``,
    ``released_predictions``, ``values`` in percent as printed)."""
    return json.loads(_packaged_text())


def _report_columns(name: str) -> dict[str, Any]:
    """The report columns of a table by key: the main table's, or the meta-label table's."""
    if name not in PAPER_TABLES:
        raise ValueError(f"unknown paper table {name!r}; use one of {', '.join(PAPER_TABLES)}")
    columns = main_table([]).columns if name == "table2" else meta_columns()
    return {column.key: column for column in columns}


def paper_table(
    name: str, report: ReportTable | None = None, *, group: str = SUBMITTED_GROUP
) -> PaperTable:
    """The published rows of ``table2`` or ``table3``, followed by the rows of ``report``.

    Args:
        name: ``"table2"`` or ``"table3"``.
        report: Your models as that table: the main table, or the meta-label table (see
            :func:`paper_reports`), scored on the paper protocol.
        group: The row block of your rows.

    Raises:
        ValueError: An unknown table, a report on another protocol or without the table's
            columns, or a packaged file whose columns are not the report's.
    """
    by_key = _report_columns(name)
    data = published_tables()[name]
    if [column["key"] for column in data["columns"]] != list(by_key):
        raise ValueError(f"the packaged {name} does not have the columns of the report")
    columns = tuple(
        PaperColumn(entry["key"], entry["group"], entry["label"], by_key[entry["key"]].better)
        for entry in data["columns"]
    )
    rows = [
        PaperRow(
            row["paper_name"], row["group"], tuple(row["values"]), True, row["released_predictions"]
        )
        for row in data["rows"].values()
    ]
    metadata: dict[str, Any] = {
        "protocol": PAPER_PROTOCOL,
        "published": published_tables()["source"],
    }
    if report is not None:
        rows += _submitted_rows(name, report, columns, group)
        metadata = {**report.metadata, "published": metadata["published"]}
    notes = tuple(report.notes) if report is not None and name == "table3" else ()
    return PaperTable(name, data["caption"], columns, tuple(rows), metadata, notes)


def _submitted_rows(
    name: str, report: ReportTable, columns: Sequence[PaperColumn], group: str
) -> list[PaperRow]:
    used = report.metadata.get("protocol", DEFAULT_PROTOCOL)
    release = report.metadata.get("label_version", protocol(PAPER_PROTOCOL).label_release)
    if (used, release) != (PAPER_PROTOCOL, protocol(PAPER_PROTOCOL).label_release):
        raise ValueError(
            f"the published {name} is on protocol {PAPER_PROTOCOL!r} with labels "
            f"{protocol(PAPER_PROTOCOL).label_release}; these results are on protocol {used!r} "
            f"with labels {release} and would not be comparable"
        )
    where = {column.key: index for index, column in enumerate(report.columns)}
    missing = [column.key for column in columns if column.key not in where]
    if missing:
        raise ValueError(f"the report has no column {', '.join(missing)} of {name}")
    rows = []
    for row in report.rows:
        values = [row.values[where[column.key]] for column in columns]
        percent = tuple(
            100 * float(value) if value is not None and math.isfinite(value) else None
            for value in values
        )
        rows.append(PaperRow(row.name, group, percent, False))
    return rows


def paper_reports(
    truth: GroundTruth,
    models: Sequence[tuple[str, ModelPredictions | AlignedModel]],
    *,
    protocol_name: str = PAPER_PROTOCOL,
    clip_set: Any = DEFAULT_CLIP_SET,
    k: int = 1,
    tie_break: TieBreak = "reference",
    metadata: Mapping[str, Any] | None = None,
) -> tuple[ReportTable, ReportTable]:
    """Table 2 (the main table, with the protocol's μ) and Table 3 (the meta-label table in
    the protocol's reading) of ``models``, each aligned once (with the protocol's
    ``mu_ground_truth``; a model already aligned must have it).

    ``truth`` is every clip of the label release (the paper's: ``protocol("paper").
    label_release``, 0.1.6); Table 2 is on ``clip_set``, Table 3 on its own clip sets.
    """
    mu_ground_truth = protocol(protocol_name).mu_ground_truth
    aligned = [
        (name, _aligned(truth, model, k, tie_break, mu_ground_truth)) for name, model in models
    ]
    info = {**(metadata or {}), "protocol": protocol_name}
    results = []
    for name, model in aligned:
        scored = evaluate_predictions(truth, model, clip_set=clip_set, protocol=protocol_name)
        results.append(ModelResult(name, model.kind, scored, model.source, model))
    main_info = {**info, "clip_set": clip_set, "num_clips": int(truth.mask(clip_set).sum())}
    table2 = main_table(results, ks=(k,), metadata=main_info)
    table3 = meta_label_report(
        truth, aligned, k=k, tie_break=tie_break, metadata=info, protocol=protocol_name
    )
    return table2, table3


def _aligned(
    truth: GroundTruth,
    model: ModelPredictions | AlignedModel,
    k: int,
    tie_break: TieBreak,
    mu_ground_truth: str,
) -> AlignedModel:
    """The model aligned for the protocol's μ (an aligned model is checked by the scoring)."""
    if isinstance(model, AlignedModel):
        return model
    return align(truth, model, ks=(k,), tie_break=tie_break, mu_ground_truth=mu_ground_truth)


def vggsound_results(
    models: Sequence[tuple[str, ModelPredictions | AlignedModel]],
    *,
    release: Release | None = None,
    data_path: Any = None,
    tie_break: TieBreak = "reference",
) -> list[ModelResult]:
    """Every model scored on VGGSound's own labels: ``<column>/hit`` (``hit@1`` for scores)
    of the columns a, v and av is the paper's accuracy on VGGSound per input.

    Args:
        models: ``(name, predictions)``; an aligned model's predictions are aligned anew.
        release: VGGSound's labels already loaded, else ``load_release("vggsound",
            data_path)`` (a user file or folder, else VGGSound's public CSV).
        tie_break: How top-1 treats tied scores.
    """
    release = release or load_release(VGGSOUND_LABELS, data_path)
    truth = GroundTruth.from_release(release)
    results = []
    for name, model in models:
        predictions = model.predictions if isinstance(model, AlignedModel) else model
        aligned = align(truth, predictions, ks=(1,), tie_break=tie_break)
        scored = evaluate_predictions(
            truth, aligned, clip_set="full", columns=VGGSOUND_COLUMNS, modality_confusion=False
        )
        results.append(ModelResult(name, aligned.kind, scored, aligned.source, aligned))
    return results
