"""Specification of vggsounder_hf.io.readers: every prediction file format, and clear errors."""

from __future__ import annotations

import collections
import json
import pickle
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vggsounder_hf.core.predictions import PredictionError, UnknownLabelWarning
from vggsounder_hf.io.readers import (
    ReaderError,
    default_model_name,
    detect_format,
    predictions_from_table,
    read_predictions,
)

CLASSES = ("dog barking", "cat meowing", "male speech, man speaking")
SCORE_COLUMNS = [f"score_{index}" for index in range(len(CLASSES))]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def as_lists(predictions, modality):
    """``{video_id: [class names]}`` of one input, for readable assertions."""
    given = predictions[modality]
    return {
        video_id: [CLASSES[index] for index in np.flatnonzero(row)]
        for video_id, row in zip(given.video_ids.tolist(), given.matrix, strict=True)
    }


# ----------------------------------------------------------------------------- formats


def test_csv_label_table_gives_label_sets_and_an_empty_label_means_an_empty_prediction(tmp_path):
    path = write(
        tmp_path / "model.csv",
        "video_id,input_modality,label\n"
        "x_000001,a,dog barking\n"
        'x_000001,a,"male speech, man speaking"\n'
        "x_000002,a,\n"
        "x_000001,av,cat meowing\n",
    )
    predictions = read_predictions(path, CLASSES)
    assert predictions.kind == "labels"
    assert predictions.input_modalities == ("a", "av")
    assert as_lists(predictions, "a") == {
        "x_000001": ["dog barking", "male speech, man speaking"],
        "x_000002": [],
    }
    assert as_lists(predictions, "av") == {"x_000001": ["cat meowing"]}
    assert predictions.source == str(path)


def test_a_label_column_of_only_integers_is_read_as_class_indices(tmp_path):
    path = write(
        tmp_path / "indices.csv",
        "video_id,input_modality,label\nx_000001,v,2\nx_000001,v,0\nx_000002,v,\n",
    )
    predictions = read_predictions(path, CLASSES)
    assert as_lists(predictions, "v") == {
        "x_000001": ["dog barking", "male speech, man speaking"],
        "x_000002": [],
    }


def test_parquet_label_table_with_a_null_label_means_an_empty_prediction(tmp_path):
    frame = pd.DataFrame(
        {
            "video_id": ["x_000001", "x_000002", "x_000003"],
            "input_modality": ["v", "v", "v"],
            "label": ["cat meowing", None, "dog barking"],
        }
    )
    frame.to_parquet(tmp_path / "model.parquet")
    predictions = read_predictions(tmp_path / "model.parquet", CLASSES)
    assert as_lists(predictions, "v") == {
        "x_000001": ["cat meowing"],
        "x_000002": [],
        "x_000003": ["dog barking"],
    }


def test_parquet_integer_labels_with_nulls_are_class_indices(tmp_path):
    frame = pd.DataFrame(
        {"video_id": ["x_000001", "x_000002"], "input_modality": ["a", "a"], "label": [1, None]}
    )
    frame.to_parquet(tmp_path / "model.parquet")
    predictions = read_predictions(tmp_path / "model.parquet", CLASSES)
    assert as_lists(predictions, "a") == {"x_000001": ["cat meowing"], "x_000002": []}


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_score_table_has_one_row_per_clip_and_input_with_score_columns_in_class_order(
    tmp_path, suffix
):
    frame = pd.DataFrame(
        {
            "video_id": ["x_000001", "x_000002", "x_000001"],
            "input_modality": ["a", "a", "av"],
            "score_0": [0.1, 0.7, 0.0],
            "score_1": [0.9, 0.2, 0.5],
            "score_2": [0.3, 0.1, 1.5],
        }
    )
    path = tmp_path / f"scores{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path)
    predictions = read_predictions(path, CLASSES)
    assert predictions.kind == "scores"
    assert predictions["a"].video_ids.tolist() == ["x_000001", "x_000002"]
    assert predictions["a"].matrix.tolist() == [[0.1, 0.9, 0.3], [0.7, 0.2, 0.1]]
    assert predictions["av"].matrix.tolist() == [[0.0, 0.5, 1.5]]


def test_score_columns_may_come_in_any_order(tmp_path):
    path = write(
        tmp_path / "scores.csv",
        "score_2,video_id,score_0,input_modality,score_1\n0.3,x_000001,0.1,v,0.9\n",
    )
    assert read_predictions(path, CLASSES)["v"].matrix.tolist() == [[0.1, 0.9, 0.3]]


