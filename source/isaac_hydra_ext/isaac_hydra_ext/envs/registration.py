"""Register our gymnasium ids without importing MuJoCo (the entry points are strings, loaded on first use).

Importing :mod:`isaac_hydra_ext.envs` runs this, so the ids exist in every process (workers included) while the
Isaac Lab adapter, which also imports this package, pays nothing for the MuJoCo task it does not use.
"""

from __future__ import annotations

import gymnasium as gym

GO1_FLAT_ID = "Sber-Velocity-Flat-Go1-MuJoCo-v0"
"""The embedded default task: Unitree Go1 flat velocity tracking on MuJoCo (training: noise, randomization)."""
GO1_FLAT_PLAY_ID = "Sber-Velocity-Flat-Go1-MuJoCo-Play-v0"
"""Its play twin: fixed forward command, no noise, no pushes (start states and masses still vary per env)."""

PENDULUM_NO_VELOCITY_ID = "Sber-Pendulum-NoVelocity-v0"
"""Pendulum-v1 with the angular velocity hidden (observation cos, sin): a task that needs memory (``envs/pomdp.py``)."""

GO1_MAX_EPISODE_STEPS = 1000
"""20 s at 50 Hz (Isaac Lab ``episode_length_s = 20``, ``decimation = 4``, ``sim.dt = 0.005``)."""

for _id, _entry in ((GO1_FLAT_ID, "Go1VelocityEnv"), (GO1_FLAT_PLAY_ID, "Go1VelocityPlayEnv")):
    if _id not in gym.registry:
        gym.register(
            id=_id,
            vector_entry_point=f"isaac_hydra_ext.envs.go1.env:{_entry}",
            max_episode_steps=GO1_MAX_EPISODE_STEPS,
            disable_env_checker=True,
        )

if PENDULUM_NO_VELOCITY_ID not in gym.registry:
    gym.register(
        id=PENDULUM_NO_VELOCITY_ID,
        entry_point="isaac_hydra_ext.envs.pomdp:PendulumNoVelocityEnv",
        max_episode_steps=200,
    )
