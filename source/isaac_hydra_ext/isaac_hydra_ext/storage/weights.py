"""Versioned policy weights in shared memory: one writer (the learner), many readers (the workers).

The policy's whole state (parameters and normalizer statistics) is flattened into one float32 vector in
shared memory, guarded by a sequence counter (a seqlock):

* publish: ``seq += 1`` (odd: writing), copy the vector, ``seq += 1`` (even: consistent);
* read: read ``seq`` (retry while odd), copy the vector, read ``seq`` again; a changed ``seq`` means the
  copy may be torn, so retry.

The published version is ``seq // 2``, so version k is the k-th publication; readers skip the copy when
the version has not changed. Nothing is pickled or queued in the hot path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn


def _state_tensors(module: nn.Module) -> list[tuple[str, torch.Tensor]]:
    return list(module.state_dict(keep_vars=False).items())


@dataclass
class SharedWeights:
    """The shared block a :class:`WeightPublisher` writes and :class:`WeightSubscriber` s read (picklable)."""

    flat: torch.Tensor
    """(numel,) float32: the concatenated state tensors of the policy."""
    seq: torch.Tensor
    """(1,) int64 sequence counter; version = seq // 2."""

    @classmethod
    def for_module(cls, module: nn.Module, shared: bool = True) -> SharedWeights:
        """Allocate a block sized for ``module``'s state."""
        numel = sum(t.numel() for _, t in _state_tensors(module))
        block = cls(flat=torch.zeros(numel, dtype=torch.float32), seq=torch.zeros(1, dtype=torch.int64))
        if shared:
            block.flat.share_memory_()
            block.seq.share_memory_()
        return block

    @property
    def version(self) -> int:
        """Version of the last complete publication (-1 while a first publication is being written)."""
        s = int(self.seq[0])
        return s // 2 if s % 2 == 0 else (s - 1) // 2


class WeightPublisher:
    """Writes a module's state into a :class:`SharedWeights` block with an increasing version."""

    def __init__(self, module: nn.Module, block: SharedWeights):
        """Publish ``module`` (its state may live on any device) into ``block``."""
        self.module = module
        self.block = block
        self._staging = torch.empty_like(block.flat)

    @torch.no_grad()
    def publish(self) -> int:
        """Copy the module's current state into shared memory; return the new version."""
        offset = 0
        for _, t in _state_tensors(self.module):
            n = t.numel()
            self._staging[offset : offset + n].copy_(t.reshape(-1))  # device -> host, cast to float32
            offset += n
        self.block.seq += 1  # odd: readers retry
        self.block.flat.copy_(self._staging)
        self.block.seq += 1  # even: consistent
        return self.block.version

    @property
    def version(self) -> int:
        """Version of the last publication."""
        return self.block.version


class WeightSubscriber:
    """Loads the latest published state into a local module when the version changes."""

    def __init__(self, module: nn.Module, block: SharedWeights):
        """Keep ``module`` (a worker's local policy copy) in step with ``block``."""
        self.module = module
        self.block = block
        self._local = torch.empty_like(block.flat)
        self._targets = _state_tensors(module)
        expected = sum(t.numel() for _, t in self._targets)
        if expected != block.flat.numel():
            raise ValueError(f"weight block holds {block.flat.numel()} values, the module needs {expected}")
        self.version = -1

    @torch.no_grad()
    def refresh(self, timeout_s: float = 5.0) -> bool:
        """Load a newer publication if there is one; return True when the module changed."""
        deadline = time.monotonic() + timeout_s
        while True:
            s1 = int(self.block.seq[0])
            if s1 % 2 == 0:
                if s1 // 2 == self.version:
                    return False
                self._local.copy_(self.block.flat)
                if int(self.block.seq[0]) == s1:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError("could not read a consistent weight publication (publisher stuck mid-write)")
            time.sleep(0.0005)
        offset = 0
        for _, t in self._targets:
            n = t.numel()
            t.copy_(self._local[offset : offset + n].view_as(t))
            offset += n
        self.version = s1 // 2
        return True
