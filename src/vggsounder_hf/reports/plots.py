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
(``hit@k`` for score models, ``k=1``); any label-set metric can be chosen. Values are in
percent.

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

import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vggsounder_hf.io.atomic import atomic_path
from vggsounder_hf.reports.tables import ModelResult, parse_metrics, result_key

__all__ = ["PLOT_FORMATS", "RADAR_AXES", "PlotDependencyError", "radar_plot", "radar_values"]

RADAR_AXES: tuple[tuple[str, str], ...] = (
    ("av", "av(AV)"),
    ("v", "v(V)"),
    ("v only", "v(V¬A)"),
    ("a only", "a(A¬V)"),
    ("a", "a(A)"),
)
PLOT_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")


class PlotDependencyError(ImportError):
    """matplotlib is not installed."""


def radar_values(
    models: Sequence[ModelResult], *, metric: str = "hit", k: int = 1
) -> dict[str, list[float]]:
    """Per model the axis values in percent (order of :data:`RADAR_AXES`).

    Models without a value on every axis (a missing input) are left out with a warning.
    """
    (metric,) = parse_metrics([metric])
    if metric == "mu":
        raise ValueError("the radar plot shows per-column metrics; μ has no columns")
    values: dict[str, list[float]] = {}
    for model in models:
        row = [
            model.results.get(result_key(metric, column, model.kind, k)) for column, _ in RADAR_AXES
        ]
        if any(value is None for value in row):
            warnings.warn(
                f"{model.name}: no {metric} for every column (missing input?); left out of the "
                "radar plot",
                stacklevel=2,
            )
            continue
        values[model.name] = [100.0 * float(value) for value in row]
    return values


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
    """Draw the radar plot of ``models`` and write it to ``path``.

    Args:
        models: Results (for example from :func:`vggsounder_hf.reports.tables.score_models`).
        path: Output file; the format comes from its extension unless ``format`` is given.
        metric: Metric per axis (default ``hit``).
        k: Top-k for score models.
        title: Figure title (default: the metric's name).
        format: ``png``, ``svg`` or ``pdf``.
        dpi: Resolution of PNG output.

    Raises:
        PlotDependencyError: matplotlib is missing.
        ValueError: Unknown format or metric, or no model has all five values.
    """
    chosen = (format or Path(path).suffix.lstrip(".")).lower()
    if chosen not in PLOT_FORMATS:
        raise ValueError(f"{path}: plot format must be one of {', '.join(PLOT_FORMATS)}")
    values = radar_values(models, metric=metric, k=k)
    if not values:
        raise ValueError("no model has predictions for all three inputs a, v and av to plot")
    figure_class, canvas_class = _matplotlib()
    figure = figure_class(figsize=(7.5, 5.5), layout="constrained")
    canvas_class(figure)
    axes = figure.add_subplot(projection="polar")
    axes.set_theta_offset(math.pi / 2)
    axes.set_theta_direction(-1)
    angles = [2 * math.pi * index / len(RADAR_AXES) for index in range(len(RADAR_AXES))]
    highest = max(max(row) for row in values.values())
    upper = min(100.0, max(20.0, 20.0 * math.ceil(highest / 20.0)))
    colors = [f"C{index % 10}" for index in range(len(values))]
    for (name, row), color in zip(values.items(), colors, strict=True):
        closed_angles = [*angles, angles[0]]
        closed_values = [*row, row[0]]
        axes.plot(closed_angles, closed_values, color=color, linewidth=1.6, label=name)
        axes.fill(closed_angles, closed_values, color=color, alpha=0.12)
    axes.set_xticks(angles)
    axes.set_xticklabels([label for _, label in RADAR_AXES], fontsize=11)
    axes.set_ylim(0, upper)
    ticks = [upper * fraction for fraction in (0.25, 0.5, 0.75, 1.0)]
    axes.set_yticks(ticks)
    axes.set_yticklabels([f"{tick:g}" for tick in ticks], fontsize=8, color="0.4")
    axes.set_rlabel_position(180 / len(RADAR_AXES))  # between the first two axes
    axes.grid(color="0.8", linewidth=0.8)
    shown = "hit rate" if metric in ("hit", "hit_rate") else metric.replace("_", " ")
    axes.set_title(title or f"VGGSounder {shown} (%)", pad=18)
    axes.legend(loc="upper left", bbox_to_anchor=(1.08, 1.0), frameon=False, fontsize=9)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format=chosen, dpi=dpi, facecolor="white")
    return Path(path)
