"""Open-loop dynamics of our two Go1 simulators side by side: the same start state, the same PD targets (issue 19).

A sim-to-sim replay (``benchmarks/sim2sim.py``) says whether a policy survives the other simulator; this says where
the two simulators' dynamics part. Both the embedded MuJoCo task (``Sber-Velocity-Flat-Go1-MuJoCo-Play-v0``) and
the Isaac Lab Newton task (``Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-Play-v0``, kit-less) start from the same
state (base at rest at 0.4 m, level, joints at their defaults, no added base mass) and get the same action
sequence, joint by joint by name: an open-loop trot (diagonal legs in antiphase at ``--hz``; thigh amplitude
``--thigh`` and calf amplitude ``--calf`` in action units, PD target = default + 0.25 x action). Printed, per window
of steps: the mean absolute difference of the joint positions (rad), the base height (m), the base pitch (the x
component of the projected gravity) and the base forward velocity (m/s, body frame).

The first steps (the robot drops from 0.4 m onto its feet, the PD loops pull the joints to their targets) test the
robot models and actuators; later steps test the contacts (friction, solver), where the simulators part.

Needs Python 3.12 with Isaac Lab 3.0 + Newton (the Newton CI venv) and this checkout's source on ``PYTHONPATH``::

    PYTHONPATH=source/isaac_hydra_ext python benchmarks/sim2sim_open_loop.py --steps 60 [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable

import numpy as np

NEWTON_TASK = "Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-Play-v0"
START_HEIGHT = 0.4
"""Base height of the shared start state (m): Isaac Lab's Go1 init height."""
WINDOWS = ((0, 8), (8, 30), (30, 60), (60, 10_000))
"""Step windows of the report: the drop and PD settling, the first pushes, steady stepping, the rest."""


def trot(hz: float, thigh: float, calf: float) -> Callable[[int, str], float]:
    """The open-loop action of joint ``name`` at step ``k`` (50 Hz): diagonal pairs (FL+RR, FR+RL) in antiphase."""
    phase = {"FL": 0.0, "RR": 0.0, "FR": math.pi, "RL": math.pi}

    def action(k: int, name: str) -> float:
        leg, kind = name.split("_")[:2]
        s = math.sin(2 * math.pi * hz * k * 0.02 + phase[leg])
        return {"hip": 0.0, "thigh": thigh * s, "calf": -calf * max(s, 0.0)}[kind]

    return action


def run_mujoco(steps: int, action: Callable[[int, str], float], sim: dict | None = None) -> list[dict]:
    """The trajectory on the embedded MuJoCo task (``sim``: overrides of its ``SimCfg``)."""
    import dataclasses

    from isaac_hydra_ext.envs.go1 import Go1VelocityPlayEnv
    from isaac_hydra_ext.envs.go1.cfg import play_cfg
    from isaac_hydra_ext.envs.go1.deployment import go1_deployment_info

    cfg = play_cfg()
    cfg.sim = dataclasses.replace(cfg.sim, **(sim or {}))
    cfg.events.randomize_base_mass = False
    cfg.events.reset_pose_x = cfg.events.reset_pose_y = cfg.events.reset_pose_yaw = (0.0, 0.0)
    cfg.events.reset_joint_pos_scale = (1.0, 1.0)
    assert cfg.robot.init_base_height == START_HEIGHT, cfg.robot.init_base_height  # the task's own reset height
    env = Go1VelocityPlayEnv(1, cfg=cfg)
    try:
        env.reset(seed=0)
        lay = env.layout
        joints = go1_deployment_info(env.cfg).as_dict()["joint_names"]
        out = []
        for k in range(steps):
            obs = env.step(np.array([[action(k, n) for n in joints]], dtype=np.float32))[0]
            q = env.sim.qpos[0]
            out.append(
                {
                    "q": dict(zip(joints, q[lay.joint_qpos].tolist())),
                    "z": float(q[lay.root_qpos + 2]),
                    "pitch": float(obs[0, 6]),
                    "vx": float(obs[0, 0]),
                }
            )
        return out
    finally:
        env.close()


