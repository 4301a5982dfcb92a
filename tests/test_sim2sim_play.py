"""``python -m isaac_hydra_ext.play`` replays a checkpoint of another Go1 task through the sim-to-sim mapping.

The Newton task itself needs the Python 3.12 job (tests/isaaclab_ext/test_il_newton_sim2sim.py); here a checkpoint
*claims* to come from it: the same random policy as a MuJoCo-task checkpoint, with its weights rearranged by joint
name into the Newton task's leg-by-leg order and the Newton task's deployment info. Replayed on the MuJoCo task
through the mapping it must act exactly as the original (a wrong permutation in either direction breaks that).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from envs.test_sim2sim import LEG_BY_LEG, MUJOCO, NEWTON, mujoco_info, newton_info
from isaac_hydra_ext.assets.go1 import POLICY_JOINT_NAMES
from isaac_hydra_ext.cli import play as play_cli
from isaac_hydra_ext.config import PPOConfig
from isaac_hydra_ext.models.actor_critic import ActorCritic
from isaac_hydra_ext.utils.checkpoint import save_checkpoint

GO1_PLAY = "Sber-Velocity-Flat-Go1-MuJoCo-Play-v0"


def _save(path: Path, model_state: dict, env_id: str, backend: str, deployment: dict) -> Path:
    path.parent.mkdir(parents=True)
    save_checkpoint(
        str(path),
        {
            "model": model_state,
            "iteration": 1,
            "env_steps": 10,
            "env_spec": {"obs_dim": 48, "act_dim": 12, "critic_obs_dim": 0, "deployment": deployment},
            "model_cfg": {"actor_hidden_dims": [16], "critic_hidden_dims": [16]},
            "config_yaml": f"env:\n  id: {env_id}\n  backend: {backend}\n",
        },
    )
    return path


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> tuple[Path, Path]:
    """(MuJoCo-task checkpoint, the same policy as a Newton-task checkpoint)."""
    tmp = tmp_path_factory.mktemp("sim2sim")
    torch.manual_seed(3)
    model = ActorCritic(48, 12, 0, PPOConfig(actor_hidden_dims=[16], critic_hidden_dims=[16]))
    with torch.no_grad():  # a policy whose actions depend visibly on the observation, and a non-trivial normalizer
        model.policy.mean_net[0].weight.mul_(3.0)
        model.policy.normalizer.mean.copy_(torch.randn(48) * 0.1)
        model.policy.normalizer.var.copy_(torch.rand(48) + 0.5)
    state = model.state_dict()
    mujoco = _save(tmp / "mujoco" / "model_1.pt", state, MUJOCO, "gym", mujoco_info())
    # by name: Newton joint i is MuJoCo joint p[i]; Newton observation entry off + i is MuJoCo's off + p[i]
    p = [POLICY_JOINT_NAMES.index(name) for name in LEG_BY_LEG]
    obs_src = list(range(12)) + [off + j for off in (12, 24, 36) for j in p]
    newton_state = dict(state)
    newton_state["policy.mean_net.0.weight"] = state["policy.mean_net.0.weight"][:, obs_src]
    for key in ("policy.normalizer.mean", "policy.normalizer.var"):
        newton_state[key] = state[key][obs_src]
    for key in ("policy.mean_net.2.weight", "policy.mean_net.2.bias", "policy.log_std"):
        newton_state[key] = state[key][p]
    newton = _save(tmp / "newton" / "model_1.pt", newton_state, NEWTON, "isaaclab", newton_info())
    return mujoco, newton


def _main(args: list[str], capsys) -> tuple[int, str, str]:
    code = play_cli.main(["video=false", "export=false", "num_envs=2", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_newton_checkpoint_replays_on_mujoco_exactly_as_the_mujoco_policy(checkpoints, tmp_path, capsys):
    mujoco, newton = checkpoints
    code, out, err = _main([f"checkpoint={mujoco}", "steps=80", f"report_json={tmp_path / 'a.json'}"], capsys)
    assert code == 0, err
    assert "sim-to-sim" not in out  # its own task (the -Play- twin): no mapping
    code, out, err = _main(
        [f"checkpoint={newton}", f"env.id={GO1_PLAY}", "steps=80", f"report_json={tmp_path / 'b.json'}"], capsys
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"replaying {newton} on {GO1_PLAY}: 2 envs x 80 steps")  # the start line
    lines = lines[1:]
    assert lines[0].startswith(f"played 80 steps x 2 envs of {GO1_PLAY}")
    assert lines[1].startswith(f"  sim-to-sim: policy trained on {NEWTON}, replayed on {GO1_PLAY}: joints reordered")
    assert any(line.startswith("  sim-to-sim tracking: lin-vel xy error") for line in lines)
    a, b = (json.loads((tmp_path / name).read_text()) for name in ("a.json", "b.json"))
    assert a["sim2sim"] == "" and b["sim2sim"].startswith("sim-to-sim: policy trained on")
    # the same robot behaviour: returns of the running and of any finished episodes agree
    assert b["unfinished_returns"] == pytest.approx(a["unfinished_returns"], rel=1e-4, abs=1e-5)
    assert b["episode_returns"] == pytest.approx(a["episode_returns"], rel=1e-4, abs=1e-5)
    assert abs(a["unfinished_returns"][0]) > 0  # something happened


def test_the_export_after_a_sim2sim_replay_describes_the_policy_s_own_task(checkpoints, tmp_path, capsys):
    # on the MuJoCo training id too (not only its -Play- twin): a different task, mapped; the exported policy still
    # takes the Newton layout, so its ONNX metadata is the Newton task's, not the replay env's
    onnx = pytest.importorskip("onnx")
    newton = tmp_path / "run" / "model_1.pt"
    newton.parent.mkdir()
    newton.write_bytes(checkpoints[1].read_bytes())
    code = play_cli.main([f"checkpoint={newton}", f"env_id={MUJOCO}", "steps=3", "num_envs=2", "video=false"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"sim-to-sim: policy trained on {NEWTON}, replayed on {MUJOCO}" in out
    meta = {
        p.key: json.loads(p.value) for p in onnx.load(str(tmp_path / "run" / "exported" / "policy.onnx")).metadata_props
    }
    assert meta["task"] == NEWTON and meta["joint_names"] == LEG_BY_LEG


def _crafted(newton: Path, tmp_path: Path, change) -> Path:
    state = torch.load(newton, weights_only=True)
    change(state)
    for key in ("format", "format_version"):
        state.pop(key)
    path = tmp_path / "crafted" / "model_1.pt"
    path.parent.mkdir()
    save_checkpoint(str(path), state)
    return path


@pytest.mark.parametrize(
    "change,env_id,message",
    [
        (
            lambda s: s["env_spec"]["deployment"].update(control_period_s=0.005),
            GO1_PLAY,
            "control period 0.005 s (trained) vs 0.02 s (target) differ by more than 1%",
        ),
        (
            lambda s: s["env_spec"]["deployment"]["observation_terms"].pop(0),
            GO1_PLAY,
            "describes 45 observations and 12 actions, the policy has 48 and 12",
        ),
        (lambda s: None, "Pendulum-v1", "Pendulum-v1 has no deployment info"),
        (lambda s: None, "", "was trained on the Isaac Lab task"),
    ],
)
def test_bad_pairings_are_one_line_and_exit_2(checkpoints, tmp_path, change, env_id, message, capsys):
    path = _crafted(checkpoints[1], tmp_path, change)
    code, out, err = _main([f"checkpoint={path}", *([f"env_id={env_id}"] if env_id else []), "steps=2"], capsys)
    assert code == 2
    assert err.startswith("Error: ") and err.count("\n") == 1 and message in err and "Traceback" not in err, err
    assert out == ""
