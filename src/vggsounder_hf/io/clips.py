"""The parsed annotations of a label release: one :class:`Clip` per clip, or their columns.

:mod:`vggsounder_hf.io.annotations` reads the files into these (and re-exports both names).

Example:
    >>> from vggsounder_hf.core.schema import MODALITY_NAMES
    >>> clip = Clip.from_video_id("a_b-c_000030", (3, 1), (2, 0), (False, False, True))
    >>> clip.youtube_id, clip.start_seconds, MODALITY_NAMES[clip.modalities[0]]
    ('a_b-c', 30, 'AV')
    >>> table = ClipTable.from_clips([clip])
    >>> len(table), table[0] == clip, table.label_of_row.tolist()
    (1, True, [3, 1])
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vggsounder_hf.core.schema import META_LABELS

__all__ = ["Clip", "ClipTable"]

_START_DIGITS = 6
"""A ``video_id`` ends in ``_`` and the start second as six digits."""


@dataclass(frozen=True, slots=True)
class Clip:
    """All annotations of one ten-second clip.

    ``labels`` holds class indices (``classes.csv`` order) in file order; ``modalities`` holds
    indices into :data:`~vggsounder_hf.core.schema.MODALITY_NAMES`, aligned with ``labels``.

    Example:
        >>> clip = Clip("abc_000010", "abc", 10, (3,), (2,), False, False, True)
        >>> clip.labels, clip.voice_over
        ((3,), True)
    """

    video_id: str
    youtube_id: str
    start_seconds: int
    labels: tuple[int, ...]
    modalities: tuple[int, ...]
    background_music: bool
    static_image: bool
    voice_over: bool

    @classmethod
    def from_video_id(
        cls,
        video_id: str,
        labels: Sequence[int],
        modalities: Sequence[int],
        meta: Sequence[bool],
    ) -> Clip:
        """A clip of a well-formed ``video_id`` (``<youtube id>_<6-digit start second>``),
        with the meta flags in :data:`~vggsounder_hf.core.schema.META_LABELS` order."""
        # Slicing, not a regex: every caller has validated the id already.
        youtube_id, start = video_id[: -_START_DIGITS - 1], video_id[-_START_DIGITS:]
        return cls(video_id, youtube_id, int(start), tuple(labels), tuple(modalities), *meta)


class ClipTable(Sequence[Clip]):
    """The clips of an annotation file, stored as columns; a read-only sequence of :class:`Clip`.

    Scoring needs only the columns (``video_ids``, and per (clip, label) row the clip,
    class and modality indices), so :class:`Clip` objects are made only when asked for.

    Attributes:
        video_ids: Clip ids in order of first appearance.
        clip_of_row, label_of_row, modality_of_row: ``int64`` arrays, one entry per
            (clip, label) pair, grouped by clip in clip order, labels in file order.
        meta: Per meta label, a ``bool`` array with one entry per clip.

    Example:
        >>> table = ClipTable.from_clips([Clip("abc_000010", "abc", 10, (3, 1), (2, 0),
        ...                                     False, False, True)])
        >>> len(table), table[0].labels, table.label_of_row.tolist()
        (1, (3, 1), [3, 1])
    """

    def __init__(
        self,
        video_ids: Sequence[str],
        clip_of_row: Any,
        label_of_row: Any,
        modality_of_row: Any,
        meta: dict[str, Any],
    ) -> None:
        self.video_ids = list(video_ids)
        self.clip_of_row = np.asarray(clip_of_row, dtype=np.int64)
        self.label_of_row = np.asarray(label_of_row, dtype=np.int64)
        self.modality_of_row = np.asarray(modality_of_row, dtype=np.int64)
        self.meta = {name: np.asarray(meta[name], dtype=bool) for name in META_LABELS}
        self._clips: tuple[Clip, ...] | None = None

    @classmethod
    def from_clips(cls, clips: Sequence[Clip]) -> ClipTable:
        """Columns of a list of clips."""
        clip_of_row = [row for row, clip in enumerate(clips) for _ in clip.labels]
        return cls(
            [clip.video_id for clip in clips],
            clip_of_row,
            [label for clip in clips for label in clip.labels],
            [modality for clip in clips for modality in clip.modalities],
            {name: [getattr(clip, name) for clip in clips] for name in META_LABELS},
        )

    def _all_clips(self) -> tuple[Clip, ...]:
        if self._clips is None:
            ends = np.cumsum(np.bincount(self.clip_of_row, minlength=len(self.video_ids)))
            starts = [0, *ends[:-1].tolist()]
            labels = self.label_of_row.tolist()
            modalities = self.modality_of_row.tolist()
            flags = [self.meta[name].tolist() for name in META_LABELS]
            self._clips = tuple(
                Clip.from_video_id(video_id, labels[start:end], modalities[start:end], meta)
                for video_id, start, end, *meta in zip(
                    self.video_ids, starts, ends.tolist(), *flags, strict=True
                )
            )
        return self._clips

    def __len__(self) -> int:
        return len(self.video_ids)

    def __getitem__(self, index: Any) -> Any:  # an int gives a Clip, a slice a tuple
        return self._all_clips()[index]

    def __iter__(self) -> Iterator[Clip]:
        return iter(self._all_clips())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ClipTable):
            other = other._all_clips()
        return isinstance(other, (tuple, list)) and self._all_clips() == tuple(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ClipTable({len(self)} clips)"
