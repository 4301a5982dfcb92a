"""The gait-symmetry helper of the benchmarks: left/right foot air times of the embedded Go1 task."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import cli_env
from isaac_hydra_ext.envs.go1 import Go1VelocityPlayEnv
from isaac_hydra_ext.envs.go1.gait import gait_symmetry, measure_gait_symmetry

REPO = Path(__file__).resolve().parents[2]


def test_statistics_by_hand():
    # FL, FR, RL, RR: sums of air times 1.0, 0.6, 0.2, 0.6 s over 4, 2, 1, 3 touchdowns
    g = gait_symmetry(np.array([1.0, 0.6, 0.2, 0.6]), np.array([4, 2, 1, 3]))
    assert g.air_time_s == pytest.approx({"FL": 0.25, "FR": 0.3, "RL": 0.2, "RR": 0.2})
    assert g.left_air_time_s == pytest.approx(1.2 / 5) and g.right_air_time_s == pytest.approx(1.2 / 5)
    assert g.symmetry_index == pytest.approx(0.0)
    g = gait_symmetry(np.array([0.3, 0.1, 0.3, 0.1]), np.array([1, 1, 1, 1]))
    assert g.symmetry_index == pytest.approx(0.2 / 0.2)  # |0.3 - 0.1| / 0.2
    g = gait_symmetry(np.zeros(4), np.zeros(4, dtype=int))
    assert math.isnan(g.symmetry_index) and g.touchdowns == {"FL": 0, "FR": 0, "RL": 0, "RR": 0}


def _lifting(legs: list[int]):
    """Open-loop actions that lift the given legs (LEGS indices) for 10 steps out of every 20."""
    step = [0]

    def act(obs: np.ndarray) -> np.ndarray:
        step[0] += 1
        up = (step[0] // 10) % 2
        a = np.zeros((obs.shape[0], 12))
        for leg in legs:
            a[:, 4 + leg] = 2.0 * up  # thigh forward
            a[:, 8 + leg] = -4.0 * up  # calf flexed
        return a

    return act


def test_a_symmetric_gait_scores_near_0_and_a_one_sided_one_far_from_it():
    env = Go1VelocityPlayEnv(4)
    try:
        both = measure_gait_symmetry(env, _lifting([0, 1, 2, 3]), 200, seed=0)
        left = measure_gait_symmetry(env, _lifting([0, 2]), 200, seed=0)  # FL and RL only
    finally:
        env.close()
    assert min(both.touchdowns.values()) > 20
    assert both.symmetry_index < 0.02, both  # measured 0.002
    assert left.left_air_time_s > 2 * left.right_air_time_s and left.symmetry_index > 0.5, left  # measured 1.28


def test_the_benchmark_entry_runs_on_a_checkpoint(tmp_path):
    from isaac_hydra_ext.config import PPOConfig
    from isaac_hydra_ext.models.actor_critic import ActorCritic
    from isaac_hydra_ext.utils.checkpoint import save_checkpoint

    model = ActorCritic(48, 12, 0, PPOConfig(actor_hidden_dims=[8], critic_hidden_dims=[8]))
    path = tmp_path / "model_1.pt"
    spec = {"obs_dim": 48, "act_dim": 12, "critic_obs_dim": 0}
    cfg = {"actor_hidden_dims": [8], "critic_hidden_dims": [8]}
    save_checkpoint(
        str(path), {"model": model.state_dict(), "iteration": 1, "env_steps": 1, "env_spec": spec, "model_cfg": cfg}
    )
    res = subprocess.run(
        [sys.executable, "benchmarks/go1_gait_symmetry.py", "--checkpoint", f"random={path}", "--steps", "20"]
        + ["--num-envs", "2", "--no-append"],
        cwd=REPO,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "| random |" in res.stdout and "symmetry index" in res.stdout and "policy mirror error" in res.stdout
    row = next(line for line in res.stdout.splitlines() if line.startswith("| random |"))
    mirror_error = float(row.strip("| ").split("|")[-1])
    assert 0.0 < mirror_error < 10.0, row  # a random policy is not mirror-symmetric; the ratio is finite
