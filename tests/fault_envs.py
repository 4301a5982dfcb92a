"""Real gymnasium environments with injected faults, for the fault tests (registered on import).

Each is Pendulum-v1 underneath, so shapes are tiny and steps are cheap; the fault is what is being tested.
Worker processes import this module through ``env.id=fault_envs:<Id>`` (gymnasium's module:id form).
"""

from __future__ import annotations

import os
import time

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control.pendulum import PendulumEnv


def _log_pid(pid_log: str) -> None:
    """Append this process's pid to ``pid_log`` (one line per env constructed): which processes built an env."""
    if pid_log:
        with open(pid_log, "a") as f:
            f.write(f"{os.getpid()}\n")


class SlowPendulum(PendulumEnv):
    """Pendulum whose step sleeps ``delay_s`` (so a kill lands mid-rollout).

    ``pid_log``: a file that gets this process's pid for every env constructed (the learner builds one to read
    the shapes; any other pid there is a worker that was started).
    """

    def __init__(self, delay_s: float = 0.002, pid_log: str = "", **kwargs):
        super().__init__(**kwargs)
        self.delay_s = delay_s
        _log_pid(pid_log)

    def step(self, action):
        time.sleep(self.delay_s)
        return super().step(action)


FAULTS = ("raise_step", "raise_reset", "nan_obs", "inf_reward", "huge_reward", "hang")


class FaultyPendulum(PendulumEnv):
    """Pendulum that misbehaves once its process has taken ``after`` steps: ``fault`` is one of
    ``raise_step``, ``raise_reset`` (counts resets, not steps: ``after=0`` fails the very first reset),
    ``nan_obs``, ``inf_reward``, ``huge_reward`` (a finite reward of ``huge`` (default 1e38, float32 max is
    3.4e38): the samples are valid, but returns overflow float32 in the learner), ``hang``.

    ``only_pid_file``: if given, only the first process that creates this file misbehaves (so a restarted
    worker runs cleanly and the run can finish).
    """

    _steps = 0  # per process

    def __init__(self, fault: str = "raise_step", after: int = 50, only_pid_file: str = "", huge: float = 1e38,
                 pid_log: str = "", **kwargs):
        super().__init__(**kwargs)
        if fault not in FAULTS:
            raise ValueError(f"fault={fault!r}: must be one of {', '.join(FAULTS)}")
        self.fault, self.after, self.only_pid_file, self.huge = fault, after, only_pid_file, huge
        _log_pid(pid_log)

    def _claim(self) -> bool:
        """With ``only_pid_file``, the first process to reach the fault claims it; others never misbehave."""
        if not self.only_pid_file:
            return True
        try:
            fd = os.open(self.only_pid_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            return True
        except FileExistsError:
            with open(self.only_pid_file) as f:
                return f.read().strip() == str(os.getpid())

    def _triggered(self) -> bool:
        FaultyPendulum._steps += 1
        return FaultyPendulum._steps > self.after and self._claim()

    def reset(self, *, seed=None, options=None):
        if self.fault == "raise_reset" and self._triggered():
            raise RuntimeError("injected reset failure")
        return super().reset(seed=seed, options=options)

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        if self.fault != "raise_reset" and self._triggered():
            if self.fault == "raise_step":
                raise RuntimeError("injected step failure")
            if self.fault == "nan_obs":
                obs = np.full_like(obs, np.nan)
            elif self.fault == "inf_reward":
                reward = np.inf
            elif self.fault == "huge_reward":
                reward = self.huge
            elif self.fault == "hang":
                time.sleep(3600)
        return obs, reward, terminated, truncated, info


class BlindPendulum(PendulumEnv):
    """Pendulum that accepts ``render_mode="rgb_array"`` but renders nothing (the video recorder must give up)."""

    metadata = {**PendulumEnv.metadata, "render_fps": 30}

    def render(self):
        return None


gym.register("SlowPendulum-v0", entry_point=SlowPendulum, max_episode_steps=200)
gym.register("BlindPendulum-v0", entry_point=BlindPendulum, max_episode_steps=200)
gym.register("FaultyPendulum-v0", entry_point=FaultyPendulum, max_episode_steps=200)
