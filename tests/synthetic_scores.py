"""Deterministic synthetic score-model predictions for metric parity tests.

The module builds a prediction dict in the authors' pickle format,
``{video_id: {"logits": {"a": [...], "v": [...], "av": [...]}}}``, whose scores are
correlated with each clip's true labels, and which deliberately contains the corner
cases a metric implementation must get right:

- exact score ties, including ties at the top-1 / top-k boundary (scores rounded to
  one decimal for some clips, the highest score copied onto another class for some
  clips, the k-th score copied onto the (k+1)-th for some clips, and a few clips whose
  scores are all equal);
- about 3 % of the given clips left out entirely (clips without scores);
- ``NUM_EXTRA_CLIPS`` entries for video ids that are not among the given clips.

It depends on numpy and the standard library only, so it imports in the project's
development environment and in the separate environment of the authors' package
(``scripts/reference/compute_reference_values.py`` records the reference values with
it). It never reads data itself: the caller passes the clip ids and label indices.

Every clip draws from its own random generator, seeded from ``seed`` and its video
id, so a clip's scores (and whether it is left out) do not depend on the order or on
the other clips passed in.

Example:
    >>> preds = make_score_predictions(["abc_000010", "xyz_000000"], [[0, 5], [7]])
    >>> entry = preds["abc_000010"]["logits"]
    >>> sorted(entry), len(entry["av"]), type(entry["av"][0]).__name__
    (['a', 'av', 'v'], 309, 'float')
"""

from __future__ import annotations

import hashlib

import numpy as np

INPUTS = ("a", "v", "av")
"""Input modalities for which scores are generated."""

NUM_EXTRA_CLIPS = 20
"""Entries added for video ids that are not among the given clips."""

MISSING_FRACTION = 0.03
"""Probability that a given clip is left out of the predictions."""

ROUND_FRACTION = 0.30
"""Probability that a clip's scores are rounded to one decimal (many ties)."""

TOP_TIE_FRACTION = 0.25
"""Probability that a clip's highest score is copied onto another class."""

BOUNDARY_TIE_FRACTION = 0.25
"""Probability that a clip's k-th highest score (k in 1, 3, 5, 10) is copied onto the next."""

CONSTANT_FRACTION = 0.002
"""Probability that all scores of a clip are equal."""

# Per input: probability that a true label is favoured, and the range of its boost.
_SIGNAL = {"a": (0.75, 1.5, 4.0), "v": (0.75, 1.5, 4.0), "av": (0.85, 2.0, 4.5)}


def _clip_rng(seed: int, video_id: str) -> np.random.Generator:
    """Return a generator seeded from ``seed`` and ``video_id`` only."""
    digest = hashlib.sha256(f"{seed}\x00{video_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))


def _order_key(seed: int, video_id: str) -> str:
    """Return a key that shuffles clips independently of the order they were given in."""
    return hashlib.sha256(f"order\x00{seed}\x00{video_id}".encode()).hexdigest()


def _tie_top(scores: np.ndarray, rng: np.random.Generator) -> None:
    """Copy the highest score onto another, randomly chosen class (in place)."""
    top = int(np.argmax(scores))
    other = int(rng.integers(scores.size - 1))
    other += other >= top
    scores[other] = scores[top]


def _tie_boundary(scores: np.ndarray, rng: np.random.Generator) -> None:
    """Copy the k-th highest score onto the (k+1)-th highest class (in place)."""
    k = int(rng.choice([1, 3, 5, 10]))
    ranked = np.argsort(-scores, kind="stable")
    scores[ranked[k]] = scores[ranked[k - 1]]


def _clip_scores(
    labels: list[int], num_classes: int, rng: np.random.Generator, may_be_missing: bool
) -> dict[str, list[float]] | None:
    """Draw the scores of one clip, or return None when the clip is left out."""
    missing, rounded, top_tie, boundary_tie, constant = rng.random(5)
    if may_be_missing and missing < MISSING_FRACTION:
        return None
    logits = {}
    for name in INPUTS:
        keep, low, high = _SIGNAL[name]
        scores = rng.standard_normal(num_classes)
        for label in labels:
            if rng.random() < keep:
                scores[label] += rng.uniform(low, high)
        if constant < CONSTANT_FRACTION:
            scores[:] = 0.0
        if rounded < ROUND_FRACTION:
            scores = np.round(scores, 1)
        if top_tie < TOP_TIE_FRACTION:
            _tie_top(scores, rng)
        if boundary_tie < BOUNDARY_TIE_FRACTION:
            _tie_boundary(scores, rng)
        logits[name] = scores.tolist()
    return logits


def make_score_predictions(
    video_ids: list[str],
    label_sets: list[list[int]],
    num_classes: int = 309,
    seed: int = 0,
) -> dict:
    """Build a synthetic score-model prediction dict in the authors' pickle format.

    Args:
        video_ids: Benchmark clip ids (no duplicates).
        label_sets: For each clip, the indices (into the class list) of its true
            labels over all modalities; the scores favour these classes.
        num_classes: Number of scores per input modality.
        seed: Seed; the same arguments always give the same dict.

    Returns:
        ``{video_id: {"logits": {"a": [...], "v": [...], "av": [...]}}}`` with Python
        float lists of length ``num_classes``, in a shuffled clip order. About 3 % of
        the given clips are missing and ``NUM_EXTRA_CLIPS`` ids not in ``video_ids``
        are added.

    Raises:
        ValueError: if the arguments disagree in length, ids repeat, or a label index
            is out of range.

    Example:
        >>> preds = make_score_predictions(["abc_000010"], [[3]], num_classes=12)
        >>> len(preds)  # the clip (unless left out) plus the extra ids
        21
        >>> preds == make_score_predictions(["abc_000010"], [[3]], num_classes=12)
        True
    """
    if len(video_ids) != len(label_sets):
        raise ValueError(
            f"video_ids has {len(video_ids)} entries but label_sets has {len(label_sets)}"
        )
    if len(set(video_ids)) != len(video_ids):
        raise ValueError("video_ids contains duplicate ids")
    if num_classes < 11:
        raise ValueError(f"num_classes must be at least 11, got {num_classes}")

    entries: dict[str, dict] = {}
    for video_id, labels in zip(video_ids, label_sets, strict=True):
        unique = sorted({int(label) for label in labels})
        if unique and (unique[0] < 0 or unique[-1] >= num_classes):
            raise ValueError(f"label index out of range for {video_id!r}: {labels}")
        logits = _clip_scores(unique, num_classes, _clip_rng(seed, video_id), True)
        if logits is not None:
            entries[video_id] = {"logits": logits}

    known = set(video_ids)
    extra_rng = np.random.default_rng([seed, 20250])
    index = 0
    added = 0
    while added < NUM_EXTRA_CLIPS:
        video_id = f"synthetic-extra-{seed}-{index:03d}_{10 * index:06d}"
        index += 1
        if video_id in known:
            continue
        labels = extra_rng.choice(num_classes, size=int(extra_rng.integers(1, 4)), replace=False)
        entries[video_id] = {
            "logits": _clip_scores(sorted(labels.tolist()), num_classes, extra_rng, False)
        }
        added += 1

    return {key: entries[key] for key in sorted(entries, key=lambda v: _order_key(seed, v))}