def run_newton(steps: int, action: Callable[[int, str], float]) -> list[dict]:
    """The trajectory on the Isaac Lab Newton task (CPU, one env), from the same state."""
    import gymnasium as gym
    import torch
    from isaac_hydra_ext.isaaclab import compat
    from isaac_hydra_ext.isaaclab.deployment import isaaclab_deployment_info

    overrides = ["env.scene.num_envs=1", "env.sim.device=cpu"]
    with compat.open_task(NEWTON_TASK, {"device": "cpu"}, overrides=overrides) as session:
        # the MuJoCo side adds no base mass and does not move the COM
        session.env_cfg.events.add_base_mass = None
        session.env_cfg.events.base_com = None
        env = gym.make(NEWTON_TASK, cfg=session.env_cfg)
        try:
            raw = env.unwrapped
            env.reset(seed=0)
            robot = raw.scene["robot"]
            joints = list(isaaclab_deployment_info(raw)["joint_names"])
            default = dict(zip(joints, isaaclab_deployment_info(raw)["default_joint_pos"]))
            names = list(robot.joint_names)
            robot.write_root_pose_to_sim_index(root_pose=torch.tensor([[0.0, 0.0, START_HEIGHT, 0.0, 0.0, 0.0, 1.0]]))
            robot.write_root_com_velocity_to_sim_index(root_velocity=torch.zeros(1, 6))
            robot.write_joint_state_to_sim_index(
                position=torch.tensor([[default[n] for n in names]]), velocity=torch.zeros(1, 12)
            )
            out = []
            for k in range(steps):
                obs = env.step(torch.tensor([[action(k, n) for n in joints]]))[0]["policy"][0]
                q = robot.data.joint_pos.torch[0].tolist()
                out.append(
                    {
                        "q": dict(zip(names, q)),
                        "z": float(robot.data.root_pos_w.torch[0, 2]),
                        "pitch": float(obs[6]),
                        "vx": float(obs[0]),
                    }
                )
            return out
        finally:
            env.close()


def compare(mujoco: list[dict], newton: list[dict]) -> list[dict]:
    """Mean absolute differences per window of :data:`WINDOWS` (windows past the end are left out)."""
    joints = sorted(mujoco[0]["q"])
    rows = []
    for lo, hi in WINDOWS:
        m, n = mujoco[lo:hi], newton[lo:hi]
        if not m:
            break
        rows.append(
            {
                "steps": f"{lo}-{lo + len(m) - 1}",
                "joint_pos_rad": float(np.mean([abs(a["q"][j] - b["q"][j]) for a, b in zip(m, n) for j in joints])),
                "base_height_m": float(np.mean([abs(a["z"] - b["z"]) for a, b in zip(m, n)])),
                "pitch": float(np.mean([abs(a["pitch"] - b["pitch"]) for a, b in zip(m, n)])),
                "vx_m_s": float(np.mean([abs(a["vx"] - b["vx"]) for a, b in zip(m, n)])),
                "vx_mujoco": float(np.mean([a["vx"] for a in m])),
                "vx_newton": float(np.mean([b["vx"] for b in n])),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run both simulators and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--hz", type=float, default=2.0)
    parser.add_argument("--thigh", type=float, default=1.2, help="thigh amplitude (action units)")
    parser.add_argument("--calf", type=float, default=1.6, help="calf lift amplitude (action units)")
    parser.add_argument("--json", default="", help="also write the trajectories and the table here")
    parser.add_argument(
        "--mujoco-sim",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="MuJoCo SimCfg overrides, e.g. noslip_iterations=0",
    )
    args = parser.parse_args(argv)
    from isaac_hydra_ext.envs.go1.cfg import SimCfg

    action = trot(args.hz, args.thigh, args.calf)
    sim = {k: type(getattr(SimCfg(), k))(v) for k, v in (kv.split("=", 1) for kv in args.mujoco_sim)}
    mujoco, newton = run_mujoco(args.steps, action, sim), run_newton(args.steps, action)
    rows = compare(mujoco, newton)
    print("| steps | joint pos (rad) | base height (m) | pitch (gravity x) | vx (m/s) | mean vx MuJoCo / Newton |")
    print("|---|---|---|---|---|---|")
    last_m, last_n = mujoco[-1], newton[-1]
    print(f"after {args.steps} steps: base height MuJoCo {last_m['z']:.3f} m, Newton {last_n['z']:.3f} m")
    print(
        "  hip angles (FL FR RL RR) MuJoCo "
        + " ".join(f"{last_m['q'][f'{leg}_hip_joint']:+.3f}" for leg in ("FL", "FR", "RL", "RR"))
        + ", Newton "
        + " ".join(f"{last_n['q'][f'{leg}_hip_joint']:+.3f}" for leg in ("FL", "FR", "RL", "RR"))
    )
    for r in rows:
        print(
            f"| {r['steps']} | {r['joint_pos_rad']:.4f} | {r['base_height_m']:.4f} | {r['pitch']:.4f} | "
            f"{r['vx_m_s']:.3f} | {r['vx_mujoco']:.2f} / {r['vx_newton']:.2f} |"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "table": rows, "mujoco": mujoco, "newton": newton}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
