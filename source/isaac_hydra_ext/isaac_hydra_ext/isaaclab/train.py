"""The work behind ``scripts/reinforcement_learning/appo/train.py``, as plain functions.

The script only calls :func:`main_train`; tests and notebooks can call :func:`run_train` with their own
``make_env``. Order of operations follows Isaac Lab's rsl_rl scripts: parse arguments, launch the simulator (2.x:
before any task import; 3.x: after resolving the configs, kit-less when possible), resolve the task's env and agent
configs with the ``env.*`` / ``agent.*`` overrides, then train with the same composition root as the Hydra command
(:func:`isaac_hydra_ext.runners.builder.build_runner`).

Execution modes (``agent.num_workers``, see docs/isaaclab.md):

* ``0`` (the Sber Go1 default): the GPU-vectorized env lives in the learner process; the collector acts with the
  learner's own policy and writes a GPU-resident buffer, nothing is copied to the CPU.
* ``>= 1``: each worker process starts its own headless simulation with ``agent.envs_per_worker`` envs, as the
  original design describes (Isaac Lab allows one simulation per process); the learner only trains.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from ..config.schema import LaunchConfig, TrainConfig
from ..config.validation import ConfigError, config_problems, raise_if_problems
from ..runners.builder import build_runner
from ..runners.distributed import DistributedContext
from ..runners.preflight import preflight_problems
from ..runners.runner import NothingToTrain
from ..sampling.factory import UnsupportedSamplerError
from ..utils.checkpoint import CheckpointError, CheckpointMismatchError
from ..utils.run_dirs import RunDirError, create_run_dir, remove_unused_run_dir, resolve_checkpoint
from ..utils.run_logger import RunLoggerError, WandbLoginError
from . import compat
from .script_args import AGENT_ENTRY, dump_params, make_env, parse, picklable_launcher_args
from .vec_env import IsaacLabVecEnv, isaaclab_env_kwargs


def add_train_args(parser: argparse.ArgumentParser) -> None:
    """Isaac Lab's rsl_rl train-script arguments, for APPO."""
    parser.add_argument("--task", type=str, required=True, help="Registered task id.")
    parser.add_argument("--agent", type=str, default=AGENT_ENTRY, help="Registry key of the agent config.")
    parser.add_argument("--num_envs", type=int, default=None, help="Number of environments (env.scene.num_envs).")
    parser.add_argument("--seed", type=int, default=None, help="Seed of the run (agent.seed; -1 picks one).")
    parser.add_argument("--max_iterations", type=int, default=None, help="Learner iterations to run.")
    parser.add_argument(
        "--num_workers",
        type=int,
        default=None,
        help="0: in-process GPU collection; N: N worker processes, each with its own simulation.",
    )
    parser.add_argument(
        "--mode",
        type=str,
        default=None,
        choices=("async", "sync"),
        help="async: collection overlaps the update; sync: they alternate (agent.mode).",
    )
    parser.add_argument(
        "--checkpoint",
        type=str,
        default=None,
        help="Resume from this checkpoint: a file, a run directory, or 'latest' (newest of the experiment).",
    )
    parser.add_argument("--run_name", type=str, default=None, help="Suffix of the run directory.")
    parser.add_argument("--video", action="store_true", default=False, help="Record videos during training.")
    parser.add_argument("--video_length", type=int, default=200, help="Length of a recorded video (steps).")
    parser.add_argument("--video_interval", type=int, default=2000, help="Env steps between recordings.")
    parser.add_argument(
        "--distributed",
        action="store_true",
        default=False,
        help="One learner rank per GPU under torchrun (see docs/scaling_out.md).",
    )
    # Isaac Lab's rsl_rl logging flags (cli_args.py): --logger wandb also logs to Weights & Biases.
    parser.add_argument(
        "--logger",
        type=str,
        default=None,
        choices=["tensorboard", "wandb", "none"],
        help="Logger (agent.logger): tensorboard, wandb (W&B as well as TensorBoard) or none.",
    )
    parser.add_argument(
        "--log_project_name", type=str, default=None, help="W&B project with --logger wandb (agent.wandb_project)."
    )


