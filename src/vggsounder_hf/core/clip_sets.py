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
=======================  ==============================================================

The named sets other than ``default`` filter the *full* release. Any combination is
available as a mapping, for example ``{"background_music": False, "static_image": True}``.

Example:
    >>> resolve_clip_set("default")
    {'background_music': False}
    >>> resolve_clip_set({"static_image": True, "voice_over": None})
    {'static_image': True}
"""

from __future__ import annotations

from collections.abc import Mapping

from vggsounder_hf.core.schema import DEFAULT_CLIP_SET, META_LABELS

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
}

__all__ = [
    "CLIP_SETS",
    "DEFAULT_CLIP_SET",
    "META_LABELS",
    "ClipSet",
    "describe_clip_set",
    "resolve_clip_set",
]

ClipSet = str | Mapping[str, bool | None]


def resolve_clip_set(clip_set: ClipSet) -> dict[str, bool]:
    """Turn a clip-set name or mapping into a ``{meta_label: required_value}`` filter.

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
        if meta_label not in META_LABELS:
            raise ValueError(f"unknown meta label {meta_label!r} in clip_set; use {META_LABELS}")
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
    return "+".join(label if value else f"no_{label}" for label, value in filters.items())
