"""What a recurrent policy is exported as: one deterministic step that takes and returns the hidden state.

LSTM: ``(obs, h_in, c_in) -> (actions, h_out, c_out)``; GRU: ``(obs, h_in) -> (actions, h_out)``; ``obs`` is
(batch, obs_dim), each state (num_layers, batch, rnn_hidden_dim) (PyTorch's layout for ``nn.LSTM``/``nn.GRU``).
A robot program starts every state at zeros, feeds each step's outputs back as the next step's inputs, and zeroes
them again when an episode starts. The observation normalization is folded in, as for feed-forward policies.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from .recurrent import RecurrentGaussianPolicy


class LSTMStep(nn.Module):
    """``(obs, h_in, c_in) -> (actions, h_out, c_out)``: one deterministic step of an LSTM policy."""

    def __init__(self, policy: RecurrentGaussianPolicy):
        """Copy the normalizer, the LSTM and the mean network of ``policy`` (float32, CPU)."""
        super().__init__()
        self.normalizer = copy.deepcopy(policy.normalizer).float().cpu()
        self.rnn = copy.deepcopy(policy.memory.rnn).float().cpu()
        self.mean_net = copy.deepcopy(policy.mean_net).float().cpu()
        self.eval()

    def forward(
        self, obs: torch.Tensor, h_in: torch.Tensor, c_in: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Actions and the next state for raw observations (N, obs_dim) and states (L, N, H)."""
        out, (h_out, c_out) = self.rnn(self.normalizer(obs).unsqueeze(0), (h_in, c_in))
        return self.mean_net(out[0]), h_out, c_out


class GRUStep(nn.Module):
    """``(obs, h_in) -> (actions, h_out)``: one deterministic step of a GRU policy."""

    def __init__(self, policy: RecurrentGaussianPolicy):
        """Copy the normalizer, the GRU and the mean network of ``policy`` (float32, CPU)."""
        super().__init__()
        self.normalizer = copy.deepcopy(policy.normalizer).float().cpu()
        self.rnn = copy.deepcopy(policy.memory.rnn).float().cpu()
        self.mean_net = copy.deepcopy(policy.mean_net).float().cpu()
        self.eval()

    def forward(self, obs: torch.Tensor, h_in: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Actions and the next state for raw observations (N, obs_dim) and a state (L, N, H)."""
        out, h_out = self.rnn(self.normalizer(obs).unsqueeze(0), h_in)
        return self.mean_net(out[0]), h_out


@dataclass
class ExportSignature:
    """A module to export and its named inputs and outputs (also used for feed-forward policies)."""

    module: nn.Module
    example_inputs: tuple[torch.Tensor, ...]
    """Batch-1 zeros of every input, in order."""
    input_names: list[str]
    output_names: list[str]
    batch_axes: dict[str, int]
    """Input/output name -> its batch axis (0 for obs and actions, 1 for states)."""


def recurrent_signature(policy: RecurrentGaussianPolicy) -> ExportSignature:
    """The deployment step of ``policy``: inputs ``obs, h_in[, c_in]``, outputs ``actions, h_out[, c_out]``."""
    memory = policy.memory
    state = torch.zeros(memory.num_layers, 1, memory.hidden_dim)
    obs = torch.zeros(1, policy.obs_dim)
    if memory.is_lstm:
        return ExportSignature(
            LSTMStep(policy),
            (obs, state, state.clone()),
            ["obs", "h_in", "c_in"],
            ["actions", "h_out", "c_out"],
            {"obs": 0, "h_in": 1, "c_in": 1, "actions": 0, "h_out": 1, "c_out": 1},
        )
    return ExportSignature(
        GRUStep(policy),
        (obs, state),
        ["obs", "h_in"],
        ["actions", "h_out"],
        {"obs": 0, "h_in": 1, "actions": 0, "h_out": 1},
    )
