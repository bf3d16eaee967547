"""VGGSounder: modality-aware multi-label evaluation of audio-visual models (ICCV 2025).

An `evaluate` module. All the arithmetic lives in the `vggsounder-hf` package
(`vggsounder_hf.core.evaluation.evaluate_predictions`); this file only declares the inputs and
hands them over (`vggsounder_hf.hf.metric_arrays`: arrays, tensors or rows in, one compact
Arrow cell per `add_batch` call stored), so the numbers equal those of the command line and
the Trainer hook, and the authors' reference implementation.

The file ships inside the package (`evaluate.load(vggsounder_hf.METRIC_PATH)`); the class is
named `Vggsounder` because `evaluate` derives the module's name from the class name
(`camelcase_to_snakecase`), and that name (`vggsounder`) prefixes the keys of
`evaluate.combine`.
"""

import textwrap

import datasets
import evaluate

from vggsounder_hf.core import schema
from vggsounder_hf.core.errors import OptionError
from vggsounder_hf.core.schema import (
    COLUMNS,
    DEFAULT_CLIP_SET,
    DEFAULT_KS,
    DEFAULT_LABEL_RELEASE,
    DEFAULT_PROTOCOL,
)
from vggsounder_hf.hf import metric_arrays, metric_inputs

_CITATION = """\
@inproceedings{zverev2025vggsounder,
  title     = {{VGGSounder}: Audio-Visual Evaluations for Foundation Models},
  author    = {Zverev, Daniil and Wiedemer, Thadd{\\"a}us and Prabhu, Ameya and Bethge, Matthias
               and Brendel, Wieland and Koepke, A. Sophia},
  booktitle = {Proceedings of the IEEE/CVF International Conference on Computer Vision (ICCV)},
  year      = {2025}
}
"""


def _titles(family: str) -> str:
    return ", ".join(entry.title for entry in schema.METRICS if entry.family == family)


_DESCRIPTION = (
    textwrap.fill(
        "VGGSounder re-annotates the VGGSound test set as a multi-label benchmark in which "
        "every label says whether it is audible (A), visible (V) or both (AV). A model is "
        "queried with audio only (`a`), video only (`v`) and both (`av`); each input is scored "
        "against the matching label subset: columns `a` (A+AV labels), `v` (V+AV), `av` (AV), "
        "`a only` (A labels, audio input) and `v only` (V labels, video input). Metrics: "
        f"{_titles('label_set')}; for scores all of them at top-k plus {_titles('ranking')}; "
        "and modality confusion mu (clips a unimodal input gets right while the audio-visual "
        "input does not).",
        width=88,
    )
    + "\n"
)


def _metric_lines() -> str:
    """One line per metric of the registry: its result-key name and what it measures."""
    return "\n".join(
        f"        {entry.name}: {entry.description}"
        for entry in schema.METRICS
        if entry.family != "count"
    )


