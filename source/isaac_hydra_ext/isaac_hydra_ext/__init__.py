"""isaac_hydra_ext: asynchronous PPO (APPO) for Isaac Lab and MuJoCo legged-robot tasks, configured with Hydra.

Importing the package is light: it never imports Isaac Lab, Isaac Sim or ``omni``. Entry points:

* ``python -m isaac_hydra_ext.appo_runner`` trains with Hydra (default: the embedded MuJoCo Go1 task);
* ``python -m isaac_hydra_ext.play checkpoint=<path>`` replays a checkpoint;
* ``scripts/reinforcement_learning/appo/{train,play}.py`` are the Isaac Lab scripts.
"""

from __future__ import annotations

__all__ = ["__version__"]


def _read_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("isaac_hydra_ext")
    except PackageNotFoundError:  # running from a source tree that is not installed
        import os
        import sys

        if sys.version_info < (3, 11):  # no tomllib
            return "0+unknown"
        import tomllib

        toml = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "config", "extension.toml")
        with open(toml, "rb") as f:
            return tomllib.load(f)["package"]["version"]


__version__ = _read_version()

# Register the Sber Go1 Isaac Lab task ids with gymnasium (string entry points: imports gymnasium only).
from . import tasks  # noqa: E402, F401
