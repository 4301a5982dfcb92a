"""The sampler contract: what the runner needs from whatever collects rollouts.

A sampler owns the rollout buffer and the published policy weights. The runner drives it with five calls per
iteration: :meth:`Sampler.next_rollouts` (block until complete rollouts are ready), gather their slots from
:attr:`Sampler.buffer`, :meth:`Sampler.release` the slots, train, :meth:`Sampler.publish` the new weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ..storage.rollout_buffer import RolloutBuffer
from .collector import RolloutInfo


@dataclass
class SamplerStats:
    """Health and bookkeeping of a sampler, for logs and ``summary.json``."""

    restarts: int = 0
    """Worker processes replaced so far."""
    occupancy: float = 0.0
    """Fraction of slots holding complete rollouts that the learner has not taken yet."""
    pids: list[int] = field(default_factory=list)
    """Worker process ids (empty without worker processes)."""
    received: int | None = None
    """Complete rollouts announced by workers (None without worker processes)."""
    pending: int | None = None
    """Announced rollouts not yet taken by the learner (None without worker processes)."""
    poisoned: int | None = None
    """Slots discarded because their worker died or hung while writing them (None without worker processes)."""
    collector_busy_s: float | None = None
    """Seconds the in-process collector spent collecting during the last learner iteration (from the end of one
    publication to the end of the next); None with worker processes."""
    overlap: float | None = None
    """Fraction of the last update (gather, update, publish) during which the in-process collector was collecting:
    0 when collection alternates with the update, up to 1 when it fully overlaps; None with worker processes."""
    samples_by_lag: dict[int, int] | None = None
    """Samples handed to the learner so far, by policy lag in versions (the in-process async sampler counts them:
    only lags 0 and 1 occur); None where not counted."""


class Sampler(Protocol):
    """Collects rollouts into :attr:`buffer` with the weights :meth:`publish` hands out."""

    buffer: RolloutBuffer
    """Where rollouts are written; slot indices cross process boundaries, tensors never do."""
    mode: str
    """What this sampler really does: ``async``, ``sync`` or ``serial`` (reported in ``summary.json``)."""
    description: str
    """One line for the console and ``summary.json``, e.g. ``async: 15 worker processes x 256 envs``."""
    rollouts_per_iteration: int
    """Rollouts the learner trains on per iteration."""

    def start(self) -> None:
        """Start collecting (worker processes are started here, not at construction)."""
        ...

    def next_rollouts(self, count: int) -> list[RolloutInfo] | None:
        """Block until ``count`` complete rollouts are ready, oldest first; None when a stop was requested."""
        ...

    def release(self, slots: list[int]) -> None:
        """Hand gathered slots back for writing."""
        ...

    def publish(self) -> int:
        """Publish the learner policy's current weights to the collectors; return the new policy version."""
        ...

    @property
    def policy_version(self) -> int:
        """Version of the newest published weights (1 after construction)."""
        ...

    def stop(self) -> None:
        """Stop collecting and release every process, env and shared segment."""
        ...

    def stats(self) -> SamplerStats:
        """Current health and bookkeeping."""
        ...
