"""WorkerPool: starts, feeds, watches and replaces the worker processes (learner side).

Slot ownership: worker w owns slots ``[w*K, (w+1)*K)`` (K = ``slots_per_worker``). A slot is either *with
its worker* (free for writing or being written), *ready* (announced complete, waiting for the learner), or
*with the learner*. When a worker dies or hangs, the slots still with it are poisoned (their partial contents
can never be trained on) and handed to its replacement; ready slots stay valid and are trained on.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait

import torch

from ..config.schema import EnvConfig, ModelConfig, SamplerConfig
from ..storage.rollout_buffer import RolloutBuffer
from ..storage.weights import SharedWeights
from .collector import RolloutInfo, collector_seed
from .worker import WorkerSpec, worker_main

log = logging.getLogger(__name__)


STARTUP_TIMEOUT_S = 60.0
"""Seconds a worker process may take from its start to its first heartbeat (interpreter start and imports)."""


def _signal_name(number: int) -> str:
    """``SIGSEGV`` for 11; ``signal 99`` for a number Python does not know."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class WorkerFailure(RuntimeError):
    """The run cannot continue because of a worker (error with ``on_env_error=raise``, or restarts exhausted)."""


@dataclass
class _Handle:
    process: mp.process.BaseProcess
    conn: Connection
    incarnation: int
    started: float
    slots_with_worker: set[int] = field(default_factory=set)
    pid: int = 0
    said_hello: bool = False
    """The worker built its env and announced itself (a death before that is its env's start-up failing)."""