def _apply_args(args: argparse.Namespace, env_cfg: Any, agent_cfg: Any) -> None:
    """Copy the script's options into the task's env and agent configs (the script's options win)."""
    if args.num_envs is not None:
        env_cfg.scene.num_envs = args.num_envs
    if args.seed is not None:
        agent_cfg.seed = args.seed if args.seed >= 0 else int.from_bytes(os.urandom(3), "little")
    if args.max_iterations is not None:
        agent_cfg.max_iterations = args.max_iterations
    if args.num_workers is not None:
        agent_cfg.num_workers = args.num_workers
    if getattr(args, "mode", None):
        agent_cfg.mode = args.mode
    if args.run_name:
        agent_cfg.run_name = args.run_name
    if getattr(args, "logger", None):  # Isaac Lab's rsl_rl flags
        agent_cfg.logger = args.logger
    if getattr(args, "log_project_name", None):
        agent_cfg.wandb_project = args.log_project_name
    device = getattr(args, "device", None)
    if device:
        env_cfg.sim.device = device
        agent_cfg.device = device


def _resume_path(agent_cfg: Any, checkpoint: str | None) -> str:
    """``--checkpoint`` (a file, a run directory or ``latest``) or, without it, the agent config's ``resume``."""
    if checkpoint is None:
        return agent_cfg.resume_checkpoint()
    path = resolve_checkpoint(checkpoint, agent_cfg.output_dir, agent_cfg.experiment_name, option="--checkpoint")
    return path or ""


def run_train(
    args: argparse.Namespace,
    overrides: list[str],
    session: compat.TaskSession,
    make_env: Callable[..., Any] = make_env,
) -> dict:
    """Train ``args.task`` with the resolved configs of ``session``; return the run summary."""
    env_cfg, agent_cfg = session.env_cfg, session.agent_cfg
    _apply_args(args, env_cfg, agent_cfg)
    dist = None
    if args.distributed:
        if str(env_cfg.sim.device).startswith("cpu"):
            raise ConfigError("--distributed needs GPUs (one rank per GPU); for CPU ranks use the Hydra runner")
        dist = DistributedContext.from_environment(agent_cfg.device)
        env_cfg.sim.device = agent_cfg.device = str(dist.device)
        agent_cfg.seed += dist.rank
    env_cfg.seed = agent_cfg.seed
    try:
        try:
            resume = _resume_path(agent_cfg, args.checkpoint)
        except CheckpointError as exc:  # --checkpoint names nothing to resume: a configuration error (exit 2)
            raise RunDirError(str(exc)) from exc
        in_process = agent_cfg.num_workers == 0
        num_envs = env_cfg.scene.num_envs if in_process else agent_cfg.envs_per_worker
        train_cfg: TrainConfig = agent_cfg.to_train_config(
            args.task, num_envs=num_envs, resume_path=resume, distributed=args.distributed
        )
        if not in_process:  # what a worker needs to start its own simulation with the same task config
            train_cfg.env.launch = LaunchConfig(launcher_args=picklable_launcher_args(args), overrides=list(overrides))
        raise_if_problems(config_problems(train_cfg))
        is_main = dist is None or dist.rank == 0
        spec = None
        if not in_process:
            # Worker processes: probe the shapes with a one-env instance here (each worker builds its own), before
            # the pre-flight checks, which size the shared memory from them.
            num_envs_cfg = env_cfg.scene.num_envs
            env_cfg.scene.num_envs = 1
            probe = IsaacLabVecEnv(make_env(args.task, env_cfg), **isaaclab_env_kwargs(train_cfg.env.kwargs))
            spec = probe.spec
            probe.close()
            env_cfg.scene.num_envs = num_envs_cfg
        # The machine: device, shared memory, worker count, output directory (exit 2, nothing made yet).
        raise_if_problems(preflight_problems(train_cfg, spec, check_output_dir=is_main))
        run_dir = "."
        if is_main:
            run_dir = create_run_dir(agent_cfg.output_dir, agent_cfg.experiment_name, agent_cfg.run_name)
            dump_params(run_dir, env_cfg, agent_cfg)
            print(f"[INFO] Logging experiment in directory: {run_dir}", flush=True)
        try:
            if in_process:
                vec = _in_process_env(args, env_cfg, train_cfg, run_dir, make_env)
                try:
                    return build_runner(
                        train_cfg, run_dir, vec.spec, resume_path=resume or None, envs=[vec], dist=dist
                    ).train()
                finally:
                    vec.close()
            assert spec is not None
            return build_runner(train_cfg, run_dir, spec, resume_path=resume or None, dist=dist).train()
        except NothingToTrain:  # leave no run directory holding only the parameters
            if is_main:
                remove_unused_run_dir(run_dir, [os.path.join("params", f) for f in ("env.yaml", "agent.yaml")])
            raise
    finally:
        if dist is not None:
            dist.close()


