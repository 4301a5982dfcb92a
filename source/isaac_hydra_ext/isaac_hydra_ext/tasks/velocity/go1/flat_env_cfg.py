"""Sber Go1 on flat ground: Isaac Lab's stock Go1 flat task, unchanged (see :mod:`.rough_env_cfg` for why).

The stock flat task (48 observations, no height scan, flat-orientation and air-time rewards raised) is inherited
as is. On Isaac Lab 3.x its default physics is Isaac Sim PhysX, so ``launch_simulation`` starts Isaac Sim for it;
``physics=newton_mjwarp`` on the command line selects the kit-less Newton backend the stock task also declares.
"""

from isaac_hydra_ext.isaaclab.go1 import UnitreeGo1FlatEnvCfg, configclass, stock_play_mode


@configclass
class SberGo1FlatEnvCfg(UnitreeGo1FlatEnvCfg):
    """Isaac Lab's Unitree Go1 flat-ground velocity task."""

    def play_mode(self):
        """Playback settings: at most 50 envs, no observation noise, no pushes."""
        stock_play_mode(self, UnitreeGo1FlatEnvCfg)


@configclass
class SberGo1FlatEnvCfg_PLAY(SberGo1FlatEnvCfg):
    """:class:`SberGo1FlatEnvCfg` with :meth:`~SberGo1FlatEnvCfg.play_mode` applied (the ``-Play-`` id)."""

    def __post_init__(self):
        super().__post_init__()
        self.play_mode()
