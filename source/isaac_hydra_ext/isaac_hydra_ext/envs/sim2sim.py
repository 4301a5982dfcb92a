"""Sim-to-sim replay: run a policy trained on one task in another, mapped through the two tasks' deployment info.

Both tasks describe themselves with ``deployment_info()`` (:mod:`.deployment`): joint names in action order, default
joint positions, action scale and offset, control period, observation terms with slices and scales. From the
policy's description (stored in its checkpoint's ``env_spec``) and the target env's, :func:`build_mapping` makes an
explicit affine map for each direction:

* observations, target layout -> the policy's training layout, entry by entry: ``o_p[i] = g[i] * o_t[k[i]] + b[i]``;
* actions, the policy's -> the target's: ``a_t[j] = h[j] * a_p[m[j]] + c[j]``.

Per term (matched by name; a target term the policy does not read is ignored):

* base and command terms (``base_lin_vel``, ``projected_gravity``, ``velocity_commands`` ...): the same physical
  quantity, rescaled: ``o_p = (s_p / s_t) o_t`` with the term scales s;
* ``joint_pos`` (relative to the default pose ``d``): ``o_p = s_p (q - d_p) = (s_p / s_t) o_t + s_p (d_t - d_p)``,
  joints permuted by name;
* ``joint_vel``: ``o_p = (s_p / s_t) o_t``, permuted;
* ``actions`` (the last action, in the target's action convention): the same PD target
  ``q* = off_t + sc_t a_t = off_p + sc_p a_p`` gives ``a_p = (sc_t a_t + off_t - off_p) / sc_p``, permuted, times
  ``s_p / s_t``.

The action map is the same PD-target identity the other way: ``a_t = (sc_p a_p + off_p - off_t) / sc_t``. What
cannot be mapped is refused with one line (:class:`Sim2SimError`): a task without deployment info, different joint
sets, a term the target lacks or has with another size, a joint term whose size is not the joint count, or control
periods that differ by more than :data:`PERIOD_TOLERANCE`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

PERIOD_TOLERANCE = 0.01
"""Largest relative difference |T_p - T_t| / T_p of the two control periods that is replayed (1 %)."""

JOINT_TERMS = ("joint_pos", "joint_vel", "actions")
"""Observation terms with one entry per joint, in action order (Isaac Lab's Go1 policy group names)."""


class Sim2SimError(ValueError):
    """The policy's task and the target task cannot be lined up; the message says what differs."""


@dataclass
class Sim2SimMapping:
    """The explicit maps between a policy's training task and a target task (see the module docstring)."""

    policy_task: str
    """The task the policy was trained on."""
    target_task: str
    """The task it is replayed on."""
    obs_index: list[int] = field(default_factory=list)
    """k: policy observation i reads target observation k[i]."""
    obs_gain: list[float] = field(default_factory=list)
    """g: ``o_p[i] = g[i] * o_t[k[i]] + b[i]``."""
    obs_bias: list[float] = field(default_factory=list)
    """b (see ``obs_gain``)."""
    act_index: list[int] = field(default_factory=list)
    """m: target action j comes from policy action m[j]."""
    act_gain: list[float] = field(default_factory=list)
    """h: ``a_t[j] = h[j] * a_p[m[j]] + c[j]``."""
    act_bias: list[float] = field(default_factory=list)
    """c (see ``act_gain``)."""
    notes: list[str] = field(default_factory=list)
    """What the map does, one short phrase each (joint permutation, rescaled terms, offsets), for the report."""

    @property
    def is_identity(self) -> bool:
        """True when both maps change nothing (same layout, order, scales and offsets)."""
        return not self.notes

    def describe(self) -> str:
        """One line for the play report: which tasks, and what was mapped."""
        what = "; ".join(self.notes) if self.notes else "identical layouts, nothing to map"
        return f"sim-to-sim: policy trained on {self.policy_task}, replayed on {self.target_task}: {what}"

    def map_obs(self, obs: torch.Tensor) -> torch.Tensor:
        """Target observations (B, target_obs_dim) -> the policy's (B, policy_obs_dim)."""
        index = torch.as_tensor(self.obs_index, dtype=torch.long, device=obs.device)
        gain = torch.as_tensor(self.obs_gain, dtype=obs.dtype, device=obs.device)
        bias = torch.as_tensor(self.obs_bias, dtype=obs.dtype, device=obs.device)
        return obs.index_select(-1, index) * gain + bias

    def map_action(self, action: torch.Tensor) -> torch.Tensor:
        """The policy's actions (B, act_dim) -> the target's (B, act_dim)."""
        index = torch.as_tensor(self.act_index, dtype=torch.long, device=action.device)
        gain = torch.as_tensor(self.act_gain, dtype=action.dtype, device=action.device)
        bias = torch.as_tensor(self.act_bias, dtype=action.dtype, device=action.device)
        return action.index_select(-1, index) * gain + bias

    def unmap_action(self, action: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`map_action`: target actions -> the policy's (``a_p[m[j]] = (a_t[j] - c[j]) / h[j]``)."""
        gain = torch.as_tensor(self.act_gain, dtype=action.dtype, device=action.device)
        bias = torch.as_tensor(self.act_bias, dtype=action.dtype, device=action.device)
        out = torch.empty_like(action)
        out[..., self.act_index] = (action - bias) / gain
        return out


def _task_key(task: str) -> str:
    """A task id without its play variant (``Name-Play-v0`` and ``Name-v0`` are the same task)."""
    return task.replace("-Play-", "-")


def same_task(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are the same task (equal up to the ``-Play-`` variant)."""
    return _task_key(a) == _task_key(b)


def _floats(info: Mapping[str, Any], key: str, n: int, task: str, pair: str) -> list[float]:
    values = [float(v) for v in info.get(key) or []]
    if len(values) != n:
        raise Sim2SimError(
            f"cannot replay the {pair}: {task}'s deployment info has {len(values)} {key} values for {n} joints"
        )
    return values


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)  # float32 round-off is not a difference


def build_mapping(
    policy_info: Mapping[str, Any],
    policy_task: str,
    target_info: Mapping[str, Any],
    target_task: str,
    period_tolerance: float = PERIOD_TOLERANCE,
) -> Sim2SimMapping:
    """The maps that run a policy trained on ``policy_task`` (described by ``policy_info``) on ``target_task``.

    Raises :class:`Sim2SimError` (one line naming both tasks and what differs) when they cannot be lined up.
    """
    pair = f"policy of {policy_task} on {target_task}"
    for task, info in ((policy_task, policy_info), (target_task, target_info)):
        if not info or not info.get("joint_names") or not info.get("observation_terms"):
            raise Sim2SimError(
                f"cannot replay the {pair}: {task} has no deployment info (joint names, observation terms), so "
                "its layout cannot be mapped; replay on the task the policy was trained on"
            )
    joints_p = [str(n) for n in policy_info["joint_names"]]
    joints_t = [str(n) for n in target_info["joint_names"]]
    if sorted(joints_p) != sorted(joints_t) or len(set(joints_p)) != len(joints_p):
        only_p = sorted(set(joints_p) - set(joints_t))
        only_t = sorted(set(joints_t) - set(joints_p))
        raise Sim2SimError(
            f"cannot replay the {pair}: the joints differ (only the policy's: {only_p or 'none'}; only the "
            f"target's: {only_t or 'none'})"
        )
    n = len(joints_p)
    period_p = float(policy_info.get("control_period_s") or 0.0)
    period_t = float(target_info.get("control_period_s") or 0.0)
    if period_p <= 0 or period_t <= 0 or abs(period_p - period_t) > period_tolerance * period_p:
        raise Sim2SimError(
            f"cannot replay the {pair}: control period {period_p:g} s (trained) vs {period_t:g} s (target) differ "
            f"by more than {period_tolerance:.0%}"
        )
    default_p = _floats(policy_info, "default_joint_pos", n, policy_task, pair)
    default_t = _floats(target_info, "default_joint_pos", n, target_task, pair)
    scale_p = _floats(policy_info, "action_scale", n, policy_task, pair)
    scale_t = _floats(target_info, "action_scale", n, target_task, pair)
    offset_p = _floats(policy_info, "action_offset", n, policy_task, pair)
    offset_t = _floats(target_info, "action_offset", n, target_task, pair)
    if any(s == 0 for s in scale_p + scale_t):
        raise Sim2SimError(f"cannot replay the {pair}: an action scale is 0, so actions cannot be converted")
    # perm[i]: target index of the policy's joint i
    perm = [joints_t.index(name) for name in joints_p]
    mapping = Sim2SimMapping(policy_task, target_task)
    if perm != list(range(n)):
        mapping.notes.append(f"joints reordered by name (target index of each trained joint: {perm})")

    # ---- actions: a_t[perm[i]] = (sc_p[i] a_p[i] + off_p[i] - off_t[perm[i]]) / sc_t[perm[i]] -----------------
    act_index, act_gain, act_bias = [0] * n, [0.0] * n, [0.0] * n
    for i, j in enumerate(perm):
        act_index[j] = i
        act_gain[j] = scale_p[i] / scale_t[j]
        act_bias[j] = (offset_p[i] - offset_t[j]) / scale_t[j]
    mapping.act_index, mapping.act_gain, mapping.act_bias = act_index, act_gain, act_bias
    if any(not _close(g, 1.0) for g in act_gain):
        mapping.notes.append("action scales converted")
    if any(not _close(c, 0.0) for c in act_bias):
        mapping.notes.append("action offsets converted")

    # ---- observations, term by term -----------------------------------------------------------------------------
    terms_t = {str(t["name"]): t for t in target_info["observation_terms"]}
    rescaled: list[str] = []
    shifted = False
    for term in policy_info["observation_terms"]:
        name, size = str(term["name"]), int(term["stop"]) - int(term["start"])
        other = terms_t.get(name)
        if other is None:
            raise Sim2SimError(
                f"cannot replay the {pair}: the policy observes {name!r}, which {target_task} does not have "
                f"(its terms: {', '.join(terms_t)})"
            )
        if int(other["stop"]) - int(other["start"]) != size:
            raise Sim2SimError(
                f"cannot replay the {pair}: observation term {name!r} has {size} values in training and "
                f"{int(other['stop']) - int(other['start'])} in {target_task}"
            )
        s_p, s_t = float(term.get("scale", 1.0)), float(other.get("scale", 1.0))
        if s_t == 0:
            raise Sim2SimError(f"cannot replay the {pair}: {target_task} observes {name!r} with scale 0")
        ratio = s_p / s_t
        if not _close(ratio, 1.0):
            rescaled.append(name)
        start_t = int(other["start"])
        if name in JOINT_TERMS:
            if size != n:
                raise Sim2SimError(f"cannot replay the {pair}: joint term {name!r} has {size} values for {n} joints")
            for i, j in enumerate(perm):
                mapping.obs_index.append(start_t + j)
                if name == "joint_pos":  # o_p = (s_p/s_t) o_t + s_p (d_t - d_p)
                    gain, bias = ratio, s_p * (default_t[j] - default_p[i])
                elif name == "actions":  # a_p = (sc_t a_t + off_t - off_p) / sc_p, then the term scales
                    gain = ratio * scale_t[j] / scale_p[i]
                    bias = s_p * (offset_t[j] - offset_p[i]) / scale_p[i]
                else:
                    gain, bias = ratio, 0.0
                shifted |= not _close(bias, 0.0)
                mapping.obs_gain.append(gain)
                mapping.obs_bias.append(bias)
        else:
            mapping.obs_index.extend(range(start_t, start_t + size))
            mapping.obs_gain.extend([ratio] * size)
            mapping.obs_bias.extend([0.0] * size)
    if rescaled:
        mapping.notes.append(f"observation scales converted ({', '.join(rescaled)})")
    if shifted:
        mapping.notes.append("joint positions and last actions re-centred on the trained defaults and offsets")
    if mapping.obs_index != list(range(len(mapping.obs_index))) and perm == list(range(n)):
        mapping.notes.append("observation terms reordered to the trained layout")
    dim_t = max((int(t["stop"]) for t in target_info["observation_terms"]), default=0)
    if dim_t != len(mapping.obs_index):
        unused = [name for name in terms_t if name not in {str(t["name"]) for t in policy_info["observation_terms"]}]
        mapping.notes.append(f"target terms the policy does not read are dropped ({', '.join(unused)})")
    return mapping


class MappedPolicy:
    """A policy for the target task: target observations -> the trained policy -> target actions.

    ``reset(done)`` is passed on to the wrapped policy (a recurrent policy's memory), as
    :func:`~isaac_hydra_ext.envs.replay.replay` expects.
    """

    def __init__(self, policy: Any, mapping: Sim2SimMapping):
        """Wrap ``policy`` (observations -> actions in its training layout) with ``mapping``."""
        self.policy = policy
        self.mapping = mapping

    def __call__(self, obs: torch.Tensor) -> torch.Tensor:
        """Actions for the target task's observations."""
        return self.mapping.map_action(self.policy(self.mapping.map_obs(obs)))

    def reset(self, done: torch.Tensor) -> None:
        """Reset the wrapped policy's memory where ``done`` (no-op for a policy without memory)."""
        reset = getattr(self.policy, "reset", None)
        if reset is not None:
            reset(done)


def sim2sim_mapping(loaded: Any, target_spec: Any, target_task: str) -> Sim2SimMapping | None:
    """The mapping for replaying a checkpoint's policy on ``target_task``; None when no mapping is wanted.

    ``loaded``: a :class:`~isaac_hydra_ext.models.export.LoadedPolicy` (its ``deployment``, ``env_id``,
    ``obs_dim``, ``act_dim``); ``target_spec``: the target env's :class:`~.vec_env.EnvSpec`. None when the
    checkpoint does not name its task, when the target is the same task (up to ``-Play-``), or when neither task has
    deployment info (then the play commands compare the sizes as before). Raises :class:`Sim2SimError` when the
    tasks cannot be lined up, or when the checkpoint's deployment info does not fit its own policy's sizes.
    """
    if not loaded.env_id or same_task(loaded.env_id, target_task):
        return None
    if not loaded.deployment and not target_spec.deployment:
        return None
    mapping = build_mapping(loaded.deployment, loaded.env_id, target_spec.deployment, target_task)
    sizes = (len(mapping.obs_index), len(mapping.act_index))
    reads_past_end = max(mapping.obs_index, default=-1) >= target_spec.obs_dim
    if sizes != (loaded.obs_dim, loaded.act_dim) or len(mapping.act_index) != target_spec.act_dim or reads_past_end:
        raise Sim2SimError(
            f"cannot replay the policy of {loaded.env_id} on {target_task}: its deployment info describes "
            f"{sizes[0]} observations and {sizes[1]} actions, the policy has {loaded.obs_dim} and {loaded.act_dim}, "
            f"the target {target_spec.obs_dim} and {target_spec.act_dim}"
        )
    return mapping


def tracking_summary(report: Any) -> dict[str, float]:
    """Velocity tracking and falls of a Go1 replay (:class:`~.replay.ReplayReport`), NaN where nothing ended.

    ``error_vel_xy`` / ``error_vel_yaw``: the task's ``Metrics/base_velocity/error_vel_*`` (mean |command - velocity|
    per episode, Isaac Lab's command metric); ``fall_rate``: terminated episodes / finished episodes (the Go1 tasks
    terminate only on base contact; time-outs are truncations).
    """
    nan = float("nan")
    metrics = report.metrics
    return {
        "episodes": float(report.episodes),
        "error_vel_xy": float(metrics.get("Metrics/base_velocity/error_vel_xy", nan)),
        "error_vel_yaw": float(metrics.get("Metrics/base_velocity/error_vel_yaw", nan)),
        "fall_rate": report.terminations / report.episodes if report.episodes else nan,
    }


def summary_line(report: Any) -> str:
    """The report line of a sim-to-sim replay: velocity-tracking errors and fall rate."""
    s = tracking_summary(report)
    return (
        f"  sim-to-sim tracking: lin-vel xy error {s['error_vel_xy']:.4f} m/s, yaw-rate error "
        f"{s['error_vel_yaw']:.4f} rad/s, fall rate {s['fall_rate']:.3f} ({report.terminations} of "
        f"{report.episodes} episodes ended by base contact)"
    )
