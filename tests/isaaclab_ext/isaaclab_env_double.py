"""A double of Isaac Lab's ``ManagerBasedRLEnv`` for what cannot run here: the simulator itself.

It follows the RL-env contract that ``IsaacLabVecEnv`` relies on (checked against the real class by
``test_il_isaaclab.py``): ``num_envs``, ``device``, ``max_episode_length``, ``episode_length_buf``, ``step_dt``,
``single_observation_space`` (a ``Dict`` with a ``policy`` Box), ``single_action_space``, ``cfg``;
``reset(seed=) -> (obs, extras)``; ``step(a) -> (obs, reward, terminated, time_outs, extras)`` with same-step
autoreset, ``extras["log"]`` on steps with resets and ``extras["final_obs"]`` when ``cfg.compute_final_obs``.
Its dynamics are a simple learnable point-mass task (reward -|s + a|^2), so APPO has something to learn.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch


class IsaacLabEnvDouble:
    """Stands in for ``gym.make(task, cfg=env_cfg)`` of an Isaac Lab task (torch tensors on ``device``)."""

    def __init__(self, cfg, obs_dim: int, act_dim: int, device: str = "cpu", max_episode_length: int = 50):
        self.cfg = cfg
        self.num_envs = int(cfg.scene.num_envs)
        self.device = device
        self.max_episode_length = max_episode_length
        self.step_dt = 0.02
        self.single_observation_space = gym.spaces.Dict({"policy": gym.spaces.Box(-np.inf, np.inf, (obs_dim,))})
        self.single_action_space = gym.spaces.Box(-np.inf, np.inf, (act_dim,))
        self.episode_length_buf = torch.zeros(self.num_envs, dtype=torch.long, device=device)
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.state = torch.zeros(self.num_envs, obs_dim, device=device)
        self.extras: dict = {}
        self.closed = False

    @property
    def unwrapped(self):
        return self

    def _obs(self):
        return {"policy": self.state.clone()}

    def reset(self, seed=None, env_ids=None, options=None):
        g = torch.Generator(device=self.device)
        g.manual_seed(0 if seed is None else int(seed))
        self.state = torch.randn(self.num_envs, self.obs_dim, generator=g, device=self.device)
        self.episode_length_buf.zero_()
        return self._obs(), {}

    def step(self, action):
        a = (
            action[:, : self.obs_dim]
            if self.act_dim >= self.obs_dim
            else torch.nn.functional.pad(action, (0, self.obs_dim - self.act_dim))
        )
        reward = -((self.state + a) ** 2).mean(-1)
        self.state = 0.9 * self.state + 0.1 * torch.randn_like(self.state)
        self.episode_length_buf += 1
        terminated = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
        time_outs = self.episode_length_buf >= self.max_episode_length
        if time_outs.any():
            if getattr(self.cfg, "compute_final_obs", False):
                self.extras["final_obs"] = self._obs()
            self.extras["log"] = {"Episode_Reward/track_lin_vel_xy_exp": torch.tensor(0.5)}
            self.state[time_outs] = torch.randn(int(time_outs.sum()), self.obs_dim, device=self.device)
            self.episode_length_buf[time_outs] = 0
        return self._obs(), reward, terminated, time_outs, self.extras

    def close(self):
        self.closed = True
