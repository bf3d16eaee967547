"""Bootstrap confidence intervals for every VGGSounder rate, and paired model comparison.

``evaluate_predictions(truth, predictions, bootstrap=1000, confidence=0.95, seed=0)`` adds
``"<key>/ci_low"`` and ``"<key>/ci_high"`` for every rate (label-set metrics at every ``k``,
ranking metrics, μ): percentile intervals over resamples of the clip set's clips drawn with
replacement. One resample is one draw of the clip set; every column and μ is computed on the
clips of that same draw, so intervals of different columns stay comparable, and
:func:`compare_models` scores two models on the same draws.

The method:

* weights: ``numpy.random.default_rng(seed)`` draws ``N`` clip indices per resample; their
  counts are the ``(B, N)`` weight matrix (:func:`resample_weights`), fixed by the seed;
* counts: every label-set metric and μ is a formula of sums of per-clip counts, so all
  resamples are one matrix product each, and the weighted counts go through the formulas
  of the point estimate (see :mod:`vggsounder_hf.core.bootstrap_counts`);
* ranking metrics (AUC-ROC, AUC-PR, mAP, d′) of score models use the first
  ``ranking_resamples`` rows of the same weights (default ``min(bootstrap, 200)``). They
  cost about clips x classes per resample and column: on the full test set about 24 ms
  per resample (1,000 take some 25 s), ten times a resample of every label-set metric at
  four ``k``. On the synthetic score model of the tests, the 95 % bounds from 200
  resamples differ from those from 1,000 by about 5 % of the interval's width (11 % at
  most);
* intervals: ``numpy.nanquantile(values, [(1 - c) / 2, 1 - (1 - c) / 2])`` with method
  ``linear``; resamples in which a value is undefined (``nan``: a column without a clip
  in that resample) are left out.

Percentile intervals inherit the bias of a statistic under resampling, and two VGGSounder
metrics have one: macro F1 on a column with few clips per class (``v only``: 851 clips,
309 classes) falls in resamples that miss a class's only clips, and average precision
(AUC-PR, mAP) rises because a clip drawn twice ties with itself. Their intervals can then
lie beside the point estimate (below it for the released models' ``v_only/f1_macro``).

Example:
    >>> from vggsounder_hf.core.ground_truth import GroundTruth
    >>> from vggsounder_hf.core.predictions import ModelPredictions
    >>> rows = [{"video_id": f"x_{i:06d}", "labels": [i % 2], "modalities": ["AV"],
    ...          "background_music": False, "static_image": False, "voice_over": False}
    ...         for i in range(40)]
    >>> truth = GroundTruth.from_rows(rows, class_names=("dog", "cat"))
    >>> def model(wrong):
    ...     return ModelPredictions.from_label_sets(
    ...         {"av": {row["video_id"]: [(i % 2) ^ (i in wrong)] for i, row in enumerate(rows)}},
    ...         ("dog", "cat"))
    >>> better, worse = model({1, 2}), model({1, 2, 3, 4, 5, 6})
    >>> paired = compare_models(truth, better, worse, bootstrap=200, seed=0)["av/hit"]
    >>> round(paired["difference"], 6), paired["ci_low"] >= 0.0, paired["sign_flip"]
    (0.1, True, 0.0)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from vggsounder_hf.core.alignment import AlignedModel, align, checked_columns
from vggsounder_hf.core.bootstrap_counts import resample_weights, resampled_results
from vggsounder_hf.core.clip_sets import ClipSet
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.core.schema import (
    BOUNDS,
    COLUMNS,
    DEFAULT_CLIP_SET,
    DEFAULT_KS,
    ResultKey,
    TieBreak,
)

__all__ = [
    "DEFAULT_RANKING_RESAMPLES",
    "bootstrap_intervals",
    "check_bootstrap_options",
    "compare_models",
    "interval_results",
    "percentile_interval",
    "resample_weights",
    "resampled_results",
]

DEFAULT_RANKING_RESAMPLES = 200
"""Resamples for AUC-ROC, AUC-PR, mAP and d′ when none are given (at most ``bootstrap``)."""


# --------------------------------------------------------------------------- intervals


def check_bootstrap_options(
    bootstrap: int, confidence: float, seed: int | None, ranking_resamples: int | None
) -> tuple[int, float, int | None, int]:
    """The bootstrap options, checked, with ``ranking_resamples`` resolved.

    Returns:
        ``(resamples, confidence, seed, ranking_resamples)``; ``ranking_resamples=None``
        becomes ``min(bootstrap, DEFAULT_RANKING_RESAMPLES)``.

    Raises:
        ValueError: ``bootstrap`` is not a non-negative integer, ``confidence`` not a number
            strictly between 0 and 1, ``seed`` neither an integer nor ``None``, or
            ``ranking_resamples`` not an integer between 0 and ``bootstrap``.

    Example:
        >>> check_bootstrap_options(1000, 0.9, 0, None)
        (1000, 0.9, 0, 200)
    """
    if not _is_int(bootstrap) or bootstrap < 0:
        raise ValueError(
            f"bootstrap must be a non-negative integer (resamples; 0 = no intervals), "
            f"got {bootstrap!r}"
        )
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, (int, float, np.floating))
        or not 0.0 < confidence < 1.0
    ):
        raise ValueError(
            f"confidence must be a number strictly between 0 and 1, got {confidence!r}"
        )
    if seed is not None and not _is_int(seed):
        raise ValueError(f"seed must be an integer or None, got {seed!r}")
    if ranking_resamples is None:
        ranking_resamples = min(int(bootstrap), DEFAULT_RANKING_RESAMPLES)
    elif not _is_int(ranking_resamples) or not 0 <= ranking_resamples <= bootstrap:
        raise ValueError(
            f"ranking_resamples must be an integer between 0 and bootstrap ({bootstrap}), "
            f"got {ranking_resamples!r}"
        )
    return (
        int(bootstrap),
        float(confidence),
        None if seed is None else int(seed),
        int(ranking_resamples),
    )


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """The percentile interval of bootstrap values: their ``(1 - c) / 2`` and
    ``1 - (1 - c) / 2`` quantiles (``numpy.nanquantile``, method ``linear``).

    Resamples whose value is undefined (``nan``: a column without a clip in the resample)
    are left out rather than poisoning the interval; ``(nan, nan)`` if every one is.

    Example:
        >>> import numpy as np
        >>> percentile_interval(np.array([0.0, 1.0, np.nan, 2.0, 3.0, 4.0]), 0.5)
        (1.0, 3.0)
    """
    alpha = (1.0 - confidence) / 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: (nan, nan)
        low, high = np.nanquantile(np.asarray(values, dtype=np.float64), [alpha, 1.0 - alpha])
    return float(low), float(high)


def interval_results(values: Mapping[str, np.ndarray], confidence: float) -> dict[str, float]:
    """``"<key>/ci_low"`` and ``"<key>/ci_high"`` for every resampled result key.

    Example:
        >>> import numpy as np
        >>> interval_results({"av/hit": np.array([0.25, 0.5, 0.75])}, 0.5)
        {'av/hit/ci_low': 0.375, 'av/hit/ci_high': 0.625}
    """
    results: dict[str, float] = {}
    for key, per_resample in values.items():
        parsed = ResultKey.parse(key)
        low, high = percentile_interval(per_resample, confidence)
        results[replace(parsed, bound=BOUNDS[0]).format()] = low
        results[replace(parsed, bound=BOUNDS[1]).format()] = high
    return results


def bootstrap_intervals(
    model: AlignedModel,
    mask: np.ndarray,
    *,
    resamples: int,
    confidence: float,
    seed: int | None,
    ranking_resamples: int,
    columns: Sequence[str],
    modality_confusion: bool,
) -> dict[str, float]:
    """Percentile intervals of every rate of :func:`~vggsounder_hf.core.evaluation.score`,
    over ``resamples`` resamples of the mask's clips (options already checked)."""
    weights = resample_weights(int(np.count_nonzero(mask)), resamples, seed)
    values = resampled_results(
        model,
        mask,
        weights,
        columns=columns,
        modality_confusion=modality_confusion,
        ranking_resamples=ranking_resamples,
    )
    return interval_results(values, confidence)


