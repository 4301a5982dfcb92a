"""Videos of the current policy during training (``logging.video_every_iterations``), like Isaac Lab's ``--video``.

Every N learner iterations the learner sends a CPU copy of the policy's weights (a few hundred kB, pickled) to a
recorder process of its own. That process owns a separate one-env render env (the run's env id and kwargs,
``render_mode="rgb_array"``; the Go1 task renders through its tracking camera offscreen), plays the policy's mean
action for ``logging.video_length`` steps and streams the frames to ``<run>/videos/iteration_<N>.mp4``, then sends
back what it wrote with a small GIF preview for TensorBoard.

Why a process: the workers never see it; it runs at a lower CPU priority (nice +10, ffmpeg and Mesa's threads
included) so that on a saturated machine it takes idle time rather than the workers' or the learner's; it shares
no GIL with the learner; the OpenGL driver's memory lives outside the learner; and a crash in the driver ends
only the videos, not the run. While one video is being recorded further triggers are skipped (and counted), so
at most one video is in flight; frames go straight to ffmpeg and only a small preview (at most
:data:`PREVIEW_FRAMES` frames, :data:`PREVIEW_WIDTH` pixels wide) is kept, so memory stays flat.

The recorder dies with the learner (``PR_SET_PDEATHSIG`` and a parent check) and ignores Ctrl-C (the learner stops
it). Rendering MuJoCo envs needs EGL or OSMesa (see :mod:`isaac_hydra_ext.envs.go1.render`); without one the
recorder disables itself with one warning and the run goes on. Needs ``imageio-ffmpeg`` (``[video]`` extra).

Protocol over the recorder's pipe (small pickled tuples; the weights and the GIF preview travel as files in the
video directory, so neither side ever waits on a full pipe): learner -> recorder ``("record", iteration,
env_steps, state_path, module_path | None)``, ``("cancel",)``, ``("stop",)``; recorder -> learner ``("ready", (w,
h))`` or ``("disabled", reason)`` after its probe frame, then per job ``("done", VideoResult)``, ``("failed",
iteration, message)`` or ``("cancelled", iteration)``.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import io
import logging
import math
import os
import pickle
import signal
import sys
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
    preview_path: str | None = None
    """Where the recorder left the preview (the learner reads it into :attr:`preview_gif` and deletes it)."""
    preview_size: tuple[int, int] = (0, 0)
    """(width, height) of the preview."""


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


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when the learner dies (prctl PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        except OSError:
            pass


@dataclass
class RecorderSpec:
    """What the recorder process needs (picklable)."""

    env_id: str
    env_kwargs: dict[str, Any]
    max_episode_steps: int
    video_dir: str
    length: int
    seed: int
    clip_actions: bool
    nice: int
    learner_pid: int


class TrainingVideoRecorder:
    """Films the current policy every ``every_iterations`` learner iterations in a recorder process.

    Args:
        env_id: gymnasium id of the run's env (``module:Id`` allowed).
        env_kwargs: the run's ``env.kwargs``.
        max_episode_steps: the run's ``env.max_episode_steps`` (0: registered limit).
        video_dir: where the MP4s go (``<run>/videos``).
        every_iterations: record after iterations N, 2N, ... (0: never).
        length: frames per video (one per env step).
        seed: seed of the render env (each video resets it with ``seed + iteration``).
        clip_actions: clip actions to the action space's bounds (``env.clip_actions``).
        nice: how much to lower the recorder process's CPU priority (0: not at all).

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
        """Start the recorder process; it builds the render env and renders one probe frame right away."""
        import multiprocessing as mp

        self.env_id = env_id
        self.video_dir = video_dir
        self.every_iterations = every_iterations
        self.length = length
        self.recorded = 0
        self.skipped_busy = 0
        self.failed = 0
        self.seconds: list[float] = []
        self.disabled: str | None = None
        self.frame_size: tuple[int, int] | None = None
        self.ready = False
        self._busy = False
        self._closing = False
        self._module_sent = False
        self._results: list[VideoResult] = []
        os.makedirs(video_dir, exist_ok=True)
        spec = RecorderSpec(
            env_id, dict(env_kwargs or {}), max_episode_steps, video_dir, length, seed, clip_actions, nice, os.getpid()
        )
        ctx = mp.get_context("spawn")
        self._conn, child_conn = ctx.Pipe()
        self._process = ctx.Process(target=recorder_main, args=(spec, child_conn), name="video-recorder", daemon=True)
        self._process.start()
        child_conn.close()

    @property
    def pid(self) -> int | None:
        """The recorder process's pid."""
        return self._process.pid

    # ---- learner side --------------------------------------------------------------------------------------
    def due(self, iteration: int) -> bool:
        """Whether iteration ``iteration`` is one to film."""
        return self.every_iterations > 0 and iteration > 0 and iteration % self.every_iterations == 0

    def maybe_record(self, iteration: int, env_steps: int, policy: torch.nn.Module) -> bool:
        """Send ``policy`` to the recorder if ``iteration`` is due and no video is in flight; return whether sent."""
        self._poll()
        if self.disabled is not None or not self.due(iteration):
            return False
        if self._busy:
            self.skipped_busy += 1
            log.debug("video of iteration %d skipped: the previous one is still being recorded", iteration)
            return False
        # The weights travel as a file and the message stays tiny, so sending never waits for the recorder.
        state = _dump(
            self.video_dir,
            f".policy_{iteration:06d}.pkl",
            {k: v.detach().to("cpu", copy=True) for k, v in policy.state_dict().items()},
        )
        module = None
        if not self._module_sent:  # the recorder keeps one copy of the module and loads each state into it
            module = _dump(self.video_dir, ".policy_module.pkl", copy.deepcopy(policy).to("cpu").eval())
            self._module_sent = True
        try:
            self._conn.send(("record", iteration, env_steps, state, module))
        except (OSError, ValueError) as exc:  # the recorder is gone
            self._gone(f"cannot reach the video recorder: {exc}")
            return False
        self._busy = True
        return True

    def results(self) -> list[VideoResult]:
        """The videos finished since the last call."""
        self._poll()
        out, self._results = self._results, []
        return out

    @property
    def busy(self) -> bool:
        """A video is being recorded."""
        self._poll()
        return self._busy

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the recorder has rendered its probe frame (or disabled itself); return False on timeout."""
        return self._wait(lambda: self.ready or self.disabled is not None, timeout)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until the video in flight (if any) is done; return False on timeout."""
        return self._wait(lambda: not self._busy, timeout)

    def _wait(self, done: Any, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._poll(block_s=0.1)
            if done():
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False

    def close(self, timeout: float | None = 300.0, cancel: bool = False) -> None:
        """Finish (or with ``cancel``, abandon) the video in flight, then stop the recorder process."""
        self._closing = True
        try:
            if cancel:
                self._conn.send(("cancel",))
            self._conn.send(("stop",))
        except (OSError, ValueError):
            pass
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._process.is_alive() and (deadline is None or time.monotonic() < deadline):
            self._poll(block_s=0.1)  # keep reading: a finished video's message must not block the recorder
        self._poll()
        if self._process.is_alive():
            log.warning("the video recorder did not stop within %.0f s; killing it", timeout or 0.0)
            self._process.kill()
        self._process.join(5)
        self._conn.close()
        for name in os.listdir(self.video_dir):  # hand-over files a recorder that died could not remove
            if name.startswith(".policy_") or name.endswith(".preview.gif"):
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(self.video_dir, name))

    def rss_mb(self) -> float | None:
        """Resident memory of the recorder process in MB (None once it has ended)."""
        if not self._process.is_alive():
            return None
        try:
            import psutil

            return round(psutil.Process(self._process.pid).memory_info().rss / 2**20, 1)
        except Exception:  # noqa: BLE001 - gone, or not started yet
            return None

    def stats(self) -> dict[str, Any]:
        """What ``summary.json`` records under ``videos``."""
        self._poll()
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

    def _poll(self, block_s: float = 0.0) -> None:
        """Handle the recorder's messages (waiting up to ``block_s`` for the first one)."""
        try:
            while not self._conn.closed and self._conn.poll(block_s):
                block_s = 0.0
                self._handle(self._conn.recv())
        except (EOFError, OSError):
            self._gone(f"the video recorder process ended (exit code {self._process.exitcode})")
            return
        if self.disabled is None and not self._process.is_alive():
            self._gone(f"the video recorder process ended (exit code {self._process.exitcode})")

    def _handle(self, msg: tuple) -> None:
        kind = msg[0]
        if kind == "ready":
            self.ready, self.frame_size = True, tuple(msg[1])
        elif kind == "disabled":
            self._disable(msg[1])
        elif kind == "done":
            result: VideoResult = msg[1]
            if result.preview_path is not None:  # the preview travels as a file, so the pipe never blocks on it
                try:
                    with open(result.preview_path, "rb") as f:
                        result.preview_gif = f.read()
                    os.remove(result.preview_path)
                except OSError as exc:
                    log.debug("video preview %s: %s", result.preview_path, exc)
                result.preview_path = None
            self._busy = False
            self.recorded += 1
            self.seconds.append(result.seconds)
            self._results.append(result)
        elif kind == "failed":
            self._busy = False
            if self.disabled is not None:  # sent before the recorder's "disabled" arrived: already reported
                return
            self.failed += 1
            log.warning("video of iteration %d failed: %s", msg[1], msg[2])
            if self.failed >= MAX_FAILURES:
                self._disable(f"{self.failed} recordings failed")
        elif kind == "cancelled":
            self._busy = False
            log.info("video of iteration %d abandoned: the run is stopping", msg[1])

    def _gone(self, reason: str) -> None:
        self._busy = False
        if not self._closing:  # an end we did not ask for: no more videos
            self._disable(reason)

    def _disable(self, reason: str) -> None:
        if self.disabled is None:
            self.disabled = reason
            log.warning("videos disabled: %s", reason)


