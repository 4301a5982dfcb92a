"""APPORunner: the training loop (collect -> gather -> update -> publish), logging, checkpoints, shutdown."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import random
import signal
import time
from typing import Any

import numpy as np
import torch

from ..appo.algorithm import APPO, NonFiniteUpdateError
from ..appo.models import ActorCritic
from ..envs.vec_env import EnvSpec, VecEnv
from ..storage.rollout_buffer import BatchGatherer, RolloutBuffer
from ..storage.weights import SharedWeights, WeightPublisher
from ..utils.checkpoint import (
    MODEL_SHAPE_KEYS,
    CheckpointError,
    check_compatible,
    find_latest_checkpoint,
    load_checkpoint,
    prune_checkpoints,
    save_checkpoint,
)
from ..utils.run_logger import EpisodeWindow, RunLogger, RunLoggerError
from .collection import InProcessCollection, ProcessCollection
from .collector import EnvError, RolloutAccounting, RolloutInfo
from .distributed import PeerFailure
from .worker_pool import WorkerFailure, WorkerPool

log = logging.getLogger(__name__)


def resolve_device(name: str) -> torch.device:
    """``auto`` -> cuda when available, else cpu; anything else as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def config_to_yaml(cfg) -> str:
    """The resolved config as YAML text."""
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.structured(cfg))


