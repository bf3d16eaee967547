"""Property test: random mutations of a valid prediction file through ``vggsounder-score``.

A small valid file (real clip ids of labels 1.0) is mutated at random: bytes flipped,
deleted or inserted, the file truncated, lines duplicated, whitespace added, keys repeated,
values swapped, values replaced by other types. The command runs in-process on the result.
Whatever the mutation, exactly one of these holds:

* exit code 2 and one line on stderr, ``vggsounder-score: error: <the file>: <problem>``;
* exit code 0, and the numbers are those of the unmutated file (the content did not change,
  for example whitespace between JSON tokens);
* exit code 0 with a warning on stderr (the content changed in a way the command reports:
  an unknown class name, a clip id that is not a clip of the release);
* exit code 0 and the file is still valid content (only known clips, classes and types) whose
  numbers are exactly the core's for that content (swapped values, another valid label).

Never exit code 1, never a traceback, never a silently different number.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import pickle
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vggsounder_hf.cli.score import main
from vggsounder_hf.core.schema import AV, INPUT_MODALITIES, A, V

PROG = "vggsounder-score"
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure can be reproduced
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _dump(mapping: dict) -> bytes:
    """The authors' structure as JSON, one clip per line (so that lines are clips)."""
    lines = [f" {json.dumps(key)}: {json.dumps(value)}" for key, value in mapping.items()]
    return ("{\n" + ",\n".join(lines) + "\n}\n").encode()


def _run(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(path), "-q", "--format", "json"])
    return code, out.getvalue(), err.getvalue()


def _plain(results: dict) -> dict:
    """Results as the JSON output holds them (NaN and infinity are ``null``)."""
    return {
        key: None if isinstance(value, float) and not math.isfinite(value) else value
        for key, value in results.items()
    }


class Base:
    """The valid file, its numbers, and the oracle for any content."""

    def __init__(self, release: Any, truth: Any, folder: Path) -> None:
        names = release.class_names
        clips = [clip for clip in release.clips if not clip.background_music][:6]

        def of(clip: Any, codes: tuple[int, ...]) -> list[str]:
            pairs = zip(clip.labels, clip.modalities, strict=True)
            return [names[label] for label, modality in pairs if modality in codes]

        self.mapping = {
            clip.video_id: {
                "predictions": {
                    "a": of(clip, (A, AV))[:1] + ([names[number]] if number % 2 else []),
                    "v": of(clip, (V, AV)),
                    "av": of(clip, (AV,)) or [names[number]],
                }
            }
            for number, clip in enumerate(clips)
        }
        self.truth, self.class_names, self.folder = truth, tuple(names), folder
        self.known_ids = set(truth.video_ids.tolist())
        self.data = _dump(self.mapping)
        code, out, err = _run(self.write(self.data, "base.json"))
        assert (code, err) == (0, ""), err
        self.numbers = json.loads(out)["rows"][0]["results"]

    def write(self, data: bytes, name: str = "model.json") -> Path:
        path = self.folder / name
        path.write_bytes(data)
        return path

    def core_numbers(self, mapping: Any) -> dict | None:
        """The core's numbers for ``mapping`` (``None``: the core refuses it)."""
        from vggsounder_hf.core.evaluation import evaluate_predictions
        from vggsounder_hf.core.predictions import ModelPredictions

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                predictions = ModelPredictions.from_mapping(mapping, self.class_names, source="m")
            except ValueError:
                return None
            return _plain(evaluate_predictions(self.truth, predictions))

    def is_valid_content(self, mapping: Any) -> bool:
        """Only clips of the release, known inputs, class names or indices (or ``None``, an
        empty set; an entry without predictions is a clip without one, as in the reference)."""
        if not isinstance(mapping, dict) or not mapping:
            return False
        for video_id, entry in mapping.items():
            if not isinstance(video_id, str) or video_id.removesuffix(".mp4") not in self.known_ids:
                return False
            if not isinstance(entry, dict) or not set(entry) <= {"predictions"}:
                return False
            sections = entry.get("predictions") or {}
            if not isinstance(sections, dict) or not set(sections) <= set(INPUT_MODALITIES):
                return False
            for labels in sections.values():
                if labels is not None and not (
                    isinstance(labels, list) and all(map(self._is_label, labels))
                ):
                    return False
        return True

    def _is_label(self, label: Any) -> bool:
        if isinstance(label, str):
            return label in self.class_names
        return type(label) is int and 0 <= label < len(self.class_names)


@pytest.fixture(scope="module")
def base(release_1_0, truth_1_0, tmp_path_factory) -> Base:
    return Base(release_1_0, truth_1_0, tmp_path_factory.mktemp("mutations"))


