"""rsl_rl agent config of the Newton Sber Go1 flat task: Isaac Lab's Go1 flat runner config, own experiment name."""

from isaac_hydra_ext.isaaclab.go1 import UnitreeGo1FlatPPORunnerCfg, configclass


@configclass
class SberGo1NewtonFlatPPORunnerCfg(UnitreeGo1FlatPPORunnerCfg):
    """Isaac Lab's ``UnitreeGo1FlatPPORunnerCfg``; logs go to ``logs/rsl_rl/sber_go1_newton_flat``."""

    experiment_name = "sber_go1_newton_flat"
