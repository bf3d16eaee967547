"""``vggsounder-stats``: build the VGGSounder dataset(s) and print their statistics.

Example:
    $ vggsounder-stats                      # both label releases, as a table
    $ vggsounder-stats --labels 1.0 --json
    $ vggsounder-stats --data-path ./my-labels --cache-dir /tmp/hf-cache
    $ vggsounder-stats --version            # the program's version

``--labels`` was spelled ``--label-version`` and ``--version RELEASE`` before; both spellings
still work (not shown in ``--help``): ``--version`` with a value chooses a label release,
without one it prints the version.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any

from vggsounder_hf.cli._errors import (
    OneLineParser,
    add_hidden_alias,
    package_version,
    quiet_libraries,
    reading_input,
    run_command,
    write_stdout,
)
from vggsounder_hf.core.schema import LABEL_RELEASES, META_LABELS, MODALITY_NAMES

__all__ = ["build_parser", "format_table", "main"]

PROG = "vggsounder-stats"


class _VersionOrLabels(argparse.Action):
    """``--version``: alone, print the program's version and exit; with a value (its old
    meaning, now ``--labels``), add that label release."""

    def __init__(self, option_strings: Sequence[str], dest: str, version: str, **kwargs: Any):
        super().__init__(option_strings, dest, nargs="?", **kwargs)
        self.version = version

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        if values is None:
            write_stdout(self.version + "\n")
            parser.exit()
        if values not in LABEL_RELEASES:
            raise argparse.ArgumentError(
                self,
                f"invalid choice: {values!r} (choose from {', '.join(map(repr, LABEL_RELEASES))})",
            )
        setattr(namespace, self.dest, [*(getattr(namespace, self.dest, None) or []), values])


class _Parser(OneLineParser):
    """Shows ``--version`` as the flag it is: its value, the old spelling of ``--labels``,
    stays out of ``--help``."""

    def format_usage(self) -> str:
        with self._version_as_flag():
            return super().format_usage()

    def format_help(self) -> str:
        with self._version_as_flag():
            return super().format_help()

    @contextlib.contextmanager
    def _version_as_flag(self) -> Iterator[None]:
        actions = [action for action in self._actions if isinstance(action, _VersionOrLabels)]
        for action in actions:
            action.nargs = 0
        try:
            yield
        finally:
            for action in actions:
                action.nargs = "?"


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (exposed for documentation and tests)."""
    parser = _Parser(
        prog=PROG,
        description="Build the VGGSounder label release(s) as Hugging Face datasets and print "
        "their statistics: clips, labels, labels per modality, clips per meta label.",
    )
    labels = parser.add_argument(
        "--labels",
        dest="versions",
        action="append",
        choices=LABEL_RELEASES,
        help="label release to summarise; repeat for several (default: all: "
        f"{', '.join(LABEL_RELEASES)})",
    )
    add_hidden_alias(parser, "--label-version", labels)
    parser.add_argument(
        "--version",
        action=_VersionOrLabels,
        dest="versions",
        default=argparse.SUPPRESS,
        version=f"{PROG} {package_version()}",
        help="print the program's version and exit",
    )
    parser.add_argument(
        "--cache-dir", help="datasets cache folder (default: the Hugging Face datasets cache)"
    )
    parser.add_argument(
        "--data-path",
        help="directory with the release files, or one annotation CSV (with one --labels); "
        "replaces the authors' files, without checksum verification",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    return parser


def _collect(versions: Sequence[str], cache_dir: str | None, data_path: str | None) -> dict:
    import datasets

    from vggsounder_hf.hf.builder import VGGSounderBuilder
    from vggsounder_hf.reports.stats import release_stats

    results: dict[str, dict[str, Any]] = {}
    for version in versions:
        kwargs = {} if data_path is None else {"data_path": data_path}
        builder = VGGSounderBuilder(config_name=version, cache_dir=cache_dir, **kwargs)
        builder.download_and_prepare()
        dataset = builder.as_dataset(split="test")
        if not isinstance(dataset, datasets.Dataset):  # pragma: no cover - defensive
            raise TypeError(f"expected a Dataset, got {type(dataset).__name__}")
        entry = release_stats(dataset, version).as_dict()
        files = builder.release_files
        entry["source"] = files.source
        entry["annotations_file"] = str(files.annotations)
        results[version] = entry
    return results


_MODALITY_WORDS = {"A": "audible only", "V": "visible only", "AV": "both"}


def _rows() -> list[tuple[str, Callable[[dict[str, Any]], Any]]]:
    """(row title, value of a release's statistics), in table order."""

    def per_modality(name: str) -> Callable[[dict[str, Any]], Any]:
        return lambda stats: stats["labels_per_modality"][name]

    def per_meta_label(name: str) -> Callable[[dict[str, Any]], Any]:
        return lambda stats: stats["clips_per_meta_label"][name]

    return [
        ("clips", itemgetter("clips")),
        ("labels (clip, label pairs)", itemgetter("labels")),
        *(
            (f"  modality {name} ({_MODALITY_WORDS[name]})", per_modality(name))
            for name in MODALITY_NAMES
        ),
        *((f"clips with {name}", per_meta_label(name)) for name in META_LABELS),
        ("clips with no meta label", itemgetter("clips_without_meta_labels")),
        ("mean labels per clip", itemgetter("mean_labels_per_clip")),
        ("source", itemgetter("source")),
    ]


def format_table(results: dict[str, dict[str, Any]]) -> str:
    """A plain-text table, one column per label release.

    Example:
        >>> from vggsounder_hf.io.sources import load_release
        >>> from vggsounder_hf.reports.stats import release_stats
        >>> stats = {**release_stats(load_release("1.0")).as_dict(), "source": "wheel"}
        >>> for line in format_table({"1.0": stats}).splitlines()[:3]:
        ...     print(line)
        VGGSounder labels               1.0
        clips                        15,069
        labels (clip, label pairs)   37,395
    """

    def cell(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return str(value)
        return f"{value:,}" if isinstance(value, int) else f"{value:.3f}"

    header = ["VGGSounder labels", *results]
    body = [[name, *(cell(get(stats)) for stats in results.values())] for name, get in _rows()]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = []
    for row in [header, *body]:
        first = row[0].ljust(widths[0])
        rest = (value.rjust(width) for value, width in zip(row[1:], widths[1:], strict=True))
        lines.append("  ".join([first, *rest]).rstrip())
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``vggsounder-stats``; returns the exit code (0 ok, 2 error, 130 Ctrl-C)."""
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    return run_command(
        PROG, lambda: _print_statistics(build_parser().parse_args(argv)), debug=debug
    )


def _print_statistics(args: argparse.Namespace) -> int:
    versions = list(dict.fromkeys(args.versions or LABEL_RELEASES))
    if args.data_path and Path(args.data_path).is_file() and len(versions) != 1:
        raise ValueError(
            f"--data-path {args.data_path} is a single annotation file: "
            "choose the label release it belongs to with exactly one --labels"
        )
    if not args.debug:
        quiet_libraries()
    with reading_input(args.data_path) if args.data_path else contextlib.nullcontext():
        results = _collect(versions, args.cache_dir, args.data_path)
    write_stdout((json.dumps(results, indent=2) if args.json else format_table(results)) + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
