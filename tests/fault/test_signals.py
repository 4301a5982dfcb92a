"""SIGINT and SIGTERM at start-up and during an update: exit code 0, a final checkpoint, status ``interrupted``,
no child process and no /dev/shm entry left. (During collection: tests/e2e/test_train_cli.py.)"""

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
    shm_entries,
    shm_left_behind,
    start,
    try_summary,
    wait_for,
)

SIGNALS = [signal.SIGINT, signal.SIGTERM]
ARGS = ["env=gym_pendulum", *SMALL, "experiment.max_env_steps=100000000", "checkpoint.every_iterations=0"]


def _wait_or_kill(proc, timeout: float = 120) -> None:
    """Wait for the trainer to exit; kill it if it has not (the assertions that follow then say why)."""
    try:
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _finish(proc, tmp_path, children_seen):
    _wait_or_kill(proc)
    out, err = output(tmp_path)
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in out + err
    (run_dir,) = run_dirs(tmp_path)
    s = read_summary(run_dir)
    time.sleep(0.5)
    assert not alive(children_seen), [c.pid for c in alive(children_seen)]
    return run_dir, s


def _watch_children(proc, seen: dict):
    for c in descendants(proc.pid):
        seen.setdefault(c.pid, c)


# CI runs one signal per start-up phase (both signals are covered); IHE_FULL=1 runs all four combinations.
START_UP = [("before_workers", signal.SIGINT), ("workers_starting", signal.SIGTERM)]
if FULL:
    START_UP += [("before_workers", signal.SIGTERM), ("workers_starting", signal.SIGINT)]


@pytest.mark.parametrize("phase,sig", START_UP, ids=[f"{p}-{s.name}" for p, s in START_UP])
def test_signal_at_start_up_exits_0_with_checkpoint_and_nothing_left(tmp_path, sig, phase):
    shm_before = shm_entries()
    proc = start(tmp_path, ARGS)
    seen: dict[int, psutil.Process] = {}
    try:
        if phase == "before_workers":
            # Hydra has made the run directory: the config is being validated, the env probed, the runner built.
            wait_for(
                lambda: run_dirs(tmp_path) or list((tmp_path / "runs").rglob(".hydra")),
                proc,
                tmp_path,
                60,
                "the run directory",
            )
        else:
            # The learner is spawning its workers (they are importing torch), no iteration has run yet.
            def spawning():
                _watch_children(proc, seen)
                return any("spawn_main" in " ".join(c.cmdline()) for c in alive(list(seen.values())))

            wait_for(spawning, proc, tmp_path, 60, "a worker process")
            assert not any(try_summary(d).get("iterations") for d in run_dirs(tmp_path))
        _watch_children(proc, seen)
        proc.send_signal(sig)
        _watch_children(proc, seen)
    except BaseException:
        proc.kill()
        raise
    run_dir, s = _finish(proc, tmp_path, list(seen.values()))
    assert s["status"] == "interrupted" and s["stop_reason"] == sig.name and s["error"] is None
    assert s["iterations"] == 0
    ckpt = torch.load(s["last_checkpoint"], weights_only=True)
    assert s["last_checkpoint"].endswith("model_0.pt") and ckpt["iteration"] == 0
    assert not shm_left_behind(shm_before)


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_signal_during_an_update_finishes_it_then_exits_0_with_checkpoint(tmp_path, sig):
    # A long update (100 epochs of 8 minibatches) and workers that always have rollouts ready: right after an
    # iteration ends, the next one is inside APPO.update within milliseconds and stays there for seconds.
    shm_before = shm_entries()
    proc = start(tmp_path, [*ARGS, "ppo.update_epochs=100", "ppo.batch_size=16"])
    seen: dict[int, psutil.Process] = {}
    try:
        run_dir = wait_for(
            lambda: next((d for d in run_dirs(tmp_path) if try_summary(d).get("iterations", 0) >= 1), None),
            proc,
            tmp_path,
            120,
            "the first iteration",
        )
        _watch_children(proc, seen)
        s0 = try_summary(run_dir)
        learn_s = s0["last"]["perf/learn_s"]
        assert learn_s > 0.5, s0["last"]  # the update is long enough to be hit

        def next_iteration():
            it = try_summary(run_dir).get("iterations") or 0
            return it if it > s0["iterations"] else None

        seen_iteration = wait_for(next_iteration, proc, tmp_path, 120, "the next iteration")
        time.sleep(0.15)  # the next iteration took its ready rollouts within ms and is inside its update
        proc.send_signal(sig)
        _watch_children(proc, seen)
    except BaseException:
        proc.kill()
        raise
    run_dir, s = _finish(proc, tmp_path, list(seen.values()))
    assert s["status"] == "interrupted" and s["stop_reason"] == sig.name
    # The update that was running when the signal came was completed (not torn), then the run stopped.
    assert s["iterations"] == seen_iteration + 1, (s["iterations"], seen_iteration)
    assert s["last_checkpoint"].endswith(f"model_{seen_iteration + 1}.pt")
    ckpt = torch.load(s["last_checkpoint"], weights_only=True)
    assert ckpt["iteration"] == seen_iteration + 1
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values())
    assert not shm_left_behind(shm_before)


def test_a_terminal_that_hangs_up_stops_the_run_like_sigterm_with_its_checkpoint(tmp_path):
    # The run's controlling terminal goes away (a closed terminal window, a dropped SSH session): the kernel sends
    # SIGHUP to the learner and its workers. Before: the learner died where it stood (summary.json left at
    # "running", the iterations since the last periodic checkpoint lost). Now it stops like for SIGTERM, and its
    # console output, which would fail with EIO on the dead terminal, goes to /dev/null.
    import fcntl
    import os
    import pty
    import select
    import subprocess
    import termios

    from conftest import cli_env
    from fault_cli import trainer_cmd

    shm_before = shm_entries()
    master, slave = pty.openpty()

    def take_the_terminal():  # after setsid: the pty becomes the session's controlling terminal
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        trainer_cmd(tmp_path, [*ARGS, "logging.console=line"]),
        cwd=tmp_path,
        env=cli_env(),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        preexec_fn=take_the_terminal,
    )
    os.close(slave)
    seen: dict[int, psutil.Process] = {}
    shown = b""
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:  # read the terminal, as a terminal would
            if select.select([master], [], [], 0.2)[0]:
                shown += os.read(master, 65536)
            dirs = run_dirs(tmp_path)
            if dirs and (try_summary(dirs[0]).get("iterations") or 0) >= 2:
                break
        _watch_children(proc, seen)
        assert proc.poll() is None, shown.decode(errors="replace")[-3000:]
        assert any("spawn_main" in " ".join(c.cmdline()) for c in alive(list(seen.values())))
    finally:
        os.close(master)  # the terminal hangs up
    _wait_or_kill(proc)
    assert proc.returncode == 0, shown.decode(errors="replace")[-3000:]
    (run_dir,) = run_dirs(tmp_path)
    s = read_summary(run_dir)
    assert s["status"] == "interrupted" and s["stop_reason"] == "SIGHUP" and s["error"] is None, s
    assert s["iterations"] >= 2 and s["last_checkpoint"].endswith(f"model_{s['iterations']}.pt")
    assert torch.load(s["last_checkpoint"], weights_only=True)["iteration"] == s["iterations"]
    assert "Traceback" not in (run_dir / "train.log").read_text()
    time.sleep(0.5)
    assert not alive(list(seen.values())), [c.pid for c in alive(list(seen.values()))]
    assert not shm_left_behind(shm_before)
