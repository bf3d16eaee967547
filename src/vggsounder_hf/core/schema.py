"""The vocabulary of VGGSounder, written once: inputs, label modalities, columns, meta labels,
label releases, clip sets, the metric registry and the grammar of result keys.

Every other module reads these definitions; none keeps its own list. Adding a metric is one
:class:`Metric` row in :data:`METRICS` plus its formula in :mod:`vggsounder_hf.core.functional`;
tables, Trainer names, model-index entries and the ``evaluate`` module pick it up from here.

Columns pair a model input with a label subset, as in the paper:

============  ==========  =====================  ================================
column        key         predictions from       ground-truth labels
============  ==========  =====================  ================================
``a``         ``a``       audio input ``a``      audible labels (A and AV)
``v``         ``v``       video input ``v``      visible labels (V and AV)
``av``        ``av``      audio-visual ``av``    labels both audible and visible
``a only``    ``a_only``  audio input ``a``      labels audible only (A¬V)
``v only``    ``v_only``  video input ``v``      labels visible only (V¬A)
============  ==========  =====================  ================================

Result keys (:class:`ResultKey`) are ``"<column key>/<metric>"``, ``"<column key>/<metric>@<k>"``
for top-k metrics of score models, ``"mu/<part>"`` for modality confusion
(``a``, ``v``, ``a_and_v``), ``"mu/num_clips"``, and ``"num_unknown_labels"``. Bootstrap
intervals append ``"/ci_low"`` and ``"/ci_high"``.

Example:
    >>> ResultKey.parse("a_only/f1@3")
    ResultKey(column='a only', metric='f1', k=3, bound=None)
    >>> ResultKey("av", "hit", 1).format(), ResultKey("a_and_v", "mu").format()
    ('av/hit@1', 'mu/a_and_v')
    >>> column("v-only").key, metric("accuracy").name
    ('v_only', 'subset_accuracy')
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

# --------------------------------------------------------------------------- inputs, labels

INPUT_MODALITIES: tuple[str, ...] = ("a", "v", "av")
"""The three inputs a model is queried with: audio only, video only, audio-visual."""

MODALITY_NAMES: tuple[str, ...] = ("A", "V", "AV")
"""Label modalities, in the order of their integer codes (and the ``modalities`` ClassLabel)."""

A, V, AV = 0, 1, 2
"""Integer codes of :data:`MODALITY_NAMES`."""

META_LABELS: tuple[str, ...] = ("background_music", "static_image", "voice_over")
"""Per-clip boolean meta labels, in annotation-column order."""

NUM_CLASSES = 309
"""Classes of every VGGSounder release (``classes.csv``)."""

CLASSES_FILE = "classes.csv"

# --------------------------------------------------------------------------- releases, sets

LABEL_RELEASES: tuple[str, ...] = ("1.0", "0.1.6")
"""The authors' label releases."""

DEFAULT_LABEL_RELEASE = "1.0"

VGGSOUND_LABELS = "vggsound"
"""VGGSound's own single-label test annotations (each label AV, no meta label): a label
source beside the authors' releases, for the paper's "accuracy on VGGSound"."""
LABEL_SOURCES: tuple[str, ...] = (*LABEL_RELEASES, VGGSOUND_LABELS)
"""Every label source that can be scored against: the authors' releases, then VGGSound's."""

DEFAULT_CLIP_SET = "default"
"""The reference's default clip set: clips without background music."""

PredictionKind = Literal["labels", "scores"]
PREDICTION_KINDS: tuple[str, ...] = ("labels", "scores")

TieBreak = Literal["reference", "lowest_index"]
TIE_BREAKS: tuple[str, ...] = ("reference", "lowest_index")

DEFAULT_KS: tuple[int, ...] = (1, 3, 5, 10)
"""Top-k cut-offs for score models when none are given (the paper's)."""

MU_GROUND_TRUTHS: tuple[str, ...] = ("all_labels", "av_labels")
"""What μ counts as a hit: ``all_labels`` (the authors' code): a clip's labels of any
modality, over every clip; ``av_labels`` (the paper's Table 2): only its AV labels, over the
clips that have one."""


@dataclass(frozen=True)
class Protocol:
    """A way of computing the published numbers.

    Attributes:
        name: ``"reference"`` (the authors' code, ``vggsounder==1.0``) or ``"paper"`` (the
            printed Tables 2 and 3).
        label_release: The label release it uses by default.
        mu_ground_truth: One of :data:`MU_GROUND_TRUTHS`.
        meta_difference: How Table 3's ΔF1 is formed: ``"with_minus_without"`` (F1 on clips
            with the meta label minus F1 on clips without it, the caption's reading) or
            ``"full_minus_without"`` (F1 on every clip minus F1 on clips without it, what the
            printed numbers are).
    """

    name: str
    label_release: str
    mu_ground_truth: str
    meta_difference: str


