"""Former home of the Isaac Lab scripts' code, kept so existing imports work: see :mod:`.train` and :mod:`.play`."""

from .play import add_play_args, main_play, run_play
from .train import add_train_args, main_train, run_train

__all__ = ["add_play_args", "add_train_args", "main_play", "main_train", "run_play", "run_train"]