# ---- the recorder process --------------------------------------------------------------------------------------
class _Cancelled(Exception):
    """The learner asked to abandon the video in flight."""


def recorder_main(spec: RecorderSpec, conn: Any) -> None:
    """Entry point of the recorder process: build the render env, then film each policy the learner sends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the learner's to handle; it stops us in order
    _die_with_parent()
    if spec.nice > 0:
        try:
            os.nice(spec.nice)
        except OSError:
            pass
    torch.set_num_threads(1)
    env = None
    try:
        _ensure_mujoco_gl()
        env = make_render_env(spec.env_id, spec.env_kwargs, spec.max_episode_steps)
        env.reset(seed=spec.seed)
        frame = first_frame(env.render())
        conn.send(("ready", (frame.shape[1], frame.shape[0])))
    except Exception as exc:  # noqa: BLE001 - any failure to render disables videos, never the run
        conn.send(("disabled", f"cannot render {spec.env_id}: {type(exc).__name__}: {exc}"))
        if env is not None:
            _close_quietly(env)
        env = None
    policy: torch.nn.Module | None = None
    control = _Control(conn)
    try:
        while not control.stop_requested:
            if not conn.poll(1.0):
                if os.getppid() != spec.learner_pid:  # the learner is gone
                    return
                continue
            msg = conn.recv()
            if msg[0] == "stop":
                return
            if msg[0] != "record":
                continue  # a "cancel" with nothing in flight
            _, iteration, env_steps, state, module = msg
            try:
                if module is not None:
                    policy = _load(module)
                weights = _load(state)
                if env is None or policy is None:
                    raise RuntimeError("no render env")
                policy.load_state_dict(weights)
                conn.send(("done", _record(spec, env, policy, iteration, env_steps, control)))
            except _Cancelled:
                conn.send(("cancelled", iteration))
            except Exception as exc:  # noqa: BLE001
                conn.send(("failed", iteration, f"{type(exc).__name__}: {exc}"))
    except (EOFError, OSError, KeyboardInterrupt):
        return
    finally:
        if env is not None:
            _close_quietly(env)


def _dump(directory: str, name: str, obj: Any) -> str:
    """Pickle ``obj`` to ``directory/name`` (written whole, then renamed); return the path."""
    path = os.path.join(directory, name)
    with open(path + ".tmp", "wb") as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(path + ".tmp", path)
    return path


def _load(path: str) -> Any:
    """Unpickle and delete a file written by :func:`_dump` (the learner's own hand-over file)."""
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    finally:
        with contextlib.suppress(OSError):
            os.remove(path)


class _Control:
    """The learner's messages that arrive while a video is being recorded."""

    def __init__(self, conn: Any):
        self.conn = conn
        self.stop_requested = False

    def check(self) -> None:
        """Raise :class:`_Cancelled` on ``("cancel",)``; remember ``("stop",)`` (it applies after this video)."""
        while self.conn.poll():
            msg = self.conn.recv()
            if msg[0] == "cancel":
                raise _Cancelled
            if msg[0] == "stop":
                self.stop_requested = True


def _record(
    spec: RecorderSpec, env: Any, policy: torch.nn.Module, iteration: int, env_steps: int, control: _Control
) -> VideoResult:
    from ..models.recurrent import StatefulPolicy

    t0 = time.perf_counter()
    fps = float(env.metadata.get("render_fps") or 30)
    space = env.single_action_space
    low, high = np.asarray(space.low, np.float32), np.asarray(space.high, np.float32)
    clip = spec.clip_actions and bool(np.all(np.isfinite(low)) and np.all(np.isfinite(high)))
    path = os.path.join(spec.video_dir, f"iteration_{iteration:06d}.mp4")
    partial = path + ".part.mp4"
    t_stride = max(1, math.ceil(spec.length / PREVIEW_FRAMES))
    preview: list[np.ndarray] = []
    writer: Mp4Stream | None = None
    obs, _ = env.reset(seed=spec.seed + iteration)
    stateful = StatefulPolicy(policy)  # a recurrent policy carries its state, reset where an episode ends
    try:
        for t in range(spec.length):
            control.check()
            frame = first_frame(env.render())
            if writer is None:
                writer = Mp4Stream(partial, frame.shape[1], frame.shape[0], fps)
            writer.append(frame)
            if t % t_stride == 0:
                s = max(1, math.ceil(frame.shape[1] / PREVIEW_WIDTH))
                preview.append(np.ascontiguousarray(frame[::s, ::s]))
            if t == spec.length - 1:
                break
            policy_obs = obs["policy"] if isinstance(obs, dict) else obs
            with torch.inference_mode():
                actions = stateful(torch.as_tensor(np.asarray(policy_obs), dtype=torch.float32)).numpy()
            if clip:
                actions = np.clip(actions, low, high)
            obs, _, terminated, truncated, _ = env.step(actions)
            stateful.reset(torch.as_tensor(np.logical_or(terminated, truncated)))
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
    preview_path = None
    if gif is not None:
        preview_path = os.path.join(spec.video_dir, f".iteration_{iteration:06d}.preview.gif")
        with open(preview_path, "wb") as f:
            f.write(gif)
    return VideoResult(
        path=path,
        iteration=iteration,
        env_steps=env_steps,
        frames=spec.length,
        width=writer.size[0],
        height=writer.size[1],
        fps=fps,
        seconds=time.perf_counter() - t0,
        preview_size=preview_size,
        preview_path=preview_path,
    )


def _close_quietly(env: Any) -> None:
    try:
        env.close()
    except Exception as exc:  # noqa: BLE001
        log.debug("closing the render env: %s", exc)
