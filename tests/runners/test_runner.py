"""The runner's loop driven in one process with a tiny in-memory env: no subprocess, no simulator."""

from __future__ import annotations

import json

import pytest
from isaac_hydra_ext.config.schema import TrainConfig
from isaac_hydra_ext.runners.builder import build_runner
from memory_envs import TargetReachEnv, reach_config


def config(tmp_path, **ppo) -> TrainConfig:
    return reach_config(tmp_path, **{"batch_size": 64, **ppo})


def run(cfg, tmp_path, envs):
    run_dir = tmp_path / "run"
    run_dir.mkdir(parents=True)
    runner = build_runner(cfg, str(run_dir), envs[0].spec, envs=envs)
    return runner, runner.train(), run_dir


def test_loop_counts_iterations_steps_and_writes_the_run_files(tmp_path):
    envs = [TargetReachEnv(8), TargetReachEnv(8)]
    runner, summary, run_dir = run(config(tmp_path), tmp_path, envs)
    # 3 iterations x 2 collectors x 8 envs x 20 steps
    assert summary["status"] == "finished" and summary["stop_reason"] == "max_iterations"
    assert summary["iterations"] == 3 and summary["env_steps"] == 3 * 2 * 8 * 20
    assert sum(env.steps_taken for env in envs) == 3 * 2 * 20
    assert summary["mode"] == "serial" and summary["worker_pids"] == []
    assert summary["accounting"]["rollouts_trained"] == 6 and summary["accounting"]["rollout_duplicates"] == 0
    assert summary["accounting"]["samples_used"] == summary["accounting"]["samples_total"] == 3 * 2 * 8 * 20
    assert summary["episodes"] == 3 * 2 * 8  # every env finished one 20-step episode per rollout
    assert summary["last"]["lag/max"] == 0.0  # serial collectors always act with the newest weights
    assert (run_dir / "model_3.pt").exists() and (run_dir / "config.yaml").exists()
    lines = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [x["env_steps"] for x in lines] == [320, 640, 960]
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "finished"
    assert all(env.closed for env in envs)  # the sampler closes what it stepped


def test_loop_learns_the_reach_task(tmp_path):
    cfg = config(tmp_path)
    cfg.experiment.max_iterations = 40
    _, summary, _ = run(cfg, tmp_path, [TargetReachEnv(8), TargetReachEnv(8)])
    # random actions: about -6.7 per 20-step episode; reaching the origin quickly: about -2
    assert summary["mean_return"] > -3.5, summary["mean_return"]


def test_same_seed_same_numbers(tmp_path):
    first = run(config(tmp_path / "a"), tmp_path / "a", [TargetReachEnv(4), TargetReachEnv(4)])[1]
    second = run(config(tmp_path / "b"), tmp_path / "b", [TargetReachEnv(4), TargetReachEnv(4)])[1]
    assert first["last"]["loss/value"] == second["last"]["loss/value"]
    assert first["mean_return"] == second["mean_return"]


@pytest.mark.parametrize("budget", ["max_env_steps", "max_iterations"])
def test_budgets_stop_the_loop(tmp_path, budget):
    cfg = config(tmp_path)
    cfg.experiment.max_iterations = 0
    setattr(cfg.experiment, budget, 700 if budget == "max_env_steps" else 2)
    _, summary, _ = run(cfg, tmp_path, [TargetReachEnv(8), TargetReachEnv(8)])
    assert summary["stop_reason"] == budget
    assert summary["env_steps"] == (960 if budget == "max_env_steps" else 640)  # 700 is reached in the 3rd iteration


def test_a_second_ctrl_c_inside_an_update_undoes_it_and_saves_the_last_finished_iteration(tmp_path):
    # Real SIGINTs to this process while the runner's handlers are installed: the first asks for a stop, the second
    # interrupts the update in progress (after it changed the weights). The checkpoint must then hold the state
    # after the last finished iteration, the one its name and "iteration" say, not a half-applied update.
    import os
    import signal

    import torch

    cfg = config(tmp_path)
    cfg.experiment.max_iterations = 10
    envs = [TargetReachEnv(8), TargetReachEnv(8)]
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    runner = build_runner(cfg, str(run_dir), envs[0].spec, envs=envs)
    original = runner.alg.update
    seen = {}

    def update_then_two_signals(batch, version):
        if runner.iteration < 2:
            return original(batch, version)
        seen["before"] = {k: v.clone() for k, v in runner.model.state_dict().items()}
        stats = original(batch, version)  # the weights change...
        seen["after"] = {k: v.clone() for k, v in runner.model.state_dict().items()}
        os.kill(os.getpid(), signal.SIGINT)  # ...then Ctrl-C twice before the iteration is counted
        os.kill(os.getpid(), signal.SIGINT)
        return stats

    runner.alg.update = update_then_two_signals
    summary = runner.train()
    assert summary["status"] == "interrupted" and summary["stop_reason"] == "SIGINT"
    assert summary["iterations"] == 2 and summary["last_checkpoint"] == str(run_dir / "model_2.pt")
    saved = torch.load(run_dir / "model_2.pt", weights_only=True)
    assert saved["iteration"] == 2
    assert all(torch.equal(saved["model"][k], seen["before"][k]) for k in seen["before"])
    assert any(not torch.equal(seen["after"][k], seen["before"][k]) for k in seen["before"])
    assert signal.getsignal(signal.SIGINT) is not runner.signals._handle  # handlers restored
