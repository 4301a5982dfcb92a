"""Reward terms of the Go1 flat velocity task, each an unweighted (B,) array as in Isaac Lab's ``mdp``.

The env multiplies each term by its weight and by the policy step dt (Isaac Lab's reward manager:
``reward += weight * value * dt``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .cfg import RewardsCfg
from .state import RobotState


@dataclass
class RewardInputs:
    """What the reward terms read after a policy step (B envs; joint arrays in policy order)."""

    state: RobotState
    """Base and joint quantities after the step."""
    command: np.ndarray
    """(B, 3) velocity command the policy was given (vx, vy in the base frame, yaw rate)."""
    action: np.ndarray
    """(B, 12) action of this step."""
    prev_action: np.ndarray
    """(B, 12) action of the previous step (0 after a reset)."""
    joint_torque: np.ndarray
    """(B, 12) applied (clipped) joint torques of the last physics step."""
    joint_acc: np.ndarray
    """(B, 12) joint accelerations: velocity change over the last physics step / physics dt."""
    first_contact: np.ndarray
    """(B, 4) 1.0 for the feet that touched down during this step, else 0.0."""
    last_air_time: np.ndarray
    """(B, 4) duration of each foot's last flight phase (s)."""
    undesired_contact: np.ndarray
    """(B, n) max contact force norm over the history of each undesired-contact body."""
    soft_joint_limits: np.ndarray
    """(12, 2) soft joint position limits."""


def _sum_sq(x: np.ndarray) -> np.ndarray:
    """Row-wise sum of squares of (B, n) -> (B,)."""
    return np.einsum("ij,ij->i", x, x)


def track_lin_vel_xy_exp(x: RewardInputs, cfg: RewardsCfg) -> np.ndarray:
    """exp(-sum_xy (cmd - v_b)^2 / std^2)."""
    return np.exp(-_sum_sq(x.command[:, :2] - x.state.lin_vel_b[:, :2]) / cfg.tracking_std**2)


def track_ang_vel_z_exp(x: RewardInputs, cfg: RewardsCfg) -> np.ndarray:
    """exp(-(cmd_yaw - w_z)^2 / std^2)."""
    return np.exp(-np.square(x.command[:, 2] - x.state.ang_vel_b[:, 2]) / cfg.tracking_std**2)


def lin_vel_z_l2(x: RewardInputs, cfg: RewardsCfg) -> np.ndarray:
    """v_z^2 (base frame)."""
    return np.square(x.state.lin_vel_b[:, 2])


def ang_vel_xy_l2(x: RewardInputs, cfg: RewardsCfg) -> np.ndarray:
    """w_x^2 + w_y^2 (base frame)."""
    return _sum_sq(x.state.ang_vel_b[:, :2])


def dof_torques_l2(x: RewardInputs, cfg: RewardsCfg) -> np.ndarray:
    """sum_j tau_j^2."""
    return _sum_sq(x.joint_torque)


def dof_acc_l2(x: RewardInputs, cfg: RewardsCfg) -> np.ndarray:
    """sum_j qddot_j^2."""
    return _sum_sq(x.joint_acc)


def action_rate_l2(x: RewardInputs, cfg: RewardsCfg) -> np.ndarray:
    """sum_j (a_j - a_prev_j)^2."""
    return _sum_sq(x.action - x.prev_action)


def feet_air_time(x: RewardInputs, cfg: RewardsCfg) -> np.ndarray:
    """Sum over feet touching down of (last air time - threshold), times [|cmd_xy| > min command]."""
    reward = np.einsum("ij,ij->i", x.last_air_time - cfg.feet_air_time_threshold, x.first_contact)
    moving = _sum_sq(x.command[:, :2]) > cfg.feet_air_time_min_command**2
    return reward * moving


def undesired_contacts(x: RewardInputs, cfg: RewardsCfg) -> np.ndarray:
    """Count the undesired-contact bodies whose force norm exceeded the threshold during the history."""
    return np.count_nonzero(x.undesired_contact > cfg.undesired_contact_threshold, axis=1).astype(np.float64)


def flat_orientation_l2(x: RewardInputs, cfg: RewardsCfg) -> np.ndarray:
    """g_x^2 + g_y^2 of the projected gravity."""
    return _sum_sq(x.state.gravity_b[:, :2])


def dof_pos_limits(x: RewardInputs, cfg: RewardsCfg) -> np.ndarray:
    """sum_j of the violation of the soft limits: max(lower - q, 0) + max(q - upper, 0)."""
    q = x.state.joint_pos
    below = np.clip(x.soft_joint_limits[:, 0] - q, 0.0, None)
    above = np.clip(q - x.soft_joint_limits[:, 1], 0.0, None)
    return (below + above).sum(axis=1)


REWARD_TERMS: dict[str, Callable[[RewardInputs, RewardsCfg], np.ndarray]] = {
    "track_lin_vel_xy_exp": track_lin_vel_xy_exp,
    "track_ang_vel_z_exp": track_ang_vel_z_exp,
    "lin_vel_z_l2": lin_vel_z_l2,
    "ang_vel_xy_l2": ang_vel_xy_l2,
    "dof_torques_l2": dof_torques_l2,
    "dof_acc_l2": dof_acc_l2,
    "action_rate_l2": action_rate_l2,
    "feet_air_time": feet_air_time,
    "undesired_contacts": undesired_contacts,
    "flat_orientation_l2": flat_orientation_l2,
    "dof_pos_limits": dof_pos_limits,
}
"""Every reward term by name, in Isaac Lab's ``RewardsCfg`` order; its weight is the field of the same name."""


def active_terms(cfg: RewardsCfg) -> list[tuple[str, float]]:
    """(name, weight) of the terms that exist (weight not None), in order."""
    return [(name, float(getattr(cfg, name))) for name in REWARD_TERMS if getattr(cfg, name) is not None]


def soft_limits(hard: np.ndarray, factor: float) -> np.ndarray:
    """Soft limits: the hard range (12, 2) shrunk by ``factor`` around its middle (Isaac Lab).

    mid = (lo + hi) / 2, half = (hi - lo) / 2 * factor, soft = [mid - half, mid + half].
    """
    mid = hard.mean(axis=1)
    half = 0.5 * (hard[:, 1] - hard[:, 0]) * factor
    return np.stack([mid - half, mid + half], axis=1)
