"""Specification of the media join (vggsounder_hf.hf.media, io.media_files, io.media_decoding):
clips named after real VGGSounder ids, made here with PyAV, joined to the labels by video_id,
decoded, counted per clip set, and scored on the clip set ``with_media``."""

from __future__ import annotations

import importlib.util
import itertools
import time
from pathlib import Path

import datasets
import numpy as np
import pytest

from vggsounder_hf.core.errors import OptionError
from vggsounder_hf.hf import media as media_module
from vggsounder_hf.hf.builder import VGGSounderBuilder
from vggsounder_hf.hf.loading import load_vggsounder
from vggsounder_hf.hf.media import (
    MediaError,
    decode_audio,
    decode_video,
    join_media,
    media_ground_truth,
    media_report,
    media_video_ids,
)
from vggsounder_hf.io.media_files import scan_media_folder

av = pytest.importorskip("av")


def _clips_module():
    path = Path(__file__).resolve().parent / "media_clips.py"
    spec = importlib.util.spec_from_file_location("media_clips_for_tests", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


clips = _clips_module()


@pytest.fixture(scope="module")
def clip_ids(release_1_0) -> dict[str, str]:
    """Five real clips: two without background music, one with, named in different ways."""
    quiet = clips.pick_ids(release_1_0, 3, background_music=False)
    music = clips.pick_ids(release_1_0, 2, background_music=True)
    padded = next(  # a start second of two digits: "_30.mp4" is the clip "_000030"
        clip.video_id
        for clip in release_1_0.clips
        if 10 <= clip.start_seconds < 100
        and not clip.background_music
        and clip.video_id not in quiet
    )
    return {"mp4": quiet[0], "short": padded, "wav": quiet[2], "flac": music[0], "two": music[1]}


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory, clip_ids) -> Path:
    """A VGGSound-like folder: ``<id>.mp4``, ``<yt>_<start unpadded>.mp4`` in a sub-folder,
    a ``.wav`` and a ``.flac`` without video, an ``.mp4`` with a ``.wav`` beside it, and a
    file of no clip."""
    folder = tmp_path_factory.mktemp("clips")
    clips.write_video(folder / f"{clip_ids['mp4']}.mp4", 440.0, clips.COLORS[0])
    youtube_id, start = clip_ids["short"].rsplit("_", 1)
    clips.write_video(folder / "part2" / f"{youtube_id}_{int(start)}.mp4", 550.0, clips.COLORS[1])
    clips.write_audio(folder / "audio" / f"{clip_ids['wav']}.wav", 660.0)
    clips.write_audio(folder / "audio" / f"{clip_ids['flac']}.flac", 770.0)
    clips.write_video(folder / f"{clip_ids['two']}.mp4", 880.0, clips.COLORS[2], with_audio=False)
    clips.write_audio(folder / "audio" / f"{clip_ids['two']}.wav", 990.0)
    clips.write_audio(folder / "zzzzzzzzzzz_000001.wav", 220.0)  # not a VGGSounder clip
    return folder


@pytest.fixture(scope="module")
def joined(clip_folder, prepared_cache_dir) -> datasets.Dataset:
    return load_vggsounder("1.0", cache_dir=prepared_cache_dir, media=clip_folder)


def peak_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples[0]))
    return float(np.fft.rfftfreq(samples.shape[1], 1 / rate)[np.argmax(spectrum)])


# --------------------------------------------------------------------------- the folder


def test_the_folder_scan_finds_every_naming_variant(clip_folder, clip_ids, release_1_0):
    index = scan_media_folder(clip_folder, [clip.video_id for clip in release_1_0.clips])
    assert set(index.video) == {clip_ids["mp4"], clip_ids["short"], clip_ids["two"]}
    assert set(index.audio) == set(clip_ids.values())
    youtube_id, start = clip_ids["short"].rsplit("_", 1)
    assert index.video[clip_ids["short"]].endswith(f"part2/{youtube_id}_{int(start)}.mp4")
    assert len(start) == 6 and len(str(int(start))) == 2
    assert index.audio[clip_ids["two"]].endswith(".wav")  # an audio file beats the video's track
    assert index.audio[clip_ids["mp4"]] == index.video[clip_ids["mp4"]]  # the video's track
    assert [Path(path).name for path in index.unmatched] == ["zzzzzzzzzzz_000001.wav"]
    without_fallback = scan_media_folder(clip_folder, index.video_ids, audio_from_video=False)
    assert clip_ids["mp4"] not in without_fallback.audio


def test_two_files_for_one_clip_are_refused_naming_both(tmp_path, clip_ids):
    youtube_id, start = clip_ids["mp4"].rsplit("_", 1)
    (tmp_path / f"{clip_ids['mp4']}.mp4").write_bytes(b"")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / f"{youtube_id}_{int(start)}.mkv").write_bytes(b"")
    with pytest.raises(MediaError, match=rf"clip '{clip_ids['mp4']}' has two video files, .*mkv"):
        scan_media_folder(tmp_path, {clip_ids["mp4"]})


