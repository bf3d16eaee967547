"""Examples in the documentation run as written and print what the documentation shows."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
DOCTESTED = ("api.md",)


@pytest.mark.parametrize("name", DOCTESTED)
def test_python_examples_in_the_docs_run_and_print_what_they_show(name):
    result = doctest.testfile(
        str(DOCS / name),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
    )
    assert result.attempted > 0, f"docs/{name} has no example"
    assert result.failed == 0, f"docs/{name}: {result.failed} of {result.attempted} examples failed"
