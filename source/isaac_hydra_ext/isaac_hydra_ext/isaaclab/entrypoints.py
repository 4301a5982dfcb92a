"""The work behind ``scripts/reinforcement_learning/appo/{train,play}.py``, as plain functions.

The scripts only parse arguments and call :func:`main_train` / :func:`main_play`; tests and notebooks can call the
same functions. Order of operations follows Isaac Lab's rsl_rl scripts: parse arguments, launch the simulator (2.x:
before any task import; 3.x: after resolving the configs, kit-less when possible), resolve the task's env and agent
configs with the ``env.*`` / ``agent.*`` overrides, then train or play.

Execution modes (``agent.num_workers``, see docs/isaaclab.md):

* ``0`` (the Sber Go1 default): the GPU-vectorized env lives in the learner process; the collector acts with the
  learner's own policy and writes a GPU-resident buffer, nothing is copied to the CPU.
* ``>= 1``: each worker process starts its own headless simulation with ``agent.envs_per_worker`` envs, as the
  original design describes (Isaac Lab allows one simulation per process); the learner only trains.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from typing import Any

from . import compat

TRAIN_ENTRY = compat.AGENT_ENTRY_POINT


def add_train_args(parser: argparse.ArgumentParser) -> None:
    """Isaac Lab's rsl_rl train-script arguments, for APPO."""
    parser.add_argument("--task", type=str, required=True, help="Registered task id.")
    parser.add_argument("--agent", type=str, default=TRAIN_ENTRY, help="Registry key of the agent config.")
    parser.add_argument("--num_envs", type=int, default=None, help="Number of environments (env.scene.num_envs).")
    parser.add_argument("--seed", type=int, default=None, help="Seed of the run (agent.seed; -1 picks one).")
    parser.add_argument("--max_iterations", type=int, default=None, help="Learner iterations to run.")
    parser.add_argument("--num_workers", type=int, default=None,
                        help="0: in-process GPU collection; N: N worker processes, each with its own simulation.")
    parser.add_argument("--checkpoint", type=str, default=None,
                        help="Resume from this checkpoint: a path, or 'latest' (newest run of the experiment).")
    parser.add_argument("--run_name", type=str, default=None, help="Suffix of the run directory.")
    parser.add_argument("--video", action="store_true", default=False, help="Record videos during training.")
    parser.add_argument("--video_length", type=int, default=200, help="Length of a recorded video (steps).")
    parser.add_argument("--video_interval", type=int, default=2000, help="Env steps between recordings.")
    parser.add_argument("--distributed", action="store_true", default=False,
                        help="One learner rank per GPU under torchrun (see docs/scaling_out.md).")
    # Isaac Lab's rsl_rl logging flags (cli_args.py): --logger wandb also logs to Weights & Biases.
    parser.add_argument("--logger", type=str, default=None, choices=["tensorboard", "wandb", "none"],
                        help="Logger (agent.logger): tensorboard, wandb (W&B as well as TensorBoard) or none.")
    parser.add_argument("--log_project_name", type=str, default=None,
                        help="W&B project with --logger wandb (agent.wandb_project).")


def add_play_args(parser: argparse.ArgumentParser) -> None:
    """Isaac Lab's rsl_rl play-script arguments, for APPO."""
    parser.add_argument("--task", type=str, required=True, help="Registered task id (use the -Play- variant).")
    parser.add_argument("--agent", type=str, default=TRAIN_ENTRY, help="Registry key of the agent config.")
    parser.add_argument("--num_envs", type=int, default=None, help="Number of environments.")
    parser.add_argument("--seed", type=int, default=None, help="Seed of the env.")
    parser.add_argument("--checkpoint", type=str, default=None,
                        help="Checkpoint to replay: a path; default: the newest run's last checkpoint.")
    parser.add_argument("--num_steps", type=int, default=0, help="Stop after this many steps (0: until closed).")
    parser.add_argument("--video", action="store_true", default=False, help="Record a video of the replay.")
    parser.add_argument("--video_length", type=int, default=200, help="Length of the recorded video (steps).")
    parser.add_argument("--real-time", action="store_true", default=False, help="Run in real time, if possible.")


