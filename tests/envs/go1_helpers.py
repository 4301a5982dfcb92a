"""Shared helpers for the Go1 env tests: deterministic envs and independent MuJoCo-side reference computations."""

from __future__ import annotations

import mujoco
import numpy as np
from isaac_hydra_ext.envs.go1 import Go1VelocityEnv

STILL = {
    "noise": {"enable_corruption": False},
    "events": {
        "randomize_friction": False,
        "randomize_base_mass": False,
        "reset_pose_x": (0.0, 0.0),
        "reset_pose_y": (0.0, 0.0),
        "reset_pose_yaw": (0.0, 0.0),
    },
    "init_at_random_ep_len": False,
}
"""Overrides that remove every random draw except the commands: no noise, no randomization."""


def still_env(num_envs: int = 1, **overrides) -> Go1VelocityEnv:
    """An env without noise or randomization (commands still sampled unless overridden)."""
    kwargs = {**STILL, **overrides}
    for section in ("noise", "events"):
        if section in overrides:
            kwargs[section] = {**STILL[section], **overrides[section]}
    return Go1VelocityEnv(num_envs, **kwargs)


def mujoco_base_velocity(env: Go1VelocityEnv, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(v_com_b, w_b, g_b) of env i computed by MuJoCo's own kinematics (mj_forward + mj_objectVelocity)."""
    model, data = env.sim.data_for(i)
    trunk = model.body("trunk").id
    vel = np.zeros(6)  # [angular; linear] at the trunk frame origin, world orientation
    mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_XBODY, trunk, vel, 0)
    rot = data.xmat[trunk].reshape(3, 3)
    com_offset_w = data.xipos[trunk] - data.xpos[trunk]
    v_com_w = vel[3:] + np.cross(vel[:3], com_offset_w)
    return rot.T @ v_com_w, rot.T @ vel[:3], rot.T @ np.array([0.0, 0.0, -1.0])