def test_authors_structure_as_pickle_json_and_jsonl_reads_the_same(tmp_path):
    mapping = {
        "x_000001": {"predictions": {"a": ["dog barking"], "v": [], "av": ["cat meowing"]}},
        "x_000002": {"predictions": {"a": [], "v": ["cat meowing"], "av": []}},
    }
    (tmp_path / "m.pkl").write_bytes(pickle.dumps(mapping))
    write(tmp_path / "m.json", json.dumps(mapping))
    write(
        tmp_path / "m.jsonl",
        "\n".join(json.dumps({"video_id": key, **value}) for key, value in mapping.items())
        + "\n\n",
    )
    write(
        tmp_path / "list.json",
        json.dumps([{"video_id": key, **value} for key, value in mapping.items()]),
    )
    expected = {
        "a": {"x_000001": ["dog barking"], "x_000002": []},
        "v": {"x_000001": [], "x_000002": ["cat meowing"]},
        "av": {"x_000001": ["cat meowing"], "x_000002": []},
    }
    for name in ("m.pkl", "m.json", "m.jsonl", "list.json"):
        predictions = read_predictions(tmp_path / name, CLASSES)
        assert {m: as_lists(predictions, m) for m in ("a", "v", "av")} == expected, name


def test_jsonl_logits_are_read_as_scores(tmp_path):
    path = write(
        tmp_path / "scores.jsonl",
        json.dumps({"video_id": "x_000001", "logits": {"av": [0.2, 0.5, 0.3]}}) + "\n",
    )
    predictions = read_predictions(path, CLASSES)
    assert predictions.kind == "scores"
    assert predictions["av"].matrix.tolist() == [[0.2, 0.5, 0.3]]


def test_format_comes_from_the_extension_unless_given(tmp_path):
    assert [detect_format(name) for name in ("a.pkl", "a.PICKLE", "a.ndjson", "a.pq")] == [
        "pickle",
        "pickle",
        "jsonl",
        "parquet",
    ]
    path = write(
        tmp_path / "predictions.txt",
        json.dumps({"video_id": "x_000001", "predictions": {"a": ["cat meowing"]}}) + "\n",
    )
    with pytest.raises(ReaderError, match=r"predictions\.txt: cannot tell the format"):
        read_predictions(path, CLASSES)
    assert as_lists(read_predictions(path, CLASSES, format="jsonl"), "a") == {
        "x_000001": ["cat meowing"]
    }


def test_model_name_is_the_file_name_without_extension():
    assert default_model_name("runs/gemini-1.5-pro.pkl") == "gemini-1.5-pro"
    assert default_model_name("my.model.v2.parquet") == "my.model.v2"


def test_unknown_class_names_in_a_table_warn_and_are_dropped(tmp_path):
    path = write(
        tmp_path / "model.csv",
        "video_id,input_modality,label\nx_000001,a,dog barking\nx_000001,a,unicorn\n",
    )
    with pytest.warns(UnknownLabelWarning, match="unicorn"):
        predictions = read_predictions(path, CLASSES)
    assert as_lists(predictions, "a") == {"x_000001": ["dog barking"]}


def test_a_label_string_like_NA_is_not_mistaken_for_a_missing_value(tmp_path):
    path = write(tmp_path / "model.csv", "video_id,input_modality,label\nx_000001,a,NA\n")
    with pytest.warns(UnknownLabelWarning, match="'NA'"):
        read_predictions(path, CLASSES)


def test_asking_for_scores_from_a_label_table_is_an_error(tmp_path):
    path = write(tmp_path / "model.csv", "video_id,input_modality,label\nx_000001,a,dog barking\n")
    with pytest.raises(ReaderError, match="asked for scores but the table's columns hold labels"):
        read_predictions(path, CLASSES, kind="scores")


def test_a_dataframe_can_be_read_directly():
    table = pd.DataFrame(
        {"video_id": ["x_000001"], "input_modality": ["v"], "label": ["cat meowing"]}
    )
    assert as_lists(predictions_from_table(table, CLASSES), "v") == {"x_000001": ["cat meowing"]}


# ----------------------------------------------------------------------------- errors

