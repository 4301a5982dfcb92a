"""Videos of the current policy during training (``logging.video_every_iterations``), like Isaac Lab's ``--video``.

Every N learner iterations the learner hands a CPU copy of the policy's weights to a recorder thread of its own
process. The thread owns a separate one-env render env (the run's env id and kwargs, ``render_mode="rgb_array"``;
the Go1 task renders through its tracking camera offscreen), plays the policy's mean action for
``logging.video_length`` steps and streams the frames to ``<run>/videos/iteration_<N>.mp4``. The workers never
see it; the thread runs at a lower CPU priority (nice +10) so that on a saturated machine it takes idle time
rather than the workers' or the learner's. While one video is being recorded, further triggers are skipped (and
counted), so at most one video is in flight and memory stays flat: frames go straight to ffmpeg; only a small
preview (at most :data:`PREVIEW_FRAMES` frames, :data:`PREVIEW_WIDTH` pixels wide) is kept for TensorBoard.

The render env, its OpenGL context and the ffmpeg process are created, used and closed on that one thread.
Rendering MuJoCo envs needs EGL or OSMesa (see :mod:`isaac_hydra_ext.envs.go1.render`); without one the
recorder disables itself with one warning and the run goes on. Needs ``imageio-ffmpeg`` (``[video]`` extra).
"""

from __future__ import annotations

import copy
import io
import logging
import math
import os
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

log = logging.getLogger(__name__)

PREVIEW_WIDTH = 320
"""Widest preview frame logged to TensorBoard (frames are subsampled in space to fit)."""
PREVIEW_FRAMES = 50
"""Most preview frames logged to TensorBoard (frames are subsampled in time to fit)."""
MAX_FAILURES = 3
"""Recordings that may fail (each with a warning) before the recorder disables itself."""


@dataclass
class VideoResult:
    """One finished video."""

    path: str
    """The MP4 file."""
    iteration: int
    """Learner iteration whose policy was filmed."""
    env_steps: int
    """Env steps of the run at that iteration."""
    frames: int
    """Frames in the MP4 (``logging.video_length``)."""
    width: int
    """Frame width in pixels."""
    height: int
    """Frame height in pixels."""
    fps: float
    """Frames per second of the MP4 (the env's ``render_fps``)."""
    seconds: float
    """Wall time the recorder thread spent on it (reset, steps, rendering, encoding)."""
    preview_gif: bytes | None = None
    """An animated GIF preview for TensorBoard (None without Pillow)."""
    preview_size: tuple[int, int] = (0, 0)
    """(width, height) of the preview."""


@dataclass
class _Job:
    iteration: int
    env_steps: int
    state: dict[str, torch.Tensor]
    template: torch.nn.Module | None


def _ensure_mujoco_gl() -> None:
    """Pick an offscreen OpenGL backend for gymnasium's MuJoCo renderer when ``MUJOCO_GL`` is unset (EGL, OSMesa)."""
    if os.environ.get("MUJOCO_GL"):
        return
    try:
        from ..envs.go1.render import create_gl_context

        context, backend = create_gl_context(1, 1)
        context.free()
    except Exception:  # noqa: BLE001 - non-MuJoCo envs render without OpenGL; a real failure shows at render()
        return
    os.environ["MUJOCO_GL"] = backend
    if backend == "osmesa":
        os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")


def make_render_env(env_id: str, kwargs: dict[str, Any] | None = None, max_episode_steps: int = 0) -> Any:
    """One env of ``env_id`` (a gymnasium vector env of size 1) with ``render_mode="rgb_array"``."""
    import gymnasium as gym

    from ..envs.factory import check_env_id

    env_id = check_env_id(env_id)
    make_kwargs = dict(kwargs or {})
    if max_episode_steps > 0:
        make_kwargs["max_episode_steps"] = max_episode_steps
    if gym.spec(env_id).vector_entry_point is not None:
        return gym.make_vec(
            env_id, num_envs=1, vectorization_mode="vector_entry_point", render_mode="rgb_array", **make_kwargs
        )
    return gym.make_vec(
        env_id,
        num_envs=1,
        vectorization_mode="sync",
        render_mode="rgb_array",
        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
        **make_kwargs,
    )


def first_frame(rendered: Any) -> np.ndarray:
    """The (H, W, 3) uint8 frame of env 0 in what a (vector) env's ``render()`` returned."""
    if isinstance(rendered, (list, tuple)):
        rendered = rendered[0] if rendered else None
    if rendered is None:
        raise RuntimeError("render() returned nothing (is render_mode='rgb_array' supported by this env?)")
    frame = np.asarray(rendered)
    if frame.ndim == 4:
        frame = frame[0]
    if frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise RuntimeError(f"render() returned an array of shape {frame.shape}, expected (H, W, 3)")
    return np.ascontiguousarray(frame[:, :, :3], dtype=np.uint8)


