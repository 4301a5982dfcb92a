"""Networks: the Gaussian actor, the value function, observation/return normalizers and policy export.

Workers, export and replay depend on these, not on the algorithm (:mod:`isaac_hydra_ext.appo`).
"""

from .actor_critic import ActorCritic, GaussianPolicy, ValueFunction, build_policy
from .normalizer import RunningNormalizer

__all__ = ["ActorCritic", "GaussianPolicy", "RunningNormalizer", "ValueFunction", "build_policy"]
