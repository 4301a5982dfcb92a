"""A worker SIGKILLed in the middle of writing a rollout: the half-written slot is never trained on, the worker is
replaced, the run finishes, and the restart is counted and logged."""

import os
import signal
import time

import torch
from conftest import compose, pool_sections, sampler_for
from fault_cli import SLOW, SMALL, read_summary, run_dirs, start, wait_training
from isaac_hydra_ext.envs.factory import probe_env_spec
from isaac_hydra_ext.models.actor_critic import ActorCritic
from isaac_hydra_ext.sampling.worker_pool import WorkerPool
from isaac_hydra_ext.storage.rollout_buffer import BatchGatherer, RolloutBuffer
from isaac_hydra_ext.storage.weights import SharedWeights, WeightPublisher


def test_half_written_slot_is_never_delivered_and_the_replacement_rewrites_it():
    # Pool level, real worker processes: we watch the victim's slot fill in shared memory and kill the worker when
    # the slot is provably half written, then check that nothing but complete rollouts is ever delivered.
    cfg = compose(
        [
            "env=gym",
            SLOW,
            "+env.kwargs.delay_s=0.02",
            "ppo.num_workers=2",
            "ppo.envs_per_worker=3",
            "ppo.steps_per_env=8",
            "ppo.batch_size=16",
        ]
    )
    spec = probe_env_spec(cfg.env)
    model = ActorCritic(spec.obs_dim, spec.act_dim, 0, cfg.ppo)
    W, K, T = cfg.ppo.num_workers, cfg.ppo.slots_per_worker, cfg.ppo.steps_per_env
    buf = RolloutBuffer.allocate(W * K, T, cfg.ppo.envs_per_worker, spec.obs_dim, spec.act_dim, shared=True)
    weights = SharedWeights.for_module(model.policy)
    WeightPublisher(model.policy, weights).publish()
    pool = WorkerPool(*pool_sections(cfg), spec.obs_dim, spec.act_dim, buf, weights, stop_requested=lambda: False)
    coll = sampler_for(pool, buf)
    try:
        coll.start()  # worker w is handed slot w*K; its other slot follows after the first iteration
        victim, slot = 1, 1 * K
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # each step of 3 envs takes >= 60 ms: plenty of time to catch it
            written = int((buf.versions[slot] >= 0).sum())
            if 2 <= written <= T - 2:
                break
            time.sleep(0.001)
        os.kill(pool.pids[victim], signal.SIGKILL)
        rows_written = torch.isfinite(buf.obs[slot]).reshape(T + 1, -1).all(-1)
        assert rows_written.any() and not rows_written.all(), "the slot was not half written at the kill"

        delivered = []
        while time.monotonic() < deadline:
            (info,) = coll.next_rollouts(1)
            batch = BatchGatherer(buf, 1, "cpu").gather([info.slot])
            # everything delivered is complete: every number finite, every step stamped with a policy version
            for name in ("obs", "actions", "log_probs", "rewards", "final_obs"):
                assert torch.isfinite(getattr(batch, name)).all(), (name, info)
            assert (batch.versions >= 1).all()
            delivered.append(info)
            coll.release([info.slot])
            if (info.worker_id, info.incarnation, info.slot) == (victim, 1, slot):
                break
        assert (delivered[-1].worker_id, delivered[-1].incarnation, delivered[-1].slot) == (victim, 1, slot)
        assert delivered[-1].rollout_index == 0  # rewritten from scratch by the replacement
        assert not [d for d in delivered if (d.worker_id, d.incarnation) == (victim, 0)]  # nothing of the victim's
        assert pool.restarts == 1 and pool.poisoned >= 1
        assert f"worker {victim} (pid" in pool.errors[0] and "was killed by signal 9 (SIGKILL)" in pool.errors[0]
    finally:
        pool.stop()


def test_cli_worker_killed_mid_rollout_run_finishes_and_every_rollout_adds_up(tmp_path):
    # 1 ms per env step: a worker spends nearly all its time inside a rollout, so the kill lands mid-write.
    proc = start(tmp_path, ["env=gym", SLOW, "+env.kwargs.delay_s=0.001", *SMALL, "experiment.max_env_steps=2048"])
    try:
        run = wait_training(proc, tmp_path, min_iterations=2)
        victim_pid = read_summary(run)["worker_pids"][0]
        os.kill(victim_pid, signal.SIGKILL)
        proc.wait(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out, err = (tmp_path / "stdout.txt").read_text(), (tmp_path / "stderr.txt").read_text()
    assert proc.returncode == 0, err[-3000:]
    (run,) = run_dirs(tmp_path)
    s = read_summary(run)
    assert s["status"] == "finished" and s["env_steps"] >= 2048
    assert s["worker_restarts"] == 1 and victim_pid not in s["worker_pids"]  # replaced, and counted
    logged = f"restarting worker 0 (restart 1/10): worker 0 (pid {victim_pid}, env.id='fault_envs:SlowPendulum-v0') "
    assert logged + "was killed by signal 9 (SIGKILL)" in out + err  # and logged, with the env it was stepping
    acc = s["accounting"]
    # never trained on: no NaN (poisoned or unwritten) sample reached the learner, and the victim's trained
    # rollouts are exactly its complete ones, indices 0..n-1, no duplicate, none skipped
    assert acc["samples_dropped_nonfinite"] == 0 and acc["slots_poisoned"] >= 1
    assert acc["rollout_duplicates"] == 0 and acc["rollouts_after_a_gap"] == 0
    assert acc["rollouts_received"] == acc["rollouts_trained"] + acc["rollouts_pending"] + acc["rollouts_not_trained"]
    assert sum(acc["rollouts_per_incarnation"].values()) == acc["rollouts_trained"]
    assert acc["samples_total"] == acc["rollouts_trained"] * 16 * 4
    assert acc["samples_total"] == acc["samples_used"] + acc["samples_dropped_lag"]
