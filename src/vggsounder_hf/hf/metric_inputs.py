"""The row format of the ``evaluate`` metric, and its conversion to the metric core.

The ``evaluate`` module (``metrics/vggsounder``) stores one row per clip: a *prediction*
``{"video_id", "a", "v", "av"}`` and a *reference*, which is a row of the ``vggsounder``
dataset. This module fixes those schemas (:func:`metric_features`), checks and normalises
user rows before ``evaluate`` encodes them (:func:`normalise_predictions`,
:func:`normalise_references`), and scores the stored rows with the one core function,
:func:`vggsounder_hf.core.evaluation.evaluate_predictions` (:func:`compute_from_rows`).

Predictions per input modality:

* ``"labels"`` config: a list of class names or class indices (indices are turned into
  names, so unknown names can be counted like the reference does), or ``None`` for "no
  prediction for this input";
* ``"scores"`` config: 309 floats, or ``None``.

A modality that is ``None`` (or absent) for every row is treated as not evaluated.

Example:
    >>> rows = normalise_predictions([{"video_id": "x_000001", "a": [0]}], "labels", ("dog",))
    >>> rows
    [{'video_id': 'x_000001', 'a': ['dog'], 'v': None, 'av': None}]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from vggsounder_hf.core.clip_sets import META_LABELS
from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.core.ground_truth import MODALITY_NAMES, GroundTruth
from vggsounder_hf.core.predictions import INPUT_MODALITIES, ModelPredictions, PredictionError

CONFIG_NAMES: tuple[str, ...] = ("labels", "scores")
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
def class_names_for(label_version: str = "1.0", data_path: str | None = None) -> tuple[str, ...]:
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
    rows: Iterable[Mapping[str, Any]], class_names: Sequence[str]
) -> list[dict[str, Any]]:
    """Bring reference rows (``vggsounder`` dataset rows) to the stored schema.

    Labels may be class indices (as the dataset stores them) or names; modalities may be
    indices into ``("A", "V", "AV")`` or those strings. Extra fields are dropped.
    """
    class_index = {name: index for index, name in enumerate(class_names)}
    normalised = []
    for number, row in enumerate(_as_rows(rows, "references")):
        missing = [name for name in REFERENCE_FIELDS if name not in row]
        if missing:
            raise ValueError(
                f"references[{number}] lacks {missing}; pass rows of the vggsounder dataset"
            )
        where = f"references[{number}] ({row['video_id']})"
        labels = [
            class_index[label] if isinstance(label, str) and label in class_index else label
            for label in row["labels"]
        ]
        for label in labels:
            if not isinstance(label, (int, np.integer)) or not 0 <= label < len(class_names):
                raise ValueError(f"{where}: unknown class {label!r}")
        modalities = [
            MODALITY_NAMES.index(modality) if modality in MODALITY_NAMES else modality
            for modality in row["modalities"]
        ]
        for modality in modalities:
            if not isinstance(modality, (int, np.integer)) or not 0 <= modality < 3:
                raise ValueError(f"{where}: unknown modality {modality!r}; use {MODALITY_NAMES}")
        normalised.append(
            {
                "video_id": row["video_id"],
                "labels": [int(label) for label in labels],
                "modalities": [int(modality) for modality in modalities],
                **{name: bool(row[name]) for name in META_LABELS},
            }
        )
    return normalised


def compute_from_rows(
    predictions: Sequence[Mapping[str, Any]],
    references: Sequence[Mapping[str, Any]],
    config_name: str,
    class_names: Sequence[str],
    **options: Any,
) -> dict[str, Any]:
    """Score stored rows with :func:`~vggsounder_hf.core.evaluation.evaluate_predictions`.

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
