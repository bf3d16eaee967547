"""What the prediction readers refuse before the core expands a file: resource limits, the
walk that enforces them on a loaded structure, and the check of its label and score values.

A prediction file may describe far more data than it holds: a pickle can reference one list
from a million places (a "billion laughs"), ask numpy for an array of ten billion elements, or
store a memo entry at index four billion; a Parquet file can run-length encode millions of rows
in a few bytes. The readers refuse such a file *before* the data is expanded, with one line
naming the file and the limit. The limits are generous for real prediction files: the full
benchmark is 15,446 clips × 3 inputs × 309 scores ≈ 14.3 million numbers.

=============================  ====================  =========================================
limit                          value                 applies to
=============================  ====================  =========================================
:data:`MAX_FILE_BYTES`         2 GiB                 every prediction file (read whole)
:func:`element_budget`         max(20 M, file size)  elements of the loaded structure (every
                                                     reference to a shared container counted in
                                                     full), cells of a Parquet table (and 8
                                                     bytes per cell of its uncompressed data)
:data:`MAX_ARRAY_ELEMENTS`     10 million            one numpy array in a pickle
:data:`MAX_ITEMSIZE`           1 MiB                 one element of a numpy array (a string)
:data:`MAX_NESTING`            100 levels            containers inside containers (pickle)
:data:`MAX_LABELS_PER_CLIP`    10,000                labels of one clip and input
=============================  ====================  =========================================

Memory bound. Reading a file of ``S`` bytes holds the file (``S``), the Python objects it spells
out, and the dense matrices the core builds. No pickle opcode, JSON token or CSV field makes
more than one object, and a memo entry, a numpy array or a byte string is only as large as
the bytes behind it, so the objects grow linearly with ``S`` (at peak about 25 bytes per byte
of a released label pickle); the matrices hold at most :func:`element_budget` elements, 8
bytes each (at most 160 MB for any file under 20 MB). Reading and scoring one released file
(1 MB) peaks at about 240 MB of resident memory, most of it the interpreter, numpy and
pandas: the released files need under 300 MB.

Example:
    >>> element_budget(1_000) == ELEMENT_FLOOR, element_budget(50_000_000)
    (True, 50000000)
    >>> structure_size({"x_000001": {"predictions": {"a": ["dog", "cat"]}}}, budget=100)
    9
    >>> shared = ["dog"] * 1_000
    >>> structure_size([shared] * 1_000, budget=10**5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    vggsounder_hf.io.limits.LimitError: describes more than 100000 values ...
    >>> short_repr(10**5000), short_repr("x" * 100)
    ('<integer of 16610 bits>', "'xxxxxxxxxxxxxxxxxxxxxxxxxxx...xxxxxxxxxxxxxxxxxxxxxxxxxxxx'")
"""

from __future__ import annotations

import itertools
import operator
import reprlib
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from vggsounder_hf.core.errors import (
    PredictionError,
    is_label_type,
    is_score_type,
    not_a_label_message,
    not_a_score_message,
)
from vggsounder_hf.core.schema import NUM_CLASSES, PredictionKind

__all__ = [
    "ELEMENT_FLOOR",
    "MAX_ARRAY_ELEMENTS",
    "MAX_FILE_BYTES",
    "MAX_ITEMSIZE",
    "MAX_LABELS_PER_CLIP",
    "MAX_NESTING",
    "LimitError",
    "abbreviated",
    "array_elements",
    "check_values",
    "element_budget",
    "plain_dtype",
    "short_repr",
    "structure_size",
    "too_many_labels_message",
]

