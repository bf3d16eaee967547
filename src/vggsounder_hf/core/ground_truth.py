"""The ground truth of a VGGSounder clip set as dense arrays, ready for the metric core.

:class:`GroundTruth` holds, for every clip (sorted by ``video_id``), the modality of each of
its labels in one ``int8`` matrix: ``-1`` where the clip does not have the class, else the
index of ``A``, ``V`` or ``AV``. Every label subset of the paper is a view of that matrix:

==========  ====================  ===========================================
column      label modalities      meaning
==========  ====================  ===========================================
``a``       A, AV                 audible labels
``v``       V, AV                 visible labels
``av``      AV                    audible and visible labels
``a only``  A                     audible but not visible (A¬V)
``v only``  V                     visible but not audible (V¬A)
``all``     A, V, AV              every label (used for modality confusion)
==========  ====================  ===========================================

Whether a clip set, a column or a model's predictions would give only undefined numbers or
zeros is checked in :mod:`vggsounder_hf.core.coverage`.

Example:
    >>> truth = GroundTruth.from_rows(
    ...     [{"video_id": "x_000001", "labels": [0, 2], "modalities": ["A", "AV"],
    ...       "background_music": False, "static_image": False, "voice_over": True}],
    ...     class_names=("dog", "cat", "bird"))
    >>> truth.labels("a").astype(int).tolist(), truth.labels("av").astype(int).tolist()
    ([[1, 0, 1]], [[0, 0, 1]])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from itertools import chain, repeat
from typing import Any

import numpy as np

from vggsounder_hf.core.clip_sets import ClipSet, clip_set_mask
from vggsounder_hf.core.errors import (
    GroundTruthError,
    OptionError,
    bad_flag_message,
    duplicate_clip_message,
)
from vggsounder_hf.core.schema import (
    AV,
    COLUMN_SPECS,
    COLUMNS,
    META_LABELS,
    MODALITY_NAMES,
    A,
    V,
)

__all__ = [
    "COLUMNS",
    "LABEL_MODALITIES",
    "MODALITY_NAMES",
    "GroundTruth",
]

LABEL_MODALITIES: dict[str, tuple[int, ...]] = {
    **{spec.name: spec.label_codes for spec in COLUMN_SPECS},
    "all": (A, V, AV),
}
"""Label subset -> the label modality codes it holds (the columns', plus ``all``)."""


def _subset_codes(column: str) -> tuple[int, ...]:
    """The modality codes of one subset (:data:`LABEL_MODALITIES`), or an error naming it."""
    if column not in LABEL_MODALITIES:
        raise OptionError(f"unknown column {column!r}; use one of {tuple(LABEL_MODALITIES)}")
    return LABEL_MODALITIES[column]


def _subset_mask(codes: np.ndarray, column: str) -> np.ndarray:
    """Where ``codes`` hold a label of one subset."""
    # One comparison per code, not np.isin (which sorts): 1-5 ms instead of 6-9 for the
    # (15k, 309) matrix of the release.
    mask = np.zeros(codes.shape, dtype=bool)
    for code in _subset_codes(column):
        mask |= codes == code
    return mask


@dataclass(frozen=True, eq=False)
class GroundTruth:
    """Labels, label modalities and meta flags of a set of clips.

    Attributes:
        video_ids: Clip ids, sorted, unique (``numpy`` array of ``str``).
        modality_codes: ``int8`` array ``(n_clips, n_classes)``; ``-1`` = label absent,
            ``0``/``1``/``2`` = the label is ``A``/``V``/``AV``.
        meta: Per meta label, a boolean array of length ``n_clips``.
        class_names: The class names, in ``classes.csv`` order.
        has_media: Per clip, whether its media were found (for the ``with_media`` clip
            set); ``None`` when unknown (see :meth:`with_media_flags`).
    """

    video_ids: np.ndarray
    modality_codes: np.ndarray
    meta: Mapping[str, np.ndarray]
    class_names: tuple[str, ...]
    has_media: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.video_ids)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def labels(self, column: str = "all") -> np.ndarray:
        """Boolean ``(n_clips, n_classes)`` matrix of the labels in one column's subset.

        Computed once per subset and kept (read-only): label-set scoring, the bootstrap and
        the Trainer hook ask for it many times. Scoring a score model uses :meth:`labels_of`
        instead, which keeps nothing."""
        cache = self.__dict__.setdefault("_labels_by_subset", {})
        if column not in cache:
            mask = _subset_mask(self.modality_codes, column)
            mask.flags.writeable = False
            cache[column] = mask
        return cache[column]

    def labels_of(self, column: str, rows: np.ndarray) -> np.ndarray:
        """``labels(column)[rows]``, from the codes of those rows only unless :meth:`labels`
        already holds the whole matrix: a score run then keeps no ``(n_clips, n_classes)``
        matrix per subset (4.6 MB each for the release), only the rows it scores."""
        cached = self.__dict__.get("_labels_by_subset", {}).get(column)
        if cached is not None:
            return cached[rows]
        return _subset_mask(self.modality_codes[rows], column)

    def clips_with_labels(self, column: str = "all") -> np.ndarray:
        """Per clip, whether it has a label of one column's subset (kept, read-only)."""
        cache = self.__dict__.setdefault("_clips_by_subset", {})
        if column not in cache:
            flags = np.zeros(len(self), dtype=bool)
            for code in _subset_codes(column):
                flags |= self._clips_with_code[code]
            flags.flags.writeable = False
            cache[column] = flags
        return cache[column]

    @cached_property
    def _clips_with_code(self) -> dict[int, np.ndarray]:
        # One pass per modality code, shared by every subset (instead of one per subset).
        return {code: (self.modality_codes == code).any(axis=1) for code in (A, V, AV)}

    def mask(self, clip_set: ClipSet) -> np.ndarray:
        """Boolean mask of the clips that pass a clip-set filter
        (see :mod:`vggsounder_hf.core.clip_sets`)."""
        return clip_set_mask(clip_set, self.meta, len(self), self.has_media)

    def with_media_flags(self, video_ids: Iterable[str]) -> GroundTruth:
        """This ground truth with :attr:`has_media` set: ``True`` for the clips named in
        ``video_ids`` (those whose media were found), ``False`` for the others."""
        flags = np.isin(self.video_ids, np.asarray(list(video_ids), dtype=str))
        return replace(self, has_media=flags)

    def select(self, clip_set: ClipSet) -> GroundTruth:
        """The clips that pass a clip-set filter."""
        return self.take(self.mask(clip_set))

    def take(self, rows: np.ndarray) -> GroundTruth:
        """A ground truth restricted to ``rows`` (a boolean mask or sorted indices)."""
        return GroundTruth(
            video_ids=self.video_ids[rows],
            modality_codes=self.modality_codes[rows],
            meta={name: flags[rows] for name, flags in self.meta.items()},
            class_names=self.class_names,
            has_media=None if self.has_media is None else self.has_media[rows],
        )

    def row_of(self, video_ids: Sequence[str] | np.ndarray) -> np.ndarray:
        """Row index of each given id, ``-1`` for ids not in this ground truth."""
        rows = map(self._row_by_id.get, video_ids, repeat(-1))
        return np.fromiter(rows, np.int64, len(video_ids))

    @cached_property
    def _row_by_id(self) -> dict[str, int]:
        return {video_id: row for row, video_id in enumerate(self.video_ids.tolist())}

    @classmethod
    def from_clips(cls, clips: Iterable[Any], class_names: Sequence[str]) -> GroundTruth:
        """Build from objects with the attributes of :class:`vggsounder_hf.io.annotations.Clip`
        (``video_id``, ``labels``/``modalities`` as indices and the three meta flags), or from
        a columnar :class:`vggsounder_hf.io.annotations.ClipTable`."""
        if hasattr(clips, "clip_of_row"):  # a ClipTable: one row per (clip, label)
            return cls._from_triples(
                clips.video_ids,
                clips.clip_of_row,
                clips.label_of_row,
                clips.modality_of_row,
                clips.meta,
                tuple(class_names),
            )
        clips = list(clips)
        lengths = np.fromiter((len(clip.labels) for clip in clips), np.int64, len(clips))
        return cls._from_triples(
            [clip.video_id for clip in clips],
            np.repeat(np.arange(len(clips)), lengths),
            np.fromiter(chain.from_iterable(clip.labels for clip in clips), np.int64),
            np.fromiter(chain.from_iterable(clip.modalities for clip in clips), np.int8),
            {name: [getattr(clip, name) for clip in clips] for name in META_LABELS},
            tuple(class_names),
        )

    @classmethod
    def from_release(cls, release: Any) -> GroundTruth:
        """Build from a :class:`vggsounder_hf.io.sources.Release` (all of its clips)."""
        return cls.from_clips(release.clips, release.class_names)

    @classmethod
    def from_rows(
        cls, rows: Iterable[Mapping[str, Any]], class_names: Sequence[str]
    ) -> GroundTruth:
        """Build from dataset rows.

        Each row needs ``video_id``, ``labels`` (class indices or names), ``modalities``
        (indices into ``("A", "V", "AV")`` or those strings, aligned with ``labels``) and
        the meta flags ``background_music``, ``static_image``, ``voice_over``. These are
        exactly the rows of the ``vggsounder`` dataset.

        Raises:
            GroundTruthError: A row misses a field, repeats a clip or a label, names an
                unknown class or modality, has labels and modalities of different lengths,
                or a meta flag that is not a boolean (``"False"`` is not false).
        """
        class_names = tuple(class_names)
        class_index = {name: index for index, name in enumerate(class_names)}
        video_ids: list[str] = []
        clip_rows: list[int] = []
        label_columns: list[int] = []
        codes: list[int] = []
        meta: dict[str, list[bool]] = {name: [] for name in META_LABELS}
        for row_number, row in enumerate(rows):
            try:
                video_id = row["video_id"]
                labels = row["labels"]
                modalities = row["modalities"]
                flags = [row[name] for name in META_LABELS]
            except (KeyError, TypeError) as missing:
                raise GroundTruthError(
                    f"reference row {row_number} has no field {missing}"
                    if isinstance(missing, KeyError)
                    else f"reference row {row_number} is a {type(row).__name__}, not a mapping"
                ) from None
            if not isinstance(video_id, str):
                raise GroundTruthError(
                    f"reference row {row_number}: 'video_id' must be a string, got {video_id!r}"
                )
            where = f"reference row {row_number} ({video_id})"
            labels, modalities = (
                _items(labels, "labels", where),
                _items(modalities, "modalities", where),
            )
            if len(labels) != len(modalities):
                raise GroundTruthError(
                    f"{where}: {len(labels)} labels but {len(modalities)} modalities"
                )
            for label, modality in zip(labels, modalities, strict=True):
                clip_rows.append(len(video_ids))
                label_columns.append(_class_of(label, class_index, class_names, video_id))
                codes.append(_modality_of(modality, video_id))
            for name, flag in zip(META_LABELS, flags, strict=True):
                if not isinstance(flag, bool | np.bool_):
                    raise GroundTruthError(bad_flag_message(where, name, flag))
                meta[name].append(bool(flag))
            video_ids.append(video_id)
        return cls._from_triples(video_ids, clip_rows, label_columns, codes, meta, class_names)

    @classmethod
    def _from_triples(
        cls,
        video_ids: list[str],
        clip_rows: Sequence[int] | np.ndarray,
        label_columns: Sequence[int] | np.ndarray,
        codes: Sequence[int] | np.ndarray,
        meta: Mapping[str, Sequence[bool] | np.ndarray],
        class_names: tuple[str, ...],
    ) -> GroundTruth:
        ids = np.asarray(video_ids, dtype=str)
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        if len(sorted_ids) > 1:
            repeated = sorted_ids[1:] == sorted_ids[:-1]
            if repeated.any():
                raise GroundTruthError(
                    duplicate_clip_message("references", str(sorted_ids[1:][repeated][0]))
                )
        matrix = np.full((len(ids), len(class_names)), -1, dtype=np.int8)
        rows = np.asarray(clip_rows, dtype=np.int64)
        columns = np.asarray(label_columns, dtype=np.int64)
        if rows.size:
            pair_keys = rows * len(class_names) + columns
            unique_keys, counts = np.unique(pair_keys, return_counts=True)
            if (counts > 1).any():
                key = unique_keys[counts > 1][0]
                raise GroundTruthError(
                    f"clip {video_ids[key // len(class_names)]!r} lists label "
                    f"{class_names[key % len(class_names)]!r} more than once"
                )
            matrix[rows, columns] = np.asarray(codes, dtype=np.int8)
        return cls(
            video_ids=sorted_ids,
            modality_codes=matrix[order],
            meta={name: np.asarray(flags, dtype=bool)[order] for name, flags in meta.items()},
            class_names=class_names,
        )


