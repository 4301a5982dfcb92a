"""Isaac Lab 2.x / 3.x differences, detected by feature (never by version string), in one module.

What differs and how it is detected:

* **Go1 env configs** live in ``isaaclab_tasks.contrib.velocity.config.go1`` (3.x) or
  ``isaaclab_tasks.manager_based.locomotion.velocity.config.go1`` (2.x): :func:`go1_config_module` imports the
  first that exists.
* **Task configs with overrides**: 3.x has ``isaaclab_tasks.utils.hydra.resolve_task_config`` (presets, then
  ``play_mode()``, then ``env.*``/``agent.*`` literals set without checks); 2.x has the ``hydra_task_config``
  decorator (Hydra over ``sys.argv``). :func:`resolve_task_configs` uses whichever exists and applies the
  ``env.*``/``agent.*`` literals itself, strictly (:mod:`.overrides`), so both versions accept and reject the same
  overrides with the same messages.
* **Launching**: 3.x ``isaaclab.app.launch_simulation(cfg, args)`` starts Isaac Sim only when the config needs it
  (kit-less Newton otherwise) and must see the resolved env config; 2.x ``AppLauncher(args)`` always starts Isaac
  Sim and must run *before* any ``isaaclab_tasks``/``isaaclab.envs`` import. :func:`open_task` does the two steps
  in the right order for the installed version.

Importing this module imports nothing from Isaac Lab; every function imports what it needs when called.
"""

# Isaac Lab (isaaclab_tasks) is imported lazily and is not installed where the package is type-checked:
# pyright: reportMissingImports=false
from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from .overrides import apply_overrides, is_preset_selection, split_overrides

GO1_CONFIG_MODULES: tuple[str, ...] = (
    "isaaclab_tasks.contrib.velocity.config.go1",
    "isaaclab_tasks.manager_based.locomotion.velocity.config.go1",
)
"""Where Isaac Lab keeps the Unitree Go1 velocity configs: 3.x first, then 2.x."""

AGENT_ENTRY_POINT = "appo_cfg_entry_point"
"""The gym-registry kwargs key of our APPO agent config."""

HYDRA_QUIET_ARGS: tuple[str, ...] = (
    "hydra.output_subdir=null",
    "hydra.run.dir=.",
    "hydra/job_logging=none",
    "hydra/hydra_logging=none",
)
"""Added on 2.x (where Hydra always runs) so that no ``outputs/<date>/<time>`` folder is written, as on 3.x."""


def _missing_is(exc: ModuleNotFoundError, module: str) -> bool:
    """Whether ``exc`` says ``module`` itself (or one of its parent packages) does not exist."""
    return bool(exc.name) and (module == exc.name or module.startswith(exc.name + "."))


def go1_config_module() -> str:
    """Return the dotted name of the installed Isaac Lab's Go1 velocity config package (imports it)."""
    for name in GO1_CONFIG_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if _missing_is(exc, name):
                continue
            raise
        return name
    raise ModuleNotFoundError(
        "no Unitree Go1 velocity configs found in isaaclab_tasks; looked for " + ", ".join(GO1_CONFIG_MODULES)
    )


def import_go1_config(submodule: str, name: str) -> Any:
    """Return ``name`` from ``<Go1 config package>.<submodule>`` (``"rough_env_cfg"``, ``"UnitreeGo1RoughEnvCfg"``)."""
    module = importlib.import_module(f"{go1_config_module()}.{submodule}")
    return getattr(module, name)


def isaaclab_hydra() -> ModuleType:
    """Import ``isaaclab_tasks.utils.hydra`` (the module that resolves task configs in both versions)."""
    try:
        return importlib.import_module("isaaclab_tasks.utils.hydra")
    except ImportError as exc:
        raise ImportError(
            f"cannot import isaaclab_tasks.utils.hydra: {exc}. On Isaac Lab 2.x the task utilities import only "
            "inside a running Isaac Sim: use isaac_hydra_ext.isaaclab.compat.open_task(), which starts it first."
        ) from exc


