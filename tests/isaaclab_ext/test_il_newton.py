"""The real Isaac Lab 3.0 Go1 task on Newton, kit-less, on the CPU, offline: run by ``.ci/newton_job.sh``.

No simulator double here: Isaac Lab builds the scene (our MJCF Go1 converted by the standalone importer, a local
ground plane), Newton (MuJoCo-Warp on the CPU) steps it, and the APPO scripts train and play it. This is the test
of Isaac Lab's env contract that ``isaaclab_env_double.py`` stands in for elsewhere.

The env-building tests run in fresh interpreters (one simulation per process), inside a network namespace without
interfaces when ``unshare -n`` is allowed (root), so any download attempt would fail them. Marked ``newton``; they
skip (with the reason) where Isaac Lab 3.x, Newton or the MJCF importer is not installed.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from il_helpers import isaaclab_unavailable

REPO = Path(__file__).resolve().parents[2]
TASK = "Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-v0"
PLAY_TASK = "Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-Play-v0"
ROUGH_TASK = "Isaac-Velocity-Sber-Unitree-Go1-Newton-v0"
NEWTON_MODULES = ("newton", "mujoco_warp", "isaaclab_newton", "isaacsim.asset.importer.mjcf", "trimesh", "scipy")


@functools.cache
def newton_unavailable() -> str | None:
    """None when Isaac Lab 3.x, Newton and the standalone MJCF importer import here, else why not."""
    reason = isaaclab_unavailable()
    if reason:
        return reason.split(";")[0] + "; .ci/newton_job.sh runs these tests on Python 3.12 with Newton"
    missing = []
    for name in NEWTON_MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                missing.append(name)
        except ModuleNotFoundError:
            missing.append(name)
    if missing:
        return f"not installed: {', '.join(missing)}; .ci/newton_job.sh builds a venv with them"
    return None


pytestmark = [
    pytest.mark.newton,
    pytest.mark.skipif(newton_unavailable() is not None, reason=newton_unavailable() or ""),
]


@functools.cache
def offline_prefix() -> tuple[str, ...]:
    """``("unshare", "-n")`` where a process may get its own network namespace (no interfaces), else ``()``."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return (unshare, "-n")
    return ()


def run_offline(args: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run ``args`` (a Python command line) without network where possible; fail the test on a non-zero exit."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run([*offline_prefix(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(args[:4])} ... exited {proc.returncode}:\n{out[-8000:]}"
    return proc


def last_json(proc: subprocess.CompletedProcess) -> dict:
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---- configuration: kit-less, nothing remote ------------------------------------------------------------------
@pytest.mark.parametrize("task", [TASK, ROUGH_TASK])
def test_config_is_kitless_newton_and_names_no_remote_file(task):
    from isaac_hydra_ext.isaaclab import compat
    from isaac_hydra_ext.tasks.velocity.go1_newton.assets import Go1MjcfFileCfg, LocalPlaneTerrainImporter
    from isaaclab.app.sim_launcher import validate_launch
    from isaaclab.utils import to_dict
    from isaaclab_newton.physics import NewtonCfg

    env_cfg, agent_cfg = compat.resolve_task_configs(task, overrides=["env.scene.num_envs=4"])
    assert isinstance(env_cfg.sim.physics, NewtonCfg)
    assert type(env_cfg.sim.physics.solver_cfg).__name__ == "MJWarpSolverCfg"
    _, kit_sources = validate_launch(env_cfg, {"device": "cpu"})
    assert kit_sources == ()  # launch_simulation starts no Kit for this config
    robot = env_cfg.scene.robot
    assert isinstance(robot.spawn, Go1MjcfFileCfg) and robot.spawn.build_model
    (actuator,) = robot.actuators.values()
    assert type(actuator).__name__ == "DCMotorCfg"
    assert (actuator.stiffness, actuator.damping) == (20.0, 0.5)
    assert actuator.actuator_effort_limit == {".*_hip_joint": 23.7, ".*_thigh_joint": 23.7, ".*_calf_joint": 35.55}
    assert env_cfg.scene.terrain.class_type is LocalPlaneTerrainImporter
    assert env_cfg.scene.terrain.visual_material is None
    flat = task == TASK
    assert env_cfg.scene.terrain.terrain_type == ("plane" if flat else "generator")
    assert (env_cfg.observations.policy.height_scan is None) == flat
    # the MDP terms keep Isaac Lab's Go1 body names
    assert env_cfg.rewards.feet_air_time.params["sensor_cfg"].body_names == ".*_foot"
    assert env_cfg.terminations.base_contact.params["sensor_cfg"].body_names == "trunk"
    # nothing in the resolved config points at a server (assets, textures, materials, actuator networks)
    remote = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, (list, tuple)):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")
        elif isinstance(node, str) and "://" in node:
            remote.append(f"{path} = {node}")

    walk(to_dict(env_cfg), "env")
    # debug-visualization arrows (a USD on the server) are spawned only with debug_vis, which is off
    assert env_cfg.commands.base_velocity.debug_vis is False and env_cfg.scene.contact_forces.debug_vis is False
    remote = [r for r in remote if "_visualizer_cfg.markers." not in r]
    assert remote == [], "remote files in the Newton task config:\n" + "\n".join(remote)
    experiment = "sber_go1_newton_flat" if flat else "sber_go1_newton_rough"
    assert agent_cfg.experiment_name == experiment and agent_cfg.num_minibatches == 4
    _, rsl_rl_cfg = compat.resolve_task_configs(task, "rsl_rl_cfg_entry_point", overrides=[])
    assert rsl_rl_cfg.experiment_name == experiment


