"""Actor-critic networks: a Gaussian policy with learned state-independent log-std and a value function."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ..config.schema import ModelConfig
from .layers import ReturnNormalization, build_mlp, gaussian_entropy, gaussian_kl, gaussian_log_prob, orthogonal_init
from .normalizer import RunningNormalizer
from .recurrent import RecurrentCritic, RecurrentGaussianPolicy, build_recurrent_critic, build_recurrent_policy

__all__ = [
    "ActorCritic",
    "GaussianPolicy",
    "Policy",
    "ValueFunction",
    "build_mlp",
    "build_policy",
    "gaussian_entropy",
    "gaussian_kl",
    "gaussian_log_prob",
    "orthogonal_init",
]


class GaussianPolicy(nn.Module):
    """pi(a|s) = N(mu(norm(s)), diag(exp(log_std))^2): what the workers run and what is exported."""

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        hidden_dims: Sequence[int],
        activation: str = "elu",
        init_std: float = 1.0,
        obs_normalization: bool = True,
        obs_clip: float = 10.0,
        orthogonal: bool = True,
    ):
        """Build the normalizer, the mean MLP and the log-std parameter."""
        super().__init__()
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.normalizer: nn.Module = RunningNormalizer(obs_dim, clip=obs_clip) if obs_normalization else nn.Identity()
        self.mean_net = build_mlp(obs_dim, hidden_dims, act_dim, activation)
        if orthogonal:
            orthogonal_init(self.mean_net, output_gain=0.01)
        self.log_std = nn.Parameter(torch.full((act_dim,), math.log(init_std)))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Deterministic action (the mean) for raw observations."""
        return self.mean_net(self.normalizer(obs))

    def act(self, obs: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Sample actions for raw observations; return (actions, log-probabilities)."""
        mean = self.forward(obs)
        log_std = self.log_std.expand_as(mean)
        noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        actions = mean + torch.exp(log_std) * noise
        return actions, gaussian_log_prob(actions, mean, log_std)


class ValueFunction(ReturnNormalization, nn.Module):
    """V(s) = MLP(norm(s)); sees the critic observation group when the env provides one.

    With ``value_normalization`` the network predicts the value in units of running return statistics:
    V(s) = mu_R + sigma_R * MLP(norm(s)) (rl_games' ``normalize_value``, Sample Factory's
    ``normalize_returns``), so the value loss keeps the same scale whatever the reward scale.
    """

    def __init__(
        self,
        obs_dim: int,
        hidden_dims: Sequence[int],
        activation: str = "elu",
        obs_normalization: bool = True,
        obs_clip: float = 10.0,
        orthogonal: bool = True,
        value_normalization: bool = False,
    ):
        """Build the normalizer and the value MLP."""
        super().__init__()
        self.normalizer: nn.Module = RunningNormalizer(obs_dim, clip=obs_clip) if obs_normalization else nn.Identity()
        self.value_net = build_mlp(obs_dim, hidden_dims, 1, activation)
        if orthogonal:
            orthogonal_init(self.value_net, output_gain=1.0)
        self.return_normalizer = RunningNormalizer(1, clip=math.inf) if value_normalization else None

    def normalized(self, obs: torch.Tensor) -> torch.Tensor:
        """The network's raw output (...,): the value in normalized return units when normalization is on."""
        return self.value_net(self.normalizer(obs)).squeeze(-1)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Values (...,) for raw observations (..., obs_dim), in reward units."""
        return self.denormalize_value(self.normalized(obs))


Policy = GaussianPolicy | RecurrentGaussianPolicy
"""A policy workers run: feed-forward, or recurrent (``is_recurrent``: it takes and returns a hidden state)."""


class ActorCritic(nn.Module):
    """The learner's model: ``policy`` (published to workers) and ``critic`` (learner only)."""

    def __init__(self, obs_dim: int, act_dim: int, critic_obs_dim: int, cfg: ModelConfig) -> None:
        """Build both networks from the model section of the config."""
        super().__init__()
        self.recurrent = cfg.rnn_type != "none"
        """The policy has a memory (``ppo.rnn_type``): the critic reads its output, the learner replays sequences."""
        self.policy: Policy = build_policy(obs_dim, act_dim, cfg)
        self.critic: ValueFunction | RecurrentCritic
        if self.recurrent:
            self.critic = build_recurrent_critic(critic_obs_dim, cfg)
        else:
            self.critic = ValueFunction(
                critic_obs_dim or obs_dim,
                cfg.critic_hidden_dims,
                cfg.activation,
                cfg.obs_normalization,
                cfg.obs_clip,
                cfg.orthogonal_init,
                cfg.value_normalization,
            )
        self.asymmetric = critic_obs_dim > 0


def build_policy(obs_dim: int, act_dim: int, cfg: ModelConfig) -> Policy:
    """The policy alone, as a worker builds it (same architecture as ``ActorCritic.policy``)."""
    if cfg.rnn_type != "none":
        return build_recurrent_policy(obs_dim, act_dim, cfg)
    return GaussianPolicy(
        obs_dim,
        act_dim,
        cfg.actor_hidden_dims,
        cfg.activation,
        cfg.init_std,
        cfg.obs_normalization,
        cfg.obs_clip,
        cfg.orthogonal_init,
    )