def _in_process_env(
    args: argparse.Namespace, env_cfg: Any, train_cfg: TrainConfig, run_dir: str, make_env: Callable[..., Any]
) -> IsaacLabVecEnv:
    """The learner-process env (with Isaac Lab's ``--video`` recording wrapper when asked)."""
    env = make_env(args.task, env_cfg, render=args.video)
    if args.video:
        import gymnasium as gym

        env = gym.wrappers.RecordVideo(
            env,
            video_folder=os.path.join(run_dir, "videos", "train"),
            step_trigger=lambda step: step % args.video_interval == 0,
            video_length=args.video_length,
            disable_logger=True,
        )
    return IsaacLabVecEnv(env, **isaaclab_env_kwargs(train_cfg.env.kwargs))


def main_train(argv: list[str] | None = None) -> int:
    """``train.py``: parse, launch, resolve configs, train; returns the exit code."""
    parser = argparse.ArgumentParser(description="Train an APPO agent on an Isaac Lab task.")
    add_train_args(parser)
    args, overrides = parse(parser, argv)
    from .overrides import OverrideError

    if args.logger == "wandb":  # before the simulator starts: a missing extra is a configuration error
        from ..utils.wandb_sink import WandbUnavailableError, require_wandb

        try:
            require_wandb()
        except WandbUnavailableError as exc:
            print(f"Error: {exc}", file=sys.stderr, flush=True)
            return 2
    try:
        with compat.open_task(args.task, args, args.agent, overrides=overrides) as session:
            summary = run_train(args, overrides, session)
    except (OverrideError, ConfigError, RunDirError, UnsupportedSamplerError, FileNotFoundError) as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return 2
    except CheckpointError as exc:  # a sound checkpoint this configuration does not fit: 2; a damaged file: 1
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return 2 if isinstance(exc, CheckpointMismatchError) else 1
    except NothingToTrain as exc:  # the checkpoint to resume already reached --max_iterations: not an error
        options = {"max_iterations": "--max_iterations", "max_env_steps": "agent.max_env_steps"}  # this script's
        print(exc.describe(options[exc.budget]), flush=True)
        return 0
    except RunLoggerError as exc:  # W&B without credentials: 2 (the user's setup); W&B failing otherwise: 1
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return 2 if isinstance(exc, WandbLoginError) else 1
    print(
        f"run {summary['status']}: {summary['iterations']} iterations, {summary['env_steps']:,} env steps, "
        f"{summary['wall_time_s']:.1f} s; run directory {summary['run_dir']}",
        flush=True,
    )
    if summary["status"] == "failed":
        print(f"Error: {summary['error']}", file=sys.stderr, flush=True)
        return 1
    return 0
