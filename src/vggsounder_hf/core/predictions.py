"""One model's predictions, normalised into dense arrays per input modality.

A model is queried with up to three inputs: ``a`` (audio only), ``v`` (video only) and
``av`` (both). For each input it gives either a **label set** per clip (class names or
class indices) or **scores** per clip (one float per class). :class:`ModelPredictions`
holds them as a boolean or float matrix per input, with the clip ids of its rows.

The authors publish predictions as ``{video_id: {"predictions": {"a": [...], ...},
"logits": {"a": [309 floats], ...}}}``; :meth:`ModelPredictions.from_mapping` reads that
structure with the reference's rules, and these differences, each reported:

* a trailing ``.mp4`` is stripped from clip ids (the reference does the same); two entries
  that name the same clip are an error (the reference would count the clip twice);
* unknown class names are dropped, counted in :attr:`InputPredictions.unknown_labels` and
  reported with one warning (the reference drops them with a warning too);
* a label-set value of ``None`` is an empty prediction (as in the reference); a tuple or
  numpy array is read as a label set (the reference silently reads it as empty); any other
  type (a bare string, a number) is an error;
* scores must have one finite value per class: a wrong length, NaN or infinity is an error
  naming the clip (the reference crashes or silently skips classes).

Example:
    >>> predictions = ModelPredictions.from_mapping(
    ...     {"x_000001": {"predictions": {"a": ["dog"], "v": [], "av": ["dog", "cat"]}}},
    ...     class_names=("dog", "cat"))
    >>> predictions.kind, predictions.input_modalities
    ('labels', ('a', 'v', 'av'))
    >>> predictions["av"].matrix.astype(int).tolist()
    [[1, 1]]
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

import numpy as np

from vggsounder_hf.core._gc import paused_garbage_collection
from vggsounder_hf.core.schema import INPUT_MODALITIES, PredictionKind

__all__ = [
    "INPUT_MODALITIES",
    "InputPredictions",
    "ModelPredictions",
    "PredictionError",
    "PredictionKind",
    "UnknownLabelWarning",
]


class PredictionError(ValueError):
    """Predictions that cannot be scored; the message names the source and the problem."""


@dataclass(frozen=True, eq=False)
class InputPredictions:
    """Predictions of one input modality.

    Attributes:
        video_ids: Clip id of each row (unique).
        matrix: ``bool`` ``(n, n_classes)`` label sets, or ``float64`` scores.
        unknown_labels: Count of each unknown class name that was dropped.
    """

    video_ids: np.ndarray
    matrix: np.ndarray
    unknown_labels: Counter = field(default_factory=Counter)


@dataclass(frozen=True, eq=False)
class ModelPredictions:
    """The predictions of one model: :class:`InputPredictions` per input modality."""

    kind: PredictionKind
    inputs: Mapping[str, InputPredictions]
    class_names: tuple[str, ...]
    source: str = "<predictions>"

    def __getitem__(self, input_modality: str) -> InputPredictions:
        return self.inputs[input_modality]

    @property
    def input_modalities(self) -> tuple[str, ...]:
        return tuple(modality for modality in INPUT_MODALITIES if modality in self.inputs)

    @property
    def unknown_labels(self) -> Counter:
        """Unknown class names over all inputs, with their counts."""
        total: Counter = Counter()
        for input_predictions in self.inputs.values():
            total.update(input_predictions.unknown_labels)
        return total

    @classmethod
    def from_label_sets(
        cls,
        label_sets: Mapping[str, Mapping[str, Any]],
        class_names: Sequence[str],
        source: str = "<predictions>",
    ) -> ModelPredictions:
        """Build from ``{input_modality: {video_id: labels}}`` (names or indices).

        Example:
            >>> p = ModelPredictions.from_label_sets({"a": {"x_000001": [1]}}, ("dog", "cat"))
            >>> p["a"].matrix.astype(int).tolist()
            [[0, 1]]
        """
        class_names = tuple(class_names)
        inputs = {}
        shared_ids: tuple[list[str], np.ndarray] | None = None
        for modality, per_clip in _checked_modalities(label_sets, source).items():
            given_ids = list(per_clip.keys())
            if shared_ids is not None and shared_ids[0] == given_ids:
                video_ids = shared_ids[1]  # one array for all inputs lets them align once
            else:
                video_ids = np.asarray(
                    _clip_ids(given_ids, source, f" in input {modality!r}"), object
                )
                shared_ids = (given_ids, video_ids)
            inputs[modality] = _label_matrix(
                video_ids, list(per_clip.values()), class_names, source, modality
            )
        _warn_unknown(inputs, source)
        return cls("labels", inputs, class_names, source)

    @classmethod
    def from_scores(
        cls,
        scores: Mapping[str, tuple[Sequence[str], Any] | Mapping[str, Any]],
        class_names: Sequence[str],
        source: str = "<predictions>",
    ) -> ModelPredictions:
        """Build from ``{input_modality: (video_ids, score_matrix)}`` or
        ``{input_modality: {video_id: scores}}``.

        Example:
            >>> scores = {"v": (["x_000001"], [[0.2, 0.8]])}
            >>> p = ModelPredictions.from_scores(scores, ("dog", "cat"))
            >>> p.kind, p["v"].matrix.tolist()
            ('scores', [[0.2, 0.8]])
        """
        class_names = tuple(class_names)
        inputs = {}
        for modality, given in _checked_modalities(scores, source).items():
            if isinstance(given, Mapping):
                video_ids, rows = list(given.keys()), list(given.values())
            else:
                video_ids, rows = given
            inputs[modality] = _score_matrix(
                np.asarray(_clip_ids(list(video_ids), source, f" in input {modality!r}"), object),
                rows,
                len(class_names),
                source,
                modality,
            )
        return cls("scores", inputs, class_names, source)

    @classmethod
    def from_mapping(
        cls,
        mapping: Mapping[str, Any],
        class_names: Sequence[str],
        source: str = "<predictions>",
        kind: PredictionKind | None = None,
    ) -> ModelPredictions:
        """Read the authors' structure ``{video_id: {"predictions": ..., "logits": ...}}``.

        Args:
            mapping: The unpickled (or JSON-decoded) object.
            class_names: Class names in ``classes.csv`` order.
            source: Name of the file, for messages.
            kind: ``"labels"`` or ``"scores"``; by default scores when every entry carries
                ``logits`` (the reference's rule), label sets otherwise.

        Raises:
            PredictionError: The structure is not the authors' format, or values are invalid.
        """
        if not isinstance(mapping, Mapping):
            raise PredictionError(
                f"{source}: expected a mapping of video ids to predictions, got "
                f"{type(mapping).__name__}"
            )
        if not mapping:
            raise PredictionError(f"{source}: contains no predictions")
        video_ids = list(mapping.keys())
        entries = list(mapping.values())
        video_ids = _clip_ids(video_ids, source)
        _check_types(
            entries,
            Mapping,
            source,
            "entry of clip {!r} must be a mapping with 'predictions' and/or 'logits'",
            video_ids,
        )
        has_scores = all(entry.get("logits") is not None for entry in entries)
        if kind is None:
            kind = "scores" if has_scores else "labels"
        if kind == "scores" and not has_scores:
            raise PredictionError(f"{source}: not every entry has 'logits'")
        sections = [entry.get("logits" if kind == "scores" else "predictions") for entry in entries]
        present = [
            (video_id, section)
            for video_id, section in zip(video_ids, sections, strict=True)
            if section is not None
        ]
        if not present:
            raise PredictionError(
                f"{source}: no entry has 'predictions' (or 'logits' for every entry)"
            )
        _check_types(
            [section for _, section in present],
            Mapping,
            source,
            "predictions of clip {!r} must map input modalities to values",
            [video_id for video_id, _ in present],
        )
        with paused_garbage_collection():
            per_modality = _split_by_modality(present)
            if kind == "scores":
                return cls.from_scores(per_modality, class_names, source)
            return cls.from_label_sets(per_modality, class_names, source)


def _split_by_modality(present: list[tuple[str, Mapping[str, Any]]]) -> dict[str, dict[str, Any]]:
    """``[(video_id, {modality: value})]`` -> ``{modality: {video_id: value}}``."""
    video_ids = [video_id for video_id, _ in present]
    sections = [section for _, section in present]
    first_keys = tuple(sections[0].keys())
    if first_keys and set(map(len, sections)) == {len(first_keys)}:
        # Fast path for the usual file, where every clip has the same inputs: the same
        # number of keys, and all of the first clip's keys found, means the same key set.
        try:
            return {
                modality: dict(zip(video_ids, map(itemgetter(modality), sections), strict=True))
                for modality in first_keys
            }
        except KeyError:
            pass
    modalities = set().union(*(section.keys() for section in sections))
    return {
        modality: {
            video_id: section[modality] for video_id, section in present if modality in section
        }
        for modality in sorted(modalities, key=str)
    }


def _check_types(
    values: list[Any], expected: type, source: str, message: str, names: list[Any] | None = None
) -> None:
    """Raise naming the first value that is not an instance of ``expected``."""
    if all(issubclass(value_type, expected) for value_type in set(map(type, values))):
        return
    names = values if names is None else names
    for name, value in zip(names, values, strict=True):
        if not isinstance(value, expected):
            raise PredictionError(
                f"{source}: " + message.format(name) + f", got {type(value).__name__}"
            )


def _clip_ids(video_ids: Sequence[Any], source: str, where: str = "") -> list[str]:
    """Clip ids without a trailing ``.mp4`` (as the reference strips it), each once.

    Raises:
        PredictionError: An id is not a string, or two entries name the same clip.
    """
    _check_types(video_ids, str, source, "video id {!r} is not a string")
    ids = video_ids
    if ".mp4" in "\n".join(video_ids):
        ids = [video_id.removesuffix(".mp4") for video_id in video_ids]
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        repeated = next(video_id for video_id in ids if video_id in seen or seen.add(video_id))
        raise PredictionError(f"{source}: clip {repeated!r} appears more than once{where}")
    return list(ids)


def _checked_modalities(given: Mapping[str, Any], source: str) -> dict[str, Any]:
    if not isinstance(given, Mapping):
        raise PredictionError(f"{source}: expected a mapping of input modalities")
    unknown = [modality for modality in given if modality not in INPUT_MODALITIES]
    if unknown:
        raise PredictionError(
            f"{source}: unknown input modalit{'y' if len(unknown) == 1 else 'ies'} "
            f"{', '.join(map(repr, unknown))}; use {INPUT_MODALITIES}"
        )
    if not given:
        raise PredictionError(f"{source}: no input modality has predictions")
    return {modality: given[modality] for modality in INPUT_MODALITIES if modality in given}


def _label_matrix(
    video_ids: np.ndarray,
    label_sets: list[Any],
    class_names: tuple[str, ...],
    source: str,
    modality: str,
) -> InputPredictions:
    # Names and indices share one lookup table, so the common case is one dict lookup per
    # label; anything the table does not know is examined on the slow path below.
    lookup: dict[Any, int] = {name: index for index, name in enumerate(class_names)}
    lookup.update({index: index for index in range(len(class_names))})
    if set(map(type, label_sets)) - {list}:
        label_sets = [
            labels if type(labels) is list else _as_label_list(labels, video_id, source, modality)
            for video_id, labels in zip(video_ids, label_sets, strict=True)
        ]
    lengths = np.fromiter(map(len, label_sets), np.int64, len(label_sets))
    flat = list(chain.from_iterable(label_sets))
    columns = np.fromiter(map(lookup.get, flat, repeat(-1)), np.int64, len(flat))
    rows = np.repeat(np.arange(len(label_sets)), lengths)
    unknown: Counter = Counter()
    for position in np.flatnonzero(columns < 0):
        label = flat[position]
        if not isinstance(label, str):
            raise PredictionError(
                f"{source}: clip {video_ids[rows[position]]!r}, input {modality!r}: label "
                f"{label!r} is neither a class name nor a class index 0..{len(class_names) - 1}"
            )
        unknown[label] += 1
    known = columns >= 0
    matrix = np.zeros((len(label_sets), len(class_names)), dtype=bool)
    matrix[rows[known], columns[known]] = True
    return InputPredictions(video_ids, matrix, unknown)


def _as_label_list(labels: Any, video_id: str, source: str, modality: str) -> list[Any]:
    if labels is None:
        return []
    if isinstance(labels, np.ndarray):
        return labels.tolist()
    if isinstance(labels, tuple):
        return list(labels)
    raise PredictionError(
        f"{source}: prediction of clip {video_id!r} for input {modality!r} must be a list of "
        f"class names or indices, got {type(labels).__name__}"
    )


def _score_matrix(
    video_ids: np.ndarray, rows: Any, num_classes: int, source: str, modality: str
) -> InputPredictions:
    if isinstance(rows, np.ndarray) and rows.ndim == 2:
        matrix = rows.astype(np.float64, copy=False)
    else:
        rows = list(rows)
        for row, scores in enumerate(rows):
            if scores is None:
                raise PredictionError(
                    f"{source}: clip {video_ids[row]!r} has no scores for input {modality!r}"
                )
            if len(scores) != num_classes:
                raise PredictionError(
                    f"{source}: clip {video_ids[row]!r}, input {modality!r}: expected "
                    f"{num_classes} scores, got {len(scores)}"
                )
        try:
            matrix = (
                np.array(rows, dtype=np.float64)
                if rows
                else np.zeros((0, num_classes), dtype=np.float64)
            )
        except (TypeError, ValueError) as error:
            raise PredictionError(
                f"{source}: scores for input {modality!r} are not numbers ({error})"
            ) from None
    if matrix.shape != (len(video_ids), num_classes):
        raise PredictionError(
            f"{source}: scores for input {modality!r} have shape {matrix.shape}, expected "
            f"({len(video_ids)}, {num_classes})"
        )
    finite = np.isfinite(matrix).all(axis=1)
    if not finite.all():
        raise PredictionError(
            f"{source}: clip {video_ids[np.argmin(finite)]!r}, input {modality!r}: scores "
            "contain NaN or infinity"
        )
    return InputPredictions(video_ids, matrix)


def _warn_unknown(inputs: Mapping[str, InputPredictions], source: str) -> None:
    unknown: Counter = Counter()
    for input_predictions in inputs.values():
        unknown.update(input_predictions.unknown_labels)
    if unknown:
        shown = ", ".join(f"{name!r} ({count}x)" for name, count in unknown.most_common(5))
        warnings.warn(
            f"{source}: {sum(unknown.values())} predicted label(s) are not VGGSounder classes "
            f"and were ignored, as the reference does: {shown}",
            UnknownLabelWarning,
            stacklevel=3,
        )


class UnknownLabelWarning(UserWarning):
    """Predicted class names that are not among the 309 classes were ignored."""
