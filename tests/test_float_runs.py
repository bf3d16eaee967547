"""The score-pickle fast path (io/float_runs.py): whole lists of floats decoded in one numpy
pass must give bit for bit what the checked unpickler gives, on every layout a pickler writes
and on crafted bytes that only look like one, and must never accept what the checked path
refuses."""

from __future__ import annotations

import functools
import io
import mmap
import pickle
import pickletools
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vggsounder_hf.core.errors import PredictionError
from vggsounder_hf.io import fast_floats, float_runs, safe_pickle
from vggsounder_hf.io.readers import read_predictions
from vggsounder_hf.io.safe_pickle import (
    _SCANNED_GLOBALS,
    PickleLimitError,
    UnsafePickleError,
    _find_global,
    _RestrictedUnpickler,
    load_pickle,
    safe_loads,
)

WIDTH = 309


def _checked(data: bytes):
    """What the pure-Python checked unpickler builds (the path that never changes)."""
    return _RestrictedUnpickler(data, "t.pkl").load()


def _bits(value) -> object:
    """A comparable image of a loaded structure: floats by their 64 bits, arrays as lists."""
    if isinstance(value, np.ndarray):
        return ("floats", [struct.pack(">d", item) for item in value.tolist()])
    if isinstance(value, float):
        return ("float", struct.pack(">d", value))
    if isinstance(value, list) and all(type(item) is float for item in value) and value:
        return ("floats", [struct.pack(">d", item) for item in value])
    if isinstance(value, dict):
        return ("dict", [(_bits(key), _bits(item)) for key, item in value.items()])
    if isinstance(value, list | tuple):
        return (type(value).__name__, [_bits(item) for item in value])
    return (type(value).__name__, value)


def _fast(data: bytes):
    return safe_loads(data, float_arrays=True)


def _arrays_in(value) -> int:
    if isinstance(value, np.ndarray):
        return 1
    if isinstance(value, dict):
        return sum(_arrays_in(item) for item in value.values())
    if isinstance(value, list | tuple):
        return sum(_arrays_in(item) for item in value)
    return 0


def _scores(num_clips: int, width: int = WIDTH, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        f"clip{index:06d}_000001": {
            "logits": {name: rng.normal(size=width).tolist() for name in ("a", "v", "av")}
        }
        for index in range(num_clips)
    }


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_every_protocol_gives_the_checked_values_with_lists_as_arrays(protocol):
    data = pickle.dumps(_scores(40), protocol=protocol)
    loaded = _fast(data)
    assert _bits(loaded) == _bits(_checked(data))
    assert _arrays_in(loaded) == 120  # every list of scores took the fast path
    row = loaded["clip000000_000001"]["logits"]["a"]
    assert row.dtype == np.float64 and row.shape == (WIDTH,) and not row.flags.writeable


def test_lists_split_by_a_frame_header_are_decoded_across_it():
    data = pickle.dumps(_scores(200), protocol=4)
    frames = [pos for op, _, pos in pickletools.genops(data) if op.name == "FRAME"]
    assert len(frames) > 20
    floats_around = [
        pos
        for pos in frames[1:]
        if data[pos - 9] == ord("G") and data[pos + 9] == ord("G")  # a list goes on across it
    ]
    assert floats_around, "the test needs frames that cut a list of floats"
    loaded = _fast(data)
    assert _arrays_in(loaded) == 600
    assert _bits(loaded) == _bits(_checked(data))


@pytest.mark.parametrize(
    "values",
    [
        [0.5] * 15,  # too short to pay: stays a list
        [0.5] * 16,
        [0.25 * index for index in range(1000)],  # one APPENDS batch
        [0.25 * index for index in range(1001)],  # two batches: stays a list
        [0.5] * 20 + [3],  # ints after the floats
        [3] + [0.5] * 20,  # ints before them
        [0.5] * 10 + ["x"] + [0.5] * 30,
        [float("nan"), float("-inf"), -0.0, 5e-324, *([1.5] * 20)],
    ],
    ids=["15", "16", "1000", "1001", "float-int", "int-float", "text-inside", "special"],
)
def test_lists_of_every_shape_load_as_the_checked_unpickler_loads_them(values):
    data = pickle.dumps({"clip_000001": values, "pad": ["y"] * 3000}, protocol=5)
    assert _bits(_fast(data)) == _bits(_checked(data))