ERROR_CASES = {
    "missing columns": (
        "t.csv",
        "video_id,label\nx_000001,dog barking\n",
        r"missing column\(s\) input_modality",
    ),
    "saved index column": (
        "t.csv",
        ",video_id,input_modality,label\n0,x_000001,a,dog barking\n",
        r"unexpected column\(s\) 'Unnamed: 0' \(a saved index\? write the CSV with index=False\)",
    ),
    "no label or score columns": (
        "t.csv",
        "video_id,input_modality,prediction\nx_000001,a,dog\n",
        "expected columns video_id, input_modality and either label or score_0..score_2",
    ),
    "labels and scores at once": (
        "t.csv",
        "video_id,input_modality,label,score_0\nx_000001,a,dog,0.1\n",
        "has both a label column and score columns",
    ),
    "missing score column": (
        "t.csv",
        "video_id,input_modality,score_0,score_1\nx_000001,a,0.1,0.2\n",
        r"missing score column\(s\) score_2",
    ),
    "unknown input modality": (
        "t.csv",
        "video_id,input_modality,label\nx_000001,a,dog barking\nx_000001,audio,dog barking\n",
        r"line 3: unknown input modality 'audio'.*use 'a', 'v' or 'av'",
    ),
    "uppercase input modality": (
        "t.csv",
        "video_id,input_modality,label\nx_000001,AV,dog barking\n",
        r"line 2: unknown input modality 'AV'",
    ),
    "empty video id": (
        "t.csv",
        "video_id,input_modality,label\nx_000001,a,dog barking\n,a,dog barking\n",
        r"line 3: video_id is empty",
    ),
    "score that is not a number": (
        "t.csv",
        "video_id,input_modality,score_0,score_1,score_2\nx_000001,a,0.1,high,0.3\n",
        r"line 2: score_1 value 'high' is not a number",
    ),
    "empty score": (
        "t.csv",
        "video_id,input_modality,score_0,score_1,score_2\nx_000001,a,0.1,,0.3\n",
        r"line 2: score_1 is empty",
    ),
    "header only": ("t.csv", "video_id,input_modality,label\n", "table has no rows"),
    "ragged csv": (
        "t.csv",
        "video_id,input_modality,label\nx_000001,a,dog,extra,fields\n",
        r"malformed CSV",
    ),
    "ragged later row": (
        "t.csv",
        "video_id,input_modality,label\nx_000001,a,dog barking\nx_000002,a,dog,extra\n",
        r"malformed CSV .*line 3",
    ),
    "malformed json": ("t.json", '{"x_000001": {"predictions": }', r"malformed JSON at line 1"),
    "json of the wrong type": ("t.json", "[1, 2]", r"item 0: expected an object"),
    "json string": ("t.json", '"hello"', "expected a JSON object mapping video ids"),
    "malformed jsonl line": (
        "t.jsonl",
        '{"video_id": "x_000001", "predictions": {"a": []}}\n\n{"video_id": "x_000002",\n',
        r"line 3: malformed JSON",
    ),
    "jsonl repeated clip": (
        "t.jsonl",
        '{"video_id": "x_000001", "predictions": {"a": []}}\n'
        '{"video_id": "x_000001", "predictions": {"a": []}}\n',
        r"line 2: clip 'x_000001' already appeared at line 1",
    ),
    "jsonl unexpected key": (
        "t.jsonl",
        '{"video_id": "x_000001", "preds": {"a": []}}\n',
        r"line 1: unexpected key\(s\) 'preds'",
    ),
    "jsonl without video id": (
        "t.jsonl",
        '{"predictions": {"a": []}}\n',
        r"line 1: 'video_id' must be a non-empty string",
    ),
    "unknown input modality in json": (
        "t.json",
        '{"x_000001": {"predictions": {"audio": ["dog barking"]}}}',
        r"unknown input modality 'audio'",
    ),
    "whitespace only": ("t.json", "  \n\n", "file is empty"),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_bad_input_gives_one_line_naming_the_file_and_the_problem(tmp_path, case):
    name, text, problem = ERROR_CASES[case]
    path = write(tmp_path / name, text)
    with pytest.raises(PredictionError) as raised:
        read_predictions(path, CLASSES)
    message = str(raised.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message
    assert re.search(problem, message), message


@pytest.mark.parametrize("name", ["m.pkl", "m.json", "m.jsonl", "m.csv", "m.parquet"])
def test_empty_and_missing_files_are_named_errors(tmp_path, name):
    with pytest.raises(ReaderError, match=rf"^{tmp_path / name}: no such file$"):
        read_predictions(tmp_path / name, CLASSES)
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(ReaderError, match=rf"^{tmp_path / name}: file is empty$"):
        read_predictions(tmp_path / name, CLASSES)


def test_a_directory_is_not_a_prediction_file(tmp_path):
    folder = tmp_path / "run.pkl"
    folder.mkdir()
    with pytest.raises(ReaderError, match="is a directory"):
        read_predictions(folder, CLASSES)


def test_garbage_bytes_are_reported_per_format(tmp_path):
    for name, problem in (
        ("g.pkl", "not a valid pickle"),
        ("g.parquet", "not a readable Parquet file"),
        ("g.json", "not UTF-8 text"),
    ):
        path = tmp_path / name
        path.write_bytes(b"\xff\xfe\x00garbage")
        with pytest.raises(ReaderError, match=problem):
            read_predictions(path, CLASSES)


def test_a_pickle_that_is_not_a_mapping_is_a_structure_error(tmp_path):
    path = tmp_path / "list.pkl"
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(PredictionError, match="expected a mapping of video ids to predictions"):
        read_predictions(path, CLASSES)


def test_a_pickle_that_calls_a_function_is_refused(tmp_path):
    class Calls:
        def __reduce__(self):
            return (print, ("hello",))

    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"x_000001": Calls()}))
    with pytest.raises(ReaderError, match=r"evil\.pkl: refusing to load 'builtins\.print'"):
        read_predictions(path, CLASSES)


