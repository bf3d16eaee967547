"""Record the authors' reference metric values that the project's tests compare against.

Run with the authors' package ``vggsounder==1.0`` installed in a separate environment
(see ``scripts/reference/README.md``)::

    /work/venv-ref/bin/python scripts/reference/compute_reference_values.py

For every clip set in ``CLIP_SETS`` it calls the reference
``vggsounder.benchmark.compute_all_results`` once per released prediction file (each
in its own temporary folder holding a symlink to that file) and once for a synthetic
score model built by ``tests/synthetic_scores.py``, and writes the results, the clip
counts the reference sees, the warnings it emitted, its run times and a description
of this machine to ``tests/reference_values/reference_1.0.json`` (atomically).

The script only calls the reference; it computes no metric itself.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import math
import os
import pickle
import platform
import shlex
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from vggsounder.benchmark import VGGSounder, compute_all_results, get_gt_for_modality

# The repository root holds a `vggsounder.py` (the datasets builder); make sure the
# authors' installed package was imported, not that file.
REFERENCE_PACKAGE = Path(sys.modules["vggsounder"].__file__).resolve().parent

REPO_ROOT = Path(__file__).resolve().parents[2]
if REPO_ROOT in REFERENCE_PACKAGE.parents or REFERENCE_PACKAGE == REPO_ROOT:
    raise SystemExit(f"imported vggsounder from {REFERENCE_PACKAGE}, not the authors' package")
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
PREDICTIONS_DIR = SHARED_DATA / "model-predictions"
DEFAULT_OUTPUT = REPO_ROOT / "tests" / "reference_values" / "reference_1.0.json"
SYNTHETIC_MODULE = REPO_ROOT / "tests" / "synthetic_scores.py"
SYNTHETIC_MODEL = "synthetic-scores"
SYNTHETIC_SEED = 0

COLUMNS = ["av", "a", "v", "a only", "v only"]
"""The five evaluation columns, named as the reference names them."""

GT_SUBSETS = [*COLUMNS, "all"]
"""Ground-truth subsets the reference builds (``all`` is used for modality confusion)."""

CLIP_SETS: dict[str, dict[str, bool | None]] = {
    "default": {},
    "full": {"background_music": None},
    "full+static_image": {"background_music": None, "static_image": True},
    "full+no_voice_over": {"background_music": None, "voice_over": False},
    "background_music": {"background_music": True},
    "no_meta": {"background_music": False, "static_image": False, "voice_over": False},
}
"""Clip set name -> keyword arguments of the reference ``VGGSounder`` constructor."""

DATA_FILES = [
    "classes.csv",
    "vggsounder.csv",
    "vggsounder+background-music.csv",
    "vggsounder+background-music_0.1.6.csv",
    "vggsounder_0.1.6.csv",
]

NUMPY_CPU_FEATURES = ["AVX2", "AVX512F", "AVX512_SKX", "AVX512_ICL", "AVX512_SPR"]


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_bundled_data() -> dict[str, str]:
    """Check that the reference's bundled annotation files equal ../shared's; return hashes."""
    bundled = REFERENCE_PACKAGE / "data"
    hashes = {}
    for name in DATA_FILES:
        ours, theirs = sha256_file(SHARED_DATA / "vggsounder" / name), sha256_file(bundled / name)
        if ours != theirs:
            raise SystemExit(f"{bundled / name} differs from {SHARED_DATA / 'vggsounder' / name}")
        hashes[name] = ours
    return hashes


def load_synthetic_module() -> ModuleType:
    """Import tests/synthetic_scores.py by path (tests/ is not a package)."""
    spec = importlib.util.spec_from_file_location("synthetic_scores", SYNTHETIC_MODULE)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {SYNTHETIC_MODULE}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def to_json(value: Any, where: str) -> Any:
    """Turn the reference's nested results into plain JSON values (numpy -> Python)."""
    if isinstance(value, dict):
        return {str(key): to_json(item, f"{where}/{key}") for key, item in value.items()}
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if not math.isfinite(number):
            raise SystemExit(f"reference returned a non-finite value {number} at {where}")
        return number
    raise SystemExit(f"unexpected value of type {type(value).__name__} at {where}")


