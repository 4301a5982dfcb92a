"""The env backend registry: ``env.backend`` name -> the factory that builds its :class:`VecEnv`.

A factory is ``make(env_cfg: EnvConfig, num_envs: int) -> VecEnv``, named by a ``"package.module:function"``
string and imported only when that backend is used (the Isaac Lab adapter must not be imported by the gymnasium
path, and importing this module imports no backend). Adding a backend is one adapter module with such a function
and one line here; ``env.backend`` may also name any ``"package.module:function"`` directly.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

BACKENDS: dict[str, str] = {
    "gym": "isaac_hydra_ext.envs.factory:make_gym_vec_env",
    "isaaclab": "isaac_hydra_ext.isaaclab.worker_env:make_isaaclab_vec_env",
}
"""Built-in backends. ``isaaclab`` envs are made inside worker processes started by the Isaac Lab train script."""


class UnknownBackendError(ValueError):
    """``env.backend`` names no registered backend and no importable ``module:function``."""


def resolve_backend(name: str) -> Callable[..., Any]:
    """The factory function of backend ``name`` (a key of :data:`BACKENDS` or ``"package.module:function"``)."""
    target = BACKENDS.get(name, name)
    module_name, _, function = target.partition(":")
    if not module_name or not function:
        raise UnknownBackendError(
            f"env.backend={name!r} is invalid: must be one of {', '.join(BACKENDS)} or 'package.module:function'"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnknownBackendError(f"env.backend={name!r}: cannot import {module_name!r}: {exc}") from exc
    factory = getattr(module, function, None)
    if not callable(factory):
        raise UnknownBackendError(f"env.backend={name!r}: {module_name!r} has no function {function!r}")
    return factory
