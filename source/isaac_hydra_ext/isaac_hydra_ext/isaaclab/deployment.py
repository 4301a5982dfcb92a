"""The task hooks of an Isaac Lab env: deployment info read from its managers, and the mirror its task names.

A manager-based env (``ManagerBasedRLEnv``, Isaac Lab 2.x and 3.x) knows everything a robot-side runner needs:

* actions: each joint action term (``JointPositionAction`` and relatives) has its joint names, scale and offset
  (the default joint positions with ``use_default_offset=True``);
* observations: the ``policy`` group's active terms, their sizes and ``scale`` settings;
* the control period: ``step_dt`` (physics dt * decimation).

Envs without these managers (``DirectRLEnv``) get an empty dict: the export then writes only what is known. The
mirror factory comes from the task's registration (the ``mirror_entry_point`` kwarg of its gymnasium spec, as
:func:`isaac_hydra_ext.tasks.registration.register_task` writes it), so no live env is needed to find it.
"""

from __future__ import annotations

from typing import Any

import torch

from ..envs.deployment import DeploymentInfo, ObservationTerm

MIRROR_KWARG = "mirror_entry_point"
"""The gymnasium-spec kwarg naming a task's mirror factory (``package.module:function``)."""


def _per_joint(value: Any, n: int) -> list[float]:
    """A term's scale or offset (a float, or a (num_envs, n) tensor: env 0's row) as n floats."""
    if isinstance(value, torch.Tensor):
        row = value.detach().reshape(-1, n)[0] if value.numel() >= n else value.detach().reshape(-1)
        return [float(v) for v in row.cpu().tolist()]
    return [float(value)] * n


def _actions(unwrapped: Any) -> tuple[list[str], list[float], list[float]] | None:
    """(joint names, scales, offsets) over every joint action term in action order; None if a term is not one."""
    manager = unwrapped.action_manager
    names: list[str] = []
    scales: list[float] = []
    offsets: list[float] = []
    for term_name in manager.active_terms:
        term = manager.get_term(term_name)
        joints = getattr(term, "_joint_names", None)
        if joints is None or not hasattr(term, "_scale") or not hasattr(term, "_offset"):
            return None
        names += list(joints)
        scales += _per_joint(term._scale, len(joints))
        offsets += _per_joint(term._offset, len(joints))
    return names, scales, offsets


def _default_joint_pos(unwrapped: Any, joint_names: list[str]) -> list[float]:
    """The robot's default positions of ``joint_names`` (env 0); empty when the scene has no ``robot``."""
    try:
        robot = unwrapped.scene["robot"]
    except (KeyError, AttributeError):
        return []
    default = robot.data.default_joint_pos
    default = getattr(default, "torch", default)  # Isaac Lab 3.x wraps its data arrays
    all_names = list(robot.joint_names)
    row = default[0].detach().cpu().tolist()
    return [float(row[all_names.index(name)]) for name in joint_names]


def _observation_terms(unwrapped: Any) -> list[ObservationTerm]:
    """The ``policy`` group's terms with their slices and scales."""
    manager = unwrapped.observation_manager
    names = manager.active_terms["policy"]
    dims = manager.group_obs_term_dim["policy"]
    cfgs = getattr(manager, "_group_obs_term_cfgs", {}).get("policy", [None] * len(names))
    out, start = [], 0
    for name, dim, cfg in zip(names, dims, cfgs):
        size = 1
        for d in dim:
            size *= int(d)
        scale = getattr(cfg, "scale", None)
        out.append(
            ObservationTerm(str(name), start, start + size, float(scale) if isinstance(scale, (int, float)) else 1.0)
        )
        start += size
    return out


def isaaclab_deployment_info(unwrapped: Any) -> dict[str, Any]:
    """The deployment info of a manager-based Isaac Lab env as a dict; empty where the env has no managers."""
    if not hasattr(unwrapped, "action_manager") or not hasattr(unwrapped, "observation_manager"):
        return {}
    try:
        actions = _actions(unwrapped)
        info = DeploymentInfo(control_period_s=float(getattr(unwrapped, "step_dt", 0.0)))
        if actions is not None:
            info.joint_names, info.action_scale, info.action_offset = actions
            info.default_joint_pos = _default_joint_pos(unwrapped, info.joint_names)
        info.observation_terms = _observation_terms(unwrapped)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError):  # managers of another shape: export less
        return {}
    return info.as_dict()


def isaaclab_mirror(unwrapped: Any) -> str:
    """The mirror factory the env's task registration names (``mirror_entry_point``), or ``""``."""
    kwargs = getattr(getattr(unwrapped, "spec", None), "kwargs", None) or {}
    value = kwargs.get(MIRROR_KWARG, "")
    return value if isinstance(value, str) else ""
