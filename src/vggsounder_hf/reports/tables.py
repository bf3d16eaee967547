"""The paper's main results table, built from :func:`~vggsounder_hf.core.evaluation.evaluate_predictions`
results, and renderers for the terminal, Markdown, LaTeX, CSV and JSON.

The default layout is the one of the paper's main table, one row per model:

=====================  =====================================  ==================
group                  columns                                result keys
=====================  =====================================  ==================
Subset accuracy ↑      a, v, av                               ``<col>/subset_accuracy``
F1 ↑                   a, v, av, a only, v only               ``<col>/f1``
Hit ↑                  a, v, av                               ``<col>/hit``
μ ↓                    A, V, A∩V                              ``mu/a``, ``mu/v``, ``mu/a_and_v``
=====================  =====================================  ==================

Values are shown in percent with two decimals. Score models are shown at one top-``k``
(``<metric>@<k>``; default ``k=1``, the paper's choice); with several ``ks`` a score
model gets one row per ``k``. ``auc_roc``/``auc_pr`` and μ do not depend on ``k`` (μ uses
top-1, as the reference). A value the model does not have (an input it lacks, AUC of a
label-set model) is shown as ``–``.

This module only arranges and formats numbers; every number comes from
:func:`~vggsounder_hf.core.evaluation.evaluate_predictions`.

Example:
    >>> model = ModelResult("toy", "labels", {"a/f1": 0.5, "v/f1": 0.25})
    >>> table = main_table([model], metrics=["f1"], columns=["a", "v"])
    >>> print(render(table, "markdown").splitlines()[-1])
    | toy | 50.00 | 25.00 |
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.core.functional import TieBreak
from vggsounder_hf.core.ground_truth import COLUMNS, GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.core.schema import LABEL_SET_METRICS
from vggsounder_hf.core.schema import column as column_spec

__all__ = [
    "FORMATS",
    "MAIN_LAYOUT",
    "METRICS",
    "MU_COLUMNS",
    "ModelResult",
    "ReportColumn",
    "ReportRow",
    "ReportTable",
    "caption",
    "format_percent",
    "latex_escape",
    "main_table",
    "parse_columns",
    "parse_metrics",
    "render",
    "result_key",
    "score_models",
    "table_layout",
]

FORMATS: tuple[str, ...] = ("table", "markdown", "latex", "csv", "json")
METRICS: tuple[str, ...] = (*LABEL_SET_METRICS, "auc_roc", "auc_pr", "mu")
MU_COLUMNS: tuple[str, ...] = ("a", "v", "a_and_v")
MAIN_LAYOUT: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("subset_accuracy", ("a", "v", "av")),
    ("f1", COLUMNS),
    ("hit", ("a", "v", "av")),
    ("mu", MU_COLUMNS),
)
METRIC_ALIASES: dict[str, str] = {
    "accuracy": "subset_accuracy",
    "acc": "subset_accuracy",
    "hit_rate": "hit",
    "modality_confusion": "mu",
    "μ": "mu",
}
GROUP_NAMES: dict[str, str] = {
    "subset_accuracy": "Subset accuracy",
    "f1": "F1",
    "f1_macro": "Macro F1",
    "precision": "Precision",
    "recall": "Recall",
    "jaccard": "Jaccard",
    "hit": "Hit",
    "auc_roc": "AUC-ROC",
    "auc_pr": "AUC-PR",
    "mu": "μ",
}
SHORT_GROUP_NAMES: dict[str, str] = {**GROUP_NAMES, "subset_accuracy": "Acc.", "f1_macro": "F1m"}
MU_LABELS: dict[str, str] = {"a": "A", "v": "V", "a_and_v": "A∩V"}
_K_FREE = frozenset({"auc_roc", "auc_pr"})
_MISSING = "–"


@dataclass(frozen=True)
class ModelResult:
    """One model's results from :func:`~vggsounder_hf.core.evaluation.evaluate_predictions`.

    Attributes:
        name: Row name (by default the prediction file's name without extension).
        kind: ``"labels"`` or ``"scores"``.
        results: The flat results dict (fractions).
        source: Where the predictions came from (a file path), for JSON output.
    """

    name: str
    kind: str
    results: Mapping[str, Any]
    source: str | None = None


@dataclass(frozen=True)
class ReportColumn:
    """One column of a report.

    Attributes:
        key: Stable identifier used as CSV header and JSON key (``"f1/a_only"``).
        group: Header over a run of columns (``"F1"``).
        label: The column's own header (``"a only"``).
        better: ``"higher"``, ``"lower"`` or ``None``; shown as an arrow on the group.
        signed: Show an explicit ``+`` on positive values (differences).
    """

    key: str
    group: str
    label: str
    better: str | None = "higher"
    signed: bool = False


@dataclass(frozen=True)
class ReportRow:
    """One row: a model (at one ``k`` for score models) and its values as fractions."""

    name: str
    kind: str
    k: int | None
    values: tuple[float | None, ...]
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportTable:
    """A report ready to render: columns, rows, a title and metadata (label version,
    clip set, k, tie break, ...), plus free-text notes shown under the table."""

    title: str
    columns: tuple[ReportColumn, ...]
    rows: tuple[ReportRow, ...]
    metadata: Mapping[str, Any]
    notes: tuple[str, ...] = ()


def parse_metrics(names: Iterable[str]) -> tuple[str, ...]:
    """Normalise metric names (comma-separated items allowed; reference names accepted).

    Example:
        >>> parse_metrics(["accuracy,f1", "hit_rate"])
        ('subset_accuracy', 'f1', 'hit')
    """
    parsed: list[str] = []
    for item in _split(names):
        metric = METRIC_ALIASES.get(item.lower(), item.lower())
        if metric not in METRICS:
            raise ValueError(f"unknown metric {item!r}; choose from {', '.join(METRICS)}")
        if metric not in parsed:
            parsed.append(metric)
    if not parsed:
        raise ValueError("no metric selected")
    return tuple(parsed)


def parse_columns(names: Iterable[str]) -> tuple[str, ...]:
    """Normalise column names: ``a_only``, ``a-only`` and ``"a only"`` all mean ``a only``.

    Example:
        >>> parse_columns(["a,v_only"])
        ('a', 'v only')
    """
    parsed: list[str] = []
    for item in _split(names):
        column = item.lower().replace("_", " ").replace("-", " ")
        column = " ".join(column.split())
        if column not in COLUMNS:
            raise ValueError(f"unknown column {item!r}; choose from a, v, av, a_only, v_only")
        if column not in parsed:
            parsed.append(column)
    if not parsed:
        raise ValueError("no column selected")
    return tuple(parsed)


def _split(names: Iterable[str]) -> list[str]:
    if isinstance(names, str):
        names = [names]
    return [part.strip() for name in names for part in name.split(",") if part.strip()]


def table_layout(
    metrics: Sequence[str] | None = None, columns: Sequence[str] | None = None
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The ``(metric, columns)`` groups of a table.

    Without arguments: :data:`MAIN_LAYOUT`. A metric of the main layout keeps its paper
    columns unless ``columns`` is given; other metrics get all five columns (or
    ``columns``). μ always has the columns A, V, A∩V.

    Example:
        >>> table_layout(["hit", "mu"], ["av"])
        (('hit', ('av',)), ('mu', ('a', 'v', 'a_and_v')))
    """
    main = dict(MAIN_LAYOUT)
    chosen = parse_metrics(metrics) if metrics else tuple(main)
    selected = parse_columns(columns) if columns else None
    layout = []
    for metric in chosen:
        if metric == "mu":
            layout.append((metric, MU_COLUMNS))
        else:
            layout.append((metric, selected or main.get(metric, COLUMNS)))
    return tuple(layout)


def result_key(metric: str, column: str, kind: str, k: int | None = None) -> str:
    """The key of a value in an :func:`evaluate_predictions` result.

    Example:
        >>> result_key("f1", "a only", "labels"), result_key("hit", "av", "scores", 3)
        ('a_only/f1', 'av/hit@3')
        >>> result_key("mu", "a_and_v", "scores", 5)
        'mu/a_and_v'
    """
    if metric == "mu":
        return f"mu/{column}"
    base = f"{column_spec(column).key}/{metric}"
    if kind == "scores" and metric not in _K_FREE:
        return f"{base}@{1 if k is None else k}"
    return base


def _columns_for(layout: Sequence[tuple[str, Sequence[str]]]) -> tuple[ReportColumn, ...]:
    columns = []
    for metric, names in layout:
        for name in names:
            label = MU_LABELS[name] if metric == "mu" else name
            key = f"mu/{name}" if metric == "mu" else f"{metric}/{column_spec(name).key}"
            better = "lower" if metric == "mu" else "higher"
            columns.append(ReportColumn(key, GROUP_NAMES[metric], label, better))
    return tuple(columns)


def main_table(
    models: Sequence[ModelResult],
    *,
    metrics: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    ks: Sequence[int] = (1,),
    metadata: Mapping[str, Any] | None = None,
    title: str = "VGGSounder results",
) -> ReportTable:
    """Arrange model results in the paper's layout (or a chosen one).

    Args:
        models: Results per model, in row order.
        metrics: Metric groups to show (default: the paper's).
        columns: Columns for every non-μ metric (default: the paper's per metric).
        ks: Top-k values at which score models are shown (one row per k).
        metadata: Shown in the caption and kept in JSON (label version, clip set, ...).
        title: The caption's first words.
    """
    layout = table_layout(metrics, columns)
    report_columns = _columns_for(layout)
    ks = tuple(ks) or (1,)
    rows = []
    for model in models:
        for k in ks if model.kind == "scores" else (None,):
            values = []
            for metric, names in layout:
                for name in names:
                    value = model.results.get(result_key(metric, name, model.kind, k))
                    values.append(None if value is None else float(value))
            name = model.name if k is None or len(ks) == 1 else f"{model.name} (k={k})"
            details = {"model": model.name, "source": model.source, "results": model.results}
            rows.append(ReportRow(name, model.kind, k, tuple(values), details))
    info = dict(metadata or {})
    info.setdefault("ks", list(ks))
    return ReportTable(title, report_columns, tuple(rows), info)


def score_models(
    truth: GroundTruth,
    models: Sequence[tuple[str, ModelPredictions]],
    *,
    clip_set: Any = "default",
    ks: Sequence[int] = (1,),
    tie_break: TieBreak = "reference",
    progress: Any = None,
) -> list[ModelResult]:
    """Run :func:`evaluate_predictions` for each ``(name, predictions)``.

    ``progress`` is an optional callable wrapping the iterable (for example ``tqdm``).
    """
    items = models if progress is None else progress(models)
    results = []
    for name, predictions in items:
        scored = evaluate_predictions(
            truth,
            predictions,
            clip_set=clip_set,
            ks=ks if predictions.kind == "scores" else (1,),
            tie_break=tie_break,
        )
        results.append(ModelResult(name, predictions.kind, scored, predictions.source))
    return results


# --------------------------------------------------------------------------- rendering


def format_percent(value: float | None, *, signed: bool = False, missing: str = _MISSING) -> str:
    """A fraction as percent with two decimals (``None`` -> ``missing``).

    Example:
        >>> format_percent(0.123456), format_percent(-0.00001, signed=True), format_percent(None)
        ('12.35', '+0.00', '–')
    """
    if value is None:
        return missing
    text = f"{100 * value:+.2f}" if signed else f"{100 * value:.2f}"
    if text in ("-0.00", "+0.00"):
        text = "+0.00" if signed else "0.00"
    return text


def _arrow(column: ReportColumn) -> str:
    return {"higher": " ↑", "lower": " ↓"}.get(column.better or "", "")


def _groups(columns: Sequence[ReportColumn]) -> list[tuple[str, int, int]]:
    """Runs of consecutive columns with the same group: ``(group text, start, end)``."""
    runs: list[tuple[str, int, int]] = []
    for index, column in enumerate(columns):
        text = column.group + _arrow(column)
        if runs and runs[-1][0] == text and runs[-1][2] == index:
            runs[-1] = (text, runs[-1][1], index + 1)
        else:
            runs.append((text, index, index + 1))
    return runs


def caption(table: ReportTable) -> str:
    """One line describing what the numbers are (label version, clips, k, tie break)."""
    info = table.metadata
    parts = [table.title]
    if "label_version" in info:
        parts.append(f"labels {info['label_version']}")
    if "clip_set" in info:
        clips = f" ({info['num_clips']:,} clips)" if "num_clips" in info else ""
        parts.append(f"clip set {info['clip_set']}{clips}")
    if any(row.kind == "scores" for row in table.rows):
        ks = info.get("ks", [1])
        parts.append(f"score models at top-{','.join(map(str, ks))}")
        if "tie_break" in info:
            parts.append(f"tie break {info['tie_break']}")
    parts.append("values in %")
    return "; ".join(parts)


def render(table: ReportTable, format: str = "table") -> str:
    """Render a report: ``table`` (aligned text), ``markdown``, ``latex``, ``csv`` or
    ``json`` (fractions at full precision, with metadata). Ends with a newline."""
    renderers = {
        "table": _render_text,
        "markdown": _render_markdown,
        "latex": _render_latex,
        "csv": _render_csv,
        "json": _render_json,
    }
    if format not in renderers:
        raise ValueError(f"unknown format {format!r}; use one of {FORMATS}")
    return renderers[format](table)


def _cells(table: ReportTable, missing: str = _MISSING) -> list[list[str]]:
    return [
        [
            format_percent(value, signed=column.signed, missing=missing)
            for value, column in zip(row.values, table.columns, strict=True)
        ]
        for row in table.rows
    ]


def _render_text(table: ReportTable) -> str:
    cells = _cells(table)
    widths = [
        max([len(column.label), *(len(row[index]) for row in cells)])
        for index, column in enumerate(table.columns)
    ]
    groups = _groups(table.columns)
    for text, start, end in groups:
        span = sum(widths[start:end]) + 2 * (end - start - 1)
        if len(text) > span:
            widths[end - 1] += len(text) - span
    name_width = max([len("model"), *(len(row.name) for row in table.rows)])
    group_line = " " * name_width
    for text, start, end in groups:
        span = sum(widths[start:end]) + 2 * (end - start - 1)
        group_line += "  " + text.center(span)
    header = "model".ljust(name_width) + "".join(
        "  " + column.label.rjust(width)
        for column, width in zip(table.columns, widths, strict=True)
    )
    rule = "-" * len(header)
    lines = [caption(table), group_line.rstrip(), header, rule]
    for row, row_cells in zip(table.rows, cells, strict=True):
        lines.append(
            row.name.ljust(name_width)
            + "".join(
                "  " + cell.rjust(width) for cell, width in zip(row_cells, widths, strict=True)
            )
        )
    lines.extend(table.notes)
    return "\n".join(lines) + "\n"


def _markdown_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _render_markdown(table: ReportTable) -> str:
    short = {full: SHORT_GROUP_NAMES.get(metric, full) for metric, full in GROUP_NAMES.items()}
    headers = ["Model"]
    for column in table.columns:
        group = short.get(column.group, column.group)
        headers.append(_markdown_escape(f"{group} {column.label}{_arrow(column)}"))
    lines = [
        f"*{_markdown_escape(caption(table))}*",
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "---|" + "---:|" * len(table.columns),
    ]
    for row, cells in zip(table.rows, _cells(table), strict=True):
        lines.append("| " + " | ".join([_markdown_escape(row.name), *cells]) + " |")
    if table.notes:
        lines.append("")
        lines.extend(_markdown_escape(note) for note in table.notes)
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "μ": r"$\mu$",
    "∩": r"$\cap$",
    "¬": r"$\neg$",
    "↑": r"$\uparrow$",
    "↓": r"$\downarrow$",
    "Δ": r"$\Delta$",
    "–": "--",
    "−": "-",
}


