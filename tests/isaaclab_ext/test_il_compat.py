"""Version switches of isaac_hydra_ext.isaaclab.compat, driven by fake Isaac Lab modules: no Isaac Lab needed.

The fakes reproduce the *interfaces* compat relies on (2.x ``hydra_task_config`` reads ``sys.argv`` and calls the
function with the configs; 2.x ``AppLauncher`` must start before tasks are imported; 3.x ``launch_simulation`` takes
the resolved env config). The real interfaces are exercised in test_il_isaaclab.py (3.0 wheel, 2.3 hydra source).
"""

from __future__ import annotations

import argparse
import sys
import types
from dataclasses import dataclass, field

import pytest
from isaac_hydra_ext.isaaclab import compat
from isaac_hydra_ext.isaaclab.overrides import OverrideError


@dataclass
class SceneCfg:
    num_envs: int = 4096


@dataclass
class EnvCfg:
    scene: SceneCfg = field(default_factory=SceneCfg)
    played: bool = False

    def play_mode(self):
        self.played = True
        self.scene.num_envs = min(self.scene.num_envs, 50)


@dataclass
class PlainEnvCfg:
    scene: SceneCfg = field(default_factory=SceneCfg)


@dataclass
class AgentCfg:
    learning_rate: float = 1e-3


def _module(name: str, package: bool = False, **attrs) -> types.ModuleType:
    mod = types.ModuleType(name)
    if package:
        mod.__path__ = []
    mod.__dict__.update(attrs)
    return mod


def fake_hydra_2x(env_factory=EnvCfg, seen=None):
    """A 2.x-style isaaclab_tasks.utils.hydra: the decorator reads sys.argv when the wrapped function is called."""

    def hydra_task_config(task_name, agent_cfg_entry_point):
        def decorator(func):
            def wrapper():
                if seen is not None:
                    seen.append((task_name, agent_cfg_entry_point, list(sys.argv[1:])))
                func(env_factory(), AgentCfg())

            return wrapper

        return decorator

    return _module("isaaclab_tasks.utils.hydra", hydra_task_config=hydra_task_config)


def test_2x_path_runs_the_decorator_with_quiet_hydra_and_applies_overrides_strictly(monkeypatch):
    seen = []
    monkeypatch.setattr(compat, "isaaclab_hydra", lambda: fake_hydra_2x(seen=seen))
    monkeypatch.setattr(sys, "argv", ["train.py", "--task", "X"])
    env, agent = compat.resolve_task_configs(
        "Task-v0", overrides=["env.scene.num_envs=64", "agent.learning_rate=0.0003", "hydra.run.dir=/tmp/x"]
    )
    assert env.scene.num_envs == 64 and agent.learning_rate == 0.0003
    ((task, entry, hydra_argv),) = seen
    assert (task, entry) == ("Task-v0", "appo_cfg_entry_point")
    # env/agent literals are ours; Hydra only gets its own settings (the user's run.dir wins over the quiet default)
    assert hydra_argv == [
        "hydra.output_subdir=null",
        "hydra/job_logging=none",
        "hydra/hydra_logging=none",
        "hydra.run.dir=/tmp/x",
    ]
    assert sys.argv == ["train.py", "--task", "X"]  # restored


def test_2x_path_rejects_bad_overrides_like_3x(monkeypatch):
    monkeypatch.setattr(compat, "isaaclab_hydra", lambda: fake_hydra_2x())
    with pytest.raises(OverrideError, match="'agent.learning_rate' expects float, got str 'fast'"):
        compat.resolve_task_configs("Task-v0", overrides=["agent.learning_rate=fast"])
    with pytest.raises(OverrideError, match="unknown key 'nope'"):
        compat.resolve_task_configs("Task-v0", overrides=["agent.nope=1"])


def test_2x_play_mode_uses_the_configs_method_or_warns(monkeypatch):
    monkeypatch.setattr(compat, "isaaclab_hydra", lambda: fake_hydra_2x())
    env, _ = compat.resolve_task_configs("Task-v0", play_mode=True, overrides=["env.scene.num_envs=8"])
    assert env.played and env.scene.num_envs == 8  # play mode first, then the user's override
    monkeypatch.setattr(compat, "isaaclab_hydra", lambda: fake_hydra_2x(env_factory=PlainEnvCfg))
    with pytest.warns(UserWarning, match="has no play_mode"):
        compat.resolve_task_configs("Task-v0", play_mode=True, overrides=[])


def test_3x_path_sends_selectors_to_isaaclab_and_keeps_literals(monkeypatch):
    calls = []

    def resolve_task_config(task, agent_entry, play_mode=False, overrides=None):
        calls.append((task, agent_entry, play_mode, list(overrides)))
        env = EnvCfg()
        if play_mode:
            env.play_mode()
        return env, AgentCfg()

    hydra = _module("isaaclab_tasks.utils.hydra", resolve_task_config=resolve_task_config)
    monkeypatch.setattr(compat, "isaaclab_hydra", lambda: hydra)
    monkeypatch.setattr(compat, "_preset_paths", lambda h, task, entry: {"env.sim.physics"})
    env, agent = compat.resolve_task_configs(
        "Task",
        "rsl_rl_cfg_entry_point",
        play_mode=True,
        overrides=["presets=a,b", "env.sim.physics=newton_mjwarp", "env.scene.num_envs=20", "agent.learning_rate=1"],
    )
    assert calls == [("Task", "rsl_rl_cfg_entry_point", True, ["presets=a,b", "env.sim.physics=newton_mjwarp"])]
    assert env.played and env.scene.num_envs == 20 and agent.learning_rate == 1.0


