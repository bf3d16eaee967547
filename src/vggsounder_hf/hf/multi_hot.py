"""Multi-hot label vectors for ``problem_type="multi_label_classification"`` models.

:func:`with_multi_hot_labels` (or :func:`multi_hot_labels` inside ``Dataset.map``) turns the
``labels`` class-index lists of the ``vggsounder`` dataset into float32 multi-hot vectors,
the targets of ``BCEWithLogitsLoss``: every label, or only those of chosen modalities
(``modalities=("A", "AV")``: audible targets; ``("V", "AV")``: visible ones). Multi-hot
targets given to the ``evaluate`` module as references are checked here
(:func:`check_targets`). ``datasets`` is imported only by the two functions that need it.

Example:
    >>> multi_hot_labels({"labels": [[0, 2], [1]]}, num_classes=3)["labels"].tolist()
    [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from vggsounder_hf.core.errors import GroundTruthError, OptionError
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.schema import MODALITY_NAMES, NUM_CLASSES

__all__ = [
    "check_targets",
    "checked_targets",
    "class_label_names",
    "is_tensor",
    "multi_hot_features",
    "multi_hot_labels",
    "to_numpy",
    "with_multi_hot_labels",
]


def multi_hot_labels(
    example_or_batch: Mapping[str, Any],
    num_classes: int = NUM_CLASSES,
    label_column: str = "labels",
    output_column: str = "labels",
    modalities: Sequence[str] | str = MODALITY_NAMES,
    modality_column: str = "modalities",
) -> dict[str, np.ndarray]:
    """Float32 multi-hot vectors of the class indices in ``label_column``.

    A ``Dataset.map`` function, batched (``example_or_batch[label_column]`` is a list of
    index lists; gives ``(n, num_classes)``) or not (one index list; gives
    ``(num_classes,)``). ``modalities`` chooses the labels that count by their modality
    (``modality_column``, codes into ``("A", "V", "AV")`` or those names): ``("A", "AV")``
    gives the audible targets, ``("V", "AV")`` the visible ones, the default every label.
    When ``output_column`` is the existing ``labels`` column, ``map`` keeps its
    ``ClassLabel`` type and casts the vectors to integers unless it is given ``features=``:
    use :func:`with_multi_hot_labels`, or ``dataset.map(multi_hot_labels, batched=True,
    features=multi_hot_features(dataset.features))``.

    Raises:
        GroundTruthError: A label that is not an integer class index in ``0..num_classes-1``,
            or a modality that is not one of ``("A", "V", "AV")``.
        OptionError: ``modalities`` names something else.

    Example:
        >>> multi_hot_labels({"labels": [[0, 2], [1]]}, num_classes=3)["labels"].tolist()
        [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
        >>> audible = multi_hot_labels({"labels": [0, 2], "modalities": ["V", "AV"]},
        ...                            num_classes=3, modalities=("A", "AV"))
        >>> audible["labels"].tolist()
        [0.0, 0.0, 1.0]
    """
    codes = _modality_codes(modalities)
    rows, batched = _label_rows(example_or_batch, label_column)
    kept = None
    if len(codes) < len(MODALITY_NAMES):
        modality_rows, _ = _label_rows(example_or_batch, modality_column)
        kept = [
            [_modality_code(m, modality_column, row) in codes for m in row_modalities]
            for row, row_modalities in enumerate(modality_rows)
        ]
    vectors = np.zeros((len(rows), num_classes), dtype=np.float32)
    for row, labels in enumerate(rows):
        indices = [_label_index(label, num_classes, label_column, row) for label in labels]
        if kept is not None:
            if len(kept[row]) != len(indices):
                raise GroundTruthError(
                    f"example {row} in the batch has {len(indices)} labels but "
                    f"{len(kept[row])} modalities"
                )
            indices = [index for index, keep in zip(indices, kept[row], strict=True) if keep]
        vectors[row, indices] = 1.0
    return {output_column: vectors if batched else vectors[0]}


def _label_rows(example_or_batch: Mapping[str, Any], name: str) -> tuple[list[Any], bool]:
    """The rows of one list column of an example or a batch, and whether it is a batch."""
    if name not in example_or_batch:
        raise GroundTruthError(
            f"the examples have no column {name!r}; they have {sorted(example_or_batch)}"
        )
    items = list(example_or_batch[name])
    batched = bool(items) and all(
        isinstance(item, (list, tuple, np.ndarray)) or is_tensor(item) for item in items
    )
    return (items if batched else [items]), batched


def _modality_codes(modalities: Sequence[str] | str) -> frozenset[int]:
    chosen = (modalities,) if isinstance(modalities, str) else tuple(modalities)
    unknown = [name for name in chosen if name not in MODALITY_NAMES]
    if unknown or not chosen:
        raise OptionError(
            f"modalities must name label modalities from {MODALITY_NAMES}, got {modalities!r}: "
            '("A", "AV") gives the audible targets, ("V", "AV") the visible ones'
        )
    return frozenset(MODALITY_NAMES.index(name) for name in chosen)


def _modality_code(value: Any, column: str, row: int) -> int:
    if hasattr(value, "item") and not isinstance(value, (list, tuple)):
        value = value.item()
    if isinstance(value, str) and value in MODALITY_NAMES:
        return MODALITY_NAMES.index(value)
    if not isinstance(value, bool) and isinstance(value, int) and 0 <= value < len(MODALITY_NAMES):
        return value
    raise GroundTruthError(
        f"{column!r} of example {row} in the batch holds {value!r}, not one of {MODALITY_NAMES}"
    )


def multi_hot_features(
    features: Any, label_column: str = "labels", output_column: str = "labels"
) -> Any:
    """The ``datasets.Features`` after :func:`multi_hot_labels`: ``output_column`` becomes
    ``List(Value("float32"), length=num_classes)``, every other column is kept.

    Raises:
        GroundTruthError: ``label_column`` is not a list of ``ClassLabel``.
    """
    import datasets

    num_classes = len(class_label_names(features, label_column))
    updated = datasets.Features(dict(features))
    updated[output_column] = datasets.List(datasets.Value("float32"), length=num_classes)
    return updated


def with_multi_hot_labels(
    dataset: Any,
    *,
    modalities: Sequence[str] | str = MODALITY_NAMES,
    label_column: str = "labels",
    output_column: str = "labels",
    modality_column: str = "modalities",
    **map_kwargs: Any,
) -> Any:
    """``dataset`` with float32 multi-hot ``labels``, for
    ``problem_type="multi_label_classification"`` (``BCEWithLogitsLoss``).

    ``modalities`` chooses the targets: ``("A", "AV")`` the audible labels (what an audio
    model should hear), ``("V", "AV")`` the visible ones, the default all of them. With the
    default ``output_column="labels"`` the class-index lists are replaced (build
    :func:`~vggsounder_hf.hf.trainer.make_compute_metrics` from ``dataset`` first); other
    columns are kept (Trainer drops the ones the model does not take; for a plain
    ``DataLoader`` use :func:`~vggsounder_hf.hf.collate.collate_vggsounder`, which batches
    the ragged ones). ``map_kwargs`` go to ``map`` (e.g. ``num_proc``, ``desc``); an
    ``IterableDataset`` (``load_vggsounder(..., streaming=True)``) works too.

    Example:
        >>> from vggsounder_hf import load_vggsounder
        >>> eval_dataset = with_multi_hot_labels(load_vggsounder("1.0"))
        >>> eval_dataset.features["labels"]
        List(Value('float32'), length=309)
        >>> audible = with_multi_hot_labels(train, modalities=("A", "AV"))  # doctest: +SKIP
    """
    _modality_codes(modalities)  # a bad choice fails here, not in the first batch
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
            "modalities": tuple(modalities) if not isinstance(modalities, str) else modalities,
            "modality_column": modality_column,
        },
        **map_kwargs,
    )


def checked_targets(references: Any) -> np.ndarray:
    """Multi-hot targets given as references: one numeric array (numpy, torch or lists)."""
    try:
        targets = to_numpy(references)
    except ValueError as error:
        raise GroundTruthError(f"references: not one rectangular array ({error})") from None
    if targets.dtype.kind not in "biuf":
        raise GroundTruthError(
            f"references: multi-hot targets must be numbers, not {targets.dtype}"
        )
    return targets


def check_targets(targets: np.ndarray, ids: list[str], truth: GroundTruth) -> None:
    """Multi-hot reference targets mark only labels of their clips (of the release)."""
    if targets.ndim != 2 or targets.shape[1] != truth.num_classes:
        raise GroundTruthError(
            f"references: expected rows of the dataset or (N, {truth.num_classes}) multi-hot "
            f"targets, got an array of shape {targets.shape}"
        )
    if len(targets) != len(ids):
        raise GroundTruthError(
            f"references: {len(targets)} rows of multi-hot targets for {len(ids)} prediction rows"
        )
    rows = truth.row_of(ids)
    if (rows < 0).any():
        missing = ids[int(np.argmax(rows < 0))]
        raise GroundTruthError(
            f"references: multi-hot targets stand for the release's rows, but clip {missing!r} "
            "is not in the release; pass the dataset's rows as references"
        )
    foreign = (targets > 0.5) & ~truth.labels("all")[rows]
    if foreign.any():
        row, label = np.argwhere(foreign)[0]
        raise GroundTruthError(
            f"references row {row} marks class {truth.class_names[label]!r}, which is not a label "
            f"of clip {ids[row]!r} of the release: the targets are not in the predictions' row "
            "order (or not VGGSounder's labels)"
        )


def class_label_names(features: Any, column: str) -> list[str]:
    """The ``ClassLabel`` names of a list-of-``ClassLabel`` column of ``features``.

    Raises:
        GroundTruthError: No such column, or it is not a list of ``ClassLabel`` (for example,
            already multi-hot vectors).
    """
    if features is None or column not in features:
        raise GroundTruthError(f"the dataset has no column {column!r}")
    feature = getattr(features[column], "feature", None)
    names = getattr(feature, "names", None)
    if not names:
        raise GroundTruthError(
            f"column {column!r} is {features[column]}, not a list of ClassLabel: the dataset "
            "already holds multi-hot vectors or unnamed labels. Build compute_metrics from the "
            "split before with_multi_hot_labels, or pass class_names= and the label_column "
            "that holds class indices"
        )
    return list(names)


def to_numpy(value: Any) -> np.ndarray:
    """A numpy array from a numpy array, a torch tensor (any device, bf16 too) or a list."""
    if is_tensor(value):
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":  # numpy has no bfloat16; Trainer does the same
            value = value.float()
        return value.numpy()
    return np.asarray(value)


def is_tensor(value: Any) -> bool:
    """Whether ``value`` is a torch tensor (by duck typing: torch is never imported here)."""
    return type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach")


def _label_index(label: Any, num_classes: int, label_column: str, row: int) -> int:
    if hasattr(label, "item") and not isinstance(label, (list, tuple)):
        label = label.item()
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)):
        raise GroundTruthError(
            f"{label_column!r} of example {row} in the batch holds {label!r}, not a class index"
        )
    if not 0 <= label < num_classes:
        raise GroundTruthError(
            f"{label_column!r} of example {row} in the batch holds class index {label}, "
            f"outside 0..{num_classes - 1}"
        )
    return int(label)
