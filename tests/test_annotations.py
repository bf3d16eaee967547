"""Specification of vggsounder_hf.io.annotations: parsing and validating the label CSVs."""

from __future__ import annotations

import csv
import pickle
import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vggsounder_hf.io.annotations import (
    META_LABELS,
    MODALITY_NAMES,
    AnnotationError,
    Clip,
    read_annotations,
    read_class_names,
    split_video_id,
)

CLASS_NAMES = ("dog barking", "male speech, man speaking", "playing piano", "rain")
HEADER = "video_id,label,modality,background_music,static_image,voice_over"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def write_classes(folder: Path, names=CLASS_NAMES) -> Path:
    path = folder / "classes.csv"
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["index", "mid", "display_name"])
        for i, name in enumerate(names):
            writer.writerow([i, f"vgg_{i}", name])
    return path


def annotations(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    return write(tmp_path / "labels.csv", "\n".join([header, *rows]) + "\n")


def assert_error(excinfo: pytest.ExceptionInfo, path: Path, line: int | None, *words: str):
    error = excinfo.value
    assert isinstance(error, AnnotationError)
    assert isinstance(error, ValueError)
    message = str(error)
    assert str(path) in message
    assert error.path == str(path)
    assert error.line == line
    if line is not None:
        assert f"line {line}" in message
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


# --- valid input ------------------------------------------------------------------------------


def test_clips_group_non_contiguous_rows_in_order_of_first_appearance(tmp_path):
    path = annotations(
        tmp_path,
        "aaaaaaaaaaa_000010,rain,A,False,True,False",
        "b_b-b_000000,dog barking,AV,True,False,False",
        'aaaaaaaaaaa_000010,"male speech, man speaking",V,False,True,False',
        "b_b-b_000000,playing piano,A,True,False,False",
        "aaaaaaaaaaa_000010,dog barking,AV,False,True,False",
    )
    clips = read_annotations(path, CLASS_NAMES)
    assert clips == [
        Clip("aaaaaaaaaaa_000010", "aaaaaaaaaaa", 10, (3, 1, 0), (0, 1, 2), False, True, False),
        Clip("b_b-b_000000", "b_b-b", 0, (0, 2), (2, 0), True, False, False),
    ]


def test_youtube_id_with_underscores_and_dashes_splits_at_last_underscore(tmp_path):
    path = annotations(tmp_path, "-_x_-y__000123,rain,A,False,False,True")
    (clip,) = read_annotations(path, CLASS_NAMES)
    assert (clip.youtube_id, clip.start_seconds) == ("-_x_-y_", 123)
    assert split_video_id("---g-f_I2yQ_000001") == ("---g-f_I2yQ", 1)
    assert split_video_id("abc_12345") is None


def test_crlf_line_endings_bom_blank_lines_and_extra_columns_are_accepted(tmp_path):
    text = (
        "\ufeffvideo_id,label,modality,background_music,static_image,voice_over,note\r\n"
        "abc_000001,rain,AV,True,True,True,x\r\n"
        "\r\n"
        "abc_000001,dog barking,V,True,True,True,y\r\n"
    )
    path = write(tmp_path / "labels.csv", text)
    (clip,) = read_annotations(path, CLASS_NAMES)
    assert clip.labels == (3, 0)
    assert clip.modalities == (2, 1)
    assert (clip.background_music, clip.static_image, clip.voice_over) == (True, True, True)


def test_columns_may_come_in_any_order(tmp_path):
    path = annotations(
        tmp_path,
        "V,False,rain,True,abc_000002,False",
        header="modality,voice_over,label,static_image,video_id,background_music",
    )
    (clip,) = read_annotations(path, CLASS_NAMES)
    assert clip == Clip("abc_000002", "abc", 2, (3,), (1,), False, True, False)


def test_modality_and_meta_names_are_the_documented_ones():
    assert MODALITY_NAMES == ("A", "V", "AV")
    assert META_LABELS == ("background_music", "static_image", "voice_over")


def test_clip_is_immutable():
    clip = Clip("abc_000001", "abc", 1, (0,), (0,), False, False, False)
    with pytest.raises(AttributeError):
        clip.labels = (1,)


@st.composite
def releases(draw):
    """Random clips (ids with _ and -), written as shuffled CSV rows."""
    ids = draw(
        st.lists(
            st.tuples(st.text("ab_-Z9", min_size=1, max_size=12), st.integers(0, 999_999)).map(
                lambda t: f"{t[0]}_{t[1]:06d}"
            ),
            min_size=1,
            max_size=8,
            unique=True,
        )
    )
    clips = []
    for video_id in ids:
        labels = draw(st.lists(st.integers(0, 3), min_size=1, max_size=4, unique=True))
        modalities = draw(st.lists(st.integers(0, 2), min_size=len(labels), max_size=len(labels)))
        meta = draw(st.tuples(st.booleans(), st.booleans(), st.booleans()))
        clips.append((video_id, labels, modalities, meta))
    seed = draw(st.integers(0, 2**32 - 1))
    return clips, seed


@settings(max_examples=60, deadline=None)
@given(releases())
def test_any_row_order_reads_back_the_written_clips(tmp_path_factory, release):
    clips, seed = release
    rows = [
        (video_id, i, label, modality, meta)
        for video_id, labels, modalities, meta in clips
        for i, (label, modality) in enumerate(zip(labels, modalities, strict=True))
    ]
    random.Random(seed).shuffle(rows)
    # within a clip, the file order of labels is what we expect back
    path = tmp_path_factory.mktemp("h") / "labels.csv"
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADER.split(","))
        for video_id, _i, label, modality, meta in rows:
            writer.writerow(
                [video_id, CLASS_NAMES[label], MODALITY_NAMES[modality], *map(str, meta)]
            )
    got = read_annotations(path, CLASS_NAMES)

    first_seen = list(dict.fromkeys(row[0] for row in rows))
    assert [clip.video_id for clip in got] == first_seen
    by_id = {video_id: (labels, modalities, meta) for video_id, labels, modalities, meta in clips}
    for clip in got:
        labels, modalities, meta = by_id[clip.video_id]
        in_file = [(r[2], r[3]) for r in rows if r[0] == clip.video_id]
        assert list(zip(clip.labels, clip.modalities, strict=True)) == in_file
        assert sorted(zip(clip.labels, clip.modalities, strict=True)) == sorted(
            zip(labels, modalities, strict=True)
        )
        assert (clip.background_music, clip.static_image, clip.voice_over) == meta
        youtube_id, start = clip.video_id.rsplit("_", 1)
        assert (clip.youtube_id, clip.start_seconds) == (youtube_id, int(start))


