"""Collecting rollouts: worker processes, in-process collectors, and the factory that picks one.

:func:`~.factory.make_sampler` is the only place a collection mode is chosen; the runner sees a
:class:`~.base.Sampler`.
"""

from .base import Sampler, SamplerStats
from .collector import EnvError, RolloutCollector, RolloutInfo, collector_seed
from .factory import make_sampler
from .worker_pool import WorkerFailure

__all__ = [
    "EnvError",
    "RolloutCollector",
    "RolloutInfo",
    "Sampler",
    "SamplerStats",
    "WorkerFailure",
    "collector_seed",
    "make_sampler",
]