def test_a_pickle_followed_by_more_bytes_is_refused(tmp_path):
    one = pickle.dumps({"x_000001": {"predictions": {"a": ["dog barking"]}}})
    path = tmp_path / "two.pkl"
    path.write_bytes(one + one)
    with pytest.raises(ReaderError) as raised:
        read_predictions(path, CLASSES)
    message = str(raised.value)
    assert message.startswith(f"{path}: {len(one)} more byte(s) after the end of the pickle")
    assert "\n" not in message


def test_the_readers_module_keeps_its_public_names():
    from vggsounder_hf.io import readers, tables

    assert readers.FORMATS is readers.INPUT_FORMATS
    assert readers.INPUT_FORMATS == ("pickle", "json", "jsonl", "csv", "parquet")
    assert set(readers.EXTENSIONS.values()) == set(readers.INPUT_FORMATS)
    assert readers.ReaderError is tables.ReaderError
    assert readers.predictions_from_table is tables.predictions_from_table
    assert issubclass(ReaderError, PredictionError)
    for name in readers.__all__:
        assert hasattr(readers, name), name


# ----------------------------------------------------------------------------- real data


def test_every_format_of_a_released_model_reads_to_the_same_predictions(shared_data, tmp_path):
    from vggsounder_hf.io.safe_pickle import load_pickle
    from vggsounder_hf.io.sources import load_release

    class_names = load_release("1.0").class_names
    source = shared_data / "model-predictions" / "unified-io-2.pkl"
    mapping = load_pickle(source)
    rows = []
    for video_id, entry in mapping.items():
        for modality, labels in entry["predictions"].items():
            rows += [(video_id, modality, label) for label in labels] or [(video_id, modality, "")]
    table = pd.DataFrame(rows, columns=["video_id", "input_modality", "label"])
    table.to_csv(tmp_path / "u.csv", index=False)
    table.to_parquet(tmp_path / "u.parquet")
    write(tmp_path / "u.json", json.dumps(mapping))
    write(
        tmp_path / "u.jsonl",
        "".join(json.dumps({"video_id": k, **v}) + "\n" for k, v in mapping.items()),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownLabelWarning)
        expected = read_predictions(source, class_names)
        for name in ("u.csv", "u.parquet", "u.json", "u.jsonl"):
            got = read_predictions(tmp_path / name, class_names)
            for modality in ("a", "v", "av"):
                order = {v: i for i, v in enumerate(got[modality].video_ids.tolist())}
                rows_in_order = [order[v] for v in expected[modality].video_ids.tolist()]
                assert len(order) == len(expected[modality].video_ids) == len(mapping)
                assert np.array_equal(
                    got[modality].matrix[rows_in_order], expected[modality].matrix
                ), (name, modality)
            assert got.unknown_labels == expected.unknown_labels


