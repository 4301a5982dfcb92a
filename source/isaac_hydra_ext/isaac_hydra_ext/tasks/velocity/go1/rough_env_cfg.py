"""Sber Go1 on rough terrain: Isaac Lab's stock Go1 rough task, unchanged, under our ids and with one play mode.

What "Sber" changes relative to Isaac Lab's ``UnitreeGo1RoughEnvCfg``:

* **Nothing in the MDP.** Observations (235: 48 proprioceptive + 187 height-scan rays), actions (12 joint position
  targets, scale 0.25), rewards, terminations, events, terrain and physics are the installed Isaac Lab's own, so an
  APPO run and an rsl_rl run of the same id (``rsl_rl_cfg_entry_point``) are directly comparable, and comparable
  with published Isaac Lab Go1 results. (2.x and 3.x differ from each other here, e.g. 3.x keeps the push event and
  defaults to Newton physics; we inherit each version's stock task and do not harmonise them.)
* **Same ids on 2.x and 3.x.** 3.x renamed the stock ids (``IsaacContrib-Velocity-Rough-UnitreeGo1``) and dropped
  the ``-Play-`` ids; ours exist on both.
* **One play mode on both versions.** :meth:`SberGo1RoughEnvCfg.play_mode` is Isaac Lab 3.x's ``play_mode()``
  where it exists and the same changes as 2.x's ``UnitreeGo1RoughEnvCfg_PLAY`` otherwise; the ``-Play-`` id is
  this config with ``play_mode()`` applied.
"""

from isaac_hydra_ext.isaaclab.go1 import UnitreeGo1RoughEnvCfg, configclass, stock_play_mode


@configclass
class SberGo1RoughEnvCfg(UnitreeGo1RoughEnvCfg):
    """Isaac Lab's Unitree Go1 rough-terrain velocity task (see the module docstring for what differs)."""

    def play_mode(self):
        """Playback settings: at most 50 envs, no observation noise, small terrain without curriculum, no pushes."""
        stock_play_mode(self, UnitreeGo1RoughEnvCfg)


@configclass
class SberGo1RoughEnvCfg_PLAY(SberGo1RoughEnvCfg):
    """:class:`SberGo1RoughEnvCfg` with :meth:`~SberGo1RoughEnvCfg.play_mode` applied (the ``-Play-`` id)."""

    def __post_init__(self):
        super().__post_init__()
        self.play_mode()
