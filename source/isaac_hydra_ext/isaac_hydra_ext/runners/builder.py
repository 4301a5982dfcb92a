"""Compose a run: seed, model, algorithm, resumed state, sampler and logger, handed to an :class:`APPORunner`.

The one composition root shared by the Hydra command line (:mod:`isaac_hydra_ext.cli.train`) and the Isaac Lab
train script (:mod:`isaac_hydra_ext.isaaclab.train`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
from typing import Any

import numpy as np
import torch

from ..appo.algorithm import APPO
from ..config.schema import AlgorithmConfig, ModelConfig, SamplerConfig, TrainConfig, section
from ..envs.symmetry import task_mirror
from ..envs.vec_env import EnvSpec, VecEnv
from ..models.actor_critic import ActorCritic
from ..sampling.factory import make_sampler
from ..utils.checkpoint import (
    MODEL_SHAPE_KEYS,
    CheckpointError,
    CheckpointMismatchError,
    check_compatible,
    check_state_matches_model,
    load_checkpoint,
)
from ..utils.run_logger import RunLogger
from .distributed import DistributedContext
from .preflight import available_cores
from .runner import APPORunner, NothingToTrain, ResumeState, budget_reached, config_to_yaml
from .shutdown import StopSignals
from .training_video import TrainingVideoRecorder

log = logging.getLogger(__name__)


def resolve_device(name: str) -> torch.device:
    """``auto`` -> cuda when available, else cpu; anything else as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def learner_threads(cfg: TrainConfig) -> int:
    """Torch threads of the learner: ``experiment.torch_threads`` if set, else automatic.

    Automatic: the cores the workers leave free (at most 4); with in-process async collection all cores but one
    (the collector thread's); all cores otherwise.
    """
    if cfg.experiment.torch_threads > 0:
        return cfg.experiment.torch_threads
    cores = available_cores()
    if cfg.ppo.mode in ("async", "sync") and cfg.ppo.num_workers > 0:
        return max(1, min(4, cores - cfg.ppo.num_workers))
    if cfg.ppo.mode == "async" and cfg.ppo.num_workers == 0:  # the collector thread steps the env meanwhile
        return max(1, cores - 1)
    return max(1, cores)


