"""The Isaac Lab side of isaac_hydra_ext: the only package that imports Isaac Lab.

Importing this package imports nothing from Isaac Lab; each module does when it is imported or called:

* :mod:`.compat`: 2.x / 3.x feature detection, :func:`~.compat.resolve_task_configs` (task configs with strict
  ``env.*``/``agent.*`` overrides) and :func:`~.compat.open_task` (configs + simulator launch, in the right order);
* :mod:`.overrides`: the strict override checks (pure Python, no Isaac Lab);
* :mod:`.runner_cfg`: :class:`~.runner_cfg.APPORunnerCfg`, the APPO agent config of Isaac Lab tasks;
* :mod:`.vec_env`: :class:`~.vec_env.IsaacLabVecEnv`, an Isaac Lab RL env as the trainer's ``VecEnv``;
* :mod:`.go1`: Isaac Lab's stock Unitree Go1 configs, from wherever the installed version keeps them.
"""
