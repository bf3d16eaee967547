"""Checks of ``vggsounder-score``'s options that need no file, made before anything is read.

Example:
    >>> import argparse
    >>> args = argparse.Namespace(bootstrap=100, confidence=0.9, seed=1)
    >>> evaluation_options(args)
    {'bootstrap': 100, 'confidence': 0.9, 'seed': 1}
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from vggsounder_hf.cli._errors import add_hidden_alias
from vggsounder_hf.core.schema import (
    DEFAULT_CLIP_SET,
    DEFAULT_LABEL_RELEASE,
    DEFAULT_PROTOCOL,
    LABEL_SOURCES,
    PROTOCOLS,
    VGGSOUND_LABELS,
    protocol,
)

__all__ = [
    "LabelsAction",
    "ScoreError",
    "add_labels_option",
    "add_paper_options",
    "add_threshold_options",
    "alignment_options",
    "check_ks",
    "check_options",
    "check_protocol",
    "evaluation_options",
]


class ScoreError(ValueError):
    """A problem to report in one line (bad option, unreadable input, ...)."""


_OUTPUT_OPTIONS = ("output", "meta_report", "confused_clips", "radar")


def check_options(args: argparse.Namespace) -> tuple[int, ...]:
    """Check the options that need no file; return the distinct top-k values."""
    if not args.predictions and not args.baseline:
        raise ScoreError("no prediction file given (and no --baseline)")
    if args.k is not None and args.ks is not None:
        raise ScoreError("use either --k or --ks, not both")
    ks = tuple(dict.fromkeys(args.ks)) if args.ks else (args.k or 1,)
    _check_threshold(args)
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
    except ValueError as error:
        raise ScoreError(str(error)) from None
    _check_paths(args)
    check_protocol(args, ks)
    return ks


def add_threshold_options(parser: argparse.ArgumentParser) -> None:
    """``--threshold`` and ``--sigmoid``: score models read as label sets."""
    parser.add_argument(
        "--threshold",
        type=float,
        metavar="T",
        help="score models: predict every class scored above T instead of the top-k (their "
        "label-set metrics then have no @k); label-set files are scored as they are",
    )
    parser.add_argument(
        "--sigmoid",
        action="store_true",
        help="with --threshold: compare sigmoid(score) with T (logits as probabilities, as "
        "torchmetrics does)",
    )


def alignment_options(args: argparse.Namespace, ks: tuple[int, ...]) -> dict[str, Any]:
    """The arguments of ``align`` for every model of the run."""
    return {
        "ks": ks,
        "tie_break": args.tie_break,
        "mu_ground_truth": protocol(args.protocol).mu_ground_truth,
        "threshold": getattr(args, "threshold", None),
        "sigmoid": getattr(args, "sigmoid", False),
        "threads": getattr(args, "threads", None),
    }


def _check_threshold(args: argparse.Namespace) -> None:
    """``--threshold`` (with ``--sigmoid``) instead of ``--k``/``--ks`` for score models."""
    from vggsounder_hf.core.ranking import checked_threshold

    threshold, sigmoid = getattr(args, "threshold", None), getattr(args, "sigmoid", False)
    if threshold is not None and (args.k is not None or args.ks is not None):
        raise ScoreError("--threshold and --k/--ks are alternatives for score models; pick one")
    if sigmoid and threshold is None:
        raise ScoreError("--sigmoid applies the logistic before --threshold; add --threshold")
    try:
        checked_threshold(threshold, sigmoid)
    except ValueError as error:
        raise ScoreError(f"--threshold: {error}") from None


def add_paper_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``vggsounder-score`` that reproduce the paper."""
    parser.add_argument(
        "--protocol",
        choices=tuple(PROTOCOLS),
        default=DEFAULT_PROTOCOL,
        help="reference (default): the authors' code; paper: the printed Tables 2 and 3 "
        "(labels 0.1.6 unless --labels, μ over the clips' AV labels, Table 3 as full minus "
        "without)",
    )
    parser.add_argument(
        "--with-published",
        action="store_true",
        help="with --protocol paper: print Tables 2 and 3 of the paper, the published rows "
        "(marked, with the citation) and yours (--format markdown, latex, table or json)",
    )
    parser.add_argument(
        "--compare-vggsound",
        action="store_true",
        help="with --radar: draw the paper's Figure 4 instead, VGGSounder hit vs accuracy on "
        "VGGSound's labels per input, and print its numbers",
    )
    parser.add_argument(
        "--vggsound-labels",
        metavar="PATH",
        help="VGGSound's labels for --compare-vggsound (file or folder; default: the VGGSound "
        "project's vggsound.csv, checked by content)",
    )