class Mp4Stream:
    """Streams RGB frames to an H.264 MP4 through imageio-ffmpeg (no frame is kept in memory)."""

    def __init__(self, path: str, width: int, height: int, fps: float):
        """Start ffmpeg writing ``path``."""
        try:
            import imageio_ffmpeg
        except ImportError as exc:
            raise ImportError(f"videos need imageio-ffmpeg ({exc}): pip install 'isaac_hydra_ext[video]'") from None
        self.path = path
        self.size = (width, height)
        self._gen = imageio_ffmpeg.write_frames(
            path, (width, height), fps=fps, codec="libx264", quality=7, macro_block_size=2, ffmpeg_log_level="error"
        )
        self._gen.send(None)

    def append(self, frame: np.ndarray) -> None:
        """Add one (H, W, 3) uint8 frame of the size given at creation."""
        self._gen.send(np.ascontiguousarray(frame))

    def close(self) -> None:
        """Finish the file and end ffmpeg."""
        if self._gen is not None:
            self._gen.close()
            self._gen = None


def encode_gif(frames: list[np.ndarray], fps: float) -> bytes | None:
    """An animated GIF of ``frames`` (None without Pillow or frames)."""
    if not frames:
        return None
    try:
        from PIL import Image
    except ImportError:
        return None
    images = [Image.fromarray(f) for f in frames]
    buf = io.BytesIO()
    images[0].save(
        buf,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=max(20, int(round(1000.0 / max(fps, 1e-3)))),
        loop=0,
    )
    return buf.getvalue()


