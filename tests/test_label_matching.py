"""Specification of vggsounder_hf.core.label_matching: free text matched to the 309 classes,
opt-in, with the unmatched names reported and near classes suggested."""

from __future__ import annotations

import warnings

import pytest

from vggsounder_hf.core.errors import OptionError
from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.core.label_matching import (
    STRATEGIES,
    class_lookup,
    match_class_names,
    match_label_sets,
    normalize_name,
    strategy_name,
    suggest_classes,
)
from vggsounder_hf.core.predictions import ModelPredictions, UnknownLabelWarning
from vggsounder_hf.io.safe_pickle import load_pickle


@pytest.fixture(scope="module")
def classes(release_1_0) -> tuple[str, ...]:
    return release_1_0.class_names


def test_exact_is_the_default_and_matches_only_the_names_themselves(classes):
    report = match_class_names(["dog barking", "Dog barking", "dog barking "], classes)
    assert report.strategy == "exact"
    assert report.indices == (classes.index("dog barking"), None, None)
    assert report.unmatched == ("Dog barking", "dog barking ")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("DOG BARKING", "dog barking"),
        ("  dog\tbarking.\n", "dog barking"),
        ("ｄｏｇ ｂａｒｋｉｎｇ", "dog barking"),  # full-width letters: Unicode NFKC
        ("Police car siren", "police car (siren)"),
        ("horse clip clop", "horse clip-clop"),
        ("Male speech man speaking", "male speech, man speaking"),
    ],
)
def test_normalized_ignores_case_spacing_punctuation_and_unicode_forms(classes, text, name):
    assert match_class_names([text], classes, "normalized").indices == (classes.index(name),)


def test_normalized_does_not_match_a_part_of_a_name(classes):
    assert match_class_names(["man speaking"], classes, "normalized").unmatched == ("man speaking",)


def test_aliases_match_every_comma_separated_part_to_its_class(classes):
    lookup = class_lookup(classes, "aliases")
    with_parts = [name for name in classes if "," in name]
    assert len(with_parts) == 23
    for index, name in enumerate(classes):
        assert lookup(name) == index
        for part in name.split(","):
            assert lookup(part.strip().upper()) == index, part
    assert lookup("man speaking") == classes.index("male speech, man speaking")
    assert lookup("Kayak rowing") == classes.index("rowboat, canoe, kayak rowing")


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_class_name_matches_itself_under_every_strategy(classes, strategy):
    report = match_class_names(classes, classes, strategy)
    assert report.indices == tuple(range(len(classes)))
    assert normalize_name("A  B") == "a b"


def test_a_user_mapping_gives_the_class_and_falls_back_to_exact(classes):
    mapping = {"doggo": "dog barking", "kitty": classes.index("cat purring"), "noise": None}
    report = match_class_names(["doggo", "kitty", "noise", "cat purring", "Cat"], classes, mapping)
    dog, cat = classes.index("dog barking"), classes.index("cat purring")
    assert report.indices == (dog, cat, None, cat, None)
    assert report.strategy == "mapping"
    assert report.matched == {
        "doggo": "dog barking",
        "kitty": "cat purring",
        "cat purring": "cat purring",
    }


def test_a_callable_gives_the_class_for_each_text(classes):
    def judge(text: str) -> str | None:
        return "dog barking" if "dog" in text.lower() else None

    report = match_class_names(["A dog barks loudly", "silence"], classes, judge)
    assert report.indices == (classes.index("dog barking"), None)
    assert report.strategy == "callable"


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        ("fuzzy", r"label matching 'fuzzy' is not a strategy; use one of exact, normalized"),
        (42, r"label matching 42 is not a strategy"),
        ({"doggo": "dogs barking"}, r"maps 'doggo' to 'dogs barking', which is not a class"),
        ({"doggo": 309}, r"maps 'doggo' to 309: give a class name, a class index 0\.\.308"),
        ({"doggo": True}, r"maps 'doggo' to True"),
        (lambda text: 1.5, r"maps 'doggo' to 1\.5"),
    ],
)
def test_bad_strategies_and_bad_mapped_classes_are_refused(classes, strategy, message):
    with pytest.raises(OptionError, match=message):
        match_class_names(["doggo"], classes, strategy)


def test_texts_must_be_strings(classes):
    with pytest.raises(OptionError, match=r"3 \(int\) is not a text"):
        match_class_names(["dog barking", 3], classes)


def test_unmatched_names_come_with_the_nearest_classes(classes):
    report = match_class_names(["dog barkin", "Dog", "guitar", "xyzzy", "dog barkin"], classes)
    assert report.unmatched == ("dog barkin", "Dog", "guitar", "xyzzy")
    assert report.suggestions["dog barkin"][0] == "dog barking"
    assert all("dog" in name for name in report.suggestions["Dog"])
    assert all("guitar" in name for name in report.suggestions["guitar"])
    assert report.suggestions["xyzzy"] == ()
    text = report.format()
    assert text.splitlines()[0] == (
        "label matching 'exact': 0 of 5 texts matched a class; 4 did not:"
    )
    assert "'dog barkin': did you mean 'dog barking'" in text
    assert "'xyzzy': no close class" in text
    assert suggest_classes("playing violin", classes)[0] == "playing violin, fiddle"


def test_strategy_names_for_the_output_metadata():
    assert [strategy_name(name) for name in STRATEGIES] == list(STRATEGIES)
    assert strategy_name({}) == "mapping" and strategy_name(str.lower) == "callable"


# --------------------------------------------------------------------------- label sets


def label_sets_of(mapping: dict, transform=lambda label: label) -> dict:
    return {
        modality: {
            video_id: [transform(label) for label in entry["predictions"][modality]]
            for video_id, entry in mapping.items()
        }
        for modality in ("a", "v", "av")
    }


def test_exact_matching_returns_the_label_sets_unchanged():
    given = {"a": {"x_000001": ["Dog"]}}
    assert match_label_sets(given, ("dog",), "exact") is given


def test_upper_cased_names_score_zero_exactly_and_the_real_numbers_normalized(
    shared_data, classes, truth_1_0
):
    """The newcomer's case: upper-cased class names are all unknown under the reference's
    exact matching; matched with "normalized" they give the numbers of the original file."""
    mapping = load_pickle(shared_data / "model-predictions" / "gemini-1.5-pro.pkl")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownLabelWarning)
        original = ModelPredictions.from_label_sets(label_sets_of(mapping), classes)
        shouted = label_sets_of(mapping, str.upper)
        exact = ModelPredictions.from_label_sets(shouted, classes)
        matched = ModelPredictions.from_label_sets(
            match_label_sets(shouted, classes, "normalized"), classes
        )
    exact_results = evaluate_predictions(truth_1_0, exact)
    assert exact_results["av/f1"] == 0.0 and exact_results["num_unknown_labels"] > 30_000
    assert evaluate_predictions(truth_1_0, matched) == evaluate_predictions(truth_1_0, original)


def test_unmatched_texts_stay_for_the_unknown_label_count():
    matched = match_label_sets(
        {"a": {"x_000001": ["Dog", "owl", 1], "x_000002": None}}, ("dog", "cat"), "normalized"
    )
    assert matched == {"a": {"x_000001": [0, "owl", 1], "x_000002": None}}
    with pytest.warns(UnknownLabelWarning, match="'owl'"):
        predictions = ModelPredictions.from_label_sets(matched, ("dog", "cat"))
    assert predictions["a"].matrix.tolist() == [[True, True], [False, False]]
