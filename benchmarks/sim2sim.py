"""Sim-to-sim replay of two Go1 policies: MuJoCo-trained on Newton, Newton-trained on MuJoCo (issue 19, part 4).

For a pair of checkpoints, one trained on the embedded MuJoCo task (``Sber-Velocity-Flat-Go1-MuJoCo-v0``) and one
on the Isaac Lab Newton task (``Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-v0``), it replays each on the other
simulator through the real play commands (each in its own process, with ``report_json``):

* ``python -m isaac_hydra_ext.play checkpoint=<newton run> env_id=<mujoco play id>`` (the mapping of
  :mod:`isaac_hydra_ext.envs.sim2sim` applied);
* ``scripts/reinforcement_learning/appo/play.py --task <newton play id> --checkpoint <mujoco run>``;

and, unless ``--directions cross``, each on its own simulator as the baseline. It writes a Markdown table with the
velocity-tracking errors (Isaac Lab's ``Metrics/base_velocity/error_vel_xy`` and ``error_vel_yaw``, mean over the
finished episodes) and the fall rate (episodes ended by base contact / finished episodes) to ``--out`` and prints
it; ``--append`` also adds it to docs/benchmarks.md (section ``Go1 sim-to-sim``).

Usage (GPU host; the Newton play needs the Python 3.12 Isaac Lab 3 venv, ``--python`` for it)::

    python benchmarks/sim2sim.py --mujoco-checkpoint logs/appo/go1/<run> \\
        --newton-checkpoint logs/appo/sber_go1_newton_flat/<run> --device cuda:0 --num-envs 64 --steps 1000 \\
        --out sim2sim.md [--append]

Extra ``--isaaclab-arg`` values go to the Isaac Lab play script (e.g. ``env.episode_length_s=5``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from common import REPO, append_entry, markdown_table

SECTION = "Go1 sim-to-sim"
MUJOCO_PLAY = "Sber-Velocity-Flat-Go1-MuJoCo-Play-v0"
"""The embedded MuJoCo task's play id (no observation noise, no pushes)."""
NEWTON_PLAY = "Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-Play-v0"
"""The Newton task's play id."""
ISAACLAB_PLAY = REPO / "scripts" / "reinforcement_learning" / "appo" / "play.py"


@dataclass
class Replay:
    """One replay to run: which policy on which simulator."""

    label: str
    """Where the policy was trained (``MuJoCo`` or ``Newton``)."""
    checkpoint: str
    """Its checkpoint (file or run directory)."""
    target: str
    """The simulator it is replayed on (``MuJoCo`` or ``Newton``)."""


def play_command(replay: Replay, args: argparse.Namespace, report: str) -> list[str]:
    """The play command line of ``replay`` that writes its report to ``report``."""
    if replay.target == "MuJoCo":
        return [
            sys.executable,
            "-m",
            "isaac_hydra_ext.play",
            f"checkpoint={replay.checkpoint}",
            f"env_id={args.mujoco_task}",
            f"num_envs={args.num_envs}",
            f"steps={args.steps}",
            f"seed={args.seed}",
            "video=false",
            "export=false",
            f"report_json={report}",
        ]
    return [
        args.python,
        str(ISAACLAB_PLAY),
        "--task",
        args.newton_task,
        "--checkpoint",
        replay.checkpoint,
        "--device",
        args.device,
        "--num_envs",
        str(args.num_envs),
        "--num_steps",
        str(args.newton_steps or args.steps),
        "--seed",
        str(args.seed),
        "--report_json",
        report,
        *args.isaaclab_arg,
    ]


def run_replay(replay: Replay, args: argparse.Namespace, tmp: str) -> dict:
    """Run one replay; its ``report_json`` (exit with the play's message when it fails)."""
    report = os.path.join(tmp, f"{replay.label}_on_{replay.target}.json")
    cmd = play_command(replay, args, report)
    print(f"[sim2sim] {replay.label} policy on {replay.target}: {shlex.join(cmd)}", flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    if proc.returncode != 0 or not os.path.isfile(report):
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-20:]
        sys.exit(f"{replay.label} policy on {replay.target} failed (exit {proc.returncode}):\n" + "\n".join(tail))
    return json.loads(Path(report).read_text())


