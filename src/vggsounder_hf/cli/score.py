"""``vggsounder-score``: score prediction files on VGGSounder and print the paper's tables.

A thin layer over the metric core: files are read by :mod:`vggsounder_hf.io.readers`, each
model is aligned to the ground truth once (:func:`vggsounder_hf.core.alignment.align`) and
that alignment is shared by the main table
(:func:`vggsounder_hf.core.evaluation.evaluate_predictions`), the meta-label table, the
confused clips, the radar plot and ``--push-results``; the reports are laid out by
:mod:`vggsounder_hf.reports.tables`, :mod:`vggsounder_hf.reports.meta`,
:mod:`vggsounder_hf.reports.confusion` and :mod:`vggsounder_hf.reports.plots`. Every output
is rendered first; the files are then replaced together (all or none, see
:mod:`vggsounder_hf.cli._score_outputs`).

Example:
    $ vggsounder-score --baseline class-prior                 # no download, no model
    $ vggsounder-score predictions/*.pkl --format markdown
    $ vggsounder-score model.parquet --ks 1,3,5 --clip-set full --output results.json
    $ vggsounder-score model.pkl --meta-report meta.md --confused-clips confused.csv \\
          --radar radar.png
    $ vggsounder-score model.pkl --push-results me/my-model --dry-run

Errors (missing, empty or malformed files, wrong structure, bad options, a file none of whose
clip ids is in the clip set, an empty clip set, a file that cannot be written) print one line
``vggsounder-score: error: <file>: <problem>`` and exit with code 2, and no output file is
changed; ``--debug`` shows the traceback instead. Ctrl-C exits with 130. Warnings (unknown
class names, clip ids that are not clips of the release, columns without a clip to score,
shown as ``–``) are printed once the run has succeeded.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

# Only the standard library and small modules of ours here: numpy, pandas and the core are
# imported inside run_command, so that Ctrl-C while they load exits with 130, quietly.
from vggsounder_hf import __version__
from vggsounder_hf.cli._errors import (
    DeferredWarnings,
    OneLineParser,
    add_version_option,
    reading_input,
    run_command,
)
from vggsounder_hf.cli._score_options import (
    ScoreError,
    add_labels_option,
    add_paper_options,
    add_threshold_options,
    alignment_options,
    check_ks,
    check_options,
    evaluation_options,
)
from vggsounder_hf.cli._score_outputs import (
    Model,
    Run,
    check_clip_set,
    check_clips,
    push,
    render_outputs,
)
from vggsounder_hf.cli._score_paper import add_paper_outputs, core_outputs
from vggsounder_hf.core.clip_sets import CLIP_SETS, resolve_clip_set
from vggsounder_hf.core.parallel import MAX_DEFAULT_THREADS, default_threads
from vggsounder_hf.core.schema import (
    DEFAULT_CLIP_SET,
    NUM_CLASSES,
    PREDICTION_KINDS,
    TIE_BREAKS,
    metric,
)

__all__ = ["PROG", "ScoreError", "build_parser", "main"]

PROG = "vggsounder-score"

REPORTS: tuple[str, ...] = ("main", "meta", "confusion")


class _Parser(OneLineParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise ScoreError(f"{message} (see {self.prog} --help)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {text!r}")
    return value


def _confidence(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a level between 0 and 1, got {text!r}")
    return value


def _int_list(text: str) -> list[int]:
    values = [_positive_int(part.strip()) for part in text.split(",") if part.strip()]
    if not values:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, got {text!r}")
    return values


def _metric_name(text: str) -> str:
    """A metric's registry name from any of its spellings; ``choices`` then checks that the
    radar can show it."""
    from vggsounder_hf.reports.plots import RADAR_METRICS

    try:
        return metric(text).name
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"unknown metric {text!r}; choose from {', '.join(RADAR_METRICS)}"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (exposed for documentation and tests)."""
    from vggsounder_hf.core.baseline import BASELINES
    from vggsounder_hf.io.readers import INPUT_FORMATS
    from vggsounder_hf.reports.plots import RADAR_METRICS
    from vggsounder_hf.reports.tables import MAIN_LAYOUT, METRICS, OUTPUT_FORMATS

    parser = _Parser(
        prog=PROG,
        description="Score prediction files on VGGSounder and print the paper's main table "
        "(subset accuracy, F1, hit, modality confusion), the meta-label table, the confused "
        "clips and a radar plot.",
        epilog="Prediction files: the authors' pickle (.pkl), JSON/JSONL of the same structure, "
        "or a long table (.csv/.parquet) with columns video_id,input_modality,label or "
        f"video_id,input_modality,score_0..score_{NUM_CLASSES - 1}. Name a model with NAME=FILE "
        "(default: the file name without extension).",
    )
    parser.add_argument(
        "predictions", nargs="*", metavar="FILE", help="prediction file(s), or NAME=FILE"
    )
    parser.add_argument(
        "--baseline",
        action="append",
        choices=BASELINES,
        default=[],
        help="add a baseline computed from the labels (class-prior: predict the most frequent "
        "classes of each input's label subset)",
    )
    parser.add_argument(
        "--baseline-k",
        type=_positive_int,
        default=1,
        help="classes predicted per input by the baseline (default: 1)",
    )
    add_labels_option(parser)  # --labels, and its old spelling --label-version
    add_paper_options(parser)
    parser.add_argument(
        "--data-path",
        help="folder with the release files, or one annotation CSV, instead of the authors' "
        "files (not checksum-verified)",
    )
    parser.add_argument(
        "--clip-set",
        choices=sorted(CLIP_SETS),
        default=DEFAULT_CLIP_SET,
        help=f"clips to score (default: {DEFAULT_CLIP_SET!r}, the reference's set without "
        "background music)",
    )
    parser.add_argument("--k", type=_positive_int, help="top-k for score models (default: 1)")
    parser.add_argument(
        "--ks", type=_int_list, help="several top-k values, e.g. 1,3,5 (one row per k)"
    )
    parser.add_argument(
        "--tie-break",
        choices=TIE_BREAKS,
        default=TIE_BREAKS[0],
        help="top-k among tied scores: 'reference' (numpy argsort, as the authors; may "
        "differ across CPUs) or 'lowest_index' (deterministic)",
    )
    add_threshold_options(parser)
    parser.add_argument(
        "--metrics",
        action="append",
        help=f"metric groups, comma-separated, from: {', '.join(METRICS)} "
        f"(default: {','.join(name for name, _ in MAIN_LAYOUT)})",
    )
    parser.add_argument(
        "--columns",
        action="append",
        help="columns for every metric but mu, comma-separated: a,v,av,a_only,v_only "
        "(default: the paper's)",
    )
    parser.add_argument(
        "--format",
        choices=OUTPUT_FORMATS,
        help="output format (default: table; csv for --report confusion)",
    )
    parser.add_argument("--output", "-o", help="write the report to this file (atomically)")
    parser.add_argument(
        "--report",
        choices=REPORTS,
        default="main",
        help="what to print: main table, meta-label table (paper's Table 3) or confused "
        "clips (default: main)",
    )
    parser.add_argument(
        "--meta-report",
        metavar="FILE",
        help="also write the meta-label table to FILE (format from .txt/.md/.tex/.csv/.json)",
    )
    parser.add_argument(
        "--confused-clips",
        metavar="FILE",
        help="also write the per-clip modality confusion report to FILE (.csv or .json)",
    )
    parser.add_argument(
        "--radar", metavar="FILE", help="also draw the radar plot to FILE (.png, .svg or .pdf)"
    )
    parser.add_argument(
        "--radar-metric",
        type=_metric_name,
        choices=RADAR_METRICS,
        default="hit",
        metavar="METRIC",
        help=f"metric on the radar axes, one of {', '.join(RADAR_METRICS)} (default: hit)",
    )
    parser.add_argument(
        "--bootstrap",
        type=_count,
        default=0,
        metavar="N",
        help="add bootstrap confidence intervals from N resamples of the clips (default: 0, none)",
    )
    parser.add_argument(
        "--confidence",
        type=_confidence,
        default=0.95,
        help="confidence level of the bootstrap intervals (default: 0.95)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed of the bootstrap (default: 0)"
    )
    parser.add_argument(
        "--threads",
        type=_positive_int,
        metavar="N",
        help="rank and score the columns of score models on N threads; the numbers do not "
        "depend on it "
        f"(default: the machine's cores, at most {MAX_DEFAULT_THREADS}: here "
        f"{default_threads()})",
    )
    parser.add_argument(
        "--input-format", choices=INPUT_FORMATS, help="format of the prediction files"
    )
    parser.add_argument(
        "--kind",
        choices=PREDICTION_KINDS,
        help="read label sets or scores when a pickle/JSON file has both",
    )
    parser.add_argument(
        "--push-results",
        metavar="MODEL_REPO_ID",
        help="write the results of the (one) prediction file into the model card of this "
        "Hub model repository",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="with --push-results: print the card, upload nothing"
    )
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    progress.add_argument(
        "--progress", action="store_true", help="show the progress bar even when not a terminal"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    add_version_option(parser, PROG)
    return parser


def _progress_factory(args: argparse.Namespace) -> Callable[..., Iterable[Any]]:
    if args.quiet:
        return lambda iterable, **_: iterable
    from tqdm.auto import tqdm

    def wrap(iterable: Iterable[Any], **options: Any) -> Iterable[Any]:
        return tqdm(
            iterable,
            file=sys.stderr,
            disable=False if args.progress else None,
            leave=False,
            dynamic_ncols=True,
            **options,
        )

    return wrap


def _split_name(argument: str) -> tuple[str, str]:
    """``NAME=FILE`` -> (name, file); a plain file (even with ``=`` in it) keeps its stem."""
    from vggsounder_hf.io.readers import default_model_name

    if "=" in argument and not Path(argument).exists():
        name, path = argument.split("=", 1)
        if name and path:
            return name, path
    return default_model_name(argument), argument


def _load_models(
    args: argparse.Namespace, truth: Any, progress: Callable, warn: Callable[[str], None]
) -> list[tuple[str, Any, str | None]]:
    """``(name, predictions, path)`` of every file and baseline, in row order."""
    from vggsounder_hf.core.baseline import class_prior_baseline
    from vggsounder_hf.io.readers import read_predictions

    entries: list[tuple[str, str | None]] = [_split_name(item) for item in args.predictions]
    entries += [(baseline, None) for baseline in args.baseline]
    models: list[tuple[str, Any, str | None]] = []
    seen: dict[str, str] = {}
    for name, path in progress(entries, desc="reading", unit="file"):
        if name in seen:
            raise ScoreError(
                f"{path}: model name {name!r} is already used by {seen[name]}; name it with "
                "NAME=FILE"
            )
        seen[name] = path or "--baseline"
        if path is None:
            label = name if args.baseline_k == 1 else f"{name} (k={args.baseline_k})"
            models.append((label, class_prior_baseline(truth, args.baseline_k, source=label), None))
            continue
        with warnings.catch_warnings(record=True) as caught, reading_input(path):
            warnings.simplefilter("always")
            predictions = read_predictions(
                path, truth.class_names, format=args.input_format, kind=args.kind
            )
        for warning in caught:
            warn(str(warning.message))
        models.append((name, predictions, path))
    return models


def _align(
    loaded: Sequence[tuple[str, Any, str | None]],
    truth: Any,
    ks: tuple[int, ...],
    args: argparse.Namespace,
    progress: Callable,
) -> list[Model]:
    """Each model aligned once, for every report of the run."""
    from vggsounder_hf.core.alignment import align

    options = alignment_options(args, ks)  # top-k or threshold, ties, the protocol's μ
    return [
        Model(name, path, align(truth, predictions, **options))
        for name, predictions, path in progress(loaded, desc="aligning", unit="model")
    ]


def _metadata(
    args: argparse.Namespace, truth: Any, release: Any, ks: tuple[int, ...]
) -> dict[str, Any]:
    metadata = {
        "label_version": args.label_version,
        "protocol": args.protocol,
        "clip_set": args.clip_set,
        "clip_set_filter": resolve_clip_set(args.clip_set),
        "num_clips": int(truth.mask(args.clip_set).sum()),
        "ks": list(ks),
        "tie_break": args.tie_break,
        "labels_source": release.files.source,
        "annotations_sha256": release.files.annotations_sha256,
        "vggsounder_hf_version": __version__,
    }
    if args.threshold is not None:
        metadata.update(threshold=args.threshold, sigmoid=args.sigmoid)
    if args.bootstrap:
        metadata["bootstrap"] = {
            "resamples": args.bootstrap,
            "confidence": args.confidence,
            "seed": args.seed,
        }
    return metadata


def _run(args: argparse.Namespace) -> int:
    from vggsounder_hf.core.ground_truth import GroundTruth
    from vggsounder_hf.io.sources import load_release

    ks = check_options(args)
    progress = _progress_factory(args)
    with reading_input(args.data_path or f"labels {args.label_version}"):
        release = load_release(args.label_version, args.data_path)
        truth = GroundTruth.from_release(release)
    check_ks(ks, truth)
    warn = DeferredWarnings(PROG)
    check_clip_set(truth, args, warn)
    metadata = _metadata(args, truth, release, ks)
    models = _align(_load_models(args, truth, progress, warn), truth, ks, args, progress)
    run = Run(args, truth, models, ks, metadata, progress, warn)
    check_clips(run)
    outputs, results = render_outputs(core_outputs(run), evaluation_options(args))
    add_paper_outputs(run, outputs, results)
    outputs.commit()  # every file or none, then stdout
    if args.push_results:
        push(args, results[0], metadata, PROG)
    warn.print()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``vggsounder-score``; returns the exit code (0 ok, 2 error)."""
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)

    def command() -> int:
        args = build_parser().parse_args(argv)  # usage errors raise ScoreError
        return _run(args)

    return run_command(PROG, command, debug=debug)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
