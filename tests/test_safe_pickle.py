"""Specification of vggsounder_hf.io.safe_pickle: prediction pickles load as data, never as code."""

from __future__ import annotations

import collections
import os
import pickle
import re
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vggsounder_hf.io.safe_pickle import UnsafePickleError, load_pickle, safe_loads


class _OpensFileForWriting:
    """Pickles to ``open(path, "w")``: loading it the plain way creates the file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


class _RunsShellCommand:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def _malicious_predictions(payload: object) -> bytes:
    """A pickle that looks like predictions but carries ``payload`` inside."""
    return pickle.dumps({"x_000001": {"predictions": {"a": ["dog barking"], "v": payload}}})


def test_the_file_writing_pickle_really_writes_a_file_when_loaded_the_plain_way(tmp_path):
    # Shows that the pickle used below is dangerous, so refusing it means something.
    target = tmp_path / "plain" / "written-by-pickle.txt"
    target.parent.mkdir()
    handle = pickle.loads(_malicious_predictions(_OpensFileForWriting(str(target))))
    handle["x_000001"]["predictions"]["v"].close()
    assert target.exists()


def test_a_pickle_that_would_write_a_file_is_refused_and_no_file_appears(tmp_path):
    target = tmp_path / "written-by-pickle.txt"
    path = tmp_path / "evil.pkl"
    path.write_bytes(_malicious_predictions(_OpensFileForWriting(str(target))))
    with pytest.raises(UnsafePickleError) as raised:
        load_pickle(path)
    message = str(raised.value)
    assert re.match(rf"{re.escape(str(path))}: refusing to load '(builtins|io)\.open'", message)
    assert "only plain data" in message
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.pkl"]


def test_a_pickle_that_would_run_a_shell_command_is_refused(tmp_path):
    target = tmp_path / "touched"
    data = _malicious_predictions(_RunsShellCommand(f"touch {target}"))
    with pytest.raises(UnsafePickleError, match=r"refusing to load '(posix|os|nt)\.system'"):
        safe_loads(data, source="shell.pkl")
    assert not target.exists()


def test_the_command_line_refuses_it_too_with_exit_code_2(tmp_path, capsys):
    from vggsounder_hf.cli.score import main

    target = tmp_path / "written-by-pickle.txt"
    path = tmp_path / "evil.pkl"
    path.write_bytes(_malicious_predictions(_OpensFileForWriting(str(target))))
    assert main([str(path), "--quiet"]) == 2
    err = capsys.readouterr().err
    prefix = f"vggsounder-score: error: {path}: refusing to load "
    assert err.startswith(prefix) and "open'" in err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert not target.exists()


def test_numpy_arrays_scalars_and_defaultdicts_load():
    scores = np.linspace(0, 1, 309, dtype=np.float32)
    nested = collections.defaultdict(dict)
    nested["x_000001"]["logits"] = {"a": scores, "v": scores.astype(np.float64)}
    nested["x_000001"]["predictions"] = {"a": np.array(["dog barking"]), "av": [np.int64(3)]}
    ordered = collections.OrderedDict(nested)
    for protocol in (3, 4, pickle.HIGHEST_PROTOCOL):
        loaded = safe_loads(pickle.dumps(ordered, protocol=protocol))
        assert list(loaded) == ["x_000001"]
        entry = loaded["x_000001"]
        assert entry["logits"]["a"].dtype == np.float32
        assert np.array_equal(entry["logits"]["v"], scores.astype(np.float64))
        assert entry["predictions"]["a"].tolist() == ["dog barking"]
        assert entry["predictions"]["av"] == [3]
    assert type(safe_loads(pickle.dumps(nested))) is dict  # see the defaultdict tests below


def _released_like(protocol: int) -> bytes:
    """A hand-made pickle shaped like the released files: defaultdicts at every level."""
    top = collections.defaultdict(dict)
    top["x_000001"] = collections.defaultdict(
        list,
        predictions=collections.defaultdict(list, a=["dog barking"], v=[]),
    )
    top["x_000002"]["logits"] = collections.defaultdict(list, av=[0.1, 0.9])
    top["x_000003"] = [collections.defaultdict(int, inside_a_list=1)]
    return pickle.dumps(top, protocol=protocol)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_defaultdict_loads_as_a_plain_dict_at_every_depth(protocol):
    loaded = safe_loads(_released_like(protocol))
    assert type(loaded) is dict
    assert type(loaded["x_000001"]) is dict
    assert type(loaded["x_000001"]["predictions"]) is dict
    assert type(loaded["x_000002"]["logits"]) is dict
    assert type(loaded["x_000003"][0]) is dict
    assert loaded == {
        "x_000001": {"predictions": {"a": ["dog barking"], "v": []}},
        "x_000002": {"logits": {"av": [0.1, 0.9]}},
        "x_000003": [{"inside_a_list": 1}],
    }


def test_a_missing_key_of_a_loaded_defaultdict_is_not_invented():
    loaded = safe_loads(_released_like(pickle.DEFAULT_PROTOCOL))
    with pytest.raises(KeyError):
        loaded["not a clip"]
    with pytest.raises(KeyError):
        loaded["x_000001"]["predictions"]["av"]
    with pytest.raises(KeyError):
        loaded["x_000001"]["logits"]
    assert sorted(loaded) == ["x_000001", "x_000002", "x_000003"]
    assert sorted(loaded["x_000001"]) == ["predictions"]


def test_a_defaultdict_whose_factory_is_unsafe_is_still_refused():
    data = pickle.dumps(collections.defaultdict(os.getcwd, x=1))
    with pytest.raises(UnsafePickleError, match=r"refusing to load '(posix|os|nt)\.getcwd'"):
        safe_loads(data, source="factory.pkl")


def test_python2_names_of_old_protocols_are_checked_after_translation():
    data = pickle.dumps({"x_000001": {"predictions": {"a": ["dog barking"]}}, "s": {1}}, protocol=0)
    assert b"__builtin__" in data
    assert safe_loads(data) == {"x_000001": {"predictions": {"a": ["dog barking"]}}, "s": {1}}
    evil = b"c__builtin__\neval\n(Vprint(1)\ntR."
    with pytest.raises(UnsafePickleError, match=r"refusing to load 'builtins\.eval'"):
        safe_loads(evil, source="old.pkl")


@pytest.mark.parametrize(
    "extra",
    [
        pickle.dumps({"x_000002": {"predictions": {"a": []}}}),
        b"garbage",
        b"\n",
        b"\x00",
    ],
    ids=["a second pickle", "garbage", "a newline", "a NUL byte"],
)
def test_bytes_after_the_end_of_the_pickle_are_refused_naming_the_file(tmp_path, extra):
    first = pickle.dumps({"x_000001": {"predictions": {"a": ["dog barking"]}}})
    path = tmp_path / "two.pkl"
    path.write_bytes(first + extra)
    with pytest.raises(pickle.UnpicklingError) as raised:
        load_pickle(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: {len(extra)} more byte(s) after the end of the pickle")
    assert f"at byte {len(first)}" in message
    assert "exactly one pickle" in message
    assert "\n" not in message


def test_a_single_pickle_with_nothing_after_it_still_loads(tmp_path):
    path = tmp_path / "one.pkl"
    path.write_bytes(pickle.dumps({"x_000001": {"predictions": {"a": []}}}))
    assert load_pickle(path) == {"x_000001": {"predictions": {"a": []}}}


def test_bytes_that_are_not_a_pickle_give_a_named_error():
    with pytest.raises(pickle.UnpicklingError, match=r"^junk\.pkl: not a valid pickle"):
        safe_loads(b"definitely not a pickle", source="junk.pkl")


def test_each_released_prediction_file_loads(shared_data, released_model):
    mapping = load_pickle(shared_data / "model-predictions" / f"{released_model}.pkl")
    assert type(mapping) is dict  # a defaultdict in the file
    assert len(mapping) > 5_000  # the files cover 8,089 to 15,357 clips
    video_id, entry = next(iter(mapping.items()))
    assert isinstance(video_id, str)
    assert set(entry["predictions"]) == {"a", "v", "av"}


# ----------------------------------------------------------------------------- legitimate data

LEGITIMATE = {
    "set": {1, "dog barking"},
    "frozenset": frozenset({2, 3}),
    "empty bytes": b"",
    "bytes": b"ab\xff\x00",
    "complex": 1 + 2j,
    "ordered dict": collections.OrderedDict(a=1, b=[2]),
    "nested tuples": ((1,), (2, (3, ())), ()),
    "tuple keys": {(1, 2): "x", ((3,),): "y"},
    "float32 array": np.linspace(0, 1, 309, dtype=np.float32),
    "empty array": np.zeros((0,), dtype=np.float64),
    "empty 2-D array": np.zeros((0, 309)),
    "string array": np.array(["dog barking", "cat"]),
    "bytes array": np.array([b"ab"]),
    "object array": np.array([1, "x", None], dtype=object),
    "bool array": np.array([True, False]),
    "complex array": np.array([1 + 1j]),
    "big-endian array": np.arange(5).astype(">i4"),
    "fortran array": np.arange(6.0).reshape(2, 3).T,
    "numpy scalars": [np.float32(0.5), np.int64(7), np.bool_(True), np.str_("dog")],
    "floats": [0.5, -0.0, 1e300, float("inf")],
}


def _same(loaded, expected) -> bool:
    if isinstance(expected, np.ndarray):
        return (
            type(loaded) is np.ndarray
            and loaded.shape == expected.shape
            and loaded.dtype.kind == expected.dtype.kind
            and loaded.tolist() == expected.tolist()
        )
    return type(loaded) is type(expected) and loaded == expected


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("name", list(LEGITIMATE))
def test_plain_data_of_every_protocol_loads_as_the_plain_unpickler_loads_it(name, protocol):
    data = pickle.dumps(LEGITIMATE[name], protocol=protocol)
    assert _same(safe_loads(data), pickle.loads(data))


def test_a_python2_pickle_with_str_bytes_loads_as_text():
    # Python 2 writes str as SHORT_BINSTRING; class names are ASCII, read as text.
    data = b"\x80\x02}q\x00U\x08x_000001q\x01}q\x02U\x0bpredictionsq\x03]q\x04U\x03dogq\x05ass."
    assert safe_loads(data) == {"x_000001": {"predictions": ["dog"]}}


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.lists(st.floats(allow_nan=True, width=64), max_size=400), max_size=6),
    protocol=st.integers(0, pickle.HIGHEST_PROTOCOL),
)
def test_runs_of_floats_load_bit_for_bit(rows, protocol):
    # Lists of scores take a fast path (whole runs of BINFLOAT opcodes at once), also
    # across frame boundaries: every bit must match the plain unpickler.
    data = pickle.dumps({"x_000001": {"logits": {"a": rows}}}, protocol=protocol)
    loaded = safe_loads(data)["x_000001"]["logits"]["a"]
    expected = pickle.loads(data)["x_000001"]["logits"]["a"]
    assert [[struct.pack(">d", v) for v in row] for row in loaded] == [
        [struct.pack(">d", v) for v in row] for row in expected
    ]


def test_a_large_score_pickle_crosses_frames_intact():
    rng = np.random.default_rng(0)
    mapping = {f"x_{i:06d}": {"logits": {"a": rng.random(309).tolist()}} for i in range(300)}
    data = pickle.dumps(mapping, protocol=4)
    assert data.count(pickle.FRAME) > 5
    assert safe_loads(data) == mapping
