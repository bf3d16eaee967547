"""Align once, score many: a model's predictions matched to the ground truth, ready to score
on any set of clips.

:func:`align` checks every option up front (for every prediction kind), matches each input's
clip ids to the ground truth once and, for score models, ranks the scores once. The result,
an :class:`AlignedModel`, is what :func:`vggsounder_hf.core.evaluation.score` takes together
with a clip mask, so the meta-label report (eight clip sets), ``clip_set_difference``, the
confused-clips report and the bootstrap reuse one alignment.

Matching follows the reference: a clip of the ground truth with no prediction is an empty
prediction for label sets (a miss) and is left out for scores; predictions for clips outside
the ground truth are ignored (and counted in :attr:`AlignedModel.num_unknown_clips`).

Score predictions become label sets by top-k (the default: the ``k`` best classes of each
clip, at every ``k`` of ``ks``) or, with ``threshold=``, by a threshold: every class whose
score (or ``sigmoid(score)`` with ``sigmoid=True``) is strictly above it. A thresholded score
model is scored as a label-set model (:attr:`AlignedModel.kind` is ``"labels"``: its result
keys have no ``@k``) that keeps its scores for the ranking metrics (AUC-ROC, AUC-PR, mAP,
d′), and keeps the score models' rules for clips without scores: they are left out of the
columns and of μ.

Example:
    >>> from vggsounder_hf.core.ground_truth import GroundTruth
    >>> truth = GroundTruth.from_rows(
    ...     [{"video_id": "x_000001", "labels": [0], "modalities": ["AV"],
    ...       "background_music": False, "static_image": False, "voice_over": False}],
    ...     class_names=("dog", "cat"))
    >>> predictions = ModelPredictions.from_label_sets(
    ...     {"av": {"x_000001": ["dog"], "y_000002": ["cat"]}}, ("dog", "cat"))
    >>> model = align(truth, predictions)
    >>> model.input_modalities, model.num_unknown_clips
    (('av',), 1)
    >>> view = model.column_view("av", truth.mask("full"))
    >>> view.y_true.astype(int).tolist(), view.y_pred.astype(int).tolist()
    ([[1, 0]], [[1, 0]])
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from vggsounder_hf.core import ranking as ranking_core
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.parallel import checked_threads, default_threads, run_in_order
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.core.schema import (
    COLUMNS,
    DEFAULT_KS,
    MU_GROUND_TRUTHS,
    TIE_BREAKS,
    Column,
    TieBreak,
    column,
)

__all__ = ["AlignedInput", "AlignedModel", "ColumnView", "align", "checked_columns", "checked_ks"]


def checked_ks(ks: Iterable[int], num_classes: int | None) -> tuple[int, ...]:
    """``ks`` as a tuple of distinct ints, each a valid top-k cut-off for ``num_classes``
    (``None``: any positive integer, for label-set models, which have no cut-off).

    Example:
        >>> checked_ks([1, 5, 1], 309)
        (1, 5)
    """
    if isinstance(ks, (int, np.integer)) and not isinstance(ks, bool):
        ks = (ks,)
    checked = tuple(ks)
    if not checked:
        raise ValueError("ks must name at least one top-k cut-off")
    upper = num_classes if num_classes is not None else float("inf")
    for k in checked:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= upper:
            bound = f"between 1 and {num_classes}" if num_classes is not None else "of at least 1"
            raise ValueError(f"every k must be an integer {bound}; got {k!r}")
    return tuple(dict.fromkeys(int(k) for k in checked))


def checked_columns(names: Sequence[str] | str) -> tuple[str, ...]:
    """Column names as printed; any spelling of :func:`vggsounder_hf.core.schema.column`."""
    if isinstance(names, str):
        names = (names,)
    chosen = tuple(dict.fromkeys(column(name).name for name in names))
    if not chosen:
        raise ValueError(f"no column selected; use some of {COLUMNS}")
    return chosen


def checked_tie_break(tie_break: str) -> TieBreak:
    if tie_break not in TIE_BREAKS:
        raise ValueError(f"tie_break must be one of {TIE_BREAKS}, got {tie_break!r}")
    return tie_break  # type: ignore[return-value]


@dataclass(frozen=True, eq=False)
class AlignedInput:
    """One input's predictions, matched to the ground truth.

    Attributes:
        rows: Per ground-truth clip, the row of its prediction (``-1``: none).
        matrix: Label sets (or thresholded scores): the boolean ``(n_prediction_rows,
            n_classes)`` predictions, by prediction row. ``None`` for top-k scores.
        ranking: Scores: the ``max(ks)`` best classes of every prediction row, best first.
        scores: Scores: the ``(n_prediction_rows, n_classes)`` score matrix (not copied).
    """

    rows: np.ndarray
    matrix: np.ndarray | None = None
    ranking: np.ndarray | None = None
    scores: np.ndarray | None = None

    @property
    def has_prediction(self) -> np.ndarray:
        return self.rows >= 0

    def predicted_rows(self, prediction_rows: np.ndarray) -> np.ndarray:
        """The boolean predictions of the given prediction rows (of :attr:`matrix`), an
        empty row for ``-1`` (a clip without a prediction)."""
        return self.padded_matrix[prediction_rows]

    @cached_property
    def padded_matrix(self) -> np.ndarray:
        """:attr:`matrix` with one empty row appended, the row that ``-1`` picks."""
        assert self.matrix is not None
        empty = np.zeros((1, self.matrix.shape[1]), self.matrix.dtype)
        return np.concatenate([self.matrix, empty])


@dataclass(frozen=True, eq=False)
class ColumnView:
    """What one column's metrics start from, on one set of clips.

    Attributes:
        spec: The column.
        clips: Indices (into the ground truth) of the clips scored in the column: every clip
            of the mask with a label of the column's subset; for scores only those with a
            prediction.
        num_missing: Clips of the column without a prediction.
        y_true: Boolean truth of the scored clips, the column's label subset.
        y_pred: Label sets: the predictions of the scored clips. ``None`` for scores.
        ranking: Scores: the ranked classes of the scored clips.
        scores: Scores: the input's whole ``(n_prediction_rows, n_classes)`` score matrix.
        score_rows: The prediction row of each scored clip (of :attr:`scores`).
    """

    spec: Column
    clips: np.ndarray
    num_missing: int
    y_true: np.ndarray
    y_pred: np.ndarray | None = None
    ranking: np.ndarray | None = None
    scores: np.ndarray | None = None
    score_rows: np.ndarray | None = None

    @property
    def num_clips(self) -> int:
        return len(self.clips)

    @cached_property
    def class_scores(self) -> np.ndarray | None:
        """Scores: ``(n_classes, n_scored)`` scores of the scored clips, class-major (built
        on first use, gathered then transposed)."""
        if self.scores is None:
            return None
        return np.ascontiguousarray(self.scores[self.score_rows].T)


@dataclass(frozen=True, eq=False)
class AlignedModel:
    """A model's predictions matched once to a ground truth (see :func:`align`)."""

    truth: GroundTruth
    predictions: ModelPredictions
    inputs: Mapping[str, AlignedInput]
    ks: tuple[int, ...]
    tie_break: TieBreak
    num_unknown_clips: int
    mu_ground_truth: str = "all_labels"
    threshold: float | None = None
    sigmoid: bool = False

    @property
    def kind(self) -> str:
        """The kind that is scored: ``"labels"`` for label sets and thresholded scores."""
        return "labels" if self.threshold is not None else self.predictions.kind

    @property
    def has_scores(self) -> bool:
        """Whether the predictions are scores (thresholded or not)."""
        return self.predictions.kind == "scores"

    @property
    def source(self) -> str:
        return self.predictions.source

    @property
    def input_modalities(self) -> tuple[str, ...]:
        return tuple(self.inputs)

    @property
    def num_unknown_labels(self) -> int:
        return int(sum(self.predictions.unknown_labels.values()))

    def mask(self, clips: object) -> np.ndarray:
        """A boolean clip mask over the ground truth from a clip set (name or mapping) or a
        mask itself (checked for length)."""
        if isinstance(clips, np.ndarray) and clips.dtype == bool:
            if clips.shape != (len(self.truth),):
                raise ValueError(
                    f"clip mask has shape {clips.shape}; expected ({len(self.truth)},)"
                )
            return clips
        return self.truth.mask(clips)  # type: ignore[arg-type]

    def column_view(self, name: str, clips: object) -> ColumnView:
        """The scored clips, truth and predictions of one column on ``clips``."""
        spec = column(name)
        given = self.inputs[spec.input]
        mask = self.mask(clips)
        in_column = mask & self.truth.clips_with_labels(spec.name)
        has_prediction = given.has_prediction
        num_missing = int(np.count_nonzero(in_column & ~has_prediction))
        if self.kind != "labels" or self.has_scores:
            in_column &= has_prediction
        clip_indices = np.flatnonzero(in_column)
        y_true = self._labels_at(spec.name, clip_indices)
        prediction_rows = given.rows[clip_indices]
        labels = self.kind == "labels"
        return ColumnView(
            spec,
            clip_indices,
            num_missing,
            y_true,
            y_pred=given.predicted_rows(prediction_rows) if labels else None,
            ranking=None if labels else given.ranking[prediction_rows],
            scores=given.scores,
            score_rows=prediction_rows,
        )

    def confusion_clips(self, clips: object, ground_truth: str | None = None) -> np.ndarray:
        """Indices of the clips μ is computed over: every clip of ``clips`` for label sets,
        those scored by all three inputs for scores (the reference's rules); with
        ``ground_truth="av_labels"`` (the paper's μ) only the clips that have an AV label.
        ``None``: the model's :attr:`mu_ground_truth`."""
        mask = self.mask(clips) & True  # a copy
        if _mu_subset(ground_truth or self.mu_ground_truth) == "av":
            mask &= self.truth.clips_with_labels("av")
        if self.has_scores:
            for given in self.inputs.values():
                mask &= given.has_prediction
        return np.flatnonzero(mask)

    def hits(
        self, modality: str, clip_indices: np.ndarray, ground_truth: str | None = None
    ) -> np.ndarray:
        """Per clip, whether the input hits one of the clip's labels (of any modality, or
        only its AV labels with ``ground_truth="av_labels"``); top-1 for scores.
        ``None``: the model's :attr:`mu_ground_truth`."""
        given = self.inputs[modality]
        subset = _mu_subset(ground_truth or self.mu_ground_truth)
        all_labels = self._labels_at(subset, clip_indices)
        if self.kind == "labels":
            return np.any(all_labels & given.predicted_rows(given.rows[clip_indices]), axis=1)
        top_1 = given.ranking[given.rows[clip_indices], :1]
        return np.take_along_axis(all_labels, top_1, axis=1)[:, 0]

    def _labels_at(self, column: str, clip_indices: np.ndarray) -> np.ndarray:
        # Label sets: each subset's whole matrix is kept (faster when five columns and μ
        # ask for it). Scores: only the scored rows' labels are made, so that no subset's
        # matrix (4.6 MB each for the release) sits beside the score matrices at the peak.
        if self.kind == "labels":
            return self.truth.labels(column)[clip_indices]
        return self.truth.labels_of(column, clip_indices)

    @cached_property
    def has_all_inputs(self) -> bool:
        return len(self.inputs) == 3