# --------------------------------------------------------------------------- two models


def compare_models(
    truth: GroundTruth,
    a: ModelPredictions | AlignedModel,
    b: ModelPredictions | AlignedModel,
    *,
    clip_set: ClipSet = DEFAULT_CLIP_SET,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
    ranking_resamples: int | None = None,
    ks: Sequence[int] = DEFAULT_KS,
    tie_break: TieBreak = "reference",
    columns: Sequence[str] = COLUMNS,
    modality_confusion: bool = True,
) -> dict[str, dict[str, float]]:
    """Is model ``a`` really better than ``b``? Their difference on the same resamples.

    Both models are scored on every resample of the clip set (the same weights), so the
    interval is that of the paired difference, much narrower than the two intervals apart
    suggest when the models err on the same clips.

    Args:
        truth: The ground truth both models are scored against.
        a, b: Predictions (label sets or scores) or models aligned to ``truth``.
        clip_set: The clips that are resampled (see :mod:`vggsounder_hf.core.clip_sets`).
        bootstrap: Resamples, at least 1.
        confidence: Coverage of the percentile interval, in ``(0, 1)``.
        seed: Seed of the resamples (``None``: fresh entropy, not reproducible).
        ranking_resamples: Resamples for ranking metrics (see the module docstring).
        ks, tie_break: Alignment options for models given as predictions.
        columns: Columns to compare (any spelling).
        modality_confusion: Compare μ too (when both models have all three inputs).

    Returns:
        Per result key present for both models (a label-set and a score model share only
        μ): ``difference`` (``a`` minus ``b``, as :func:`evaluate_predictions` gives them),
        ``ci_low`` and ``ci_high`` (percentile interval of the resampled differences) and
        ``sign_flip``, the share of resamples (with a defined difference) whose difference
        has the sign opposite to ``difference`` (``0.0`` when ``difference`` is 0).

    Raises:
        ValueError: Bad options, a model aligned to another ground truth, or no result key
            the two models share.
    """
    # evaluation calls this module for its ``bootstrap=`` option; importing it when called
    # keeps the import graph a tree.
    from vggsounder_hf.core.evaluation import score

    resamples, confidence, seed, ranking_resamples = check_bootstrap_options(
        bootstrap, confidence, seed, ranking_resamples
    )
    if resamples < 1:
        raise ValueError(f"compare_models needs bootstrap of at least 1, got {bootstrap!r}")
    columns = checked_columns(columns)
    models = [_aligned(truth, given, name, ks, tie_break) for name, given in (("a", a), ("b", b))]
    mask = models[0].mask(clip_set)
    weights = resample_weights(int(np.count_nonzero(mask)), resamples, seed)
    options = {"columns": columns, "modality_confusion": modality_confusion}
    points = [score(model, mask, **options) for model in models]
    values = [
        resampled_results(model, mask, weights, ranking_resamples=ranking_resamples, **options)
        for model in models
    ]
    shared = [key for key in values[0] if key in values[1]]
    if not shared:
        raise ValueError(
            f"models a ({models[0].kind}) and b ({models[1].kind}) share no result key on "
            f"columns {list(columns)}"
        )
    return {
        key: _paired(points[0][key], points[1][key], values[0][key] - values[1][key], confidence)
        for key in shared
    }


def _aligned(
    truth: GroundTruth,
    given: ModelPredictions | AlignedModel,
    name: str,
    ks: Sequence[int],
    tie_break: TieBreak,
) -> AlignedModel:
    if isinstance(given, AlignedModel):
        if given.truth is not truth:
            raise ValueError(f"model {name} was aligned to another ground truth")
        return given
    return align(truth, given, ks=ks, tie_break=tie_break)


def _paired(
    point_a: float, point_b: float, differences: np.ndarray, confidence: float
) -> dict[str, float]:
    difference = float(point_a - point_b)
    low, high = percentile_interval(differences, confidence)
    defined = differences[~np.isnan(differences)]
    if math.isnan(difference) or not defined.size:
        sign_flip = math.nan
    elif difference == 0.0:
        sign_flip = 0.0
    else:
        sign_flip = float(np.mean(np.sign(defined) == -np.sign(difference)))
    return {"difference": difference, "ci_low": low, "ci_high": high, "sign_flip": sign_flip}
