"""Evaluate a model on VGGSounder, from the clips to the model card, in one run.

The loop a user lives (docs/evaluate.md walks through it):

1. load the labels with the clips' media: ``load_vggsounder(version, media=FOLDER)``; clips
   whose media are missing are kept with ``None`` and counted (the media report);
2. run the model on the ``a`` (audio), ``v`` (video) and ``av`` (both) inputs of every clip
   that has them. The model is anything with the small :class:`Model` interface: replace
   the tiny baselines here (they need no download) with yours;
3. write its predictions as they come with ``PredictionWriter`` (Parquet, JSONL or pickle,
   by the extension of ``--output``); free-text answers are matched to the classes with
   ``--label-matching`` (``exact``, the reference's, by default);
4. score them with ``evaluate_predictions`` on the clip set ``--clip-set`` restricted to the
   clips with media (``with_media``), so a partial copy of VGGSound reports honest numbers;
5. print the paper's table;
6. write the results into a model card (``push_results``; ``--dry-run`` prints the card).

No copy of VGGSound at hand? ``--demo-clips N`` first writes N tiny clips (a second of a
tone and a few coloured frames, named after real VGGSounder clips) into ``--media``.

Usage:
    python scripts/evaluate_model_example.py --media FOLDER [--demo-clips N]
        [--model scores|text] [--label-matching exact|normalized|aliases]
        [--output predictions.parquet] [--version 1.0] [--clip-set default]
        [--repo-id user/model] [--dry-run] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from vggsounder_hf import evaluate_predictions, load_vggsounder, read_predictions
from vggsounder_hf.core.clip_sets import CLIP_SETS, WITH_MEDIA, describe_clip_set, resolve_clip_set
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.label_matching import STRATEGIES, class_lookup, match_class_names
from vggsounder_hf.core.schema import DEFAULT_CLIP_SET, DEFAULT_LABEL_RELEASE, LABEL_RELEASES
from vggsounder_hf.hf.hub_results import push_results
from vggsounder_hf.hf.media import decode_audio, decode_video, media_ground_truth, media_report
from vggsounder_hf.io.media_decoding import write_demo_clips
from vggsounder_hf.io.prediction_writer import PredictionWriter
from vggsounder_hf.reports.tables import ModelResult, main_table, render


class Model(Protocol):
    """What the loop needs of a model. Replace the baselines below with yours.

    Attributes:
        name: The model's name (the table's row, the model card's).
        kind: ``"scores"`` (``predict`` returns one score per class, in ``classes.csv``
            order) or ``"labels"`` (``predict`` returns class names, free text allowed).
        sampling_rate: The audio sampling rate the model wants (Hz).
        max_frames: The most video frames the model looks at.
    """

    name: str
    kind: str
    sampling_rate: int
    max_frames: int

    def predict(self, *, audio: np.ndarray | None, video: np.ndarray | None) -> Any:
        """Predict from audio ``(channels, samples)`` float32 and/or video
        ``(frames, height, width, 3)`` uint8; ``None`` for the input left out."""
        ...


class PriorScoresBaseline:
    """Scores: the class prior of the release, nudged by the loudness of the audio and the
    colour of the frames (so that the three inputs differ). A stand-in, not a real model."""

    kind, sampling_rate, max_frames = "scores", 16_000, 8

    def __init__(self, truth: GroundTruth, name: str = "prior-scores-baseline") -> None:
        self.name = name
        self.prior = np.log1p(truth.labels("all").sum(axis=0).astype(np.float64))
        self.phase = np.arange(truth.num_classes, dtype=np.float64)

    def predict(self, *, audio: np.ndarray | None, video: np.ndarray | None) -> np.ndarray:
        loudness = 0.0 if audio is None else float(np.sqrt(np.mean(audio**2)))
        colour = np.zeros(3) if video is None else video.mean(axis=(0, 1, 2)) / 255.0
        return self.prior + 0.1 * np.cos(self.phase * (1 + loudness + colour @ [1, 2, 3]))


class PriorTextBaseline:
    """Label sets as free text, as a generative model writes them: the most frequent class
    names, upper-cased (which only ``--label-matching normalized`` or ``aliases`` reads)."""

    kind, sampling_rate, max_frames = "labels", 16_000, 1

    def __init__(self, truth: GroundTruth, name: str = "prior-text-baseline") -> None:
        self.name = name
        counts = {subset: truth.labels(subset).sum(axis=0) for subset in ("a", "v", "av")}
        self.answers = {
            subset: [truth.class_names[int(np.argmax(count))].upper()]
            for subset, count in counts.items()
        }

    def predict(self, *, audio: np.ndarray | None, video: np.ndarray | None) -> list[str]:
        subset = "av" if audio is not None and video is not None else "a" if video is None else "v"
        return self.answers[subset]


def run_model(model: Model, row: dict[str, Any]) -> dict[str, Any]:
    """The model's predictions for the inputs a clip has: ``{"a": ..., "v": ..., "av": ...}``."""
    audio = None if row["audio"] is None else decode_audio(row["audio"], model.sampling_rate)[0]
    video = None if row["video"] is None else decode_video(row["video"], model.max_frames)
    outputs = {}
    if audio is not None:
        outputs["a"] = model.predict(audio=audio, video=None)
    if video is not None:
        outputs["v"] = model.predict(audio=None, video=video)
    if audio is not None and video is not None:
        outputs["av"] = model.predict(audio=audio, video=video)
    return outputs


