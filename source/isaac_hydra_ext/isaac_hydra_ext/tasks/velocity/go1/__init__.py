"""Sber Unitree Go1 velocity tasks: rough and flat terrain, each with a ``-Play-`` variant.

Every id carries three agent configs, so the same task trains with APPO (``appo_cfg_entry_point``), with
rsl_rl for comparison (``rsl_rl_cfg_entry_point``: Isaac Lab's own Go1 runner config) and, on Isaac Lab 3.x,
with ``isaaclab train --task <id>`` (``default_agent``: rsl_rl). What "Sber" changes relative to Isaac Lab's stock
Go1 tasks is documented in :mod:`.rough_env_cfg`.
"""

from ...registration import register_task

_ROUGH = ("SberGo1RoughAPPORunnerCfg", "UnitreeGo1RoughPPORunnerCfg")  # (APPO config, rsl_rl config)
_FLAT = ("SberGo1FlatAPPORunnerCfg", "UnitreeGo1FlatPPORunnerCfg")
register_task("Isaac-Velocity-Sber-Unitree-Go1-v0", __name__, "rough_env_cfg:SberGo1RoughEnvCfg", *_ROUGH)
register_task("Isaac-Velocity-Sber-Unitree-Go1-Play-v0", __name__, "rough_env_cfg:SberGo1RoughEnvCfg_PLAY", *_ROUGH)
register_task("Isaac-Velocity-Sber-Flat-Unitree-Go1-v0", __name__, "flat_env_cfg:SberGo1FlatEnvCfg", *_FLAT)
register_task("Isaac-Velocity-Sber-Flat-Unitree-Go1-Play-v0", __name__, "flat_env_cfg:SberGo1FlatEnvCfg_PLAY", *_FLAT)
