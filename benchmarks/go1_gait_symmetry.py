"""Gait symmetry of trained Go1 policies on the embedded MuJoCo task: left/right foot air time (issue 19).

For each checkpoint (e.g. one trained with ``ppo.use_data_augmentation=true`` and one without; a ``model_<it>.pt``
or a run directory, whose newest checkpoint is used) it reads the run's ``metrics.jsonl`` for the env steps and the
training seconds to walking (the criterion of ``time_to_result.py``: over the last 100 episodes, mean length >= 90%
of 1000 steps and linear-velocity tracking >= 75% of its maximum), then replays the deterministic policy
on ``--num-envs`` envs of the Play task (no observation noise, no pushes) with a fixed command
for ``--steps`` steps and reports, from :func:`isaac_hydra_ext.envs.go1.gait.measure_gait_symmetry`, the mean air
time of the left feet (FL, RL) and of the right feet (FR, RR) before each touchdown and the symmetry index
|T_left - T_right| / mean(T_left, T_right) (0: symmetric). The table is printed and appended to the section
``## Go1 gait symmetry`` of docs/benchmarks.md.

Usage: ``python benchmarks/go1_gait_symmetry.py --checkpoint sym=<run>/model_300.pt plain=<run>/model_300.pt
[--command 0.8 0.0 0.0] [--steps 1000] [--num-envs 16] [--no-append]``
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from common import REPO, append_entry, markdown_table
from isaac_hydra_ext.envs.go1 import Go1VelocityPlayEnv
from isaac_hydra_ext.envs.go1.deployment import go1_deployment_info
from isaac_hydra_ext.envs.go1.gait import GaitSymmetry, measure_gait_symmetry
from isaac_hydra_ext.envs.symmetry import quadruped_mirror
from isaac_hydra_ext.models.export import load_policy
from isaac_hydra_ext.utils.checkpoint import list_checkpoints
from isaac_hydra_ext.utils.curves import read_metrics
from time_to_result import walking

SECTION = "Go1 gait symmetry"


def measure(checkpoint: str, command: list[float], steps: int, num_envs: int, seed: int) -> tuple[GaitSymmetry, float]:
    """Gait symmetry of ``checkpoint``'s deterministic policy on the Play task with a fixed ``command``, and the
    policy's own mirror error on the states it visited.

    The mirror error is ``mean |pi(M_o o) - M_a pi(o)| / mean |pi(o)|`` over every 10th step's observations (M: the
    task's left-right mirror, :func:`isaac_hydra_ext.envs.symmetry.quadruped_mirror`): 0 for a policy that acts
    mirror-symmetrically, which data augmentation and the mirror loss push towards.
    """
    policy = load_policy(checkpoint).policy
    env = Go1VelocityPlayEnv(num_envs, commands={"fixed_command": tuple(command)})
    mirror = quadruped_mirror(
        SimpleNamespace(
            deployment=go1_deployment_info(env.cfg).as_dict(),
            obs_dim=env.single_observation_space.shape[0],
            act_dim=env.single_action_space.shape[0],
        )
    )
    visited: list[torch.Tensor] = []
    calls = [0]

    def act(obs: np.ndarray) -> np.ndarray:
        o = torch.as_tensor(obs, dtype=torch.float32)
        if calls[0] % 10 == 0:
            visited.append(o)
        calls[0] += 1
        with torch.inference_mode():
            return policy(o).numpy()

    try:
        gait = measure_gait_symmetry(env, act, steps, seed)
    finally:
        env.close()
    with torch.inference_mode():
        o = torch.cat(visited)
        a = policy(o)
        error = (policy(mirror.mirror_observation(o)) - mirror.mirror_action(a)).abs().mean() / a.abs().mean()
    return gait, float(error)


def resolve(path: str) -> tuple[str, str]:
    """(checkpoint file, run directory) of a checkpoint file or run directory (its newest checkpoint)."""
    if os.path.isdir(path):
        found = list_checkpoints(path)
        if not found:
            sys.exit(f"no model_<iteration>.pt in {path}")
        return found[-1], path
    return path, os.path.dirname(os.path.abspath(path))


def steps_to_walk(run_dir: str) -> tuple[int | None, float | None, int]:
    """(env steps, training seconds) at the first iteration that met the walking criterion, and the run's env steps.

    ``(None, None, steps)`` when the run never walked or has no ``metrics.jsonl``.
    """
    lines = read_metrics(run_dir)
    total = int(lines[-1].get("env_steps", 0)) if lines else 0
    for i, line in enumerate(lines):
        if walking(lines[: i + 1])[0]:
            return int(line["env_steps"]), float(line.get("wall_time_s", float("nan"))), total
    return None, None, total


def main(argv: list[str] | None = None) -> None:
    """Measure every ``--checkpoint label=path`` and record the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", nargs="+", required=True, help="label=path of each checkpoint")
    parser.add_argument("--command", type=float, nargs=3, default=[0.8, 0.0, 0.0], help="vx vy yaw_rate")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--num-envs", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-append", action="store_true", help="print only, do not write docs/benchmarks.md")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    rows = []
    for item in args.checkpoint:
        label, _, path = item.rpartition("=") if "=" in item else (Path(item).parent.name, "", item)
        checkpoint, run_dir = resolve(path)
        walked_at, walked_s, total = steps_to_walk(run_dir)
        g, mirror_error = measure(checkpoint, args.command, args.steps, args.num_envs, args.seed)
        rows.append(
            [
                label,
                f"{walked_at:,}" if walked_at is not None else f"not in {total:,}",
                f"{walked_s:.0f}" if walked_s is not None else "-",
                f"{total:,}",
                f"{g.left_air_time_s:.3f}",
                f"{g.right_air_time_s:.3f}",
                f"{g.symmetry_index:.3f}",
                " / ".join(f"{g.air_time_s[leg]:.3f}" for leg in ("FL", "FR", "RL", "RR")),
                sum(g.touchdowns.values()),
                f"{mirror_error:.3f}",
            ]
        )
    table = markdown_table(
        [
            "policy",
            "env steps to walk",
            "training s to walk",
            "env steps trained",
            "left air time (s)",
            "right air time (s)",
            "symmetry index",
            "FL / FR / RL / RR (s)",
            "touchdowns",
            "policy mirror error",
        ],
        rows,
    )
    print(table)
    if not args.no_append:
        command = "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(__file__, REPO), *sys.argv[1:]])
        intro = (
            f"Play task, command {args.command}, {args.num_envs} envs x {args.steps} steps, deterministic policy; "
            "symmetry index = |T_left - T_right| / mean(T_left, T_right) of the mean air time before a touchdown.\n"
        )
        append_entry(SECTION, "left/right air time", intro + "\n" + table, command=command, doc=args.output)
        print(f"appended to {args.output}")


if __name__ == "__main__":
    main()
