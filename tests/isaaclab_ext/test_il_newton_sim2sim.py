"""Sim-to-sim replay between the embedded MuJoCo Go1 task and the Isaac Lab Newton Go1 task, for real (Python 3.12).

Run by ``.ci/newton_job.sh`` (marked ``newton``; skipped with the reason where Isaac Lab 3.x, Newton or the MJCF
importer is missing):

* one physical robot state (tilted base, base velocities, joint offsets and velocities, command, last PD target) is
  written into both simulators through their state setters; the mapping of :mod:`isaac_hydra_ext.envs.sim2sim`,
  built from the two tasks' own deployment info, turns each task's observation into the other's;
* a policy trained (one iteration) on each task replays on the other through the real play entry points, driven by
  ``benchmarks/sim2sim.py``, with a finite report that says which mapping was applied.
"""

from __future__ import annotations

import json
import sys
import textwrap

import numpy as np
import pytest
import torch
from conftest import FULL
from test_il_newton import REPO, TASK, newton_unavailable, run_offline

pytestmark = [
    pytest.mark.newton,
    pytest.mark.skipif(newton_unavailable() is not None, reason=newton_unavailable() or ""),
]

STATE_SCRIPT = """
import json, math, numpy as np, torch
import gymnasium as gym
from isaac_hydra_ext.isaaclab import compat
from isaac_hydra_ext.isaaclab.deployment import isaaclab_deployment_info
from isaac_hydra_ext.envs.go1 import Go1VelocityPlayEnv
from isaac_hydra_ext.envs.go1.deployment import go1_deployment_info
from isaac_hydra_ext.assets.go1 import POLICY_JOINT_NAMES

TASK = "Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-Play-v0"
rng = np.random.default_rng(0)
# one physical state: base pose and COM velocity (world), joint offsets, joint velocities, last PD targets by name
roll, pitch, yaw = 0.1, -0.15, 0.4
cr, sr, cp, sp, cy, sy = (math.cos(roll/2), math.sin(roll/2), math.cos(pitch/2), math.sin(pitch/2),
                          math.cos(yaw/2), math.sin(yaw/2))
quat_wxyz = np.array([cr*cp*cy + sr*sp*sy, sr*cp*cy - cr*sp*sy, cr*sp*cy + sr*cp*sy, cr*cp*sy - sr*sp*cy])
pos = np.array([0.0, 0.0, 0.42])
v_com_w = np.array([0.6, -0.2, 0.05])
w_w = np.array([0.3, -0.2, 0.5])
cmd = np.array([0.5, 0.1, -0.3])
offsets = {n: float(x) for n, x in zip(POLICY_JOINT_NAMES, rng.uniform(-0.2, 0.2, 12))}
qd = {n: float(x) for n, x in zip(POLICY_JOINT_NAMES, rng.uniform(-2, 2, 12))}
target_delta = {n: float(x) for n, x in zip(POLICY_JOINT_NAMES, rng.uniform(-0.3, 0.3, 12))}

def rotmat(q):
    w, x, y, z = q
    return np.array([[1-2*(y*y+z*z), 2*(x*y-w*z), 2*(x*z+w*y)], [2*(x*y+w*z), 1-2*(x*x+z*z), 2*(y*z-w*x)],
                     [2*(x*z-w*y), 2*(y*z+w*x), 1-2*(x*x+y*y)]])
R = rotmat(quat_wxyz)
out = {}
# ---- MuJoCo
env = Go1VelocityPlayEnv(num_envs=1)
env.reset(seed=0)
info_m = go1_deployment_info(env.cfg).as_dict()
lay = env.layout
names = list(POLICY_JOINT_NAMES)
default_m = dict(zip(info_m["joint_names"], info_m["default_joint_pos"]))
qpos = env.sim.qpos[0]
qpos[lay.root_qpos:lay.root_qpos+3] = pos
qpos[lay.root_qpos+3:lay.root_qpos+7] = quat_wxyz
qpos[lay.joint_qpos] = [default_m[n] + offsets[n] for n in names]
qvel = env.sim.qvel[0]
c_w = R @ lay.trunk_com
qvel[lay.root_qvel:lay.root_qvel+3] = v_com_w - np.cross(w_w, c_w)   # origin velocity: v_com - w x c
qvel[lay.root_qvel+3:lay.root_qvel+6] = R.T @ w_w                    # MuJoCo free joint: body-frame angular velocity
qvel[lay.joint_qvel] = [qd[n] for n in names]
env.commands.command[0] = cmd
sc_m = dict(zip(names, info_m["action_scale"])); off_m = dict(zip(names, info_m["action_offset"]))
env.action[0] = [(default_m[n] + target_delta[n] - off_m[n]) / sc_m[n] for n in names]
out["mujoco_obs"] = env.compute_obs()[0].tolist()
out["mujoco_info"] = info_m
env.close()
# ---- Newton
with compat.open_task(TASK, {"device": "cpu"}, overrides=["env.scene.num_envs=1", "env.sim.device=cpu"]) as session:
    genv = gym.make(TASK, cfg=session.env_cfg)
    raw = genv.unwrapped
    genv.reset(seed=0)
    robot = raw.scene["robot"]
    info_n = isaaclab_deployment_info(raw)
    jn = list(robot.joint_names)
    default_n = dict(zip(info_n["joint_names"], info_n["default_joint_pos"]))
    quat_xyzw = np.r_[quat_wxyz[1:], quat_wxyz[0]]
    robot.write_root_pose_to_sim_index(root_pose=torch.tensor([[*pos, *quat_xyzw]], dtype=torch.float32))
    robot.write_root_com_velocity_to_sim_index(root_velocity=torch.tensor([[*v_com_w, *w_w]], dtype=torch.float32))
    robot.write_joint_state_to_sim_index(
        position=torch.tensor([[default_n[n] + offsets[n] for n in jn]], dtype=torch.float32),
        velocity=torch.tensor([[qd[n] for n in jn]], dtype=torch.float32))
    raw.command_manager.get_term("base_velocity").vel_command_b[:] = torch.tensor(cmd, dtype=torch.float32)
    sc_n = dict(zip(info_n["joint_names"], info_n["action_scale"]))
    off_n = dict(zip(info_n["joint_names"], info_n["action_offset"]))
    raw.action_manager._action[:] = torch.tensor(
        [[(default_n[n] + target_delta[n] - off_n[n]) / sc_n[n] for n in info_n["joint_names"]]], dtype=torch.float32)
    out["newton_obs"] = raw.observation_manager.compute()["policy"][0].tolist()
    out["newton_info"] = info_n
print(json.dumps(out))
"""