def _lower_priority(nice: int) -> None:
    """Raise this thread's nice value (Linux: per thread; threads it starts, e.g. Mesa's, inherit it)."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except OSError:
        pass


class TrainingVideoRecorder:
    """Films the current policy every ``every_iterations`` learner iterations on a background thread.

    Args:
        env_id: gymnasium id of the run's env (``module:Id`` allowed).
        env_kwargs: the run's ``env.kwargs``.
        max_episode_steps: the run's ``env.max_episode_steps`` (0: registered limit).
        video_dir: where the MP4s go (``<run>/videos``).
        every_iterations: record after iterations N, 2N, ... (0: never).
        length: frames per video (one per env step).
        seed: seed of the render env (each video resets it with ``seed + iteration``).
        clip_actions: clip actions to the action space's bounds (``env.clip_actions``).
        nice: how much to lower the recorder thread's CPU priority (0: not at all).

    """

    def __init__(
        self,
        env_id: str,
        env_kwargs: dict[str, Any] | None,
        max_episode_steps: int,
        video_dir: str,
        every_iterations: int,
        length: int,
        seed: int = 0,
        clip_actions: bool = True,
        nice: int = 10,
    ):
        """Start the recorder thread; it builds the render env and renders one probe frame right away."""
        self.env_id, self.env_kwargs, self.max_episode_steps = env_id, dict(env_kwargs or {}), max_episode_steps
        self.video_dir = video_dir
        self.every_iterations = every_iterations
        self.length = length
        self.seed = seed
        self.clip_actions = clip_actions
        self.nice = nice
        self.recorded = 0
        self.skipped_busy = 0
        self.failed = 0
        self.seconds: list[float] = []
        self.disabled: str | None = None
        self.frame_size: tuple[int, int] | None = None
        self._template_sent = False
        self._busy = threading.Event()
        self._ready = threading.Event()
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._results: queue.Queue[VideoResult] = queue.Queue()
        os.makedirs(video_dir, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name="video-recorder", daemon=True)
        self._thread.start()

    # ---- learner side --------------------------------------------------------------------------------------
    def due(self, iteration: int) -> bool:
        """Whether iteration ``iteration`` is one to film."""
        return self.every_iterations > 0 and iteration > 0 and iteration % self.every_iterations == 0

    def maybe_record(self, iteration: int, env_steps: int, policy: torch.nn.Module) -> bool:
        """Queue a video of ``policy`` if ``iteration`` is due and no video is in flight; return whether queued."""
        if self.disabled is not None or not self.due(iteration):
            return False
        if self._busy.is_set():
            self.skipped_busy += 1
            log.debug("video of iteration %d skipped: the previous one is still being recorded", iteration)
            return False
        state = {k: v.detach().to("cpu", copy=True) for k, v in policy.state_dict().items()}
        template = None
        if not self._template_sent:  # the thread keeps one CPU copy of the module and loads each state into it
            template = copy.deepcopy(policy).to("cpu").eval()
            self._template_sent = True
        self._busy.set()
        self._jobs.put(_Job(iteration, env_steps, state, template))
        return True

    def results(self) -> list[VideoResult]:
        """The videos finished since the last call."""
        out = []
        while True:
            try:
                out.append(self._results.get_nowait())
            except queue.Empty:
                return out

    @property
    def busy(self) -> bool:
        """A video is being recorded."""
        return self._busy.is_set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until the video in flight (if any) is done; return False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._busy.is_set() and self._thread.is_alive():
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def close(self, timeout: float | None = 300.0) -> None:
        """Finish the video in flight, then stop the thread (it closes the render env)."""
        self._jobs.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("the video recorder did not stop within %.0f s; leaving it (daemon thread)", timeout)

    def stats(self) -> dict[str, Any]:
        """What ``summary.json`` records under ``videos``."""
        return {
            "dir": os.path.abspath(self.video_dir),
            "every_iterations": self.every_iterations,
            "length": self.length,
            "recorded": self.recorded,
            "skipped_busy": self.skipped_busy,
            "failed": self.failed,
            "disabled": self.disabled,
            "mean_seconds_per_video": round(sum(self.seconds) / len(self.seconds), 3) if self.seconds else None,
        }

    # ---- recorder thread -----------------------------------------------------------------------------------
    def _run(self) -> None:
        _lower_priority(self.nice)
        env = None
        try:
            _ensure_mujoco_gl()
            env = make_render_env(self.env_id, self.env_kwargs, self.max_episode_steps)
            env.reset(seed=self.seed)
            frame = first_frame(env.render())
            self.frame_size = (frame.shape[1], frame.shape[0])
        except Exception as exc:  # noqa: BLE001 - any failure to render disables videos, never the run
            self._disable(f"cannot render {self.env_id}: {type(exc).__name__}: {exc}")
            if env is not None:
                _close_quietly(env)
            env = None
        self._ready.set()
        policy: torch.nn.Module | None = None
        while True:
            job = self._jobs.get()
            if job is None:
                break
            try:
                if env is None:
                    continue
                if job.template is not None:
                    policy = job.template
                policy.load_state_dict(job.state)
                self._results.put(self._record(env, policy, job))
                self.recorded += 1
            except Exception as exc:  # noqa: BLE001
                self.failed += 1
                log.warning("video of iteration %d failed: %s: %s", job.iteration, type(exc).__name__, exc)
                if self.failed >= MAX_FAILURES:
                    self._disable(f"{self.failed} recordings failed")
            finally:
                self._busy.clear()
        if env is not None:
            _close_quietly(env)

    def _disable(self, reason: str) -> None:
        self.disabled = reason
        log.warning("videos disabled: %s", reason)

    def _record(self, env: Any, policy: torch.nn.Module, job: _Job) -> VideoResult:
        t0 = time.perf_counter()
        fps = float(env.metadata.get("render_fps") or 30)
        space = env.single_action_space
        low, high = np.asarray(space.low, np.float32), np.asarray(space.high, np.float32)
        clip = self.clip_actions and bool(np.all(np.isfinite(low)) and np.all(np.isfinite(high)))
        path = os.path.join(self.video_dir, f"iteration_{job.iteration:06d}.mp4")
        partial = path + ".part.mp4"
        t_stride = max(1, math.ceil(self.length / PREVIEW_FRAMES))
        preview: list[np.ndarray] = []
        writer: Mp4Stream | None = None
        obs, _ = env.reset(seed=self.seed + job.iteration)
        try:
            for t in range(self.length):
                frame = first_frame(env.render())
                if writer is None:
                    writer = Mp4Stream(partial, frame.shape[1], frame.shape[0], fps)
                writer.append(frame)
                if t % t_stride == 0:
                    s = max(1, math.ceil(frame.shape[1] / PREVIEW_WIDTH))
                    preview.append(np.ascontiguousarray(frame[::s, ::s]))
                if t == self.length - 1:
                    break
                policy_obs = obs["policy"] if isinstance(obs, dict) else obs
                with torch.inference_mode():
                    actions = policy(torch.as_tensor(np.asarray(policy_obs), dtype=torch.float32)).numpy()
                if clip:
                    actions = np.clip(actions, low, high)
                obs, *_ = env.step(actions)
            writer.close()
            os.replace(partial, path)
        except BaseException:
            if writer is not None:
                writer.close()
            if os.path.exists(partial):
                os.remove(partial)
            raise
        gif = encode_gif(preview, fps / t_stride)
        preview_size = (preview[0].shape[1], preview[0].shape[0]) if preview else (0, 0)
        del preview
        seconds = time.perf_counter() - t0
        self.seconds.append(seconds)
        return VideoResult(
            path=path,
            iteration=job.iteration,
            env_steps=job.env_steps,
            frames=self.length,
            width=writer.size[0],
            height=writer.size[1],
            fps=fps,
            seconds=seconds,
            preview_gif=gif,
            preview_size=preview_size,
        )


def _close_quietly(env: Any) -> None:
    try:
        env.close()
    except Exception as exc:  # noqa: BLE001
        log.debug("closing the render env: %s", exc)
