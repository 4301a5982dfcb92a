"""Every default has one home: the schema. Presets, the Hydra groups and Isaac Lab's agent configs only add what
differs. Each test reads the files themselves (YAML, or the Python source through ``ast``), so it needs no Isaac Lab.
"""

from __future__ import annotations

import ast
import dataclasses
import typing
from pathlib import Path

import yaml
from isaac_hydra_ext.config import schema

PKG = Path(schema.__file__).resolve().parents[1]
CONF = PKG / "conf"


def schema_defaults() -> dict[str, object]:
    """``{dotted key: default}`` of every schema field (nested dataclasses flattened)."""
    out: dict[str, object] = {}

    def walk(cls: type, prefix: str) -> None:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if dataclasses.is_dataclass(hints[f.name]):
                walk(hints[f.name], f"{prefix}{f.name}.")
            elif f.default is not dataclasses.MISSING:
                out[f"{prefix}{f.name}"] = f.default
            else:
                out[f"{prefix}{f.name}"] = f.default_factory()  # type: ignore[misc]

    walk(schema.TrainConfig, "")
    return out


def leaves(node: object, prefix: str = "") -> dict[str, object]:
    if isinstance(node, dict) and not prefix.endswith("kwargs"):
        out: dict[str, object] = {}
        for key, value in node.items():
            out.update(leaves(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: node}


def test_the_only_config_files_are_the_primary_config_and_env_presets():
    files = sorted(str(p.relative_to(CONF)) for p in CONF.rglob("*.yaml"))
    assert "train_appo.yaml" in files
    assert all(f == "train_appo.yaml" or f.startswith("env/") for f in files), files


def test_no_preset_restates_a_schema_default():
    defaults = schema_defaults()
    restated = []
    for path in sorted((CONF / "env").glob("*.yaml")):
        for key, value in leaves(yaml.safe_load(path.read_text()) or {}).items():
            assert key in defaults, f"{path.name} sets {key}, which is not in the schema"
            if (
                value == defaults[key]
                and not isinstance(value, bool)
                or (isinstance(value, bool) and value is defaults[key])
            ):
                restated.append(f"{path.name}: {key}={value!r}")
    assert not restated, f"presets restate schema defaults (define a default in one place): {restated}"


def test_every_preset_names_its_own_experiment():
    names = {}
    for path in sorted((CONF / "env").glob("*.yaml")):
        data = yaml.safe_load(path.read_text()) or {}
        if "env" in data:  # a complete task preset (gym.yaml is the bare "any id" group)
            names[path.stem] = (data.get("experiment") or {}).get("name")
    assert all(names.values()), f"presets without experiment.name (checkpoint.resume=latest would mix tasks): {names}"
    tasks = {n for stem, n in names.items() if not stem.endswith("_play")}
    assert len(tasks) == len([s for s in names if not s.endswith("_play")]), names


def _class_defaults(tree: ast.Module) -> dict[str, tuple[str | None, dict[str, object]]]:
    """``{class name: (first base name, {field: literal default})}`` of the classes in a module's source."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            values: dict[str, object] = {}
            for stmt in node.body:
                target, value = None, None
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
                    target, value = stmt.target.id, stmt.value
                elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                    target, value = stmt.targets[0].id, stmt.value
                if target is not None:
                    try:
                        values[target] = ast.literal_eval(value)
                    except ValueError:
                        values[target] = ast.unparse(value)
            base = node.bases[0].id if node.bases and isinstance(node.bases[0], ast.Name) else None
            out[node.name] = (base, values)
    return out


def _runner_cfg() -> tuple[dict[str, object], dict[str, str], dict[str, str], dict[str, str]]:
    tree = ast.parse((PKG / "isaaclab" / "runner_cfg.py").read_text())
    fields = _class_defaults(tree)["APPORunnerCfg"][1]
    consts = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            try:
                consts[node.target.id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    annotations = {
        stmt.target.id: ast.unparse(stmt.annotation)
        for node in tree.body
        if isinstance(node, ast.ClassDef) and node.name == "APPORunnerCfg"
        for stmt in node.body
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
    }
    return fields, consts["RUN_FIELDS"], consts["ISAACLAB_DEFAULTS"], annotations


def test_isaaclab_runner_cfg_inherits_every_ppo_field_and_maps_each_runner_field_once():
    fields, run_fields, deliberate, annotations = _runner_cfg()
    ppo_fields = {f.name for f in dataclasses.fields(schema.PPOConfig)}
    assert not ppo_fields & set(fields), f"APPORunnerCfg redefines PPOConfig fields: {ppo_fields & set(fields)}"
    defaults = schema_defaults()
    hints = {}
    for group in ("experiment", "checkpoint", "logging"):
        cls = typing.get_type_hints(schema.TrainConfig)[group]
        hints.update({f"{group}.{k}": v for k, v in typing.get_type_hints(cls).items()})
    assert len(set(run_fields.values())) == len(run_fields), "two runner fields set the same engine key"
    for name, key in run_fields.items():
        assert name in fields, f"RUN_FIELDS names {name}, which APPORunnerCfg does not have"
        assert annotations[name] == hints[key].__name__, f"{name}: {annotations[name]} vs {key}: {hints[key]}"
        if fields[name] != defaults[key]:
            assert name in deliberate, (
                f"APPORunnerCfg.{name}={fields[name]!r} differs from the schema's {key}="
                f"{defaults[key]!r} without a reason in ISAACLAB_DEFAULTS"
            )
    for name in deliberate:
        assert fields[name] != defaults[run_fields[name]], f"ISAACLAB_DEFAULTS lists {name}, which does not differ"


def test_task_agent_configs_set_only_what_differs_from_what_they_inherit():
    _, _, _, _ = _runner_cfg()
    inherited: dict[str, dict[str, object]] = {}
    base = {k.split(".", 1)[1]: v for k, v in schema_defaults().items() if k.startswith("ppo.")}
    base.update(_runner_cfg()[0])
    inherited["APPORunnerCfg"] = base
    restated = []
    for path in sorted((PKG / "tasks").rglob("agents/appo_cfg.py")):
        for cls, (parent, values) in _class_defaults(ast.parse(path.read_text())).items():
            assert parent in inherited, f"{path}: {cls} derives from {parent}, read its module first"
            parent_values = inherited[parent]
            for key, value in values.items():
                if key in parent_values and parent_values[key] == value:
                    restated.append(f"{path.parent.parent.name}/{cls}.{key}={value!r}")
            inherited[cls] = {**parent_values, **values}
    assert not restated, f"agent configs restate inherited values: {restated}"
