"""The typed errors and warnings of VGGSounder, and the one wording of each shared problem.

Every bad input is refused with a :class:`VGGSounderInputError` (a ``ValueError``): one line
that names the input (file, row, clip, option) and the problem. The command line, the
``evaluate`` module and the Trainer hook map all of them the same way (exit code 2, one
line); anything else is a bug. ``docs/errors.md`` lists every rule and its message.

==============================  ===============================================================
class                           raised for
==============================  ===============================================================
:class:`VGGSounderInputError`   any bad input (the base; a ``ValueError``)
:class:`PredictionError`        predictions that cannot be scored (readers' ``ReaderError``)
:class:`NoMatchingClipsError`   predictions none of whose clips is in the clip set
:class:`GroundTruthError`       ground-truth rows or annotations that cannot be read
:class:`EmptyClipSetError`      a clip set without any clip of the ground truth
:class:`OptionError`            an option value that is not allowed
:class:`ResultsError`           result values that cannot be published (``push-results``)
:class:`ModelCardError`         a model card that cannot be read or updated
:class:`HubError`               the Hub cannot be reached or refuses (an ``OSError``)
==============================  ===============================================================

Warnings (:class:`VGGSounderWarning`, a ``UserWarning``): :class:`UnknownLabelWarning`,
:class:`NoMatchingClipsWarning`, :class:`EmptyColumnWarning`.

Problems met in several layers have one message, built here:

Example:
    >>> duplicate_clip_message("model.pkl", "x_000001", "input 'a'")
    "model.pkl: clip 'x_000001' appears more than once (input 'a')"
    >>> not_a_label_message("m.pkl: clip 'x_000001'", True, 309)
    "m.pkl: clip 'x_000001': label True (bool) is neither a class name nor a class index 0..308"
    >>> issubclass(PredictionError, ValueError), issubclass(HubError, OSError)
    (True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "EmptyClipSetError",
    "EmptyColumnWarning",
    "GroundTruthError",
    "HubError",
    "ModelCardError",
    "NoMatchingClipsError",
    "NoMatchingClipsWarning",
    "OptionError",
    "PredictionError",
    "ResultsError",
    "UnknownLabelWarning",
    "VGGSounderInputError",
    "VGGSounderWarning",
    "bad_flag_message",
    "check_types",
    "checked_clip_ids",
    "duplicate_clip_message",
    "fits_float",
    "is_label_type",
    "is_score_type",
    "not_a_label_message",
    "not_a_score_message",
    "too_large_score_message",
]


class VGGSounderInputError(ValueError):
    """An input that cannot be used; the message names the input and the problem."""


class PredictionError(VGGSounderInputError):
    """Predictions that cannot be scored; the message names the source and the problem."""


class NoMatchingClipsError(PredictionError):
    """No predicted clip is in the clip set being scored (every number would be 0)."""


class GroundTruthError(VGGSounderInputError):
    """Ground-truth rows (references, annotation files) that cannot be read."""


class EmptyClipSetError(GroundTruthError):
    """A clip set that holds no clip of the ground truth (every rate would be undefined)."""


class OptionError(VGGSounderInputError):
    """An option value that is not allowed (a column, a metric, ``k``, a clip set...)."""


class ResultsError(VGGSounderInputError):
    """Result values that cannot be published: unknown keys, non-finite values, rates
    outside ``[0, 1]``, a results file that is not UTF-8 JSON."""


class ModelCardError(VGGSounderInputError):
    """A model card whose metadata cannot be parsed or updated."""


class HubError(OSError):
    """The Hugging Face Hub could not be reached, or refused a request.

    Attributes:
        repo_id: The repository the request was about.
    """

    def __init__(self, repo_id: str, message: str) -> None:
        super().__init__(message)
        self.repo_id = repo_id

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps the exception picklable (multiprocessing, pytest-xdist).
        return (type(self), (self.repo_id, str(self)))


class VGGSounderWarning(UserWarning):
    """Something that changes the numbers and that the user should know about."""


class UnknownLabelWarning(VGGSounderWarning):
    """Predicted class names that are not among the 309 classes were ignored."""


class NoMatchingClipsWarning(VGGSounderWarning):
    """No predicted clip is in the clip set being scored: every number is 0 or undefined."""


class EmptyColumnWarning(VGGSounderWarning):
    """A column has no clip in the clip set: its metrics are undefined."""


def duplicate_clip_message(source: str, video_id: str, detail: str | None = None) -> str:
    """The message for a clip given twice, in every layer (files, rows, mappings).

    Args:
        source: The input (file name, ``"predictions"``, ``"references"``).
        video_id: The repeated clip id.
        detail: Where, e.g. ``"input 'a'"`` or ``"lines 2 and 5"``.
    """
    where = f" ({detail})" if detail else ""
    return f"{source}: clip {video_id!r} appears more than once{where}"


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, safe for any value: an integer too long
    to print (``10**5000``) or a repr that fails is described instead of raising.

    Example:
        >>> short_repr("x" * 100, 12)
        "'xxxxxxxx..."
        >>> short_repr(10**5000)
        'an integer of 5001 digits'

    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4000:
        return f"an integer of {int(value.bit_length() * 0.30103) + 1} digits"
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not hide the real problem
        return f"a {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def not_a_label_message(where: str, label: Any, num_classes: int) -> str:
    """The message for a predicted label that is neither a class name nor a class index
    (booleans and floats are not indices; an out-of-range integer is not one either)."""
    return (
        f"{where}: label {short_repr(label)} ({type(label).__name__}) is neither a class "
        f"name nor a class index 0..{num_classes - 1}"
    )


def not_a_score_message(where: str, value: Any) -> str:
    """The message for a score that is not a real number (a string, a boolean, a complex
    number, ``None``, a number too large for a float)."""
    return f"{where}: score {short_repr(value)} ({type(value).__name__}) is not a real number"


def too_large_score_message(where: str, value: int) -> str:
    """The message for an integer score beyond the range of a float (``10**400``)."""
    digits = int(abs(value).bit_length() * 0.30103)  # log10(2): no str() of a huge int
    return f"{where}: score of about 10**{digits} is too large for a floating-point number"


def bad_flag_message(where: str, name: str, value: Any) -> str:
    """The message for a meta flag that is not a boolean (``"False"`` is not false)."""
    return f"{where}: {name!r} must be True or False, got {short_repr(value)}"


def is_label_type(kind: type) -> bool:
    """Whether values of this type can be labels: strings (class names) and integers
    (class indices, numpy's too), but not booleans, although ``True == 1``.

    Example:
        >>> is_label_type(np.int64), is_label_type(bool), is_label_type(float)
        (True, False, False)
    """
    if issubclass(kind, str):
        return True
    return issubclass(kind, int | np.integer) and not issubclass(kind, bool | np.bool_)


def is_score_type(kind: type) -> bool:
    """Whether values of this type can be scores: integers and floats (numpy's too), not
    booleans, complex numbers or strings.

    Example:
        >>> is_score_type(np.float32), is_score_type(int), is_score_type(np.bool_)
        (True, True, False)
    """
    real = issubclass(kind, int | float | np.integer | np.floating)
    return real and not issubclass(kind, bool | np.bool_)


def check_types(
    values: Sequence[Any],
    expected: type | tuple[type, ...],
    source: str,
    message: str,
    names: Sequence[Any] | None = None,
) -> None:
    """Raise a :class:`PredictionError` naming the first value that is not an ``expected``.

    ``message`` holds ``{!r}`` for the value's name (the value itself without ``names``).
    """
    if all(issubclass(value_type, expected) for value_type in set(map(type, values))):
        return
    names = values if names is None else names
    for name, value in zip(names, values, strict=True):
        if not isinstance(value, expected):
            raise PredictionError(
                f"{source}: " + message.format(name) + f", got {type(value).__name__}"
            )


def checked_clip_ids(video_ids: Sequence[Any], source: str, where: str | None = None) -> list[str]:
    """Predicted clip ids, each a string, without a trailing ``.mp4`` (the reference strips
    it too), each once: the one rule for clip ids in every reader.

    Raises:
        PredictionError: An id is not a string, or two entries name the same clip.

    Example:
        >>> checked_clip_ids(["x_000001.mp4", "y_000002"], "m.json")
        ['x_000001', 'y_000002']
        >>> checked_clip_ids(["x_000001.mp4", "x_000001"], "m.json")
        Traceback (most recent call last):
        vggsounder_hf.core.errors.PredictionError: m.json: clip 'x_000001' appears more than once
    """
    check_types(video_ids, str, source, "video id {!r} is not a string")
    ids = video_ids
    if ".mp4" in "\n".join(video_ids):
        ids = [video_id.removesuffix(".mp4") for video_id in video_ids]
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        repeated = next(video_id for video_id in ids if video_id in seen or seen.add(video_id))
        raise PredictionError(duplicate_clip_message(source, repeated, where))
    return list(ids)


def fits_float(value: Any) -> bool:
    """Whether a number converts to a float (a Python integer such as ``10**400`` does not).

    Example:
        >>> fits_float(10**308), fits_float(10**400)
        (True, False)
    """
    try:
        float(value)
    except OverflowError:
        return False
    return True
