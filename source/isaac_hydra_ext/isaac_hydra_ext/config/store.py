"""Register the structured-config schemas with Hydra's ConfigStore.

``train_appo_schema`` (the whole :class:`TrainConfig`) heads the defaults list of ``train_appo.yaml``, so every
group file and every command-line override is checked against the dataclasses: an unknown key or a value of
the wrong type stops composition with Hydra's message naming the key. Importing this module is cheap (no torch).
"""

from __future__ import annotations

from hydra.core.config_store import ConfigStore

from .schema import CheckpointConfig, EnvConfig, ExperimentConfig, LoggingConfig, PPOConfig, TrainConfig

_registered = False


def register_configs() -> None:
    """Store the schemas once per process (idempotent)."""
    global _registered
    if _registered:
        return
    cs = ConfigStore.instance()
    cs.store(name="train_appo_schema", node=TrainConfig)
    cs.store(group="ppo", name="ppo_schema", node=PPOConfig)
    cs.store(group="env", name="env_schema", node=EnvConfig)
    cs.store(group="logging", name="logging_schema", node=LoggingConfig)
    cs.store(group="checkpoint", name="checkpoint_schema", node=CheckpointConfig)
    cs.store(group="experiment", name="experiment_schema", node=ExperimentConfig)
    _registered = True
