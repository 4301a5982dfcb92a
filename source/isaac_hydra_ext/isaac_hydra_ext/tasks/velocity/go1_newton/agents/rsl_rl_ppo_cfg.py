"""rsl_rl agent configs of the Newton Sber Go1 tasks: Isaac Lab's Go1 runner configs, own experiment names."""

from isaac_hydra_ext.isaaclab.go1 import UnitreeGo1FlatPPORunnerCfg, UnitreeGo1RoughPPORunnerCfg, configclass


@configclass
class SberGo1NewtonFlatPPORunnerCfg(UnitreeGo1FlatPPORunnerCfg):
    """Isaac Lab's ``UnitreeGo1FlatPPORunnerCfg``; logs go to ``logs/rsl_rl/sber_go1_newton_flat``."""

    def __post_init__(self):
        super().__post_init__()  # Isaac Lab's flat config sets its experiment name here
        self.experiment_name = "sber_go1_newton_flat"


@configclass
class SberGo1NewtonRoughPPORunnerCfg(UnitreeGo1RoughPPORunnerCfg):
    """Isaac Lab's ``UnitreeGo1RoughPPORunnerCfg``; logs go to ``logs/rsl_rl/sber_go1_newton_rough``."""

    def __post_init__(self):
        if hasattr(super(), "__post_init__"):
            super().__post_init__()
        self.experiment_name = "sber_go1_newton_rough"
