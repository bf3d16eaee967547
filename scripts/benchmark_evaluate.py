"""Time ``evaluate.load(vggsounder_hf.METRIC_PATH).compute(...)`` beside the metric core.

The model is a full score model: the deterministic synthetic model of
``tests/synthetic_scores.py`` (scores for the three inputs of every clip of release 1.0 but
about 3 %, ties, 20 clips outside the release), scored on every clip (``clip_set="full"``)
at k = 1, 3, 5, 10 with AUC-ROC, AUC-PR, mAP, d′ and μ. Rows:

* ``core``: :func:`~vggsounder_hf.core.evaluation.evaluate_predictions` on predictions and
  ground truth already in memory (matching and scoring only);
* ``evaluate, arrays float64`` / ``float32``: ``compute(predictions={"a": A, "v": V,
  "av": AV}, video_ids=ids)`` with the references omitted (the release's test split); the
  float32 row passes the same scores rounded to float32 (and compares with the core on
  those);
* ``evaluate, arrays + dataset``: the same with ``references=`` the ``datasets.Dataset``;
* ``evaluate, rows``: one dict per clip with lists of floats (the row form).

Every ``evaluate`` row is checked to give exactly the core's numbers. Times are the best of
``--repeat`` rounds in which every row runs once, in turn (on a machine shared with other
jobs single runs vary by a factor of two); the first run, which also reads the release once,
is printed too.

Usage:
    python scripts/benchmark_evaluate.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
INPUTS = ("a", "v", "av")


def _synthetic_mapping(release: Any) -> dict:
    path = REPO / "tests" / "synthetic_scores.py"
    spec = importlib.util.spec_from_file_location("synthetic_scores", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    video_ids = [clip.video_id for clip in release.clips]
    label_sets = [list(clip.labels) for clip in release.clips]
    return module.make_score_predictions(video_ids, label_sets, len(release.class_names))


def _timed(cases: list[tuple[str, Any, Callable[[], dict]]], repeat: int) -> list[tuple]:
    """Per case (first run s, best run s, result of the last run). The cases run in turn,
    ``repeat`` rounds, so that every case sees the same load of a shared machine."""
    seconds: list[list[float]] = [[] for _ in cases]
    results: list[dict] = [{} for _ in cases]
    for _ in range(repeat):
        for index, (_, _, run) in enumerate(cases):
            start = time.perf_counter()
            results[index] = run()
            seconds[index].append(time.perf_counter() - start)
    return [(times[0], min(times), result) for times, result in zip(seconds, results, strict=True)]


def _same(expected: dict, got: dict) -> str:
    if expected.keys() != got.keys():
        return f"keys differ: {sorted(set(expected) ^ set(got))[:4]}"
    differing = [key for key, value in expected.items() if got[key] != value]
    return "identical" if not differing else f"{len(differing)} differ, e.g. {differing[0]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds (default 5)")
    args = parser.parse_args(argv)

    import evaluate

    import vggsounder_hf
    from vggsounder_hf.core.evaluation import evaluate_predictions
    from vggsounder_hf.core.ground_truth import GroundTruth
    from vggsounder_hf.core.predictions import ModelPredictions
    from vggsounder_hf.hf.loading import load_vggsounder
    from vggsounder_hf.io.sources import load_release

    os.environ.setdefault("HF_EVALUATE_OFFLINE", "1")
    release = load_release("1.0")
    truth = GroundTruth.from_release(release)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ModelPredictions.from_mapping(_synthetic_mapping(release), truth.class_names)
    ids = model["av"].video_ids.tolist()
    assert all(model[m].video_ids.tolist() == ids for m in INPUTS)
    scores64 = {m: model[m].matrix for m in INPUTS}
    scores32 = {m: matrix.astype(np.float32) for m, matrix in scores64.items()}
    model32 = ModelPredictions.from_scores(
        {m: (ids, scores32[m]) for m in INPUTS}, truth.class_names
    )
    rows = [
        {"video_id": video_id, **{m: scores64[m][row].tolist() for m in INPUTS}}
        for row, video_id in enumerate(ids)
    ]
    with tempfile.TemporaryDirectory() as cache_dir:
        dataset = load_vggsounder("1.0", cache_dir=cache_dir)
        metric = evaluate.load(vggsounder_hf.METRIC_PATH, "scores")
        options = {"clip_set": "full"}
        cases = [
            ("core", None, lambda: evaluate_predictions(truth, model, **options)),
            ("core, float32 scores", None, lambda: evaluate_predictions(truth, model32, **options)),
            (
                "evaluate, arrays float64",
                0,
                lambda: metric.compute(predictions=scores64, video_ids=ids, **options),
            ),
            (
                "evaluate, arrays float32",
                1,
                lambda: metric.compute(predictions=scores32, video_ids=ids, **options),
            ),
            (
                "evaluate, arrays + dataset",
                0,
                lambda: metric.compute(
                    predictions=scores64, video_ids=ids, references=dataset, **options
                ),
            ),
            ("evaluate, rows", 0, lambda: metric.compute(predictions=rows, **options)),
        ]
        print(f"{'':30} {'first s':>8} {'best s':>8}  numbers")
        core_results: list[dict] = []
        timings = _timed(cases, args.repeat)
        for (name, compare_with, _), (first, best, result) in zip(cases, timings, strict=True):
            if compare_with is None:
                core_results.append(result)
                verdict = "(the reference of the rows below)"
            else:
                verdict = _same(core_results[compare_with], result)
            print(f"{name:30} {first:>8.2f} {best:>8.2f}  {verdict}")
    print(
        f"{len(ids)} predicted clips x 3 inputs x {truth.num_classes} scores, "
        f"{len(truth)} clips in the release, clip set 'full', ks (1, 3, 5, 10); "
        f"{os.cpu_count()} CPUs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