def parse(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    """Add the launcher's options, split our arguments from the ``env.*``/``agent.*`` overrides."""
    compat.add_launcher_args(parser)
    args, overrides = parser.parse_known_args(argv)
    if getattr(args, "video", False) and hasattr(args, "enable_cameras"):
        args.enable_cameras = True
    stray = [o for o in overrides if o.startswith("-")]
    if stray:
        parser.error(f"unrecognized arguments: {' '.join(stray)}")
    return args, overrides


# ---- helpers shared by train and play -------------------------------------------------------------------------
def isaaclab_env_kwargs(env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The :class:`IsaacLabVecEnv` keyword arguments among ``env.kwargs`` (the rest configure worker launches)."""
    return {k: env_kwargs[k] for k in ("clip_actions", "init_at_random_ep_len", "final_obs") if k in env_kwargs}


def _make_env(task: str, env_cfg: Any, render: bool = False):
    """``gym.make`` of an Isaac Lab task with its resolved config."""
    import gymnasium as gym

    return gym.make(task, cfg=env_cfg, render_mode="rgb_array" if render else None)


def _dump_params(run_dir: str, env_cfg: Any, agent_cfg: Any) -> None:
    """``params/env.yaml`` and ``params/agent.yaml``, as Isaac Lab's scripts write them."""
    from isaaclab.utils.io import dump_yaml

    dump_yaml(os.path.join(run_dir, "params", "env.yaml"), env_cfg)
    dump_yaml(os.path.join(run_dir, "params", "agent.yaml"), agent_cfg)


def _resolve_resume(agent_cfg: Any, checkpoint: str | None) -> str:
    from ..utils.checkpoint import find_latest_checkpoint

    if checkpoint is None:
        return agent_cfg.resume_checkpoint()
    if checkpoint == "latest":
        root = os.path.join(agent_cfg.output_dir, agent_cfg.experiment_name)
        path = find_latest_checkpoint(root)
        if path is None:
            raise FileNotFoundError(f"--checkpoint latest: no model_<iteration>.pt under {os.path.abspath(root)}")
        return path
    return os.path.abspath(checkpoint)


# ---- train ----------------------------------------------------------------------------------------------------
def run_train(args: argparse.Namespace, overrides: list[str], session: compat.TaskSession) -> dict:
    """Train ``args.task`` with the resolved configs of ``session``; return the run summary."""
    from ..config.validation import validate_config
    from ..runners.runner import APPORunner

    env_cfg, agent_cfg = session.env_cfg, session.agent_cfg
    if args.num_envs is not None:
        env_cfg.scene.num_envs = args.num_envs
    if args.seed is not None:
        agent_cfg.seed = args.seed if args.seed >= 0 else int.from_bytes(os.urandom(3), "little")
    if args.max_iterations is not None:
        agent_cfg.max_iterations = args.max_iterations
    if args.num_workers is not None:
        agent_cfg.num_workers = args.num_workers
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
    dist = None
    if args.distributed:
        from ..runners.distributed import DistributedContext

        if str(env_cfg.sim.device).startswith("cpu"):
            raise SystemExit("--distributed needs GPUs (one rank per GPU); for CPU ranks use the Hydra runner")
        dist = DistributedContext.from_environment(agent_cfg.device)
        env_cfg.sim.device = agent_cfg.device = str(dist.device)
        agent_cfg.seed += dist.rank
    env_cfg.seed = agent_cfg.seed

    timestamp = datetime.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    run_dir = os.path.abspath(agent_cfg.run_dir(timestamp))
    resume = _resolve_resume(agent_cfg, args.checkpoint)
    in_process = agent_cfg.num_workers == 0
    num_envs = env_cfg.scene.num_envs if in_process else agent_cfg.envs_per_worker
    train_cfg = agent_cfg.to_train_config(args.task, num_envs=num_envs, resume_path=resume,
                                          distributed=args.distributed)
    if not in_process:  # what a worker needs to start its own simulation with the same task config
        train_cfg.env.kwargs.update({
            "overrides": list(overrides),
            "launcher_args": {k: v for k, v in vars(args).items() if _picklable(v)},
        })
    validate_config(train_cfg, check_env=False)
    if dist is None or dist.rank == 0:
        os.makedirs(run_dir, exist_ok=True)
        _dump_params(run_dir, env_cfg, agent_cfg)
        print(f"[INFO] Logging experiment in directory: {run_dir}", flush=True)

    from .vec_env import IsaacLabVecEnv

    env_kwargs = isaaclab_env_kwargs(train_cfg.env.kwargs)
    if in_process:
        env = _make_env(args.task, env_cfg, render=args.video)
        if args.video:
            import gymnasium as gym

            env = gym.wrappers.RecordVideo(
                env, video_folder=os.path.join(run_dir, "videos", "train"),
                step_trigger=lambda step: step % args.video_interval == 0, video_length=args.video_length,
                disable_logger=True)
        vec = IsaacLabVecEnv(env, **env_kwargs)
        try:
            runner = APPORunner(train_cfg, run_dir, vec.spec, inprocess_envs=[vec], dist=dist)
            return runner.train()
        finally:
            vec.close()
            if dist is not None:
                dist.close()
    # Worker processes: probe the shapes with a one-env instance here, then each worker builds its own.
    env_cfg.scene.num_envs = 1
    env = _make_env(args.task, env_cfg)
    probe = IsaacLabVecEnv(env, **env_kwargs)
    spec = probe.spec
    probe.close()
    try:
        return APPORunner(train_cfg, run_dir, spec, dist=dist).train()
    finally:
        if dist is not None:
            dist.close()


def _picklable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, type(None), list, tuple))


