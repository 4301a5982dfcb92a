"""The work behind ``scripts/reinforcement_learning/appo/play.py``: replay a checkpoint on an Isaac Lab task.

The script only calls :func:`main_play`. It is the Hydra ``play`` command's path with an Isaac Lab env: checkpoints
are found by :mod:`isaac_hydra_ext.utils.run_dirs`, the policy is loaded by :mod:`isaac_hydra_ext.models.export`,
the :class:`~.vec_env.IsaacLabVecEnv` is replayed by the shared loop :func:`isaac_hydra_ext.envs.replay.replay`
(same report: episodes, return, length, terminations and the task's ``extras["log"]`` under Isaac Lab's names), and
the policy is exported after the replay, each failure one line. Videos follow Isaac Lab's convention (``--video``:
gymnasium's ``RecordVideo`` over the viewport camera, ``<run>/videos/play/``).

A checkpoint trained on another task (e.g. the embedded MuJoCo Go1, ``--task <Newton Go1 play id> --checkpoint
<MuJoCo run>``) is replayed through the sim-to-sim mapping of :mod:`isaac_hydra_ext.envs.sim2sim` (docs/sim2sim.md);
the report says which mapping was applied, and what cannot be mapped is one line, exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from ..utils.checkpoint import CheckpointError
from ..utils.paths import output_file_problems
from ..utils.run_dirs import RunDirError, resolve_checkpoint
from . import compat
from .script_args import AGENT_ENTRY, make_env, parse
from .vec_env import IsaacLabVecEnv


def add_play_args(parser: argparse.ArgumentParser) -> None:
    """Isaac Lab's rsl_rl play-script arguments, for APPO."""
    parser.add_argument("--task", type=str, required=True, help="Registered task id (use the -Play- variant).")
    parser.add_argument("--agent", type=str, default=AGENT_ENTRY, help="Registry key of the agent config.")
    parser.add_argument("--num_envs", type=int, default=None, help="Number of environments.")
    parser.add_argument("--seed", type=int, default=None, help="Seed of the env.")
    parser.add_argument(
        "--checkpoint",
        type=str,
        default=None,
        help="Checkpoint to replay: a file or a run directory; default: the newest of the experiment.",
    )
    parser.add_argument("--num_steps", type=int, default=0, help="Stop after this many steps (0: until closed).")
    parser.add_argument("--video", action="store_true", default=False, help="Record a video of the replay.")
    parser.add_argument("--video_length", type=int, default=200, help="Length of the recorded video (steps).")
    parser.add_argument("--real-time", action="store_true", default=False, help="Run in real time, if possible.")
    parser.add_argument(
        "--report_json", type=str, default="", help="Also write the replay report as JSON to this file."
    )


class PlayError(ValueError):
    """A bad play-script argument; the message names the value and what is allowed."""


def play_arg_problems(args: argparse.Namespace) -> list[str]:
    """What is wrong with the script's numeric options (one line each; empty: nothing)."""
    problems = []
    if args.num_envs is not None and args.num_envs < 1:
        problems.append(f"--num_envs={args.num_envs} is invalid: must be an integer >= 1 (or left out: the task's)")
    if args.num_steps < 0:
        problems.append(f"--num_steps={args.num_steps} is invalid: must be an integer >= 0 (0: until closed)")
    if args.video and args.video_length < 1:
        problems.append(f"--video_length={args.video_length} is invalid: must be an integer >= 1")
    problems += output_file_problems("--report_json", getattr(args, "report_json", ""))
    return problems