def test_isaaclab_mjcf_has_foot_bodies_and_converts_to_an_articulation(tmp_path):
    import mujoco
    from isaac_hydra_ext.envs.go1 import POLICY_JOINT_NAMES, compile_go1
    from isaac_hydra_ext.tasks.velocity.go1_newton.assets import (
        FOOT_MASS,
        ROBOT_BODY_NAMES,
        write_isaaclab_go1_mjcf,
    )
    from isaaclab.sim.converters import MjcfConverter, MjcfConverterCfg
    from pxr import Usd, UsdPhysics

    path = write_isaaclab_go1_mjcf(str(tmp_path / "go1.xml"))
    model = mujoco.MjModel.from_xml_path(path)
    names = [model.body(i).name for i in range(1, model.nbody)]
    assert sorted(names) == sorted(ROBOT_BODY_NAMES)
    assert model.nu == 0 and model.nsensor == 0  # Isaac Lab's actuator model drives the joints
    assert not any(model.geom_type[i] == mujoco.mjtGeom.mjGEOM_PLANE for i in range(model.ngeom))
    ours = compile_go1()
    robot_mass = float(model.body_subtreemass[model.body("trunk").id])
    assert robot_mass == pytest.approx(float(ours.body_subtreemass[ours.body("trunk").id]) + 4 * FOOT_MASS)
    mtime = os.path.getmtime(path)
    write_isaaclab_go1_mjcf(path)  # unchanged content is not rewritten (keeps the importer's cache valid)
    assert os.path.getmtime(path) == mtime

    converter = MjcfConverter(MjcfConverterCfg(asset_path=path, usd_dir=str(tmp_path / "usd"), fix_base=False))
    stage = Usd.Stage.Open(converter.usd_path)
    bodies = [p.GetName() for p in stage.Traverse() if p.HasAPI(UsdPhysics.RigidBodyAPI)]
    joints = [p.GetName() for p in stage.Traverse() if p.IsA(UsdPhysics.RevoluteJoint)]
    roots = [p.GetName() for p in stage.Traverse() if p.HasAPI(UsdPhysics.ArticulationRootAPI)]
    assert sorted(bodies) == sorted(ROBOT_BODY_NAMES)
    assert sorted(joints) == sorted(POLICY_JOINT_NAMES)
    assert roots == ["trunk"]