def _items(value: Any, name: str, where: str) -> list[Any]:
    """A row's ``labels`` or ``modalities``: a list, tuple or 1-D array (not a string)."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return value.tolist()
    if not isinstance(value, list | tuple):
        raise GroundTruthError(f"{where}: {name!r} must be a list, got {type(value).__name__}")
    return list(value)


def _class_of(
    label: Any, class_index: Mapping[str, int], class_names: Sequence[str], video_id: str
) -> int:
    if isinstance(label, str):
        if label not in class_index:
            raise GroundTruthError(f"reference clip {video_id!r}: unknown class name {label!r}")
        return class_index[label]
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        if not 0 <= label < len(class_names):
            raise GroundTruthError(
                f"reference clip {video_id!r}: class index {label} outside "
                f"0..{len(class_names) - 1}"
            )
        return int(label)
    raise GroundTruthError(
        f"reference clip {video_id!r}: label {label!r} is neither a name nor an index"
    )


def _modality_of(modality: Any, video_id: str) -> int:
    if isinstance(modality, str):
        if modality not in MODALITY_NAMES:
            raise GroundTruthError(
                f"reference clip {video_id!r}: unknown modality {modality!r}; use {MODALITY_NAMES}"
            )
        return MODALITY_NAMES.index(modality)
    code = isinstance(modality, int | np.integer) and not isinstance(modality, bool | np.bool_)
    if code and 0 <= modality < len(MODALITY_NAMES):
        return int(modality)
    raise GroundTruthError(f"reference clip {video_id!r}: unknown modality {modality!r}")
