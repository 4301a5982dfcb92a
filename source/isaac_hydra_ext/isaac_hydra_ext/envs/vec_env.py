"""The environment contract of the trainer and the gymnasium adapter that implements it.

Every backend is seen by the collector as a :class:`VecEnv`: B environments stepped together, torch tensors
in and out, automatic resets, and time-outs reported apart from terminations so the learner can bootstrap
them (truncation is never treated as termination).

What a gymnasium environment must provide to be trained (``env.backend=gym``):

* a registered id; if the spec has a ``vector_entry_point`` it is used with ``num_envs=B`` (the embedded Go1
  task does this), otherwise B copies are stepped by ``gymnasium.vector.SyncVectorEnv``;
* a ``Box`` action space and either a ``Box`` observation space or a ``Dict`` with a ``"policy"`` Box and an
  optional ``"critic"`` Box (privileged observations for the critic, as Isaac Lab's observation groups);
* ``AutoresetMode.SAME_STEP`` semantics: the observation returned for an env that just ended is the first
  observation of its next episode, and ``info["final_obs"]`` (with mask ``info["_final_obs"]``) holds the
  last observation of the ended episode;
* optionally ``info["log"]``: a dict of scalars (floats or 0-d arrays) describing the episodes that ended in
  this step, Isaac Lab style (``Episode_Reward/<term>``, ``Episode_Termination/<term>``, ``Metrics/...``).
  The trainer averages each key over the rollout and logs it under the same name; play
  (:mod:`.replay`) averages each over the finished episodes and prints it under the same name.

Optional task hooks (:mod:`.deployment`), read into :class:`EnvSpec` when the env is made: ``deployment_info()``
(joint order, defaults, action scale, control period, observation terms: written into the exported ONNX) and
``mirror_function`` (the ``module:function`` of its left-right mirror factory, for symmetry augmentation).

Optional, for videos (play, evaluation clips; :mod:`.video`): a VecEnv that can film one of its envs has

* ``render_frame(env_index: int) -> np.ndarray``: the current (H, W, 3) uint8 RGB frame of env ``env_index``;
* ``render_fps: float``: the frame rate at which one frame per step plays in real time.

:class:`GymVecEnv` has both when its envs were made with ``render_mode="rgb_array"`` in ``env.kwargs``
(:func:`.video.rendering_env_config`): it asks a batched env for ``render_frame(env_index)`` when it has one (the
embedded Go1 task: its tracking camera, rendered offscreen) and otherwise calls ``render()`` of sub-env
``env_index``; the frame rate is the env's ``metadata["render_fps"]``. Make rendering envs only to film them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
import torch

from .deployment import task_hooks


@dataclass
class EnvSpec:
    """Shapes and limits the learner needs before any worker starts."""

    obs_dim: int
    """Size of the policy observation vector."""
    act_dim: int
    """Size of the action vector."""
    critic_obs_dim: int = 0
    """Size of the privileged critic observation; 0 when the critic sees the policy observation."""
    action_low: list[float] = field(default_factory=list)
    """Lower action bounds (empty: unbounded)."""
    action_high: list[float] = field(default_factory=list)
    """Upper action bounds (empty: unbounded)."""
    max_episode_steps: int = 0
    """Time limit in steps (0: unknown)."""
    deployment: dict[str, Any] = field(default_factory=dict)
    """The task's :class:`~.deployment.DeploymentInfo` as a dict (joint names, default joint positions, action
    scale, control period, observation terms); empty when the task has no ``deployment_info()`` hook."""
    mirror: str = ""
    """``package.module:function`` of the task's left-right mirror factory ``(EnvSpec) -> mirror``
    (:mod:`.symmetry`), named by the task; empty when it has none."""


@dataclass
class EnvStep:
    """What one step of B environments returns, as torch tensors on the env's device."""

    obs: torch.Tensor
    """(B, obs_dim) float32: observation after the step (first obs of the new episode where done)."""
    reward: torch.Tensor
    """(B,) float32."""
    terminated: torch.Tensor
    """(B,) bool: the episode ended in a terminal state (no bootstrap)."""
    truncated: torch.Tensor
    """(B,) bool: the episode was cut by a time limit (bootstrap from the final observation)."""
    final_obs: torch.Tensor
    """(B, obs_dim): last observation of the ended episode where terminated|truncated; other rows unspecified."""
    critic_obs: torch.Tensor | None = None
    """(B, critic_obs_dim) or None."""
    final_critic_obs: torch.Tensor | None = None
    """(B, critic_obs_dim) or None, like ``final_obs``."""
    log: dict[str, float] = field(default_factory=dict)
    """Episode statistics reported by the env for episodes that ended in this step."""


