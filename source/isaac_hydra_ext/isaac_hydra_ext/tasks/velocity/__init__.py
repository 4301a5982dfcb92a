"""Velocity-tracking locomotion tasks."""

from . import go1  # noqa: F401
