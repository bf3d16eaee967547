"""Standard shapes in for the ``evaluate`` module, and its compact storage.

The module (``vggsounder_hf.METRIC_PATH``) takes predictions as torchmetrics and ``evaluate``
users write them, or as one row per clip:

* ``predictions``: an ``(N, 309)`` numpy array or torch tensor per input, as a mapping
  ``{"a": X, "v": Y, "av": Z}`` (any of the three) or one array for one input
  (``input_modality=``, default ``"av"``): multi-hot 0/1 (or booleans) for the ``labels``
  config, real numbers for ``scores``. ``video_ids=`` names the rows; without it the rows are
  the references' rows, in order, or, without references, the test split of the label
  release (its row order, as ``load_vggsounder`` gives it). Or the rows of
  :mod:`vggsounder_hf.hf.metric_inputs`.
* ``references``: omitted (the release's test split: every clip), the dataset's rows (a
  ``datasets.Dataset`` or mappings), or the multi-hot targets of the rows (an ``(N, 309)``
  array as :func:`~vggsounder_hf.hf.multi_hot.with_multi_hot_labels` makes them), which are
  checked to mark only labels of their clips and then stand for the release's rows, so that
  ``evaluate.combine`` can hand one pair of arrays to this module and to scikit-learn style
  modules. Clips without a prediction are treated as the command line treats them.

Storage: every ``add_batch`` call is one stored row whose two cells each hold one Arrow IPC
record batch: the predictions (``video_id``, then one column per input: fixed-size lists of
309 ``float32`` or ``float64`` scores, in the dtype given, or lists of class names) and the
references (``None`` for the release's rows). :func:`compute_from_batches` reads the scores
back without a copy, so the round trip through ``evaluate``'s cache costs one write.

Example:
    >>> import numpy as np
    >>> names = ("dog", "cat")
    >>> rows = [{"video_id": "x_000001", "labels": [0], "modalities": [2],
    ...          "background_music": False, "static_image": False, "voice_over": False}]
    >>> stored = stored_batch({"av": np.array([[0.9, 0.1]])}, rows, "scores", names)
    >>> [batch.column_names for batch in map(read_batch, stored)]
    [['video_id', 'av'], ['video_id', 'labels', 'modalities', 'background_music', \
'static_image', 'voice_over']]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa

from vggsounder_hf.core.coverage import check_clip_set
from vggsounder_hf.core.errors import GroundTruthError, OptionError, PredictionError
from vggsounder_hf.core.errors import duplicate_clip_message as duplicate
from vggsounder_hf.core.evaluation import evaluate_predictions
from vggsounder_hf.core.ground_truth import GroundTruth
from vggsounder_hf.core.predictions import ModelPredictions
from vggsounder_hf.core.schema import (
    COLUMNS,
    DEFAULT_CLIP_SET,
    DEFAULT_LABEL_RELEASE,
    INPUT_MODALITIES,
    META_LABELS,
    column,
    columns,
)
from vggsounder_hf.hf import metric_inputs
from vggsounder_hf.hf.logits import to_numpy
from vggsounder_hf.hf.multi_hot import check_targets, checked_targets, is_tensor
from vggsounder_hf.io.clips import ClipTable

__all__ = [
    "Release",
    "compute_from_batches",
    "metric_features",
    "read_batch",
    "release_rows",
    "stored_batch",
]

Release = tuple[GroundTruth, tuple[str, ...]]
"""A label release as the module's default references: its ground truth and the clip ids of
its test split, in row order."""
REFERENCE_FIELDS = metric_inputs.REFERENCE_FIELDS


def metric_features(config_name: str) -> Any:
    """The ``datasets.Features`` of one stored row (one ``add_batch`` call): two binary
    cells, each an Arrow IPC stream (the references' cell is ``None`` for the release)."""
    import datasets

    if config_name not in metric_inputs.CONFIG_NAMES:
        raise OptionError(
            f"unknown config {config_name!r}; use one of {metric_inputs.CONFIG_NAMES}"
        )
    cell = datasets.Value("large_binary")
    return datasets.Features({"predictions": cell, "references": cell})


@lru_cache(maxsize=4)
def release_rows(
    label_version: str = DEFAULT_LABEL_RELEASE, data_path: str | None = None
) -> Release:
    """The ground truth of a label release and its test split's clip ids in row order."""
    from vggsounder_hf.io.sources import load_release

    release = load_release(label_version, data_path)
    truth = GroundTruth.from_release(release)
    ids = getattr(release.clips, "video_ids", None)
    return truth, tuple(ids if ids is not None else (clip.video_id for clip in release.clips))


# --------------------------------------------------------------------------- add_batch


def stored_batch(
    predictions: Any,
    references: Any,
    config_name: str,
    class_names: Sequence[str],
    *,
    video_ids: Sequence[str] | None = None,
    input_modality: str = "av",
    release: Callable[[], Release] = release_rows,
) -> tuple[memoryview | None, memoryview | None]:
    """The two cells ``evaluate`` stores for one ``add_batch`` call (see the module docstring).

    Raises:
        VGGSounderInputError: The predictions or references are of an unknown form or the
            wrong shape or kind, or the rows cannot be named (the message says how).
    """
    if input_modality not in INPUT_MODALITIES:
        raise OptionError(
            f"input_modality must be one of {INPUT_MODALITIES}, got {input_modality!r}"
        )
    reference_table, reference_ids = metric_inputs.references_table(
        references, class_names, _is_array(references)
    )
    arrays = _input_arrays(predictions, input_modality, config_name, len(class_names))
    if arrays is None and video_ids is not None:
        raise OptionError(
            "video_ids= names the rows of prediction arrays; prediction rows carry their own "
            "'video_id'"
        )
    table = None
    if arrays is not None:
        rows = next(iter(arrays.values())).shape[0]
        ids = _row_ids(video_ids, reference_ids, rows, release)
        table = _array_table(arrays, ids, config_name, class_names)
    elif predictions is not None:
        table = metric_inputs.rows_table(predictions, config_name, class_names)
    if _is_array(references):
        targets = checked_targets(references)
        if table is not None:
            ids = table.column("video_id").to_pylist()
        else:
            ids = _row_ids(video_ids, None, len(targets), release)
        check_targets(targets, ids, release()[0])
    return _ipc(table), _ipc(reference_table)


def _is_array(value: Any) -> bool:
    if isinstance(value, np.ndarray) or is_tensor(value):
        return True
    return isinstance(value, list | tuple) and bool(value) and isinstance(value[0], list | tuple)


def _input_arrays(
    predictions: Any, input_modality: str, config_name: str, num_classes: int
) -> dict[str, np.ndarray] | None:
    """``{input: (N, num_classes) array}``, checked, when the predictions are arrays;
    ``None`` when they are rows."""
    if isinstance(predictions, Mapping) and predictions and set(predictions) <= {*INPUT_MODALITIES}:
        given = {m: v for m, v in predictions.items() if v is not None}
    elif _is_array(predictions):
        given = {input_modality: predictions}
    else:
        return None
    if not given:
        raise PredictionError("predictions: every input is None")
    arrays = {}
    for modality in (m for m in INPUT_MODALITIES if m in given):
        where = f"predictions, input {modality!r}"
        try:
            array = to_numpy(given[modality])
        except ValueError as error:
            raise PredictionError(f"{where}: not one rectangular array ({error})") from None
        if array.ndim != 2 or array.shape[1] != num_classes:
            raise PredictionError(
                f"{where}: expected an (N, {num_classes}) array (one row per clip, one column "
                f"per class), got shape {array.shape}"
            )
        arrays[modality] = (_checked_scores if config_name == "scores" else _checked_hot)(
            array, where
        )
    shapes = {m: a.shape for m, a in arrays.items()}
    if len({shape[0] for shape in shapes.values()}) > 1:
        raise PredictionError(f"predictions: the inputs have different numbers of rows: {shapes}")
    return arrays


def _checked_scores(array: np.ndarray, where: str) -> np.ndarray:
    """Real scores in their own float type (exact: the core reads every float as
    ``float64``); integers become ``float64``, ``float16`` becomes ``float32``."""
    if array.dtype.kind not in "iuf":
        raise PredictionError(
            f"{where}: scores must be real numbers, got dtype {array.dtype} (booleans are label "
            "sets: use the 'labels' config)"
        )
    if array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float32 if array.dtype == np.float16 else np.float64)
    return np.ascontiguousarray(array)


