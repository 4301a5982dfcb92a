"""Batched rotation helpers on numpy arrays (quaternions are (w, x, y, z), as in MuJoCo and Isaac Lab)."""

from __future__ import annotations

import numpy as np


def _rotmat_coefficients() -> tuple[np.ndarray, np.ndarray]:
    """Constants C (9,) and M (16, 9) with vec(R) = C + vec(q q^T) M for a unit quaternion q = (w, x, y, z).

    From R = [[1-2(yy+zz), 2(xy-wz), 2(xz+wy)], [2(xy+wz), 1-2(xx+zz), 2(yz-wx)], [2(xz-wy), 2(yz+wx), 1-2(xx+yy)]].
    """
    w, x, y, z = range(4)
    terms = {  # entry of R -> [(coefficient, (i, j)) of q_i q_j]
        (0, 0): [(-2, (y, y)), (-2, (z, z))],
        (0, 1): [(2, (x, y)), (-2, (w, z))],
        (0, 2): [(2, (x, z)), (2, (w, y))],
        (1, 0): [(2, (x, y)), (2, (w, z))],
        (1, 1): [(-2, (x, x)), (-2, (z, z))],
        (1, 2): [(2, (y, z)), (-2, (w, x))],
        (2, 0): [(2, (x, z)), (-2, (w, y))],
        (2, 1): [(2, (y, z)), (2, (w, x))],
        (2, 2): [(-2, (x, x)), (-2, (y, y))],
    }
    const = np.eye(3).reshape(9)
    coef = np.zeros((16, 9))
    for (r, c), parts in terms.items():
        for k, (i, j) in parts:
            coef[4 * i + j, 3 * r + c] += k
    return const, coef


_ROT_CONST, _ROT_COEF = _rotmat_coefficients()


def quat_to_rotmat(quat: np.ndarray) -> np.ndarray:
    """(B, 4) unit quaternions -> (B, 3, 3) rotation matrices R (body to world: v_w = R v_b).

    Computed as vec(R) = C + vec(q q^T) M with constant C, M (:func:`_rotmat_coefficients`): two numpy calls.
    """
    outer = (quat[:, :, None] * quat[:, None, :]).reshape(-1, 16)
    return (outer @ _ROT_COEF + _ROT_CONST).reshape(-1, 3, 3)


def rotate_inverse(rot: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """World-frame (B, 3) vectors into the body frame: v_b = R^T v_w."""
    return np.einsum("bij,bi->bj", rot, vec)


def heading(rot: np.ndarray) -> np.ndarray:
    """Yaw of the body x axis in the world: atan2(R[1, 0], R[0, 0]) (Isaac Lab ``heading_w``)."""
    return np.arctan2(rot[:, 1, 0], rot[:, 0, 0])


def wrap_to_pi(angle: np.ndarray) -> np.ndarray:
    """Wrap angles to [-pi, pi)."""
    return (angle + np.pi) % (2.0 * np.pi) - np.pi


def quat_from_euler_xyz(roll: np.ndarray, pitch: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """Quaternion of R = Rz(yaw) Ry(pitch) Rx(roll) (Isaac Lab ``quat_from_euler_xyz``), shape (B, 4)."""
    cr, sr = np.cos(roll * 0.5), np.sin(roll * 0.5)
    cp, sp = np.cos(pitch * 0.5), np.sin(pitch * 0.5)
    cy, sy = np.cos(yaw * 0.5), np.sin(yaw * 0.5)
    return np.stack(
        [
            cy * cr * cp + sy * sr * sp,
            cy * sr * cp - sy * cr * sp,
            cy * cr * sp + sy * sr * cp,
            sy * cr * cp - cy * sr * sp,
        ],
        axis=-1,
    )
