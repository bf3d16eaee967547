"""Specification of VGGSound's own labels as a label source (issue 12, item 4):
vggsounder_hf.io.vggsound, the ``"vggsound"`` source of vggsounder_hf.io.sources, and
``vggsounder-score --labels vggsound`` giving the paper's accuracy on VGGSound."""

from __future__ import annotations

import csv
import hashlib
import json
import pickle
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from vggsounder_hf.core import schema
from vggsounder_hf.io import sources, vggsound
from vggsounder_hf.io.annotations import AnnotationError
from vggsounder_hf.io.sources import ChecksumError, load_release, resolve_release_files

TEST_LABELS = "vggsound_test_labels.csv"
VGGSOUNDER_FORMAT = "vggsound_test_in_vggsounder_format.csv"
PUBLIC_URL = "https://www.robots.ox.ac.uk/~vgg/data/vggsound/vggsound.csv"


@pytest.fixture(scope="module")
def vggsound_data(shared_data: Path) -> Path:
    folder = shared_data / "vggsound"
    if not folder.is_dir():
        pytest.skip(f"{folder} is missing")
    return folder


@pytest.fixture(scope="module")
def test_pairs(vggsound_data) -> dict[str, str]:
    """``{video_id: label}`` of the shared test labels, read with plain csv."""
    with open(vggsound_data / TEST_LABELS, newline="", encoding="utf-8") as stream:
        return {name.removesuffix(".mp4"): label for name, label in csv.reader(stream)}


@pytest.fixture(scope="module")
def public_csv(tmp_path_factory, test_pairs) -> Path:
    """The test clips in the layout of VGGSound's public vggsound.csv, among train rows."""
    path = tmp_path_factory.mktemp("public") / "vggsound.csv"
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["zzzzzzzzzzz", "5", "air horn", "train"])
        for video_id, label in test_pairs.items():
            youtube_id, start = video_id[:-7], int(video_id[-6:])
            writer.writerow([youtube_id, str(start), label, "test"])
        writer.writerow(["yyyyyyyyyyy", "12", "dog barking", "train"])
    return path


class ServeFile:
    """A datasets-style download manager that serves ``path`` for every URL."""

    def __init__(self, path: Path):
        self.path, self.requested = path, []

    def download(self, urls):
        self.requested.append(dict(urls))
        return dict.fromkeys(urls, str(self.path))


def canonical_sha256(pairs: dict[str, str]) -> str:
    lines = sorted(f"{video_id},{label}\n" for video_id, label in pairs.items())
    return hashlib.sha256("".join(lines).encode()).hexdigest()


# --- the pin ----------------------------------------------------------------------------------


