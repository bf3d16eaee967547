"""``vggsounder-hub``: publish VGGSounder on the Hugging Face Hub.

Subcommands:

* ``export OUTPUT_DIR [--labels 1.0 0.1.6] [--push-to-hub REPO_ID]``: write the
  script-free dataset folder (Parquet per config + card), and optionally upload it.
* ``push-metric REPO_ID [--dry-run]``: upload the ``evaluate`` module as a Hub Space from
  which ``evaluate.load(REPO_ID, "labels")`` loads it (``--dry-run`` lists the files).
* ``push-results MODEL_REPO_ID RESULTS.json [--dry-run]``: write the results of
  ``vggsounder-score --format json`` into the model card's ``model-index``, merged with the
  results already there (``--dry-run`` prints the new card, without network). With
  ``--format eval-results`` the values go into ``.eval_results/vggsounder.yaml`` instead (the
  Hub's leaderboard format, in percent) and the card's ``datasets:`` list gains the dataset.
  ``--dataset-id`` defaults to the repository ``export --push-to-hub`` uploaded to last
  (recorded in ``$HF_HOME/vggsounder-hf/hub.json``, or ``$VGGSOUNDER_HF_STATE``).
  ``--labels`` names the label release of results that do not name theirs.

``--labels`` was spelled ``--versions`` (export) and ``--label-version`` (push-results)
before; the old spellings still work (not shown in ``--help``). ``--version``, also after a
subcommand, prints the program's version.

The Hub token comes from the ``HF_TOKEN`` environment variable or ``hf auth login``; it is
never taken from the command line and never printed. Errors print one line and exit with 2
(``--debug`` shows the traceback).

Example:
    $ vggsounder-hub export ./vggsounder-hub --push-to-hub my-org/vggsounder
    $ vggsounder-hub push-metric my-org/vggsounder --dry-run
    $ vggsounder-score ... --format json > results.json
    $ vggsounder-hub push-results my-org/my-model results.json --dry-run
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from vggsounder_hf.cli._errors import (
    InputError,
    OneLineParser,
    add_hidden_alias,
    add_version_option,
    class_names,
    one_line,
    quiet_libraries,
    reading_input,
    run_command,
)
from vggsounder_hf.core.schema import DEFAULT_CLIP_SET, DEFAULT_LABEL_RELEASE, LABEL_RELEASES

__all__ = ["build_parser", "load_results_file", "main"]

PROG = "vggsounder-hub"
RESULT_FORMATS = ("model-index", "eval-results")
"""``push-results --format``: the card's model-index, or the Hub's ``.eval_results`` file."""


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (exposed for documentation and tests)."""
    parser = OneLineParser(
        prog=PROG,
        description="Publish VGGSounder on the Hugging Face Hub: the dataset (Parquet + card), "
        "the evaluate metric module, and model results in model cards. The token comes from "
        "HF_TOKEN or `hf auth login`.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    add_version_option(parser, PROG)
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
    )
    add_version_option(debug, PROG)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    export = commands.add_parser(
        "export",
        parents=[debug],
        help="write the Hub dataset folder (Parquet + README.md), optionally upload it",
        description="Write a script-free Hub dataset folder: <config>/test-00000-of-00001.parquet "
        "per label release and README.md whose YAML declares configs and dataset_info.",
    )
    export.add_argument("output_dir", metavar="OUTPUT_DIR", help="folder to write (or replace)")
    labels = export.add_argument(
        "--labels",
        dest="versions",
        nargs="+",
        choices=LABEL_RELEASES,
        default=list(LABEL_RELEASES),
        help=f"label releases to export (default: {' '.join(LABEL_RELEASES)}; "
        f"{DEFAULT_LABEL_RELEASE} is the default config)",
    )
    add_hidden_alias(export, "--versions", labels)
    export.add_argument("--cache-dir", help="datasets cache folder")
    export.add_argument(
        "--data-path", help="folder with the release files, replacing the authors' files"
    )
    export.add_argument(
        "--push-to-hub", metavar="REPO_ID", help="upload the folder to this dataset repository"
    )
    export.add_argument(
        "--repo-id",
        help="dataset repository named in the card's examples (default: the --push-to-hub "
        "repository, else vggsounder-hf/vggsounder)",
    )
    export.add_argument(
        "--metric-id", help="metric module named in the card's examples (default: the repo id)"
    )
    export.add_argument("--private", action="store_true", help="create the repository as private")

    metric = commands.add_parser(
        "push-metric",
        parents=[debug],
        help="upload the evaluate module as a Hub Space",
        description="Upload metrics/vggsounder as the Space REPO_ID, laid out as "
        "evaluate.load(REPO_ID) expects: <name>.py, README.md, requirements.txt.",
    )
    metric.add_argument("repo_id", metavar="REPO_ID", help="the Space, owner/name")
    metric.add_argument(
        "--metric-dir",
        help="folder holding vggsounder.py, README.md and requirements.txt "
        "(default: metrics/vggsounder of this checkout)",
    )
    metric.add_argument("--private", action="store_true", help="create the Space as private")
    metric.add_argument("--dry-run", action="store_true", help="list the files, upload nothing")

    results = commands.add_parser(
        "push-results",
        parents=[debug],
        help="write VGGSounder results into a model card (model-index)",
        description="Merge the results of `vggsounder-score --format json` into the model-index "
        "of MODEL_REPO_ID's card; results for other datasets, configs and clip sets stay.",
    )
    results.add_argument("repo_id", metavar="MODEL_REPO_ID", help="the model repository")
    results.add_argument("results_file", metavar="RESULTS.json", help="vggsounder-score output")
    labels = results.add_argument(
        "--labels",
        dest="label_version",
        choices=LABEL_RELEASES,
        default=DEFAULT_LABEL_RELEASE,
        help="label release, for results that do not name theirs (default: %(default)s)",
    )
    add_hidden_alias(results, "--label-version", labels)
    results.add_argument(
        "--clip-set",
        default=DEFAULT_CLIP_SET,
        help="clip set, for results that do not name theirs (default: %(default)s)",
    )
    results.add_argument(
        "--model", help="which model of RESULTS.json to write, when it holds several"
    )
    results.add_argument("--k", type=int, help="keep only top-k results at this k (scores)")
    results.add_argument("--model-name", help="model-index name (default: the card's or repo's)")
    results.add_argument(
        "--format",
        choices=RESULT_FORMATS,
        default=RESULT_FORMATS[0],
        help="model-index: entries in the card's metadata; eval-results: "
        ".eval_results/vggsounder.yaml for the Hub leaderboard of the benchmark dataset, in "
        "percent (default: %(default)s)",
    )
    results.add_argument(
        "--dataset-id",
        help="the benchmark dataset's Hub id, written into the entries (and, for "
        "eval-results, the card's datasets: list; default: the repository `export "
        "--push-to-hub` uploaded to last, else vggsounder-hf/vggsounder)",
    )
    results.add_argument(
        "--dataset-revision",
        help="the dataset's Git revision for --format eval-results (default: the one "
        "recorded by `export --push-to-hub`, for the same dataset id)",
    )
    results.add_argument(
        "--source-url",
        help="--format eval-results: link shown as the values' source (default: the "
        "vggsounder-hf project)",
    )
    results.add_argument(
        "--card", help="merge into this local README.md instead of the Hub's (e.g. to preview)"
    )
    results.add_argument(
        "--dry-run", action="store_true", help="print the new card, upload nothing (no network)"
    )
    return parser


