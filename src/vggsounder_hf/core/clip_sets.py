"""Named clip sets: which clips of a release a score is computed on.

A clip set is a filter on the three per-clip meta labels. ``True`` keeps clips that have
the meta label, ``False`` keeps clips that do not, and a missing key does not filter.

=======================  ==============================================================
name                     clips kept
=======================  ==============================================================
``default``              no background music: the authors' ``VGGSounder()`` default and
                         the set of their published tables (12,014 clips for labels 1.0)
``full``                 every clip of the release (15,069 for 1.0)
``background_music``     with background music
``no_background_music``  without background music (the same clips as ``default``)
``static_image``         with a static image
``no_static_image``      without a static image
``voice_over``           with a voice-over
``no_voice_over``        without a voice-over
``no_meta``              none of the three meta labels
``with_media``           clips whose audio or video was found (see below)
=======================  ==============================================================

The named sets other than ``default`` filter the *full* release. Any combination is
available as a mapping, for example ``{"background_music": False, "static_image": True}``.

``with_media`` is not a meta label of the annotations: it keeps the clips that have media in
a user's copy of VGGSound (many videos are gone from YouTube), so that a partial copy reports
honest numbers. It needs a ground truth that knows which clips have media
(:meth:`~vggsounder_hf.core.ground_truth.GroundTruth.with_media_flags`), and combines with
the meta labels: ``{"background_music": False, "with_media": True}`` is the reference's
default set restricted to the clips with media; ``{"with_media": False}`` the clips without.

Example:
    >>> resolve_clip_set("default")
    {'background_music': False}
    >>> resolve_clip_set({"static_image": True, "voice_over": None})
    {'static_image': True}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from vggsounder_hf.core.schema import DEFAULT_CLIP_SET, META_LABELS

if TYPE_CHECKING:
    import numpy as np

WITH_MEDIA = "with_media"
"""The clip-set filter on whether a clip has media (audio or video), beside the meta labels."""
CLIP_FILTERS: tuple[str, ...] = (*META_LABELS, WITH_MEDIA)
"""Every key a clip-set mapping may hold."""

CLIP_SETS: dict[str, dict[str, bool]] = {
    "default": {"background_music": False},
    "full": {},
    "background_music": {"background_music": True},
    "no_background_music": {"background_music": False},
    "static_image": {"static_image": True},
    "no_static_image": {"static_image": False},
    "voice_over": {"voice_over": True},
    "no_voice_over": {"voice_over": False},
    "no_meta": {"background_music": False, "static_image": False, "voice_over": False},
    WITH_MEDIA: {WITH_MEDIA: True},
}

__all__ = [
    "CLIP_FILTERS",
    "CLIP_SETS",
    "DEFAULT_CLIP_SET",
    "META_LABELS",
    "WITH_MEDIA",
    "ClipSet",
    "clip_set_mask",
    "describe_clip_set",
    "resolve_clip_set",
]

ClipSet = str | Mapping[str, bool | None]


def resolve_clip_set(clip_set: ClipSet) -> dict[str, bool]:
    """Turn a clip-set name or mapping into a ``{meta_label: required_value}`` filter
    (``with_media`` is a key too, see the module docstring).

    Raises:
        ValueError: Unknown name, unknown meta label, or a value that is not a bool.
    """
    if isinstance(clip_set, str):
        if clip_set not in CLIP_SETS:
            raise ValueError(
                f"unknown clip set {clip_set!r}; choose one of {sorted(CLIP_SETS)} or pass a "
                f"mapping of meta labels {META_LABELS} to True/False"
            )
        return dict(CLIP_SETS[clip_set])
    if not isinstance(clip_set, Mapping):
        raise TypeError(f"clip_set must be a name or a mapping, got {type(clip_set).__name__}")
    resolved: dict[str, bool] = {}
    for meta_label, required in clip_set.items():
        if meta_label not in CLIP_FILTERS:
            raise ValueError(f"unknown meta label {meta_label!r} in clip_set; use {CLIP_FILTERS}")
        if required is None:
            continue
        if not isinstance(required, bool):
            raise ValueError(
                f"clip_set[{meta_label!r}] must be True, False or None, got {required!r}"
            )
        resolved[meta_label] = required
    return resolved


def describe_clip_set(clip_set: ClipSet) -> str:
    """A short human-readable name for a clip set (used in reports and model cards).

    Example:
        >>> describe_clip_set({"background_music": False, "static_image": True})
        'no_background_music+static_image'
    """
    if isinstance(clip_set, str):
        resolve_clip_set(clip_set)
        return clip_set
    filters = resolve_clip_set(clip_set)
    if not filters:
        return "full"
    negated = {WITH_MEDIA: "without_media"}
    return "+".join(
        label if value else negated.get(label, f"no_{label}") for label, value in filters.items()
    )


def clip_set_mask(
    clip_set: ClipSet,
    meta: Mapping[str, np.ndarray],
    num_clips: int,
    has_media: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean mask of the clips that pass a clip-set filter.

    Args:
        clip_set: A name or mapping (see :func:`resolve_clip_set`).
        meta: Per meta label, a boolean array of length ``num_clips``.
        num_clips: The number of clips.
        has_media: Per clip, whether it has media; needed only by ``with_media`` filters.

    Raises:
        OptionError: A ``with_media`` filter without ``has_media``.

    Example:
        >>> import numpy as np
        >>> meta = {"background_music": np.array([True, False, False])}
        >>> media = np.array([True, True, False])
        >>> clip_set_mask({"background_music": False, "with_media": True}, meta, 3, media)
        array([False,  True, False])
    """
    import numpy as np  # here, not at the top: the commands import clip sets before numpy

    from vggsounder_hf.core.errors import OptionError

    keep = np.ones(num_clips, dtype=bool)
    for name, required in resolve_clip_set(clip_set).items():
        if name == WITH_MEDIA and has_media is None:
            raise OptionError(
                f"clip set {describe_clip_set(clip_set)!r} needs to know which clips have "
                "media: build the ground truth with GroundTruth.with_media_flags(video_ids) "
                "(vggsounder_hf.hf.media.media_ground_truth(dataset) does it for a dataset "
                "loaded with media=)"
            )
        keep &= (has_media if name == WITH_MEDIA else meta[name]) == required
    return keep
