"""The Sber task with the simulator: 64 envs, two training iterations. Needs Isaac Sim and a GPU.

Skipped elsewhere (the reason is in pytest's ``-ra`` summary). Creating the Go1 env also needs the robot USD and
actuator network from Isaac's asset server (or a local mirror via ``ISAACSIM_ASSET_ROOT``).
"""

from __future__ import annotations

import argparse

from il_helpers import requires_isaacsim
from isaac_hydra_ext.isaaclab import compat

pytestmark = requires_isaacsim()

TASK = "Isaac-Velocity-Sber-Unitree-Go1-v0"
NUM_ENVS = 64


def run_two_iterations(env, train_cfg, run_dir) -> dict:
    """Train two APPO iterations in-process on ``env`` (an IsaacLabVecEnv) and return the run summary."""
    from isaac_hydra_ext.runners.runner import APPORunner

    train_cfg.experiment.max_iterations = 2
    train_cfg.experiment.device = str(env.device)
    summary = APPORunner(train_cfg, str(run_dir), env.spec, inprocess_envs=[env]).train()
    assert summary["status"] == "finished" and summary["iterations"] == 2, summary
    assert summary["env_steps"] == 2 * env.num_envs * train_cfg.ppo.steps_per_env
    return summary


def test_sber_go1_trains_two_iterations_with_64_envs(tmp_path):
    import gymnasium as gym
    from isaac_hydra_ext.isaaclab.vec_env import IsaacLabVecEnv

    parser = argparse.ArgumentParser()
    compat.add_launcher_args(parser)
    launcher_args = parser.parse_args(["--headless"])
    overrides = [f"env.scene.num_envs={NUM_ENVS}", "agent.max_iterations=2"]
    with compat.open_task(TASK, launcher_args, overrides=overrides) as session:
        assert session.env_cfg.scene.num_envs == NUM_ENVS
        train_cfg = session.agent_cfg.to_train_config(TASK, num_envs=NUM_ENVS)
        env = IsaacLabVecEnv(
            gym.make(TASK, cfg=session.env_cfg),
            clip_actions=session.agent_cfg.clip_actions,
            init_at_random_ep_len=session.agent_cfg.init_at_random_ep_len,
        )
        try:
            assert env.num_envs == NUM_ENVS and env.spec.obs_dim == 235 and env.spec.act_dim == 12
            run_two_iterations(env, train_cfg, tmp_path / "run")
        finally:
            env.close()
