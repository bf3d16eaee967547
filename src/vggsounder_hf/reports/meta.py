"""The meta-label analysis in the layout of the paper's Table 3.

Every number is a :func:`~vggsounder_hf.core.evaluation.score` result on a named clip set
of :mod:`vggsounder_hf.core.clip_sets`, each model aligned once for all of them. All clip
sets here filter the **full** release (every clip, with and without background music), not
the default set:

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

The table above is the caption's reading, ``protocol="reference"`` (the default). The printed
Table 3 is computed differently (``protocol="paper"``, meta difference ``full_minus_without`` of
:data:`~vggsounder_hf.core.schema.PROTOCOLS`): every clip set *with* a meta label becomes
``full``, so ΔF1 background music is F1(``full``) − F1(``no_background_music``) (likewise for
voice over and static image) and "Sub. Acc. w/" is subset accuracy on ``full``. "w/o" and
"neither" are the same in both readings. The columns and their keys do not change.

Example:
    >>> [column.key for column in meta_columns()][:3]
    ['delta_f1/background_music/a', 'delta_f1/background_music/v', 'delta_f1/background_music/av']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vggsounder_hf.core.alignment import AlignedModel, align
from vggsounder_hf.core.evaluation import score
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.core.schema import DEFAULT_PROTOCOL, META_LABELS, TieBreak, result_key
from vggsounder_hf.core.schema import column as column_spec
from vggsounder_hf.core.schema import protocol as protocol_spec
from vggsounder_hf.reports.render import ReportColumn, ReportRow, ReportTable

__all__ = [
    "META_CLIP_SETS",
    "META_COMPARISONS",
    "MetaComparison",
    "meta_columns",
    "meta_comparisons",
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


def _clip_sets(comparisons: Sequence[MetaComparison]) -> tuple[str, ...]:
    """The clip sets the comparisons read, in order of first use."""
    names = (name for c in comparisons for name in (c.with_set, c.without_set) if name is not None)
    return tuple(dict.fromkeys(names))


META_CLIP_SETS: tuple[str, ...] = _clip_sets(META_COMPARISONS)
"""The clip sets evaluated for the report (reference protocol), each over the full release."""

_NOTES = {
    "with_minus_without": "ΔF1: F1 on clips with the meta label minus F1 on clips without it; "
    "all − none: F1 on every clip minus F1 on clips with no meta label; all sets over the full "
    "release",
    "full_minus_without": "ΔF1 (as the printed Table 3): F1 on every clip minus F1 on clips "
    "without the meta label; Acc. static image: subset accuracy on every clip; all − none: F1 on "
    "every clip minus F1 on clips with no meta label; all sets over the full release",
}


def meta_comparisons(protocol_name: str = DEFAULT_PROTOCOL) -> tuple[MetaComparison, ...]:
    """The groups of Table 3 as a protocol computes them (see the module docstring).

    Example:
        >>> [c.with_set for c in meta_comparisons("paper")][:4]
        ['full', 'full', 'full', 'full']
    """
    if protocol_spec(protocol_name).meta_difference == "with_minus_without":
        return META_COMPARISONS
    return tuple(
        dataclasses.replace(comparison, with_set="full")
        if comparison.with_set in META_LABELS
        else comparison
        for comparison in META_COMPARISONS
    )


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
    models: Sequence[tuple[str, ModelPredictions | AlignedModel]],
    *,
    k: int = 1,
    tie_break: TieBreak = "reference",
    metadata: Mapping[str, Any] | None = None,
    progress: Any = None,
    protocol: str = DEFAULT_PROTOCOL,
) -> ReportTable:
    """Table 3 for each model.

    Each model is aligned to ``truth`` once (:func:`~vggsounder_hf.core.alignment.align`)
    and scored on every clip set by :func:`~vggsounder_hf.core.evaluation.score`.

    Args:
        truth: The ground truth of the **full** release (every clip); the clip sets select
            from it.
        models: ``(name, predictions)`` pairs, in row order; the predictions may be a model
            already aligned to ``truth`` (for score models at ``k``, with ``tie_break``).
        k: Top-k for score models.
        tie_break: How top-k treats tied scores (see :func:`~vggsounder_hf.core.alignment.align`).
        metadata: Extra metadata for the caption and JSON (for example the label version).
        progress: Optional callable wrapping an iterable of ``(model, clip set)`` pairs,
            for example ``functools.partial(tqdm, desc="meta-label report")``.
        protocol: ``"reference"`` (with minus without, the caption's reading) or ``"paper"``
            (full minus without, the printed numbers); the truth's label release is the
            caller's choice (the paper's is ``protocol("paper").label_release``).

    Returns:
        A :class:`~vggsounder_hf.reports.render.ReportTable`; render it with
        :func:`vggsounder_hf.reports.render.render`. Each row's details hold every clip set's
        full results for JSON.

    Raises:
        ValueError: An aligned model aligned to another truth, without ``k`` or with
            another ``tie_break``; an unknown protocol.
    """
    comparisons = meta_comparisons(protocol)
    clip_sets = _clip_sets(comparisons)
    aligned = [(name, _aligned(truth, name, model, k, tie_break)) for name, model in models]
    needed_columns = tuple(
        dict.fromkeys(column for comparison in comparisons for column in comparison.columns)
    )
    tasks = [(name, model, clip_set) for name, model in aligned for clip_set in clip_sets]
    iterator = tasks if progress is None else progress(tasks)
    by_model: dict[str, dict[str, Mapping[str, Any]]] = {}
    for name, model, clip_set in iterator:
        by_model.setdefault(name, {})[clip_set] = score(
            model, clip_set, columns=needed_columns, modality_confusion=False
        )
    rows = []
    for name, model in aligned:
        results = by_model.get(name, {})
        values: list[float | None] = []
        for comparison in comparisons:
            for column in comparison.columns:
                values.append(_value(comparison, column, results, model.kind, k))
        details = {"model": name, "source": model.source, "results_by_clip_set": results}
        row_k = k if model.kind == "scores" else None
        rows.append(ReportRow(name, model.kind, row_k, tuple(values), details))
    info = dict(metadata or {})
    info["protocol"] = protocol
    info["meta_difference"] = difference = protocol_spec(protocol).meta_difference
    info["clip_sets"] = {clip_set: int(truth.mask(clip_set).sum()) for clip_set in clip_sets}
    info["ks"] = [k]
    info["tie_break"] = tie_break
    notes = (f"Protocol {protocol}. {_NOTES[difference]}.",)
    return ReportTable("VGGSounder meta-label analysis", meta_columns(), tuple(rows), info, notes)


def _aligned(
    truth: GroundTruth,
    name: str,
    model: ModelPredictions | AlignedModel,
    k: int,
    tie_break: TieBreak,
) -> AlignedModel:
    if not isinstance(model, AlignedModel):
        return align(truth, model, ks=(k,), tie_break=tie_break)
    if model.truth is not truth:
        raise ValueError(f"{name}: the aligned model was aligned to another ground truth")
    if model.kind == "scores" and (k not in model.ks or model.tie_break != tie_break):
        raise ValueError(
            f"{name}: the model was aligned for top-k {list(model.ks)} with tie break "
            f"{model.tie_break!r}; the report needs k={k} with {tie_break!r}"
        )
    return model


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
