"""The worker process: one vectorized env, a CPU policy copy, and whole rollouts written into its slots.

Protocol over the worker's own duplex pipe (small tuples, never tensors):

* learner -> worker: ``("slot", index)`` the slot is free for writing; ``("stop",)`` finish and exit.
* worker -> learner: ``("hello", pid)`` env created; ``("ready", index, info)`` the slot holds a complete
  rollout; ``("error", kind, message, traceback)`` before exiting with an error (``kind``: ``env`` for an env's
  constructor, reset or step raising or returning non-finite numbers, else ``internal``).

A worker that dies without an ``error`` message (a native crash such as SIGSEGV inside the env, or an exit before its
``hello``) is classified by the learner (:mod:`.worker_pool`).

A worker only writes slots it was handed and announces a slot only after its last step is written, so a
worker that dies mid-rollout never exposes a partial slot. One pipe per worker: a worker killed while
writing cannot corrupt or lock another worker's channel.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
import traceback
from collections import deque
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection

import torch

from ..config.schema import EnvConfig, ModelConfig, SamplerConfig
from ..envs.factory import make_vec_env
from ..models.actor_critic import build_policy
from ..storage.rollout_buffer import RolloutBuffer
from ..storage.weights import SharedWeights, WeightSubscriber
from .collector import EnvError, RolloutCollector


@dataclass
class WorkerSpec:
    """Everything a worker needs besides its pipe and the shared tensors (picklable, no tensors)."""

    worker_id: int
    incarnation: int
    seed: int
    env_cfg: EnvConfig
    sampler_cfg: SamplerConfig
    model_cfg: ModelConfig
    obs_dim: int
    act_dim: int
    learner_pid: int


class _StopRequested(Exception):
    pass


class _LearnerGone(Exception):
    pass


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when the learner dies (prctl PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        except OSError:
            pass


def worker_main(
    spec: WorkerSpec, conn: Connection, buffer: RolloutBuffer, weights: SharedWeights, heartbeats: torch.Tensor
) -> None:
    """Entry point of a worker process (started with the spawn method)."""
    # Ctrl-C and a terminal's hang-up are the learner's to handle; it stops us in order (a hang-up under nohup
    # stays ignored, as the learner's)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGHUP})  # blocked by the learner at our spawn
    _die_with_parent()
    torch.set_num_threads(1)
    wid = spec.worker_id

    def beat() -> None:
        heartbeats[wid] = time.monotonic()

    def learner_alive() -> None:
        if os.getppid() != spec.learner_pid:
            raise _LearnerGone()

    free: deque[int] = deque()

    def handle(msg: tuple) -> None:
        if msg[0] == "slot":
            free.append(int(msg[1]))
        elif msg[0] == "stop":
            raise _StopRequested()

    def drain(timeout: float) -> None:
        try:
            if conn.poll(timeout):
                handle(conn.recv())
                while conn.poll(0):
                    handle(conn.recv())
        except (EOFError, OSError) as exc:
            raise _LearnerGone() from exc

    env = None
    exit_code = 0
    name = f"worker {wid} (pid {os.getpid()}, env.id={spec.env_cfg.id!r})"  # env errors name worker, env, step
    try:
        beat()
        try:
            env = make_vec_env(spec.env_cfg, spec.sampler_cfg.envs_per_worker)
        except Exception as exc:  # the env's constructor: an env error (the on_env_error policy applies)
            raise EnvError(f"{name}: building its {spec.sampler_cfg.envs_per_worker} envs raised: {exc!r}") from exc
        policy = build_policy(spec.obs_dim, spec.act_dim, spec.model_cfg)
        policy.eval()
        subscriber = WeightSubscriber(policy, weights)
        subscriber.refresh()
        collector = RolloutCollector(
            env,
            policy,
            buffer,
            seed=spec.seed,
            clip_actions=spec.env_cfg.clip_actions,
            name=name,
            heartbeat=beat,
            worker_id=wid,
            incarnation=spec.incarnation,
        )

        def refresh() -> int:
            subscriber.refresh()
            return subscriber.version

        conn.send(("hello", os.getpid()))
        sync = spec.sampler_cfg.mode == "sync"
        waited = 0.0  # seconds spent waiting for a free slot or for new weights (backpressure), reported
        while True:
            t0 = time.perf_counter()
            while not free:
                beat()
                learner_alive()
                drain(0.2)
            slot = free.popleft()
            waited += time.perf_counter() - t0
            info = collector.collect(slot, refresh)
            info.timers["wait"] = waited
            conn.send(("ready", slot, asdict(info)))
            t0 = time.perf_counter()
            if sync:  # classic PPO: the next rollout starts from the weights trained on this one
                while weights.version <= info.last_version:
                    beat()
                    learner_alive()
                    drain(0.01)
            drain(0)
            waited = time.perf_counter() - t0
    except (_StopRequested, _LearnerGone):
        exit_code = 0
    except Exception as exc:  # report, then exit non-zero so the learner restarts or stops the run
        kind = "env" if isinstance(exc, EnvError) else "internal"
        exit_code = 3 if kind == "env" else 1
        # An EnvError already names the worker, the env and the step; anything else gets the worker named here.
        message = str(exc) if kind == "env" else f"worker {wid} (pid {os.getpid()}): {type(exc).__name__}: {exc}"
        try:
            conn.send(("error", kind, message, traceback.format_exc()))
        except (OSError, EOFError):
            pass
    finally:
        if env is not None:
            try:
                env.close()
            except Exception:
                pass
        try:
            conn.close()
        except OSError:
            pass
    sys.exit(exit_code)
