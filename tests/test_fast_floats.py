"""The byte-level scan that lets the C unpickler read a pickle: same result as the checked
unpickler on every case it accepts, and every hazard sent to the checked path."""

from __future__ import annotations

import math
import pickle
import random
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


# ------------------------------------------------- the level-wise walk of io/limits (issue 13)


def _random_tree(generator: random.Random, depth: int) -> object:
    """A tree of every container kind the walk knows, with scalars and numpy arrays."""
    import numpy as np

    if depth == 0 or generator.random() < 0.2:
        return generator.choice(
            ["dog", 3, 2.5, None, True, b"x", np.float32(1), np.zeros(generator.randrange(4))]
        )
    children = [_random_tree(generator, depth - 1) for _ in range(generator.randrange(5))]
    kind = generator.choice(["list", "tuple", "dict", "tuple-keys", "set", "frozenset", "array"])
    if kind == "dict":
        return {f"k{i}": child for i, child in enumerate(children)}
    if kind == "tuple-keys":
        return {(i, "x"): child for i, child in enumerate(children)}
    if kind in ("set", "frozenset"):
        scalars = {f"s{i}" for i in range(len(children))}
        return set(scalars) if kind == "set" else frozenset(scalars)
    if kind == "array":
        array = np.empty(len(children), dtype=object)
        for index, child in enumerate(children):
            array[index] = child
        return array
    return children if kind == "list" else tuple(children)


@pytest.mark.parametrize("seed", range(60))
def test_the_level_walk_counts_trees_as_the_depth_first_walk(seed):
    from vggsounder_hf.io import limits

    tree = {"clip": _random_tree(random.Random(seed), 6)}
    expected = limits._shared_size(tree, 10**9, limits.MAX_NESTING)
    # None: a container reached twice (the empty tuple is one object), left to the other walk
    assert limits._tree_size(tree, 10**9, limits.MAX_NESTING) in (None, expected)
    assert limits._tree_size([tree], 10**9, limits.MAX_NESTING) in (None, expected + 1)
    assert limits.structure_size(tree, 10**9) == expected


def test_the_level_walk_hands_shared_containers_and_cycles_on():
    from vggsounder_hf.io import limits

    shared = ["dog"] * 10
    assert limits._tree_size({"a": shared, "b": [shared]}, 10**6, 100) is None
    assert limits._tree_size([shared, shared], 10**6, 100) is None
    assert limits.structure_size({"a": shared, "b": [shared]}, 10**6) == 26
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(limits.LimitError, match="contains itself"):
        limits.structure_size(cycle, 10**6)


@pytest.mark.parametrize("depth", [99, 100, 101, 150])
def test_the_level_walk_refuses_deep_nesting_as_before(depth):
    from vggsounder_hf.io import limits

    nested: list = []
    for _ in range(depth):
        nested = [nested]
    walks = [limits._tree_size, limits._shared_size]
    outcomes = []
    for walk in walks:
        try:
            outcomes.append(walk(nested, 10**6, limits.MAX_NESTING))
        except limits.LimitError as error:
            outcomes.append(str(error))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize(
    "values",
    [
        ["dog", "cat"],
        ["dog", 3],
        ["dog", True],
        ["dog", 1.5],
        ["dog", 10**30],
        ["x"] * 10_001,
        ("dog",),
        None,
        "dog",
        {"dog"},
    ],
)
@pytest.mark.parametrize("kind", [None, "labels", "scores"])
def test_check_values_fast_path_decides_as_the_per_clip_loop(values, kind, monkeypatch):
    from vggsounder_hf.io import limits

    section = "logits" if kind == "scores" else "predictions"
    mapping = {f"c_{i:06d}": {section: {"a": ["dog"], "v": ["cat"]}} for i in range(50)}
    mapping["z_000001"] = {section: {"a": ["dog"], "v": values}}

    def outcome():
        try:
            limits.check_values(mapping, 309, "m.pkl", kind)
        except limits.PredictionError as error:
            return str(error)
        return None

    fast = outcome()
    monkeypatch.setattr(limits, "_plain_lists", lambda *args: False)
    assert fast == outcome()


@pytest.mark.parametrize("shift", range(-8, 0))  # -9 ends it between two floats: valid
def test_a_frame_that_ends_inside_a_run_of_floats_is_refused(shift):
    data = bytearray(pickle.dumps({"clip_000001": [0.5, 1.5] * 5_000}, protocol=4))
    assert data[2] == pickle.FRAME[0] and fast_floats.scan(bytes(data))
    length = int.from_bytes(data[3:11], "little")
    data[3:11] = (length + shift).to_bytes(8, "little")  # the frame now ends inside a float
    assert not fast_floats.scan(bytes(data))


@pytest.mark.parametrize("count", [1, 2, 1023, 1024, 1025, 3000])
def test_runs_of_floats_of_any_length_are_skipped_whole(count):
    values = [0.25 * index for index in range(count)] + [7, "x"]
    data = pickle.dumps({"clip_000001": values, "pad": ["y"] * 3_000}, protocol=5)
    assert fast_floats.scan(data)
    assert safe_loads(data)["clip_000001"] == values
    assert not fast_floats.scan(data[:-1])