def test_a_nan_payload_and_signed_zero_keep_their_bits():
    payload = struct.unpack(">d", bytes.fromhex("7ff8000000abcdef"))[0]
    values = [payload, -0.0, *([2.0] * 30)]
    data = pickle.dumps({"x_000001": values, "pad": "z" * 5000}, protocol=4)
    row = _fast(data)["x_000001"]
    assert isinstance(row, np.ndarray)
    assert row[:2].tobytes() == struct.pack("<dd", payload, -0.0)


def test_a_list_referenced_twice_is_one_array_in_both_places():
    shared = [0.125 * index for index in range(50)]
    data = pickle.dumps({"a": shared, "b": shared, "pad": "z" * 5000}, protocol=2)
    assert b"h" in data or b"j" in data  # the second reference is a memo GET
    loaded = _fast(data)
    assert loaded["a"] is loaded["b"]
    assert _bits(loaded) == _bits(_checked(data))


def test_tuples_dicts_and_nested_lists_of_floats_keep_their_shape():
    value = {
        "tuple": tuple([0.5] * 40),
        "dict": {float(index): 1.5 for index in range(40)},
        "nested": [[0.75] * 20, [0.25] * 20],
        "pad": "z" * 5000,
    }
    data = pickle.dumps(value, protocol=5)
    loaded = _fast(data)
    assert type(loaded["tuple"]) is tuple and type(loaded["dict"]) is dict
    assert _bits(loaded) == _bits(_checked(data))


def _binint2_hiding_a_list_head() -> bytes:
    """A pickle whose bytes contain ``](`` + floats + ``e`` where ``](`` are the argument
    of ``BININT2``: read from the right boundary it is no list at all."""
    floats = b"".join(b"G" + struct.pack(">d", 0.5) for _ in range(20))
    body = b"]\x94(" + b"M](" + floats + b"e" + b"\x8c\x03pad\x94" + b"X" + b"\x00\x10\x00\x00"
    body += b"z" * 4096 + b"\x86\x94a."
    return b"\x80\x04" + body


def test_bytes_that_only_look_like_a_list_head_are_read_from_the_true_boundaries():
    data = _binint2_hiding_a_list_head()
    assert _bits(_fast(data)) == _bits(_checked(data))
    assert _arrays_in(_fast(data)) == 0


def test_a_text_holding_pickled_floats_stays_text():
    inner = pickle.dumps([0.5] * 40, protocol=4)[2:]
    value = {"note": inner.decode("latin-1"), "pad": "z" * 5000, "row": [0.25] * 40}
    data = pickle.dumps(value, protocol=4)
    loaded = _fast(data)
    assert loaded["note"] == value["note"] and _arrays_in(loaded) == 1


@pytest.mark.parametrize("cut", [1, 9, 100, 2000])
def test_a_truncated_score_pickle_is_refused_as_before(cut):
    data = pickle.dumps(_scores(10), protocol=4)[:-cut]
    with pytest.raises(pickle.UnpicklingError) as checked_error:
        safe_loads(data)
    with pytest.raises(pickle.UnpicklingError) as fast_error:
        _fast(data)
    assert str(fast_error.value) == str(checked_error.value)


def test_numpy_arrays_in_the_pickle_take_the_checked_path_and_load_the_same():
    value = {f"c{index}_000001": {"logits": {"a": np.arange(309.0)}} for index in range(20)}
    data = pickle.dumps(value, protocol=4)
    loaded = _fast(data)
    assert all(np.array_equal(loaded[key]["logits"]["a"], np.arange(309.0)) for key in value)