MAX_FILE_BYTES = 2 * 1024**3
"""Largest prediction file read (the full benchmark as JSON scores is about 300 MB)."""
ELEMENT_FLOOR = 20_000_000
"""Elements every file may describe, however small (the full benchmark needs 14.3 million)."""
MAX_ARRAY_ELEMENTS = 10_000_000
"""Elements of one numpy array in a pickle (a model's scores of one input: 4.8 million)."""
MAX_ITEMSIZE = 1024**2
"""Bytes of one element of a numpy array (a class name as ``<U80`` takes 320)."""
MAX_NESTING = 100
"""Levels of containers inside containers in a pickle (the authors' structure has four)."""
MAX_LABELS_PER_CLIP = 10_000
"""Labels of one clip and input: there are 309 classes; repeats and unknown names may add a
few, not thousands."""

_SCALARS = frozenset(
    {str, bytes, bytearray, int, float, complex, bool, type(None), np.str_, np.bytes_}
)
_SEQUENCES = frozenset({list, tuple, set, frozenset})


class LimitError(ValueError):
    """A file describes more data than the limits allow (the message says which limit)."""


def element_budget(num_bytes: int) -> int:
    """The elements a file of ``num_bytes`` bytes may describe: one per byte, at least
    :data:`ELEMENT_FLOOR` (a real file spends at least a byte on each element it holds)."""
    return max(ELEMENT_FLOOR, int(num_bytes))


def array_elements(shape: Any) -> int:
    """Elements of a numpy array of ``shape``, refused above :data:`MAX_ARRAY_ELEMENTS`.

    Raises:
        TypeError: ``shape`` is not a tuple of sizes.
        LimitError: Too many elements.
    """
    if isinstance(shape, int | np.integer) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, tuple) or not all(
        isinstance(size, int | np.integer) and not isinstance(size, bool) and size >= 0
        for size in shape
    ):
        raise TypeError(f"numpy array shape {short_repr(shape)} is not a tuple of sizes")
    count = 1
    for size in shape:
        count *= int(size)
    if count > MAX_ARRAY_ELEMENTS:
        raise LimitError(
            f"a numpy array of shape {short_repr(shape)} would hold {count} elements; the "
            f"limit is {MAX_ARRAY_ELEMENTS} per array"
        )
    return count


def plain_dtype(dtype: Any) -> np.dtype:
    """``dtype`` if it is a numpy dtype of plain values (booleans, numbers, strings, bytes,
    objects) whose elements fit :data:`MAX_ITEMSIZE`.

    Raises:
        TypeError: Not a dtype, or a structured, sub-array, void or date dtype.
        LimitError: Elements larger than :data:`MAX_ITEMSIZE`.
    """
    if not isinstance(dtype, np.dtype):
        raise TypeError(f"{short_repr(dtype)} is not a numpy dtype")
    if dtype.kind not in "biufcUSO" or dtype.fields is not None or dtype.subdtype is not None:
        raise TypeError(f"numpy dtype {dtype} is not plain data (use numbers or strings)")
    if dtype.itemsize > MAX_ITEMSIZE:
        raise LimitError(
            f"numpy dtype {dtype} has {dtype.itemsize}-byte elements; the limit is {MAX_ITEMSIZE}"
        )
    return dtype


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr`` for messages: short, safe for huge integers and for deep or shared nesting."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"<integer of {value.bit_length()} bits>"
    shortener = reprlib.Repr()
    shortener.maxlevel, shortener.maxstring, shortener.maxother = 2, limit, limit
    shortener.maxlist = shortener.maxtuple = shortener.maxdict = shortener.maxset = 4
    try:
        return shortener.repr(value)
    except (ValueError, RecursionError):  # e.g. a huge integer inside a container
        return f"<{type(value).__name__}>"


def abbreviated(value: Any, limit: int = 60) -> Any:
    """``value`` itself if its ``repr`` is short; otherwise a stand-in of the same type name
    whose ``repr`` is :func:`short_repr`, for messages that show a value and its type.

    Example:
        >>> shown = abbreviated(list(range(1_000)))
        >>> type(shown).__name__, repr(shown)
        ('list', '[0, 1, 2, 3, ...]')
    """
    long_text = isinstance(value, str | bytes) and len(value) > limit
    huge_int = isinstance(value, int) and value.bit_length() > 128
    if not (long_text or huge_int or isinstance(value, list | tuple | set | frozenset | dict)):
        return value
    text = short_repr(value, limit)
    return type(type(value).__name__, (), {"__repr__": lambda self: text})()


