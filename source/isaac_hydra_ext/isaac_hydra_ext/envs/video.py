"""Film envs into MP4 files: the writer, a recorder fed by the replay loop, and ``record_video`` for any VecEnv.

Frames come from the env through the optional hook of the VecEnv contract (:mod:`.vec_env`):
``render_frame(env_index) -> (H, W, 3) uint8`` and ``render_fps``. :class:`~.vec_env.GymVecEnv` provides both when
its envs were made with ``render_mode="rgb_array"`` (:func:`rendering_env_config` asks for that), so every gymnasium
id can be filmed; the embedded Go1 task renders its tracking camera offscreen (:mod:`.go1.render`, which needs EGL
or OSMesa, :mod:`.gl`). MP4 writing needs ``imageio`` and ``imageio-ffmpeg`` (dependencies of the package).

Every failure to film, whatever raised it (no OpenGL, no pygame for classic-control frames, no imageio, an
unwritable path), becomes one :class:`VideoError` whose message says so; nothing else is reported as a video error.
"""

from __future__ import annotations

import copy
import os

import numpy as np

from ..config.schema import EnvConfig
from .gl import prefer_offscreen_gl
from .replay import Policy, ReplayReport, replay
from .vec_env import VecEnv

DEFAULT_FPS = 30.0
"""Frame rate when the env does not tell its own (``render_fps``)."""


class VideoError(RuntimeError):
    """A video could not be written; the message names the cause (and, where known, what to install)."""


class Mp4Writer:
    """Writes RGB frames to an H.264 MP4 file (imageio + imageio-ffmpeg); use as a context manager."""

    def __init__(self, path: str, fps: float = 50.0):
        """Open ``path`` for writing at ``fps`` frames per second (its directory is created)."""
        try:
            import imageio.v2 as imageio
            import imageio_ffmpeg  # noqa: F401  (imageio's ffmpeg plugin needs it)
        except ImportError as err:
            raise ImportError(
                "MP4 writing needs imageio and imageio-ffmpeg (dependencies of isaac_hydra_ext): "
                "pip install imageio imageio-ffmpeg"
            ) from err
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.path = path
        self._writer = imageio.get_writer(path, fps=fps, codec="libx264", quality=7, macro_block_size=8)

    def append(self, frame: np.ndarray) -> None:
        """Add one (H, W, 3) uint8 frame."""
        if self._writer is None:
            raise ValueError(f"{self.path} is closed")
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


def rendering_env_config(env_cfg: EnvConfig) -> EnvConfig:
    """A copy of ``env_cfg`` whose envs render frames (``env.kwargs.render_mode="rgb_array"``, gymnasium's way).

    Only for envs made to be filmed (play, evaluation videos): rendering costs memory and time in every env.
    """
    out = copy.deepcopy(env_cfg)
    out.kwargs = {**dict(env_cfg.kwargs), "render_mode": "rgb_array"}
    return out


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _missing_dirs(directory: str) -> list[str]:
    """``directory`` and its ancestors that do not exist yet, deepest first (what ``os.makedirs`` would create)."""
    missing = []
    while directory and not os.path.isdir(directory):
        missing.append(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return missing


class VideoRecorder:
    """Films env ``env_index`` of a VecEnv into ``path``, one frame per :meth:`capture` (the replay's ``on_frame``).

    The writer is opened here, so a missing package or an unwritable path fails before anything is replayed; the
    first :meth:`capture` (right after the reset) is the first render, so a missing OpenGL backend fails before the
    first step. Every failure is a :class:`VideoError`; the partial file is removed.
    """

    def __init__(self, env: VecEnv, path: str, env_index: int = 0, fps: float | None = None):
        """Check that ``env`` can render and open the MP4 file at ``path``."""
        render = getattr(env, "render_frame", None)
        if not callable(render):
            raise VideoError(f"{type(env).__name__} cannot render frames (it has no render_frame(env_index) hook)")
        if not 0 <= env_index < env.num_envs:
            raise VideoError(f"cannot film env {env_index}: there are {env.num_envs} envs")
        self.path = path
        self.frames = 0
        self._render = render
        self._env_index = env_index
        rate = float(fps or getattr(env, "render_fps", 0.0) or DEFAULT_FPS)
        prefer_offscreen_gl()
        self._new_dirs = _missing_dirs(os.path.dirname(os.path.abspath(path)))
        try:
            self._writer: Mp4Writer | None = None
            self._writer = Mp4Writer(path, fps=rate)
        except Exception as exc:  # noqa: BLE001 - only the writer ran: whatever it raised is a video problem
            self.abort()
            raise VideoError(f"cannot write the video {path}: {_one_line(exc)}") from exc

    def capture(self) -> None:
        """Render the current frame of the filmed env and append it."""
        if self._writer is None:
            raise VideoError(f"the video {self.path} is closed already")
        try:
            frame = self._render(self._env_index)
            self._writer.append(np.asarray(frame, dtype=np.uint8))
        except Exception as exc:  # noqa: BLE001 - only rendering and writing ran here
            self.abort()
            raise VideoError(f"cannot write the video {self.path}: {_one_line(exc)}") from exc
        self.frames += 1

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def abort(self) -> None:
        """Close and delete the partial file (and its directory when this recorder made it and it is empty)."""
        try:
            self.close()
        except Exception:  # noqa: BLE001 - the file is removed below anyway
            self._writer = None
        if os.path.exists(self.path):
            os.unlink(self.path)
        for directory in self._new_dirs:  # deepest first
            try:
                os.rmdir(directory)
            except OSError:  # not empty (another file appeared), or gone
                break


def record_video(
    env: VecEnv,
    policy: Policy,
    path: str,
    num_steps: int,
    env_index: int = 0,
    seed: int | None = None,
    fps: float | None = None,
) -> tuple[str, ReplayReport]:
    """Reset ``env`` (with ``seed``), run ``policy`` for ``num_steps`` steps and film env ``env_index`` to ``path``.

    ``env`` must render (made from :func:`rendering_env_config`, or a VecEnv with its own ``render_frame``). One frame
    after the reset and one per step, at the env's ``render_fps``. Returns the path and the replay's report; raises
    :class:`VideoError` (nothing left at ``path``) when the video cannot be made.
    """
    recorder = VideoRecorder(env, path, env_index, fps)
    try:
        report = replay(env, policy, num_steps, seed, on_frame=recorder.capture)
    except BaseException:
        recorder.abort()
        raise
    recorder.close()
    return path, report
