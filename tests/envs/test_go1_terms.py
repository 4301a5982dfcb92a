"""Observation layout and reward terms of the Go1 task against hand-computed values on known states."""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest
from go1_helpers import mujoco_base_velocity, still_env
from isaac_hydra_ext.envs.go1 import GO1, POLICY_JOINT_NAMES
from isaac_hydra_ext.envs.go1.cfg import RewardsCfg
from isaac_hydra_ext.envs.go1.contact import AirTimeTracker
from isaac_hydra_ext.envs.go1.rewards import REWARD_TERMS, RewardInputs, soft_limits
from isaac_hydra_ext.envs.go1.state import RobotState

DEFAULT_Q = np.array([GO1.default_joint_pos(n) for n in POLICY_JOINT_NAMES])


def test_default_joint_pos_in_policy_order():
    # FL, FR, RL, RR hips; FL, FR, RL, RR thighs; calves (Isaac Lab UNITREE_GO1_CFG.init_state)
    np.testing.assert_allclose(DEFAULT_Q, [0.1, -0.1, 0.1, -0.1, 0.8, 0.8, 1.0, 1.0, -1.5, -1.5, -1.5, -1.5])


def test_observation_layout_on_a_known_state():
    env = still_env(1)
    env.reset(seed=0)
    lay = env.layout
    pitch = 0.3
    qpos = env.sim.qpos[0]
    qpos[lay.root_qpos : lay.root_qpos + 3] = [1.0, 2.0, 0.5]
    qpos[lay.root_qpos + 3 : lay.root_qpos + 7] = [math.cos(pitch / 2), 0.0, math.sin(pitch / 2), 0.0]
    joint_offsets = np.linspace(-0.12, 0.11, 12)
    qpos[lay.joint_qpos] = DEFAULT_Q + joint_offsets
    qvel = env.sim.qvel[0]
    qvel[lay.root_qvel : lay.root_qvel + 3] = [1.0, 0.0, 0.0]  # world-frame velocity of the trunk origin
    qvel[lay.root_qvel + 3 : lay.root_qvel + 6] = [0.1, 0.2, 0.3]  # body-frame angular velocity
    qvel[lay.joint_qvel] = np.arange(12) * 0.5 - 3.0
    env.commands.command[0] = [0.7, -0.2, 0.4]
    env.action[0] = np.arange(12) / 10.0
    obs = env.compute_obs()[0]

    # by hand: R = Ry(0.3); v_b = R^T (1, 0, 0) + w x c, with c = trunk COM (0.0223, 0.002, -0.0005)
    c, s = math.cos(pitch), math.sin(pitch)
    w = np.array([0.1, 0.2, 0.3])
    w_cross_c = np.array([0.2 * -0.0005 - 0.3 * 0.002, 0.3 * 0.0223 - 0.1 * -0.0005, 0.1 * 0.002 - 0.2 * 0.0223])
    expected = np.concatenate(
        [
            np.array([c, 0.0, s]) + w_cross_c,  # base_lin_vel
            w,  # base_ang_vel
            [s, 0.0, -c],  # projected gravity R^T (0, 0, -1)
            [0.7, -0.2, 0.4],  # velocity command
            joint_offsets,  # joint_pos - default
            np.arange(12) * 0.5 - 3.0,  # joint_vel
            np.arange(12) / 10.0,  # last action
        ]
    )
    np.testing.assert_allclose(obs, expected, atol=1e-6)
    # and MuJoCo's own kinematics agree on the base terms
    v_b, w_b, g_b = mujoco_base_velocity(env, 0)
    np.testing.assert_allclose(obs[0:9], np.concatenate([v_b, w_b, g_b]), atol=1e-6)


def test_observation_noise_has_isaac_lab_ranges():
    env = still_env(1, noise={"enable_corruption": True})
    env.reset(seed=0)
    clean = still_env(1)
    clean.reset(seed=0)
    deltas = np.stack([env.compute_obs()[0] - clean.compute_obs()[0] for _ in range(400)])
    half_widths = np.abs(deltas).max(axis=0)
    expected = np.array([0.1] * 3 + [0.2] * 3 + [0.05] * 3 + [0.0] * 3 + [0.01] * 12 + [1.5] * 12 + [0.0] * 12)
    # uniform noise: max |delta| over 400 draws is within 2 % of the half width (and never above it)
    assert np.all(half_widths <= expected + 1e-6)
    assert np.all(half_widths >= 0.97 * expected)


