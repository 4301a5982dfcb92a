"""Seeing a run, through the real CLI: the banner and plain progress lines in a pipe, the live display in a
pseudo-terminal, curves.png at the end, W&B offline (history at env steps, resume continues the run), a clear
exit-2 error without wandb, and training videos of the Go1."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import wandb_offline
from conftest import cli_env, run_trainer
from watch_helpers import mp4_frames, needs_video, png_size

# 2 workers x 4 envs x 32 steps = 256 env steps per iteration; 8 iterations (Pendulum episodes end at 200 steps).
PENDULUM = [
    "env=gym_pendulum",
    "ppo.envs_per_worker=4",
    "ppo.steps_per_env=32",
    "ppo.batch_size=128",
    "experiment.max_env_steps=2048",
]


def run_dirs(tmp_path: Path) -> list[Path]:
    return sorted(p.parent for p in (tmp_path / "runs").rglob("summary.json"))


def summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def metrics(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_pipe_gets_banner_and_plain_lines_with_budget_and_eta_then_curves_png(tmp_path):
    res = run_trainer(PENDULUM, tmp_path, timeout=300)  # stdout is a pipe; logging.console=auto (the default)
    assert res.returncode == 0, res.stderr[-3000:]
    (run,) = run_dirs(tmp_path)
    out = res.stdout
    assert "\x1b[" not in out  # no live display, no colours
    lines = out.splitlines()
    assert lines[0] == "APPO training: Pendulum-v1"
    assert f"  run dir     {run}" in lines
    assert f"  watch       tensorboard --logdir {run.parent}" in lines
    assert "  budget      2,048 env steps" in lines
    progress = [ln for ln in lines if ln.startswith("[it ")]
    assert len(progress) == 8  # one per iteration (logging.log_every_iterations=1), nothing in between
    assert progress[0].startswith("[it     1] steps         256 |") and "sps | return" in progress[0]
    assert progress[-1].endswith("| 100% of 2,048 env steps | ETA 0:00:00")
    assert all(" of 2,048 env steps | ETA " in ln for ln in progress)
    # the picture of the result: a valid PNG, and summary.json points to it
    s = summary(run)
    assert s["curves"] == str(run / "curves.png")
    width, height = png_size(run / "curves.png")
    assert width == 1100 and height >= 600
    assert f"curves: {run / 'curves.png'}" in out


def _run_in_pty(cmd: list[str], cwd: Path, timeout: float = 240) -> tuple[int, str]:
    master, slave = pty.openpty()
    env = cli_env(TERM="xterm-256color")
    for var in ("NO_COLOR", "TTY_COMPATIBLE", "FORCE_COLOR", "TTY_INTERACTIVE", "COLUMNS", "LINES"):
        env.pop(var, None)
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    data, deadline = b"", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                data += chunk
            elif proc.poll() is not None:
                break
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return proc.returncode, data.decode("utf-8", "replace")


def test_terminal_gets_a_live_progress_display(tmp_path):
    cmd = [sys.executable, "-m", "isaac_hydra_ext.appo_runner", f"experiment.output_dir={tmp_path / 'runs'}", *PENDULUM]
    code, out = _run_in_pty(cmd, tmp_path)
    assert code == 0, out[-3000:]
    assert "\x1b[" in out and "\u2501" in out  # cursor control and the bar
    assert "APPO training: Pendulum-v1" in out
    assert "2,048 steps" in out and "steps/s" in out and "ETA" in out and "episode length" in out
    assert "[it " not in out  # no plain lines under the live display
    (run,) = run_dirs(tmp_path)
    assert summary(run)["status"] == "finished" and summary(run)["iterations"] == 8


@pytest.fixture
def wandb_offline_env(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")  # no network: everything lands in <run>/wandb/offline-run-*
    monkeypatch.setenv("WANDB_SILENT", "true")
    for var in ("WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_ARTIFACT_DIR"):
        monkeypatch.setenv(var, str(tmp_path / "wandb_home"))


def test_wandb_without_credentials_is_one_line_with_the_ways_out_exit_2_and_no_run_directory(tmp_path, monkeypatch):
    # No API key anywhere (a fresh HOME, no WANDB_API_KEY, online mode): wandb.init refuses with UsageError. Before:
    # exit 1 with "cannot write the run's files in <run dir>", as if the disk had failed.
    pytest.importorskip("wandb")
    for var in [v for v in os.environ if v.startswith("WANDB_") or v == "NETRC"]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in ("WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_ARTIFACT_DIR"):
        monkeypatch.setenv(var, str(tmp_path / "wandb_home"))
    res = run_trainer(
        [*PENDULUM, "ppo.num_workers=1", "experiment.max_env_steps=384", "logging.wandb=true"],
        tmp_path,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 2, res.stderr[-3000:]
    errors = [line for line in res.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in res.stdout + res.stderr, res.stderr[-3000:]
    assert "W&B could not start (logging.wandb=true): UsageError" in errors[0]
    assert "`wandb login`" in errors[0] and "WANDB_MODE=offline" in errors[0] and "logging.wandb=false" in errors[0]
    assert not [p for p in (tmp_path / "runs").rglob("*") if p.is_dir()]


def _wandb_file(run: Path) -> Path:
    (path,) = run.glob("wandb/offline-run-*/run-*.wandb")
    return path


def test_wandb_offline_logs_the_scalars_at_env_steps_and_resume_continues_the_run(tmp_path, wandb_offline_env):
    # one worker: 4 envs x 32 steps = 128 env steps per iteration; 3 iterations, then 3 more after resuming
    first = run_trainer(
        [*PENDULUM, "ppo.num_workers=1", "experiment.max_env_steps=384", "logging.wandb=true"], tmp_path, timeout=300
    )
    assert first.returncode == 0, first.stderr[-3000:]
    (run1,) = run_dirs(tmp_path)
    s1 = summary(run1)
    assert s1["wandb"]["mode"] == "offline" and s1["wandb"]["name"] == run1.name
    history1 = wandb_offline.history(_wandb_file(run1))
    rows1 = metrics(run1)
    # one W&B row per logged iteration, at W&B step = env steps, holding the same values as metrics.jsonl
    assert [h["_step"] for h in history1] == [r["env_steps"] for r in rows1] == [128, 256, 384]
    for h, r in zip(history1, rows1):
        assert h["env_steps"] == r["env_steps"] and h["train/iteration"] == r["train/iteration"]
        assert h["policy/approx_kl"] == pytest.approx(r["policy/approx_kl"])
        assert h["perf/env_steps_per_s"] == pytest.approx(r["perf/env_steps_per_s"])
    record = wandb_offline.run_record(_wandb_file(run1))
    assert record.run_id == s1["wandb"]["id"] and record.display_name == run1.name
    assert record.project == "isaac_hydra_ext"
    config = wandb_offline.config(_wandb_file(run1))
    assert config["ppo"]["envs_per_worker"] == 4 and config["run_dir"] == str(run1)
    final = wandb_offline.summary(_wandb_file(run1))
    assert final["status"] == "finished" and final["env_steps"] == 384 and final["iterations"] == 3
    assert final["result/curves/_type"] == "image-file" and final["curves"] == str(run1 / "curves.png")

    time.sleep(1.1)  # a distinct timestamped run directory
    second = run_trainer(
        [
            *PENDULUM,
            "ppo.num_workers=1",
            "experiment.max_env_steps=768",
            "logging.wandb=true",
            "checkpoint.resume=latest",
        ],
        tmp_path,
        timeout=300,
    )
    assert second.returncode == 0, second.stderr[-3000:]
    run2 = next(d for d in run_dirs(tmp_path) if d != run1)
    s2 = summary(run2)
    assert s2["resumed_from"] == str(run1 / "model_3.pt")
    assert s2["wandb"]["id"] == s1["wandb"]["id"] and s2["wandb"]["name"] == run1.name  # the same W&B run
    history2 = wandb_offline.history(_wandb_file(run2))
    assert [h["_step"] for h in history2] == [r["env_steps"] for r in metrics(run2)] == [512, 640, 768]
    assert wandb_offline.run_record(_wandb_file(run2)).run_id == s1["wandb"]["id"]


def test_missing_wandb_is_a_one_line_config_error_before_anything_starts(tmp_path, monkeypatch):
    stub = tmp_path / "stub" / "wandb"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("raise ImportError(\"No module named 'wandb' (test stub)\")\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(stub.parent), os.environ.get("PYTHONPATH", "")]))
    res = run_trainer([*PENDULUM, "logging.wandb=true"], tmp_path, timeout=120)
    assert res.returncode == 2, res.stderr[-3000:]
    assert "Traceback" not in res.stderr + res.stdout
    errors = [ln for ln in res.stderr.splitlines() if "wandb" in ln]
    assert errors == [
        "  - logging.wandb=true needs the wandb package (No module named 'wandb' (test stub)): "
        "pip install 'isaac_hydra_ext[wandb]'"
    ]
    assert not run_dirs(tmp_path)  # nothing started


@needs_video
def test_go1_training_run_writes_videos_to_disk_tensorboard_wandb_and_summary(tmp_path, wandb_offline_env):
    # 2 workers x 8 envs x 24 steps, 4 iterations, a video due every 2nd iteration (2, 4) of 10 frames.
    res = run_trainer(
        [
            "env=mujoco_go1",
            "ppo.num_workers=2",
            "ppo.envs_per_worker=8",
            "ppo.steps_per_env=24",
            "experiment.max_iterations=4",
            "logging.video_every_iterations=2",
            "logging.video_length=10",
            "logging.console=line",
            "logging.wandb=true",
        ],
        tmp_path,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    (run,) = [p.parent for p in (tmp_path / "runs").rglob("summary.json")]
    summary = json.loads((run / "summary.json").read_text())
    videos = summary["videos"]
    # The recorder films when it is free; a trigger that finds it busy is skipped and counted, never queued.
    assert videos["recorded"] >= 1 and videos["recorded"] + videos["skipped_busy"] == 2, videos
    assert videos["failed"] == 0 and videos["disabled"] is None
    files = sorted((run / "videos").glob("*.mp4"))
    assert len(files) == videos["recorded"] and files[0].name == "iteration_000002.mp4"
    for f in files:
        assert mp4_frames(f) == ((640, 480), 50.0, 10)
    assert f"video: {files[0]} (10 frames" in res.stdout
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run), size_guidance={"images": 0})
    events.Reload()
    previews = events.Images("videos/policy")
    assert len(previews) == videos["recorded"] and previews[0].step == 2 * 2 * 8 * 24  # env steps at iteration 2
    assert previews[0].encoded_image_string[:6] == b"GIF89a"
    wandb_videos = [h for h in wandb_offline.history(_wandb_file(run)) if "videos/policy/_type" in h]
    assert len(wandb_videos) == videos["recorded"] and wandb_videos[0]["videos/policy/_type"] == "video-file"
    assert len(list(run.glob("wandb/offline-run-*/files/media/videos/**/*.mp4"))) == videos["recorded"]
    # the learner's and the recorder process's memory are logged every iteration
    rows = metrics(run)
    assert len(rows) == 4 and all(r["perf/learner_rss_mb"] > 50 for r in rows)
    assert any(r.get("perf/video_recorder_rss_mb", 0) > 50 for r in rows)
