"""Asynchronous collection in the learner process (``ppo.mode=async``, ``ppo.num_workers=0``).

A collector thread steps the one vectorized env (an Isaac Lab GPU env, or any env on the CPU) with a *snapshot* of
the policy while the main thread trains, so collecting rollout k+1 overlaps the update on rollout k:

* **Snapshot.** The collector acts with its own copy of the policy on the env's device, refreshed from the
  learner's published weights (a :class:`~isaac_hydra_ext.storage.weights.WeightSubscriber` over the publisher's
  block) only at a rollout boundary, so every step of a rollout carries the same version stamp.
* **Lag exactly 0 or 1.** Rollout j of iteration i = j // R (R rollouts per iteration) starts only when at least i
  versions are published. The learner trains iteration i at version i + 1 (one publication per update after the
  initial one), so lag = (i + 1) - version <= 1: rollout k+1 is collected with the weights from before update k,
  never older. V-trace and the version stamps correct that lag, as they do for worker processes.
* **Slots.** K >= R slots; a free slot is written, announced, taken by :meth:`next_rollouts`, gathered, released.
* **Errors.** Anything the thread raises surfaces in the main thread as :class:`~.collector.EnvError` at the next
  :meth:`next_rollouts` (in one process there is no restart: ``on_env_error`` acts as ``raise``).
* **Stop.** :meth:`stop` asks the thread to stop at its next env step and joins it; the rollout it was writing is
  never announced.
* **CUDA.** The env and the collector keep the thread's default stream (where the env expects to run); at
  :meth:`start` the main thread switches to a dedicated learner stream, so gathering, the update and publishing
  can run on the GPU beside the env. Hand-overs are ordered with CUDA events: the learner's stream waits for the
  event recorded after a slot's last write, and the collector's stream waits for the event recorded after the
  learner gathered the slot before writing it again.

On a CPU env the overlap is bounded by Python's GIL: the two threads run Python in turns, and only what releases
the GIL overlaps (``mujoco.rollout``, torch operators, Newton's kernels). See docs/architecture.md.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections import deque
from collections.abc import Callable

import torch

from ..envs.vec_env import VecEnv
from ..models.actor_critic import Policy
from ..storage.rollout_buffer import RolloutBuffer
from ..storage.weights import WeightPublisher, WeightSubscriber
from .base import SamplerStats
from .collector import EnvError, RolloutCollector, RolloutInfo, collector_seed
from .samplers import _Publishing

log = logging.getLogger(__name__)

_POLL_S = 0.05
"""How often a waiting thread re-checks the stop request and the other thread's state."""


STOP_TIMEOUT_S = 60.0
"""How long :meth:`AsyncInProcessSampler.stop` waits for the collector thread to finish its env step."""


class _Stopped(Exception):
    """Raised inside the collector thread (from its per-step weight check) when a stop was requested."""


class BusyClock:
    """Intervals during which the collector thread was busy collecting, and their overlap with a time window.

    Times are ``time.perf_counter()`` seconds. Only the intervals that can still meet a future window are kept.
    """

    def __init__(self) -> None:
        """No interval yet."""
        self._done: deque[tuple[float, float]] = deque()
        self._open: float | None = None
        self._lock = threading.Lock()

    def begin(self) -> None:
        """The collector starts a rollout."""
        with self._lock:
            self._open = time.perf_counter()

    def end(self) -> None:
        """The collector finished (or abandoned) a rollout."""
        with self._lock:
            if self._open is not None:
                self._done.append((self._open, time.perf_counter()))
                self._open = None

    def busy_within(self, start: float, end: float) -> float:
        """Seconds of busy time inside ``[start, end]``: sum over intervals of max(0, min(b, end) - max(a, start))."""
        with self._lock:
            intervals = list(self._done) + ([(self._open, end)] if self._open is not None else [])
        return sum(max(0.0, min(b, end) - max(a, start)) for a, b in intervals)

    def forget_before(self, t: float) -> None:
        """Drop the intervals that ended before ``t``."""
        with self._lock:
            while self._done and self._done[0][1] < t:
                self._done.popleft()