def _preset_paths(hydra: ModuleType, task: str, agent_entry: str | None) -> set[str]:
    """Dotted keys (``env.sim.physics``) of every Isaac Lab 3.x preset in the task's configs."""
    from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry

    sections = {"env": "env_cfg_entry_point"}
    if agent_entry:
        sections["agent"] = agent_entry
    paths: set[str] = set()
    for section, entry in sections.items():
        cfg = load_cfg_from_registry(task, entry)
        paths |= {f"{section}.{p}" if p else section for p in hydra.collect_presets(cfg)}
    return paths


def _hydra_task_config(hydra: ModuleType, task: str, agent_entry: str | None, hydra_args: list[str]) -> tuple:
    """Isaac Lab 2.x: run the ``hydra_task_config`` decorator once and return what it passes to the function."""
    captured: dict[str, Any] = {}

    def _capture(env_cfg: Any, agent_cfg: Any) -> None:
        captured["configs"] = (env_cfg, agent_cfg)

    given = {arg.split("=", 1)[0] for arg in hydra_args}
    quiet = [arg for arg in HYDRA_QUIET_ARGS if arg.split("=", 1)[0] not in given]
    argv = sys.argv
    sys.argv = [argv[0] if argv else "isaac_hydra_ext"] + quiet + hydra_args
    try:
        hydra.hydra_task_config(task, agent_entry)(_capture)()
    finally:
        sys.argv = argv
    return captured["configs"]


def resolve_task_configs(
    task: str,
    agent_entry: str | None = AGENT_ENTRY_POINT,
    *,
    play_mode: bool = False,
    overrides: Sequence[str] | None = None,
) -> tuple[Any, Any]:
    """Load a registered task's ``(env_cfg, agent_cfg)`` and apply command-line overrides, on Isaac Lab 2.x or 3.x.

    Args:
        task: Registered task id, e.g. ``Isaac-Velocity-Sber-Unitree-Go1-v0``.
        agent_entry: Registry kwargs key of the agent config (``appo_cfg_entry_point``, ``rsl_rl_cfg_entry_point``);
            None for no agent config.
        play_mode: Apply the env config's ``play_mode()`` (fewer envs, no observation noise, no pushes) before the
            overrides. Isaac Lab 3.x configs all have it; on 2.x only ours do (Isaac Lab's own 2.x tasks have
            separate ``-Play-`` ids instead, and a warning says so).
        overrides: ``env.<path>=<value>`` / ``agent.<path>=<value>`` assignments, 3.x preset selectors
            (``presets=...``, ``physics=...``, ``renderer=...``) and Hydra settings (``hydra.*``). None reads
            ``sys.argv[1:]`` (scripts should pass the arguments argparse left over instead).

    Returns:
        The env config and the agent config (None when ``agent_entry`` is None).

    Raises:
        OverrideError: An override names an unknown key or has the wrong type (all problems in one message).
        ImportError: Isaac Lab (2.x: the running simulator) is not available.

    """
    args = list(sys.argv[1:] if overrides is None else overrides)
    assignments, passthrough = split_overrides(args)
    hydra = isaaclab_hydra()
    if hasattr(hydra, "resolve_task_config"):  # Isaac Lab 3.x
        presets = _preset_paths(hydra, task, agent_entry) if assignments else set()
        selections = [o for o in assignments if is_preset_selection(o, presets)]
        literals = [o for o in assignments if o not in selections]
        env_cfg, agent_cfg = hydra.resolve_task_config(
            task, agent_entry, play_mode=play_mode, overrides=passthrough + [o.arg for o in selections]
        )
    elif hasattr(hydra, "hydra_task_config"):  # Isaac Lab 2.x
        literals = assignments
        env_cfg, agent_cfg = _hydra_task_config(hydra, task, agent_entry, passthrough)
        if play_mode:
            if hasattr(env_cfg, "play_mode"):
                env_cfg.play_mode()
            else:
                warnings.warn(
                    f"play_mode requested but {type(env_cfg).__name__} has no play_mode() on this Isaac Lab "
                    f"version; use the task's -Play- id for playback settings",
                    stacklevel=2,
                )
    else:
        raise ImportError("isaaclab_tasks.utils.hydra has neither resolve_task_config (3.x) nor hydra_task_config")
    apply_overrides({"env": env_cfg, "agent": agent_cfg}, literals)
    return env_cfg, agent_cfg