class VecEnv(Protocol):
    """B environments stepped together with automatic reset (the trainer's only view of an env)."""

    num_envs: int
    spec: EnvSpec
    device: torch.device

    def reset(self, seed: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Reset all envs; return (policy obs (B, obs_dim), critic obs or None)."""
        ...

    def step(self, actions: torch.Tensor) -> EnvStep:
        """Step all envs with ``actions`` (B, act_dim) and auto-reset the ones that ended."""
        ...

    def close(self) -> None:
        """Release the env's resources."""
        ...


class UnsupportedSpaceError(TypeError):
    """The env's action or observation space is not one the trainer supports; the message says which and why."""


def _box_dim(space: gym.Space, what: str) -> int:
    if isinstance(space, (gym.spaces.Discrete, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary)):
        kind = "actions" if what == "action space" else "observations"
        raise UnsupportedSpaceError(
            f"its {what} is {space!r}: discrete {kind} are not supported (Box action spaces only)"
        )
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
        raise UnsupportedSpaceError(f"its {what} is {space!r}: it must be a 1-D gymnasium Box")
    return int(space.shape[0])


def _split_obs_space(space: gym.Space) -> tuple[int, int]:
    """Return (policy obs dim, critic obs dim or 0) of a single-env observation space."""
    if isinstance(space, gym.spaces.Dict):
        if "policy" not in space.spaces:
            raise UnsupportedSpaceError(
                f"its Dict observation space needs a 'policy' key, got keys {list(space.spaces)}"
            )
        critic = _box_dim(space.spaces["critic"], "observation 'critic'") if "critic" in space.spaces else 0
        return _box_dim(space.spaces["policy"], "observation 'policy'"), critic
    return _box_dim(space, "observation space"), 0


def _as_batch(x: Any, num_envs: int, dim: int) -> np.ndarray:
    """Stack gymnasium's per-env object arrays (final_obs) into a (B, dim) float32 array; None rows become 0."""
    if isinstance(x, np.ndarray) and x.dtype != object:
        return x.reshape(num_envs, dim).astype(np.float32, copy=False)
    out = np.zeros((num_envs, dim), dtype=np.float32)
    for i, row in enumerate(x):
        if row is not None:
            out[i] = row
    return out


def _mean_log(log: Any) -> dict[str, float]:
    """Flatten an env's ``info["log"]`` into plain floats."""
    out: dict[str, float] = {}
    if not isinstance(log, dict):
        return out
    for key, value in log.items():
        arr = np.asarray(value, dtype=np.float64)
        if arr.size:
            out[str(key)] = float(arr.mean())
    return out


class GymVecEnv:
    """:class:`VecEnv` over a gymnasium vector env with SAME_STEP autoreset (numpy in, torch out on the CPU)."""

    def __init__(self, env_id: str, num_envs: int, kwargs: dict[str, Any] | None = None, max_episode_steps: int = 0):
        """Create B = ``num_envs`` copies of ``env_id`` (its vector entry point when it has one)."""
        kwargs = dict(kwargs or {})
        self.env_id = env_id
        spec = gym.spec(env_id)
        make_kwargs: dict[str, Any] = dict(kwargs)
        if max_episode_steps > 0:
            make_kwargs["max_episode_steps"] = max_episode_steps
        if spec.vector_entry_point is not None:
            self._env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **make_kwargs)
        else:
            self._env = gym.make_vec(
                env_id,
                num_envs=num_envs,
                vectorization_mode="sync",
                vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
                **make_kwargs,
            )
        try:  # the spaces first: a discrete env is refused for that, whatever else it does
            act_space = self._env.single_action_space
            act_dim = _box_dim(act_space, "action space")
            obs_dim, critic_dim = _split_obs_space(self._env.single_observation_space)
            mode = self._env.metadata.get("autoreset_mode")
            if mode is not None and mode != gym.vector.AutoresetMode.SAME_STEP:
                raise UnsupportedSpaceError(f"it must autoreset with AutoresetMode.SAME_STEP, it uses {mode}")
        except UnsupportedSpaceError as exc:
            self._env.close()
            raise UnsupportedSpaceError(f"env {env_id!r} cannot be trained: {exc}") from None
        self.num_envs = num_envs
        low, high = np.asarray(act_space.low, np.float64), np.asarray(act_space.high, np.float64)
        bounded = bool(np.all(np.isfinite(low)) and np.all(np.isfinite(high)))
        limit = max_episode_steps or (spec.max_episode_steps or 0)
        self.spec = EnvSpec(
            obs_dim=obs_dim,
            act_dim=act_dim,
            critic_obs_dim=critic_dim,
            action_low=low.tolist() if bounded else [],
            action_high=high.tolist() if bounded else [],
            max_episode_steps=int(limit),
        )
        self.spec.deployment, self.spec.mirror = task_hooks(self._env)
        self.device = torch.device("cpu")

    def _split(self, obs: Any) -> tuple[np.ndarray, np.ndarray | None]:
        if isinstance(obs, dict):
            return obs["policy"], obs.get("critic")
        return obs, None

    def reset(self, seed: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Reset all envs; with a seed each env gets its own stream.

        Copies stepped by ``SyncVectorEnv`` get seeds ``seed + i``; a batched env (a ``vector_entry_point``, such as
        the Go1 task) seeds one generator from which each env's own start state and randomization are drawn.
        """
        obs, _ = self._env.reset(seed=seed)
        policy, critic = self._split(obs)
        return _to_tensor(policy), None if critic is None else _to_tensor(critic)

    def step(self, actions: torch.Tensor) -> EnvStep:
        """Step all envs; see :class:`EnvStep`."""
        obs, reward, terminated, truncated, info = self._env.step(actions.detach().cpu().numpy())
        policy, critic = self._split(obs)
        final_policy = policy
        final_critic = critic
        if "final_obs" in info:
            mask = np.asarray(info.get("_final_obs", np.ones(self.num_envs, bool)))
            final = info["final_obs"]
            if isinstance(final, dict):
                final_policy = _merge_rows(policy, _as_batch(final["policy"], self.num_envs, self.spec.obs_dim), mask)
                if critic is not None:
                    final_critic = _merge_rows(
                        critic, _as_batch(final["critic"], self.num_envs, self.spec.critic_obs_dim), mask
                    )
            elif (
                isinstance(final, np.ndarray)
                and final.dtype == object
                and final.size
                and isinstance(next((r for r in final if r is not None), None), dict)
            ):
                rows = [None if r is None else r["policy"] for r in final]
                final_policy = _merge_rows(
                    policy, _as_batch(np.array(rows, dtype=object), self.num_envs, self.spec.obs_dim), mask
                )
                if critic is not None:
                    rows = [None if r is None else r["critic"] for r in final]
                    final_critic = _merge_rows(
                        critic, _as_batch(np.array(rows, dtype=object), self.num_envs, self.spec.critic_obs_dim), mask
                    )
            else:
                final_policy = _merge_rows(policy, _as_batch(final, self.num_envs, self.spec.obs_dim), mask)
        return EnvStep(
            obs=_to_tensor(policy),
            reward=torch.as_tensor(np.asarray(reward, dtype=np.float32)),
            terminated=torch.as_tensor(np.asarray(terminated, dtype=bool)),
            truncated=torch.as_tensor(np.asarray(truncated, dtype=bool) & ~np.asarray(terminated, dtype=bool)),
            final_obs=_to_tensor(final_policy),
            critic_obs=None if critic is None else _to_tensor(critic),
            final_critic_obs=None if final_critic is None else _to_tensor(final_critic),
            log=_mean_log(info.get("log")),
        )

    @property
    def render_fps(self) -> float:
        """Frames per second of real time (the env's ``metadata["render_fps"]``; 30 when it has none)."""
        return float(self._env.metadata.get("render_fps") or 30.0)

    def render_frame(self, env_index: int = 0) -> np.ndarray:
        """The current (H, W, 3) uint8 frame of env ``env_index``; needs ``render_mode="rgb_array"`` in the kwargs."""
        if getattr(self._env, "render_mode", None) != "rgb_array":
            raise RuntimeError(
                f"env {self.env_id!r} was made without render_mode='rgb_array' (env.kwargs.render_mode), so it "
                "cannot render frames"
            )
        hook = getattr(self._env, "render_frame", None)
        if callable(hook):  # a batched env that renders any of its envs (the Go1 task)
            return np.asarray(hook(env_index))
        sub_envs = getattr(self._env, "envs", None)
        if sub_envs is not None:  # SyncVectorEnv: render only the filmed copy
            return np.asarray(sub_envs[env_index].render())
        frames = self._env.render()
        if frames is None or env_index >= len(frames):
            raise RuntimeError(f"env {self.env_id!r} rendered no frame for env {env_index}")
        return np.asarray(frames[env_index])

    def close(self) -> None:
        """Close the underlying gymnasium env."""
        self._env.close()


def _merge_rows(current: np.ndarray, final: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = np.array(current, dtype=np.float32, copy=True)
    out[mask] = final[mask]
    return out


def _to_tensor(x: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, dtype=np.float32))
