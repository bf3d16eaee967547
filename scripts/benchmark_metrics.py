"""Time this project's metric against the authors' reference, on the same inputs, in one run.

Two cases, as in the paper's tables:

(a) a label-set model (default: gemini-1.5-pro from ../shared) on the reference's default
    clip set: every column and modality confusion;
(b) a score model (the deterministic synthetic model of tests/synthetic_scores.py, written
    as a pickle in the authors' format) on the full test set: every column, k = 1, 3, 5,
    10, AUC-ROC, AUC-PR and modality confusion.

Both sides start from the files: the reference's time is its `VGGSounder(...)` plus
`compute_all_results(...)`; ours is parsing the labels (`load_release` with its cache
cleared), building the ground truth, reading the prediction pickle (restricted unpickler),
matching and scoring. The script also times `evaluate.load(...).compute(...)` on rows that
are already in memory, reports the peak memory traced while we score, and checks that both
sides give the same numbers. It prints figures; it asserts nothing.

Rows marked "matching + scoring only" start from labels and predictions already in memory;
the Parquet row reads the same scores from a wide table (`video_id, input_modality,
score_0..score_308`) instead of the pickle, which shows how much of case (b) is unpickling
309 Python floats per clip and input.

Usage:
    python scripts/benchmark_metrics.py [--repeat 5] [--predictions FILE.pkl]
"""

from __future__ import annotations

import argparse
import importlib.util
import pickle
import statistics
import sys
import tempfile
import time
import tracemalloc
import warnings
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def _synthetic_scores(release) -> dict:
    path = REPO / "tests" / "synthetic_scores.py"
    spec = importlib.util.spec_from_file_location("synthetic_scores", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    video_ids = [clip.video_id for clip in release.clips]
    label_sets = [list(clip.labels) for clip in release.clips]
    return module.make_score_predictions(video_ids, label_sets, len(release.class_names))


def _score_table(mapping: dict, path: Path) -> None:
    """The same scores as a wide Parquet table (``video_id, input_modality, score_0..``)."""
    import numpy as np
    import pandas as pd

    rows = [
        (video_id, modality, scores)
        for video_id, entry in mapping.items()
        for modality, scores in entry["logits"].items()
    ]
    matrix = np.array([scores for _, _, scores in rows], dtype=np.float64)
    frame = pd.DataFrame(matrix, columns=[f"score_{i}" for i in range(matrix.shape[1])])
    frame.insert(0, "input_modality", [modality for _, modality, _ in rows])
    frame.insert(0, "video_id", [video_id for video_id, _, _ in rows])
    frame.to_parquet(path, index=False)


def _ours(prediction_file: Path, clip_set: str) -> dict:
    from vggsounder_hf.core.evaluation import evaluate_predictions
    from vggsounder_hf.core.ground_truth import GroundTruth
    from vggsounder_hf.io.readers import read_predictions
    from vggsounder_hf.io.sources import load_release, parse_release

    parse_release.cache_clear()  # count parsing the annotation files, as the reference does
    release = load_release("1.0")
    truth = GroundTruth.from_release(release)
    predictions = read_predictions(prediction_file, release.class_names)
    return evaluate_predictions(truth, predictions, clip_set=clip_set)


def _ours_compute_only(prediction_file: Path, clip_set: str):
    """A function that only matches and scores (labels and predictions already in memory)."""
    from vggsounder_hf.core.evaluation import evaluate_predictions
    from vggsounder_hf.core.ground_truth import GroundTruth
    from vggsounder_hf.io.readers import read_predictions
    from vggsounder_hf.io.sources import load_release

    release = load_release("1.0")
    truth = GroundTruth.from_release(release)
    predictions = read_predictions(prediction_file, release.class_names)
    return partial(evaluate_predictions, truth, predictions, clip_set=clip_set)


def _reference(prediction_file: Path, clip_set: str) -> dict:
    from vggsounder.benchmark import compute_all_results

    from vggsounder import VGGSounder

    background_music = False if clip_set == "default" else None
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / prediction_file.name).symlink_to(prediction_file.resolve())
        labels = VGGSounder(background_music=background_music)
        results = compute_all_results(models_path=folder, vggsounder=labels, verbose=False)
    return results[prediction_file.stem]