def _children(node: Any) -> Iterable[Any] | None:
    """The values inside a container, or ``None`` for a value without any."""
    if type(node) in _SCALARS:
        return None
    if isinstance(node, dict):
        return (item for pair in node.items() for item in pair)
    if isinstance(node, list | tuple | set | frozenset):
        return node
    if isinstance(node, np.ndarray) and node.dtype.kind == "O":
        return node.ravel().tolist()
    return None


def _own_size(node: Any) -> int:
    """Elements a value counts by itself: an array its elements, anything else one."""
    if isinstance(node, np.ndarray) and node.dtype.kind != "O":
        return max(1, int(node.size))
    return 1


def structure_size(root: Any, budget: int, max_depth: int = MAX_NESTING) -> int:
    """Elements ``root`` holds when every reference to a shared container is counted in full,
    as code that iterates over it would see them.

    Each distinct container is visited once, and the walk stops as soon as the count passes
    ``budget``, so a structure that would expand to billions of elements is refused in
    about the time it took to load.

    Raises:
        LimitError: More than ``budget`` elements, nesting deeper than ``max_depth``, or a
            container that contains itself.
    """
    total = _tree_size(root, budget, max_depth)
    return _shared_size(root, budget, max_depth) if total is None else total


def _tree_size(root: Any, budget: int, max_depth: int) -> int | None:
    """The count for a tree (no container reached twice), or ``None`` if one is shared.

    One level at a time, each level's children gathered, typed and identified by C-level
    ``chain``/``map``/``set`` calls rather than a Python loop per child: a released label
    pickle holds about 230 thousand containers.
    """
    seen = {id(root)}
    level, depth, total = [root], 0, 1
    while level:
        depth += 1
        inside, leaves = _level_children(level)
        scalar = map(_SCALARS.__contains__, map(type, inside))
        containers = list(itertools.compress(inside, map(operator.not_, scalar)))
        total += leaves + len(inside) - len(containers)
        before = len(seen)
        seen.update(map(id, containers))
        if len(seen) != before + len(containers):
            return None
        total += len(containers)
        if not set(map(type, containers)) <= _SEQUENCES | {dict}:
            containers, elements = _without_leaf_arrays(containers)
            total += elements
        if total > budget:
            raise _over_budget(budget)
        if containers and depth >= max_depth:
            raise LimitError(f"containers are nested more than {max_depth} levels deep")
        level = containers
    return total


def _without_leaf_arrays(containers: list[Any]) -> tuple[list[Any], int]:
    """``containers`` without its arrays of numbers (leaves: nothing inside), and how many
    more elements than one each those arrays count (see :func:`_own_size`); attributes read
    by C-level ``map`` calls: a score model has 44 thousand such arrays on one level."""
    arrays = [child for child in containers if isinstance(child, np.ndarray)]
    kinds = set(map(operator.attrgetter("dtype.kind"), arrays))
    leaves = [array for array in arrays if array.dtype.kind != "O"] if "O" in kinds else arrays
    if not leaves:
        return containers, 0
    sizes = list(map(operator.attrgetter("size"), leaves))
    elements = sum(sizes) + sizes.count(0) - len(leaves)  # an empty array counts one
    if len(leaves) == len(containers):
        return [], elements
    leaf_ids = set(map(id, leaves))
    return [child for child in containers if id(child) not in leaf_ids], elements


