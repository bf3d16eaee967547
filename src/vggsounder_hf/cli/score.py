"""``vggsounder-score``: score prediction files on VGGSounder and print the paper's tables.

A thin layer over the metric core: files are read by :mod:`vggsounder_hf.io.readers`, scored
by :func:`vggsounder_hf.core.evaluation.evaluate_predictions`, and laid out by
:mod:`vggsounder_hf.reports.tables`, :mod:`vggsounder_hf.reports.meta`,
:mod:`vggsounder_hf.reports.confusion` and :mod:`vggsounder_hf.reports.plots`.

Example:
    $ vggsounder-score --baseline class-prior                 # no download, no model
    $ vggsounder-score predictions/*.pkl --format markdown
    $ vggsounder-score model.parquet --ks 1,3,5 --clip-set full --output results.json
    $ vggsounder-score model.pkl --meta-report meta.md --confused-clips confused.csv \\
          --radar radar.png
    $ vggsounder-score model.pkl --push-results me/my-model --dry-run

Errors (missing, empty or malformed files, wrong structure, bad options) print one line
``vggsounder-score: error: <file>: <problem>`` and exit with code 2; ``--debug`` shows the
traceback instead.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vggsounder_hf import __version__
from vggsounder_hf.cli._errors import run_command
from vggsounder_hf.core.baseline import BASELINES, class_prior_baseline
from vggsounder_hf.core.clip_sets import CLIP_SETS, DEFAULT_CLIP_SET, resolve_clip_set
from vggsounder_hf.core.functional import TIE_BREAKS
from vggsounder_hf.io.sources import LABEL_VERSIONS

__all__ = ["PROG", "ScoreError", "build_parser", "main"]

PROG = "vggsounder-score"

REPORTS: tuple[str, ...] = ("main", "meta", "confusion")
REPORT_EXTENSIONS: dict[str, str] = {
    ".txt": "table",
    ".md": "markdown",
    ".markdown": "markdown",
    ".tex": "latex",
    ".csv": "csv",
    ".json": "json",
}


class ScoreError(ValueError):
    """A problem to report in one line (bad option, unreadable input, ...)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise ScoreError(f"{message} (see {self.prog} --help)")


