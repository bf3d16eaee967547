"""The row format of the ``evaluate`` metric, and its conversion to the metric core.

The ``evaluate`` module (``metrics/vggsounder``) stores one row per clip: a *prediction*
``{"video_id", "a", "v", "av"}`` and a *reference*, which is a row of the ``vggsounder``
dataset. This module fixes those schemas (:func:`metric_features`), checks user rows and
brings them to the stored form before ``evaluate`` encodes them (:func:`normalise_predictions`,
:func:`normalise_references`), and scores the stored rows with the one core function,
:func:`vggsounder_hf.core.evaluation.evaluate_predictions` (:func:`compute_from_rows`).

References are parsed once, when they are added: they are stored as the dataset stores
them (class indices, modality codes into ``("A", "V", "AV")``, boolean meta flags), and
:func:`compute_from_rows` builds the :class:`~vggsounder_hf.core.ground_truth.GroundTruth`
straight from those integers. The same parse checks the evaluation rows of the Trainer hook.

Predictions per input modality:

* ``"labels"`` config: a list of class names or class indices, or ``None`` for "no
  prediction for this input". They are stored as names: an Arrow column has one type and
  must also hold names that are not classes, which the reference ignores but counts
  (``num_unknown_labels``); so an index becomes its class name here and the core looks the
  name up once when scoring;
* ``"scores"`` config: 309 floats, or ``None``.

A modality that is ``None`` (or absent) for every row is treated as not evaluated.

Example:
    >>> rows = normalise_predictions([{"video_id": "x_000001", "a": [0]}], "labels", ("dog",))
    >>> rows
    [{'video_id': 'x_000001', 'a': ['dog'], 'v': None, 'av': None}]
    >>> stored = normalise_references([{"video_id": "x_000001", "labels": ["dog"],
    ...     "modalities": ["AV"], "background_music": False, "static_image": False,
    ...     "voice_over": True}], ("dog",))
    >>> stored[0]["labels"], stored[0]["modalities"], stored[0]["voice_over"]
    ([0], [2], True)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions, PredictionError
from vggsounder_hf.core.schema import (
    DEFAULT_LABEL_RELEASE,
    INPUT_MODALITIES,
    META_LABELS,
    MODALITY_NAMES,
    PREDICTION_KINDS,
)

CONFIG_NAMES: tuple[str, ...] = PREDICTION_KINDS
"""The module's configs: the prediction kinds of :mod:`vggsounder_hf.core.schema`."""
REFERENCE_FIELDS: tuple[str, ...] = ("video_id", "labels", "modalities", *META_LABELS)


def metric_features(config_name: str) -> Any:
    """The ``datasets.Features`` of one stored row for the ``labels`` or ``scores`` config."""
    import datasets

    if config_name not in CONFIG_NAMES:
        raise ValueError(f"unknown config {config_name!r}; use one of {CONFIG_NAMES}")
    value = datasets.Value("string" if config_name == "labels" else "float64")
    prediction = {"video_id": datasets.Value("string")}
    prediction.update({modality: datasets.List(value) for modality in INPUT_MODALITIES})
    reference = {
        "video_id": datasets.Value("string"),
        "labels": datasets.List(datasets.Value("int32")),
        "modalities": datasets.List(datasets.Value("int8")),
        **{name: datasets.Value("bool") for name in META_LABELS},
    }
    return datasets.Features({"predictions": prediction, "references": reference})


@lru_cache(maxsize=4)
def class_names_for(
    label_version: str = DEFAULT_LABEL_RELEASE, data_path: str | None = None
) -> tuple[str, ...]:
    """The 309 class names (``classes.csv`` order) of a label release."""
    from vggsounder_hf.io.annotations import read_class_names
    from vggsounder_hf.io.sources import resolve_release_files

    return tuple(read_class_names(resolve_release_files(label_version, data_path).classes))


