"""The CLI's label path imports no heavy library: whole-process speed is mostly start-up."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pandas", "pyarrow", "datasets", "sklearn", "matplotlib")

_WRAPPER = """
import atexit, json, runpy, sys
heavy = {heavy!r}
atexit.register(lambda: print("IMPORTED " + json.dumps([m for m in heavy if m in sys.modules])))
sys.argv = ["vggsounder-score", *{argv!r}]
runpy.run_module("vggsounder_hf.cli.score", run_name="__main__")
"""


def _imported(argv: list[str], modules: tuple[str, ...] = HEAVY) -> list[str]:
    code = _WRAPPER.format(heavy=modules, argv=argv)
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    line = next(line for line in completed.stdout.splitlines() if line.startswith("IMPORTED "))
    return json.loads(line.removeprefix("IMPORTED "))


@pytest.mark.usefixtures("vggsounder_data")
def test_the_class_prior_baseline_imports_no_heavy_library() -> None:
    assert _imported(["--quiet", "--baseline", "class-prior"]) == []


def test_scoring_a_label_pickle_imports_no_heavy_library(shared_data) -> None:
    path = shared_data / "model-predictions" / "gemini-1.5-pro.pkl"
    assert _imported(["--quiet", str(path)]) == []


def test_a_label_pickle_starts_no_thread_pool(shared_data) -> None:
    """Threads pay only for score models; a label-set run does not even import them."""
    path = shared_data / "model-predictions" / "gemini-1.5-pro.pkl"
    assert _imported(["--quiet", str(path)], ("concurrent.futures",)) == []