def test_a_disallowed_global_next_to_score_lists_is_still_refused():
    class Evil:
        def __reduce__(self):
            return (print, ("never",))

    data = pickle.dumps({"row": [0.5] * 400, "evil": Evil(), "pad": "z" * 5000}, protocol=4)
    with pytest.raises(UnsafePickleError, match=r"builtins\.print"):
        _fast(data)


def test_shared_lists_beyond_the_element_budget_are_refused_as_before():
    row = [0.5] * 1000
    layer = [row] * 1000
    data = pickle.dumps([layer] * 100, protocol=4)  # 100 million floats when expanded
    with pytest.raises(PickleLimitError):
        _fast(data)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.lists(st.floats(allow_nan=True, width=64), min_size=0, max_size=60), max_size=40
    ),
    protocol=st.integers(2, pickle.HIGHEST_PROTOCOL),
    pad=st.integers(0, 9000),
)
def test_any_rows_of_floats_load_bit_for_bit(rows, protocol, pad):
    data = pickle.dumps({"x_000001": {"logits": {"a": rows}}, "pad": "p" * pad}, protocol)
    assert _bits(_fast(data)) == _bits(_checked(data))


def test_the_layout_records_lists_only_at_opcode_boundaries():
    data = pickle.dumps({"row": [0.5] * 40, "pad": "z" * 5000}, protocol=4)
    layout = float_runs.Layout()
    assert float_runs.scan(data, layout)
    (head, put, first, appends, split), *more = layout.lists
    assert not more and split == -1
    assert data[head:first] == b"]" + put + b"(" and data[appends] == ord("e")
    assert (appends - first) // 9 == 40


def test_a_score_model_reads_into_the_same_matrices_by_either_path(tmp_path, release_1_0):
    mapping = {
        clip.video_id: {"logits": {name: (np.linspace(-1, 1, WIDTH) * i).tolist() for name in "av"}}
        for i, clip in enumerate(release_1_0.clips[:300])
    }
    fast_file, checked_file = tmp_path / "fast.pkl", tmp_path / "checked.pkl"
    fast_file.write_bytes(pickle.dumps(mapping, protocol=4))
    checked_file.write_bytes(pickle.dumps(mapping, protocol=1))  # protocol 1: checked path
    fast = read_predictions(fast_file, release_1_0.class_names)
    checked = read_predictions(checked_file, release_1_0.class_names)
    for name in ("a", "v"):
        assert fast.inputs[name].video_ids.tolist() == checked.inputs[name].video_ids.tolist()
        assert fast.inputs[name].matrix.tobytes() == checked.inputs[name].matrix.tobytes()


def test_scores_that_are_not_finite_name_the_clip_on_the_fast_path(tmp_path, release_1_0):
    clip = release_1_0.clips[3].video_id
    mapping = {c.video_id: {"logits": {"av": [0.5] * WIDTH}} for c in release_1_0.clips[:20]}
    mapping[clip]["logits"]["av"][7] = float("nan")
    path = tmp_path / "nan.pkl"
    path.write_bytes(pickle.dumps(mapping, protocol=4))
    with pytest.raises(PredictionError, match=f"clip {clip!r}, input 'av'.*NaN"):
        read_predictions(path, release_1_0.class_names)


# ------------------------------------------------------------- decoding into the file's buffer


def _writable_copy(data, kind):
    if kind == "bytearray":
        return bytearray(data)
    mapped = mmap.mmap(-1, len(data))  # what load_pickle reads a large file into
    mapped[:] = data
    return mapped


def _rows_loaded(data, check=len):
    find = functools.partial(_find_global, _SCANNED_GLOBALS)
    return float_runs.load_float_rows(data, find, check)