def _checked_hot(array: np.ndarray, where: str) -> np.ndarray:
    if array.dtype.kind not in "biuf":
        raise PredictionError(f"{where}: expected multi-hot 0/1 values, got dtype {array.dtype}")
    if array.dtype.kind != "b":
        odd = array[(array != 0) & (array != 1)]
        if odd.size:
            raise PredictionError(
                f"{where}: the 'labels' config takes multi-hot 0/1 values, got {odd.flat[0]!r}; "
                "scores go to the 'scores' config (evaluate.load(path, 'scores')), with "
                "threshold= for a label-set reading"
            )
    return array


def _row_ids(
    video_ids: Sequence[str] | None,
    reference_ids: list[str] | None,
    rows: int,
    release: Callable[[], Release],
) -> list[str]:
    """The clip ids of the rows of prediction arrays (see the module docstring)."""
    if video_ids is not None:
        if is_tensor(video_ids) or isinstance(video_ids, str | bytes):
            raise OptionError("video_ids= must be a sequence of clip ids (strings)")
        ids = list(video_ids.tolist() if isinstance(video_ids, np.ndarray) else video_ids)
        named = "video_ids="
    elif reference_ids is not None:
        ids, named = reference_ids, "the references"
    else:
        ids, named = list(release()[1]), "the release's test split"
    if len(ids) != rows:
        hint = "" if video_ids is not None else "; pass video_ids= (one clip id per row)"
        raise PredictionError(
            f"predictions have {rows} rows but {named} name {len(ids)} clips{hint}"
        )
    bad = next((value for value in ids if not isinstance(value, str)), None)
    if bad is not None:
        raise OptionError(f"video_ids= must hold strings, got {bad!r}")
    return ids


