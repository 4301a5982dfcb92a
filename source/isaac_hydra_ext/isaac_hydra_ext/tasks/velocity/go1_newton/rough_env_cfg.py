"""Sber Go1 rough on Newton, kit-less and offline: Isaac Lab's Go1 rough task with our MJCF Go1 and no downloads.

The changes of :func:`~.flat_env_cfg.make_offline_newton` (physics, robot, actuators, lights, contact sensor prims)
applied to :class:`~isaac_hydra_ext.tasks.velocity.go1.rough_env_cfg.SberGo1RoughEnvCfg`, plus: the generated
rough terrain keeps Isaac Lab's generator (boxes, stairs, slopes, noise; meshes built locally with trimesh, turned
into Newton height fields) without its MDL visual material, and the height scanner sits on our nested trunk prim
(``Robot/Geometry/trunk``). 235 observations (48 + 187 height-scan rays), 12 actions.
"""

from __future__ import annotations

from isaac_hydra_ext.isaaclab.go1 import configclass
from isaac_hydra_ext.tasks.velocity.go1.rough_env_cfg import SberGo1RoughEnvCfg

from .flat_env_cfg import make_offline_newton

TRUNK_PRIM = "{ENV_REGEX_NS}/Robot/Geometry/trunk"
"""Where the importer puts the trunk (links are nested under ``Geometry`` in the order of the kinematic tree)."""


@configclass
class SberGo1NewtonRoughEnvCfg(SberGo1RoughEnvCfg):
    """Isaac Lab's Go1 rough task on Newton with our MJCF Go1, runnable without Isaac Sim and without network."""

    def __post_init__(self):
        super().__post_init__()
        make_offline_newton(self, rough=True)
        self.scene.height_scanner.prim_path = TRUNK_PRIM


@configclass
class SberGo1NewtonRoughEnvCfg_PLAY(SberGo1NewtonRoughEnvCfg):
    """:class:`SberGo1NewtonRoughEnvCfg` with ``play_mode()`` applied (the ``-Play-`` id)."""

    def __post_init__(self):
        super().__post_init__()
        self.play_mode()