def latex_escape(text: str) -> str:
    r"""Escape LaTeX specials and write the report's symbols in math mode.

    Example:
        >>> latex_escape("video_llama 50% μ A∩V")
        'video\\_llama 50\\% $\\mu$ A$\\cap$V'
    """
    return "".join(_LATEX_SPECIAL.get(character, character) for character in text)


def _render_latex(table: ReportTable) -> str:
    groups = _groups(table.columns)
    spec = "l" + "".join(" " + "r" * (end - start) for _, start, end in groups)
    group_cells = [""]
    rules = []
    for text, start, end in groups:
        group_cells.append(rf"\multicolumn{{{end - start}}}{{c}}{{{latex_escape(text)}}}")
        rules.append(rf"\cmidrule(lr){{{start + 2}-{end + 1}}}")
    lines = [
        f"% {latex_escape(caption(table))}",
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        " & ".join(group_cells) + r" \\",
        " ".join(rules),
        " & ".join(["Model", *(latex_escape(column.label) for column in table.columns)]) + r" \\",
        r"\midrule",
    ]
    for row, cells in zip(table.rows, _cells(table, missing="--"), strict=True):
        lines.append(" & ".join([latex_escape(row.name), *cells]) + r" \\")
    lines.extend([r"\bottomrule", r"\end{tabular}"])
    lines.extend(f"% {latex_escape(note)}" for note in table.notes)
    return "\n".join(lines) + "\n"


def _render_csv(table: ReportTable) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["model", "kind", "k", *(column.key for column in table.columns)])
    for row, cells in zip(table.rows, _cells(table, missing=""), strict=True):
        writer.writerow([row.name, row.kind, "" if row.k is None else row.k, *cells])
    return buffer.getvalue()


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    return value


def _render_json(table: ReportTable) -> str:
    payload = {
        "title": table.title,
        "metadata": _jsonable(table.metadata),
        "unit": "fraction",
        "columns": [
            {
                "key": column.key,
                "group": column.group,
                "label": column.label,
                "better": column.better,
            }
            for column in table.columns
        ],
        "rows": [
            {
                "name": row.name,
                "kind": row.kind,
                "k": row.k,
                "values": {
                    column.key: value
                    for column, value in zip(table.columns, row.values, strict=True)
                },
                **_jsonable(row.details),
            }
            for row in table.rows
        ],
        "notes": list(table.notes),
    }
    return json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
