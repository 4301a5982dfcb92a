"""Sber Unitree Go1 flat velocity task on Newton: Isaac Lab 3.x, kit-less, offline (our MJCF Go1).

Ids (see docs/isaaclab.md, "Running the real Isaac Lab task without Isaac Sim"):

* ``Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-v0``: training;
* ``Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-Play-v0``: the same with ``play_mode()`` (at most 50 envs, no
  observation noise, no pushes).

They carry the same three agent entry points as the other Sber Go1 ids (APPO, rsl_rl, ``default_agent``). What
differs from the stock Go1 flat task is documented in :mod:`.flat_env_cfg`. Registration imports only gymnasium.
"""

import gymnasium as gym

ENV_ENTRY_POINT = "isaaclab.envs:ManagerBasedRLEnv"
"""The Isaac Lab env class every task instantiates."""

TASK_ID = "Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-v0"
"""Training id."""
PLAY_TASK_ID = "Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-Play-v0"
"""Play id."""

_AGENTS = f"{__name__}.agents"


def _register(task_id: str, env_cfg: str) -> None:
    """Register ``task_id`` once per process."""
    if task_id in gym.registry:
        return
    gym.register(
        id=task_id,
        entry_point=ENV_ENTRY_POINT,
        disable_env_checker=True,
        kwargs={
            "env_cfg_entry_point": f"{__name__}.flat_env_cfg:{env_cfg}",
            "appo_cfg_entry_point": f"{_AGENTS}.appo_cfg:SberGo1NewtonFlatAPPORunnerCfg",
            "rsl_rl_cfg_entry_point": f"{_AGENTS}.rsl_rl_ppo_cfg:SberGo1NewtonFlatPPORunnerCfg",
            "default_agent": "rsl_rl",
        },
    )


_register(TASK_ID, "SberGo1NewtonFlatEnvCfg")
_register(PLAY_TASK_ID, "SberGo1NewtonFlatEnvCfg_PLAY")
