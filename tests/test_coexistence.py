"""The project works beside the authors' package ``vggsounder`` and never shadows or imports it.

Every check runs in a fresh interpreter from a neutral working directory (tmp_path), so neither
the repository root (which holds the builder file ``vggsounder.py``) nor pytest's sys.path
tweaks can influence what ``import vggsounder`` finds.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

try:
    AUTHORS = importlib.metadata.distribution("vggsounder")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - depends on the env
    pytest.skip("the authors' package vggsounder is not installed", allow_module_level=True)


def python(code: str, cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_vggsounder_is_the_authors_package(tmp_path):
    out = python(
        """
        import json, vggsounder, vggsounder_hf
        print(json.dumps([vggsounder.__file__, vggsounder_hf.__file__]))
        """,
        tmp_path,
    )
    authors_file, ours_file = map(Path, json.loads(out))
    assert authors_file.resolve() == Path(AUTHORS.locate_file("vggsounder/__init__.py")).resolve()
    assert authors_file.resolve() != (REPO_ROOT / "vggsounder.py").resolve()
    assert ours_file.resolve().is_relative_to((REPO_ROOT / "src").resolve())


def test_project_installs_no_vggsounder_module():
    owners = importlib.metadata.packages_distributions()
    assert owners["vggsounder"] == ["vggsounder"]
    ours = importlib.metadata.distribution("vggsounder-hf")
    assert (ours.read_text("top_level.txt") or "").split() == ["vggsounder_hf"]


def test_console_commands_belong_to_their_own_projects():
    scripts = {
        entry.name: (entry.value, entry.dist.name)
        for entry in importlib.metadata.entry_points(group="console_scripts")
        if entry.name.startswith("vggsounder")
    }
    assert scripts["vggsounder"] == ("vggsounder:main", "vggsounder")
    assert scripts["vggsounder-stats"] == ("vggsounder_hf.cli.stats:main", "vggsounder-hf")


def test_installed_commands_run_the_right_code(tmp_path):
    bin_dir = Path(sys.executable).parent
    authors = bin_dir / "vggsounder"
    ours = bin_dir / "vggsounder-stats"
    if not (authors.is_file() and ours.is_file()):
        pytest.skip(f"console scripts are not installed in {bin_dir}")
    assert "from vggsounder import main" in authors.read_text()
    assert "from vggsounder_hf.cli.stats import main" in ours.read_text()
    result = subprocess.run(
        [str(ours), "--help"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("usage: vggsounder-stats")


def test_our_code_never_imports_the_authors_package(tmp_path):
    out = python(
        f"""
        import json, sys
        from vggsounder_hf import load_vggsounder
        from vggsounder_hf.io.sources import load_release
        from vggsounder_hf.reports.stats import release_stats
        from vggsounder_hf.cli.stats import main

        sources = []
        for version in ("1.0", "0.1.6"):
            release = load_release(version)
            sources.append(release.files.source)
            dataset = load_vggsounder(version, cache_dir={str(tmp_path / "cache")!r})
            release_stats(dataset, version)
        import io, contextlib
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["--cache-dir", {str(tmp_path / "cache")!r}, "--json"]) == 0
        print(json.dumps({{"imported": "vggsounder" in sys.modules, "sources": sources}}))
        """,
        tmp_path,
    )
    result = json.loads(out.splitlines()[-1])
    assert result == {"imported": False, "sources": ["wheel", "wheel"]}


def test_repository_root_on_sys_path_still_gives_the_authors_package():
    """``python`` started in a checkout puts the root (with our vggsounder.py) on sys.path."""
    out = python(
        """
        import json, sys, vggsounder, vggsounder.labels
        print(json.dumps([vggsounder.__file__, "datasets" in sys.modules]))
        """,
        REPO_ROOT,
    )
    authors_file, imported_datasets = json.loads(out)
    assert (
        Path(authors_file).resolve()
        == Path(AUTHORS.locate_file("vggsounder/__init__.py")).resolve()
    )
    assert imported_datasets is False
