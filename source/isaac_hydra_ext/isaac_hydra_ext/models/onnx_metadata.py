"""Deployment metadata of an exported ONNX policy: written as ONNX ``metadata_props``, read back, printed.

Every value is JSON text (``json.loads`` gives lists, numbers and strings back). Keys:

* always: ``input_names`` and ``output_names`` (read from the exported graph), ``obs_dim`` and ``action_dim``;
* from the task's ``deployment_info()`` hook (:mod:`isaac_hydra_ext.envs.deployment`), when it has one:
  ``joint_names`` (action order), ``default_joint_pos``, ``action_scale``, ``action_offset`` (position target =
  action_offset + action_scale * action), ``control_period_s`` and ``observation_terms`` (a list of
  ``{"name", "start", "stop", "scale"}``);
* ``task``: the env id it was exported from, when known.

A robot-side runner reads them with ``onnx.load(path).metadata_props`` (or :func:`read_onnx_metadata`), or with
``onnxruntime.InferenceSession(path).get_modelmeta().custom_metadata_map``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

DEPLOYMENT_KEYS = (
    "joint_names",
    "default_joint_pos",
    "action_scale",
    "action_offset",
    "control_period_s",
    "observation_terms",
)
"""The task-provided keys, in the order they are written and printed."""


def deployment_metadata(deployment: Mapping[str, Any], task: str = "") -> dict[str, str]:
    """The task part of the metadata: each known, non-empty key of ``deployment`` as JSON text, plus ``task``."""
    out = {key: json.dumps(deployment[key]) for key in DEPLOYMENT_KEYS if deployment.get(key) not in (None, [], "")}
    if task:
        out["task"] = json.dumps(task)
    return out


def write_onnx_metadata(path: str, obs_dim: int, act_dim: int, extra: Mapping[str, str] | None = None) -> None:
    """Set the metadata of ONNX file ``path`` in place: input/output names, sizes and ``extra`` (JSON texts)."""
    import onnx

    model = onnx.load(path)
    props = {
        "input_names": json.dumps([i.name for i in model.graph.input]),
        "output_names": json.dumps([o.name for o in model.graph.output]),
        "obs_dim": json.dumps(int(obs_dim)),
        "action_dim": json.dumps(int(act_dim)),
        **dict(extra or {}),
    }
    del model.metadata_props[:]
    for key, value in props.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, path)


def read_onnx_metadata(path: str) -> dict[str, Any]:
    """The metadata of ONNX file ``path``, each value decoded from JSON (raw text where it is not JSON)."""
    import onnx

    out: dict[str, Any] = {}
    for prop in onnx.load(path).metadata_props:
        try:
            out[prop.key] = json.loads(prop.value)
        except json.JSONDecodeError:
            out[prop.key] = prop.value
    return out


def _short(values: Any, digits: int = 3) -> str:
    if isinstance(values, list) and values and all(isinstance(v, (int, float)) for v in values):
        if len(set(values)) == 1:
            return f"{round(values[0], digits)} (all {len(values)})"
        return "[" + ", ".join(f"{round(v, digits)}" for v in values) + "]"
    if isinstance(values, list):
        return ", ".join(str(v) for v in values)
    return str(values)


def metadata_lines(meta: Mapping[str, Any]) -> list[str]:
    """A compact block describing ``meta`` (as :func:`read_onnx_metadata` returns it) for the play commands."""
    lines = [
        f"  ONNX inputs {_short(meta.get('input_names', []))} (obs {meta.get('obs_dim', '?')}), "
        f"outputs {_short(meta.get('output_names', []))} (actions {meta.get('action_dim', '?')})"
    ]
    if "joint_names" in meta:
        lines.append(f"  joints (action order): {_short(meta['joint_names'])}")
    if "default_joint_pos" in meta:
        lines.append(f"  default joint pos: {_short(meta['default_joint_pos'])}")
    if "action_scale" in meta:
        lines.append(
            f"  action scale: {_short(meta['action_scale'])}; control period: {meta.get('control_period_s', '?')} s"
        )
    terms = meta.get("observation_terms")
    if isinstance(terms, list) and terms:
        parts = []
        for t in terms:
            scale = t.get("scale", 1.0)
            parts.append(f"{t['name']}[{t['start']}:{t['stop']}]" + ("" if scale == 1.0 else f"*{scale}"))
        lines.append(f"  observation: {' '.join(parts)}")
    return lines
