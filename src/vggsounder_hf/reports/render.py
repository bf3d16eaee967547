"""A report as data (:class:`ReportTable`) and its renderers: aligned text for the terminal,
Markdown, LaTeX (booktabs), CSV and JSON.

Rates are shown in percent with two decimals; a column whose metric is not a rate in
``[0, 1]`` (``percent=False``, for example d′) shows its plain value with two decimals. A
value a model does not have is ``–`` (``--`` in LaTeX, an empty CSV cell, ``null`` in JSON).
JSON keeps the full-precision values and writes NaN and ±infinity as ``null``.

When a row carries bootstrap intervals (:attr:`ReportRow.intervals`), text, Markdown and
LaTeX cells read ``57.20 [56.61, 57.83]``; CSV and JSON get the bounds as separate fields
``<column key>/ci_low`` and ``<column key>/ci_high``.

Example:
    >>> table = ReportTable(
    ...     "toy", (ReportColumn("f1/a", "F1", "a", short="F1"),),
    ...     (ReportRow("m", "labels", None, (0.5,), intervals=((0.45, 0.55),)),), {})
    >>> print(render(table, "markdown").splitlines()[-1])
    | m | 50.00 [45.00, 55.00] |
    >>> print(render(table, "csv"), end="")
    model,kind,k,f1/a,f1/a/ci_low,f1/a/ci_high
    m,labels,,50.00,45.00,55.00
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vggsounder_hf.core.schema import BOUNDS

__all__ = [
    "FORMATS",
    "OUTPUT_FORMATS",
    "ReportColumn",
    "ReportRow",
    "ReportTable",
    "caption",
    "format_percent",
    "format_value",
    "latex_escape",
    "render",
]

OUTPUT_FORMATS: tuple[str, ...] = ("table", "markdown", "latex", "csv", "json")
"""The formats :func:`render` writes."""
FORMATS = OUTPUT_FORMATS
"""Former name of :data:`OUTPUT_FORMATS`."""

_MISSING = "–"
_ARROWS = {"higher": " ↑", "lower": " ↓"}

Interval = tuple[float | None, float | None]


@dataclass(frozen=True)
class ReportColumn:
    """One column of a report.

    Attributes:
        key: Stable identifier used as CSV header and JSON key (``"f1/a_only"``).
        group: Header over a run of columns (``"F1"``).
        label: The column's own header (``"a only"``).
        better: ``"higher"``, ``"lower"`` or ``None``; shown as an arrow on the group.
        signed: Show an explicit ``+`` on positive values (differences).
        short: Compact group header for Markdown (``"Acc."``); ``None``: the group itself.
        percent: The values are rates shown in percent; ``False``: plain numbers.
    """

    key: str
    group: str
    label: str
    better: str | None = "higher"
    signed: bool = False
    short: str | None = None
    percent: bool = True

    @property
    def arrow(self) -> str:
        """``" ↑"``, ``" ↓"`` or ``""``."""
        return _ARROWS.get(self.better or "", "")


@dataclass(frozen=True)
class ReportRow:
    """One row: a model (at one ``k`` for score models) and its values.

    ``intervals`` is empty, or holds per column ``(low, high)`` bounds or ``None``.
    """

    name: str
    kind: str
    k: int | None
    values: tuple[float | None, ...]
    details: Mapping[str, Any] = field(default_factory=dict)
    intervals: tuple[Interval | None, ...] = ()

    def interval(self, index: int) -> Interval | None:
        """The bounds of column ``index``, or ``None``."""
        return self.intervals[index] if self.intervals else None


@dataclass(frozen=True)
class ReportTable:
    """A report ready to render: columns, rows, a title and metadata (label version,
    clip set, k, tie break, ...), plus free-text notes shown under the table."""

    title: str
    columns: tuple[ReportColumn, ...]
    rows: tuple[ReportRow, ...]
    metadata: Mapping[str, Any]
    notes: tuple[str, ...] = ()


def format_value(
    value: float | None, *, percent: bool = True, signed: bool = False, missing: str = _MISSING
) -> str:
    """A value with two decimals, in percent for rates (``None`` -> ``missing``).

    Example:
        >>> format_value(0.5), format_value(1.234, percent=False), format_value(float("inf"))
        ('50.00', '1.23', 'inf')
    """
    if value is None:
        return missing
    shown = 100 * value if percent else value
    text = f"{shown:+.2f}" if signed else f"{shown:.2f}"
    if text in ("-0.00", "+0.00"):
        text = "+0.00" if signed else "0.00"
    return text


def format_percent(value: float | None, *, signed: bool = False, missing: str = _MISSING) -> str:
    """A fraction as percent with two decimals (``None`` -> ``missing``).

    Example:
        >>> format_percent(0.123456), format_percent(-0.00001, signed=True), format_percent(None)
        ('12.35', '+0.00', '–')
    """
    return format_value(value, signed=signed, missing=missing)


def _groups(columns: Sequence[ReportColumn]) -> list[tuple[str, int, int]]:
    """Runs of consecutive columns with the same group: ``(group text, start, end)``."""
    runs: list[tuple[str, int, int]] = []
    for index, column in enumerate(columns):
        text = column.group + column.arrow
        if runs and runs[-1][0] == text and runs[-1][2] == index:
            runs[-1] = (text, runs[-1][1], index + 1)
        else:
            runs.append((text, index, index + 1))
    return runs


def caption(table: ReportTable) -> str:
    """One line describing what the numbers are (protocol, label version, clips, k, ...)."""
    info = table.metadata
    parts = [table.title]
    if "protocol" in info:
        parts.append(f"protocol {info['protocol']}")
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
    bootstrap = info.get("bootstrap")
    if (
        isinstance(bootstrap, Mapping)
        and {"confidence", "resamples"} <= bootstrap.keys()
        and any(row.intervals for row in table.rows)
    ):
        parts.append(
            f"[{100 * bootstrap['confidence']:g}% bootstrap interval, "
            f"{bootstrap['resamples']:,} resamples]"
        )
    plain = list(dict.fromkeys(column.group for column in table.columns if not column.percent))
    parts.append("values in %" + (f" except {', '.join(plain)}" if plain else ""))
    return "; ".join(parts)


def render(table: ReportTable, format: str = "table") -> str:
    """Render a report: ``table`` (aligned text), ``markdown``, ``latex``, ``csv`` or
    ``json`` (full precision, with metadata). Ends with a newline."""
    renderers = {
        "table": _render_text,
        "markdown": _render_markdown,
        "latex": _render_latex,
        "csv": _render_csv,
        "json": _render_json,
    }
    if format not in renderers:
        raise ValueError(f"unknown format {format!r}; use one of {OUTPUT_FORMATS}")
    return renderers[format](table)


def _cell(
    row: ReportRow, index: int, column: ReportColumn, missing: str, with_interval: bool
) -> str:
    def shown(value: float | None) -> str:
        return format_value(value, percent=column.percent, signed=column.signed, missing=missing)

    text = shown(row.values[index])
    bounds = row.interval(index)
    if with_interval and bounds is not None and row.values[index] is not None:
        text += f" [{shown(bounds[0])}, {shown(bounds[1])}]"
    return text


def _cells(
    table: ReportTable, missing: str = _MISSING, with_interval: bool = True
) -> list[list[str]]:
    return [
        [
            _cell(row, index, column, missing, with_interval)
            for index, column in enumerate(table.columns)
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
    headers = ["Model"]
    for column in table.columns:
        group = column.short or column.group
        headers.append(_markdown_escape(f"{group} {column.label}{column.arrow}"))
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
    "′": r"$'$",
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
        r"% requires \usepackage{booktabs}",
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


def _bound_key(column: ReportColumn, bound: str) -> str:
    return f"{column.key}/{bound}"


def _with_intervals(table: ReportTable) -> list[bool]:
    """Per column, whether any row has bounds for it (CSV gets bound columns for those)."""
    return [
        any(row.interval(index) is not None for row in table.rows)
        for index in range(len(table.columns))
    ]


def _render_csv(table: ReportTable) -> str:
    has_bounds = _with_intervals(table)
    header = ["model", "kind", "k"]
    for column, bounded in zip(table.columns, has_bounds, strict=True):
        header.append(column.key)
        if bounded:
            header.extend(_bound_key(column, bound) for bound in BOUNDS)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in table.rows:
        line: list[Any] = [row.name, row.kind, "" if row.k is None else row.k]
        for index, (column, bounded) in enumerate(zip(table.columns, has_bounds, strict=True)):
            line.append(_cell(row, index, column, "", with_interval=False))
            if bounded:
                bounds = row.interval(index) or (None, None)
                line.extend(
                    format_value(value, percent=column.percent, signed=column.signed, missing="")
                    for value in bounds
                )
        writer.writerow(line)
    return buffer.getvalue()


def _jsonable(value: Any) -> Any:
    """Plain JSON data: mappings, lists, numbers (numpy scalars unwrapped; NaN, ±inf -> None)."""
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _row_values(table: ReportTable, row: ReportRow) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for index, column in enumerate(table.columns):
        values[column.key] = row.values[index]
        bounds = row.interval(index)
        if bounds is not None:
            values.update(
                {
                    _bound_key(column, bound): value
                    for bound, value in zip(BOUNDS, bounds, strict=True)
                }
            )
    return values


def _json_column(column: ReportColumn) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "key": column.key,
        "group": column.group,
        "label": column.label,
        "better": column.better,
    }
    if not column.percent:
        entry["unit"] = "number"
    return entry


def _render_json(table: ReportTable) -> str:
    payload = {
        "title": table.title,
        "metadata": table.metadata,
        "unit": "fraction",
        "columns": [_json_column(column) for column in table.columns],
        "rows": [
            {
                "name": row.name,
                "kind": row.kind,
                "k": row.k,
                "values": _row_values(table, row),
                **row.details,
            }
            for row in table.rows
        ],
        "notes": list(table.notes),
    }
    return json.dumps(_jsonable(payload), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
