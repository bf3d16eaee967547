"""Radar plot in the style of the paper's Figure 4: hit rate per input / label modality.

One polygon per model on five axes, the five evaluation columns, named as in the paper
(input modality, then the label subset in brackets), clockwise from the top:

==========  ===========  =================================================
axis        column       meaning
==========  ===========  =================================================
``av(AV)``  ``av``       audio-visual input, labels both audible and visible
``v(V)``    ``v``        video input, visible labels
``v(V¬A)``  ``v only``   video input, labels visible only
``a(A¬V)``  ``a only``   audio input, labels audible only
``a(A)``    ``a``        audio input, audible labels
==========  ===========  =================================================

The paper draws one small radar per model with the axes A, V and AV; this plot puts all
models on one chart and adds the two "only" columns. The metric defaults to ``hit``
(``hit@k`` for score models, ``k=1``); any rate with columns of the metric registry
(:data:`RADAR_METRICS`: the label-set metrics, and the ranking metrics of score models) can
be chosen. Rates are in percent; d′ is plotted as it is.

The paper's Figure 4 itself is :func:`render_comparison_radar`: per model a small radar with
the axes a, v and av, VGGSounder's hit and VGGSound's accuracy per input (the same hit on
VGGSound's single labels, see :func:`vggsounder_hf.reports.paper.vggsound_results`), each
divided by the model's maximum on that benchmark (:class:`BenchmarkComparison`); the numbers
behind it are :func:`comparison_table`.

matplotlib is an optional dependency (``pip install 'vggsounder-hf[plot]'``); it is
imported only when a plot is drawn, and drawn with the non-interactive Agg canvas (no
global backend change). Files are written atomically; PNG, SVG and PDF are supported.

Example:
    >>> from vggsounder_hf.reports.tables import ModelResult
    >>> model = ModelResult("toy", "labels", {"a/hit": 0.5, "v/hit": 0.4, "av/hit": 0.6,
    ...                                       "a_only/hit": 0.3, "v_only/hit": 0.2})
    >>> radar_plot([model], "radar.png")  # doctest: +SKIP
    PosixPath('radar.png')
"""

from __future__ import annotations

import io
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vggsounder_hf.core.schema import INPUT_MODALITIES, Metric, metric, metrics_of, result_key
from vggsounder_hf.io.atomic import write_atomic
from vggsounder_hf.reports.render import ReportColumn, ReportRow, ReportTable
from vggsounder_hf.reports.tables import ModelResult, report_key

__all__ = [
    "BENCHMARKS",
    "PLOT_FORMATS",
    "RADAR_AXES",
    "RADAR_METRICS",
    "BenchmarkComparison",
    "PlotDependencyError",
    "benchmark_comparison",
    "comparison_radar_plot",
    "comparison_table",
    "plot_format",
    "radar_metric",
    "radar_plot",
    "radar_values",
    "render_comparison_radar",
    "render_radar",
]

RADAR_AXES: tuple[tuple[str, str], ...] = (
    ("av", "av(AV)"),
    ("v", "v(V)"),
    ("v only", "v(V¬A)"),
    ("a only", "a(A¬V)"),
    ("a", "a(A)"),
)
PLOT_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
RADAR_METRICS: tuple[str, ...] = metrics_of("label_set", "ranking")
"""Metrics the radar can show: the rates that have a value per column (not μ, not counts)."""


class PlotDependencyError(ImportError):
    """matplotlib is not installed."""


def radar_values(
    models: Sequence[ModelResult], *, metric: str = "hit", k: int = 1
) -> dict[str, list[float]]:
    """Per model the axis values (order of :data:`RADAR_AXES`), in percent for rates.

    Models without a finite value on every axis (a missing input, a ranking metric of a
    label-set model) are left out with a warning.

    Raises:
        ValueError: Not a metric with columns (μ, counts).
    """
    entry = radar_metric(metric)
    scale = 100.0 if entry.percent else 1.0
    values: dict[str, list[float]] = {}
    for model in models:
        if not entry.applies_to(model.kind):
            warnings.warn(
                f"{model.name}: {entry.name} needs scores; left out of the radar plot", stacklevel=2
            )
            continue
        row = [
            model.results.get(result_key(entry.name, column, model.kind, k))
            for column, _ in RADAR_AXES
        ]
        if any(value is None or not math.isfinite(value) for value in row):
            warnings.warn(
                f"{model.name}: no {entry.name} for every column (missing input?); left out of "
                "the radar plot",
                stacklevel=2,
            )
            continue
        values[model.name] = [scale * float(value) for value in row]
    return values