class LabelsAction(argparse.Action):
    """Store ``--labels`` and note that it was given (a protocol's release is only a default)."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        setattr(namespace, self.dest, values)
        namespace.labels_given = True


def add_labels_option(parser: argparse.ArgumentParser) -> None:
    """``--labels``: the label release (or VGGSound's labels). Its old spelling
    ``--label-version`` still works, not shown in ``--help``."""
    defaults = ", ".join(f"{p.label_release} for {p.name}" for p in PROTOCOLS.values())
    labels = parser.add_argument(
        "--labels",
        dest="label_version",
        action=LabelsAction,
        choices=LABEL_SOURCES,
        default=DEFAULT_LABEL_RELEASE,
        help="label release, or vggsound: VGGSound's own single labels (default: the "
        f"protocol's, {defaults})",
    )
    add_hidden_alias(parser, "--label-version", labels)


def check_protocol(args: argparse.Namespace, ks: tuple[int, ...]) -> None:
    """Apply ``--protocol`` (its label release unless ``--labels`` names one) and check the
    options that reproduce the paper: ``--with-published``, ``--compare-vggsound`` and
    ``--labels vggsound``."""
    chosen = protocol(args.protocol)
    if not getattr(args, "labels_given", False):
        args.label_version = chosen.label_release
    if args.push_results and args.protocol != DEFAULT_PROTOCOL:
        raise ScoreError(
            f"--push-results records results on protocol {DEFAULT_PROTOCOL!r} (a model card "
            f"does not name a protocol); drop --protocol {args.protocol}"
        )
    if args.with_published:
        _check_with_published(args, ks)
    if args.vggsound_labels and not args.compare_vggsound:
        raise ScoreError("--vggsound-labels gives the labels of --compare-vggsound; add it")
    if args.compare_vggsound:
        _check_compare_vggsound(args)
    if args.label_version == VGGSOUND_LABELS:
        _check_vggsound_labels(args)


def _check_with_published(args: argparse.Namespace, ks: tuple[int, ...]) -> None:
    published = protocol("paper")
    if args.protocol != published.name:
        raise ScoreError(
            "--with-published: the published numbers are computed on the paper's protocol "
            f"(labels {published.label_release}, μ over the clips' AV labels, Table 3 as full "
            f"minus without), so your rows must be too; add --protocol {published.name}"
        )
    wrong = [
        (args.label_version != published.label_release, f"--labels {args.label_version}"),
        (args.clip_set != DEFAULT_CLIP_SET, f"--clip-set {args.clip_set}"),
        (ks != (1,), "--k/--ks other than 1 (the paper reports top-1)"),
        (getattr(args, "threshold", None) is not None, "--threshold (the paper reports top-1)"),
        (args.report != "main", f"--report {args.report} (both tables are printed)"),
        (bool(args.metrics or args.columns), "--metrics/--columns (the paper's layout is fixed)"),
        (args.format == "csv", "--format csv (use markdown, latex, table or json)"),
    ]
    for is_wrong, option in wrong:
        if is_wrong:
            raise ScoreError(f"--with-published prints the paper's tables; drop {option}")


def _check_compare_vggsound(args: argparse.Namespace) -> None:
    if not args.radar:
        raise ScoreError("--compare-vggsound draws Figure 4 into the --radar FILE; add --radar")
    if getattr(args, "radar_metric", "hit") != "hit":
        raise ScoreError("--compare-vggsound: Figure 4 compares hit rates; drop --radar-metric")
    if args.label_version == VGGSOUND_LABELS:
        raise ScoreError(
            "--compare-vggsound sets a VGGSounder release against VGGSound's labels; drop "
            "--labels vggsound"
        )
    on_stdout = args.format or ("csv" if args.report == "confusion" else "table")
    if args.output is None and on_stdout in ("csv", "json"):
        raise ScoreError(
            f"--compare-vggsound prints its numbers to stdout, after the report; write the "
            f"{on_stdout} report to a file with --output"
        )


def _check_vggsound_labels(args: argparse.Namespace) -> None:
    from vggsounder_hf.io.vggsound import VGGSOUND_COLUMNS
    from vggsounder_hf.reports.tables import parse_columns

    if args.report == "meta" or args.meta_report:
        raise ScoreError(
            "--labels vggsound: VGGSound's labels have no meta labels, there is no meta-label "
            "table; choose a VGGSounder release"
        )
    if args.radar:
        raise ScoreError(
            "--labels vggsound: the radar plot's a only and v only axes have no clip on "
            "VGGSound's labels; for the paper's Figure 4 use --compare-vggsound with a "
            "VGGSounder release"
        )
    chosen = parse_columns(args.columns) if args.columns else VGGSOUND_COLUMNS
    empty = [name for name in chosen if name not in VGGSOUND_COLUMNS]
    if empty:
        raise ScoreError(
            f"--labels vggsound: every VGGSound label is AV, no clip is in column "
            f"{', '.join(empty)}; choose from {', '.join(VGGSOUND_COLUMNS)}"
        )
    args.columns = [",".join(chosen)]


def _check_paths(args: argparse.Namespace) -> None:
    seen: dict[Path, str] = {}
    for option in _OUTPUT_OPTIONS:
        path = getattr(args, option)
        if path is None:
            continue
        flag = "--" + option.replace("_", "-")
        folder = Path(path).parent
        if not folder.is_dir():
            raise ScoreError(f"{path}: folder {folder} does not exist ({flag})")
        resolved = Path(path).resolve()
        if resolved in seen:
            raise ScoreError(f"{path}: {seen[resolved]} and {flag} name the same file")
        seen[resolved] = flag
    if args.confused_clips and Path(args.confused_clips).suffix.lower() not in (".csv", ".json"):
        raise ScoreError(
            f"{args.confused_clips}: the confused-clips file must end in .csv or .json"
        )
    if args.radar and Path(args.radar).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise ScoreError(f"{args.radar}: the radar plot file must end in .png, .svg or .pdf")


def evaluation_options(args: argparse.Namespace) -> dict[str, Any]:
    """Extra arguments of ``evaluate_predictions``: the bootstrap, only when asked for, a
    protocol other than the default, and ``threads`` when given."""
    options: dict[str, Any] = {}
    if getattr(args, "protocol", DEFAULT_PROTOCOL) != DEFAULT_PROTOCOL:
        options["protocol"] = args.protocol
    if args.bootstrap:
        options.update(bootstrap=args.bootstrap, confidence=args.confidence, seed=args.seed)
    if getattr(args, "threads", None) is not None:
        options["threads"] = args.threads
    return options


def check_ks(ks: tuple[int, ...], truth: Any) -> None:
    if max(ks) > truth.num_classes:
        raise ScoreError(
            f"top-k must be at most {truth.num_classes} (the number of classes), got {max(ks)}"
        )
