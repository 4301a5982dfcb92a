"""Offscreen rendering of the Go1 env (tracking camera on the trunk) to frames and MP4 files.

MuJoCo needs an OpenGL context. Headless Linux has two choices, picked with ``MUJOCO_GL``:

* ``MUJOCO_GL=egl``: EGL (Debian/Ubuntu ``libegl1`` plus a driver: Mesa ``libegl-mesa0`` renders on the CPU,
  the NVIDIA driver on the GPU);
* ``MUJOCO_GL=osmesa``: OSMesa software rendering (``libosmesa6``; also set ``PYOPENGL_PLATFORM=osmesa``).

With ``MUJOCO_GL`` unset, :class:`Go1Renderer` tries EGL, then OSMesa (then GLFW when a display exists), and
raises :class:`RenderingUnavailableError` naming the missing package when none works. MP4 writing needs
``imageio`` and ``imageio-ffmpeg`` (``pip install isaac_hydra_ext[video]``).
"""

# mujoco's compiled modules ship no stubs, so pyright cannot see MjModel, mj_* functions and mjt* enums.
# pyright: reportAttributeAccessIssue=false
from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable, Iterable
from typing import Any

import mujoco
import numpy as np

_BACKEND_HELP = {
    "egl": "EGL: apt-get install libegl1 libegl-mesa0 (or the NVIDIA driver), then run with MUJOCO_GL=egl",
    "osmesa": "OSMesa: apt-get install libosmesa6, then run with MUJOCO_GL=osmesa PYOPENGL_PLATFORM=osmesa",
    "glfw": "GLFW: needs a display (DISPLAY set) and pip install glfw; run with MUJOCO_GL=glfw",
}


class RenderingUnavailableError(RuntimeError):
    """No OpenGL backend could create an offscreen context."""


def _candidate_backends() -> list[str]:
    chosen = os.environ.get("MUJOCO_GL", "").strip().lower()
    if chosen in _BACKEND_HELP:
        return [chosen]
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return ["glfw", "egl", "osmesa"] if has_display else ["egl", "osmesa"]


def _load_triton_first() -> None:
    """Import Triton (if installed) before a GL driver is loaded.

    Mesa's software GL (llvmpipe, used by EGL and OSMesa without a GPU driver) loads its own LLVM into the process;
    Triton, which CUDA builds of PyTorch import on first use of ``torch.compile``/``torch.onnx``/the optimizers'
    dynamo paths, loads another, and importing Triton *after* Mesa crashes the process (segmentation fault). In
    the other order both work, so Triton is loaded here first.
    """
    if importlib.util.find_spec("triton") is not None:
        importlib.import_module("triton")


def create_gl_context(width: int, height: int, backends: Iterable[str] | None = None) -> tuple[Any, str]:
    """Create an OpenGL context of at least ``width`` x ``height`` with the first backend that works.

    Returns (context, backend name). Raises :class:`RenderingUnavailableError` listing each failure and
    the system package / ``MUJOCO_GL`` setting that fixes it.
    """
    _load_triton_first()
    errors = []
    for backend in backends if backends is not None else _candidate_backends():
        saved_platform = os.environ.get("PYOPENGL_PLATFORM")
        try:
            module = importlib.import_module(f"mujoco.{backend}")
            context = module.GLContext(width, height)
            context.make_current()
            return context, backend
        except Exception as err:  # noqa: BLE001 - every failure is reported below
            errors.append(f"{backend}: {type(err).__name__}: {err}")
            # a failed import may have pinned PyOpenGL to this backend; give the next one a chance
            if saved_platform is None:
                os.environ.pop("PYOPENGL_PLATFORM", None)
    hints = "; ".join(_BACKEND_HELP[b] for b in _BACKEND_HELP if b != "glfw")
    raise RenderingUnavailableError(
        "MuJoCo offscreen rendering needs an OpenGL backend and none worked ("
        + " | ".join(errors)
        + f"). Install one: {hints}. MUJOCO_GL is currently "
        + repr(os.environ.get("MUJOCO_GL"))
    )


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


class Mp4Writer:
    """Writes RGB frames to an H.264 MP4 file (imageio + imageio-ffmpeg); use as a context manager."""

    def __init__(self, path: str, fps: float = 50.0):
        """Open ``path`` for writing at ``fps`` frames per second."""
        try:
            import imageio.v2 as imageio
            import imageio_ffmpeg  # noqa: F401  (imageio's ffmpeg plugin needs it)
        except ImportError as err:
            raise ImportError(
                "MP4 writing needs imageio and imageio-ffmpeg: pip install imageio imageio-ffmpeg "
                "(or pip install isaac_hydra_ext[video])"
            ) from err
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.path = path
        self._writer = imageio.get_writer(path, fps=fps, codec="libx264", quality=7, macro_block_size=8)

    def append(self, frame: np.ndarray) -> None:
        """Add one (H, W, 3) uint8 frame."""
        assert self._writer is not None, "Mp4Writer.append() after close()"
        self._writer.append_data(frame)

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
