"""A second Ctrl-C during shutdown: the final checkpoint and ``summary.json`` are still written, exit 0.

The scenario of issue 17: a run past iteration 2, SIGINT, then a second SIGINT 0.05-1 s later, sent to the learner
alone or to the whole process group (as a terminal's Ctrl-C does; the workers ignore it). Before the fix the second
one raised ``KeyboardInterrupt`` inside ``WorkerPool.stop()``: exit 130 with a traceback, no final checkpoint,
``summary.json`` left at ``running``. Now a second signal may only cut short the wait for the workers.
"""

import os
import signal
import time

import psutil
import pytest
import torch
from conftest import FULL
from fault_cli import (
    SMALL,
    alive,
    descendants,
    output,
    read_summary,
    run_dirs,
    start,
    try_summary,
    wait_for,
)

# Workers whose rollouts take ~0.6 s (4 envs x 16 steps x 10 ms), so stopping them takes a while and the second
# signal lands in the shutdown; no periodic checkpoint, so the only checkpoint is the final one.
ARGS = [
    "env=gym",
    "env.id=fault_envs:SlowPendulum-v0",
    "+env.kwargs.delay_s=0.01",
    *SMALL,
    "experiment.max_env_steps=100000000",
    "checkpoint.every_iterations=0",
]

# CI: both targets, a short and a long delay; IHE_FULL=1: both targets at each of 0.05, 0.3 and 1 s.
CASES = [("learner", 0.05), ("group", 1.0)]
if FULL:
    CASES += [("group", 0.05), ("learner", 0.3), ("group", 0.3), ("learner", 1.0)]


@pytest.mark.parametrize("target,delay_s", CASES, ids=[f"{t}-{d}s" for t, d in CASES])
def test_second_sigint_during_shutdown_still_saves_checkpoint_and_summary(tmp_path, target, delay_s):
    proc = start(tmp_path, ARGS, start_new_session=True)  # its own process group, like a terminal's job
    seen: dict[int, psutil.Process] = {}

    def send(sig: int) -> None:
        if target == "group":
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)

    try:

        def past_iteration_2():
            for c in descendants(proc.pid):
                seen.setdefault(c.pid, c)
            dirs = run_dirs(tmp_path)
            return dirs[0] if dirs and (try_summary(dirs[0]).get("iterations") or 0) >= 3 else None

        run_dir = wait_for(past_iteration_2, proc, tmp_path, 180, "iteration 3")
        assert len(alive(list(seen.values()))) >= 2  # the workers (and multiprocessing's resource tracker)
        send(signal.SIGINT)
        time.sleep(delay_s)
        send(signal.SIGINT)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    out, err = output(tmp_path)
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in out + err and "KeyboardInterrupt" not in out + err, err[-3000:]
    s = read_summary(run_dir)
    assert s["status"] == "interrupted" and s["stop_reason"] == "SIGINT" and s["error"] is None, s
    assert s["iterations"] >= 3
    # The final checkpoint is there, complete, and is the state of the last finished iteration.
    assert s["last_checkpoint"] == str(run_dir / f"model_{s['iterations']}.pt")
    ckpt = torch.load(s["last_checkpoint"], weights_only=True)
    assert ckpt["iteration"] == s["iterations"] and ckpt["env_steps"] == s["env_steps"]
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values())
    assert not [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp") or p.name.startswith(".tmp_")]
    # Nothing left running: every worker and the resource tracker are gone.
    deadline = time.monotonic() + 10
    while alive(list(seen.values())) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(list(seen.values())), [(p.pid, p.cmdline()) for p in alive(list(seen.values()))]
