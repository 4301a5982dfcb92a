"""Sber Unitree Go1 velocity tasks: rough and flat terrain, each with a ``-Play-`` variant.

Every id carries three agent configs, so the same task trains with APPO (``appo_cfg_entry_point``), with
rsl_rl for comparison (``rsl_rl_cfg_entry_point``: Isaac Lab's own Go1 runner config) and, on Isaac Lab 3.x,
with ``isaaclab train --task <id>`` (``default_agent``: rsl_rl). What "Sber" changes relative to Isaac Lab's stock
Go1 tasks is documented in :mod:`.rough_env_cfg`.
"""

import gymnasium as gym

ENV_ENTRY_POINT = "isaaclab.envs:ManagerBasedRLEnv"
"""The Isaac Lab env class every task instantiates (same in 2.x and 3.x)."""

_AGENTS = f"{__name__}.agents"


def _register(task_id: str, env_cfg: str, appo_cfg: str, rsl_rl_cfg: str) -> None:
    """Register ``task_id`` once per process (re-importing after Kit evicted modules must not warn)."""
    if task_id in gym.registry:
        return
    gym.register(
        id=task_id,
        entry_point=ENV_ENTRY_POINT,
        disable_env_checker=True,
        kwargs={
            "env_cfg_entry_point": f"{__name__}.{env_cfg}",
            "appo_cfg_entry_point": f"{_AGENTS}.appo_cfg:{appo_cfg}",
            "rsl_rl_cfg_entry_point": f"{_AGENTS}.rsl_rl_ppo_cfg:{rsl_rl_cfg}",
            "default_agent": "rsl_rl",
        },
    )


_register(
    "Isaac-Velocity-Sber-Unitree-Go1-v0",
    "rough_env_cfg:SberGo1RoughEnvCfg",
    "SberGo1RoughAPPORunnerCfg",
    "UnitreeGo1RoughPPORunnerCfg",
)
_register(
    "Isaac-Velocity-Sber-Unitree-Go1-Play-v0",
    "rough_env_cfg:SberGo1RoughEnvCfg_PLAY",
    "SberGo1RoughAPPORunnerCfg",
    "UnitreeGo1RoughPPORunnerCfg",
)
_register(
    "Isaac-Velocity-Sber-Flat-Unitree-Go1-v0",
    "flat_env_cfg:SberGo1FlatEnvCfg",
    "SberGo1FlatAPPORunnerCfg",
    "UnitreeGo1FlatPPORunnerCfg",
)
_register(
    "Isaac-Velocity-Sber-Flat-Unitree-Go1-Play-v0",
    "flat_env_cfg:SberGo1FlatEnvCfg_PLAY",
    "SberGo1FlatAPPORunnerCfg",
    "UnitreeGo1FlatPPORunnerCfg",
)
