"""Hydra SearchPathPlugin: makes isaac_hydra_ext's config groups visible to any Hydra app once installed.

Hydra imports every module under the ``hydra_plugins`` namespace package at start-up and instantiates each
``SearchPathPlugin`` subclass it finds (hydra/core/plugins.py); no entry points are involved. After
``pip install isaac_hydra_ext`` a user's own app can therefore say ``defaults: [ppo: default]``.
"""

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin


class IsaacHydraExtSearchPathPlugin(SearchPathPlugin):
    """Append ``pkg://isaac_hydra_ext.conf`` to the config search path and register our schemas."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        """Add the package's config directory after the app's own (the app's files win)."""
        from isaac_hydra_ext.config.store import register_configs

        register_configs()
        search_path.append(provider="isaac_hydra_ext", path="pkg://isaac_hydra_ext.conf")
