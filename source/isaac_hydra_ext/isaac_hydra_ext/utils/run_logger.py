"""Run logging: one facade that fans a run's output out to TensorBoard, ``metrics.jsonl``, W&B and the console.

:class:`RunLogger` is all the runner talks to. Per logged iteration it writes every scalar to TensorBoard and
``metrics.jsonl`` (and W&B with ``logging.wandb=true``) at env steps, feeds the console (the start banner, then a
live progress display or plain lines, :mod:`.progress`), triggers training videos (a recorder the caller builds:
:mod:`isaac_hydra_ext.runners.training_video`) and keeps ``summary.json`` current. When the run ends it draws
``curves.png`` (:mod:`.curves`), records it in ``summary.json`` and closes everything. The optional parts import
their packages (wandb, matplotlib, imageio-ffmpeg) only when enabled.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections import deque
from typing import Any

import psutil

from .progress import Budget, ProgressDisplay

log = logging.getLogger(__name__)


def write_json_atomic(path: str, data: dict[str, Any]) -> None:
    """Write JSON to ``path`` via a temp file and rename, so readers never see half a file.

    If that fails (a full disk, a directory that refuses new files), the partial temp file is removed and, when the
    new text fits in the disk blocks ``path`` already has, ``path`` is rewritten in place (that needs no new
    directory entry and no new block, so it cannot be torn by a full disk): a final status still lands. Otherwise,
    or if that fails too, the first ``OSError`` propagates and ``path`` is unchanged.
    """
    text = json.dumps(data, indent=2, sort_keys=True)
    tmp = f"{path}.tmp"
    try:
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:  # never created, or the directory refuses even that
            pass
        try:
            fits = len(text.encode()) <= os.stat(path).st_blocks * 512
            if not fits:
                raise exc
            with open(path, "r+") as f:
                f.write(text)
                f.truncate()
        except OSError:
            raise exc from None


class EpisodeWindow:
    """Returns and lengths of the last ``size`` finished episodes."""

    def __init__(self, size: int, returns: list[float] | None = None, lengths: list[int] | None = None):
        """Optionally start from a saved window (resume)."""
        self.returns: deque[float] = deque(returns or [], maxlen=size)
        self.lengths: deque[int] = deque(lengths or [], maxlen=size)
        self.total_episodes = 0

    def add(self, returns: list[float], lengths: list[int]) -> None:
        """Record finished episodes."""
        self.returns.extend(returns)
        self.lengths.extend(lengths)
        self.total_episodes += len(returns)

    @property
    def mean_return(self) -> float:
        """Mean return over the window (NaN before the first episode ends)."""
        return sum(self.returns) / len(self.returns) if self.returns else math.nan

    @property
    def mean_length(self) -> float:
        """Mean episode length over the window (NaN before the first episode ends)."""
        return sum(self.lengths) / len(self.lengths) if self.lengths else math.nan


class RunLoggerError(RuntimeError):
    """An output the run was asked for cannot be set up (e.g. W&B refused to start); the message says why."""


class WandbLoginError(RunLoggerError):
    """W&B refused to start for lack of credentials: the user's setup to fix (a configuration error, exit 2)."""


