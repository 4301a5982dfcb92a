"""The sim-to-sim mapping (:mod:`isaac_hydra_ext.envs.sim2sim`) against a reference built from the definitions.

The reference observes one physical robot state (base velocities, gravity, command, joint positions and velocities
by name, last PD target by name) through a task's deployment info as the docstring of
:class:`~isaac_hydra_ext.envs.deployment.DeploymentInfo` defines it; the mapping must turn the target task's
observation of that state into the policy task's observation of the same state, and a policy action into the target
action with the same PD target.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from isaac_hydra_ext.envs.go1.cfg import Go1VelocityTaskCfg
from isaac_hydra_ext.envs.go1.deployment import go1_deployment_info
from isaac_hydra_ext.envs.sim2sim import MappedPolicy, Sim2SimError, build_mapping, sim2sim_mapping
from isaac_hydra_ext.envs.vec_env import EnvSpec

MUJOCO = "Sber-Velocity-Flat-Go1-MuJoCo-v0"
NEWTON = "Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-v0"
LEG_BY_LEG = [f"{leg}_{kind}_joint" for leg in ("FL", "FR", "RL", "RR") for kind in ("hip", "thigh", "calf")]


def mujoco_info() -> dict:
    """The embedded task's deployment info (joints grouped by type)."""
    return go1_deployment_info(Go1VelocityTaskCfg()).as_dict()


def newton_info(
    action_scale: float = 0.25, obs_scales: dict[str, float] | None = None, default_shift: float = 0.0
) -> dict:
    """The Newton task's deployment info (joints leg by leg, as Isaac Lab reads them from Newton's articulation).

    ``action_scale``, ``obs_scales`` and ``default_shift`` (added to every default joint position) make variants
    with other conventions, to check the rescaling and re-centring.
    """
    base = mujoco_info()
    by_name = dict(zip(base["joint_names"], base["default_joint_pos"]))
    default = [by_name[n] + default_shift for n in LEG_BY_LEG]
    terms = copy.deepcopy(base["observation_terms"])
    for term in terms:
        term["scale"] = (obs_scales or {}).get(term["name"], 1.0)
    return {
        "joint_names": list(LEG_BY_LEG),
        "default_joint_pos": default,
        "action_scale": [action_scale] * 12,
        "action_offset": list(default),
        "control_period_s": 0.02,
        "observation_terms": terms,
    }


def random_state(rng: np.random.Generator) -> dict:
    """A physical state: base quantities (3 each), and per joint name position, velocity and last PD target."""
    return {
        "base_lin_vel": rng.normal(size=3),
        "base_ang_vel": rng.normal(size=3),
        "projected_gravity": rng.normal(size=3),
        "velocity_commands": rng.normal(size=3),
        "q": {n: rng.normal(0.5, 0.5) for n in LEG_BY_LEG},
        "qd": {n: rng.normal(0.0, 3.0) for n in LEG_BY_LEG},
        "target": {n: rng.normal(0.5, 0.5) for n in LEG_BY_LEG},
    }


def observe(info: dict, state: dict) -> np.ndarray:
    """What a task with deployment ``info`` observes of ``state`` (the DeploymentInfo definitions, term by term)."""
    out = np.zeros(max(t["stop"] for t in info["observation_terms"]))
    names, default = info["joint_names"], info["default_joint_pos"]
    for term in info["observation_terms"]:
        name, scale = term["name"], term["scale"]
        if name == "joint_pos":  # q - q_default
            value = [state["q"][n] - d for n, d in zip(names, default)]
        elif name == "joint_vel":
            value = [state["qd"][n] for n in names]
        elif name == "actions":  # the action that gave the last PD target: (q* - offset) / scale
            value = [
                (state["target"][n] - o) / s for n, o, s in zip(names, info["action_offset"], info["action_scale"])
            ]
        else:
            value = state[name]
        out[term["start"] : term["stop"]] = scale * np.asarray(value)
    return out


