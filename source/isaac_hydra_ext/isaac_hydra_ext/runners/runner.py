"""APPORunner: the training loop (collect -> gather -> update -> publish), logging, checkpoints, shutdown.

The runner is handed everything fully built (:func:`isaac_hydra_ext.runners.builder.build_runner` composes it): an
:class:`~isaac_hydra_ext.appo.APPO` algorithm, a :class:`~isaac_hydra_ext.sampling.Sampler`, a
:class:`~isaac_hydra_ext.utils.run_logger.RunLogger`. It only drives the loop and decides when to stop and save.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

from ..appo.algorithm import APPO, NonFiniteUpdateError
from ..config.schema import TrainConfig
from ..envs.vec_env import EnvSpec
from ..sampling.base import Sampler
from ..sampling.collector import EnvError, RolloutInfo
from ..sampling.worker_pool import WorkerFailure
from ..storage.rollout_buffer import BatchGatherer
from ..utils.checkpoint import MODEL_SHAPE_KEYS, CheckpointError, prune_checkpoints, save_checkpoint
from ..utils.progress import format_mean
from ..utils.run_logger import EpisodeWindow, RunLogger, RunLoggerError
from .accounting import RolloutAccounting
from .distributed import DistributedContext, PeerFailure
from .shutdown import STOP_SIGNAL_NAMES, StopSignals
from .throughput import LearnerBoundCheck

log = logging.getLogger(__name__)


def config_to_yaml(cfg: TrainConfig) -> str:
    """The resolved config as YAML text."""
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.structured(cfg))


def budget_reached(experiment: Any, iteration: int, env_steps: int) -> str | None:
    """The count budget of ``experiment`` (an ``ExperimentConfig``) that ``iteration`` / ``env_steps`` have reached.

    ``"max_env_steps"`` or ``"max_iterations"`` (a limit of 0 is no limit), or None while both are below theirs.
    """
    if experiment.max_env_steps > 0 and env_steps >= experiment.max_env_steps:
        return "max_env_steps"
    if experiment.max_iterations > 0 and iteration >= experiment.max_iterations:
        return "max_iterations"
    return None


class NothingToTrain(Exception):
    """The checkpoint to resume has already reached the run's budget: nothing is built or started."""

    def __init__(self, checkpoint: str, iteration: int, env_steps: int, budget: str, limit: int):
        """``budget``: the ``experiment`` key that was reached (``max_env_steps`` or ``max_iterations``)."""
        self.checkpoint, self.iteration, self.env_steps = checkpoint, iteration, env_steps
        self.budget, self.limit = budget, limit
        self.remark = ""
        """Appended to the line by the command that knows more (e.g. that it removed the run directory)."""
        super().__init__(self.describe())

    def describe(self, option: str = "") -> str:
        """One line saying so, naming the budget as ``option`` (default ``experiment.<budget>``)."""
        option = option or f"experiment.{self.budget}"
        return (
            f"nothing to train: {self.checkpoint} is at iteration {self.iteration} and {self.env_steps:,} env "
            f"steps, which {option}={self.limit} already covers; raise {option} to train further{self.remark}"
        )


@dataclass
class ResumeState:
    """Where a resumed run continues from (read from its checkpoint by the builder)."""

    path: str
    """Absolute path of the checkpoint."""
    iteration: int = 0
    env_steps: int = 0
    policy_version: int = 0
    wall_time_s: float = 0.0
    episode_returns: list[float] = field(default_factory=list)
    episode_lengths: list[int] = field(default_factory=list)


