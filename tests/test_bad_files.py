"""The io layer's corpus of bad files: each one built here, each refused with one clear line.

Every case writes a hostile or malformed file into ``tmp_path`` and names the exception the
reader must raise and words its message must hold. Every message starts with the user's
file (never a temporary one) and is a single line. Cases cover JSON and JSONL, pickles
(unpickler errors of every kind and the resource limits), CSV and Parquet tables, and the
annotation files.
"""

from __future__ import annotations

import collections
import json
import pickle
import re
import struct
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from vggsounder_hf.core.errors import GroundTruthError, PredictionError
from vggsounder_hf.io.annotations import AnnotationError, read_annotations, read_class_names
from vggsounder_hf.io.readers import ReaderError, read_predictions
from vggsounder_hf.io.safe_pickle import load_pickle, safe_loads

CLASSES = ("dog barking", "cat meowing", "male speech, man speaking")
HEADER = "video_id,label,modality,background_music,static_image,voice_over"


@dataclass(frozen=True)
class Case:
    """A bad file: how to write it, how to read it, and what must be raised."""

    build: Callable[[Path], Path]
    error: type[Exception]
    pattern: str
    read: Callable[[Path], Any] = lambda path: read_predictions(path, CLASSES)


def text_file(name: str, text: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_text(text, encoding="utf-8")
        return path

    return build


def bytes_file(name: str, data: bytes | Callable[[], bytes]) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data() if callable(data) else data)
        return path

    return build


def json_file(name: str, value: Any) -> Callable[[Path], Path]:
    return text_file(name, json.dumps(value))


def jsonl_file(name: str, *records: Any) -> Callable[[Path], Path]:
    return text_file(name, "".join(json.dumps(record) + "\n" for record in records))


def pickled(name: str, value: Any, protocol: int = pickle.DEFAULT_PROTOCOL):
    return bytes_file(name, lambda: pickle.dumps(value, protocol=protocol))


def parquet_file(name: str, columns: dict[str, Any]) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        pd.DataFrame(columns).to_parquet(path)
        return path

    return build


def labels(value: Any) -> dict[str, Any]:
    return {"x_000001": {"predictions": {"a": value}}}


def scores(value: Any) -> dict[str, Any]:
    return {"x_000001": {"logits": {"a": value}}}


def with_global(module: str, name: str, args: bytes) -> bytes:
    """A protocol-0 pickle calling ``module.name`` on the arguments between a MARK and TUPLE."""
    return f"c{module}\n{name}\n(".encode() + args + b"tR."


def long1(value: int) -> bytes:
    data = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(data)]) + data


def billion_laughs() -> bytes:
    """A list of 10,000 references to one list of 10,000 references to one string: 100
    million elements in 40 KB."""
    inner = b"(X\x03\x00\x00\x00dog\x94" + b"h\x00" * 9_999 + b"l\x94"
    return b"\x80\x04]" + b"(" + inner + b"h\x01" * 9_999 + b"e."


def numpy_shape(shape_ops: bytes) -> bytes:
    """``np.zeros(3)`` at protocol 2 with its shape replaced in the state of ``BUILD``."""
    return pickle.dumps(np.zeros(3), protocol=2).replace(b"K\x03\x85", shape_ops)


def garbage_in_last_frame() -> bytes:
    data = pickle.dumps(labels(["dog barking"]), protocol=4)
    size = struct.unpack("<Q", data[3:11])[0]
    return data[:3] + struct.pack("<Q", size + 1) + data[11:] + b"x"


def flagged_dtype() -> bytes:
    # float64 with the flags of an object dtype: numpy would treat numbers as pointers.
    return pickle.dumps(np.dtype("f8"), protocol=2).replace(b"K\x00tq\x05b", b"K?tq\x05b")