def _inputs(**overrides) -> RewardInputs:
    state = RobotState(
        rot=np.eye(3)[None],
        lin_vel_b=np.array([[0.5, 0.2, 0.1]]),
        ang_vel_b=np.array([[0.3, -0.4, 0.6]]),
        gravity_b=np.array([[0.1, -0.2, -0.97]]),
        joint_pos=DEFAULT_Q[None].copy(),
        joint_vel=np.zeros((1, 12)),
    )
    values = dict(
        state=state,
        command=np.array([[1.0, 0.0, 0.5]]),
        action=np.full((1, 12), 0.5),
        prev_action=np.full((1, 12), 0.2),
        joint_torque=np.full((1, 12), 2.0),
        joint_acc=np.full((1, 12), 100.0),
        first_contact=np.array([[1.0, 0.0, 1.0, 0.0]]),
        last_air_time=np.array([[0.6, 0.9, 0.3, 0.1]]),
        undesired_contact=np.array([[0.5, 2.0, 1.0, 3.0]]),
        soft_joint_limits=soft_limits(
            np.array([[-0.863, 0.863]] * 4 + [[-0.686, 4.501]] * 4 + [[-2.818, -0.888]] * 4), 0.9
        ),
    )
    values.update(overrides)
    return RewardInputs(**values)


HAND_COMPUTED = {
    "track_lin_vel_xy_exp": math.exp(-(0.5**2 + 0.2**2) / 0.25),  # err 0.29, std 0.5
    "track_ang_vel_z_exp": math.exp(-((0.5 - 0.6) ** 2) / 0.25),
    "lin_vel_z_l2": 0.1**2,
    "ang_vel_xy_l2": 0.3**2 + 0.4**2,
    "dof_torques_l2": 12 * 2.0**2,
    "dof_acc_l2": 12 * 100.0**2,
    "action_rate_l2": 12 * 0.3**2,
    "feet_air_time": (0.6 - 0.5) + (0.3 - 0.5),  # feet 0 and 2 touched down, |cmd_xy| = 1 > 0.1
    "undesired_contacts": 2.0,  # 2.0 N and 3.0 N exceed 1 N; 1.0 N does not
    "flat_orientation_l2": 0.1**2 + 0.2**2,
    "dof_pos_limits": 0.0,  # default pose is inside the soft limits
}


@pytest.mark.parametrize("name", list(HAND_COMPUTED))
def test_reward_term_matches_hand_computed_value(name):
    value = REWARD_TERMS[name](_inputs(), RewardsCfg())
    assert value.shape == (1,)
    assert value[0] == pytest.approx(HAND_COMPUTED[name], rel=1e-9)


def test_feet_air_time_is_zero_for_small_commands_and_dof_pos_limits_counts_violations():
    small = _inputs(command=np.array([[0.06, 0.08, 0.9]]))  # |cmd_xy| = 0.1, not > 0.1
    assert REWARD_TERMS["feet_air_time"](small, RewardsCfg())[0] == 0.0
    joint_pos = DEFAULT_Q[None].copy()
    joint_pos[0, 0] = 0.8  # hip soft limit: 0.863 * 0.9 = 0.7767 -> violation 0.0233
    joint_pos[0, 8] = -2.7  # calf soft range: mid -1.853, half 0.8685 -> lower -2.7215, inside
    joint_pos[0, 9] = -0.9  # calf upper soft limit -0.9845 -> violation 0.0845
    zeros = np.zeros((1, 3))
    state = RobotState(np.eye(3)[None], zeros, zeros, zeros, joint_pos, np.zeros((1, 12)))
    value = REWARD_TERMS["dof_pos_limits"](_inputs(state=state), RewardsCfg())[0]
    assert value == pytest.approx((0.8 - 0.863 * 0.9) + (-0.9 - (-1.853 + 0.965 * 0.9)), rel=1e-9)


def test_air_time_tracker_follows_isaac_lab_contact_sensor():
    tracker = AirTimeTracker(1, 1, threshold=1.0)
    dt = 0.005
    # policy step 1: airborne for 4 physics steps; step 2: touchdown at the 3rd physics step
    tracker.update(np.zeros((1, 4, 1)), dt)
    assert tracker.current_air_time[0, 0] == pytest.approx(0.02)
    assert not tracker.first_contact(0.02)[0, 0]
    tracker.update(np.array([[[0.0], [0.5], [5.0], [6.0]]]), dt)  # 0.5 N is below the 1 N threshold
    # last air time = air time accumulated before touchdown + the touchdown step: 0.02 + 2 * 0.005 + 0.005
    assert tracker.last_air_time[0, 0] == pytest.approx(0.035)
    assert tracker.current_contact_time[0, 0] == pytest.approx(0.01)
    assert tracker.current_air_time[0, 0] == 0.0
    assert tracker.first_contact(0.02)[0, 0]
    tracker.update(np.full((1, 4, 1), 6.0), dt)  # still in contact: no longer a first contact
    assert tracker.current_contact_time[0, 0] == pytest.approx(0.03)
    assert not tracker.first_contact(0.02)[0, 0]