def test_the_pin_is_the_sha256_of_the_sorted_test_lines_of_both_shared_files(
    vggsound_data, test_pairs
):
    assert len(test_pairs) == 15_446
    assert canonical_sha256(test_pairs) == vggsound.VGGSOUND_TEST_SHA256
    with open(vggsound_data / VGGSOUNDER_FORMAT, newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert {(row["modality"], row["background_music"]) for row in rows} == {("AV", "False")}
    assert canonical_sha256({row["video_id"]: row["label"] for row in rows}) == (
        vggsound.VGGSOUND_TEST_SHA256
    )


def test_the_source_names_are_the_schemas():
    assert schema.VGGSOUND_LABELS == "vggsound"
    assert (*schema.LABEL_RELEASES, "vggsound") == schema.LABEL_SOURCES
    assert vggsound.VGGSOUND_CSV_URL == PUBLIC_URL
    assert vggsound.VGGSOUND_COLUMNS == ("a", "v", "av")


@pytest.mark.parametrize("name", [TEST_LABELS, VGGSOUNDER_FORMAT])
def test_every_format_reads_to_the_same_clips(vggsound_data, public_csv, test_pairs, name):
    classes = load_release("1.0").class_names
    for path in (vggsound_data / name, public_csv):
        table = vggsound.read_vggsound_labels(path, classes)
        got = dict(zip(table.video_ids, (classes[i] for i in table.label_of_row), strict=True))
        assert got == test_pairs
        assert set(table.modality_of_row.tolist()) == {schema.AV}
        assert not any(flags.any() for flags in table.meta.values())
        assert vggsound.content_sha256(table, classes) == vggsound.VGGSOUND_TEST_SHA256


# --- sources ----------------------------------------------------------------------------------


def test_default_source_downloads_the_public_csv_and_checks_its_content(public_csv):
    manager = ServeFile(public_csv)
    files = resolve_release_files("vggsound", download_manager=manager)
    assert manager.requested[0] == {"vggsound.csv": PUBLIC_URL}
    assert files.source == "download"
    assert files.content_sha256 == vggsound.VGGSOUND_TEST_SHA256
    assert files.annotations_sha256 == hashlib.sha256(public_csv.read_bytes()).hexdigest()
    release = sources.parse_release(files)
    assert release.version == "vggsound" and len(release.clips) == 15_446


def test_any_format_passes_the_content_pin(vggsound_data):
    files = resolve_release_files(
        "vggsound", download_manager=ServeFile(vggsound_data / TEST_LABELS)
    )
    assert files.source == "download"


def test_other_labels_from_the_default_source_stop_with_both_hashes(tmp_path, vggsound_data):
    edited = tmp_path / "vggsound.csv"
    text = (vggsound_data / TEST_LABELS).read_text(encoding="utf-8")
    edited.write_text(text.replace(",playing hammond organ\n", ",air horn\n", 1), encoding="utf-8")
    with pytest.raises(ChecksumError) as caught:
        resolve_release_files("vggsound", download_manager=ServeFile(edited))
    message = str(caught.value)
    assert vggsound.VGGSOUND_TEST_SHA256 in message and caught.value.got in message
    assert "sorted video_id,label lines" in message and "data_path" in message
    assert pickle.loads(pickle.dumps(caught.value)).args == caught.value.args
    files = resolve_release_files("vggsound", download_manager=ServeFile(edited), verify=False)
    assert files.content_sha256 == caught.value.got


def test_a_failed_download_says_how_to_pass_a_copy():
    class Offline:
        def download(self, urls):
            raise ConnectionError("no route to host")

    with pytest.raises(sources.VGGSoundDownloadError) as caught:
        resolve_release_files("vggsound", download_manager=Offline())
    message = str(caught.value)
    assert PUBLIC_URL in message and "ConnectionError: no route to host" in message
    assert "--data-path" in message and "--vggsound-labels" in message


def test_a_user_file_or_folder_overrides_the_default_source_unverified(tmp_path, vggsound_data):
    folder = resolve_release_files("vggsound", vggsound_data)
    assert folder.source == "user" and folder.annotations.name == VGGSOUNDER_FORMAT
    mine = tmp_path / "mine.csv"
    mine.write_text('abcdefghijk_000010.mp4,"bird chirping, tweeting"\n', encoding="utf-8")
    shutil.copyfile(vggsound_data.parent / "vggsounder" / "classes.csv", tmp_path / "classes.csv")
    files = resolve_release_files("vggsound", mine)
    assert files.source == "user" and files.classes == tmp_path / "classes.csv"
    assert files.content_sha256 != vggsound.VGGSOUND_TEST_SHA256  # not checked: user files
    release = load_release("vggsound", mine)
    assert [clip.video_id for clip in release.clips] == ["abcdefghijk_000010"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="has none of vggsound_test_in_vggsounder"):
        resolve_release_files("vggsound", empty)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a,b,c\n", r"line 1: not a VGGSound label file"),
        (
            "abcdefghijk_000010.mp4,air horn\nabc.mp4,air horn\n",
            r"line 2: malformed video_id 'abc'",
        ),
        ("abcdefghijk_000010.mp4,no such class\n", r"line 1: class name 'no such class' is not"),
        ("x_000001.mp4,air horn\nx_000001.mp4,air horn\n", r"line 2: clip 'x_000001' is named tw"),
        ("abc,1,air horn,train\n", r"no clip of split 'test'"),
        ("abc,x,air horn,test\n", r"line 1: start_seconds must be a whole number, got 'x'"),
        ("x_000001.mp4,air horn\nx_000002.mp4\n", r"line 2: expected 2 fields, got 1"),
        ("", r"the file is empty"),
    ],
)
def test_bad_label_files_name_the_file_the_line_and_the_problem(tmp_path, text, problem):
    path = tmp_path / "labels.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AnnotationError, match=problem):
        vggsound.read_vggsound_labels(path, ("air horn", "dog barking"))


