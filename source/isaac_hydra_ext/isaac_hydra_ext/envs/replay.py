"""Replay a deterministic policy on any :class:`~.vec_env.VecEnv` and report what happened, the same for every task.

This is the one play loop: ``python -m isaac_hydra_ext.play`` (gymnasium envs, the embedded Go1 task) and the Isaac
Lab play script (:class:`~isaac_hydra_ext.isaaclab.vec_env.IsaacLabVecEnv`) both call :func:`replay` and print
:func:`report_lines`. Nothing in it knows a task: what is task-specific comes from the env itself,

* its episode statistics, ``EnvStep.log`` (e.g. the Go1 task's ``Metrics/base_velocity/error_vel_xy`` and
  ``Episode_Termination/base_contact``), averaged over the finished episodes and reported under the env's own names;
* its frames, through the optional ``render_frame(env_index)`` hook of the VecEnv contract (see
  :mod:`.vec_env`), which :mod:`.video` films through the ``on_frame`` callback.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from .sim2sim import tracking_summary
from .vec_env import VecEnv

Policy = Callable[[torch.Tensor], torch.Tensor]
"""Observations (B, obs_dim) -> actions (B, act_dim), e.g. a ``GaussianPolicy`` (its forward is the mean action).

A policy with memory also has ``reset(done)``: :func:`replay` calls it after every step with the step's done flags
(B,), so it starts each new episode from its initial state (``models.recurrent.StatefulPolicy`` does this for a
recurrent policy)."""


@dataclass
class ReplayReport:
    """What a replay measured; every number is over the finished episodes unless its name says otherwise."""

    steps: int
    """Policy steps run (each steps all B envs)."""
    num_envs: int
    """B, the envs replayed together."""
    episode_returns: list[float] = field(default_factory=list)
    """Undiscounted return of each episode that ended during the replay, in the order they ended."""
    episode_lengths: list[int] = field(default_factory=list)
    """Length in steps of each episode that ended (same order as ``episode_returns``)."""
    terminations: int = 0
    """Episodes that ended in a terminal state (``EnvStep.terminated``: a fall, for the Go1 task)."""
    truncations: int = 0
    """Episodes cut by a time limit (``EnvStep.truncated``)."""
    unfinished_returns: list[float] = field(default_factory=list)
    """Return so far of the B episodes still running when the replay stopped."""
    metrics: dict[str, float] = field(default_factory=dict)
    """The env's ``EnvStep.log`` keys, each the mean over the finished episodes that reported it."""

    @property
    def episodes(self) -> int:
        """Number of finished episodes."""
        return len(self.episode_returns)

    @property
    def mean_return(self) -> float:
        """Mean return of the finished episodes; of the unfinished ones when none finished (0.0 when no step ran)."""
        values = self.episode_returns or self.unfinished_returns
        return sum(values) / len(values) if values else 0.0

    @property
    def mean_length(self) -> float:
        """Mean length of the finished episodes in steps (0.0 when none finished)."""
        return sum(self.episode_lengths) / len(self.episode_lengths) if self.episode_lengths else 0.0


