"""What ``transformers.Trainer`` hands to ``compute_metrics``, as numpy arrays per input.

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

from vggsounder_hf.core.errors import PredictionError
from vggsounder_hf.hf.multi_hot import is_tensor

__all__ = [
    "logit_rows",
    "multi_hot_label_ids",
    "split_logits",
    "to_numpy",
    "unpack_eval_prediction",
]


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


def to_numpy(value: Any) -> np.ndarray:
    """A numpy array from a numpy array, a torch tensor (any device, bf16 too) or a list."""
    if is_tensor(value):
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":  # numpy has no bfloat16; Trainer does the same
            value = value.float()
        return value.numpy()
    return np.asarray(value)


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
