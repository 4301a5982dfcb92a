"""Sber Go1 flat on Newton, kit-less and offline: Isaac Lab's Go1 flat task with our MJCF Go1 and no downloads.

Relative to :class:`~isaac_hydra_ext.tasks.velocity.go1.flat_env_cfg.SberGo1FlatEnvCfg` (Isaac Lab's stock
``UnitreeGo1FlatEnvCfg``), only what needs NVIDIA's servers or Isaac Sim changes; the MDP terms (48 observations,
12 joint-position actions with scale 0.25, rewards, terminations, events, commands) are the stock ones:

* physics: ``newton_mjwarp`` (kit-less) instead of ``isaacsim_physx`` (needs Isaac Sim); the presets stay
  selectable with ``physics=<name>``; MJWarp contact budget :data:`NEWTON_NJMAX` / :data:`NEWTON_NCONMAX`;
* robot: our MJCF Go1 converted by Isaac Lab's standalone importer (:data:`~.assets.SBER_GO1_MJCF_CFG`) instead
  of ``go1.usd`` from NVIDIA's asset server;
* actuators: :data:`~.assets.GO1_ACTUATOR_CFG` (DC motor, Kp 20, Kd 0.5) instead of the downloaded actuator
  network ``unitree_go1.pt``;
* ground: a local collision plane (:class:`~.assets.LocalPlaneTerrainImporter`) instead of the checker-board ground
  USD from the server; no MDL visual material;
* sky light: a plain dome light instead of one with an HDR texture from the server;
* contact sensor prims: ``{ENV_REGEX_NS}/Robot/.*`` instead of ``{ENV_REGEX_NS}/Robot/[^/]*`` (the importer nests
  the links: ``Robot/Geometry/trunk/FL_hip/...``); the sensor names are the same 17 body names;
* command arrows: ``debug_vis`` off (their USD is on the server; a kit-less training run has no viewer).

Isaac Lab 3.x only (Newton, ``MjcfFileCfg`` and the standalone importer do not exist in 2.x).
"""

# Isaac Lab (isaaclab.sim) is not installed where the package is type-checked:
# pyright: reportMissingImports=false
from __future__ import annotations

import isaaclab.sim as sim_utils

from isaac_hydra_ext.isaaclab.go1 import configclass
from isaac_hydra_ext.tasks.velocity.go1.flat_env_cfg import SberGo1FlatEnvCfg

from .assets import SBER_GO1_MJCF_CFG, LocalPlaneTerrainImporter

NEWTON_NJMAX = 120
"""MJWarp constraint rows per world (Isaac Lab's Go1 flat: 60; our primitives make more contacts when fallen)."""
NEWTON_NCONMAX = 48
"""MJWarp contacts per world (Isaac Lab's Go1 flat: 25)."""


def make_offline_newton(cfg, rough: bool = False) -> None:
    """Apply the kit-less, offline changes (table in the module docstring) to a velocity-task env config.

    ``rough``: keep Isaac Lab's MJWarp contact budget of the rough task (flat: :data:`NEWTON_NJMAX`,
    :data:`NEWTON_NCONMAX`).
    """
    # physics: Newton MuJoCo-Warp by default; the other presets stay selectable with physics=<name>
    physics = cfg.sim.physics
    if not rough:
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