def align(
    truth: GroundTruth,
    predictions: ModelPredictions,
    *,
    ks: Iterable[int] = DEFAULT_KS,
    tie_break: TieBreak = "reference",
    mu_ground_truth: str = "all_labels",
    threshold: float | None = None,
    sigmoid: bool = False,
    threads: int | None = None,
) -> AlignedModel:
    """Match a model's predictions to the ground truth once (and rank its scores once).

    Args:
        truth: The ground truth: a whole release, or any set of clips.
        predictions: Label sets or scores.
        ks: Top-k cut-offs the model will be scored at (validated for every kind; used
            for scores).
        tie_break: How top-k treats tied scores (see
            :func:`vggsounder_hf.core.ranking.top_k_ranking`).
        mu_ground_truth: What μ counts as a hit (see
            :data:`vggsounder_hf.core.schema.MU_GROUND_TRUTHS`): ``"all_labels"`` (the
            authors' code) or ``"av_labels"`` (the paper's Table 2).
        threshold: Score models only, instead of top-k: the predicted classes of a clip are
            those whose score is strictly above ``threshold`` (``ks`` is then not used). The
            model is then scored as label sets, plus the ranking metrics of its scores (see
            the module docstring). Ignored for label-set predictions, like ``ks``.
        sigmoid: With ``threshold``: apply the logistic function to the scores first (for
            logits; as torchmetrics), so that ``threshold=0.5`` means probability > 0.5.
        threads: Threads ranking the inputs' scores (numpy's sorts release the GIL; ``None``:
            the cores, at most 4). The ranking is the same for any number.

    Raises:
        ValueError: Bad ``ks``, ``tie_break``, ``threshold`` or ``sigmoid``, or class lists
            that differ.
    """
    ks = checked_ks(ks, truth.num_classes if predictions.kind == "scores" else None)
    tie_break = checked_tie_break(tie_break)
    threshold = ranking_core.checked_threshold(threshold, sigmoid)
    if predictions.kind != "scores":
        threshold, sigmoid = None, False
    _mu_subset(mu_ground_truth)
    if tuple(predictions.class_names) != tuple(truth.class_names):
        raise ValueError("predictions and ground truth use different class lists")
    inputs: dict[str, AlignedInput] = {}
    rows_by_ids: dict[int, tuple[np.ndarray, int]] = {}
    for modality in predictions.input_modalities:
        given = predictions[modality]
        if id(given.video_ids) not in rows_by_ids:  # inputs sharing one id array match once
            rows_by_ids[id(given.video_ids)] = _rows_in_truth(truth, given.video_ids)
        rows, _ = rows_by_ids[id(given.video_ids)]
        if predictions.kind == "labels":
            inputs[modality] = AlignedInput(rows, matrix=given.matrix)
        elif threshold is not None:
            predicted = ranking_core.threshold_mask(given.matrix, threshold, sigmoid)
            inputs[modality] = AlignedInput(rows, matrix=predicted, scores=given.matrix)
        else:
            inputs[modality] = AlignedInput(rows, scores=given.matrix)
    threads = default_threads() if threads is None else checked_threads(threads)
    inputs = _ranked(inputs, max(ks), tie_break, threads)
    unknown = _unknown_clips(predictions, truth, rows_by_ids)
    return AlignedModel(
        truth,
        predictions,
        inputs,
        ks,
        tie_break,
        unknown,
        mu_ground_truth,
        threshold,
        bool(sigmoid),
    )


