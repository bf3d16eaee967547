"""VGGSounder: modality-aware multi-label evaluation of audio-visual models (ICCV 2025).

An `evaluate` module. All the arithmetic lives in the `vggsounder-hf` package
(`vggsounder_hf.core.evaluation.evaluate_predictions`); this file only declares the inputs and
hands the stored rows over, so the numbers equal those of the command line and the
Trainer hook, and the authors' reference implementation.

The file ships inside the package (`evaluate.load(vggsounder_hf.METRIC_PATH)`); the class is
named `Vggsounder` because `evaluate` derives the module's name from the class name
(`camelcase_to_snakecase`), and that name (`vggsounder`) prefixes the keys of
`evaluate.combine`.
"""

import textwrap

import datasets
import evaluate

from vggsounder_hf.core import schema
from vggsounder_hf.core.schema import COLUMNS, DEFAULT_CLIP_SET, DEFAULT_KS, DEFAULT_LABEL_RELEASE
from vggsounder_hf.hf import metric_inputs

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
    predictions: one dict per clip: {{"video_id": str, "a": ..., "v": ..., "av": ...}}.
        Config "labels": each input is a list of class names or class indices, or None.
        Config "scores": each input is a list of {schema.NUM_CLASSES} floats (classes.csv
        order), or None. An input that is None for every clip is not evaluated.
    references: rows of the vggsounder dataset (video_id, labels, modalities,
        background_music, static_image, voice_over), e.g. the `test` split itself.
        Clips are matched by video_id, so the order does not matter. The meta flags
        must be booleans.
    clip_set: "{DEFAULT_CLIP_SET}" (clips without background music, the authors' default),
        "full", a meta-label subset such as "static_image" / "no_voice_over" / "no_meta",
        or a mapping like {{"background_music": False, "static_image": True}}.
    ks: top-k cut-offs for scores (default {DEFAULT_KS}).
    tie_break: "reference" (numpy's argsort, as the authors) or "lowest_index".
    columns: subset of {COLUMNS}.
    per_class: also return per-class F1 (and AUC, AP for scores) under "per_class".
Returns:
    A flat dict "<column>/<metric>" (columns {", ".join(schema.COLUMN_KEYS)}):
    labels config: {", ".join(schema.LABEL_SET_METRICS)}
        (e.g. "av/f1");
    scores config: each of those as "<metric>@<k>" ("av/f1@1"), plus
        {", ".join(schema.RANKING_METRICS)} once per column ("av/auc_roc");
    counts "<column>/num_clips" and "<column>/num_missing"; modality confusion
    {", ".join(f'"mu/{part}"' for part in schema.MU_PARTS)} and "mu/num_clips";
    {" and ".join(f'"{name}"' for name in schema.GLOBAL_COUNTS)}.
    Rates are fractions; d_prime is a z-score difference; counts are integers.
    The metrics:
{_metric_lines()}
Examples:
    >>> metric = evaluate.load(vggsounder_hf.METRIC_PATH)  # doctest: +SKIP
    >>> metric.compute(predictions=predictions, references=dataset)  # doctest: +SKIP
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Vggsounder(evaluate.Metric):
    """VGGSounder metrics over modality-split predictions (label sets or scores)."""

    def __init__(self, *args, label_version=DEFAULT_LABEL_RELEASE, data_path=None, **kwargs):
        self.label_version = label_version
        self.data_path = data_path
        super().__init__(*args, **kwargs)

    def _info(self):
        config_name = "labels" if self.config_name == "default" else self.config_name
        return evaluate.MetricInfo(
            module_type="metric",
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=metric_inputs.metric_features(config_name),
            homepage="https://vggsounder.github.io/",
            reference_urls=["https://github.com/Bizilizi/VGGSounder"],
        )

    @property
    def _kind(self):
        return "labels" if self.config_name == "default" else self.config_name

    @property
    def _class_names(self):
        return metric_inputs.class_names_for(self.label_version, self.data_path)

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """Add a batch of clips: one prediction row and one reference row per clip."""
        predictions = metric_inputs.normalise_predictions(
            predictions, self._kind, self._class_names
        )
        references = metric_inputs.normalise_references(references, self._class_names)
        if len(predictions) != len(references):
            raise ValueError(
                f"got {len(predictions)} predictions but {len(references)} references: pass "
                "one prediction row (None for inputs without one) per reference row"
            )
        return super().add_batch(predictions=predictions, references=references, **kwargs)

    def add(self, *, prediction=None, reference=None, **kwargs):
        """Add one clip: its prediction row and its reference row."""
        return self.add_batch(predictions=[prediction], references=[reference], **kwargs)

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
    ):
        return metric_inputs.compute_from_rows(
            predictions,
            references,
            self._kind,
            self._class_names,
            clip_set=clip_set,
            ks=ks,
            tie_break=tie_break,
            columns=columns,
            modality_confusion=modality_confusion,
            per_class=per_class,
        )


# `datasets` is imported so that evaluate's dependency check names it; it is used by
# `metric_inputs.metric_features`.
_ = datasets