@pytest.mark.parametrize("protocol", [2, 4, 5])
@pytest.mark.parametrize(
    "value",
    [
        pytest.param([[float(i) for i in range(500)]] * 1, id="a-list-at-the-first-bytes"),
        pytest.param(_scores(30, seed=3), id="score-model-with-lists-split-by-frames"),
        pytest.param(
            [[0.25] * 17, "x" * 70_000, [1.5] * 900, "y" * 70_000, [-0.0] * 16],
            id="unframed-text-between",
        ),
    ],
)
@pytest.mark.parametrize("writable", ["bytearray", "mmap"])
def test_writable_memory_is_decoded_in_place_to_the_same_bits(protocol, value, writable):
    data = pickle.dumps(value, protocol=protocol)
    if len(data) < 4096:
        data = pickle.dumps([value, "p" * 5000], protocol=protocol)
    copied = _rows_loaded(data)
    buffer = _writable_copy(data, writable)
    in_place = _rows_loaded(buffer)
    assert copied is not None and in_place is not None
    assert _bits(in_place[0]) == _bits(copied[0]) == _bits(_checked(data))
    assert _arrays_in(in_place[0]) >= 1
    assert bytes(buffer) != data  # the floats now lie in the file's own buffer


def _varied_scores(num_clips: int, seed: int) -> dict:
    """Score-model-like entries whose clip ids and list lengths vary (other distances)."""
    rng = np.random.default_rng(seed)
    entries = {}
    for index in range(num_clips):
        width = WIDTH if rng.random() < 0.9 else int(rng.integers(16, 400))
        clip = f"clip{'x' * int(rng.integers(0, 3))}{index:06d}_000001"
        entries[clip] = {"logits": {name: rng.normal(size=width).tolist() for name in "abc"}}
    return entries


@pytest.mark.parametrize("protocol", [4, 5])
@pytest.mark.parametrize("value", [_scores(1500, seed=11), _varied_scores(1500, seed=12)])
def test_a_large_score_pickle_is_decoded_in_place_to_the_same_bits(protocol, value):
    data = pickle.dumps(value, protocol=protocol)
    in_place = _rows_loaded(bytearray(data))
    assert in_place is not None
    assert _bits(in_place[0]) == _bits(_checked(data))


@pytest.mark.parametrize(
    ("value", "regular"), [(_scores(600, seed=13), True), (_varied_scores(600, seed=14), False)]
)
def test_no_piece_writes_over_floats_still_to_be_read(value, regular):
    data = pickle.dumps(value, protocol=5)
    layout = float_runs.Layout()
    assert fast_floats.scan(data, layout)
    plan = float_runs._FloatPlan.of(layout.lists)
    source_start = plan.starts
    source_end = plan.starts + 9 * plan.counts + 9 * (plan.splits >= 0)
    pending = np.ones(len(plan.starts), dtype=bool)
    done_order = []
    for first, step, rows in plan.pieces:
        members = np.arange(first, first + step * rows, step)
        assert pending[members].all()  # each list is decoded once
        for member in members:
            target = (8 * plan.offsets[member], 8 * (plan.offsets[member] + plan.counts[member]))
            others = pending.copy()
            if rows == 1:  # one numpy assignment copies a source overlapping its target
                others[member] = False
            overlap = (source_start[others] < target[1]) & (source_end[others] > target[0])
            assert not overlap.any(), (first, step, rows)
        pending[members] = False
        done_order.extend(members.tolist())
    assert not pending.any() and sorted(done_order) == list(range(len(plan.starts)))
    if regular:  # one input's lists between two frame headers go together
        assert len(plan.pieces) < len(plan.starts) / 2


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("value", [_scores(300, seed=21), _varied_scores(300, seed=22)])
def test_the_structure_built_by_gathers_is_the_one_built_by_joins(protocol, value):
    data = pickle.dumps(value, protocol=protocol)
    layout = float_runs.Layout()
    assert fast_floats.scan(data, layout) and layout.lists
    replacements = float_runs._replacements(layout.lists)
    assert replacements is not None  # a pickler's puts have one length
    joined = float_runs._joined(data, layout)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(float_runs, "_GATHER_LIMIT", len(data))  # protocols 2-3 keep much
        patch.setattr(float_runs, "_joined", None)  # the gathers alone build it
        assert float_runs._gathered(data, layout, replacements) == joined


