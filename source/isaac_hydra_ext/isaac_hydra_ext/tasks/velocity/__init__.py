"""Velocity-tracking locomotion tasks."""

from . import go1  # noqa: F401
from . import go1_newton  # noqa: F401
