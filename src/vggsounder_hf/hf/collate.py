"""Batches of VGGSounder rows for ``torch.utils.data.DataLoader``: the ragged columns too.

A row of the ``vggsounder`` dataset holds lists of different lengths (``labels`` as class
indices, ``modalities``), strings (``video_id``) and, with media, ``None`` where a clip has
none; ``torch``'s default collate stacks tensors and fails on the first two. With
:func:`collate_vggsounder` (or a :class:`VGGSounderCollator` with other settings)::

    loader = DataLoader(with_multi_hot_labels(train).with_format("torch"), batch_size=32,
                        collate_fn=collate_vggsounder)

every column of equal-shaped tensors (the multi-hot ``labels``, features, meta flags) is
stacked, ragged 1-D columns are padded with ``-1`` to the longest row (``ragged="pad"``, the
default: ``-1`` is no class and no modality) or kept as a list of tensors
(``ragged="list"``), and strings and ``None`` stay Python lists. A mapping (an ``audio``
cell) is collated key by key. Works with and without ``with_format("torch")``; the
collator is picklable (``num_workers > 0``). ``torch`` is imported when a batch is made.

Example:
    >>> batch = collate_vggsounder([
    ...     {"video_id": "a_000001", "labels": [3, 7], "voice_over": False},
    ...     {"video_id": "b_000002", "labels": [5], "voice_over": True}])
    >>> batch["video_id"], batch["labels"].tolist(), batch["voice_over"].tolist()
    (['a_000001', 'b_000002'], [[3, 7], [5, -1]], [False, True])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Number
from typing import Any

import numpy as np

from vggsounder_hf.core.errors import OptionError
from vggsounder_hf.hf.multi_hot import is_tensor

__all__ = ["RAGGED_MODES", "VGGSounderCollator", "collate_vggsounder"]

RAGGED_MODES: tuple[str, ...] = ("pad", "list")
"""How :class:`VGGSounderCollator` batches lists of different lengths."""


@dataclass(frozen=True)
class VGGSounderCollator:
    """A ``collate_fn`` for rows of the ``vggsounder`` dataset (see the module docstring).

    Attributes:
        ragged: ``"pad"`` (a ``(batch, longest)`` tensor filled with ``padding_value``) or
            ``"list"`` (a list of 1-D tensors) for columns whose rows differ in length.
        padding_value: What fills the padded places.
    """

    ragged: str = "pad"
    padding_value: int | float = -1

    def __post_init__(self) -> None:
        if self.ragged not in RAGGED_MODES:
            raise OptionError(f"ragged must be one of {RAGGED_MODES}, got {self.ragged!r}")

    def __call__(self, examples: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """One batch: ``{column: stacked tensor, padded tensor or list}``."""
        if not examples:
            raise OptionError("collate_vggsounder got an empty batch")
        bad = next((e for e in examples if not isinstance(e, Mapping)), None)
        if bad is not None:
            raise OptionError(
                f"collate_vggsounder takes rows (mappings), got a {type(bad).__name__}"
            )
        return self._collate_rows(examples)

    def _collate_rows(self, examples: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        names = list(dict.fromkeys(name for example in examples for name in example))
        missing = [name for name in names if any(name not in example for example in examples)]
        if missing:
            raise OptionError(f"the rows of the batch do not all have the column(s) {missing}")
        return {name: self._collate([example[name] for example in examples]) for name in names}

    def _collate(self, values: list[Any]) -> Any:
        import torch

        if all(isinstance(value, Mapping) for value in values):
            return self._collate_rows(values)
        if any(value is None or isinstance(value, str | bytes) for value in values):
            return values
        tensors = [_as_tensor(torch, value) for value in values]
        if any(tensor is None for tensor in tensors):
            return values  # not numbers: kept as they are
        shapes = {tuple(tensor.shape) for tensor in tensors}
        if len(shapes) == 1:
            return torch.stack(tensors)
        if self.ragged == "list" or any(tensor.ndim != 1 for tensor in tensors):
            return tensors
        return torch.nn.utils.rnn.pad_sequence(
            tensors, batch_first=True, padding_value=self.padding_value
        )


def _as_tensor(torch: Any, value: Any) -> Any:
    """A tensor of a tensor, an array, a number or a list of numbers; ``None`` otherwise."""
    if is_tensor(value):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return torch.from_numpy(value)
    if isinstance(value, list | tuple) and not value:
        return torch.tensor(value, dtype=torch.int64)  # an empty index list
    if isinstance(value, bool | Number) or (
        isinstance(value, list | tuple) and all(isinstance(item, bool | Number) for item in value)
    ):
        return torch.tensor(value)
    return None


collate_vggsounder = VGGSounderCollator()
"""The default collator: equal shapes stacked, ragged 1-D columns padded with ``-1``."""
