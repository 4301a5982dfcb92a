"""Create the :class:`~isaac_hydra_ext.envs.vec_env.VecEnv` an :class:`~isaac_hydra_ext.config.EnvConfig` describes."""

from __future__ import annotations

import difflib
import importlib

import gymnasium as gym

from ..config.schema import EnvConfig
from .backends import UnknownBackendError, resolve_backend
from .mujoco_warnings import show_each_warning_once
from .vec_env import EnvSpec, GymVecEnv, UnsupportedSpaceError, VecEnv


class EnvConfigError(ValueError):
    """The env config names an env that cannot be made: unknown backend or id, bad kwargs, unsupported spaces.

    Or a missing optional package. The message is one line naming the value and what to do.
    """


class EnvBuildError(RuntimeError):
    """The env's own code failed while it was being built (not a configuration problem); one line says where."""


def _import_id(env_id: str) -> str:
    """Support gymnasium's ``module:EnvId`` form: import ``module`` (which registers the id), return the id.

    Our own ids are registered by importing :mod:`isaac_hydra_ext.envs`, which importing this module does.
    """
    if ":" in env_id:
        module, env_id = env_id.split(":", 1)
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise EnvConfigError(f"env.id: cannot import module {module!r} to register {env_id!r}: {exc}") from exc
    return env_id


def check_env_id(env_id: str) -> str:
    """Return the bare id if it is registered, else raise :class:`EnvConfigError` with close matches."""
    bare = _import_id(env_id)
    if bare not in gym.registry:
        close = difflib.get_close_matches(bare, list(gym.registry.keys()), n=5, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise EnvConfigError(
            f"env.id={env_id!r} is not a registered gymnasium environment{hint} "
            f"(allowed: any id in gymnasium.registry, or 'module:Id' to import a module that registers it)"
        )
    return bare


def env_problems(env_cfg: EnvConfig) -> list[str]:
    """What is wrong with ``env_cfg`` that only the env layer can tell (backend, registered id), one line each."""
    try:
        resolve_backend(env_cfg.backend)
    except UnknownBackendError as exc:
        return [str(exc)]
    if env_cfg.backend == "gym" and env_cfg.id and env_cfg.id != "???":
        try:
            check_env_id(env_cfg.id)
        except EnvConfigError as exc:
            return [str(exc)]
    return []


def pip_extra_hint(env_id: str) -> str:
    """How to install what a gymnasium env needs: ``pip install "gymnasium[<extra>]"`` for gymnasium's own envs."""
    try:
        entry = str(gym.spec(env_id).entry_point)
    except Exception:  # unregistered, or a spec without an entry point: no hint
        return ""
    parts = entry.split(":")[0].split(".")
    if parts[:2] == ["gymnasium", "envs"] and len(parts) > 2:
        extra = parts[2].replace("_", "-")
        return f'pip install "gymnasium[{extra}]"'
    return ""


def make_gym_vec_env(env_cfg: EnvConfig, num_envs: int) -> VecEnv:
    """The ``gym`` backend: B = ``num_envs`` envs of a registered gymnasium id."""
    env_id = check_env_id(env_cfg.id)
    show_each_warning_once()  # a model warning once per run, not once per env of every worker
    try:
        return GymVecEnv(env_id, num_envs, dict(env_cfg.kwargs), env_cfg.max_episode_steps)
    except UnsupportedSpaceError as exc:
        raise EnvConfigError(str(exc).replace(f"env {env_id!r}", f"env.id={env_cfg.id!r}", 1)) from exc
    except (gym.error.DependencyNotInstalled, ModuleNotFoundError) as exc:
        hint = pip_extra_hint(env_id)
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        install = f"install it with: {hint}" if hint else "install the package the env needs"
        raise EnvConfigError(
            f"env.id={env_cfg.id!r} needs a package that is not installed ({detail}); {install}"
        ) from exc
    except TypeError as exc:
        raise EnvConfigError(f"env {env_cfg.id!r} rejected env.kwargs={dict(env_cfg.kwargs)}: {exc}") from exc


def make_vec_env(env_cfg: EnvConfig, num_envs: int) -> VecEnv:
    """Build B = ``num_envs`` envs of ``env_cfg`` with its backend's factory (:mod:`.backends`)."""
    try:
        factory = resolve_backend(env_cfg.backend)
    except UnknownBackendError as exc:
        raise EnvConfigError(str(exc)) from exc
    return factory(env_cfg, num_envs)


def probe_env_spec(env_cfg: EnvConfig) -> EnvSpec:
    """Create one env, read its shapes and limits, close it (fails early with a clear message).

    Raises :class:`EnvConfigError` for what the configuration can fix (id, kwargs, spaces, missing packages; also any
    failure of a constructor given ``env.kwargs``, which names them) and :class:`EnvBuildError` (one line: the
    exception and where it was raised) when the env's own code fails with its registered arguments.
    """
    try:
        env = make_vec_env(env_cfg, 1)
    except EnvConfigError:
        raise
    except Exception as exc:  # the env's constructor or reset: say what and where in one line
        if env_cfg.kwargs:  # the user's constructor arguments are the likely cause: a configuration error
            raise EnvConfigError(
                f"env.id={env_cfg.id!r} could not be built with env.kwargs={dict(env_cfg.kwargs)}: "
                f"{describe_exception(exc)}"
            ) from exc
        raise EnvBuildError(f"building env.id={env_cfg.id!r} failed: {describe_exception(exc)}") from exc
    try:
        return env.spec
    finally:
        env.close()


def describe_exception(exc: BaseException) -> str:
    """``Type: message (file:line in function)`` of the innermost frame of ``exc``'s traceback, on one line."""
    import traceback

    text = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        text += f" (at {last.filename}:{last.lineno} in {last.name})"
    return text
