"""``IsaacLabVecEnv``: an Isaac Lab RL env seen through the trainer's :class:`~isaac_hydra_ext.envs.vec_env.VecEnv`.

It wraps what ``gym.make(task, cfg=env_cfg)`` returns for a ``ManagerBasedRLEnv`` (or ``DirectRLEnv``) and uses only
the public RL-env interface that Isaac Lab 2.x and 3.x share, so it does not depend on the physics backend (PhysX,
Newton) or on Isaac Sim:

* ``unwrapped.num_envs``, ``unwrapped.device``, ``unwrapped.max_episode_length``, ``unwrapped.episode_length_buf``,
  ``unwrapped.single_observation_space`` (a ``Dict`` with a ``"policy"`` Box and optionally a ``"critic"`` Box),
  ``unwrapped.single_action_space``, ``unwrapped.cfg.is_finite_horizon``;
* ``reset(seed=...) -> (obs_dict, extras)`` and ``step(actions) -> (obs_dict, reward, terminated, time_outs, extras)``,
  torch tensors on the sim device; ``extras["log"]`` holds ``Episode_Reward/*``, ``Episode_Termination/*``,
  ``Metrics/*`` scalars after a step in which some envs were reset.

Isaac Lab resets finished envs inside ``step`` (same-step autoreset): the returned observation of a finished env is
already the first one of its next episode. The last observation of the finished episode (``EnvStep.final_obs``) is:

* **exact** when the env config has ``compute_final_obs`` (Isaac Lab 3.x): the adapter switches it on and Isaac Lab
  computes the observation once more before resetting (``extras["final_obs"]``), only in steps with resets;
* **the observation before the last step** otherwise (Isaac Lab 2.x, or ``final_obs="previous"``): bootstrapping a
  time-out then uses V(s_t) instead of V(s_{t+1}), the approximation rsl_rl makes
  (``rewards += gamma * values * time_outs`` with the values of the pre-step observation).

Time-outs are reported as ``truncated`` (bootstrapped) unless the task is finite-horizon
(``cfg.is_finite_horizon``), where they end the episode like a termination, as in Isaac Lab's rsl_rl wrapper.
"""

from __future__ import annotations

from typing import Any

import torch

from ..envs.vec_env import EnvSpec, EnvStep
from .deployment import isaaclab_deployment_info, isaaclab_mirror

FINAL_OBS_MODES = ("auto", "exact", "previous")
"""``final_obs`` choices: ``auto`` = ``exact`` where the env supports it, else ``previous``."""


def _box_dim(space: Any, what: str) -> int:
    shape = getattr(space, "shape", None)
    if shape is None or len(shape) != 1:
        raise TypeError(
            f"{what} must be a flat Box (concatenated observation terms), got {space!r}; set "
            "concatenate_terms=True on the observation group"
        )
    return int(shape[0])


def _log_scalars(log: Any) -> dict[str, float]:
    """Isaac Lab's ``extras["log"]`` (tensors and numbers) as plain floats."""
    out: dict[str, float] = {}
    if not isinstance(log, dict):
        return out
    for key, value in log.items():
        if isinstance(value, torch.Tensor):
            if value.numel():
                out[str(key)] = float(value.detach().float().mean().item())
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[str(key)] = float(value)
    return out


