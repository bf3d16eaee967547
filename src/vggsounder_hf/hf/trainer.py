"""VGGSounder metrics inside ``transformers.Trainer``: ``compute_metrics``.

:func:`make_compute_metrics` builds a ``compute_metrics`` callable from the evaluation
split. It knows every clip's labels, label modalities and meta flags *in the row order of
that split*, which is the order in which ``Trainer`` hands over the logits (evaluation is
never shuffled). Each call turns the logits into score predictions and scores them with
:func:`vggsounder_hf.core.evaluation.evaluate_predictions`, the function behind the ``evaluate``
module and the command line, so the numbers are the same everywhere.

The multi-hot targets for ``problem_type="multi_label_classification"``
(:func:`with_multi_hot_labels`, :func:`multi_hot_labels`, :func:`multi_hot_features`) live
in :mod:`vggsounder_hf.hf.multi_hot` and are importable from here too; what ``Trainer``
passes is read by :mod:`vggsounder_hf.hf.logits`. Neither ``torch`` nor ``transformers`` is
imported: ``Trainer`` passes numpy arrays (torch tensors with ``batch_eval_metrics=True``;
they are converted by duck typing).

Metric names (``Trainer`` adds ``eval_``; ``prefix`` goes between the two) are result keys
of :class:`~vggsounder_hf.core.schema.ResultKey`, exactly those of
:func:`~vggsounder_hf.core.evaluation.evaluate_predictions` for a score model, so
``eval_av/hit@1`` is ``av/hit@1`` of the ``evaluate`` module (with ``threshold=`` the
label-set keys have no ``@k``: ``av/hit``; with ``bootstrap=`` every rate also has
``<key>/ci_low`` and ``<key>/ci_high``):

=============================  ==========================================================
key                            meaning
=============================  ==========================================================
``<col>/hit@<k>``              clips with a true label among the top-k classes
``<col>/f1@<k>``               micro F1 of the top-k classes as the predicted set
``<col>/subset_accuracy@<k>``  clips whose true set equals the top-k set
``<col>/auc_roc``              per-class AUC-ROC, averaged over classes with a positive
``<col>/auc_pr``               per-class average precision, averaged likewise
``mu/a``, ``mu/v``,            modality confusion (top-1): audio (video, both) hits while
``mu/a_and_v``                 the audio-visual input misses; only with all three inputs
=============================  ==========================================================

``<col>`` is ``a`` and ``a_only`` for the audio input, ``v`` and ``v_only`` for the video
input, ``av`` for the audio-visual input. ``metrics=`` picks any of :data:`METRICS`: every
label-set and ranking metric of the registry (:data:`vggsounder_hf.core.schema.METRICS`;
label-set metrics at each ``k``, ranking metrics such as ``map`` and ``d_prime`` once per
column) and ``num_clips``. Values are as computed: fractions for rates.

Example:
    >>> from vggsounder_hf import load_vggsounder
    >>> test = load_vggsounder("1.0")  # doctest: +SKIP
    >>> compute_metrics = make_compute_metrics(test, "av")  # doctest: +SKIP
    >>> eval_dataset = with_multi_hot_labels(test)  # doctest: +SKIP
    >>> trainer = Trainer(model, args, eval_dataset=eval_dataset,
    ...                   compute_metrics=compute_metrics)  # doctest: +SKIP
    >>> trainer.evaluate()["eval_av/hit@1"]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from vggsounder_hf.core import errors
from vggsounder_hf.core.clip_sets import ClipSet, describe_clip_set
from vggsounder_hf.core.coverage import check_clip_set
from vggsounder_hf.core.evaluation import checked_ks, evaluate_predictions
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.core.schema import (
    BOUNDS,
    DEFAULT_CLIP_SET,
    INPUT_MODALITIES,
    LABEL_SET_METRICS,
    MU_PARTS,
    RANKING_METRICS,
    TIE_BREAKS,
    ResultKey,
    TieBreak,
    result_key,
)
from vggsounder_hf.hf.logits import (
    checked_columns,
    checked_input_modalities,
    checked_metrics,
    checked_scoring_options,
    checked_threshold_option,
    class_names_of,
    evaluation_rows,
    interval_families,
    logit_rows,
    multi_hot_label_ids,
    split_logits,
    unpack_eval_prediction,
)
from vggsounder_hf.hf.multi_hot import (
    multi_hot_features,
    multi_hot_labels,
    with_multi_hot_labels,
)

__all__ = [
    "DEFAULT_METRICS",
    "METRICS",
    "VGGSounderComputeMetrics",
    "make_compute_metrics",
    "metric_names",
    "multi_hot_features",
    "multi_hot_labels",
    "with_multi_hot_labels",
]

METRICS: tuple[str, ...] = (*LABEL_SET_METRICS, *RANKING_METRICS, "num_clips")
"""Every metric :func:`make_compute_metrics` can return: the registry's label-set and
ranking metrics, and the clip count."""
DEFAULT_METRICS: tuple[str, ...] = ("hit", "f1", "subset_accuracy", "auc_roc", "auc_pr")
"""Returned unless ``metrics=`` says otherwise (label-set metrics at each ``k``)."""
SCORED_KIND = "scores"
"""Logits are scores: the keys are those of a score model."""


class VGGSounderComputeMetrics:
    """``compute_metrics`` for ``transformers.Trainer``; see :func:`make_compute_metrics`.

    Attributes:
        input_modalities: The inputs the logits belong to, in their order in the logits.
        metric_names: The keys every final call returns (without ``Trainer``'s ``eval_``).
        truth: The ground truth of the evaluation split (all clips, before the clip set).
        video_ids: Clip id of each evaluation row, in row order.
        num_scored: Evaluation rows inside the clip set (the others are ignored).
    """

    def __init__(
        self,
        eval_dataset: Any,
        input_modality: str | Sequence[str] = "av",
        *,
        clip_set: ClipSet = DEFAULT_CLIP_SET,
        ks: Sequence[int] | None = None,
        tie_break: TieBreak = "reference",
        metrics: Sequence[str] = DEFAULT_METRICS,
        columns: Sequence[str] | None = None,
        modality_confusion: bool = True,
        prefix: str = "",
        label_column: str = "labels",
        class_names: Sequence[str] | None = None,
        check_labels: bool = True,
        threshold: float | None = None,
        sigmoid: bool = False,
        **scoring: Any,
    ) -> None:
        self.input_modalities = checked_input_modalities(input_modality)
        if tie_break not in TIE_BREAKS:
            raise errors.OptionError(f"tie_break must be one of {TIE_BREAKS}, got {tie_break!r}")
        self.tie_break = tie_break
        self.threshold, self.sigmoid = checked_threshold_option(threshold, sigmoid, ks)
        self.scoring = checked_scoring_options(scoring)
        self.metrics = checked_metrics(metrics, METRICS)
        self.columns = checked_columns(columns, self.input_modalities)
        self.modality_confusion = bool(modality_confusion)
        self.prefix = str(prefix)
        self.check_labels = bool(check_labels)
        self.clip_set = clip_set

        class_names = class_names_of(eval_dataset, label_column, class_names)
        self.ks = checked_ks((1,) if ks is None else ks, len(class_names))
        rows = evaluation_rows(eval_dataset, class_names, label_column)
        self.truth = GroundTruth.from_rows(rows, class_names)
        self.video_ids = np.asarray([row["video_id"] for row in rows], dtype=object)
        # All labels of each evaluation row (any modality), in row order: the sanity check
        # that the logits and label_ids Trainer passes belong to these rows.
        self._row_labels = self.truth.labels("all")[self.truth.row_of(self.video_ids)]
        self.num_scored = len(self.truth.select(clip_set))  # also validates clip_set
        if self.num_scored == 0:
            raise errors.EmptyClipSetError(
                f"no clip of the evaluation dataset ({len(self.truth)} rows) is in clip set "
                f"{describe_clip_set(clip_set)!r}; pass clip_set='full' to score every row"
            )
        check_clip_set(self.truth, clip_set, self.columns, source="the evaluation dataset")
        self.metric_names = metric_names(
            self.columns,
            self.metrics,
            self.ks,
            self.modality_confusion and set(self.input_modalities) == set(INPUT_MODALITIES),
            thresholded=self.threshold is not None,
            intervals=interval_families(self.scoring, self.threshold),
        )
        self._batches: list[dict[str, np.ndarray]] = []
        self._rows_seen = 0

    @property
    def num_rows(self) -> int:
        """Rows of the evaluation dataset (the number of logits rows expected)."""
        return len(self.video_ids)

    @property
    def num_classes(self) -> int:
        return self.truth.num_classes

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.truth.class_names

    def __call__(self, eval_prediction: Any, compute_result: bool | None = None) -> dict:
        """Score one evaluation (``Trainer`` calls it with an ``EvalPrediction``).

        Args:
            eval_prediction: An ``EvalPrediction`` (or a ``(predictions, label_ids)`` pair).
            compute_result: ``None`` (plain ``compute_metrics``): the predictions cover the
                whole evaluation set. ``False`` (``batch_eval_metrics=True``): one batch, kept
                until the final call; returns ``{}``. ``True``: the last batch; scores all
                batches kept and forgets them.

        Returns:
            ``{prefix + name: value}`` for every name in :attr:`metric_names`.
        """
        predictions, label_ids = unpack_eval_prediction(eval_prediction)
        if compute_result is None:
            if self._batches:
                self.reset()
                raise RuntimeError(
                    "compute_metrics was called without compute_result while batches of a "
                    "batch_eval_metrics evaluation were pending (they are now discarded)"
                )
            logits = self._split(predictions)
            self._check_label_ids(label_ids, 0, logit_rows(logits))
            return self._score(logits)
        try:
            # A copy: the caller may reuse its buffers before the last batch arrives.
            logits = {m: np.array(a, copy=True) for m, a in self._split(predictions).items()}
            self._check_label_ids(label_ids, self._rows_seen, logit_rows(logits))
            self._batches.append(logits)
            self._rows_seen += logit_rows(logits)
            if not compute_result:
                if self._rows_seen > self.num_rows:
                    raise errors.PredictionError(self._count_message(self._rows_seen, "so far"))
                return {}
            gathered = {
                modality: np.concatenate([batch[modality] for batch in self._batches])
                for modality in self.input_modalities
            }
        except BaseException:
            self.reset()
            raise
        self.reset()
        return self._score(gathered)

    def compute(self, logits: Any) -> dict:
        """The metrics of logits for the whole evaluation set (no ``EvalPrediction``).

        Args:
            logits: ``(N, 309)`` for one input modality; for several, ``(N, M, 309)`` in the
                order of :attr:`input_modalities`, a tuple of ``M`` ``(N, 309)`` arrays, or a
                mapping ``{input_modality: (N, 309)}``.
        """
        return self._score(self._split(logits))

    def reset(self) -> None:
        """Forget the batches kept by ``compute_result=False`` calls."""
        self._batches = []
        self._rows_seen = 0

    def _score(self, per_input: dict[str, np.ndarray]) -> dict:
        rows = logit_rows(per_input)
        if rows != self.num_rows:
            raise errors.PredictionError(self._count_message(rows, "in total"))
        predictions = ModelPredictions.from_scores(
            {modality: (self.video_ids, per_input[modality]) for modality in self.input_modalities},
            self.class_names,
            source="Trainer evaluation logits",
        )
        results = evaluate_predictions(
            self.truth,
            predictions,
            clip_set=self.clip_set,
            columns=self.columns,
            ks=self.ks,
            tie_break=self.tie_break,
            modality_confusion=self.modality_confusion,
            threshold=self.threshold,
            sigmoid=self.sigmoid,
            **self.scoring,
        )
        return {self.prefix + name: _plain(results[name]) for name in self.metric_names}

    def _split(self, predictions: Any) -> dict[str, np.ndarray]:
        return split_logits(predictions, self.input_modalities, self.num_classes)

    def _check_label_ids(self, label_ids: Any, start: int, count: int) -> None:
        """Every positive of multi-hot ``label_ids`` must be a label of its row's clip."""
        if not self.check_labels:
            return
        label_ids = multi_hot_label_ids(label_ids, self.num_classes)
        if label_ids is None or start + len(label_ids) > self.num_rows or len(label_ids) != count:
            return  # nothing to check, or the row count check names the problem
        positive = label_ids > 0.5
        foreign = positive & ~self._row_labels[start : start + len(label_ids)]
        if foreign.any():
            row, label = np.argwhere(foreign)[0]
            raise errors.GroundTruthError(
                f"label_ids row {start + row} marks class {self.class_names[label]!r}, which is "
                f"not a label of clip {self.video_ids[start + row]!r}, the clip of evaluation row "
                f"{start + row}: the evaluation dataset given to Trainer is not the one (in the "
                "same order) that make_compute_metrics was built from. If your training labels "
                "are not VGGSounder's labels, pass check_labels=False"
            )

    def _count_message(self, rows: int, when: str) -> str:
        return (
            f"got logits for {rows} clips {when}, but the evaluation dataset given to "
            f"make_compute_metrics has {self.num_rows} rows; build compute_metrics from the "
            "same evaluation dataset that Trainer evaluates (and keep dataloader_drop_last=False)"
        )


def make_compute_metrics(
    eval_dataset: Any, input_modality: str | Sequence[str] = "av", **options: Any
) -> VGGSounderComputeMetrics:
    """Build ``compute_metrics`` for ``transformers.Trainer`` from the evaluation split.

    Pass the split *as it is before* :func:`with_multi_hot_labels` (its ``labels`` must
    still be class indices or names) and then evaluate the same rows, in the same order.
    The callable also accepts ``compute_result`` and so works with
    ``TrainingArguments(batch_eval_metrics=True)``: batches are kept (as logits: about
    1.2 MB per 1,000 clips and input) and scored on the last one, with the same numbers as
    one call on all logits.

    Args:
        eval_dataset: The evaluation rows: a ``datasets.Dataset`` of the ``vggsounder``
            builder (or any sequence of mappings) with ``video_id``, ``labels``,
            ``modalities``, ``background_music``, ``static_image`` and ``voice_over``.
        input_modality: The input the logits come from: ``"a"``, ``"v"`` or ``"av"``, or
            several (``("a", "v", "av")`` or ``"all"``), then the logits are ``(N, M, 309)``
            in that order, a tuple of ``M`` ``(N, 309)`` arrays, or a mapping by input.
        **options: Keyword arguments of :class:`VGGSounderComputeMetrics`:
        clip_set: Which rows are scored (others are ignored). Default ``"default"``: clips
            without background music, the authors' benchmark set, as everywhere in this
            project, even when ``eval_dataset`` is the whole release. ``"full"`` scores every
            row; any name or mapping of :mod:`vggsounder_hf.core.clip_sets` works.
        ks: Top-k cut-offs for the label-set metrics (default ``(1,)``).
        threshold: Instead of top-k: every class whose logit is above it is predicted
            (``sigmoid=True``: whose probability is; ``threshold=0.5, sigmoid=True`` is the
            usual reading of a BCE-trained model). The label-set keys then have no ``@k``
            (``av/hit``); the ranking metrics are the same. Not with ``ks``.
        sigmoid: With ``threshold``: apply the logistic function to the logits first.
        tie_break: ``"reference"`` (numpy's sort, as the authors) or ``"lowest_index"``.
        metrics: Names from :data:`METRICS` (default :data:`DEFAULT_METRICS`).
        columns: Columns to report, in any spelling (``"a only"``, ``"a_only"``; default:
            every column of the given inputs: ``a`` and ``a only`` for ``"a"``, ``v`` and
            ``v only`` for ``"v"``, ``av`` for ``"av"``).
        modality_confusion: Report ``mu/*`` when the logits cover all three inputs.
        prefix: Put before every key, e.g. ``"vggsounder/"`` gives
            ``eval_vggsounder/av/hit@1``.
        label_column: The column with the class indices (or names) of each clip.
        class_names: The class list; default the ``ClassLabel`` names of ``label_column``.
        check_labels: Check that multi-hot ``label_ids`` (as made by
            :func:`with_multi_hot_labels`) only mark labels of the clip of their row, which
            catches an evaluation set that was shuffled, filtered or swapped.
        bootstrap, confidence, seed, ranking_resamples: Bootstrap confidence intervals, as
            in :func:`~vggsounder_hf.core.evaluation.evaluate_predictions` (``bootstrap=0``,
            the default, computes none): ``<key>/ci_low`` and ``<key>/ci_high`` for every
            rate returned (for ranking metrics only with ``ranking_resamples`` > 0 and
            without ``threshold``).
        protocol, mu_ground_truth: ``"reference"`` (default) or ``"paper"`` μ (see
            :data:`vggsounder_hf.core.schema.PROTOCOLS`).

    Raises:
        VGGSounderInputError: (a ``ValueError``) Unknown input, metric, column, clip set or
            tie break; bad ``ks``; rows that lack a field or repeat a clip; no row in the clip
            set. A call raises ``PredictionError`` for logits of the wrong shape or type
            (booleans, strings, complex numbers) or with NaN or infinity, naming the clip.

    Example:
        >>> import datasets
        >>> rows = datasets.Dataset.from_list([
        ...     {"video_id": "x_000001", "labels": [1], "modalities": [2],
        ...      "background_music": False, "static_image": False, "voice_over": False}],
        ...     features=datasets.Features({
        ...         "video_id": datasets.Value("string"),
        ...         "labels": datasets.List(datasets.ClassLabel(names=["dog", "cat"])),
        ...         "modalities": datasets.List(datasets.ClassLabel(names=["A", "V", "AV"])),
        ...         "background_music": datasets.Value("bool"),
        ...         "static_image": datasets.Value("bool"),
        ...         "voice_over": datasets.Value("bool")}))
        >>> compute_metrics = make_compute_metrics(rows, "av", metrics=("hit",))
        >>> compute_metrics((np.array([[0.1, 0.9]]), None))
        {'av/hit@1': 1.0}
    """
    return VGGSounderComputeMetrics(eval_dataset, input_modality, **options)


def metric_names(
    column_names: Sequence[str],
    metrics: Sequence[str],
    ks: Sequence[int],
    modality_confusion: bool = False,
    *,
    thresholded: bool = False,
    intervals: tuple[str, ...] = (),
) -> tuple[str, ...]:
    """The result keys of these metrics for a score model, in column, metric, ``k`` order.

    Built by the key grammar the scoring writes (:func:`~vggsounder_hf.core.schema.result_key`),
    so whether a metric has one key per ``k`` comes from its registry row: a new metric of
    the registry gets the right names here without a change. ``thresholded``: the model is
    scored as label sets (no ``@k``); ``intervals``: the metric families whose keys are
    followed by their ``/ci_low`` and ``/ci_high`` keys.

    Example:
        >>> metric_names(["av"], ["hit", "d_prime"], [1, 3])
        ('av/hit@1', 'av/hit@3', 'av/d_prime')
        >>> metric_names(["a only"], ["num_clips"], [1], modality_confusion=True)
        ('a_only/num_clips', 'mu/a', 'mu/v', 'mu/a_and_v', 'mu/num_clips')
        >>> metric_names(["av"], ["hit"], [1], thresholded=True, intervals=("label_set",))
        ('av/hit', 'av/hit/ci_low', 'av/hit/ci_high')
    """
    kind = "labels" if thresholded else SCORED_KIND
    keys: list[ResultKey] = []
    for name in column_names:
        for metric_name in metrics:
            # A metric without top-k gives the same key for every k: kept once.
            for k in ks:
                key = ResultKey.parse(result_key(metric_name, name, kind, k))
                if key not in keys:
                    keys.append(key)
    if modality_confusion:
        keys += [ResultKey(part, "mu") for part in MU_PARTS]
        if "num_clips" in metrics:
            keys.append(ResultKey("mu", "num_clips"))
    names: list[str] = []
    for key in keys:
        names.append(key.format())
        if key.entry is not None and key.entry.family in intervals:
            names += [ResultKey(key.column, key.metric, key.k, bound).format() for bound in BOUNDS]
    return tuple(names)


def _plain(value: Any) -> float | int:
    return int(value) if isinstance(value, (int, np.integer)) else float(value)
