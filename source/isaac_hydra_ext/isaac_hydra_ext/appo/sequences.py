"""The learner's side of a recurrent policy: rollouts replayed as sequences through the policy's memory.

A rollout of T steps of N envs is replayed from the hidden state its worker stored at the rollout's start
(``TrajectoryBatch.hidden``), zeroing the state where an episode starts:

resets_0 = False,   resets_t = done_{t-1}  (t = 1..T),   m_t, h_t = RNN(norm(o_t), 0 if resets_t else h_{t-1})

Values come from the critic on m_t (V(s_T) bootstraps from the same replay; the final observation of an episode cut by
a time limit at t gets one more memory step from h_t). Minibatches are sets of whole sequences (envs), so the
gradient flows through every step of the rollout (truncated backprop through T steps) and stops at episode starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..models.actor_critic import ActorCritic
from ..models.recurrent import RecurrentCritic, RecurrentGaussianPolicy
from ..storage.rollout_buffer import TrajectoryBatch


@dataclass
class SequenceEvaluation:
    """The pre-update model on a batch of rollouts (all (T+1, N, ...) or (T, N, ...), non-finite inputs zeroed)."""

    obs: torch.Tensor
    """o_0..o_T (T+1, N, obs_dim)."""
    critic_obs: torch.Tensor | None
    """Privileged observations (T+1, N, critic_dim) of an asymmetric critic, else None."""
    hidden0: torch.Tensor
    """State at each rollout's start (N, state_size)."""
    resets: torch.Tensor
    """(T+1, N) bool: the memory starts from zero before step t (a new episode)."""
    values_all: torch.Tensor
    """V(s_0..s_T) (T+1, N)."""
    final_values: torch.Tensor
    """V(final observation) (T, N) where truncated at t, else 0."""
    mean: torch.Tensor
    """Policy means of steps 0..T-1 (T, N, act_dim)."""


@dataclass
class PreparedSequences:
    """One iteration's training tensors as whole sequences (T, n, ...) of the n envs with a valid sample."""

    obs: torch.Tensor
    critic_obs: torch.Tensor | None
    hidden0: torch.Tensor
    """(n, state_size) start states."""
    resets: torch.Tensor
    """(T, n) bool: zero the state before step t."""
    valid: torch.Tensor
    """(T, n) bool: the step is trained on (finite, not too lagged)."""
    actions: torch.Tensor
    behaviour_log_probs: torch.Tensor
    target_log_probs: torch.Tensor
    is_weights: torch.Tensor
    advantages: torch.Tensor
    """Normalized over the valid steps (when ``ppo.normalize_advantage``)."""
    returns: torch.Tensor
    old_values: torch.Tensor
    old_mean: torch.Tensor
    old_log_std: torch.Tensor

    @property
    def num_sequences(self) -> int:
        """n: the envs (sequences) minibatches are drawn from."""
        return int(self.valid.shape[1])

    def rows(self, env_ids: torch.Tensor) -> dict[str, torch.Tensor]:
        """The valid steps of the sequences ``env_ids`` as flat rows (time-major), by ``PreparedBatch`` field name."""
        valid = self.valid[:, env_ids]

        def flat(x: torch.Tensor) -> torch.Tensor:
            return x[:, env_ids][valid]

        critic_obs = self.obs if self.critic_obs is None else self.critic_obs
        return {
            "obs": flat(self.obs),
            "critic_obs": flat(critic_obs),
            "actions": flat(self.actions),
            "behaviour_log_probs": flat(self.behaviour_log_probs),
            "target_log_probs": flat(self.target_log_probs),
            "is_weights": flat(self.is_weights),
            "advantages": flat(self.advantages),
            "returns": flat(self.returns),
            "old_values": flat(self.old_values),
            "old_mean": flat(self.old_mean),
            "old_log_std": flat(self.old_log_std),
        }


def _parts(model: ActorCritic) -> tuple[RecurrentGaussianPolicy, RecurrentCritic]:
    policy, critic = model.policy, model.critic
    if not isinstance(policy, RecurrentGaussianPolicy) or not isinstance(critic, RecurrentCritic):
        raise TypeError("sequence replay needs a recurrent actor-critic (ppo.rnn_type lstm or gru)")
    return policy, critic


def evaluate_sequences(model: ActorCritic, batch: TrajectoryBatch) -> SequenceEvaluation:
    """Replay every rollout of ``batch`` through the model (no gradient is needed by the caller)."""
    policy, critic = _parts(model)
    if batch.hidden is None:
        raise ValueError("a recurrent model needs the rollouts' start states (the buffer has no hidden field)")
    T, N = batch.num_steps, batch.num_envs
    obs = torch.nan_to_num(batch.obs)
    critic_obs = None
    final_critic_obs = None
    if model.asymmetric and batch.critic_obs is not None and batch.final_critic_obs is not None:
        critic_obs = torch.nan_to_num(batch.critic_obs, nan=0.0, posinf=0.0, neginf=0.0)
        final_critic_obs = torch.nan_to_num(batch.final_critic_obs)
    hidden0 = torch.nan_to_num(batch.hidden[0], nan=0.0, posinf=0.0, neginf=0.0)
    dones = batch.terminated | batch.truncated
    resets = torch.cat((torch.zeros(1, N, dtype=torch.bool, device=dones.device), dones))
    trunc = batch.truncated
    features, final_features = policy.features(obs, hidden0, resets, torch.nan_to_num(batch.final_obs), trunc)
    values_all = critic(features, critic_obs)
    final_values = torch.zeros(T, N, device=values_all.device)
    if trunc.any() and final_features is not None:
        final_values[trunc] = critic(
            final_features[trunc], None if final_critic_obs is None else final_critic_obs[trunc]
        )
    mean = policy.mean_net(features[:-1])
    return SequenceEvaluation(obs, critic_obs, hidden0, resets, values_all, final_values, mean)


def sequence_forward(
    model: ActorCritic, seq: PreparedSequences, env_ids: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Policy means (n_valid, act_dim) and the critic's raw outputs (n_valid,) of the sequences ``env_ids``.

    The sequences are replayed with gradient from their stored start states; rows are their valid steps in the
    order of :meth:`PreparedSequences.rows`.
    """
    policy, critic = _parts(model)
    features, _ = policy.features(seq.obs[:, env_ids], seq.hidden0[env_ids], seq.resets[:, env_ids])
    valid = seq.valid[:, env_ids]
    picked = features[valid]
    critic_obs = None if seq.critic_obs is None else seq.critic_obs[:, env_ids][valid]
    return policy.mean_net(picked), critic.normalized(picked, critic_obs)
