"""The embedded default task: Unitree Go1 flat velocity tracking on MuJoCo (Isaac Lab's Go1 flat task, mirrored).

Registered gymnasium ids (batched: use ``gym.make_vec(id, num_envs=B, vectorization_mode="vector_entry_point")``):

* ``Sber-Velocity-Flat-Go1-MuJoCo-v0``: training (noise, domain randomization, sampled commands);
* ``Sber-Velocity-Flat-Go1-MuJoCo-Play-v0``: fixed forward command, no noise, no pushes (as Isaac Lab's ``_PLAY``).

The ids are registered by :mod:`isaac_hydra_ext.envs.registration` (no MuJoCo import); importing this package
imports MuJoCo but builds nothing. See docs/go1_task.md.
"""

from __future__ import annotations

from ...assets.go1 import FOOT_NAMES, GO1, POLICY_JOINT_NAMES, Go1Params
from ..registration import GO1_FLAT_ID, GO1_FLAT_PLAY_ID  # registered there, without importing MuJoCo
from .cfg import Go1VelocityTaskCfg, play_cfg
from .env import Go1VelocityEnv, Go1VelocityPlayEnv
from .model import build_go1_spec, compile_go1, load_external_spec, write_go1_mjcf
from .render import Go1Renderer, Mp4Writer, RenderingUnavailableError, record_video

__all__ = [
    "FOOT_NAMES",
    "GO1",
    "GO1_FLAT_ID",
    "GO1_FLAT_PLAY_ID",
    "POLICY_JOINT_NAMES",
    "Go1Params",
    "Go1Renderer",
    "Go1VelocityEnv",
    "Go1VelocityPlayEnv",
    "Go1VelocityTaskCfg",
    "Mp4Writer",
    "RenderingUnavailableError",
    "build_go1_spec",
    "compile_go1",
    "load_external_spec",
    "play_cfg",
    "record_video",
    "write_go1_mjcf",
]
