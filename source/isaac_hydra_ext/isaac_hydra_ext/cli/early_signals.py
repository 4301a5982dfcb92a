"""Ctrl-C during start-up: noted before the heavy imports, so a stop requested then still ends in order.

Until the runner installs its own handlers, a SIGINT/SIGTERM is only recorded; the run then stops before it starts
anything (or right after it starts, saving a checkpoint).
"""

from __future__ import annotations

import signal
from types import FrameType

_seen: list[str] = []


def _record(signum: int, _frame: FrameType | None) -> None:
    _seen.append(signal.Signals(signum).name)


def install() -> None:
    """Record SIGINT/SIGTERM from now on (call first thing in ``__main__``)."""
    signal.signal(signal.SIGINT, _record)
    signal.signal(signal.SIGTERM, _record)


def pending() -> str | None:
    """The first signal recorded, if any."""
    return _seen[0] if _seen else None