def test_one_robot_state_gives_observations_the_mapping_turns_into_each_other(tmp_path):
    from isaac_hydra_ext.envs.sim2sim import build_mapping

    proc = run_offline([sys.executable, "-c", textwrap.dedent(STATE_SCRIPT)], cwd=tmp_path)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    mujoco_obs, newton_obs = np.array(out["mujoco_obs"]), np.array(out["newton_obs"])
    newton, mujoco = out["newton_info"], out["mujoco_info"]
    assert newton["joint_names"][:3] == ["FL_hip_joint", "FL_thigh_joint", "FL_calf_joint"]  # Newton: leg by leg
    assert mujoco["joint_names"][:3] == ["FL_hip_joint", "FR_hip_joint", "RL_hip_joint"]  # ours: by joint type
    assert not np.allclose(mujoco_obs, newton_obs, atol=1e-2)  # the layouts do differ
    # a Newton-trained policy on MuJoCo sees what Newton showed it, and the reverse (float32 in both sims)
    to_newton = build_mapping(newton, "newton", mujoco, "mujoco")
    to_mujoco = build_mapping(mujoco, "mujoco", newton, "newton")
    np.testing.assert_allclose(to_newton.map_obs(torch.tensor(mujoco_obs)[None])[0].numpy(), newton_obs, atol=1e-4)
    np.testing.assert_allclose(to_mujoco.map_obs(torch.tensor(newton_obs)[None])[0].numpy(), mujoco_obs, atol=1e-4)
    a = torch.randn(5, 12, dtype=torch.float64)
    torch.testing.assert_close(to_newton.map_action(to_mujoco.map_action(a)), a)  # there and back: the identity


