"""Offscreen rendering of the Go1 env (skipped where no OpenGL backend exists) and its error message."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from isaac_hydra_ext.envs.go1 import Go1VelocityPlayEnv
from isaac_hydra_ext.envs.go1.render import (
    Go1Renderer,
    RenderingUnavailableError,
    create_gl_context,
    record_video,
)


def _gl_available() -> bool:
    try:
        context, _ = create_gl_context(32, 32)
    except RenderingUnavailableError:
        return False
    context.free()
    return True


needs_gl = pytest.mark.skipif(not _gl_available(), reason="no OpenGL backend (EGL/OSMesa) on this machine")


def test_missing_backends_name_the_system_packages_and_mujoco_gl():
    with pytest.raises(RenderingUnavailableError) as err:
        create_gl_context(32, 32, backends=["no_such_backend"])
    message = str(err.value)
    for needle in ("no_such_backend", "libegl1", "MUJOCO_GL=egl", "libosmesa6", "MUJOCO_GL=osmesa"):
        assert needle in message


@needs_gl
def test_tracking_camera_frames_follow_the_robot():
    env = Go1VelocityPlayEnv(2, commands={"fixed_command": (0.0, 0.0, 0.0)})
    env.reset(seed=0)
    renderer = Go1Renderer(env, width=160, height=120)
    first = renderer.render(0)
    assert first.shape == (120, 160, 3) and first.dtype == np.uint8
    assert first.std() > 10  # robot, floor and sky, not a blank image
    env.sim.qpos[1, 0] += 5.0  # env 1 moved 5 m away: the trackcom camera keeps it in view -> same image
    np.testing.assert_allclose(renderer.render(1).astype(float).mean(), first.astype(float).mean(), atol=3.0)
    env.sim.qpos[0, 3:7] = [0.0, 1.0, 0.0, 0.0]  # upside down: a different picture
    assert np.abs(renderer.render(0).astype(float) - first.astype(float)).mean() > 2.0
    renderer.close()


@needs_gl
@pytest.mark.skipif(importlib.util.find_spec("imageio_ffmpeg") is None, reason="imageio-ffmpeg not installed")
def test_record_video_writes_an_mp4(tmp_path):
    import imageio_ffmpeg

    env = Go1VelocityPlayEnv(1, render_mode="rgb_array")
    path = record_video(
        env, lambda obs: np.zeros((1, 12)), str(tmp_path / "go1.mp4"), num_steps=10, width=160, height=120
    )
    reader = imageio_ffmpeg.read_frames(path)
    meta = next(reader)
    frames = [np.frombuffer(raw, np.uint8).reshape(120, 160, 3) for raw in reader]
    assert meta["size"] == (160, 120) and meta["fps"] == pytest.approx(50.0)
    assert len(frames) == 11 and frames[0].std() > 10
    (frame,) = env.render()
    assert frame.shape == (480, 640, 3)
    env.close()


def test_rendering_then_triton_does_not_crash():
    # Mesa's llvmpipe and Triton each load an LLVM; Triton imported after Mesa crashed the process (segfault).
    # The renderer loads Triton first. Checked in a fresh process, where nothing else has loaded either yet.
    import subprocess
    import sys

    if importlib.util.find_spec("triton") is None:
        pytest.skip("triton is not installed (a CPU build of PyTorch)")
    if not _gl_available():
        pytest.skip("no OpenGL backend (EGL/OSMesa) on this machine")
    code = (
        "from isaac_hydra_ext.envs.go1.render import create_gl_context\n"
        "context, _ = create_gl_context(32, 32)\n"
        "import torch\n"
        "torch.optim.Adam([torch.zeros(1, requires_grad=True)])\n"  # the dynamo path that imports triton
        "import triton\n"
        "print('ok')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "ok" in res.stdout, (res.returncode, res.stderr[-2000:])
