"""IsaacLabVecEnv against a fake env with Isaac Lab's RL-env interface: no Isaac Lab needed.

The fake follows ``ManagerBasedRLEnv`` (3.0): same-step autoreset inside ``step``, ``extras["log"]`` rebuilt only
when envs reset (and left stale otherwise), ``extras["final_obs"]`` filled before the reset when
``cfg.compute_final_obs`` is set. test_il_isaaclab.py checks the real class's signatures and config fields.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import pytest
import torch
from isaac_hydra_ext.isaaclab.vec_env import IsaacLabVecEnv

B, OBS, CRITIC, ACT, LIMIT = 4, 3, 5, 2, 5


@dataclass
class FakeCfg:
    is_finite_horizon: bool = False
    compute_final_obs: bool = False


class FakeRLEnv:
    """Obs = [t, env index, episode count]; env 0 terminates at t=2, others time out at LIMIT."""

    def __init__(self, cfg=None, critic=True):
        self.cfg = cfg or FakeCfg()
        self.num_envs, self.device, self.max_episode_length = B, "cpu", LIMIT
        spaces = {"policy": gym.spaces.Box(-np.inf, np.inf, (OBS,))}
        if critic:
            spaces["critic"] = gym.spaces.Box(-np.inf, np.inf, (CRITIC,))
        self.single_observation_space = gym.spaces.Dict(spaces)
        self.single_action_space = gym.spaces.Box(-np.inf, np.inf, (ACT,))
        self.episode_length_buf = torch.zeros(B, dtype=torch.long)
        self.episodes = torch.zeros(B)
        self.extras = {}
        self.actions_seen = []
        self.critic = critic

    @property
    def unwrapped(self):
        return self

    def _obs(self):
        policy = torch.stack([self.episode_length_buf.float(), torch.arange(B, dtype=torch.float32), self.episodes], 1)
        obs = {"policy": policy}
        if self.critic:
            obs["critic"] = torch.cat([policy, -policy[:, :2]], 1)
        return obs

    def reset(self, seed=None, env_ids=None, options=None):
        self.seed_seen = seed
        self.episode_length_buf.zero_()
        return self._obs(), {}

    def step(self, action):
        self.actions_seen.append(action.clone())
        self.episode_length_buf += 1
        terminated = torch.zeros(B, dtype=torch.bool)
        terminated[0] = self.episode_length_buf[0] == 2
        time_outs = self.episode_length_buf >= self.max_episode_length
        reset = terminated | time_outs
        if reset.any():
            if getattr(self.cfg, "compute_final_obs", False):
                self.extras["final_obs"] = self._obs()
            self.extras["log"] = {"Episode_Reward/track": torch.tensor(0.5), "Episode_Termination/time_out": 3}
            self.episode_length_buf[reset] = 0
            self.episodes[reset] += 1
        return self._obs(), torch.ones(B, dtype=torch.float64), terminated, time_outs, self.extras

    def close(self):
        self.closed = True


def test_spec_from_the_env_interface():
    env = IsaacLabVecEnv(FakeRLEnv(), clip_actions=2.0)
    assert env.num_envs == B and env.device == torch.device("cpu")
    spec = env.spec
    assert (spec.obs_dim, spec.critic_obs_dim, spec.act_dim, spec.max_episode_steps) == (OBS, CRITIC, ACT, LIMIT)
    assert spec.action_low == [-2.0, -2.0] and spec.action_high == [2.0, 2.0]
    assert IsaacLabVecEnv(FakeRLEnv(critic=False)).spec.action_low == []  # unbounded without clipping


def run_until_reset(env):
    env.reset(seed=3)
    steps = [env.step(torch.zeros(B, ACT)) for _ in range(LIMIT)]
    return steps


def test_exact_final_obs_where_isaaclab_offers_it():
    fake = FakeRLEnv()
    env = IsaacLabVecEnv(fake)
    assert env.exact_final_obs and fake.cfg.compute_final_obs  # switched on by the adapter
    steps = run_until_reset(env)
    first_end = steps[1]  # env 0 terminates at t=2
    assert first_end.terminated.tolist() == [True, False, False, False] and not first_end.truncated.any()
    assert first_end.obs[0].tolist() == [0.0, 0.0, 1.0]  # already the next episode
    assert first_end.final_obs[0].tolist() == [2.0, 0.0, 0.0]  # the true last observation
    assert first_end.final_critic_obs[0, :3].tolist() == [2.0, 0.0, 0.0]
    timeout = steps[LIMIT - 1]
    assert timeout.truncated.tolist() == [False, True, True, True] and not timeout.terminated.any()
    assert timeout.final_obs[1:, 0].tolist() == [float(LIMIT)] * 3


def test_previous_obs_as_final_obs_otherwise():
    @dataclass
    class Cfg2x:  # Isaac Lab 2.x configs have no compute_final_obs
        is_finite_horizon: bool = False

    env = IsaacLabVecEnv(FakeRLEnv(cfg=Cfg2x()))
    assert not env.exact_final_obs
    steps = run_until_reset(env)
    assert steps[1].final_obs[0].tolist() == [1.0, 0.0, 0.0]  # s_t, the observation before the last step
    assert steps[LIMIT - 1].final_obs[1:, 0].tolist() == [float(LIMIT - 1)] * 3
    with pytest.raises(ValueError, match="compute_final_obs"):
        IsaacLabVecEnv(FakeRLEnv(cfg=Cfg2x()), final_obs="exact")
    assert not IsaacLabVecEnv(FakeRLEnv(), final_obs="previous").exact_final_obs


def test_finite_horizon_time_outs_terminate():
    env = IsaacLabVecEnv(FakeRLEnv(cfg=FakeCfg(is_finite_horizon=True)))
    last = run_until_reset(env)[LIMIT - 1]
    assert last.terminated[1:].all() and not last.truncated.any()


def test_log_only_from_steps_with_resets():
    steps = run_until_reset(IsaacLabVecEnv(FakeRLEnv()))
    assert steps[1].log == {"Episode_Reward/track": 0.5, "Episode_Termination/time_out": 3.0}
    assert steps[2].log == {}  # Isaac Lab leaves the previous log in extras: not reported twice
    assert steps[0].reward.dtype == torch.float32 and steps[0].terminated.dtype == torch.bool


def test_actions_clipped_and_episode_lengths_randomised():
    fake = FakeRLEnv()
    env = IsaacLabVecEnv(fake, clip_actions=1.0, init_at_random_ep_len=True)
    torch.manual_seed(0)
    env.reset(seed=7)
    assert fake.seed_seen == 7
    assert fake.episode_length_buf.min() >= 0 and fake.episode_length_buf.max() < LIMIT
    assert len(set(fake.episode_length_buf.tolist())) > 1
    env.step(torch.full((B, ACT), 5.0))
    assert fake.actions_seen[-1].max().item() == 1.0
    env.close()
    assert fake.closed


def test_rejects_non_concatenated_or_missing_policy_group():
    fake = FakeRLEnv()
    fake.single_observation_space = gym.spaces.Dict({"actor": gym.spaces.Box(-1, 1, (3,))})
    with pytest.raises(TypeError, match="'policy' group"):
        IsaacLabVecEnv(fake)
    fake.single_observation_space = gym.spaces.Dict({"policy": gym.spaces.Dict({"a": gym.spaces.Box(-1, 1, (3,))})})
    with pytest.raises(TypeError, match="concatenate_terms=True"):
        IsaacLabVecEnv(fake)
