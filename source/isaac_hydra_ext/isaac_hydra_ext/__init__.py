"""isaac_hydra_ext: asynchronous PPO (APPO) for Isaac Lab and MuJoCo legged-robot tasks, configured with Hydra.

Importing the package is light: it never imports Isaac Lab, Isaac Sim or ``omni``. Entry points:

* ``python -m isaac_hydra_ext.appo_runner`` trains with Hydra (default: the embedded MuJoCo Go1 task);
* ``python -m isaac_hydra_ext.play checkpoint=<path>`` replays a checkpoint;
* ``scripts/reinforcement_learning/appo/{train,play}.py`` are the Isaac Lab scripts.
"""

from __future__ import annotations

__all__ = ["__version__"]


def _read_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("isaac_hydra_ext")
    except PackageNotFoundError:  # running from a source tree that is not installed
        import os

        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            return "0+unknown"
        toml = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "config", "extension.toml")
        with open(toml, "rb") as f:
            return tomllib.load(f)["package"]["version"]


__version__ = _read_version()

# Register the Sber Go1 Isaac Lab task ids with gymnasium (string entry points: imports gymnasium only).
from . import tasks  # noqa: E402, F401
