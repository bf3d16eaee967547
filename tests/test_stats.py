"""Specification of vggsounder_hf.reports.stats: counts per label release."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import datasets
import pytest

from vggsounder_hf.io.annotations import Clip
from vggsounder_hf.io.sources import Release, ReleaseFiles, load_release
from vggsounder_hf.reports.stats import ReleaseStats, release_stats

FULL = {"1.0": "vggsounder+background-music.csv", "0.1.6": "vggsounder+background-music_0.1.6.csv"}


def counts_from_csv(path: Path) -> dict:
    """The expected statistics, straight from the CSV with plain csv."""
    with open(path, newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    meta = {}
    for row in rows:
        meta[row["video_id"]] = tuple(
            row[k] == "True" for k in ("background_music", "static_image", "voice_over")
        )
    modality = Counter(row["modality"] for row in rows)
    return {
        "clips": len(meta),
        "labels": len(rows),
        "labels_per_modality": {code: modality[code] for code in ("A", "V", "AV")},
        "clips_per_meta_label": {
            name: sum(flags[i] for flags in meta.values())
            for i, name in enumerate(("background_music", "static_image", "voice_over"))
        },
        "clips_without_meta_labels": sum(not any(flags) for flags in meta.values()),
        "mean_labels_per_clip": len(rows) / len(meta),
    }


def test_small_release_counted_by_hand():
    files = ReleaseFiles("x", Path("a.csv"), Path("c.csv"), "user", "0", "0")
    clips = (
        Clip("a_000001", "a", 1, (0, 1, 2), (0, 2, 2), True, False, False),
        Clip("b_000002", "b", 2, (1,), (1,), True, True, False),
        Clip("c_000003", "c", 3, (2, 0), (2, 0), False, False, False),
        Clip("d_000004", "d", 4, (0,), (2,), False, False, True),
    )
    stats = release_stats(Release("x", ("p", "q", "r"), clips, files))
    assert stats == ReleaseStats(
        version="x",
        clips=4,
        labels=7,
        labels_per_modality={"A": 2, "V": 1, "AV": 4},
        clips_per_meta_label={"background_music": 2, "static_image": 1, "voice_over": 1},
        clips_without_meta_labels=1,
        mean_labels_per_clip=1.75,
    )


def test_empty_release_has_zero_mean():
    files = ReleaseFiles("x", Path("a.csv"), Path("c.csv"), "user", "0", "0")
    stats = release_stats(Release("x", ("p",), (), files))
    assert (stats.clips, stats.labels, stats.mean_labels_per_clip) == (0, 0, 0.0)


@pytest.mark.parametrize("version", ["1.0", "0.1.6"])
def test_release_and_dataset_statistics_equal_the_csv(prepared_releases, vggsounder_data, version):
    expected = counts_from_csv(vggsounder_data / FULL[version])
    from_release = release_stats(load_release(version)).as_dict()
    from_dataset = release_stats(prepared_releases[version], version).as_dict()
    assert from_release == from_dataset == {"version": version, **expected}
    json.dumps(from_dataset)  # JSON-ready


def test_statistics_of_the_authors_default_set(prepared_releases, vggsounder_data):
    default_set = prepared_releases["1.0"].filter(
        lambda music: not music, input_columns="background_music"
    )
    stats = release_stats(default_set, "1.0")
    expected = counts_from_csv(vggsounder_data / "vggsounder.csv")
    assert stats.as_dict() == {"version": "1.0", **expected}
    assert stats.clips_per_meta_label["background_music"] == 0


def test_dataset_version_is_none_unless_given(prepared_releases):
    assert release_stats(prepared_releases["0.1.6"]).version is None


def test_other_datasets_are_refused():
    other = datasets.Dataset.from_dict({"text": ["a"], "label": [0]})
    with pytest.raises(ValueError, match="not a VGGSounder dataset: missing column"):
        release_stats(other)
