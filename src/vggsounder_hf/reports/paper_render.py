"""The paper's Tables 2 and 3 as data (:class:`PaperTable`) and in the paper's layout:
model groups as row blocks, the paper's column headers, two decimals, the best value of every
column in bold (highest; lowest for μ; ΔF1 has no better direction and no bold), published
rows marked ``†`` and the citation in the caption. Markdown, LaTeX (booktabs), aligned text
or JSON (values in percent). :mod:`vggsounder_hf.reports.paper` fills the tables.

Example:
    >>> table = PaperTable("table2", "Table 2.", (PaperColumn("mu/a", "μ", "μ_A", "lower"),),
    ...     (PaperRow("X", "Models", (3.5,), True), PaperRow("mine", "Yours", (2.25,), False)),
    ...     {"protocol": "paper"})
    >>> print(*render_paper_tables([table], "markdown").splitlines()[2:], sep="\\n")
    | Model | μ_A ↓ |
    |---|---:|
    | *Models* | |
    | X † | 3.50 |
    | *Yours* | |
    | mine | **2.25** |
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vggsounder_hf.core.schema import protocol
from vggsounder_hf.reports.render import latex_escape

__all__ = [
    "CITATION",
    "PAPER_FORMATS",
    "PaperColumn",
    "PaperRow",
    "PaperTable",
    "render_paper_tables",
]

PAPER_FORMATS: tuple[str, ...] = ("table", "markdown", "latex", "json")
"""The formats :func:`render_paper_tables` writes."""
CITATION = (
    "Zverev, Wiedemer et al., VGGSounder: Audio-Visual Evaluations for Foundation Models, ICCV 2025"
)
_MARK = "†"


@dataclass(frozen=True)
class PaperColumn:
    """A column as the paper prints it; ``better`` is ``"higher"``, ``"lower"`` or ``None``."""

    key: str
    group: str
    label: str
    better: str | None


@dataclass(frozen=True)
class PaperRow:
    """A row: a model's values in percent, ``published`` for the paper's own rows."""

    name: str
    group: str
    values: tuple[float | None, ...]
    published: bool
    released_predictions: bool | None = None


@dataclass(frozen=True)
class PaperTable:
    """Table 2 or 3 in the paper's layout."""

    name: str
    caption: str
    columns: tuple[PaperColumn, ...]
    rows: tuple[PaperRow, ...]
    metadata: Mapping[str, Any]
    notes: tuple[str, ...] = ()


def render_paper_tables(tables: Sequence[PaperTable], format: str = "markdown") -> str:
    """The tables one after the other as ``markdown``, ``latex`` (booktabs), ``table``
    (aligned text) or ``json`` (one document; values in percent). Ends with a newline."""
    if format not in PAPER_FORMATS:
        raise ValueError(
            f"unknown format {format!r} for the paper tables; use one of {PAPER_FORMATS}"
        )
    if format == "json":
        return _json(tables)
    render = {"table": _text, "markdown": _markdown, "latex": _latex}[format]
    return "\n".join(render(table) for table in tables)


def _caption(table: PaperTable) -> str:
    info = table.metadata
    parts = [f"protocol {info.get('protocol', protocol('paper').name)}"]
    if "label_version" in info:
        parts.append(f"labels {info['label_version']}")
    if "clip_set" in info and table.name == "table2":
        parts.append(f"clip set {info['clip_set']}")
    if table.name == "table3":
        parts.insert(0, "ΔF1 in percentage points")
    return (
        f"{table.caption} Values in % ({'; '.join(parts)}). {_MARK} Published values: "
        f"{CITATION} (as printed). Bold: best per column (highest; lowest for μ; none for ΔF1)."
    )


def _cells(table: PaperTable) -> list[list[tuple[str, bool]]]:
    """Per row and column the value with two decimals and whether it is the column's best."""
    best: list[float | None] = []
    for index, column in enumerate(table.columns):
        shown = [round(row.values[index], 2) for row in table.rows if row.values[index] is not None]
        pick = {"higher": max, "lower": min}.get(column.better or "")
        best.append(pick(shown) if pick and shown else None)
    return [
        [
            ("–", False) if value is None else (f"{value:.2f}", round(value, 2) == best[index])
            for index, value in enumerate(row.values)
        ]
        for row in table.rows
    ]


def _blocks(table: PaperTable) -> list[tuple[str, list[int]]]:
    """The row blocks: each group with its rows, in order of first appearance."""
    blocks: dict[str, list[int]] = {}
    for index, row in enumerate(table.rows):
        blocks.setdefault(row.group, []).append(index)
    return list(blocks.items())


def _arrow(column: PaperColumn) -> str:
    return {"higher": " ↑", "lower": " ↓"}.get(column.better or "", "")


def _header(column: PaperColumn) -> str:
    label = (
        column.label if column.label.startswith(column.group) else f"{column.group} {column.label}"
    )
    return label + _arrow(column)


