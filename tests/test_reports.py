"""Specification of vggsounder_hf.reports.tables: the paper's main table and its renderers."""

from __future__ import annotations

import csv
import io
import json

import pytest

from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.reports.tables import (
    ModelResult,
    format_percent,
    latex_escape,
    main_table,
    parse_columns,
    parse_metrics,
    render,
    result_key,
    score_models,
    table_layout,
)

PAPER_KEYS = [
    "subset_accuracy/a",
    "subset_accuracy/v",
    "subset_accuracy/av",
    "f1/a",
    "f1/v",
    "f1/av",
    "f1/a_only",
    "f1/v_only",
    "hit/a",
    "hit/v",
    "hit/av",
    "mu/a",
    "mu/v",
    "mu/a_and_v",
]


def label_model(name="labels-model", **overrides) -> ModelResult:
    """Label-set results where every paper value is set (0.01 * position) unless overridden."""
    results = {}
    for position, key in enumerate(
        [
            "a/subset_accuracy",
            "v/subset_accuracy",
            "av/subset_accuracy",
            "a/f1",
            "v/f1",
            "av/f1",
            "a_only/f1",
            "v_only/f1",
            "a/hit",
            "v/hit",
            "av/hit",
            "mu/a",
            "mu/v",
            "mu/a_and_v",
        ],
        start=1,
    ):
        results[key] = position / 100
    results.update(overrides)
    return ModelResult(name, "labels", results, source=f"{name}.pkl")


def score_model() -> ModelResult:
    results = {
        "a/f1@1": 0.10,
        "a/f1@3": 0.30,
        "v/f1@1": 0.11,
        "v/f1@3": 0.33,
        "a/auc_roc": 0.9,
        "v/auc_roc": 0.8,
        "mu/a": 0.05,
        "mu/v": 0.06,
        "mu/a_and_v": 0.01,
    }
    return ModelResult("scores-model", "scores", results)