def load_results_file(path: str | os.PathLike[str]) -> Any:
    """Read a ``vggsounder-score --format json`` file: a result dict, a report, or a list.

    Strict JSON: ``NaN`` and ``Infinity`` (``vggsounder-score`` writes ``null`` for a value
    that is not a number) and an object with a repeated key are refused.

    Raises:
        ValueError: the file is missing, not UTF-8, not JSON, or not an object or a list
            (the message names it).
    """
    path = Path(path)
    with reading_input(path):
        if not path.is_file():
            problem = "not a file" if path.exists() else "no such file"
            raise InputError(f"{path}: {problem}")
        text = path.read_text(encoding="utf-8")
        try:
            data = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as error:
            raise InputError(f"{path}: not JSON (line {error.lineno}: {error.msg})") from None
    if not isinstance(data, dict | list):
        raise InputError(f"{path}: expected a JSON object or list, got {type(data).__name__}")
    return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a result value (write null for a missing value)")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"key {key!r} appears twice in one object")
        result[key] = value
    return result


_NETWORK_ERRORS = frozenset(
    {
        "builtins.ConnectionError",
        "builtins.TimeoutError",
        "socket.gaierror",
        "httpx.HTTPError",
        "httpx2.HTTPError",
        "requests.exceptions.RequestException",
    }
)


_CARD_ERROR = "vggsounder_hf.core.errors.ModelCardError"


@contextlib.contextmanager
def _hub_inputs(
    repo_id: str, card: str | None = None, results: str | None = None
) -> Iterator[None]:
    """Name the input an error is about: the repository (network errors), the card (its
    YAML), or the results file (a value that cannot be published)."""
    try:
        yield
    except Exception as error:
        names = class_names(error)
        named = [name for name in (repo_id, card, results) if name and name in str(error)]
        if results is not None and isinstance(error, ValueError) and not named:
            raise InputError(f"{results}: {one_line(error)}") from error
        if card is not None and "yaml.error.YAMLError" in names:
            problem = f"the YAML metadata does not parse ({one_line(error)})"
            raise InputError(f"{card}: {problem}") from error
        if card is not None and _CARD_ERROR in names and card not in str(error):
            raise InputError(f"{card}: {one_line(error)}") from error
        if "huggingface_hub.errors.HfHubHTTPError" not in names and names & _NETWORK_ERRORS:
            raise InputError(
                f"{repo_id}: cannot reach the Hugging Face Hub ({type(error).__name__}: "
                f"{one_line(error)})"
            ) from error
        raise


