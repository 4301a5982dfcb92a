"""Register the structured-config schemas with Hydra's ConfigStore: the only place the Hydra groups' defaults come from.

``train_appo_schema`` (the whole :class:`TrainConfig`) heads the defaults list of ``train_appo.yaml``, so every
group file and every command-line override is checked against the dataclasses: an unknown key or a value of
the wrong type stops composition with Hydra's message naming the key. Each group's ``default`` option is the
group's dataclass itself (no YAML copy of the defaults), so ``defaults: [ppo: default]`` in any Hydra app that
sees our search-path plugin gets exactly the schema's values. Importing this module is cheap (no torch).
"""

from __future__ import annotations

from hydra.core.config_store import ConfigStore

from .schema import CheckpointConfig, EnvConfig, ExperimentConfig, LoggingConfig, PPOConfig, TrainConfig

GROUPS: dict[str, type] = {
    "ppo": PPOConfig,
    "env": EnvConfig,
    "logging": LoggingConfig,
    "checkpoint": CheckpointConfig,
    "experiment": ExperimentConfig,
}
"""Hydra group name -> the dataclass that types it and holds its defaults."""

_registered = False


def register_configs() -> None:
    """Store the schemas once per process (idempotent)."""
    global _registered
    if _registered:
        return
    cs = ConfigStore.instance()
    cs.store(name="train_appo_schema", node=TrainConfig)
    for group, node in GROUPS.items():
        cs.store(group=group, name=f"{group}_schema", node=node)
        if group != "env":  # env presets live in conf/env/*.yaml; the schema alone has no env id
            cs.store(group=group, name="default", node=node)
    _registered = True
