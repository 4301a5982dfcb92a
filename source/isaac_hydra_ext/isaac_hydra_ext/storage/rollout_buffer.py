"""Preallocated rollout storage: slots of T steps x B envs, optionally in shared memory.

A slot is one worker's rollout. Workers write slots in place and hand over the slot *index*; the learner
gathers the indices it was handed into one :class:`TrajectoryBatch`. Every step is stamped with the policy
version that produced it. Fields are time-major per slot:

====================  ========================  =============================================
field                 shape                     meaning
====================  ========================  =============================================
obs                   (S, T+1, B, obs_dim)      s_0..s_T (s_T: bootstrap observation)
critic_obs            (S, T+1, B, critic_dim)   privileged observation (only if the env has one)
actions               (S, T, B, act_dim)        a_t as sampled (before clipping to bounds)
log_probs             (S, T, B)                 log mu(a_t|s_t) of the behaviour policy
rewards               (S, T, B)                 r_t
terminated            (S, T, B)                 episode ended in a terminal state at t
truncated             (S, T, B)                 episode cut by a time limit at t
final_obs             (S, T, B, obs_dim)        last observation of the episode where done at t
final_critic_obs      (S, T, B, critic_dim)     the same for the critic group
versions              (S, T)                    policy version that acted at step t
hidden                (S, 1, B, state_size)     recurrent policy's state before step 0 (only with ppo.rnn_type)
====================  ========================  =============================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch


@dataclass
class TrajectoryFields:
    """The fields of a rollout (see the module docstring): the slot storage and a gathered batch share them."""

    obs: torch.Tensor
    actions: torch.Tensor
    log_probs: torch.Tensor
    rewards: torch.Tensor
    terminated: torch.Tensor
    truncated: torch.Tensor
    final_obs: torch.Tensor
    versions: torch.Tensor
    critic_obs: torch.Tensor | None = None
    final_critic_obs: torch.Tensor | None = None
    hidden: torch.Tensor | None = None
    """The recurrent policy's flat state at the rollout's start, one row per env (a time axis of length 1)."""


@dataclass
class TrajectoryBatch(TrajectoryFields):
    """Several slots concatenated along the env axis: shapes (T[+1], N, ...) with N = slots * B."""

    @property
    def num_steps(self) -> int:
        """T."""
        return int(self.actions.shape[0])

    @property
    def num_envs(self) -> int:
        """N (envs of all gathered slots)."""
        return int(self.actions.shape[1])


@dataclass
class RolloutBuffer(TrajectoryFields):
    """The slot storage shared by workers and learner: shapes (S, T[+1], B, ...) (see the module docstring)."""

    @classmethod
    def allocate(
        cls,
        num_slots: int,
        steps: int,
        envs: int,
        obs_dim: int,
        act_dim: int,
        critic_obs_dim: int = 0,
        shared: bool = False,
        device: str | torch.device = "cpu",
        state_size: int = 0,
    ) -> RolloutBuffer:
        """Allocate all slots once; ``shared=True`` puts them in shared memory for worker processes.

        Float fields start as NaN, so a read of a slot that was never written cannot pass as data: the
        learner's finite-sample check drops and counts it. ``state_size`` > 0 (a recurrent policy's flat state
        width) adds the ``hidden`` field.
        """
        S, T, B = num_slots, steps, envs

        def floats(*shape: int) -> torch.Tensor:
            return torch.full(shape, math.nan, dtype=torch.float32, device=device)

        def flags() -> torch.Tensor:
            return torch.zeros((S, T, B), dtype=torch.bool, device=device)

        buf = cls(
            obs=floats(S, T + 1, B, obs_dim),
            actions=floats(S, T, B, act_dim),
            log_probs=floats(S, T, B),
            rewards=floats(S, T, B),
            terminated=flags(),
            truncated=flags(),
            final_obs=floats(S, T, B, obs_dim),
            versions=torch.full((S, T), -1, dtype=torch.int64, device=device),
            critic_obs=floats(S, T + 1, B, critic_obs_dim) if critic_obs_dim else None,
            final_critic_obs=floats(S, T, B, critic_obs_dim) if critic_obs_dim else None,
            hidden=floats(S, 1, B, state_size) if state_size else None,
        )
        if shared:
            for t in buf.tensors():
                t.share_memory_()
        return buf

    @staticmethod
    def bytes_needed(
        num_slots: int, steps: int, envs: int, obs_dim: int, act_dim: int, critic_obs_dim: int = 0, state_size: int = 0
    ) -> int:
        """Bytes :meth:`allocate` takes for these sizes (without allocating; each tensor rounded up to 4 KiB pages).

        Equation: with S slots, T steps, B envs, float32 fields
        ``4*S*B*((T+1)*(obs+critic) + T*(act + 2 + obs + critic) + state)`` plus ``2*S*T*B`` bool flags and ``8*S*T``
        versions.
        """
        S, T, B = num_slots, steps, envs
        sizes = [
            4 * S * (T + 1) * B * obs_dim,
            4 * S * T * B * act_dim,
            4 * S * T * B,
            4 * S * T * B,
            S * T * B,
            S * T * B,
            4 * S * T * B * obs_dim,
            8 * S * T,
        ]
        if critic_obs_dim:
            sizes += [4 * S * (T + 1) * B * critic_obs_dim, 4 * S * T * B * critic_obs_dim]
        if state_size:
            sizes.append(4 * S * B * state_size)
        page = 4096
        return sum(-(-n // page) * page for n in sizes)

    def tensors(self) -> list[torch.Tensor]:
        """All allocated field tensors."""
        return [getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None]

    @property
    def num_slots(self) -> int:
        """S."""
        return int(self.actions.shape[0])

    @property
    def steps(self) -> int:
        """T."""
        return int(self.actions.shape[1])

    @property
    def envs(self) -> int:
        """B."""
        return int(self.actions.shape[2])

    @property
    def nbytes(self) -> int:
        """Total bytes of all slots."""
        return sum(t.numel() * t.element_size() for t in self.tensors())

    def poison(self, slot: int) -> None:
        """Mark a slot's contents invalid (NaN), e.g. the partial rollout of a worker that died."""
        for f in fields(self):
            t = getattr(self, f.name)
            if t is not None and t.dtype == torch.float32:
                t[slot].fill_(math.nan)


