"""One model's predictions, normalised into dense arrays per input modality.

A model is queried with up to three inputs: ``a`` (audio only), ``v`` (video only) and
``av`` (both). For each input it gives either a **label set** per clip (class names or
class indices) or **scores** per clip (one float per class). :class:`ModelPredictions`
holds them as a boolean or float matrix per input, with the clip ids of its rows.

The authors publish predictions as ``{video_id: {"predictions": {"a": [...], ...},
"logits": {"a": [309 floats], ...}}}``; :meth:`ModelPredictions.from_mapping` reads that
structure with the reference's rules, and these differences, each reported:

* a trailing ``.mp4`` is stripped from clip ids (as in the reference); a clip named twice
  is an error (the reference would count it twice);
* unknown class names are dropped, counted (:attr:`InputPredictions.unknown_labels`) and
  reported with one warning (the reference drops them with a warning too);
* ``None`` is an empty label set (as in the reference); a tuple, set or 1-D array is a label
  set (the reference reads it as empty); another type (a string, a number) is an error;
* a label is a class name or an integer index: booleans (``True == 1``), floats and
  unhashable values are refused;
* scores are one finite real number per class: a wrong length, NaN, infinity, a string, a
  boolean, a complex number or an integer beyond the float range is an error naming the
  clip (the reference crashes or silently skips classes);
* every mapping (the released files' ``defaultdict`` too) is read as a plain dict, and the
  clips' inputs are compared as key sets: a look-up never invents an empty input, and an
  unknown key such as ``"AV"`` is always found.

Every problem is a :class:`~vggsounder_hf.core.errors.PredictionError` naming the source.

Example:
    >>> predictions = ModelPredictions.from_mapping(
    ...     {"x_000001": {"predictions": {"a": ["dog"], "av": ["dog", "cat"]}}}, ("dog", "cat"))
    >>> predictions.kind, predictions.input_modalities, predictions["av"].matrix.tolist()
    ('labels', ('a', 'av'), [[True, True]])
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

import numpy as np

from vggsounder_hf.core._gc import paused_garbage_collection
from vggsounder_hf.core.errors import (
    PredictionError,
    UnknownLabelWarning,
    check_types,
    checked_clip_ids,
    is_label_type,
    not_a_label_message,
)
from vggsounder_hf.core.schema import INPUT_MODALITIES, PredictionKind
from vggsounder_hf.core.score_rows import describe, score_matrix

__all__ = [
    "INPUT_MODALITIES",
    "InputPredictions",
    "ModelPredictions",
    "PredictionError",
    "PredictionKind",
    "UnknownLabelWarning",
]

_ENTRY = "entry of clip {!r} must be a mapping with 'predictions' and/or 'logits'"
_SECTION = "predictions of clip {!r} must map input modalities to values"


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
        clip_ids = _SharedClipIds(source)
        for modality, per_clip in _checked_modalities(label_sets, source).items():
            if not isinstance(per_clip, Mapping):
                raise PredictionError(
                    f"{source}: input {modality!r} must map video ids to label sets, got "
                    f"{type(per_clip).__name__}"
                )
            video_ids = clip_ids.of(list(per_clip.keys()), modality)
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
        clip_ids = _SharedClipIds(source)
        for modality, given in _checked_modalities(scores, source).items():
            if isinstance(given, Mapping):
                video_ids, rows = list(given.keys()), list(given.values())
            elif isinstance(given, tuple | list) and len(given) == 2:
                video_ids, rows = given
            else:
                raise PredictionError(
                    f"{source}: input {modality!r} must be {{video_id: scores}} or a pair "
                    f"(video_ids, score matrix), got {type(given).__name__}"
                )
            ids = clip_ids.of(list(video_ids), modality)
            inputs[modality] = InputPredictions(
                ids,
                score_matrix(ids, rows, len(class_names), source, modality),
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
            mapping: The unpickled (or JSON-decoded) object; any mapping, a
                ``collections.defaultdict`` too (read as a plain dict at every level).
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
        video_ids = checked_clip_ids(list(mapping.keys()), source)
        entries = _plain_dicts(list(mapping.values()))
        check_types(entries, dict, source, _ENTRY, video_ids)
        odd = set().union(*map(set, entries)) - {"predictions", "logits"}  # a misspelt key
        if odd:  # would silently make the clip one without a prediction
            row = next(i for i, entry in enumerate(entries) if odd & set(entry))
            keys = ", ".join(sorted(map(repr, odd & set(entries[row]))))
            raise PredictionError(
                f"{source}: entry of clip {video_ids[row]!r} has unknown key(s) {keys}; use "
                "'predictions' and/or 'logits'"
            )
        has_scores = all(entry.get("logits") is not None for entry in entries)
        if kind is None:
            kind = "scores" if has_scores else "labels"
        if kind == "scores" and not has_scores:
            raise PredictionError(f"{source}: not every entry has 'logits'")
        sections = [entry.get("logits" if kind == "scores" else "predictions") for entry in entries]
        pairs = zip(video_ids, _plain_dicts(sections), strict=True)
        present = [(video_id, section) for video_id, section in pairs if section is not None]
        video_ids = [video_id for video_id, _ in present]
        if not present:
            raise PredictionError(
                f"{source}: no entry has 'predictions' (or 'logits' for every entry)"
            )
        check_types([section for _, section in present], dict, source, _SECTION, video_ids)
        with paused_garbage_collection():
            per_modality = _split_by_modality(present)
            if kind == "scores":
                return cls.from_scores(per_modality, class_names, source)
            return cls.from_label_sets(per_modality, class_names, source)


class _SharedClipIds:
    """Each input's checked clip ids as an object array; inputs that name the same clips in
    the same order get the same array, so that alignment matches them once."""

    def __init__(self, source: str) -> None:
        self._source = source
        self._last: tuple[list[Any], np.ndarray] | None = None

    def of(self, given_ids: list[Any], modality: str) -> np.ndarray:
        if self._last is not None and self._last[0] == given_ids:
            return self._last[1]
        where = f"input {modality!r}"
        ids = np.asarray(checked_clip_ids(given_ids, self._source, where), object)
        self._last = (given_ids, ids)
        return ids


def _plain_dicts(values: list[Any]) -> list[Any]:
    """Other mappings (``defaultdict``...) as plain dicts: a look-up never invents a value."""
    if set(map(type, values)) <= {dict, type(None)}:
        return values
    return [
        dict(value) if isinstance(value, Mapping) and type(value) is not dict else value
        for value in values
    ]


def _split_by_modality(present: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """``[(video_id, {modality: value})]`` -> ``{modality: {video_id: value}}``."""
    video_ids = [video_id for video_id, _ in present]
    sections = [section for _, section in present]
    key_sets = set(map(frozenset, sections))
    if len(key_sets) == 1:
        # The usual file: every clip has the same inputs (compared as key sets, and the
        # sections are plain dicts, so itemgetter cannot invent a missing input).
        return {
            modality: dict(zip(video_ids, map(itemgetter(modality), sections), strict=True))
            for modality in sections[0]
        }
    modalities = set().union(*key_sets)
    return {
        modality: {
            video_id: section[modality] for video_id, section in present if modality in section
        }
        for modality in sorted(modalities, key=str)
    }


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
    given = dict(given)  # a defaultdict must not invent the inputs it lacks
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
    # True == 1 and 1.0 == 1 as dict keys: anything but strings and integers must be
    # refused before the lookup (and unhashable labels would make it raise).
    odd_types = {kind for kind in set(map(type, flat)) if not is_label_type(kind)}
    if odd_types:
        position = next(i for i, label in enumerate(flat) if type(label) in odd_types)
        row = int(np.searchsorted(np.cumsum(lengths), position, side="right"))
        where = f"{source}: clip {video_ids[row]!r}, input {modality!r}"
        raise PredictionError(not_a_label_message(where, flat[position], len(class_names)))
    columns = np.fromiter(map(lookup.get, flat, repeat(-1)), np.int64, len(flat))
    rows = np.repeat(np.arange(len(label_sets)), lengths)
    unknown: Counter = Counter()
    for position in np.flatnonzero(columns < 0):
        label = flat[position]
        if not isinstance(label, str):
            where = f"{source}: clip {video_ids[rows[position]]!r}, input {modality!r}"
            raise PredictionError(not_a_label_message(where, label, len(class_names)))
        unknown[label] += 1
    known = columns >= 0
    matrix = np.zeros((len(label_sets), len(class_names)), dtype=bool)
    matrix[rows[known], columns[known]] = True
    return InputPredictions(video_ids, matrix, unknown)


def _as_label_list(labels: Any, video_id: str, source: str, modality: str) -> list[Any]:
    if labels is None:
        return []
    if isinstance(labels, np.ndarray) and labels.ndim == 1:
        return labels.tolist()
    if isinstance(labels, tuple | Set):
        return list(labels)
    raise PredictionError(
        f"{source}: prediction of clip {video_id!r} for input {modality!r} must be a list of "
        f"class names or indices, got {describe(labels)}"
    )


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
