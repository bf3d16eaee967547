"""VGGSounder for the Hugging Face ecosystem.

The public API is importable from here (see ``docs/api.md``); every name is imported on first
use, so that ``import vggsounder_hf`` stays fast (``datasets`` alone takes about 0.6 s to
import). The package never imports the authors' ``vggsounder`` package; it only reads the
annotation files that the authors' wheel ships.

Example:
    >>> import vggsounder_hf
    >>> vggsounder_hf.metric("f1").title, vggsounder_hf.ResultKey.parse("av/hit@1").k
    ('F1', 1)
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"

# name -> module that defines it. This table is the public API.
_LAZY_EXPORTS: dict[str, str] = {
    # the vocabulary and the metric registry
    "COLUMNS": "vggsounder_hf.core.schema",
    "INPUT_MODALITIES": "vggsounder_hf.core.schema",
    "META_LABELS": "vggsounder_hf.core.schema",
    "METRICS": "vggsounder_hf.core.schema",
    "PROTOCOLS": "vggsounder_hf.core.schema",
    "ResultKey": "vggsounder_hf.core.schema",
    "metric": "vggsounder_hf.core.schema",
    # scoring
    "AlignedModel": "vggsounder_hf.core.alignment",
    "align": "vggsounder_hf.core.alignment",
    "evaluate_predictions": "vggsounder_hf.core.evaluation",
    "score": "vggsounder_hf.core.evaluation",
    "clip_set_difference": "vggsounder_hf.core.evaluation",
    "modality_confusion_per_clip": "vggsounder_hf.core.evaluation",
    "compare_models": "vggsounder_hf.core.bootstrap",
    "GroundTruth": "vggsounder_hf.core.ground_truth",
    "ModelPredictions": "vggsounder_hf.core.predictions",
    "PredictionError": "vggsounder_hf.core.predictions",
    "class_prior_baseline": "vggsounder_hf.core.baseline",
    "match_class_names": "vggsounder_hf.core.label_matching",
    "VGGSounderInputError": "vggsounder_hf.core.errors",
    "meta_label_report": "vggsounder_hf.reports.meta",
    # files
    "load_release": "vggsounder_hf.io.sources",
    "read_predictions": "vggsounder_hf.io.readers",
    "load_pickle": "vggsounder_hf.io.safe_pickle",
    "PredictionWriter": "vggsounder_hf.io.prediction_writer",
    "decode_audio": "vggsounder_hf.io.media_decoding",
    "decode_video": "vggsounder_hf.io.media_decoding",
    # Hugging Face
    "load_vggsounder": "vggsounder_hf.hf.loading",
    "VGGSounderBuilder": "vggsounder_hf.hf.builder",
    "join_media": "vggsounder_hf.hf.media",
    "media_report": "vggsounder_hf.hf.media",
    "METRIC_PATH": "vggsounder_hf.hf.metric",
    "make_compute_metrics": "vggsounder_hf.hf.trainer",
    "with_multi_hot_labels": "vggsounder_hf.hf.trainer",
}

__all__ = ["__version__", *_LAZY_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _LAZY_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_EXPORTS))
