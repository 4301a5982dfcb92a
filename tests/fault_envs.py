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


FAULTS = (
    "raise_step",
    "raise_reset",
    "nan_obs",
    "inf_reward",
    "huge_reward",
    "hang",
    "nan_final_obs",
    "nan_critic",
    "segfault",
    "raise_init",
)


class FaultyPendulum(PendulumEnv):
    """Pendulum that misbehaves once its process has taken ``after`` steps: ``fault`` is one of
    ``raise_step``, ``raise_reset`` (counts resets, not steps: ``after=0`` fails the very first reset),
    ``nan_obs``, ``inf_reward``, ``huge_reward`` (a finite reward of ``huge`` (default 1e38, float32 max is
    3.4e38): the samples are valid, but returns overflow float32 in the learner), ``hang``,
    ``nan_final_obs`` (NaN only in the last observation of an episode cut by the time limit: set
    ``episode_steps`` to the registered limit or ``env.max_episode_steps``; counts episode ends, not steps),
    ``nan_critic`` (NaN in the critic observation; needs ``critic=True``), ``segfault`` (a native crash: the
    process dies by SIGSEGV) and ``raise_init`` (the constructor raises in every process but the one that claims
    ``only_pid_file`` first, i.e. the learner's probe).

    ``only_pid_file``: if given, only the first process that creates this file misbehaves (so a restarted
    worker runs cleanly and the run can finish). ``critic``: a Dict observation space, ``policy`` (the 3 Pendulum
    values) and ``critic`` (those and the step count in the episode), as Isaac Lab's observation groups.
    """

    _steps = 0  # per process

    def __init__(
        self,
        fault: str = "raise_step",
        after: int = 50,
        only_pid_file: str = "",
        huge: float = 1e38,
        pid_log: str = "",
        episode_steps: int = 200,
        critic: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if fault not in FAULTS:
            raise ValueError(f"fault={fault!r}: must be one of {', '.join(FAULTS)}")
        self.fault, self.after, self.only_pid_file, self.huge = fault, after, only_pid_file, huge
        self.episode_steps, self.critic, self._episode_step = episode_steps, critic, 0
        if fault == "raise_init" and only_pid_file and not self._claim():
            raise RuntimeError("injected constructor failure")
        if critic:
            base = self.observation_space
            high = np.concatenate([base.high, [np.inf]]).astype(np.float32)
            self.observation_space = gym.spaces.Dict({"policy": base, "critic": gym.spaces.Box(-high, high)})
        _log_pid(pid_log)

    def _observe(self, obs, nan_critic: bool = False):
        if not self.critic:
            return obs
        critic = np.concatenate([obs, [float(self._episode_step)]]).astype(np.float32)
        if nan_critic:
            critic[:] = np.nan
        return {"policy": obs, "critic": critic}

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
        self._episode_step = 0
        obs, info = super().reset(seed=seed, options=options)
        return self._observe(obs), info

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        self._episode_step += 1
        if self.fault == "nan_final_obs":
            if self._episode_step == self.episode_steps and self._triggered():
                obs = np.full_like(obs, np.nan)
            return self._observe(obs), reward, terminated, truncated, info
        if self.fault in ("raise_reset", "raise_init"):
            return self._observe(obs), reward, terminated, truncated, info
        nan_critic = False
        if self._triggered():
            if self.fault == "nan_critic":
                nan_critic = True
            elif self.fault == "segfault":
                import ctypes

                ctypes.string_at(0)  # reads address 0: SIGSEGV, as a crash in an env's C code would
            elif self.fault == "raise_step":
                raise RuntimeError("injected step failure")
            if self.fault == "nan_obs":
                obs = np.full_like(obs, np.nan)
            elif self.fault == "inf_reward":
                reward = np.inf
            elif self.fault == "huge_reward":
                reward = self.huge
            elif self.fault == "hang":
                time.sleep(3600)
        return self._observe(obs, nan_critic), reward, terminated, truncated, info


class BlindPendulum(PendulumEnv):
    """Pendulum that accepts ``render_mode="rgb_array"`` but renders nothing (the video recorder must give up)."""

    metadata = {**PendulumEnv.metadata, "render_fps": 30}

    def render(self):
        return None


gym.register("SlowPendulum-v0", entry_point=SlowPendulum, max_episode_steps=200)
gym.register("BlindPendulum-v0", entry_point=BlindPendulum, max_episode_steps=200)
gym.register("FaultyPendulum-v0", entry_point=FaultyPendulum, max_episode_steps=200)