def test_reads_the_authors_release_with_every_row(vggsounder_data, reference_clips):
    names = read_class_names(vggsounder_data / "classes.csv")
    path = vggsounder_data / "vggsounder+background-music.csv"
    clips = read_annotations(path, names)
    reference = reference_clips(path)
    assert len(clips) == len(reference) == 15_069
    assert [clip.video_id for clip in clips] == list(reference)
    for clip in clips:
        pairs = zip(clip.labels, clip.modalities, strict=True)
        assert [(names[lab], MODALITY_NAMES[m]) for lab, m in pairs] == reference[clip.video_id][
            "pairs"
        ]
        meta = (clip.background_music, clip.static_image, clip.voice_over)
        assert meta == reference[clip.video_id]["meta"]


# --- classes.csv ------------------------------------------------------------------------------


def test_class_names_come_in_index_order_and_may_contain_commas(tmp_path):
    path = write_classes(tmp_path)
    assert read_class_names(path) == CLASS_NAMES


def test_authors_classes_file_has_309_names(vggsounder_data):
    names = read_class_names(vggsounder_data / "classes.csv")
    with open(vggsounder_data / "classes.csv", newline="") as stream:
        expected = tuple(row["display_name"] for row in csv.DictReader(stream))
    assert names == expected
    assert len(names) == 309


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", 1, ["empty"]),
        ("index,mid,display_name\n", 1, ["no classes"]),
        ("index,mid,name\n0,m,dog\n", 1, ["header", "index,mid,display_name"]),
        ("index,mid,display_name\n0,m,dog\n2,m,cat\n", 3, ["index '2'", "expected 1"]),
        ("index,mid,display_name\n0,m,dog\n1,m,dog\n", 3, ["duplicate class name 'dog'", "line 2"]),
        ("index,mid,display_name\n0,m,dog,extra\n", 2, ["expected 3 fields"]),
        ("index,mid,display_name\n0,m,\n", 2, ["empty display_name"]),
    ],
)
def test_bad_classes_file_names_file_line_and_problem(tmp_path, text, line, words):
    path = write(tmp_path / "classes.csv", text)
    with pytest.raises(AnnotationError) as excinfo:
        read_class_names(path)
    assert_error(excinfo, path, line, *words)