def normalise_predictions(
    rows: Iterable[Mapping[str, Any]], config_name: str, class_names: Sequence[str]
) -> list[dict[str, Any]]:
    """Check prediction rows and bring them to the stored schema.

    Raises:
        ValueError: A row is not a mapping, has no ``video_id``, names an unknown input
            modality, or holds a value of the wrong kind (message names the row).
    """
    if config_name not in CONFIG_NAMES:
        raise ValueError(f"unknown config {config_name!r}; use one of {CONFIG_NAMES}")
    normalised = []
    for number, row in enumerate(_as_rows(rows, "predictions")):
        video_id = row.get("video_id")
        if not isinstance(video_id, str):
            raise ValueError(f"predictions[{number}] needs a string 'video_id', got {video_id!r}")
        unknown = sorted(set(row) - {"video_id", *INPUT_MODALITIES})
        if unknown:
            raise ValueError(
                f"predictions[{number}] ({video_id}): unknown key(s) {unknown}; predictions "
                f"hold 'video_id' and the input modalities {INPUT_MODALITIES}"
            )
        stored: dict[str, Any] = {"video_id": video_id}
        for modality in INPUT_MODALITIES:
            value = row.get(modality)
            where = f"predictions[{number}] ({video_id}), input {modality!r}"
            if config_name == "labels":
                stored[modality] = _label_names(value, class_names, where)
            elif type(value) is list and len(value) == len(class_names):
                stored[modality] = value  # checked for numbers and finiteness below, in bulk
            else:
                stored[modality] = _scores(value, len(class_names), where)
        normalised.append(stored)
    if config_name == "scores":
        _check_score_lists(normalised, len(class_names))
    return normalised


def _check_score_lists(rows: list[dict[str, Any]], num_classes: int) -> None:
    """Every score list holds finite numbers; else name the first bad row and input."""
    for modality in INPUT_MODALITIES:
        given = [(number, row) for number, row in enumerate(rows) if row[modality] is not None]
        try:
            scores = np.array([row[modality] for _, row in given], dtype=np.float64)
            suspects = [given[index] for index in np.flatnonzero(~np.isfinite(scores).all(axis=1))]
        except (TypeError, ValueError):
            suspects = given  # something is not a number: look at the rows one by one
        for number, row in suspects:
            where = f"predictions[{number}] ({row['video_id']}), input {modality!r}"
            _scores(row[modality], num_classes, where)


def normalise_references(
    rows: Iterable[Mapping[str, Any]], class_names: Sequence[str], *, source: str = "references"
) -> list[dict[str, Any]]:
    """Parse reference rows (``vggsounder`` dataset rows) into the stored schema.

    Labels may be class indices (as the dataset stores them) or names; modalities may be
    codes into ``("A", "V", "AV")`` or those strings; meta flags must be booleans (a string
    such as ``"False"`` is refused, not read as true). Extra fields are dropped.

    Args:
        rows: The rows (a ``datasets.Dataset`` too).
        class_names: The class list the indices refer to.
        source: How error messages name the rows (``"references[3] (<video_id>)"``).

    Raises:
        ValueError: A row lacks a field, or holds an unknown class or modality, labels and
            modalities of different lengths, or a flag that is not a boolean.
    """
    class_index = {name: index for index, name in enumerate(class_names)}
    normalised = []
    for number, row in enumerate(_as_rows(rows, source)):
        missing = [name for name in REFERENCE_FIELDS if name not in row]
        if missing:
            raise ValueError(
                f"{source}[{number}] lacks {missing}; pass rows of the vggsounder dataset"
            )
        video_id = row["video_id"]
        where = f"{source}[{number}] ({video_id})"
        if not isinstance(video_id, str):
            raise ValueError(f"{where}: 'video_id' must be a string, got {type(video_id).__name__}")
        labels = [
            _class_index(label, class_index, len(class_names), where)
            for label in _items(row["labels"], "labels", where)
        ]
        modalities = [
            _modality_code(modality, where)
            for modality in _items(row["modalities"], "modalities", where)
        ]
        if len(labels) != len(modalities):
            raise ValueError(f"{where}: {len(labels)} labels but {len(modalities)} modalities")
        normalised.append(
            {
                "video_id": video_id,
                "labels": labels,
                "modalities": modalities,
                **{name: _flag(row[name], name, where) for name in META_LABELS},
            }
        )
    return normalised


def _items(value: Any, name: str, where: str) -> list[Any]:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{where}: {name!r} must be a list, got {type(value).__name__}")
    return list(value)


def _class_index(label: Any, class_index: Mapping[str, int], num_classes: int, where: str) -> int:
    if isinstance(label, str) and label in class_index:
        return class_index[label]
    if _is_index(label, num_classes):
        return int(label)
    raise ValueError(f"{where}: unknown class {label!r}")


def _modality_code(modality: Any, where: str) -> int:
    if isinstance(modality, str) and modality in MODALITY_NAMES:
        return MODALITY_NAMES.index(modality)
    if _is_index(modality, len(MODALITY_NAMES)):
        return int(modality)
    raise ValueError(f"{where}: unknown modality {modality!r}; use {MODALITY_NAMES}")