def _level_children(level: list[Any]) -> tuple[list[Any], int]:
    """The values inside the containers of ``level`` (the keys and values of a dict), and
    how many more scalars its sequences hold: when they hold nothing else (a score model's
    14 million floats) they are counted, not gathered."""
    kinds = set(map(type, level))
    if kinds == {dict}:
        dicts, sequences, others = level, [], []
    elif kinds <= _SEQUENCES:
        dicts, sequences, others = [], level, []
    else:
        dicts = [node for node in level if isinstance(node, dict)]
        sequences = [node for node in level if isinstance(node, list | tuple | set | frozenset)]
        others = [node for node in level if not isinstance(node, dict | list | tuple | set)]
        others = [node for node in others if not isinstance(node, frozenset)]
    inside = list(itertools.chain.from_iterable(dicts))
    inside += itertools.chain.from_iterable(map(dict.values, dicts))
    leaves = 0
    if set(map(type, itertools.chain.from_iterable(sequences))) <= _SCALARS:
        leaves = sum(map(len, sequences))
    else:
        inside += itertools.chain.from_iterable(sequences)
    inside += itertools.chain.from_iterable(_children(node) or () for node in others)
    return inside, leaves


def _shared_size(root: Any, budget: int, max_depth: int) -> int:
    """The count when containers are shared: a depth-first walk that sizes each once."""
    sizes: dict[int, int] = {}
    on_path = {id(root)}
    stack: list[list[Any]] = [[root, iter(_children(root) or ()), 1]]
    while stack:
        frame = stack[-1]
        for child in frame[1]:
            known = 1 if type(child) in _SCALARS else sizes.get(id(child))
            if known is None:
                nested = _children(child)
                if nested is not None:
                    _check_descent(child, on_path, len(stack), max_depth)
                    stack.append([child, iter(nested), 1])
                    on_path.add(id(child))
                    break
                known = _own_size(child)
            frame[2] += known
            if frame[2] > budget:
                raise _over_budget(budget)
        else:
            stack.pop()
            on_path.discard(id(frame[0]))
            sizes[id(frame[0])] = frame[2]
            if stack:
                stack[-1][2] += frame[2]
    return sizes.get(id(root), _own_size(root))


def _check_descent(child: Any, on_path: set[int], depth: int, max_depth: int) -> None:
    if id(child) in on_path:
        raise LimitError(f"a {type(child).__name__} contains itself (a reference cycle)")
    if depth >= max_depth:
        raise LimitError(f"containers are nested more than {max_depth} levels deep")


def _over_budget(budget: int) -> LimitError:
    return LimitError(
        f"describes more than {budget} values (shared references counted in full); a "
        "prediction file holds at most one value per byte, or 20 million in all"
    )


def too_many_labels_message(where: str, count: int) -> str:
    """The message for a clip with more labels than any real prediction has."""
    return (
        f"{where}: {count} labels; a clip has at most {MAX_LABELS_PER_CLIP} (there are "
        f"{NUM_CLASSES} classes)"
    )


def check_values(
    mapping: Any, num_classes: int, source: str, kind: PredictionKind | None = None
) -> None:
    """Refuse label and score values of the authors' structure that are not what they claim
    to be, naming the clip, before the core expands them into matrices.

    Only the section the core will read is checked (``logits`` when ``kind`` is ``"scores"``
    or, by default, when every entry has them; ``predictions`` otherwise). Structural
    problems (an entry that is not a mapping, a value that is not a list) are left to
    :meth:`~vggsounder_hf.core.predictions.ModelPredictions.from_mapping`.

    Raises:
        PredictionError: A label that is not a class name or an integer (a boolean, a float,
            a list), a score that is not a real number (a string, a boolean, a complex
            number), or more than :data:`~vggsounder_hf.io.limits.MAX_LABELS_PER_CLIP`
            labels for one clip and input.

    Example:
        >>> check_values({"x_000001": {"predictions": {"a": [True, False]}}}, 309, "m.json")
        Traceback (most recent call last):
        vggsounder_hf.core.errors.PredictionError: m.json: clip 'x_000001', input 'a': label True \
(bool) is neither a class name nor a class index 0..308
    """
    if not isinstance(mapping, Mapping):
        return
    if set(map(type, mapping.values())) == {dict}:
        entries = list(mapping.items())  # the usual file; isinstance(Mapping) is slow
    else:
        entries = [(key, entry) for key, entry in mapping.items() if isinstance(entry, Mapping)]
    if kind is None:
        every = len(entries) == len(mapping)
        kind = "scores" if every and all(e.get("logits") is not None for _, e in entries) else None
    section_key = "logits" if kind == "scores" else "predictions"
    check = _check_scores if kind == "scores" else _check_labels
    if _plain_lists(entries, section_key, kind == "scores"):
        return
    for video_id, entry in entries:
        section = entry.get(section_key)
        if isinstance(section, Mapping):
            for modality, values in section.items():
                check(values, f"{source}: clip {video_id!r}, input {modality!r}", num_classes)


