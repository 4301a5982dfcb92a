"""Offscreen rendering of the Go1 env (tracking camera on the trunk) to frames and MP4 files.

The OpenGL context comes from :func:`~isaac_hydra_ext.envs.gl.create_gl_context` (EGL, then OSMesa, then GLFW with
a display; ``MUJOCO_GL`` picks one), which raises :class:`RenderingUnavailableError` naming the missing package when
none works. MP4 writing is :class:`~isaac_hydra_ext.envs.video.Mp4Writer` (``imageio`` and ``imageio-ffmpeg``,
dependencies of the package).
"""

# mujoco's compiled modules ship no stubs, so pyright cannot see MjModel, mj_* functions and mjt* enums.
# pyright: reportAttributeAccessIssue=false
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mujoco
import numpy as np

from ..gl import RenderingUnavailableError, create_gl_context
from ..video import Mp4Writer  # the generic writer; still importable from here

__all__ = ["Go1Renderer", "Mp4Writer", "RenderingUnavailableError", "create_gl_context", "record_video"]


class Go1Renderer:
    """Renders envs of a :class:`~.env.Go1VelocityEnv` through its ``tracking`` camera (follows the trunk)."""

    def __init__(self, env: Any, width: int = 640, height: int = 480, camera: str = "tracking"):
        """Create the GL context and MuJoCo render state for ``env`` (frames of ``width`` x ``height``)."""
        self.env = env
        self.width, self.height = width, height
        model = env.sim.model
        model.vis.global_.offwidth = max(model.vis.global_.offwidth, width)
        model.vis.global_.offheight = max(model.vis.global_.offheight, height)
        self._context, self.backend = create_gl_context(width, height)
        self._mjr = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_150)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN, self._mjr)
        self._scene = mujoco.MjvScene(model, maxgeom=500)
        self._option = mujoco.MjvOption()
        self._camera = mujoco.MjvCamera()
        camera_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, camera)
        if camera_id < 0:
            raise ValueError(f"the model has no camera named {camera!r}")
        self._camera.type = mujoco.mjtCamera.mjCAMERA_FIXED
        self._camera.fixedcamid = camera_id
        self._rect = mujoco.MjrRect(0, 0, width, height)

    def render(self, env_index: int = 0) -> np.ndarray:
        """Render the current frame of env ``env_index`` as (height, width, 3) uint8 RGB."""
        assert self._context is not None, "Go1Renderer.render() after close()"
        model, data = self.env.sim.data_for(env_index)
        self._context.make_current()
        mujoco.mjv_updateScene(model, data, self._option, None, self._camera, mujoco.mjtCatBit.mjCAT_ALL, self._scene)
        mujoco.mjr_render(self._rect, self._scene, self._mjr)
        rgb = np.empty((self.height, self.width, 3), dtype=np.uint8)
        mujoco.mjr_readPixels(rgb, None, self._rect, self._mjr)
        return np.flipud(rgb).copy()  # OpenGL rows start at the bottom

    def close(self) -> None:
        """Free the GL resources."""
        if self._mjr is not None:
            assert self._context is not None  # the GL context is freed only after the MuJoCo render context
            self._context.make_current()
            self._mjr.free()
            self._mjr = None
        if self._context is not None:
            self._context.free()
            self._context = None


def record_video(
    env: Any,
    policy: Callable[[np.ndarray], np.ndarray],
    path: str,
    num_steps: int,
    env_index: int = 0,
    width: int = 640,
    height: int = 480,
    seed: int | None = 0,
) -> str:
    """Reset ``env``, run ``policy`` (obs (B, 48) -> actions (B, 12)) for ``num_steps`` and film env ``env_index``.

    One frame per policy step (50 fps = real time). Returns ``path``.
    """
    renderer = Go1Renderer(env, width, height)
    try:
        obs, _ = env.reset(seed=seed)
        with Mp4Writer(path, fps=1.0 / env.step_dt) as writer:
            writer.append(renderer.render(env_index))
            for _ in range(num_steps):
                obs, *_ = env.step(policy(obs))
                writer.append(renderer.render(env_index))
    finally:
        renderer.close()
    return path
