"""``APPORunnerCfg``: the APPO agent config of an Isaac Lab task (the ``appo_cfg_entry_point`` of its registration).

It is an Isaac Lab ``@configclass`` that *subclasses* the engine's :class:`~isaac_hydra_ext.config.schema.PPOConfig`,
so every algorithm field (name, type, default, docstring) has one source of truth, and adds the runner fields Isaac
Lab agent configs have (``seed``, ``device``, ``max_iterations``, ``save_interval``, ``experiment_name``,
``run_name``, ``resume``/``load_run``/``load_checkpoint``, ``clip_actions``, ``logger``) plus the engine's run
knobs that Isaac Lab has no name for. Overrides reach it as ``agent.<field>=<value>`` (e.g.
``agent.learning_rate=0.0003``); :meth:`APPORunnerCfg.to_train_config` turns it into the engine's
:class:`~isaac_hydra_ext.config.schema.TrainConfig`, so the Isaac Lab scripts and the Hydra entry point train from
the same kind of config.

No field defaults to ``None`` (Isaac Lab 2.x's Hydra layer rejects overriding a ``None`` field) and float fields
have float defaults. Importing this module imports ``isaaclab.utils``.
"""

# Isaac Lab (isaaclab.utils, isaaclab_tasks) is not installed where the package is type-checked:
# pyright: reportMissingImports=false
from __future__ import annotations

import copy
import dataclasses
import os

from isaaclab.utils import configclass

from ..config.schema import EnvConfig, PPOConfig, TrainConfig
from ..utils.run_dirs import experiment_dir

LOGGERS = ("tensorboard", "wandb", "none")
"""Values of :attr:`APPORunnerCfg.logger` (rsl_rl's names; ``wandb`` writes TensorBoard files too, as rsl_rl does)."""

RUN_FIELDS: dict[str, str] = {
    "seed": "experiment.seed",
    "device": "experiment.device",
    "max_iterations": "experiment.max_iterations",
    "max_env_steps": "experiment.max_env_steps",
    "max_wall_time_s": "experiment.max_wall_time_s",
    "torch_threads": "experiment.torch_threads",
    "experiment_name": "experiment.name",
    "output_dir": "experiment.output_dir",
    "save_interval": "checkpoint.every_iterations",
    "keep_last_checkpoints": "checkpoint.keep_last",
    "save_on_exit": "checkpoint.save_on_exit",
    "allow_env_change": "checkpoint.allow_env_change",
    "log_interval": "logging.log_every_iterations",
    "episode_window": "logging.episode_window",
    "console": "logging.console",
    "wandb_project": "logging.wandb_project",
}
"""Runner fields of :class:`APPORunnerCfg` (Isaac Lab's names) -> the engine's :class:`TrainConfig` key they set.

The one mapping between the two vocabularies; ``tests/config/test_single_home.py`` checks every pair's type and
default against the schema (defaults may differ only where :data:`ISAACLAB_DEFAULTS` says why)."""

ISAACLAB_DEFAULTS: dict[str, str] = {
    "seed": "Isaac Lab's rsl_rl runner configs seed 42",
    "device": "Isaac Lab trains on the GPU (cuda:0) unless told otherwise",
    "max_iterations": "Isaac Lab budgets runs in iterations (rsl_rl's default 1500), not env steps",
    "max_env_steps": "with an iteration budget, no env-step budget",
    "wandb_project": "rsl_rl's Isaac Lab configs log to the W&B project 'isaaclab'",
}
"""Runner fields whose default deliberately differs from the schema's, and why."""


