"""Specification of vggsounder_hf.reports.plots: the radar plot (Figure 4 style) as PNG or SVG."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from vggsounder_hf.reports.plots import RADAR_AXES, PlotDependencyError, radar_plot, radar_values
from vggsounder_hf.reports.tables import ModelResult

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def model(name: str, scale: float, kind: str = "labels") -> ModelResult:
    suffix = "@1" if kind == "scores" else ""
    results = {
        f"{column}/hit{suffix}": scale * value
        for column, value in (
            ("a", 0.6),
            ("v", 0.5),
            ("av", 0.8),
            ("a_only", 0.3),
            ("v_only", 0.2),
        )
    }
    return ModelResult(name, kind, results)


def test_axes_are_the_five_columns_in_paper_notation():
    assert [label for _, label in RADAR_AXES] == ["av(AV)", "v(V)", "v(V¬A)", "a(A¬V)", "a(A)"]


def test_values_are_percent_per_axis_and_score_models_use_hit_at_k():
    values = radar_values([model("m", 1.0), model("s", 0.5, "scores")])
    assert values["m"] == pytest.approx([80.0, 50.0, 20.0, 30.0, 60.0])
    assert values["s"] == pytest.approx([40.0, 25.0, 10.0, 15.0, 30.0])


def test_models_without_every_input_are_left_out_with_a_warning():
    partial = ModelResult("audio-only", "labels", {"a/hit": 0.5, "a_only/hit": 0.4})
    with pytest.warns(UserWarning, match="audio-only: no hit for every column"):
        assert list(radar_values([partial, model("m", 1.0)])) == ["m"]


def test_png_is_a_real_non_blank_image(tmp_path):
    image_module = pytest.importorskip("matplotlib.image")
    path = radar_plot([model("first", 1.0), model("second", 0.6)], tmp_path / "radar.png")
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 20_000
    pixels = image_module.imread(path)
    height, width = pixels.shape[:2]
    assert height > 400 and width > 400
    rgb = pixels[..., :3]
    assert rgb.std() > 0.05  # not a flat image
    colourful = (rgb.max(axis=2) - rgb.min(axis=2)) > 0.2  # polygon outlines, not grey grid
    assert colourful.mean() > 0.004
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 50
    assert sorted(p.name for p in tmp_path.iterdir()) == ["radar.png"]  # no temporary left


def test_svg_names_every_model(tmp_path):
    pytest.importorskip("matplotlib")
    path = radar_plot([model("first-model", 1.0), model("second-model", 0.6)], tmp_path / "r.svg")
    text = path.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert "first-model" in text and "second-model" in text
    assert "v(V¬A)" in text


def test_bad_format_and_no_plottable_model_are_errors(tmp_path):
    with pytest.raises(ValueError, match="plot format must be one of png, svg, pdf"):
        radar_plot([model("m", 1.0)], tmp_path / "radar.gif")
    with (
        pytest.raises(ValueError, match="no model has predictions for all three inputs"),
        pytest.warns(UserWarning),
    ):
        radar_plot([ModelResult("x", "labels", {"a/hit": 0.1})], tmp_path / "radar.png")
    assert list(tmp_path.iterdir()) == []


def test_missing_matplotlib_gives_an_install_hint(tmp_path, monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(PlotDependencyError, match=r"pip install 'vggsounder-hf\[plot\]'"):
        radar_plot([model("m", 1.0)], tmp_path / "radar.png")
    assert list(tmp_path.iterdir()) == []


def test_radar_metrics_are_the_per_column_rates_of_the_registry():
    from vggsounder_hf.core.schema import metrics_of
    from vggsounder_hf.reports.plots import RADAR_METRICS, radar_metric

    assert metrics_of("label_set", "ranking") == RADAR_METRICS
    assert radar_metric("hit_rate").name == "hit"
    with pytest.raises(ValueError, match="mu has no columns"):
        radar_metric("μ")
    with pytest.raises(ValueError, match="unknown metric 'f2'"):
        radar_values([model("m", 1.0)], metric="f2")


def test_d_prime_is_plotted_as_it_is_and_label_models_are_left_out_of_ranking_metrics():
    values = {f"{c}/d_prime": 0.5 for c in ("a", "v", "av", "a_only", "v_only")}
    scores = ModelResult("s", "scores", {**values, "v/d_prime": -0.25})
    with pytest.warns(UserWarning, match="m: d_prime needs scores"):
        plotted = radar_values([scores, model("m", 1.0)], metric="dprime")
    assert plotted == {"s": [0.5, -0.25, 0.5, 0.5, 0.5]}


def test_infinite_values_leave_the_model_out(tmp_path):
    values = {f"{c}/d_prime": 0.5 for c in ("a", "v", "av", "a_only", "v_only")}
    perfect = ModelResult("perfect", "scores", {**values, "av/d_prime": float("inf")})
    with pytest.warns(UserWarning, match="perfect: no d_prime for every column"):
        assert radar_values([perfect], metric="d_prime") == {}


def test_svg_of_d_prime_has_no_percent_in_the_title(tmp_path):
    pytest.importorskip("matplotlib")
    values = {f"{c}/d_prime": 1.5 for c in ("a", "v", "av", "a_only", "v_only")}
    path = radar_plot(
        [ModelResult("s", "scores", {**values, "v/d_prime": -0.5})],
        tmp_path / "r.svg",
        metric="d_prime",
    )
    text = path.read_text()
    assert "VGGSounder d′" in text and "(%)" not in text


# ---------------------------------------------------------------- Figure 4 (issue 12)


def hits(name: str, values: tuple[float, float, float], kind: str = "labels") -> ModelResult:
    suffix = "@1" if kind == "scores" else ""
    keys = [f"{column}/hit{suffix}" for column in ("a", "v", "av")]
    return ModelResult(name, kind, dict(zip(keys, values, strict=True)))


def comparisons():
    from vggsounder_hf.reports.plots import benchmark_comparison

    vggsounder = [hits("first", (0.6, 0.5, 0.8)), hits("second", (0.3, 0.6, 0.4), "scores")]
    vggsound = [hits("first", (0.2, 0.4, 0.5)), hits("second", (0.1, 0.3, 0.3), "scores")]
    return benchmark_comparison(vggsounder, vggsound)


def test_each_benchmark_is_normalised_by_the_models_own_maximum():
    first, second = comparisons()
    assert (first.name, first.vggsounder, first.vggsound) == (
        "first",
        (0.6, 0.5, 0.8),
        (0.2, 0.4, 0.5),
    )
    assert first.normalised("vggsounder") == pytest.approx((0.75, 0.625, 1.0))
    assert first.normalised("vggsound") == pytest.approx((0.4, 0.8, 1.0))
    assert second.kind == "scores" and second.normalised("vggsound") == pytest.approx((1 / 3, 1, 1))


def test_a_model_without_both_benchmarks_is_left_out_with_a_warning():
    from vggsounder_hf.reports.plots import benchmark_comparison

    with pytest.warns(UserWarning, match="lonely: no hit on both benchmarks"):
        kept = benchmark_comparison(
            [hits("lonely", (0.1, 0.2, 0.3)), hits("m", (0.1, 0.2, 0.3))],
            [hits("m", (0.1, 0.1, 0.1))],
        )
    assert [item.name for item in kept] == ["m"]
    with pytest.warns(UserWarning, match="zero: no hit"):
        assert benchmark_comparison([hits("zero", (0, 0, 0))], [hits("zero", (0, 0, 0))]) == []


def test_the_numbers_behind_the_figure_are_a_table():
    from vggsounder_hf.reports.plots import comparison_table
    from vggsounder_hf.reports.render import render

    table = comparison_table(comparisons(), {"label_version": "0.1.6"})
    assert [column.key for column in table.columns][:4] == [
        "vggsounder/hit/a",
        "vggsounder/hit/v",
        "vggsounder/hit/av",
        "vggsound/hit/a",
    ]
    assert table.columns[-1].key == "vggsound/hit/av/normalised"
    row = render(table, "markdown").splitlines()[4]
    assert row == (
        "| first | 60.00 | 50.00 | 80.00 | 20.00 | 40.00 | 50.00 | 75.00 | 62.50 | 100.00 | "
        "40.00 | 80.00 | 100.00 |"
    )
    assert "a only and v only are left out" in table.notes[0]


def test_figure_4_is_a_real_image_with_a_panel_per_model(tmp_path):
    image_module = pytest.importorskip("matplotlib.image")
    from vggsounder_hf.reports.plots import comparison_radar_plot, render_comparison_radar

    path = comparison_radar_plot(comparisons(), tmp_path / "figure4.png")
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 20_000
    pixels = image_module.imread(path)
    height, width = pixels.shape[:2]
    assert width > 800 and height > 400  # two panels side by side
    rgb = pixels[..., :3]
    assert rgb.std() > 0.05
    colourful = (rgb.max(axis=2) - rgb.min(axis=2)) > 0.2
    assert colourful[:, : width // 2].mean() > 0.003 and colourful[:, width // 2 :].mean() > 0.003
    svg = render_comparison_radar(comparisons(), format="svg").decode()
    assert "first" in svg and "second" in svg and "VGGSound accuracy" in svg
    with pytest.raises(ValueError, match="no model has hits on both"):
        render_comparison_radar([])


def test_compare_vggsound_draws_figure_4_and_prints_its_numbers(tmp_path, capsys, shared_data):
    pytest.importorskip("matplotlib")
    from vggsounder_hf.cli.score import main

    folder = shared_data / "model-predictions"
    radar, output = tmp_path / "figure4.png", tmp_path / "main.json"
    code = main([
        str(folder / "ola.pkl"), str(folder / "pandagpt.pkl"), "--protocol", "paper",
        "--radar", str(radar), "--compare-vggsound",
        "--vggsound-labels", str(shared_data / "vggsound" / "vggsound_test_labels.csv"),
        "-o", str(output), "--format", "json", "-q",
    ])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert radar.read_bytes().startswith(PNG_SIGNATURE)
    main_rows = {row["name"]: row["values"] for row in json.loads(output.read_text())["rows"]}
    lines = out.splitlines()
    assert lines[0].startswith("VGGSounder vs VGGSound (Figure 4); protocol paper; labels 0.1.6")
    ola = next(line for line in lines if line.startswith("ola ")).split()
    # VGGSounder hit a, v, av from the main table; VGGSound accuracy measured on the shared copy
    assert ola[1:4] == [f"{100 * main_rows['ola'][f'hit/{c}']:.2f}" for c in ("a", "v", "av")]
    assert ola[4:7] == ["19.22", "12.30", "24.60"]
    assert ola[7:] == ["100.00", "41.60", "87.23", "78.15", "50.01", "100.00"]
    assert "a only and v only are left out" in out
