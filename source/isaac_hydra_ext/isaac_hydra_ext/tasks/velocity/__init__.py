"""Velocity-tracking locomotion tasks."""

from . import (
    go1,  # noqa: F401
    go1_newton,  # noqa: F401
)
