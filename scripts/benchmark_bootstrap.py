"""Time bootstrap confidence intervals: 1,000 resamples of every metric and μ, in one process.

Two cases:

(a) a label-set model (default: gemini-1.5-pro from ../shared) on the reference's default
    clip set: every label-set metric of every column and μ;
(b) a score model (the deterministic synthetic model of tests/synthetic_scores.py) on the
    full test set at k = 1, 3, 5, 10: every label-set metric at every k, μ, and AUC-ROC,
    AUC-PR, mAP and d′ on ``--ranking-resamples`` of the same resamples.

Loading and aligning are done first and not timed; the times are those of the intervals
alone (``core.bootstrap.bootstrap_intervals`` on the aligned model), best of ``--repeat``
runs, next to the point evaluation (``core.evaluation.score``) for scale. The memory figure
is the process's peak resident set (``resource.getrusage``), taken before and after each
case, so the growth is what the case added on top of the loaded data (none when loading
already went higher), and the peak of the allocations traced by ``tracemalloc`` during one
more, untimed run: what the intervals alone need. It prints figures; it asserts nothing
(targets: (a) under 3 s, (b) under 15 s on two cores).

Usage:
    python scripts/benchmark_bootstrap.py [--resamples 1000] [--ranking-resamples 200]
        [--repeat 1] [--predictions FILE.pkl]
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import time
import tracemalloc
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def _peak_rss_megabytes() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _synthetic_model(release):
    from vggsounder_hf.core.predictions import ModelPredictions

    path = REPO / "tests" / "synthetic_scores.py"
    spec = importlib.util.spec_from_file_location("synthetic_scores", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    video_ids = [clip.video_id for clip in release.clips]
    label_sets = [list(clip.labels) for clip in release.clips]
    mapping = module.make_score_predictions(video_ids, label_sets, len(release.class_names))
    return ModelPredictions.from_mapping(mapping, release.class_names, source="synthetic")


def _label_model(path: Path, release):
    from vggsounder_hf.core.predictions import ModelPredictions
    from vggsounder_hf.io.safe_pickle import load_pickle

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the two unknown class names of the released files
        return ModelPredictions.from_mapping(load_pickle(path), release.class_names, str(path))


def _best_of(function, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def _case(name: str, model, clip_set: str, args: argparse.Namespace) -> None:
    from vggsounder_hf.core.bootstrap import bootstrap_intervals, check_bootstrap_options
    from vggsounder_hf.core.evaluation import score
    from vggsounder_hf.core.schema import COLUMNS

    resamples, confidence, seed, ranking = check_bootstrap_options(
        args.resamples, 0.95, 0, args.ranking_resamples
    )
    mask = model.mask(clip_set)
    before = _peak_rss_megabytes()
    point_seconds, _ = _best_of(lambda: score(model, mask), args.repeat)
    seconds, intervals = _best_of(
        lambda: bootstrap_intervals(
            model,
            mask,
            resamples=resamples,
            confidence=confidence,
            seed=seed,
            ranking_resamples=ranking,
            columns=COLUMNS,
            modality_confusion=True,
        ),
        args.repeat,
    )
    after = _peak_rss_megabytes()
    tracemalloc.start()  # a separate, untimed run: tracing slows allocation down
    bootstrap_intervals(
        model,
        mask,
        resamples=resamples,
        confidence=confidence,
        seed=seed,
        ranking_resamples=ranking,
        columns=COLUMNS,
        modality_confusion=True,
    )
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    ranking_used = ranking if model.kind == "scores" else "n/a (label sets)"
    print(f"{name}")
    print(f"  clips resampled            {int(mask.sum())} ({clip_set} clip set)")
    print(f"  resamples                  {resamples}; ranking metrics: {ranking_used}")
    print(f"  interval keys              {len(intervals)}")
    print(f"  point evaluation           {point_seconds:.3f} s")
    print(f"  bootstrap intervals        {seconds:.3f} s")
    print(f"  peak RSS                   {after:.0f} MB (+{after - before:.0f} MB in this case)")
    print(f"  peak traced allocations    {traced_peak:.0f} MB (the intervals alone)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument(
        "--ranking-resamples", type=int, default=None, help="default: min(resamples, 200)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs")
    parser.add_argument(
        "--predictions", type=Path, default=SHARED / "model-predictions" / "gemini-1.5-pro.pkl"
    )
    args = parser.parse_args(argv)

    from vggsounder_hf.core.alignment import align
    from vggsounder_hf.core.ground_truth import GroundTruth
    from vggsounder_hf.core.schema import DEFAULT_KS
    from vggsounder_hf.io.sources import load_release

    release = load_release("1.0")
    truth = GroundTruth.from_release(release)
    labels = align(truth, _label_model(args.predictions, release))
    print(f"loaded; peak RSS {_peak_rss_megabytes():.0f} MB")
    _case(f"(a) label sets: {args.predictions.stem}", labels, "default", args)
    scores = align(truth, _synthetic_model(release), ks=DEFAULT_KS)
    print(f"synthetic score model loaded; peak RSS {_peak_rss_megabytes():.0f} MB")
    _case(f"(b) scores: synthetic, k = {', '.join(map(str, DEFAULT_KS))}", scores, "full", args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