class RunLogger:
    """Writes every scalar to TensorBoard, ``metrics.jsonl`` and W&B, and reports progress on the console.

    TensorBoard's and W&B's x axis is env steps; ``metrics.jsonl`` has one JSON object per logged iteration (a
    machine-readable learning curve, also the source of ``curves.png``). Build it for a run with
    :meth:`from_config`; the plain constructor gives TensorBoard, ``metrics.jsonl`` and the console only.

    Args:
        run_dir: the run directory.
        tensorboard: write TensorBoard event files.
        console: ``logging.console`` (see :mod:`.progress`).
        enabled: False (non-zero ranks of a distributed job) writes and prints nothing.
        display: the console display (default: one for ``console`` without a budget).
        wandb: a started :class:`~.wandb_sink.WandbSink`, or None.
        video: a :class:`~isaac_hydra_ext.runners.training_video.TrainingVideoRecorder`, or None.
        curves: draw ``curves.png`` when the logger closes.
        curves_metric: ``logging.curves_metric``.
        title: what the run trains (the env id), for the curves' title.

    """

    def __init__(
        self,
        run_dir: str,
        tensorboard: bool,
        console: str,
        enabled: bool = True,
        *,
        display: ProgressDisplay | None = None,
        wandb: Any = None,
        video: Any = None,
        curves: bool = True,
        curves_metric: str = "",
        title: str = "",
    ):
        """Open the outputs (``enabled=False``: none)."""
        self.run_dir = run_dir
        self.console = console if enabled else "none"
        self.enabled = enabled
        self.display = display if display is not None else ProgressDisplay(self.console, Budget())
        self.wandb = wandb if enabled else None
        self.wandb_info = wandb.info if self.wandb is not None else None
        self.video = video if enabled else None
        self.curves = curves and enabled
        self.curves_metric = curves_metric
        self.curves_path: str | None = None
        self.title = title
        self.writer = None
        if enabled and tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(log_dir=run_dir, flush_secs=10)
        self.started = time.time()
        self.metrics = open(os.path.join(run_dir, "metrics.jsonl"), "a") if enabled else None
        self._process = psutil.Process() if enabled else None
        self._last_step = 0
        self._last_summary: dict[str, Any] | None = None
        self._closed = False

    @classmethod
    def from_config(
        cls,
        cfg: Any,
        run_dir: str,
        enabled: bool = True,
        device: str = "",
        resumed_from: str | None = None,
        env_steps: int = 0,
        iteration: int = 0,
        video: Any = None,
    ) -> RunLogger:
        """The logger of a run of ``cfg`` (a :class:`~isaac_hydra_ext.config.TrainConfig`).

        It opens every output the ``logging`` group asks for, prints the start banner and starts the progress
        display.

        Args:
            cfg: the run's config.
            run_dir: the run directory.
            enabled: False on non-zero ranks (nothing is written or printed).
            device: the learner device, for the banner.
            resumed_from: the checkpoint the run resumes (its W&B run is continued).
            env_steps: env steps at the start of this session.
            iteration: learner iterations at the start of this session.
            video: the training-video recorder the caller built (``logging.video_every_iterations``), or None.

        Raises:
            RunLoggerError: W&B could not start.

        """
        lc = cfg.logging
        if not enabled:
            return cls(run_dir, False, "none", enabled=False)
        display = ProgressDisplay(lc.console, Budget.from_config(cfg.experiment), env_steps, iteration)
        sink = None
        if lc.wandb:
            from .wandb_sink import WandbSink, previous_run

            try:
                sink = WandbSink(
                    run_dir,
                    lc.wandb_project,
                    lc.wandb_entity,
                    lc.wandb_group,
                    config=_config_dict(cfg),
                    resume=previous_run(resumed_from),
                )
            except Exception as exc:  # noqa: BLE001 - wandb raises many kinds (no login, network, bad entity)
                message = f"W&B could not start (logging.wandb=true): {type(exc).__name__}: {exc}"
                import wandb.errors

                if isinstance(exc, (wandb.errors.UsageError, wandb.errors.AuthenticationError)):
                    raise WandbLoginError(
                        f"{message.rstrip('.')}; log in with `wandb login` (or set WANDB_API_KEY), set "
                        "WANDB_MODE=offline to log into the run directory and `wandb sync` it later, or set "
                        "logging.wandb=false"
                    ) from exc
                raise RunLoggerError(message) from exc
        logger = cls(
            run_dir,
            lc.tensorboard,
            lc.console,
            enabled=True,
            display=display,
            wandb=sink,
            video=video,
            curves=lc.curves,
            curves_metric=lc.curves_metric,
            title=str(cfg.env.id),
        )
        title, rows = banner(cfg, run_dir, device, resumed_from, env_steps, iteration, sink, display.budget)
        display.banner(title, rows)
        display.start()
        return logger

    # ---- per iteration -----------------------------------------------------------------------------------
    def scalars(self, values: dict[str, float], step: int, wall_time_s: float = 0.0) -> None:
        """Log each finite scalar under its key (TensorBoard, W&B and one ``metrics.jsonl`` line).

        ``perf/learner_rss_mb`` (the learner's resident memory) is added, and ``perf/video_recorder_rss_mb`` with
        videos on. The console display takes its numbers
        from ``train/iteration``, ``train/mean_return`` and ``train/mean_episode_length``.
        """
        finite = {k: float(v) for k, v in values.items() if v is not None and math.isfinite(v)}
        if self._process is not None:
            finite["perf/learner_rss_mb"] = round(self._process.memory_info().rss / 2**20, 1)
        recorder_rss = self.video.rss_mb() if self.video is not None else None
        if recorder_rss is not None:
            finite["perf/video_recorder_rss_mb"] = recorder_rss
        self._last_step = step
        if self.metrics is not None:
            self.metrics.write(json.dumps({"env_steps": step, "wall_time_s": round(wall_time_s, 3), **finite}) + "\n")
            self.metrics.flush()
        if self.writer is not None:
            for key, value in finite.items():
                self.writer.add_scalar(key, value, step)
        if self.wandb is not None:
            self.wandb.log_scalars(finite, step, wall_time_s)
        if self.enabled:
            self.display.update(
                int(values.get("train/iteration", 0)),
                step,
                float(values.get("train/mean_return", math.nan)),
                float(values.get("train/mean_episode_length", math.nan)),
            )

    def progress(self, line: str) -> None:
        """A progress line: printed in plain-line output (with the share of the budget and the ETA appended)."""
        if self.console != "none":
            self.display.line(line)

    def after_iteration(self, iteration: int, env_steps: int, policy: Any) -> None:
        """Call after every learner iteration: films ``policy`` when a video is due, logs finished videos."""
        if self.video is None:
            return
        self.video.maybe_record(iteration, env_steps, policy)
        self._log_videos(env_steps)

    def _log_videos(self, step: int) -> None:
        for result in self.video.results():
            if self.writer is not None and result.preview_gif is not None:
                _add_gif(self.writer, "videos/policy", result.preview_gif, result.preview_size, result.env_steps)
            if self.wandb is not None:
                self.wandb.log_video(
                    "videos/policy",
                    result.path,
                    max(step, result.env_steps),
                    caption=f"iteration {result.iteration}, {result.env_steps:,d} env steps",
                )
            self.display.message(f"video: {result.path} ({result.frames} frames, recorded in {result.seconds:.1f} s)")

    # ---- run state ---------------------------------------------------------------------------------------
    def summary(self, data: dict[str, Any]) -> None:
        """Rewrite ``summary.json`` in the run directory (adding the W&B run, videos and curves it knows of)."""
        if not self.enabled:
            return
        if self.wandb_info is not None:
            data["wandb"] = self.wandb_info
        if self.video is not None:
            data["videos"] = self.video.stats()
        if self.curves_path is not None:
            data["curves"] = self.curves_path
        self._last_summary = data
        write_json_atomic(os.path.join(self.run_dir, "summary.json"), data)

    def close(self) -> None:
        """End of the run: finish the video in flight, stop the display, draw ``curves.png`` and close everything.

        ``curves.png`` is recorded in ``summary.json`` and the summary is handed to W&B. A Ctrl-C here skips what
        is left of the optional work; the files are still closed.
        """
        if self._closed:
            return
        self._closed = True
        try:
            if self.video is not None:
                self._step("finishing the last video", self._finish_video)
            self._step("stopping the console display", self.display.stop)
            if self.curves:
                self._step("drawing curves.png", self._draw_curves)
            if self._last_summary is not None and (self.curves_path or self.video is not None):
                self.summary(self._last_summary)
            if self.wandb is not None:
                self._step("finishing the W&B run", self._finish_wandb)
        except KeyboardInterrupt:
            log.warning("interrupted while closing the run's outputs; skipped the rest")
        finally:
            self.display.stop()
            if self.metrics is not None:
                self.metrics.close()
                self.metrics = None
            if self.writer is not None:
                self.writer.flush()
                self.writer.close()
                self.writer = None

    def _step(self, what: str, fn: Any) -> None:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - optional outputs never fail a run
            log.warning("%s failed: %s: %s", what, type(exc).__name__, exc)

    def _finish_video(self) -> None:
        # A finished run waits for its last video; an interrupted or failed one does not.
        status = (self._last_summary or {}).get("status")
        self.video.close(cancel=status != "finished")
        self._log_videos(self._last_step)

    def _draw_curves(self) -> None:
        from .curves import plot_curves

        if self.metrics is not None:
            self.metrics.flush()
        resumed = (self._last_summary or {}).get("resumed_from")
        try:
            self.curves_path = plot_curves(
                self.run_dir, metric=self.curves_metric, title=self.title, resumed_from=resumed or ""
            )
        except ImportError as exc:
            log.warning("curves.png skipped: %s", exc)
            return
        except ValueError as exc:  # nothing logged yet (a run stopped before its first iteration)
            log.info("curves.png skipped: %s", exc)
            return
        self.display.message(f"curves: {self.curves_path}")

    def _finish_wandb(self) -> None:
        summary = self._last_summary or {}
        if self.curves_path is not None:
            self.wandb.log_image("result/curves", self.curves_path, self._last_step)
        self.wandb.finish(summary, exit_code=1 if summary.get("status") == "failed" else 0)


