"""PPO loss terms as pure functions of tensors (the algorithm composes them; tests check them by hand)."""

from __future__ import annotations

import torch


def clipped_surrogate(
    ratio: torch.Tensor, advantages: torch.Tensor, clip: float, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """PPO's clipped policy loss: L = -mean( w * min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A) ).

    ``weights`` w (default 1) are per-sample importance weights that carry no gradient.
    """
    terms = torch.min(ratio * advantages, torch.clamp(ratio, 1.0 - clip, 1.0 + clip) * advantages)
    if weights is not None:
        terms = weights.detach() * terms
    return -terms.mean()


def value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor, clip: float | None):
    """Squared value error; with ``clip``, PPO2's pessimistic clipped form.

    L_V = mean( max( (V - R)^2, (V_old + clip(V - V_old, -eps, eps) - R)^2 ) )
    """
    if clip is None:
        return ((values - returns) ** 2).mean()
    clipped = old_values + torch.clamp(values - old_values, -clip, clip)
    return torch.max((values - returns) ** 2, (clipped - returns) ** 2).mean()


def clip_fraction(ratio: torch.Tensor, clip: float) -> torch.Tensor:
    """Share of samples whose ratio left [1 - eps, 1 + eps]."""
    return ((ratio - 1.0).abs() > clip).float().mean()
