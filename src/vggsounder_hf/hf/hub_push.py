"""Upload to the Hugging Face Hub: the dataset folder and the metric as an ``evaluate`` module.

:func:`push_folder` is the one function that uploads (``HfApi.create_repo`` with
``exist_ok=True``, then ``HfApi.upload_folder``). The token comes from the ``token`` argument,
else from ``huggingface_hub`` itself (the ``HF_TOKEN`` environment variable or the stored
``hf auth login``); it is never printed or logged here.

What ``evaluate.load("<owner>/<name>")`` expects (``evaluate`` 0.4.6,
``evaluate/loading.py``: ``evaluation_module_factory`` -> ``HubEvaluationModuleFactory``): a
**Space** ``<owner>/<name>`` whose root holds the module file **``<name>.py``**, downloaded
from ``{HF_ENDPOINT}/spaces/<owner>/<name>/resolve/<revision>/<name>.py``. The revision is
first ``v<evaluate version>`` (``v0.4.6``); when that tag does not exist, ``main``. Relative
imports in the module (``from .helpers import x``) are downloaded from the same folder;
absolute imports must be installed, otherwise ``evaluate`` stops with an ``ImportError`` that
lists them (the import scanner reads one module per ``import`` line). The module class is the
one ``evaluate.EvaluationModule`` subclass in the file. :func:`metric_module_files` therefore
writes::

    <name>.py           the module (vggsounder_hf/hf/metric/vggsounder/vggsounder.py, renamed)
    README.md           the metric card, with the Space's YAML (sdk static, tags evaluate/metric)
    requirements.txt    the module's requirements, including this project (vggsounder-hf)
    index.html          the page of the static Space (the module needs no running app)

Other files of the source folder (e.g. a Gradio ``app.py``) are not uploaded: a static Space
has nothing to build or run, so it cannot fail on the Hub, and ``evaluate.load`` never reads
them.

Every failure of the Hub or the network (``huggingface_hub``'s HTTP errors, ``httpx``
connection errors and timeouts, offline mode, a missing token) becomes one
:class:`~vggsounder_hf.core.errors.HubError` (an ``OSError``) that names the repository
and what was being done (:func:`hub_request`); the token is never part of it.

Example:
    >>> from vggsounder_hf.hf.hub_push import push_metric
    >>> push_metric("me/vggsounder", dry_run=True)  # doctest: +SKIP
    ['README.md', 'index.html', 'requirements.txt', 'vggsounder.py']
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from vggsounder_hf.core.errors import HubError, OptionError

__all__ = [
    "METRIC_SPACE_SDK",
    "default_metric_dir",
    "hub_request",
    "metric_module_files",
    "push_dataset",
    "push_folder",
    "push_metric",
]

METRIC_SPACE_SDK = "static"
"""Spaces need an SDK; the module file is all ``evaluate.load`` reads, so a static page does."""
PROJECT_DISTRIBUTION = "vggsounder-hf"
_PROJECT_REQUIREMENT = re.compile(r"vggsounder[-_.]hf", re.IGNORECASE)
_REPO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _network_errors() -> tuple[type[BaseException], ...]:
    """The exception types of a failed Hub request: ``huggingface_hub``'s (``OSError``
    subclasses) and those of its HTTP client (``httpx``, or ``httpx2`` in newer releases)."""
    found: list[type[BaseException]] = [OSError]
    for module in ("httpx2", "httpx"):
        with contextlib.suppress(ImportError):
            found.append(__import__(module).HTTPError)
    return tuple(found)


@contextlib.contextmanager
def hub_request(repo_id: str, action: str) -> Iterator[None]:
    """Turn a failed Hub request into one :class:`~vggsounder_hf.core.errors.HubError`.

    Args:
        repo_id: The repository, named in the message.
        action: What was being done, e.g. ``"uploading the model card of"``.

    Example:
        >>> with hub_request("me/model", "reading the model card of"):
        ...     raise ConnectionError("[Errno 111] Connection refused")
        Traceback (most recent call last):
        vggsounder_hf.core.errors.HubError: [Errno 111] Connection refused (reading the model card of me/model on the Hugging Face Hub)
    """  # noqa: E501
    try:
        yield
    except HubError:
        raise
    except _network_errors() as error:
        detail = " ".join(str(error).split()) or type(error).__name__
        raise HubError(repo_id, f"{detail} ({action} {repo_id} on the Hugging Face Hub)") from error


def push_folder(
    folder: str | os.PathLike[str],
    repo_id: str,
    repo_type: str,
    *,
    token: str | None = None,
    private: bool | None = None,
    commit_message: str = "Upload VGGSounder",
    space_sdk: str | None = None,
    delete_patterns: Sequence[str] | None = None,
) -> Any:
    """Create ``repo_id`` if needed and upload every file of ``folder`` to its root.

    Args:
        folder: local folder to upload.
        repo_id: ``"owner/name"``.
        repo_type: ``"dataset"``, ``"space"`` or ``"model"``.
        token: Hub token; ``None`` lets ``huggingface_hub`` find one (``HF_TOKEN``, login).
        private: visibility of a newly created repository (``None``: the Hub's default).
        commit_message: message of the upload commit.
        space_sdk: SDK of a newly created Space.
        delete_patterns: remote files matching these patterns and absent from ``folder``
            are deleted in the same commit (stale shards).

    Returns:
        ``huggingface_hub.CommitInfo`` of the upload.

    Raises:
        HubError: The Hub could not be reached or refused (names the repository).
    """
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    with hub_request(repo_id, f"creating the {repo_type} repository"):
        api.create_repo(
            repo_id, repo_type=repo_type, exist_ok=True, private=private, space_sdk=space_sdk
        )
    with hub_request(repo_id, f"uploading {folder} to the {repo_type} repository"):
        return api.upload_folder(
            repo_id=repo_id,
            folder_path=str(folder),
            repo_type=repo_type,
            commit_message=commit_message,
            delete_patterns=list(delete_patterns) if delete_patterns else None,
        )


def push_dataset(
    folder: str | os.PathLike[str],
    repo_id: str,
    *,
    token: str | None = None,
    private: bool | None = None,
) -> Any:
    """Upload an exported dataset folder (:func:`vggsounder_hf.hf.hub_export.export_dataset`).

    Parquet files of the exported configs that the folder no longer has are deleted from
    the repository in the same commit, so ``<config>/test-*`` never matches a stale shard.
    """
    folder = Path(folder)
    if not (folder / "README.md").is_file():
        raise FileNotFoundError(f"{folder} has no README.md: not an exported dataset folder")
    configs = sorted(entry.name for entry in folder.iterdir() if entry.is_dir())
    return push_folder(
        folder,
        repo_id,
        "dataset",
        token=token,
        private=private,
        commit_message="Upload VGGSounder labels (Parquet) and dataset card",
        delete_patterns=[f"{config}/*.parquet" for config in configs],
    )


def default_metric_dir() -> Path:
    """The ``evaluate`` module's folder inside the installed package
    (:data:`vggsounder_hf.METRIC_PATH`): ``push-metric`` works from a wheel as from a
    checkout (whose ``metrics/vggsounder`` links to the same files).

    Raises:
        FileNotFoundError: the package's metric folder lacks ``vggsounder.py`` (a broken
            installation).
    """
    from vggsounder_hf.hf.metric import METRIC_NAME, METRIC_PATH

    folder = Path(METRIC_PATH)
    if not (folder / f"{METRIC_NAME}.py").is_file():
        raise FileNotFoundError(
            f"metric module folder {folder} has no {METRIC_NAME}.py (a broken installation); "
            "pass the folder holding vggsounder.py (--metric-dir)"
        )
    return folder


def _repo_name(repo_id: str) -> str:
    owner, _, name = str(repo_id).partition("/")
    if not owner or "/" in name or not _REPO_NAME.fullmatch(name):
        raise OptionError(f"repository id must look like 'owner/name', got {repo_id!r}")
    return name


def _space_card(text: str, title: str) -> str:
    """The metric card with the Space metadata ``evaluate`` modules carry."""
    from huggingface_hub import SpaceCard

    card = SpaceCard(text if text.lstrip().startswith("---") else "---\n\n---\n" + text)
    data = card.data
    data.title = data.title or title
    data.sdk = METRIC_SPACE_SDK
    data.app_file = "index.html"
    data.sdk_version = None
    data.python_version = None
    data.pinned = data.get("pinned", False)
    data.tags = list(dict.fromkeys([*(data.tags or []), "evaluate", "metric"]))
    return str(card)


def _index_html(repo_id: str, title: str) -> str:
    safe_id, safe_title = html.escape(repo_id), html.escape(title)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{safe_title}</title></head>\n<body>\n<h1>{safe_title}</h1>\n"
        "<p>An <code>evaluate</code> metric module. See the README for its inputs and "
        "outputs.</p>\n"
        f'<pre><code>import evaluate\nmetric = evaluate.load("{safe_id}", "labels")\n'
        "results = metric.compute(predictions=predictions, references=references)"
        "</code></pre>\n</body>\n</html>\n"
    )


def metric_module_files(
    output_dir: str | os.PathLike[str],
    repo_id: str,
    metric_dir: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """Write the Space folder from which ``evaluate.load(repo_id)`` loads the metric.

    Args:
        output_dir: folder to write into (created; existing files of the same names are
            overwritten).
        repo_id: the Space, ``"owner/name"``; the module file becomes ``<name>.py``.
        metric_dir: the module's source folder, holding ``<folder name>.py``, ``README.md``
            and ``requirements.txt`` (default: :func:`default_metric_dir`).

    Returns:
        The written files, sorted.

    Raises:
        FileNotFoundError: a source file (or a relatively imported one) is missing.
        ValueError: a bad repository id, or requirements that do not name this project.
    """
    from evaluate.loading import get_imports

    name = _repo_name(repo_id)
    source = Path(metric_dir) if metric_dir is not None else default_metric_dir()
    module = source / f"{source.name}.py"
    for path in (module, source / "README.md", source / "requirements.txt"):
        if not path.is_file():
            raise FileNotFoundError(f"metric module folder {source} has no {path.name}")
    requirements = (source / "requirements.txt").read_text(encoding="utf-8")
    if not _PROJECT_REQUIREMENT.search(requirements):
        raise ValueError(
            f"{source / 'requirements.txt'} does not list {PROJECT_DISTRIBUTION}, which the "
            "module imports; add it"
        )

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / f"{name}.py", out / "README.md", out / "requirements.txt", out / "index.html"]
    shutil.copyfile(module, written[0])
    for kind, import_name, import_path, _ in get_imports(str(module)):
        if kind == "external":
            raise ValueError(f"{module}: external import {import_name!r} is not supported here")
        if kind == "internal":
            helper = source / f"{import_path}.py"
            if not helper.is_file():
                raise FileNotFoundError(f"{module} imports .{import_name}, but {helper} is missing")
            shutil.copyfile(helper, out / helper.name)
            written.append(out / helper.name)
    title = "VGGSounder"
    readme = (source / "README.md").read_text(encoding="utf-8")
    written[1].write_text(_space_card(readme, title), encoding="utf-8")
    written[2].write_text(requirements, encoding="utf-8")
    written[3].write_text(_index_html(repo_id, title), encoding="utf-8")
    return sorted(written)


def push_metric(
    repo_id: str,
    *,
    metric_dir: str | os.PathLike[str] | None = None,
    token: str | None = None,
    private: bool | None = None,
    dry_run: bool = False,
    stream: TextIO | None = None,
) -> list[str]:
    """Assemble the metric's Space folder (in a temporary folder) and upload it.

    With ``dry_run`` nothing is uploaded: the files are listed on ``stream`` (default
    stdout). Returns the file names, relative to the Space's root.

    Example:
        >>> push_metric("me/vggsounder")  # doctest: +SKIP
        ['README.md', 'index.html', 'requirements.txt', 'vggsounder.py']
    """
    with tempfile.TemporaryDirectory(prefix="vggsounder-metric-") as temporary:
        folder = Path(temporary) / _repo_name(repo_id)
        files = metric_module_files(folder, repo_id, metric_dir)
        names = [path.relative_to(folder).as_posix() for path in files]
        if dry_run:
            out = stream or sys.stdout
            print(f"would upload to the Space {repo_id} (sdk {METRIC_SPACE_SDK}):", file=out)
            for path, relative in zip(files, names, strict=True):
                print(f"  {relative}  ({path.stat().st_size:,} bytes)", file=out)
            source = Path(metric_dir) if metric_dir is not None else default_metric_dir()
            shipped = {f"{source.name}.py", *names}
            left = sorted(p.name for p in source.iterdir() if p.is_file() and p.name not in shipped)
            if left:
                print(f"not uploaded (not needed by evaluate.load): {', '.join(left)}", file=out)
            return names
        push_folder(
            folder,
            repo_id,
            "space",
            token=token,
            private=private,
            commit_message="Upload the VGGSounder evaluate module",
            space_sdk=METRIC_SPACE_SDK,
        )
    return names
