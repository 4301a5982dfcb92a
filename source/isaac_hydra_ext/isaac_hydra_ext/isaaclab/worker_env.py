"""An Isaac Lab env inside a worker process (``agent.num_workers >= 1``): each worker owns one simulation.

Isaac Lab allows one simulation per process, so every worker starts its own (headless) simulator with the same
task, the same ``env.*`` overrides and ``env.scene.num_envs = envs_per_worker``; closing the env closes it.
"""

from __future__ import annotations

import argparse
import contextlib

from . import compat
from .vec_env import IsaacLabVecEnv


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


def make_isaaclab_vec_env(env_cfg, num_envs: int) -> IsaacLabVecEnv:
    """Start this process's simulation and build ``num_envs`` envs of ``env_cfg.id`` (an :class:`EnvConfig`).

    ``env_cfg.kwargs`` carries what the train script resolved: ``launcher_args`` (the launcher's options),
    ``overrides`` (``env.*``/``agent.*``) and the adapter settings (``clip_actions``, ``init_at_random_ep_len``).
    """
    import gymnasium as gym

    from .entrypoints import isaaclab_env_kwargs

    kwargs = dict(env_cfg.kwargs)
    launcher = argparse.Namespace(**dict(kwargs.get("launcher_args", {})))
    launcher.headless = True
    overrides = [*kwargs.get("overrides", []), f"env.scene.num_envs={num_envs}"]
    stack = contextlib.ExitStack()
    try:
        session = stack.enter_context(compat.open_task(env_cfg.id, launcher, compat.AGENT_ENTRY_POINT,
                                                       overrides=overrides))
        env = gym.make(env_cfg.id, cfg=session.env_cfg)
        return SimulationOwningEnv(env, **isaaclab_env_kwargs(kwargs)).attach(stack)
    except BaseException:
        stack.close()
        raise