def _plain_lists(entries: list[tuple[Any, Mapping]], section_key: str, scores: bool) -> bool:
    """Whether every section holds only plain ``dict``s of ``list``s of acceptable values (class
    names or scores), checked in one pass over all values; the per-clip loop then has nothing to
    refuse, and only runs (to name the clip) when this says ``False``."""
    sections = [entry.get(section_key) for _, entry in entries]
    if set(map(type, sections)) - {dict, type(None)}:
        return False
    sections = [section for section in sections if section is not None]
    values = list(itertools.chain.from_iterable(map(dict.values, sections)))
    value_types = set(map(type, values))
    if scores and np.ndarray in value_types:  # float rows of io.float_runs: nothing to refuse
        arrays = [value for value in values if type(value) is np.ndarray]
        if {(array.ndim, array.dtype) for array in arrays} != {(1, np.dtype(np.float64))}:
            return False
        values = [value for value in values if type(value) is not np.ndarray]
        value_types.discard(np.ndarray)
    if value_types - {list}:
        return False
    if not scores and max(map(len, values), default=0) > MAX_LABELS_PER_CLIP:
        return False
    kinds = set(map(type, itertools.chain.from_iterable(values)))
    return kinds <= ({float, int} if scores else {str})


def _check_labels(labels: Any, where: str, num_classes: int) -> None:
    if isinstance(labels, np.ndarray):
        if labels.ndim != 1:
            return  # not a label set: the core says so
        if labels.dtype.kind == "O":
            labels = labels.tolist()
        elif labels.size and labels.dtype.kind not in "iuUS":
            raise PredictionError(not_a_label_message(where, labels[0].item(), num_classes))
    if not isinstance(labels, list | tuple | set | frozenset | np.ndarray):
        return
    if len(labels) > MAX_LABELS_PER_CLIP:
        raise PredictionError(too_many_labels_message(where, len(labels)))
    if isinstance(labels, np.ndarray):
        return
    kinds = set(map(type, labels))
    odd = {kind for kind in kinds if not is_label_type(kind)}
    if odd:
        label = next(label for label in labels if type(label) in odd)
        raise PredictionError(not_a_label_message(where, abbreviated(label), num_classes))
    if int in kinds:  # an index beyond any class, too long to print (10**5000)
        huge = next((label for label in labels if type(label) is int and abs(label) >= 2**63), None)
        if huge is not None:
            raise PredictionError(not_a_label_message(where, abbreviated(huge), num_classes))


def _check_scores(scores: Any, where: str, num_classes: int) -> None:
    if isinstance(scores, np.ndarray):
        if scores.ndim == 1 and scores.dtype.kind == "O":
            scores = scores.tolist()
        elif scores.size and scores.dtype.kind not in "iuf":
            raise PredictionError(not_a_score_message(where, scores.flat[0].item()))
    if isinstance(scores, list | tuple):
        odd = {kind for kind in set(map(type, scores)) if not is_score_type(kind)}
        if odd:
            value = next(value for value in scores if type(value) in odd)
            raise PredictionError(not_a_score_message(where, abbreviated(value)))
