"""Specification of vggsounder_hf.io.safe_pickle: prediction pickles load as data, never as code."""

from __future__ import annotations

import collections
import os
import pickle
import re

import numpy as np
import pytest

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
    assert isinstance(safe_loads(pickle.dumps(nested)), collections.defaultdict)


def test_bytes_that_are_not_a_pickle_give_a_named_error():
    with pytest.raises(pickle.UnpicklingError, match=r"^junk\.pkl: not a valid pickle"):
        safe_loads(b"definitely not a pickle", source="junk.pkl")


def test_each_released_prediction_file_loads(shared_data, released_model):
    mapping = load_pickle(shared_data / "model-predictions" / f"{released_model}.pkl")
    assert len(mapping) > 5_000  # the files cover 8,089 to 15,357 clips
    video_id, entry = next(iter(mapping.items()))
    assert isinstance(video_id, str)
    assert set(entry["predictions"]) == {"a", "v", "av"}
