"""What the functions a user reaches first accept: ground truth and predictions in the forms
the docs hand out, turned into :class:`GroundTruth` and :class:`ModelPredictions`.

* Ground truth: a :class:`GroundTruth`, a ``datasets.Dataset`` of this project's features
  (what :func:`vggsounder_hf.load_vggsounder` returns; recognised by its ``column_names``,
  ``features`` and ``to_list``, so that core never imports ``datasets``), or a list of row
  dicts (``video_id``, ``labels``, ``modalities`` and the three meta flags).
* Predictions: :class:`ModelPredictions`, an :class:`AlignedModel` (returned as it is), the
  ``evaluate`` module's rows (``{"video_id": ..., "a": [...], "v": [...], "av": [...]}``) or
  the authors' mapping (``{video_id: {"predictions": ..., "logits": ...}}``).

Anything else is refused with a :class:`VGGSounderInputError` that says what to pass.

Example:
    >>> rows = [{"video_id": "x_000001", "labels": ["dog"], "modalities": ["AV"],
    ...          "background_music": False, "static_image": False, "voice_over": False}]
    >>> truth = as_ground_truth(rows, class_names=("dog", "cat"))
    >>> model = as_predictions([{"video_id": "x_000001", "av": ["dog"]}], truth.class_names)
    >>> len(truth), model.kind, model.input_modalities
    (1, 'labels', ('av',))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from vggsounder_hf.core.alignment import AlignedModel
from vggsounder_hf.core.errors import (
    GroundTruthError,
    PredictionError,
    duplicate_clip_message,
)
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.core.schema import INPUT_MODALITIES, PREDICTION_KINDS

__all__ = ["as_ground_truth", "as_predictions"]

_TRUTH_HINT = (
    "pass a GroundTruth, the datasets.Dataset of load_vggsounder(), or a list of rows with "
    "'video_id', 'labels', 'modalities', 'background_music', 'static_image', 'voice_over'"
)
_PREDICTIONS_HINT = (
    "pass ModelPredictions, an AlignedModel, rows {'video_id': ..., 'a': [...], 'v': [...], "
    "'av': [...]} as for the evaluate module, or the authors' mapping "
    "{video_id: {'predictions': {...}, 'logits': {...}}}"
)
_ROW_KEYS = frozenset(("video_id", *INPUT_MODALITIES))


def _is_dataset(value: Any) -> bool:
    return all(hasattr(value, name) for name in ("column_names", "features", "to_list"))


def _dataset_class_names(dataset: Any) -> tuple[str, ...] | None:
    """The class names of a dataset's ``labels`` feature (``List(ClassLabel)``), if any."""
    try:
        feature = dataset.features["labels"]
    except (KeyError, TypeError):
        return None
    inner = getattr(feature, "feature", feature)
    names = getattr(inner, "names", None)
    return tuple(names) if names else None


def as_ground_truth(truth: Any, class_names: Sequence[str] | None = None) -> GroundTruth:
    """The ground truth of ``truth``, in any form the docs hand out.

    Args:
        truth: A :class:`GroundTruth` (returned as it is), a ``datasets.Dataset`` with this
            project's features, or a list (any iterable) of row mappings.
        class_names: The class names in ``classes.csv`` order. Needed for rows; a dataset
            brings them in its ``labels`` feature.

    Raises:
        GroundTruthError: ``truth`` is none of these, rows come without class names, or a
            row is invalid (the message names the row).

    Example:
        >>> rows = [{"video_id": "x_000001", "labels": [1], "modalities": [0],
        ...          "background_music": True, "static_image": False, "voice_over": False}]
        >>> as_ground_truth(rows, ("dog", "cat")).labels("a").astype(int).tolist()
        [[0, 1]]
        >>> as_ground_truth("labels.csv")
        Traceback (most recent call last):
        ...
        vggsounder_hf.core.errors.GroundTruthError: ground truth: got str; pass a GroundTruth, ...
    """
    if isinstance(truth, GroundTruth):
        return truth
    if _is_dataset(truth):
        names = _dataset_class_names(truth)
        if names is None:
            names = None if class_names is None else tuple(class_names)
        if names is None:
            raise GroundTruthError(
                "ground truth: the dataset has no ClassLabel 'labels' feature and no "
                f"class_names were given; {_TRUTH_HINT}"
            )
        return GroundTruth.from_rows(truth.to_list(), names)
    if isinstance(truth, str | bytes | Mapping) or not _is_iterable(truth):
        raise GroundTruthError(f"ground truth: got {type(truth).__name__}; {_TRUTH_HINT}")
    if class_names is None:
        raise GroundTruthError(
            "ground truth: rows need class_names (the 309 names of classes.csv, e.g. "
            "load_release('1.0').class_names); or pass the datasets.Dataset of "
            "load_vggsounder(), which carries them"
        )
    return GroundTruth.from_rows(list(truth), tuple(class_names))