def _num(value: float, digits: int = 3) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def table_row(replay: Replay, data: dict) -> list:
    """One table row of a replay's report."""
    t = data["tracking"]
    mapping = "yes" if data["sim2sim"] else "none (own task)"
    return [
        replay.label,
        replay.target,
        mapping,
        data["episodes"],
        _num(t["error_vel_xy"]),
        _num(t["error_vel_yaw"]),
        _num(t["fall_rate"]),
        _num(data.get("mean_length") if data["episodes"] else None, 0),
        _num(data["mean_return"], 2),
    ]


HEADER = [
    "trained on",
    "replayed on",
    "mapping",
    "episodes",
    "lin-vel xy error (m/s)",
    "yaw-rate error (rad/s)",
    "fall rate",
    "mean episode length",
    "mean return",
]


def main(argv: list[str] | None = None) -> int:
    """Run the replays and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mujoco-checkpoint", required=True, help="checkpoint trained on the MuJoCo task")
    parser.add_argument("--newton-checkpoint", required=True, help="checkpoint trained on the Newton task")
    parser.add_argument("--mujoco-task", default=MUJOCO_PLAY)
    parser.add_argument("--newton-task", default=NEWTON_PLAY)
    parser.add_argument("--directions", choices=("all", "cross"), default="all", help="cross: no baselines")
    parser.add_argument("--num-envs", type=int, default=16)
    parser.add_argument("--steps", type=int, default=1000, help="policy steps per replay (1000: one 20 s episode)")
    parser.add_argument("--newton-steps", type=int, default=0, help="steps of the Newton replays (0: --steps)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="device of the Newton replays (cuda:0 on the GPU host)")
    parser.add_argument("--python", default=sys.executable, help="interpreter with Isaac Lab 3 + Newton")
    parser.add_argument("--isaaclab-arg", action="append", default=[], help="extra argument of the Isaac Lab play")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per replay")
    parser.add_argument("--out", type=Path, default=Path("sim2sim.md"), help="where the Markdown table goes")
    parser.add_argument("--json", type=Path, default=None, help="also write every report as JSON here")
    parser.add_argument("--append", action="store_true", help="also append the table to docs/benchmarks.md")
    args = parser.parse_args(argv)
    replays = [
        Replay("MuJoCo", args.mujoco_checkpoint, "Newton"),
        Replay("Newton", args.newton_checkpoint, "MuJoCo"),
    ]
    if args.directions == "all":
        replays = [
            Replay("MuJoCo", args.mujoco_checkpoint, "MuJoCo"),
            replays[0],
            Replay("Newton", args.newton_checkpoint, "Newton"),
            replays[1],
        ]
    with tempfile.TemporaryDirectory(prefix="ihe_sim2sim_") as tmp:
        reports = [(r, run_replay(r, args, tmp)) for r in replays]
    table = markdown_table(HEADER, [table_row(r, d) for r, d in reports])
    intro = (
        f"Deterministic policies, {args.num_envs} envs x {args.steps} steps per replay, play tasks {args.mujoco_task} "
        f"and {args.newton_task}; errors: Isaac Lab's Metrics/base_velocity/error_vel_* (mean over finished "
        "episodes); fall rate: episodes ended by base contact / finished episodes.\n"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(intro + "\n" + table + "\n")
    if args.json is not None:
        args.json.write_text(json.dumps([{"label": r.label, "target": r.target, **d} for r, d in reports], indent=1))
    print(table)
    if args.append:
        command = "python " + shlex.join([os.path.relpath(__file__, REPO), *sys.argv[1:]])
        append_entry(SECTION, "MuJoCo <-> Newton replay", intro + "\n" + table, command=command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