def radar_metric(name: str) -> Metric:
    """The registry row of a metric the radar can show: a rate with columns
    (:data:`RADAR_METRICS`), named by its name or an alias.

    Example:
        >>> radar_metric("hit_rate").name
        'hit'
    """
    try:
        entry = metric(name)
    except ValueError:
        raise ValueError(
            f"unknown metric {name!r}; the radar plot shows one of {', '.join(RADAR_METRICS)}"
        ) from None
    if entry.name not in RADAR_METRICS:
        raise ValueError(
            f"the radar plot shows a per-column rate ({', '.join(RADAR_METRICS)}); "
            f"{entry.name} has no columns"
        )
    return entry


def _matplotlib() -> tuple[Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotDependencyError(
            "the radar plot needs matplotlib; install it with: pip install 'vggsounder-hf[plot]'"
        ) from None
    return Figure, FigureCanvasAgg


def radar_plot(
    models: Sequence[ModelResult],
    path: str | os.PathLike[str],
    *,
    metric: str = "hit",
    k: int = 1,
    title: str | None = None,
    format: str | None = None,
    dpi: int = 150,
) -> Path:
    """Draw the radar plot of ``models`` and write it to ``path`` (atomically).

    Args:
        models: Results (for example from :func:`vggsounder_hf.reports.tables.score_models`).
        path: Output file; the format comes from its extension unless ``format`` is given.
        metric: Metric per axis (default ``hit``).
        k: Top-k for score models.
        title: Figure title (default: the metric's title).
        format: ``png``, ``svg`` or ``pdf``.
        dpi: Resolution of PNG output.

    Raises:
        PlotDependencyError: matplotlib is missing.
        ValueError: Unknown format or metric, or no model has all five values.
    """
    data = render_radar(
        models, format=plot_format(path, format), metric=metric, k=k, title=title, dpi=dpi
    )
    return write_atomic(path, data)


def plot_format(path: str | os.PathLike[str], format: str | None = None) -> str:
    """``format``, or the plot format of ``path``'s extension.

    Raises:
        ValueError: Not one of :data:`PLOT_FORMATS`.
    """
    chosen = (format or Path(path).suffix.lstrip(".")).lower()
    if chosen not in PLOT_FORMATS:
        raise ValueError(f"{path}: plot format must be one of {', '.join(PLOT_FORMATS)}")
    return chosen


def render_radar(
    models: Sequence[ModelResult],
    *,
    format: str = "png",
    metric: str = "hit",
    k: int = 1,
    title: str | None = None,
    dpi: int = 150,
) -> bytes:
    """The radar plot as the bytes of a ``png``, ``svg`` or ``pdf`` file (see
    :func:`radar_plot`, which writes them)."""
    if format not in PLOT_FORMATS:
        raise ValueError(f"plot format must be one of {', '.join(PLOT_FORMATS)}, got {format!r}")
    entry = radar_metric(metric)
    values = radar_values(models, metric=entry.name, k=k)
    if not values:
        raise ValueError("no model has predictions for all three inputs a, v and av to plot")
    figure_class, canvas_class = _matplotlib()
    figure = figure_class(figsize=(7.5, 5.5), layout="constrained")
    canvas_class(figure)
    axes = figure.add_subplot(projection="polar")
    axes.set_theta_offset(math.pi / 2)
    axes.set_theta_direction(-1)
    angles = [2 * math.pi * index / len(RADAR_AXES) for index in range(len(RADAR_AXES))]
    colors = [f"C{index % 10}" for index in range(len(values))]
    for (name, row), color in zip(values.items(), colors, strict=True):
        closed_angles = [*angles, angles[0]]
        closed_values = [*row, row[0]]
        axes.plot(closed_angles, closed_values, color=color, linewidth=1.6, label=name)
        axes.fill(closed_angles, closed_values, color=color, alpha=0.12)
    axes.set_xticks(angles)
    axes.set_xticklabels([label for _, label in RADAR_AXES], fontsize=11)
    lower, upper = _limits([value for row in values.values() for value in row], entry.percent)
    axes.set_ylim(lower, upper)
    ticks = [lower + (upper - lower) * fraction for fraction in (0.25, 0.5, 0.75, 1.0)]
    axes.set_yticks(ticks)
    axes.set_yticklabels([f"{tick:g}" for tick in ticks], fontsize=8, color="0.4")
    axes.set_rlabel_position(180 / len(RADAR_AXES))  # between the first two axes
    axes.grid(color="0.8", linewidth=0.8)
    unit = " (%)" if entry.percent else ""
    axes.set_title(title or f"VGGSounder {entry.title}{unit}", pad=18)
    axes.legend(loc="upper left", bbox_to_anchor=(1.08, 1.0), frameon=False, fontsize=9)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=format, dpi=dpi, facecolor="white")
    return buffer.getvalue()