def _mu_subset(ground_truth: str) -> str:
    """The label subset μ's hits are counted against."""
    if ground_truth not in MU_GROUND_TRUTHS:
        raise ValueError(f"mu_ground_truth must be one of {MU_GROUND_TRUTHS}, got {ground_truth!r}")
    return "all" if ground_truth == "all_labels" else "av"


def _ranked(
    inputs: dict[str, AlignedInput], k: int, tie_break: TieBreak, threads: int
) -> dict[str, AlignedInput]:
    """``inputs`` with the top-``k`` ranking of every input scored by top-k, ranked on up to
    ``threads`` threads in ``threads`` blocks of rows per input (each row is ranked on its
    own, so the blocks give the whole matrix's ranking; three inputs keep two threads busy)."""
    # Label sets and thresholded scores come with a predicted matrix instead of a ranking.
    to_rank = [name for name, given in inputs.items() if given.matrix is None]
    rank = functools.partial(ranking_core.top_k_ranking, k=k, tie_break=tie_break)
    blocks = {name: _row_blocks(len(inputs[name].scores), threads) for name in to_rank}
    tasks = [
        functools.partial(rank, inputs[name].scores[block])
        for name in to_rank
        for block in blocks[name]
    ]
    ranked = iter(run_in_order(tasks, threads))
    rankings = {name: np.concatenate([next(ranked) for _ in blocks[name]]) for name in to_rank}
    return {
        name: dataclasses.replace(given, ranking=rankings[name]) if name in rankings else given
        for name, given in inputs.items()
    }


