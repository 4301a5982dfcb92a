"""The work behind ``scripts/reinforcement_learning/appo/play.py``: replay a checkpoint on an Isaac Lab task.

The script only calls :func:`main_play`. Checkpoints are found by :mod:`isaac_hydra_ext.utils.run_dirs`, as for
training and the Hydra ``play`` command; the policy is loaded and exported by :mod:`isaac_hydra_ext.models.export`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from ..utils.checkpoint import CheckpointError
from ..utils.run_dirs import resolve_checkpoint
from . import compat
from .script_args import AGENT_ENTRY, make_env, parse
from .vec_env import IsaacLabVecEnv


def add_play_args(parser: argparse.ArgumentParser) -> None:
    """Isaac Lab's rsl_rl play-script arguments, for APPO."""
    parser.add_argument("--task", type=str, required=True, help="Registered task id (use the -Play- variant).")
    parser.add_argument("--agent", type=str, default=AGENT_ENTRY, help="Registry key of the agent config.")
    parser.add_argument("--num_envs", type=int, default=None, help="Number of environments.")
    parser.add_argument("--seed", type=int, default=None, help="Seed of the env.")
    parser.add_argument("--checkpoint", type=str, default=None,
                        help="Checkpoint to replay: a file or a run directory; default: the newest of the experiment.")
    parser.add_argument("--num_steps", type=int, default=0, help="Stop after this many steps (0: until closed).")
    parser.add_argument("--video", action="store_true", default=False, help="Record a video of the replay.")
    parser.add_argument("--video_length", type=int, default=200, help="Length of the recorded video (steps).")
    parser.add_argument("--real-time", action="store_true", default=False, help="Run in real time, if possible.")


def run_play(args: argparse.Namespace, session: compat.TaskSession, make_env: Callable[..., Any] = make_env) -> dict:
    """Replay a checkpoint on ``args.task``, then export the policy next to it; return what was played."""
    import torch

    from ..models.export import export_policy, load_policy

    env_cfg, agent_cfg = session.env_cfg, session.agent_cfg
    if args.num_envs is not None:
        env_cfg.scene.num_envs = args.num_envs
    if args.seed is not None:
        env_cfg.seed = args.seed
    if getattr(args, "device", None):
        env_cfg.sim.device = args.device
    checkpoint = resolve_checkpoint(args.checkpoint or "latest", agent_cfg.output_dir, agent_cfg.experiment_name,
                                    option="--checkpoint")
    assert checkpoint is not None
    print(f"[INFO] Loading model checkpoint from: {checkpoint}", flush=True)
    loaded = load_policy(checkpoint, device=str(env_cfg.sim.device))
    env = make_env(args.task, env_cfg, render=args.video)
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
    # Export after the replay: a read-only run directory must not stop the replay.
    try:
        exported: dict[str, str] | None = export_policy(loaded.policy, os.path.join(os.path.dirname(checkpoint),
                                                                                   "exported"))
        print(f"[INFO] Exported the policy to {exported['torchscript']} and {exported['onnx']}", flush=True)
    except (OSError, ImportError, RuntimeError) as exc:
        exported = None
        print(f"[WARN] could not export the policy: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
    return {"checkpoint": checkpoint, "steps": steps, "exported": exported,
            "mean_return": float(returns.mean()) if steps else 0.0}


def main_play(argv: list[str] | None = None) -> int:
    """``play.py``: parse, launch, resolve configs (play mode), replay and export; returns the exit code."""
    parser = argparse.ArgumentParser(description="Replay an APPO checkpoint on an Isaac Lab task.")
    add_play_args(parser)
    args, overrides = parse(parser, argv)
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