def test_step_reward_is_the_weighted_dt_scaled_sum_of_terms():
    """Reward of one env step recomputed from the simulator state with MuJoCo-side quantities."""
    env = still_env(1, commands={"fixed_command": (0.6, -0.3, 0.4)})
    env.reset(seed=0)
    action = np.linspace(-0.5, 0.5, 12)[None]
    _, reward, terminated, _, _ = env.step(action)
    assert not terminated[0]
    sim = env.sim
    lay = env.layout
    v_b, w_b, g_b = mujoco_base_velocity(env, 0)
    before = sim.trajectory[0, -2]  # state before the last physics step
    q = before[sim.qpos_offset + lay.joint_qpos]
    qd = before[sim.qvel_offset + lay.joint_qvel]
    limits = np.array([23.7] * 8 + [35.55] * 4)
    torque = np.clip(20.0 * (DEFAULT_Q + 0.25 * action[0] - q) - 0.5 * qd, -limits, limits)  # PD law
    qd_after = sim.qvel[0, lay.joint_qvel]
    terms = {
        "track_lin_vel_xy_exp": (1.5, math.exp(-((0.6 - v_b[0]) ** 2 + (-0.3 - v_b[1]) ** 2) / 0.25)),
        "track_ang_vel_z_exp": (0.75, math.exp(-((0.4 - w_b[2]) ** 2) / 0.25)),
        "lin_vel_z_l2": (-2.0, v_b[2] ** 2),
        "ang_vel_xy_l2": (-0.05, w_b[0] ** 2 + w_b[1] ** 2),
        "dof_torques_l2": (-2.0e-4, np.sum(torque**2)),
        "dof_acc_l2": (-2.5e-7, np.sum(((qd_after - qd) / 0.005) ** 2)),
        "action_rate_l2": (-0.01, np.sum(action**2)),  # previous action is 0 after a reset
        "feet_air_time": (0.25, 0.0),  # spawned 0.4 m high: no foot has touched down yet
        "flat_orientation_l2": (-2.5, g_b[0] ** 2 + g_b[1] ** 2),
    }
    assert env.sim.qpos[0, 2] > 0.35
    expected = sum(weight * value for weight, value in terms.values()) * 0.02
    assert reward[0] == pytest.approx(expected, rel=1e-6)
    names = [name for name, _ in env.reward_terms]
    assert names == [*terms, "dof_pos_limits"]  # undesired_contacts is None for Go1, dof_pos_limits weight 0


def test_feet_air_time_in_the_env_measures_the_drop_from_the_spawn_height():
    env = still_env(1, commands={"fixed_command": (0.5, 0.0, 0.0)})
    env.reset(seed=0)
    feet = env.layout.foot_contact_adr
    substeps = 0
    touchdown_substep = {}
    for _ in range(20):
        env.step(np.zeros((1, 12)))
        forces = np.linalg.norm(env.sim.sensordata[0][:, feet[:, None] + np.arange(3)], axis=-1)  # (4 substeps, 4)
        for k in range(4):
            for foot in range(4):
                if foot not in touchdown_substep and forces[k, foot] > 1.0:
                    touchdown_substep[foot] = substeps + k
        substeps += 4
        if len(touchdown_substep) == 4:
            break
    assert len(touchdown_substep) == 4
    for foot, k in touchdown_substep.items():
        # airborne from the reset for k physics steps, plus the touchdown step itself
        assert env.air_time.last_air_time[0, foot] == pytest.approx((k + 1) * 0.005)
    assert 0.08 < max(touchdown_substep.values()) * 0.005 < 0.2  # free fall of ~7 cm takes ~0.12 s


def test_mujoco_kinematics_helper_is_consistent():
    env = still_env(1)
    env.reset(seed=1)
    model, data = env.sim.data_for(0)
    assert data.xpos[model.body("trunk").id][2] == pytest.approx(GO1.init_base_height)
    assert mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, "trunk") == env.layout.trunk_body
