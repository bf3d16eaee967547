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

from vggsounder_hf.core import functional
from vggsounder_hf.core.clip_sets import DEFAULT_CLIP_SET, ClipSet
from vggsounder_hf.core.evaluation import modality_confusion_per_clip
from vggsounder_hf.core.ground_truth import MODALITY_NAMES, GroundTruth
from vggsounder_hf.core.predictions import INPUT_MODALITIES, ModelPredictions
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
    predictions: ModelPredictions,
    *,
    model: str | None = None,
    clip_set: ClipSet = DEFAULT_CLIP_SET,
    tie_break: functional.TieBreak = "reference",
    include_all: bool = False,
) -> list[dict[str, Any]]:
    """Rows for the clips where the model is confused (or every μ clip with ``include_all``).

    Raises:
        ValueError: The model lacks one of the inputs ``a``, ``v``, ``av``.
    """
    per_clip = modality_confusion_per_clip(
        truth, predictions, clip_set=clip_set, tie_break=tie_break
    )
    confused = per_clip["confused_a"] | per_clip["confused_v"]
    keep = np.ones_like(confused) if include_all else confused
    video_ids = per_clip["video_id"][keep]
    selected = truth.select(clip_set)
    codes = selected.modality_codes[selected.row_of(video_ids)]
    names = np.asarray(truth.class_names, dtype=object)
    predicted = {
        modality: _predicted_names(predictions, modality, video_ids, tie_break)
        for modality in INPUT_MODALITIES
    }
    name = model if model is not None else predictions.source
    rows = []
    flags = {key: per_clip[key][keep].tolist() for key in CONFUSION_FIELDS[2:8]}
    for position, video_id in enumerate(video_ids.tolist()):
        labels = np.flatnonzero(codes[position] >= 0)
        row: dict[str, Any] = {"model": name, "video_id": video_id}
        row.update({key: bool(values[position]) for key, values in flags.items()})
        row["ground_truth"] = names[labels].tolist()
        row["ground_truth_modalities"] = [MODALITY_NAMES[code] for code in codes[position][labels]]
        for modality in INPUT_MODALITIES:
            row[f"pred_{modality}"] = predicted[modality][position]
        rows.append(row)
    return rows


def _predicted_names(
    predictions: ModelPredictions, modality: str, video_ids: np.ndarray, tie_break: str
) -> list[list[str]]:
    """Predicted class names per clip (top-1 for scores); ``[]`` for clips without one."""
    given = predictions[modality]
    row_of = {video_id: row for row, video_id in enumerate(given.video_ids.tolist())}
    rows = np.fromiter((row_of.get(v, -1) for v in video_ids.tolist()), np.int64, len(video_ids))
    present = rows >= 0
    names = predictions.class_names
    result: list[list[str]] = [[] for _ in range(len(video_ids))]
    if not present.any():
        return result
    if predictions.kind == "scores":
        top = functional.top_k_ranking(given.matrix[rows[present]], 1, tie_break)[:, 0]
        for position, index in zip(np.flatnonzero(present).tolist(), top.tolist(), strict=True):
            result[position] = [names[index]]
        return result
    matrix = given.matrix[rows[present]]
    for position, labels in zip(np.flatnonzero(present).tolist(), matrix, strict=True):
        result[position] = [names[index] for index in np.flatnonzero(labels)]
    return result


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