def test_overrides_default_to_sys_argv(monkeypatch):
    monkeypatch.setattr(compat, "isaaclab_hydra", lambda: fake_hydra_2x())
    monkeypatch.setattr(sys, "argv", ["train.py", "env.scene.num_envs=3"])
    env, _ = compat.resolve_task_configs("Task-v0")
    assert env.scene.num_envs == 3


def _install_isaaclab_tasks(monkeypatch, *present: str, broken: str | None = None):
    """Fake isaaclab_tasks where only the ``present`` Go1 config packages exist (``broken`` fails inside)."""
    for name in list(sys.modules):
        if name == "isaaclab_tasks" or name.startswith("isaaclab_tasks."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "isaaclab_tasks", _module("isaaclab_tasks", package=True))
    for name in present:
        monkeypatch.setitem(sys.modules, name, _module(name, package=True))
        monkeypatch.setitem(
            sys.modules, f"{name}.rough_env_cfg", _module(f"{name}.rough_env_cfg", UnitreeGo1RoughEnvCfg=name)
        )
    if broken:

        def find_spec(fullname, path=None, target=None):
            if fullname == broken:
                raise ModuleNotFoundError("No module named 'omni.kit'", name="omni.kit")
            return None

        finder = _module("finder", find_spec=find_spec)
        monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
        monkeypatch.setitem(sys.modules, "isaaclab_tasks.contrib", _module("isaaclab_tasks.contrib", package=True))


def test_go1_module_detection_prefers_3x_then_2x(monkeypatch):
    v3, v2 = compat.GO1_CONFIG_MODULES
    _install_isaaclab_tasks(monkeypatch, v2)
    assert compat.go1_config_module() == v2
    assert compat.import_go1_config("rough_env_cfg", "UnitreeGo1RoughEnvCfg") == v2
    _install_isaaclab_tasks(monkeypatch, v3, v2)
    assert compat.go1_config_module() == v3
    _install_isaaclab_tasks(monkeypatch)
    with pytest.raises(ModuleNotFoundError, match="no Unitree Go1 velocity configs"):
        compat.go1_config_module()


def test_go1_module_detection_does_not_hide_a_missing_dependency(monkeypatch):
    _install_isaaclab_tasks(monkeypatch, broken="isaaclab_tasks.contrib.velocity")
    with pytest.raises(ModuleNotFoundError) as exc:
        compat.go1_config_module()
    assert exc.value.name == "omni.kit"


class FakeApp:
    def __init__(self, log):
        self.log = log

    def is_running(self):
        return True

    def close(self):
        self.log.append("close")


def _fake_app_module(log, version: int) -> types.ModuleType:
    if version == 2:

        class AppLauncher:
            def __init__(self, args):
                log.append("AppLauncher")
                self.app = FakeApp(log)

            @staticmethod
            def add_app_launcher_args(parser):
                parser.add_argument("--headless", action="store_true")
                parser.add_argument("--livestream", type=int, default=-1)

        return _module("isaaclab.app", AppLauncher=AppLauncher)

    class _Launch:
        def __init__(self, cfg, args):
            log.append(("launch_simulation", cfg))

        def __enter__(self):
            return None

        def __exit__(self, *exc):
            log.append("exit")

    def add_launcher_args(parser):
        parser.add_argument("--viz", default=None)

    return _module("isaaclab.app", launch_simulation=_Launch, add_launcher_args=add_launcher_args)


@pytest.mark.parametrize("version", [2, 3])
def test_open_task_orders_launch_and_config_resolution(monkeypatch, version):
    log = []
    monkeypatch.setitem(sys.modules, "isaaclab", _module("isaaclab", package=True))
    monkeypatch.setitem(sys.modules, "isaaclab.app", _fake_app_module(log, version))
    monkeypatch.setitem(sys.modules, "isaaclab_tasks", _module("isaaclab_tasks", package=True))

    def resolve(task, agent_entry, *, play_mode, overrides):
        log.append(("resolve", task, play_mode, tuple(overrides)))
        return EnvCfg(), AgentCfg()

    monkeypatch.setattr(compat, "resolve_task_configs", resolve)
    args = argparse.Namespace()
    with compat.open_task("T", args, play_mode=True, overrides=["env.scene.num_envs=2"]) as session:
        log.append("body")
        assert session.is_running()
    resolved = ("resolve", "T", True, ("env.scene.num_envs=2",))
    if version == 2:  # Isaac Sim first, then tasks and configs; the app closes at the end
        assert log == ["AppLauncher", resolved, "body", "close"]
        assert isinstance(session.app, FakeApp)
    else:  # configs first: launch_simulation decides from the env config whether Kit is needed
        assert log[0] == resolved and log[1][0] == "launch_simulation" and isinstance(log[1][1], EnvCfg)
        assert log[2:] == ["body", "exit"] and session.app is None


@pytest.mark.parametrize("version", [2, 3])
def test_add_launcher_args_accepts_headless_on_both(monkeypatch, version):
    monkeypatch.setitem(sys.modules, "isaaclab", _module("isaaclab", package=True))
    monkeypatch.setitem(sys.modules, "isaaclab.app", _fake_app_module([], version))
    parser = argparse.ArgumentParser()
    compat.add_launcher_args(parser)
    args, rest = parser.parse_known_args(["--headless", "env.scene.num_envs=4"])
    assert args.headless is True and rest == ["env.scene.num_envs=4"]
    assert compat.uses_launch_simulation() is (version == 3)