@configclass
class APPORunnerCfg(PPOConfig):
    """APPO agent config for Isaac Lab tasks: every :class:`PPOConfig` field plus the runner fields below."""

    # ---- runner: identity, budget, placement (Isaac Lab names) ------------------------------------------------
    seed: int = 42
    """Base seed of the learner and the env (Isaac Lab's scripts also copy it to ``env_cfg.seed``)."""
    device: str = "cuda:0"
    """Learner device: ``cuda:N``, ``cuda``, ``cpu`` or ``auto``."""
    max_iterations: int = 1500
    """Learner iterations to run (the training budget)."""
    max_env_steps: int = 0
    """Stop after this many environment steps as well; 0: only ``max_iterations`` ends the run."""
    max_wall_time_s: float = 0.0
    """Stop (with a checkpoint) after this many seconds; 0: no limit."""
    torch_threads: int = 0
    """``torch.set_num_threads`` in the learner; 0: automatic."""
    experiment_name: str = "appo"
    """Runs go to ``<output_dir>/<experiment_name>/<timestamp>[_<run_name>]/``."""
    run_name: str = ""
    """Optional suffix of the run directory name (see :meth:`run_dir`)."""
    output_dir: str = "logs/appo"
    """Root directory of all APPO runs (relative to the working directory), like Isaac Lab's ``logs/rsl_rl``."""

    # ---- runner: checkpoints ----------------------------------------------------------------------------------
    save_interval: int = 50
    """Write ``model_<iteration>.pt`` every this many iterations (0: only at the end)."""
    keep_last_checkpoints: int = 5
    """Periodic checkpoints kept on disk (older ones are deleted); 0 keeps all."""
    save_on_exit: bool = True
    """Write a final checkpoint when the run ends, is interrupted or fails."""
    resume: bool = False
    """Continue from the checkpoint that ``load_run`` / ``load_checkpoint`` select."""
    load_run: str = ".*"
    """Regex of the run directory to resume from, under ``<output_dir>/<experiment_name>/`` (the latest match)."""
    load_checkpoint: str = "model_.*.pt"
    """Regex of the checkpoint file in that run (the highest iteration that matches)."""
    allow_env_change: bool = False
    """Resume a checkpoint written for another task id (refused otherwise, even when the shapes match)."""

    # ---- runner: env interface --------------------------------------------------------------------------------
    clip_actions: float = 0.0
    """Clip actions to ``[-clip_actions, clip_actions]`` before they reach the env; 0 disables clipping."""
    init_at_random_ep_len: bool = True
    """Start the first episodes at random points of the time limit so that resets spread out (as rsl_rl does)."""

    # ---- runner: logging --------------------------------------------------------------------------------------
    logger: str = "tensorboard"
    """``tensorboard`` (event files in the run directory), ``wandb`` (Weights & Biases as well; needs
    ``pip install 'isaac_hydra_ext[wandb]'``) or ``none``; the train script's ``--logger``."""
    wandb_project: str = "isaaclab"
    """W&B project with ``logger=wandb`` (rsl_rl's field; the train script's ``--log_project_name``)."""
    log_interval: int = 1
    """Console and TensorBoard logging interval in learner iterations."""
    episode_window: int = 100
    """Mean return / length are over the last this-many finished episodes."""
    console: str = "auto"
    """Console progress: ``auto`` (live display in a terminal, plain lines in a pipe), ``progress``, ``line`` (one
    plain line per log interval) or ``none``."""

    def run_dir(self, timestamp: str) -> str:
        """Return the run directory for ``timestamp``: ``<output_dir>/<experiment_name>/<timestamp>[_<run_name>]``.

        The layout is :mod:`isaac_hydra_ext.utils.run_dirs`'s; the train script creates the directory with
        :func:`~isaac_hydra_ext.utils.run_dirs.create_run_dir` (unique even for runs started in the same second).
        """
        name = f"{timestamp}_{self.run_name}" if self.run_name else timestamp
        return os.path.join(experiment_dir(self.output_dir, self.experiment_name), name)

    def resume_checkpoint(self) -> str:
        """Return the checkpoint to resume from (``""`` unless :attr:`resume`).

        It is what Isaac Lab's ``get_checkpoint_path`` finds under ``<output_dir>/<experiment_name>`` with
        :attr:`load_run` and :attr:`load_checkpoint`; it raises if nothing matches.
        """
        if not self.resume:
            return ""
        from isaaclab_tasks.utils import get_checkpoint_path

        root = os.path.abspath(os.path.join(self.output_dir, self.experiment_name))
        return get_checkpoint_path(root, self.load_run, self.load_checkpoint)

    def to_train_config(
        self,
        task: str,
        *,
        num_envs: int | None = None,
        resume_path: str | None = None,
        distributed: bool = False,
    ) -> TrainConfig:
        """Convert to the engine's :class:`TrainConfig` for Isaac Lab task ``task``.

        Args:
            task: The Isaac Lab task id (becomes ``env.id``; ``env.backend`` is ``isaaclab``).
            num_envs: The env's number of parallel environments (``env_cfg.scene.num_envs``). It is B, the size of
                each collector's vectorized env, so it replaces ``envs_per_worker``; None keeps ``envs_per_worker``.
            resume_path: Checkpoint to resume from; None resolves it with :meth:`resume_checkpoint`.
            distributed: Multi-GPU data-parallel learners (the script's ``--distributed``).

        The adapter settings ``clip_actions`` and ``init_at_random_ep_len`` travel in ``env.kwargs`` (they are
        :class:`~isaac_hydra_ext.isaaclab.vec_env.IsaacLabVecEnv` keyword arguments).

        Raises:
            ValueError: ``logger`` is not one of :data:`LOGGERS`.

        """
        if self.logger not in LOGGERS:
            raise ValueError(f"agent.logger={self.logger!r} is invalid: must be one of {', '.join(LOGGERS)}")
        ppo = PPOConfig(**{f.name: copy.deepcopy(getattr(self, f.name)) for f in dataclasses.fields(PPOConfig)})
        if num_envs is not None:
            ppo.envs_per_worker = int(num_envs)
        cfg = TrainConfig(
            env=EnvConfig(
                backend="isaaclab",
                id=task,
                kwargs={"clip_actions": float(self.clip_actions), "init_at_random_ep_len": self.init_at_random_ep_len},
                max_episode_steps=0,
                clip_actions=self.clip_actions > 0,
            ),
            ppo=ppo,
        )
        for field_name, key in RUN_FIELDS.items():  # the Isaac Lab-named runner fields, one mapping
            group, name = key.split(".")
            setattr(getattr(cfg, group), name, copy.deepcopy(getattr(self, field_name)))
        cfg.experiment.max_wall_time_s = float(cfg.experiment.max_wall_time_s)
        cfg.experiment.distributed = distributed
        cfg.logging.tensorboard = self.logger in ("tensorboard", "wandb")  # rsl_rl's wandb writes TensorBoard too
        cfg.logging.wandb = self.logger == "wandb"
        cfg.checkpoint.resume = self.resume_checkpoint() if resume_path is None else resume_path
        return cfg