@pytest.mark.parametrize("source", ["/no/such/folder", "not a hub id"])
def test_a_source_that_is_neither_a_folder_nor_a_hub_id_is_refused(source, tmp_path):
    with pytest.raises(MediaError, match="not a folder of clips or of a dataset"):
        load_vggsounder("1.0", cache_dir=tmp_path, media=source, streaming=True)


# --------------------------------------------------------------------------- the join


def test_rows_get_audio_and_video_next_to_the_labels(joined, clip_ids, prepared_releases):
    assert joined.num_rows == 15_069
    assert isinstance(joined.features["audio"], datasets.Audio)
    assert isinstance(joined.features["video"], datasets.Video)
    assert joined.features["labels"] == prepared_releases["1.0"].features["labels"]
    rows = {row["video_id"]: row for row in joined if row["audio"] or row["video"]}
    assert set(rows) == set(clip_ids.values())
    assert rows[clip_ids["wav"]]["video"] is None
    assert rows[clip_ids["wav"]]["audio"]["path"].endswith(".wav")
    assert rows[clip_ids["mp4"]]["video"]["bytes"] is None
    labels = prepared_releases["1.0"].to_dict()
    position = labels["video_id"].index(clip_ids["flac"])
    assert rows[clip_ids["flac"]]["labels"] == labels["labels"][position]
    assert joined["video_id"] == labels["video_id"]  # the labels' order, every clip kept


def test_the_report_counts_clips_with_and_without_media_per_clip_set(joined, clip_ids):
    report = media_report(joined)
    assert report.clip_sets["full"] == (5, 15_069 - 5)
    assert report.clip_sets["default"] == (3, 12_014 - 3)  # the three without music
    assert report.clip_sets["background_music"] == (2, 15_069 - 12_014 - 2)
    assert (report.with_audio, report.with_video, report.unmatched) == (5, 3, 1)
    description = joined.info.description
    assert "5 of 15069 clips have media" in description and report.format() in description
    assert media_report(joined.filter(lambda row: row["video"] is not None)).clip_sets["full"] == (
        3,
        0,
    )


def test_dropping_missing_media_keeps_only_the_clips_with_media(
    clip_folder, clip_ids, prepared_cache_dir
):
    kept = load_vggsounder(
        "1.0", cache_dir=prepared_cache_dir, media=clip_folder, drop_missing_media=True
    )
    assert sorted(kept["video_id"]) == sorted(clip_ids.values())
    assert media_report(kept).clip_sets["full"] == (5, 0)


def test_every_split_of_a_dataset_dict_is_joined(clip_folder, prepared_cache_dir):
    splits = load_vggsounder("1.0", cache_dir=prepared_cache_dir, split=None, media=clip_folder)
    assert isinstance(splits, datasets.DatasetDict) and list(splits) == ["test"]
    assert media_report(splits["test"]).clip_sets["full"] == (5, 15_064)


def test_drop_missing_media_needs_media_and_the_builder_points_to_the_loader(tmp_path):
    with pytest.raises(OptionError, match="needs media="):
        load_vggsounder("1.0", cache_dir=tmp_path, drop_missing_media=True)
    with pytest.raises(TypeError, match=r"load_vggsounder\(version, media=\.\.\.\)"):
        VGGSounderBuilder(config_name="1.0", cache_dir=str(tmp_path), media=str(tmp_path))


def test_the_with_media_clip_set_scores_only_the_clips_with_media(joined, clip_ids):
    truth = media_ground_truth(joined)
    assert int(truth.mask("with_media").sum()) == 5
    assert set(truth.video_ids[truth.mask("with_media")]) == set(clip_ids.values())
    combined = truth.mask({"background_music": False, "with_media": True})
    assert set(truth.video_ids[combined]) == {clip_ids[k] for k in ("mp4", "short", "wav")}
    assert int(truth.mask({"with_media": False}).sum()) == 15_069 - 5
    assert int(truth.take(truth.mask("default")).mask("with_media").sum()) == 3
    assert sorted(media_video_ids(joined)) == sorted(clip_ids.values())


def test_the_with_media_clip_set_needs_a_ground_truth_that_knows_the_media(truth_1_0):
    with pytest.raises(OptionError, match="needs to know which clips have media"):
        truth_1_0.mask("with_media")


# --------------------------------------------------------------------------- decoding


