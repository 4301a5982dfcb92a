"""Render docs/configuration.md from the schema: every key, its type, default and docstring.

``python -m isaac_hydra_ext.config.reference > docs/configuration.md`` regenerates the page; a test fails
when the page and the schema disagree, so the docs always match the code.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import os
from typing import Any

from . import schema

GROUPS = (
    ("env", schema.EnvConfig),
    ("env.launch", schema.LaunchConfig),
    ("ppo", schema.SamplerConfig),
    ("ppo", schema.ModelConfig),
    ("ppo", schema.AlgorithmConfig),
    ("logging", schema.LoggingConfig),
    ("checkpoint", schema.CheckpointConfig),
    ("experiment", schema.ExperimentConfig),
)
"""Sections of the page: the key prefix and the dataclass that holds the keys (``ppo`` is split by reader)."""

PRESET_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "conf", "env")

HEADER = """# Configuration reference

Generated from `isaac_hydra_ext/config/schema.py` by `python -m isaac_hydra_ext.config.reference`; a test keeps
it in sync. Every key can be overridden on the command line (`python -m isaac_hydra_ext.appo_runner ppo.num_workers=8`)
and, for Isaac Lab tasks, as `agent.<key>` (the `ppo` keys are fields of `APPORunnerCfg`).
Types and unknown keys are checked by Hydra against these dataclasses; values and relations between keys by
`isaac_hydra_ext.config.validation` (one message per bad value, exit code 2, nothing started).

The schema is the only place a default is defined: the groups `ppo`, `logging`, `checkpoint` and `experiment` are
the dataclasses themselves, and each env preset (`conf/env/*.yaml`, chosen with `env=<preset>`) sets only the keys
that differ for its task. The *default* column is the schema's value, which every preset that does not set the key
gets; the *presets* column lists the values the presets set. The default run (no `env=`) is the
**`mujoco_go1` preset**, listed first and in bold: where it sets a key, its value is what a plain
`python -m isaac_hydra_ext.appo_runner` uses (e.g. 256 envs per worker, not 16).
"""

DEFAULT_PRESET = "mujoco_go1"
"""The env preset of the default run (``conf/train_appo.yaml``'s defaults list)."""


def field_docs(cls: type) -> dict[str, str]:
    """Attribute docstrings (the string literal after each annotated field) of a dataclass."""
    class_def = ast.parse(inspect.getsource(cls)).body[0]
    assert isinstance(class_def, ast.ClassDef)  # the source of a class is its (possibly decorated) class statement
    body = class_def.body
    docs: dict[str, str] = {}
    for node, nxt in zip(body, body[1:]):
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue  # not a field
        if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str):
            docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


def _default(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return "(required)"
    return '`""`' if value == "" else f"`{value!r}`"


def preset_values() -> dict[str, dict[str, Any]]:
    """``{dotted key: {preset name: value}}`` of every value an env preset in ``conf/env/`` sets."""
    import yaml

    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any, prefix: str, preset: str) -> None:
        if isinstance(node, dict) and not prefix.endswith("kwargs"):
            for key, value in node.items():
                walk(value, f"{prefix}.{key}" if prefix else str(key), preset)
        else:
            found.setdefault(prefix, {})[preset] = node

    for name in sorted(os.listdir(PRESET_DIR)):
        if name.endswith(".yaml"):
            with open(os.path.join(PRESET_DIR, name)) as f:
                data = yaml.safe_load(f) or {}
            walk(data, "", name[: -len(".yaml")])
    return found


def render() -> str:
    """The whole reference page as Markdown."""
    presets = preset_values()
    out = [HEADER]
    for group, cls in GROUPS:
        docs = field_docs(cls)
        title = (
            f"`{group}`"
            if cls not in (schema.SamplerConfig, schema.ModelConfig, schema.AlgorithmConfig)
            else (f"`{group}`: {cls.__name__}")
        )
        out.append(
            f"\n## {title}\n\n{inspect.getdoc(cls)}\n\n| key | type | default | presets | meaning |\n"
            "|---|---|---|---|---|"
        )
        for f in dataclasses.fields(cls):
            if dataclasses.is_dataclass(f.default_factory) if f.default_factory is not dataclasses.MISSING else False:
                continue
            key = f"{group}.{f.name}"
            by_preset = sorted(presets.get(key, {}).items(), key=lambda item: item[0] != DEFAULT_PRESET)
            set_by = ", ".join(
                f"**{p} (default run): `{v!r}`**" if p == DEFAULT_PRESET else f"{p}: `{v!r}`" for p, v in by_preset
            )
            out.append(f"| `{key}` | `{f.type}` | {_default(f)} | {set_by} | {docs.get(f.name, '')} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render(), end="")