def _array_table(
    arrays: Mapping[str, np.ndarray], ids: list[str], config_name: str, class_names: Sequence[str]
) -> pa.Table:
    table = {"video_id": pa.array(ids, pa.string())}
    for modality, array in arrays.items():
        if config_name == "labels":
            table[modality] = pa.array(_label_lists(array, class_names), _NAMES)
            continue
        finite = np.isfinite(array).all(axis=1)
        if not finite.all():
            row = int(np.argmin(finite))
            raise PredictionError(
                f"predictions, input {modality!r}: row {row} ({ids[row]}): scores contain NaN "
                "or infinity"
            )
        values = pa.array(array.reshape(-1))  # no copy
        table[modality] = pa.FixedSizeListArray.from_arrays(values, array.shape[1])
    return pa.table(table)


_NAMES = pa.list_(pa.string())


def _label_lists(array: np.ndarray, class_names: Sequence[str]) -> list[list[str]]:
    """Multi-hot rows as lists of class names."""
    clip_of, class_of = np.nonzero(array)
    names = np.asarray(class_names, dtype=object)[class_of].tolist()
    ends = np.cumsum(np.bincount(clip_of, minlength=array.shape[0])).tolist()
    return [names[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)]


def _ipc(table: pa.Table | None) -> memoryview | None:
    """One Arrow IPC stream of the table, written once into a buffer of its exact size."""
    if table is None:
        return None
    sizer = pa.MockOutputStream()
    with pa.ipc.new_stream(sizer, table.schema) as writer:
        writer.write_table(table)
    buffer = pa.allocate_buffer(sizer.size())
    with pa.ipc.new_stream(pa.FixedSizeBufferWriter(buffer), table.schema) as writer:
        writer.write_table(table)
    return memoryview(buffer)


def read_batch(cell: Any) -> pa.Table:
    """The Arrow table in one stored cell (zero-copy from a buffer)."""
    if isinstance(cell, pa.Scalar):
        cell = cell.as_buffer()
    buffer = cell if isinstance(cell, pa.Buffer) else pa.py_buffer(cell)
    return pa.ipc.open_stream(buffer).read_all()


# --------------------------------------------------------------------------- _compute


def compute_from_batches(
    predictions: Any,
    references: Any,
    config_name: str,
    class_names: Sequence[str],
    *,
    release: Callable[[], Release] = release_rows,
    **options: Any,
) -> dict[str, Any]:
    """Score the stored cells with :func:`~vggsounder_hf.core.evaluation.evaluate_predictions`.

    Args:
        predictions, references: The stored cells, in storage order (a ``pyarrow`` array or
            a list of buffers; ``None`` cells are calls without predictions or references).
        config_name: ``"labels"`` or ``"scores"``.
        class_names: The class list.
        release: The default references (called only when the references were omitted).
        **options: Keyword arguments of ``evaluate_predictions``.

    Raises:
        VGGSounderInputError: No prediction, a clip predicted twice for one input, or
            references given in some calls and omitted in others.
    """
    tables = [read_batch(cell) for cell in _cells(predictions) if cell is not None]
    if not tables:
        raise PredictionError("no predictions were added: nothing to score")
    model = _model(tables, config_name, class_names)
    truth = _truth(references, class_names, release)
    clip_set = options.get("clip_set", DEFAULT_CLIP_SET)
    scored = [
        name
        for name in columns(options.get("columns", COLUMNS))
        if column(name).input in model.inputs
    ]
    check_clip_set(truth, clip_set, scored, source="the references")
    return evaluate_predictions(truth, model, **options)


