"""Symmetry in the APPO update: rsl_rl's data augmentation and mirror loss, on prepared batches.

Both use the task's mirror (an object with ``mirror_observation`` and ``mirror_action``, and
``mirror_critic_observation`` for a privileged critic; :mod:`isaac_hydra_ext.envs.symmetry`), which the learner
holds: workers and in-process collectors need nothing for it.

**Data augmentation** (``ppo.use_data_augmentation``). A sample (s, a) collected by the behaviour policy mu has a
mirror image (s', a') = (M_s s, M_a a) that the mirrored behaviour policy would have collected with the same
probability, mu(a|s), and, for a left-right symmetric task, the same advantage and return. So each minibatch of n
samples gets their n mirror images appended (2n rows), carrying

* the originals' advantages, returns, values and behaviour log-probabilities log mu(a|s) (as rsl_rl repeats them:
  PPO's ratio of a mirrored row is pi_theta(a'|s') / mu(a|s));
* their own target-policy terms, computed once before the epochs with the policy at the start of the update
  pi_target: log pi_target(a'|s'), the mean of pi_target at s' (for the KL of the adaptive learning rate) and the
  V-trace weight min(rho_bar, pi_target(a'|s') / mu(a|s)).

**Mirror loss** (``ppo.use_mirror_loss``, rsl_rl's): L_mirror = mean over the minibatch and the action dimensions of
(mu_theta(M_s s) - M_a mu_theta(s))^2, the target M_a mu_theta(s) detached; ``mirror_loss_coeff * L_mirror`` is
added to the loss. It is logged as ``loss/symmetry`` whenever a symmetry switch is on (computed without gradient
when only data augmentation is).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

import torch

from ..config.schema import AlgorithmConfig
from ..models.actor_critic import gaussian_log_prob
from .prepared import PreparedBatch


class Mirror(Protocol):
    """The task's mirror as the learner uses it (see the module docstring)."""

    def mirror_observation(self, obs: torch.Tensor) -> torch.Tensor:
        """Mirror images of policy observations (..., obs_dim)."""
        ...

    def mirror_action(self, actions: torch.Tensor) -> torch.Tensor:
        """Mirror images of actions (..., act_dim)."""
        ...


def symmetry_enabled(cfg: AlgorithmConfig) -> bool:
    """Whether ``cfg`` switches on data augmentation or the mirror loss (then the task's mirror is needed)."""
    return bool(cfg.use_data_augmentation or cfg.use_mirror_loss)


def mirror_loss(policy: Any, obs: torch.Tensor, mirror: Mirror) -> torch.Tensor:
    """rsl_rl's mirror loss: mean((mu(M_s s) - sg[M_a mu(s)])^2) over rows and action dimensions."""
    target = mirror.mirror_action(policy(obs)).detach()
    return ((policy(mirror.mirror_observation(obs)) - target) ** 2).mean()


class Symmetry:
    """Data augmentation and the mirror loss of one :class:`~.algorithm.APPO` (see the module docstring)."""

    def __init__(self, mirror: Mirror, cfg: AlgorithmConfig, asymmetric_critic: bool):
        """``mirror`` is the task's; ``asymmetric_critic``: the critic has its own observation, mirrored too."""
        if cfg.use_data_augmentation and asymmetric_critic and not hasattr(mirror, "mirror_critic_observation"):
            raise ValueError("data augmentation with a privileged critic needs mirror_critic_observation()")
        self.mirror = mirror
        self.augment = bool(cfg.use_data_augmentation)
        self.use_mirror_loss = bool(cfg.use_mirror_loss)
        self.mirror_loss_coeff = float(cfg.mirror_loss_coeff)
        self.rho_clip = float(cfg.vtrace_rho_clip)
        self.asymmetric_critic = asymmetric_critic
        self._loss_sum = 0.0
        self._loss_count = 0

    @torch.no_grad()
    def augment_batch(self, prepared: PreparedBatch, policy: Any) -> PreparedBatch:
        """The n prepared samples followed by their n mirror images (unchanged without data augmentation).

        ``policy`` is the policy at the start of the update (pi_target); rows n..2n-1 mirror rows 0..n-1.
        """
        if not self.augment:
            return prepared
        m = self.mirror
        obs = m.mirror_observation(prepared.obs)
        actions = m.mirror_action(prepared.actions)
        critic_obs = m.mirror_critic_observation(prepared.critic_obs) if self.asymmetric_critic else obs  # type: ignore[attr-defined]
        mean = policy(obs)  # pi_target's mean at the mirrored states
        target = gaussian_log_prob(actions, mean, prepared.old_log_std)  # log pi_target(a'|s'); std is state-free
        # V-trace weight of a mirrored row: min(rho_bar, pi_target(a'|s') / mu(a|s))
        weights = torch.clamp(torch.exp(target - prepared.behaviour_log_probs), max=self.rho_clip)

        def twice(x: torch.Tensor) -> torch.Tensor:
            return torch.cat([x, x])

        return dataclasses.replace(
            prepared,
            obs=torch.cat([prepared.obs, obs]),
            critic_obs=torch.cat([prepared.critic_obs, critic_obs]),
            actions=torch.cat([prepared.actions, actions]),
            behaviour_log_probs=twice(prepared.behaviour_log_probs),
            target_log_probs=torch.cat([prepared.target_log_probs, target]),
            is_weights=torch.cat([prepared.is_weights, weights]),
            advantages=twice(prepared.advantages),
            returns=twice(prepared.returns),
            old_values=twice(prepared.old_values),
            old_mean=torch.cat([prepared.old_mean, mean]),
            old_log_std=twice(prepared.old_log_std),
        )

    def minibatch_ids(self, ids: torch.Tensor, n: int) -> torch.Tensor:
        """Rows of a minibatch of original samples ``ids``: with augmentation, followed by their mirror images."""
        return torch.cat([ids, ids + n]) if self.augment else ids

    def loss(self, policy: Any, obs: torch.Tensor) -> torch.Tensor:
        """The term to add to the minibatch loss: ``mirror_loss_coeff * L_mirror`` (0 without the mirror loss).

        ``obs`` are the minibatch's original observations; L_mirror is recorded for :meth:`pop_stats` either way.
        """
        if self.use_mirror_loss:
            value = mirror_loss(policy, obs, self.mirror)
            term = self.mirror_loss_coeff * value
        else:
            with torch.no_grad():
                value = mirror_loss(policy, obs, self.mirror)
            term = torch.zeros((), device=obs.device)
        self._loss_sum += float(value.detach())
        self._loss_count += 1
        return term

    def pop_stats(self) -> dict[str, float]:
        """``loss/symmetry``: the mean mirror loss over the minibatches since the last call."""
        mean = self._loss_sum / max(self._loss_count, 1)
        self._loss_sum, self._loss_count = 0.0, 0
        return {"loss/symmetry": mean}
