"""The run directory fails under a running trainer: a full disk, a read-only directory, a file-size limit.

Whatever fails first, the run stops with exit 1 and one ``Error:`` line (no traceback), no temp file is left, the
checkpoints written before stay intact, and the final status is written to ``summary.json`` or, where the directory
refuses even that, its failure is reported in one line. (Before the fix: a traceback, ``summary.json`` left at
``running`` and a torn ``summary.json.tmp``.)

The full disk and the read-only directory are real: the trainer runs in a user and mount namespace of its own
(``unshare -rm``) where its output directory is a small tmpfs that the test fills, or a bind mount the test turns
read-only. Machines without unprivileged user namespaces skip those two; the file-size limit runs everywhere.
"""

from __future__ import annotations

import json
import resource
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import torch
from fault_cli import SMALL, output, start, trainer_cmd, wait_for

ARGS = [
    "env=gym_pendulum",
    *SMALL,
    "logging.tensorboard=true",
    "experiment.max_env_steps=100000000",
    "checkpoint.every_iterations=1",
    "checkpoint.keep_last=2",
]


def _namespaces_work() -> bool:
    if not shutil.which("unshare") or not shutil.which("nsenter"):
        return False
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


needs_namespaces = pytest.mark.skipif(
    not _namespaces_work(), reason="unprivileged user namespaces (unshare -rm) are not available here"
)


def _make_read_only_in_namespace(ns_pid: str, directory: Path, timeout_s: float = 60.0) -> None:
    """Make ``directory`` read-only in the mount namespace of ``ns_pid`` (bind-mounted onto itself first, unless it
    is a mount point there already).

    The kernel refuses the read-only remount (EBUSY, "mount point is busy") while any file is open for writing
    through the new mount, which a running trainer does for a moment at every checkpoint and metrics line; so the
    remount is retried until it lands between two writes (it failed CI once when tried only once).
    """
    path = shlex.quote(str(directory))
    script = (
        f"mountpoint -q {path} || mount --bind {path} {path} || exit 1; "
        f"end=$(( $(date +%s) + {int(timeout_s)} )); "
        f"until mount -o remount,ro,bind {path} 2>/dev/null; do "
        f'[ "$(date +%s)" -lt "$end" ] || exec mount -o remount,ro,bind {path}; sleep 0.02; done'
    )
    subprocess.run(["nsenter", "-t", ns_pid, "-U", "-m", "sh", "-c", script], check=True, timeout=timeout_s + 30)


def _run_dir(root: Path) -> Path | None:
    found = sorted({p.parent for p in root.rglob("config.yaml")})
    return found[0] if found else None


def _check_outcome(code: int, out: str, err: str, run_dir: Path, final_status_on_disk: bool) -> dict:
    """Exit 1, one ``Error:`` line, no traceback, no temp file, intact checkpoints; return summary.json."""
    assert code == 1, err[-3000:]
    assert "Traceback" not in out + err, err[-3000:]
    assert len([ln for ln in err.splitlines() if ln.startswith("Error:")]) == 1, err[-3000:]
    leftovers = [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp") or p.name.startswith(".tmp_")]
    assert not leftovers
    for ckpt in run_dir.glob("model_*.pt"):  # every checkpoint on disk is complete
        assert torch.load(ckpt, weights_only=True)["iteration"] >= 1
    summary = json.loads((run_dir / "summary.json").read_text())  # never torn
    if final_status_on_disk:
        assert summary["status"] == "failed" and summary["error"], summary
    else:  # the directory refused even the summary: the failure is reported in one line
        assert "could not write the final summary.json (status failed)" in out + err, (out + err)[-3000:]
        assert "the final summary.json could not be written" in err
    return summary


@needs_namespaces
def test_disk_full_mid_run_stops_with_one_line_and_writes_the_final_status(tmp_path):
    runs, saved = tmp_path / "runs", tmp_path / "saved"
    runs.mkdir()
    saved.mkdir()
    pid_file = tmp_path / "ns_pid"
    # In the namespace: the output directory is an 8 MiB tmpfs; after the trainer ends, its contents are copied
    # out (the tmpfs disappears with the namespace).
    script = (
        f"echo $$ > {pid_file}; mount -t tmpfs -o size=8m tmpfs {runs} || exit 99; "
        f"{shlex.join(trainer_cmd(tmp_path, ARGS))}; rc=$?; cp -a {runs}/. {saved}/; exit $rc"
    )
    proc = start(tmp_path, [], prefix=["unshare", "-rm", "sh", "-c", script, "sh"])
    try:
        ns_pid = int(
            wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), proc, tmp_path, 30, "the namespace")
        )
        inside = Path(f"/proc/{ns_pid}/root") / runs.relative_to("/")

        def two_checkpoints():
            run_dir = _run_dir(inside)
            return run_dir if run_dir and len(list(run_dir.glob("model_*.pt"))) >= 2 else None

        run_inside = wait_for(two_checkpoints, proc, tmp_path, 180, "two checkpoints")
        # Another writer fills the disk.
        with open(inside / "filler", "wb") as f:
            try:
                while True:
                    f.write(b"\0" * (1 << 20))
                    f.flush()
            except OSError:
                pass
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out, err = output(tmp_path)
    run_dir = saved / run_inside.relative_to(inside)
    summary = _check_outcome(proc.returncode, out, err, run_dir, final_status_on_disk=True)
    assert "No space left on device" in summary["error"]


