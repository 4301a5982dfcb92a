"""The 48-value policy observation in Isaac Lab's order, and its additive uniform noise."""

from __future__ import annotations

import numpy as np

from .cfg import ObservationNoiseCfg
from .state import RobotState

OBS_LAYOUT: tuple[tuple[str, int], ...] = (
    ("base_lin_vel", 3),
    ("base_ang_vel", 3),
    ("projected_gravity", 3),
    ("velocity_commands", 3),
    ("joint_pos", 12),
    ("joint_vel", 12),
    ("actions", 12),
)
"""Observation terms and their sizes, in order (Isaac Lab ``PolicyCfg`` without ``height_scan``)."""

OBS_DIM = sum(size for _, size in OBS_LAYOUT)
"""48."""


def obs_slices() -> dict[str, slice]:
    """Name -> slice of each term in the observation vector."""
    out, start = {}, 0
    for name, size in OBS_LAYOUT:
        out[name] = slice(start, start + size)
        start += size
    return out


def noise_scale(cfg: ObservationNoiseCfg) -> np.ndarray:
    """(48,) half-width n of the uniform noise U(-n, n) of each observation entry (0: no noise)."""
    scale = np.zeros(OBS_DIM)
    slices = obs_slices()
    scale[slices["base_lin_vel"]] = cfg.base_lin_vel
    scale[slices["base_ang_vel"]] = cfg.base_ang_vel
    scale[slices["projected_gravity"]] = cfg.projected_gravity
    scale[slices["joint_pos"]] = cfg.joint_pos
    scale[slices["joint_vel"]] = cfg.joint_vel
    return scale


def policy_obs(
    state: RobotState,
    command: np.ndarray,
    default_joint_pos: np.ndarray,
    action: np.ndarray,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Noise-free observation (B, 48).

    [v_b (3), w_b (3), g_b (3), command (3), q - q_default (12), qdot - 0 (12), last action (12)]
    (Isaac Lab ``base_lin_vel, base_ang_vel, projected_gravity, generated_commands, joint_pos_rel,
    joint_vel_rel, last_action``; the default joint velocity is 0).
    """
    if out is None:
        out = np.empty((command.shape[0], OBS_DIM), dtype=np.float32)
    out[:, 0:3] = state.lin_vel_b
    out[:, 3:6] = state.ang_vel_b
    out[:, 6:9] = state.gravity_b
    out[:, 9:12] = command
    out[:, 12:24] = state.joint_pos - default_joint_pos
    out[:, 24:36] = state.joint_vel
    out[:, 36:48] = action
    return out


def add_noise(obs: np.ndarray, scale: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Obs += U(-scale, scale), in place; returns obs."""
    obs += (rng.random(obs.shape) * 2.0 - 1.0) * scale
    return obs
