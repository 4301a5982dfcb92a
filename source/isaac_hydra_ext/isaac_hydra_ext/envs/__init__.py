"""Environment backends behind the trainer's :class:`~isaac_hydra_ext.envs.vec_env.VecEnv` contract."""

from . import registration  # noqa: F401  (registers the embedded MuJoCo Go1 task ids, without importing MuJoCo)