class APPORunner:
    """Runs one APPO training run in ``run_dir``.

    Args:
        cfg: the run's :class:`~isaac_hydra_ext.config.TrainConfig` (already validated).
        run_dir: where config, TensorBoard events, checkpoints and ``summary.json`` go.
        env_spec: shapes of the env (probed by the caller).
        inprocess_envs: envs stepped in the learner process (serial mode, or Isaac Lab with ``num_workers=0``);
            None for the worker-process modes.
        dist: a :class:`~isaac_hydra_ext.runners.distributed.DistributedContext` for multi-rank runs, or None.

    """

    def __init__(self, cfg, run_dir: str, env_spec: EnvSpec, inprocess_envs: list[VecEnv] | None = None, dist=None):
        """Prepare the run; nothing starts until :meth:`train`."""
        self.cfg = cfg
        self.run_dir = run_dir
        self.spec = env_spec
        self.inprocess_envs = inprocess_envs
        self.dist = dist
        self.is_main = dist is None or dist.rank == 0
        self.device = resolve_device(cfg.experiment.device) if dist is None else dist.device
        self.stop_reason: str | None = None
        self._signals_seen = 0
        self._previous_handlers: dict[int, Any] = {}
        self.iteration = 0
        self.env_steps = 0
        self.version_offset = 0
        self.wall_time_before = 0.0
        self.resumed_from: str | None = None
        self.model: ActorCritic | None = None
        self.collection = None
        self.logger: RunLogger | None = None

    # ---- signals -------------------------------------------------------------------------------------
    def _on_signal(self, signum, _frame) -> None:
        self._signals_seen += 1
        self.stop_reason = signal.Signals(signum).name
        if self._signals_seen > 1 and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C interrupts whatever is running; cleanup still runs
        log.warning("%s received: finishing the current step, saving and stopping", self.stop_reason)

    def _install_signal_handlers(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous_handlers[sig] = signal.signal(sig, self._on_signal)
            except ValueError:  # not the main thread
                pass

    def _restore_signal_handlers(self) -> None:
        for sig, handler in self._previous_handlers.items():
            signal.signal(sig, handler)
        self._previous_handlers.clear()

    def stop_requested(self) -> bool:
        """True once SIGINT/SIGTERM arrived."""
        return self.stop_reason is not None

    # ---- setup ---------------------------------------------------------------------------------------
    @property
    def seed(self) -> int:
        """The base seed of this rank: ``experiment.seed + 100003 * rank``."""
        return self.cfg.experiment.seed + (0 if self.dist is None else 100003 * self.dist.rank)

    def _seed_everything(self) -> None:
        seed = self.seed
        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch.manual_seed(seed)

    def _torch_threads(self) -> int:
        if self.cfg.experiment.torch_threads > 0:
            return self.cfg.experiment.torch_threads
        cores = available_cores()
        if self.cfg.ppo.mode in ("async", "sync") and self.inprocess_envs is None:
            return max(1, min(4, cores - self.cfg.ppo.num_workers))
        return max(1, cores)

    def _resume_path(self) -> str | None:
        resume = self.cfg.checkpoint.resume
        if not resume:
            return None
        if resume == "latest":
            experiment_dir = os.path.join(self.cfg.experiment.output_dir, self.cfg.experiment.name)
            path = find_latest_checkpoint(experiment_dir, exclude_dir=self.run_dir)
            if path is None:
                raise CheckpointError(f"checkpoint.resume=latest: no model_<iteration>.pt under {experiment_dir}")
            return path
        return resume

    def _setup(self) -> None:
        cfg, ppo = self.cfg, self.cfg.ppo
        self._seed_everything()
        torch.set_num_threads(self._torch_threads())
        spec = self.spec
        self.model = ActorCritic(spec.obs_dim, spec.act_dim, spec.critic_obs_dim, ppo)
        grad_sync = self.dist.grad_sync if self.dist is not None else None
        self.alg = APPO(self.model, ppo, self.device, grad_sync=grad_sync)
        self.window = EpisodeWindow(cfg.logging.episode_window)
        self.accounting = RolloutAccounting()  # cumulative rollout/sample counts for summary.json (this session)

        resume_path = self._resume_path()
        if resume_path is not None:
            state = load_checkpoint(resume_path, map_location=self.device)
            check_compatible(resume_path, state, dataclasses.asdict(spec), self._model_cfg())
            self.model.load_state_dict(state["model"])
            if "optimizer" in state:
                self.alg.load_state_dict(state)
            self.iteration = int(state["iteration"])
            self.env_steps = int(state["env_steps"])
            self.version_offset = int(state.get("policy_version", 0))
            self.wall_time_before = float(state.get("wall_time_s", 0.0))
            self.window = EpisodeWindow(
                cfg.logging.episode_window,
                list(state.get("episode_returns", [])),
                list(state.get("episode_lengths", [])),
            )
            self.resumed_from = os.path.abspath(resume_path)
            log.info("resumed from %s (iteration %d, %d env steps)", resume_path, self.iteration, self.env_steps)
        self._env_steps_at_start = self.env_steps
        if self.dist is not None:
            self.dist.broadcast_model(self.model)

        # Console banner + progress, TensorBoard, metrics.jsonl, W&B, videos, curves: all behind RunLogger.
        self.logger = RunLogger.from_config(cfg, self.run_dir, enabled=self.is_main, device=str(self.device),
                                            resumed_from=self.resumed_from, env_steps=self.env_steps,
                                            iteration=self.iteration)
        if self.is_main:
            with open(os.path.join(self.run_dir, "config.yaml"), "w") as f:
                f.write(config_to_yaml(cfg))

        if self.inprocess_envs is None:
            W, K = ppo.num_workers, ppo.slots_per_worker
            self.buffer = RolloutBuffer.allocate(
                W * K, ppo.steps_per_env, ppo.envs_per_worker, spec.obs_dim, spec.act_dim, spec.critic_obs_dim,
                shared=True,
            )
            self.weights = SharedWeights.for_module(self.model.policy, shared=True)
            self.publisher = WeightPublisher(self.model.policy, self.weights)
            self.publisher.publish()  # version 1: the initial weights
            # Ranks of a distributed job seed their workers differently; they finish an iteration before stopping
            # (every rank must take part in the same collectives), so their pools are not interrupted mid-wait.
            pool_cfg = dataclasses.replace(cfg, experiment=dataclasses.replace(cfg.experiment, seed=self.seed))
            interrupt = self.stop_requested if self.dist is None else (lambda: False)
            pool = WorkerPool(pool_cfg, spec.obs_dim, spec.act_dim, self.buffer, self.weights, interrupt)
            self.collection = ProcessCollection(pool)
        else:
            envs = self.inprocess_envs
            K = ppo.slots_per_worker
            env_device = envs[0].device
            on_learner = env_device.type != "cpu" or ppo.num_workers == 0
            self.buffer = RolloutBuffer.allocate(
                len(envs) * K, ppo.steps_per_env, envs[0].num_envs, spec.obs_dim, spec.act_dim, spec.critic_obs_dim,
                shared=False, device=env_device,
            )
            self.weights = SharedWeights.for_module(self.model.policy, shared=False)
            self.publisher = WeightPublisher(self.model.policy, self.weights)
            self.publisher.publish()
            self.collection = InProcessCollection(
                envs, self.buffer, K, self.seed, spec.obs_dim, spec.act_dim, ppo, cfg.env.clip_actions,
                weights=None if on_learner else self.weights,
                learner_policy=self.model.policy if on_learner else None,
                version=lambda: self.publisher.version,
            )

        self.gatherer = BatchGatherer(self.buffer, self._rollouts_per_iteration(), self.device)

    def _model_cfg(self) -> dict[str, Any]:
        return {k: getattr(self.cfg.ppo, k) for k in MODEL_SHAPE_KEYS}

    # ---- checkpoints ---------------------------------------------------------------------------------
    def checkpoint_state(self) -> dict[str, Any]:
        """Everything needed to resume or replay (see :mod:`isaac_hydra_ext.utils.checkpoint`)."""
        return {
            "model": self.model.state_dict(),
            **self.alg.state_dict(),
            "iteration": self.iteration,
            "env_steps": self.env_steps,
            "policy_version": self.version_offset + self.publisher.version,
            "wall_time_s": self.wall_time_before + (time.time() - self.started),
            "env_spec": dataclasses.asdict(self.spec),
            "model_cfg": self._model_cfg(),
            "config_yaml": config_to_yaml(self.cfg),
            "episode_returns": list(self.window.returns),
            "episode_lengths": [int(x) for x in self.window.lengths],
        }

    def save(self, periodic: bool = True) -> str | None:
        """Write ``model_<iteration>.pt`` (main rank only); return its path."""
        if not self.is_main or self.model is None:
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
            self.stop_reason = self.stop_reason or "another rank stopped"
        return agreed

    def _done_locally(self) -> bool:
        exp = self.cfg.experiment
        if exp.max_env_steps > 0 and self.env_steps >= exp.max_env_steps:
            self.stop_reason = self.stop_reason or "max_env_steps"
            return True
        if exp.max_iterations > 0 and self.iteration >= exp.max_iterations:
            self.stop_reason = self.stop_reason or "max_iterations"
            return True
        if exp.max_wall_time_s > 0 and time.time() - self.started >= exp.max_wall_time_s:
            self.stop_reason = self.stop_reason or "max_wall_time_s"
            return True
        return self.stop_requested()

    def _rollouts_per_iteration(self) -> int:
        ppo = self.cfg.ppo
        if ppo.rollouts_per_iteration > 0:
            return ppo.rollouts_per_iteration
        return len(self.inprocess_envs) if self.inprocess_envs is not None else ppo.num_workers

    def train(self) -> dict[str, Any]:
        """Train until a budget is reached or a signal arrives; always stops workers and saves a checkpoint.

        Returns the final summary (also written to ``summary.json``). ``status`` is ``finished``,
        ``interrupted`` (SIGINT/SIGTERM) or ``failed`` (with ``error``).
        """
        self.started = time.time()
        self.last_checkpoint = None
        status, error = "running", None
        self._install_signal_handlers()
        try:
            self._setup()
            if not self._done():
                self.collection.start()
                self._loop()
            if self.dist is not None:
                self._check_ranks_in_sync()
            status = "interrupted" if self.stop_reason in ("SIGINT", "SIGTERM") else "finished"
        except KeyboardInterrupt:
            status, self.stop_reason = "interrupted", "SIGINT"
        except (WorkerFailure, NonFiniteUpdateError, EnvError, CheckpointError, PeerFailure, RunLoggerError) as exc:
            status, error = "failed", str(exc)
        except Exception as exc:
            status, error = "failed", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            if self.collection is not None:
                self.collection.stop()
            if self.model is not None and self.cfg.checkpoint.save_on_exit and hasattr(self, "publisher"):
                try:
                    self.save(periodic=False)
                except CheckpointError as exc:
                    log.error("%s", exc)
                    error = error or str(exc)
            summary = self._summary(status, error)
            if self.logger is not None:
                self.logger.summary(summary)
                self.logger.close()
            self._restore_signal_handlers()
        return summary

    def _loop(self) -> None:
        per_iteration = self._rollouts_per_iteration()
        last_log_time, last_log_steps = time.time(), self.env_steps
        while not self._done():
            t0 = time.time()
            rollouts = self.collection.next_rollouts(per_iteration)
            if rollouts is None:
                break
            rollouts.sort(key=lambda r: r.slot)  # deterministic concatenation order
            slots = [r.slot for r in rollouts]
            t1 = time.time()
            batch = self.gatherer.gather(slots)
            self.collection.release(slots)
            learner_version = self.publisher.version
            self.accounting.rollouts_not_trained += len(rollouts)  # until the update below succeeds
            stats = self.alg.update(batch, learner_version)
            self.accounting.rollouts_not_trained -= len(rollouts)
            self.accounting.trained(rollouts, stats)
            self.publisher.publish()
            t2 = time.time()
            self.iteration += 1
            new_steps = sum(r.env_steps for r in rollouts)
            if self.dist is not None:  # budgets and logs count the whole job
                new_steps = self.dist.sum_int(new_steps)
            self.env_steps += new_steps
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

    def _check_ranks_in_sync(self) -> None:
        """Compare a checksum of every rank's parameters (checked, not assumed); recorded in summary.json."""
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
        scalars = {f"{k}": v for k, v in stats.items()}
        scalars.update({k: sum(v) / len(v) for k, v in env_log.items()})
        scalars.update({
            "train/mean_return": self.window.mean_return,
            "train/mean_episode_length": self.window.mean_length,
            "train/iteration": float(self.iteration),
            "train/episodes": float(sum(len(r.episode_returns) for r in rollouts)),
            "perf/env_steps_per_s": sps,
            "perf/learner_wait_s": wait_s,
            "perf/learn_s": learn_s,
            "perf/buffer_occupancy": self.collection.occupancy,
            "workers/restarts": float(self.collection.restarts),
        })
        for k, v in timers.items():
            scalars[f"perf/worker_{k}_fraction"] = v / worker_total
        self.logger.scalars(scalars, self.env_steps, self.wall_time_before + time.time() - self.started)
        self.logger.progress(
            f"[it {self.iteration:5d}] steps {self.env_steps:>11,d} | {sps:8.0f} sps | "
            f"return {self.window.mean_return:9.2f} | len {self.window.mean_length:7.1f} | "
            f"kl {stats['policy/approx_kl']:.4f} | lr {stats['policy/learning_rate']:.1e} | "
            f"lag {stats['lag/mean']:.2f}/{stats['lag/max']:.0f} | wait {wait_s:5.2f}s learn {learn_s:5.2f}s"
            + (f" | restarts {self.collection.restarts}" if self.collection.restarts else "")
        )
        self.last_stats = scalars

    def _summary(self, status: str, error: str | None) -> dict[str, Any]:
        elapsed = time.time() - getattr(self, "started", time.time())
        summary = {
            "status": status,
            "stop_reason": self.stop_reason,
            "error": error,
            "iterations": self.iteration,
            "env_steps": self.env_steps,
            "wall_time_s": round(self.wall_time_before + elapsed, 3),
            "session_wall_time_s": round(elapsed, 3),
            "mean_return": _finite_or_none(self.window.mean_return) if hasattr(self, "window") else None,
            "mean_episode_length": _finite_or_none(self.window.mean_length) if hasattr(self, "window") else None,
            "episodes": self.window.total_episodes if hasattr(self, "window") else 0,
            "env_steps_per_s": round(self.env_steps_this_session / elapsed, 1) if elapsed > 0 else 0.0,
            "policy_version": self.version_offset + (self.publisher.version if hasattr(self, "publisher") else 0),
            "worker_restarts": self.collection.restarts if self.collection is not None else 0,
            "worker_pids": self.collection.pids if self.collection is not None else [],
            "resumed_from": self.resumed_from,
            "last_checkpoint": getattr(self, "last_checkpoint", None),
            "run_dir": os.path.abspath(self.run_dir),
        }
        if hasattr(self, "accounting"):
            summary["accounting"] = self.accounting.as_dict(self.collection)
        if self.dist is not None:
            summary["distributed"] = getattr(self, "distributed_report", None) or {
                "world_size": self.dist.world_size, "rank": self.dist.rank}
        stats = getattr(self, "last_stats", None)
        if stats:
            summary["last"] = {k: _finite_or_none(v) for k, v in stats.items()}
        return summary

    @property
    def env_steps_this_session(self) -> int:
        """Env steps collected since this process started (excludes resumed steps)."""
        return self.env_steps - getattr(self, "_env_steps_at_start", 0)


def _finite_or_none(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None
