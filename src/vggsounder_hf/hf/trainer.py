"""VGGSounder metrics inside ``transformers.Trainer``: ``compute_metrics`` and multi-hot labels.

:func:`make_compute_metrics` builds a ``compute_metrics`` callable from the evaluation
split. It knows every clip's labels, label modalities and meta flags *in the row order of
that split*, which is the order in which ``Trainer`` hands over the logits (evaluation is
never shuffled). Each call turns the logits into score predictions and scores them with
:func:`vggsounder_hf.core.evaluation.evaluate_predictions`, the function behind the ``evaluate``
module and the command line, so the numbers are the same everywhere.

:func:`with_multi_hot_labels` (or :func:`multi_hot_labels` inside ``Dataset.map``) turns the
``labels`` class-index lists into float multi-hot vectors for
``problem_type="multi_label_classification"``.

Neither ``torch`` nor ``transformers`` is imported: ``Trainer`` passes numpy arrays (torch
tensors with ``batch_eval_metrics=True``; they are converted by duck typing) and
``datasets`` is imported only by the two functions that need it.

Metric names (``Trainer`` adds ``eval_``; ``prefix`` goes between the two):

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
input, ``av`` for the audio-visual input; these are exactly the keys of
:func:`~vggsounder_hf.core.evaluation.evaluate_predictions`, so ``eval_av/hit@1`` is
``av/hit@1`` of the ``evaluate`` module. ``precision``, ``recall``, ``jaccard``,
``f1_macro`` and ``num_clips`` can be asked for with ``metrics=``. Values are fractions.

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

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from vggsounder_hf.core.clip_sets import DEFAULT_CLIP_SET, META_LABELS, ClipSet, describe_clip_set
from vggsounder_hf.core.evaluation import checked_ks, evaluate_predictions
from vggsounder_hf.core.functional import TIE_BREAKS, TieBreak
from vggsounder_hf.core.ground_truth import COLUMNS, GroundTruth
from vggsounder_hf.core.predictions import INPUT_MODALITIES, ModelPredictions
from vggsounder_hf.core.schema import LABEL_SET_METRICS
from vggsounder_hf.core.schema import column as column_spec

__all__ = [
    "DEFAULT_METRICS",
    "METRICS",
    "VGGSounderComputeMetrics",
    "make_compute_metrics",
    "multi_hot_features",
    "multi_hot_labels",
    "with_multi_hot_labels",
]

CURVE_METRICS: tuple[str, ...] = ("auc_roc", "auc_pr")
METRICS: tuple[str, ...] = (*LABEL_SET_METRICS, *CURVE_METRICS, "num_clips")
"""Every metric :func:`make_compute_metrics` can return."""
DEFAULT_METRICS: tuple[str, ...] = ("hit", "f1", "subset_accuracy", "auc_roc", "auc_pr")
"""Returned unless ``metrics=`` says otherwise (label-set metrics at each ``k``)."""
MU_METRICS: tuple[str, ...] = ("mu/a", "mu/v", "mu/a_and_v")

_REFERENCE_FIELDS = ("video_id", "modalities", *META_LABELS)


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
        ks: Sequence[int] = (1,),
        tie_break: TieBreak = "reference",
        metrics: Sequence[str] = DEFAULT_METRICS,
        columns: Sequence[str] | None = None,
        modality_confusion: bool = True,
        prefix: str = "",
        label_column: str = "labels",
        class_names: Sequence[str] | None = None,
        check_labels: bool = True,
    ) -> None:
        self.input_modalities = _input_modalities(input_modality)
        if tie_break not in TIE_BREAKS:
            raise ValueError(f"tie_break must be one of {TIE_BREAKS}, got {tie_break!r}")
        self.tie_break = tie_break
        self.metrics = _checked_metrics(metrics)
        self.columns = _checked_columns(columns, self.input_modalities)
        self.modality_confusion = bool(modality_confusion)
        self.prefix = str(prefix)
        self.check_labels = bool(check_labels)
        self.clip_set = clip_set

        class_names = _class_names(eval_dataset, label_column, class_names)
        self.ks = checked_ks(ks, len(class_names))
        rows = _reference_rows(eval_dataset, label_column)
        self.truth = GroundTruth.from_rows(rows, class_names)
        self.video_ids = np.asarray([row["video_id"] for row in rows], dtype=object)
        # All labels of each evaluation row (any modality), in row order: the sanity check
        # that the logits and label_ids Trainer passes belong to these rows.
        self._row_labels = self.truth.labels("all")[self.truth.row_of(self.video_ids)]
        self.num_scored = len(self.truth.select(clip_set))  # also validates clip_set
        if self.num_scored == 0:
            raise ValueError(
                f"no clip of the evaluation dataset ({len(self.truth)} rows) is in clip set "
                f"{describe_clip_set(clip_set)!r}; pass clip_set='full' to score every row"
            )
        self.metric_names = self._metric_names()
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
        predictions, label_ids = _unpack(eval_prediction)
        if compute_result is None:
            if self._batches:
                self.reset()
                raise RuntimeError(
                    "compute_metrics was called without compute_result while batches of a "
                    "batch_eval_metrics evaluation were pending (they are now discarded)"
                )
            logits = self._split(predictions)
            self._check_label_ids(label_ids, 0, _num_rows(logits))
            return self._score(logits)
        try:
            # A copy: the caller may reuse its buffers before the last batch arrives.
            logits = {m: np.array(a, copy=True) for m, a in self._split(predictions).items()}
            self._check_label_ids(label_ids, self._rows_seen, _num_rows(logits))
            self._batches.append(logits)
            self._rows_seen += _num_rows(logits)
            if not compute_result:
                if self._rows_seen > self.num_rows:
                    raise ValueError(self._count_message(self._rows_seen, "so far"))
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
        rows = _num_rows(per_input)
        if rows != self.num_rows:
            raise ValueError(self._count_message(rows, "in total"))
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
        )
        return {self.prefix + name: _plain(results[name]) for name in self.metric_names}

    def _metric_names(self) -> tuple[str, ...]:
        names = []
        for column in self.columns:
            key = column_spec(column).key
            for metric in self.metrics:
                if metric in LABEL_SET_METRICS:
                    names.extend(f"{key}/{metric}@{k}" for k in self.ks)
                else:
                    names.append(f"{key}/{metric}")
        if self.modality_confusion and set(self.input_modalities) == set(INPUT_MODALITIES):
            names.extend(MU_METRICS)
            if "num_clips" in self.metrics:
                names.append("mu/num_clips")
        return tuple(names)

    def _split(self, predictions: Any) -> dict[str, np.ndarray]:
        """``{input_modality: (n, num_classes) array}`` from what ``Trainer`` passes."""
        if predictions is None:
            raise ValueError(
                "Trainer passed no logits (is prediction_loss_only set, or does the model "
                "return only a loss?)"
            )
        if isinstance(predictions, list):  # eval_do_concat_batches=False: one item per batch
            if not predictions:
                raise ValueError("the predictions are an empty list of batches")
            parts = [self._split(batch) for batch in predictions]
            return {
                modality: np.concatenate([part[modality] for part in parts])
                for modality in self.input_modalities
            }
        modalities = self.input_modalities
        if isinstance(predictions, Mapping):
            missing = [modality for modality in modalities if modality not in predictions]
            if missing:
                raise ValueError(
                    f"the predictions mapping has no logits for input(s) {missing}; "
                    f"it has {sorted(predictions)}"
                )
            arrays = [_to_numpy(predictions[modality]) for modality in modalities]
        elif isinstance(predictions, tuple):  # a model's outputs: logits first
            if not predictions:
                raise ValueError("the predictions are an empty tuple")
            first = _to_numpy(predictions[0])
            if len(modalities) == 1 or first.ndim == 3:
                arrays = self._unstack(first)
            elif len(predictions) >= len(modalities):
                arrays = [_to_numpy(item) for item in predictions[: len(modalities)]]
            else:
                raise ValueError(
                    f"expected logits for inputs {modalities}: a (N, {len(modalities)}, "
                    f"{self.num_classes}) array or a tuple of {len(modalities)} (N, "
                    f"{self.num_classes}) arrays; got a tuple of {len(predictions)}"
                )
        else:
            arrays = self._unstack(_to_numpy(predictions))
        for modality, array in zip(modalities, arrays, strict=True):
            if array.ndim != 2 or array.shape[1] != self.num_classes:
                raise ValueError(
                    f"logits for input {modality!r} have shape {array.shape}; expected "
                    f"(N, {self.num_classes}) (one row per clip, one column per class)"
                )
        if len({array.shape[0] for array in arrays}) > 1:
            raise ValueError(
                "the logits of the inputs have different numbers of rows: "
                + ", ".join(f"{m} {a.shape[0]}" for m, a in zip(modalities, arrays, strict=True))
            )
        return dict(zip(modalities, arrays, strict=True))

    def _unstack(self, array: np.ndarray) -> list[np.ndarray]:
        modalities = self.input_modalities
        if len(modalities) == 1:
            if array.ndim == 3 and array.shape[1] == 1:
                return [array[:, 0]]
            return [array]
        if array.ndim != 3 or array.shape[1] != len(modalities):
            raise ValueError(
                f"logits for inputs {modalities} must have shape (N, {len(modalities)}, "
                f"{self.num_classes}) with the inputs in that order; got {array.shape}"
            )
        return [array[:, index] for index in range(len(modalities))]

    def _check_label_ids(self, label_ids: Any, start: int, count: int) -> None:
        """Every positive of multi-hot ``label_ids`` must be a label of its row's clip."""
        if not self.check_labels or label_ids is None:
            return
        if isinstance(label_ids, list):
            if not label_ids:
                return
            label_ids = np.concatenate([_to_numpy(part) for part in label_ids])
        elif isinstance(label_ids, tuple):
            label_ids = label_ids[0] if label_ids else None
            if label_ids is None:
                return
        label_ids = _to_numpy(label_ids)
        if label_ids.ndim != 2 or label_ids.shape[1] != self.num_classes:
            return  # not multi-hot VGGSounder labels (e.g. class indices): nothing to check
        if start + len(label_ids) > self.num_rows or len(label_ids) != count:
            return  # the row count check names this problem
        positive = label_ids > 0.5
        foreign = positive & ~self._row_labels[start : start + len(label_ids)]
        if foreign.any():
            row, column = np.argwhere(foreign)[0]
            raise ValueError(
                f"label_ids row {start + row} marks class {self.class_names[column]!r}, which is "
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
        tie_break: ``"reference"`` (numpy's sort, as the authors) or ``"lowest_index"``.
        metrics: Names from :data:`METRICS` (default :data:`DEFAULT_METRICS`).
        columns: Columns to report (default: every column of the given inputs: ``a`` and
            ``a only`` for ``"a"``, ``v`` and ``v only`` for ``"v"``, ``av`` for ``"av"``).
        modality_confusion: Report ``mu/*`` when the logits cover all three inputs.
        prefix: Put before every key, e.g. ``"vggsounder/"`` gives
            ``eval_vggsounder/av/hit@1``.
        label_column: The column with the class indices (or names) of each clip.
        class_names: The class list; default the ``ClassLabel`` names of ``label_column``.
        check_labels: Check that multi-hot ``label_ids`` (as made by
            :func:`with_multi_hot_labels`) only mark labels of the clip of their row, which
            catches an evaluation set that was shuffled, filtered or swapped.

    Raises:
        ValueError: Unknown input, metric, column, clip set or tie break; bad ``ks``; rows
            that lack a field or repeat a clip; no row in the clip set.

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


def multi_hot_labels(
    example_or_batch: Mapping[str, Any],
    num_classes: int = 309,
    label_column: str = "labels",
    output_column: str = "labels",
) -> dict[str, np.ndarray]:
    """Float32 multi-hot vectors of the class indices in ``label_column``.

    A ``Dataset.map`` function, batched (``example_or_batch[label_column]`` is a list of
    index lists; gives ``(n, num_classes)``) or not (one index list; gives
    ``(num_classes,)``). All labels count, whatever their modality. When ``output_column``
    is the existing ``labels`` column, ``map`` keeps its ``ClassLabel`` type and casts the
    vectors to integers unless it is given ``features=``: use :func:`with_multi_hot_labels`,
    or ``dataset.map(multi_hot_labels, batched=True,
    features=multi_hot_features(dataset.features))``.

    Raises:
        ValueError: A label that is not an integer class index in ``0..num_classes-1``.

    Example:
        >>> multi_hot_labels({"labels": [[0, 2], [1]]}, num_classes=3)["labels"].tolist()
        [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
        >>> multi_hot_labels({"labels": [2]}, num_classes=3)["labels"].tolist()
        [0.0, 0.0, 1.0]
    """
    if label_column not in example_or_batch:
        raise ValueError(
            f"the examples have no column {label_column!r}; they have {sorted(example_or_batch)}"
        )
    value = example_or_batch[label_column]
    items = list(value)
    batched = bool(items) and all(
        isinstance(item, (list, tuple, np.ndarray)) or _is_tensor(item) for item in items
    )
    rows = items if batched else [items]
    vectors = np.zeros((len(rows), num_classes), dtype=np.float32)
    for row, labels in enumerate(rows):
        indices = [_label_index(label, num_classes, label_column, row) for label in labels]
        vectors[row, indices] = 1.0
    return {output_column: vectors if batched else vectors[0]}


def multi_hot_features(
    features: Any, label_column: str = "labels", output_column: str = "labels"
) -> Any:
    """The ``datasets.Features`` after :func:`multi_hot_labels`: ``output_column`` becomes
    ``List(Value("float32"), length=num_classes)``, every other column is kept.

    Raises:
        ValueError: ``label_column`` is not a list of ``ClassLabel``.
    """
    import datasets

    num_classes = len(_feature_names(features, label_column))
    updated = datasets.Features(dict(features))
    updated[output_column] = datasets.List(datasets.Value("float32"), length=num_classes)
    return updated


def with_multi_hot_labels(
    dataset: Any,
    *,
    label_column: str = "labels",
    output_column: str = "labels",
    **map_kwargs: Any,
) -> Any:
    """``dataset`` with float32 multi-hot ``labels``, for
    ``problem_type="multi_label_classification"`` (``BCEWithLogitsLoss``).

    With the default ``output_column="labels"`` the class-index lists are replaced (build
    :func:`make_compute_metrics` from ``dataset`` first); other columns are kept (Trainer
    drops the ones the model does not take). ``map_kwargs`` go to ``Dataset.map`` (e.g.
    ``num_proc``, ``desc``).

    Example:
        >>> eval_dataset = with_multi_hot_labels(load_vggsounder("1.0"))  # doctest: +SKIP
        >>> eval_dataset.features["labels"]  # doctest: +SKIP
        List(Value('float32'), length=309)
    """
    features = multi_hot_features(dataset.features, label_column, output_column)
    num_classes = features[output_column].length
    return dataset.map(
        multi_hot_labels,
        batched=True,
        features=features,
        fn_kwargs={
            "num_classes": num_classes,
            "label_column": label_column,
            "output_column": output_column,
        },
        **map_kwargs,
    )


def _input_modalities(input_modality: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(input_modality, str):
        given = INPUT_MODALITIES if input_modality == "all" else (input_modality,)
    else:
        given = tuple(input_modality)
    unknown = [modality for modality in given if modality not in INPUT_MODALITIES]
    if unknown or not given:
        raise ValueError(
            f"input_modality must be one of {INPUT_MODALITIES}, 'all' or a sequence of them; "
            f"got {input_modality!r}"
        )
    if len(set(given)) != len(given):
        raise ValueError(f"input_modality repeats an input: {input_modality!r}")
    return tuple(given)


def _checked_metrics(metrics: Sequence[str]) -> tuple[str, ...]:
    checked = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    unknown = [metric for metric in checked if metric not in METRICS]
    if unknown or not checked:
        raise ValueError(f"unknown metric(s) {unknown or checked}; choose from {METRICS}")
    return checked


def _checked_columns(
    columns: Sequence[str] | None, input_modalities: tuple[str, ...]
) -> tuple[str, ...]:
    if columns is None:
        return tuple(column for column in COLUMNS if column_spec(column).input in input_modalities)
    checked = (columns,) if isinstance(columns, str) else tuple(columns)
    for column in checked:
        if column not in COLUMNS:
            raise ValueError(f"unknown column {column!r}; use {COLUMNS}")
        if column_spec(column).input not in input_modalities:
            raise ValueError(
                f"column {column!r} needs logits of input {column_spec(column).input!r}, which "
                f"input_modality={input_modalities} does not include"
            )
    return checked


def _feature_names(features: Any, column: str) -> list[str]:
    if features is None or column not in features:
        raise ValueError(f"the dataset has no column {column!r}")
    feature = getattr(features[column], "feature", None)
    names = getattr(feature, "names", None)
    if not names:
        raise ValueError(
            f"column {column!r} is {features[column]}, not a list of ClassLabel: the dataset "
            "already holds multi-hot vectors or unnamed labels. Build compute_metrics from the "
            "split before with_multi_hot_labels, or pass class_names= and the label_column "
            "that holds class indices"
        )
    return list(names)


def _class_names(
    eval_dataset: Any, label_column: str, class_names: Sequence[str] | None
) -> tuple[str, ...]:
    if class_names is not None:
        return tuple(class_names)
    features = getattr(eval_dataset, "features", None)
    if features is None:
        raise ValueError(
            "class_names is needed when eval_dataset is not a datasets.Dataset with "
            f"ClassLabel {label_column!r}"
        )
    return tuple(_feature_names(features, label_column))


def _reference_rows(eval_dataset: Any, label_column: str) -> list[dict[str, Any]]:
    """The rows as plain dicts with the fields :meth:`GroundTruth.from_rows` reads."""
    fields = (*_REFERENCE_FIELDS, label_column)
    select_columns = getattr(eval_dataset, "select_columns", None)
    column_names = getattr(eval_dataset, "column_names", None)
    if callable(select_columns) and column_names is not None:
        missing = [name for name in fields if name not in column_names]
        if missing:
            raise ValueError(
                f"the evaluation dataset has no column(s) {missing}; it has {column_names}"
            )
        rows = select_columns(list(dict.fromkeys(fields))).to_list()
    else:
        rows = [dict(row) for row in eval_dataset]
    if label_column != "labels":
        for row in rows:
            if label_column in row:
                row["labels"] = row[label_column]
    for number, row in enumerate(rows):
        labels = row.get("labels")
        if labels is not None and len(labels) and not isinstance(labels[0], (str, int, np.integer)):
            raise ValueError(
                f"evaluation row {number}: {label_column!r} holds {type(labels[0]).__name__} "
                "values, not class indices or names (is it already multi-hot? build "
                "compute_metrics from the split before with_multi_hot_labels)"
            )
    if not rows:
        raise ValueError("the evaluation dataset is empty")
    return rows


def _unpack(eval_prediction: Any) -> tuple[Any, Any]:
    predictions = getattr(eval_prediction, "predictions", None)
    if predictions is not None or hasattr(eval_prediction, "label_ids"):
        return predictions, getattr(eval_prediction, "label_ids", None)
    if isinstance(eval_prediction, tuple) and len(eval_prediction) >= 2:
        return eval_prediction[0], eval_prediction[1]
    raise TypeError(
        "compute_metrics expects an EvalPrediction or a (predictions, label_ids) pair, got "
        f"{type(eval_prediction).__name__}"
    )


def _is_tensor(value: Any) -> bool:
    return type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach")


def _to_numpy(value: Any) -> np.ndarray:
    """A numpy array from a numpy array, a torch tensor (any device, bf16 too) or a list."""
    if _is_tensor(value):
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":  # numpy has no bfloat16; Trainer does the same
            value = value.float()
        return value.numpy()
    return np.asarray(value)


def _num_rows(per_input: Mapping[str, np.ndarray]) -> int:
    return next(iter(per_input.values())).shape[0]


def _plain(value: Any) -> float | int:
    return int(value) if isinstance(value, (int, np.integer)) else float(value)


def _label_index(label: Any, num_classes: int, label_column: str, row: int) -> int:
    if hasattr(label, "item") and not isinstance(label, (list, tuple)):
        label = label.item()
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)):
        raise ValueError(
            f"{label_column!r} of example {row} in the batch holds {label!r}, not a class index"
        )
    if not 0 <= label < num_classes:
        raise ValueError(
            f"{label_column!r} of example {row} in the batch holds class index {label}, "
            f"outside 0..{num_classes - 1}"
        )
    return int(label)
