"""Distributed training and evaluation (issue 14, item 7): the Trainer example under
``torchrun --nproc_per_node 2`` on CPU (gloo) reports the metrics that one process reports
for the same trained weights; it prints from rank 0 only and does not evaluate the untrained
model (which would keep DDP from wrapping it)."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "train_trainer_example.py"
OPTIONS = ["--steps=16", "--max-clips=300", "--seed=2"]


def _load_script():
    spec = importlib.util.spec_from_file_location("train_trainer_example_ddp", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    """The example run by torchrun in two CPU processes: its stdout, metrics and weights."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    folder = tmp_path_factory.mktemp("ddp")
    files = {"metrics": folder / "metrics.json", "model": folder / "model.pt"}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",  # a free port: other runs on the machine do not collide
        "--nproc_per_node=2",
        str(SCRIPT),
        *OPTIONS,
        f"--cache-dir={folder / 'cache'}",
        f"--output-dir={folder / 'run'}",
        f"--metrics-json={files['metrics']}",
        f"--save-model={files['model']}",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_DATASETS_OFFLINE": "1"}
    env.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    seconds = time.perf_counter() - started
    assert finished.returncode == 0, finished.stderr[-4000:]
    return finished.stdout, json.loads(files["metrics"].read_text()), files, folder, seconds


def test_two_processes_report_the_metrics_of_one_process_on_the_same_weights(ddp_run):
    import torch

    _, saved, files, folder, seconds = ddp_run
    assert seconds < 60, f"the distributed run took {seconds:.0f} s"
    script = _load_script()
    args = script.parse_args([*OPTIONS, f"--cache-dir={folder / 'cache'}"])
    trainer, eval_split = script.build(args, str(folder / "single"))
    trainer.model.load_state_dict(torch.load(files["model"]))
    single = trainer.evaluate()
    names = [f"eval_{name}" for name in trainer.compute_metrics.metric_names]
    assert len(names) == 28 and set(names) <= set(saved["trained"])
    for name in names:
        assert saved["trained"][name] == single[name], name
    # eval_loss is not compared: with fewer evaluation rows than processes x batch size,
    # accelerate fills each process's batch with repeated rows, and the loss averages them
    # (the logits are gathered without the repeats, so the metrics above are exact).
    assert math.isfinite(saved["trained"]["eval_loss"]) and saved["trained"]["eval_loss"] > 0
    assert trainer.compute_metrics.num_rows == len(eval_split) == 100


def test_rank_0_prints_once_and_the_untrained_model_is_not_evaluated(ddp_run):
    stdout, saved, *_ = ddp_run
    assert saved["untrained"] is None
    assert stdout.count("eval_av/hit@1") == 1
    assert "in 2 processes" in stdout
    header = next(line for line in stdout.splitlines() if line.startswith("metric"))
    assert header.split() == ["metric", "trained"]