def pd_target(info: dict, action: np.ndarray) -> dict:
    """PD target per joint name of ``action`` in the task ``info``: offset + scale * action."""
    return {
        n: o + s * a for n, o, s, a in zip(info["joint_names"], info["action_offset"], info["action_scale"], action)
    }


VARIANTS = {
    "newton order": {},
    "other scales and defaults": {
        "action_scale": 0.5,
        "obs_scales": {"base_lin_vel": 2.0, "base_ang_vel": 0.25, "joint_vel": 0.05, "actions": 0.5, "joint_pos": 3.0},
        "default_shift": 0.1,
    },
}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("direction", ["mujoco policy on newton", "newton policy on mujoco"])
def test_mapping_turns_one_state_observed_by_the_target_into_the_policy_observation(variant, direction):
    newton = newton_info(**VARIANTS[variant])
    policy, target = (mujoco_info(), newton) if direction.startswith("mujoco") else (newton, mujoco_info())
    mapping = build_mapping(policy, "P", target, "T")
    rng = np.random.default_rng(0)
    for _ in range(5):
        state = random_state(rng)
        mapped = mapping.map_obs(torch.as_tensor(observe(target, state))[None])[0].numpy()
        np.testing.assert_allclose(mapped, observe(policy, state), rtol=1e-9, atol=1e-9)
        action = rng.normal(size=12)
        target_action = mapping.map_action(torch.as_tensor(action)[None])[0].numpy()
        want, got = pd_target(policy, action), pd_target(target, target_action)
        assert got == pytest.approx(want, abs=1e-12)  # the same PD target on every joint


def test_hand_computed_entries_of_the_newton_mapping():
    # MuJoCo policy, Newton target: MuJoCo's joint 1 is FR_hip, Newton's index 3; MuJoCo's joint 4 FL_thigh, Newton 1
    mapping = build_mapping(mujoco_info(), MUJOCO, newton_info(), NEWTON)
    obs_t = torch.arange(48, dtype=torch.float64)[None]
    obs_p = mapping.map_obs(obs_t)[0]
    assert obs_p[:12].tolist() == list(range(12))  # base terms and command: unchanged
    # joint_pos starts at 12 in both: policy joints (FL_hip, FR_hip, RL_hip, RR_hip, FL_thigh) <- newton 0, 3, 6, 9, 1
    assert obs_p[12:17].tolist() == [12, 15, 18, 21, 13]
    assert obs_p[24:26].tolist() == [24, 27] and obs_p[36:38].tolist() == [36, 39]
    # actions: newton's FR_hip (index 3) comes from the MuJoCo policy's action 1
    a_p = torch.arange(12, dtype=torch.float64)[None]
    assert mapping.map_action(a_p)[0, :4].tolist() == [0, 4, 8, 1]
    assert mapping.is_identity is False and "joints reordered" in mapping.describe()
    # scale 0.5 vs 0.25: a_t = (0.25 a_p + off_p - off_t) / 0.5 = a_p / 2 (same offsets); last action o_p = 2 o_t
    scaled = build_mapping(mujoco_info(), MUJOCO, newton_info(action_scale=0.5), NEWTON)
    assert scaled.map_action(a_p)[0, :4].tolist() == [0, 2, 4, 0.5]
    assert scaled.map_obs(obs_t)[0, 36:38].tolist() == [72, 78]
    assert "action scales converted" in scaled.describe()


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_actions_mapped_there_and_back_are_the_identity(variant):
    newton = newton_info(**VARIANTS[variant])
    there = build_mapping(mujoco_info(), MUJOCO, newton, NEWTON)
    back = build_mapping(newton, NEWTON, mujoco_info(), MUJOCO)
    a = torch.randn(7, 12, dtype=torch.float64)
    torch.testing.assert_close(back.map_action(there.map_action(a)), a)
    torch.testing.assert_close(there.unmap_action(there.map_action(a)), a)
    # observations: the newton-policy map then the mujoco-policy map is the identity on newton-layout observations
    obs = torch.randn(7, 48, dtype=torch.float64)
    torch.testing.assert_close(back.map_obs(there.map_obs(obs)), obs)
    same = build_mapping(mujoco_info(), MUJOCO, mujoco_info(), MUJOCO + "-Play")
    assert same.is_identity and "nothing to map" in same.describe()
    torch.testing.assert_close(same.map_action(a), a) and torch.testing.assert_close(same.map_obs(obs), obs)


