"""The ``datasets`` builder for VGGSounder: one config per label source, one row per clip.

The configs are the authors' label releases (``1.0``, ``0.1.6``) and ``vggsound``, VGGSound's own
single-label test labels in the same features (every label ``AV``, every meta flag ``False``;
see :mod:`vggsounder_hf.io.vggsound`). VGGSound's public CSV is not always reachable: pass a copy
as ``data_path``.

Works as a plain class with ``datasets`` 5.x (no loading script needed):

Example:
    >>> from vggsounder_hf.hf.builder import VGGSounderBuilder
    >>> builder = VGGSounderBuilder(cache_dir="/tmp/hf-cache")  # default release  # doctest: +SKIP
    >>> builder.download_and_prepare()  # doctest: +SKIP
    >>> ds = builder.as_dataset(split="test")  # doctest: +SKIP
    >>> ds.num_rows, ds.features["labels"].feature.names[0]  # doctest: +SKIP
    (15069, 'ambulance siren')

Finding, checking and parsing the annotation files lives in :mod:`vggsounder_hf.io.sources` and
:mod:`vggsounder_hf.io.annotations`; this module only describes the dataset and writes its rows.

The builder has no media option: it prepares and caches the labels alone, keyed by the
checksums of the annotation files. Media are joined after that, by ``video_id``, with
``load_vggsounder(version, media=...)`` or :func:`vggsounder_hf.hf.media.join_media`, so a
changed or growing copy of the clips never re-prepares the labels, and a media dataset's
bytes are not copied into the labels' cache.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import datasets
import pyarrow as pa
from datasets.builder import Key

from vggsounder_hf.core.schema import (
    DEFAULT_LABEL_RELEASE,
    LABEL_SOURCES,
    MODALITY_NAMES,
    NUM_CLASSES,
    VGGSOUND_LABELS,
)
from vggsounder_hf.io.annotations import read_class_names
from vggsounder_hf.io.clips import Clip
from vggsounder_hf.io.sources import (
    RELEASES,
    Release,
    ReleaseFiles,
    parse_release,
    resolve_release_files,
)
from vggsounder_hf.io.vggsound import VGGSOUND_CSV_URL

__all__ = ["CITATION", "DESCRIPTION", "VGGSounderBuilder", "VGGSounderConfig", "make_features"]

# Bump when the rows written for the same input files change: it re-keys the on-disk cache.
_CACHE_SCHEMA = "vggsounder-hf/builder/1"

HOMEPAGE = "https://vggsounder.github.io/"
LICENSE = (
    "Annotations: CC BY 4.0 (VGGSound and the VGGSounder re-annotation). "
    "The videos are YouTube clips and are not part of this dataset."
)
DESCRIPTION = f"""\
VGGSounder (ICCV 2025) re-annotates the test set of VGGSound as a multi-label benchmark for
audio-visual models. One row per ten-second YouTube clip: its class labels ({NUM_CLASSES} VGGSound
classes), the modality of each label (A: audible only, V: visible only, AV: audible and
visible), and three per-clip meta labels (background_music, static_image, voice_over).
Every clip of the release is included; the authors' default benchmark set is the clips with
background_music == False. Only labels are provided, not the videos.
"""
CITATION = """\
@inproceedings{zverev2025vggsounder,
  title     = {{VGGSounder}: Audio-Visual Evaluations for Foundation Models},
  author    = {Zverev, Daniil and Wiedemer, Thadd{\\"a}us and Prabhu, Ameya and
               Bethge, Matthias and Brendel, Wieland and Koepke, A. Sophia},
  booktitle = {Proceedings of the IEEE/CVF International Conference on Computer Vision (ICCV)},
  year      = {2025}
}

@inproceedings{chen2020vggsound,
  title     = {{VGGSound}: A Large-scale Audio-Visual Dataset},
  author    = {Chen, Honglie and Xie, Weidi and Vedaldi, Andrea and Zisserman, Andrew},
  booktitle = {IEEE International Conference on Acoustics, Speech and Signal Processing (ICASSP)},
  year      = {2020}
}
"""


def _config_version(release: str) -> datasets.Version:
    """A label release as the ``major.minor.patch`` version ``datasets`` wants (VGGSound's
    labels, which have no release number: ``1.0.0``).

    Example:
        >>> [str(_config_version(name)) for name in ("1.0", "0.1.6", "vggsound")]
        ['1.0.0', '0.1.6', '1.0.0']
    """
    parts = release.split(".") if release != VGGSOUND_LABELS else ["1"]
    return datasets.Version(".".join([*parts, "0", "0"][:3]))


def _config_description(source: str) -> str:
    if source == VGGSOUND_LABELS:
        return (
            "VGGSound's original test labels, one class per clip (marked AV, no meta label), "
            f"from {VGGSOUND_CSV_URL} (split test) or a copy given as data_path; scored, its "
            "a/v/av hit is the paper's accuracy on VGGSound."
        )
    return (
        f"VGGSounder labels, release {source} (authors' file {RELEASES[source].annotations.name})."
    )


@dataclass
class VGGSounderConfig(datasets.BuilderConfig):
    """One VGGSounder label release.

    Attributes:
        data_path: optional user directory or annotation CSV that replaces the authors' files
            (see :func:`vggsounder_hf.io.sources.resolve_release_files`; not checksum-verified).
    """

    data_path: str | None = None


def make_features(class_names: Sequence[str]) -> datasets.Features:
    """The dataset's features for the given class names (``classes.csv`` order).

    Example:
        >>> make_features(["dog barking", "cat purring"])["modalities"].feature.names
        ['A', 'V', 'AV']
    """
    return datasets.Features(
        {
            "video_id": datasets.Value("string"),
            "youtube_id": datasets.Value("string"),
            "start_seconds": datasets.Value("int32"),
            "labels": datasets.List(datasets.ClassLabel(names=list(class_names))),
            "modalities": datasets.List(datasets.ClassLabel(names=list(MODALITY_NAMES))),
            "background_music": datasets.Value("bool"),
            "static_image": datasets.Value("bool"),
            "voice_over": datasets.Value("bool"),
        }
    )


def _clips_table(clips: Sequence[Clip], features: datasets.Features) -> pa.Table:
    """All clips as one Arrow table with exactly the features' schema (every feature is the
    :class:`~vggsounder_hf.io.clips.Clip` attribute of the same name)."""
    schema = features.arrow_schema
    arrays = [
        pa.array([getattr(clip, field.name) for clip in clips], type=field.type) for field in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


class VGGSounderBuilder(datasets.ArrowBasedBuilder):
    """VGGSounder labels as a ``datasets`` dataset (split ``test``, one row per clip).

    Configs: one per label source of :data:`~vggsounder_hf.core.schema.LABEL_SOURCES`, the
    authors' releases and VGGSound's own labels; the default config is
    :data:`~vggsounder_hf.core.schema.DEFAULT_LABEL_RELEASE`. Keyword
    ``data_path`` (or the standard ``data_dir``) replaces the authors' files with a user
    directory or annotation CSV.

    The cache directory is keyed by the sha256 of the source files, so edited user files are
    never served from a stale cache.

    Example:
        >>> builder = VGGSounderBuilder(config_name="0.1.6")  # doctest: +SKIP
        >>> builder.download_and_prepare()  # doctest: +SKIP
        >>> builder.as_dataset(split="test").num_rows  # doctest: +SKIP
        15339
    """

    BUILDER_CONFIG_CLASS = VGGSounderConfig
    BUILDER_CONFIGS = [  # noqa: RUF012 (datasets expects a plain list)
        VGGSounderConfig(
            name=source, version=_config_version(source), description=_config_description(source)
        )
        for source in LABEL_SOURCES
    ]
    DEFAULT_CONFIG_NAME = DEFAULT_LABEL_RELEASE

    def __init__(
        self,
        cache_dir: str | None = None,
        dataset_name: str | None = None,
        config_name: str | None = None,
        hash: str | None = None,
        **kwargs,
    ) -> None:
        if "media" in kwargs:
            raise TypeError(
                "VGGSounderBuilder does not take media=: it prepares the labels only; join media "
                "with load_vggsounder(version, media=...) or vggsounder_hf.hf.media.join_media()"
            )
        version = config_name or self.DEFAULT_CONFIG_NAME
        data_path = kwargs.get("data_path") or kwargs.get("data_dir")
        download_dir = (
            os.path.join(
                os.path.expanduser(str(cache_dir)), datasets.config.DOWNLOADED_DATASETS_DIR
            )
            if cache_dir
            else str(datasets.config.DOWNLOADED_DATASETS_PATH)
        )
        # Resolved (and checksum-verified) before the base class builds info and cache paths.
        self._release_files: ReleaseFiles = resolve_release_files(
            version, data_path, download_dir=download_dir
        )
        super().__init__(
            cache_dir=cache_dir,
            dataset_name=dataset_name or "vggsounder",
            config_name=config_name,
            hash=self._fingerprint(self._release_files, hash),
            **kwargs,
        )

    @staticmethod
    def _fingerprint(files: ReleaseFiles, code_hash: str | None) -> str:
        """Cache key of the prepared data: our schema, the inputs' sha256, the code hash."""
        parts = [_CACHE_SCHEMA, files.version, files.annotations_sha256, files.classes_sha256]
        parts.append(code_hash or "")
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    @property
    def release_files(self) -> ReleaseFiles:
        """The resolved source files (paths, origin and sha256)."""
        return self._release_files

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description=f"{DESCRIPTION}\nThis config: {self.config.description}\n",
            citation=CITATION,
            homepage=HOMEPAGE,
            license=LICENSE,
            features=make_features(read_class_names(self._release_files.classes)),
        )

    def _split_generators(self, dl_manager) -> list[datasets.SplitGenerator]:
        # Parse here, not in _generate_tables: datasets wraps errors raised there, and a bad
        # file must surface as the AnnotationError that names file, line and problem.
        release = parse_release(self._release_files)
        return [datasets.SplitGenerator(name=datasets.Split.TEST, gen_kwargs={"release": release})]

    def _generate_tables(self, release: Release) -> Iterator[tuple[Key, pa.Table]]:
        yield Key(0, 0), _clips_table(release.clips, self.info.features)
