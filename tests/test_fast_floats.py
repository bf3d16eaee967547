"""The byte-level scan that lets the C unpickler read a pickle: same result as the checked
unpickler on every case it accepts, and every hazard sent to the checked path."""

from __future__ import annotations

import math
import pickle
import struct

import numpy as np
import pytest

from vggsounder_hf.io import fast_floats
from vggsounder_hf.io.safe_pickle import PickleLimitError, _RestrictedUnpickler, safe_loads


def _checked(data: bytes):
    return _RestrictedUnpickler(data, "t.pkl").load()


def _same(left, right) -> bool:
    """Equal, with floats compared by their bits (NaN payloads, signed zeros)."""
    if isinstance(left, float):
        return type(right) is float and struct.pack(">d", left) == struct.pack(">d", right)
    if isinstance(left, dict):
        return (
            type(left) is type(right)
            and list(left) == list(right)
            and all(_same(left[key], right[key]) for key in left)
        )
    if isinstance(left, list | tuple):
        return (
            type(left) is type(right)
            and len(left) == len(right)
            and all(_same(a, b) for a, b in zip(left, right, strict=True))
        )
    if isinstance(left, np.ndarray):
        return np.array_equal(left, right)
    return type(left) is type(right) and left == right


def _scores(num_clips: int, width: int = 309) -> dict:
    rng = np.random.default_rng(0)
    return {
        f"clip{i:06d}_000001": {
            "logits": {m: rng.normal(size=width).tolist() for m in ("a", "v", "av")}
        }
        for i in range(num_clips)
    }


def _assert_fast_and_same(data: bytes) -> None:
    assert fast_floats.scan(data)
    assert _same(safe_loads(data), _checked(data))


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_every_protocol_reads_the_same_as_the_checked_unpickler(protocol: int) -> None:
    _assert_fast_and_same(pickle.dumps(_scores(20), protocol=protocol))


@pytest.mark.parametrize("width", [308, 309, 310])
def test_runs_of_308_309_and_310_floats(width: int) -> None:
    _assert_fast_and_same(pickle.dumps(_scores(5, width), protocol=5))


def test_frames_split_inside_a_list_of_floats() -> None:
    data = pickle.dumps(_scores(60), protocol=4)  # frames of 64 KB cut lists anywhere
    frames = data.count(pickle.FRAME)
    assert frames > 1
    _assert_fast_and_same(data)


def test_nan_and_inf_bit_patterns_are_kept() -> None:
    specials = [math.nan, -math.nan, math.inf, -math.inf, -0.0, 5e-324]
    payload = struct.unpack(">d", b"\x7f\xf0\x00\x00\x00\x00\x00\x01")[0]  # signalling NaN
    data = pickle.dumps({"x": [*specials, payload] * 200}, protocol=5)
    _assert_fast_and_same(data)
    loaded = safe_loads(data)["x"]
    assert struct.pack(">d", loaded[6]) == b"\x7f\xf0\x00\x00\x00\x00\x00\x01"


def test_mixed_int_and_float_lists() -> None:
    _assert_fast_and_same(pickle.dumps({"x": [1, 0.5, 2, 0.25, True, None] * 500}, protocol=5))


def test_memo_opcodes_and_a_float_list_referenced_twice() -> None:
    shared = [0.5] * 309
    value = {"a": shared, "b": shared, "names": [f"dog {i}" for i in range(600)]}
    for protocol in (2, 4, 5):  # BINPUT/LONG_BINPUT (2) and MEMOIZE (4, 5); BINGET twice
        data = pickle.dumps(value, protocol=protocol)
        _assert_fast_and_same(data)
        loaded = safe_loads(data)
        assert loaded["a"] is loaded["b"]


def test_numpy_arrays_take_the_checked_path_with_the_same_result() -> None:
    data = pickle.dumps({"x": np.arange(2_000, dtype=np.float32)}, protocol=5)
    assert not fast_floats.scan(data)  # BUILD and bytes: only the checked unpickler
    np.testing.assert_array_equal(safe_loads(data)["x"], np.arange(2_000, dtype=np.float32))


@pytest.mark.parametrize("cut", [1, 9, 100, 5_000])
def test_truncated_files_are_refused_as_before(cut: int) -> None:
    data = pickle.dumps(_scores(5), protocol=4)[:-cut]
    assert not fast_floats.scan(data)
    with pytest.raises(pickle.UnpicklingError):
        safe_loads(data, source="t.pkl")


def test_trailing_bytes_are_left_to_the_checked_path() -> None:
    data = pickle.dumps(_scores(5), protocol=5) + b"\x00"
    assert not fast_floats.scan(data)
    with pytest.raises(pickle.UnpicklingError, match="more byte"):
        safe_loads(data, source="t.pkl")


def test_a_huge_long_binput_index_is_never_given_to_the_c_unpickler() -> None:
    body = pickle.dumps(["x"] * 2_000, protocol=2)[:-1]  # without STOP
    data = body + b"r" + struct.pack("<I", 4_000_000_000) + b"."
    assert not fast_floats.scan(data)
    with pytest.raises(PickleLimitError, match="memo index"):
        safe_loads(data, source="t.pkl")


def test_deeply_nested_tuples_are_never_given_to_the_c_unpickler() -> None:
    data = b"\x80\x04" + b"N" * 5_000 + b"\x85" * 5_000 + b"."
    assert not fast_floats.scan(data)
    with pytest.raises(PickleLimitError, match="nested"):
        safe_loads(data, source="t.pkl")


def test_refused_globals_are_reported_by_the_checked_path() -> None:
    data = pickle.dumps([print] + [f"x{i}" for i in range(2_000)], protocol=4)
    assert fast_floats.scan(data)  # STACK_GLOBAL is allowed; the name is not
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load .builtins\.print."):
        safe_loads(data, source="t.pkl")


def test_the_released_label_pickles_take_the_fast_path(shared_data) -> None:
    path = shared_data / "model-predictions" / "gemini-1.5-pro.pkl"
    data = path.read_bytes()
    _assert_fast_and_same(data)