@needs_namespaces
def test_run_directory_turning_read_only_stops_with_one_line_and_reports_the_summary(tmp_path):
    pid_file = tmp_path / "ns_pid"
    script = f"echo $$ > {pid_file}; exec {shlex.join(trainer_cmd(tmp_path, ARGS))}"
    proc = start(tmp_path, [], prefix=["unshare", "-rm", "sh", "-c", script, "sh"])
    try:

        def two_checkpoints():
            run_dir = _run_dir(tmp_path / "runs")
            return run_dir if run_dir and len(list(run_dir.glob("model_*.pt"))) >= 2 else None

        run_dir = wait_for(two_checkpoints, proc, tmp_path, 180, "two checkpoints")
        _make_read_only_in_namespace(pid_file.read_text().strip(), run_dir)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out, err = output(tmp_path)
    _check_outcome(proc.returncode, out, err, run_dir, final_status_on_disk=False)
    assert "Read-only file system" in err


@needs_namespaces
def test_the_read_only_remount_waits_out_a_file_open_for_writing(tmp_path):
    # A writer in the namespace holds a file open for writing through the bind mount 3/4 of the time, as a trainer
    # does at each checkpoint: a single remount attempt is refused with EBUSY ("mount point is busy") most of the
    # time; the helper must still land.
    directory = tmp_path / "d"
    directory.mkdir()
    pid_file = tmp_path / "ns_pid"
    writer = (
        f"mount --bind {directory} {directory} || exit 1; echo $$ > {pid_file}.part && mv {pid_file}.part {pid_file}; "
        f"while :; do (exec 3>{directory}/f; sleep 0.3); sleep 0.1; done"
    )
    proc = subprocess.Popen(["unshare", "-rm", "sh", "-c", writer], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        ns_pid = pid_file.read_text().strip()
        _make_read_only_in_namespace(ns_pid, directory, timeout_s=20)
        probe = subprocess.run(
            ["nsenter", "-t", ns_pid, "-U", "-m", "sh", "-c", f"touch {directory}/new"], capture_output=True, text=True
        )
        assert probe.returncode != 0 and "Read-only file system" in probe.stderr, probe.stderr
    finally:
        proc.kill()
        proc.wait()


def test_file_size_limit_hit_mid_run_stops_with_one_line_and_writes_the_final_status(tmp_path):
    # RLIMIT_FSIZE: a write that would make a file bigger than the limit fails with EFBIG (Python ignores SIGXFSZ).
    # metrics.jsonl grows by a line per iteration and reaches the limit after some iterations; checkpoints
    # (~30 kB) and summary.json stay under it, so the final checkpoint and status are still written.
    limit = 96 * 1024

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = start(tmp_path, [*ARGS, "logging.tensorboard=false"], preexec_fn=limit_file_size)
    try:
        proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out, err = output(tmp_path)
    run_dir = _run_dir(tmp_path / "runs")
    assert run_dir is not None, err[-3000:]
    summary = _check_outcome(proc.returncode, out, err, run_dir, final_status_on_disk=True)
    assert "File too large" in summary["error"] and "metrics.jsonl" not in summary.get("summary_write_error", "")
    assert summary["last_checkpoint"] == str(run_dir / f"model_{summary['iterations']}.pt")
    assert torch.load(summary["last_checkpoint"], weights_only=True)["iteration"] == summary["iterations"]
    assert (run_dir / "metrics.jsonl").stat().st_size <= limit
