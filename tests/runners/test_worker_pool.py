"""The worker pool with real worker processes: slot hand-over, backpressure, restarts, error policies."""

import os
import signal
import time
from multiprocessing.context import SpawnProcess

import pytest
import torch
from conftest import compose, pool_sections, sampler_for
from isaac_hydra_ext.envs.factory import probe_env_spec
from isaac_hydra_ext.models.actor_critic import ActorCritic
from isaac_hydra_ext.sampling.worker_pool import WorkerFailure, WorkerPool
from isaac_hydra_ext.storage.rollout_buffer import BatchGatherer, RolloutBuffer
from isaac_hydra_ext.storage.weights import SharedWeights, WeightPublisher


def make_pool(overrides):
    cfg = compose(
        [
            "env=gym_pendulum",
            "ppo.num_workers=2",
            "ppo.envs_per_worker=3",
            "ppo.steps_per_env=8",
            "ppo.batch_size=16",
            *overrides,
        ]
    )
    spec = probe_env_spec(cfg.env)
    model = ActorCritic(spec.obs_dim, spec.act_dim, 0, cfg.ppo)
    W, K = cfg.ppo.num_workers, cfg.ppo.slots_per_worker
    buf = RolloutBuffer.allocate(
        W * K, cfg.ppo.steps_per_env, cfg.ppo.envs_per_worker, spec.obs_dim, spec.act_dim, shared=True
    )
    weights = SharedWeights.for_module(model.policy)
    pub = WeightPublisher(model.policy, weights)
    pub.publish()
    pool = WorkerPool(*pool_sections(cfg), spec.obs_dim, spec.act_dim, buf, weights, stop_requested=lambda: False)
    return cfg, pool, buf, pub


@pytest.fixture
def pool_factory():
    pools = []

    def factory(overrides=()):
        made = make_pool(list(overrides))
        pools.append(made[1])
        return made

    yield factory
    for pool in pools:
        pool.stop()


def test_every_rollout_arrives_once_and_in_order(pool_factory):
    # Consecutive rollouts of a worker continue the same env trajectories: the first observation of rollout
    # k+1 is the bootstrap observation (s_T) of rollout k. A lost, repeated or overwritten slot breaks the chain.
    cfg, pool, buf, pub = pool_factory()
    coll = sampler_for(pool, buf)
    coll.start()
    last_obs, indices = {}, {0: [], 1: []}
    total = 0
    while min(len(v) for v in indices.values()) < 3:  # a worker may start seconds after the other
        total += 1
        assert total < 2000
        (info,) = coll.next_rollouts(1)
        batch = BatchGatherer(buf, 1, "cpu").gather([info.slot])
        coll.release([info.slot])
        w = info.worker_id
        assert pool.owner(info.slot) == w
        if w in last_obs:
            assert torch.equal(batch.obs[0], last_obs[w])
        last_obs[w] = batch.obs[-1].clone()
        indices[w].append(info.rollout_index)
        assert torch.isfinite(batch.obs).all() and (batch.versions == pub.version).all()
    for idx in indices.values():
        assert idx == list(range(len(idx)))
    assert sum(len(v) for v in indices.values()) == total


def test_backpressure_workers_wait_when_their_slots_are_full(pool_factory):
    cfg, pool, buf, pub = pool_factory()
    coll = sampler_for(pool, buf)
    coll.start()
    first = coll.next_rollouts(2)  # one per worker; releasing them also hands out the second slots
    coll.release([r.slot for r in first])
    deadline = time.monotonic() + 60
    while len(pool.ready) < 4 and time.monotonic() < deadline:
        pool.poll(0.2)
    assert len(pool.ready) == 4  # every slot full
    time.sleep(1.5)
    pool.poll(0.2)
    assert len(pool.ready) == 4  # nobody overwrote a full slot or produced more
    slots_before = {r.slot for r in pool.ready}
    assert slots_before == {0, 1, 2, 3}
    took = pool.ready.popleft()
    coll.release([took.slot])
    deadline = time.monotonic() + 60
    while len(pool.ready) < 4 and time.monotonic() < deadline:
        pool.poll(0.2)
    assert pool.ready[-1].slot == took.slot and pool.ready[-1].worker_id == took.worker_id


def test_killed_worker_is_replaced_and_its_partial_slot_never_delivered(pool_factory):
    cfg, pool, buf, pub = pool_factory(["env.id=fault_envs:SlowPendulum-v0", "+env.kwargs.delay_s=0.02"])
    coll = sampler_for(pool, buf)
    coll.start()
    (first,) = coll.next_rollouts(1)
    coll.release([first.slot])
    victim = 1 - first.worker_id
    time.sleep(0.1)  # the victim is mid-rollout (8 steps x 20 ms)
    os.kill(pool.pids[victim], signal.SIGKILL)
    delivered = []
    deadline = time.monotonic() + 120
    while (victim, 1) not in delivered and time.monotonic() < deadline:  # until the replacement delivers
        (info,) = coll.next_rollouts(1)
        batch = BatchGatherer(buf, 1, "cpu").gather([info.slot])
        assert torch.isfinite(batch.obs).all() and torch.isfinite(batch.rewards).all()
        delivered.append((info.worker_id, info.incarnation))
        coll.release([info.slot])
    assert pool.restarts == 1
    assert (victim, 1) in delivered  # the replacement works
    assert "was killed by signal 9 (SIGKILL)" in pool.errors[0]


