"""What a task tells a robot-side runner, and the two optional task hooks: deployment info and the mirror.

A task (an env class, or the object gymnasium's ``make_vec`` returns) may provide

* ``deployment_info() -> DeploymentInfo`` (or a mapping with its fields): the joint names in action order, the
  default joint positions, the action scale and offset, the control period and the observation terms with their
  slices and scales. The exported ONNX file carries it as metadata (:mod:`isaac_hydra_ext.models.onnx_metadata`);
* ``mirror_function: str``: the ``"package.module:function"`` of its left-right mirror factory
  ``(EnvSpec) -> mirror`` (:mod:`.symmetry`), used by symmetry augmentation in the learner.

:func:`task_hooks` reads both when the env spec is probed, so they reach the learner (and the checkpoint) through
:class:`~isaac_hydra_ext.envs.vec_env.EnvSpec`, never through a live env in a worker. A task without the hooks has
an empty deployment dict and no mirror; nothing task-specific lives here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ObservationTerm:
    """One term of the flat policy observation vector."""

    name: str
    """The term's name (Isaac Lab's observation term name, e.g. ``base_lin_vel``, ``joint_pos``)."""
    start: int
    """First index of the term in the observation vector."""
    stop: int
    """One past its last index (``obs[start:stop]``)."""
    scale: float = 1.0
    """Factor the term's raw value is multiplied by before it is observed (Isaac Lab's term ``scale``)."""


@dataclass
class DeploymentInfo:
    """What a robot-side runner needs besides the network: how actions and observations map to the robot."""

    joint_names: list[str] = field(default_factory=list)
    """Actuated joint names in action order."""
    default_joint_pos: list[float] = field(default_factory=list)
    """Default joint positions (rad) in action order; joint-position observations are relative to them."""
    action_scale: list[float] = field(default_factory=list)
    """Per-joint scale: position target = action_offset + action_scale * action."""
    action_offset: list[float] = field(default_factory=list)
    """Per-joint offset of the position target (the default joint positions for Isaac Lab's Go1 actions)."""
    control_period_s: float = 0.0
    """Seconds between two policy steps (physics dt * decimation)."""
    observation_terms: list[ObservationTerm] = field(default_factory=list)
    """The policy observation's terms in order, with their slices and scales."""

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (what :class:`~isaac_hydra_ext.envs.vec_env.EnvSpec` stores)."""
        return dataclasses.asdict(self)


def deployment_dict(info: Any) -> dict[str, Any]:
    """A hook's return value (:class:`DeploymentInfo`, a mapping or None) as a plain dict (empty for None)."""
    if info is None:
        return {}
    if isinstance(info, DeploymentInfo):
        return info.as_dict()
    if isinstance(info, Mapping):
        return {str(k): v for k, v in info.items()}
    raise TypeError(f"deployment_info() returned a {type(info).__name__}; expected a DeploymentInfo or a mapping")


def _candidates(env: Any) -> list[Any]:
    """The env, its unwrapped env, and the first sub-env of a synchronous vector env (where task hooks may live)."""
    out = [env, getattr(env, "unwrapped", None)]
    sub_envs = getattr(env, "envs", None)
    if isinstance(sub_envs, (list, tuple)) and sub_envs:
        out += [sub_envs[0], getattr(sub_envs[0], "unwrapped", None)]
    return [c for c in out if c is not None]


def task_hooks(env: Any) -> tuple[dict[str, Any], str]:
    """(deployment dict, mirror factory name) of the task behind ``env``; ``({}, "")`` when it has neither."""
    deployment: dict[str, Any] = {}
    mirror = ""
    for candidate in _candidates(env):
        hook = getattr(candidate, "deployment_info", None)
        if not deployment and callable(hook):
            deployment = deployment_dict(hook())
        name = getattr(candidate, "mirror_function", "")
        if not mirror and isinstance(name, str):
            mirror = name
    return deployment, mirror
