"""The samplers: worker processes (:class:`ProcessSampler`) and collectors in the learner process.

:class:`ProcessSampler`, :class:`InProcessSampler` and :class:`~.async_inprocess.AsyncInProcessSampler` implement
:class:`~isaac_hydra_ext.sampling.base.Sampler`; which one a run gets is decided in one place,
:func:`isaac_hydra_ext.sampling.factory.make_sampler`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..config.schema import ModelConfig
from ..envs.vec_env import VecEnv
from ..models.actor_critic import Policy, build_policy
from ..storage.rollout_buffer import RolloutBuffer
from ..storage.weights import SharedWeights, WeightPublisher, WeightSubscriber
from .base import SamplerStats
from .collector import RolloutCollector, RolloutInfo, collector_seed
from .worker_pool import WorkerPool


class _Publishing:
    """The weight-publishing half every sampler shares: the learner policy's weights, versioned."""

    publisher: WeightPublisher

    def publish(self) -> int:
        """Publish the learner policy's current weights; return the new version."""
        return self.publisher.publish()

    @property
    def policy_version(self) -> int:
        """Version of the newest published weights."""
        return self.publisher.version


class ProcessSampler(_Publishing):
    """``async``/``sync`` with W >= 1: worker processes writing into a shared-memory buffer."""

    def __init__(
        self,
        pool: WorkerPool,
        buffer: RolloutBuffer,
        publisher: WeightPublisher,
        mode: str,
        rollouts_per_iteration: int,
        envs_per_worker: int,
    ):
        """Wrap a :class:`WorkerPool` whose workers write ``buffer`` and read ``publisher``'s weights."""
        self.pool = pool
        self.buffer = buffer
        self.publisher = publisher
        self.mode = mode
        self.rollouts_per_iteration = rollouts_per_iteration
        self.description = f"{mode}: {pool.num_workers} worker processes x {envs_per_worker} envs"
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

    def stats(self) -> SamplerStats:
        """Restarts, occupancy, pids and the pool's rollout counts."""
        pool = self.pool
        return SamplerStats(
            restarts=pool.restarts,
            occupancy=pool.occupancy,
            pids=pool.pids,
            received=pool.received,
            pending=len(pool.ready),
            poisoned=pool.poisoned,
        )


class InProcessSampler(_Publishing):
    """Collectors stepped in the learner process, one rollout after the other.

    * ``serial`` mode: W collectors, each with its own env and a CPU policy copy refreshed from the published
      weights exactly as a worker would (the same numbers as the worker modes, in one process).
    * ``num_workers=0``: one collector acting with the learner's own policy on the env's device (Isaac Lab's GPU
      envs), so nothing is copied to the CPU; collection alternates with the update.
    """

    def __init__(
        self,
        envs: list[VecEnv],
        buffer: RolloutBuffer,
        publisher: WeightPublisher,
        slots_per_collector: int,
        seed: int,
        model_cfg: ModelConfig,
        clip_actions: bool,
        mode: str,
        rollouts_per_iteration: int,
        learner_policy: Policy | None = None,
    ):
        """Build one collector per env; with ``learner_policy`` they act with it, else with subscribed copies."""
        self.buffer = buffer
        self.publisher = publisher
        self.mode = mode
        self.rollouts_per_iteration = rollouts_per_iteration
        self.K = slots_per_collector
        self.collectors: list[RolloutCollector] = []
        self.refreshers: list[Callable[[], int]] = []
        spec = envs[0].spec
        for w, env in enumerate(envs):
            if learner_policy is not None:
                policy = learner_policy
                self.refreshers.append(lambda: self.publisher.version)
            else:
                policy = build_policy(spec.obs_dim, spec.act_dim, model_cfg)
                policy.eval()
                subscriber = WeightSubscriber(policy, publisher.block)

                def refresh(sub: WeightSubscriber = subscriber) -> int:
                    sub.refresh()
                    return sub.version

                self.refreshers.append(refresh)
            self.collectors.append(
                RolloutCollector(
                    env,
                    policy,
                    buffer,
                    seed=collector_seed(seed, w),
                    clip_actions=clip_actions,
                    name=f"collector {w}",
                    worker_id=w,
                )
            )
        where = "the learner's policy" if learner_policy is not None else "CPU policy copies"
        self.description = (
            f"{mode}: {len(envs)} in-process collector(s) x {envs[0].num_envs} envs on "
            f"{envs[0].device}, acting with {where}"
        )
        self.counts = [0] * len(envs)
        self.turn = 0
        self.last_collect_s: float | None = None

    def start(self) -> None:
        """Nothing to start: collectors run when asked."""

    def next_rollouts(self, count: int) -> list[RolloutInfo]:
        """Collect ``count`` rollouts, round-robin over the collectors."""
        t0 = time.perf_counter()
        out = []
        for _ in range(count):
            w = self.turn % len(self.collectors)
            self.turn += 1
            slot = w * self.K + self.counts[w] % self.K
            self.counts[w] += 1
            out.append(self.collectors[w].collect(slot, self.refreshers[w]))
        self.last_collect_s = time.perf_counter() - t0
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

    def stats(self) -> SamplerStats:
        """No worker processes: nothing restarts; collection never overlaps the update."""
        collected = self.last_collect_s is not None
        return SamplerStats(collector_busy_s=self.last_collect_s, overlap=0.0 if collected else None)


def shared_weights_for(policy: Policy, shared: bool) -> WeightPublisher:
    """A publisher of ``policy``'s weights (in shared memory when workers read them), version 1 published."""
    publisher = WeightPublisher(policy, SharedWeights.for_module(policy, shared=shared))
    publisher.publish()
    return publisher