class AsyncInProcessSampler(_Publishing):
    """One env stepped by a collector thread in the learner process, overlapping the update (lag 0 or 1).

    Args:
        env: The vectorized env (already built; its device decides where the snapshot policy acts).
        buffer: K slots of T steps x B envs on the env's device.
        publisher: The learner policy's publisher (version 1 already published).
        slots: K, at least ``rollouts_per_iteration``.
        seed: Base seed (the collector is collector 0: :func:`~.collector.collector_seed`).
        clip_actions: Clip actions to the env's bounds before stepping.
        learner_policy: The learner's policy, copied once into the snapshot (same architecture and normalizer).
        rollouts_per_iteration: R, rollouts the learner takes per iteration.
        stop_requested: Polled while the learner waits for a rollout (Ctrl-C / SIGTERM).
        hurry: Polled while :meth:`stop` waits for the thread (a further Ctrl-C: stop waiting).

    """

    def __init__(
        self,
        env: VecEnv,
        buffer: RolloutBuffer,
        publisher: WeightPublisher,
        slots: int,
        seed: int,
        clip_actions: bool,
        learner_policy: Policy,
        rollouts_per_iteration: int,
        stop_requested: Callable[[], bool] = lambda: False,
        hurry: Callable[[], bool] = lambda: False,
    ):
        """Build the snapshot policy and the collector (which resets the env); the thread starts in :meth:`start`."""
        if slots < rollouts_per_iteration:
            raise ValueError(f"{slots} slots cannot hold the {rollouts_per_iteration} rollouts of an iteration")
        self.buffer = buffer
        self.publisher = publisher
        self.mode = "async"
        self.rollouts_per_iteration = rollouts_per_iteration
        self.stop_requested = stop_requested
        self.hurry = hurry
        self.env = env
        self.device = torch.device(env.device)
        self.snapshot: Policy = copy.deepcopy(learner_policy).to(self.device)
        self.snapshot.eval()
        self.snapshot.requires_grad_(False)
        self.subscriber = WeightSubscriber(self.snapshot, publisher.block)
        self.subscriber.refresh()
        self.collector = RolloutCollector(
            env,
            self.snapshot,
            buffer,
            seed=collector_seed(seed, 0),
            clip_actions=clip_actions,
            name="in-process collector",
            worker_id=0,
        )
        self.description = (
            f"async: 1 in-process collector thread x {env.num_envs} envs on {self.device}, acting "
            f"with a policy snapshot refreshed per rollout (lag 0 or 1), overlapping the update"
        )
        self.cond = threading.Condition()
        self.free: deque[int] = deque(range(slots))
        self.ready: deque[RolloutInfo] = deque()
        self.stopping = False
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None
        self.started_rollouts = 0
        self.lag_counts: dict[int, int] = {}
        self.clock = BusyClock()
        self.last_publish_end: float | None = None
        self.learn_start: float | None = None
        self.last_busy_s: float | None = None
        self.last_overlap: float | None = None
        # CUDA: events ordering the hand-over of a slot between the collector's and the learner's streams
        self.cuda = self.device.type == "cuda"
        self.learner_stream: torch.cuda.Stream | None = None
        self.previous_stream: torch.cuda.Stream | None = None
        self.written: dict[int, torch.cuda.Event] = {}
        self.gathered: dict[int, torch.cuda.Event] = {}

    # ---- the collector thread --------------------------------------------------------------------------------
    def _check_stop(self) -> int:
        """The collector's per-step weight hook: the version stays fixed within a rollout; raises on stop."""
        if self.stopping:
            raise _Stopped()
        return self.subscriber.version

    def _next_slot(self) -> int | None:
        """Wait for a free slot and for the weights this rollout may use at most one version behind; None on stop."""
        iteration = self.started_rollouts // self.rollouts_per_iteration
        with self.cond:
            while not self.stopping and (not self.free or self.publisher.version < iteration):
                self.cond.wait(_POLL_S)
            if self.stopping:
                return None
            return self.free.popleft()

    def _run(self) -> None:
        try:
            while True:
                slot = self._next_slot()
                if slot is None:
                    return
                self.subscriber.refresh()  # the newest published weights, at the rollout boundary
                if self.cuda and slot in self.gathered:
                    torch.cuda.current_stream(self.device).wait_event(self.gathered.pop(slot))
                self.started_rollouts += 1
                self.clock.begin()
                try:
                    info = self.collector.collect(slot, self._check_stop)
                finally:
                    self.clock.end()
                if self.cuda:
                    event = torch.cuda.Event()
                    event.record(torch.cuda.current_stream(self.device))
                    self.written[slot] = event
                with self.cond:
                    self.ready.append(info)
                    self.cond.notify_all()
        except _Stopped:
            return
        except BaseException as exc:  # handed to the main thread by next_rollouts
            with self.cond:
                self.error = exc
                self.cond.notify_all()

    # ---- the learner's side (main thread) --------------------------------------------------------------------
    def start(self) -> None:
        """Start the collector thread (and, on CUDA, move the main thread onto the learner stream)."""
        if self.cuda:
            self.previous_stream = torch.cuda.current_stream(self.device)
            self.learner_stream = torch.cuda.Stream(self.device)
            # everything queued so far (the model's and optimizer's set-up, a resumed state) happens before the
            # learner stream's first use: the new stream does not wait for the default stream by itself
            self.learner_stream.wait_stream(self.previous_stream)
            torch.cuda.set_stream(self.learner_stream)
        self.last_publish_end = time.perf_counter()
        self.thread = threading.Thread(target=self._run, name="ihe-inprocess-collector", daemon=True)
        self.thread.start()

    def _raise_collector_error(self) -> None:
        exc = self.error
        if isinstance(exc, EnvError):
            raise EnvError(str(exc)) from exc
        raise EnvError(f"in-process collector thread failed: {type(exc).__name__}: {exc}") from exc

    def next_rollouts(self, count: int) -> list[RolloutInfo] | None:
        """The ``count`` oldest complete rollouts (blocks; None when a stop was requested).

        Raises:
            EnvError: The collector thread raised (the env's error is chained).

        """
        with self.cond:
            while len(self.ready) < count:
                if self.error is not None:
                    self._raise_collector_error()
                if self.stop_requested():
                    return None
                if self.thread is None or not self.thread.is_alive():
                    if self.error is not None:
                        self._raise_collector_error()
                    raise EnvError("in-process collector thread is not running")
                self.cond.wait(_POLL_S)
            rollouts = [self.ready.popleft() for _ in range(count)]
        version = self.publisher.version
        for r in rollouts:  # the learner trains these at `version`; each rollout acted with one version
            lag = version - r.last_version
            self.lag_counts[lag] = self.lag_counts.get(lag, 0) + r.env_steps
            if self.cuda:
                torch.cuda.current_stream(self.device).wait_event(self.written.pop(r.slot))
        self.learn_start = time.perf_counter()
        return rollouts

    def release(self, slots: list[int]) -> None:
        """Hand gathered slots back to the collector (on CUDA, after the learner stream's reads of them)."""
        with self.cond:
            for slot in slots:
                if self.cuda:
                    event = torch.cuda.Event()
                    event.record(torch.cuda.current_stream(self.device))
                    self.gathered[slot] = event
                self.free.append(slot)
            self.cond.notify_all()

    def publish(self) -> int:
        """Publish the learner's weights (the collector takes them at its next rollout boundary)."""
        with self.cond:
            version = self.publisher.publish()
            self.cond.notify_all()
        now = time.perf_counter()
        if self.learn_start is not None and self.last_publish_end is not None:
            learn_s = now - self.learn_start
            self.last_busy_s = self.clock.busy_within(self.last_publish_end, now)
            self.last_overlap = self.clock.busy_within(self.learn_start, now) / learn_s if learn_s > 0 else 0.0
            self.clock.forget_before(self.last_publish_end)
        self.last_publish_end = now
        return version

    def stop(self) -> None:
        """Stop the thread at its next env step, join it, and close the env (nothing is left running).

        A thread stuck inside ``env.step`` is waited for at most :data:`STOP_TIMEOUT_S` (less once ``hurry()``);
        then it is left behind as a daemon thread, and the env it is using is not closed under it.
        """
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        if self.thread is not None:
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while self.thread.is_alive() and time.monotonic() < deadline and not self.hurry():
                self.thread.join(timeout=_POLL_S)
            if self.thread.is_alive():  # a hung env.step: a thread cannot be killed; leave it (a daemon) and the env
                log.error("the in-process collector thread is still inside env.step; not waiting for it")
                return
        if self.cuda and self.previous_stream is not None:
            torch.cuda.current_stream(self.device).synchronize()
            torch.cuda.set_stream(self.previous_stream)
        try:
            self.env.close()
        except Exception:
            pass

    def stats(self) -> SamplerStats:
        """Collector busy time and overlap of the last iteration, and the samples handed out by policy lag."""
        return SamplerStats(
            occupancy=len(self.ready) / max(1, len(self.ready) + len(self.free)),
            collector_busy_s=self.last_busy_s,
            overlap=self.last_overlap,
            samples_by_lag=dict(sorted(self.lag_counts.items())),
        )