def _runs(table: PaperTable) -> list[tuple[str, int, int]]:
    """Runs of consecutive columns of one group: ``(group header, start, end)``."""
    runs: list[tuple[str, int, int]] = []
    for index, column in enumerate(table.columns):
        text = column.group + _arrow(column)
        if runs and runs[-1][0] == text:
            runs[-1] = (text, runs[-1][1], index + 1)
        else:
            runs.append((text, index, index + 1))
    return runs


def _text(table: PaperTable) -> str:
    names = [f"  {row.name}{f' {_MARK}' if row.published else ''}" for row in table.rows]
    shown = [[text + ("*" if bold else " ") for text, bold in row] for row in _cells(table)]
    widths = [
        max(len(column.label) + 1, *(len(row[index]) for row in shown))
        for index, column in enumerate(table.columns)
    ]
    runs = _runs(table)
    for text, start, end in runs:  # widen a run's last column to fit its group header
        widths[end - 1] += max(0, len(text) - sum(widths[start:end]) - 2 * (end - start - 1))
    name_width = max(len("Model"), *map(len, names))
    group_line = " " * name_width + "".join(
        "  " + text.center(sum(widths[start:end]) + 2 * (end - start - 1))
        for text, start, end in runs
    )
    header = "Model".ljust(name_width) + "".join(
        f"  {column.label + ' ':>{width}}"
        for column, width in zip(table.columns, widths, strict=True)
    )
    lines = [_caption(table) + " (* here: bold)", *table.notes, group_line.rstrip(), header]
    lines.append("-" * len(header))
    for group, indices in _blocks(table):
        lines.append(group)
        for index in indices:
            values = zip(shown[index], widths, strict=True)
            lines.append(names[index].ljust(name_width) + "".join(f"  {t:>{w}}" for t, w in values))
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _markdown(table: PaperTable) -> str:
    def escape(text: str) -> str:
        return text.replace("|", "\\|")

    cells = _cells(table)
    lines = [
        f"*{escape(_caption(table))}*",
        "",
        "| " + " | ".join(["Model", *(escape(_header(column)) for column in table.columns)]) + " |",
        "|---|" + "---:|" * len(table.columns),
    ]
    for group, indices in _blocks(table):
        lines.append(f"| *{escape(group)}* |" + " |" * len(table.columns))
        for index in indices:
            row = table.rows[index]
            name = escape(row.name) + (f" {_MARK}" if row.published else "")
            values = [f"**{text}**" if bold else text for text, bold in cells[index]]
            lines.append("| " + " | ".join([name, *values]) + " |")
    lines.extend(["", *(escape(note) for note in table.notes)] if table.notes else [])
    return "\n".join(lines) + "\n"


def _latex_label(text: str) -> str:
    if text.startswith("μ_"):  # μ_A, μ_A∩V: one subscript
        return r"$\mu_{" + text[2:].replace("∩", r"\cap ") + "}$"
    return latex_escape(text)


def _latex(table: PaperTable) -> str:
    runs = _runs(table)
    width = len(table.columns) + 1
    lines = [
        r"% requires \usepackage{booktabs}",
        f"% {latex_escape(_caption(table))}",
        *(f"% {latex_escape(note)}" for note in table.notes),
        r"\begin{tabular}{l" + "".join(" " + "r" * (end - start) for _, start, end in runs) + "}",
        r"\toprule",
        " & ".join(
            [
                "",
                *(
                    rf"\multicolumn{{{end - start}}}{{c}}{{{latex_escape(text)}}}"
                    for text, start, end in runs
                ),
            ]
        )
        + r" \\",
        " ".join(rf"\cmidrule(lr){{{start + 2}-{end + 1}}}" for _, start, end in runs),
        " & ".join(["Model", *(_latex_label(column.label) for column in table.columns)]) + r" \\",
    ]
    cells = _cells(table)
    for group, indices in _blocks(table):
        lines += [
            r"\midrule",
            rf"\multicolumn{{{width}}}{{l}}{{\textit{{{latex_escape(group)}}}}} \\",
        ]
        for index in indices:
            row = table.rows[index]
            name = latex_escape(row.name) + (r"$^\dagger$" if row.published else "")
            values = [
                rf"\textbf{{{text}}}" if bold else text.replace("–", "--")
                for text, bold in cells[index]
            ]
            lines.append(" & ".join([name, *values]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def _json(tables: Sequence[PaperTable]) -> str:
    payload = {
        "citation": CITATION,
        "unit": "percent",
        "tables": [
            {
                "name": table.name,
                "caption": _caption(table),
                "metadata": table.metadata,
                "columns": [vars(column) for column in table.columns],
                "rows": [
                    {
                        "name": row.name,
                        "group": row.group,
                        "published": row.published,
                        "released_predictions": row.released_predictions,
                        "values": dict(
                            zip((c.key for c in table.columns), row.values, strict=True)
                        ),
                    }
                    for row in table.rows
                ],
                "notes": list(table.notes),
            }
            for table in tables
        ],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False, default=_plain) + "\n"


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers (for ``json.dumps``)."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
