"""Running observation normalization whose statistics are part of the published policy."""

import torch
from torch import nn


class RunningNormalizer(nn.Module):
    """``y = clip((x - mean) / sqrt(var + eps), -clip, clip)`` with running (mean, var, count).

    Statistics are float64 buffers, so they are saved in checkpoints and travel to the workers with the
    weights. They change only through :meth:`update` (the learner), never in :meth:`forward`.
    """

    # Buffer declarations for type checkers. This module has no ``from __future__ import annotations``: TorchScript
    # reads these class annotations when it scripts the policy and needs them as types, not strings.
    mean: torch.Tensor
    """Running mean (dim,), float64 buffer."""
    var: torch.Tensor
    """Running (population) variance (dim,), float64 buffer."""
    count: torch.Tensor
    """Number of rows folded in so far (a float64 scalar buffer)."""

    def __init__(self, dim: int, clip: float = 10.0, eps: float = 1e-8):
        """Create a normalizer for ``dim``-sized vectors (identity until the first update)."""
        super().__init__()
        self.dim = dim
        self.clip = float(clip)
        self.eps = float(eps)
        self.register_buffer("mean", torch.zeros(dim, dtype=torch.float64))
        self.register_buffer("var", torch.ones(dim, dtype=torch.float64))
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalize ``x`` (..., dim) with the current statistics."""
        mean = self.mean.to(x.dtype)
        std = torch.sqrt(self.var + self.eps).to(x.dtype)
        return torch.clamp((x - mean) / std, -self.clip, self.clip)

    @staticmethod
    def batch_moments(x: torch.Tensor) -> torch.Tensor:
        """Return the sufficient statistics ``[n, sum(x), sum(x^2)]`` (stacked, float64) of rows of ``x``.

        They add across batches and ranks, so a distributed learner all-reduces them before :meth:`merge`.
        """
        x = x.reshape(-1, x.shape[-1]).to(torch.float64)
        n = torch.full((1, x.shape[-1]), float(x.shape[0]), dtype=torch.float64, device=x.device)
        return torch.cat([n, x.sum(0, keepdim=True), (x * x).sum(0, keepdim=True)], dim=0)

    @torch.no_grad()
    def merge(self, moments: torch.Tensor) -> None:
        """Fold batch moments ``[n, sum, sumsq]`` into the running statistics (Chan et al. parallel update).

        With batch mean m_b = sum/n_b and variance v_b = sumsq/n_b - m_b^2:
            delta = m_b - mean,  N = count + n_b
            mean' = mean + delta * n_b / N
            var'  = (var * count + v_b * n_b + delta^2 * count * n_b / N) / N
        """
        moments = moments.to(self.mean.device, torch.float64)
        n_b = moments[0, 0]
        if n_b <= 0:
            return
        m_b = moments[1] / n_b
        v_b = torch.clamp(moments[2] / n_b - m_b * m_b, min=0.0)
        total = self.count + n_b
        delta = m_b - self.mean
        new_mean = self.mean + delta * (n_b / total)
        m2 = self.var * self.count + v_b * n_b + delta * delta * (self.count * n_b / total)
        self.mean.copy_(new_mean)
        self.var.copy_(m2 / total)
        self.count.copy_(total)

    def update(self, x: torch.Tensor) -> None:
        """Fold the rows of ``x`` (..., dim) into the statistics."""
        self.merge(self.batch_moments(x))
