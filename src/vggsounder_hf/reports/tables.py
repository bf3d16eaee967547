"""The paper's main results table, built from the results of
:func:`~vggsounder_hf.core.evaluation.evaluate_predictions`; rendered by
:mod:`vggsounder_hf.reports.render` (text, Markdown, LaTeX, CSV, JSON).

The default layout is the one of the paper's main table, one row per model:

=====================  =====================================  ==================
group                  columns                                result keys
=====================  =====================================  ==================
Subset accuracy ↑      a, v, av                               ``<col>/subset_accuracy``
F1 ↑                   a, v, av, a only, v only               ``<col>/f1``
Hit ↑                  a, v, av                               ``<col>/hit``
μ ↓                    A, V, A∩V                              ``mu/a``, ``mu/v``, ``mu/a_and_v``
=====================  =====================================  ==================

Any rate of the metric registry (:data:`vggsounder_hf.core.schema.RATE_METRICS`) can be a
group; titles, arrows and units come from the registry. Rates are shown in percent with two
decimals, d′ as a plain number. Score models are shown at one top-``k`` (``<metric>@<k>``;
default ``k=1``, the paper's choice); with several ``ks`` a score model gets one row per
``k``. Ranking metrics and μ do not depend on ``k`` (μ uses top-1, as the reference). A value
the model does not have (an input it lacks, AUC of a label-set model) is shown as ``–``.
Bootstrap intervals in the results (``<key>/ci_low``, ``<key>/ci_high``) are shown with
their value.

This module only arranges numbers; every number comes from
:func:`~vggsounder_hf.core.evaluation.evaluate_predictions`.

Example:
    >>> model = ModelResult("toy", "labels", {"a/f1": 0.5, "v/f1": 0.25})
    >>> table = main_table([model], metrics=["f1"], columns=["a", "v"])
    >>> print(render(table, "markdown").splitlines()[-1])
    | toy | 50.00 | 25.00 |
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vggsounder_hf.core.alignment import AlignedModel, align
from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.core.schema import (
    BOUNDS,
    COLUMNS,
    DEFAULT_CLIP_SET,
    MU_LABELS,
    MU_PARTS,
    RATE_METRICS,
    ResultKey,
    TieBreak,
    column,
    metric,
    result_key,
    split_list,
)
from vggsounder_hf.core.schema import columns as parse_columns
from vggsounder_hf.reports.render import (
    FORMATS,
    OUTPUT_FORMATS,
    ReportColumn,
    ReportRow,
    ReportTable,
    caption,
    format_percent,
    format_value,
    latex_escape,
    render,
)

__all__ = [
    "FORMATS",
    "MAIN_LAYOUT",
    "METRICS",
    "MU_COLUMNS",
    "MU_LABELS",
    "OUTPUT_FORMATS",
    "ModelResult",
    "ReportColumn",
    "ReportRow",
    "ReportTable",
    "caption",
    "format_percent",
    "format_value",
    "latex_escape",
    "main_table",
    "parse_columns",
    "parse_metrics",
    "render",
    "report_key",
    "result_key",
    "score_models",
    "table_layout",
]

METRICS = RATE_METRICS
"""The metrics a table can show: every rate of the registry (an alias of the schema's)."""
MU_COLUMNS = MU_PARTS
"""The columns of the μ group (an alias of the schema's :data:`MU_PARTS`)."""
MAIN_LAYOUT: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("subset_accuracy", ("a", "v", "av")),
    ("f1", COLUMNS),
    ("hit", ("a", "v", "av")),
    ("mu", MU_PARTS),
)
"""The paper's main table: ``(metric, columns)`` groups."""


@dataclass(frozen=True)
class ModelResult:
    """One model's results from :func:`~vggsounder_hf.core.evaluation.evaluate_predictions`.

    Attributes:
        name: Row name (by default the prediction file's name without extension).
        kind: ``"labels"`` or ``"scores"``.
        results: The flat results dict (fractions).
        source: Where the predictions came from (a file path), for JSON output.
        aligned: The model aligned to the ground truth, when it was scored here (for the
            other reports to reuse); not part of any output.
    """

    name: str
    kind: str
    results: Mapping[str, Any]
    source: str | None = None
    aligned: AlignedModel | None = field(default=None, compare=False, repr=False)