def _cells(stored: Any) -> list[Any]:
    """The stored cells in order, ``None`` for an empty one."""
    if isinstance(stored, pa.ChunkedArray):
        return [cell if cell.is_valid else None for chunk in stored.chunks for cell in chunk]
    return list(stored)


def _one_array(chunked: pa.ChunkedArray) -> pa.Array:
    return chunked.chunk(0) if chunked.num_chunks == 1 else chunked.combine_chunks()


def _model(
    tables: list[pa.Table], config_name: str, class_names: Sequence[str]
) -> ModelPredictions:
    ids_of: dict[str, list[np.ndarray]] = {}
    values_of: dict[str, list[Any]] = {}
    numbers_of: dict[str, list[np.ndarray]] = {}
    start = 0
    for table in tables:
        ids = table.column("video_id").to_numpy()
        for modality in (m for m in INPUT_MODALITIES if m in table.column_names):
            cells = _one_array(table.column(modality))
            present = ~cells.is_null().to_numpy(zero_copy_only=False)
            # one id array for inputs that cover the same rows: the core matches them once
            ids_of.setdefault(modality, []).append(ids if present.all() else ids[present])
            numbers_of.setdefault(modality, []).append(start + np.flatnonzero(present))
            values_of.setdefault(modality, []).append(_values(cells, present, config_name))
        start += len(ids)
    if not ids_of:
        raise PredictionError("predictions: every input modality is empty (all None)")
    given = {}
    for modality, parts in ids_of.items():
        ids = parts[0] if len(parts) == 1 else np.concatenate(parts)
        _check_once(ids, np.concatenate(numbers_of[modality]), modality)
        if config_name == "scores":
            parts_ = values_of[modality]
            given[modality] = (ids, parts_[0] if len(parts_) == 1 else np.concatenate(parts_))
        else:
            given[modality] = dict(
                zip(ids.tolist(), (v for p in values_of[modality] for v in p), strict=True)
            )
    if config_name == "scores":
        return ModelPredictions.from_scores(given, class_names, source="predictions")
    return ModelPredictions.from_label_sets(given, class_names, source="predictions")


def _values(cells: pa.Array, present: np.ndarray, config_name: str) -> Any:
    if config_name == "labels":
        return [value for value, kept in zip(cells.to_pylist(), present, strict=True) if kept]
    size = cells.type.list_size
    flat = cells.values.to_numpy(zero_copy_only=True)[
        cells.offset * size : (cells.offset + len(cells)) * size
    ]
    matrix = flat.reshape(len(cells), size)
    return matrix if present.all() else matrix[present]


def _check_once(ids: np.ndarray, numbers: np.ndarray, modality: str) -> None:
    """One prediction per clip and input; else name both rows (numbered in storage order)."""
    if len(set(ids.tolist())) == len(ids):
        return
    order = np.argsort(ids, kind="stable")
    repeated = np.flatnonzero(ids[order][1:] == ids[order][:-1])[0]
    first, second = sorted(numbers[order[[repeated, repeated + 1]]].tolist())
    detail = f"predictions[{first}] and [{second}], input {modality!r}"
    raise PredictionError(duplicate("predictions", str(ids[order[repeated]]), detail))


def _truth(
    references: Any, class_names: Sequence[str], release: Callable[[], Release]
) -> GroundTruth:
    cells = _cells(references)
    given = [cell for cell in cells if cell is not None]
    if not given:
        truth = release()[0]
        if tuple(truth.class_names) != tuple(class_names):
            raise OptionError("the release's classes differ from the module's class list")
        return truth
    if len(given) != len(cells):
        raise GroundTruthError(
            "references were given in some add_batch calls and omitted in others: give them "
            "in every call, or in none (then every clip of the release's test split is a "
            "reference)"
        )
    table = pa.concat_tables([read_batch(cell) for cell in given])
    labels = _one_array(table.column("labels"))
    modalities = _one_array(table.column("modalities"))
    lengths = labels.value_lengths().to_numpy(zero_copy_only=False)
    clips = ClipTable(
        table.column("video_id").to_pylist(),
        np.repeat(np.arange(len(lengths)), lengths),
        labels.flatten().to_numpy(zero_copy_only=False),
        modalities.flatten().to_numpy(zero_copy_only=False),
        {name: table.column(name).to_numpy() for name in META_LABELS},
    )
    return GroundTruth.from_clips(clips, class_names)