# --- bad annotation files ---------------------------------------------------------------------


def test_missing_column(tmp_path):
    path = annotations(
        tmp_path,
        "abc_000001,rain,False,False,False",
        header="video_id,label,background_music,static_image,voice_over",
    )
    with pytest.raises(AnnotationError) as excinfo:
        read_annotations(path, CLASS_NAMES)
    assert_error(excinfo, path, 1, "missing column", "modality")


@pytest.mark.parametrize(
    ("header", "row", "column", "places"),
    [
        (HEADER + ",label", "abc_000001,rain,A,False,False,False,dog barking", "label", "2, 7"),
        (
            "video_id,label,label,modality,background_music,static_image,voice_over",
            "abc_000001,rain,dog barking,A,False,False,False",
            "label",
            "2, 3",
        ),
        (HEADER + ",voice_over", "abc_000001,rain,A,False,False,False,True", "voice_over", "6, 7"),
        (
            "video_id," + HEADER,
            "abc_000001,abc_000001,rain,A,False,False,False",
            "video_id",
            "1, 2",
        ),
    ],
)
def test_a_required_column_named_twice_in_the_header(tmp_path, header, row, column, places):
    # Taking either copy silently would score the wrong labels: the file is refused instead.
    path = annotations(tmp_path, row, header=header)
    with pytest.raises(AnnotationError) as excinfo:
        read_annotations(path, CLASS_NAMES)
    assert_error(
        excinfo, path, 1, f"column {column!r} appears 2 times in the header", f"columns {places}"
    )


def test_an_extra_column_named_twice_is_ignored_like_any_extra_column(tmp_path):
    path = annotations(tmp_path, "abc_000001,rain,A,False,False,False,x,y", header=HEADER + ",n,n")
    (clip,) = read_annotations(path, CLASS_NAMES)
    assert clip.labels == (3,)


@pytest.mark.parametrize(
    ("rows", "line", "count"),
    [
        (["abc_000001,rain,A,False,False,False", "abc_000002,rain,A,False,False"], 3, 5),
        (["abc_000001,rain,A,False,False"], 2, 5),
        (["abc_000001,rain,A,False,False,False", "abc_000002"], 3, 1),
        (["abc_000001,rain,A,False,False,False", "abc_000002,rain,,,,"], None, None),
    ],
    ids=["one field short", "first row short", "a lone field", "empty fields are not short"],
)
def test_a_row_with_fewer_fields_than_the_header_names_its_line(tmp_path, rows, line, count):
    path = annotations(tmp_path, *rows)
    with pytest.raises(AnnotationError) as excinfo:
        read_annotations(path, CLASS_NAMES)
    if line is None:  # the full-width row is read: its empty fields are the problem
        assert_error(excinfo, path, 3, "background_music must be True or False, got ''")
    else:
        assert_error(excinfo, path, line, f"expected 6 fields, got {count}")


def test_a_short_last_row_without_a_newline_names_its_line(tmp_path):
    path = write(tmp_path / "labels.csv", f"{HEADER}\nabc_000001,rain,A,False,False,False\nabc_0")
    with pytest.raises(AnnotationError) as excinfo:
        read_annotations(path, CLASS_NAMES)
    assert_error(excinfo, path, 3, "expected 6 fields, got 1", "'abc_0'")


def test_unknown_modality_code(tmp_path):
    path = annotations(
        tmp_path,
        "abc_000001,rain,A,False,False,False",
        "abc_000001,dog barking,VA,False,False,False",
    )
    with pytest.raises(AnnotationError) as excinfo:
        read_annotations(path, CLASS_NAMES)
    assert_error(excinfo, path, 3, "unknown modality code 'VA'")


def test_class_name_not_in_classes(tmp_path):
    path = annotations(
        tmp_path, "abc_000001,rain,A,False,False,False", "abc_000001,cat,A,False,False,False"
    )
    with pytest.raises(AnnotationError) as excinfo:
        read_annotations(path, CLASS_NAMES)
    assert_error(excinfo, path, 3, "'cat'", "not in classes.csv")


