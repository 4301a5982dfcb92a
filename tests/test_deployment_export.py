"""The exported ONNX carries what a robot-side runner needs (ONNX ``metadata_props``), checked against the task."""

import json

import numpy as np
import pytest
import torch
from isaac_hydra_ext.assets.go1 import GO1, POLICY_JOINT_NAMES
from isaac_hydra_ext.cli import play as play_cli
from isaac_hydra_ext.config import PPOConfig
from isaac_hydra_ext.envs.deployment import DeploymentInfo, task_hooks
from isaac_hydra_ext.envs.go1 import Go1VelocityPlayEnv, Go1VelocityTaskCfg
from isaac_hydra_ext.envs.go1.observations import OBS_LAYOUT
from isaac_hydra_ext.models.actor_critic import ActorCritic
from isaac_hydra_ext.models.export import export_onnx
from isaac_hydra_ext.utils.checkpoint import save_checkpoint

onnx = pytest.importorskip("onnx")
GO1_PLAY = "Sber-Velocity-Flat-Go1-MuJoCo-Play-v0"


def _checkpoint(tmp_path, obs_dim: int, act_dim: int):
    """A checkpoint of a small random policy that names no env (play is told the env with env_id=)."""
    cfg = PPOConfig(actor_hidden_dims=[16], critic_hidden_dims=[16])
    model = ActorCritic(obs_dim, act_dim, 0, cfg)
    path = tmp_path / "run" / "model_1.pt"
    path.parent.mkdir()
    save_checkpoint(
        str(path),
        {
            "model": model.state_dict(),
            "iteration": 1,
            "env_steps": 10,
            "env_spec": {"obs_dim": obs_dim, "act_dim": act_dim, "critic_obs_dim": 0},
            "model_cfg": {"actor_hidden_dims": [16], "critic_hidden_dims": [16]},
        },
    )
    return path


def _metadata(path) -> dict:
    """The file's metadata_props, read with onnx itself, JSON-decoded."""
    return {p.key: json.loads(p.value) for p in onnx.load(str(path)).metadata_props}


def test_go1_play_exports_the_task_deployment_info_and_prints_it(tmp_path, capsys):
    checkpoint = _checkpoint(tmp_path, 48, 12)
    code = play_cli.main([f"checkpoint={checkpoint}", f"env_id={GO1_PLAY}", "steps=3", "num_envs=2", "video=false"])
    out, err = capsys.readouterr()
    assert code == 0, err
    meta = _metadata(checkpoint.parent / "exported" / "policy.onnx")
    task = Go1VelocityTaskCfg()
    defaults = [GO1.default_joint_pos(name) for name in POLICY_JOINT_NAMES]
    assert meta["input_names"] == ["obs"] and meta["output_names"] == ["actions"]
    assert meta["obs_dim"] == 48 and meta["action_dim"] == 12 and meta["task"] == GO1_PLAY
    assert meta["joint_names"] == list(POLICY_JOINT_NAMES)
    assert meta["joint_names"][:4] == ["FL_hip_joint", "FR_hip_joint", "RL_hip_joint", "RR_hip_joint"]
    assert meta["default_joint_pos"] == pytest.approx(defaults)
    assert meta["default_joint_pos"][:2] == pytest.approx([0.1, -0.1])  # Isaac Lab's Go1: left hips +0.1, right -0.1
    assert meta["action_scale"] == [task.action.scale] * 12 == [0.25] * 12
    assert meta["action_offset"] == pytest.approx(defaults)
    assert meta["control_period_s"] == pytest.approx(task.sim.dt * task.sim.decimation) == 0.02
    start = 0
    for term, (name, size) in zip(meta["observation_terms"], OBS_LAYOUT):
        assert term == {"name": name, "start": start, "stop": start + size, "scale": 1.0}
        start += size
    assert start == 48 and len(meta["observation_terms"]) == 7
    # play's compact block
    assert "joints (action order): FL_hip_joint, FR_hip_joint" in out, out
    assert "action scale: 0.25 (all 12); control period: 0.02 s" in out, out
    assert "observation: base_lin_vel[0:3] base_ang_vel[3:6]" in out, out


def test_the_exported_slices_are_where_the_go1_env_puts_each_term():
    """The metadata's slices, read against what the env observes: command, joint offsets, last action."""
    env = Go1VelocityPlayEnv(2)
    try:
        env.reset(seed=0)
        slices = {t.name: slice(t.start, t.stop) for t in env.deployment_info().observation_terms}
        action = np.linspace(-1.0, 1.0, 24).reshape(2, 12)
        obs = env.step(action)[0]
        assert obs[:, slices["actions"]] == pytest.approx(action.astype(np.float32))
        assert obs[:, slices["velocity_commands"]] == pytest.approx(np.tile([0.5, 0.0, 0.0], (2, 1)))  # Play command
        q = env.sim.qpos[:, env.layout.joint_qpos]
        info = env.deployment_info()
        assert obs[:, slices["joint_pos"]] == pytest.approx(q - np.asarray(info.default_joint_pos), abs=1e-5)
        assert obs[:, slices["projected_gravity"]][:, 2] == pytest.approx(-1.0, abs=0.1)  # standing upright
    finally:
        env.close()


def test_a_generic_env_exports_only_what_is_known(tmp_path, capsys):
    checkpoint = _checkpoint(tmp_path, 3, 1)
    code = play_cli.main([f"checkpoint={checkpoint}", "env_id=Pendulum-v1", "steps=3", "num_envs=2", "video=false"])
    out, err = capsys.readouterr()
    assert code == 0, err
    meta = _metadata(checkpoint.parent / "exported" / "policy.onnx")
    assert meta == {
        "input_names": ["obs"],
        "output_names": ["actions"],
        "obs_dim": 3,
        "action_dim": 1,
        "task": "Pendulum-v1",
    }
    assert "ONNX inputs obs (obs 3), outputs actions (actions 1)" in out and "joints" not in out


def test_the_exporter_writes_whatever_the_hook_gives(tmp_path):
    """No task knowledge in the exporter: a hook's mapping goes into the file as is (known keys only)."""

    class Task:
        mirror_function = "some.module:mirror"

        def deployment_info(self):
            return {"joint_names": ["a", "b"], "control_period_s": 0.01, "unknown_key": 1}

    class SyncVector:  # gymnasium's SyncVectorEnv keeps its copies in .envs
        envs = [Task()]

    deployment, mirror = task_hooks(SyncVector())
    assert mirror == "some.module:mirror" and deployment["joint_names"] == ["a", "b"]
    from isaac_hydra_ext.models.onnx_metadata import deployment_metadata

    policy = ActorCritic(5, 2, 0, PPOConfig(actor_hidden_dims=[8], critic_hidden_dims=[8])).policy
    path = export_onnx(policy, str(tmp_path / "p.onnx"), metadata=deployment_metadata(deployment))
    meta = _metadata(path)
    assert meta["joint_names"] == ["a", "b"] and meta["control_period_s"] == 0.01 and "unknown_key" not in meta
    assert meta["obs_dim"] == 5 and meta["action_dim"] == 2
    assert task_hooks(object()) == ({}, "")
    assert DeploymentInfo().as_dict()["observation_terms"] == []
    with torch.no_grad():  # the metadata does not change the network
        import onnx.reference

        (actions,) = onnx.reference.ReferenceEvaluator(path).run(None, {"obs": np.ones((1, 5), np.float32)})
        assert np.allclose(actions, policy(torch.ones(1, 5)).numpy(), atol=1e-5)
