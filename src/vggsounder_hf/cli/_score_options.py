"""Checks of ``vggsounder-score``'s options that need no file, made before anything is read.

Example:
    >>> import argparse
    >>> args = argparse.Namespace(bootstrap=100, confidence=0.9, seed=1)
    >>> evaluation_options(args)
    {'bootstrap': 100, 'confidence': 0.9, 'seed': 1}
"""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path
from typing import Any

__all__ = ["ScoreError", "check_ks", "check_options", "evaluation_options"]


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
    _check_bootstrap(args)
    return ks


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


def _check_bootstrap(args: argparse.Namespace) -> None:
    from vggsounder_hf.core.evaluation import evaluate_predictions

    if args.bootstrap and "bootstrap" not in inspect.signature(evaluate_predictions).parameters:
        raise ScoreError(
            "--bootstrap: this installation's evaluate_predictions has no bootstrap option yet"
        )


def evaluation_options(args: argparse.Namespace) -> dict[str, Any]:
    """Extra arguments of ``evaluate_predictions``: the bootstrap, only when asked for."""
    if not args.bootstrap:
        return {}
    return {"bootstrap": args.bootstrap, "confidence": args.confidence, "seed": args.seed}


def check_ks(ks: tuple[int, ...], truth: Any) -> None:
    if max(ks) > truth.num_classes:
        raise ScoreError(
            f"top-k must be at most {truth.num_classes} (the number of classes), got {max(ks)}"
        )