def test_a_structure_with_much_text_around_the_lists_is_joined(monkeypatch):
    data = pickle.dumps([_scores(20, seed=23), "t" * 100_000], protocol=5)
    layout = float_runs.Layout()
    assert fast_floats.scan(data, layout)
    expected = float_runs._joined(data, layout)
    monkeypatch.setattr(float_runs, "_GATHER_LIMIT", 50_000)  # no index arrays this large
    calls = []
    real = float_runs._joined
    monkeypatch.setattr(float_runs, "_joined", lambda *a: calls.append(1) or real(*a))
    assert float_runs._structure(data, layout)[11:] == expected[2:] and calls == [1]


def test_the_in_place_arrays_are_read_only_views_of_the_buffer():
    buffer = bytearray(pickle.dumps(_scores(20), protocol=4))
    row = _rows_loaded(buffer)[0]["clip000003_000001"]["logits"]["v"]
    assert not row.flags.writeable
    assert np.shares_memory(row, np.frombuffer(buffer, np.uint8))


@pytest.mark.parametrize("writable", ["bytearray", "mmap"])
def test_writable_memory_the_fast_path_declines_is_left_as_it_was(writable):
    data = pickle.dumps(_scores(20), protocol=4)
    buffer = _writable_copy(data, writable)

    def refuse(loaded):
        raise PickleLimitError("over the limit")

    assert _rows_loaded(buffer, refuse) is None  # the caller's checked path then reads it
    assert bytes(buffer) == data


@pytest.mark.skipif(not hasattr(mmap, "MAP_POPULATE"), reason="Linux only")
def test_a_large_file_is_read_into_a_mapping_filled_ahead(tmp_path, monkeypatch):
    data = pickle.dumps(_scores(1200, seed=7), protocol=5)
    assert len(data) >= safe_pickle._PREFAULT_BYTES
    path = tmp_path / "m.pkl"
    path.write_bytes(data)
    flags = []
    real_mmap = mmap.mmap

    def recording_mmap(*args, **options):
        flags.append(options.get("flags", 0))
        return real_mmap(*args, **options)

    monkeypatch.setattr(mmap, "mmap", recording_mmap)
    loaded = load_pickle(path, float_arrays=True)
    assert len(flags) == 1 and flags[0] & mmap.MAP_POPULATE and flags[0] & mmap.MAP_PRIVATE
    assert _bits(loaded) == _bits(_checked(data))


@pytest.mark.parametrize("size", [100, 3 << 20])
def test_a_file_that_shrank_since_its_size_was_read_gives_the_bytes_it_still_has(size):
    data = bytes(range(256)) * (size // 512)
    read = safe_pickle._read_into_fresh_memory(io.BytesIO(data), size)
    assert type(read) is bytearray and bytes(read) == data


def test_load_pickle_gives_the_bits_safe_loads_gives(tmp_path):
    data = pickle.dumps(_scores(50, seed=5), protocol=5)
    path = tmp_path / "m.pkl"
    path.write_bytes(data)
    assert _bits(load_pickle(path, float_arrays=True)) == _bits(_fast(data))
    assert _bits(load_pickle(path)) == _bits(_checked(data))


def _without_checked_path(monkeypatch):
    def fail(self):
        raise AssertionError("the checked unpickler was used")

    monkeypatch.setattr(_RestrictedUnpickler, "load", fail)


def test_every_released_prediction_file_takes_the_fast_path(
    monkeypatch, shared_data, released_models
):
    _without_checked_path(monkeypatch)  # a slip to the slow path would give the same values
    for name in released_models:  # label sets: no list of floats at all
        loaded = load_pickle(shared_data / "model-predictions" / f"{name}.pkl", float_arrays=True)
        assert len(loaded) > 8_000  # one entry per clip the model answered


def test_a_score_pickle_takes_the_fast_path(monkeypatch, tmp_path):
    path = tmp_path / "scores.pkl"
    path.write_bytes(pickle.dumps(_scores(40), protocol=4))
    _without_checked_path(monkeypatch)
    assert _arrays_in(load_pickle(path, float_arrays=True)) == 120
