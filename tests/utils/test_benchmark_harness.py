"""The benchmark harness's own logic: the walking goal, the repeated-runs table and a clean start per run."""

import json
import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import learning_vs_workers  # noqa: E402
import report  # noqa: E402
import time_to_result  # noqa: E402


def test_walking_needs_100_episodes_long_episodes_and_tracking():
    line = {"train/mean_episode_length": 950.0, "train/episodes": 60, "Metrics/lin_vel_tracking": 0.8}
    assert time_to_result.walking([line])[0] is False  # 60 episodes are not yet 100
    ok, length, tracking = time_to_result.walking([line, dict(line, **{"Metrics/lin_vel_tracking": 0.7})])
    # the episode-weighted tracking of the last >= 100 episodes: (0.7 * 60 + 0.8 * 60) / 120 = 0.75
    assert ok and length == 950.0 and abs(tracking - 0.75) < 1e-12
    ok, _, tracking = time_to_result.walking([line, dict(line, **{"Metrics/lin_vel_tracking": 0.69})])
    assert not ok and abs(tracking - 0.745) < 1e-12  # just under 75% of the maximum
    assert time_to_result.walking([line, dict(line, **{"train/mean_episode_length": 899.0})])[0] is False


def _result(t_goal, steps, sps, commit="abc1234"):
    curve = [{"t": float(t), "steps": int(sps * t)} for t in range(0, 100, 10)]
    return {"time_to_goal_s": t_goal, "steps_to_goal": steps, "curve": curve, "commit": commit}


def test_repeats_table_gives_each_ratio_and_the_medians():
    pairs = [
        ("a", _result(100.0, 10_000_000, 80_000), _result(120.0, 9_000_000, 50_000)),
        ("a", _result(100.0, 10_000_000, 80_000), _result(150.0, 9_000_000, 50_000)),
        ("b", _result(100.0, 9_000_000, 80_000), _result(200.0, 9_000_000, 50_000)),
    ]
    text = report.repeats_entry(pairs)
    assert "| 1 | a | abc1234 | 100.0 | 10,000,000 | 80,000 | 120.0 | 9,000,000 | 50,000 | 1.20 |" in text
    assert "over the 3 paired runs: **1.50x** (range 1.20-2.00x)" in text  # median of 1.2, 1.5, 2.0
    assert "With `a`: median 1.35x over 2 run(s)." in text and "With `b`: median 2.00x over 1 run(s)." in text


def test_a_run_does_not_read_an_earlier_runs_metrics(tmp_path):
    # An earlier run in the same --out reached the goal; the new one (3 s of Pendulum) cannot.
    stale = tmp_path / "run" / "metrics.jsonl"
    stale.parent.mkdir(parents=True)
    stale.write_text(json.dumps({"train/mean_return": 0.0, "env_steps": 1, "wall_time_s": 1.0}) + "\n")
    result = time_to_result.run(
        "appo",
        "return:-100",
        0.05,
        tmp_path,
        [
            "env=gym_pendulum",
            "ppo.num_workers=1",
            "ppo.envs_per_worker=4",
            "ppo.steps_per_env=16",
            "ppo.batch_size=64",
            "logging.console=none",
        ],
    )
    assert result["reached"] is False and result["time_to_goal_s"] is None
    assert json.loads((tmp_path / "result.json").read_text())["reached"] is False


def test_learning_table_reads_returns_at_the_marks_and_the_time_to_the_published_return():
    # curves of (env steps, wall s, mean return): the first logged iteration at or past a mark counts
    runs = [
        {
            "env": "hopper",
            "workers": 1,
            "seed": s,
            "learner_bound_warning": s == 2,
            "curve": [(500_000, 50.0, 900.0 + s), (1_000_000, 100.0, 2400.0 + s), (1_002_048, 100.2, 2500.0)],
        }
        for s in (1, 2)
    ]
    assert learning_vs_workers.at(runs[0]["curve"], 600_000) == (2401.0, 100.0)
    assert learning_vs_workers.at(runs[0]["curve"], 2_000_000) == (None, None)
    assert learning_vs_workers.time_to(runs[0]["curve"], 2382.86) == (100.0, 1_000_000)  # CleanRL's 1M figure
    rows, table = learning_vs_workers.summarize(runs, [1_000_000])
    (row,) = rows
    assert row["return_at_1000000"] == [2401.0, 2402.0] and row["learner_bound_warning"] == [False, True]
    assert "| hopper | 1 | 2 | 2,402 ± 1 | 100 ± 0 | 2/2: 100 ± 0 s at 1,000,000 ± 0 samples |" in table
