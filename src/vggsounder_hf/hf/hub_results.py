"""Write VGGSounder results into a model card's ``model-index`` (Hub evaluation results).

Each metric value of a result dict of
:func:`vggsounder_hf.core.evaluation.evaluate_predictions` (keys like ``"av/f1"``,
``"a/f1@1"``, ``"mu/a"``) becomes one ``huggingface_hub.EvalResult``; how a result key maps
to an entry, through the metric registry, is :mod:`vggsounder_hf.hf.model_index`
(:func:`results_to_eval_results`, :func:`card_results`, re-exported here).

:func:`merge_model_card` keeps every result already in the card and replaces only entries
for the same (dataset, config, split, metric); :func:`push_results` loads the card from the
Hub, merges and pushes it (or prints it, for a dry run). :func:`read_results_file` and
:func:`read_card_file` read the local files of ``vggsounder-hub push-results``.

Every problem is one error naming the repository or the file: a
:class:`~vggsounder_hf.core.errors.ResultsError` for values that cannot be published (NaN,
infinity, a rate outside ``[0, 1]``, an unknown key) or a results file that is not UTF-8
JSON, a :class:`~vggsounder_hf.core.errors.ModelCardError` for a card whose metadata does not
parse, a :class:`~vggsounder_hf.core.errors.HubError` (an ``OSError``) when the Hub cannot be
reached or refuses.

Example:
    >>> results = {"av/f1": 0.5, "av/num_clips": 10}
    >>> [r.metric_name for r in results_to_eval_results(results, label_version="1.0",
    ...                                                   clip_set="default")]
    ['F1 (av)']
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from vggsounder_hf.core.errors import ModelCardError, OptionError, ResultsError
from vggsounder_hf.core.schema import DEFAULT_CLIP_SET, DEFAULT_LABEL_RELEASE
from vggsounder_hf.hf.hub_push import hub_request
from vggsounder_hf.hf.model_index import (
    DATASET_NAME,
    DATASET_TYPE,
    TASK_NAME,
    TASK_TYPE,
    card_results,
    dataset_id,
    parse_card,
    results_to_eval_results,
)

__all__ = [
    "DATASET_NAME",
    "DATASET_TYPE",
    "TASK_NAME",
    "TASK_TYPE",
    "card_results",
    "load_card_text",
    "merge_model_card",
    "push_results",
    "read_card_file",
    "read_results_file",
    "result_key",
    "result_sets",
    "results_to_eval_results",
    "upload_card",
]

COMMIT_MESSAGE = "Add VGGSounder evaluation results"

CardLoader = Callable[[str, str | None], str | None]
Uploader = Callable[[ModelCard, str, str | None], Any]


def result_key(result: EvalResult) -> tuple:
    """What makes two entries "the same result": dataset, config, split and metric.

    The metric is its type, config and arguments (column, clip set, average, k), so a result
    pushed again replaces the earlier value and results of other clip sets stay. The dataset
    id of earlier versions (``vggsounder``) is the same dataset as the Hub id.
    """
    args = json.dumps(result.metric_args, sort_keys=True) if result.metric_args else None
    return (
        dataset_id(result.dataset_type),
        result.dataset_config,
        result.dataset_split,
        result.metric_type,
        result.metric_config,
        args,
    )


def _new_card_text(model_name: str) -> str:
    return (
        "---\n\n---\n\n"
        f"# {model_name}\n\n"
        "## Evaluation\n\n"
        "Results on [VGGSounder](https://vggsounder.github.io/) (ICCV 2025), the multi-label, "
        "modality-aware re-annotation of the VGGSound test set, are recorded in this card's "
        "metadata (`model-index`). They were computed with the `vggsounder-hf` package "
        "(`vggsounder-score`), whose numbers equal those of the authors' reference "
        "implementation.\n"
    )


def merge_model_card(
    existing: str | None,
    eval_results: Sequence[EvalResult],
    model_name: str | None = None,
    *,
    fallback_name: str = "model",
    source: str = "the existing card",
) -> ModelCard:
    """Merge ``eval_results`` into a model card's ``model-index``; return the new card.

    Entries already in the card stay, in their order, except those with the same
    :func:`result_key` as a new entry: these take the new value in place. New entries
    follow. The card's ``datasets:`` list gains the entries' dataset id when it is a Hub id
    (``owner/name``). Other metadata and the card's text are kept as they are.

    Args:
        existing: the card's current text (``README.md``), or ``None`` for a new card.
        eval_results: the entries to write.
        model_name: the model-index ``name``; ``None`` keeps the card's name, if any, else
            uses ``fallback_name``.
        source: how an error message names the existing card.

    Raises:
        ModelCardError: the existing card's metadata cannot be parsed.

    Example:
        >>> card = merge_model_card(None, results_to_eval_results(
        ...     {"av/f1": 0.5}, label_version="1.0"), "my-model")
        >>> card.data.eval_results[0].metric_value
        0.5
    """
    name = model_name or fallback_name
    card = parse_card(existing if existing is not None else _new_card_text(name), source)
    data: ModelCardData = card.data
    current = list(data.eval_results or [])
    new_by_key = {result_key(result): result for result in eval_results}
    merged: list[EvalResult] = []
    used: set[tuple] = set()
    for result in current:
        key = result_key(result)
        if key in new_by_key:
            if key not in used:
                merged.append(new_by_key[key])
                used.add(key)
            continue  # replaced (a duplicate of a replaced entry is dropped)
        merged.append(result)
    merged += [result for key, result in new_by_key.items() if key not in used]
    data.eval_results = merged
    data.model_name = model_name or data.model_name or fallback_name
    hub_ids = [str(r.dataset_type) for r in eval_results if "/" in str(r.dataset_type or "")]
    if hub_ids:  # a Hub dataset id: the card's `datasets:` list links the dataset page
        data.datasets = list(dict.fromkeys([*(data.datasets or []), *hub_ids]))
    return card


def load_card_text(repo_id: str, token: str | None = None) -> str | None:
    """The model card of ``repo_id`` on the Hub, or ``None`` when the repo has no README.md.

    Any other failure (no such repository, no access, offline) raises a
    :class:`~vggsounder_hf.core.errors.HubError`, and a card that is not UTF-8 or whose
    metadata does not parse a :class:`~vggsounder_hf.core.errors.ModelCardError`: pushing
    then would overwrite a card that could not be read.
    """
    import yaml
    from huggingface_hub.errors import RemoteEntryNotFoundError

    try:
        with hub_request(repo_id, "reading the model card of"):
            try:
                return ModelCard.load(repo_id, repo_type="model", token=token).content
            except RemoteEntryNotFoundError:
                return None
    except UnicodeDecodeError as error:
        raise ModelCardError(
            f"{repo_id}: README.md is not UTF-8 text (byte {error.start})"
        ) from None
    except (yaml.YAMLError, ValueError) as error:
        raise ModelCardError(
            f"{repo_id}: the model card cannot be read ({' '.join(str(error).split())})"
        ) from None


def upload_card(card: ModelCard, repo_id: str, token: str | None = None) -> Any:
    """Push ``card`` as the README.md of the model repository ``repo_id`` (the real upload).

    Raises:
        HubError: The Hub could not be reached or refused the upload.
    """
    with hub_request(repo_id, "uploading the model card of"):
        return card.push_to_hub(
            repo_id, token=token, repo_type="model", commit_message=COMMIT_MESSAGE
        )


def read_results_file(path: str | os.PathLike[str]) -> Any:
    """Read a ``vggsounder-score --format json`` file: a result dict, a report, or a list.

    ``null`` is read as ``None`` (a value left out); ``NaN`` and ``Infinity`` are read as
    such and refused when the results are converted.

    Raises:
        ResultsError: The file is not UTF-8, not JSON, repeats a key in an object, nests too
            deeply, or is not an object or a list (the message names the file).
        OSError: The file cannot be read.
    """
    text = _read_text(Path(path), ResultsError)
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        raise ResultsError(f"{path}: not JSON (line {error.lineno}: {error.msg})") from None
    except RecursionError:
        raise ResultsError(f"{path}: JSON nested too deeply") from None
    except _DuplicateKey as duplicate:
        raise ResultsError(
            f"{path}: key {duplicate.args[0]!r} appears twice in an object"
        ) from None
    if not isinstance(data, dict | list):
        raise ResultsError(f"{path}: expected a JSON object or list, got {type(data).__name__}")
    return data


def read_card_file(path: str | os.PathLike[str]) -> str:
    """The text of a local model card (``push-results --card``).

    Raises:
        ModelCardError: The file is not UTF-8 text (the message names it).
        OSError: The file cannot be read.
    """
    return _read_text(Path(path), ModelCardError)


class _DuplicateKey(Exception):
    """A key given twice in one JSON object (raised inside ``json.loads``)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        raise _DuplicateKey(next(key for key, _ in pairs if key in seen or seen.add(key)))
    return result


