"""The learner's per-iteration training tensors, prepared once before the epochs.

Shared by the algorithm, which fills them, and the symmetry augmentation, which appends mirror images to them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class PreparedBatch:
    """Flat (n_valid, ...) training tensors of one iteration, computed once before the epochs."""

    obs: torch.Tensor
    critic_obs: torch.Tensor
    actions: torch.Tensor
    behaviour_log_probs: torch.Tensor
    target_log_probs: torch.Tensor
    """log pi_target(a|s): the policy at the start of this update (the PPO trust region's centre)."""
    is_weights: torch.Tensor
    """min(rho_bar, pi_target/mu): truncated importance weights of the behaviour samples (V-trace mode)."""
    advantages: torch.Tensor
    returns: torch.Tensor
    old_values: torch.Tensor
    old_mean: torch.Tensor
    old_log_std: torch.Tensor
