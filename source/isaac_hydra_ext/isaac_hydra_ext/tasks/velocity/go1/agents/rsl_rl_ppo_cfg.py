"""rsl_rl agent configs of the Sber Go1 tasks: Isaac Lab's own Go1 runner configs, unchanged, for comparison runs.

They are re-exported (not copied) from the installed Isaac Lab so that ``rsl_rl_cfg_entry_point`` points at the
stock numbers of either version; logs go to ``logs/rsl_rl/unitree_go1_{rough,flat}`` as for the stock tasks.
"""

from isaac_hydra_ext.isaaclab.go1 import UnitreeGo1FlatPPORunnerCfg, UnitreeGo1RoughPPORunnerCfg

__all__ = ["UnitreeGo1FlatPPORunnerCfg", "UnitreeGo1RoughPPORunnerCfg"]
