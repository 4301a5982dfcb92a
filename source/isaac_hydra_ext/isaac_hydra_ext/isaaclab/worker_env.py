"""The ``isaaclab`` env backend inside a worker process (``agent.num_workers >= 1``): each worker owns one simulation.

Isaac Lab allows one simulation per process, so every worker starts its own (headless) simulator with the same
task and the same ``env.*`` overrides (``env_cfg.launch``, filled in by the Isaac Lab train script) and sets
``env_cfg.scene.num_envs`` to its B; closing the env closes the simulation.
"""

from __future__ import annotations

import argparse
import contextlib

from ..config.schema import EnvConfig
from . import compat
from .vec_env import IsaacLabVecEnv, isaaclab_env_kwargs


class SimulationOwningEnv(IsaacLabVecEnv):
    """An :class:`IsaacLabVecEnv` that also shuts down the simulation its worker started for it."""

    def attach(self, stack: contextlib.ExitStack) -> SimulationOwningEnv:
        """Keep the simulator session open until :meth:`close`."""
        self._stack = stack
        return self

    def close(self) -> None:
        """Close the env, then the simulation."""
        try:
            super().close()
        finally:
            self._stack.close()


class IsaacLabLaunchError(ValueError):
    """The ``isaaclab`` backend was asked for outside the Isaac Lab train script."""


def make_isaaclab_vec_env(env_cfg: EnvConfig, num_envs: int) -> IsaacLabVecEnv:
    """Start this process's simulation and build ``num_envs`` envs of ``env_cfg.id``.

    ``env_cfg.launch`` carries what the train script resolved (the launcher's options and the ``env.*`` /
    ``agent.*`` overrides); ``env_cfg.kwargs`` the adapter settings (``clip_actions``, ``init_at_random_ep_len``).
    """
    import gymnasium as gym

    if not env_cfg.launch.launcher_args:
        raise IsaacLabLaunchError(
            "env.backend='isaaclab' is trained with scripts/reinforcement_learning/appo/train.py --task <id> "
            "(it launches the simulator); the Hydra runner trains gymnasium envs (env.backend=gym)"
        )
    launcher = argparse.Namespace(**dict(env_cfg.launch.launcher_args))
    launcher.headless = True
    stack = contextlib.ExitStack()
    try:
        session = stack.enter_context(
            compat.open_task(env_cfg.id, launcher, compat.AGENT_ENTRY_POINT, overrides=list(env_cfg.launch.overrides))
        )
        session.env_cfg.scene.num_envs = int(num_envs)
        device = getattr(launcher, "device", None)
        if device:  # the train script's --device, which it also applied to the learner process's env config
            session.env_cfg.sim.device = device
        env = gym.make(env_cfg.id, cfg=session.env_cfg)
        return SimulationOwningEnv(env, **isaaclab_env_kwargs(dict(env_cfg.kwargs))).attach(stack)
    except BaseException:
        stack.close()
        raise
