"""Helpers of the fault tests: start the real trainer CLI, watch its processes and files from the outside."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
from conftest import cli_env

# A small, fast run: 2 workers x 4 envs x 16 steps = 128 samples per iteration.
SMALL = [
    "ppo.num_workers=2",
    "ppo.envs_per_worker=4",
    "ppo.steps_per_env=16",
    "ppo.batch_size=64",
    "ppo.actor_hidden_dims=[32,32]",
    "ppo.critic_hidden_dims=[32,32]",
    "logging.tensorboard=false",
]
FAULTY = "env.id=fault_envs:FaultyPendulum-v0"
SLOW = "env.id=fault_envs:SlowPendulum-v0"


def trainer_cmd(tmp_path: Path, args: list[str]) -> list[str]:
    flags = [a for a in args if a.startswith("-")]
    rest = [a for a in args if not a.startswith("-")]
    return [
        sys.executable,
        "-m",
        "isaac_hydra_ext.appo_runner",
        *flags,
        f"experiment.output_dir={tmp_path / 'runs'}",
        *rest,
    ]


def start(tmp_path: Path, args: list[str], prefix: list[str] | None = None, **popen) -> subprocess.Popen:
    """Start the trainer (stdout/stderr to files under tmp_path, so a chatty run cannot block on a full pipe).

    ``prefix`` runs it under another command (``unshare ...``); ``popen`` goes to :class:`subprocess.Popen`
    (``start_new_session=True`` gives it a process group of its own).
    """
    with open(tmp_path / "stdout.txt", "w") as out, open(tmp_path / "stderr.txt", "w") as err:
        return subprocess.Popen(
            [*(prefix or []), *trainer_cmd(tmp_path, args)],
            cwd=tmp_path,
            env=cli_env(),
            stdout=out,
            stderr=err,
            **popen,
        )


def output(tmp_path: Path) -> tuple[str, str]:
    return (tmp_path / "stdout.txt").read_text(), (tmp_path / "stderr.txt").read_text()


def run(tmp_path: Path, args: list[str], timeout: float = 240, prefix: list[str] | None = None) -> tuple[int, str, str]:
    """Run the trainer to its end; return (exit code, stdout, stderr)."""
    proc = start(tmp_path, args, prefix)
    try:
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return (proc.returncode, *output(tmp_path))


def run_dirs(tmp_path: Path, name: str = "") -> list[Path]:
    """Run directories (where the trainer writes its config.yaml) under ``runs/<name>``; every experiment if empty."""
    root = tmp_path / "runs" / name if name else tmp_path / "runs"
    return sorted({p.parent for p in root.rglob("config.yaml")})


def read_summary(run_dir: Path) -> dict:
    for _ in range(50):
        try:
            return json.loads((run_dir / "summary.json").read_text())
        except (json.JSONDecodeError, FileNotFoundError):
            time.sleep(0.1)
    raise AssertionError(f"no readable summary.json in {run_dir}")


def try_summary(run_dir: Path | None) -> dict:
    if run_dir is None:
        return {}
    try:
        return json.loads((run_dir / "summary.json").read_text())
    except (json.JSONDecodeError, FileNotFoundError):
        return {}


def wait_for(predicate, proc: subprocess.Popen, tmp_path: Path, timeout: float = 120, what: str = "condition"):
    """Poll ``predicate()`` until it returns something truthy; fail if the trainer exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc.poll() is not None:
            raise AssertionError(f"trainer exited ({proc.returncode}) before {what}:\n{output(tmp_path)[1][-3000:]}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}:\n{output(tmp_path)[1][-3000:]}")


def wait_training(proc: subprocess.Popen, tmp_path: Path, min_iterations: int = 1, timeout: float = 120) -> Path:
    """Wait until the run has done ``min_iterations`` and every worker has announced itself; return the run dir."""

    def ready():
        dirs = run_dirs(tmp_path)
        s = try_summary(dirs[0]) if dirs else {}
        if s.get("iterations", 0) >= min_iterations and s.get("worker_pids") and all(s["worker_pids"]):
            return dirs[0]
        return None

    return wait_for(ready, proc, tmp_path, timeout, f"{min_iterations} iterations")


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def wait_gone(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait up to ``timeout`` s for the processes to end; return those still alive."""
    deadline = time.monotonic() + timeout
    left = alive(procs)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = alive(procs)
    return left


def shm_entries() -> set[str]:
    return set(os.listdir("/dev/shm"))


def shm_left_behind(before: set[str]) -> set[str]:
    """Entries of /dev/shm that appeared since ``before`` and are still there a moment later.

    The machine is shared: another process may create (and at once remove) a segment of its own while we look,
    so an entry counts only if it is still present after a second look.
    """
    new = shm_entries() - before
    if not new:
        return set()
    time.sleep(1.0)
    return new & shm_entries()


def pids_in(path: Path) -> set[int]:
    return {int(x) for x in path.read_text().split()} if path.exists() else set()