def many_rows_parquet(folder: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = folder / "expands.parquet"
    pq.write_table(pa.table({"video_id": np.zeros(21_000_000, np.int8)}), path)
    return path


def repeated_parquet_column(folder: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = folder / "twice.parquet"
    columns = [pa.array(["x_000001"]), pa.array(["a"]), pa.array(["dog barking"])] * 1
    table = pa.Table.from_arrays(
        [*columns, pa.array(["cat meowing"])], ["video_id", "input_modality", "label", "label"]
    )
    pq.write_table(table, path)
    return path


def late_bad_byte(folder: Path) -> Path:
    path = folder / "late.csv"
    rows = "".join(f"x_{i:06d},a,dog barking\n" for i in range(1_000))
    path.write_bytes(b"video_id,input_modality,label\n" + rows.encode() + b"y_000001,a,caf\xe9\n")
    return path


def annotations(name: str, *rows: str, header: str = HEADER) -> Callable[[Path], Path]:
    return text_file(name, "\n".join([header, *rows]) + "\n")


def read_labels(path: Path) -> Any:
    return read_annotations(path, CLASSES)


DEEP = 100_000
ROW = "x_000001,a,dog barking"
SCORE_HEADER = "video_id,input_modality,score_0,score_1,score_2"

CASES: dict[str, Case] = {
    # ------------------------------------------------------------------ JSON and JSONL
    "json: a clip key given twice": Case(
        text_file("m.json", '{"x_000001": {"predictions": {"a": []}}, "x_000001": {}}'),
        ReaderError,
        r"key 'x_000001' appears twice in one JSON object; each key may appear once",
    ),
    "json: an input key given twice": Case(
        text_file("m.json", '{"x_000001": {"predictions": {"a": ["dog barking"], "a": []}}}'),
        ReaderError,
        r"key 'a' appears twice in one JSON object",
    ),
    "jsonl: a key given twice names the line": Case(
        text_file(
            "m.jsonl",
            '{"video_id": "x_000001", "predictions": {"a": []}}\n'
            '{"video_id": "x_000002", "predictions": {"a": []}, "predictions": {}}\n',
        ),
        ReaderError,
        r"line 2: key 'predictions' appears twice in one JSON object",
    ),
    "json: nested too deeply": Case(
        text_file("m.json", "[" * DEEP + "]" * DEEP), ReaderError, r"JSON nested too deeply"
    ),
    "jsonl: nested too deeply names the line": Case(
        text_file(
            "m.jsonl",
            '{"video_id": "x_000001", "predictions": {"a": []}}\n'
            '{"video_id": "x_000002", "predictions": {"a": ' + "[" * DEEP + "]" * DEEP + "}}\n",
        ),
        ReaderError,
        r"line 2: JSON nested too deeply to be read",
    ),
    "json: not UTF-8 names the byte": Case(
        bytes_file("m.json", b'{"x_000001": {"predictions": {"a": ["caf\xe9"]}}}'),
        ReaderError,
        r"not UTF-8 text: byte 0xe9 at offset 40 \(line 1\)",
    ),
    "jsonl: not UTF-8 names the byte and the line": Case(
        bytes_file("m.jsonl", b'{"video_id": "x_000001"}\n\n{"video_id": "\xff"}\n'),
        ReaderError,
        r"not UTF-8 text: byte 0xff at offset 40 \(line 3\)",
    ),
    "json: booleans as class indices": Case(
        json_file("m.json", labels([True, False])),
        PredictionError,
        r"clip 'x_000001', input 'a': label True \(bool\) is neither a class name nor a class "
        r"index 0\.\.2",
    ),
    "json: floats as class indices": Case(
        json_file("m.json", labels([1.0])), PredictionError, r"label 1\.0 \(float\) is neither"
    ),
    "jsonl: a boolean as a class index": Case(
        jsonl_file("m.jsonl", {"video_id": "x_000001", "predictions": {"v": [0, False]}}),
        PredictionError,
        r"clip 'x_000001', input 'v': label False \(bool\)",
    ),
    "json: a nested list as a label (unhashable)": Case(
        json_file("m.json", labels([["dog barking"]])),
        PredictionError,
        r"clip 'x_000001', input 'a': label \['dog barking'\] \(list\) is neither",
    ),
    "json: an object as a label (unhashable)": Case(
        json_file("m.json", labels([{"name": "dog barking"}])),
        PredictionError,
        r"label \{'name': 'dog barking'\} \(dict\) is neither",
    ),
    "json: strings as scores": Case(
        json_file("m.json", scores(["0.1", "0.2", "0.7"])),
        PredictionError,
        r"clip 'x_000001', input 'a': score '0\.1' \(str\) is not a real number",
    ),
    "json: a boolean as a score": Case(
        json_file("m.json", scores([0.1, True, 0.7])),
        PredictionError,
        r"score True \(bool\) is not a real number",
    ),
    "jsonl: a string as a score": Case(
        jsonl_file("m.jsonl", {"video_id": "x_000001", "logits": {"av": [0.1, "high", 0.7]}}),
        PredictionError,
        r"clip 'x_000001', input 'av': score 'high' \(str\) is not a real number",
    ),
    "json: an integer of 5000 digits": Case(
        text_file("m.json", '{"x_000001": {"logits": {"a": [1' + "0" * 5_000 + ", 0, 0]}}}"),
        ReaderError,
        r"unreadable JSON value \(Exceeds the limit",
    ),
    "json: an unpaired surrogate escape": Case(
        text_file("m.json", '{"x_000001\\ud800": {"predictions": {"a": []}}}'),
        ReaderError,
        r"a string holds an unpaired \\u surrogate escape",
    ),
    "json: more labels for a clip than any prediction has": Case(
        json_file("m.json", labels(["dog barking"] * 10_001)),
        PredictionError,
        r"clip 'x_000001', input 'a': 10001 labels; a clip has at most 10000 \(there are "
        r"309 classes\)",
    ),
    # ------------------------------------------------------------------ pickles: errors
    "pickle: BUILD on a dict (AttributeError)": Case(
        bytes_file("m.pkl", b"}}b."), ReaderError, r"BUILD would set the state of a dict"
    ),
    "pickle: _codecs.encode with an unknown codec (LookupError)": Case(
        bytes_file("m.pkl", with_global("_codecs", "encode", b"Vx\nVno-such-codec\n")),
        ReaderError,
        r"codec 'no-such-codec' is not allowed",
    ),
    "pickle: float of a huge integer (OverflowError)": Case(
        bytes_file("m.pkl", with_global("builtins", "float", long1(10**400))),
        ReaderError,
        r"not a valid pickle \(OverflowError: int too large to convert to float\)",
    ),
    "pickle: a defaultdict factory that is not callable (TypeError)": Case(
        bytes_file("m.pkl", with_global("collections", "defaultdict", b"I1\n")),
        ReaderError,
        r"not a valid pickle \(TypeError: the first argument of defaultdict must be callable",
    ),
    "pickle: bytes of a terabyte (MemoryError)": Case(
        bytes_file("m.pkl", with_global("__builtin__", "bytes", long1(10**12))),
        ReaderError,
        r"bytes\(1000000000000\) would allocate memory from nothing",
    ),
    "pickle: a million nested tuples as a key (RecursionError, a crash in C)": Case(
        bytes_file("m.pkl", b"})" + b"\x85" * 1_000_000 + b"Ns."),
        ReaderError,
        r"tuples are nested more than 100 levels deep",
    ),
    "pickle: truncated (EOFError)": Case(
        bytes_file("m.pkl", pickle.dumps(labels(["dog barking"]))[:-5]),
        ReaderError,
        r"not a valid pickle \(EOFError",
    ),
    "pickle: a memo index that is not a number (ValueError)": Case(
        bytes_file("m.pkl", b"]pabc\n."), ReaderError, r"not a valid pickle \(ValueError"
    ),
    "pickle: not a pickle at all": Case(
        bytes_file("m.pkl", b"\xffnot a pickle"), ReaderError, r"not a valid pickle"
    ),
    "pickle: a memo reference never stored": Case(
        bytes_file("m.pkl", b"j\x05\x00\x00\x00."), ReaderError, r"Memo value not found"
    ),
    "pickle: bytes after a frame's end": Case(
        bytes_file("m.pkl", garbage_in_last_frame),
        ReaderError,
        r"1 more byte\(s\) after the end of the pickle",
    ),
    "pickle: an object made through its class (NEWOBJ)": Case(
        bytes_file("m.pkl", b"\x80\x02cnumpy\nndarray\nK\x05\x85\x81."),
        ReaderError,
        r"refusing to create an object through its class",
    ),
    "pickle: str() of a list": Case(
        bytes_file("m.pkl", with_global("builtins", "str", b"]")),
        ReaderError,
        r"str\(\) of a list is not plain data",
    ),
    "pickle: a structured numpy dtype": Case(
        pickled("m.pkl", scores(np.zeros(3, dtype=[("x", "f8")])), protocol=2),
        ReaderError,
        r"numpy dtype .* is not plain data",
    ),
    "pickle: a numpy dtype state with other flags": Case(
        bytes_file("m.pkl", flagged_dtype),
        ReaderError,
        r"inconsistent state for numpy dtype float64",
    ),
    "pickle: a numpy object array with fewer values than its shape": Case(
        bytes_file(
            "m.pkl",
            pickle.dumps(np.array([1, 2, 3], dtype=object), protocol=2).replace(
                b"K\x01K\x02K\x03e", b"K\x01e"
            ),
        ),
        ReaderError,
        r"a numpy object array of 3 elements needs a list of 3 values",
    ),
    # ------------------------------------------------------------------ pickles: limits
    "pickle: LONG_BINPUT at index four billion": Case(
        bytes_file("m.pkl", b"]r\xf0\xff\xff\xff."),
        ReaderError,
        r"memo index 4294967280 is beyond what a pickle of 7 bytes can use",
    ),
    "pickle: PUT at index a hundred billion": Case(
        bytes_file("m.pkl", b"]p99999999999\n."),
        ReaderError,
        r"memo index 99999999999 is beyond what a pickle of 15 bytes can use",
    ),
    "pickle: _reconstruct of a 4-billion-element array": Case(
        bytes_file(
            "m.pkl",
            b"cnumpy.core.multiarray\n_reconstruct\n(cnumpy\nndarray\n"
            b"(J\x00\x00\x01\x00J\x00\x00\x01\x00tC\x01btR.",
        ),
        ReaderError,
        r"a numpy array of shape \(65536, 65536\) would hold 4294967296 elements; the limit "
        r"is 10000000 per array",
    ),
    "pickle: _reconstruct of a non-empty array": Case(
        bytes_file(
            "m.pkl",
            b"cnumpy.core.multiarray\n_reconstruct\n(cnumpy\nndarray\n(J\x00\x00\x01\x00tC\x02V9tR.",
        ),
        ReaderError,
        r"_reconstruct of shape \(65536,\) is not empty",
    ),
    "pickle: an array state of a 4-billion-element shape": Case(
        bytes_file("m.pkl", numpy_shape(b"J\x00\x00\x01\x00J\x00\x00\x01\x00\x86")),
        ReaderError,
        r"would hold 4294967296 elements",
    ),
    "pickle: a billion laughs of shared lists": Case(
        bytes_file("m.pkl", billion_laughs),
        ReaderError,
        r"describes more than 20000000 values \(shared references counted in full\)",
    ),
    "pickle: a list that contains itself": Case(
        bytes_file("m.pkl", b"\x80\x04]\x94h\x00a."),
        ReaderError,
        r"a list contains itself \(a reference cycle\)",
    ),
    "pickle: a byte array of a terabyte": Case(
        bytes_file("m.pkl", b"\x80\x05\x96" + struct.pack("<Q", 2**40) + b"."),
        ReaderError,
        r"a byte array of 1099511627776 bytes is larger than the file",
    ),
    "pickle: two million labels for one clip": Case(
        pickled("m.pkl", labels(["dog barking"] * 2_000_000)),
        PredictionError,
        r"clip 'x_000001', input 'a': 2000000 labels; a clip has at most 10000",
    ),
    # ------------------------------------------------------------------ pickles: values
    "pickle: numpy bools as class indices": Case(
        pickled("m.pkl", labels([np.True_, np.False_])),
        PredictionError,
        r"clip 'x_000001', input 'a': label (np\.)?True_? \((numpy\.)?bool_?\) is neither",
    ),
    "pickle: a numpy bool array as a label set": Case(
        pickled("m.pkl", labels(np.array([True, False]))),
        PredictionError,
        r"label True \(bool\) is neither a class name nor a class index",
    ),
    "pickle: a numpy float array as a label set": Case(
        pickled("m.pkl", labels(np.array([1.0, 2.0]))),
        PredictionError,
        r"label 1\.0 \(float\) is neither",
    ),
    "pickle: a nested list as a label (unhashable)": Case(
        pickled("m.pkl", labels(["dog barking", ["cat meowing"]])),
        PredictionError,
        r"label \['cat meowing'\] \(list\) is neither",
    ),
    "pickle: complex numbers as scores (protocol 2)": Case(
        pickled("m.pkl", scores([1 + 2j, 0.0, 0.0]), protocol=2),
        PredictionError,
        r"score \(1\+2j\) \(complex\) is not a real number",
    ),
    "pickle: a numpy string array as scores": Case(
        pickled("m.pkl", scores(np.array(["0.1", "0.2", "0.7"]))),
        PredictionError,
        r"score '0\.1' \(str\) is not a real number",
    ),
    "pickle: a numpy bool array as scores": Case(
        pickled("m.pkl", scores(np.array([True, False, True]))),
        PredictionError,
        r"score True \(bool\) is not a real number",
    ),
    "pickle: a numpy complex array as scores (protocol 0)": Case(
        pickled("m.pkl", scores(np.array([1, 0, 0], dtype=complex)), protocol=0),
        PredictionError,
        r"score \(1\+0j\) \(complex\) is not a real number",
    ),
    "pickle: an integer of 5000 digits as a class index": Case(
        pickled("m.pkl", labels([-(10**5000)])),
        PredictionError,
        r"label <integer of 16610 bits> \(int\) is neither a class name nor a class index",
    ),
    # ------------------------------------------------------------------ CSV tables
    "csv: a short label row": Case(
        text_file("m.csv", f"video_id,input_modality,label\n{ROW}\nx_000002,a\n"),
        ReaderError,
        r"malformed CSV at line 3: 2 field\(s\), but the header has 3 columns \(a short row\)",
    ),
    "csv: a short score row": Case(
        text_file("m.csv", f"{SCORE_HEADER}\nx_000001,a,0.1,0.2,0.7\nx_000002,a,0.1,0.2\n"),
        ReaderError,
        r"malformed CSV at line 3: 4 field\(s\), but the header has 5 columns \(a short row\)",
    ),
    "csv: a short row after blank lines and a quoted line break": Case(
        text_file("m.csv", f'video_id,input_modality,label\n\n"x_0\n00001",a,cat\n\n{ROW}\nx,a\n'),
        ReaderError,
        r"malformed CSV at line 7: 2 field\(s\)",
    ),
    "csv: a label column named twice": Case(
        text_file("m.csv", f"video_id,input_modality,label,label\n{ROW},cat meowing\n"),
        ReaderError,
        r"line 1: column 'label' appears 2 times in the header \(columns 3, 4\)",
    ),
    "csv: a score column named twice": Case(
        text_file("m.csv", "video_id,input_modality,score_0,score_0,score_1\nx,a,1,2,3\n"),
        ReaderError,
        r"line 1: column 'score_0' appears 2 times in the header",
    ),
    "csv: an empty file": Case(text_file("m.csv", ""), ReaderError, r"file is empty"),
    "csv: only blank lines": Case(
        text_file("m.csv", "\n\n\n"), ReaderError, r"file is empty \(no header line\)"
    ),
    "csv: booleans as class indices": Case(
        text_file("m.csv", "video_id,input_modality,label\nx_000001,a,True\nx_000001,v,False\n"),
        PredictionError,
        r"line 2: label 'True' \(str\) is neither a class name nor a class index 0\.\.2",
    ),
    "csv: floats as class indices": Case(
        text_file("m.csv", "video_id,input_modality,label\nx_000001,a,1\nx_000001,v,2.5\n"),
        PredictionError,
        r"line 3: label '2\.5' \(str\) is neither",
    ),
    "csv: a class index of 23 digits": Case(
        text_file("m.csv", "video_id,input_modality,label\nx_000001,a,99999999999999999999999\n"),
        PredictionError,
        r"line 2: label '99999999999999999999999' \(str\) is neither",
    ),
    "csv: a field of 200 KiB": Case(
        text_file("m.csv", f"video_id,input_modality,label\n{ROW}\nx_000002,a,{'x' * 200_000}\n"),
        ReaderError,
        r"malformed CSV at line 3: field larger than field limit",
    ),
    "csv: a byte that is not UTF-8 far into the file": Case(
        late_bad_byte, ReaderError, r"not UTF-8 text: byte 0xe9 at offset 23044 \(line 1002\)"
    ),
    "csv: a complex number as a score": Case(
        text_file("m.csv", f"{SCORE_HEADER}\nx_000001,a,0.1,0.2,0.7\nx_000002,a,1+2j,0,0\n"),
        ReaderError,
        r"line 3: score_0 value '1\+2j' is not a number",
    ),
    "csv: booleans as scores": Case(
        text_file("m.csv", f"{SCORE_HEADER}\nx_000001,a,0.1,True,0.7\nx_000002,a,0.1,False,0.7\n"),
        ReaderError,
        r"line 2: score_1 value True is not a number",
    ),
    "csv: more label rows for a clip than any prediction has": Case(
        text_file("m.csv", "video_id,input_modality,label\n" + f"{ROW}\n" * 10_001),
        ReaderError,
        r"clip 'x_000001', input 'a': 10001 labels; a clip has at most 10000",
    ),
    # ------------------------------------------------------------------ Parquet tables
    "parquet: booleans as class indices": Case(
        parquet_file(
            "m.parquet",
            {"video_id": ["x_000001"] * 2, "input_modality": ["a", "v"], "label": [True, False]},
        ),
        PredictionError,
        r"row 1: label True \(bool\) is neither a class name nor a class index",
    ),
    "parquet: floats as class indices": Case(
        parquet_file(
            "m.parquet",
            {"video_id": ["x_000001"] * 2, "input_modality": ["a", "v"], "label": [1.0, 2.0]},
        ),
        PredictionError,
        r"row 1: label 1\.0 \(float\) is neither",
    ),
    "parquet: a fractional class index beside a null": Case(
        parquet_file(
            "m.parquet",
            {"video_id": ["x_000001"] * 2, "input_modality": ["a", "v"], "label": [None, 1.5]},
        ),
        PredictionError,
        r"row 2: label 1\.5 \(float\) is neither",
    ),
    "parquet: strings as scores": Case(
        parquet_file(
            "m.parquet",
            {
                "video_id": ["x_000001"],
                "input_modality": ["a"],
                "score_0": ["0.1"],
                "score_1": [0.2],
                "score_2": [0.7],
            },
        ),
        ReaderError,
        r"row 1: score_0 value '0\.1' is not a number",
    ),
    "parquet: booleans as scores": Case(
        parquet_file(
            "m.parquet",
            {
                "video_id": ["x_000001"],
                "input_modality": ["a"],
                "score_0": [0.1],
                "score_1": [True],
                "score_2": [0.7],
            },
        ),
        ReaderError,
        r"row 1: score_1 value True is not a number",
    ),
    "parquet: a label column named twice": Case(
        repeated_parquet_column, ReaderError, r"repeated column\(s\) label"
    ),
    "parquet: 21 million run-length-encoded cells": Case(
        many_rows_parquet,
        ReaderError,
        r"21000000 rows of 1 columns .* exceed the limit of 20000000 cells",
    ),
    "parquet: not a Parquet file": Case(
        bytes_file("m.parquet", b"PAR1 garbage"), ReaderError, r"not a readable Parquet file"
    ),
    # ------------------------------------------------------------------ annotation files
    "annotations: two label columns": Case(
        annotations(
            "labels.csv",
            "abc_000001,dog barking,dog barking,A,False,False,False",
            header="video_id,label,label,modality,background_music,static_image,voice_over",
        ),
        AnnotationError,
        r"line 1: column 'label' appears 2 times in the header",
        read_labels,
    ),
    "annotations: not UTF-8 names the byte": Case(
        bytes_file(
            "labels.csv",
            f"{HEADER}\nabc_000001,dog barking,A,False,False,F".encode() + b"\xe4lse\n",
        ),
        AnnotationError,
        r"line 2: not UTF-8 text \(byte 0xe4 at offset 103: invalid continuation byte\)",
        read_labels,
    ),
    "annotations: a NUL byte": Case(
        annotations("labels.csv", "abc_000001,dog barking,A,False,False,False\x00"),
        AnnotationError,
        r"line 2: contains a NUL byte",
        read_labels,
    ),
    "annotations: a short row": Case(
        annotations("labels.csv", "abc_000001,dog barking,A,False,False,False", "abc_000002,x"),
        AnnotationError,
        r"line 3: expected 6 fields, got 2",
        read_labels,
    ),
    "classes: a NUL byte in a name": Case(
        text_file("classes.csv", "index,mid,display_name\n0,m0,dog\x00\n"),
        AnnotationError,
        r"line 2: contains a NUL byte",
        read_class_names,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_file_is_refused_with_one_line_naming_the_file_and_the_problem(tmp_path, name):
    case = CASES[name]
    path = case.build(tmp_path)
    started = time.perf_counter()
    with pytest.raises(case.error) as raised:
        case.read(path)
    message = str(raised.value)
    assert message.startswith(f"{path}"), message
    assert "\n" not in message, message
    assert re.search(case.pattern, message), message
    assert time.perf_counter() - started < 10, "refused, but not quickly"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # nothing else written


def test_the_corpus_covers_every_family():
    families = collections.Counter(name.split(":")[0] for name in CASES)
    assert len(CASES) >= 40
    assert {"json", "jsonl", "pickle", "csv", "parquet", "annotations"} <= set(families)


def test_errors_keep_their_documented_families():
    assert issubclass(ReaderError, PredictionError)
    assert issubclass(AnnotationError, GroundTruthError)
    assert issubclass(AnnotationError, ValueError)
    assert all(issubclass(case.error, ValueError) for case in CASES.values())


@pytest.mark.parametrize(
    "name",
    [
        "pickle: a billion laughs of shared lists",
        "pickle: _reconstruct of a 4-billion-element array",
        "pickle: LONG_BINPUT at index four billion",
        "pickle: bytes of a terabyte (MemoryError)",
        "pickle: a byte array of a terabyte",
        "pickle: a million nested tuples as a key (RecursionError, a crash in C)",
    ],
)
def test_an_expansion_is_refused_before_it_allocates(tmp_path, name):
    path = CASES[name].build(tmp_path)
    tracemalloc.start()
    try:
        with pytest.raises(ReaderError):
            read_predictions(path, CLASSES)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024**2, f"{peak / 1024**2:.0f} MB allocated"


@pytest.mark.parametrize("failure", [MemoryError, RecursionError])
def test_memory_and_recursion_errors_while_unpickling_name_the_file(monkeypatch, failure):
    from vggsounder_hf.io import safe_pickle

    def fail(self):
        raise failure()

    monkeypatch.setattr(safe_pickle._RestrictedUnpickler, "load", fail)
    with pytest.raises(safe_pickle.PickleLimitError, match=r"^big\.pkl: (too large|nested)"):
        safe_loads(pickle.dumps([1]), source="big.pkl")


def test_a_prediction_file_larger_than_the_limit_is_refused_unread(tmp_path, monkeypatch):
    from vggsounder_hf.io import readers

    path = tmp_path / "huge.json"
    path.write_text("{}")
    monkeypatch.setattr(readers, "MAX_FILE_BYTES", 1)
    with pytest.raises(ReaderError, match=r"huge\.json: 2 bytes is larger than the limit of 1"):
        read_predictions(path, CLASSES)


def test_load_pickle_refuses_a_file_larger_than_the_limit(tmp_path, monkeypatch):
    from vggsounder_hf.io import safe_pickle

    path = tmp_path / "huge.pkl"
    path.write_bytes(pickle.dumps([1, 2, 3]))
    monkeypatch.setattr(safe_pickle, "MAX_FILE_BYTES", 4)
    with pytest.raises(safe_pickle.PickleLimitError, match=r"huge\.pkl: \d+ bytes is larger"):
        load_pickle(path)