def parse_metrics(names: Iterable[str] | str) -> tuple[str, ...]:
    """Registry names of the table metrics named (comma-separated items allowed; aliases
    such as the reference's names accepted); duplicates dropped, order kept.

    Raises:
        ValueError: Unknown name, a count (not a rate), or nothing selected.

    Example:
        >>> parse_metrics(["accuracy,f1", "hit_rate", "dprime"])
        ('subset_accuracy', 'f1', 'hit', 'd_prime')
    """
    parsed: list[str] = []
    for item in split_list(names):
        name = metric(item).name
        if name not in RATE_METRICS:
            raise ValueError(
                f"{item!r} is a count, not a table metric; choose from {', '.join(RATE_METRICS)}"
            )
        if name not in parsed:
            parsed.append(name)
    if not parsed:
        raise ValueError("no metric selected")
    return tuple(parsed)


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
    for name in chosen:
        if metric(name).family == "confusion":
            layout.append((name, MU_PARTS))
        else:
            layout.append((name, selected or main.get(name, COLUMNS)))
    return tuple(layout)


def report_key(metric_name: str, column_name: str) -> str:
    """The key of a table column (CSV header, JSON key): ``<metric>/<column key>``, and
    the result key ``mu/<part>`` for μ.

    Example:
        >>> report_key("f1", "a only"), report_key("mu", "a_and_v")
        ('f1/a_only', 'mu/a_and_v')
    """
    entry = metric(metric_name)
    if entry.family == "confusion":
        return ResultKey(column_name, entry.name).format()
    return f"{entry.name}/{column(column_name).key}"


def _columns_for(layout: Sequence[tuple[str, Sequence[str]]]) -> tuple[ReportColumn, ...]:
    report_columns = []
    for metric_name, names in layout:
        entry = metric(metric_name)
        for name in names:
            report_columns.append(
                ReportColumn(
                    report_key(entry.name, name),
                    entry.title,
                    MU_LABELS[name] if entry.family == "confusion" else name,
                    entry.better,
                    short=entry.short,
                    percent=entry.percent,
                )
            )
    return tuple(report_columns)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _cell(results: Mapping[str, Any], key: str) -> tuple[float | None, tuple | None]:
    """A result and its bootstrap bounds (``None`` unless both are there)."""
    parsed = ResultKey.parse(key)
    bounds = tuple(
        _number(results.get(dataclasses.replace(parsed, bound=bound).format())) for bound in BOUNDS
    )
    return _number(results.get(key)), None if None in bounds else bounds


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
            cells = [
                _cell(model.results, result_key(metric_name, name, model.kind, k))
                for metric_name, names in layout
                for name in names
            ]
            values = tuple(value for value, _ in cells)
            bounds = tuple(interval for _, interval in cells)
            name = model.name if k is None or len(ks) == 1 else f"{model.name} (k={k})"
            details = {"model": model.name, "source": model.source, "results": model.results}
            intervals = bounds if any(bounds) else ()
            rows.append(ReportRow(name, model.kind, k, values, details, intervals))
    info = dict(metadata or {})
    info.setdefault("ks", list(ks))
    return ReportTable(title, report_columns, tuple(rows), info)


def score_models(
    truth: GroundTruth,
    models: Sequence[tuple[str, ModelPredictions | AlignedModel]],
    *,
    clip_set: Any = DEFAULT_CLIP_SET,
    ks: Sequence[int] = (1,),
    tie_break: TieBreak = "reference",
    progress: Any = None,
    **options: Any,
) -> list[ModelResult]:
    """Align each ``(name, predictions)`` once and run :func:`evaluate_predictions` on it.

    Models already aligned to ``truth`` (:class:`~vggsounder_hf.core.alignment.AlignedModel`)
    are scored as they are; they must have been aligned for every ``k`` of ``ks``. Each
    result keeps its aligned model (:attr:`ModelResult.aligned`) for the other reports.
    ``progress`` is an optional callable wrapping the iterable (for example ``tqdm``);
    ``options`` go to :func:`evaluate_predictions` (for example ``columns``).

    Raises:
        ValueError: An aligned model without one of ``ks``, or aligned to another truth.
    """
    items = models if progress is None else progress(models)
    results = []
    for name, predictions in items:
        model = _aligned(truth, name, predictions, ks, tie_break)
        scored = evaluate_predictions(truth, model, clip_set=clip_set, **options)
        results.append(ModelResult(name, model.kind, scored, model.source, model))
    return results


def _aligned(
    truth: GroundTruth,
    name: str,
    predictions: ModelPredictions | AlignedModel,
    ks: Sequence[int],
    tie_break: TieBreak,
) -> AlignedModel:
    if not isinstance(predictions, AlignedModel):
        return align(truth, predictions, ks=ks, tie_break=tie_break)
    if predictions.truth is not truth:
        raise ValueError(f"{name}: the aligned model was aligned to another ground truth")
    missing = [k for k in ks if k not in predictions.ks]
    if predictions.kind == "scores" and missing:
        raise ValueError(
            f"{name}: the model was aligned for top-k {list(predictions.ks)}, not {missing}"
        )
    return predictions