def _limits(values: Sequence[float], percent: bool) -> tuple[float, float]:
    """The radii of the centre and the outer ring: 0 and a multiple of 20 % for rates;
    whole numbers around the values otherwise (d′ may be negative)."""
    if percent:
        return 0.0, min(100.0, max(20.0, 20.0 * math.ceil(max(values) / 20.0)))
    lower = min(0.0, float(math.floor(min(values))))
    return lower, max(lower + 1.0, float(math.ceil(max(values))))


# --------------------------------------------------------------------------- Figure 4

BENCHMARKS: dict[str, str] = {"vggsounder": "VGGSounder hit", "vggsound": "VGGSound accuracy"}
"""The two benchmarks of Figure 4 (key prefix: what is plotted)."""


@dataclass(frozen=True)
class BenchmarkComparison:
    """One model's hit per input (:data:`~vggsounder_hf.core.schema.INPUT_MODALITIES` order,
    fractions) on VGGSounder and on VGGSound's own labels."""

    name: str
    kind: str
    vggsounder: tuple[float, ...]
    vggsound: tuple[float, ...]

    def normalised(self, benchmark: str) -> tuple[float, ...]:
        """The values of ``"vggsounder"`` or ``"vggsound"`` divided by their maximum.

        Example:
            >>> BenchmarkComparison("m", "labels", (0.2, 0.4, 0.5), (0.3, 0.6, 0.6)
            ...                     ).normalised("vggsound")
            (0.5, 1.0, 1.0)
        """
        values = getattr(self, benchmark)
        return tuple(value / max(values) for value in values)


def benchmark_comparison(
    vggsounder: Sequence[ModelResult], vggsound: Sequence[ModelResult], *, k: int = 1
) -> list[BenchmarkComparison]:
    """Pair each model's VGGSounder results with its VGGSound results (same names): hit of
    the columns a, v, av (``hit@k`` on VGGSounder, top-1 on VGGSound for score models).

    A model without a positive, finite hit for every input on both is left out with a warning.
    """
    on_vggsound = {result.name: result for result in vggsound}
    comparisons = []
    for result in vggsounder:
        other = on_vggsound.get(result.name)
        ours = _hits(result, k)
        theirs = None if other is None else _hits(other, 1)
        if ours is None or theirs is None or not (max(ours) > 0 and max(theirs) > 0):
            warnings.warn(
                f"{result.name}: no hit on both benchmarks for each of the inputs "
                f"{', '.join(INPUT_MODALITIES)}; left out of the comparison",
                stacklevel=2,
            )
            continue
        comparisons.append(BenchmarkComparison(result.name, result.kind, ours, theirs))
    return comparisons


def _hits(result: ModelResult, k: int) -> tuple[float, ...] | None:
    values = [
        result.results.get(result_key("hit", name, result.kind, k)) for name in INPUT_MODALITIES
    ]
    if any(value is None or not math.isfinite(value) for value in values):
        return None
    return tuple(float(value) for value in values)


