"""Sber Go1 flat on Newton, kit-less and offline: Isaac Lab's Go1 flat task with our MJCF Go1 and no downloads.

Relative to :class:`~isaac_hydra_ext.tasks.velocity.go1.flat_env_cfg.SberGo1FlatEnvCfg` (Isaac Lab's stock
``UnitreeGo1FlatEnvCfg``), only what needs NVIDIA's servers or Isaac Sim changes; the MDP terms (48 observations,
12 joint-position actions with scale 0.25, rewards, terminations, events, commands) are the stock ones:

========================  ====================================================  ==============================================
what                      stock Go1 flat (Isaac Lab 3.0)                         here
========================  ====================================================  ==============================================
physics                   ``isaacsim_physx`` (needs Isaac Sim)                   ``newton_mjwarp`` (kit-less; presets kept)
robot                     ``go1.usd`` from the asset server                      our MJCF Go1 converted by the standalone importer
actuators                 ``ActuatorNetMLP`` (``unitree_go1.pt`` download)       :data:`~.assets.GO1_ACTUATOR_CFG` (DC motor, Kp 20 Kd 0.5)
ground                    checker-board ground USD from the asset server         local collision plane (:class:`~.assets.LocalPlaneTerrainImporter`)
ground visual material    MDL from the asset server                              none
sky light                 HDR texture from the asset server                      plain dome light
contact sensor prims      ``{ENV_REGEX_NS}/Robot/[^/]*`` (flat link prims)       ``{ENV_REGEX_NS}/Robot/.*`` (the importer nests links)
command arrows            ``debug_vis=True``                                    off (no viewer in a kit-less training run)
========================  ====================================================  ==============================================

Isaac Lab 3.x only (Newton, ``MjcfFileCfg`` and the standalone importer do not exist in 2.x).
"""

from __future__ import annotations

import isaaclab.sim as sim_utils

from isaac_hydra_ext.isaaclab.go1 import configclass
from isaac_hydra_ext.tasks.velocity.go1.flat_env_cfg import SberGo1FlatEnvCfg

from .assets import SBER_GO1_MJCF_CFG, LocalPlaneTerrainImporter

NEWTON_NJMAX = 120
"""MJWarp constraint rows per world (Isaac Lab's Go1 flat: 60; our primitives make more contacts when fallen)."""
NEWTON_NCONMAX = 48
"""MJWarp contacts per world (Isaac Lab's Go1 flat: 25)."""


def make_offline_newton(cfg) -> None:
    """Apply the kit-less, offline changes (table in the module docstring) to a velocity-task env config."""
    # physics: Newton MuJoCo-Warp by default; the other presets stay selectable with physics=<name>
    physics = cfg.sim.physics
    physics.newton_mjwarp.solver_cfg.njmax = NEWTON_NJMAX
    physics.newton_mjwarp.solver_cfg.nconmax = NEWTON_NCONMAX
    physics.default = physics.newton_mjwarp
    # robot
    cfg.scene.robot = SBER_GO1_MJCF_CFG.replace(prim_path="{ENV_REGEX_NS}/Robot")
    cfg.scene.contact_forces.prim_path = "{ENV_REGEX_NS}/Robot/.*"
    # ground and lights without downloads
    terrain = cfg.scene.terrain
    terrain.class_type = LocalPlaneTerrainImporter
    terrain.visual_material = None
    cfg.scene.sky_light.spawn = sim_utils.DomeLightCfg(intensity=750.0, color=(0.9, 0.9, 0.9))
    cfg.commands.base_velocity.debug_vis = False


@configclass
class SberGo1NewtonFlatEnvCfg(SberGo1FlatEnvCfg):
    """Isaac Lab's Go1 flat task on Newton with our MJCF Go1, runnable without Isaac Sim and without network."""

    def __post_init__(self):
        super().__post_init__()
        make_offline_newton(self)


@configclass
class SberGo1NewtonFlatEnvCfg_PLAY(SberGo1NewtonFlatEnvCfg):
    """:class:`SberGo1NewtonFlatEnvCfg` with ``play_mode()`` applied (the ``-Play-`` id)."""

    def __post_init__(self):
        super().__post_init__()
        self.play_mode()
