"""How every Sber task is registered with gymnasium, as Isaac Lab registers its own.

All entry points are ``"module:Attr"`` strings, so registering imports only gymnasium (no Isaac Lab, no ``omni``).
"""

import gymnasium as gym

ENV_ENTRY_POINT = "isaaclab.envs:ManagerBasedRLEnv"
"""The Isaac Lab env class every task instantiates (the same in 2.x and 3.x)."""


QUADRUPED_MIRROR = "isaac_hydra_ext.envs.symmetry:quadruped_mirror"
"""The left-right mirror factory of Unitree-named quadrupeds (the Go1 tasks): ``mirror_entry_point``."""


def register_task(
    task_id: str, package: str, env_cfg: str, appo_cfg: str, rsl_rl_cfg: str, mirror: str = QUADRUPED_MIRROR
) -> None:
    """Register ``task_id`` once per process (re-importing after Kit evicted modules must not warn).

    Args:
        task_id: The gymnasium id.
        package: ``__name__`` of the task package; its ``agents`` subpackage holds the agent configs.
        env_cfg: ``"<module>:<Class>"`` of the env config inside ``package``.
        appo_cfg: Class name in ``<package>.agents.appo_cfg`` (``appo_cfg_entry_point``).
        rsl_rl_cfg: Class name in ``<package>.agents.rsl_rl_ppo_cfg`` (``rsl_rl_cfg_entry_point``; the same task
            trains with rsl_rl for comparison, and with ``isaaclab train --task <id>`` on 3.x: ``default_agent``).
        mirror: ``package.module:function`` of the task's mirror factory (``mirror_entry_point``, read by
            :mod:`isaac_hydra_ext.isaaclab.deployment` for symmetry augmentation); ``""``: none.

    """
    if task_id in gym.registry:
        return
    gym.register(
        id=task_id,
        entry_point=ENV_ENTRY_POINT,
        disable_env_checker=True,
        kwargs={
            "env_cfg_entry_point": f"{package}.{env_cfg}",
            "appo_cfg_entry_point": f"{package}.agents.appo_cfg:{appo_cfg}",
            "rsl_rl_cfg_entry_point": f"{package}.agents.rsl_rl_ppo_cfg:{rsl_rl_cfg}",
            "default_agent": "rsl_rl",
            "mirror_entry_point": mirror,
        },
    )
