"""Sber Unitree Go1 velocity tasks on Newton: Isaac Lab 3.x, kit-less, offline (our MJCF Go1).

Ids (see docs/isaaclab.md, "Running the real Isaac Lab task without Isaac Sim"):

* ``Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-v0``: flat ground, 48 observations, 12 actions;
* ``Isaac-Velocity-Sber-Unitree-Go1-Newton-v0``: rough terrain, 235 observations (with the height scan), 12 actions;
* ``...-Newton-Play-v0`` of each: the same with ``play_mode()`` (at most 50 envs, no observation noise, no pushes,
  small terrain without curriculum).

They carry the same three agent entry points as the other Sber Go1 ids (APPO, rsl_rl, ``default_agent``). What
differs from the stock Go1 tasks is documented in :mod:`.flat_env_cfg` and :mod:`.rough_env_cfg`. Registration
imports only gymnasium.
"""

import gymnasium as gym

ENV_ENTRY_POINT = "isaaclab.envs:ManagerBasedRLEnv"
"""The Isaac Lab env class every task instantiates."""

TASK_ID = "Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-v0"
"""Training id."""
PLAY_TASK_ID = "Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-Play-v0"
"""Play id."""
ROUGH_TASK_ID = "Isaac-Velocity-Sber-Unitree-Go1-Newton-v0"
"""Rough-terrain training id (the stock rough task's naming: no terrain word)."""
ROUGH_PLAY_TASK_ID = "Isaac-Velocity-Sber-Unitree-Go1-Newton-Play-v0"
"""Rough-terrain play id."""

_AGENTS = f"{__name__}.agents"


def _register(task_id: str, env_cfg: str, terrain: str = "Flat") -> None:
    """Register ``task_id`` once per process."""
    if task_id in gym.registry:
        return
    gym.register(
        id=task_id,
        entry_point=ENV_ENTRY_POINT,
        disable_env_checker=True,
        kwargs={
            "env_cfg_entry_point": f"{__name__}.{terrain.lower()}_env_cfg:{env_cfg}",
            "appo_cfg_entry_point": f"{_AGENTS}.appo_cfg:SberGo1Newton{terrain}APPORunnerCfg",
            "rsl_rl_cfg_entry_point": f"{_AGENTS}.rsl_rl_ppo_cfg:SberGo1Newton{terrain}PPORunnerCfg",
            "default_agent": "rsl_rl",
        },
    )


_register(TASK_ID, "SberGo1NewtonFlatEnvCfg")
_register(PLAY_TASK_ID, "SberGo1NewtonFlatEnvCfg_PLAY")
_register(ROUGH_TASK_ID, "SberGo1NewtonRoughEnvCfg", "Rough")
_register(ROUGH_PLAY_TASK_ID, "SberGo1NewtonRoughEnvCfg_PLAY", "Rough")
