"""APPO agent config of the Newton Sber Go1 flat task.

The numbers are those of :class:`~isaac_hydra_ext.tasks.velocity.go1.agents.appo_cfg.SberGo1FlatAPPORunnerCfg`
(Isaac Lab's rsl_rl Go1 flat numbers: 4096 envs x 24 steps, 4 minibatches, 5 epochs, adaptive learning rate,
[128, 128, 128] networks); two things differ: the experiment name (runs on Newton and on Isaac Sim PhysX are kept apart) and the minibatches
are given by count (``num_minibatches = 4``, rsl_rl's ``num_mini_batches``) instead of by size, so that the same
config trains with any ``--num_envs`` (4096 envs: minibatches of 24576 samples as before; 16 envs on a CPU: 96).
"""

from isaac_hydra_ext.isaaclab.go1 import configclass
from isaac_hydra_ext.tasks.velocity.go1.agents.appo_cfg import SberGo1FlatAPPORunnerCfg


@configclass
class SberGo1NewtonFlatAPPORunnerCfg(SberGo1FlatAPPORunnerCfg):
    """APPO on ``Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-v0`` (flat ground, 48 observations, 12 actions)."""

    experiment_name = "sber_go1_newton_flat"
    num_minibatches = 4
