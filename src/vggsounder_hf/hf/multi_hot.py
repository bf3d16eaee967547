"""Multi-hot label vectors for ``problem_type="multi_label_classification"`` models.

:func:`with_multi_hot_labels` (or :func:`multi_hot_labels` inside ``Dataset.map``) turns the
``labels`` class-index lists of the ``vggsounder`` dataset into float32 multi-hot vectors,
the targets of ``BCEWithLogitsLoss``. Every label counts, whatever its modality.
``datasets`` is imported only by the two functions that need it.

Example:
    >>> multi_hot_labels({"labels": [[0, 2], [1]]}, num_classes=3)["labels"].tolist()
    [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from vggsounder_hf.core.errors import GroundTruthError
from vggsounder_hf.core.schema import NUM_CLASSES

__all__ = [
    "class_label_names",
    "is_tensor",
    "multi_hot_features",
    "multi_hot_labels",
    "with_multi_hot_labels",
]


def multi_hot_labels(
    example_or_batch: Mapping[str, Any],
    num_classes: int = NUM_CLASSES,
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
        GroundTruthError: A label that is not an integer class index in ``0..num_classes-1``.

    Example:
        >>> multi_hot_labels({"labels": [[0, 2], [1]]}, num_classes=3)["labels"].tolist()
        [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
        >>> multi_hot_labels({"labels": [2]}, num_classes=3)["labels"].tolist()
        [0.0, 0.0, 1.0]
    """
    if label_column not in example_or_batch:
        raise GroundTruthError(
            f"the examples have no column {label_column!r}; they have {sorted(example_or_batch)}"
        )
    value = example_or_batch[label_column]
    items = list(value)
    batched = bool(items) and all(
        isinstance(item, (list, tuple, np.ndarray)) or is_tensor(item) for item in items
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
    label_column: str = "labels",
    output_column: str = "labels",
    **map_kwargs: Any,
) -> Any:
    """``dataset`` with float32 multi-hot ``labels``, for
    ``problem_type="multi_label_classification"`` (``BCEWithLogitsLoss``).

    With the default ``output_column="labels"`` the class-index lists are replaced (build
    :func:`~vggsounder_hf.hf.trainer.make_compute_metrics` from ``dataset`` first); other
    columns are kept (Trainer drops the ones the model does not take). ``map_kwargs`` go to
    ``Dataset.map`` (e.g. ``num_proc``, ``desc``).

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