def _strict_json(data: bytes) -> Any:
    """The content of ``data`` read as strict JSON (UTF-8, no repeated key, no NaN), or
    ``None`` when it is not."""

    def unique(pairs: list[tuple[str, Any]]) -> dict:
        if len({key for key, _ in pairs}) != len(pairs):
            raise ValueError("repeated key")
        return dict(pairs)

    def refuse(name: str) -> Any:
        raise ValueError(name)

    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=unique, parse_constant=refuse)
    except (ValueError, RecursionError):
        return None


def check_outcome(base: Base, data: bytes, content: Any) -> None:
    """Run the command on ``data`` (whose content, when it is readable at all, is
    ``content``) and assert the property of the module docstring."""
    path = base.write(data)
    code, out, err = _run(path)
    assert code in (0, 2), f"exit code {code}: {err}"
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 2:
        assert out == ""
        assert err.count("\n") == 1, f"more than one line: {err!r}"
        assert err.startswith(f"{PROG}: error: {path}"), err
        return
    lines = err.splitlines()
    assert all(line.startswith(f"{PROG}: warning: ") for line in lines), err
    numbers = json.loads(out)["rows"][0]["results"]
    if content == base.mapping:
        assert numbers == base.numbers, "the same content gave other numbers"
        return
    if content is not None and base.is_valid_content(content):
        assert numbers == base.core_numbers(content), "numbers are not those of the content"
        return
    assert numbers == base.numbers or lines, (
        f"exit 0 without a warning but with other numbers than the unmutated file: {data!r}"
    )


# ------------------------------------------------------------------ mutations of the bytes


def _flip(data: bytes, draw: Callable) -> bytes:
    position = draw(st.integers(0, len(data) - 1))
    mask = draw(st.integers(1, 255))
    return data[:position] + bytes([data[position] ^ mask]) + data[position + 1 :]


def _truncate(data: bytes, draw: Callable) -> bytes:
    return data[: draw(st.integers(1, len(data) - 1))]


def _delete(data: bytes, draw: Callable) -> bytes:
    start = draw(st.integers(0, len(data) - 1))
    return data[:start] + data[start + draw(st.integers(1, 8)) :]


def _insert(data: bytes, draw: Callable) -> bytes:
    position = draw(st.integers(0, len(data)))
    junk = draw(st.one_of(st.binary(min_size=1, max_size=8), st.sampled_from(_JUNK)))
    return data[:position] + junk + data[position:]


_JUNK = [b"\x00", b"\xff", b",", b'"', b"{", b"]", b"NaN", b"true", b"\\", b"\xc3", b"\r\n"]


def _duplicate_line(data: bytes, draw: Callable) -> bytes:
    lines = data.splitlines(keepends=True)
    index = draw(st.integers(0, len(lines) - 1))
    return b"".join([*lines[: index + 1], lines[index], *lines[index + 1 :]])


def _whitespace(data: bytes, draw: Callable) -> bytes:
    """Whitespace between JSON tokens: after a structural character outside strings."""
    positions, inside = [], False
    for position, byte in enumerate(data):
        if byte == ord('"') and data[position - 1] != ord("\\"):
            inside = not inside
        elif not inside and byte in b"{}[],:":
            positions.append(position + 1)
    position = draw(st.sampled_from(positions))
    space = draw(st.text(" \t\n\r", min_size=1, max_size=4)).encode()
    return data[:position] + space + data[position:]


BYTE_MUTATIONS = {
    "flip": _flip,
    "truncate": _truncate,
    "delete": _delete,
    "insert": _insert,
    "duplicate line": _duplicate_line,
    "whitespace": _whitespace,
}


@SETTINGS
@given(data=st.data())
def test_mutated_bytes_are_refused_in_one_line_or_read_correctly(base, data):
    mutation = data.draw(st.sampled_from(sorted(BYTE_MUTATIONS)), label="mutation")
    mutated = BYTE_MUTATIONS[mutation](base.data, data.draw)
    check_outcome(base, mutated, _strict_json(mutated))


# ------------------------------------------------------------------ mutations of the content

_OTHER_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 400),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=4),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(0, 3), max_size=1),
    st.just(10**400),
)


def _swap_clips(mapping: dict, draw: Callable) -> dict:
    first, second = draw(st.lists(st.sampled_from(sorted(mapping)), min_size=2, max_size=2))
    mapping[first], mapping[second] = mapping[second], mapping[first]
    return mapping


def _swap_inputs(mapping: dict, draw: Callable) -> dict:
    sections = mapping[draw(st.sampled_from(sorted(mapping)))]["predictions"]
    first, second = draw(st.permutations(INPUT_MODALITIES))[:2]
    sections[first], sections[second] = sections[second], sections[first]
    return mapping


