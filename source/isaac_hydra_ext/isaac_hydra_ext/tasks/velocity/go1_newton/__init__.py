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

from ...registration import register_task

TASK_ID = "Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-v0"
"""Training id."""
PLAY_TASK_ID = "Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-Play-v0"
"""Play id."""
ROUGH_TASK_ID = "Isaac-Velocity-Sber-Unitree-Go1-Newton-v0"
"""Rough-terrain training id (the stock rough task's naming: no terrain word)."""
ROUGH_PLAY_TASK_ID = "Isaac-Velocity-Sber-Unitree-Go1-Newton-Play-v0"
"""Rough-terrain play id."""


def _register(task_id: str, env_cfg: str, terrain: str = "Flat") -> None:
    register_task(
        task_id,
        __name__,
        f"{terrain.lower()}_env_cfg:{env_cfg}",
        f"SberGo1Newton{terrain}APPORunnerCfg",
        f"SberGo1Newton{terrain}PPORunnerCfg",
    )


_register(TASK_ID, "SberGo1NewtonFlatEnvCfg")
_register(PLAY_TASK_ID, "SberGo1NewtonFlatEnvCfg_PLAY")
_register(ROUGH_TASK_ID, "SberGo1NewtonRoughEnvCfg", "Rough")
_register(ROUGH_PLAY_TASK_ID, "SberGo1NewtonRoughEnvCfg_PLAY", "Rough")
