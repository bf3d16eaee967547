"""The house rules, checked on the source: imports point down, modules and functions stay
small, and the metric registry is the one list every layer reads."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from vggsounder_hf.core import functional, schema

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "vggsounder_hf"
LAYERS = ("core", "io", "reports", "hf", "cli")
"""Bottom to top: a module may import its own layer and the layers before it."""
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80
EXEMPT_FUNCTIONS = {"build_parser"}  # argparse builders: one statement per option


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _layer(path: Path) -> str | None:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 and parts[0] in LAYERS else None


def _project_imports(path: Path) -> set[str]:
    """The ``vggsounder_hf`` modules a file imports, anywhere in it (lazy imports too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("vggsounder_hf"):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("vggsounder_hf"))
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path):
    layer = _layer(path)
    if layer is None:
        return  # the package's __init__: the public API, may name any layer
    allowed = set(LAYERS[: LAYERS.index(layer) + 1])
    for module in _project_imports(path):
        parts = module.split(".")
        target = parts[1] if len(parts) > 1 else None
        if target == "__version__" or module == "vggsounder_hf":
            assert layer == "cli", f"{path.name} imports the package root ({module})"
            continue
        assert target in allowed, f"{path.relative_to(PACKAGE)} ({layer}) imports {module}"


def test_core_imports_nothing_of_the_project_outside_core():
    for path in (PACKAGE / "core").glob("*.py"):
        for module in _project_imports(path):
            assert module.startswith("vggsounder_hf.core"), f"{path.name} imports {module}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_and_functions_stay_small(path):
    text = path.read_text(encoding="utf-8")
    assert text.count("\n") <= MAX_MODULE_LINES, f"{path.name}: {text.count(chr(10))} lines"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if node.name not in EXEMPT_FUNCTIONS:
                assert length <= MAX_FUNCTION_LINES, f"{path.name}:{node.name} has {length} lines"


def test_every_registered_metric_has_exactly_one_formula():
    assert set(functional.LABEL_SET_FORMULAS) == set(schema.metrics_of("label_set"))
    assert set(functional.RANKING_FORMULAS) == set(schema.metrics_of("ranking"))


def test_every_registered_name_and_alias_resolves_to_its_row():
    for entry in schema.METRICS:
        for spelling in (entry.name, *entry.aliases):
            assert schema.metric(spelling) is entry
    for spec in schema.COLUMN_SPECS:
        for spelling in (spec.name, spec.key, spec.key.replace("_", "-"), spec.name.upper()):
            assert schema.column(spelling) is spec


def test_every_key_the_evaluation_writes_parses_and_formats_back(
    truth_1_0, released_predictions, synthetic_predictions
):
    from vggsounder_hf.core.evaluation import evaluate_predictions

    for model in (released_predictions["gemini-1.5-pro"], synthetic_predictions):
        results = evaluate_predictions(truth_1_0, model, clip_set="full")
        for key in results:
            assert schema.ResultKey.parse(key).format() == key


@pytest.mark.parametrize(
    "text", ["x/f1", "a/mu", "a/auc_roc@1", "mu/x", "foo", "a/f1@0", "a/f1@k", "a/f1/ci_mid"]
)
def test_text_that_is_not_a_result_key_is_refused(text):
    with pytest.raises(ValueError, match=r"result key|top-k"):
        schema.ResultKey.parse(text)


def test_d_prime_is_the_normal_quantile_of_the_mean_auc_as_scipy_computes_it():
    stats = pytest.importorskip("scipy.stats")
    for auc in (0.01, 0.3, 0.5, 0.7311, 0.9, 0.999):
        expected = float(stats.norm().ppf(auc) * np.sqrt(2.0))
        assert functional.d_prime(auc) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert functional.d_prime(1.0) == float(stats.norm().ppf(1.0) * np.sqrt(2.0)) == np.inf


def test_map_is_the_same_number_as_auc_pr(truth_1_0, synthetic_predictions):
    from vggsounder_hf.core.evaluation import evaluate_predictions

    results = evaluate_predictions(truth_1_0, synthetic_predictions, clip_set="full")
    for spec in schema.COLUMN_SPECS:
        assert results[f"{spec.key}/map"] == results[f"{spec.key}/auc_pr"]
        assert results[f"{spec.key}/d_prime"] == functional.d_prime(results[f"{spec.key}/auc_roc"])


def test_every_public_name_resolves_and_is_documented():
    import vggsounder_hf

    api_doc = (PACKAGE.parents[1] / "docs" / "api.md").read_text(encoding="utf-8")
    for name in vggsounder_hf.__all__:
        assert getattr(vggsounder_hf, name) is not None
        assert f"`{name}`" in api_doc, f"docs/api.md does not document {name}"
