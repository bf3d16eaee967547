"""Specification of vggsounder_hf.core.clip_sets: which clips a score is computed on."""

from __future__ import annotations

import pytest

from vggsounder_hf.core.clip_sets import CLIP_SETS, describe_clip_set, resolve_clip_set


def test_default_is_the_references_set_without_background_music():
    assert resolve_clip_set("default") == {"background_music": False}
    assert resolve_clip_set("full") == {}


def test_none_of_the_meta_labels_means_all_three_false():
    assert resolve_clip_set("no_meta") == dict.fromkeys(
        ("background_music", "static_image", "voice_over"), False
    )


def test_a_mapping_combines_filters_and_none_does_not_filter():
    assert resolve_clip_set(
        {"background_music": False, "static_image": True, "voice_over": None}
    ) == {
        "background_music": False,
        "static_image": True,
    }


@pytest.mark.parametrize(
    ("clip_set", "message"),
    [
        ("music", "unknown clip set 'music'"),
        ({"music": True}, "unknown meta label 'music'"),
        ({"static_image": "yes"}, "must be True, False or None"),
    ],
)
def test_bad_clip_sets_are_refused_with_the_choices(clip_set, message):
    with pytest.raises(ValueError, match=message):
        resolve_clip_set(clip_set)


def test_every_named_set_resolves_and_describes_itself():
    for name in CLIP_SETS:
        resolve_clip_set(name)
        assert describe_clip_set(name) == name
    assert describe_clip_set({}) == "full"
    assert describe_clip_set({"voice_over": False}) == "no_voice_over"
