"""Episode mechanics of the Go1 env: terminations, time-outs, SAME_STEP resets, logs, commands, randomization,
seeding and argument validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from go1_helpers import still_env
from isaac_hydra_ext.envs.go1 import GO1, POLICY_JOINT_NAMES, Go1VelocityEnv, Go1VelocityPlayEnv
from isaac_hydra_ext.envs.go1.cfg import CommandsCfg
from isaac_hydra_ext.envs.go1.commands import VelocityCommand

DEFAULT_Q = np.array([GO1.default_joint_pos(n) for n in POLICY_JOINT_NAMES])


def _drop_upside_down(env: Go1VelocityEnv, i: int) -> None:
    qpos = env.sim.qpos[i]
    qpos[2] = 0.3
    qpos[3:7] = [0.0, 1.0, 0.0, 0.0]  # rotated by pi about x: back towards the floor
    env.sim.qvel[i] = 0.0


def test_trunk_dropped_upside_down_terminates_and_resets_in_the_same_step():
    env = still_env(2, commands={"fixed_command": (0.0, 0.0, 0.0)})
    env.reset(seed=0)
    _drop_upside_down(env, 1)
    steps = 0
    for _ in range(40):
        obs, reward, terminated, truncated, info = env.step(np.zeros((2, 12)))
        steps += 1
        if terminated[1]:
            break
    assert terminated.tolist() == [False, True] and not truncated.any()
    assert 5 < steps < 30  # falls ~0.24 m onto its back (~0.2 s)
    assert info["_final_obs"].tolist() == [False, True]
    final = info["final_obs"][1]
    assert final[8] > 0.99  # projected gravity z: upside down at the end of the episode
    assert obs[1, 8] == pytest.approx(-1.0)  # SAME_STEP: the returned obs is the new, upright episode
    np.testing.assert_allclose(obs[1, 12:24], 0.0, atol=1e-12)  # reset to the default joint pose
    np.testing.assert_allclose(obs[1, 36:48], 0.0)  # last action cleared
    assert env.sim.qpos[1, 2] == pytest.approx(0.4) and env.episode_steps[1] == 0
    log = info["log"]
    assert log["Episode_Termination/base_contact"] == 1.0 and log["Episode_Termination/time_out"] == 0.0
    assert env.episode_steps[0] == steps  # the other env continues its episode


def test_time_out_is_truncation_with_the_correct_final_obs():
    env = still_env(3, max_episode_steps=5, commands={"fixed_command": (0.3, 0.0, 0.0)})
    env.reset(seed=0)
    for _ in range(4):
        _, _, terminated, truncated, info = env.step(np.full((3, 12), 0.1))
        assert not terminated.any() and not truncated.any() and "log" not in info
    before = env.sim.state.copy()
    obs, _, terminated, truncated, info = env.step(np.full((3, 12), 0.1))
    assert truncated.all() and not terminated.any()
    assert info["_final_obs"].all()
    # the final observation is the state after the 5th step; recompute it from that state
    env2 = still_env(3, max_episode_steps=5, commands={"fixed_command": (0.3, 0.0, 0.0)})
    env2.reset(seed=0)
    env2.sim.state[:] = before
    env2.action[:] = 0.1
    env2.prev_action[:] = 0.1
    env2.sim.step(DEFAULT_Q + 0.25 * np.full((3, 12), 0.1))
    np.testing.assert_allclose(info["final_obs"], env2.compute_obs(), atol=1e-6)
    assert info["final_obs"][0, 36] == pytest.approx(0.1)  # last action in the final obs
    assert obs[0, 36] == 0.0  # new episode starts with a zero last action
    log = info["log"]
    assert log["Episode_Termination/time_out"] == 1.0 and log["Episode_Termination/base_contact"] == 0.0
    assert env.max_episode_steps == 5 and env.cfg.sim.episode_length_s == pytest.approx(0.1)


def test_episode_reward_log_is_the_episode_sum_over_episode_length_s():
    env = still_env(2, max_episode_steps=10, commands={"fixed_command": (0.5, 0.0, 0.0)})
    env.reset(seed=0)
    rewards, kernels = [], []
    for _ in range(10):
        obs, reward, _, _, info = env.step(np.zeros((2, 12)))
        rewards.append(reward)
        if "log" not in info:
            v_xy = obs[:, 0:2]
            kernels.append(np.exp(-np.sum((np.array([0.5, 0.0]) - v_xy) ** 2, axis=1) / 0.25))
    final = info["final_obs"]
    kernels.append(np.exp(-np.sum((np.array([0.5, 0.0]) - final[:, 0:2]) ** 2, axis=1) / 0.25))
    log = info["log"]
    # Isaac Lab: Episode_Reward/<term> = mean over ended envs of (episodic sum of weighted, dt-scaled term) / 20 s
    total = sum(value for key, value in log.items() if key.startswith("Episode_Reward/"))
    assert total == pytest.approx(np.sum(rewards) / 2 / (10 * 0.02), rel=1e-9)
    assert log["Metrics/lin_vel_tracking"] == pytest.approx(np.mean(kernels), rel=1e-5)
    assert 0.0 < log["Metrics/lin_vel_tracking"] < 1.0
    assert set(log) >= {
        "Episode_Reward/track_lin_vel_xy_exp",
        "Metrics/ang_vel_tracking",
        "Metrics/base_velocity/error_vel_xy",
        "Episode_Termination/sim_reset",
    }
    assert "Episode_Reward/undesired_contacts" not in log  # None in Isaac Lab's Go1 config


def test_same_step_reset_only_touches_ended_envs():
    env = still_env(3, commands={"fixed_command": (0.0, 0.0, 0.0)})
    env.reset(seed=0)
    for _ in range(3):
        env.step(np.zeros((3, 12)))
    _drop_upside_down(env, 0)
    states = []
    while True:
        keep = env.sim.state[1:].copy()
        obs, _, terminated, _, info = env.step(np.zeros((3, 12)))
        states.append(keep)
        if terminated[0]:
            break
    assert terminated.tolist() == [True, False, False]
    assert info["final_obs"].shape == (3, 48) and info["_final_obs"].tolist() == [True, False, False]
    np.testing.assert_allclose(obs[1:], info["final_obs"][1:])  # rows of running envs: their normal obs
    assert np.all(env.episode_steps[1:] > 3) and env.episode_steps[0] == 0


def test_reset_mask_resets_only_selected_envs():
    env = still_env(2, commands={"fixed_command": (0.0, 0.0, 0.0)})
    env.reset(seed=0)
    for _ in range(10):
        env.step(np.full((2, 12), 0.2))
    untouched = env.sim.state[1].copy()
    obs, _ = env.reset(options={"reset_mask": np.array([True, False])})
    np.testing.assert_array_equal(env.sim.state[1], untouched)
    assert env.sim.qpos[0, 2] == pytest.approx(0.4) and env.episode_steps.tolist() == [0, 10]


def test_same_seed_gives_the_same_trajectory_and_another_seed_does_not():
    def rollout(seed: int) -> tuple[np.ndarray, np.ndarray]:
        env = Go1VelocityEnv(4, events={"push_robot": True, "push_interval_s": (0.1, 0.2)})
        obs, _ = env.reset(seed=seed)
        actions = np.random.default_rng(123).normal(size=(40, 4, 12))
        trace, rewards = [obs], []
        for a in actions:
            obs, reward, *_ = env.step(a)
            trace.append(obs)
            rewards.append(reward)
        masses = np.array([m.body_mass[1] for m in env.sim.models])
        return np.concatenate([np.ravel(trace), np.ravel(rewards), masses]), env.episode_length

    a, len_a = rollout(7)
    b, len_b = rollout(7)
    c, _ = rollout(8)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(len_a, len_b)
    assert not np.allclose(a[: a.size // 2], c[: c.size // 2])


def test_random_initial_episode_length_spreads_time_outs():
    env = Go1VelocityEnv(64)
    env.reset(seed=0)
    assert env.episode_length.min() >= 0 and env.episode_length.max() < 1000
    assert len(np.unique(env.episode_length)) > 50
    assert np.all(env.episode_steps == 0)


def test_startup_randomization_of_mass_and_friction():
    env = Go1VelocityEnv(32, events={"friction_range": (0.5, 1.25)})
    env.reset(seed=3)
    trunk = env.layout.trunk_body
    added = np.array([m.body_mass[trunk] for m in env.sim.models]) - 5.204
    assert added.min() >= -1.0 and added.max() <= 3.0 and added.std() > 0.5
    inertia_ratio = np.array([m.body_inertia[trunk][0] for m in env.sim.models]) / 0.0716565
    np.testing.assert_allclose(inertia_ratio, (5.204 + added) / 5.204, rtol=1e-9)  # I' = I m'/m
    friction = np.array([m.geom_friction[m.geom("FL_foot").id, 0] for m in env.sim.models])
    assert friction.min() >= 0.5 and friction.max() <= 1.25 and friction.std() > 0.1
    # the Play variant keeps the startup randomization (as Isaac Lab's _PLAY), drawn again from the seed
    play = Go1VelocityPlayEnv(4)
    play.reset(seed=3)
    masses = [m.body_mass[trunk] for m in play.sim.models]
    assert len(set(masses)) == 4 and min(masses) >= 5.204 - 1.0 and max(masses) <= 5.204 + 3.0
    again = Go1VelocityPlayEnv(4)
    again.reset(seed=3)
    assert [m.body_mass[trunk] for m in again.sim.models] == masses


def test_pushes_add_the_sampled_velocity_on_their_interval():
    still = {"fixed_command": (0.0, 0.0, 0.0)}
    pushed = still_env(
        1, commands=still, events={"push_robot": True, "push_interval_s": (0.5, 0.5), "push_velocity_xy": (1.0, 1.0)}
    )
    twin = still_env(1, commands=still)
    pushed.reset(seed=0)
    twin.reset(seed=0)
    for _ in range(24):
        pushed.step(np.zeros((1, 12)))
        twin.step(np.zeros((1, 12)))
    np.testing.assert_array_equal(pushed.sim.state, twin.sim.state)  # no push before 0.5 s
    obs_pushed, *_ = pushed.step(np.zeros((1, 12)))
    obs_twin, *_ = twin.step(np.zeros((1, 12)))
    # at the 25th step (0.5 s) the base gets +1 m/s in world x and y; the observation already shows it
    np.testing.assert_allclose(pushed.sim.qvel[0, :2] - twin.sim.qvel[0, :2], [1.0, 1.0], atol=1e-12)
    rot = pushed._robot_state().rot[0]
    np.testing.assert_allclose(obs_pushed[0, :3] - obs_twin[0, :3], rot.T @ [1.0, 1.0, 0.0], atol=1e-6)
    assert pushed._push_steps_left[0] == 25  # next push in 0.5 s


def test_velocity_command_sampling_heading_and_standing():
    cfg = CommandsCfg()
    cmd = VelocityCommand(cfg, 4000, step_dt=0.02)
    rng = np.random.default_rng(0)
    cmd.resample(np.arange(4000), rng)
    assert cmd.resample_steps == 500  # 10 s at 50 Hz
    assert np.all(np.abs(cmd.command) <= 1.0)
    standing = cmd.is_standing_env.mean()
    assert 0.01 < standing < 0.03  # rel_standing_envs 0.02
    assert cmd.is_heading_env.all()  # rel_heading_envs 1.0
    heading = np.zeros(4000)
    cmd.heading_target[:3] = [1.0, 0.4, -3.0]
    cmd.is_standing_env[:3] = False
    cmd.update(heading)
    # yaw rate = clip(0.5 * wrap(target - heading), -1, 1)
    np.testing.assert_allclose(cmd.command[:3, 2], [0.5, 0.2, -1.0])
    assert np.all(cmd.command[cmd.is_standing_env] == 0.0)
    # wrap: target 3.0 seen from heading -3.0 is +0.283 rad away, not -6 rad
    cmd.heading_target[0], heading[0] = 3.0, -3.0
    cmd.update(heading)
    assert cmd.command[0, 2] == pytest.approx(0.5 * (6.0 - 2 * math.pi))
    # timers: expire after 500 steps
    before = cmd.command[5:].copy()
    for _ in range(499):
        cmd.step(heading, rng)
    assert np.all(cmd.steps_left == 1)
    cmd.step(heading, rng)
    assert np.all(cmd.steps_left == 500) and not np.allclose(cmd.command[5:, :2], before[:, :2])


def test_play_variant_uses_the_fixed_command_without_noise():
    env = Go1VelocityPlayEnv(2)
    obs, _ = env.reset(seed=0)
    np.testing.assert_allclose(obs[:, 9:12], [[0.5, 0.0, 0.0]] * 2)
    again = env.compute_obs()
    np.testing.assert_array_equal(obs, again)  # no noise
    env.close()
    faster = Go1VelocityPlayEnv(1, commands={"fixed_command": [0.8, 0.0, 0.1]})
    assert faster.reset(seed=0)[0][0, 9:12].tolist() == pytest.approx([0.8, 0.0, 0.1])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"frobnicate": 1}, TypeError, r"unknown Go1VelocityEnv argument 'frobnicate'; allowed: .*commands.*rewards"),
        (
            {"rewards": {"feet_air": 1.0}},
            TypeError,
            r"unknown Go1 task argument 'rewards.feet_air' in section "
            r"'rewards'; allowed: .*feet_air_time",
        ),
        ({"commands": {"lin_vel_x": [0.0, 1.0, 2.0]}}, ValueError, r"commands.lin_vel_x' needs 2 values"),
        ({"commands": 3}, TypeError, r"'commands' takes a dict"),
        ({"contact": {"history_length": 5}}, ValueError, r"history_length=5 must be in \[1, sim.decimation=4\]"),
        ({"sim": {"solver": "magic"}}, ValueError, r"sim.solver='magic'; allowed: newton, cg, pgs"),
        ({"events": {"added_mass_range": (2.0, 1.0)}}, ValueError, r"added_mass_range=\(2.0, 1.0\): low > high"),
        ({"terminations": {"base_contact_bodies": "base"}}, ValueError, r"matches no body; bodies: trunk, FL_hip"),
        (
            {"sim": {"episode_length_s": 10.0}, "max_episode_steps": 1000},
            ValueError,
            r"episode_length_s=10.0 \(500 steps\) disagrees with max_episode_steps=1000",
        ),
        # values of the wrong type are named with the type the field takes (before: a ValueError deep in the
        # reward code for a string, a flag or a range silently taking a number, a negative thread count clamped to 1)
        ({"rewards": {"feet_air_time": "abc"}}, TypeError, r"'rewards.feet_air_time' takes a number, got 'abc'"),
        ({"events": {"push_robot": 1}}, TypeError, r"'events.push_robot' takes true or false, got 1"),
        ({"commands": {"lin_vel_x": 1.0}}, TypeError, r"'commands.lin_vel_x' takes a list of 2 numbers, got 1.0"),
        ({"commands": {"lin_vel_x": ["a", 1.0]}}, TypeError, r"'commands.lin_vel_x' takes a number, got 'a'"),
        ({"sim": {"decimation": 2.5}}, TypeError, r"'sim.decimation' takes an integer, got 2.5"),
        ({"sim": {"solver": 3}}, TypeError, r"'sim.solver' takes a string, got 3"),
        (
            {"rewards": {"feet_air_time_threshold": None}},
            TypeError,
            r"'rewards.feet_air_time_threshold' takes a number, got None",
        ),
        ({"sim": {"nthread": -3}}, ValueError, r"sim.nthread=-3 is invalid: must be an integer >= 1"),
    ],
)
def test_invalid_arguments_fail_with_clear_messages(kwargs, error, match):
    with pytest.raises(error, match=match):
        Go1VelocityEnv(1, **kwargs)


def test_overrides_reach_the_task():
    env = Go1VelocityEnv(
        1,
        sim={"episode_length_s": 10.0},
        rewards={"feet_air_time": 1, "undesired_contacts": -1.0},
        commands={"lin_vel_x": [0, 2]},
    )
    assert env.max_episode_steps == 500
    weights = dict(env.reward_terms)
    assert weights["feet_air_time"] == 1.0 and weights["undesired_contacts"] == -1.0
    assert env.cfg.commands.lin_vel_x == (0.0, 2.0)
    assert env.cfg.rewards.feet_air_time == 1.0 and isinstance(env.cfg.rewards.feet_air_time, float)


def test_threaded_stepping_is_bitwise_identical_to_one_thread():
    def run(nthread: int) -> np.ndarray:
        env = Go1VelocityEnv(6, sim={"nthread": nthread})
        obs, _ = env.reset(seed=4)
        trace = [obs]
        for a in np.random.default_rng(1).normal(size=(25, 6, 12)):
            trace.append(env.step(a)[0])
        env.close()
        return np.array(trace)

    np.testing.assert_array_equal(run(1), run(2))


def test_long_random_rollout_stays_finite_and_ends_episodes():
    env = Go1VelocityEnv(8, init_at_random_ep_len=False)
    env.reset(seed=0)
    ended = 0
    for a in np.random.default_rng(2).normal(scale=2.0, size=(300, 8, 12)):
        obs, reward, terminated, truncated, info = env.step(a)
        assert np.isfinite(obs).all() and np.isfinite(reward).all()
        ended += int(terminated.sum())
        if "log" in info:
            assert all(np.isfinite(v) for v in info["log"].values())
            assert info["log"]["Episode_Termination/sim_reset"] == 0.0
    assert ended > 0  # violent random actions topple the robot
