"""Render docs/configuration.md from the schema: every key, its type, default and docstring.

``python -m isaac_hydra_ext.config.reference > docs/configuration.md`` regenerates the page; a test fails
when the page and the schema disagree, so the docs always match the code.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect

from . import schema

GROUPS = (
    ("env", schema.EnvConfig),
    ("ppo", schema.PPOConfig),
    ("logging", schema.LoggingConfig),
    ("checkpoint", schema.CheckpointConfig),
    ("experiment", schema.ExperimentConfig),
)

HEADER = """# Configuration reference

Generated from `isaac_hydra_ext/config/schema.py` by `python -m isaac_hydra_ext.config.reference`; a test keeps
it in sync. Every key can be overridden on the command line (`python -m isaac_hydra_ext.appo_runner ppo.num_workers=8`)
and, for Isaac Lab tasks, as `agent.<key>` (the `ppo` keys are fields of `APPORunnerCfg`).
Types and unknown keys are checked by Hydra against these dataclasses; values and relations between keys by
`isaac_hydra_ext.config.validation` (one message per bad value, exit code 2, nothing started).

Group files: `conf/train_appo.yaml` (primary), `conf/env/{gym,gym_pendulum,mujoco_halfcheetah,mujoco_go1,...}.yaml`,
`conf/ppo/default.yaml`, `conf/logging/default.yaml`, `conf/checkpoint/default.yaml`,
`conf/experiment/default.yaml`. Env files may also set `ppo.*` values suited to their task.
"""


def field_docs(cls: type) -> dict[str, str]:
    """Attribute docstrings (the string literal after each annotated field) of a dataclass."""
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body
    docs: dict[str, str] = {}
    for node, nxt in zip(body, body[1:]):
        is_field = isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
        is_doc = isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str)
        if is_field and is_doc:
            docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


def _default(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return "(required)"
    return "`\"\"`" if value == "" else f"`{value!r}`"


def render() -> str:
    """The whole reference page as Markdown."""
    out = [HEADER]
    for group, cls in GROUPS:
        docs = field_docs(cls)
        out.append(f"\n## `{group}`\n\n{inspect.getdoc(cls)}\n\n| key | type | default | meaning |\n|---|---|---|---|")
        for f in dataclasses.fields(cls):
            out.append(f"| `{group}.{f.name}` | `{f.type}` | {_default(f)} | {docs.get(f.name, '')} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render(), end="")