def run_reference(pkl: Path, clip_set: dict[str, bool | None]) -> tuple[dict, float, list]:
    """Run compute_all_results on one prediction file; return results, seconds, warnings."""
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / pkl.name).symlink_to(pkl.resolve())
        dataset = VGGSounder(**clip_set)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            results = compute_all_results(models_path=folder, vggsounder=dataset, verbose=False)
            seconds = time.perf_counter() - start
    # Messages may name the temporary folder; keep the recorded text reproducible.
    counts = Counter(
        (w.category.__name__, str(w.message).replace(folder, "<temporary folder>")) for w in caught
    )
    seen = [{"category": c, "message": m, "count": n} for (c, m), n in sorted(counts.items())]
    return dict(results), seconds, seen


def clip_counts(clip_set: dict[str, bool | None]) -> dict[str, int]:
    """Clips per column as the reference sees them (its ground-truth frame lengths)."""
    dataset = VGGSounder(**clip_set)
    return {name: len(get_gt_for_modality(dataset, name)) for name in GT_SUBSETS}


def ground_truth_facts(
    clip_set: dict[str, bool | None], scored: set[str]
) -> tuple[dict[str, int], dict[str, int]]:
    """Per column: classes with a positive clip, and clips with synthetic scores."""
    dataset = VGGSounder(**clip_set)
    with_positive, with_scores = {}, {}
    for name in GT_SUBSETS:
        frame = get_gt_for_modality(dataset, name)
        with_positive[name] = len({label for labels in frame["labels"] for label in labels})
        with_scores[name] = int(frame["id"].isin(scored).sum())
    return with_positive, with_scores