def markdown_rows(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def test_default_layout_is_the_papers_main_table():
    table = main_table([label_model()])
    assert [column.key for column in table.columns] == PAPER_KEYS
    assert [column.label for column in table.columns] == [
        *("a", "v", "av"),
        *("a", "v", "av", "a only", "v only"),
        *("a", "v", "av"),
        *("A", "V", "A∩V"),
    ]
    assert {column.group for column in table.columns} == {"Subset accuracy", "F1", "Hit", "μ"}
    assert [column.better for column in table.columns][-3:] == ["lower"] * 3


def test_values_are_percent_with_two_decimals_in_the_papers_order():
    rows = markdown_rows(render(main_table([label_model()]), "markdown"))
    assert rows[0][:4] == ["Model", "Acc. a ↑", "Acc. v ↑", "Acc. av ↑"]
    assert rows[0][-1] == "μ A∩V ↓"
    assert rows[2] == ["labels-model", *[f"{position}.00" for position in range(1, 15)]]


def test_format_percent_rounds_to_two_decimals_and_never_prints_minus_zero():
    assert format_percent(0.123456) == "12.35"
    assert format_percent(1.0) == "100.00"
    assert format_percent(-0.0000001) == "0.00"
    assert format_percent(0.0123, signed=True) == "+1.23"
    assert format_percent(-0.0123, signed=True) == "-1.23"
    assert format_percent(None) == "–"


def test_score_models_are_shown_at_k_and_get_one_row_per_k():
    at_one = main_table([score_model()], metrics=["f1"], columns=["a", "v"])
    assert markdown_rows(render(at_one, "markdown"))[2] == ["scores-model", "10.00", "11.00"]
    several = main_table([score_model(), label_model()], metrics=["f1"], columns=["a"], ks=[1, 3])
    rows = markdown_rows(render(several, "markdown"))[2:]
    assert rows == [
        ["scores-model (k=1)", "10.00"],
        ["scores-model (k=3)", "30.00"],
        ["labels-model", "4.00"],
    ]
    assert [row.k for row in several.rows] == [1, 3, None]


def test_values_a_model_does_not_have_are_a_dash_an_empty_csv_cell_and_json_null():
    results = dict(label_model().results)
    del results["v/f1"]
    table = main_table([ModelResult("no-video", "labels", results)], metrics=["f1", "auc_roc"])
    assert markdown_rows(render(table, "markdown"))[2][1:4] == ["4.00", "–", "6.00"]
    assert markdown_rows(render(table, "markdown"))[2][-5:] == ["–"] * 5
    csv_row = list(csv.reader(io.StringIO(render(table, "csv"))))[1]
    assert csv_row[3:6] == ["4.00", "", "6.00"]
    values = json.loads(render(table, "json"))["rows"][0]["values"]
    assert values["f1/v"] is None and values["auc_roc/a"] is None


def test_auc_and_mu_do_not_depend_on_k():
    table = main_table([score_model()], metrics=["auc_roc", "mu"], columns=["a", "v"], ks=[3])
    assert markdown_rows(render(table, "markdown"))[2] == [
        "scores-model",
        "90.00",
        "80.00",
        "5.00",
        "6.00",
        "1.00",
    ]


def test_json_keeps_full_precision_fractions_and_metadata():
    model = label_model(**{"a/f1": 0.123456789})
    metadata = {"label_version": "1.0", "clip_set": "default", "num_clips": 12014}
    payload = json.loads(render(main_table([model], metadata=metadata), "json"))
    assert payload["unit"] == "fraction"
    assert payload["metadata"] == {**metadata, "ks": [1]}
    row = payload["rows"][0]
    assert row["values"]["f1/a"] == 0.123456789
    assert row["results"]["a/f1"] == 0.123456789
    assert (row["name"], row["kind"], row["k"], row["source"]) == (
        "labels-model",
        "labels",
        None,
        "labels-model.pkl",
    )
    assert [column["key"] for column in payload["columns"]] == PAPER_KEYS


def test_csv_has_one_header_and_one_line_per_row_with_column_keys():
    text = render(main_table([label_model(), label_model("other, model")]), "csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["model", "kind", "k", *PAPER_KEYS]
    assert [row[0] for row in rows[1:]] == ["labels-model", "other, model"]
    assert rows[1][3] == "1.00"


def test_terminal_table_is_aligned_with_a_group_header_and_a_caption():
    metadata = {"label_version": "1.0", "clip_set": "default", "num_clips": 12014}
    text = render(main_table([label_model(), label_model("m")], metadata=metadata), "table")
    lines = text.splitlines()
    assert (
        lines[0] == "VGGSounder results; labels 1.0; clip set default (12,014 clips); values in %"
    )
    assert "Subset accuracy ↑" in lines[1] and "μ ↓" in lines[1]
    header, rule, *body = lines[2:]
    expected_header = "model a v av a v av a only v only a v av A V A∩V"
    assert header.split() == expected_header.split()
    assert set(rule) == {"-"}
    assert len({len(header), len(rule), *map(len, body)}) == 1  # every line equally wide
    assert body[1].split() == ["m", *[f"{position}.00" for position in range(1, 15)]]


def test_latex_has_grouped_headers_booktabs_and_escaped_names():
    text = render(main_table([label_model("video_llama 2 & co")]), "latex")
    assert r"\begin{tabular}{l rrr rrrrr rrr rrr}" in text
    assert r"\multicolumn{3}{c}{Subset accuracy $\uparrow$}" in text
    assert r"\multicolumn{3}{c}{$\mu$ $\downarrow$}" in text
    assert r"\cmidrule(lr){5-9}" in text
    assert r"video\_llama 2 \& co & 1.00 & 2.00" in text
    assert text.rstrip().endswith(r"\end{tabular}")
    assert latex_escape("50% A∩V ¬") == r"50\% A$\cap$V $\neg$"


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown format 'html'"):
        render(main_table([label_model()]), "html")


def test_metric_and_column_names_accept_the_references_spelling_and_lists():
    assert parse_metrics(["accuracy, hit_rate", "f1", "f1"]) == ("subset_accuracy", "hit", "f1")
    assert parse_columns(["a_only,v-only", "AV", "a only"]) == ("a only", "v only", "av")
    with pytest.raises(ValueError, match="unknown metric 'f2'"):
        parse_metrics(["f2"])
    with pytest.raises(ValueError, match="unknown column 'x'"):
        parse_columns(["x"])


def test_layout_keeps_paper_columns_per_metric_unless_columns_are_chosen():
    assert table_layout(["f1_macro", "hit"]) == (
        ("f1_macro", ("a", "v", "av", "a only", "v only")),
        ("hit", ("a", "v", "av")),
    )
    assert table_layout(["hit", "mu"], ["v only"]) == (
        ("hit", ("v only",)),
        ("mu", ("a", "v", "a_and_v")),
    )


def test_result_keys_follow_the_evaluation_names():
    assert result_key("subset_accuracy", "a only", "labels") == "a_only/subset_accuracy"
    assert result_key("hit", "v", "scores", 5) == "v/hit@5"
    assert result_key("auc_pr", "av", "scores", 5) == "av/auc_pr"
    assert result_key("mu", "a_and_v", "labels") == "mu/a_and_v"


def test_score_models_calls_the_core_evaluation_for_each_model():
    classes = ("dog", "cat")
    truth = GroundTruth.from_rows(
        [
            {
                "video_id": f"x_{i:06d}",
                "labels": [i % 2],
                "modalities": ["AV"],
                "background_music": False,
                "static_image": False,
                "voice_over": False,
            }
            for i in range(4)
        ],
        classes,
    )
    ids = [f"x_{i:06d}" for i in range(4)]
    predictions = ModelPredictions.from_label_sets(
        {"av": dict(zip(ids, [["dog"], ["dog"], ["dog"], ["cat"]], strict=True))}, classes
    )
    (result,) = score_models(truth, [("m", predictions)])
    assert result.results == evaluate_predictions(truth, predictions)
    assert result.results["av/subset_accuracy"] == 0.75  # clips 0, 2 and 3 right, by hand
    assert (result.name, result.kind) == ("m", "labels")
