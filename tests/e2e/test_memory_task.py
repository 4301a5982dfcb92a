"""Memory is used, not just allowed: the partially observed Pendulum through the real CLI, LSTM against MLP.

``Sber-Pendulum-NoVelocity-v0`` observes (cos theta, sin theta) only; swinging up and balancing needs the angular
velocity, which only a policy with memory can infer. With the ``env=pendulum_no_velocity`` preset (its LSTM of 64
units), 2 async workers and 300k env steps, measured on the 2-core CI machine at a load of 4.5-7 (docs/benchmarks.md):

* LSTM (``ppo.rnn_type=lstm``): mean return -382, -679, -405, -462 (seeds 1-4), 44-78 s of training per run; but
  one CI run of seed 1 had barely started learning at 300k (-1058);
* LSTM at the preset's 600k: -193, -227, -194, -270 (seeds 1-4; 75-135 s at a load of 3-5);
* MLP (``ppo.rnn_type=none``): -1192, -1187, -1192 (seeds 1-3), no better than at its start (about -1200);
* GRU, seed 1: -1037 (still learning at 300k; not part of the check).

The threshold, -900, lies between them: the recurrent policy must beat it and the feed-forward one must not (if the
MLP did, the task would not need memory and the check would prove nothing). Both run the preset's 600k steps.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import cli_env, run_trainer

THRESHOLD = -900.0


def _summary(tmp_path) -> dict:
    (path,) = list((tmp_path / "runs").rglob("summary.json"))
    return json.loads(path.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("rnn_type", ["lstm", "none"])
def test_only_the_recurrent_policy_solves_the_pendulum_without_velocity(tmp_path, rnn_type):
    steps = 600_000  # the preset's budget: at 300k the LSTM still failed to get going in 1 of 5 runs (-1058)
    res = run_trainer(
        [
            "env=pendulum_no_velocity",
            "ppo.num_workers=2",
            f"ppo.rnn_type={rnn_type}",
            f"experiment.max_env_steps={steps}",
            "logging.console=none",
        ],
        tmp_path,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    summary = _summary(tmp_path)
    assert summary["status"] == "finished" and summary["env_steps"] >= steps
    if rnn_type == "lstm":
        assert summary["mean_return"] > THRESHOLD, summary["mean_return"]
    else:
        assert summary["mean_return"] < THRESHOLD, summary["mean_return"]


def test_bad_memory_settings_stop_at_start_with_one_line(tmp_path):
    res = run_trainer(["env=pendulum_no_velocity", "ppo.rnn_type=transformer"], tmp_path, timeout=120)
    assert res.returncode == 2
    lines = [ln for ln in res.stderr.splitlines() if "ppo.rnn_type" in ln]
    assert len(lines) == 1 and "ppo.rnn_type='transformer' is invalid: must be one of none, lstm, gru" in lines[0]
    assert "Traceback" not in res.stderr and not (tmp_path / "runs").exists()


def test_play_replays_a_recurrent_checkpoint_and_exports_its_step(tmp_path):
    res = run_trainer(
        [
            "env=pendulum_no_velocity",
            "ppo.mode=serial",
            "ppo.num_workers=1",
            "ppo.envs_per_worker=4",
            "ppo.steps_per_env=16",
            "ppo.batch_size=0",
            "ppo.rnn_type=gru",
            "experiment.max_iterations=2",
            "logging.console=none",
        ],
        tmp_path,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    (checkpoint,) = list((tmp_path / "runs").rglob("model_2.pt"))
    play = subprocess.run(
        [
            sys.executable,
            "-m",
            "isaac_hydra_ext.play",
            f"checkpoint={checkpoint}",
            "video=false",
            "steps=250",
            "num_envs=2",
        ],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert play.returncode == 0, play.stderr[-3000:]
    assert "played 250 steps x 2 envs of Sber-Pendulum-NoVelocity-v0" in play.stdout
    assert "episodes: 2 finished (0 terminated, 2 truncated" in play.stdout  # 200-step episodes; the state carries on
    exported = checkpoint.parent / "exported"
    assert (exported / "policy.pt").is_file() and (exported / "policy.onnx").is_file(), play.stderr


@pytest.mark.parametrize("mode,workers", [("sync", 0), ("async", 0), ("sync", 2)])
def test_every_collection_mode_trains_a_recurrent_policy_on_whole_sequences(tmp_path, mode, workers):
    # In-process collection (W=0, sync and async) and worker processes: each rollout's envs arrive as sequences, and
    # the learner's replay from the stored start states gives the behaviour policy back (importance weights ~1: in
    # sync mode the only difference is the observation statistics the learner folds in before its replay).
    res = run_trainer(
        [
            "env=pendulum_no_velocity",
            f"ppo.mode={mode}",
            f"ppo.num_workers={workers}",
            "ppo.envs_per_worker=8",
            "ppo.steps_per_env=16",
            "ppo.batch_size=0",
            "experiment.max_iterations=3",
            "logging.console=none",
        ],
        tmp_path,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    summary = _summary(tmp_path)
    last = summary["last"]
    assert summary["status"] == "finished" and summary["iterations"] == 3
    assert last["samples/sequences"] == 8 * max(workers, 1) and last["samples/used"] == 16 * 8 * max(workers, 1)
    if mode == "sync":
        assert abs(last["policy/importance_weight_mean"] - 1.0) < 0.01, last