def build_synthetic(folder: Path) -> tuple[Path, dict, list[str]]:
    """Build the synthetic score model over the full 1.0 clip set and pickle it."""
    module = load_synthetic_module()
    dataset = VGGSounder(background_music=None)
    classes = dataset.get_all_labels()
    index = {name: i for i, name in enumerate(classes)}
    video_ids, label_sets = [], []
    for video in dataset:
        unknown = [label for label in video.labels if label not in index]
        if unknown:
            raise SystemExit(f"clip {video.video_id} has labels not in classes.csv: {unknown}")
        video_ids.append(video.video_id)
        label_sets.append([index[label] for label in video.labels])
    predictions = module.make_score_predictions(
        video_ids, label_sets, num_classes=len(classes), seed=SYNTHETIC_SEED
    )
    path = folder / f"{SYNTHETIC_MODEL}.pkl"
    with path.open("wb") as handle:
        pickle.dump(predictions, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return path, predictions, video_ids


def argsort_fingerprints(predictions: dict) -> dict[str, Any]:
    """Fingerprint how this machine breaks score ties in numpy's default argsort."""
    keys = sorted(predictions)
    scores = np.array([predictions[key]["logits"]["av"] for key in keys], dtype=np.float64)
    default = np.ascontiguousarray(np.argsort(scores, axis=1)[:, -10:], dtype=np.int64)
    stable = np.ascontiguousarray(
        np.argsort(scores, axis=1, kind="stable")[:, -10:], dtype=np.int64
    )
    return {
        "argsort_fingerprint": hashlib.sha256(default.tobytes()).hexdigest(),
        "argsort_fingerprint_stable": hashlib.sha256(stable.tobytes()).hexdigest(),
        "argsort_fingerprint_recipe": (
            "rows: the 'av' scores of every entry of make_score_predictions(video_ids, "
            "label_sets, 309, seed=0) in sorted(video_id) order (extra ids included), as "
            "float64; sha256 of np.argsort(S, axis=1)[:, -10:] as C-contiguous int64 bytes "
            "(the _stable variant uses kind='stable'). video_ids: the full 1.0 clip set in "
            "order of first appearance in vggsounder+background-music.csv; label_sets: "
            "indices into classes.csv of each clip's labels (all modalities)."
        ),
        "argsort_rows_differing_from_stable": int(np.any(default != stable, axis=1).sum()),
        "argsort_rows": len(keys),
    }


def machine_summary() -> dict[str, Any]:
    """Describe the interpreter, libraries and CPU features relevant to tie-breaking."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        cpuinfo = []
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # pragma: no cover - older numpy
        features = {}
    return {
        "vggsounder_version": importlib.metadata.version("vggsounder"),
        "vggsounder_module_version_attribute": getattr(
            sys.modules["vggsounder"], "__version__", None
        ),
        "numpy_version": np.__version__,
        "pandas_version": pd.__version__,
        "sklearn_version": sklearn.__version__,
        "python": sys.version,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": {
            "avx512f_in_proc_cpuinfo": "avx512f" in cpuinfo,
            "avx2_in_proc_cpuinfo": "avx2" in cpuinfo,
            "numpy_cpu_features": {name: bool(features.get(name)) for name in NUMPY_CPU_FEATURES},
        },
    }


def write_atomically(path: Path, payload: dict) -> None:
    """Write JSON to ``path`` via a temporary file in the same folder and os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(payload, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp creates 0600; give a normal file mode
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    """Run every reference computation and write the JSON file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON file to write")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    payload: dict[str, Any] = {"generated_by": shlex.join(sys.orig_argv)}
    payload.update(machine_summary())
    payload["data_sha256"] = check_bundled_data()
    payload["clip_sets"] = CLIP_SETS
    payload["synthetic_seed"] = SYNTHETIC_SEED

    model_files = sorted(PREDICTIONS_DIR.glob("*.pkl"))
    if len(model_files) != 7:
        raise SystemExit(f"expected 7 prediction files in {PREDICTIONS_DIR}, found {model_files}")
    payload["prediction_files_sha256"] = {p.stem: sha256_file(p) for p in model_files}

    results: dict[str, dict] = {}
    seconds: dict[str, dict] = {}
    seen_warnings: dict[str, dict] = {}
    counts: dict[str, dict] = {}
    positives: dict[str, dict] = {}
    scored_counts: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as folder:
        synthetic_path, predictions, video_ids = build_synthetic(Path(folder))
        payload.update(argsort_fingerprints(predictions))
        scored = set(predictions) & set(video_ids)
        payload["synthetic_entries"] = {
            "entries": len(predictions),
            "benchmark_clips": len(video_ids),
            "benchmark_clips_with_scores": len(scored),
            "extra_ids": len(set(predictions) - set(video_ids)),
        }
        for set_name, clip_set in CLIP_SETS.items():
            counts[set_name] = clip_counts(clip_set)
            positives[set_name], scored_counts[set_name] = ground_truth_facts(clip_set, scored)
            results[set_name], seconds[set_name], seen_warnings[set_name] = {}, {}, {}
            for pkl in [*model_files, synthetic_path]:
                output, took, caught = run_reference(pkl, clip_set)
                if set(output) != {pkl.stem}:
                    raise SystemExit(f"{pkl.name}: unexpected result keys {sorted(output)}")
                results[set_name][pkl.stem] = to_json(output[pkl.stem], f"{set_name}/{pkl.stem}")
                seconds[set_name][pkl.stem] = round(took, 3)
                seen_warnings[set_name][pkl.stem] = caught
                print(
                    f"{set_name:20s} {pkl.stem:18s} {took:6.1f}s  {len(caught)} warning kinds",
                    flush=True,
                )

    payload["clip_counts"] = counts
    payload["classes_with_positive"] = positives
    payload["synthetic_clips_with_scores"] = scored_counts
    payload["reference_seconds"] = seconds
    payload["reference_warnings"] = seen_warnings
    payload["results"] = results
    payload["total_seconds"] = round(time.perf_counter() - started, 1)
    write_atomically(args.output, payload)
    print(f"wrote {args.output} in {payload['total_seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
