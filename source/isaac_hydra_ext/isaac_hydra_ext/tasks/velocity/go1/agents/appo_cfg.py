"""APPO agent configs of the Sber Go1 tasks.

The numbers follow Isaac Lab's rsl_rl Go1 runner configs (same network sizes, learning rate schedule, clip, entropy,
epochs, rollout length 24 and 4 minibatches, no observation normalisation) so that APPO and rsl_rl runs of one
task differ by the algorithm, not by tuning. Collection is in-process (``num_workers=0``): the Isaac Lab env is
already a GPU-vectorised batch of ``env.scene.num_envs`` robots, which :meth:`APPORunnerCfg.to_train_config` takes
as B (``envs_per_worker``). The samples of an iteration are split into 4 minibatches (the schema's default
``num_minibatches``, as rsl_rl's ``num_mini_batches``), so any ``--num_envs`` works. Only what differs from the
schema's defaults (:class:`~isaac_hydra_ext.config.schema.PPOConfig`, :class:`APPORunnerCfg`) is set here.
"""

from isaac_hydra_ext.isaaclab.go1 import configclass
from isaac_hydra_ext.isaaclab.runner_cfg import APPORunnerCfg


@configclass
class SberGo1RoughAPPORunnerCfg(APPORunnerCfg):
    """APPO on ``Isaac-Velocity-Sber-Unitree-Go1-v0`` (rough terrain, 235 observations, 12 actions)."""

    experiment_name = "sber_go1_rough"
    num_workers = 0
    # In-process collection alternates with the update: on the H200 (4096 flat Newton envs) it walked in 104.5 s,
    # 1.05x sooner than rsl_rl; the asynchronous in-process mode is not yet usable on GPU envs (docs/isaaclab.md).
    mode = "sync"
    envs_per_worker = 4096
    steps_per_env = 24
    entropy_coef = 0.01
    actor_hidden_dims = [512, 256, 128]
    critic_hidden_dims = [512, 256, 128]
    obs_normalization = False


@configclass
class SberGo1FlatAPPORunnerCfg(SberGo1RoughAPPORunnerCfg):
    """APPO on ``Isaac-Velocity-Sber-Flat-Unitree-Go1-v0`` (flat ground, 48 observations, 12 actions)."""

    experiment_name = "sber_go1_flat"
    max_iterations = 300
    actor_hidden_dims = [128, 128, 128]
    critic_hidden_dims = [128, 128, 128]
