"""The robot quantities that observations, rewards and terminations read, computed once per policy step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rotations import quat_to_rotmat, rotate_inverse


@dataclass
class RobotState:
    """Batched base and joint quantities of B robots (joint arrays in policy joint order)."""

    rot: np.ndarray
    """(B, 3, 3) base orientation R (body to world)."""
    lin_vel_b: np.ndarray
    """(B, 3) base centre-of-mass linear velocity in the base frame (Isaac Lab ``root_lin_vel_b``)."""
    ang_vel_b: np.ndarray
    """(B, 3) base angular velocity in the base frame (Isaac Lab ``root_ang_vel_b``)."""
    gravity_b: np.ndarray
    """(B, 3) unit gravity direction in the base frame (Isaac Lab ``projected_gravity_b``)."""
    joint_pos: np.ndarray
    """(B, 12) joint positions."""
    joint_vel: np.ndarray
    """(B, 12) joint velocities."""


def cross_matrix(c: np.ndarray) -> np.ndarray:
    """K with w @ K = w x c for row vectors w: K = [[0, -c_z, c_y], [c_z, 0, -c_x], [-c_y, c_x, 0]]."""
    return np.array([[0.0, -c[2], c[1]], [c[2], 0.0, -c[0]], [-c[1], c[0], 0.0]])


def robot_state(
    qpos: np.ndarray,
    qvel: np.ndarray,
    root_qpos: int,
    root_qvel: int,
    joint_qpos: np.ndarray,
    joint_qvel: np.ndarray,
    base_com: np.ndarray,
) -> RobotState:
    """Compute base and joint quantities from MuJoCo ``qpos``/``qvel`` rows (B, nq) and (B, nv).

    MuJoCo's free joint stores the world-frame velocity of the body origin and the body-frame angular
    velocity w_b. Isaac Lab observes the centre-of-mass velocity, so with c the COM in the base frame:
    v_com_b = R^T v_origin_w + w_b x c.
    """
    rot = quat_to_rotmat(qpos[:, root_qpos + 3 : root_qpos + 7])
    ang_vel_b = qvel[:, root_qvel + 3 : root_qvel + 6]
    lin_vel_b = rotate_inverse(rot, qvel[:, root_qvel : root_qvel + 3]) + ang_vel_b @ cross_matrix(base_com)
    # g_b = R^T (0, 0, -1) = minus the third row of R
    gravity_b = -rot[:, 2, :]
    return RobotState(
        rot=rot,
        lin_vel_b=lin_vel_b,
        ang_vel_b=ang_vel_b,
        gravity_b=gravity_b,
        joint_pos=qpos[:, joint_qpos],
        joint_vel=qvel[:, joint_qvel],
    )
