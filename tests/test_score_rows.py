"""Specification of vggsounder_hf.core.score_rows' noted row layouts: the rows the score
pickle reader makes are laid out as one strided view per input from what the reader noted,
and any other list of rows (copies, other views, another order, rows of a freed buffer)
gives the same matrix through the address path."""

from __future__ import annotations

import gc
import pickle

import numpy as np
import pytest

from vggsounder_hf.core import score_rows
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.io.safe_pickle import load_pickle

WIDTH = 309


@pytest.fixture
def score_pickle(tmp_path):
    rng = np.random.default_rng(5)
    mapping = {
        f"clip{index:06d}_000001": {
            "logits": {name: rng.normal(size=WIDTH).tolist() for name in ("a", "v", "av")}
        }
        for index in range(400)
    }
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(mapping, protocol=5))
    return path, mapping


def _rows(loaded, modality):
    return [entry["logits"][modality] for entry in loaded.values()]


def _ids(count):
    return np.asarray([f"x{index:06d}_000001" for index in range(count)], object)


def test_the_readers_rows_are_laid_out_from_the_noted_layout(score_pickle):
    path, mapping = score_pickle
    loaded = load_pickle(path, float_arrays=True)
    for modality in ("a", "v", "av"):
        rows = _rows(loaded, modality)
        noted = score_rows._remembered_addresses(rows, rows[0].base)
        assert noted is not None
        assert noted.tolist() == [row.ctypes.data for row in rows]  # the true addresses
        matrix = score_rows.score_matrix(_ids(len(rows)), rows, WIDTH, "m.pkl", modality)
        assert np.shares_memory(matrix, rows[0])  # a view, no copy
        assert matrix.tolist() == [entry["logits"][modality] for entry in mapping.values()]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda rows, other: rows[::-1], id="another-order"),
        pytest.param(lambda rows, other: [rows[0], *map(np.copy, rows[1:])], id="copies"),
        pytest.param(lambda rows, other: [row[:] for row in rows], id="other-views-same-memory"),
        pytest.param(lambda rows, other: rows[:1] + rows[2:], id="a-row-left-out"),
        pytest.param(lambda rows, other: [rows[1], rows[0], *rows[2:]], id="two-swapped"),
        pytest.param(lambda rows, other: [*rows[:5], other[5], *rows[6:]], id="another-inputs"),
    ],
)
def test_other_rows_give_the_same_matrix_through_the_address_path(score_pickle, change):
    path, _ = score_pickle
    loaded = load_pickle(path, float_arrays=True)
    rows = change(_rows(loaded, "v"), _rows(loaded, "a"))
    expected = np.array([np.asarray(row) for row in rows])
    matrix = score_rows.score_matrix(_ids(len(rows)), rows, WIDTH, "m.pkl", "v")
    assert np.array_equal(matrix, expected)


def test_a_note_ends_with_the_buffer_it_describes(score_pickle):
    path, _ = score_pickle
    loaded = load_pickle(path, float_arrays=True)
    owner = id(_rows(loaded, "a")[0].base)
    assert owner in score_rows._KNOWN_ROWS
    del loaded
    gc.collect()
    assert owner not in score_rows._KNOWN_ROWS


def test_rows_of_a_buffer_nobody_noted_take_the_address_path():
    flat = np.arange(4 * WIDTH, dtype=np.float64)
    rows = [flat[start : start + WIDTH] for start in range(0, 4 * WIDTH, WIDTH)]
    assert score_rows._remembered_addresses(rows, flat) is None
    matrix = score_rows.score_matrix(_ids(4), rows, WIDTH, "m.pkl", "a")
    assert np.shares_memory(matrix, flat) and np.array_equal(matrix, flat.reshape(4, WIDTH))


def test_from_mapping_of_a_read_score_pickle_views_the_files_buffer(score_pickle, monkeypatch):
    path, mapping = score_pickle
    loaded = load_pickle(path, float_arrays=True)
    calls = []
    real = score_rows._remembered_addresses
    monkeypatch.setattr(
        score_rows, "_remembered_addresses", lambda *args: calls.append(real(*args)) or calls[-1]
    )
    predictions = ModelPredictions.from_mapping(loaded, [f"c{i}" for i in range(WIDTH)], "m.pkl")
    assert len(calls) == 3 and all(found is not None for found in calls)
    first = next(iter(mapping))
    assert predictions["av"].matrix[0].tolist() == mapping[first]["logits"]["av"]