def main_train(argv: list[str] | None = None) -> int:
    """``train.py``: parse, launch, resolve configs, train; returns the exit code."""
    parser = argparse.ArgumentParser(description="Train an APPO agent on an Isaac Lab task.")
    add_train_args(parser)
    args, overrides = parse(parser, argv)
    from ..config.validation import ConfigError
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
    except (OverrideError, ConfigError, FileNotFoundError) as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return 2
    print(f"run {summary['status']}: {summary['iterations']} iterations, {summary['env_steps']:,} env steps, "
          f"{summary['wall_time_s']:.1f} s; run directory {summary['run_dir']}", flush=True)
    if summary["status"] == "failed":
        print(f"Error: {summary['error']}", file=sys.stderr, flush=True)
        return 1
    return 0


# ---- play -----------------------------------------------------------------------------------------------------
def run_play(args: argparse.Namespace, session: compat.TaskSession) -> dict:
    """Replay a checkpoint on ``args.task``; export the policy next to it; return what was played."""
    import torch

    from ..export import export_policy, load_policy
    from ..utils.checkpoint import find_latest_checkpoint
    from .vec_env import IsaacLabVecEnv

    env_cfg, agent_cfg = session.env_cfg, session.agent_cfg
    if args.num_envs is not None:
        env_cfg.scene.num_envs = args.num_envs
    if args.seed is not None:
        env_cfg.seed = args.seed
    if getattr(args, "device", None):
        env_cfg.sim.device = args.device
    if args.checkpoint:
        checkpoint = os.path.abspath(args.checkpoint)
    else:
        root = os.path.join(agent_cfg.output_dir, agent_cfg.experiment_name)
        checkpoint = find_latest_checkpoint(root)
        if checkpoint is None:
            raise FileNotFoundError(f"no checkpoint to play: nothing under {os.path.abspath(root)} (train first, or "
                                    "pass --checkpoint <path>)")
    print(f"[INFO] Loading model checkpoint from: {checkpoint}", flush=True)
    device = str(env_cfg.sim.device)
    loaded = load_policy(checkpoint, device=device)
    exported = export_policy(loaded.policy, os.path.join(os.path.dirname(checkpoint), "exported"))
    print(f"[INFO] Exported the policy to {exported['torchscript']} and {exported['onnx']}", flush=True)

    env = _make_env(args.task, env_cfg, render=args.video)
    if args.video:
        import gymnasium as gym

        env = gym.wrappers.RecordVideo(env, video_folder=os.path.join(os.path.dirname(checkpoint), "videos", "play"),
                                       step_trigger=lambda step: step == 0, video_length=args.video_length,
                                       disable_logger=True)
    vec = IsaacLabVecEnv(env)
    dt = float(getattr(vec.unwrapped, "step_dt", 0.0))
    obs, _ = vec.reset(seed=env_cfg.seed)
    steps, returns = 0, torch.zeros(vec.num_envs, device=vec.device)
    try:
        while session.is_running() and (args.num_steps <= 0 or steps < args.num_steps):
            start = time.time()
            with torch.inference_mode():
                step = vec.step(loaded.policy(obs))
            returns += step.reward
            obs = step.obs
            steps += 1
            if args.real_time and dt > 0:
                time.sleep(max(0.0, dt - (time.time() - start)))
    finally:
        vec.close()
    return {"checkpoint": checkpoint, "steps": steps, "exported": exported,
            "mean_return": float(returns.mean()) if steps else 0.0}


def main_play(argv: list[str] | None = None) -> int:
    """``play.py``: parse, launch, resolve configs (play mode), replay and export; returns the exit code."""
    parser = argparse.ArgumentParser(description="Replay an APPO checkpoint on an Isaac Lab task.")
    add_play_args(parser)
    args, overrides = parse(parser, argv)
    from ..utils.checkpoint import CheckpointError
    from .overrides import OverrideError

    try:
        with compat.open_task(args.task, args, args.agent, play_mode="-Play" not in args.task,
                              overrides=overrides) as session:
            result = run_play(args, session)
    except (OverrideError, CheckpointError, FileNotFoundError) as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return 2
    print(f"played {result['steps']} steps of {result['checkpoint']}", flush=True)
    return 0