def test_the_same_pd_targets_move_both_robots_alike_until_the_feet_push(tmp_path):
    """Our two Go1 models (masses, PD gains, armature, limits) agree: the open-loop drop and PD settling of the first
    8 steps (0.16 s, before the contacts carry the robot) match. Measured: 0.0015-0.0023 rad mean joint difference,
    0.9 mm base height; a MuJoCo Kp of 25 instead of 20 gives 0.0094 rad, a doubled Kd 0.024 rad."""
    out = tmp_path / "open_loop.json"
    run_offline(
        [sys.executable, str(REPO / "benchmarks" / "sim2sim_open_loop.py"), "--steps", "8", "--json", str(out)],
        cwd=tmp_path,
    )
    (first,) = json.loads(out.read_text())["table"]
    assert first["steps"] == "0-7"
    assert first["joint_pos_rad"] < 0.006, first
    assert first["base_height_m"] < 0.003, first


@pytest.mark.skipif(not FULL, reason="IHE_FULL=1: 80 s of Newton on 2 cores; CI covers the mapped play with MuJoCo")
def test_policies_trained_on_each_task_replay_on_the_other_through_the_play_commands(tmp_path):
    # MuJoCo: one serial iteration of the Hydra train command
    runs = tmp_path / "runs"
    run_offline(
        [
            sys.executable,
            "-m",
            "isaac_hydra_ext.appo_runner",
            "ppo.mode=serial",
            "ppo.num_workers=1",
            "ppo.envs_per_worker=4",
            "ppo.steps_per_env=16",
            "ppo.batch_size=64",
            "experiment.max_iterations=1",
            "experiment.device=cpu",
            "logging.console=none",
            "logging.tensorboard=false",
            f"experiment.output_dir={runs}",
        ],
        cwd=tmp_path,
    )
    (mujoco_ckpt,) = sorted(runs.rglob("model_1.pt"))
    # Newton: one iteration of the Isaac Lab train script
    scripts = REPO / "scripts" / "reinforcement_learning" / "appo"
    run_offline(
        [
            sys.executable,
            str(scripts / "train.py"),
            "--task",
            TASK,
            "--device",
            "cpu",
            "--num_envs",
            "4",
            "--max_iterations",
            "1",
        ],
        cwd=tmp_path,
    )
    (newton_ckpt,) = sorted((tmp_path / "logs" / "appo" / "sber_go1_newton_flat").rglob("model_1.pt"))
    # both directions through the benchmark, which runs the two play commands; 0.3 s Newton episodes (15 steps)
    # and 1001 MuJoCo steps (past the 1000-step time limit), so episodes finish in both
    proc = run_offline(
        [
            sys.executable,
            str(REPO / "benchmarks" / "sim2sim.py"),
            "--mujoco-checkpoint",
            str(mujoco_ckpt),
            "--newton-checkpoint",
            str(newton_ckpt),
            "--directions",
            "cross",
            "--num-envs",
            "2",
            "--steps",
            "1001",
            "--newton-steps",
            "20",
            "--isaaclab-arg=env.episode_length_s=0.3",
            "--out",
            str(tmp_path / "sim2sim.md"),
            "--json",
            str(tmp_path / "sim2sim.json"),
        ],
        cwd=tmp_path,
    )
    reports = {(r["label"], r["target"]): r for r in json.loads((tmp_path / "sim2sim.json").read_text())}
    assert set(reports) == {("MuJoCo", "Newton"), ("Newton", "MuJoCo")}
    for (trained, target), report in reports.items():
        assert report["sim2sim"].startswith("sim-to-sim: policy trained on "), report["sim2sim"]
        assert "joints reordered by name" in report["sim2sim"]
        assert report["episodes"] >= 2, (trained, target, report)
        tracking = report["tracking"]
        assert all(np.isfinite(tracking[k]) for k in ("error_vel_xy", "error_vel_yaw", "fall_rate")), tracking
        assert 0.0 <= tracking["fall_rate"] <= 1.0 and tracking["error_vel_xy"] >= 0.0
    assert "Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-v0" in reports[("Newton", "MuJoCo")]["sim2sim"]
    assert "Sber-Velocity-Flat-Go1-MuJoCo-v0" in reports[("MuJoCo", "Newton")]["sim2sim"]
    table = (tmp_path / "sim2sim.md").read_text()
    assert table.count("| yes |") == 2 and "lin-vel xy error (m/s)" in table, table
    assert "| MuJoCo | Newton | yes |" in proc.stdout and "| Newton | MuJoCo | yes |" in proc.stdout