def _read_text(path: Path, error: type[ValueError]) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        raise error(f"{path}: not UTF-8 text (byte {problem.start})") from None


def _clip_set_name(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def result_sets(
    results: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    label_version: str = DEFAULT_LABEL_RELEASE,
    clip_set: str = DEFAULT_CLIP_SET,
    k: int | None = None,
    model: str | None = None,
) -> list[tuple[Mapping[str, Any], str, str, int | None]]:
    """Split ``results`` into ``(flat results, label version, clip set, k)`` sets.

    Accepted forms (and lists of them):

    * a flat result dict of :func:`~vggsounder_hf.core.evaluation.evaluate_predictions`;
    * ``{"results": {...}, "label_version": ..., "clip_set": ..., "k": ...}`` (the optional
      ``label_version`` and ``clip_set`` override the arguments; the ``k`` argument, when
      given, overrides the set's own ``k``);
    * the JSON report of ``vggsounder-score --format json`` (:mod:`vggsounder_hf.reports.tables`):
      ``{"metadata": {"label_version", "clip_set", ...}, "rows": [{"model", "k",
      "results"}, ...]}``. ``model`` picks the rows of one model; it is required when the
      report holds several models.

    Raises:
        ResultsError: no results, an entry that is not a mapping, or an ambiguous/unknown
            ``model`` (the message lists the report's models).
    """
    items = [results] if isinstance(results, Mapping) else list(results)
    sets: list[tuple[Mapping[str, Any], str, str, int | None]] = []
    for item in items:
        if not isinstance(item, Mapping):
            raise ResultsError(f"a result set must be a mapping, got {type(item).__name__}")
        if isinstance(item.get("rows"), list) and isinstance(item.get("metadata"), Mapping):
            info = item["metadata"]
            version = str(info.get("label_version", label_version))
            clips = _clip_set_name(info.get("clip_set", clip_set))
            rows = _report_rows(item["rows"], model)
            sets += [(row["results"], version, clips, _pick_k(k, row.get("k"))) for row in rows]
        elif isinstance(item.get("results"), Mapping):
            sets.append(
                (
                    item["results"],
                    str(item.get("label_version", label_version)),
                    _clip_set_name(item.get("clip_set", clip_set)),
                    _pick_k(k, item.get("k")),
                )
            )
        else:
            sets.append((item, label_version, clip_set, k))
    if not sets:
        raise ResultsError("no results to write")
    return sets


def _pick_k(argument: int | None, own: Any) -> int | None:
    """The ``k`` argument, when given, wins over a result set's own ``k``."""
    if argument is not None:
        return argument
    if own is None or (isinstance(own, int) and not isinstance(own, bool)):
        return own
    raise ResultsError(f"k must be an integer, got {own!r}")


def _report_rows(rows: Sequence[Any], model: str | None) -> list[Mapping[str, Any]]:
    """The rows of one model in a ``vggsounder-score`` JSON report."""
    valid = [r for r in rows if isinstance(r, Mapping) and isinstance(r.get("results"), Mapping)]
    if len(valid) != len(rows):
        raise ResultsError("report rows must be objects with a 'results' object")
    names = list(dict.fromkeys(str(r.get("model", r.get("name"))) for r in valid))
    if model is None:
        if len(names) > 1:
            raise ResultsError(
                f"the report holds {len(names)} models ({', '.join(names)}); choose one "
                "(--model NAME)"
            )
        return valid
    chosen = [r for r in valid if str(r.get("model", r.get("name"))) == model]
    if not chosen:
        raise ResultsError(f"model {model!r} is not in the report (it has {', '.join(names)})")
    return chosen


def push_results(
    repo_id: str,
    results: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    label_version: str = DEFAULT_LABEL_RELEASE,
    clip_set: str = DEFAULT_CLIP_SET,
    model_name: str | None = None,
    k: int | None = None,
    dataset_type: str = DATASET_TYPE,
    model: str | None = None,
    dry_run: bool = False,
    token: str | None = None,
    card_loader: CardLoader | None = None,
    uploader: Uploader | None = None,
    stream: TextIO | None = None,
) -> ModelCard:
    """Write VGGSounder results into the model card of ``repo_id``; return the new card.

    The card is read with ``card_loader`` (default: :func:`load_card_text` from the Hub),
    merged (:func:`merge_model_card`) and pushed with ``uploader`` (default:
    :func:`upload_card`). With ``dry_run`` nothing is uploaded and the new card is printed to
    ``stream`` (default stdout); without an explicit ``card_loader`` a dry run reads no
    card either (no network): it shows the card that a repository without one would get.

    The token is passed through to ``huggingface_hub`` (``None``: the ``HF_TOKEN``
    environment variable or the stored login) and never printed.

    Args:
        repo_id: model repository, ``"user/model"``.
        results: a flat result dict, a mapping ``{"results": {...}, "label_version": ...,
            "clip_set": ..., "k": ...}``, a ``vggsounder-score --format json`` report, or a
            list of these (see :func:`result_sets`).
        label_version, clip_set, k: defaults for result sets that do not say.
        model: the report's model to write, when a report holds several.
        model_name: model-index name (default: the card's, else the repository name).
        dataset_type: dataset id written into each entry.

    Example:
        >>> card = push_results("me/model", {"av/f1": 0.5}, dry_run=True)  # doctest: +SKIP
    """
    if not isinstance(repo_id, str) or repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise OptionError(f"model repository id must look like 'user/model', got {repo_id!r}")
    eval_results: list[EvalResult] = []
    sets = result_sets(results, label_version=label_version, clip_set=clip_set, k=k, model=model)
    for flat, version, clips, top_k in sets:
        eval_results += results_to_eval_results(
            flat,
            label_version=version,
            clip_set=clips,
            k=top_k,
            dataset_type=dataset_type,
        )
    if not eval_results:
        raise ResultsError("the results hold no metric value to write")

    if card_loader is not None:
        existing = card_loader(repo_id, token)
    elif dry_run:
        existing = None
    else:
        existing = load_card_text(repo_id, token)
    card = merge_model_card(
        existing,
        eval_results,
        model_name,
        fallback_name=repo_id.split("/")[1],
        source=f"cannot update the model card of {repo_id}",
    )

    if dry_run:
        print(str(card), file=stream or sys.stdout)
        return card
    (uploader or upload_card)(card, repo_id, token)
    return card
