"""The learner SIGKILLed: its workers die with it (PR_SET_PDEATHSIG, parent-pid checks), nothing is left in
/dev/shm, and ``checkpoint.resume=latest`` continues from the last complete checkpoint."""

import os
import signal
import time

import torch
from fault_cli import (
    SMALL,
    alive,
    descendants,
    read_summary,
    run,
    run_dirs,
    shm_entries,
    shm_left_behind,
    start,
    wait_for,
)
from isaac_hydra_ext.utils.checkpoint import list_checkpoints, load_checkpoint

ORPHAN_BOUND_S = 10.0  # "a few seconds", generously: PR_SET_PDEATHSIG normally ends them at once


def test_learner_sigkill_takes_workers_down_and_resume_latest_continues(tmp_path):
    shm_before = shm_entries()
    args = ["env=gym_pendulum", *SMALL, "checkpoint.every_iterations=4", "checkpoint.keep_last=0"]
    proc = start(tmp_path, [*args, "experiment.max_env_steps=100000000"])
    try:

        def two_checkpoints():
            dirs = run_dirs(tmp_path)
            return dirs[0] if dirs and len(list_checkpoints(str(dirs[0]))) >= 2 else None

        run_dir = wait_for(two_checkpoints, proc, tmp_path, 120, "two periodic checkpoints")
        children = descendants(proc.pid)
        workers = read_summary(run_dir)["worker_pids"]
        assert set(workers) <= {c.pid for c in children} and len(workers) == 2
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        killed_at = time.monotonic()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    # No worker (nor multiprocessing's resource tracker) outlives the learner by more than a few seconds.
    while time.monotonic() - killed_at < ORPHAN_BOUND_S:
        left = alive(children)
        if not left:
            break
        time.sleep(0.1)
    assert not left, [(c.pid, c.cmdline()) for c in left]
    assert not shm_left_behind(shm_before)

    # What a kill in the middle of save_checkpoint leaves behind: a partial temp file next to the complete ones.
    complete = list_checkpoints(str(run_dir))
    (run_dir / ".tmp_k1ll3d00.pt").write_bytes(b"PK\x03\x04" + os.urandom(300))
    last = complete[-1]
    state = load_checkpoint(last)
    assert state["iteration"] >= 8

    time.sleep(1.1)  # a new, distinct timestamped run directory
    budget = state["env_steps"] + 512
    code, out, err = run(tmp_path, [*args, f"experiment.max_env_steps={budget}", "checkpoint.resume=latest"])
    assert code == 0, err[-3000:]
    resumed = [d for d in run_dirs(tmp_path) if d != run_dir]
    assert len(resumed) == 1
    s = read_summary(resumed[0])
    assert s["status"] == "finished" and s["resumed_from"] == str(last)
    new_iterations = (s["env_steps"] - state["env_steps"]) // 128  # 128 samples per iteration
    assert s["env_steps"] >= budget and s["iterations"] == state["iteration"] + new_iterations
    assert s["policy_version"] > state["policy_version"]
    final = torch.load(s["last_checkpoint"], weights_only=True)
    assert final["iteration"] == s["iterations"] and final["env_steps"] == s["env_steps"]