_KWARGS_DESCRIPTION = f"""
Args:
    predictions: the model's answers, in any of these forms:
        - arrays: an (N, {schema.NUM_CLASSES}) numpy array or torch tensor per input, as a dict
          {{"a": X, "v": Y, "av": Z}} (any of the three) or one array for one input
          (input_modality=, default "av"). Config "labels": multi-hot 0/1 values (or
          booleans); config "scores": real numbers (float32 is kept as float32).
        - rows: one dict per clip, {{"video_id": str, "a": ..., "v": ..., "av": ...}}.
          Config "labels": each input a list of class names or indices, a multi-hot vector
          of {schema.NUM_CLASSES} values 0/1, or None. Config "scores": {schema.NUM_CLASSES}
          floats, or None. An input that is None for every clip is not evaluated.
    video_ids: with arrays: the clip id of each row. Default: the references' rows in
        order, or without references the release's test split in its row order
        (load_vggsounder(label_version)["video_id"]).
    references: optional. Default: every clip of the release's test split
        (label_version=, a module argument). Or rows of the vggsounder dataset (the
        Dataset itself; video_id, labels, modalities, background_music, static_image,
        voice_over; meta flags must be booleans), matched by video_id in any order. Or
        (N, {schema.NUM_CLASSES}) multi-hot targets of the prediction rows, checked to mark
        only labels of their clips, which then stand for the release's rows (so that
        evaluate.combine can give one pair of arrays to several modules). Clips without a
        prediction count as empty label sets, and are left out for scores, as in the CLI;
        predictions for clips outside the references are ignored and counted.
    clip_set: "{DEFAULT_CLIP_SET}" (clips without background music, the authors' default),
        "full", a meta-label subset such as "static_image" / "no_voice_over" / "no_meta",
        or a mapping like {{"background_music": False, "static_image": True}}.
    ks: top-k cut-offs for scores (default {DEFAULT_KS}).
    threshold: scores only, instead of top-k: predict every class scored above it.
    sigmoid: with threshold: compare sigmoid(score) (logits; as torchmetrics).
    tie_break: "reference" (numpy's argsort, as the authors) or "lowest_index".
    columns: subset of {COLUMNS}.
    per_class: also return per-class F1 (and AUC, AP for scores) under "per_class".
    bootstrap, confidence, seed, ranking_resamples: bootstrap confidence intervals
        ("<key>/ci_low", "<key>/ci_high"), as in evaluate_predictions.
    protocol, mu_ground_truth: "reference" (default) or "paper" μ (see PROTOCOLS).
    average: accepted and not used (this module reports micro F1 as "f1" and macro F1 as
        "f1_macro"), so that evaluate.combine can pass it to scikit-learn style modules.
Returns:
    A flat dict "<column>/<metric>" (columns {", ".join(schema.COLUMN_KEYS)}):
    labels config, and scores with threshold=: {", ".join(schema.LABEL_SET_METRICS)}
        (e.g. "av/f1");
    scores config (top-k): each of those as "<metric>@<k>" ("av/f1@1");
    scores config (both): {", ".join(schema.RANKING_METRICS)} once per column ("av/auc_roc");
    counts "<column>/num_clips" and "<column>/num_missing"; modality confusion
    {", ".join(f'"mu/{part}"' for part in schema.MU_PARTS)} and "mu/num_clips";
    {" and ".join(f'"{name}"' for name in schema.GLOBAL_COUNTS)}.
    Rates are fractions; d_prime is a z-score difference; counts are integers.
    The metrics:
{_metric_lines()}
Examples:
    >>> metric = evaluate.load(vggsounder_hf.METRIC_PATH, "scores")  # doctest: +SKIP
    >>> metric.compute(predictions={{"av": logits}}, threshold=0.5, sigmoid=True)  # doctest: +SKIP
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Vggsounder(evaluate.Metric):
    """VGGSounder metrics over modality-split predictions (label sets or scores)."""

    def __init__(
        self,
        *args,
        label_version=DEFAULT_LABEL_RELEASE,
        data_path=None,
        input_modality="av",
        **kwargs,
    ):
        self.label_version = label_version
        self.data_path = data_path
        self.input_modality = input_modality
        super().__init__(*args, **kwargs)

    def _info(self):
        return evaluate.MetricInfo(
            module_type="metric",
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=metric_arrays.metric_features(self._kind),
            format="arrow",  # the stored cells reach _compute without a copy
            homepage="https://vggsounder.github.io/",
            reference_urls=["https://github.com/Bizilizi/VGGSounder"],
        )

    @property
    def _kind(self):
        return "labels" if self.config_name == "default" else self.config_name

    @property
    def _class_names(self):
        return metric_inputs.class_names_for(self.label_version, self.data_path)

    def _release(self):
        return metric_arrays.release_rows(self.label_version, self.data_path)

    def add_batch(
        self, *, predictions=None, references=None, video_ids=None, input_modality=None, **kwargs
    ):
        """Add a batch: prediction arrays or rows, and optionally their references."""
        cells = metric_arrays.stored_batch(
            predictions,
            references,
            self._kind,
            self._class_names,
            video_ids=video_ids,
            input_modality=input_modality or self.input_modality,
            release=self._release,
        )
        return super().add_batch(predictions=[cells[0]], references=[cells[1]], **kwargs)

    def add(self, *, prediction=None, reference=None, **kwargs):
        """Add one clip: its prediction row, and optionally its reference row."""
        return self.add_batch(
            predictions=None if prediction is None else [prediction],
            references=None if reference is None else [reference],
            **kwargs,
        )

    def compute(
        self, *, predictions=None, references=None, video_ids=None, input_modality=None, **kwargs
    ):
        """Add the given batch (if any) and score everything added."""
        if predictions is not None or references is not None:
            self.add_batch(
                predictions=predictions,
                references=references,
                video_ids=video_ids,
                input_modality=input_modality,
            )
        elif video_ids is not None:
            raise OptionError("video_ids= names the rows of the predictions of the same call")
        return super().compute(**kwargs)

    def _compute(
        self,
        predictions,
        references,
        clip_set=DEFAULT_CLIP_SET,
        ks=DEFAULT_KS,
        tie_break="reference",
        columns=COLUMNS,
        modality_confusion=True,
        per_class=False,
        threshold=None,
        sigmoid=False,
        bootstrap=0,
        confidence=0.95,
        seed=0,
        ranking_resamples=None,
        protocol=DEFAULT_PROTOCOL,
        mu_ground_truth=None,
        average=None,
    ):
        if self._kind == "labels" and (threshold is not None or sigmoid):
            raise OptionError(
                "threshold= and sigmoid= turn scores into label sets: use the 'scores' config "
                "(evaluate.load(path, 'scores'))"
            )
        return metric_arrays.compute_from_batches(
            predictions,
            references,
            self._kind,
            self._class_names,
            release=self._release,
            clip_set=clip_set,
            ks=ks,
            tie_break=tie_break,
            columns=columns,
            modality_confusion=modality_confusion,
            per_class=per_class,
            threshold=threshold,
            sigmoid=sigmoid,
            bootstrap=bootstrap,
            confidence=confidence,
            seed=seed,
            ranking_resamples=ranking_resamples,
            protocol=protocol,
            mu_ground_truth=mu_ground_truth,
        )


# `datasets` is imported so that evaluate's dependency check names it; it is used by
# `metric_arrays.metric_features`.
_ = datasets
