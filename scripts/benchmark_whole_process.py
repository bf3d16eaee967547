"""Whole-process speed: ``vggsounder-score`` against the authors' reference, as a user runs them.

Each case runs both commands as separate processes, interleaved (ours, reference, ours, ...),
after one warm-up run each, and prints the median and min-max of wall and CPU time, the
median of the pairwise ratios (reference / ours) and the peak RSS of each process (from
``os.wait4``). It also prints what the CLI's label path imports (``python -X importtime``)
and an in-process breakdown per stage (imports, labels, read, convert, align, score,
report), so that a regression shows where it happened. It prints figures; it asserts nothing.

Cases:
    labels       a label-set model (gemini-1.5-pro from ../shared), default clip set
    pickle       a score model in the authors' pickle format, full set, k = 1, 3, 5, 10, AUC,
                 μ: float32 logits as a network gives them (higher on a clip's labels, 3 % of
                 the clips left out), so ties are as rare as in real outputs
    parquet      the same scores as the project's Parquet table
    pickle-tied  the parity fixture of tests/synthetic_scores.py in the same format: most
                 rows tied at a top-k cut (rounded scores, copied maxima), which the ranking
                 must sort in full to follow the reference's tie rule; the worst case

The score cases run ours with ``--threads 1`` and ``--threads 2`` (the numbers are
identical; only the time may differ; the default is the machine's cores); the parquet case
is compared with the reference reading the same scores from the authors' pickle (the
reference reads no Parquet). ``--scales 1,4,16`` adds a table of the cost of
aligning and scoring a score model on the test set repeated 1, 4 and 16 times (time and peak
memory per clip, each size in a fresh process).

Child processes write and reuse compiled bytecode in a temporary folder
(``PYTHONPYCACHEPREFIX``) even when ``PYTHONDONTWRITEBYTECODE`` is set, as an installed wheel
has it: compiling the project's sources otherwise adds about 0.1 s to every run.

The reference runs in its own virtual environment (``vggsounder==1.0``): give its Python with
``--reference-python`` (or ``VGGSOUNDER_REFERENCE_PYTHON``); without it only ours is timed.

Usage:
    python scripts/benchmark_whole_process.py --reference-python /path/to/venv-ref/bin/python
    python scripts/benchmark_whole_process.py --cases labels --runs 7
    python scripts/benchmark_whole_process.py --cases pickle --scales 1,4,16
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
CASES = ("labels", "pickle", "parquet", "pickle-tied")
SCORE_CASES = ("pickle", "parquet", "pickle-tied")
HEAVY_MODULES = ("pandas", "pyarrow", "datasets", "sklearn", "matplotlib", "torch")

_CHILD_ENV = {
    **{name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / "vggsounder-hf-benchmark-pycache"),
}
"""Children compile once and reuse the bytecode, outside the repository."""

REFERENCE_CODE = """
import sys, tempfile, pathlib
from vggsounder import VGGSounder
from vggsounder.benchmark import compute_all_results
path, clip_set = pathlib.Path(sys.argv[1]), sys.argv[2]
with tempfile.TemporaryDirectory() as folder:
    (pathlib.Path(folder) / path.name).symlink_to(path.resolve())
    labels = VGGSounder(background_music=False if clip_set == "default" else None)
    compute_all_results(models_path=folder, vggsounder=labels, verbose=False)
"""


def _run(command: list[str]) -> dict[str, float]:
    """Run one process to the end; its wall and CPU seconds and peak RSS (MB)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_CHILD_ENV
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({process.returncode}): {stderr.strip()[-500:]}")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss": usage.ru_maxrss / 1024,
    }


def _summary(values: list[float]) -> str:
    return f"{statistics.median(values):7.3f} [{min(values):.3f}-{max(values):.3f}]"