def comparison_table(
    comparisons: Sequence[BenchmarkComparison], metadata: Mapping[str, Any] | None = None
) -> ReportTable:
    """The numbers behind Figure 4: per benchmark the hit per input, then the same divided by
    the model's maximum (what the radar shows)."""
    columns = [
        ReportColumn(f"{benchmark}/{report_key('hit', name)}{suffix}", title + extra, name, better)
        for suffix, extra, better in (("", "", "higher"), ("/normalised", " / model's max", None))
        for benchmark, title in BENCHMARKS.items()
        for name in INPUT_MODALITIES
    ]
    rows = [
        ReportRow(
            item.name,
            item.kind,
            None,
            (
                *item.vggsounder,
                *item.vggsound,
                *item.normalised("vggsounder"),
                *item.normalised("vggsound"),
            ),
        )
        for item in comparisons
    ]
    notes = (
        "VGGSound accuracy: clips whose single VGGSound label is among the input's predictions "
        "(top-1 for scores). a only and v only are left out: every VGGSound label is AV, no clip "
        "has an A-only or V-only label.",
    )
    info = dict(metadata or {})
    return ReportTable(
        "VGGSounder vs VGGSound (Figure 4)", tuple(columns), tuple(rows), info, notes
    )


def render_comparison_radar(
    comparisons: Sequence[BenchmarkComparison],
    *,
    format: str = "png",
    title: str | None = None,
    dpi: int = 150,
) -> bytes:
    """Figure 4 as the bytes of a ``png``, ``svg`` or ``pdf`` file: one radar per model with
    the axes a, v, av and one polygon per benchmark, each normalised by the model's maximum.

    Raises:
        PlotDependencyError: matplotlib is missing.
        ValueError: Unknown format, or no model to draw.
    """
    if format not in PLOT_FORMATS:
        raise ValueError(f"plot format must be one of {', '.join(PLOT_FORMATS)}, got {format!r}")
    if not comparisons:
        raise ValueError("no model has hits on both VGGSounder and VGGSound to compare")
    figure_class, canvas_class = _matplotlib()
    columns = min(4, len(comparisons))
    rows = math.ceil(len(comparisons) / columns)
    figure = figure_class(figsize=(3.2 * columns, 3.2 * rows + 0.9), layout="constrained")
    canvas_class(figure)
    angles = [2 * math.pi * index / len(INPUT_MODALITIES) for index in range(len(INPUT_MODALITIES))]
    for index, item in enumerate(comparisons):
        axes = figure.add_subplot(rows, columns, index + 1, projection="polar")
        axes.set_theta_offset(math.pi / 2)
        axes.set_theta_direction(-1)
        for color, (benchmark, label) in zip(("C0", "C1"), BENCHMARKS.items(), strict=True):
            values = item.normalised(benchmark)
            axes.plot(
                [*angles, angles[0]], [*values, values[0]], color=color, linewidth=1.6, label=label
            )
            axes.fill([*angles, angles[0]], [*values, values[0]], color=color, alpha=0.15)
        axes.set_xticks(angles)
        axes.set_xticklabels(list(INPUT_MODALITIES), fontsize=10)
        axes.set_ylim(0.0, 1.0)
        axes.set_yticks([0.25, 0.5, 0.75, 1.0])
        axes.set_yticklabels(["", "0.5", "", "1"], fontsize=7, color="0.4")
        axes.grid(color="0.8", linewidth=0.8)
        axes.set_title(item.name, fontsize=10, pad=10)
    handles, labels = figure.axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False, fontsize=9)
    figure.suptitle(
        title or "VGGSounder hit vs VGGSound accuracy, normalised by each model's maximum",
        fontsize=11,
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format=format, dpi=dpi, facecolor="white")
    return buffer.getvalue()


def comparison_radar_plot(
    comparisons: Sequence[BenchmarkComparison],
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    title: str | None = None,
    dpi: int = 150,
) -> Path:
    """Draw :func:`render_comparison_radar` to ``path`` (atomically; format from the extension)."""
    data = render_comparison_radar(
        comparisons, format=plot_format(path, format), title=title, dpi=dpi
    )
    return write_atomic(path, data)
