"""The meta-label analysis in the layout of the paper's Table 3.

Every number is an :func:`~vggsounder_hf.core.evaluation.evaluate_predictions` result on a
named clip set of :mod:`vggsounder_hf.core.clip_sets`. All clip sets here filter the **full**
release (every clip, with and without background music), not the default set:

======================  =========================================  ==========================
group                   value                                      columns
======================  =========================================  ==========================
ΔF1 background music    F1(``background_music``) −                 a, v, av
                        F1(``no_background_music``)
ΔF1 voice over          F1(``voice_over``) − F1(``no_voice_over``)  a
ΔF1 static image        F1(``static_image``) − F1(``no_static_image``)  a, v
Acc. static image       subset accuracy on ``static_image``        a, v
Acc. no static image    subset accuracy on ``no_static_image``     a, v
ΔF1 all − none          F1(``full``) − F1(``no_meta``)             a, v, av
======================  =========================================  ==========================

``no_meta`` is the clips with none of the three meta labels ("neither" in the paper).
Differences are in percentage points (positive: the model does better on clips *with*
the meta label, or on all clips than on the clean ones). Score models use ``f1@k`` and
``subset_accuracy@k`` at one ``k`` (default 1).

Example:
    >>> [column.key for column in meta_columns()][:3]
    ['delta_f1/background_music/a', 'delta_f1/background_music/v', 'delta_f1/background_music/av']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.core.functional import TieBreak
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.core.schema import column as column_spec
from vggsounder_hf.reports.tables import ReportColumn, ReportRow, ReportTable, result_key

__all__ = [
    "META_CLIP_SETS",
    "META_COMPARISONS",
    "MetaComparison",
    "meta_columns",
    "meta_label_report",
]


@dataclass(frozen=True)
class MetaComparison:
    """One group of Table 3: ``metric`` on ``with_set`` minus (if ``without_set``) the same
    metric on ``without_set``, for each of ``columns``."""

    key: str
    group: str
    metric: str
    columns: tuple[str, ...]
    with_set: str
    without_set: str | None = None


META_COMPARISONS: tuple[MetaComparison, ...] = (
    MetaComparison(
        "delta_f1/background_music",
        "ΔF1 background music",
        "f1",
        ("a", "v", "av"),
        "background_music",
        "no_background_music",
    ),
    MetaComparison(
        "delta_f1/voice_over", "ΔF1 voice over", "f1", ("a",), "voice_over", "no_voice_over"
    ),
    MetaComparison(
        "delta_f1/static_image",
        "ΔF1 static image",
        "f1",
        ("a", "v"),
        "static_image",
        "no_static_image",
    ),
    MetaComparison(
        "subset_accuracy/static_image",
        "Acc. static image",
        "subset_accuracy",
        ("a", "v"),
        "static_image",
    ),
    MetaComparison(
        "subset_accuracy/no_static_image",
        "Acc. no static image",
        "subset_accuracy",
        ("a", "v"),
        "no_static_image",
    ),
    MetaComparison(
        "delta_f1/all_minus_none", "ΔF1 all − none", "f1", ("a", "v", "av"), "full", "no_meta"
    ),
)

META_CLIP_SETS: tuple[str, ...] = tuple(
    dict.fromkeys(
        name
        for comparison in META_COMPARISONS
        for name in (comparison.with_set, comparison.without_set)
        if name is not None
    )
)
"""The clip sets evaluated for the report, each over the full release."""


def meta_columns() -> tuple[ReportColumn, ...]:
    """The report's columns, in Table 3 order."""
    return tuple(
        ReportColumn(
            key=f"{comparison.key}/{column_spec(column).key}",
            group=comparison.group,
            label=column,
            better=None if comparison.without_set else "higher",
            signed=comparison.without_set is not None,
        )
        for comparison in META_COMPARISONS
        for column in comparison.columns
    )


def meta_label_report(
    truth: GroundTruth,
    models: Sequence[tuple[str, ModelPredictions]],
    *,
    k: int = 1,
    tie_break: TieBreak = "reference",
    metadata: Mapping[str, Any] | None = None,
    progress: Any = None,
) -> ReportTable:
    """Table 3 for each model.

    Args:
        truth: The ground truth of the **full** release (every clip); the clip sets select
            from it.
        models: ``(name, predictions)`` pairs, in row order.
        k: Top-k for score models.
        tie_break: Passed to :func:`evaluate_predictions`.
        metadata: Extra metadata for the caption and JSON (for example the label version).
        progress: Optional callable wrapping an iterable of ``(model, clip set)`` pairs,
            for example ``functools.partial(tqdm, desc="meta-label report")``.

    Returns:
        A :class:`~vggsounder_hf.reports.tables.ReportTable`; render it with
        :func:`vggsounder_hf.reports.tables.render`. Each row's details hold every clip set's
        full results for JSON.
    """
    needed_columns = tuple(
        dict.fromkeys(column for comparison in META_COMPARISONS for column in comparison.columns)
    )
    tasks = [
        (name, predictions, clip_set) for name, predictions in models for clip_set in META_CLIP_SETS
    ]
    iterator = tasks if progress is None else progress(tasks)
    by_model: dict[str, dict[str, Mapping[str, Any]]] = {}
    for name, predictions, clip_set in iterator:
        by_model.setdefault(name, {})[clip_set] = evaluate_predictions(
            truth,
            predictions,
            clip_set=clip_set,
            columns=needed_columns,
            ks=(k,) if predictions.kind == "scores" else (1,),
            tie_break=tie_break,
            modality_confusion=False,
        )
    rows = []
    for name, predictions in models:
        results = by_model.get(name, {})
        values: list[float | None] = []
        for comparison in META_COMPARISONS:
            for column in comparison.columns:
                values.append(_value(comparison, column, results, predictions.kind, k))
        details = {"model": name, "source": predictions.source, "results_by_clip_set": results}
        row_k = k if predictions.kind == "scores" else None
        rows.append(ReportRow(name, predictions.kind, row_k, tuple(values), details))
    info = dict(metadata or {})
    info["clip_sets"] = {clip_set: len(truth.select(clip_set)) for clip_set in META_CLIP_SETS}
    info["ks"] = [k]
    info["tie_break"] = tie_break
    notes = (
        "ΔF1: F1 on clips with the meta label minus F1 on clips without it; all − none: F1 on "
        "every clip minus F1 on clips with no meta label; all sets over the full release.",
    )
    return ReportTable("VGGSounder meta-label analysis", meta_columns(), tuple(rows), info, notes)


def _value(
    comparison: MetaComparison,
    column: str,
    results: Mapping[str, Mapping[str, Any]],
    kind: str,
    k: int,
) -> float | None:
    key = result_key(comparison.metric, column, kind, k)
    with_value = results.get(comparison.with_set, {}).get(key)
    if with_value is None:
        return None
    if comparison.without_set is None:
        return float(with_value)
    without_value = results.get(comparison.without_set, {}).get(key)
    return None if without_value is None else float(with_value) - float(without_value)