def test_env_error_with_raise_policy_stops_with_worker_and_step_named(pool_factory):
    cfg, pool, buf, pub = pool_factory(
        [
            "env.id=fault_envs:FaultyPendulum-v0",
            "+env.kwargs.fault=nan_obs",
            "+env.kwargs.after=20",
            "ppo.on_env_error=raise",
        ]
    )
    coll = sampler_for(pool, buf)
    coll.start()
    with pytest.raises(WorkerFailure) as err:
        for _ in range(10):
            rollouts = coll.next_rollouts(1)
            coll.release([r.slot for r in rollouts])
    msg = str(err.value)
    assert "worker" in msg and "non-finite observation" in msg and "env step" in msg and "on_env_error=raise" in msg


def test_restart_limit_stops_the_run_with_the_last_error(pool_factory):
    cfg, pool, buf, pub = pool_factory(
        [
            "env.id=fault_envs:FaultyPendulum-v0",
            "+env.kwargs.fault=raise_step",
            "+env.kwargs.after=5",
            "ppo.max_worker_restarts=2",
        ]
    )
    coll = sampler_for(pool, buf)
    coll.start()
    with pytest.raises(WorkerFailure, match="max_worker_restarts=2.*injected step failure"):
        for _ in range(50):
            rollouts = coll.next_rollouts(1)
            coll.release([r.slot for r in rollouts])
    assert pool.restarts == 2


def test_hung_worker_is_detected_by_heartbeat_and_replaced(pool_factory, tmp_path):
    # Robust under load (issue 17: with a 3 s timeout, healthy workers still importing torch on a loaded 2-core
    # machine were taken for hung): a starting worker gets at least STARTUP_TIMEOUT_S before its first heartbeat,
    # and a running one 10 s, which a healthy worker (a heartbeat per env step, and every 0.2 s while it waits for
    # a slot) never misses. What is asserted is unchanged: exactly the hung worker is detected and replaced.
    cfg, pool, buf, pub = pool_factory(
        [
            "env.id=fault_envs:FaultyPendulum-v0",
            "+env.kwargs.fault=hang",
            "+env.kwargs.after=30",
            f"+env.kwargs.only_pid_file={tmp_path / 'armed'}",
            "ppo.heartbeat_timeout_s=10",
        ]
    )
    coll = sampler_for(pool, buf)
    coll.start()
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        (info,) = coll.next_rollouts(1)
        coll.release([info.slot])
        if info.incarnation == 1:  # the hung worker's replacement delivered
            break
    assert pool.restarts == 1 and info.incarnation == 1
    assert "showed no sign of life" in pool.errors[0]


def test_a_starting_worker_is_not_taken_for_hung_before_its_first_heartbeat(pool_factory):
    # The startup grace itself: a 0.5 s heartbeat timeout is far shorter than a worker's start (a fresh interpreter
    # importing torch), yet no worker is killed as hung while starting; once running, 0.5 s applies.
    from isaac_hydra_ext.sampling.worker_pool import STARTUP_TIMEOUT_S

    cfg, pool, buf, pub = pool_factory(["ppo.heartbeat_timeout_s=0.5", "ppo.num_workers=1"])
    pool.start_workers()
    handle = pool.handles[0]
    assert pool._silence_limit(handle, 0) == STARTUP_TIMEOUT_S  # not beaten yet: the startup grace
    deadline = time.monotonic() + 120
    while float(pool.heartbeats[0]) <= handle.started and time.monotonic() < deadline:
        pool.poll(timeout=0.05)  # any worker found hung here would be restarted
    assert pool.restarts == 0 and float(pool.heartbeats[0]) > handle.started
    assert pool._silence_limit(handle, 0) == 0.5


def test_a_ctrl_c_while_a_worker_is_spawned_reaches_the_learner_and_not_the_worker(pool_factory, monkeypatch):
    # With spawn, Process.start() lasts until the child interpreter has read its arguments (seconds on a loaded
    # machine). A Ctrl-C in that window used to be dropped (SIGINT was ignored around the spawn), and the run
    # went on as if nothing had been pressed. It must reach the learner's handler once the worker is spawned.
    received = []
    real_start = SpawnProcess.start

    def start_with_a_ctrl_c(process):
        os.kill(os.getpid(), signal.SIGINT)  # lands inside the spawn window
        real_start(process)

    monkeypatch.setattr(SpawnProcess, "start", start_with_a_ctrl_c)
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        _, pool, _, _ = pool_factory()
        pool.start_workers()
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:
            time.sleep(0.01)
        assert received and set(received) == {signal.SIGINT}  # delivered (once per spawn), not lost
        # the workers ignore SIGINT (a Ctrl-C to the process group is the learner's to handle): once running,
        # a SIGINT sent to them directly leaves them alive
        pids = [h.pid for h in pool.handles]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not all(
            float(pool.heartbeats[w]) > h.started for w, h in enumerate(pool.handles)
        ):  # every worker has beaten: it runs worker_main, past its signal set-up
            time.sleep(0.05)
        for pid in pids:
            os.kill(pid, signal.SIGINT)
        time.sleep(0.5)
        assert all(h.process.is_alive() for h in pool.handles)
    finally:
        signal.signal(signal.SIGINT, previous)
