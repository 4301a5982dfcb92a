"""The recurrent actor-critic (``ppo.rnn_type=lstm|gru``): a memory between the observation normalizer and the MLPs.

pi(a_t | o_<=t) = N(mu(m_t), diag(exp(log_std))^2),   m_t, h_t = RNN(norm(o_t), h_{t-1}),   h = 0 at an episode start

The critic reads the same memory output (a shared recurrent core, as in IMPALA and Sample Factory):
V_t = MLP(m_t) (with an asymmetric critic, MLP([m_t, norm(c_t)]) of the privileged observation c_t). Workers run only
the policy, so the policy's memory state is the one state a rollout has to carry; the buffer stores it at each
rollout's start and the learner replays the rollout from it (:meth:`RecurrentMemory.unroll`).

Hidden states travel as one flat float32 row per env, (N, state_size) with state_size = C * L * H (C = 2 for an LSTM's
(h, c), 1 for a GRU; L layers of H units), so the rollout buffer, the workers and export handle LSTM and GRU alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ..config.schema import ModelConfig
from .layers import ReturnNormalization, build_mlp, gaussian_log_prob, orthogonal_init
from .normalizer import RunningNormalizer

RNN_SHAPE_KEYS = ("rnn_type", "rnn_hidden_dim", "rnn_num_layers")
"""The :class:`~isaac_hydra_ext.config.schema.ModelConfig` fields that define the recurrent memory."""


class RecurrentMemory(nn.Module):
    """An ``nn.LSTM`` or ``nn.GRU`` (time-major) whose state is a flat (N, state_size) row per env."""

    def __init__(self, input_dim: int, rnn_type: str, hidden_dim: int, num_layers: int):
        """Build the recurrent layers (PyTorch's default initialization, as rsl_rl's memory)."""
        super().__init__()
        if rnn_type not in ("lstm", "gru"):
            raise ValueError(f"rnn_type={rnn_type!r} is not one of lstm, gru")
        self.is_lstm = rnn_type == "lstm"
        rnn_cls = nn.LSTM if self.is_lstm else nn.GRU
        self.rnn = rnn_cls(input_dim, hidden_dim, num_layers)
        self.hidden_dim, self.num_layers = hidden_dim, num_layers
        self.parts = 2 if self.is_lstm else 1
        self.state_size = self.parts * num_layers * hidden_dim

    def initial_state(self, n: int, device: str | torch.device | None = None) -> torch.Tensor:
        """The state of ``n`` envs at an episode start: zeros (n, state_size)."""
        return torch.zeros(n, self.state_size, device=device)

    def _unpack(self, flat: torch.Tensor) -> torch.Tensor:
        """(N, C*L*H) -> (C, L, N, H), the layout ``nn.LSTM``/``nn.GRU`` take."""
        n = flat.shape[0]
        return flat.reshape(n, self.parts, self.num_layers, self.hidden_dim).permute(1, 2, 0, 3).contiguous()

    @staticmethod
    def _pack(state: torch.Tensor) -> torch.Tensor:
        """(C, L, N, H) -> (N, C*L*H)."""
        return state.permute(2, 0, 1, 3).reshape(state.shape[2], -1)

    def _run(self, x: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the layers over x (T, N, D) from ``state`` (C, L, N, H); return outputs (T, N, H) and the last state."""
        if self.is_lstm:
            out, (h, c) = self.rnn(x, (state[0], state[1]))
            return out, torch.stack((h, c))
        out, h = self.rnn(x, state[0])
        return out, h.unsqueeze(0)

    def step(self, x: torch.Tensor, flat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One step of N envs: x (N, D), state (N, state_size) -> output (N, H), next state (N, state_size)."""
        out, state = self._run(x.unsqueeze(0), self._unpack(flat))
        return out[0], self._pack(state)

    def unroll(
        self,
        x: torch.Tensor,
        flat0: torch.Tensor,
        resets: torch.Tensor,
        final_x: torch.Tensor | None = None,
        final_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Replay T steps of N sequences from their start states, zeroing the state where an episode starts.

        h_t = RNN(x_t, 0 if resets[t] else h_{t-1}),   h_{-1} = flat0

        ``x`` (T, N, D), ``flat0`` (N, state_size), ``resets`` (T, N) bool. The layers run once per stretch of steps
        without a reset in any env (the state is zeroed only at a stretch's start), so the gradient flows through
        all T steps of an episode's part of the rollout and stops where an episode ends (truncated backprop).

        With ``final_x`` (T, N, D) and ``final_mask`` (T, N) (where an episode was cut by a time limit at t, so
        resets[t+1]): the output of one more step on ``final_x[t]`` from the state after step t, for the value of
        the episode's final observation; returned as (T, N, H), zeros elsewhere.
        """
        T = x.shape[0]
        state = self._unpack(flat0)
        starts = sorted({0, *resets.any(dim=1).nonzero().flatten().tolist()})
        bounds = [*starts, T]
        outs: list[torch.Tensor] = []
        final_out = None
        if final_x is not None and final_mask is not None:
            final_out = torch.zeros(*final_mask.shape, self.hidden_dim, device=x.device, dtype=x.dtype)
        for a, b in zip(bounds[:-1], bounds[1:]):
            keep = ~resets[a]  # (N,): envs whose episode continues into step a
            state = torch.where(keep.view(1, 1, -1, 1), state, torch.zeros_like(state))
            out, state = self._run(x[a:b], state)
            outs.append(out)
            if final_out is not None and final_x is not None and final_mask is not None and b - 1 < final_mask.shape[0]:
                cut = final_mask[b - 1]
                if cut.any():
                    idx = cut.nonzero().flatten()
                    step_out, _ = self._run(final_x[b - 1, idx].unsqueeze(0), state[:, :, idx])
                    final_out[b - 1, idx] = step_out[0].to(final_out.dtype)
        return torch.cat(outs), final_out


class RecurrentGaussianPolicy(nn.Module):
    """pi(a_t | o_<=t) = N(mu(RNN(norm(o_t), h_{t-1})), diag(exp(log_std))^2): what recurrent workers run."""

    is_recurrent = True
    """Collectors, replay and export carry a hidden state for policies that say so."""

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        hidden_dims: Sequence[int],
        activation: str,
        init_std: float,
        obs_normalization: bool,
        obs_clip: float,
        orthogonal: bool,
        rnn_type: str,
        rnn_hidden_dim: int,
        rnn_num_layers: int,
    ):
        """Build the normalizer, the memory, the mean MLP on the memory's output and the log-std parameter."""
        super().__init__()
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.normalizer: nn.Module = RunningNormalizer(obs_dim, clip=obs_clip) if obs_normalization else nn.Identity()
        self.memory = RecurrentMemory(obs_dim, rnn_type, rnn_hidden_dim, rnn_num_layers)
        self.mean_net = build_mlp(rnn_hidden_dim, hidden_dims, act_dim, activation)
        if orthogonal:
            orthogonal_init(self.mean_net, output_gain=0.01)
        self.log_std = nn.Parameter(torch.full((act_dim,), math.log(init_std)))

    @property
    def state_size(self) -> int:
        """Width of one env's flat hidden state."""
        return self.memory.state_size

    def initial_state(self, n: int, device: str | torch.device | None = None) -> torch.Tensor:
        """Zeros (n, state_size): the state at an episode start."""
        return self.memory.initial_state(n, device)

    def forward(self, obs: torch.Tensor, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Deterministic action (the mean) and the next state for raw observations (N, obs_dim), state (N, S)."""
        out, next_hidden = self.memory.step(self.normalizer(obs), hidden)
        return self.mean_net(out), next_hidden

    def act(
        self, obs: torch.Tensor, hidden: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sample actions; return (actions, log-probabilities, next hidden state)."""
        mean, next_hidden = self.forward(obs, hidden)
        log_std = self.log_std.expand_as(mean)
        noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        actions = mean + torch.exp(log_std) * noise
        return actions, gaussian_log_prob(actions, mean, log_std), next_hidden

    def features(
        self,
        obs: torch.Tensor,
        hidden0: torch.Tensor,
        resets: torch.Tensor,
        final_obs: torch.Tensor | None = None,
        final_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Memory outputs m_t (T, N, H) of raw observation sequences (see :meth:`RecurrentMemory.unroll`)."""
        final_x = None if final_obs is None else self.normalizer(final_obs)
        return self.memory.unroll(self.normalizer(obs), hidden0, resets, final_x, final_mask)


class RecurrentCritic(ReturnNormalization, nn.Module):
    """V_t = MLP(m_t) (asymmetric: MLP([m_t, norm(c_t)])) on the policy memory's output m_t.

    Value normalization as :class:`~.actor_critic.ValueFunction`: V = mu_R + sigma_R * MLP(...).
    """

    def __init__(
        self,
        memory_dim: int,
        critic_obs_dim: int,
        hidden_dims: Sequence[int],
        activation: str,
        obs_normalization: bool,
        obs_clip: float,
        orthogonal: bool,
        value_normalization: bool,
    ):
        """``critic_obs_dim`` > 0: an asymmetric critic that also sees the (normalized) privileged observation."""
        super().__init__()
        self.critic_obs_dim = critic_obs_dim
        self.normalizer: nn.Module = (
            RunningNormalizer(critic_obs_dim, clip=obs_clip) if obs_normalization and critic_obs_dim else nn.Identity()
        )
        self.value_net = build_mlp(memory_dim + critic_obs_dim, hidden_dims, 1, activation)
        if orthogonal:
            orthogonal_init(self.value_net, output_gain=1.0)
        self.return_normalizer = RunningNormalizer(1, clip=math.inf) if value_normalization else None

    def normalized(self, features: torch.Tensor, critic_obs: torch.Tensor | None = None) -> torch.Tensor:
        """The network's raw output (...,) for memory outputs (..., H) (and critic observations when asymmetric)."""
        x = features if not self.critic_obs_dim else torch.cat((features, self.normalizer(critic_obs)), dim=-1)
        return self.value_net(x).squeeze(-1)

    def forward(self, features: torch.Tensor, critic_obs: torch.Tensor | None = None) -> torch.Tensor:
        """Values (...,) in reward units."""
        return self.denormalize_value(self.normalized(features, critic_obs))


def build_recurrent_policy(obs_dim: int, act_dim: int, cfg: ModelConfig) -> RecurrentGaussianPolicy:
    """The recurrent policy of ``cfg`` (``cfg.rnn_type`` is lstm or gru)."""
    return RecurrentGaussianPolicy(
        obs_dim,
        act_dim,
        cfg.actor_hidden_dims,
        cfg.activation,
        cfg.init_std,
        cfg.obs_normalization,
        cfg.obs_clip,
        cfg.orthogonal_init,
        cfg.rnn_type,
        cfg.rnn_hidden_dim,
        cfg.rnn_num_layers,
    )


def build_recurrent_critic(critic_obs_dim: int, cfg: ModelConfig) -> RecurrentCritic:
    """The critic on the recurrent policy's memory (``critic_obs_dim`` > 0: asymmetric)."""
    return RecurrentCritic(
        cfg.rnn_hidden_dim,
        critic_obs_dim,
        cfg.critic_hidden_dims,
        cfg.activation,
        cfg.obs_normalization,
        cfg.obs_clip,
        cfg.orthogonal_init,
        cfg.value_normalization,
    )


class StatefulPolicy:
    """A policy as a plain ``obs -> actions`` callable for loops that step envs (replay, videos).

    Feed-forward policies are called as they are; a recurrent one carries its hidden state between calls and
    :meth:`reset` zeroes it for the envs whose episode ended (call it with the step's done flags).
    """

    def __init__(self, policy: nn.Module):
        """Wrap ``policy`` (a GaussianPolicy or a RecurrentGaussianPolicy)."""
        self.policy = policy
        self.recurrent = isinstance(policy, RecurrentGaussianPolicy)
        self.hidden: torch.Tensor | None = None

    def __call__(self, obs: torch.Tensor) -> torch.Tensor:
        """Deterministic actions for ``obs`` (N, obs_dim)."""
        policy = self.policy
        if not isinstance(policy, RecurrentGaussianPolicy):
            return policy(obs)
        if self.hidden is None or self.hidden.shape[0] != obs.shape[0]:
            self.hidden = policy.initial_state(obs.shape[0], obs.device)
        actions, self.hidden = policy(obs, self.hidden)
        return actions

    def reset(self, done: torch.Tensor) -> None:
        """Zero the state of the envs whose episode ended (``done`` (N,) bool)."""
        if self.hidden is not None:
            mask = done.to(self.hidden.device).view(-1, 1)
            self.hidden = torch.where(mask, torch.zeros_like(self.hidden), self.hidden)
