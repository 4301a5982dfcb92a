"""Command-line handling shared by the Isaac Lab train and play scripts (Isaac Lab's rsl_rl script conventions)."""
# pyright: reportMissingImports=false
# (Isaac Lab is not installed where the package is type-checked; these imports run only inside Isaac Lab.)

from __future__ import annotations

import argparse
import os
from typing import Any

from . import compat

AGENT_ENTRY = compat.AGENT_ENTRY_POINT
"""Registry key of the APPO agent config in a task's gymnasium registration."""


def parse(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    """Add the launcher's options, split our arguments from the ``env.*``/``agent.*`` overrides."""
    compat.add_launcher_args(parser)
    args, overrides = parser.parse_known_args(argv)
    if getattr(args, "video", False) and hasattr(args, "enable_cameras"):
        args.enable_cameras = True
    stray = [o for o in overrides if o.startswith("-")]
    if stray:
        parser.error(f"unrecognized arguments: {' '.join(stray)}")
    return args, overrides


def make_env(task: str, env_cfg: Any, render: bool = False) -> Any:
    """``gym.make`` of an Isaac Lab task with its resolved config (the scripts' seam for tests)."""
    import gymnasium as gym

    return gym.make(task, cfg=env_cfg, render_mode="rgb_array" if render else None)


def dump_params(run_dir: str, env_cfg: Any, agent_cfg: Any) -> None:
    """``params/env.yaml`` and ``params/agent.yaml``, as Isaac Lab's scripts write them."""
    from isaaclab.utils.io import dump_yaml

    dump_yaml(os.path.join(run_dir, "params", "env.yaml"), env_cfg)
    dump_yaml(os.path.join(run_dir, "params", "agent.yaml"), agent_cfg)


def picklable_launcher_args(args: argparse.Namespace) -> dict[str, Any]:
    """The launcher options a worker process needs to start its own simulation (plain values only)."""
    return {k: v for k, v in vars(args).items() if isinstance(v, (str, int, float, bool, type(None), list, tuple))}
