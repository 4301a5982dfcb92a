"""Typed run configuration, its validation and its registration with Hydra."""

from .schema import (
    CheckpointConfig,
    EnvConfig,
    ExperimentConfig,
    LoggingConfig,
    PPOConfig,
    TrainConfig,
)

__all__ = ["CheckpointConfig", "EnvConfig", "ExperimentConfig", "LoggingConfig", "PPOConfig", "TrainConfig"]