def test_audio_decodes_to_the_tone_at_its_sampling_rate(joined, clip_ids):
    rows = {row["video_id"]: row for row in joined.filter(lambda row: row["audio"] is not None)}
    for key, frequency in (("mp4", 440.0), ("wav", 660.0), ("flac", 770.0), ("two", 990.0)):
        samples, rate = decode_audio(rows[clip_ids[key]]["audio"])
        assert (rate, samples.dtype, samples.shape) == (16_000, np.float32, (1, 16_000)), key
        assert peak_frequency(samples, rate) == pytest.approx(frequency, abs=2), key
        assert 0.4 < np.abs(samples).max() <= 1.0
    resampled, rate = decode_audio(rows[clip_ids["wav"]]["audio"]["path"], sampling_rate=8_000)
    assert (rate, resampled.shape[0]) == (8_000, 1)
    assert abs(resampled.shape[1] - 8_000) <= 32
    assert peak_frequency(resampled, rate) == pytest.approx(660.0, abs=2)


def test_video_decodes_to_coloured_rgb_frames(joined, clip_ids):
    rows = {row["video_id"]: row for row in joined.filter(lambda row: row["video"] is not None)}
    frames = decode_video(rows[clip_ids["short"]]["video"])
    assert (frames.dtype, frames.shape) == (np.uint8, (8, 32, 32, 3))
    assert np.abs(frames.mean(axis=(0, 1, 2)) - clips.COLORS[1]).max() < 12
    assert decode_video(rows[clip_ids["two"]]["video"], max_frames=3).shape == (3, 32, 32, 3)


def test_decoding_bytes_gives_what_decoding_the_file_gives(clip_folder, clip_ids):
    path = clip_folder / f"{clip_ids['mp4']}.mp4"
    from_bytes = decode_audio(path.read_bytes())
    from_path = decode_audio({"path": str(path), "bytes": None})
    assert from_bytes[1] == from_path[1]
    np.testing.assert_array_equal(from_bytes[0], from_path[0])
    np.testing.assert_array_equal(decode_video(path.read_bytes()), decode_video(str(path)))


def test_decoding_problems_are_one_error_naming_the_file(clip_folder, clip_ids, tmp_path):
    with pytest.raises(MediaError, match="has no audio stream"):
        decode_audio(clip_folder / f"{clip_ids['two']}.mp4")
    with pytest.raises(MediaError, match="has no video stream"):
        decode_video(clip_folder / "audio" / f"{clip_ids['wav']}.wav")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    with pytest.raises(MediaError, match=r"broken\.mp4: not a readable media file"):
        decode_video(broken)
    with pytest.raises(MediaError, match="no such media file"):
        decode_audio(tmp_path / "gone.wav")
    with pytest.raises(MediaError, match="no media to decode"):
        decode_video(None)
    with pytest.raises(MediaError, match="max_frames must be a positive integer"):
        decode_video(broken, max_frames=0)


# --------------------------------------------------------------------------- media datasets


def media_dataset(clip_folder: Path, clip_ids: dict[str, str]) -> datasets.Dataset:
    """What the authors' Hub dataset looks like: video_id, video and audio, as bytes, with
    the ids unpadded (``_30``) and one clip that is not in the labels."""
    youtube_id, start = clip_ids["mp4"].rsplit("_", 1)
    mp4 = (clip_folder / f"{clip_ids['mp4']}.mp4").read_bytes()
    wav = (clip_folder / "audio" / f"{clip_ids['wav']}.wav").read_bytes()
    return datasets.Dataset.from_dict(
        {
            "video_id": [f"{youtube_id}_{int(start)}", clip_ids["wav"], "zzzzzzzzzzz_000001"],
            "video": [mp4, None, mp4],
            "audio": [mp4, wav, None],
        }
    ).cast_column("video", datasets.Video(decode=False))


def test_a_media_dataset_with_bytes_is_joined_by_video_id(clip_folder, clip_ids, release_1_0):
    labels = datasets.Dataset.from_list(
        [
            {
                "video_id": clip.video_id,
                "background_music": clip.background_music,
                "static_image": clip.static_image,
                "voice_over": clip.voice_over,
            }
            for clip in release_1_0.clips[:50]
        ]
        + [
            {
                "video_id": clip_ids[k],
                "background_music": False,
                "static_image": False,
                "voice_over": False,
            }
            for k in ("mp4", "wav")
        ]
    )
    joined = join_media(labels, media_dataset(clip_folder, clip_ids))
    rows = {row["video_id"]: row for row in joined}
    assert rows[clip_ids["mp4"]]["video"]["bytes"] is not None
    assert rows[clip_ids["wav"]]["video"] is None
    assert decode_audio(rows[clip_ids["wav"]]["audio"])[0].shape == (1, 16_000)
    assert decode_video(rows[clip_ids["mp4"]]["video"]).shape == (8, 32, 32, 3)
    assert sum(row["audio"] is not None for row in rows.values()) == 2
    assert media_report(joined).unmatched == 1


