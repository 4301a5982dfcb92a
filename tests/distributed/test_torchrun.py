"""Data-parallel learners under torchrun with gloo on CPU: ranks stay identical, samples add up, failures stop all."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
from conftest import cli_env, run_trainer

SMALL = [
    "env=gym_pendulum",
    "ppo.envs_per_worker=8",
    "ppo.steps_per_env=32",
    "ppo.batch_size=128",
    "experiment.max_iterations=6",
]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun(tmp_path: Path, args: list[str], nproc: int = 2) -> list[str]:
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nproc_per_node={nproc}",
        f"--master_port={_port()}",
        "-m",
        "isaac_hydra_ext.appo_runner",
        "experiment.distributed=true",
        f"experiment.output_dir={tmp_path / 'runs'}",
        *args,
    ]


def _summary(tmp_path: Path) -> dict:
    (path,) = list((tmp_path / "runs").rglob("summary.json"))
    return json.loads(path.read_text())


def test_two_ranks_keep_identical_parameters_and_count_all_samples(tmp_path):
    res = subprocess.run(
        _torchrun(tmp_path, [*SMALL, "ppo.num_workers=1"]),
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    s = _summary(tmp_path)  # only rank 0 writes a run directory
    d = s["distributed"]
    assert d["world_size"] == 2 and len(set(d["rank_pids"])) == 2
    assert d["parameters_identical"] and d["parameter_checksums"][0] == d["parameter_checksums"][1]
    # 6 iterations x (2 ranks x 1 worker x 8 envs x 32 steps)
    assert s["iterations"] == 6 and s["env_steps"] == 6 * 2 * 8 * 32
    # the same sample count as one rank with 2 workers
    (tmp_path / "single").mkdir()
    single = run_trainer([*SMALL, "ppo.num_workers=2"], tmp_path / "single")
    assert single.returncode == 0, single.stderr[-2000:]
    one = json.loads(next((tmp_path / "single" / "runs").rglob("summary.json")).read_text())
    assert (one["iterations"], one["env_steps"]) == (s["iterations"], s["env_steps"])


def test_killing_one_rank_stops_the_other_with_a_clear_message(tmp_path):
    cmd = _torchrun(
        tmp_path,
        [
            *SMALL,
            "ppo.num_workers=1",
            "experiment.max_iterations=0",
            "experiment.max_env_steps=0",
            "checkpoint.every_iterations=1",
        ],
    )
    proc = subprocess.Popen(
        cmd,
        cwd=tmp_path,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        ranks = []
        while time.monotonic() < deadline and len(ranks) < 2:
            ranks = [
                p
                for p in psutil.Process(proc.pid).children(recursive=True)
                if "isaac_hydra_ext.appo_runner" in " ".join(p.cmdline()) and "RANK" in p.environ()
            ]
            time.sleep(0.5)
        assert len(ranks) >= 2
        # wait until training runs (a checkpoint exists), then kill rank 1
        while time.monotonic() < deadline and not list((tmp_path / "runs").rglob("model_*.pt")):
            time.sleep(0.2)
        rank1 = next(p for p in ranks if p.environ().get("RANK") == "1")
        everyone = psutil.Process(proc.pid).children(recursive=True)
        rank1.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode != 0
    assert "exitcode  : -9" in err, err[-3000:]  # torchrun names the killed rank
    # rank 0 either saw the broken collective or torchrun's SIGTERM; either way it says why it stopped
    assert "another rank died or stopped answering" in err or "SIGTERM received" in out + err, err[-3000:]
    s = _summary(tmp_path)
    assert s["status"] in ("failed", "interrupted") and s["last_checkpoint"]
    time.sleep(1)
    assert not [p for p in everyone if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]  # no orphans


def test_distributed_without_torchrun_is_a_clear_error(tmp_path):
    env = {k: v for k, v in cli_env().items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR")}
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "isaac_hydra_ext.appo_runner",
            "experiment.distributed=true",
            *SMALL,
            f"experiment.output_dir={tmp_path / 'runs'}",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode != 0
    assert "experiment.distributed=true needs torchrun" in res.stderr
    assert "Traceback" not in res.stderr
