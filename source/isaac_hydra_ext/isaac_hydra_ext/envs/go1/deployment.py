"""The embedded Go1 task's deployment info and mirror (its two task hooks, :mod:`isaac_hydra_ext.envs.deployment`)."""

from __future__ import annotations

from ...assets.go1 import POLICY_JOINT_NAMES
from ..deployment import DeploymentInfo, ObservationTerm
from .cfg import Go1VelocityTaskCfg
from .observations import obs_slices

GO1_MIRROR = "isaac_hydra_ext.envs.symmetry:quadruped_mirror"
"""The task's mirror factory: the left-right mirror of a Unitree-named quadruped (FL/FR/RL/RR legs)."""


def go1_deployment_info(cfg: Go1VelocityTaskCfg) -> DeploymentInfo:
    """Joint order, defaults, action scale, control period and observation layout of the task ``cfg``.

    PD target = default + scale * action (Isaac Lab ``JointPositionActionCfg(use_default_offset=True)``); every
    observation term has scale 1 (the Go1 task scales none).
    """
    default = [float(cfg.robot.default_joint_pos(name)) for name in POLICY_JOINT_NAMES]
    return DeploymentInfo(
        joint_names=list(POLICY_JOINT_NAMES),
        default_joint_pos=default,
        action_scale=[float(cfg.action.scale)] * len(POLICY_JOINT_NAMES),
        action_offset=list(default),
        control_period_s=float(cfg.step_dt),
        observation_terms=[ObservationTerm(name, s.start, s.stop, 1.0) for name, s in obs_slices().items()],
    )