def test_meta_flags_that_disagree_within_a_non_contiguous_clip(tmp_path):
    path = annotations(
        tmp_path,
        "abc_000001,rain,A,False,False,False",
        "xyz_000001,rain,A,True,False,False",
        "abc_000001,dog barking,A,False,True,False",
    )
    with pytest.raises(AnnotationError) as excinfo:
        read_annotations(path, CLASS_NAMES)
    assert_error(excinfo, path, 4, "disagree", "abc_000001", "line 2", "static_image=True")


@pytest.mark.parametrize("flag", ["true", "yes", "1", "", "TRUE"])
def test_meta_flag_must_be_true_or_false(tmp_path, flag):
    path = annotations(tmp_path, f"abc_000001,rain,A,False,False,{flag}")
    with pytest.raises(AnnotationError) as excinfo:
        read_annotations(path, CLASS_NAMES)
    assert_error(excinfo, path, 2, "voice_over must be True or False", repr(flag))


def test_duplicate_clip_label_row(tmp_path):
    path = annotations(
        tmp_path,
        "abc_000001,rain,A,False,False,False",
        "abc_000001,dog barking,A,False,False,False",
        "abc_000001,rain,AV,False,False,False",
    )
    with pytest.raises(AnnotationError) as excinfo:
        read_annotations(path, CLASS_NAMES)
    assert_error(excinfo, path, 4, "duplicate label 'rain'", "abc_000001", "line 2")


@pytest.mark.parametrize(
    "video_id",
    ["abc", "abc_12345", "abc_0000010", "_000010", "ab cd_000010", "abc_00001x", "abc-000010"],
)
def test_malformed_video_id(tmp_path, video_id):
    path = annotations(
        tmp_path, "ok_000001,rain,A,False,False,False", f"{video_id},rain,A,False,False,False"
    )
    with pytest.raises(AnnotationError) as excinfo:
        read_annotations(path, CLASS_NAMES)
    assert_error(excinfo, path, 3, "malformed video_id", repr(video_id))


@pytest.mark.parametrize("text", ["", "\n\n", "   \n"])
def test_empty_file(tmp_path, text):
    path = write(tmp_path / "labels.csv", text)
    with pytest.raises(AnnotationError) as excinfo:
        read_annotations(path, CLASS_NAMES)
    assert_error(excinfo, path, 1, "empty")


def test_header_only_file(tmp_path):
    path = write(tmp_path / "labels.csv", HEADER + "\n")
    with pytest.raises(AnnotationError) as excinfo:
        read_annotations(path, CLASS_NAMES)
    assert_error(excinfo, path, 1, "no annotation rows")


def test_unquoted_class_name_with_comma_is_a_field_count_error(tmp_path):
    path = annotations(tmp_path, "abc_000001,male speech, man speaking,A,False,False,False")
    with pytest.raises(AnnotationError) as excinfo:
        read_annotations(path, CLASS_NAMES)
    assert_error(excinfo, path, 2, "expected 6 fields, got 7")


def test_line_numbers_count_physical_lines_of_multiline_fields(tmp_path):
    path = annotations(
        tmp_path,
        'abc_000001,"rain\nstorm",A,False,False,False',
        "abc_000001,dog barking,Q,False,False,False",
    )
    with pytest.raises(AnnotationError) as excinfo:
        read_annotations(path, CLASS_NAMES)
    # the first data row spans lines 2-3 and is itself bad (unknown class): it is reported first
    assert_error(excinfo, path, 3, "'rain\\nstorm'", "not in classes.csv")


def test_undecodable_bytes_name_the_line(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_bytes(HEADER.encode() + b"\nabc_000001,r\xe9in,A,False,False,False\n")
    with pytest.raises(AnnotationError) as excinfo:
        read_annotations(path, CLASS_NAMES)
    assert_error(excinfo, path, 2, "not UTF-8")


def test_annotation_error_survives_pickling(tmp_path):
    error = AnnotationError(tmp_path / "x.csv", 7, "bad thing")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.path, copy.line, copy.problem, str(copy)) == (
        error.path,
        7,
        "bad thing",
        str(error),
    )
    assert re.fullmatch(r".*x\.csv, line 7: bad thing", str(copy))