def _is_iterable(value: Any) -> bool:
    try:
        iter(value)
    except TypeError:
        return False
    return True


def as_predictions(
    predictions: Any, class_names: Sequence[str], kind: str | None = None
) -> ModelPredictions | AlignedModel:
    """The predictions of ``predictions``, in any form the docs hand out.

    Args:
        predictions: :class:`ModelPredictions` or an :class:`AlignedModel` (both returned
            as they are), the ``evaluate`` module's rows (a list of
            ``{"video_id", "a", "v", "av"}`` mappings; a missing or ``None`` input is no
            prediction), or the authors' mapping ``{video_id: {"predictions", "logits"}}``.
        class_names: The class names in ``classes.csv`` order.
        kind: ``"labels"`` or ``"scores"``. By default rows are label sets unless every
            given value is a vector of one float per class; the authors' mapping follows
            the reference's rule (scores when every entry has ``logits``).

    Raises:
        PredictionError: ``predictions`` is none of these, or a row is invalid (the
            message names the row).

    Example:
        >>> rows = [{"video_id": "x_000001", "a": [0.9, 0.1], "v": None}]
        >>> as_predictions(rows, ("dog", "cat")).kind
        'scores'
        >>> as_predictions({"x_000001": {"predictions": {"v": ["cat"]}}}, ("dog", "cat")).kind
        'labels'
    """
    if kind is not None and kind not in PREDICTION_KINDS:
        raise PredictionError(f"predictions: unknown kind {kind!r}; use one of {PREDICTION_KINDS}")
    if isinstance(predictions, ModelPredictions | AlignedModel):
        return predictions
    class_names = tuple(class_names)
    if _is_dataset(predictions):
        predictions = predictions.to_list()
    if isinstance(predictions, Mapping):
        return ModelPredictions.from_mapping(predictions, class_names, kind=kind)
    if isinstance(predictions, str | bytes) or not _is_iterable(predictions):
        raise PredictionError(f"predictions: got {type(predictions).__name__}; {_PREDICTIONS_HINT}")
    return _from_rows(list(predictions), class_names, kind)


def _from_rows(rows: list[Any], class_names: tuple[str, ...], kind: str | None) -> ModelPredictions:
    """Rows of the ``evaluate`` module as :class:`ModelPredictions`."""
    if not rows:
        raise PredictionError(f"predictions: the list is empty; {_PREDICTIONS_HINT}")
    per_modality: dict[str, dict[str, Any]] = {}
    for number, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise PredictionError(
                f"predictions[{number}] is a {type(row).__name__}, not a mapping; "
                f"{_PREDICTIONS_HINT}"
            )
        video_id = row.get("video_id")
        if not isinstance(video_id, str):
            raise PredictionError(
                f"predictions[{number}] needs a string 'video_id', got {video_id!r}"
            )
        odd = sorted(set(row) - _ROW_KEYS, key=str)
        if odd:
            raise PredictionError(
                f"predictions[{number}] ({video_id}): unknown key(s) {odd}; use 'video_id', "
                "'a', 'v', 'av'"
            )
        for modality in INPUT_MODALITIES:
            value = row.get(modality)
            if value is None:
                continue
            per_input = per_modality.setdefault(modality, {})
            if video_id in per_input:
                raise PredictionError(
                    duplicate_clip_message("predictions", video_id, f"input {modality!r}")
                )
            per_input[video_id] = value
    if not per_modality:
        raise PredictionError("predictions: every input of every row is missing or None")
    if kind is None:
        kind = "scores" if _all_scores(per_modality, len(class_names)) else "labels"
    if kind == "scores":
        return ModelPredictions.from_scores(per_modality, class_names, source="predictions")
    return ModelPredictions.from_label_sets(per_modality, class_names, source="predictions")


def _all_scores(per_modality: Mapping[str, Mapping[str, Any]], num_classes: int) -> bool:
    """Whether every value is a vector of ``num_classes`` floats (scores, not a label set)."""
    for per_clip in per_modality.values():
        for value in per_clip.values():
            if not isinstance(value, list | tuple | np.ndarray) or len(value) != num_classes:
                return False
            try:
                array = np.asarray(value)
            except ValueError:  # ragged: not a score vector
                return False
            if array.shape != (num_classes,) or array.dtype.kind != "f":
                return False
    return True
