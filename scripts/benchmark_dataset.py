"""Benchmark: preparing and loading the VGGSounder dataset versus the authors' parser.

Prints, for each label release, measured in this one run (median of ``--repeat`` runs):

* authors: ``vggsounder.VGGSounder(background_music=None)`` construction (their CSV parse;
  only release 1.0, the one their installed package ships as default);
* cold: ``VGGSounderBuilder(...)`` + ``download_and_prepare()`` + ``as_dataset()`` into a fresh
  temporary cache dir (our in-process parse cache is cleared before every run);
* cached: the same three calls on the prepared cache.

Targets (issue 2): cold < 2 s, cached < 0.3 s. This script prints; it asserts nothing.
``import datasets`` itself (about 0.6 s) is paid once, before timing, in every variant.

Usage:
    python scripts/benchmark_dataset.py [--repeat 5] [--version 1.0 --version 0.1.6]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable


def median_seconds(run: Callable[[], object], repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--version", dest="versions", action="append", choices=["1.0", "0.1.6"])
    args = parser.parse_args(argv)
    versions = args.versions or ["1.0", "0.1.6"]

    import datasets

    from vggsounder_hf.hf.builder import VGGSounderBuilder
    from vggsounder_hf.io.sources import parse_release

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()

    rows: list[tuple[str, str, float, list[float]]] = []

    try:
        import vggsounder  # the authors' package: fine to import in a benchmark script
    except ImportError:
        print("authors' package vggsounder is not installed: skipping its parse time")
    else:
        median, times = median_seconds(
            lambda: vggsounder.VGGSounder(background_music=None), args.repeat
        )
        rows.append(("authors VGGSounder(background_music=None)", "1.0", median, times))

    for version in versions:

        def build(cache_dir: str, version: str = version) -> datasets.Dataset:
            builder = VGGSounderBuilder(config_name=version, cache_dir=cache_dir)
            builder.download_and_prepare()
            return builder.as_dataset(split="test")

        cold_times = []
        for _ in range(args.repeat):
            parse_release.cache_clear()
            with tempfile.TemporaryDirectory(prefix="vggsounder-bench-") as cache_dir:
                start = time.perf_counter()
                dataset = build(cache_dir)
                cold_times.append(time.perf_counter() - start)
                del dataset
        rows.append(
            ("ours cold (prepare + load)", version, statistics.median(cold_times), cold_times)
        )

        with tempfile.TemporaryDirectory(prefix="vggsounder-bench-") as cache_dir:
            rows_in_cache = build(cache_dir).num_rows
            median, times = median_seconds(
                lambda cache_dir=cache_dir: build(cache_dir), args.repeat
            )
            rows.append((f"ours cached ({rows_in_cache} rows)", version, median, times))

    width = max(len(name) for name, *_ in rows)
    print(f"{'what'.ljust(width)}  version  median s  runs (s)")
    for name, version, median, times in rows:
        runs = " ".join(f"{t:.3f}" for t in times)
        print(f"{name.ljust(width)}  {version:>7}  {median:8.3f}  {runs}")
    print("targets: cold < 2 s, cached < 0.3 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
