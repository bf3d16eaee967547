"""Decode a clip's audio and video with PyAV, whose wheels bring their own FFmpeg; write tiny
demo clips to try the evaluation loop without a copy of VGGSound.

``datasets`` decodes its ``Audio`` and ``Video`` features with ``torchcodec``, which needs the
FFmpeg shared libraries of the system; :func:`decode_audio` and :func:`decode_video` need only
``pip install "vggsounder-hf[media]"`` (PyAV). Both take a path, the bytes of a file, or the
undecoded value of a dataset row (``{"path": ..., "bytes": ...}``, as
:func:`vggsounder_hf.hf.media.join_media` stores it).

:func:`write_demo_clips` writes clips of a second of a tone and eight coloured frames, named
after the clips given: stand-ins that exercise the loop (docs/evaluate.md), not data.

Example:
    >>> decode_audio(None)
    Traceback (most recent call last):
    vggsounder_hf.io.media_files.MediaError: the clip has no media to decode (None)
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from vggsounder_hf.io.media_files import MediaError

__all__ = ["MediaDependencyError", "decode_audio", "decode_video", "write_demo_clips"]

MediaInput = str | os.PathLike[str] | bytes | Mapping[str, Any] | None


class MediaDependencyError(ImportError):
    """PyAV is not installed (``pip install "vggsounder-hf[media]"``)."""


def _av() -> Any:
    try:
        import av
    except ImportError:
        raise MediaDependencyError(
            'decoding media needs PyAV: pip install "vggsounder-hf[media]" (or pip install av)'
        ) from None
    return av


@contextmanager
def _opened(source: MediaInput) -> Iterator[tuple[Any, str]]:
    """The open container of a path, bytes or row value, and its name for messages."""
    if isinstance(source, Mapping):
        source = source.get("bytes") or source.get("path")
    if source is None:
        raise MediaError("the clip has no media to decode (None)")
    if isinstance(source, bytes | bytearray | memoryview):
        name, handle = f"<{len(source)} bytes>", io.BytesIO(bytes(source))
    elif isinstance(source, str | os.PathLike):
        name = handle = os.fspath(source)
        if not os.path.isfile(name):
            raise MediaError(f"{name}: no such media file")
    else:
        raise MediaError(f"cannot decode a {type(source).__name__}: give a path or bytes")
    av = _av()
    try:
        container = av.open(handle)
    except av.FFmpegError as error:
        raise MediaError(f"{name}: not a readable media file ({error})") from None
    try:
        yield container, name
    except av.FFmpegError as error:
        raise MediaError(f"{name}: cannot decode ({error})") from None
    finally:
        container.close()


def decode_audio(source: MediaInput, sampling_rate: int | None = None) -> tuple[np.ndarray, int]:
    """The first audio stream as ``float32`` samples ``(channels, samples)`` in [-1, 1].

    Args:
        source: A path, a file's bytes, or a row's ``{"path", "bytes"}`` value.
        sampling_rate: Resample to this rate (Hz); ``None`` keeps the file's.

    Returns:
        The samples and their sampling rate. Samples past the stream's stated duration
        (an AAC encoder's padding) are cut.

    Raises:
        MediaError: No media, no such file, no audio stream, or undecodable data.
        MediaDependencyError: PyAV is not installed.
    """
    if sampling_rate is not None and (
        isinstance(sampling_rate, bool) or not isinstance(sampling_rate, int) or sampling_rate < 1
    ):
        raise MediaError(f"sampling_rate must be a positive integer, got {sampling_rate!r}")
    with _opened(source) as (container, name):
        if not container.streams.audio:
            raise MediaError(f"{name}: has no audio stream")
        stream = container.streams.audio[0]
        context = stream.codec_context
        rate = sampling_rate or context.sample_rate
        resampler = _av().AudioResampler(format="fltp", layout=context.layout, rate=rate)
        chunks = []
        for frame in container.decode(stream):
            chunks += [out.to_ndarray() for out in resampler.resample(frame)]
        chunks += [out.to_ndarray() for out in resampler.resample(None)]
        channels = context.channels or 1
    samples = np.concatenate(chunks, axis=1) if chunks else np.zeros((channels, 0), np.float32)
    if stream.duration is not None and stream.time_base is not None:
        samples = samples[:, : round(float(stream.duration * stream.time_base) * rate)]
    return np.ascontiguousarray(samples, dtype=np.float32), int(rate)


def decode_video(source: MediaInput, max_frames: int | None = None) -> np.ndarray:
    """The frames of the first video stream as ``uint8`` RGB ``(frames, height, width, 3)``.

    Args:
        source: A path, a file's bytes, or a row's ``{"path", "bytes"}`` value.
        max_frames: Stop after this many frames (``None``: all of them).

    Raises:
        MediaError: No media, no such file, no video stream, or undecodable data.
        MediaDependencyError: PyAV is not installed.
    """
    if max_frames is not None and (
        isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1
    ):
        raise MediaError(f"max_frames must be a positive integer, got {max_frames!r}")
    with _opened(source) as (container, name):
        if not container.streams.video:
            raise MediaError(f"{name}: has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frames = []
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="rgb24"))
            if max_frames is not None and len(frames) >= max_frames:
                break
        shape = (0, stream.codec_context.height, stream.codec_context.width, 3)
    return np.stack(frames) if frames else np.zeros(shape, np.uint8)


def _demo_clip(av: Any, path: Path, number: int) -> None:
    """One second of a tone at ``300 + 50 * number`` Hz (16 kHz AAC) and 8 frames of 32x32
    in one grey level (8 fps H.264, or MPEG-4 where the wheel has no H.264 encoder)."""
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    with av.open(str(path), "w") as container:
        video = container.add_stream(codec, rate=8)
        video.width = video.height = 32
        video.pix_fmt = "yuv420p"
        audio = container.add_stream("aac", rate=16_000)
        audio.layout = "mono"
        image = np.full((32, 32, 3), (37 * number) % 256, np.uint8)
        for _ in range(8):
            container.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(video.encode())
        tone = 0.5 * np.sin(2 * np.pi * (300 + 50 * number) * np.arange(16_000) / 16_000)
        for start in range(0, 16_000, 1024):
            chunk = tone[None, start : start + 1024].astype(np.float32)
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            frame.sample_rate, frame.pts = 16_000, start
            container.mux(audio.encode(frame))
        container.mux(audio.encode())


def write_demo_clips(folder: str | os.PathLike[str], video_ids: Sequence[str]) -> list[Path]:
    """Write one tiny ``<video_id>.mp4`` per id into ``folder`` (made if missing); return
    their paths. Each has a second of a tone and eight frames, different per clip.

    Raises:
        MediaDependencyError: PyAV is not installed.
    """
    av = _av()
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    paths = [root / f"{video_id}.mp4" for video_id in video_ids]
    for number, path in enumerate(paths):
        _demo_clip(av, path, number)
    return paths