def _synthetic_inputs(folder: Path) -> dict[str, Path]:
    """The score models of the score cases: the model-like scores as the authors' pickle and
    as our Parquet table (written by the project's PredictionWriter), and the parity fixture
    as the authors' pickle."""
    import numpy as np

    from vggsounder_hf.io.prediction_writer import PredictionWriter
    from vggsounder_hf.io.sources import load_release

    spec = importlib.util.spec_from_file_location(
        "synthetic_scores", REPO / "tests" / "synthetic_scores.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    release = load_release("1.0")
    video_ids = [clip.video_id for clip in release.clips]
    labels = [list(clip.labels) for clip in release.clips]
    paths = _input_paths(folder)
    tied = module.make_score_predictions(video_ids, labels, len(release.class_names))
    paths["pickle-tied"].write_bytes(pickle.dumps(tied, protocol=pickle.HIGHEST_PROTOCOL))
    del tied
    generator = np.random.default_rng(0)
    mapping = {}
    for video_id, clip_labels in zip(video_ids, labels, strict=True):
        if generator.random() < 0.03:
            continue  # a clip the model has no output for
        logits = {}
        for modality in ("a", "v", "av"):
            row = generator.standard_normal(len(release.class_names), dtype=np.float32)
            boost = generator.uniform(1.5, 4.0, len(clip_labels)).astype(np.float32)
            row[clip_labels] += boost * (generator.random(len(clip_labels)) < 0.75)
            logits[modality] = row.tolist()
        mapping[video_id] = {"logits": logits}
    paths["pickle"].write_bytes(pickle.dumps(mapping, protocol=pickle.HIGHEST_PROTOCOL))
    with PredictionWriter(paths["parquet"], "scores", class_names=release.class_names) as writer:
        for video_id, entry in mapping.items():
            writer.add(video_id, **entry["logits"])
    return paths


def _input_paths(folder: Path) -> dict[str, Path]:
    names = {"pickle": "model.pkl", "parquet": "model.parquet", "pickle-tied": "tied.pkl"}
    return {case: folder / name for case, name in names.items()}


def _commands(
    case: str, inputs: dict[str, Path], reference_python: str | None
) -> dict[str, list[str]]:
    """The commands of one case by side: ours (at 1 and 2 threads for scores) and the
    reference."""
    ours = [sys.executable, "-m", "vggsounder_hf.cli.score", "--quiet"]
    if case == "labels":
        commands = {"ours": [*ours, str(inputs["labels"])]}
        reference_args = [str(inputs["labels"]), "default"]
    else:
        ours += [str(inputs[case]), "--clip-set", "full", "--ks", "1,3,5,10"]
        ours += ["--metrics", "subset_accuracy,f1,hit,auc_roc,auc_pr,mu"]
        threads = (1, 2)
        commands = {f"ours {n}t": [*ours, "--threads", str(n)] for n in threads}
        reference_args = [str(inputs["pickle" if case == "parquet" else case]), "full"]
    if reference_python and case != "parquet":
        commands["reference"] = [reference_python, "-c", REFERENCE_CODE, *reference_args]
    return commands


def _time_case(
    case: str, commands: dict[str, list[str]], runs: int, reference: list[float] | None = None
) -> list[float] | None:
    """Warm up, then run every command ``runs`` times, interleaved; print the figures.
    Returns the reference's wall times; ``reference``: those of an earlier case, for a case
    the reference cannot run (Parquet)."""
    for command in commands.values():
        _run(command)  # warm-up: file caches, compiled bytecode
    samples: dict[str, list[dict[str, float]]] = {side: [] for side in commands}
    for run in range(runs):
        print(f"  {case}: run {run + 1}/{runs}", end="\r", file=sys.stderr, flush=True)
        for side, command in commands.items():
            samples[side].append(_run(command))
    print(" " * 40, end="\r", file=sys.stderr)
    for side, rows in samples.items():
        print(
            f"{case:8s} {side:9s} wall {_summary([r['wall'] for r in rows])}  "
            f"cpu {_summary([r['cpu'] for r in rows])}  "
            f"peak RSS {statistics.median(r['rss'] for r in rows):7.1f} MB"
        )
    for side in samples:
        if side != "reference" and "reference" in samples:
            pairs = zip(samples["reference"], samples[side], strict=True)
            ratios = [ref["wall"] / own["wall"] for ref, own in pairs]
            print(
                f"{case:8s} speed-up  {statistics.median(ratios):6.1f}x {side} "
                f"(median of {runs} pairs)"
            )
        elif side != "reference" and reference:
            own = statistics.median(row["wall"] for row in samples[side])
            print(
                f"{case:8s} speed-up  {statistics.median(reference) / own:6.1f}x {side} "
                "(medians; the reference reads the same scores from the pickle)"
            )
    if "reference" in samples:
        return [row["wall"] for row in samples["reference"]]
    return None


def _scale(repeats: int) -> None:
    """Run in a child process: align and score a score model on the test set repeated
    ``repeats`` times (clip ids renamed per copy); time and peak memory per clip."""
    import resource

    import numpy as np

    from vggsounder_hf.core.alignment import align
    from vggsounder_hf.core.evaluation import score
    from vggsounder_hf.core.ground_truth import GroundTruth
    from vggsounder_hf.core.predictions import ModelPredictions
    from vggsounder_hf.io.sources import load_release

    truth = GroundTruth.from_release(load_release("1.0"))
    ids = np.array(
        [f"r{copy}{video_id}" for copy in range(repeats) for video_id in truth.video_ids]
    )
    big = GroundTruth(
        video_ids=ids,
        modality_codes=np.tile(truth.modality_codes, (repeats, 1)),
        meta={name: np.tile(flags, repeats) for name, flags in truth.meta.items()},
        class_names=truth.class_names,
    )
    generator = np.random.default_rng(0)
    scores = {
        modality: (ids.tolist(), generator.random((len(ids), truth.num_classes)))
        for modality in ("a", "v", "av")
    }
    predictions = ModelPredictions.from_scores(scores, truth.class_names)
    del scores
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    model = align(big, predictions, ks=(1, 3, 5, 10))
    score(model, "full", threads=1)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    clips = len(ids)
    input_mb = 3 * clips * truth.num_classes * 8 / 1024**2
    print(
        f"scale  {repeats:3d}x {clips:7d} clips  align+score {seconds:7.2f} s "
        f"({seconds / clips * 1e6:6.1f} µs/clip)  peak RSS {peak:8.1f} MB "
        f"({peak / clips * 1024:5.1f} KB/clip; scores {input_mb:.0f} MB, "
        f"+{max(peak - before, 0) / clips * 1024:5.1f} KB/clip while scoring)"
    )


def _import_report(label_file: Path) -> None:
    """What the CLI's label path imports, and how long imports take in all."""
    command = [sys.executable, "-X", "importtime", "-m", "vggsounder_hf.cli.score", "--quiet"]
    result = subprocess.run(
        [*command, str(label_file)], capture_output=True, text=True, check=True, env=_CHILD_ENV
    )
    total = 0
    imported = set()
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        fields = [field.strip() for field in line.split(":", 1)[1].split("|")]
        if fields[0].isdigit():
            total += int(fields[0])
            imported.add(fields[2].strip().split(".")[0])
    heavy = [name for name in HEAVY_MODULES if name in imported]
    print(f"imports   label path: {total / 1e6:.3f} s in all (self times, -X importtime)")
    print(f"imports   heavy modules on the label path: {', '.join(heavy) or 'none'}")


def _stages(prediction_file: str, clip_set: str) -> None:
    """Run in a child process: time each stage of one scoring run in-process."""
    marks = [("start", time.perf_counter())]
    import numpy as np  # noqa: F401

    from vggsounder_hf.cli import score  # noqa: F401
    from vggsounder_hf.core.alignment import align
    from vggsounder_hf.core.evaluation import score as score_model
    from vggsounder_hf.core.ground_truth import GroundTruth
    from vggsounder_hf.io.readers import read_predictions
    from vggsounder_hf.io.sources import load_release
    from vggsounder_hf.reports import render, tables

    marks.append(("imports", time.perf_counter()))
    release = load_release("1.0")
    truth = GroundTruth.from_release(release)
    marks.append(("labels", time.perf_counter()))
    predictions = read_predictions(prediction_file, release.class_names)
    marks.append(("read+convert", time.perf_counter()))
    model = align(truth, predictions, ks=(1, 3, 5, 10))
    marks.append(("align", time.perf_counter()))
    results = score_model(model, clip_set)
    marks.append(("score", time.perf_counter()))
    table = tables.main_table([tables.ModelResult("model", model.kind, results)])
    render.render(table, "table")
    marks.append(("report", time.perf_counter()))
    parts = [f"{name} {end - begin:.3f}" for (_, begin), (name, end) in itertools.pairwise(marks)]
    print("stages    " + ", ".join(parts) + f" (s; total {marks[-1][1] - marks[0][1]:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated cases")
    parser.add_argument("--runs", type=int, default=5, help="counted runs per command")
    parser.add_argument("--reference-python", default=os.environ.get("VGGSOUNDER_REFERENCE_PYTHON"))
    parser.add_argument(
        "--scales", default="", help="test-set repeats for the scaling table, e.g. 1,4,16"
    )
    parser.add_argument("--stages", nargs=2, metavar=("FILE", "CLIP_SET"), help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--make-inputs", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stages:
        _stages(*args.stages)
        return
    if args.scale:
        _scale(args.scale)
        return
    if args.make_inputs:
        _synthetic_inputs(Path(args.make_inputs))
        return
    cases = [case.strip() for case in args.cases.split(",") if case.strip()]
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; runs {args.runs}")
    with tempfile.TemporaryDirectory() as folder:
        inputs = {"labels": SHARED / "model-predictions" / "gemini-1.5-pro.pkl"}
        if set(SCORE_CASES) & set(cases):
            # In a child: a forked child's peak RSS counts the parent's memory at the fork.
            command = [sys.executable, __file__, "--make-inputs", folder]
            subprocess.run(command, check=True, env=_CHILD_ENV)
            inputs.update(_input_paths(Path(folder)))
        pickle_reference = None
        for case in cases:
            commands = _commands(case, inputs, args.reference_python)
            walls = _time_case(case, commands, args.runs, pickle_reference)
            pickle_reference = walls if case == "pickle" else pickle_reference
            clip_set = "default" if case == "labels" else "full"
            command = [sys.executable, __file__, "--stages", str(inputs[case]), clip_set]
            subprocess.run(command, check=True, env=_CHILD_ENV)
        _import_report(inputs["labels"])
    for repeats in _split_ints(args.scales):
        command = [sys.executable, __file__, "--scale", str(repeats)]
        subprocess.run(command, check=True, env=_CHILD_ENV)


def _split_ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


if __name__ == "__main__":
    main()
