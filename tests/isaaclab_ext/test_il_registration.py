"""Registration, import hygiene and the extension manifest: no Isaac Lab needed (run in every venv)."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import importlib.util
import json
import sys
import types
import warnings
from pathlib import Path

import gymnasium as gym
import isaac_hydra_ext
import pytest
import tomllib
from il_helpers import SBER_TASKS, run_python
from isaac_hydra_ext.tasks.velocity import go1 as go1_tasks

ROOT = Path(__file__).resolve().parents[2]
EXT_ROOT = ROOT / "source" / "isaac_hydra_ext"
FORBIDDEN_PREFIXES = ("isaaclab", "omni", "isaacsim", "carb", "pxr", "warp")


def _entry(task: str, key: str) -> tuple[str, str]:
    module, attr = gym.spec(task).kwargs[key].split(":")
    return module, attr


def _defines(module: str, attr: str) -> bool:
    """Whether ``module``'s source defines or imports ``attr`` (read with ast: importing it needs Isaac Lab)."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin, f"entry point module {module} does not exist"
    tree = ast.parse(Path(spec.origin).read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name == attr:
            return True
        if isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == attr for a in node.names):
            return True
    return False


def test_import_registers_tasks_without_isaaclab_or_omni():
    proc = run_python(
        f"""
        import json, sys
        import isaac_hydra_ext, isaac_hydra_ext.isaaclab, isaac_hydra_ext.isaaclab.compat
        import isaac_hydra_ext.isaaclab.overrides, isaac_hydra_ext.tasks
        import gymnasium as gym
        loaded = sorted(m for m in sys.modules if m.split(".")[0].startswith({FORBIDDEN_PREFIXES!r}))
        ids = [t for t in {list(SBER_TASKS)!r} if t in gym.registry]
        print(json.dumps({{"loaded": loaded, "ids": ids}}))
        """
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["loaded"] == [], f"importing isaac_hydra_ext imported {result['loaded']}"
    assert result["ids"] == list(SBER_TASKS)


@pytest.mark.parametrize("task", SBER_TASKS)
def test_task_entry_points(task):
    spec = gym.spec(task)
    assert spec.entry_point == "isaaclab.envs:ManagerBasedRLEnv"
    assert spec.disable_env_checker is True
    kwargs = spec.kwargs
    assert set(kwargs) == {
        "env_cfg_entry_point",
        "appo_cfg_entry_point",
        "rsl_rl_cfg_entry_point",
        "mirror_entry_point",
        "default_agent",
    }
    assert kwargs["default_agent"] == "rsl_rl"
    flat = "-Flat-" in task
    play = "-Play-" in task
    env_module, env_attr = _entry(task, "env_cfg_entry_point")
    assert env_module.endswith("flat_env_cfg" if flat else "rough_env_cfg")
    assert env_attr == ("SberGo1FlatEnvCfg" if flat else "SberGo1RoughEnvCfg") + ("_PLAY" if play else "")
    appo_attr = "SberGo1FlatAPPORunnerCfg" if flat else "SberGo1RoughAPPORunnerCfg"
    assert _entry(task, "appo_cfg_entry_point")[1] == appo_attr
    assert _entry(task, "rsl_rl_cfg_entry_point")[1] == (
        "UnitreeGo1FlatPPORunnerCfg" if flat else "UnitreeGo1RoughPPORunnerCfg"
    )
    assert kwargs["mirror_entry_point"] == "isaac_hydra_ext.envs.symmetry:quadruped_mirror"  # the Go1 left-right mirror
    for key in ("env_cfg_entry_point", "appo_cfg_entry_point", "rsl_rl_cfg_entry_point", "mirror_entry_point"):
        assert _defines(*_entry(task, key)), f"{kwargs[key]} does not resolve to a definition"


def test_reimporting_the_tasks_does_not_re_register():
    before = {task: gym.spec(task) for task in SBER_TASKS}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # gymnasium warns "Overriding environment ..." on re-registration
        importlib.reload(go1_tasks)
    assert all(gym.spec(task) is before[task] for task in SBER_TASKS)


def test_isaaclab_tasks_entry_point_group_names_our_tasks_package():
    eps = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="isaaclab.tasks")}
    assert eps.get("isaac_hydra_ext") == "isaac_hydra_ext.tasks"


def test_manifest_matches_the_package_and_kit_layout():
    manifest = tomllib.loads((EXT_ROOT / "config" / "extension.toml").read_text())
    package = manifest["package"]
    assert package["version"] == isaac_hydra_ext.__version__
    readme = package["readme"]
    assert (EXT_ROOT / readme).resolve().is_file(), f"readme {readme!r} is no file relative to the extension root"
    modules = [m["name"] for m in manifest["python"]["module"]]
    assert modules == ["isaac_hydra_ext", "isaac_hydra_ext.kit_extension"]
    for name in modules:  # Kit puts the extension folder on sys.path and imports these names
        path = EXT_ROOT.joinpath(*name.split("."))
        assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), name
    assert set(manifest["dependencies"]) >= {"isaaclab", "isaaclab_tasks", "isaaclab_rl", "isaaclab_assets"}
    assert isinstance(manifest["isaac_lab_settings"], dict)  # the table name Isaac Lab's installer reads


def test_kit_extension_registers_tasks_on_startup(monkeypatch):
    calls = []

    class FakeIExt:
        pass

    omni = types.ModuleType("omni")
    omni_ext = types.ModuleType("omni.ext")
    omni_ext.IExt = FakeIExt
    omni.ext = omni_ext
    monkeypatch.setitem(sys.modules, "omni", omni)
    monkeypatch.setitem(sys.modules, "omni.ext", omni_ext)
    monkeypatch.delitem(sys.modules, "isaac_hydra_ext.kit_extension", raising=False)
    kit_extension = importlib.import_module("isaac_hydra_ext.kit_extension")
    monkeypatch.setattr(kit_extension.logger, "info", lambda *args: calls.append(args))
    ext = kit_extension.IsaacHydraExtExtension()
    assert isinstance(ext, FakeIExt)
    ext.on_startup("isaac_hydra_ext-0.1.0")
    ext.on_shutdown()
    assert all(task in gym.registry for task in SBER_TASKS)
    assert len(calls) == 2 and "isaac_hydra_ext-0.1.0" in calls[0]
    monkeypatch.delitem(sys.modules, "isaac_hydra_ext.kit_extension")
