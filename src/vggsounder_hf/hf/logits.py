"""What ``transformers.Trainer`` hands to ``compute_metrics``, as numpy arrays per input; the
evaluation rows it belongs to (:func:`evaluation_rows`); and the checks of the hook's options
(``checked_*``), so that :func:`~vggsounder_hf.hf.trainer.make_compute_metrics` refuses a bad
option when it is built, not at the first evaluation.

``Trainer`` passes an ``EvalPrediction`` whose ``predictions`` are numpy arrays (torch
tensors with ``batch_eval_metrics=True``, a list of batches with
``eval_do_concat_batches=False``, a tuple when the model returns more than logits). These
helpers turn any of these into ``{input_modality: (n, num_classes) array}`` and say clearly
what is wrong otherwise (a :class:`~vggsounder_hf.core.errors.PredictionError`): a wrong
shape, arrays of booleans, strings, complex numbers or ragged lists; NaN and infinity are
refused, naming the clip, when the logits are scored. Neither ``torch`` nor ``transformers``
is imported.

Example:
    >>> import numpy as np
    >>> split_logits(np.zeros((4, 2, 3)), ("a", "v"), 3)["v"].shape
    (4, 3)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from vggsounder_hf.core import errors
from vggsounder_hf.core.bootstrap import check_bootstrap_options
from vggsounder_hf.core.errors import GroundTruthError, PredictionError, is_label_type
from vggsounder_hf.core.ranking import checked_threshold
from vggsounder_hf.core.schema import (
    COLUMNS,
    DEFAULT_PROTOCOL,
    INPUT_MODALITIES,
    MU_GROUND_TRUTHS,
    column,
    columns,
    protocol,
    split_list,
)
from vggsounder_hf.hf.metric_inputs import REFERENCE_FIELDS, is_multi_hot, normalise_references
from vggsounder_hf.hf.multi_hot import class_label_names, is_tensor, to_numpy

__all__ = [
    "checked_columns",
    "checked_input_modalities",
    "checked_metrics",
    "checked_scoring_options",
    "checked_threshold_option",
    "class_names_of",
    "evaluation_rows",
    "interval_families",
    "logit_rows",
    "multi_hot_label_ids",
    "split_logits",
    "to_numpy",
    "unpack_eval_prediction",
]


def evaluation_rows(
    eval_dataset: Any, class_names: Sequence[str], label_column: str = "labels"
) -> list[dict[str, Any]]:
    """The reference rows of an evaluation split, parsed by :func:`normalise_references`.

    Only the fields a reference needs are read from a ``datasets.Dataset`` (never its audio
    or video columns); ``label_column`` names the column with the class indices or names.

    Raises:
        GroundTruthError: A field is missing, the split is empty, the labels are already
            multi-hot vectors, or a row does not parse.
    """
    fields = (*(name for name in REFERENCE_FIELDS if name != "labels"), label_column)
    select_columns = getattr(eval_dataset, "select_columns", None)
    column_names = getattr(eval_dataset, "column_names", None)
    if callable(select_columns) and column_names is not None:
        missing = [name for name in fields if name not in column_names]
        if missing:
            raise GroundTruthError(
                f"the evaluation dataset has no column(s) {missing}; it has {column_names}"
            )
        rows = select_columns(list(dict.fromkeys(fields))).to_list()
    else:
        rows = [dict(row) for row in eval_dataset]
    if not rows:
        raise GroundTruthError("the evaluation dataset is empty")
    for number, row in enumerate(rows):
        if label_column != "labels" and label_column in row:
            row["labels"] = row[label_column]
        labels = row.get("labels")
        if isinstance(labels, np.ndarray):
            labels = labels.tolist()
        if not isinstance(labels, list | tuple) or not labels:
            continue  # normalise_references names what is wrong
        odd = not isinstance(labels[0], str) and not is_label_type(type(labels[0]))
        if odd or is_multi_hot(labels):
            kind = "0/1" if not odd else type(labels[0]).__name__
            raise GroundTruthError(
                f"evaluation row {number}: {label_column!r} holds {kind} values, not class "
                "indices or names (is it already multi-hot? build compute_metrics from the "
                "split before with_multi_hot_labels)"
            )
    return normalise_references(rows, class_names, source="evaluation row")


def unpack_eval_prediction(eval_prediction: Any) -> tuple[Any, Any]:
    """``(predictions, label_ids)`` of an ``EvalPrediction`` or a pair.

    Raises:
        TypeError: Neither.
    """
    predictions = getattr(eval_prediction, "predictions", None)
    if predictions is not None or hasattr(eval_prediction, "label_ids"):
        return predictions, getattr(eval_prediction, "label_ids", None)
    if isinstance(eval_prediction, tuple) and len(eval_prediction) >= 2:
        return eval_prediction[0], eval_prediction[1]
    raise TypeError(
        "compute_metrics expects an EvalPrediction or a (predictions, label_ids) pair, got "
        f"{type(eval_prediction).__name__}"
    )


def logit_rows(per_input: Mapping[str, np.ndarray]) -> int:
    """Rows (clips) of the logits of one evaluation, batch or whole."""
    return next(iter(per_input.values())).shape[0]


def multi_hot_label_ids(label_ids: Any, num_classes: int) -> np.ndarray | None:
    """``label_ids`` as one ``(n, num_classes)`` array when they are multi-hot labels (as
    :func:`~vggsounder_hf.hf.multi_hot.with_multi_hot_labels` makes them), else ``None``
    (no labels, or other targets such as class indices)."""
    if isinstance(label_ids, list):  # eval_do_concat_batches=False: one item per batch
        label_ids = np.concatenate([to_numpy(part) for part in label_ids]) if label_ids else None
    elif isinstance(label_ids, tuple):
        label_ids = label_ids[0] if label_ids else None
    if label_ids is None:
        return None
    try:
        label_ids = to_numpy(label_ids)
    except ValueError:  # ragged: not multi-hot labels
        return None
    if (
        label_ids.ndim != 2
        or label_ids.shape[1] != num_classes
        or label_ids.dtype.kind not in "biuf"
    ):
        return None
    return label_ids


def split_logits(
    predictions: Any, modalities: Sequence[str], num_classes: int
) -> dict[str, np.ndarray]:
    """``{input_modality: (n, num_classes) array}`` from what ``Trainer`` passes.

    Args:
        predictions: ``(n, num_classes)`` for one input; for several ``(n, M, num_classes)``
            in the order of ``modalities``, a tuple of ``M`` ``(n, num_classes)`` arrays, or a
            mapping by input; or a list of batches of any of these.
        modalities: The inputs the logits belong to, in their order in the logits.
        num_classes: Classes per row.

    Raises:
        PredictionError: No logits, or logits of the wrong shape or type (the message says
            which).
    """
    if predictions is None:
        raise PredictionError(
            "Trainer passed no logits (is prediction_loss_only set, or does the model "
            "return only a loss?)"
        )
    if isinstance(predictions, list) and predictions and not any(map(_is_batch, predictions)):
        predictions = _array(predictions, tuple(modalities))  # nested lists of numbers
    if isinstance(predictions, list):  # eval_do_concat_batches=False: one item per batch
        if not predictions:
            raise PredictionError("the predictions are an empty list of batches")
        parts = [split_logits(batch, modalities, num_classes) for batch in predictions]
        return {m: np.concatenate([part[m] for part in parts]) for m in modalities}
    arrays = _arrays(predictions, tuple(modalities), num_classes)
    for modality, array in zip(modalities, arrays, strict=True):
        if array.dtype.kind not in "iuf":
            raise PredictionError(
                f"logits for input {modality!r} have dtype {array.dtype}; expected real numbers "
                "(float or integer), not booleans, strings, complex numbers or objects"
            )
        if array.ndim != 2 or array.shape[1] != num_classes:
            raise PredictionError(
                f"logits for input {modality!r} have shape {array.shape}; expected "
                f"(N, {num_classes}) (one row per clip, one column per class)"
            )
    if len({array.shape[0] for array in arrays}) > 1:
        raise PredictionError(
            "the logits of the inputs have different numbers of rows: "
            + ", ".join(f"{m} {a.shape[0]}" for m, a in zip(modalities, arrays, strict=True))
        )
    return dict(zip(modalities, arrays, strict=True))


def _arrays(predictions: Any, modalities: tuple[str, ...], num_classes: int) -> list[np.ndarray]:
    """One array per input, in the order of ``modalities`` (shapes not yet checked)."""
    if isinstance(predictions, Mapping):
        missing = [modality for modality in modalities if modality not in predictions]
        if missing:
            raise PredictionError(
                f"the predictions mapping has no logits for input(s) {missing}; "
                f"it has {sorted(predictions)}"
            )
        return [_array(predictions[modality], modality) for modality in modalities]
    if not isinstance(predictions, tuple):
        return _unstack(_array(predictions, modalities), modalities, num_classes)
    if not predictions:  # a model's outputs: logits first
        raise PredictionError("the predictions are an empty tuple")
    first = _array(predictions[0], modalities)
    if len(modalities) == 1 or first.ndim == 3:
        return _unstack(first, modalities, num_classes)
    if len(predictions) >= len(modalities):
        return [_array(item, m) for item, m in zip(predictions, modalities, strict=False)]
    raise PredictionError(
        f"expected logits for inputs {modalities}: a (N, {len(modalities)}, {num_classes}) "
        f"array or a tuple of {len(modalities)} (N, {num_classes}) arrays; got a tuple of "
        f"{len(predictions)}"
    )


def _is_batch(item: Any) -> bool:
    """Whether a list item is a batch of logits (an array, a tensor, a model's tuple or
    mapping), not a row of a plain nested list."""
    return isinstance(item, np.ndarray | tuple | Mapping) or is_tensor(item)


def _array(value: Any, modalities: str | tuple[str, ...]) -> np.ndarray:
    """:func:`to_numpy`, with ragged nested lists named as the problem they are."""
    try:
        return to_numpy(value)
    except ValueError as error:
        raise PredictionError(
            f"logits for input(s) {modalities!r} are not one rectangular array ({error})"
        ) from None


def _unstack(array: np.ndarray, modalities: tuple[str, ...], num_classes: int) -> list[np.ndarray]:
    if len(modalities) == 1:
        if array.ndim == 3 and array.shape[1] == 1:
            return [array[:, 0]]
        return [array]
    if array.ndim != 3 or array.shape[1] != len(modalities):
        raise PredictionError(
            f"logits for inputs {modalities} must have shape (N, {len(modalities)}, "
            f"{num_classes}) with the inputs in that order; got {array.shape}"
        )
    return [array[:, index] for index in range(len(modalities))]


# --------------------------------------------------------------------------- hook options


def checked_threshold_option(
    threshold: float | None, sigmoid: bool, ks: Sequence[int] | None
) -> tuple[float | None, bool]:
    try:
        checked = checked_threshold(threshold, sigmoid)
    except ValueError as error:
        raise errors.OptionError(str(error)) from None
    if checked is not None and ks is not None:
        raise errors.OptionError("ks= and threshold= are alternatives: top-k or a threshold")
    return checked, bool(sigmoid)


_SCORING_OPTIONS = ("bootstrap", "confidence", "seed", "ranking_resamples")
_SCORING_OPTIONS += ("protocol", "mu_ground_truth")


def checked_scoring_options(scoring: dict[str, Any]) -> dict[str, Any]:
    """The bootstrap and protocol options of ``evaluate_predictions``, checked now."""
    unknown = sorted(set(scoring) - set(_SCORING_OPTIONS))
    if unknown:
        raise TypeError(f"make_compute_metrics() got unexpected keyword argument(s) {unknown}")
    options = {"bootstrap": 0, "confidence": 0.95, "seed": 0, "ranking_resamples": None}
    options.update({"protocol": DEFAULT_PROTOCOL, "mu_ground_truth": None, **scoring})
    try:
        check_bootstrap_options(*(options[name] for name in _SCORING_OPTIONS[:4]))
        protocol(options["protocol"])
    except ValueError as error:
        raise errors.OptionError(str(error)) from None
    if options["mu_ground_truth"] not in (None, *MU_GROUND_TRUTHS):
        raise errors.OptionError(
            f"mu_ground_truth must be one of {MU_GROUND_TRUTHS}, got {options['mu_ground_truth']!r}"
        )
    return options


def interval_families(scoring: dict[str, Any], threshold: float | None) -> tuple[str, ...]:
    """The metric families that get bootstrap intervals (the core's rules)."""
    if not scoring["bootstrap"]:
        return ()
    _, _, _, ranking_resamples = check_bootstrap_options(
        *(scoring[name] for name in _SCORING_OPTIONS[:4])
    )
    ranking = ("ranking",) if ranking_resamples and threshold is None else ()
    return ("label_set", "confusion", *ranking)


def checked_input_modalities(input_modality: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(input_modality, str):
        given = INPUT_MODALITIES if input_modality == "all" else (input_modality,)
    else:
        given = tuple(input_modality)
    unknown = [modality for modality in given if modality not in INPUT_MODALITIES]
    if unknown or not given:
        raise errors.OptionError(
            f"input_modality must be one of {INPUT_MODALITIES}, 'all' or a sequence of them; "
            f"got {input_modality!r}"
        )
    if len(set(given)) != len(given):
        raise errors.OptionError(f"input_modality repeats an input: {input_modality!r}")
    return tuple(given)


def checked_metrics(metrics: Sequence[str] | str, allowed: Sequence[str]) -> tuple[str, ...]:
    """The chosen metric names, each once, each one of ``allowed``."""
    checked = tuple(dict.fromkeys(split_list(metrics)))
    if not checked:
        raise errors.OptionError(f"no metric selected; choose from {tuple(allowed)}")
    unknown = [name for name in checked if name not in allowed]
    if unknown:
        raise errors.OptionError(f"unknown metric(s) {unknown}; choose from {tuple(allowed)}")
    return checked


def checked_columns(
    column_names: Sequence[str] | str | None, input_modalities: tuple[str, ...]
) -> tuple[str, ...]:
    """Column names as printed (any spelling accepted); default: every column of the inputs."""
    if column_names is None:
        return tuple(name for name in COLUMNS if column(name).input in input_modalities)
    checked = columns(column_names)
    for name in checked:
        if column(name).input not in input_modalities:
            raise errors.OptionError(
                f"column {name!r} needs logits of input {column(name).input!r}, which "
                f"input_modality={input_modalities} does not include"
            )
    return checked


def class_names_of(
    eval_dataset: Any, label_column: str, class_names: Sequence[str] | None
) -> tuple[str, ...]:
    if class_names is not None:
        return tuple(class_names)
    features = getattr(eval_dataset, "features", None)
    if features is None:
        raise errors.OptionError(
            "class_names is needed when eval_dataset is not a datasets.Dataset with "
            f"ClassLabel {label_column!r}"
        )
    return tuple(class_label_names(features, label_column))
