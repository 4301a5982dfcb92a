"""Helpers for the tests of what a run shows (videos, curves): decode MP4s and PNGs, skip without OpenGL."""

from __future__ import annotations

import functools
import importlib.util
import struct
from pathlib import Path

import pytest

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk, after checking the signature."""
    data = Path(path).read_bytes()
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR", data[:16]
    return struct.unpack(">II", data[16:24])


def mp4_frames(path: Path) -> tuple[tuple[int, int], float, int]:
    """((width, height), fps, decoded frame count) of an MP4, read back with ffmpeg."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    count = 0
    for raw in reader:
        assert len(raw) == width * height * 3
        count += 1
    return (width, height), meta["fps"], count


@functools.cache
def video_unavailable() -> str | None:
    """None when MuJoCo can render offscreen and imageio-ffmpeg is installed, else why not."""
    from isaac_hydra_ext.envs.go1.render import RenderingUnavailableError, create_gl_context

    if importlib.util.find_spec("imageio_ffmpeg") is None:
        return "imageio-ffmpeg is not installed"
    try:
        context, _ = create_gl_context(32, 32)
    except RenderingUnavailableError as exc:
        return f"no OpenGL backend (EGL/OSMesa): {exc}"
    context.free()
    return None


needs_video = pytest.mark.skipif(video_unavailable() is not None, reason=str(video_unavailable()))
