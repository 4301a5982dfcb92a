"""Ctrl-C and SIGTERM: a stop request the loop polls, and a shutdown that a second signal cannot break.

The first SIGINT/SIGTERM asks the run to stop after the current step. A second SIGINT while the training loop
runs (:meth:`StopSignals.arm`) interrupts what is running (a long update, a slow in-process rollout) with one
``KeyboardInterrupt``, and disarms: at most one is ever raised, and never outside the loop, so it cannot land in
the runner's cleanup. Every later signal only makes the shutdown *hurry*: waiting for workers to exit is cut
short, but the final checkpoint and ``summary.json`` are always written.
"""

from __future__ import annotations

import logging
import signal
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)


class StopSignals:
    """Owns the process's SIGINT/SIGTERM handlers for the duration of a run."""

    def __init__(self) -> None:
        """No signal seen yet; handlers are installed by :meth:`install`."""
        self.reason: str | None = None
        self.count = 0
        self.hurry = False
        self._armed = False
        self._previous: dict[int, Any] = {}

    def request(self, reason: str) -> None:
        """Ask the run to stop (as a signal would), e.g. for a signal that arrived before the handlers."""
        self.reason = self.reason or reason

    def requested(self) -> bool:
        """True once a stop was requested."""
        return self.reason is not None

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.count += 1
        name = signal.Signals(signum).name
        self.reason = self.reason or name
        if self.count == 1:
            log.warning("%s received: finishing the current step, saving and stopping", name)
            return
        self.hurry = True
        if self._armed and signum == signal.SIGINT:
            self._armed = False  # the only KeyboardInterrupt of the run, raised inside the loop
            raise KeyboardInterrupt
        log.warning("%s received again: not waiting for workers; the checkpoint and summary are still written", name)

    def install(self) -> None:
        """Install the handlers (only possible in the main thread; elsewhere nothing is installed)."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread
                pass

    def restore(self) -> None:
        """Put the previous handlers back."""
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def arm(self) -> None:
        """Let a second Ctrl-C interrupt the training loop (once); called when the loop starts."""
        self._armed = True

    def disarm(self) -> None:
        """No more interrupts: the loop is over and cleanup must run to the end."""
        self._armed = False
