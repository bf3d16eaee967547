"""A class-prior baseline computed from the VGGSounder labels themselves.

For each input modality the baseline predicts, for every clip, the same ``k`` classes:
the ones that occur most often in the label subset that input is scored against:

==========  =========================================================
input       predicted classes
==========  =========================================================
``a``       the ``k`` most frequent audible labels (modality A or AV)
``v``       the ``k`` most frequent visible labels (modality V or AV)
``av``      the ``k`` most frequent audible-and-visible labels (AV)
==========  =========================================================

Frequencies are counted over the clips of the ground truth passed in (by default, in the
command line, the full release); ties go to the class listed first in ``classes.csv``.
It needs no model and no download, so it shows what the metrics give for a model that
knows only the label distribution. The numbers are optimistic in one way: the prior is
read from the very labels it is scored on.

Example:
    >>> from vggsounder_hf.core.ground_truth import GroundTruth
    >>> rows = [{"video_id": f"x_{i:06d}", "labels": [0, 1] if i else [1],
    ...          "modalities": ["A", "AV"] if i else ["V"], "background_music": False,
    ...          "static_image": False, "voice_over": False} for i in range(3)]
    >>> truth = GroundTruth.from_rows(rows, class_names=("dog", "cat"))
    >>> prior = class_prior_baseline(truth)
    >>> prior.kind, prior["a"].matrix[0].tolist(), prior["v"].matrix[0].tolist()
    ('labels', [True, False], [False, True])
    >>> most_frequent_classes(truth, k=1)
    {'a': ['dog'], 'v': ['cat'], 'av': ['cat']}
"""

from __future__ import annotations

import numpy as np

from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import INPUT_MODALITIES, InputPredictions, ModelPredictions

__all__ = ["BASELINES", "INPUT_LABEL_SUBSET", "class_prior_baseline", "most_frequent_classes"]

BASELINES: tuple[str, ...] = ("class-prior",)
INPUT_LABEL_SUBSET: dict[str, str] = {"a": "a", "v": "v", "av": "av"}
"""Input modality -> the label subset whose frequencies it predicts (a column name of
:meth:`GroundTruth.labels`)."""


def most_frequent_classes(truth: GroundTruth, k: int = 1) -> dict[str, list[str]]:
    """The ``k`` most frequent classes of each input's label subset, most frequent first."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= truth.num_classes:
        raise ValueError(f"k must be an integer between 1 and {truth.num_classes}, got {k!r}")
    chosen = {}
    for modality in INPUT_MODALITIES:
        counts = truth.labels(INPUT_LABEL_SUBSET[modality]).sum(axis=0)
        order = np.argsort(-counts, kind="stable")[:k]
        chosen[modality] = [truth.class_names[index] for index in order.tolist()]
    return chosen


def class_prior_baseline(
    truth: GroundTruth, k: int = 1, source: str | None = None
) -> ModelPredictions:
    """Label-set predictions of the class-prior baseline for every clip of ``truth``.

    Args:
        truth: The clips to predict for; the frequencies are counted on them.
        k: How many classes each input predicts.
        source: Name used in messages (default ``"class-prior (k=<k>)"``).
    """
    chosen = most_frequent_classes(truth, k)
    index = {name: position for position, name in enumerate(truth.class_names)}
    video_ids = np.asarray(truth.video_ids.tolist(), dtype=object)
    inputs = {}
    for modality in INPUT_MODALITIES:
        row = np.zeros(truth.num_classes, dtype=bool)
        row[[index[name] for name in chosen[modality]]] = True
        matrix = np.broadcast_to(row, (len(video_ids), truth.num_classes)).copy()
        inputs[modality] = InputPredictions(video_ids, matrix)
    name = source or f"class-prior (k={k})"
    return ModelPredictions("labels", inputs, tuple(truth.class_names), name)
