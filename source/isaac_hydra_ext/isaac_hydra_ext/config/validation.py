"""Value checks of a composed :class:`TrainConfig`: the one validator of every setting.

Types come from the schema (Hydra checks them while composing); :func:`unknown_keys` catches the keys Hydra lets
through (``+ppo.num_worker=4``); each :data:`RULES` entry names the key, the value and what is allowed; and
:func:`validate_config` reports every violation at once, before any process starts. This module imports nothing
but the schema: checks that need an env (is the id registered?) are the env factory's
(:func:`isaac_hydra_ext.envs.factory.env_problems`), and the entry points report both together.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .schema import (
    ACTIVATIONS,
    CONSOLE_MODES,
    CORRECTIONS,
    ENV_ERROR_POLICIES,
    MODES,
    RATIO_REFERENCES,
    RNN_TYPES,
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
    Rule("ppo.num_workers", _non_negative, "an integer >= 0 (0: collect in the learner process)"),
    Rule("ppo.envs_per_worker", _positive, "an integer >= 1"),
    Rule("ppo.steps_per_env", _positive, "an integer >= 1"),
    Rule("ppo.slots_per_worker", lambda x: x >= 2, "an integer >= 2 (one to fill while the learner reads another)"),
    Rule("ppo.rollouts_per_iteration", _non_negative, "an integer >= 0 (0: one rollout per worker)"),
    Rule("ppo.update_epochs", _positive, "an integer >= 1"),
    Rule("ppo.batch_size", _non_negative, "an integer >= 0 (0: ppo.num_minibatches minibatches per epoch)"),
    Rule("ppo.num_minibatches", _positive, "an integer >= 1 (ppo.batch_size > 0 sets a fixed minibatch size instead)"),
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
    Rule("ppo.rnn_type", _one_of(RNN_TYPES), f"one of {', '.join(RNN_TYPES)} (rsl_rl's names)"),
    Rule("ppo.rnn_hidden_dim", _positive, "an integer >= 1"),
    Rule("ppo.rnn_num_layers", _positive, "an integer >= 1"),
    Rule("ppo.on_env_error", _one_of(ENV_ERROR_POLICIES), f"one of {', '.join(ENV_ERROR_POLICIES)}"),
    Rule("ppo.max_worker_restarts", _non_negative, "an integer >= 0"),
    Rule("ppo.heartbeat_timeout_s", _finite_positive, "a number of seconds > 0"),
    Rule("ppo.max_nonfinite_updates", _positive, "an integer >= 1"),
    Rule("ppo.mirror_loss_coeff", _finite_non_negative, "a number >= 0"),
    Rule(
        "ppo.mirror_function",
        lambda x: x == "" or re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", str(x)) is not None,
        "empty (the task's own mirror) or 'package.module:function'",
    ),
    Rule(
        "env.backend", lambda x: isinstance(x, str) and len(x) > 0, "a backend name (gym, isaaclab) or module:function"
    ),
    Rule(
        "env.id",
        lambda x: isinstance(x, str) and len(x) > 0 and x != "???",
        "an environment id (required: e.g. env=gym env.id=Hopper-v5)",
    ),
    Rule("env.max_episode_steps", _non_negative, "an integer >= 0 (0: the registered limit)"),
    Rule("logging.console", _one_of(CONSOLE_MODES), f"one of {', '.join(CONSOLE_MODES)}"),
    Rule("logging.log_every_iterations", _positive, "an integer >= 1"),
    Rule("logging.episode_window", _positive, "an integer >= 1"),
    Rule("logging.wandb_project", lambda x: isinstance(x, str) and len(x) > 0, "a non-empty W&B project name"),
    Rule("logging.video_every_iterations", _non_negative, "an integer >= 0 (0: no videos)"),
    Rule("logging.video_length", _positive, "an integer >= 1 (frames per video)"),
    Rule("checkpoint.every_iterations", _non_negative, "an integer >= 0 (0: only at the end)"),
    Rule("checkpoint.keep_last", _non_negative, "an integer >= 0 (0: keep all)"),
    Rule(
        "experiment.name",
        lambda x: (
            isinstance(x, str) and x.strip() not in ("", ".", "..") and "/" not in x and "\\" not in x and "\0" not in x
        ),
        "a non-empty directory name other than . or .., without / or \\",
    ),
    Rule("experiment.output_dir", lambda x: isinstance(x, str) and len(x) > 0, "a non-empty path"),
    Rule("experiment.seed", _non_negative, "an integer >= 0"),
    Rule("experiment.max_env_steps", _non_negative, "an integer >= 0 (0: no limit)"),
    Rule("experiment.max_iterations", _non_negative, "an integer >= 0 (0: no limit)"),
    Rule("experiment.max_wall_time_s", _finite_non_negative, "a number of seconds >= 0 (0: no limit)"),
    Rule(
        "experiment.device",
        lambda x: x in ("auto", "cpu", "cuda") or re.fullmatch(r"cuda:\d+", str(x)) is not None,
        "auto, cpu, cuda or cuda:N (N a device index, e.g. cuda:0)",
    ),
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
    ppo = cfg.ppo
    if ppo.num_workers == 0 and ppo.mode == "serial":
        problems.append(
            "ppo.num_workers=0 is invalid with ppo.mode=serial: must be >= 1 (serial mode steps W in-process "
            "collectors; ppo.num_workers=0 with ppo.mode=sync or async collects in the learner process)"
        )
    workers = max(ppo.num_workers, 1)
    samples = workers * ppo.envs_per_worker * ppo.steps_per_env
    if ppo.rollouts_per_iteration > 0:
        samples = ppo.rollouts_per_iteration * ppo.envs_per_worker * ppo.steps_per_env
    if ppo.batch_size > samples:
        problems.append(
            f"ppo.batch_size={ppo.batch_size} is invalid: must be <= the samples per iteration "
            f"W*B*T = {workers}*{ppo.envs_per_worker}*{ppo.steps_per_env} = {samples}"
        )
    if ppo.batch_size == 0 and ppo.num_minibatches > samples:
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
    if ppo.use_mirror_loss and ppo.mirror_loss_coeff <= 0:
        problems.append(
            f"ppo.mirror_loss_coeff={ppo.mirror_loss_coeff} is invalid with ppo.use_mirror_loss=true: must be > 0 "
            "(the weight of the mirror loss)"
        )
    symmetry = [k for k in ("use_data_augmentation", "use_mirror_loss") if getattr(ppo, k)]
    if symmetry and ppo.rnn_type != "none":
        problems.append(
            f"ppo.{symmetry[0]}=true is invalid with ppo.rnn_type={ppo.rnn_type}: symmetry augmentation mirrors "
            "single steps, not recurrent sequences (as in rsl_rl); use one or the other"
        )
    problems.extend(_logging_problems(cfg.logging, cfg.env))
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


def unknown_keys(dcfg: Any, schema: type | None = None, prefix: str = "") -> list[str]:
    """Keys of a composed Hydra config (a ``DictConfig``) that the schema does not have, as problem lines.

    Hydra rejects unknown keys of plain overrides, but a key added with ``+`` (``+ppo.num_worker=4``, the form
    Hydra's own error message suggests) is merged into the structured config and would be silently ignored.
    Free-form fields (``dict[str, Any]`` such as ``env.kwargs``) take any key.
    """
    import dataclasses
    import difflib
    import typing

    from .schema import TrainConfig

    schema = schema or TrainConfig
    hints = typing.get_type_hints(schema)
    names = [f.name for f in dataclasses.fields(schema)]
    problems = []
    for key in list(dcfg):
        dotted = f"{prefix}{key}"
        if key not in hints:
            close = difflib.get_close_matches(str(key), names, n=1)
            allowed = f"did you mean {prefix}{close[0]}?" if close else f"the keys here are {', '.join(names)}"
            problems.append(f"{dotted} is not a configuration key; {allowed}")
        elif dataclasses.is_dataclass(hints[key]):
            problems.extend(unknown_keys(dcfg[key], hints[key], f"{dotted}."))
    return problems


def config_problems(cfg: Any) -> list[str]:
    """Every invalid value of ``cfg`` (a :class:`TrainConfig`), one line each; empty when the config is valid."""
    return _problems(cfg)


def raise_if_problems(problems: list[str]) -> None:
    """Raise :class:`ConfigError` listing ``problems`` (nothing when the list is empty)."""
    if problems:
        raise ConfigError("Invalid configuration:\n  - " + "\n  - ".join(problems))


def validate_config(cfg: Any) -> None:
    """Raise :class:`ConfigError` listing every invalid value of ``cfg`` (a :class:`TrainConfig`)."""
    raise_if_problems(_problems(cfg))