@dataclass
class _Model:
    name: str
    predictions: Any
    path: str | None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _int_list(text: str) -> list[int]:
    values = [_positive_int(part.strip()) for part in text.split(",") if part.strip()]
    if not values:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, got {text!r}")
    return values


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (exposed for documentation and tests)."""
    from vggsounder_hf.io.readers import FORMATS as INPUT_FORMATS
    from vggsounder_hf.reports.tables import FORMATS, METRICS

    parser = _Parser(
        prog=PROG,
        description="Score prediction files on VGGSounder and print the paper's main table "
        "(subset accuracy, F1, hit, modality confusion), the meta-label table, the confused "
        "clips and a radar plot.",
        epilog="Prediction files: the authors' pickle (.pkl), JSON/JSONL of the same structure, "
        "or a long table (.csv/.parquet) with columns video_id,input_modality,label or "
        "video_id,input_modality,score_0..score_308. Name a model with NAME=FILE "
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
    parser.add_argument(
        "--labels",
        "--label-version",
        dest="label_version",
        choices=LABEL_VERSIONS,
        default="1.0",
        help="label release (default: 1.0)",
    )
    parser.add_argument(
        "--data-path",
        help="folder with the release files, or one annotation CSV, instead of the authors' "
        "files (not checksum-verified)",
    )
    parser.add_argument(
        "--clip-set",
        choices=sorted(CLIP_SETS),
        default=DEFAULT_CLIP_SET,
        help="clips to score (default: 'default', the reference's set without background music)",
    )
    parser.add_argument("--k", type=_positive_int, help="top-k for score models (default: 1)")
    parser.add_argument(
        "--ks", type=_int_list, help="several top-k values, e.g. 1,3,5 (one row per k)"
    )
    parser.add_argument(
        "--tie-break",
        choices=TIE_BREAKS,
        default="reference",
        help="top-k among tied scores: 'reference' (numpy argsort, as the authors; may "
        "differ across CPUs) or 'lowest_index' (deterministic)",
    )
    parser.add_argument(
        "--metrics",
        action="append",
        help=f"metric groups, comma-separated, from: {', '.join(METRICS)} "
        "(default: subset_accuracy,f1,hit,mu)",
    )
    parser.add_argument(
        "--columns",
        action="append",
        help="columns for every metric but mu, comma-separated: a,v,av,a_only,v_only "
        "(default: the paper's)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
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
        "--radar-metric", default="hit", help="metric on the radar axes (default: hit)"
    )
    parser.add_argument(
        "--input-format", choices=INPUT_FORMATS, help="format of the prediction files"
    )
    parser.add_argument(
        "--kind",
        choices=("labels", "scores"),
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


def _check_options(args: argparse.Namespace) -> tuple[int, ...]:
    if not args.predictions and not args.baseline:
        raise ScoreError("no prediction file given (and no --baseline)")
    if args.k is not None and args.ks is not None:
        raise ScoreError("use either --k or --ks, not both")
    ks = tuple(dict.fromkeys(args.ks)) if args.ks else (args.k or 1,)
    if max(ks) > 309:
        raise ScoreError(f"top-k must be at most 309, got {max(ks)}")
    if args.dry_run and not args.push_results:
        raise ScoreError("--dry-run only applies to --push-results")
    if args.push_results and len(args.predictions) != 1:
        raise ScoreError(
            "--push-results writes one model's results: give exactly one prediction file"
        )
    if args.report == "confusion" and args.format not in (None, "csv", "json"):
        raise ScoreError("--report confusion writes csv or json, not " + args.format)
    from vggsounder_hf.reports.tables import parse_columns, parse_metrics

    try:
        if args.metrics:
            parse_metrics(args.metrics)
        if args.columns:
            parse_columns(args.columns)
        if args.radar:
            (metric,) = parse_metrics([args.radar_metric])
            if metric == "mu":
                raise ValueError("--radar-metric cannot be mu (it has no columns)")
    except ValueError as error:
        raise ScoreError(str(error)) from None
    for option, path in (
        ("--output", args.output),
        ("--meta-report", args.meta_report),
        ("--confused-clips", args.confused_clips),
        ("--radar", args.radar),
    ):
        if path is not None:
            folder = Path(path).parent
            if not folder.is_dir():
                raise ScoreError(f"{path}: folder {folder} does not exist ({option})")
    if args.confused_clips and Path(args.confused_clips).suffix.lower() not in (".csv", ".json"):
        raise ScoreError(
            f"{args.confused_clips}: the confused-clips file must end in .csv or .json"
        )
    if args.radar and Path(args.radar).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise ScoreError(f"{args.radar}: the radar plot file must end in .png, .svg or .pdf")
    return ks


def _split_name(argument: str) -> tuple[str, str]:
    """``NAME=FILE`` -> (name, file); a plain file (even with ``=`` in it) keeps its stem."""
    from vggsounder_hf.io.readers import default_model_name

    if "=" in argument and not Path(argument).exists():
        name, path = argument.split("=", 1)
        if name and path:
            return name, path
    return default_model_name(argument), argument


def _warn(message: str) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def _load_models(args: argparse.Namespace, truth: Any, progress: Callable) -> list[_Model]:
    from vggsounder_hf.io.readers import read_predictions

    entries: list[tuple[str, str | None]] = [_split_name(item) for item in args.predictions]
    entries += [(baseline, None) for baseline in args.baseline]
    models: list[_Model] = []
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
            predictions = class_prior_baseline(truth, args.baseline_k, source=label)
            models.append(_Model(label, predictions, None))
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            predictions = read_predictions(
                path, truth.class_names, format=args.input_format, kind=args.kind
            )
        for warning in caught:
            _warn(str(warning.message))
        models.append(_Model(name, predictions, path))
    return models


def _report_format(
    path: str | None, chosen: str | None, default: str, *, extension_first: bool = False
) -> str:
    """The output format: ``--format`` (for ``--output``), else the file's extension, else
    ``default``. For the extra report files (``extension_first``) the extension wins."""
    by_extension = REPORT_EXTENSIONS.get(Path(path).suffix.lower()) if path else None
    if extension_first and by_extension is not None:
        return by_extension
    return chosen or by_extension or default


def _emit(text: str, path: str | None) -> None:
    if path is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from vggsounder_hf.io.atomic import write_atomic

    write_atomic(path, text)


def _run(args: argparse.Namespace) -> int:
    from vggsounder_hf.core.ground_truth import GroundTruth
    from vggsounder_hf.io.sources import load_release
    from vggsounder_hf.reports import tables as reports

    ks = _check_options(args)
    progress = _progress_factory(args)
    release = load_release(args.label_version, args.data_path)
    truth = GroundTruth.from_release(release)
    models = _load_models(args, truth, progress)
    clip_set_size = len(truth.select(args.clip_set))
    metadata = {
        "label_version": args.label_version,
        "clip_set": args.clip_set,
        "clip_set_filter": resolve_clip_set(args.clip_set),
        "num_clips": clip_set_size,
        "ks": list(ks),
        "tie_break": args.tie_break,
        "labels_source": release.files.source,
        "annotations_sha256": release.files.annotations_sha256,
        "vggsounder_hf_version": __version__,
    }
    pairs = [(model.name, model.predictions) for model in models]

    results: list[reports.ModelResult] = []
    if args.report == "main" or args.radar or args.push_results:
        results = reports.score_models(
            truth,
            pairs,
            clip_set=args.clip_set,
            ks=ks,
            tie_break=args.tie_break,
            progress=lambda items: progress(items, desc="scoring", unit="model"),
        )
        results = [
            reports.ModelResult(model.name, result.kind, result.results, model.path)
            for model, result in zip(models, results, strict=True)
        ]

    if args.report == "main":
        table = reports.main_table(
            results, metrics=args.metrics, columns=args.columns, ks=ks, metadata=metadata
        )
        fmt = _report_format(args.output, args.format, "table")
        _emit(reports.render(table, fmt), args.output)
    if args.report == "meta" or args.meta_report:
        meta = _meta_table(args, truth, pairs, ks, metadata, progress)
        if args.report == "meta":
            _emit(
                reports.render(meta, _report_format(args.output, args.format, "table")), args.output
            )
        if args.meta_report:
            fmt = _report_format(args.meta_report, args.format, "table", extension_first=True)
            _emit(reports.render(meta, fmt), args.meta_report)
    if args.report == "confusion" or args.confused_clips:
        _confusion(args, truth, models, metadata, progress)
    if args.radar:
        from vggsounder_hf.reports.plots import radar_plot

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            radar_plot(results, args.radar, metric=args.radar_metric, k=ks[0])
        for warning in caught:
            _warn(str(warning.message))
    if args.push_results:
        _push(args, results[0], metadata)
    return 0


def _meta_table(
    args: argparse.Namespace,
    truth: Any,
    pairs: list[tuple[str, Any]],
    ks: tuple[int, ...],
    metadata: dict[str, Any],
    progress: Callable,
) -> Any:
    from vggsounder_hf.reports.meta import meta_label_report

    info = {
        key: metadata[key]
        for key in ("label_version", "labels_source", "annotations_sha256")
        if key in metadata
    }
    if len(ks) > 1:
        _warn(f"the meta-label table uses k={ks[0]} for score models")
    return meta_label_report(
        truth,
        pairs,
        k=ks[0],
        tie_break=args.tie_break,
        metadata=info,
        progress=lambda items: progress(items, desc="meta-label sets", unit="set"),
    )


def _confusion(
    args: argparse.Namespace,
    truth: Any,
    models: list[_Model],
    metadata: dict[str, Any],
    progress: Callable,
) -> None:
    from vggsounder_hf.reports.confusion import confused_clips, render_confusion_report

    rows: list[dict[str, Any]] = []
    for model in progress(models, desc="confused clips", unit="model"):
        missing = [m for m in ("a", "v", "av") if m not in model.predictions.inputs]
        if missing:
            _warn(f"{model.name}: no input {', '.join(missing)}; left out of the confused clips")
            continue
        rows += confused_clips(
            truth,
            model.predictions,
            model=model.name,
            clip_set=args.clip_set,
            tie_break=args.tie_break,
        )
    info = {key: metadata[key] for key in ("label_version", "clip_set", "num_clips", "tie_break")}
    if args.report == "confusion":
        fmt = _report_format(args.output, args.format, "csv")
        if fmt not in ("csv", "json"):
            raise ScoreError(f"{args.output}: the confused-clips report is written as csv or json")
        _emit(render_confusion_report(rows, fmt, metadata=info), args.output)
    if args.confused_clips:
        fmt = Path(args.confused_clips).suffix.lower().lstrip(".")
        _emit(render_confusion_report(rows, fmt, metadata=info), args.confused_clips)


def _push(args: argparse.Namespace, result: Any, metadata: dict[str, Any]) -> None:
    try:
        from vggsounder_hf.hf.hub_results import push_results
    except ImportError as error:  # pragma: no cover - depends on the installation
        raise ScoreError(f"--push-results is not available: {error}") from None
    entry = {
        "results": dict(result.results),
        "label_version": metadata["label_version"],
        "clip_set": metadata["clip_set"],
    }
    push_results(
        args.push_results,
        [entry],
        label_version=metadata["label_version"],
        clip_set=metadata["clip_set"],
        dry_run=args.dry_run,
        stream=sys.stdout,
    )
    if not args.dry_run:
        print(
            f"{PROG}: wrote the results into the model card of {args.push_results}", file=sys.stderr
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``vggsounder-score``; returns the exit code (0 ok, 2 error)."""
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)

    def command() -> int:
        try:
            args = build_parser().parse_args(argv)  # usage errors raise ScoreError
        except SystemExit as stop:  # --help
            return int(stop.code or 0)
        return _run(args)

    return run_command(PROG, command, debug=debug)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
