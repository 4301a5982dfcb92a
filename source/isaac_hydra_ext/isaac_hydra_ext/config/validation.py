"""Value checks of a composed :class:`TrainConfig` (types and unknown keys are Hydra's job).

Each rule names the key, the value and what is allowed; :func:`validate_config` reports every violation
at once, before any process starts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .schema import (
    ACTIVATIONS,
    BACKENDS,
    CONSOLE_MODES,
    CORRECTIONS,
    ENV_ERROR_POLICIES,
    MODES,
    RATIO_REFERENCES,
    SCHEDULES,
)


class ConfigError(ValueError):
    """One or more configuration values are invalid; ``str()`` is the message to show the user."""


@dataclass(frozen=True)
class Rule:
    """``key`` must satisfy ``check``; ``allowed`` says what is allowed, in words."""

    key: str
    check: Callable[[Any], bool]
    allowed: str


def _positive(x: Any) -> bool:
    return x > 0


def _non_negative(x: Any) -> bool:
    return x >= 0


def _finite_positive(x: Any) -> bool:
    return math.isfinite(x) and x > 0


def _finite_non_negative(x: Any) -> bool:
    return math.isfinite(x) and x >= 0


def _one_of(options: tuple[str, ...]) -> Callable[[Any], bool]:
    return lambda x: x in options


def _unit_interval(x: Any) -> bool:
    return math.isfinite(x) and 0.0 <= x <= 1.0


def _discount(x: Any) -> bool:
    return math.isfinite(x) and 0.0 < x <= 1.0


def _layer_sizes(x: Any) -> bool:
    return len(x) >= 1 and all(int(v) > 0 for v in x)


RULES: tuple[Rule, ...] = (
    Rule("ppo.mode", _one_of(MODES), f"one of {', '.join(MODES)}"),
    Rule("ppo.num_workers", _non_negative, "an integer >= 1 (0 only with env.backend=isaaclab: in-process collection)"),
    Rule("ppo.envs_per_worker", _positive, "an integer >= 1"),
    Rule("ppo.steps_per_env", _positive, "an integer >= 1"),
    Rule("ppo.slots_per_worker", lambda x: x >= 2, "an integer >= 2 (one to fill while the learner reads another)"),
    Rule("ppo.rollouts_per_iteration", _non_negative, "an integer >= 0 (0: one rollout per worker)"),
    Rule("ppo.update_epochs", _positive, "an integer >= 1"),
    Rule("ppo.batch_size", _positive, "an integer >= 1"),
    Rule("ppo.num_minibatches", _non_negative, "an integer >= 0 (0: use ppo.batch_size)"),
    Rule("ppo.learning_rate", _finite_positive, "a number > 0"),
    Rule("ppo.schedule", _one_of(SCHEDULES), f"one of {', '.join(SCHEDULES)}"),
    Rule("ppo.desired_kl", _finite_positive, "a number > 0"),
    Rule("ppo.min_learning_rate", _finite_positive, "a number > 0"),
    Rule("ppo.max_learning_rate", _finite_positive, "a number > 0"),
    Rule("ppo.gamma", _discount, "a number in (0, 1]"),
    Rule("ppo.lam", _unit_interval, "a number in [0, 1]"),
    Rule("ppo.clip_param", _finite_positive, "a number > 0"),
    Rule("ppo.value_loss_coef", _finite_non_negative, "a number >= 0"),
    Rule("ppo.entropy_coef", _finite_non_negative, "a number >= 0"),
    Rule("ppo.max_grad_norm", _finite_positive, "a number > 0"),
    Rule("ppo.off_policy_correction", _one_of(CORRECTIONS), f"one of {', '.join(CORRECTIONS)}"),
    Rule("ppo.ratio_reference", _one_of(RATIO_REFERENCES), f"one of {', '.join(RATIO_REFERENCES)}"),
    Rule("ppo.vtrace_rho_clip", _finite_positive, "a number > 0"),
    Rule("ppo.vtrace_c_clip", _finite_positive, "a number > 0"),
    Rule("ppo.max_policy_lag", _non_negative, "an integer >= 0"),
    Rule("ppo.actor_hidden_dims", _layer_sizes, "a non-empty list of positive layer sizes"),
    Rule("ppo.critic_hidden_dims", _layer_sizes, "a non-empty list of positive layer sizes"),
    Rule("ppo.activation", _one_of(ACTIVATIONS), f"one of {', '.join(ACTIVATIONS)}"),
    Rule("ppo.init_std", _finite_positive, "a number > 0"),
    Rule("ppo.obs_clip", _finite_positive, "a number > 0"),
    Rule("ppo.on_env_error", _one_of(ENV_ERROR_POLICIES), f"one of {', '.join(ENV_ERROR_POLICIES)}"),
    Rule("ppo.max_worker_restarts", _non_negative, "an integer >= 0"),
    Rule("ppo.heartbeat_timeout_s", _finite_positive, "a number of seconds > 0"),
    Rule("ppo.max_nonfinite_updates", _positive, "an integer >= 1"),
    Rule("env.backend", _one_of(BACKENDS), f"one of {', '.join(BACKENDS)}"),
    Rule("env.id", lambda x: isinstance(x, str) and len(x) > 0, "a non-empty environment id"),
    Rule("env.max_episode_steps", _non_negative, "an integer >= 0 (0: the registered limit)"),
    Rule("logging.console", _one_of(CONSOLE_MODES), f"one of {', '.join(CONSOLE_MODES)}"),
    Rule("logging.log_every_iterations", _positive, "an integer >= 1"),
    Rule("logging.episode_window", _positive, "an integer >= 1"),
    Rule("logging.wandb_project", lambda x: isinstance(x, str) and len(x) > 0, "a non-empty W&B project name"),
    Rule("logging.video_every_iterations", _non_negative, "an integer >= 0 (0: no videos)"),
    Rule("logging.video_length", _positive, "an integer >= 1 (frames per video)"),
    Rule("checkpoint.every_iterations", _non_negative, "an integer >= 0 (0: only at the end)"),
    Rule("checkpoint.keep_last", _non_negative, "an integer >= 0 (0: keep all)"),
    Rule("experiment.name", lambda x: isinstance(x, str) and len(x) > 0 and "/" not in x,
         "a non-empty name without '/'"),
    Rule("experiment.output_dir", lambda x: isinstance(x, str) and len(x) > 0, "a non-empty path"),
    Rule("experiment.seed", _non_negative, "an integer >= 0"),
    Rule("experiment.max_env_steps", _non_negative, "an integer >= 0 (0: no limit)"),
    Rule("experiment.max_iterations", _non_negative, "an integer >= 0 (0: no limit)"),
    Rule("experiment.max_wall_time_s", _finite_non_negative, "a number of seconds >= 0 (0: no limit)"),
    Rule("experiment.device", lambda x: x in ("auto", "cpu", "cuda") or str(x).startswith("cuda:"),
         "auto, cpu, cuda or cuda:N"),
    Rule("experiment.torch_threads", _non_negative, "an integer >= 0 (0: automatic)"),
)


def _get(cfg: Any, dotted: str) -> Any:
    obj = cfg
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _problems(cfg: Any) -> list[str]:
    problems = []
    for rule in RULES:
        value = _get(cfg, rule.key)
        try:
            ok = bool(rule.check(value))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            problems.append(f"{rule.key}={value!r} is invalid: must be {rule.allowed}")
    if problems:
        return problems
    # relations between keys
    ppo, env = cfg.ppo, cfg.env
    if ppo.num_workers == 0 and env.backend != "isaaclab":
        problems.append(
            "ppo.num_workers=0 is invalid with env.backend='gym': must be an integer >= 1 "
            "(in-process collection with 0 workers is for Isaac Lab GPU envs; use ppo.mode=serial for one process)"
        )
    workers = max(ppo.num_workers, 1)
    samples = workers * ppo.envs_per_worker * ppo.steps_per_env
    if ppo.rollouts_per_iteration > 0:
        samples = ppo.rollouts_per_iteration * ppo.envs_per_worker * ppo.steps_per_env
    if ppo.num_minibatches == 0 and ppo.batch_size > samples:
        problems.append(
            f"ppo.batch_size={ppo.batch_size} is invalid: must be <= the samples per iteration "
            f"W*B*T = {workers}*{ppo.envs_per_worker}*{ppo.steps_per_env} = {samples}"
        )
    if ppo.num_minibatches > samples:
        problems.append(
            f"ppo.num_minibatches={ppo.num_minibatches} is invalid: must be <= the samples per iteration "
            f"W*B*T = {samples}"
        )
    if ppo.rollouts_per_iteration > workers * ppo.slots_per_worker:
        problems.append(
            f"ppo.rollouts_per_iteration={ppo.rollouts_per_iteration} is invalid: must be <= "
            f"num_workers*slots_per_worker = {workers * ppo.slots_per_worker} (more would never arrive)"
        )
    if ppo.mode == "sync" and ppo.rollouts_per_iteration not in (0, workers):
        problems.append(
            f"ppo.rollouts_per_iteration={ppo.rollouts_per_iteration} is invalid with ppo.mode=sync: must be 0 or "
            f"num_workers={workers} (sync trains on exactly one rollout per worker)"
        )
    if ppo.min_learning_rate > ppo.max_learning_rate:
        problems.append(
            f"ppo.min_learning_rate={ppo.min_learning_rate} is invalid: must be <= "
            f"ppo.max_learning_rate={ppo.max_learning_rate}"
        )
    problems.extend(_logging_problems(cfg.logging, env))
    return problems


def _logging_problems(lc: Any, env: Any) -> list[str]:
    """Optional outputs whose packages are missing (checked by importing them, only when enabled)."""
    problems = []
    if lc.wandb:
        try:
            import wandb  # noqa: F401
        except ImportError as exc:
            problems.append(f"logging.wandb=true needs the wandb package ({exc}): pip install 'isaac_hydra_ext[wandb]'")
    if lc.video_every_iterations > 0:
        if env.backend != "gym":
            problems.append(
                f"logging.video_every_iterations={lc.video_every_iterations} is invalid with "
                f"env.backend={env.backend!r}: must be 0 (Isaac Lab tasks record with the train script's --video)"
            )
        try:
            import imageio_ffmpeg  # noqa: F401
        except ImportError as exc:
            problems.append(
                f"logging.video_every_iterations={lc.video_every_iterations} needs imageio-ffmpeg ({exc}): "
                "pip install 'isaac_hydra_ext[video]'"
            )
    return problems


def validate_config(cfg: Any, check_env: bool = True) -> None:
    """Raise :class:`ConfigError` listing every invalid value of ``cfg`` (a :class:`TrainConfig`).

    With ``check_env`` the gymnasium id is looked up in the registry too.
    """
    problems = _problems(cfg)
    if check_env and cfg.env.backend == "gym" and isinstance(cfg.env.id, str) and cfg.env.id:
        from ..envs.factory import EnvConfigError, check_env_id

        try:
            check_env_id(cfg.env.id)
        except EnvConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError("Invalid configuration:\n  - " + "\n  - ".join(problems))