def test_a_saved_media_dataset_and_a_hub_id_are_loaded_as_datasets(
    clip_folder, clip_ids, prepared_cache_dir, tmp_path, monkeypatch
):
    saved = tmp_path / "saved"
    media_dataset(clip_folder, clip_ids).save_to_disk(str(saved))
    from_disk = load_vggsounder(
        "1.0", cache_dir=prepared_cache_dir, media=saved, drop_missing_media=True
    )
    assert sorted(from_disk["video_id"]) == sorted([clip_ids["mp4"], clip_ids["wav"]])
    calls = []

    def fake_load_dataset(name, split=None, **kwargs):
        calls.append((name, split))
        return datasets.DatasetDict({"test": media_dataset(clip_folder, clip_ids)})[split]

    monkeypatch.setattr(media_module.datasets, "load_dataset", fake_load_dataset)
    from_hub = load_vggsounder("1.0", cache_dir=prepared_cache_dir, media="11hu83/vggsound")
    assert calls == [("11hu83/vggsound", "test")]
    assert media_report(from_hub).clip_sets["full"] == (2, 15_067)


def test_media_datasets_without_the_columns_or_streaming_are_refused(tmp_path, release_1_0):
    labels = datasets.Dataset.from_dict(
        {
            "video_id": ["x_000001"],
            "background_music": [False],
            "static_image": [False],
            "voice_over": [False],
        }
    )
    with pytest.raises(MediaError, match="has no 'video_id' column"):
        join_media(labels, datasets.Dataset.from_dict({"id": ["x"], "video": ["x.mp4"]}))
    with pytest.raises(MediaError, match="neither an 'audio' nor a 'video' column"):
        join_media(labels, datasets.Dataset.from_dict({"video_id": ["x_000001"], "x": [1]}))
    stream = datasets.Dataset.from_dict({"video_id": ["x"], "video": ["x"]}).to_iterable_dataset()
    with pytest.raises(MediaError, match="a streaming media dataset cannot be joined"):
        join_media(labels, stream)
    repeated = datasets.Dataset.from_dict({"video_id": ["x_1", "x_000001"], "video": ["a", "b"]})
    with pytest.raises(MediaError, match=r"clip 'x_000001' is in rows 0 and 1"):
        join_media(labels, repeated)


# --------------------------------------------------------------------------- streaming


def test_streaming_joins_lazily_one_batch_at_a_time(clip_folder, clip_ids, tmp_path, monkeypatch):
    requested = []
    original = media_module._TableMedia.columns

    def counting(self, video_ids):
        requested.append(len(video_ids))
        return original(self, video_ids)

    monkeypatch.setattr(media_module._TableMedia, "columns", counting)
    stream = load_vggsounder(
        "1.0", cache_dir=tmp_path, streaming=True, media=media_dataset(clip_folder, clip_ids)
    )
    assert isinstance(stream, datasets.IterableDataset)
    assert requested == []  # nothing read before iterating
    first = list(itertools.islice(stream, 3))
    assert len(first) == 3 and set(first[0]) >= {"video_id", "labels", "audio", "video"}
    assert len(requested) == 1 and requested[0] <= 256  # one batch of rows, not every clip
    report = media_report(stream)
    assert report.clip_sets["full"] == (2, 15_067) and report.unmatched == 1


def test_streaming_from_a_folder_with_drop_missing_media(clip_folder, clip_ids, tmp_path):
    stream = load_vggsounder(
        "1.0", cache_dir=tmp_path, streaming=True, media=clip_folder, drop_missing_media=True
    )
    rows = list(stream)
    assert sorted(row["video_id"] for row in rows) == sorted(clip_ids.values())
    assert all(row["audio"]["path"] for row in rows)
    assert media_report(stream).clip_sets["default"] == (3, 12_011)


@pytest.mark.slow
def test_decoding_throughput_of_100_generated_clips(release_1_0, tmp_path, capsys):
    """A benchmark, not a timed assertion: 100 clips decoded from a streaming dataset."""
    ids = clips.pick_ids(release_1_0, 100)
    for number, video_id in enumerate(ids):
        clips.write_video(
            tmp_path / "clips" / f"{video_id}.mp4",
            300.0 + number,
            clips.COLORS[number % len(clips.COLORS)],
        )
    stream = load_vggsounder(
        "1.0",
        cache_dir=tmp_path / "cache",
        streaming=True,
        media=tmp_path / "clips",
        drop_missing_media=True,
    )
    started = time.perf_counter()
    samples = frames = 0
    for row in stream:
        samples += decode_audio(row["audio"])[0].shape[1]
        frames += decode_video(row["video"]).shape[0]
    elapsed = time.perf_counter() - started
    assert (samples, frames) == (100 * 16_000, 100 * 8)
    with capsys.disabled():
        print(
            f"\ndecoded 100 clips (audio and video) in {elapsed:.2f} s: {100 / elapsed:.1f} clips/s"
        )
