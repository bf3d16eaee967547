"""Specification of vggsounder_hf.io.prediction_writer.PredictionWriter: what it writes reads
back with read_predictions to the same numbers; it appends in chunks, publishes atomically,
and refuses what the readers refuse."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pyarrow.parquet as pq
import pytest

from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.core.predictions import ModelPredictions, UnknownLabelWarning
from vggsounder_hf.io.prediction_writer import PredictionWriter, PredictionWriterError
from vggsounder_hf.io.readers import read_predictions
from vggsounder_hf.io.safe_pickle import load_pickle

CLASSES = ("dog", "cat", "bird")
EXTENSIONS = (".parquet", ".jsonl", ".pkl")


def read_quietly(path, class_names):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownLabelWarning)
        return read_predictions(path, class_names)


def same_predictions(left: ModelPredictions, right: ModelPredictions) -> None:
    assert left.kind == right.kind
    assert left.input_modalities == right.input_modalities
    for modality in left.input_modalities:
        order = np.argsort(left[modality].video_ids.astype(str))
        other = np.argsort(right[modality].video_ids.astype(str))
        assert left[modality].video_ids[order].tolist() == right[modality].video_ids[other].tolist()
        np.testing.assert_array_equal(left[modality].matrix[order], right[modality].matrix[other])
        assert left[modality].unknown_labels == right[modality].unknown_labels


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("extension", EXTENSIONS)
def test_label_sets_read_back_as_written(tmp_path, extension):
    path = tmp_path / f"model{extension}"
    with PredictionWriter(path, "labels", class_names=CLASSES, chunk_size=2) as writer:
        writer.add("x_000001", a=["dog"], v=[], av=["dog", "cat"])
        writer.add("x_000002", a=("bird",), v=np.array(["cat"]), av=[2, 0])
        writer.add_batch(["x_000003", "x_000004"], a=[["cat"], []], v=[[], ["dog"]], av=[[], []])
        writer.add("x_000005", av=["owl"])  # an unknown name is kept, as the readers keep it
    with pytest.warns(UnknownLabelWarning, match="'owl'"):
        expected = ModelPredictions.from_label_sets(
            {
                "a": {
                    "x_000001": ["dog"],
                    "x_000002": ["bird"],
                    "x_000003": ["cat"],
                    "x_000004": [],
                },
                "v": {"x_000001": [], "x_000002": ["cat"], "x_000003": [], "x_000004": ["dog"]},
                "av": {
                    "x_000001": ["dog", "cat"],
                    "x_000002": ["bird", "dog"],
                    "x_000003": [],
                    "x_000004": [],
                    "x_000005": ["owl"],
                },
            },
            CLASSES,
        )
    with pytest.warns(UnknownLabelWarning, match="'owl'"):
        read_back = read_predictions(path, CLASSES)
    same_predictions(read_back, expected)


@pytest.mark.parametrize("extension", EXTENSIONS)
def test_scores_read_back_bit_for_bit(tmp_path, extension):
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(5, 3))
    matrix[0] = [0.1, 0.1, 0.1]  # ties survive
    matrix[1] = [1e-300, -1e300, 0.30000000000000004]  # so do awkward floats
    path = tmp_path / f"model{extension}"
    with PredictionWriter(path, "scores", class_names=CLASSES, chunk_size=2) as writer:
        writer.add("x_000001", a=matrix[0].tolist(), av=matrix[0])
        writer.add_batch([f"x_00000{i}" for i in range(2, 6)], a=matrix[1:], av=matrix[1:])
        writer.add("y_000001", v=np.float32([0.5, 0.25, 0.125]))
    read_back = read_predictions(path, CLASSES)
    assert read_back.kind == "scores"
    np.testing.assert_array_equal(read_back["a"].matrix, matrix)
    np.testing.assert_array_equal(read_back["av"].matrix, matrix)
    assert read_back["v"].matrix.tolist() == [[0.5, 0.25, 0.125]]


@pytest.mark.parametrize("extension", EXTENSIONS)
def test_a_released_model_round_trips_to_identical_numbers(
    shared_data, release_1_0, truth_1_0, tmp_path, extension
):
    mapping = load_pickle(shared_data / "model-predictions" / "gemini-1.5-pro.pkl")
    path = tmp_path / f"gemini{extension}"
    with PredictionWriter(path, "labels") as writer:  # the VGGSounder classes by default
        for video_id, entry in mapping.items():
            writer.add(video_id, **entry["predictions"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownLabelWarning)
        original = ModelPredictions.from_mapping(mapping, release_1_0.class_names)
    read_back = read_quietly(path, release_1_0.class_names)
    same_predictions(read_back, original)
    for clip_set in ("default", "full"):
        ours = evaluate_predictions(truth_1_0, read_back, clip_set=clip_set)
        assert ours == evaluate_predictions(truth_1_0, original, clip_set=clip_set)


@pytest.mark.parametrize(("extension", "every"), [(".parquet", 1), (".jsonl", 5), (".pkl", 5)])
def test_a_score_model_round_trips_to_identical_numbers(
    synthetic_mapping, release_1_0, truth_1_0, tmp_path, extension, every
):
    """Every clip through Parquet (the format for scores); every 5th through JSONL and
    pickle, whose text and float lists are slower to write and read."""
    mapping = dict(list(synthetic_mapping.items())[::every])
    path = tmp_path / f"synthetic{extension}"
    with PredictionWriter(path, "scores", class_names=release_1_0.class_names) as writer:
        for video_id, entry in mapping.items():
            writer.add(video_id, **entry["logits"])
    read_back = read_predictions(path, release_1_0.class_names)
    original = ModelPredictions.from_mapping(mapping, release_1_0.class_names)
    same_predictions(read_back, original)
    ours = evaluate_predictions(truth_1_0, read_back, clip_set="full")
    assert ours == evaluate_predictions(truth_1_0, original, clip_set="full")


def test_the_pickle_is_the_authors_structure(tmp_path):
    path = tmp_path / "model.pkl"
    with PredictionWriter(path, "scores", class_names=CLASSES) as writer:
        writer.add("x_000001", a=np.array([1, 2, 3]), v=[0.5, 0.5, 0.0])
    with open(path, "rb") as handle:
        assert pickle.load(handle) == {
            "x_000001": {"logits": {"a": [1.0, 2.0, 3.0], "v": [0.5, 0.5, 0.0]}}
        }


# --------------------------------------------------------------------------- chunks, atomicity


def test_parquet_is_written_one_row_group_per_chunk(tmp_path):
    path = tmp_path / "model.parquet"
    with PredictionWriter(path, "scores", class_names=CLASSES, chunk_size=3) as writer:
        for number in range(7):
            writer.add(f"x_{number:06d}", av=[0.1 * number, 0.0, 1.0])
    assert pq.ParquetFile(path).metadata.num_row_groups == 3  # 3 + 3 + 1 clips


def test_jsonl_lines_are_on_disk_before_close_and_the_target_appears_on_close(tmp_path):
    path = tmp_path / "model.jsonl"
    writer = PredictionWriter(path, "labels", class_names=CLASSES, chunk_size=2)
    for number in range(5):
        writer.add(f"x_{number:06d}", a=["dog"])
    temporary = [p for p in tmp_path.iterdir() if p.name.startswith(".model.jsonl.")]
    assert len(temporary) == 1
    assert len(temporary[0].read_text().splitlines()) == 4  # two full chunks, one pending
    assert not path.exists()
    assert writer.close() == path
    assert len(path.read_text().splitlines()) == 5
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("extension", EXTENSIONS)
def test_an_exception_in_the_block_leaves_no_file_and_an_old_file_as_it_was(tmp_path, extension):
    path = tmp_path / f"model{extension}"
    with pytest.raises(RuntimeError, match="model crashed"), PredictionWriter(path) as writer:
        writer.add("x_000001", a=["dog"])
        raise RuntimeError("model crashed")
    assert list(tmp_path.iterdir()) == []
    path.write_bytes(b"old")
    with pytest.raises(OSError, match="disk"), PredictionWriter(path, chunk_size=1) as writer:
        writer.add("x_000001", a=["dog"])
        raise OSError("disk")
    assert path.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [path]


def test_abort_and_an_empty_writer_write_nothing(tmp_path):
    path = tmp_path / "model.parquet"
    writer = PredictionWriter(path, "labels")
    writer.add("x_000001", a=["dog"])
    writer.abort()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(PredictionWriterError, match="the writer is closed"):
        writer.add("x_000002", a=["dog"])
    with pytest.raises(PredictionWriterError, match="no prediction was added"):
        PredictionWriter(path).close()
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- refused input


@pytest.mark.parametrize(
    ("kind", "call", "message"),
    [
        ("labels", lambda w: w.add("x_000001", a=["dog"]), r"clip 'x_000001' appears more"),
        ("labels", lambda w: w.add("x_000001.mp4", a=["dog"]), r"clip 'x_000001' appears more"),
        ("labels", lambda w: w.add("x_000002"), r"clip 'x_000002' has no input"),
        ("labels", lambda w: w.add("", a=["dog"]), r"video id '' must be a non-empty string"),
        ("labels", lambda w: w.add(7, a=["dog"]), r"video id 7 must be a non-empty string"),
        ("labels", lambda w: w.add("x_000002", a="dog"), r"input 'a': expected a list"),
        ("labels", lambda w: w.add("x_000002", a=[True]), r"label True \(bool\) is neither"),
        ("labels", lambda w: w.add("x_000002", a=[1.0]), r"label 1\.0 \(float\) is neither"),
        ("labels", lambda w: w.add("x_000002", a=[3]), r"label 3 \(int\) is neither .* 0\.\.2"),
        ("labels", lambda w: w.add("x_000002", v=[" "]), r"input 'v': label ' ' is empty"),
        ("scores", lambda w: w.add("x_000002", a=[0.1, 0.2]), r"expected 3 scores, got 2"),
        ("scores", lambda w: w.add("x_000002", a=[0.1, "x", 0.2]), r"score 'x' \(str\)"),
        ("scores", lambda w: w.add("x_000002", a=[0.1, True, 0.2]), r"score True \(bool\)"),
        ("scores", lambda w: w.add("x_000002", a=[0.1, np.nan, 0]), r"NaN or infinity"),
        ("scores", lambda w: w.add("x_000002", a=np.ones((1, 3))), r"got a 2-D array"),
        (
            "scores",
            lambda w: w.add_batch(["x_000002", "x_000003"], a=np.ones((3, 3))),
            r"input 'a' has 3 entries for 2 video ids",
        ),
        (
            "labels",
            lambda w: w.add_batch(["x_000002", "x_000002"], a=[[], []]),
            r"clip 'x_000002' appears more than once",
        ),
    ],
)
def test_bad_predictions_are_refused_naming_the_file_clip_and_input(tmp_path, kind, call, message):
    path = tmp_path / "model.jsonl"
    writer = PredictionWriter(path, kind, class_names=CLASSES)
    writer.add("x_000001", **({"a": ["dog"]} if kind == "labels" else {"a": [0.0, 0.0, 1.0]}))
    with pytest.raises(PredictionWriterError, match=message) as caught:
        call(writer)
    assert str(caught.value).startswith(str(path))
    assert writer.num_clips == 1  # nothing of the bad call was added
    writer.close()
    assert len(read_predictions(path, CLASSES)["a"].video_ids) == 1


def test_a_bad_batch_adds_none_of_its_clips(tmp_path):
    path = tmp_path / "model.jsonl"
    with PredictionWriter(path, class_names=CLASSES) as writer:
        with pytest.raises(PredictionWriterError, match="x_000003"):
            writer.add_batch(["x_000002", "x_000003"], a=[["dog"], [True]])
        writer.add("x_000002", a=["cat"])  # not taken by the failed batch
    assert read_predictions(path, CLASSES)["a"].video_ids.tolist() == ["x_000002"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"path": "model.csv"}, r"cannot write predictions with extension '\.csv'; use one of"),
        ({"path": "model.jsonl", "format": "json"}, r"format 'json'"),
        ({"path": "model.jsonl", "kind": "logits"}, r"kind must be one of"),
        ({"path": "model.jsonl", "chunk_size": 0}, r"chunk_size must be a positive integer"),
    ],
)
def test_bad_writer_options_are_refused(tmp_path, options, message):
    path = tmp_path / options.pop("path")
    with pytest.raises(PredictionWriterError, match=message):
        PredictionWriter(path, **options)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_an_os_error_naming_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        PredictionWriter(tmp_path / "no" / "model.parquet")