def write_predictions(
    model: Model, dataset: Any, output: Path, class_names: Sequence[str], label_matching: str
) -> list[str]:
    """Run the model on every clip with media and write its predictions; return the texts
    of a text model (for the matching report)."""
    lookup = class_lookup(class_names, label_matching)
    texts: list[str] = []
    with_media = dataset.filter(lambda row: row["audio"] is not None or row["video"] is not None)
    with PredictionWriter(output, model.kind, class_names=class_names) as writer:
        for row in with_media:
            outputs = run_model(model, row)
            if model.kind == "labels":  # free text: matched to class indices where it can be
                texts += [text for answer in outputs.values() for text in answer]
                outputs = {
                    name: [text if lookup(text) is None else lookup(text) for text in answer]
                    for name, answer in outputs.items()
                }
            writer.add(row["video_id"], **outputs)
    return texts


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--media", type=Path, required=True, help="folder of VGGSound clips")
    parser.add_argument(
        "--demo-clips",
        type=int,
        default=0,
        metavar="N",
        help="first write N tiny demo clips into --media",
    )
    parser.add_argument("--model", choices=("scores", "text"), default="scores")
    parser.add_argument("--label-matching", choices=STRATEGIES, default="exact")
    parser.add_argument("--output", type=Path, default=Path("predictions.parquet"))
    parser.add_argument("--version", choices=LABEL_RELEASES, default=DEFAULT_LABEL_RELEASE)
    parser.add_argument("--clip-set", choices=sorted(CLIP_SETS), default=DEFAULT_CLIP_SET)
    parser.add_argument(
        "--repo-id",
        help="model repository whose card gets the results (without it, the card is only printed)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the card, push nothing")
    parser.add_argument("--cache-dir", type=Path, default=None, help="datasets cache folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.demo_clips:
        labels = load_vggsounder(args.version, cache_dir=args.cache_dir)
        step = max(1, labels.num_rows // args.demo_clips)
        write_demo_clips(args.media, labels["video_id"][::step][: args.demo_clips])
    dataset = load_vggsounder(args.version, cache_dir=args.cache_dir, media=args.media)
    print(media_report(dataset).format(), end="\n\n")
    truth = media_ground_truth(dataset)
    model_class = PriorScoresBaseline if args.model == "scores" else PriorTextBaseline
    model = model_class(truth)
    texts = write_predictions(model, dataset, args.output, truth.class_names, args.label_matching)
    if texts:
        print(match_class_names(texts, truth.class_names, args.label_matching).format(), end="\n\n")

    predictions = read_predictions(args.output, truth.class_names)
    clip_set = {**resolve_clip_set(args.clip_set), WITH_MEDIA: True}
    results = evaluate_predictions(truth, predictions, clip_set=clip_set)
    covered = int(truth.mask(clip_set).sum())
    metadata = {
        "label_version": args.version,
        "clip_set": describe_clip_set(clip_set),
        "num_clips": covered,
        "label_matching": args.label_matching,
    }
    print(
        f"The numbers cover {covered} of the {int(truth.mask(args.clip_set).sum())} clips of "
        f"clip set {args.clip_set!r} (those with media)."
    )
    table = main_table(
        [ModelResult(model.name, model.kind, results, str(args.output))], metadata=metadata
    )
    print(render(table, "table"))
    # A card takes finite numbers only: on a few clips an AUC can be 0 and d' infinite.
    finite = {k: v for k, v in results.items() if not isinstance(v, float) or math.isfinite(v)}
    if len(finite) < len(results):
        left_out = sorted(set(results) - set(finite))
        print(f"Not written into the card (not finite on so few clips): {', '.join(left_out)}")
    push_results(
        args.repo_id or f"your-name/{model.name}",
        finite,
        label_version=args.version,
        clip_set=describe_clip_set(clip_set),
        model_name=model.name,
        dry_run=args.dry_run or args.repo_id is None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