def _drop_term(info: dict, name: str) -> dict:
    info = copy.deepcopy(info)
    info["observation_terms"] = [t for t in info["observation_terms"] if t["name"] != name]
    return info


def _resize_term(info: dict, name: str) -> dict:
    info = copy.deepcopy(info)
    for t in info["observation_terms"]:
        if t["name"] == name:
            t["stop"] += 1
    return info


def _rename_joint(info: dict) -> dict:
    info = copy.deepcopy(info)
    info["joint_names"][0] = "FL_hip_yaw_joint"
    return info


@pytest.mark.parametrize(
    "target,message",
    [
        (lambda: _drop_term(newton_info(), "base_lin_vel"), "observes 'base_lin_vel', which T does not have"),
        (
            lambda: _resize_term(newton_info(), "velocity_commands"),
            "'velocity_commands' has 3 values in training and 4",
        ),
        (lambda: {**newton_info(), "control_period_s": 0.025}, "control period 0.02 s (trained) vs 0.025 s"),
        (lambda: _rename_joint(newton_info()), "the joints differ (only the policy's: ['FL_hip_joint']"),
        (lambda: {}, "T has no deployment info"),
        (lambda: {**newton_info(), "action_scale": [0.25] * 11}, "has 11 action_scale values for 12 joints"),
    ],
)
def test_what_cannot_be_mapped_is_refused_in_one_line(target, message):
    with pytest.raises(Sim2SimError) as info:
        build_mapping(mujoco_info(), "P", target(), "T")
    text = str(info.value)
    assert message in text and "\n" not in text and text.startswith("cannot replay the policy of P on T")


def test_a_period_within_the_tolerance_is_accepted():
    build_mapping(mujoco_info(), "P", {**newton_info(), "control_period_s": 0.0201}, "T")


class _Loaded:
    def __init__(self, deployment, env_id, obs_dim=48, act_dim=12):
        self.deployment, self.env_id, self.obs_dim, self.act_dim = deployment, env_id, obs_dim, act_dim


def test_replay_mapping_only_for_another_task_and_only_with_deployment_info():
    spec = EnvSpec(obs_dim=48, act_dim=12, deployment=newton_info())
    assert sim2sim_mapping(_Loaded(mujoco_info(), NEWTON), spec, NEWTON.replace("-v0", "-Play-v0")) is None
    assert sim2sim_mapping(_Loaded(mujoco_info(), ""), spec, NEWTON) is None  # unknown training task
    assert sim2sim_mapping(_Loaded({}, "Pendulum-v1"), EnvSpec(obs_dim=3, act_dim=1), "Other-v0") is None
    assert sim2sim_mapping(_Loaded(mujoco_info(), MUJOCO), spec, NEWTON) is not None
    with pytest.raises(Sim2SimError, match="describes 48 observations and 12 actions, the policy has 50 and 12"):
        sim2sim_mapping(_Loaded(mujoco_info(), MUJOCO, obs_dim=50), spec, NEWTON)


def test_mapped_policy_passes_memory_resets_on():
    calls = []

    class Recurrent:
        def __call__(self, obs):
            return obs[:, :12]

        def reset(self, done):
            calls.append(done.tolist())

    mapping = build_mapping(mujoco_info(), MUJOCO, newton_info(), NEWTON)
    policy = MappedPolicy(Recurrent(), mapping)
    out = policy(torch.zeros(2, 48))
    assert out.shape == (2, 12)
    policy.reset(torch.tensor([True, False]))
    assert calls == [[True, False]]
    MappedPolicy(lambda obs: obs[:, :12], mapping).reset(torch.tensor([True]))  # no memory: nothing to reset