# ---- the env contract, stepped for real on the CPU ------------------------------------------------------------
ENV_SCRIPT = """
import json, torch
from isaac_hydra_ext.isaaclab import compat
from isaac_hydra_ext.isaaclab.vec_env import IsaacLabVecEnv
import gymnasium as gym

overrides = ["env.scene.num_envs=4", "env.sim.device=cpu", "env.episode_length_s=0.3"]
with compat.open_task({task!r}, {{"device": "cpu"}}, overrides=overrides) as session:
    env = gym.make({task!r}, cfg=session.env_cfg)
    raw = env.unwrapped
    robot = raw.scene["robot"]
    out = {{
        "obs_space": list(raw.single_observation_space["policy"].shape),
        "act_space": list(raw.single_action_space.shape),
        "max_episode_length": int(raw.max_episode_length),
        "bodies": list(robot.body_names),
        "joints": list(robot.joint_names),
        "contact_sensors": list(raw.scene["contact_forces"].sensor_names),
        "kit": __import__("isaaclab.utils.version", fromlist=["has_kit"]).has_kit(),
    }}
    obs, extras = env.reset(seed=1)
    out["reset_obs"] = list(obs["policy"].shape)
    torch.manual_seed(0)
    truncated_seen, log_keys, rewards = False, set(), []
    for _ in range(20):  # the 0.3 s episodes (15 steps) time out within these 20 steps
        obs, rew, terminated, truncated, extras = env.step(0.5 * torch.randn(4, 12))
        truncated_seen |= bool(truncated.any())
        log_keys |= set(extras.get("log", {{}}))
        rewards.append(float(rew.mean()))
    out.update(step_obs=list(obs["policy"].shape), reward=list(rew.shape), terminated_dtype=str(terminated.dtype),
               truncated_seen=truncated_seen, log_keys=sorted(log_keys),
               finite=bool(torch.isfinite(obs["policy"]).all()), rewards_finite=all(r == r for r in rewards),
               base_height=float(robot.data.root_pos_w.torch[:, 2].mean()))

    vec = IsaacLabVecEnv(env)
    vec.reset(seed=2)
    dones, logs = 0, {{}}
    for _ in range(20):
        step = vec.step(torch.zeros(4, 12))
        dones += int((step.terminated | step.truncated).sum())
        logs.update(step.log)
        final_shape = step.final_obs.shape
    out.update(spec=[vec.spec.obs_dim, vec.spec.act_dim, vec.spec.max_episode_steps],
               exact_final_obs=vec.exact_final_obs, vec_dones=dones, vec_log_keys=sorted(logs),
               final_obs=list(final_shape))
    # deployment info and the mirror, against the task config and the robot
    from isaac_hydra_ext.envs.symmetry import resolve_mirror
    cfg = session.env_cfg
    default = robot.data.default_joint_pos.torch[0]
    mirror = resolve_mirror(vec.spec.mirror, vec.spec)
    obs = vec.reset(seed=3)[0]
    out.update(deployment=vec.spec.deployment, mirror=vec.spec.mirror,
               robot_default=default.tolist(), cfg_scale=float(cfg.actions.joint_pos.scale),
               cfg_period=float(cfg.sim.dt * cfg.decimation),
               default_mirrored=mirror.mirror_action(default[None])[0].tolist(),
               obs_twice=bool(torch.allclose(mirror.mirror_observation(mirror.mirror_observation(obs)), obs)))
    vec.close()
print(json.dumps(out))
"""


def test_env_steps_on_cpu_with_isaac_lab_go1_sizes_and_extras(tmp_path):
    proc = run_offline([sys.executable, "-c", textwrap.dedent(ENV_SCRIPT.format(task=TASK))], cwd=tmp_path)
    out = last_json(proc)
    assert out["kit"] is False  # kit-less
    assert out["obs_space"] == [48] and out["act_space"] == [12]  # Isaac Lab's Go1 flat sizes
    assert out["reset_obs"] == [4, 48] and out["step_obs"] == [4, 48] and out["reward"] == [4]
    assert out["terminated_dtype"] == "torch.bool"
    assert out["max_episode_length"] == 15
    assert out["truncated_seen"], "no time-out within 20 steps of 15-step episodes"
    assert {
        "Episode_Reward/track_lin_vel_xy_exp",
        "Episode_Reward/feet_air_time",
        "Episode_Termination/time_out",
        "Episode_Termination/base_contact",
    } <= set(out["log_keys"])
    assert out["finite"] and out["rewards_finite"]
    assert 0.1 < out["base_height"] < 0.5  # standing or walking, not fallen through the ground or flying
    assert out["joints"] == [
        f"{leg}_{kind}_joint" for leg in ("FL", "FR", "RL", "RR") for kind in ("hip", "thigh", "calf")
    ]
    assert {"trunk", "FL_foot", "FR_foot", "RL_foot", "RR_foot", "FL_thigh"} <= set(out["bodies"])
    assert set(out["contact_sensors"]) == set(out["bodies"])
    # through our adapter
    assert out["spec"] == [48, 12, 15] and out["exact_final_obs"] is True and out["final_obs"] == [4, 48]
    assert out["vec_dones"] >= 4  # every env timed out at least once
    assert "Episode_Termination/time_out" in out["vec_log_keys"]
    # deployment info read from Isaac Lab's managers, against the robot and the task config
    info = out["deployment"]
    assert info["joint_names"] == out["joints"]  # action order = the articulation's (Newton: leg by leg)
    assert info["default_joint_pos"] == pytest.approx(out["robot_default"])
    assert info["action_offset"] == pytest.approx(out["robot_default"])  # use_default_offset=True
    assert info["action_scale"] == pytest.approx([out["cfg_scale"]] * 12) and out["cfg_scale"] == 0.25
    assert info["control_period_s"] == pytest.approx(out["cfg_period"]) and out["cfg_period"] == pytest.approx(0.02)
    names = ["base_lin_vel", "base_ang_vel", "projected_gravity", "velocity_commands", "joint_pos", "joint_vel"]
    assert [t["name"] for t in info["observation_terms"]] == [*names, "actions"]
    assert [t["stop"] - t["start"] for t in info["observation_terms"]] == [3, 3, 3, 3, 12, 12, 12]
    # the task's mirror, in this backend's joint order: the default pose is its own mirror image
    assert out["mirror"] == "isaac_hydra_ext.envs.symmetry:quadruped_mirror"
    assert out["default_mirrored"] == pytest.approx(out["robot_default"]) and out["obs_twice"]


