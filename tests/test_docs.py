"""Every example in the documentation runs as written and prints what the documentation shows.

A small collector of the project's own reads the fenced blocks of each documented file:

* ```` ```python ```` blocks run in document order, in one namespace per file; a block with
  ``>>>`` prompts runs as a doctest (``ELLIPSIS``; ``NORMALIZE_WHITESPACE``, so that a long
  result may wrap), others with ``exec``;
* ```` ```console ```` / ```` ```bash ```` lines ``$ vggsounder-...`` run in-process through
  the commands' ``main()``; the lines that follow a command up to the next ``$`` are its
  expected stdout; a Markdown block between ``<!-- output -->`` and ``<!-- /output -->``
  right after the code block is the expected stdout of its last command;
* ``<!-- skip: REASON -->`` right before a block skips it with that reason (the network, a
  GPU, a synopsis with placeholder arguments).

Each file runs in its own temporary folder next to a link ``../shared`` to the shared data,
so that the docs' ``../shared/data/...`` paths hold; the folder also holds ``model.pkl`` and
``mine.pkl`` (the released Gemini 1.5 Pro predictions, also under their own name
``gemini-1.5-pro.pkl``) and ``vggsound_test_labels.csv``, the names the docs use for "your
file".
"""

from __future__ import annotations

import contextlib
import dataclasses
import doctest
import glob
import io
import re
import shlex
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCUMENTED = (
    "README.md",
    "docs/api.md",
    "docs/cli.md",
    "docs/dataset.md",
    "docs/hub.md",
    "docs/errors.md",
    "docs/trainer.md",
    "docs/evaluate.md",
    "src/vggsounder_hf/hf/metric/vggsounder/README.md",
    "src/vggsounder_hf/hf/templates/dataset_card.md.tmpl",
)
XFAIL: dict[str, str] = {}
"""Files whose examples may fail for now, in one place."""
CARD_VALUES = {"repo_id": "./vggsounder-hub", "default_version": "1.0"}
"""The dataset card's placeholders in its code, as a local export fills them."""

_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w-]*)\s*$")
_SKIP = re.compile(r"^\s*<!--\s*skip:\s*(?P<reason>.+?)\s*-->\s*$")


@dataclasses.dataclass
class Block:
    path: str
    line: int
    lang: str
    code: str
    skip: str | None = None
    output: str | None = None


def blocks_of(path: str) -> list[Block]:
    """The runnable blocks of a documented file, in order."""
    lines = (REPO / path).read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    skip, number = None, 0
    while number < len(lines):
        match = _FENCE.match(lines[number])
        skip_match = _SKIP.match(lines[number])
        if skip_match:
            skip = skip_match["reason"]
        elif match and match["lang"]:
            end = next(i for i in range(number + 1, len(lines)) if lines[i].strip() == "```")
            indent = len(match["indent"])
            code = "\n".join(line[indent:] for line in lines[number + 1 : end]) + "\n"
            if match["lang"] in ("python", "console", "bash"):
                block = Block(path, number + 1, match["lang"], code, skip)
                block.output = _output_after(lines, end + 1)
                found.append(block)
            skip, number = None, end
        elif lines[number].strip():
            skip = None
        number += 1
    return found


def _output_after(lines: list[str], start: int) -> str | None:
    rest = [line for line in lines[start : start + 3] if line.strip()]
    if not rest or rest[0].strip() != "<!-- output -->":
        return None
    first = lines.index(rest[0], start) + 1
    last = lines.index("<!-- /output -->", first)
    return "\n".join(line for line in lines[first:last] if line.strip()) + "\n"


def _items() -> list:
    params = []
    for path in DOCUMENTED:
        if not (REPO / path).is_file():
            params.append(pytest.param(path, None, id=path, marks=pytest.mark.skip("missing")))
            continue
        marks = [pytest.mark.xfail(reason=XFAIL[path], strict=False)] if path in XFAIL else []
        for index, block in enumerate(blocks_of(path)):
            params.append(pytest.param(path, index, id=f"{path}:{block.line}", marks=marks))
    return params


class _Sandbox:
    """The folder and namespace of one documented file, shared by its blocks."""

    def __init__(self, root: Path, shared: Path, path: str) -> None:
        self.cwd = root / path.replace("/", "_")
        self.cwd.mkdir()
        (root / "shared").exists() or (root / "shared").symlink_to(shared.parent)
        model = shared / "model-predictions" / "gemini-1.5-pro.pkl"
        for name in ("model.pkl", "mine.pkl", model.name):
            (self.cwd / name).symlink_to(model)
        labels = shared / "vggsound" / "vggsound_test_labels.csv"
        (self.cwd / "vggsound_test_labels.csv").symlink_to(labels)
        self.namespace: dict = {"__name__": "__doc_example__"}
        self.done = -1


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory, shared_data):
    root = tmp_path_factory.mktemp("docs")
    return lambda path: _Sandbox(root, shared_data, path)


