"""Kit side of the isaac_hydra_ext extension: loaded only inside Isaac Sim (second ``[[python.module]]``).

Kit imports this module when the extension is enabled (extension manager, ``--enable isaac_hydra_ext`` or a
``.kit`` file) and calls ``on_startup`` of every ``omni.ext.IExt`` subclass it finds. Enabling the extension
registers the Sber Go1 task ids (the first ``[[python.module]]``, ``isaac_hydra_ext``, already did when Kit
imported it; importing the tasks again is a no-op). This is the only module of the package that imports ``omni``.
"""

# omni (Isaac Sim's Kit) exists only inside Isaac Sim, not where the package is type-checked:
# pyright: reportMissingImports=false
from __future__ import annotations

import logging

import omni.ext

logger = logging.getLogger(__name__)


class IsaacHydraExtExtension(omni.ext.IExt):
    """Registers the Sber Go1 tasks when enabled in Kit; holds no UI and no state."""

    def on_startup(self, ext_id: str) -> None:
        """Register the tasks (Kit calls this when the extension is enabled)."""
        import isaac_hydra_ext.tasks  # noqa: F401  (registration; cached after the first import)

        logger.info("[isaac_hydra_ext] %s enabled: Isaac-Velocity-Sber-*-Unitree-Go1 tasks are registered", ext_id)

    def on_shutdown(self) -> None:
        """Log the shutdown (Kit calls this on disable); gym ids stay registered for the process."""
        logger.info("[isaac_hydra_ext] disabled")
