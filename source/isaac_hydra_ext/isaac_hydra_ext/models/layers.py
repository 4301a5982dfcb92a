"""Building blocks of the networks: MLPs, their initialization and diagonal-Gaussian densities.

Shared by the feed-forward actor-critic (:mod:`.actor_critic`) and the recurrent one (:mod:`.recurrent`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ..config.schema import ACTIVATIONS
from .normalizer import RunningNormalizer

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "elu": nn.ELU,
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "leaky_relu": nn.LeakyReLU,
}
assert tuple(_ACTIVATIONS) == ACTIVATIONS, "config.schema.ACTIVATIONS names the activations the models build"

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def build_mlp(in_dim: int, hidden: Sequence[int], out_dim: int, activation: str) -> nn.Sequential:
    """``Linear -> act -> ... -> Linear(out_dim)`` with the given hidden sizes."""
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation={activation!r} is not one of {sorted(_ACTIVATIONS)}")
    layers: list[nn.Module] = []
    last = in_dim
    for size in hidden:
        layers += [nn.Linear(last, int(size)), _ACTIVATIONS[activation]()]
        last = int(size)
    layers.append(nn.Linear(last, out_dim))
    return nn.Sequential(*layers)


def orthogonal_init(mlp: nn.Sequential, output_gain: float) -> None:
    """Orthogonal weights (gain sqrt(2) for hidden layers, ``output_gain`` for the last), zero biases."""
    linears = [m for m in mlp if isinstance(m, nn.Linear)]
    for i, layer in enumerate(linears):
        nn.init.orthogonal_(layer.weight, gain=output_gain if i == len(linears) - 1 else math.sqrt(2.0))
        nn.init.zeros_(layer.bias)


def gaussian_log_prob(actions: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """Log-density of a diagonal Gaussian, summed over the action dimensions.

    log N(a; mu, sigma) = sum_i [ -(a_i - mu_i)^2 / (2 sigma_i^2) - log sigma_i - log sqrt(2 pi) ]
    """
    z = (actions - mean) * torch.exp(-log_std)
    return (-0.5 * z * z - log_std - _LOG_SQRT_2PI).sum(-1)


def gaussian_entropy(log_std: torch.Tensor) -> torch.Tensor:
    """Entropy of a diagonal Gaussian: sum_i [ log sigma_i + 0.5 * log(2 pi e) ]."""
    return (log_std + _LOG_SQRT_2PI + 0.5).sum(-1)


def gaussian_kl(mean_p: torch.Tensor, log_std_p: torch.Tensor, mean_q: torch.Tensor, log_std_q: torch.Tensor):
    """KL(p || q) of diagonal Gaussians, summed over dimensions.

    KL = sum_i [ log(s_q/s_p) + (s_p^2 + (m_p - m_q)^2) / (2 s_q^2) - 1/2 ]
    """
    var_p = torch.exp(2.0 * log_std_p)
    var_q = torch.exp(2.0 * log_std_q)
    return (log_std_q - log_std_p + (var_p + (mean_p - mean_q) ** 2) / (2.0 * var_q) - 0.5).sum(-1)


class ReturnNormalization:
    """Value normalization of a critic (a mix-in for :class:`torch.nn.Module` critics).

    The critic's network predicts values in normalized return units when ``return_normalizer`` (a
    :class:`~.normalizer.RunningNormalizer` of the returns, set by the critic) is not None.
    """

    return_normalizer: RunningNormalizer | None

    def normalize_value(self, value: torch.Tensor) -> torch.Tensor:
        """(V - mu_R) / sigma_R (identity without value normalization)."""
        if self.return_normalizer is None:
            return value
        return self.return_normalizer(value.unsqueeze(-1)).squeeze(-1)

    def denormalize_value(self, normalized: torch.Tensor) -> torch.Tensor:
        """mu_R + sigma_R * v (identity without value normalization)."""
        rn = self.return_normalizer
        if rn is None:
            return normalized
        std = torch.sqrt(rn.var + rn.eps).to(normalized.dtype)
        return normalized * std + rn.mean.to(normalized.dtype)
