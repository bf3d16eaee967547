"""The row format of the ``evaluate`` metric: checks of prediction and reference rows.

One of the input forms of the ``evaluate`` module (``vggsounder_hf.METRIC_PATH``) is one row
per clip: a *prediction* ``{"video_id", "a", "v", "av"}`` and a *reference*, which is a row of
the ``vggsounder`` dataset. This module checks such rows and brings them to a normal form
(:func:`normalise_predictions`, :func:`normalise_references`; the array forms and the
module's compact storage are :mod:`vggsounder_hf.hf.metric_arrays`), and scores rows with the
one core function, :func:`vggsounder_hf.core.evaluation.evaluate_predictions`
(:func:`compute_from_rows`).

References are parsed once, when they are added: class indices, modality codes into
``("A", "V", "AV")``, boolean meta flags. The same parse checks the evaluation rows of the
Trainer hook.

Predictions per input modality:

* ``"labels"`` config: a list of class names or class indices, a multi-hot vector of
  exactly 309 values 0/1 (or booleans), or ``None`` for "no prediction for this input".
  Booleans and floats are not class indices; a 0/1 list of another length that repeats a
  value is refused (it is a multi-hot vector, not a label set). They are stored as names:
  an Arrow column has one type and must also hold names that are not classes, which the
  reference ignores but counts (``num_unknown_labels``); so an index becomes its class name
  here and the core looks the name up once when scoring;
* ``"scores"`` config: 309 real numbers (not strings, booleans or complex numbers), or
  ``None``.

A modality that is ``None`` (or absent) for every row is treated as not evaluated. Every
error is a :class:`~vggsounder_hf.core.errors.VGGSounderInputError` naming the row:
``predictions[3] (<video_id>), input 'a': ...``.

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
from itertools import chain
from typing import Any

import numpy as np
import pyarrow as pa

from vggsounder_hf.core.coverage import check_clip_set
from vggsounder_hf.core.errors import (
    GroundTruthError,
    OptionError,
    PredictionError,
    bad_flag_message,
    duplicate_clip_message,
    fits_float,
    is_label_type,
    is_score_type,
    not_a_label_message,
    not_a_score_message,
    too_large_score_message,
)
from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.core.schema import (
    COLUMNS,
    DEFAULT_CLIP_SET,
    DEFAULT_LABEL_RELEASE,
    INPUT_MODALITIES,
    META_LABELS,
    MODALITY_NAMES,
    PREDICTION_KINDS,
    column,
)
from vggsounder_hf.core.schema import columns as chosen_columns

CONFIG_NAMES: tuple[str, ...] = PREDICTION_KINDS
"""The module's configs: the prediction kinds of :mod:`vggsounder_hf.core.schema`."""
REFERENCE_FIELDS: tuple[str, ...] = ("video_id", "labels", "modalities", *META_LABELS)


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
    """Check prediction rows and bring them to a normal form: every input present, label
    sets as class names, scores as lists of numbers (or ``None``).

    Raises:
        ValueError: A row is not a mapping, has no ``video_id``, names an unknown input
            modality, or holds a value of the wrong kind (message names the row).
    """
    return checked_prediction_rows(rows, config_name, class_names)[0]