def isaaclab_env_kwargs(env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The :class:`IsaacLabVecEnv` keyword arguments among ``env.kwargs``."""
    return {k: env_kwargs[k] for k in ("clip_actions", "init_at_random_ep_len", "final_obs") if k in env_kwargs}


class IsaacLabVecEnv:
    """:class:`~isaac_hydra_ext.envs.vec_env.VecEnv` over an Isaac Lab RL env (tensors stay on the sim device).

    Args:
        env: What ``gym.make(task, cfg=env_cfg)`` returned (wrappers such as video recording are fine).
        clip_actions: Clip actions to ``[-clip_actions, clip_actions]`` before stepping (also reported as the
            action bounds in :attr:`spec`); 0 disables clipping (unbounded actions, Isaac Lab's default).
        init_at_random_ep_len: After each :meth:`reset`, set every env's episode counter to a random point of the
            time limit so that time-outs (and resets) spread over the rollout instead of all happening together.
        final_obs: ``auto``, ``exact`` or ``previous``; see the module docstring.

    """

    def __init__(
        self, env: Any, *, clip_actions: float = 0.0, init_at_random_ep_len: bool = False, final_obs: str = "auto"
    ):
        """Read shapes and limits from the env; switch on Isaac Lab's final-observation capture where used."""
        if final_obs not in FINAL_OBS_MODES:
            raise ValueError(f"final_obs={final_obs!r} is invalid: must be one of {', '.join(FINAL_OBS_MODES)}")
        self.env = env
        self.unwrapped = getattr(env, "unwrapped", env)
        cfg = self.unwrapped.cfg
        supports_exact = hasattr(cfg, "compute_final_obs")
        if final_obs == "exact" and not supports_exact:
            raise ValueError("final_obs='exact' needs an Isaac Lab env config with compute_final_obs (Isaac Lab 3.x)")
        self.exact_final_obs = supports_exact and final_obs != "previous"
        if self.exact_final_obs:
            cfg.compute_final_obs = True  # read by ManagerBasedRLEnv.step on every call
        self.finite_horizon = bool(getattr(cfg, "is_finite_horizon", False))
        self.clip_actions = float(clip_actions)
        self.init_at_random_ep_len = init_at_random_ep_len
        self.num_envs = int(self.unwrapped.num_envs)
        self.device = torch.device(self.unwrapped.device)

        obs_space = self.unwrapped.single_observation_space
        groups = getattr(obs_space, "spaces", None)
        if not isinstance(groups, dict) or "policy" not in groups:
            raise TypeError(f"the env's observation space needs a 'policy' group, got {obs_space!r}")
        obs_dim = _box_dim(groups["policy"], "observation group 'policy'")
        critic_dim = _box_dim(groups["critic"], "observation group 'critic'") if "critic" in groups else 0
        act_dim = _box_dim(self.unwrapped.single_action_space, "action space")
        bounds = [self.clip_actions] * act_dim if self.clip_actions > 0 else []
        self.spec = EnvSpec(
            obs_dim=obs_dim,
            act_dim=act_dim,
            critic_obs_dim=critic_dim,
            action_low=[-b for b in bounds],
            action_high=bounds,
            max_episode_steps=int(self.unwrapped.max_episode_length),
            deployment=isaaclab_deployment_info(self.unwrapped),
            mirror=isaaclab_mirror(self.unwrapped),
        )
        self._previous: tuple[torch.Tensor, torch.Tensor | None] | None = None

    def _split(self, obs: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
        policy = obs["policy"]
        critic = obs.get("critic") if self.spec.critic_obs_dim else None
        if not isinstance(policy, torch.Tensor) or (critic is not None and not isinstance(critic, torch.Tensor)):
            raise TypeError("observation groups must be concatenated tensors (concatenate_terms=True)")
        return policy, critic

    def _remember(self, policy: torch.Tensor, critic: torch.Tensor | None) -> None:
        if not self.exact_final_obs:  # copies: Isaac Lab may refill its observation buffers in place
            self._previous = (policy.clone(), None if critic is None else critic.clone())

    def reset(self, seed: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Reset all envs (seeding Isaac Lab's global RNGs when ``seed`` is given); return (policy obs, critic obs)."""
        obs, _ = self.env.reset(seed=seed)
        if self.init_at_random_ep_len:
            buf = self.unwrapped.episode_length_buf
            limit = max(int(self.unwrapped.max_episode_length), 1)
            self.unwrapped.episode_length_buf = torch.randint_like(buf, high=limit)
        policy, critic = self._split(obs)
        self._remember(policy, critic)
        return policy, critic

    def step(self, actions: torch.Tensor) -> EnvStep:
        """Step all envs (Isaac Lab resets the finished ones); see :class:`~isaac_hydra_ext.envs.vec_env.EnvStep`."""
        if self._previous is None and not self.exact_final_obs:
            raise RuntimeError("call reset() before step()")
        actions = actions.to(self.device)
        if self.clip_actions > 0:
            actions = torch.clamp(actions, -self.clip_actions, self.clip_actions)
        obs, reward, terminated, time_outs, extras = self.env.step(actions)
        terminated = terminated.to(torch.bool)
        time_outs = time_outs.to(torch.bool)
        if self.finite_horizon:
            terminated = terminated | time_outs
            truncated = torch.zeros_like(time_outs)
        else:
            truncated = time_outs & ~terminated
        done = terminated | truncated
        any_done = bool(done.any())
        policy, critic = self._split(obs)
        if self.exact_final_obs:
            final_policy, final_critic = policy, critic
            if any_done and "final_obs" in extras:
                last_policy, last_critic = self._split(extras["final_obs"])
                mask = done.unsqueeze(-1)
                final_policy = torch.where(mask, last_policy, policy)
                if critic is not None and last_critic is not None:
                    final_critic = torch.where(mask, last_critic, critic)
        else:
            assert self._previous is not None, "IsaacLabVecEnv.step() before reset()"  # reset() remembers the obs
            final_policy, final_critic = self._previous
        self._remember(policy, critic)
        return EnvStep(
            obs=policy,
            reward=reward.to(torch.float32),
            terminated=terminated,
            truncated=truncated,
            final_obs=final_policy,
            critic_obs=critic,
            final_critic_obs=final_critic,
            log=_log_scalars(extras.get("log")) if any_done else {},
        )

    def close(self) -> None:
        """Close the Isaac Lab env (and with it the simulation context)."""
        self.env.close()
