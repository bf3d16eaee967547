"""A Parquet score table read from its Arrow buffers gives what the pandas path gives.

:mod:`vggsounder_hf.io.arrow_scores` is the fast path of ``read_predictions`` for the
project's Parquet score tables; the pandas path of :mod:`vggsounder_hf.io.tables` (checked
against the authors' numbers elsewhere) is its specification. Every table the fast path does
not take must reach the pandas path, with its numbers or its error unchanged.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vggsounder_hf.io import arrow_scores, readers
from vggsounder_hf.io.arrow_scores import read_score_table
from vggsounder_hf.io.prediction_writer import PredictionWriter
from vggsounder_hf.io.readers import ReaderError, read_predictions

CLASSES = ("dog", "cat", "car")


def _pandas_path(monkeypatch, path, class_names=CLASSES):
    with monkeypatch.context() as patch:
        patch.setattr(readers, "read_score_table", lambda *args: None)
        return read_predictions(path, class_names)


def _assert_same(found, expected):
    assert found.kind == expected.kind == "scores"
    assert found.input_modalities == expected.input_modalities
    for modality in expected.input_modalities:
        assert found[modality].video_ids.tolist() == expected[modality].video_ids.tolist()
        np.testing.assert_array_equal(found[modality].matrix, expected[modality].matrix)
        assert found[modality].matrix.dtype == np.float64


@pytest.fixture(scope="module")
def written_synthetic_table(tmp_path_factory, synthetic_mapping, release_1_0):
    """The synthetic score model (ties, clips without scores) as PredictionWriter writes it."""
    path = tmp_path_factory.mktemp("arrow") / "synthetic.parquet"
    with PredictionWriter(path, "scores", class_names=release_1_0.class_names) as writer:
        for video_id, entry in synthetic_mapping.items():
            writer.add(video_id, **entry["logits"])
    return path


def test_the_written_synthetic_model_reads_as_the_pandas_path_and_the_pickle_read_it(
    monkeypatch, written_synthetic_table, synthetic_predictions, release_1_0
):
    fast = read_score_table(written_synthetic_table, release_1_0.class_names, "s.parquet")
    assert fast is not None  # the project's own table takes the fast path
    _assert_same(fast, _pandas_path(monkeypatch, written_synthetic_table, release_1_0.class_names))
    _assert_same(fast, synthetic_predictions)


def test_reading_a_clean_score_table_does_not_import_pandas(written_synthetic_table):
    code = (
        "import sys; from vggsounder_hf.io.readers import read_predictions; "
        "from vggsounder_hf.io.sources import load_release; "
        f"read_predictions({str(written_synthetic_table)!r}, load_release('1.0').class_names); "
        "print('pandas' in sys.modules)"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert found.stdout.strip() == "False", found.stderr


def _table(**overrides):
    columns = {
        "video_id": ["x_000001", "x_000001", "x_000002", "x_000003"],
        "input_modality": ["a", "av", "av", "av"],
        "score_0": [0.1, 0.2, 0.3, 0.4],
        "score_1": [1.0, 0.5, 0.5, -2.0],
        "score_2": [0.0, 0.0, 3.5, 1e300],
    }
    columns.update(overrides)
    return pd.DataFrame({name: value for name, value in columns.items() if value is not None})


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({}, id="float64"),
        pytest.param({"score_1": np.array([1.0, 0.5, 0.5, -2.0], np.float32)}, id="float32"),
        pytest.param({"input_modality": ["v", "a", "v", "a"]}, id="inputs-interleaved"),
        pytest.param({"input_modality": ["av"] * 4, "video_id": list("abcd")}, id="one-input"),
    ],
)
def test_clean_tables_take_the_fast_path_with_the_pandas_numbers(tmp_path, monkeypatch, change):
    path = tmp_path / "m.parquet"
    _table(**change).to_parquet(path)
    fast = read_score_table(path, CLASSES, str(path))
    assert fast is not None
    _assert_same(fast, _pandas_path(monkeypatch, path))


def test_a_table_in_several_row_groups_reads_whole(tmp_path, monkeypatch):
    path = tmp_path / "m.parquet"
    pq.write_table(pa.Table.from_pandas(_table(), preserve_index=False), path, row_group_size=1)
    assert pq.ParquetFile(path).metadata.num_row_groups == 4
    fast = read_score_table(path, CLASSES, str(path))
    assert fast is not None
    _assert_same(fast, _pandas_path(monkeypatch, path))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"score_1": [1.0, None, 0.5, 2.0]}, "row 2: score_1 is empty"),
        ({"score_1": [1.0, np.nan, 0.5, 2.0]}, "row 2: score_1 is empty"),
        ({"score_1": ["1.0", "0.5", "0.5", "2.0"]}, "row 1: score_1 value '1.0' is not a number"),
        ({"video_id": ["x_000001", " ", "x_000002", "x_000003"]}, "row 2: video_id is empty"),
        ({"video_id": ["x_000001", None, "x_000002", "x_000003"]}, "row 2: video_id is empty"),
        ({"input_modality": ["a", "audio", "av", "av"]}, "row 2: unknown input modality"),
        ({"extra": [1, 2, 3, 4]}, "unexpected column(s) 'extra'"),
        ({"score_2": None}, "missing score column(s) score_2"),
    ],
)
def test_bad_tables_leave_the_fast_path_and_get_the_pandas_paths_error(tmp_path, change, message):
    path = tmp_path / "m.parquet"
    _table(**change).to_parquet(path)
    assert read_score_table(path, CLASSES, str(path)) is None
    with pytest.raises(ReaderError) as error:
        read_predictions(path, CLASSES)
    assert message in str(error.value) and str(path) in str(error.value)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"score_0": [1, 2, 3, 4]}, id="integer-scores"),
        pytest.param({"video_id": None, "clip": ["x"] * 4}, id="renamed-id-column"),
    ],
)
def test_tables_the_fast_path_does_not_take_keep_their_pandas_result(tmp_path, monkeypatch, change):
    path = tmp_path / "m.parquet"
    _table(**change).to_parquet(path)
    assert read_score_table(path, CLASSES, str(path)) is None
    try:
        expected = _pandas_path(monkeypatch, path)
    except ReaderError as error:
        with pytest.raises(ReaderError) as again:
            read_predictions(path, CLASSES)
        assert str(again.value) == str(error)
    else:
        _assert_same(read_predictions(path, CLASSES), expected)


def test_a_label_table_is_left_to_the_pandas_path(tmp_path):
    path = tmp_path / "m.parquet"
    pd.DataFrame({"video_id": ["x_000001"], "input_modality": ["a"], "label": ["dog"]}).to_parquet(
        path
    )
    assert read_score_table(path, CLASSES, str(path)) is None
    assert read_predictions(path, CLASSES).kind == "labels"


def test_a_table_over_the_size_limit_is_refused_before_the_fast_path_reads_it(
    tmp_path, monkeypatch
):
    path = tmp_path / "m.parquet"
    _table().to_parquet(path)
    monkeypatch.setattr(arrow_scores, "element_budget", lambda size: 3)
    monkeypatch.setattr(readers, "read_score_table", pytest.fail)
    with pytest.raises(ReaderError, match="exceed the limit"):
        read_predictions(path, CLASSES)
