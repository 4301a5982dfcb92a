"""The APPO algorithm: the update (:class:`APPO`), its losses and its return estimators (GAE, V-trace).

Knows nothing about processes or environments: it trains on a :class:`~isaac_hydra_ext.storage.TrajectoryBatch`.
"""

from .algorithm import APPO, GradSync, NonFiniteUpdateError

__all__ = ["APPO", "GradSync", "NonFiniteUpdateError"]
