"""Whether a clip set, a column or a model's predictions can give numbers at all.

:func:`check_clip_set` refuses a clip set without clips and warns about columns without
clips; :func:`check_overlap` says when no prediction is for a clip of the clip set. Both
stop a silent table of zeros or undefined numbers.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from itertools import chain
from typing import Any

import numpy as np

from vggsounder_hf.core.clip_sets import ClipSet, describe_clip_set
from vggsounder_hf.core.errors import (
    EmptyClipSetError,
    EmptyColumnWarning,
    NoMatchingClipsError,
    NoMatchingClipsWarning,
)
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.schema import COLUMNS, DEFAULT_CLIP_SET, column

__all__ = ["check_clip_set", "check_overlap"]


def check_clip_set(
    truth: GroundTruth,
    clips: ClipSet | np.ndarray = DEFAULT_CLIP_SET,
    columns: Iterable[str] = COLUMNS,
    *,
    source: str = "the ground truth",
) -> tuple[str, ...]:
    """Refuse a clip set without clips; warn about columns without clips.

    Every rate of an empty clip set is undefined, so scoring it is an error. A column with
    no clip in the set (``v only`` on a small set, say) is possible; its metrics are
    undefined, and one :class:`~vggsounder_hf.core.errors.EmptyColumnWarning` names it.

    Args:
        truth: The ground truth.
        clips: A clip set (name or mapping) or a boolean mask over ``truth``.
        columns: The columns to be scored (any spelling).
        source: How messages name ``truth`` (``"references"``, a file name).

    Returns:
        The names of the columns without clips.

    Raises:
        EmptyClipSetError: No clip of ``truth`` is in the clip set.

    Example:
        >>> truth = GroundTruth.from_rows([{"video_id": "x_000001", "labels": [0],
        ...     "modalities": ["AV"], "background_music": True, "static_image": False,
        ...     "voice_over": False}], ("dog",))
        >>> check_clip_set(truth, "default")
        Traceback (most recent call last):
        vggsounder_hf.core.errors.EmptyClipSetError: clip set 'default' holds none of the 1 clips of the ground truth: every metric would be undefined
    """  # noqa: E501
    mask = clips if isinstance(clips, np.ndarray) else truth.mask(clips)
    name = "the given clips" if isinstance(clips, np.ndarray) else describe_clip_set(clips)
    if not mask.any():
        raise EmptyClipSetError(
            f"clip set {name!r} holds none of the {len(truth)} clips of {source}: every "
            "metric would be undefined"
        )
    chosen = dict.fromkeys(column(item).name for item in columns)
    empty = tuple(item for item in chosen if not truth.clips_with_labels(item)[mask].any())
    if empty:
        warnings.warn(
            f"column(s) {', '.join(map(repr, empty))} have no clip in clip set {name!r} of "
            f"{source}: their metrics are undefined",
            EmptyColumnWarning,
            stacklevel=2,
        )
    return empty


def check_overlap(
    truth: GroundTruth,
    predictions: Any,
    clips: ClipSet | np.ndarray = DEFAULT_CLIP_SET,
    *,
    strict: bool = False,
) -> int:
    """The number of clips of the clip set that have a prediction (of any input); when
    there is none, say so: every number would be a zero or undefined.

    Args:
        truth: The ground truth.
        predictions: A :class:`~vggsounder_hf.core.predictions.ModelPredictions`, or an
            aligned model of ``truth`` (which holds one as ``.predictions``; counted from its
            alignment).
        clips: A clip set (name or mapping) or a boolean mask over ``truth``.
        strict: Raise :class:`~vggsounder_hf.core.errors.NoMatchingClipsError` instead of
            warning with :class:`~vggsounder_hf.core.errors.NoMatchingClipsWarning`.

    Example:
        >>> from vggsounder_hf.core.predictions import ModelPredictions
        >>> truth = GroundTruth.from_rows([{"video_id": "x_000001", "labels": [0],
        ...     "modalities": ["AV"], "background_music": False, "static_image": False,
        ...     "voice_over": False}], ("dog",))
        >>> predictions = ModelPredictions.from_label_sets({"av": {" x_000001": ["dog"]}},
        ...                                                ("dog",), source="m.json")
        >>> check_overlap(truth, predictions, strict=True)
        Traceback (most recent call last):
        vggsounder_hf.core.errors.NoMatchingClipsError: m.json: no prediction is for a clip of clip set 'default' (1 clips): none of the 1 predicted clip ids is in the ground truth, e.g. ' x_000001' (1 match once surrounding spaces are removed)
    """  # noqa: E501
    model = getattr(predictions, "predictions", predictions)
    mask = clips if isinstance(clips, np.ndarray) else truth.mask(clips)
    if model is not predictions and getattr(predictions, "truth", None) is truth:
        # An aligned model knows which clips of ``truth`` have a prediction.
        has_prediction = np.zeros(len(truth), dtype=bool)
        for given in predictions.inputs.values():
            has_prediction |= given.has_prediction
        matched = int(np.count_nonzero(mask & has_prediction))
        if matched:
            return matched
    ids = list(
        dict.fromkeys(chain.from_iterable(p.video_ids.tolist() for p in model.inputs.values()))
    )
    rows = truth.row_of(ids)
    matched = int(mask[rows[rows >= 0]].sum())
    if matched:
        return matched
    found = rows >= 0
    if not ids:
        why = "the predictions name no clip"
    elif found.any():
        why = f"{int(found.sum())} of the {len(ids)} predicted clips are in the ground truth"
    else:
        stripped = int((truth.row_of([str(i).strip() for i in ids]) >= 0).sum())
        hint = f" ({stripped} match once surrounding spaces are removed)" if stripped else ""
        why = f"none of the {len(ids)} predicted clip ids is in the ground truth, e.g. "
        why += f"{ids[0]!r}{hint}"
    name = "the given clips" if isinstance(clips, np.ndarray) else describe_clip_set(clips)
    message = (
        f"{model.source}: no prediction is for a clip of clip set {name!r} "
        f"({int(mask.sum())} clips): {why}"
    )
    if strict:
        raise NoMatchingClipsError(message)
    warnings.warn(f"{message}; every number is zero or undefined", NoMatchingClipsWarning, 2)
    return 0