class WorkerPool:
    """Owns W worker processes for one run."""

    def __init__(
        self,
        sampler_cfg: SamplerConfig,
        env_cfg: EnvConfig,
        model_cfg: ModelConfig,
        seed: int,
        obs_dim: int,
        act_dim: int,
        buffer: RolloutBuffer,
        weights: SharedWeights,
        stop_requested: Callable[[], bool],
        hurry: Callable[[], bool] = lambda: False,
    ):
        """Prepare W workers of ``env_cfg`` seeded from ``seed``; nothing starts until :meth:`start_workers`."""
        self.sampler_cfg = sampler_cfg
        self.env_cfg, self.model_cfg, self.seed = env_cfg, model_cfg, seed
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.buffer = buffer
        self.weights = weights
        self.stop_requested = stop_requested
        self.hurry = hurry
        self.ctx = mp.get_context("spawn")
        self.num_workers = self.sampler_cfg.num_workers
        self.slots_per_worker = self.sampler_cfg.slots_per_worker
        self.heartbeats = torch.zeros(self.num_workers, dtype=torch.float64).share_memory_()
        self.handles: list[_Handle | None] = [None] * self.num_workers
        self.ready: deque[RolloutInfo] = deque()
        self.restarts = 0
        self.errors: list[str] = []
        self.received = 0  # complete rollouts announced by workers ("ready" messages)
        self.poisoned = 0  # slots discarded because their worker died or hung while holding them

    # ------------------------------------------------------------------------------------------------
    def owner(self, slot: int) -> int:
        """Worker that owns ``slot``."""
        return slot // self.slots_per_worker

    def _spawn(self, wid: int, incarnation: int) -> _Handle:
        parent_conn, child_conn = self.ctx.Pipe(duplex=True)
        spec = WorkerSpec(
            worker_id=wid,
            incarnation=incarnation,
            seed=collector_seed(self.seed, wid, incarnation),
            env_cfg=self.env_cfg,
            sampler_cfg=self.sampler_cfg,
            model_cfg=self.model_cfg,
            obs_dim=self.obs_dim,
            act_dim=self.act_dim,
            learner_pid=os.getpid(),
        )
        process = self.ctx.Process(
            target=worker_main,
            args=(spec, child_conn, self.buffer, self.weights, self.heartbeats),
            name=f"appo-worker-{wid}",
            daemon=True,
        )
        # SIGINT (and SIGHUP, likewise) is blocked while the child is spawned. The child inherits the blocked mask (exec
        # keeps it), so a Ctrl-C to the process group during its start-up cannot kill it; worker_main ignores SIGINT,
        # then unblocks it. Here a SIGINT that arrives meanwhile stays pending and reaches the run's handler when the
        # mask is restored. (Ignoring SIGINT around the spawn lost it: with spawn, start() waits for the child
        # interpreter to read its arguments, which takes seconds on a loaded machine, and a Ctrl-C then was dropped.)
        previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGHUP})
        try:
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
        child_conn.close()
        self.heartbeats[wid] = time.monotonic()
        return _Handle(
            process=process, conn=parent_conn, incarnation=incarnation, started=time.monotonic(), pid=process.pid or 0
        )

    def start_workers(self) -> None:
        """Start every worker process (slots are handed out with :meth:`return_slot`)."""
        for wid in range(self.num_workers):
            self.handles[wid] = self._spawn(wid, 0)

    @property
    def pids(self) -> list[int]:
        """Current worker process ids."""
        return [h.pid if h is not None else 0 for h in self.handles]

    # ------------------------------------------------------------------------------------------------
    def return_slot(self, slot: int) -> None:
        """Hand ``slot`` back to its owner for writing."""
        wid = self.owner(slot)
        handle = self.handles[wid]
        handle.slots_with_worker.add(slot)
        try:
            handle.conn.send(("slot", slot))
        except (OSError, BrokenPipeError):
            pass  # the worker is dead; its death is handled in poll() and the slot goes to its replacement

    def _restart(self, wid: int, reason: str, kind: str) -> None:
        """Replace worker ``wid`` (or raise :class:`WorkerFailure`)."""
        handle = self.handles[wid]
        self.errors.append(reason)
        if kind == "env" and self.sampler_cfg.on_env_error == "raise":
            raise WorkerFailure(f"{reason}\n(ppo.on_env_error=raise stops the run; 'restart' would replace the worker)")
        if self.restarts >= self.sampler_cfg.max_worker_restarts:
            raise WorkerFailure(
                f"worker {wid} failed and the restart limit "
                f"ppo.max_worker_restarts={self.sampler_cfg.max_worker_restarts} is used up. Last error: {reason}"
            )
        self.restarts += 1
        log.warning(
            "restarting worker %d (restart %d/%d): %s",
            wid,
            self.restarts,
            self.sampler_cfg.max_worker_restarts,
            reason.splitlines()[0],
        )
        self._kill(handle)
        pending = sorted(handle.slots_with_worker)
        for slot in pending:
            self.buffer.poison(slot)  # a partial rollout must never be trained on
        self.poisoned += len(pending)
        self.handles[wid] = self._spawn(wid, handle.incarnation + 1)
        for slot in pending:
            self.return_slot(slot)

    @staticmethod
    def _kill(handle: _Handle) -> None:
        if handle.process.is_alive():
            handle.process.kill()
        handle.process.join(timeout=5.0)
        try:
            handle.conn.close()
        except OSError:
            pass

    def poll(self, timeout: float) -> None:
        """Receive messages and detect dead or hung workers for up to ``timeout`` seconds."""
        conns = {h.conn: wid for wid, h in enumerate(self.handles) if h is not None}
        sentinels = {h.process.sentinel: wid for wid, h in enumerate(self.handles) if h is not None}
        ready_objs = wait(list(conns) + list(sentinels), timeout=timeout)
        dead: dict[int, str] = {}
        error_kind: dict[int, str] = {}
        closed: set[int] = set()
        for obj in ready_objs:
            if obj in conns:
                wid = conns[obj]
                handle = self.handles[wid]
                try:
                    while handle.conn.poll(0):
                        msg = handle.conn.recv()
                        if msg[0] == "ready":
                            info = RolloutInfo(**msg[2])
                            handle.slots_with_worker.discard(info.slot)
                            self.ready.append(info)
                            self.received += 1
                        elif msg[0] == "hello":
                            handle.pid = int(msg[1])
                            handle.said_hello = True
                        elif msg[0] == "error":
                            _, kind, message, tb = msg
                            dead[wid] = f"{message}\n{tb}"
                            error_kind[wid] = kind
                except (EOFError, OSError):
                    closed.add(wid)
        now = time.monotonic()
        for wid, handle in enumerate(self.handles):
            if handle is None:
                continue
            if wid not in dead and (wid in closed or not handle.process.is_alive()):
                handle.process.join(timeout=2.0)  # a closed pipe means the worker is exiting
                code = handle.process.exitcode
                if code is None:
                    how = "closed its pipe but is still running"
                elif code < 0:
                    how = f"was killed by signal {-code} ({_signal_name(-code)})"
                else:
                    how = f"exited with code {code}"
                when = "" if handle.said_hello else " while starting (before its env was built)"
                dead[wid] = (
                    f"worker {wid} (pid {handle.pid}, env.id={self.env_cfg.id!r}) {how}{when} without "
                    "reporting an error"
                )
                # A death by a signal we did not send (a native crash in the env: SIGSEGV, SIGABRT, ...) or during
                # the env's start-up is the env's failure: the on_env_error policy applies, not the restart budget.
                if code is not None and (code < 0 or not handle.said_hello):
                    error_kind[wid] = "env"
            elif wid not in dead and now - float(self.heartbeats[wid]) > self._silence_limit(handle, wid):
                dead[wid] = (
                    f"worker {wid} (pid {handle.pid}) showed no sign of life for "
                    f"{now - float(self.heartbeats[wid]):.0f} s "
                    f"(ppo.heartbeat_timeout_s={self.sampler_cfg.heartbeat_timeout_s}); killed as hung"
                )
        for wid, reason in dead.items():
            self._restart(wid, reason, error_kind.get(wid, "internal"))

    def _silence_limit(self, handle: _Handle, wid: int) -> float:
        """Seconds worker ``wid`` may go without a heartbeat: ``ppo.heartbeat_timeout_s`` once it has beaten.

        Before its first beat the process is still starting (a fresh interpreter importing torch, which takes
        seconds on a loaded machine and cannot beat meanwhile): then at least :data:`STARTUP_TIMEOUT_S`.
        """
        timeout = self.sampler_cfg.heartbeat_timeout_s
        beaten = float(self.heartbeats[wid]) > handle.started  # the learner's own stamp predates ``started``
        return timeout if beaten else max(timeout, STARTUP_TIMEOUT_S)

    def next_rollouts(self, count: int) -> list[RolloutInfo] | None:
        """Block until ``count`` complete rollouts are ready (oldest first); None if a stop was requested."""
        while len(self.ready) < count:
            if self.stop_requested():
                return None
            self.poll(timeout=0.2)
        return [self.ready.popleft() for _ in range(count)]

    @property
    def occupancy(self) -> float:
        """Fraction of all slots that hold complete rollouts waiting for the learner."""
        return len(self.ready) / max(1, self.num_workers * self.slots_per_worker)

    # ------------------------------------------------------------------------------------------------
    def stop(self, timeout: float = 10.0) -> None:
        """Ask every worker to stop, then terminate/kill stragglers; leaves no child process behind.

        Waits up to ``timeout`` seconds for orderly exits, less once :attr:`hurry` says so (a second Ctrl-C).
        """
        for handle in self.handles:
            if handle is None:
                continue
            try:
                handle.conn.send(("stop",))
            except (OSError, BrokenPipeError):
                pass
        deadline = time.monotonic() + timeout
        for handle in self.handles:
            while handle is not None and handle.process.is_alive() and time.monotonic() < deadline and not self.hurry():
                handle.process.join(timeout=0.1)
        for handle in self.handles:
            if handle is not None and handle.process.is_alive():
                handle.process.terminate()
                handle.process.join(timeout=2.0)
            if handle is not None and handle.process.is_alive():
                handle.process.kill()
                handle.process.join(timeout=2.0)
            if handle is not None:
                try:
                    handle.conn.close()
                except OSError:
                    pass
        self.handles = [None] * self.num_workers