def _row_blocks(num_rows: int, count: int) -> list[slice]:
    """``count`` consecutive blocks of about equal size covering ``range(num_rows)`` (one
    block for small matrices, where threads would not pay)."""
    count = 1 if num_rows < 4096 else count
    bounds = [num_rows * index // count for index in range(count + 1)]
    return [slice(start, stop) for start, stop in itertools.pairwise(bounds)]


def _rows_in_truth(truth: GroundTruth, video_ids: np.ndarray) -> tuple[np.ndarray, int]:
    """Per truth clip the row of its prediction (``-1`` if none), and how many prediction
    rows name no clip of the truth."""
    truth_rows = truth.row_of(video_ids)
    inside = truth_rows >= 0
    rows = np.full(len(truth), -1, dtype=np.int64)
    rows[truth_rows[inside]] = np.flatnonzero(inside)
    return rows, int((~inside).sum())


def _unknown_clips(
    predictions: ModelPredictions,
    truth: GroundTruth,
    rows_by_ids: Mapping[int, tuple[np.ndarray, int]],
) -> int:
    """Distinct predicted clip ids that are not in the ground truth, over all inputs."""
    if len(rows_by_ids) == 1:
        return next(iter(rows_by_ids.values()))[1]
    known = set(truth.video_ids.tolist())
    ids: set[str] = set()
    for modality in predictions.input_modalities:
        ids.update(predictions[modality].video_ids.tolist())
    return len(ids - known)
