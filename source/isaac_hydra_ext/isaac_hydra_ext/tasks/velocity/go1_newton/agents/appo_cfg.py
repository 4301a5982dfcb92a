"""APPO agent configs of the Newton Sber Go1 tasks.

The numbers are those of the Sber Go1 APPO configs
(:mod:`isaac_hydra_ext.tasks.velocity.go1.agents.appo_cfg`: Isaac Lab's rsl_rl Go1 numbers, 4096 envs x 24 steps,
4 minibatches, 5 epochs, adaptive learning rate; [128, 128, 128] networks flat, [512, 256, 128] rough); two
things differ:

* the experiment names (runs on Newton and on Isaac Sim PhysX are kept apart);
* ``torch_threads = 1``: the learner's updates of these small networks take about 0.1 s on one thread, and
  torch's other intra-op threads only compete with Newton's CPU stepping and with other processes for the cores
  (measured on a busy 2-core machine, ``--device cpu --num_envs 16``: 29 env steps/s and 7.4 s per update with one
  torch thread per core, 250 env steps/s and 0.09 s per update with one thread). On a GPU run the updates are on
  the GPU. Override with ``agent.torch_threads=N`` (0: one per core).
"""

from isaac_hydra_ext.isaaclab.go1 import configclass
from isaac_hydra_ext.tasks.velocity.go1.agents.appo_cfg import SberGo1FlatAPPORunnerCfg, SberGo1RoughAPPORunnerCfg


@configclass
class SberGo1NewtonFlatAPPORunnerCfg(SberGo1FlatAPPORunnerCfg):
    """APPO on ``Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-v0`` (flat ground, 48 observations, 12 actions)."""

    experiment_name = "sber_go1_newton_flat"
    torch_threads = 1


@configclass
class SberGo1NewtonRoughAPPORunnerCfg(SberGo1RoughAPPORunnerCfg):
    """APPO on ``Isaac-Velocity-Sber-Unitree-Go1-Newton-v0`` (rough terrain, 235 observations, 12 actions)."""

    experiment_name = "sber_go1_newton_rough"
    torch_threads = 1