def _export(args: argparse.Namespace) -> int:
    from vggsounder_hf.hf.hub_export import DEFAULT_REPO_ID, export_dataset

    repo_id = args.repo_id or args.push_to_hub or DEFAULT_REPO_ID
    folder = export_dataset(
        args.output_dir,
        versions=args.versions,
        cache_dir=args.cache_dir,
        data_path=args.data_path,
        repo_id=repo_id,
        metric_id=args.metric_id or repo_id,
    )
    print(f"wrote {folder} (configs {', '.join(args.versions)})")
    if args.push_to_hub:
        from vggsounder_hf.hf.hub_push import push_dataset

        with _hub_inputs(args.push_to_hub):
            info = push_dataset(folder, args.push_to_hub, private=args.private or None)
        url = getattr(info, "commit_url", None) or args.push_to_hub
        print(f"uploaded to the dataset repository {args.push_to_hub}: {url}")
        from vggsounder_hf.hf.eval_results import record_export

        revision = getattr(info, "oid", None)
        record_export(args.push_to_hub, revision, folder, args.versions)
    return 0


def _push_metric(args: argparse.Namespace) -> int:
    from vggsounder_hf.hf.hub_push import push_metric

    with _hub_inputs(args.repo_id):
        names = push_metric(
            args.repo_id,
            metric_dir=args.metric_dir,
            private=args.private or None,
            dry_run=args.dry_run,
        )
    if not args.dry_run:
        print(f"uploaded {', '.join(names)} to the Space {args.repo_id}")
    return 0


def _push_results(args: argparse.Namespace) -> int:
    from vggsounder_hf.hf.hub_results import push_results

    results = load_results_file(args.results_file)
    loader = None
    if args.card:
        with reading_input(args.card):
            text = Path(args.card).read_text(encoding="utf-8")

        def loader(repo_id: str, token: str | None) -> str:
            return text

    dataset_id, revision = _dataset(args)
    if args.format == "eval-results":
        from vggsounder_hf.hf.hub_export import DEFAULT_REPO_ID

        dataset_id = dataset_id or DEFAULT_REPO_ID
        card = args.card or f"the model card of {args.repo_id}"
        with _hub_inputs(args.repo_id, card, args.results_file):
            _push_eval_results(args, results, loader, dataset_id, revision)
        if not args.dry_run:
            print(f"updated the eval results of {args.repo_id} (dataset {dataset_id})")
        return 0
    dataset = {} if dataset_id is None else {"dataset_type": dataset_id}
    card = args.card or f"the model card of {args.repo_id}"
    with _hub_inputs(args.repo_id, card, args.results_file):
        push_results(
            args.repo_id,
            results,
            label_version=args.label_version,
            clip_set=args.clip_set,
            model_name=args.model_name,
            k=args.k,
            model=args.model,
            dry_run=args.dry_run,
            card_loader=loader,
            **dataset,
        )
    if not args.dry_run:
        print(f"updated the model card of {args.repo_id}")
    return 0


def _dataset(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The benchmark dataset's Hub id and revision: as given, else as `export` recorded
    (``None``: nothing recorded, the writer's default)."""
    from vggsounder_hf.hf.eval_results import recorded_export

    recorded = recorded_export() or {}
    dataset_id = args.dataset_id or recorded.get("dataset_id")
    same = dataset_id is not None and recorded.get("dataset_id") == dataset_id
    return dataset_id, args.dataset_revision or (recorded.get("revision") if same else None)


def _push_eval_results(
    args: argparse.Namespace, results: Any, loader: Any, dataset_id: str, revision: str | None
) -> None:
    from vggsounder_hf import __version__
    from vggsounder_hf.core.errors import ResultsError
    from vggsounder_hf.hf.eval_results import push_eval_results, results_to_entries
    from vggsounder_hf.hf.hub_results import result_sets

    sets = result_sets(
        results,
        label_version=args.label_version,
        clip_set=args.clip_set,
        k=args.k,
        model=args.model,
    )
    source = {"source_url": args.source_url} if args.source_url else {}
    entries = []
    for flat, version, clips, k in sets:
        entries += results_to_entries(
            flat,
            dataset_id=dataset_id,
            label_version=version,
            clip_set=clips,
            k=k,
            revision=revision,
            source_name=f"vggsounder-hf {__version__}",
            **source,
        )
    by_task: dict[tuple[str, str], Any] = {}
    for entry in entries:
        seen = by_task.setdefault((entry.dataset_id, entry.task_id), entry)
        if seen.value != entry.value:
            raise ResultsError(
                f"the results give task {entry.task_id} more than one value (several k or "
                "models); choose one with --k or --model"
            )
    push_eval_results(
        args.repo_id, list(by_task.values()), dry_run=args.dry_run, card_loader=loader
    )


_COMMANDS = {"export": _export, "push-metric": _push_metric, "push-results": _push_results}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``vggsounder-hub``; returns the exit code (0 ok, 2 error, 130 Ctrl-C)."""
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)

    def command() -> int:
        args = build_parser().parse_args(argv)
        if not args.debug:
            quiet_libraries()
        return _COMMANDS[args.command](args)

    return run_command(PROG, command, debug=debug)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
