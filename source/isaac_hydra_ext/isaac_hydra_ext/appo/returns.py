"""Advantage and value targets: GAE and V-trace, over time-major (T, N) tensors.

Both take ``next_values`` already resolved for episode ends, so truncation and termination are handled in
one place (:func:`bootstrap_next_values`):

* not done:    V'_t = V(s_{t+1})
* truncated:   V'_t = V(final observation of the episode)   (time-out: bootstrap, never treat as terminal)
* terminated:  V'_t = 0

and ``dones`` (terminated or truncated) cut the recursion, because the next row of the buffer belongs to a
new episode.
"""

from __future__ import annotations

import torch


def bootstrap_next_values(
    values_next: torch.Tensor, final_values: torch.Tensor, terminated: torch.Tensor, truncated: torch.Tensor
) -> torch.Tensor:
    """V'_t = 0 if terminated, V(final obs) if truncated, else V(s_{t+1}); all (T, N)."""
    out = torch.where(truncated, final_values, values_next)
    return torch.where(terminated, torch.zeros_like(out), out)


def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_values: torch.Tensor,
    dones: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalized advantage estimation (Schulman et al. 2016); returns (advantages, returns), each (T, N).

    delta_t = r_t + gamma * V'_t - V_t
    A_t     = delta_t + gamma * lam * (1 - done_t) * A_{t+1},   A_T = 0
    R_t     = A_t + V_t
    """
    not_done = 1.0 - dones.to(values.dtype)
    deltas = rewards + gamma * next_values - values
    advantages = torch.zeros_like(values)
    running = torch.zeros_like(values[0])
    for t in range(values.shape[0] - 1, -1, -1):
        running = deltas[t] + gamma * lam * not_done[t] * running
        advantages[t] = running
    return advantages, advantages + values


def vtrace(
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_values: torch.Tensor,
    dones: torch.Tensor,
    log_rhos: torch.Tensor,
    gamma: float,
    lam: float,
    rho_clip: float = 1.0,
    c_clip: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """V-trace targets (Espeholt et al. 2018, eq. 1, with lambda traces); returns (advantages, vs), each (T, N).

    ``log_rhos`` = log pi(a_t|s_t) - log mu(a_t|s_t): target policy over the behaviour policy that acted.

    rho_t = min(rho_bar, pi/mu),   c_t = lam * min(c_bar, pi/mu)
    delta_t = r_t + gamma * V'_t - V_t
    vs_t - V_t = rho_t * delta_t + gamma * c_t * (1 - done_t) * (vs_{t+1} - V_{t+1}),   vs_T - V_T = 0

    The policy-gradient advantage leaves the importance weight of the current step out; the surrogate loss applies
    it (rho_t times the clipped ratio pi_theta/pi_target, see ``APPO._loss``):

    A_t = delta_t + gamma * c_t * (1 - done_t) * (vs_{t+1} - V_{t+1})

    On-policy (pi = mu, so rho = 1 and c = lam) this is exactly GAE(lambda): A_t = A^GAE_t and vs_t = R^GAE_t.
    """
    not_done = 1.0 - dones.to(values.dtype)
    is_ratio = torch.exp(log_rhos)
    rhos = torch.clamp(is_ratio, max=rho_clip)
    cs = lam * torch.clamp(is_ratio, max=c_clip)
    deltas = rewards + gamma * next_values - values
    vs_minus_v = torch.zeros_like(values)
    advantages = torch.zeros_like(values)
    later = torch.zeros_like(values[0])  # vs_{t+1} - V_{t+1}
    for t in range(values.shape[0] - 1, -1, -1):
        carried = gamma * cs[t] * not_done[t] * later
        advantages[t] = deltas[t] + carried
        later = rhos[t] * deltas[t] + carried
        vs_minus_v[t] = later
    return advantages, vs_minus_v + values