def run_play(args: argparse.Namespace, session: compat.TaskSession, make_env: Callable[..., Any] = make_env) -> dict:
    """Replay a checkpoint on ``args.task`` with the shared loop, print the shared report, then export the policy.

    ``make_env(task, env_cfg, render)`` builds the Isaac Lab env (the seam tests replace). Returns what was played:
    ``checkpoint``, ``steps``, ``report`` (:class:`~isaac_hydra_ext.envs.replay.ReplayReport`), ``mean_return``,
    ``exported`` (format -> path) and ``export_problems`` (one line each).
    """
    from ..envs.replay import replay, report_lines, write_report_json
    from ..envs.sim2sim import MappedPolicy, Sim2SimError, sim2sim_mapping, summary_line
    from ..models.export import export_after_replay, load_policy
    from ..models.onnx_metadata import deployment_metadata, metadata_lines, read_onnx_metadata
    from ..models.recurrent import StatefulPolicy

    problems = play_arg_problems(args)
    if problems:
        raise PlayError("; ".join(problems))
    env_cfg, agent_cfg = session.env_cfg, session.agent_cfg
    if args.num_envs is not None:
        env_cfg.scene.num_envs = args.num_envs
    if args.seed is not None:
        env_cfg.seed = args.seed
    if getattr(args, "device", None):
        env_cfg.sim.device = args.device
    checkpoint = resolve_checkpoint(
        args.checkpoint or "latest", agent_cfg.output_dir, agent_cfg.experiment_name, option="--checkpoint"
    )
    assert checkpoint is not None
    print(f"[INFO] Loading model checkpoint from: {checkpoint}", flush=True)
    loaded = load_policy(checkpoint, device=str(env_cfg.sim.device))
    env = make_env(args.task, env_cfg, render=args.video)
    if args.video:  # Isaac Lab's convention: gymnasium's RecordVideo over the viewport camera
        import gymnasium as gym

        env = gym.wrappers.RecordVideo(
            env,
            video_folder=os.path.join(os.path.dirname(checkpoint), "videos", "play"),
            step_trigger=lambda step: step == 0,
            video_length=args.video_length,
            disable_logger=True,
        )
    vec = IsaacLabVecEnv(env, clip_actions=float(getattr(agent_cfg, "clip_actions", 0.0) or 0.0), final_obs="previous")
    metadata = deployment_metadata(vec.spec.deployment, args.task)
    policy: Any = StatefulPolicy(loaded.policy)
    mapping = None
    try:
        try:  # a checkpoint of another task (e.g. the embedded MuJoCo Go1): sim-to-sim replay through the mapping
            mapping = sim2sim_mapping(loaded, vec.spec, args.task)
        except Sim2SimError as exc:
            raise PlayError(str(exc)) from exc
        if mapping is not None:  # the policy sees its training layout; the export describes that layout
            policy = MappedPolicy(policy, mapping)
            metadata = deployment_metadata(loaded.deployment, loaded.env_id)
        elif (vec.spec.obs_dim, vec.spec.act_dim) != (loaded.obs_dim, loaded.act_dim):
            raise PlayError(
                f"task {args.task} has {vec.spec.obs_dim} observations and {vec.spec.act_dim} actions, "
                f"the checkpoint's policy {loaded.obs_dim} and {loaded.act_dim}"
            )
        dt = float(getattr(vec.unwrapped, "step_dt", 0.0))
        last = [time.time()]

        def real_time() -> None:  # sleep off the rest of the step's dt, once per frame
            if args.real_time and dt > 0:
                time.sleep(max(0.0, dt - (time.time() - last[0])))
            last[0] = time.time()

        report = replay(
            vec,
            policy,
            args.num_steps or None,
            env_cfg.seed,
            on_frame=real_time,
            keep_running=session.is_running,
        )
    finally:
        vec.close()
    notes = [] if mapping is None else [f"  {mapping.describe()}", summary_line(report)]
    print("\n".join(report_lines(report, args.task, checkpoint, notes)), flush=True)
    if getattr(args, "report_json", ""):
        try:
            write_report_json(args.report_json, report, args.task, checkpoint, mapping)
        except OSError as exc:  # checked before the replay; a folder that went away or a full disk since
            raise PlayError(f"--report_json={args.report_json!r} cannot be written: {exc.strerror or exc}") from exc
    # Export after the replay: a read-only run directory or a missing package must not stop the replay.
    exported = export_after_replay(loaded.policy, os.path.join(os.path.dirname(checkpoint), "exported"), metadata)
    if exported.paths:
        print(f"[INFO] Exported the policy to {', '.join(exported.paths.values())}", flush=True)
    if "onnx" in exported.paths:
        print("\n".join(metadata_lines(read_onnx_metadata(exported.paths["onnx"]))), flush=True)
    for problem in exported.problems:
        print(f"[WARN] {problem}", file=sys.stderr, flush=True)
    return {
        "checkpoint": checkpoint,
        "steps": report.steps,
        "report": report,
        "mean_return": report.mean_return,
        "exported": exported.paths or None,
        "export_problems": exported.problems,
        "sim2sim": "" if mapping is None else mapping.describe(),
    }


def main_play(argv: list[str] | None = None) -> int:
    """``play.py``: parse, launch, resolve configs (play mode), replay and export; returns the exit code."""
    parser = argparse.ArgumentParser(description="Replay an APPO checkpoint on an Isaac Lab task.")
    add_play_args(parser)
    args, overrides = parse(parser, argv)
    from .overrides import OverrideError

    problems = play_arg_problems(args)  # before the simulator starts
    if problems:
        print(f"Error: {'; '.join(problems)}", file=sys.stderr, flush=True)
        return 2
    try:
        with compat.open_task(
            args.task, args, args.agent, play_mode="-Play" not in args.task, overrides=overrides
        ) as session:
            run_play(args, session)
    except (PlayError, OverrideError, CheckpointError, RunDirError, FileNotFoundError) as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return 2
    return 0