def replay(
    env: VecEnv,
    policy: Policy,
    steps: int | None,
    seed: int | None = None,
    *,
    clip_actions: bool = True,
    on_frame: Callable[[], None] | None = None,
    keep_running: Callable[[], bool] | None = None,
) -> ReplayReport:
    """Reset ``env`` with ``seed`` and step it with ``policy``'s actions for ``steps`` steps; return the report.

    Args:
        env: the envs to replay (not closed here).
        policy: maps observations to actions; called under ``torch.inference_mode``. If it has ``reset(done)``
            (a recurrent policy's state), that is called after every step with the step's done flags.
        steps: policy steps to run; ``None`` runs until ``keep_running()`` says stop.
        seed: passed to ``env.reset``; a seeded VecEnv gives each of its B envs its own stream (see
            :meth:`.vec_env.GymVecEnv.reset`).
        clip_actions: clip actions to ``env.spec``'s bounds where it has them, as the training collector does.
        on_frame: called after the reset and after every step (a video recorder's ``capture``).
        keep_running: checked before every step (e.g. a simulator window still open); ``None``: always.

    Episode metrics are weighted by episodes: a step in which k envs ended contributes its ``log`` (the mean over
    those k episodes) with weight k, so ``metrics[key] = sum_steps(k * log[key]) / sum_steps(k)``.

    """
    if steps is None and keep_running is None:
        raise ValueError("replay needs steps or keep_running, else it never stops")
    spec = env.spec
    bounds: tuple[torch.Tensor, torch.Tensor] | None = None
    if clip_actions and spec.action_low:
        bounds = (
            torch.as_tensor(spec.action_low, dtype=torch.float32, device=env.device),
            torch.as_tensor(spec.action_high, dtype=torch.float32, device=env.device),
        )
    report = ReplayReport(steps=0, num_envs=env.num_envs)
    obs, _ = env.reset(seed=seed)
    if on_frame is not None:
        on_frame()
    ep_return = torch.zeros(env.num_envs, dtype=torch.float64)
    ep_length = torch.zeros(env.num_envs, dtype=torch.int64)
    sums: dict[str, float] = {}
    weights: dict[str, int] = {}
    reset_state = getattr(policy, "reset", None)
    while (steps is None or report.steps < steps) and (keep_running is None or keep_running()):
        with torch.inference_mode():
            actions = policy(obs).to(env.device)
            if bounds is not None:
                actions = torch.maximum(torch.minimum(actions, bounds[1]), bounds[0])
        step = env.step(actions)
        report.steps += 1
        ep_return += step.reward.detach().to("cpu", torch.float64)
        ep_length += 1
        terminated, truncated = step.terminated.cpu(), step.truncated.cpu()
        done = terminated | truncated
        if reset_state is not None:  # episodes that ended start the next one from the initial memory state
            reset_state(done)
        ended = int(done.sum())
        if ended:
            report.episode_returns.extend(ep_return[done].tolist())
            report.episode_lengths.extend(ep_length[done].tolist())
            report.terminations += int(terminated.sum())
            report.truncations += int((truncated & ~terminated).sum())
            ep_return[done] = 0.0
            ep_length[done] = 0
            for key, value in step.log.items():
                sums[key] = sums.get(key, 0.0) + ended * float(value)
                weights[key] = weights.get(key, 0) + ended
        obs = step.obs
        if on_frame is not None:
            on_frame()
    report.unfinished_returns = ep_return.tolist()
    report.metrics = {key: sums[key] / weights[key] for key in sorted(sums)}
    return report


def report_lines(report: ReplayReport, env_id: str, checkpoint: str, notes: Sequence[str] = ()) -> list[str]:
    """The human-readable report printed by both play commands (first line: ``played <N> steps x <B> envs ...``).

    ``notes``: lines printed right after the first (e.g. the sim-to-sim mapping applied, :mod:`.sim2sim`).
    """
    lines = [f"played {report.steps} steps x {report.num_envs} envs of {env_id} from {checkpoint}"]
    lines.extend(notes)
    if report.episodes:
        lines.append(
            f"  episodes: {report.episodes} finished ({report.terminations} terminated, {report.truncations} "
            f"truncated by the time limit); mean return {report.mean_return:.3f}, mean length "
            f"{report.mean_length:.1f} steps"
        )
    else:
        lines.append(
            f"  episodes: none finished in {report.steps} steps; mean return so far {report.mean_return:.3f} "
            f"(over the {report.num_envs} running episodes)"
        )
    if report.metrics:
        lines.append("  env metrics (mean over the finished episodes, as the env reports them):")
        width = max(len(key) for key in report.metrics)
        lines.extend(f"    {key:<{width}}  {value:.4f}" for key, value in report.metrics.items())
    return lines


def report_dict(report: ReplayReport, env_id: str, checkpoint: str, mapping: Any = None) -> dict[str, Any]:
    """The report as plain JSON-able data (what ``report_json`` writes).

    Every :class:`ReplayReport` field, ``episodes``, ``mean_return``, ``mean_length``, the env and checkpoint, the
    mapping's line (``sim2sim``, "" without one) and the tracking summary (:func:`.sim2sim.tracking_summary`).
    """
    out: dict[str, Any] = {"env_id": env_id, "checkpoint": checkpoint, **dataclasses.asdict(report)}
    out.update(episodes=report.episodes, mean_return=report.mean_return, mean_length=report.mean_length)
    out["sim2sim"] = "" if mapping is None else mapping.describe()
    out["tracking"] = tracking_summary(report)
    return out


def write_report_json(
    path: str, report: ReplayReport, env_id: str, checkpoint: str, mapping: Any = None
) -> dict[str, Any]:
    """Write :func:`report_dict` to ``path`` atomically (NaN as ``NaN``, Python's JSON); return what was written."""
    data = report_dict(report, env_id, checkpoint, mapping)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)
    return data
