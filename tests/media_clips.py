"""Tiny media clips written with PyAV for the tests: a sine tone and a few coloured frames.

Loaded by the tests with ``importlib`` (like ``synthetic_scores.py``); not a test module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SECONDS = 1.0
RATE = 16_000
FPS = 8
SIZE = 32
COLORS = ((230, 20, 20), (20, 230, 20), (20, 20, 230), (230, 230, 20))


def tone(frequency: float, seconds: float = SECONDS, rate: int = RATE) -> np.ndarray:
    """``(1, samples)`` float32 sine at half amplitude."""
    time = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * frequency * time)).astype(np.float32)[None, :]


def _audio_stream(container, codec: str, rate: int = RATE):
    stream = container.add_stream(codec, rate=rate)
    stream.layout = "mono"
    return stream


def _encode_audio(container, stream, samples: np.ndarray, rate: int = RATE) -> None:
    import av

    step = 1024
    kind = "flt" if stream.codec_context.name == "aac" else "s16"
    for start in range(0, samples.shape[1], step):
        chunk = samples[:, start : start + step]
        if kind == "s16":
            chunk = (chunk * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format=kind, layout="mono")
        frame.sample_rate, frame.pts = rate, start
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def write_video(
    path: Path,
    frequency: float = 440.0,
    color: tuple[int, int, int] = COLORS[0],
    *,
    with_audio: bool = True,
    seconds: float = SECONDS,
    fps: int = FPS,
    size: int = SIZE,
) -> Path:
    """An ``.mp4`` (H.264 video of coloured frames, AAC tone) or another video container."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width = video.height = size
        video.pix_fmt = "yuv420p"
        audio = _audio_stream(container, "aac") if with_audio else None
        image = np.empty((size, size, 3), np.uint8)
        image[:] = color
        for _ in range(int(seconds * fps)):
            for packet in video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if audio is not None:
            _encode_audio(container, audio, tone(frequency, seconds))
    return path


def write_audio(path: Path, frequency: float = 440.0, *, seconds: float = SECONDS) -> Path:
    """A ``.wav`` (16-bit PCM) or ``.flac`` file of a tone."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    codec = {".wav": "pcm_s16le", ".flac": "flac"}[path.suffix]
    with av.open(str(path), "w") as container:
        _encode_audio(container, _audio_stream(container, codec), tone(frequency, seconds))
    return path


def pick_ids(release, count: int, *, background_music: bool | None = None) -> list[str]:
    """``count`` real clip ids of a release, spread over it (optionally with or without
    background music)."""
    clips = [
        clip
        for clip in release.clips
        if background_music is None or clip.background_music == background_music
    ]
    step = max(1, len(clips) // count)
    return [clip.video_id for clip in clips[::step][:count]]
