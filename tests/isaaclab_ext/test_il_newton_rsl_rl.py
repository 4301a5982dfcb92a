"""rsl_rl on the real Isaac Lab 3.0 Go1 task on Newton, kit-less, on the CPU, offline: run by ``.ci/newton_job.sh``.

``scripts/reinforcement_learning/rsl_rl/train.py`` trains rsl_rl's ``OnPolicyRunner`` through Isaac Lab's own
``RslRlVecEnvWrapper`` with the task's registered rsl_rl config, and writes the ``metrics.jsonl`` that the
benchmark harness (``benchmarks/isaaclab_newton_vs_rsl_rl.py``) reads. These tests run it for real: two iterations,
then a resumed run stopped by its wall-time limit, and read its log with the harness's own functions.
"""

from __future__ import annotations

import json
import sys

import pytest
from test_il_newton import REPO, TASK, newton_unavailable, run_offline

pytestmark = [
    pytest.mark.newton,
    pytest.mark.skipif(newton_unavailable() is not None, reason=newton_unavailable() or ""),
]
SCRIPT = REPO / "scripts" / "reinforcement_learning" / "rsl_rl" / "train.py"


def _metrics(run) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]


def test_rsl_rl_script_trains_resumes_and_logs_what_the_harness_reads(tmp_path):
    pytest.importorskip("rsl_rl", reason="rsl-rl-lib is not installed (.ci/newton_job.sh pins it)")
    proc = run_offline(
        [
            sys.executable,
            str(SCRIPT),
            "--task",
            TASK,
            "--device",
            "cpu",
            "--num_envs",
            "16",
            "--max_iterations",
            "2",
            "--torch_threads",
            "1",
        ],
        cwd=tmp_path,
    )
    assert "run finished: 2 iterations, 768 env steps" in proc.stdout, proc.stdout[-3000:]
    (run,) = list((tmp_path / "logs" / "rsl_rl" / "sber_go1_newton_flat").iterdir())
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["iterations"] == 2 and summary["env_steps"] == 768
    assert (run / "params" / "agent.yaml").is_file() and (run / "params" / "env.yaml").is_file()
    lines = _metrics(run)
    assert [line["env_steps"] for line in lines] == [384, 768]  # 16 envs x 24 steps (Isaac Lab's Go1 config)
    assert [line["train/iteration"] for line in lines] == [1.0, 2.0]
    assert 0 < lines[0]["wall_time_s"] < lines[1]["wall_time_s"]
    for line in lines:  # the keys the harness and the report read
        assert line["perf/env_steps_per_s"] > 0 and line["train/episodes"] >= 0
    seen = set().union(*lines)
    # Isaac Lab's episode log through Isaac Lab's wrapper (the robot falls within two iterations at first)
    assert {"Episode_Reward/track_lin_vel_xy_exp", "Episode_Termination/time_out", "train/mean_episode_length"} <= seen

    import torch

    saved = torch.load(summary["checkpoint"], map_location="cpu", weights_only=False)
    assert saved["infos"]["env_steps"] == 768 and saved["infos"]["wall_time_s"] == pytest.approx(
        summary["wall_time_s"], abs=0.01
    )

    # resume: the model, the iteration and both clocks continue; the wall-time limit stops after one iteration
    proc = run_offline(
        [
            sys.executable,
            str(SCRIPT),
            "--task",
            TASK,
            "--device",
            "cpu",
            "--num_envs",
            "16",
            "--checkpoint",
            summary["checkpoint"],
            "--max_wall_time_s",
            "0.001",
            "--torch_threads",
            "1",
            "--run_name",
            "resumed",
        ],
        cwd=tmp_path,
    )
    assert "run finished: 1 iterations, 1,152 env steps" in proc.stdout, proc.stdout[-3000:]
    (resumed,) = list((tmp_path / "logs" / "rsl_rl" / "sber_go1_newton_flat").glob("*_resumed"))
    (line,) = _metrics(resumed)
    assert line["env_steps"] == 1152 and line["wall_time_s"] > lines[-1]["wall_time_s"]
    assert json.loads((resumed / "summary.json").read_text())["resumed_from"] == summary["checkpoint"]

    # the harness reads the log: not walking after three iterations, with the Isaac Lab tracking read as a fraction
    sys.path.insert(0, str(REPO / "benchmarks"))
    import isaaclab_newton_vs_rsl_rl as bench

    ok, length, tracking = bench.isaaclab_walking(lines + [line])
    assert ok is False and 0 < length < 900 and 0 <= tracking < 0.75