_STATE: dict[str, _Sandbox] = {}


@pytest.mark.parametrize(("path", "index"), _items())
def test_documented_example_runs_and_prints_what_it_shows(path, index, sandboxes, monkeypatch):
    blocks = blocks_of(path)
    box = _STATE.get(path)
    if box is None or box.done >= index:  # the first block run, or a re-run: start afresh
        box = _STATE[path] = sandboxes(f"{path}-{len(_STATE)}-{index}")
    monkeypatch.chdir(box.cwd)
    for earlier in blocks[box.done + 1 : index]:  # when run alone (-k), run what comes first
        if earlier.skip is None:
            _run(earlier, box)
    box.done = index
    block = blocks[index]
    if block.skip is not None:
        pytest.skip(f"{path}:{block.line}: {block.skip}")
    _run(block, box)


def _run(block: Block, box: _Sandbox) -> None:
    where = f"{block.path}:{block.line}"
    code = block.code
    if block.path.endswith(".tmpl"):
        for name, value in CARD_VALUES.items():
            code = code.replace("${" + name + "}", value)
        if "${" in code:
            pytest.skip(f"{where}: filled in by hub_export (tested in test_dataset_card.py)")
    if block.lang == "python":
        _run_python(code, where, box.namespace)
    else:
        _run_console(code, where, block.output)


def _run_python(code: str, where: str, namespace: dict) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if ">>>" not in code:
            exec(compile(code, where, "exec"), namespace)
            return
        test = doctest.DocTestParser().get_doctest(code, namespace, where, where, 0)
        flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        runner = doctest.DocTestRunner(optionflags=flags, verbose=False)
        report = io.StringIO()
        runner.run(test, out=report.write, clear_globs=False)
    assert runner.failures == 0, f"{where}:\n{report.getvalue()}"


def _commands(code: str) -> list[tuple[str, str]]:
    """``(command, expected output)`` of the ``$ vggsounder-`` lines of a console block."""
    commands: list[tuple[str, list[str]]] = []
    for line in code.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
    return [
        (command, "\n".join(output).strip("\n"))
        for command, output in commands
        if command.startswith("vggsounder-")
    ]


def _main(program: str):
    from vggsounder_hf.cli import hub, score, stats

    mains = {"vggsounder-score": score.main, "vggsounder-hub": hub.main}
    mains["vggsounder-stats"] = stats.main
    return mains[program]


def _run_console(code: str, where: str, output_block: str | None) -> None:
    commands = _commands(code)
    for number, (command, expected) in enumerate(commands):
        words = shlex.split(command, comments=True)
        redirect = None
        if ">" in words:
            redirect = words[words.index(">") + 1]
            words = words[: words.index(">")]
        argv = [item for word in words[1:] for item in (sorted(glob.glob(word)) or [word])]
        stdout, stderr = io.StringIO(), io.StringIO()
        with (
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            code_returned = _main(words[0])(argv)
        assert code_returned in (0, None), (
            f"{where}: `{command}` exited with {code_returned}:\n{stderr.getvalue()}"
        )
        if redirect:
            Path(redirect).write_text(stdout.getvalue(), encoding="utf-8")
        if number == len(commands) - 1 and output_block is not None:
            expected = output_block
        _check_output(where, command, expected, stdout.getvalue())


def _check_output(where: str, command: str, expected: str, got: str) -> None:
    """Blank lines and trailing spaces aside, stdout is what the doc shows (``...`` matches
    anything, as in doctests)."""
    if not expected.strip():
        return
    want, have = (
        "\n".join(line.rstrip() for line in text.splitlines() if line.strip()) + "\n"
        for text in (expected, got)
    )
    checker = doctest.OutputChecker()
    assert checker.check_output(want, have, doctest.ELLIPSIS), (
        f"{where}: `{command}` printed\n{have}\nbut the doc shows\n{want}"
    )


def test_the_collector_finds_the_examples_of_every_file():
    counts = {path: len(blocks_of(path)) for path in DOCUMENTED if (REPO / path).is_file()}
    assert counts["README.md"] >= 5 and counts["docs/cli.md"] >= 3, counts
    assert all(path in counts for path in DOCUMENTED if path not in XFAIL), counts