class APPORunner:
    """Runs one APPO training run in ``run_dir``.

    Args:
        cfg: The run's :class:`~isaac_hydra_ext.config.TrainConfig` (already validated).
        run_dir: Where config, TensorBoard events, checkpoints and ``summary.json`` go.
        spec: Shapes of the env.
        algorithm: The APPO update, owning the model (already on the learner device, resumed if resuming).
        sampler: Collects rollouts with the published weights; started by :meth:`train`.
        logger: Where scalars, progress lines and the summary go.
        signals: The run's SIGINT/SIGTERM state (also polled by the sampler while it waits).
        resume: Counters of the checkpoint this run continues, or None.
        dist: The multi-rank context, or None.

    """

    def __init__(
        self,
        cfg: TrainConfig,
        run_dir: str,
        spec: EnvSpec,
        algorithm: APPO,
        sampler: Sampler,
        logger: RunLogger,
        signals: StopSignals,
        resume: ResumeState | None = None,
        dist: DistributedContext | None = None,
    ):
        """Take the built parts; nothing runs until :meth:`train`."""
        self.cfg = cfg
        self.run_dir = run_dir
        self.spec = spec
        self.alg = algorithm
        self.model = algorithm.model
        self.sampler = sampler
        self.logger = logger
        self.signals = signals
        self.dist = dist
        self.is_main = dist is None or dist.rank == 0
        resume = resume or ResumeState(path="")
        self.resumed_from = resume.path or None
        self.iteration = resume.iteration
        self.env_steps = resume.env_steps
        self.env_steps_at_start = resume.env_steps
        self.version_offset = resume.policy_version
        self.wall_time_before = resume.wall_time_s
        self.window = EpisodeWindow(cfg.logging.episode_window, resume.episode_returns, resume.episode_lengths)
        self.accounting = RolloutAccounting()  # cumulative rollout/sample counts for summary.json (this session)
        self.gatherer = BatchGatherer(sampler.buffer, sampler.rollouts_per_iteration, algorithm.device)
        self.started = time.time()
        self.last_checkpoint: str | None = None
        self.last_stats: dict[str, float] = {}
        self.distributed_report: dict[str, Any] | None = None
        self.learner_check = LearnerBoundCheck(cfg.ppo, algorithm.device.type)  # says once if the update is the limit

    @property
    def stop_reason(self) -> str | None:
        """Why the run stops (a signal's name or a budget), None while it runs."""
        return self.signals.reason

    # ---- checkpoints ---------------------------------------------------------------------------------
    def model_shape(self) -> dict[str, Any]:
        """The config fields that define the network's shape (stored in checkpoints, checked on resume)."""
        return {k: getattr(self.cfg.ppo, k) for k in MODEL_SHAPE_KEYS}

    def checkpoint_state(self) -> dict[str, Any]:
        """Everything needed to resume or replay (see :mod:`isaac_hydra_ext.utils.checkpoint`)."""
        return {
            "model": self.model.state_dict(),
            **self.alg.state_dict(),
            "iteration": self.iteration,
            "env_steps": self.env_steps,
            "policy_version": self.version_offset + self.sampler.policy_version,
            "wall_time_s": self.wall_time_before + (time.time() - self.started),
            "env_spec": dataclasses.asdict(self.spec),
            "env_id": self.cfg.env.id,
            "model_cfg": self.model_shape(),
            "config_yaml": config_to_yaml(self.cfg),
            "episode_returns": list(self.window.returns),
            "episode_lengths": [int(x) for x in self.window.lengths],
        }

    def save(self, periodic: bool = True) -> str | None:
        """Write ``model_<iteration>.pt`` (main rank only); return its path."""
        if not self.is_main:
            return None
        path = os.path.join(self.run_dir, f"model_{self.iteration}.pt")
        save_checkpoint(path, self.checkpoint_state())
        if periodic:
            prune_checkpoints(self.run_dir, self.cfg.checkpoint.keep_last)
        self.last_checkpoint = path
        return path

    # ---- the loop ------------------------------------------------------------------------------------
    def _done(self) -> bool:
        """Whether to stop now; in a distributed job all ranks agree (any rank's reason stops every rank)."""
        local = self._done_locally()
        if self.dist is None:
            return local
        agreed = self.dist.any_true(local)
        if agreed and not local:
            self.signals.request("another rank stopped")
        return agreed

    def _done_locally(self) -> bool:
        exp = self.cfg.experiment
        reached = budget_reached(exp, self.iteration, self.env_steps)
        if reached is not None:
            self.signals.request(reached)
            return True
        if exp.max_wall_time_s > 0 and time.time() - self.started >= exp.max_wall_time_s:
            self.signals.request("max_wall_time_s")
            return True
        return self.signals.requested()

    def train(self) -> dict[str, Any]:
        """Train until a budget is reached or a signal arrives; always stops the sampler and saves a checkpoint.

        Returns the final summary (also written to ``summary.json``). ``status`` is ``finished``,
        ``interrupted`` (SIGINT/SIGTERM) or ``failed`` (with ``error``).
        """
        self.started = time.time()
        status, error = "running", None
        self.signals.install()
        try:
            if not self._done():
                self.sampler.start()
                self._loop()
            if self.dist is not None:
                self._check_ranks_in_sync()
            status = "interrupted" if self.stop_reason in STOP_SIGNAL_NAMES else "finished"
        except KeyboardInterrupt:
            status = "interrupted"
            self.signals.request("SIGINT")
        except (WorkerFailure, NonFiniteUpdateError, EnvError, CheckpointError, PeerFailure, RunLoggerError) as exc:
            status, error = "failed", str(exc)
        except OSError as exc:  # the run directory turned read-only, the disk is full, ...: a fault, not a bug
            status, error = "failed", f"writing the run's files in {self.run_dir} failed: {exc}"
        except Exception as exc:
            status, error = "failed", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self.signals.disarm()
            summary = self._finish(status, error)
        return summary

    def _finish(self, status: str, error: str | None) -> dict[str, Any]:
        """Stop the sampler, write the final checkpoint and the summary; no signal can interrupt this.

        Each step runs whatever failed before it (a full disk, a read-only run directory, a sampler that would not
        stop): the final status is written to ``summary.json``, or, if that write fails too, its failure is logged
        in one line and recorded in the returned summary (``summary_write_error``).
        """
        try:
            try:
                self.sampler.stop()
            except Exception as exc:  # a failed stop must not cost the checkpoint
                log.error("stopping the sampler failed: %s", exc)
            if self.cfg.checkpoint.save_on_exit:
                try:
                    self.save(periodic=False)
                except CheckpointError as exc:
                    log.error("%s", exc)
                    error = error or str(exc)
                    status = "failed" if status == "finished" else status
            summary = self._summary(status, error)
            try:
                self.logger.summary(summary)
            except OSError as exc:
                log.error("could not write the final summary.json (status %s) in %s: %s", status, self.run_dir, exc)
                summary["summary_write_error"] = str(exc)
            try:
                self.logger.close()
            except OSError as exc:  # flushing TensorBoard / metrics.jsonl onto a full or read-only disk
                log.error("could not flush the run's logs in %s: %s", self.run_dir, exc)
            return summary
        finally:
            self.signals.restore()

    def _loop(self) -> None:
        per_iteration = self.sampler.rollouts_per_iteration
        last_log_time, last_log_steps = time.time(), self.env_steps
        while not self._done():
            t0 = time.time()
            if self.dist is None:  # a second Ctrl-C may cut the wait short (waiting changes nothing)
                self.signals.arm()
            try:
                rollouts = self.sampler.next_rollouts(per_iteration)
            finally:
                self.signals.disarm()
            if rollouts is None:
                break
            rollouts.sort(key=lambda r: r.slot)  # deterministic concatenation order
            slots = [r.slot for r in rollouts]
            t1 = time.time()
            batch = self.gatherer.gather(slots)
            self.sampler.release(slots)
            learner_version = self.sampler.policy_version
            self.accounting.rollouts_not_trained += len(rollouts)  # until the update below succeeds
            stats = self._interruptible_update(batch, learner_version)
            self.accounting.rollouts_not_trained -= len(rollouts)
            self.accounting.trained(rollouts, stats)
            self.sampler.publish()
            t2 = time.time()
            self.iteration += 1
            new_steps = sum(r.env_steps for r in rollouts)
            if self.dist is not None:  # budgets and logs count the whole job
                new_steps = self.dist.sum_int(new_steps)
            self.env_steps += new_steps
            note = self.learner_check.observe(t2 - t1, [r.timers for r in rollouts], int(stats["samples/total"]))
            if note and self.is_main:
                log.warning(note)
            for r in rollouts:
                self.window.add(r.episode_returns, r.episode_lengths)
            if self.iteration % max(1, self.cfg.logging.log_every_iterations) == 0:
                now = time.time()
                sps = (self.env_steps - last_log_steps) / max(now - last_log_time, 1e-9)
                last_log_time, last_log_steps = now, self.env_steps
                self._log(stats, rollouts, sps, wait_s=t1 - t0, learn_s=t2 - t1)
            every = self.cfg.checkpoint.every_iterations
            if every > 0 and self.iteration % every == 0:
                self.save()
            self.logger.summary(self._summary("running", None))
            self.logger.after_iteration(self.iteration, self.env_steps, self.model.policy)  # videos when due
            del batch

    def _interruptible_update(self, batch: Any, learner_version: int) -> dict[str, float]:
        """``alg.update`` that a second Ctrl-C may interrupt; then the model and optimizer are put back as they were.

        So the final checkpoint is always the state after the last *finished* iteration (the one its file name and
        ``iteration`` say), never a half-applied update. Single-process runs only: ranks of a distributed job must
        finish the update together (each minibatch is a collective).
        """
        if self.dist is not None:
            return self.alg.update(batch, learner_version)
        saved_model = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        saved_alg = copy.deepcopy(self.alg.state_dict())
        self.signals.arm()
        try:
            return self.alg.update(batch, learner_version)
        except KeyboardInterrupt:
            self.signals.disarm()
            self.model.load_state_dict(saved_model)
            self.alg.load_state_dict(saved_alg)
            log.warning("the interrupted update was undone: the model is as after iteration %d", self.iteration)
            raise
        finally:
            self.signals.disarm()

    def _check_ranks_in_sync(self) -> None:
        """Compare a checksum of every rank's parameters (checked, not assumed); recorded in summary.json."""
        assert self.dist is not None
        checksums = self.dist.gather_floats(self.dist.parameter_checksum(self.model))
        pids = self.dist.gather_floats([float(os.getpid())])
        self.distributed_report = {
            "world_size": self.dist.world_size,
            "parameters_identical": all(c == checksums[0] for c in checksums),
            "parameter_checksums": checksums,
            "rank_pids": [int(p[0]) for p in pids],
        }
        if not self.distributed_report["parameters_identical"]:
            raise PeerFailure(f"ranks' parameters diverged: checksums {checksums}")

    # ---- reporting -----------------------------------------------------------------------------------
    def _log(self, stats: dict[str, float], rollouts: list[RolloutInfo], sps: float, wait_s: float, learn_s: float):
        env_log: dict[str, list[float]] = {}
        timers: dict[str, float] = {}
        for r in rollouts:
            for k, v in r.env_log.items():
                env_log.setdefault(k, []).append(v)
            for k, v in r.timers.items():
                timers[k] = timers.get(k, 0.0) + v
        worker_total = sum(timers.values()) or 1.0
        sampler = self.sampler.stats()
        scalars = dict(stats)
        scalars.update({k: sum(v) / len(v) for k, v in env_log.items()})
        scalars.update(
            {
                "train/mean_return": self.window.mean_return,
                "train/mean_episode_length": self.window.mean_length,
                "train/iteration": float(self.iteration),
                "train/episodes": float(sum(len(r.episode_returns) for r in rollouts)),
                "perf/env_steps_per_s": sps,
                "perf/learner_wait_s": wait_s,
                "perf/learn_s": learn_s,
                "perf/buffer_occupancy": sampler.occupancy,
                "workers/restarts": float(sampler.restarts),
            }
        )
        if sampler.overlap is not None:  # in-process collection: how much of the update the env ran beside
            scalars.update({"perf/collector_busy_s": sampler.collector_busy_s or 0.0, "perf/overlap": sampler.overlap})
        for k, v in timers.items():
            scalars[f"perf/worker_{k}_fraction"] = v / worker_total
        self.logger.scalars(scalars, self.env_steps, self.wall_time_before + time.time() - self.started)
        mean_return, mean_length = self.window.mean_return, self.window.mean_length
        self.logger.progress(
            f"[it {self.iteration:5d}] steps {self.env_steps:>11,d} | {sps:8.0f} sps | "
            f"return {format_mean(mean_return, '9.2f')} | len {format_mean(mean_length, '7.1f')} | "
            f"kl {stats['policy/approx_kl']:.4f} | lr {stats['policy/learning_rate']:.1e} | "
            f"lag {stats['lag/mean']:.2f}/{stats['lag/max']:.0f} | wait {wait_s:5.2f}s learn {learn_s:5.2f}s"
            + (f" | restarts {sampler.restarts}" if sampler.restarts else "")
        )
        self.last_stats = scalars

    def _summary(self, status: str, error: str | None) -> dict[str, Any]:
        elapsed = time.time() - self.started
        sampler = self.sampler.stats()
        summary: dict[str, Any] = {
            "status": status,
            "stop_reason": self.stop_reason,
            "error": error,
            "iterations": self.iteration,
            "env_steps": self.env_steps,
            "wall_time_s": round(self.wall_time_before + elapsed, 3),
            "session_wall_time_s": round(elapsed, 3),
            "mean_return": _finite_or_none(self.window.mean_return),
            "mean_episode_length": _finite_or_none(self.window.mean_length),
            "episodes": self.window.total_episodes,
            "env_steps_per_s": round((self.env_steps - self.env_steps_at_start) / elapsed, 1) if elapsed > 0 else 0.0,
            "policy_version": self.version_offset + self.sampler.policy_version,
            "sampler": self.sampler.description,
            "mode": self.sampler.mode,
            "worker_restarts": sampler.restarts,
            "worker_pids": sampler.pids,
            "resumed_from": self.resumed_from,
            "last_checkpoint": self.last_checkpoint,
            "run_dir": os.path.abspath(self.run_dir),
            "accounting": self.accounting.as_dict(sampler),
        }
        if self.dist is not None:
            summary["distributed"] = self.distributed_report or {
                "world_size": self.dist.world_size,
                "rank": self.dist.rank,
            }
        if self.last_stats:
            summary["last"] = {k: _finite_or_none(v) for k, v in self.last_stats.items()}
        return summary


def _finite_or_none(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None
