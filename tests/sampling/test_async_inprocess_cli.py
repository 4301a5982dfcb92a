"""Asynchronous in-process collection (``ppo.mode=async ppo.num_workers=0``) through the real trainer CLI.

The MuJoCo Go1 task: every iteration's samples are 0 or 1 version old and counted by lag; Pendulum-v1 learns to
the threshold the async worker mode is held to (tests/e2e/test_train_cli.py); a Ctrl-C during an update finishes
it, saves and exits 0.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import FULL, TESTS_DIR, run_trainer

sys.path.insert(0, str(TESTS_DIR / "fault"))  # the fault tests' helpers: start the CLI, watch its files
from fault_cli import output, read_summary, run_dirs, start, try_summary, wait_for  # noqa: E402

IN_PROCESS_ASYNC = ["ppo.num_workers=0", "ppo.mode=async", "logging.tensorboard=false"]


def metrics(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_go1_mujoco_trains_with_lag_0_or_1_on_every_sample(tmp_path):
    iterations, B, T = 6, 32, 24
    res = run_trainer(
        ["env=mujoco_go1", *IN_PROCESS_ASYNC, f"ppo.envs_per_worker={B}", f"experiment.max_iterations={iterations}"],
        tmp_path,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    (run,) = run_dirs(tmp_path)
    s = read_summary(run)
    assert s["status"] == "finished" and s["iterations"] == iterations
    assert s["mode"] == "async" and "in-process collector thread x 32 envs on cpu" in s["sampler"]
    acc = s["accounting"]
    total = iterations * B * T
    # every sample trained, counted by its lag, and no lag other than 0 and 1
    assert acc["samples_total"] == acc["samples_used"] == total and acc["samples_dropped_lag"] == 0
    assert set(acc["samples_by_lag"]) <= {"0", "1"} and sum(acc["samples_by_lag"].values()) == total
    assert acc["samples_by_lag"]["0"] >= B * T  # the first iteration acted with the initial weights
    lines = metrics(run)
    assert len(lines) == iterations
    assert lines[0]["lag/max"] == 0 and all(line["lag/max"] <= 1 for line in lines)  # as the update saw them
    assert all(0.0 <= line["perf/overlap"] <= 1.0 and line["perf/collector_busy_s"] > 0 for line in lines)


@pytest.mark.slow
def test_pendulum_async_in_process_learns(tmp_path):
    # In-process async: every sample is 0 or 1 version old, so it solves sooner than two workers whose learner falls
    # behind (test_pendulum_async_two_workers_learns); CI's budget 300k, final >= -400.
    steps = 400_000 if FULL else 300_000
    res = run_trainer(
        ["env=gym_pendulum", *IN_PROCESS_ASYNC, f"experiment.max_env_steps={steps}", "logging.log_every_iterations=20"],
        tmp_path,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    (run,) = run_dirs(tmp_path)
    s = read_summary(run)
    assert s["status"] == "finished" and s["env_steps"] >= steps and s["mode"] == "async"
    assert s["mean_return"] >= -400, s
    assert set(s["accounting"]["samples_by_lag"]) <= {"0", "1"}


def test_ctrl_c_during_an_update_finishes_it_saves_and_exits_0(tmp_path):
    # A long update (100 epochs of 8 minibatches); the collector thread has the next rollout ready long before the
    # update ends, so right after an iteration ends the next one is inside APPO.update within milliseconds.
    args = [
        "env=gym_pendulum",
        *IN_PROCESS_ASYNC,
        "ppo.envs_per_worker=8",
        "ppo.steps_per_env=16",
        "ppo.batch_size=16",
        "ppo.update_epochs=100",
        "ppo.actor_hidden_dims=[32,32]",
        "ppo.critic_hidden_dims=[32,32]",
        "experiment.max_env_steps=100000000",
        "checkpoint.every_iterations=0",
        "experiment.torch_threads=1",  # two torch threads per Python thread stall each other on a loaded machine
    ]
    proc = start(tmp_path, args)
    try:
        run_dir = wait_for(
            lambda: next((d for d in run_dirs(tmp_path) if try_summary(d).get("iterations", 0) >= 1), None),
            proc,
            tmp_path,
            120,
            "the first iteration",
        )
        s0 = try_summary(run_dir)
        assert s0["last"]["perf/learn_s"] > 0.5, s0["last"]  # the update is long enough to be hit

        def next_iteration():
            it = try_summary(run_dir).get("iterations") or 0
            return it if it > s0["iterations"] else None

        seen = wait_for(next_iteration, proc, tmp_path, 120, "the next iteration")
        time.sleep(0.15)  # the next iteration took its ready rollout and is inside its update
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out, err = output(tmp_path)
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in out + err
    s = read_summary(run_dir)
    assert s["status"] == "interrupted" and s["stop_reason"] == "SIGINT" and s["mode"] == "async"
    # the update running when the signal came was completed, then the run stopped with a checkpoint of it
    assert s["iterations"] == seen + 1, (s["iterations"], seen)
    ckpt = torch.load(s["last_checkpoint"], weights_only=True)
    assert s["last_checkpoint"].endswith(f"model_{seen + 1}.pt") and ckpt["iteration"] == seen + 1
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values())
    # nothing trained twice or lost, and the rollout the thread was collecting at the stop was never trained
    acc = s["accounting"]
    assert acc["rollouts_trained"] == seen + 1 and acc["rollout_duplicates"] == 0 and acc["rollouts_after_a_gap"] == 0