PROTOCOLS: dict[str, Protocol] = {
    "reference": Protocol("reference", "1.0", "all_labels", "with_minus_without"),
    "paper": Protocol("paper", "0.1.6", "av_labels", "full_minus_without"),
}
DEFAULT_PROTOCOL = "reference"


def protocol(name: str) -> Protocol:
    """The protocol of a name.

    Example:
        >>> protocol("paper").label_release, protocol("reference").mu_ground_truth
        ('0.1.6', 'all_labels')
    """
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol {name!r}; use one of {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    """One column of the paper's tables: an input scored against a label subset.

    Attributes:
        name: As printed (``"a only"``).
        key: As written in result keys and files (``"a_only"``).
        input: The input modality whose predictions are scored (``"a"``).
        label_codes: The label modalities (codes into :data:`MODALITY_NAMES`) of its subset.
    """

    name: str
    key: str
    input: str
    label_codes: tuple[int, ...]


COLUMN_SPECS: tuple[Column, ...] = (
    Column("a", "a", "a", (A, AV)),
    Column("v", "v", "v", (V, AV)),
    Column("av", "av", "av", (AV,)),
    Column("a only", "a_only", "a", (A,)),
    Column("v only", "v_only", "v", (V,)),
)
COLUMNS: tuple[str, ...] = tuple(spec.name for spec in COLUMN_SPECS)
"""Column names as printed: ``("a", "v", "av", "a only", "v only")``."""
COLUMN_KEYS: tuple[str, ...] = tuple(spec.key for spec in COLUMN_SPECS)
_COLUMN_BY_SPELLING = {
    spelling: spec for spec in COLUMN_SPECS for spelling in {spec.name, spec.key}
}


def column(name: str) -> Column:
    """The column for any spelling: ``"a only"``, ``"a_only"``, ``"a-only"``, ``"A Only"``.

    Raises:
        ValueError: Not a column.

    Example:
        >>> column("a_only").name, column("AV").input
        ('a only', 'av')
    """
    spelling = " ".join(str(name).lower().replace("_", " ").replace("-", " ").split())
    found = _COLUMN_BY_SPELLING.get(spelling)
    if found is None:
        raise ValueError(f"unknown column {name!r}; use one of {', '.join(COLUMN_KEYS)}")
    return found


def columns(names: Iterable[str] | str) -> tuple[str, ...]:
    """Column names (as printed) for a list of spellings, comma-separated items allowed,
    duplicates dropped, order kept.

    Example:
        >>> columns(["a,v_only", "a"])
        ('a', 'v only')
    """
    chosen = tuple(dict.fromkeys(column(item).name for item in split_list(names)))
    if not chosen:
        raise ValueError("no column selected")
    return chosen


MU_PARTS: tuple[str, ...] = ("a", "v", "a_and_v")
"""Modality-confusion parts: audio hits, video hits, both hit; the audio-visual input misses."""
MU_LABELS: dict[str, str] = {"a": "A", "v": "V", "a_and_v": "A∩V"}

# --------------------------------------------------------------------------- metric registry

MetricFamily = Literal["label_set", "ranking", "confusion", "count"]


@dataclass(frozen=True)
class Metric:
    """One row of the metric registry.

    Attributes:
        name: Identifier in result keys (``"f1"``).
        family: ``label_set`` (from predicted label sets; at each top-k for score models),
            ``ranking`` (from scores; score models only; no k), ``confusion`` (μ, over the
            three inputs), or ``count`` (clips counted, not a rate).
        higher_is_better: ``True``, ``False`` (μ), ``None`` for counts.
        title: Table group header (``"Subset accuracy"``).
        short: Compact header for Markdown (``"Acc."``).
        hub_type: ``metric_type`` in a Hub model-index (``"accuracy"``).
        hub_average: ``"micro"``/``"macro"`` in the model-index metric name, or ``None``.
        aliases: Other accepted spellings (the reference's names among them).
        description: One line for docs and cards.
        percent: Shown in percent in tables (rates); ``False`` for counts and d′.
    """

    name: str
    family: MetricFamily
    higher_is_better: bool | None
    title: str
    short: str
    hub_type: str | None
    hub_average: str | None
    aliases: tuple[str, ...]
    description: str
    percent: bool = True

    @property
    def better(self) -> str | None:
        """``"higher"``, ``"lower"`` or ``None``."""
        if self.higher_is_better is None:
            return None
        return "higher" if self.higher_is_better else "lower"

    @property
    def arrow(self) -> str:
        return {True: " ↑", False: " ↓", None: ""}[self.higher_is_better]

    def applies_to(self, kind: str) -> bool:
        """Whether a model of this prediction kind has this metric."""
        return self.family != "ranking" or kind == "scores"

    def at_k(self, kind: str) -> bool:
        """Whether the metric is reported per top-k cut-off for this prediction kind."""
        return self.family == "label_set" and kind == "scores"


# fmt: off
METRICS: tuple[Metric, ...] = (
    Metric("subset_accuracy", "label_set", True, "Subset accuracy", "Acc.", "accuracy", None,
           ("accuracy", "acc"), "clips whose predicted label set equals the true set"),
    Metric("f1", "label_set", True, "F1", "F1", "f1", "micro", (),
           "micro-averaged F1 over the clips' labels"),
    Metric("f1_macro", "label_set", True, "Macro F1", "F1m", "f1", "macro", (),
           "F1 per class averaged over all classes (absent classes score 0)"),
    Metric("precision", "label_set", True, "Precision", "Precision", "precision", "micro", (),
           "micro-averaged precision"),
    Metric("recall", "label_set", True, "Recall", "Recall", "recall", "micro", (),
           "micro-averaged recall"),
    Metric("jaccard", "label_set", True, "Jaccard", "Jaccard", "jaccard", "micro", (),
           "micro-averaged Jaccard index"),
    Metric("hit", "label_set", True, "Hit", "Hit", "hit_rate", None, ("hit_rate",),
           "clips with at least one predicted label in the true set"),
    Metric("auc_roc", "ranking", True, "AUC-ROC", "AUC-ROC", "roc_auc", "macro", ("roc_auc",),
           "per-class area under the ROC curve, averaged over classes with a positive"),
    Metric("auc_pr", "ranking", True, "AUC-PR", "AUC-PR", "average_precision", "macro",
           ("average_precision",),
           "per-class average precision, averaged over classes with a positive"),
    Metric("map", "ranking", True, "mAP", "mAP", "mean_average_precision", "macro", ("mAP",),
           "mean average precision over classes with a positive: the same number as auc_pr"),
    Metric("d_prime", "ranking", True, "d′", "d′", "d_prime", None, ("dprime", "d'"),
           "sqrt(2) * inverse normal CDF of the mean AUC-ROC (VGGSound's eval.py)",
           percent=False),
    Metric("mu", "confusion", False, "μ", "μ", "modality_confusion", None,
           ("modality_confusion", "μ"),
           "clips a unimodal input hits while the audio-visual input misses"),
    Metric("num_clips", "count", None, "Clips", "Clips", None, None, (),
           "clips scored in the column", percent=False),
    Metric("num_missing", "count", None, "Missing", "Missing", None, None, (),
           "clips of the column without a prediction", percent=False),
)
# fmt: on
"""The metric registry, in table order."""

METRIC_BY_NAME: dict[str, Metric] = {entry.name: entry for entry in METRICS}
_METRIC_BY_SPELLING: dict[str, Metric] = {
    spelling.lower(): entry for entry in METRICS for spelling in (entry.name, *entry.aliases)
}

GLOBAL_COUNTS: tuple[str, ...] = ("num_unknown_labels", "num_unknown_clips")
"""Counts that belong to the whole model, not to a column (keys without ``/``)."""


def metric(name: str) -> Metric:
    """The registry row for a metric name or alias (case-insensitive).

    Example:
        >>> metric("hit_rate").name, metric("μ").family
        ('hit', 'confusion')
    """
    found = _METRIC_BY_SPELLING.get(str(name).strip().lower())
    if found is None:
        raise ValueError(f"unknown metric {name!r}; choose from {', '.join(METRIC_BY_NAME)}")
    return found


def metrics_of(*families: str) -> tuple[str, ...]:
    """Names of the registered metrics of the given families, in registry order.

    Example:
        >>> metrics_of("ranking")
        ('auc_roc', 'auc_pr', 'map', 'd_prime')
    """
    return tuple(entry.name for entry in METRICS if entry.family in families)


LABEL_SET_METRICS: tuple[str, ...] = metrics_of("label_set")
RANKING_METRICS: tuple[str, ...] = metrics_of("ranking")
RATE_METRICS: tuple[str, ...] = metrics_of("label_set", "ranking", "confusion")
"""Every metric that is a rate (not a count): what tables, plots and intervals show."""


def split_list(names: Iterable[str] | str) -> list[str]:
    """Items of a list of strings, each of which may hold comma-separated items.

    Example:
        >>> split_list(["f1, hit", "mu"])
        ['f1', 'hit', 'mu']
    """
    if isinstance(names, str):
        names = [names]
    return [part.strip() for name in names for part in str(name).split(",") if part.strip()]


# --------------------------------------------------------------------------- result keys

BOUNDS: tuple[str, ...] = ("ci_low", "ci_high")
_KEY = re.compile(
    r"(?:(?P<scope>[a-z_]+)/)?(?P<metric>[a-z_0-9]+?)(?:@(?P<k>[1-9][0-9]*))?"
    r"(?:/(?P<bound>ci_low|ci_high))?"
)


@dataclass(frozen=True)
class ResultKey:
    """A typed result key: which column, which metric, at which ``k``, which interval bound.

    Attributes:
        column: Column name as printed (``"a only"``); for μ the part (``"a"``, ``"v"``,
            ``"a_and_v"``); ``"mu"`` for ``mu/num_clips``; ``None`` for global counts.
        metric: Registry name, or a global count (``"num_unknown_labels"``).
        k: Top-k cut-off for label-set metrics of score models.
        bound: ``"ci_low"``/``"ci_high"`` for bootstrap interval bounds.
    """

    column: str | None
    metric: str
    k: int | None = None
    bound: str | None = None

    def format(self) -> str:
        """The key as a string (see the module docstring)."""
        if self.column is None:
            text = self.metric
        elif self.metric == "mu":
            text = f"mu/{self.column}"
        else:
            scope = "mu" if self.column == "mu" else column(self.column).key
            text = f"{scope}/{self.metric}"
        if self.k is not None:
            text += f"@{self.k}"
        if self.bound is not None:
            text += f"/{self.bound}"
        return text

    def __str__(self) -> str:
        return self.format()

    @classmethod
    def parse(cls, text: str) -> ResultKey:
        """The inverse of :meth:`format`.

        Raises:
            ValueError: Not a VGGSounder result key.

        Example:
            >>> ResultKey.parse("mu/a_and_v"), ResultKey.parse("num_unknown_labels").column
            (ResultKey(column='a_and_v', metric='mu', k=None, bound=None), None)
        """
        match = _KEY.fullmatch(str(text))
        if match is None:
            raise ValueError(f"not a VGGSounder result key: {text!r}")
        scope, name, k, bound = match.group("scope", "metric", "k", "bound")
        k_value = None if k is None else int(k)
        if scope is None:
            if name not in GLOBAL_COUNTS or k_value is not None:
                raise ValueError(f"not a VGGSounder result key: {text!r}")
            return cls(None, name, None, bound)
        if scope == "mu":
            if name in MU_PARTS and k_value is None:
                return cls(name, "mu", None, bound)
            if name == "num_clips" and k_value is None:
                return cls("mu", name, None, bound)
            raise ValueError(f"not a VGGSounder result key: {text!r}")
        try:
            spec = column(scope)
            entry = metric(name)
        except ValueError:
            raise ValueError(f"not a VGGSounder result key: {text!r}") from None
        if entry.name != name or entry.family == "confusion":
            raise ValueError(f"not a VGGSounder result key: {text!r}")
        if k_value is not None and entry.family != "label_set":
            raise ValueError(f"{text!r}: {name} has no top-k cut-off")
        return cls(spec.name, entry.name, k_value, bound)

    @property
    def entry(self) -> Metric | None:
        """The registry row of the metric (``None`` for global counts)."""
        return METRIC_BY_NAME.get(self.metric)


def result_key(metric_name: str, column_name: str, kind: str, k: int | None = None) -> str:
    """The key of a metric of a column for a model of ``kind``, at ``k`` where it applies.

    Example:
        >>> result_key("f1", "a only", "labels"), result_key("hit", "av", "scores", 3)
        ('a_only/f1', 'av/hit@3')
        >>> result_key("mu", "a_and_v", "scores", 5), result_key("auc_roc", "v", "scores", 5)
        ('mu/a_and_v', 'v/auc_roc')
    """
    entry = metric(metric_name)
    k_used = (1 if k is None else k) if entry.at_k(kind) else None
    return ResultKey(column_name, entry.name, k_used).format()
