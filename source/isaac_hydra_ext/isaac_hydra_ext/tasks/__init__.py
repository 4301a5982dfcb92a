"""Isaac Lab tasks of isaac_hydra_ext, registered with gymnasium when this package is imported.

Registration imports only gymnasium: every entry point is a ``"module:Attr"`` string that Isaac Lab's
``load_cfg_from_registry`` imports when a config is requested. This package is imported by ``import
isaac_hydra_ext``, by Kit when the extension is enabled (the manifest's ``[[python.module]]``), and by Isaac Lab
3.x's ``isaaclab.tasks`` entry-point discovery (``pyproject.toml``).
"""

from . import velocity  # noqa: F401
