"""Base-velocity commands for B envs (Isaac Lab ``UniformVelocityCommand``)."""

from __future__ import annotations

import numpy as np

from .cfg import CommandsCfg
from .rotations import wrap_to_pi


class VelocityCommand:
    """(vx, vy, yaw rate) commands in the base frame, resampled on a timer and at resets.

    Each resample draws vx, vy, yaw rate uniformly from their ranges, a heading target, whether the env is a
    heading env (probability ``rel_heading_envs``) and whether it stands (probability ``rel_standing_envs``).
    Every step, heading envs get ``yaw rate = clip(k * wrap(heading_target - heading), ang_vel_z range)`` and
    standing envs get a zero command.
    """

    def __init__(self, cfg: CommandsCfg, num_envs: int, step_dt: float):
        """Zero commands for ``num_envs`` envs; commands last ``cfg.resampling_time_s`` at ``step_dt`` per step."""
        self.cfg = cfg
        self.command = np.zeros((num_envs, 3))
        self.heading_target = np.zeros(num_envs)
        self.is_heading_env = np.zeros(num_envs, dtype=bool)
        self.is_standing_env = np.zeros(num_envs, dtype=bool)
        self.steps_left = np.zeros(num_envs, dtype=np.int64)
        self.resample_steps = max(1, int(round(cfg.resampling_time_s / step_dt)))

    def resample(self, env_ids: np.ndarray, rng: np.random.Generator) -> None:
        """Draw new commands for ``env_ids`` and restart their timers."""
        n = len(env_ids)
        if n == 0:
            return
        self.steps_left[env_ids] = self.resample_steps
        if self.cfg.fixed_command is not None:
            self.command[env_ids] = self.cfg.fixed_command
            return
        u = rng.random((n, 6))
        ranges = np.array([self.cfg.lin_vel_x, self.cfg.lin_vel_y, self.cfg.ang_vel_z])
        # x ~ U(lo, hi) = lo + u (hi - lo)
        self.command[env_ids] = ranges[:, 0] + u[:, :3] * (ranges[:, 1] - ranges[:, 0])
        if self.cfg.heading_command:
            lo, hi = self.cfg.heading
            self.heading_target[env_ids] = lo + u[:, 3] * (hi - lo)
            self.is_heading_env[env_ids] = u[:, 4] <= self.cfg.rel_heading_envs
        self.is_standing_env[env_ids] = u[:, 5] <= self.cfg.rel_standing_envs

    def update(self, heading: np.ndarray, env_ids: np.ndarray | None = None) -> None:
        """Recompute the heading-controlled yaw rates and zero the standing envs.

        ``heading`` holds the base headings of all envs (B,), or of ``env_ids`` only when those are given.
        """
        if self.cfg.fixed_command is not None:
            return
        ids = slice(None) if env_ids is None else env_ids
        command = self.command[ids]
        if self.cfg.heading_command:
            error = wrap_to_pi(self.heading_target[ids] - heading)
            lo, hi = self.cfg.ang_vel_z
            yaw_rate = np.clip(self.cfg.heading_control_stiffness * error, lo, hi)
            command[:, 2] = np.where(self.is_heading_env[ids], yaw_rate, command[:, 2])
        command[self.is_standing_env[ids]] = 0.0
        self.command[ids] = command

    def step(self, heading: np.ndarray, rng: np.random.Generator) -> None:
        """Advance the timers one policy step, resample the expired commands, then :meth:`update`."""
        self.steps_left -= 1
        expired = np.flatnonzero(self.steps_left <= 0)
        if expired.size:
            self.resample(expired, rng)
        self.update(heading)