def uses_launch_simulation() -> bool:
    """Tell whether the installed Isaac Lab launches with ``launch_simulation`` (3.x) rather than ``AppLauncher``.

    3.x: resolve the configs first, then launch (kit-less when the config allows). 2.x: launch Isaac Sim first,
    then import tasks and resolve the configs.
    """
    app = importlib.import_module("isaaclab.app")
    return hasattr(app, "launch_simulation")


def add_launcher_args(parser: argparse.ArgumentParser) -> None:
    """Add the simulator launcher's command-line options to ``parser`` (2.x ``AppLauncher``, 3.x ``launch_simulation``).

    3.x removed ``--headless`` (it runs headless unless ``--viz`` asks for a viewer); it is added back as a no-op
    so that 2.x command lines keep working.
    """
    app = importlib.import_module("isaaclab.app")
    if hasattr(app, "add_launcher_args"):
        app.add_launcher_args(parser)
        if not any("--headless" in action.option_strings for action in parser._actions):
            parser.add_argument(
                "--headless", action="store_true", help="Accepted for Isaac Lab 2.x command lines; 3.x is headless."
            )
    else:
        app.AppLauncher.add_app_launcher_args(parser)


@dataclass
class TaskSession:
    """What :func:`open_task` yields: the resolved configs and the running simulator app, if any."""

    env_cfg: Any
    """The env config with overrides applied (pass it to ``gym.make(task, cfg=env_cfg)``)."""
    agent_cfg: Any
    """The agent config with overrides applied."""
    app: Any = None
    """Isaac Sim's ``SimulationApp`` on 2.x; None on 3.x (kit-less, or Kit managed by ``launch_simulation``)."""

    def is_running(self) -> bool:
        """Return False once the user closed the Isaac Sim window (2.x); always True without an app handle."""
        return True if self.app is None else bool(self.app.is_running())


@contextmanager
def launch(env_cfg: Any, launcher_args: argparse.Namespace | dict | None) -> Iterator[Any]:
    """Start the simulator runtime for ``env_cfg``; yield the Kit app (2.x) or None (3.x); close it on exit.

    On 2.x ``env_cfg`` is ignored (Isaac Sim always starts; call this before importing Isaac Lab tasks). On 3.x
    ``launch_simulation`` scans ``env_cfg`` and starts Kit only if it needs it (PhysX, RTX sensors, Kit viewer).
    """
    app = importlib.import_module("isaaclab.app")
    if hasattr(app, "launch_simulation"):
        with app.launch_simulation(env_cfg, launcher_args):
            yield None
    else:
        launcher = app.AppLauncher(launcher_args)
        try:
            yield launcher.app
        finally:
            launcher.app.close()


@contextmanager
def open_task(
    task: str,
    launcher_args: argparse.Namespace | dict | None,
    agent_entry: str | None = AGENT_ENTRY_POINT,
    *,
    play_mode: bool = False,
    overrides: Sequence[str] | None = None,
) -> Iterator[TaskSession]:
    """Resolve the task's configs and start the simulator, in the order the installed Isaac Lab needs.

    The one call a train/play script makes before ``gym.make(task, cfg=session.env_cfg)``::

        args, hydra_args = parser.parse_known_args()
        with open_task(args.task, args, play_mode=False, overrides=hydra_args) as session:
            env = gym.make(args.task, cfg=session.env_cfg)
            ...

    See :func:`resolve_task_configs` for the arguments.
    """
    if uses_launch_simulation():
        import isaac_hydra_ext.tasks  # noqa: F401  (registers our task ids)

        env_cfg, agent_cfg = resolve_task_configs(task, agent_entry, play_mode=play_mode, overrides=overrides)
        with launch(env_cfg, launcher_args) as app:
            yield TaskSession(env_cfg, agent_cfg, app)
    else:
        with launch(None, launcher_args) as app:
            import isaaclab_tasks  # noqa: F401  (2.x: importable only now)

            import isaac_hydra_ext.tasks  # noqa: F401

            env_cfg, agent_cfg = resolve_task_configs(task, agent_entry, play_mode=play_mode, overrides=overrides)
            yield TaskSession(env_cfg, agent_cfg, app)