def _is_index(value: Any, size: int) -> bool:
    """An integer (not a boolean) in ``0..size-1``."""
    integer = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    return integer and 0 <= value < size


def _flag(value: Any, name: str, where: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"{where}: {name!r} must be True or False, got {value!r}")


def evaluation_rows(
    eval_dataset: Any, class_names: Sequence[str], label_column: str = "labels"
) -> list[dict[str, Any]]:
    """The reference rows of an evaluation split, parsed by :func:`normalise_references`.

    Only the fields a reference needs are read from a ``datasets.Dataset`` (never its audio
    or video columns); ``label_column`` names the column with the class indices or names.

    Raises:
        ValueError: A field is missing, the split is empty, the labels are already
            multi-hot vectors, or a row does not parse.
    """
    fields = (*(name for name in REFERENCE_FIELDS if name != "labels"), label_column)
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
    if not rows:
        raise ValueError("the evaluation dataset is empty")
    for number, row in enumerate(rows):
        if label_column != "labels" and label_column in row:
            row["labels"] = row[label_column]
        labels = row.get("labels")
        if labels is not None and len(labels) and not isinstance(labels[0], (str, int, np.integer)):
            raise ValueError(
                f"evaluation row {number}: {label_column!r} holds {type(labels[0]).__name__} "
                "values, not class indices or names (is it already multi-hot? build "
                "compute_metrics from the split before with_multi_hot_labels)"
            )
    return normalise_references(rows, class_names, source="evaluation row")


def compute_from_rows(
    predictions: Sequence[Mapping[str, Any]],
    references: Sequence[Mapping[str, Any]],
    config_name: str,
    class_names: Sequence[str],
    **options: Any,
) -> dict[str, Any]:
    """Score stored rows with :func:`~vggsounder_hf.core.evaluation.evaluate_predictions`.

    ``references`` are rows as :func:`normalise_references` stores them (class indices and
    modality codes), read by :meth:`GroundTruth.from_rows` without a name lookup.
    ``options`` are passed on (``clip_set``, ``columns``, ``ks``, ``tie_break``,
    ``modality_confusion``, ``per_class``).
    """
    if len(predictions) == 0:
        raise ValueError("no predictions were added: nothing to score")
    truth = GroundTruth.from_rows(references, class_names)
    per_modality: dict[str, dict[str, Any]] = {}
    for row in predictions:
        for modality in INPUT_MODALITIES:
            value = row[modality]
            if value is None:
                continue
            per_input = per_modality.setdefault(modality, {})
            if row["video_id"] in per_input:
                raise PredictionError(
                    f"predictions: clip {row['video_id']!r} appears more than once "
                    f"(input {modality!r})"
                )
            per_input[row["video_id"]] = value
    if not per_modality:
        raise PredictionError("predictions: every input modality is empty (all None)")
    if config_name == "scores":
        model = ModelPredictions.from_scores(per_modality, class_names, source="predictions")
    else:
        model = ModelPredictions.from_label_sets(per_modality, class_names, source="predictions")
    return evaluate_predictions(truth, model, **options)


def _as_rows(rows: Any, name: str) -> list[Mapping[str, Any]]:
    if rows is None:
        raise ValueError(f"{name} are missing")
    if hasattr(rows, "to_list") and hasattr(rows, "column_names"):  # a datasets.Dataset
        rows = rows.to_list()
    rows = list(rows)
    for number, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise ValueError(f"{name}[{number}] must be a mapping, got {type(row).__name__}")
    return rows


def _label_names(value: Any, class_names: Sequence[str], where: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValueError(
            f"{where}: expected a list of class names or indices, got {type(value).__name__}"
        )
    names = []
    for label in value:
        if isinstance(label, str):
            names.append(label)
        elif isinstance(label, (int, np.integer)) and not isinstance(label, bool):
            if not 0 <= label < len(class_names):
                raise ValueError(f"{where}: class index {label} outside 0..{len(class_names) - 1}")
            names.append(class_names[label])
        else:
            raise ValueError(f"{where}: label {label!r} is neither a class name nor an index")
    return names


def _scores(value: Any, num_classes: int, where: str) -> list[float] | None:
    if value is None:
        return None
    try:
        scores = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: scores must be {num_classes} numbers") from None
    if scores.shape != (num_classes,):
        raise ValueError(f"{where}: expected {num_classes} scores, got shape {scores.shape}")
    if not np.isfinite(scores).all():
        raise ValueError(f"{where}: scores contain NaN or infinity")
    return scores.tolist()
