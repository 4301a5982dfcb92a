"""Environment backends behind the trainer's :class:`~isaac_hydra_ext.envs.vec_env.VecEnv` contract."""
