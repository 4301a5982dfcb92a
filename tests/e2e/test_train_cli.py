"""End to end through the real CLI: learning, resume, multirun, determinism, faults and signals."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import torch
from conftest import cli_env, run_trainer


def run_dirs(tmp_path: Path, name: str = "") -> list[Path]:
    """Run directories under ``runs/<name>`` (every experiment when ``name`` is empty: presets name their own)."""
    return sorted(p.parent for p in (tmp_path / "runs" / name if name else tmp_path / "runs").rglob("summary.json"))


def summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


@pytest.mark.slow
def test_pendulum_async_two_workers_learns(tmp_path):
    # Solved Pendulum is about -150..-200; random is about -1200. The preset's budget, 600k steps (~30-40 s on 2
    # cores). Every run solves it on the way (best window -150..-300), but some fall back after solving it (a KL
    # spike once the advantages get small; a known weakness, docs/benchmarks.md). When the learner is slower than the
    # workers (CI installs PyPI's CUDA wheel of torch, whose CPU update is 2-3x slower than the CPU wheel's), every
    # batch is 2 policy versions old and it solves later: 390-500k over 6 seeds, against 170-310k over 30 runs with
    # the CPU wheel; at the old 400k budget CI failed at -879 and -603 (best window). So the check is that it solved
    # the task within the preset's budget and did not fall back to a random policy's level.
    steps = 600_000
    res = run_trainer(
        [
            "env=gym_pendulum",
            "ppo.mode=async",
            "ppo.num_workers=2",
            f"experiment.max_env_steps={steps}",
            "logging.log_every_iterations=1",
        ],
        tmp_path,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    (run,) = run_dirs(tmp_path)
    s = summary(run)
    assert s["status"] == "finished" and s["env_steps"] >= steps
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    returns = [x["train/mean_return"] for x in lines if "train/mean_return" in x] + [s["mean_return"]]
    assert max(returns) >= -350, returns  # solved on the way (a slow starter only at the end: -281 in one CI run)
    assert s["mean_return"] >= -700, returns  # and not back at a random policy's level at the end
    assert s["last"]["lag/max"] <= 20
    assert any(f.name.startswith("events.out.tfevents") for f in run.iterdir())
    assert (run / "config.yaml").read_text().count("num_workers: 2") == 1


def test_resume_continues_step_count_and_iterations(tmp_path):
    base = ["env=gym_pendulum", "ppo.envs_per_worker=4", "ppo.steps_per_env=32", "ppo.batch_size=128"]
    first = run_trainer([*base, "experiment.max_env_steps=2048"], tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    (run1,) = run_dirs(tmp_path)
    s1 = summary(run1)
    # the closing line rounds the mean return (before: every digit of the float, or None before any episode ended)
    assert f"env steps, {s1['wall_time_s']:.1f} s, mean return {s1['mean_return']:.2f}; run directory" in first.stdout
    time.sleep(1.1)  # a distinct timestamped run directory
    second = run_trainer([*base, "experiment.max_env_steps=4096", "checkpoint.resume=latest"], tmp_path)
    assert second.returncode == 0, second.stderr[-2000:]
    run2 = [d for d in run_dirs(tmp_path) if d != run1][0]
    s2 = summary(run2)
    assert s2["resumed_from"] == str(run1 / f"model_{s1['iterations']}.pt")
    assert s2["env_steps"] == 4096 and s2["iterations"] == 2 * s1["iterations"]
    assert s2["policy_version"] > s1["policy_version"]
    ckpt = torch.load(run2 / f"model_{s2['iterations']}.pt", weights_only=True)
    assert ckpt["env_steps"] == 4096 and ckpt["iteration"] == s2["iterations"]
    # resuming the finished run with the same budget (a job script that always resumes) trains nothing and says so,
    # exit 0, no new run directory (before: a third directory holding a copy of the checkpoint, "run finished")
    time.sleep(1.1)
    third = run_trainer([*base, "experiment.max_env_steps=4096", "checkpoint.resume=latest"], tmp_path)
    assert third.returncode == 0, third.stderr[-2000:]
    last = run2 / f"model_{s2['iterations']}.pt"
    expected = f"nothing to train: {last} is at iteration {s2['iterations']} and 4,096 env steps, which "
    assert expected + "experiment.max_env_steps=4096 already covers" in third.stdout, third.stdout
    assert len([d for d in (tmp_path / "runs").rglob("*") if d.is_dir() and d.parent.name == "pendulum"]) == 2


def test_multirun_sweep_runs_each_job_in_its_own_directory(tmp_path):
    # The README's sweep: the adaptive schedule's step size, desired_kl (sweeping learning_rate, only its starting
    # value under schedule=adaptive, gave runs that ended the same).
    res = run_trainer(
        [
            "-m",
            "env=gym_pendulum",
            "ppo.desired_kl=0.002,0.05",
            "ppo.envs_per_worker=4",
            "ppo.steps_per_env=16",
            "ppo.batch_size=64",
            "experiment.max_env_steps=1024",
            "ppo.mode=serial",
        ],
        tmp_path,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    dirs = run_dirs(tmp_path)
    assert len(dirs) == 2 and dirs[0] != dirs[1]
    # Hydra's record of the sweep lands beside the runs, not in the working directory (before: ./multirun.yaml)
    assert not (tmp_path / "multirun.yaml").exists() and (tmp_path / "runs" / "multirun.yaml").is_file()

    def setting(d: Path) -> float:
        return float(
            next(
                ln.split(":")[1]
                for ln in (d / "config.yaml").read_text().splitlines()
                if ln.strip().startswith("desired_kl:")
            )
        )

    kls = {}
    for d in dirs:
        lines = [json.loads(x) for x in (d / "metrics.jsonl").read_text().splitlines()]
        kls[setting(d)] = sum(x["policy/approx_kl"] for x in lines) / len(lines)
    assert sorted(kls) == [0.002, 0.05]
    assert kls[0.05] > 2 * kls[0.002], kls  # the swept value sets how far each update moves the policy


def _weights(run: Path, iteration: int) -> dict:
    return torch.load(run / f"model_{iteration}.pt", weights_only=True)["model"]


@pytest.mark.parametrize("mode,iterations,seed", [("serial", 4, 3), ("async", 1, 5)])
def test_one_seed_gives_identical_results(tmp_path, mode, iterations, seed):
    # serial: bit-identical over several iterations; async: the same first iteration (one rollout per worker, all
    # with the initial weights; what later iterations train on depends on which worker finishes first).
    args = [
        "env=gym_pendulum",
        f"ppo.mode={mode}",
        "ppo.envs_per_worker=4",
        "ppo.steps_per_env=16",
        "ppo.batch_size=64",
        f"experiment.max_iterations={iterations}",
        f"experiment.seed={seed}",
    ]
    for _ in range(2):
        res = run_trainer(args, tmp_path)
        assert res.returncode == 0, res.stderr[-2000:]
        time.sleep(1.1)
    a, b = run_dirs(tmp_path)
    wa, wb = _weights(a, iterations), _weights(b, iterations)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    if mode == "serial":  # every logged statistic but the timers
        stats = [{k: v for k, v in summary(d)["last"].items() if not k.startswith("perf/")} for d in (a, b)]
        assert stats[0] == stats[1]


def _start(tmp_path: Path, args: list[str]) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "isaac_hydra_ext.appo_runner", f"experiment.output_dir={tmp_path / 'runs'}", *args]
    return subprocess.Popen(cmd, cwd=tmp_path, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_running(tmp_path: Path, proc: subprocess.Popen, min_iterations: int = 2, timeout: float = 120) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        dirs = run_dirs(tmp_path)
        if dirs:
            try:
                s = summary(dirs[0])
            except (json.JSONDecodeError, FileNotFoundError):
                s = {}
            if s.get("iterations", 0) >= min_iterations and all(s.get("worker_pids") or [0]):
                return dirs[0]
        time.sleep(0.2)
    raise AssertionError("run did not start")


def test_worker_killed_mid_run_is_replaced_and_run_finishes(tmp_path):
    proc = _start(
        tmp_path,
        [
            "env=gym",
            "env.id=fault_envs:SlowPendulum-v0",
            "ppo.envs_per_worker=4",
            "ppo.steps_per_env=32",
            "ppo.batch_size=128",
            "experiment.max_env_steps=12000",
            "+env.kwargs.delay_s=0.001",
        ],
    )
    try:
        run = _wait_running(tmp_path, proc)
        os.kill(summary(run)["worker_pids"][0], signal.SIGKILL)
        out, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 0, err[-3000:]
    s = summary(run)
    assert s["status"] == "finished" and s["worker_restarts"] == 1 and s["env_steps"] >= 12000
    assert "restarting worker 0 (restart 1/10)" in out + err  # the restart is logged


def _children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_saves_checkpoint_and_leaves_no_child_process(tmp_path, sig):
    shm_before = set(os.listdir("/dev/shm"))
    proc = _start(tmp_path, ["env=gym_pendulum", "experiment.max_env_steps=100000000"])
    try:
        run = _wait_running(tmp_path, proc)
        children = _children(proc.pid)
        assert len(children) >= 2
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err[-3000:]
    s = summary(run)
    assert s["status"] == "interrupted" and s["stop_reason"] == sig.name
    assert Path(s["last_checkpoint"]).is_file()
    time.sleep(0.5)
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert set(os.listdir("/dev/shm")) <= shm_before
