"""Per-clip modality confusion: the clips behind μ, with labels and predictions.

A clip is *confused* when a unimodal input finds one of its labels and the audio-visual
input finds none (``confused_a``: audio hits, ``confused_v``: video hits,
``confused_a_and_v``: both hit). The clips and hits come from
:func:`~vggsounder_hf.core.evaluation.modality_confusion_per_clip`, so they are exactly the ones
counted in ``mu/*``: every clip of the clip set for label-set models, clips scored by all
three inputs (top-1) for score models.

Each report row holds:

=====================================  ======================================================
field                                  content
=====================================  ======================================================
``model``, ``video_id``                which model, which clip
``confused_a``, ``confused_v``,        the confusion flags
``confused_a_and_v``
``hit_a``, ``hit_v``, ``hit_av``       whether each input found a true label
``ground_truth``                       the clip's labels (class names, ``classes.csv`` order)
``ground_truth_modalities``            the modality of each label (``A``, ``V`` or ``AV``)
``pred_a``, ``pred_v``, ``pred_av``    predicted class names per input; for score models the
                                       top-1 class; unknown names were already dropped
=====================================  ======================================================

CSV joins lists with ``" | "`` (class names contain commas); JSON keeps lists and adds a
per-model summary and the metadata. Files are written atomically.

Example:
    >>> from vggsounder_hf.core.ground_truth import GroundTruth
    >>> truth = GroundTruth.from_rows(
    ...     [{"video_id": "x_000001", "labels": [0], "modalities": ["AV"],
    ...       "background_music": False, "static_image": False, "voice_over": False}],
    ...     class_names=("dog", "cat"))
    >>> predictions = ModelPredictions.from_label_sets(
    ...     {"a": {"x_000001": ["dog"]}, "v": {"x_000001": []}, "av": {"x_000001": ["cat"]}},
    ...     ("dog", "cat"))
    >>> row = confused_clips(truth, predictions, model="toy")[0]
    >>> row["confused_a"], row["ground_truth"], row["pred_av"]
    (True, ['dog'], ['cat'])
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vggsounder_hf.core.alignment import AlignedModel, align
from vggsounder_hf.core.clip_sets import ClipSet
from vggsounder_hf.core.evaluation import modality_confusion_per_clip
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.core.schema import (
    DEFAULT_CLIP_SET,
    INPUT_MODALITIES,
    MODALITY_NAMES,
    TieBreak,
)
from vggsounder_hf.io.atomic import write_atomic

__all__ = [
    "CONFUSION_FIELDS",
    "CONFUSION_FORMATS",
    "confused_clips",
    "render_confusion_report",
    "write_confusion_report",
]

CONFUSION_FIELDS: tuple[str, ...] = (
    "model",
    "video_id",
    "confused_a",
    "confused_v",
    "confused_a_and_v",
    "hit_a",
    "hit_v",
    "hit_av",
    "ground_truth",
    "ground_truth_modalities",
    "pred_a",
    "pred_v",
    "pred_av",
)
CONFUSION_FORMATS: tuple[str, ...] = ("csv", "json")
_LIST_FIELDS = ("ground_truth", "ground_truth_modalities", "pred_a", "pred_v", "pred_av")
_SEPARATOR = " | "


def confused_clips(
    truth: GroundTruth,
    predictions: ModelPredictions | AlignedModel,
    *,
    model: str | None = None,
    clip_set: ClipSet = DEFAULT_CLIP_SET,
    tie_break: TieBreak = "reference",
    include_all: bool = False,
) -> list[dict[str, Any]]:
    """Rows for the clips where the model is confused (or every μ clip with ``include_all``).

    Args:
        truth: The ground truth.
        predictions: The model's predictions, or the model already aligned to ``truth``
            (:func:`~vggsounder_hf.core.alignment.align`; ``tie_break`` is then its own).
        model: Name in the ``model`` field (default: the predictions' source).
        clip_set: The clips μ is computed over.
        tie_break: How the top-1 class of score models is chosen among tied scores.
        include_all: List every clip μ is computed over, not only the confused ones.

    Raises:
        ValueError: The model lacks one of the inputs ``a``, ``v``, ``av``, or was aligned to
            another ground truth.
    """
    aligned = _aligned(truth, predictions, tie_break)
    per_clip = modality_confusion_per_clip(truth, aligned, clip_set=clip_set)
    confused = per_clip["confused_a"] | per_clip["confused_v"]
    keep = np.ones_like(confused) if include_all else confused
    clip_indices = aligned.confusion_clips(clip_set)[keep]
    codes = truth.modality_codes[clip_indices]
    names = np.asarray(truth.class_names, dtype=object)
    predicted = {
        modality: _predicted_names(aligned, modality, clip_indices) for modality in INPUT_MODALITIES
    }
    name = model if model is not None else aligned.source
    rows = []
    flags = {key: per_clip[key][keep].tolist() for key in CONFUSION_FIELDS[2:8]}
    for position, video_id in enumerate(truth.video_ids[clip_indices].tolist()):
        labels = np.flatnonzero(codes[position] >= 0)
        row: dict[str, Any] = {"model": name, "video_id": video_id}
        row.update({key: bool(values[position]) for key, values in flags.items()})
        row["ground_truth"] = names[labels].tolist()
        row["ground_truth_modalities"] = [MODALITY_NAMES[code] for code in codes[position][labels]]
        for modality in INPUT_MODALITIES:
            row[f"pred_{modality}"] = predicted[modality][position]
        rows.append(row)
    return rows


def _aligned(
    truth: GroundTruth, predictions: ModelPredictions | AlignedModel, tie_break: TieBreak
) -> AlignedModel:
    if not isinstance(predictions, AlignedModel):
        return align(truth, predictions, ks=(1,), tie_break=tie_break)
    if predictions.truth is not truth:
        raise ValueError("the aligned model was aligned to another ground truth")
    return predictions


def _predicted_names(
    model: AlignedModel, modality: str, clip_indices: np.ndarray
) -> list[list[str]]:
    """Predicted class names per clip (the top-1 class for scores; every μ clip of a score
    model has scores for all three inputs); ``[]`` for a clip without a prediction."""
    given = model.inputs[modality]
    names = model.truth.class_names
    if model.kind == "scores":
        top = given.ranking[given.rows[clip_indices], 0]
        return [[names[index]] for index in top.tolist()]
    return [
        [names[index] for index in np.flatnonzero(labels)]
        for labels in given.predicted_rows(given.rows[clip_indices])
    ]


def render_confusion_report(
    rows: Sequence[Mapping[str, Any]],
    format: str = "csv",
    *,
    metadata: Mapping[str, Any] | None = None,
) -> str:
    """Render report rows as ``csv`` (lists joined with ``" | "``) or ``json``."""
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CONFUSION_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    key: _SEPARATOR.join(row[key]) if key in _LIST_FIELDS else row[key]
                    for key in CONFUSION_FIELDS
                }
            )
        return buffer.getvalue()
    if format == "json":
        summary: dict[str, dict[str, int]] = {}
        for row in rows:
            counts = summary.setdefault(
                str(row["model"]), {"confused_a": 0, "confused_v": 0, "confused_a_and_v": 0}
            )
            for key in counts:
                counts[key] += int(bool(row[key]))
        payload = {
            "metadata": dict(metadata or {}),
            "summary": summary,
            "clips": [dict(row) for row in rows],
        }
        return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
    raise ValueError(f"unknown confusion report format {format!r}; use csv or json")


def write_confusion_report(
    rows: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write the report atomically; the format defaults to the extension (``.csv``/``.json``)."""
    if format is None:
        suffix = Path(path).suffix.lower().lstrip(".")
        if suffix not in CONFUSION_FORMATS:
            raise ValueError(
                f"{path}: cannot tell the report format from the extension; use .csv or .json"
            )
        format = suffix
    return write_atomic(path, render_confusion_report(rows, format, metadata=metadata))
