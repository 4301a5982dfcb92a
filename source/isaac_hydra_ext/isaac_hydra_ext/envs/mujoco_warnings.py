"""Each distinct MuJoCo warning once per run, not once per model compiled.

MuJoCo prints its warnings (``mju_warning``) to stdout, one per occurrence. A model-compiler warning is printed each
time the model is compiled, i.e. by every env of every worker: gymnasium's HalfCheetah-v5 on MuJoCo 4 prints the
``settotalmass`` deprecation 32 times per worker at the default 32 envs, 481 times with 15 workers, before the
run's first line, and appends each one to ``MUJOCO_LOG.TXT`` in the working directory.
:func:`show_each_warning_once` replaces the printer with one that writes each distinct message once, as
``WARNING (MuJoCo): ...`` on stderr (MuJoCo then writes no log file).

"Once" spans processes: the messages shown are kept in the environment variable :data:`SHOWN_ENV`, which worker
processes inherit when they start, so what the learner's env probe has shown, the workers do not show again; a
warning only a worker meets (an unstable simulation) is still shown, once per worker.
"""

from __future__ import annotations

import json
import os
import sys

SHOWN_ENV = "ISAAC_HYDRA_EXT_MUJOCO_WARNINGS_SHOWN"
"""JSON list of the MuJoCo warning texts this process (or its parent, before starting it) has shown."""

_shown: set[str] | None = None


def _read_shown() -> set[str]:
    try:
        shown = json.loads(os.environ.get(SHOWN_ENV, "[]"))
    except ValueError:  # a value not written by us: start afresh
        return set()
    return {str(text) for text in shown} if isinstance(shown, list) else set()


def _show_once(text: str) -> None:
    """MuJoCo's warning callback: print ``text`` unless it was shown already (here or in the parent)."""
    global _shown
    if _shown is None:
        _shown = _read_shown()
    text = text.strip()
    if text in _shown:
        return
    _shown.add(text)
    os.environ[SHOWN_ENV] = json.dumps(sorted(_shown))
    print(f"WARNING (MuJoCo): {text}", file=sys.stderr, flush=True)


def show_each_warning_once() -> None:
    """Install the once-per-run printer, unless MuJoCo is not installed or a printer other than ours is set."""
    try:
        import mujoco
    except ImportError:
        return
    get, set_ = getattr(mujoco, "get_mju_user_warning", None), getattr(mujoco, "set_mju_user_warning", None)
    if get is not None and set_ is not None and get() is None:  # bindings without the hooks keep MuJoCo's printer
        set_(_show_once)
