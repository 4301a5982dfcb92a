"""An offscreen OpenGL context for MuJoCo on any machine: the backend that works, or one line saying what to install.

MuJoCo needs an OpenGL context. Headless Linux has two choices, picked with ``MUJOCO_GL``:

* ``MUJOCO_GL=egl``: EGL (Debian/Ubuntu ``libegl1`` plus a driver: Mesa ``libegl-mesa0`` renders on the CPU,
  the NVIDIA driver on the GPU);
* ``MUJOCO_GL=osmesa``: OSMesa software rendering (``libosmesa6``; also set ``PYOPENGL_PLATFORM=osmesa``).

With ``MUJOCO_GL`` unset, :func:`create_gl_context` tries EGL, then OSMesa (GLFW first when a display exists), and
raises :class:`RenderingUnavailableError` naming the missing package when none works. The Go1 renderer
(:mod:`.go1.render`) uses it; :func:`prefer_offscreen_gl` points gymnasium's own MuJoCo renderers at the same choice.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Iterable
from typing import Any

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


def prefer_offscreen_gl() -> None:
    """On a machine without a display, point ``MUJOCO_GL`` at the offscreen backend that works (EGL, else OSMesa).

    Gymnasium's MuJoCo envs try GLFW first when ``MUJOCO_GL`` is unset, which without a display fails later with
    "framebuffer is not complete"; this picks what :func:`create_gl_context` picks. Nothing changes when
    ``MUJOCO_GL`` is set, a display exists, or no backend works (the env's own error then says so).
    """
    if os.environ.get("MUJOCO_GL") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return
    try:
        context, backend = create_gl_context(16, 16)
    except RenderingUnavailableError:
        return
    context.free()
    os.environ["MUJOCO_GL"] = backend