def banner(
    cfg: Any,
    run_dir: str,
    device: str,
    resumed_from: str | None,
    env_steps: int,
    iteration: int,
    wandb: Any,
    budget: Budget,
) -> tuple[str, list[tuple[str, str]]]:
    """The start banner: a title and (label, value) rows (task, learner, collection, budget, where to watch)."""
    import torch

    ppo, lc = cfg.ppo, cfg.logging
    run_dir = os.path.abspath(run_dir)
    rows = [
        ("learner", f"{device or cfg.experiment.device}, {torch.get_num_threads()} torch threads, ppo.mode={ppo.mode}")
    ]
    samples = ppo.envs_per_worker * ppo.steps_per_env
    if ppo.num_workers == 0:
        rows.append(
            (
                "collection",
                f"in-process env: {ppo.envs_per_worker:,d} envs x {ppo.steps_per_env} steps "
                f"= {samples:,d} samples per iteration",
            )
        )
    else:
        kind = "in-process collectors" if ppo.mode == "serial" else "workers"
        rows.append(
            (
                "collection",
                f"{ppo.num_workers} {kind} x {ppo.envs_per_worker:,d} envs x {ppo.steps_per_env} "
                f"steps = {ppo.num_workers * samples:,d} samples per iteration",
            )
        )
    rows.append(("budget", budget.describe()))
    if resumed_from:
        rows.append(("resumed", f"{resumed_from} (iteration {iteration:,d}, {env_steps:,d} env steps)"))
    rows.append(("run dir", run_dir))
    if lc.tensorboard:
        rows.append(("watch", f"tensorboard --logdir {os.path.dirname(run_dir)}"))
    else:
        rows.append(("watch", f"{os.path.join(run_dir, 'metrics.jsonl')} (logging.tensorboard=false)"))
    if wandb is not None:
        rows.append(("W&B", wandb.where()))
    if lc.video_every_iterations > 0:
        rows.append(
            (
                "videos",
                f"every {lc.video_every_iterations} iterations, {lc.video_length} steps, "
                f"{os.path.join(run_dir, 'videos')}",
            )
        )
    if lc.curves:
        rows.append(("at the end", f"{os.path.join(run_dir, 'curves.png')}, summary.json"))
    return f"APPO training: {cfg.env.id}", rows


def _config_dict(cfg: Any) -> dict[str, Any]:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.structured(cfg), resolve=True)


def _add_gif(writer: Any, tag: str, gif: bytes, size: tuple[int, int], step: int) -> None:
    """An animated GIF in TensorBoard's image dashboard (what ``SummaryWriter.add_video`` writes, without moviepy)."""
    from tensorboard.compat.proto.summary_pb2 import Summary

    image = Summary.Image(height=size[1], width=size[0], colorspace=3, encoded_image_string=gif)
    writer._get_file_writer().add_summary(Summary(value=[Summary.Value(tag=tag, image=image)]), step)
