"""Issue 11, the core and Hugging Face layers: every bad input gets one clear, typed error.

Each case builds its bad input itself and asserts the exact outcome: the error class (all of
them :class:`VGGSounderInputError`, or :class:`HubError` for the network), the words of the
one-line message, and for warnings the category and the count. The io layer's readers and
the command line have their own corpora (tests/test_readers.py, tests/test_cli_*.py).
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import httpx2
import numpy as np
import pytest
from huggingface_hub import ModelCard

from vggsounder_hf.core.coverage import check_clip_set, check_overlap
from vggsounder_hf.core.errors import (
    EmptyClipSetError,
    EmptyColumnWarning,
    GroundTruthError,
    HubError,
    ModelCardError,
    NoMatchingClipsError,
    NoMatchingClipsWarning,
    OptionError,
    PredictionError,
    ResultsError,
    VGGSounderInputError,
    duplicate_clip_message,
)
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.hf import metric_inputs
from vggsounder_hf.hf.hub_results import push_results, results_to_eval_results
from vggsounder_hf.hf.logits import split_logits

CLASSES = ("dog", "cat", "bird")
FLAGS = {"background_music": False, "static_image": False, "voice_over": False}
CLIP = "x_000001"


def _row(video_id: Any = CLIP, labels: Any = (0,), modalities: Any = ("AV",), **flags) -> dict:
    return {"video_id": video_id, "labels": labels, "modalities": modalities, **FLAGS, **flags}


def _truth(*rows: dict) -> GroundTruth:
    return GroundTruth.from_rows(list(rows) or [_row()], CLASSES)


def _labels(value: Any, modality: str = "a") -> Callable[[], Any]:
    return lambda: ModelPredictions.from_label_sets({modality: {CLIP: value}}, CLASSES, "m.pkl")


def _scores(value: Any) -> Callable[[], Any]:
    return lambda: ModelPredictions.from_scores({"v": {CLIP: value}}, CLASSES, "m.pkl")


def _mapping(mapping: Any) -> Callable[[], Any]:
    return lambda: ModelPredictions.from_mapping(mapping, CLASSES, "m.pkl")


def _evaluate_row(config: str, value: Any) -> Callable[[], Any]:
    rows = [{"video_id": CLIP, "a": value}]
    return lambda: metric_inputs.normalise_predictions(rows, config, CLASSES)


def _reference(**changes: Any) -> Callable[[], Any]:
    return lambda: metric_inputs.normalise_references([{**_row(), **changes}], CLASSES)


def _push(results: dict) -> Callable[[], Any]:
    return lambda: results_to_eval_results(results, label_version="1.0")


SECTION = defaultdict(list, {"a": ["dog"], "v": [], "av": ["cat"]})
TYPO = defaultdict(list, {"a": ["dog"], "v": [], "AV": ["cat"]})
WHERE = "m.pkl: clip 'x_000001'"
ROW = r"predictions\[0\] \(x_000001\), input 'a': "

# (id, build the input and use it, error class, regex on the message)
CASES: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    # predictions: structure (defaultdict sections, unknown keys)
    (
        "defaultdict-typo-AV",
        _mapping({CLIP: {"predictions": SECTION}, "y_000002": {"predictions": TYPO}}),
        PredictionError,
        r"^m\.pkl: unknown input modality 'AV'; use \('a', 'v', 'av'\)$",
    ),
    (
        "defaultdict-top-level-typo",
        _mapping(defaultdict(dict, {CLIP: {"predictions": TYPO}})),
        PredictionError,
        r"unknown input modality 'AV'",
    ),
    (
        "misspelt-entry-key",
        _mapping({CLIP + ".mp4": {"prediction": {"a": ["dog"]}}}),
        PredictionError,
        r"^m\.pkl: entry of clip 'x_000001' has unknown key\(s\) 'prediction'; use 'predictions'",
    ),
    ("not-a-mapping", _mapping([1, 2]), PredictionError, r"expected a mapping of video ids"),
    ("clip-id-not-a-string", _mapping({7: {"predictions": {}}}), PredictionError, r"7.*string"),
    (
        "section-not-a-mapping",
        lambda: ModelPredictions.from_label_sets({"a": ["dog"]}, CLASSES, "m.pkl"),
        PredictionError,
        r"^m\.pkl: input 'a' must map video ids to label sets, got list$",
    ),
    # predictions: labels
    ("bool-index", _labels([True, False]), PredictionError, rf"^{WHERE}, input 'a': label True "),
    ("numpy-bool-index", _labels([np.True_]), PredictionError, r"label np\.True_ \(bool\) is"),
    ("bool-array", _labels(np.array([False])), PredictionError, r"label False \(bool\) is"),
    ("float-index", _labels([2.0]), PredictionError, r"label 2\.0 \(float\) is neither"),
    ("nested-list-label", _labels([["dog"]]), PredictionError, r"label \['dog'\] \(list\) is"),
    ("dict-label", _labels([{"a": 1}]), PredictionError, r"label \{'a': 1\} \(dict\) is"),
    ("index-out-of-range", _labels([3]), PredictionError, r"label 3 \(int\) .* index 0\.\.2$"),
    ("bare-string", _labels("dog"), PredictionError, r"must be a list .* got str$"),
    ("0-d-array", _labels(np.array(1)), PredictionError, r"got a 0-D array$"),
    # predictions: scores
    ("string-score", _scores(["0.1", 0.2, 0.3]), PredictionError, r"score '0\.1' \(str\) is not"),
    ("bool-score", _scores([0.1, True, 0.3]), PredictionError, r"score True \(bool\) is not a"),
    ("complex-score", _scores([0.1, 2j, 0.3]), PredictionError, r"score 2j \(complex\) is not"),
    ("none-score", _scores([0.1, None, 0.3]), PredictionError, r"score None \(NoneType\) is"),
    ("huge-score", _scores([10**400, 0, 0]), PredictionError, r"about 10\*\*400 is too large"),
    ("string-array", _scores(np.array(["1", "2", "3"])), PredictionError, r"score '1' \(str\)"),
    ("complex-array", _scores(np.zeros(3, complex)), PredictionError, r"score 0j \(complex\)"),
    ("nan-score", _scores([0.1, np.nan, 0.3]), PredictionError, r"contain NaN or infinity$"),
    ("short-scores", _scores([0.1, 0.2]), PredictionError, r"expected 3 scores, got 2$"),
    ("scalar-scores", _scores(0.5), PredictionError, r"expected a list of 3 scores, got float$"),
    # ground truth rows
    (
        "string-flag",
        lambda: _truth(_row(voice_over="False")),
        GroundTruthError,
        r"^reference row 0 \(x_000001\): 'voice_over' must be True or False, got 'False'$",
    ),
    ("int-flag", lambda: _truth(_row(static_image=0)), GroundTruthError, r"'static_image' must"),
    ("bool-modality", lambda: _truth(_row(modalities=[True])), GroundTruthError, r"modality True"),
    ("int-video-id", lambda: _truth(_row(video_id=5)), GroundTruthError, r"'video_id' must be a"),
    (
        "string-labels",
        lambda: _truth(_row(labels="dog", modalities="AAA")),
        GroundTruthError,
        r"'labels' must be a list, got str$",
    ),
    (
        "clip-twice-in-references",
        lambda: _truth(_row(), _row()),
        GroundTruthError,
        r"^references: clip 'x_000001' appears more than once$",
    ),
    # clip sets and matching
    (
        "empty-clip-set",
        lambda: check_clip_set(_truth(_row(background_music=True)), "default"),
        EmptyClipSetError,
        r"^clip set 'default' holds none of the 1 clips of the ground truth",
    ),
    (
        "no-prediction-matches",
        lambda: check_overlap(
            _truth(),
            ModelPredictions.from_label_sets({"a": {" x_000001": [0]}}, CLASSES, "m.json"),
            "full",
            strict=True,
        ),
        NoMatchingClipsError,
        r"^m\.json: no prediction is for a clip of clip set 'full' \(1 clips\): none of the 1 ",
    ),
    # evaluate module rows
    (
        "evaluate-bool-index",
        _evaluate_row("labels", [True]),
        PredictionError,
        ROW + r"1 values 0/1 look",
    ),
    ("evaluate-float-index", _evaluate_row("labels", [1.0]), PredictionError, ROW + r"label 1\.0"),
    (
        "evaluate-short-0/1",
        _evaluate_row("labels", [0, 1, 1, 0]),
        PredictionError,
        ROW + r"4 values",
    ),
    ("evaluate-huge-score", _evaluate_row("scores", [10**400, 0, 0]), PredictionError, ROW + "sc"),
    ("evaluate-str-score", _evaluate_row("scores", ["1", 0, 0]), PredictionError, ROW + "score"),
    ("evaluate-config", _evaluate_row("probabilities", [0]), OptionError, r"unknown config"),
    (
        "evaluate-string-flag",
        _reference(background_music="False"),
        GroundTruthError,
        r"^references\[0\] \(x_000001\): 'background_music' must be True or False, got 'False'$",
    ),
    # Trainer logits
    (
        "trainer-bool-logits",
        lambda: split_logits(np.ones((2, 3), bool), ("av",), 3),
        PredictionError,
        r"^logits for input 'av' have dtype bool; expected real numbers",
    ),
    (
        "trainer-ragged-logits",
        lambda: split_logits([[0.1, 0.2, 0.3], [0.1]], ("av",), 3),
        PredictionError,
        r"are not one rectangular array",
    ),
    # push-results values
    ("push-nan", _push({"av/f1": float("nan")}), ResultsError, r"^result 'av/f1' is NaN"),
    ("push-inf", _push({"a/d_prime": float("inf")}), ResultsError, r"is inf, not a finite number"),
    ("push-rate-above-1", _push({"av/hit@1": 1.5}), ResultsError, r"a fraction in \[0, 1\]$"),
    ("push-negative-mu", _push({"mu/a": -0.01}), ResultsError, r"'mu/a' is -0\.01; a rate"),
    (
        "push-k-on-auc",
        _push({"v/auc_roc@1": 0.5}),
        ResultsError,
        r"^unknown VGGSounder result key 'v/auc_roc@1': auc_roc has no top-k cut-off$",
    ),
    (
        "push-yaml",
        lambda: push_results(
            "me/m", {"av/f1": 0.5}, card_loader=lambda r, t: "---\na: [\n---\n", uploader=print
        ),
        ModelCardError,
        r"^cannot update the model card of me/m: the card's YAML metadata does not parse",
    ),
]


@pytest.mark.parametrize(
    ("build", "error", "message"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_bad_input_is_one_typed_error_with_one_line(build, error, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error) as raised:
            build()
    assert isinstance(raised.value, VGGSounderInputError)
    text = str(raised.value)
    assert "\n" not in text
    assert raised.match(message)


@pytest.mark.parametrize(
    ("exception", "action"),
    [
        (httpx2.ConnectError("[Errno 111] Connection refused"), "reading"),
        (httpx2.ReadTimeout("The read operation timed out"), "reading"),
        (httpx2.ConnectError("[Errno -3] Temporary failure in name resolution"), "uploading"),
        (ConnectionError("HF_HUB_OFFLINE is set"), "uploading"),
    ],
)
def test_an_unreachable_hub_is_a_hub_error_naming_the_repository(monkeypatch, exception, action):
    def fail(*args, **kwargs):
        raise exception

    monkeypatch.setattr(ModelCard, "load", classmethod(lambda cls, *a, **k: cls("---\n---\n")))
    if action == "reading":
        monkeypatch.setattr(ModelCard, "load", classmethod(fail))
    monkeypatch.setattr(ModelCard, "push_to_hub", fail)
    with pytest.raises(HubError) as raised:
        push_results("me/model", {"av/f1": 0.5})
    assert isinstance(raised.value, OSError)
    assert str(raised.value) == (
        f"{exception} ({action} the model card of me/model on the Hugging Face Hub)"
    )
    assert raised.value.repo_id == "me/model"


def test_a_clip_given_twice_has_one_wording_in_every_layer():
    expected = duplicate_clip_message("SOURCE", CLIP)
    twice = {"a": {CLIP + ".mp4": ["dog"], CLIP: ["cat"]}}
    messages = []
    for build in (
        lambda: ModelPredictions.from_label_sets(twice, CLASSES, "SOURCE"),
        lambda: ModelPredictions.from_scores({"a": ([CLIP, CLIP], np.zeros((2, 3)))}, CLASSES),
        lambda: ModelPredictions.from_mapping(
            {CLIP: {"predictions": {"a": []}}, CLIP + ".mp4": {"predictions": {"a": []}}},
            CLASSES,
            "SOURCE",
        ),
        lambda: _truth(_row(), _row()),
        lambda: metric_inputs.compute_from_rows(
            [{"video_id": CLIP, "a": ["dog"], "v": None, "av": None}] * 2,
            [_row()],
            "labels",
            CLASSES,
        ),
    ):
        with pytest.raises(VGGSounderInputError) as raised:
            build()
        messages.append(str(raised.value))
    core = expected.split(": ", 1)[1]  # "clip 'x_000001' appears more than once"
    assert all(core in message for message in messages), messages


def test_defaultdict_predictions_score_like_plain_dicts_and_are_not_changed():
    plain = {CLIP: {"predictions": {"a": ["dog"], "v": [], "av": ["cat"]}}}
    nested = defaultdict(
        lambda: defaultdict(list), {CLIP: {"predictions": defaultdict(list, SECTION)}}
    )
    one = ModelPredictions.from_mapping(plain, CLASSES)
    other = ModelPredictions.from_mapping(nested, CLASSES)
    assert {m: other[m].matrix.tolist() for m in other.input_modalities} == {
        m: one[m].matrix.tolist() for m in one.input_modalities
    }
    assert set(nested[CLIP]["predictions"]) == {"a", "v", "av"}  # nothing invented


def test_an_empty_column_is_a_warning_that_names_it_and_the_clip_set():
    with pytest.warns(EmptyColumnWarning) as caught:
        empty = check_clip_set(_truth(), "full", ["av", "a_only", "v-only"])
    assert empty == ("a only", "v only")
    assert [str(w.message) for w in caught] == [
        "column(s) 'a only', 'v only' have no clip in clip set 'full' of the ground truth: "
        "their metrics are undefined"
    ]


def test_no_matching_prediction_warns_with_the_count_by_default():
    predictions = ModelPredictions.from_label_sets(
        {"a": {" x_000001": [0], "unknown_000002": [1]}}, CLASSES, "m.json"
    )
    with pytest.warns(NoMatchingClipsWarning, match=r"none of the 2 predicted clip ids") as w:
        assert check_overlap(_truth(), predictions, "full") == 0
    assert "(1 match once surrounding spaces are removed)" in str(w[0].message)


def test_a_label_too_long_to_print_is_described_not_a_crash():
    from vggsounder_hf.core.errors import PredictionError
    from vggsounder_hf.core.predictions import ModelPredictions

    with pytest.raises(PredictionError, match="label an integer of 5001 digits"):
        ModelPredictions.from_mapping({"x_000001": {"predictions": {"a": [10**5000]}}}, ("dog",))