def _through_evaluate(prediction_file: Path, clip_set: str, config: str) -> float:
    import evaluate

    from vggsounder_hf.io.safe_pickle import load_pickle
    from vggsounder_hf.io.sources import load_release

    release = load_release("1.0")
    mapping = load_pickle(prediction_file)
    section = "logits" if config == "scores" else "predictions"
    references, predictions = [], []
    for clip in release.clips:
        values = mapping.get(clip.video_id, {}).get(section, {})
        predictions.append(
            {"video_id": clip.video_id, **{m: values.get(m) for m in ["a", "v", "av"]}}
        )
        references.append(
            {
                "video_id": clip.video_id,
                "labels": list(clip.labels),
                "modalities": list(clip.modalities),
                "background_music": clip.background_music,
                "static_image": clip.static_image,
                "voice_over": clip.voice_over,
            }
        )
    metric = evaluate.load(str(REPO / "metrics" / "vggsounder"), config)
    start = time.perf_counter()
    metric.compute(predictions=predictions, references=references, clip_set=clip_set)
    return time.perf_counter() - start


def _largest_difference(reference: dict, ours: dict) -> float:
    renamed = {"accuracy": "subset_accuracy", "hit_rate": "hit"}
    mu = {"a": "mu/a", "v": "mu/v", "av": "mu/a_and_v"}
    largest = 0.0
    for column, metrics in reference.items():
        for name, value in metrics.items():
            base, _, k = name.partition("@")
            key = (
                mu[column]
                if name == "mu"
                else f"{column.replace(' ', '_')}/{renamed.get(base, base)}"
            )
            key += f"@{k}" if k and name != "mu" else ""
            largest = max(largest, abs(float(value) - ours[key]))
    return largest


def _time(function, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _peak_megabytes(function) -> float:
    tracemalloc.start()
    function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of ours (median shown)")
    parser.add_argument(
        "--predictions",
        type=Path,
        default=SHARED / "model-predictions" / "gemini-1.5-pro.pkl",
        help="label-set prediction pickle for case (a)",
    )
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")

    from vggsounder_hf.io.sources import load_release

    with tempfile.TemporaryDirectory() as folder:
        scores = _synthetic_scores(load_release("1.0"))
        score_file = Path(folder) / "synthetic-scores.pkl"
        score_file.write_bytes(pickle.dumps(scores, protocol=4))
        score_table = Path(folder) / "synthetic-scores.parquet"
        _score_table(scores, score_table)
        cases = [
            ("(a) label sets, default clip set", args.predictions, "default", "labels"),
            ("(b) scores, full set, k=1,3,5,10 + AUC", score_file, "full", "scores"),
        ]
        rows = []
        for name, path, clip_set, config in cases:
            print(f"{name}: running the reference once ...", file=sys.stderr)
            reference_seconds, reference = _time(partial(_reference, path, clip_set), 1)
            ours_seconds, ours = _time(partial(_ours, path, clip_set), args.repeat)
            peak = _peak_megabytes(partial(_ours, path, clip_set))
            via_evaluate = _through_evaluate(path, clip_set, config)
            difference = _largest_difference(reference, ours)
            rows.append((name, reference_seconds, ours_seconds, via_evaluate, peak, difference))
            compute_seconds, _ = _time(_ours_compute_only(path, clip_set), args.repeat)
            missing = float("nan")
            label = f"    {name[:3]} matching + scoring only"
            rows.append((label, reference_seconds, compute_seconds, missing, missing, missing))
        table_seconds, from_table = _time(partial(_ours, score_table, "full"), args.repeat)
        rows.append(
            (
                "    (b) scores read from a Parquet table",
                rows[2][1],
                table_seconds,
                float("nan"),
                _peak_megabytes(partial(_ours, score_table, "full")),
                _largest_difference(reference, from_table),
            )
        )

    header = (
        f"{'case':<40} {'reference s':>11} {'ours s':>8} {'speed-up':>9} "
        f"{'evaluate s':>10} {'peak MB':>8} {'max |diff|':>10}"
    )
    print(header)
    print("-" * len(header))
    for name, reference_seconds, ours_seconds, via_evaluate, peak, difference in rows:
        print(
            f"{name:<40} {reference_seconds:>11.2f} {ours_seconds:>8.3f} "
            f"{reference_seconds / ours_seconds:>8.0f}x {via_evaluate:>10.2f} {peak:>8.0f} "
            f"{difference:>10.1e}"
        )
    print(
        f"\nours: median of {args.repeat} runs, from the files (annotation CSV + predictions) "
        "unless the row says otherwise; reference: one run of VGGSounder() + "
        "compute_all_results on the same files; 'evaluate s' = evaluate.load(...).compute(...) "
        "on rows already in memory; peak MB = tracemalloc peak of one run of ours."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