def rank_seed(cfg: TrainConfig, dist: DistributedContext | None) -> int:
    """The base seed of this rank: ``experiment.seed + 100003 * rank``."""
    return cfg.experiment.seed + (0 if dist is None else 100003 * dist.rank)


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def load_resume_state(
    path: str, algorithm: APPO, spec: EnvSpec, model_shape: dict, env_id: str = "", allow_env_change: bool = False
) -> ResumeState:
    """Load checkpoint ``path`` into ``algorithm`` (model, optimizer, learning rate) and return its counters.

    Refused with one :class:`CheckpointError` line: a file that is not a checkpoint, one made for other shapes (the
    env's or the network's, as recorded *and* as the stored tensors really are), one whose optimizer state or
    counters have the wrong types, and one written for another ``env.id`` than ``env_id`` unless
    ``allow_env_change`` (``checkpoint.allow_env_change=true``). Nothing is changed in ``algorithm`` then.
    """
    state = load_checkpoint(path, map_location=algorithm.device)
    check_compatible(path, state, dataclasses.asdict(spec), model_shape)
    stored_env = state.get("env_id")
    changed = (
        bool(env_id) and isinstance(stored_env, str) and bool(stored_env) and _bare_id(stored_env) != _bare_id(env_id)
    )
    if changed and not allow_env_change:
        raise CheckpointMismatchError(
            f"checkpoint {path} was trained on env.id={stored_env!r}, this run is env.id={env_id!r}: resuming it on "
            "another env is refused (even with the same shapes, the observations mean other things); set "
            "checkpoint.allow_env_change=true to start from it anyway"
        )
    check_state_matches_model(path, state["model"], algorithm.model)
    try:
        resume = ResumeState(
            path=os.path.abspath(path),
            iteration=int(state["iteration"]),
            env_steps=int(state["env_steps"]),
            policy_version=int(state.get("policy_version", 0)),
            wall_time_s=float(state.get("wall_time_s", 0.0)),
            episode_returns=[float(x) for x in state.get("episode_returns", [])],
            episode_lengths=[int(x) for x in state.get("episode_lengths", [])],
        )
        if "optimizer" in state:
            _check_optimizer_state(path, state["optimizer"], algorithm)
        model_before = {k: v.detach().clone() for k, v in algorithm.model.state_dict().items()}
        algorithm.model.load_state_dict(state["model"])
        if "optimizer" in state:
            try:
                algorithm.load_state_dict(state)
            except Exception:
                algorithm.model.load_state_dict(model_before)
                raise
    except (TypeError, ValueError, KeyError, RuntimeError, IndexError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else ""
        raise CheckpointError(
            f"checkpoint {path} has malformed contents: {type(exc).__name__}: {detail}".rstrip(": ")
        ) from exc
    if changed:
        log.warning(
            "resuming a checkpoint of env.id=%r on env.id=%r (checkpoint.allow_env_change=true)", stored_env, env_id
        )
    log.info("resumed from %s (iteration %d, %d env steps)", path, resume.iteration, resume.env_steps)
    return resume


def _bare_id(env_id: str) -> str:
    """An env id without gymnasium's ``module:`` prefix (``fault_envs:SlowPendulum-v0`` -> ``SlowPendulum-v0``)."""
    return env_id.rpartition(":")[2]


def _check_optimizer_state(path: str, opt_state: Any, algorithm: APPO) -> None:
    """Refuse optimizer state whose per-parameter tensors do not have their parameter's shape.

    (torch's ``load_state_dict`` does not look; the first optimizer step would fail, mid-run.)
    """
    params = [p for group in algorithm.optimizer.param_groups for p in group["params"]]
    if not isinstance(opt_state, dict) or not isinstance(opt_state.get("state", {}), dict):
        raise CheckpointError(f"checkpoint {path} has malformed contents: optimizer is not an optimizer state dict")
    for index, entry in opt_state.get("state", {}).items():
        if not isinstance(index, int) or not 0 <= index < len(params) or not isinstance(entry, dict):
            raise CheckpointError(
                f"checkpoint {path} has malformed contents: optimizer state for parameter "
                f"{index!r} does not fit this model's {len(params)} parameters"
            )
        for name, value in entry.items():
            if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape != params[index].shape:
                raise CheckpointError(
                    f"checkpoint {path} has malformed contents: optimizer state {name} of parameter {index} has shape "
                    f"{list(value.shape)}, the parameter {list(params[index].shape)}"
                )


def training_video_recorder(cfg: TrainConfig, run_dir: str) -> TrainingVideoRecorder | None:
    """The recorder of ``logging.video_every_iterations`` (gymnasium-backend envs), or None when videos are off."""
    lc = cfg.logging
    if lc.video_every_iterations <= 0 or cfg.env.backend != "gym":
        return None
    return TrainingVideoRecorder(
        cfg.env.id,
        dict(cfg.env.kwargs),
        cfg.env.max_episode_steps,
        os.path.join(run_dir, "videos"),
        lc.video_every_iterations,
        lc.video_length,
        seed=cfg.experiment.seed,
        clip_actions=cfg.env.clip_actions,
    )


def build_runner(
    cfg: TrainConfig,
    run_dir: str,
    spec: EnvSpec,
    resume_path: str | None = None,
    envs: list[VecEnv] | None = None,
    dist: DistributedContext | None = None,
    signals: StopSignals | None = None,
) -> APPORunner:
    """Build every part of a run and return the runner (nothing collects until :meth:`APPORunner.train`).

    Args:
        cfg: The validated config.
        run_dir: The run directory (already created).
        spec: The env's shapes.
        resume_path: A checkpoint to continue from (already resolved), or None.
        envs: Envs built by the caller for in-process collection (Isaac Lab's GPU env), else None.
        dist: The multi-rank context, or None.
        signals: The run's stop state (a fresh one when None).

    Raises:
        CheckpointError: ``resume_path`` cannot be loaded or does not fit this run.
        NothingToTrain: ``resume_path`` has already reached ``experiment.max_env_steps`` or ``max_iterations``
            (checked after it was found to fit; nothing else is built then).

    """
    signals = signals or StopSignals()
    seed = rank_seed(cfg, dist)
    seed_everything(seed)
    torch.set_num_threads(learner_threads(cfg))
    device = resolve_device(cfg.experiment.device) if dist is None else dist.device
    model_cfg = section(cfg.ppo, ModelConfig)
    model = ActorCritic(spec.obs_dim, spec.act_dim, spec.critic_obs_dim, model_cfg)
    algorithm_cfg = section(cfg.ppo, AlgorithmConfig)
    algorithm = APPO(
        model,
        algorithm_cfg,
        device,
        grad_sync=dist.grad_sync if dist is not None else None,
        mirror=task_mirror(algorithm_cfg, spec, cfg.env.id),  # None unless symmetry is on; the learner holds it
    )
    resume = None
    if resume_path:
        resume = load_resume_state(
            resume_path,
            algorithm,
            spec,
            {k: getattr(cfg.ppo, k) for k in MODEL_SHAPE_KEYS},
            env_id=cfg.env.id,
            allow_env_change=cfg.checkpoint.allow_env_change,
        )
        reached = budget_reached(cfg.experiment, resume.iteration, resume.env_steps)
        if reached is not None:  # e.g. a job script that resumes a finished run again
            limit = getattr(cfg.experiment, reached)
            raise NothingToTrain(resume_path, resume.iteration, resume.env_steps, reached, limit)
    if dist is not None:
        dist.broadcast_model(model)
    is_main = dist is None or dist.rank == 0
    # Ranks of a distributed job finish an iteration before stopping (every rank must take part in the same
    # collectives), so their samplers are not interrupted mid-wait.
    stop_requested = signals.requested if dist is None else (lambda: False)
    sampler = make_sampler(
        section(cfg.ppo, SamplerConfig),
        model_cfg,
        cfg.env,
        spec,
        model.policy,
        seed,
        stop_requested,
        envs=envs,
        hurry=lambda: signals.hurry,
    )
    # Console banner + progress, TensorBoard, metrics.jsonl, W&B, videos, curves: all behind RunLogger.
    video = training_video_recorder(cfg, run_dir) if is_main else None
    try:
        logger = RunLogger.from_config(
            cfg,
            run_dir,
            enabled=is_main,
            device=str(device),
            resumed_from=resume.path if resume else None,
            env_steps=resume.env_steps if resume else 0,
            iteration=resume.iteration if resume else 0,
            video=video,
        )
    except BaseException:
        if video is not None:
            video.close(timeout=10.0, cancel=True)  # the recorder process must not outlive a logger that never started
        raise
    if is_main:
        with open(os.path.join(run_dir, "config.yaml"), "w") as f:
            f.write(config_to_yaml(cfg))
    return APPORunner(cfg, run_dir, spec, algorithm, sampler, logger, signals, resume=resume, dist=dist)