# ----------------------------------------------------------------------------- legitimate data


@pytest.mark.parametrize("protocol", [0, 1, 2])
def test_old_protocol_pickles_of_sets_tuples_and_arrays_are_read(tmp_path, protocol):
    mapping = collections.defaultdict(dict)
    mapping["x_000001"]["predictions"] = {
        "a": {"dog barking"},
        "v": ("cat meowing", 0),
        "av": np.array(["male speech, man speaking"]),
    }
    mapping["x_000002"]["predictions"] = {"a": [], "v": np.array([], dtype="<U1"), "av": [2]}
    path = tmp_path / "old.pkl"
    path.write_bytes(pickle.dumps(mapping, protocol=protocol))
    predictions = read_predictions(path, CLASSES)
    assert as_lists(predictions, "a") == {"x_000001": ["dog barking"], "x_000002": []}
    assert as_lists(predictions, "v") == {
        "x_000001": ["dog barking", "cat meowing"],
        "x_000002": [],
    }
    assert as_lists(predictions, "av") == {
        "x_000001": ["male speech, man speaking"],
        "x_000002": ["male speech, man speaking"],
    }


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_score_pickles_of_lists_and_arrays_read_the_same_numbers(tmp_path, protocol):
    rng = np.random.default_rng(protocol)
    rows = rng.random((4, len(CLASSES)))
    mapping = {
        f"x_00000{i}": {"logits": {"a": row.tolist(), "v": row.astype(np.float32)}}
        for i, row in enumerate(rows)
    }
    path = tmp_path / "scores.pkl"
    path.write_bytes(pickle.dumps(mapping, protocol=protocol))
    predictions = read_predictions(path, CLASSES)
    assert predictions.kind == "scores"
    assert np.array_equal(predictions["a"].matrix, rows)
    assert np.array_equal(predictions["v"].matrix, rows.astype(np.float32).astype(np.float64))


def test_a_json_file_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(
        b"\xef\xbb\xbf" + json.dumps({"x_000001": {"predictions": {"a": [1]}}}).encode()
    )
    assert as_lists(read_predictions(path, CLASSES), "a") == {"x_000001": ["cat meowing"]}


def test_csv_messages_name_the_physical_line_after_blank_lines_and_line_breaks(tmp_path):
    path = write(
        tmp_path / "m.csv",
        'video_id,input_modality,label\n\n"dog,\nbarking",a,dog barking\n\nx_000002,audio,\n',
    )
    with pytest.raises(ReaderError, match=r"m\.csv: line 6: unknown input modality 'audio'"):
        read_predictions(path, CLASSES)


def test_parquet_text_columns_with_repeated_values_read_as_plain_strings(tmp_path):
    frame = pd.DataFrame(
        {
            "video_id": ["x_000001"] * 3 + ["x_000002"],
            "input_modality": ["a", "a", "v", "v"],
            "label": ["dog barking", "cat meowing", None, "cat meowing"],
        }
    )
    frame.to_parquet(tmp_path / "m.parquet")
    predictions = read_predictions(tmp_path / "m.parquet", CLASSES)
    assert as_lists(predictions, "a") == {"x_000001": ["dog barking", "cat meowing"]}
    assert as_lists(predictions, "v") == {"x_000001": [], "x_000002": ["cat meowing"]}


def test_a_dataframe_of_complex_or_string_scores_is_refused():
    table = pd.DataFrame(
        {
            "video_id": ["x_000001"],
            "input_modality": ["a"],
            "score_0": [1 + 2j],
            "score_1": [0.0],
            "score_2": ["0.5"],
        }
    )
    with pytest.raises(ReaderError, match=r"row 1: score_0 value \(1\+2j\) is not a number"):
        predictions_from_table(table, CLASSES)
    table["score_0"] = 0.5
    with pytest.raises(ReaderError, match=r"row 1: score_2 value '0\.5' is not a number"):
        predictions_from_table(table, CLASSES)


def test_label_indices_may_be_negative_looking_only_to_be_refused_by_the_core(tmp_path):
    path = write(tmp_path / "m.csv", "video_id,input_modality,label\nx_000001,a,-1\nx_000001,v,2\n")
    with pytest.raises(PredictionError, match=r"label -1 \(int\) is neither a class name"):
        read_predictions(path, CLASSES)
