"""The metric card is a valid evaluate card and its numbers are the reference's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from huggingface_hub import RepoCard

CARD = Path(__file__).resolve().parents[1] / "metrics" / "vggsounder" / "README.md"


def test_card_has_the_front_matter_of_evaluate_metric_cards():
    card = RepoCard.load(CARD)
    assert card.data.title == "VGGSounder"
    assert {"evaluate", "metric"} <= set(card.data.tags)
    assert card.data.description
    for section in (
        "## Metric Description",
        "## How to Use",
        "### Inputs",
        "### Output Values",
        "### Examples",
        "## Limitations and Bias",
        "## Citation",
    ):
        assert section in card.text


def test_example_numbers_are_the_authors_reference_values(reference_values):
    """The Gemini 1.5 Pro example must show what the reference computes, rounded."""
    text = CARD.read_text(encoding="utf-8")
    shown = dict(re.findall(r"'([a-z0-9_]+/[a-z0-9_]+)': ([0-9.]+)", text))
    expected = reference_values["results"]["default"]["gemini-1.5-pro"]
    pairs = {
        "a/f1": expected["a"]["f1"],
        "v/f1": expected["v"]["f1"],
        "av/f1": expected["av"]["f1"],
        "a_only/f1": expected["a only"]["f1"],
        "v_only/f1": expected["v only"]["f1"],
        "av/subset_accuracy": expected["av"]["accuracy"],
        "av/hit": expected["av"]["hit_rate"],
        "mu/a": expected["a"]["mu"],
        "mu/v": expected["v"]["mu"],
        "mu/a_and_v": expected["av"]["mu"],
    }
    for key, value in pairs.items():
        assert float(shown[key]) == pytest.approx(round(value, 4), abs=1e-12), key
    assert int(shown["mu/num_clips"]) == reference_values["clip_counts"]["default"]["all"]
    assert int(shown["av/num_clips"]) == reference_values["clip_counts"]["default"]["av"]
