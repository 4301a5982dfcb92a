"""Isaac Lab's stock Unitree Go1 velocity configs, from wherever the installed version keeps them.

Importing this module imports Isaac Lab (``isaaclab.utils`` and the Go1 config package; on 2.x that needs a
running Isaac Sim). Our task modules import the base classes from here, never from Isaac Lab directly, so the
2.x/3.x switch stays in :mod:`isaac_hydra_ext.isaaclab`.
"""

# Isaac Lab (isaaclab.utils) is not installed where the package is type-checked:
# pyright: reportMissingImports=false
from __future__ import annotations

from typing import Any, Protocol, TypeVar

from isaaclab.utils import configclass as _isaaclab_configclass

from .compat import import_go1_config

__all__ = [
    "UnitreeGo1FlatEnvCfg",
    "UnitreeGo1FlatPPORunnerCfg",
    "UnitreeGo1RoughEnvCfg",
    "UnitreeGo1RoughPPORunnerCfg",
    "configclass",
    "stock_play_mode",
]

_Cls = TypeVar("_Cls", bound=type)


class _ClassDecorator(Protocol):
    """A class decorator that returns the class it decorates."""

    def __call__(self, cls: _Cls, /) -> _Cls: ...


configclass: _ClassDecorator = _isaaclab_configclass
"""Isaac Lab's ``configclass`` decorator, declared with its type (the task modules import it from here)."""

UnitreeGo1RoughEnvCfg = import_go1_config("rough_env_cfg", "UnitreeGo1RoughEnvCfg")
UnitreeGo1FlatEnvCfg = import_go1_config("flat_env_cfg", "UnitreeGo1FlatEnvCfg")
UnitreeGo1RoughPPORunnerCfg = import_go1_config("agents.rsl_rl_ppo_cfg", "UnitreeGo1RoughPPORunnerCfg")
UnitreeGo1FlatPPORunnerCfg = import_go1_config("agents.rsl_rl_ppo_cfg", "UnitreeGo1FlatPPORunnerCfg")

PLAY_NUM_ENVS = 50
"""Environments in play mode (Isaac Lab's value in both versions)."""


def _play_mode_2x(cfg: Any) -> None:
    """Isaac Lab 2.x has separate ``UnitreeGo1{Rough,Flat}EnvCfg_PLAY`` classes; this applies what they change."""
    cfg.scene.num_envs = min(cfg.scene.num_envs, PLAY_NUM_ENVS)
    cfg.scene.env_spacing = 2.5
    terrain = cfg.scene.terrain
    # spawn robots anywhere on a small terrain grid instead of by terrain level
    terrain.max_init_terrain_level = None
    if terrain.terrain_generator is not None:
        terrain.terrain_generator.num_rows = 5
        terrain.terrain_generator.num_cols = 5
        terrain.terrain_generator.curriculum = False
    cfg.observations.policy.enable_corruption = False
    cfg.events.base_external_force_torque = None
    cfg.events.push_robot = None


def stock_play_mode(cfg: Any, base: type) -> None:
    """Apply Isaac Lab's playback settings of ``base`` (a stock Go1 env config class) to ``cfg``.

    3.x: ``base.play_mode`` (at most 50 envs, no observation noise, 5x5 terrain without curriculum, no pushes).
    2.x: the same changes, as its ``_PLAY`` classes make them.
    """
    method = getattr(base, "play_mode", None)
    if method is not None:
        method(cfg)
    else:
        _play_mode_2x(cfg)
