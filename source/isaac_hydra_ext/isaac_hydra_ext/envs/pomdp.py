"""Partially observed tasks: what a policy can solve only with memory (the recurrent actor-critic's evidence).

``Sber-Pendulum-NoVelocity-v0`` is gymnasium's Pendulum-v1 with the angular velocity hidden: the observation is
(cos theta, sin theta) only. Swinging up and balancing needs the velocity, which a policy can infer only from the
angles of past steps, so a feed-forward policy cannot solve it and a recurrent one can (tests/e2e/test_memory_task.py
measures both; docs/benchmarks.md has the numbers).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.envs.classic_control.pendulum import PendulumEnv


class PendulumNoVelocityEnv(PendulumEnv):
    """Pendulum-v1 whose observation is (cos theta, sin theta): the angular velocity is not observed."""

    def __init__(self, render_mode: str | None = None, g: float = 10.0):
        """The same dynamics, reward and start states as Pendulum-v1; only the observation space is smaller."""
        super().__init__(render_mode=render_mode, g=g)
        self.observation_space = spaces.Box(low=-1.0, high=1.0, shape=(2,), dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Pendulum-v1's reset, observation without the velocity."""
        obs, info = super().reset(seed=seed, options=options)
        return obs[:2], info

    def step(self, u: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Pendulum-v1's step, observation without the velocity."""
        obs, reward, terminated, truncated, info = super().step(u)
        return obs[:2], float(reward), terminated, truncated, info
