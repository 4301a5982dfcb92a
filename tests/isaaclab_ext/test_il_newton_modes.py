"""The real Isaac Lab Newton Go1 task (kit-less, CPU, offline) in the two other execution modes of the train script.

* ``--num_workers 2``: two worker processes, each launching its own kit-less Newton simulation (the original
  design: W workers with their own vectorized env, the learner in the main process); one worker is SIGKILLed and
  replaced by a fresh process with a fresh simulation, and the run finishes.
* ``--num_workers 0 --mode async``: the in-process env stepped by the collector thread while the learner updates;
  every sample is 0 or 1 policy version old.

Run by ``.ci/newton_job.sh`` (marked ``newton``; skipped where Isaac Lab 3.x, Newton or the importer is missing).
Newton on the CPU is slow, so the runs are tiny: 4 envs x 8 steps per rollout, 3 iterations.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_il_newton import REPO, TASK, newton_unavailable, offline_prefix, run_offline

pytestmark = [
    pytest.mark.newton,
    pytest.mark.skipif(newton_unavailable() is not None, reason=newton_unavailable() or ""),
]

TRAIN = str(REPO / "scripts" / "reinforcement_learning" / "appo" / "train.py")
TINY = ["agent.steps_per_env=8", "agent.save_interval=0"]


def summaries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "logs" / "appo" / "sber_go1_newton_flat").glob("*/summary.json"))


def read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, FileNotFoundError):
        return {}


def test_two_newton_workers_train_and_a_killed_worker_is_replaced(tmp_path):
    # sync mode: every iteration trains on one rollout of each worker, so the iterations after the kill cannot
    # happen without the replacement's own simulation.
    iterations = 3
    cmd = [
        *offline_prefix(),
        sys.executable,
        TRAIN,
        "--task",
        TASK,
        "--device",
        "cpu",
        "--num_workers",
        "2",
        "--mode",
        "sync",
        "--max_iterations",
        str(iterations),
        "agent.envs_per_worker=4",
        *TINY,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONWARNINGS": "ignore"}
    with open(tmp_path / "out.txt", "w") as out:
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 600
        first: dict = {}
        while time.monotonic() < deadline and proc.poll() is None:
            found = summaries(tmp_path)
            first = read(found[0]) if found else {}
            if first.get("iterations", 0) >= 1 and len(first.get("worker_pids") or []) == 2:
                break
            time.sleep(0.2)
        log = (tmp_path / "out.txt").read_text()
        assert first.get("iterations", 0) >= 1, f"no first iteration (exit {proc.poll()}):\n{log[-6000:]}"
        assert first["iterations"] < iterations, first
        victim = first["worker_pids"][1]
        os.kill(victim, signal.SIGKILL)
        proc.wait(timeout=900)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = (tmp_path / "out.txt").read_text()
    assert proc.returncode == 0, log[-6000:]
    (path,) = summaries(tmp_path)
    s = read(path)
    assert s["status"] == "finished" and s["iterations"] == iterations, s
    assert s["mode"] == "sync" and s["sampler"] == "sync: 2 worker processes x 4 envs"
    assert s["worker_restarts"] == 1
    per_incarnation = s["accounting"]["rollouts_per_incarnation"]
    assert per_incarnation.get("1.1", 0) >= 1, per_incarnation  # the replacement's simulation was trained on
    assert s["env_steps"] == iterations * 2 * 4 * 8
    assert "restarting worker 1" in log


def test_async_in_process_newton_trains_with_lag_0_or_1(tmp_path):
    iterations = 3
    run_offline(
        [
            sys.executable,
            TRAIN,
            "--task",
            TASK,
            "--device",
            "cpu",
            "--num_workers",
            "0",
            "--mode",
            "async",
            "--num_envs",
            "4",
            "--max_iterations",
            str(iterations),
            *TINY,
        ],
        cwd=tmp_path,
    )
    (path,) = summaries(tmp_path)
    s = read(path)
    assert s["status"] == "finished" and s["iterations"] == iterations
    assert s["mode"] == "async" and "in-process collector thread x 4 envs on cpu" in s["sampler"]
    acc = s["accounting"]
    assert set(acc["samples_by_lag"]) <= {"0", "1"} and sum(acc["samples_by_lag"].values()) == iterations * 4 * 8
    assert acc["samples_used"] == acc["samples_total"] == iterations * 4 * 8
    lines = [json.loads(x) for x in (path.parent / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == iterations and all(line["lag/max"] <= 1 for line in lines)
    assert all(0.0 <= line["perf/overlap"] <= 1.0 for line in lines)