# --- scoring: the paper's accuracy on VGGSound --------------------------------------------------


def accuracy_by_hand(pairs: dict[str, str], predictions: dict, modality: str) -> float:
    """Clips whose single label is among the input's predicted labels, over every clip."""
    hits = 0
    for video_id, label in pairs.items():
        entry = predictions.get(video_id) or predictions.get(f"{video_id}.mp4") or {}
        predicted = (entry.get("predictions") or {}).get(modality) or []
        hits += label in predicted
    return hits / len(pairs)


def test_vggsound_scoring_is_the_share_of_clips_whose_label_is_predicted(
    tmp_path, capsys, shared_data, vggsound_data, test_pairs
):
    from vggsounder_hf.cli.score import main
    from vggsounder_hf.io.safe_pickle import load_pickle

    path = shared_data / "model-predictions" / "unified-io-2.pkl"
    output = tmp_path / "vggsound.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main([str(path), "--labels", "vggsound", "--data-path", str(vggsound_data),
                     "--format", "json", "-o", str(output), "-q"])  # fmt: skip
    assert code == 0
    payload = json.loads(output.read_text())
    values = payload["rows"][0]["values"]
    assert payload["metadata"]["label_version"] == "vggsound"
    assert payload["metadata"]["num_clips"] == 15_446
    raw = load_pickle(path)
    for modality in ("a", "v", "av"):
        assert values[f"hit/{modality}"] == pytest.approx(
            accuracy_by_hand(test_pairs, raw, modality), abs=1e-12
        )
    assert not [key for key in values if "only" in key]  # a only, v only left out
    assert any("a only and v only are left out" in note for note in payload["notes"])


def test_vggsound_text_table_has_the_note_and_no_only_columns(capsys, shared_data, vggsound_data):
    from vggsounder_hf.cli.score import main

    path = shared_data / "model-predictions" / "ola.pkl"
    assert main([str(path), "--labels", "vggsound", "--data-path", str(vggsound_data), "-q"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "VGGSounder results; protocol reference; labels vggsound; clip set default (15,446 clips)"
    )
    assert "a only" not in out.splitlines()[2] and "a only and v only are left out" in out


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (["--report", "meta"], "VGGSound's labels have no meta labels"),
        (["--columns", "a,a_only"], "no clip is in column a only; choose from a, v, av"),
        (["--radar", "r.png"], "use --compare-vggsound with a VGGSounder release"),
    ],
)
def test_vggsound_labels_refuse_what_needs_vggsounder_labels(capsys, shared_data, options, problem):
    from vggsounder_hf.cli.score import main

    path = shared_data / "model-predictions" / "ola.pkl"
    assert main([str(path), "--labels", "vggsound", *options]) == 2
    assert problem in capsys.readouterr().err


def test_score_predictions_use_top_1_on_vggsound(vggsound_data, test_pairs):
    from vggsounder_hf.core.predictions import ModelPredictions
    from vggsounder_hf.reports.paper import vggsound_results

    release = load_release("vggsound", vggsound_data)
    classes = release.class_names
    ids = sorted(test_pairs)
    rng = np.random.default_rng(0)
    scores = rng.random((len(ids), len(classes)))
    truth_index = [classes.index(test_pairs[video_id]) for video_id in ids]
    scores[: len(ids) // 2, :][np.arange(len(ids) // 2), truth_index[: len(ids) // 2]] = 2.0
    model = ModelPredictions.from_scores(
        {modality: dict(zip(ids, scores.tolist(), strict=True)) for modality in ("a", "v", "av")},
        classes,
    )
    (result,) = vggsound_results([("s", model)], release=release)
    expected = np.mean(scores.argmax(axis=1) == np.array(truth_index))
    assert result.results["av/hit@1"] == pytest.approx(expected, abs=1e-12)
    assert 0.5 <= expected < 0.51
