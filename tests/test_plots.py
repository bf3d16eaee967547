"""Specification of vggsounder_hf.reports.plots: the radar plot (Figure 4 style) as PNG or SVG."""

from __future__ import annotations

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
