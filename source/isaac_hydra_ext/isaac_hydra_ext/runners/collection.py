"""Where rollouts come from: worker processes, or collectors inside the learner process.

Both strategies offer the same four calls to the runner: ``start()``, ``next_rollouts(n)``,
``release(slots)`` and ``stop()``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..appo.models import GaussianPolicy, build_policy
from ..envs.vec_env import VecEnv
from ..storage.rollout_buffer import RolloutBuffer
from ..storage.weights import SharedWeights, WeightSubscriber
from .collector import RolloutCollector, RolloutInfo, collector_seed
from .worker_pool import WorkerPool


class ProcessCollection:
    """``async``/``sync`` modes: W worker processes writing into a shared-memory buffer."""

    def __init__(self, pool: WorkerPool):
        """Wrap a :class:`WorkerPool`."""
        self.pool = pool
        self.first_release_done = False

    def start(self) -> None:
        """Start the workers, each with one slot.

        The first iteration is then one rollout per worker, all with the initial weights (reproducible with a fixed
        seed); the other slots follow after it.
        """
        self.pool.start_workers()
        for wid in range(self.pool.num_workers):
            self.pool.return_slot(wid * self.pool.slots_per_worker)

    def next_rollouts(self, count: int) -> list[RolloutInfo] | None:
        """The ``count`` oldest complete rollouts (blocks; None when a stop was requested)."""
        return self.pool.next_rollouts(count)

    def release(self, slots: list[int]) -> None:
        """Hand gathered slots back to their workers (and, once, the slots held back at start)."""
        for slot in slots:
            self.pool.return_slot(slot)
        if not self.first_release_done:
            self.first_release_done = True
            K = self.pool.slots_per_worker
            for wid in range(self.pool.num_workers):
                for slot in range(wid * K + 1, (wid + 1) * K):
                    self.pool.return_slot(slot)

    def stop(self) -> None:
        """Stop and reap every worker."""
        self.pool.stop()

    @property
    def restarts(self) -> int:
        """Worker restarts so far."""
        return self.pool.restarts

    @property
    def pids(self) -> list[int]:
        """Worker process ids."""
        return self.pool.pids

    @property
    def occupancy(self) -> float:
        """Fraction of slots holding complete rollouts not yet taken by the learner."""
        return self.pool.occupancy


class InProcessCollection:
    """``serial`` mode (W collectors, CPU policy copies, one process) and Isaac Lab's in-process GPU collection.

    In serial mode each collector steps its own env with a policy copy refreshed from the published weights,
    exactly as a worker would. With ``learner_policy`` given (GPU in-process collection) one collector acts
    with the learner's own policy on the env's device, so nothing is copied to the CPU.
    """

    def __init__(
        self,
        envs: list[VecEnv],
        buffer: RolloutBuffer,
        slots_per_collector: int,
        seed: int,
        obs_dim: int,
        act_dim: int,
        ppo_cfg,
        clip_actions: bool,
        weights: SharedWeights | None = None,
        learner_policy: GaussianPolicy | None = None,
        version: Callable[[], int] | None = None,
    ):
        """Build one collector per env."""
        self.buffer = buffer
        self.K = slots_per_collector
        self.collectors: list[RolloutCollector] = []
        self.refreshers: list[Callable[[], int]] = []
        for w, env in enumerate(envs):
            if learner_policy is not None:
                policy = learner_policy
                self.refreshers.append(version)
            else:
                policy = build_policy(obs_dim, act_dim, ppo_cfg)
                policy.eval()
                subscriber = WeightSubscriber(policy, weights)

                def refresh(sub: WeightSubscriber = subscriber) -> int:
                    sub.refresh()
                    return sub.version

                self.refreshers.append(refresh)
            self.collectors.append(
                RolloutCollector(env, policy, buffer, seed=collector_seed(seed, w), clip_actions=clip_actions,
                                 name=f"collector {w}", worker_id=w)
            )
        self.counts = [0] * len(envs)
        self.turn = 0

    def start(self) -> None:
        """Nothing to start: collectors run when asked."""

    def next_rollouts(self, count: int) -> list[RolloutInfo]:
        """Collect ``count`` rollouts, round-robin over the collectors."""
        out = []
        for _ in range(count):
            w = self.turn % len(self.collectors)
            self.turn += 1
            slot = w * self.K + self.counts[w] % self.K
            self.counts[w] += 1
            out.append(self.collectors[w].collect(slot, self.refreshers[w]))
        return out

    def release(self, slots: list[int]) -> None:
        """Nothing to hand back in one process."""

    def stop(self) -> None:
        """Close every env."""
        for collector in self.collectors:
            try:
                collector.env.close()
            except Exception:
                pass

    restarts = 0
    occupancy = 0.0

    @property
    def pids(self) -> list[int]:
        """No worker processes."""
        return []


def shared_device(envs: list[VecEnv]) -> torch.device:
    """The device the envs return tensors on (they must agree)."""
    devices = {str(env.device) for env in envs}
    if len(devices) != 1:
        raise ValueError(f"collectors' envs are on different devices: {sorted(devices)}")
    return envs[0].device
