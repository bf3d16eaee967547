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
    metadata = {
        "protocol": "reference",
        "label_version": "1.0",
        "clip_set": "default",
        "num_clips": 12014,
    }
    text = render(main_table([label_model(), label_model("m")], metadata=metadata), "table")
    lines = text.splitlines()
    assert lines[0] == (
        "VGGSounder results; protocol reference; labels 1.0; clip set default (12,014 clips); "
        "values in %"
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


# ------------------------------------------------------------------ registry-driven tables


def test_the_vocabulary_is_the_schemas():
    from vggsounder_hf.core import schema
    from vggsounder_hf.reports import tables

    assert tables.METRICS is schema.RATE_METRICS
    assert tables.MU_COLUMNS is schema.MU_PARTS
    assert tables.MU_LABELS is schema.MU_LABELS
    assert tables.result_key is schema.result_key
    assert tables.parse_columns is schema.columns
    assert tables.FORMATS is tables.OUTPUT_FORMATS
    assert tables.OUTPUT_FORMATS == ("table", "markdown", "latex", "csv", "json")


def test_every_rate_of_the_registry_can_be_a_group_but_counts_cannot():
    assert parse_metrics(["mAP, dprime", "roc_auc"]) == ("map", "d_prime", "auc_roc")
    with pytest.raises(ValueError, match="'num_clips' is a count, not a table metric"):
        parse_metrics(["f1,num_clips"])
    table = main_table([score_model()], metrics=["map", "d_prime"], columns=["a"])
    assert [(column.group, column.short, column.percent) for column in table.columns] == [
        ("mAP", "mAP", True),
        ("d′", "d′", False),
    ]


def d_prime_model() -> ModelResult:
    results = {
        "a/map": 0.25,
        "v/map": 0.5,
        "a/d_prime": 1.2345,
        "v/d_prime": float("inf"),
        "a/auc_roc": float("nan"),
        "v/auc_roc": 0.75,
    }
    return ModelResult("scores-model", "scores", results)


def test_d_prime_is_a_plain_number_with_two_decimals_not_percent():
    table = main_table([d_prime_model()], metrics=["map", "d_prime"], columns=["a", "v"])
    text = render(table, "markdown")
    assert markdown_rows(text)[2] == ["scores-model", "25.00", "50.00", "1.23", "inf"]
    assert "values in % except d′" in text
    csv_row = list(csv.reader(io.StringIO(render(table, "csv"))))[1]
    assert csv_row[3:] == ["25.00", "50.00", "1.23", "inf"]
    assert r"values in \% except d$'$" in render(table, "latex")
    columns = json.loads(render(table, "json"))["columns"]
    assert [column.get("unit") for column in columns] == [None, None, "number", "number"]


def test_json_writes_nan_and_infinity_as_null():
    table = main_table([d_prime_model()], metrics=["auc_roc", "d_prime"], columns=["a", "v"])
    text = render(table, "json")
    assert "NaN" not in text and "Infinity" not in text
    row = json.loads(text)["rows"][0]
    assert row["values"] == {
        "auc_roc/a": None,
        "auc_roc/v": 0.75,
        "d_prime/a": 1.2345,
        "d_prime/v": None,
    }
    assert row["results"]["v/d_prime"] is None and row["results"]["a/map"] == 0.25


# ------------------------------------------------------------------ bootstrap intervals


def bootstrap_model() -> ModelResult:
    """Results as evaluate_predictions(..., bootstrap=N) gives them: bounds per rate key."""
    results = {
        "a/f1": 0.572,
        "a/f1/ci_low": 0.5661,
        "a/f1/ci_high": 0.5783,
        "v/f1": 0.25,  # no interval for this one
        "mu/a": 0.1,
        "mu/a/ci_low": 0.09,
        "mu/a/ci_high": 0.11,
        "mu/v": 0.02,
        "mu/v/ci_low": 0.015,
        "mu/v/ci_high": 0.03,
        "mu/a_and_v": 0.0,
        "mu/a_and_v/ci_low": 0.0,
        "mu/a_and_v/ci_high": 0.0,
    }
    return ModelResult("boot", "labels", results)


def bootstrap_table():
    return main_table([bootstrap_model(), label_model()], metrics=["f1", "mu"], columns=["a", "v"])


def test_text_markdown_and_latex_show_intervals_in_brackets():
    table = bootstrap_table()
    rows = markdown_rows(render(table, "markdown"))
    assert rows[2] == [
        "boot",
        "57.20 [56.61, 57.83]",
        "25.00",
        "10.00 [9.00, 11.00]",
        "2.00 [1.50, 3.00]",
        "0.00 [0.00, 0.00]",
    ]
    assert rows[3] == ["labels-model", "4.00", "5.00", "12.00", "13.00", "14.00"]
    text = render(table, "table").splitlines()
    assert text[4].startswith("boot") and "57.20 [56.61, 57.83]" in text[4]
    assert len({len(line) for line in text[2:]}) == 1  # still aligned
    assert r"boot & 57.20 [56.61, 57.83] & 25.00 & 10.00 [9.00, 11.00]" in render(table, "latex")


def test_csv_and_json_get_the_bounds_as_separate_fields():
    table = bootstrap_table()
    rows = list(csv.DictReader(io.StringIO(render(table, "csv"))))
    assert list(rows[0]) == [
        "model",
        "kind",
        "k",
        "f1/a",
        "f1/a/ci_low",
        "f1/a/ci_high",
        "f1/v",
        "mu/a",
        "mu/a/ci_low",
        "mu/a/ci_high",
        "mu/v",
        "mu/v/ci_low",
        "mu/v/ci_high",
        "mu/a_and_v",
        "mu/a_and_v/ci_low",
        "mu/a_and_v/ci_high",
    ]
    assert (rows[0]["f1/a"], rows[0]["f1/a/ci_low"], rows[0]["f1/a/ci_high"]) == (
        "57.20",
        "56.61",
        "57.83",
    )
    assert (rows[1]["f1/a"], rows[1]["f1/a/ci_low"], rows[1]["f1/a/ci_high"]) == ("4.00", "", "")
    values = [row["values"] for row in json.loads(render(table, "json"))["rows"]]
    assert values[0]["f1/a/ci_low"] == 0.5661 and values[0]["mu/v/ci_high"] == 0.03
    assert "f1/v/ci_low" not in values[0]
    assert set(values[1]) == {"f1/a", "f1/v", "mu/a", "mu/v", "mu/a_and_v"}


def test_score_model_intervals_are_read_at_each_k():
    results = {"a/f1@1": 0.1, "a/f1@1/ci_low": 0.05, "a/f1@1/ci_high": 0.15, "a/f1@3": 0.3}
    table = main_table(
        [ModelResult("s", "scores", results)], metrics=["f1"], columns=["a"], ks=[1, 3]
    )
    assert [row.intervals for row in table.rows] == [((0.05, 0.15),), ()]


def test_no_interval_leaves_every_output_as_before():
    table = main_table([label_model()])
    assert all(row.intervals == () for row in table.rows)
    assert "ci_low" not in render(table, "csv") and "ci_low" not in render(table, "json")
    assert "[" not in render(table, "markdown").split("\n", 1)[1]


# ------------------------------------------------------------------ one alignment per model


def toy_truth_and_scores():
    classes = ("dog", "cat", "bird")
    ids = [f"x_{i:06d}" for i in range(6)]
    truth = GroundTruth.from_rows(
        [
            {
                "video_id": video_id,
                "labels": [i % 3],
                "modalities": ["AV"],
                "background_music": False,
                "static_image": False,
                "voice_over": False,
            }
            for i, video_id in enumerate(ids)
        ],
        classes,
    )
    scores = {
        modality: {
            video_id: [(i * 7 + j * 3 + shift) % 5 / 4 for j in range(3)]
            for i, video_id in enumerate(ids)
        }
        for shift, modality in enumerate(("a", "v", "av"))
    }
    return truth, ModelPredictions.from_scores(scores, classes)


def test_score_models_keeps_each_alignment_and_scores_aligned_models_as_they_are():
    from vggsounder_hf.core.alignment import align

    truth, predictions = toy_truth_and_scores()
    columns = ("a", "v", "av")  # the only columns with labels (every label is AV)
    (result,) = score_models(truth, [("s", predictions)], ks=[1, 2], columns=columns)
    assert result.aligned is not None and result.aligned.ks == (1, 2)
    assert result.results == evaluate_predictions(truth, predictions, ks=(1, 2), columns=columns)
    (again,) = score_models(truth, [("s", result.aligned)], ks=[2], columns=columns)
    assert again.aligned is result.aligned and again.results == result.results
    with pytest.raises(ValueError, match=r"s: the model was aligned for top-k \[1\], not \[2\]"):
        score_models(truth, [("s", align(truth, predictions, ks=(1,)))], ks=[1, 2])
    other_truth, _ = toy_truth_and_scores()
    with pytest.raises(ValueError, match="aligned to another ground truth"):
        score_models(other_truth, [("s", result.aligned)])
