"""The Go1 task through the trainer's path: gymnasium registry, ``gym.make_vec``, ``GymVecEnv`` and Hydra."""

from __future__ import annotations

import sys
from pathlib import Path

import gymnasium as gym
import isaac_hydra_ext.envs  # noqa: F401  (registers the ids)
import numpy as np
import pytest
import torch
from isaac_hydra_ext.envs.go1 import GO1_FLAT_ID, GO1_FLAT_PLAY_ID, Go1VelocityEnv, Go1VelocityPlayEnv
from isaac_hydra_ext.envs.vec_env import GymVecEnv

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import compose  # noqa: E402


def test_ids_are_registered_with_a_vector_entry_point():
    for env_id, cls in ((GO1_FLAT_ID, Go1VelocityEnv), (GO1_FLAT_PLAY_ID, Go1VelocityPlayEnv)):
        spec = gym.spec(env_id)
        assert spec.vector_entry_point == f"isaac_hydra_ext.envs.go1.env:{cls.__name__}"
        assert spec.max_episode_steps == 1000
    env = gym.make_vec(GO1_FLAT_ID, num_envs=3, vectorization_mode="vector_entry_point")
    assert isinstance(env, Go1VelocityEnv) and env.num_envs == 3
    assert env.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
    assert env.observation_space.shape == (3, 48) and env.action_space.shape == (3, 12)
    assert env.max_episode_steps == 1000
    env.close()


def test_gym_vec_env_runs_the_task_with_kwargs_and_time_limit():
    kwargs = {
        "init_at_random_ep_len": False,
        "noise": {"enable_corruption": False},
        "commands": {"fixed_command": [0.4, 0.0, 0.0]},
    }
    env = GymVecEnv(GO1_FLAT_ID, 4, kwargs=kwargs, max_episode_steps=6)
    assert (env.spec.obs_dim, env.spec.act_dim, env.spec.max_episode_steps) == (48, 12, 6)
    assert env.spec.action_low == []  # unbounded actions, as in Isaac Lab
    obs, critic = env.reset(seed=0)
    assert obs.shape == (4, 48) and obs.dtype == torch.float32 and critic is None
    for _ in range(5):
        step = env.step(torch.zeros(4, 12))
        assert not step.truncated.any() and step.log == {}
    step = env.step(torch.zeros(4, 12))
    assert step.truncated.all() and not step.terminated.any()
    # the trainer's final_obs is the episode's last observation, obs is the first of the next episode
    # spawned 0.4 m high, the robot is still in free fall after 6 steps: v_z = -g t = -9.81 * 0.12
    assert torch.allclose(step.final_obs[:, 2], torch.full((4,), -9.81 * 0.12), atol=2e-3)
    assert torch.allclose(step.obs[:, 0:3], torch.zeros(4, 3))
    assert torch.allclose(step.obs[:, 12:24], torch.zeros(4, 12))
    assert step.log["Episode_Termination/time_out"] == 1.0
    assert 0.0 < step.log["Metrics/lin_vel_tracking"] < 1.0
    env.close()


def test_gym_vec_env_reports_terminations():
    env = GymVecEnv(GO1_FLAT_ID, 2, kwargs={"init_at_random_ep_len": False})
    env.reset(seed=1)
    inner = env._env
    inner.sim.qpos[0, 2] = 0.3
    inner.sim.qpos[0, 3:7] = [0.0, 1.0, 0.0, 0.0]
    for _ in range(40):
        step = env.step(torch.zeros(2, 12))
        if step.terminated[0]:
            break
    assert step.terminated[0] and not step.truncated[0]
    assert step.final_obs[0, 8] > 0.99 and step.obs[0, 8] < -0.99  # upside down at the end, upright after reset
    assert step.log["Episode_Termination/base_contact"] == 1.0


@pytest.mark.parametrize("group", ["mujoco_go1", "mujoco_go1_play"])
def test_hydra_env_groups_compose(group):
    cfg = compose([f"env={group}", "+env.kwargs.rewards.feet_air_time=0.5"])
    assert cfg.env.id == (GO1_FLAT_ID if group == "mujoco_go1" else GO1_FLAT_PLAY_ID)
    assert cfg.ppo.actor_hidden_dims == [128, 128, 128] and cfg.ppo.activation == "elu"
    env = GymVecEnv(cfg.env.id, 2, kwargs=dict(cfg.env.kwargs), max_episode_steps=cfg.env.max_episode_steps)
    assert dict(env._env.reward_terms)["feet_air_time"] == 0.5
    env.close()


def test_go1_ppo_suggestions_follow_rsl_rl():
    cfg = compose(["env=mujoco_go1"])
    ppo = cfg.ppo
    assert (ppo.steps_per_env, ppo.entropy_coef, ppo.learning_rate, ppo.schedule) == (24, 0.01, 1e-3, "adaptive")
    assert ppo.num_minibatches == 4 and ppo.update_epochs == 5  # rsl_rl's 5 epochs x 4 minibatches, any W
    np.testing.assert_equal(cfg.env.clip_actions, False)