def _replace_label(mapping: dict, draw: Callable) -> dict:
    sections = mapping[draw(st.sampled_from(sorted(mapping)))]["predictions"]
    labels = sections[draw(st.sampled_from(INPUT_MODALITIES))]
    value = draw(st.one_of(_OTHER_VALUES, st.sampled_from(_CLASS_NAMES)))
    if labels:
        labels[draw(st.integers(0, len(labels) - 1))] = value
    else:
        labels.append(value)
    return mapping


_CLASS_NAMES = ["dog barking", "Dog barking", "dog barking ", "cat meowing", "playing piano"]


def _replace_list(mapping: dict, draw: Callable) -> dict:
    sections = mapping[draw(st.sampled_from(sorted(mapping)))]["predictions"]
    sections[draw(st.sampled_from(INPUT_MODALITIES))] = draw(_OTHER_VALUES)
    return mapping


def _replace_entry(mapping: dict, draw: Callable) -> dict:
    key = draw(st.sampled_from(sorted(mapping)))
    choice = draw(st.sampled_from(["entry", "predictions", "key"]))
    if choice == "entry":
        mapping[key] = draw(_OTHER_VALUES)
    elif choice == "predictions":
        mapping[key]["predictions"] = draw(_OTHER_VALUES)
    else:  # a misspelt or unknown key in the entry
        mapping[key] = {draw(st.sampled_from(["prediction", "Predictions", "logit"])): {}}
    return mapping


def _rename_clip(mapping: dict, draw: Callable) -> dict:
    key = draw(st.sampled_from(sorted(mapping)))
    renamed = draw(st.sampled_from([f" {key}", key.upper(), f"{key}.mp4", key[:-1], f"{key}x"]))
    return {renamed if name == key else name: value for name, value in mapping.items()}


CONTENT_MUTATIONS = {
    "swap clips": _swap_clips,
    "swap inputs": _swap_inputs,
    "replace a label": _replace_label,
    "replace a label list": _replace_list,
    "replace an entry": _replace_entry,
    "rename a clip": _rename_clip,
}


def _repeat_key(base: Base, draw: Callable) -> tuple[bytes, Any]:
    """A clip given twice in one JSON object: the later entry with other predictions."""
    key = draw(st.sampled_from(sorted(base.mapping)))
    other = base.mapping[draw(st.sampled_from(sorted(base.mapping)))]
    extra = f",\n {json.dumps(key)}: {json.dumps(other)}\n}}\n".encode()
    return base.data.rstrip().removesuffix(b"}").rstrip() + extra, None


@SETTINGS
@given(data=st.data())
def test_mutated_content_is_refused_in_one_line_or_scored_as_written(base, data):
    mutation = data.draw(
        st.sampled_from([*sorted(CONTENT_MUTATIONS), "repeat a key"]), label="mutation"
    )
    if mutation == "repeat a key":
        mutated, content = _repeat_key(base, data.draw)
    else:
        content = CONTENT_MUTATIONS[mutation](copy.deepcopy(base.mapping), data.draw)
        try:
            mutated = _dump(content)
        except (ValueError, OverflowError):  # not representable as JSON
            return
    check_outcome(base, mutated, content)


# ------------------------------------------------------------------ the same, as a pickle


@settings(max_examples=40, deadline=None, derandomize=True)
@given(data=st.data())
def test_mutated_pickles_are_refused_in_one_line_or_read_correctly(base, data):
    from vggsounder_hf.io.safe_pickle import safe_loads

    protocol = data.draw(st.sampled_from([0, 2, 4]), label="protocol")
    original = pickle.dumps(base.mapping, protocol=protocol)
    mutation = data.draw(
        st.sampled_from(["flip", "truncate", "delete", "insert"]), label="mutation"
    )
    mutated = BYTE_MUTATIONS[mutation](original, data.draw)
    try:
        content = safe_loads(mutated)  # what the file holds, read without running code
    except Exception:
        content = None
    path = base.write(mutated, "model.pkl")
    code, out, err = _run(path)
    assert code in (0, 2), f"exit code {code}: {err}"
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 2:
        assert out == "" and err.count("\n") == 1, err
        assert err.startswith(f"{PROG}: error: {path}"), err
        return
    numbers, lines = json.loads(out)["rows"][0]["results"], err.splitlines()
    if content is not None and base.is_valid_content(content):
        assert numbers == base.core_numbers(content)
    else:
        assert numbers == base.numbers or lines, f"silently other numbers: {mutated!r}"