def checked_prediction_rows(
    rows: Iterable[Mapping[str, Any]], config_name: str, class_names: Sequence[str]
) -> tuple[list[dict[str, Any]], dict[str, tuple[list[int], np.ndarray]]]:
    """:func:`normalise_predictions`, and for scores, per input, the numbers of the rows that
    have it and their ``float64`` score matrix (built once, by the check)."""
    if config_name not in CONFIG_NAMES:
        raise OptionError(f"unknown config {config_name!r}; use one of {CONFIG_NAMES}")
    normalised = []
    for number, row in enumerate(_as_rows(rows, "predictions")):
        video_id = row.get("video_id")
        if not isinstance(video_id, str):
            raise PredictionError(
                f"predictions[{number}] needs a string 'video_id', got {video_id!r}"
            )
        unknown = sorted(map(str, set(row) - {"video_id", *INPUT_MODALITIES}))
        if unknown:
            raise PredictionError(
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
    matrices = _check_score_lists(normalised, len(class_names)) if config_name == "scores" else {}
    return normalised, matrices


def _check_score_lists(
    rows: list[dict[str, Any]], num_classes: int
) -> dict[str, tuple[list[int], np.ndarray]]:
    """Every score list holds finite real numbers; else name the first bad row and input.
    Returns, per input, the numbers of the rows that have it and their score matrix."""
    matrices = {}
    for modality in INPUT_MODALITIES:
        given = [(number, row) for number, row in enumerate(rows) if row[modality] is not None]
        if not given:
            continue
        values = chain.from_iterable(row[modality] for _, row in given)
        suspects = given  # something is not a real number: look at the rows one by one
        if all(map(is_score_type, set(map(type, values)))):
            try:
                scores = np.array([row[modality] for _, row in given], dtype=np.float64)
                finite = np.isfinite(scores).all(axis=1)
                suspects = [given[index] for index in np.flatnonzero(~finite)]
                matrices[modality] = ([number for number, _ in given], scores)
            except OverflowError:
                pass
        for number, row in suspects:
            where = f"predictions[{number}] ({row['video_id']}), input {modality!r}"
            _scores(row[modality], num_classes, where)
    return matrices


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
        GroundTruthError: A row lacks a field, or holds an unknown class or modality, labels
            and modalities of different lengths, or a flag that is not a boolean.
    """
    class_index = {name: index for index, name in enumerate(class_names)}
    normalised = []
    for number, row in enumerate(_as_rows(rows, source)):
        missing = [name for name in REFERENCE_FIELDS if name not in row]
        if missing:
            raise GroundTruthError(
                f"{source}[{number}] lacks {missing}; pass rows of the vggsounder dataset"
            )
        video_id = row["video_id"]
        where = f"{source}[{number}] ({video_id})"
        if not isinstance(video_id, str):
            raise GroundTruthError(
                f"{where}: 'video_id' must be a string, got {type(video_id).__name__}"
            )
        labels = [
            _class_index(label, class_index, len(class_names), where)
            for label in _items(row["labels"], "labels", where)
        ]
        modalities = [
            _modality_code(modality, where)
            for modality in _items(row["modalities"], "modalities", where)
        ]
        if len(labels) != len(modalities):
            raise GroundTruthError(
                f"{where}: {len(labels)} labels but {len(modalities)} modalities"
            )
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
    if not isinstance(value, list | tuple):
        raise GroundTruthError(f"{where}: {name!r} must be a list, got {type(value).__name__}")
    return list(value)


def _class_index(label: Any, class_index: Mapping[str, int], num_classes: int, where: str) -> int:
    if isinstance(label, str) and label in class_index:
        return class_index[label]
    if _is_index(label, num_classes):
        return int(label)
    raise GroundTruthError(f"{where}: unknown class {label!r}")


def _modality_code(modality: Any, where: str) -> int:
    if isinstance(modality, str) and modality in MODALITY_NAMES:
        return MODALITY_NAMES.index(modality)
    if _is_index(modality, len(MODALITY_NAMES)):
        return int(modality)
    raise GroundTruthError(f"{where}: unknown modality {modality!r}; use {MODALITY_NAMES}")


def _is_index(value: Any, size: int) -> bool:
    """An integer (not a boolean, not a string) in ``0..size-1``."""
    return not isinstance(value, str) and is_label_type(type(value)) and 0 <= value < size


def _flag(value: Any, name: str, where: str) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise GroundTruthError(bad_flag_message(where, name, value))


def rows_table(rows: Any, config_name: str, class_names: Sequence[str]) -> pa.Table:
    """Prediction rows as an Arrow table: ``video_id``, then per input class-name lists or
    fixed-size lists of ``float64`` scores (null where a row has no prediction)."""
    normalised, matrices = checked_prediction_rows(rows, config_name, class_names)
    table = {"video_id": pa.array([row["video_id"] for row in normalised], pa.string())}
    for modality in INPUT_MODALITIES:
        if config_name == "labels":
            if any(row[modality] is not None for row in normalised):
                table[modality] = pa.array(
                    [row[modality] for row in normalised], pa.list_(pa.string())
                )
        elif modality in matrices:
            numbers, matrix = matrices[modality]
            full = np.zeros((len(normalised), len(class_names)))
            full[numbers] = matrix
            missing = np.ones(len(normalised), dtype=bool)
            missing[numbers] = False
            values = pa.array(full.reshape(-1))
            table[modality] = pa.FixedSizeListArray.from_arrays(
                values, len(class_names), mask=pa.array(missing)
            )
    return pa.table(table)


def references_table(
    references: Any, class_names: Sequence[str], is_targets: bool = False
) -> tuple[pa.Table | None, list[str] | None]:
    """Reference rows as an Arrow table, and their clip ids; ``None, None`` for ``None``
    (the release's rows) or multi-hot targets (``is_targets``)."""
    if references is None or is_targets:
        return None, None
    names = getattr(references, "column_names", None)
    if names is not None and set(REFERENCE_FIELDS) <= set(names):
        references = references.select_columns(list(REFERENCE_FIELDS))  # never audio, video
    rows = normalise_references(references, class_names)
    ids = [row["video_id"] for row in rows]
    list_of = {"labels": pa.list_(pa.int32()), "modalities": pa.list_(pa.int8())}
    table = {"video_id": pa.array(ids, pa.string())}
    table.update(
        {name: pa.array([row[name] for row in rows], kind) for name, kind in list_of.items()}
    )
    table.update({name: pa.array([row[name] for row in rows], pa.bool_()) for name in META_LABELS})
    return pa.table(table), ids


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

    Raises:
        VGGSounderInputError: No rows, a clip given twice, a clip set without references
            (:class:`~vggsounder_hf.core.errors.EmptyClipSetError`). A column without
            clips and predictions none of which is for a reference of the clip set are
            warned about (see :func:`~vggsounder_hf.core.coverage.check_clip_set` and
            :func:`~vggsounder_hf.core.coverage.check_overlap`).
    """
    if len(predictions) == 0:
        raise PredictionError("no predictions were added: nothing to score")
    truth = GroundTruth.from_rows(references, class_names)
    per_modality: dict[str, dict[str, Any]] = {}
    first_row: dict[str, int] = {}
    for number, row in enumerate(predictions):
        for modality in INPUT_MODALITIES:
            value = row[modality]
            if value is None:
                continue
            per_input = per_modality.setdefault(modality, {})
            video_id = row["video_id"]
            if video_id in per_input:
                detail = f"predictions[{first_row[video_id]}] and [{number}], input {modality!r}"
                raise PredictionError(duplicate_clip_message("predictions", video_id, detail))
            per_input[video_id] = value
            first_row.setdefault(video_id, number)
    if not per_modality:
        raise PredictionError("predictions: every input modality is empty (all None)")
    if config_name == "scores":
        model = ModelPredictions.from_scores(per_modality, class_names, source="predictions")
    else:
        model = ModelPredictions.from_label_sets(per_modality, class_names, source="predictions")
    clip_set = options.get("clip_set", DEFAULT_CLIP_SET)
    wanted = chosen_columns(options.get("columns", COLUMNS))
    scored = [name for name in wanted if column(name).input in model.inputs]
    check_clip_set(truth, clip_set, scored, source="the references")
    return evaluate_predictions(truth, model, **options)  # warns if no prediction matches


def _as_rows(rows: Any, name: str) -> list[Mapping[str, Any]]:
    error = PredictionError if name == "predictions" else GroundTruthError
    if rows is None:
        raise error(f"{name} are missing")
    if hasattr(rows, "to_list") and hasattr(rows, "column_names"):  # a datasets.Dataset
        rows = rows.to_list()
    rows = list(rows)
    for number, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise error(f"{name}[{number}] must be a mapping, got {type(row).__name__}")
    return rows


def is_multi_hot(values: Sequence[Any]) -> bool:
    """0/1 values (or booleans) that cannot be a label set: a boolean among them, or a value
    repeated (a set of class indices names each class once)."""
    binary = all(type(value) in (int, bool) and value in (0, 1) for value in values)
    has_bool = any(type(value) is bool for value in values)
    return binary and (has_bool or len(set(values)) < len(values))


def _label_names(value: Any, class_names: Sequence[str], where: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        raise PredictionError(
            f"{where}: expected a list of class names or indices, got {type(value).__name__}"
        )
    if is_multi_hot(value):
        if len(value) != len(class_names):
            raise PredictionError(
                f"{where}: {len(value)} values 0/1 look like a multi-hot vector, but one needs "
                f"exactly {len(class_names)} (one per class); or give class names or indices"
            )
        value = [index for index, hot in enumerate(value) if hot]
    elif len(value) == len(class_names) and all(type(item) is float for item in value):
        raise PredictionError(
            f"{where}: {len(value)} floats are scores or a float multi-hot vector, not a label "
            "set: use the 'scores' config for scores, or give class names, class indices or "
            "a multi-hot vector of 0/1 integers"
        )
    names = []
    for label in value:
        if isinstance(label, str):
            names.append(label)
        elif is_label_type(type(label)):
            if not 0 <= label < len(class_names):
                raise PredictionError(
                    f"{where}: class index {label} outside 0..{len(class_names) - 1}"
                )
            names.append(class_names[label])
        else:
            raise PredictionError(not_a_label_message(where, label, len(class_names)))
    return names


def _scores(value: Any, num_classes: int, where: str) -> list[float] | None:
    if value is None:
        return None
    if isinstance(value, np.ndarray) and value.dtype.kind == "O":
        value = value.tolist()
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iuf":
            first = value.flat[0].item() if value.size else value.dtype
            raise PredictionError(not_a_score_message(where, first))
    elif isinstance(value, list | tuple):
        bad = [item for item in value if not is_score_type(type(item))]
        if bad:
            raise PredictionError(not_a_score_message(where, bad[0]))
    else:
        raise PredictionError(
            f"{where}: expected a list of {num_classes} scores, got {type(value).__name__}"
        )
    try:
        scores = np.asarray(value, dtype=np.float64)
    except OverflowError:
        huge = next(item for item in value if not fits_float(item))
        raise PredictionError(too_large_score_message(where, huge)) from None
    if scores.shape != (num_classes,):
        raise PredictionError(f"{where}: expected {num_classes} scores, got shape {scores.shape}")
    if not np.isfinite(scores).all():
        raise PredictionError(f"{where}: scores contain NaN or infinity")
    return scores.tolist()