class BatchGatherer:
    """Gathers a fixed number of slots into one preallocated :class:`TrajectoryBatch` on the learner device.

    Per call: one ``index_select`` per field into a staging copy (pinned host memory when the learner is on a GPU),
    an asynchronous copy to the device, and a permute from slot-major to time-major on the device. Nothing is
    allocated after the first call, so the learner's memory stays flat. The returned batch is overwritten by the
    next call.
    """

    def __init__(self, buffer: RolloutBuffer, num_slots: int, device: str | torch.device):
        """Prepare staging and output tensors for ``num_slots`` slots of ``buffer``."""
        self.buffer, self.K, self.device = buffer, num_slots, torch.device(device)
        src_device = buffer.actions.device
        self.cross_device = src_device != self.device
        pin = self.cross_device and self.device.type == "cuda" and src_device.type == "cpu"
        self.stage: dict[str, torch.Tensor] = {}
        self.dev_stage: dict[str, torch.Tensor] = {}
        self.out: dict[str, torch.Tensor] = {}
        """Batch tensors of the allocated fields; a field the buffer lacks (None) is left at its None default."""
        for f in fields(buffer):
            t = getattr(buffer, f.name)
            if t is None:
                continue
            shape = (num_slots, *t.shape[1:])
            self.stage[f.name] = torch.empty(shape, dtype=t.dtype, device=src_device, pin_memory=pin)
            if self.cross_device:
                self.dev_stage[f.name] = torch.empty(shape, dtype=t.dtype, device=self.device)
            if f.name == "versions":
                self.out[f.name] = torch.empty((t.shape[1], num_slots * buffer.envs), dtype=t.dtype, device=self.device)
            else:
                self.out[f.name] = torch.empty(
                    (t.shape[1], num_slots * t.shape[2], *t.shape[3:]), dtype=t.dtype, device=self.device
                )
        self.index = torch.empty(num_slots, dtype=torch.long, device=src_device)

    def gather(self, slots: list[int]) -> TrajectoryBatch:
        """Copy ``slots`` (exactly ``num_slots`` of them) into the batch; the slots may be reused afterwards."""
        if len(slots) != self.K:
            raise ValueError(f"this gatherer takes {self.K} slots per call, got {len(slots)}")
        self.index.copy_(torch.as_tensor(slots, dtype=torch.long))
        B = self.buffer.envs
        for name, stage in self.stage.items():
            torch.index_select(getattr(self.buffer, name), 0, self.index, out=stage)  # (K, T[+1], B, ...)
        for name, stage in self.stage.items():
            src = stage
            if self.cross_device:
                self.dev_stage[name].copy_(stage, non_blocking=True)
                src = self.dev_stage[name]
            out = self.out[name]
            if name == "versions":  # (K, T) -> (T, K*B): every env of a slot shares its step's version
                out.view(out.shape[0], self.K, B).copy_(src.transpose(0, 1).unsqueeze(-1).expand(-1, -1, B))
            else:  # (K, T, B, ...) -> (T, K*B, ...)
                out.view(out.shape[0], self.K, B, *out.shape[2:]).copy_(src.transpose(0, 1))
        return TrajectoryBatch(**self.out)