ROUGH_SCRIPT = """
import json, torch
from isaac_hydra_ext.isaaclab import compat
import gymnasium as gym

overrides = ["env.scene.num_envs=2", "env.sim.device=cpu"]
with compat.open_task({task!r}, {{"device": "cpu"}}, overrides=overrides) as session:
    env = gym.make({task!r}, cfg=session.env_cfg)
    obs, _ = env.reset(seed=0)
    for _ in range(5):
        obs, rew, terminated, truncated, extras = env.step(torch.zeros(2, 12))
    scan = obs["policy"][:, 48:]
    print(json.dumps({{"obs": list(obs["policy"].shape), "finite": bool(torch.isfinite(obs["policy"]).all()),
                      "scan_range": [float(scan.min()), float(scan.max())]}}))
"""


def test_rough_terrain_env_builds_and_scans_heights_on_cpu(tmp_path):
    proc = run_offline([sys.executable, "-c", textwrap.dedent(ROUGH_SCRIPT.format(task=ROUGH_TASK))], cwd=tmp_path)
    out = last_json(proc)
    assert out["obs"] == [2, 235]  # Isaac Lab's Go1 rough sizes: 48 + 187 height-scan rays
    assert out["finite"]
    low, high = out["scan_range"]
    assert -1.0 <= low <= high <= 1.0 and high > low  # clipped heights, not a constant (the rays hit the terrain)


# ---- the APPO scripts, as documented ----------------------------------------------------------------------------
def test_appo_train_and_play_scripts_run_kitless_on_cpu_offline(tmp_path):
    scripts = REPO / "scripts" / "reinforcement_learning" / "appo"
    proc = run_offline(
        [
            sys.executable,
            str(scripts / "train.py"),
            "--task",
            TASK,
            "--device",
            "cpu",
            "--num_envs",
            "16",
            "--max_iterations",
            "2",
        ],
        cwd=tmp_path,
    )
    assert "run finished: 2 iterations" in proc.stdout, proc.stdout[-3000:]
    (run,) = list((tmp_path / "logs" / "appo" / "sber_go1_newton_flat").iterdir())
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["iterations"] == 2
    assert summary["env_steps"] == 2 * 16 * 24
    assert (run / "model_2.pt").is_file() and (run / "params" / "env.yaml").is_file()
    assert (
        "Go1MjcfFileCfg" in (run / "params" / "env.yaml").read_text()
        or "go1.xml" in (run / "params" / "env.yaml").read_text()
    )

    proc = run_offline(
        [
            sys.executable,
            str(scripts / "play.py"),
            "--task",
            PLAY_TASK,
            "--device",
            "cpu",
            "--num_envs",
            "4",
            "--num_steps",
            "10",
        ],
        cwd=tmp_path,
    )
    assert "played 10 steps" in proc.stdout, proc.stdout[-3000:]
    import torch

    policy = torch.jit.load(str(run / "exported" / "policy.pt"))
    assert policy(torch.zeros(2, 48)).shape == (2, 12)
    # the ONNX file carries the deployment info, and play prints it
    import onnx

    meta = {p.key: json.loads(p.value) for p in onnx.load(str(run / "exported" / "policy.onnx")).metadata_props}
    assert meta["input_names"] == ["obs"] and meta["output_names"] == ["actions"] and meta["task"] == PLAY_TASK
    assert sorted(meta["joint_names"]) == sorted(
        f"{leg}_{kind}_joint" for leg in ("FL", "FR", "RL", "RR") for kind in ("hip", "thigh", "calf")
    )
    assert meta["action_scale"] == [0.25] * 12 and meta["control_period_s"] == pytest.approx(0.02)
    assert [t["stop"] for t in meta["observation_terms"]][-1] == 48
    assert "joints (action order):" in proc.stdout
