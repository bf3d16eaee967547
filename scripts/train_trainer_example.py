"""Fine-tune a tiny audio-visual classifier with ``Trainer`` and print its VGGSounder metrics.

The clips and labels are VGGSounder's (``load_vggsounder``); the *features* are synthetic:
a clip's audio features are its audible labels (modality A or AV) projected through a fixed
random matrix plus noise, its video features likewise from its visible labels (V or AV).
So the audio branch can learn audible classes only, the video branch visible ones, and the
metrics (including modality confusion μ) move the way they would for a real model. The
model answers for three inputs, audio only (``a``), video only (``v``) and both (``av``),
as logits of shape ``(N, 3, 309)``; ``make_compute_metrics(eval_split, "all")`` scores
them. It trains for a few steps on CPU (well under a minute on two cores) and prints
``trainer.evaluate()`` before and after training. No network access (``report_to="none"``).

The clips are split at random (``--seed``) into training and evaluation clips; evaluation
uses the project's default clip set (clips without background music).

Distributed: under ``torchrun --nproc_per_node 2`` (CPU: the gloo backend) every process
trains on its share of each batch (DDP) and evaluates its share of the evaluation rows;
``Trainer`` gathers the logits in row order, so the metrics equal one process's on the same
model. Then only rank 0 prints and writes files, and the untrained model is not evaluated:
``trainer.evaluate()`` before ``train()`` would prepare the model for evaluation and keep
``train()`` from wrapping it in ``DistributedDataParallel``.

Usage:
    python scripts/train_trainer_example.py [--steps 200] [--max-clips 3000] [--seed 0]
        [--input-modality all|a|v|av] [--batch-eval-metrics] [--output-dir DIR]
        [--cache-dir DIR] [--metrics-json FILE] [--save-model FILE]
    torchrun --nproc_per_node 2 scripts/train_trainer_example.py [same options]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import PrinterCallback, Trainer, TrainingArguments
from transformers.utils import logging as transformers_logging

from vggsounder_hf.hf.loading import load_vggsounder
from vggsounder_hf.hf.trainer import make_compute_metrics, with_multi_hot_labels

FEATURE_DIM = 64
HIDDEN_DIM = 128
NOISE = 0.6
INPUTS = ("a", "v", "av")
AUDIBLE = (0, 2)  # modality indices A, AV
VISIBLE = (1, 2)  # modality indices V, AV


class TinyAudioVisualClassifier(torch.nn.Module):
    """Two linear encoders (audio, video), one shared multi-label head.

    ``forward`` returns ``{"loss", "logits"}``; logits are ``(N, 309)`` for one input
    modality or ``(N, M, 309)`` for several, in the order given. The loss is
    ``BCEWithLogitsLoss`` of every input's logits against the float multi-hot ``labels``.
    """

    def __init__(self, num_classes: int, input_modalities: tuple[str, ...]) -> None:
        super().__init__()
        self.input_modalities = input_modalities
        self.audio = torch.nn.Linear(FEATURE_DIM, HIDDEN_DIM)
        self.video = torch.nn.Linear(FEATURE_DIM, HIDDEN_DIM)
        self.head = torch.nn.Linear(HIDDEN_DIM, num_classes)

    def forward(
        self,
        audio_features: torch.Tensor,
        video_features: torch.Tensor,
        labels: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        hidden = {"a": self.audio(audio_features), "v": self.video(video_features)}
        hidden["av"] = hidden["a"] + hidden["v"]
        per_input = [self.head(torch.relu(hidden[m])) for m in self.input_modalities]
        logits = per_input[0] if len(per_input) == 1 else torch.stack(per_input, dim=1)
        outputs = {"logits": logits}
        if labels is not None:
            targets = labels if logits.ndim == 2 else labels[:, None, :].expand_as(logits)
            outputs["loss"] = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets)
        return outputs


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="training steps (default 200)")
    parser.add_argument(
        "--max-clips", type=int, default=3000, help="clips used, 2/3 train, 1/3 eval (3000)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of split, features, model")
    parser.add_argument(
        "--input-modality",
        default="all",
        choices=("all", *INPUTS),
        help="inputs the model answers for (default all: a, v and av, which gives μ)",
    )
    parser.add_argument(
        "--batch-eval-metrics",
        action="store_true",
        help="TrainingArguments(batch_eval_metrics=True): metrics accumulate per batch",
    )
    parser.add_argument("--output-dir", help="Trainer output folder (default: a temp folder)")
    parser.add_argument("--cache-dir", help="datasets cache folder (default: the HF cache)")
    parser.add_argument("--version", default="1.0", help="label release (default 1.0)")
    parser.add_argument("--metrics-json", help="also write both evaluations to this JSON file")
    parser.add_argument("--save-model", help="also save the trained weights (a state dict) here")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    if args.max_clips < 30:
        parser.error("--max-clips must be at least 30")
    return args


def _clip_features(video_id: str, modalities: list[int], labels: list[int], seed: int, proj):
    """Audio and video features of one clip; the noise depends on the clip and seed only."""
    rng = np.random.default_rng([seed, zlib.crc32(video_id.encode())])
    audible = [label for label, m in zip(labels, modalities, strict=True) if m in AUDIBLE]
    visible = [label for label, m in zip(labels, modalities, strict=True) if m in VISIBLE]
    audio = proj["a"][audible].sum(axis=0) + NOISE * rng.standard_normal(FEATURE_DIM)
    video = proj["v"][visible].sum(axis=0) + NOISE * rng.standard_normal(FEATURE_DIM)
    return audio.astype(np.float32), video.astype(np.float32)


def add_synthetic_features(dataset: Any, num_classes: int, seed: int) -> Any:
    """``dataset`` with ``audio_features`` and ``video_features`` (float32, 64 each)."""
    projection_rng = np.random.default_rng([seed, 1])
    proj = {m: projection_rng.standard_normal((num_classes, FEATURE_DIM)) for m in ("a", "v")}

    def features(batch: dict[str, list]) -> dict[str, np.ndarray]:
        pairs = [
            _clip_features(video_id, modalities, labels, seed, proj)
            for video_id, modalities, labels in zip(
                batch["video_id"], batch["modalities"], batch["labels"], strict=True
            )
        ]
        return {
            "audio_features": np.stack([audio for audio, _ in pairs]),
            "video_features": np.stack([video for _, video in pairs]),
        }

    return dataset.map(features, batched=True, desc="synthetic features")


def build(args: argparse.Namespace, output_dir: str) -> tuple[Trainer, Any]:
    """The Trainer (untrained model) and the raw evaluation split it evaluates."""
    release = load_vggsounder(args.version, cache_dir=args.cache_dir)
    num_classes = release.features["labels"].feature.num_classes
    order = np.random.default_rng(args.seed).permutation(release.num_rows)
    chosen = order[: min(args.max_clips, release.num_rows)]
    num_eval = len(chosen) // 3
    eval_split = release.select(np.sort(chosen[:num_eval]))
    train_split = release.select(np.sort(chosen[num_eval:]))

    # compute_metrics is built from the split as loaded (labels are class indices there);
    # the datasets given to Trainer get multi-hot float labels and the model's inputs.
    input_modality = INPUTS if args.input_modality == "all" else args.input_modality
    compute_metrics = make_compute_metrics(eval_split, input_modality)
    model_columns = ["audio_features", "video_features", "labels"]
    train_dataset, eval_dataset = (
        with_multi_hot_labels(add_synthetic_features(split, num_classes, args.seed))
        .select_columns(model_columns)
        .with_format("torch")
        for split in (train_split, eval_split)
    )

    torch.manual_seed(args.seed)
    modalities = INPUTS if args.input_modality == "all" else (args.input_modality,)
    model = TinyAudioVisualClassifier(num_classes, modalities)
    training_args = TrainingArguments(
        output_dir=output_dir,
        max_steps=args.steps,
        per_device_train_batch_size=64,
        per_device_eval_batch_size=256,
        learning_rate=1e-2,
        warmup_steps=0,
        weight_decay=0.0,
        eval_strategy="no",
        save_strategy="no",
        logging_strategy="no",
        report_to="none",
        use_cpu=True,
        seed=args.seed,
        dataloader_num_workers=0,
        disable_tqdm=True,
        batch_eval_metrics=args.batch_eval_metrics,
        # With one input, the other encoder gets no gradient: DDP must be told.
        ddp_find_unused_parameters=args.input_modality in ("a", "v"),
    )
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        compute_metrics=compute_metrics,
    )
    trainer.remove_callback(PrinterCallback)  # the table below shows the metrics once
    return trainer, eval_split


def print_table(names: list[str], before: dict | None, after: dict[str, float]) -> None:
    """One line per metric: name (as trainer.evaluate() returns it), untrained, trained."""
    width = max(len(name) for name in names)
    if before is None:  # distributed: no evaluation before training
        print(f"{'metric':<{width}}  {'trained':>10}")
        for name in names:
            print(f"{name:<{width}}  {after[name]:>10.4f}")
        return
    print(f"{'metric':<{width}}  {'untrained':>10}  {'trained':>10}")
    for name in names:
        print(f"{name:<{width}}  {before[name]:>10.4f}  {after[name]:>10.4f}")


def write_json(path: str, content: dict) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=target.parent, prefix=f".{target.name}.", delete=False, encoding="utf-8"
    ) as stream:
        json.dump(content, stream, indent=2)
        temporary = stream.name
    os.replace(temporary, target)


def distributed() -> bool:
    """Whether this process is one of several (``torchrun``, ``accelerate launch``)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def run(args: argparse.Namespace, output_dir: str) -> dict[str, dict[str, float] | None]:
    started = time.perf_counter()
    trainer, eval_split = build(args, output_dir)
    # Evaluating before train() would keep DDP from wrapping the model (see the docstring).
    before = None if distributed() else trainer.evaluate()
    train_output = trainer.train()
    after = trainer.evaluate()
    seconds = time.perf_counter() - started
    if not trainer.is_world_process_zero():
        return {"untrained": before, "trained": after}
    if args.save_model:
        Path(args.save_model).parent.mkdir(parents=True, exist_ok=True)
        torch.save(trainer.model.state_dict(), args.save_model)
    compute_metrics = trainer.compute_metrics
    processes = f" in {trainer.args.world_size} processes" if distributed() else ""
    print(
        f"{args.steps} steps on {len(trainer.train_dataset)} training clips{processes}; "
        f"evaluation clips: {len(eval_split)}, of which {compute_metrics.num_scored} in clip "
        f"set 'default' (no background music) are scored; train loss "
        f"{train_output.training_loss:.4f}; {seconds:.1f} s"
    )
    names = ["eval_loss", *(f"eval_{name}" for name in compute_metrics.metric_names)]
    print_table(names, before, after)
    return {"untrained": before, "trained": after}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    transformers_logging.set_verbosity_error()
    processes = int(os.environ.get("WORLD_SIZE", "1"))
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1) // processes))
    if args.output_dir:
        results = run(args, args.output_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="vggsounder-trainer-") as output_dir:
            results = run(args, output_dir)
    if args.metrics_json and int(os.environ.get("RANK", "0")) == 0:
        write_json(args.metrics_json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
