"""Ctrl-C, SIGTERM and SIGHUP: a stop request the loop polls, and a shutdown that a second signal cannot break.

The first SIGINT/SIGTERM/SIGHUP asks the run to stop after the current step. SIGHUP is what a closed terminal or a
dropped SSH session sends: the run then stops like for SIGTERM (checkpoint and ``summary.json`` written) instead of
dying where it stands, and its console output, which would now fail with EIO on the hung-up terminal, goes to
/dev/null (the run directory's ``train.log`` keeps the log). Under ``nohup`` (SIGHUP ignored) it stays ignored.

A second SIGINT while the loop is inside a step that may take long and can be undone (waiting for rollouts, an
update: :meth:`StopSignals.arm`) interrupts it with one ``KeyboardInterrupt`` and disarms: at most one is ever
raised, and never outside those steps, so it cannot land in the runner's cleanup. Every other signal only makes the
shutdown *hurry*: waiting for workers to exit is cut short, but the final checkpoint and ``summary.json`` are always
written.

The handler writes its one-line notices with ``os.write`` on stderr's descriptor, not through ``logging`` or
``print``: a handler that writes to a buffered stream the interrupted code is writing to fails with "reentrant
call" (a traceback in the middle of the shutdown).
"""

from __future__ import annotations

import os
import signal
from types import FrameType
from typing import Any

STOP_SIGNAL_NAMES = ("SIGINT", "SIGTERM", "SIGHUP")
"""Signals that stop a run (status ``interrupted``)."""


class StopSignals:
    """Owns the process's SIGINT/SIGTERM/SIGHUP handlers for the duration of a run."""

    def __init__(self) -> None:
        """No signal seen yet; handlers are installed by :meth:`install`."""
        self.reason: str | None = None
        self.count = 0
        self.hurry = False
        self._armed = False
        self._previous: dict[int, Any] = {}
        self._terminal_fds: list[int] = []

    def request(self, reason: str) -> None:
        """Ask the run to stop (as a signal would), e.g. for a signal that arrived before the handlers."""
        self.reason = self.reason or reason

    def requested(self) -> bool:
        """True once a stop was requested."""
        return self.reason is not None

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            _detach_from_terminal(self._terminal_fds)
        self.count += 1
        name = signal.Signals(signum).name
        self.reason = self.reason or name
        if self.count == 1:
            _notice(f"{name} received: finishing the current step, saving and stopping (again: stop at once)")
            return
        self.hurry = True
        if self._armed and signum == signal.SIGINT:
            self._armed = False  # the only KeyboardInterrupt of the run, raised inside an armed step
            _notice(
                f"{name} received again: interrupting the current step; the checkpoint and summary are still written"
            )
            raise KeyboardInterrupt
        _notice(f"{name} received again: not waiting for workers; the checkpoint and summary are still written")

    def install(self) -> None:
        """Install the handlers (only possible in the main thread; elsewhere nothing is installed).

        SIGHUP only where it has its default action (it would kill the run): an ignored one (``nohup``) stays so.
        """
        self._terminal_fds = [fd for fd in (1, 2) if _isatty(fd)]
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            try:
                if sig == signal.SIGHUP and signal.getsignal(sig) != signal.SIG_DFL:
                    continue
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread
                pass

    def restore(self) -> None:
        """Put the previous handlers back."""
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def arm(self) -> None:
        """Let a second Ctrl-C interrupt what runs now (once per run; nothing once a second signal was seen)."""
        self._armed = self.count < 2

    def disarm(self) -> None:
        """No interrupt from here on: what runs now must run to the end (bookkeeping, saving, cleanup)."""
        self._armed = False


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _detach_from_terminal(fds: list[int]) -> None:
    """Point the descriptors that were a terminal at /dev/null (the terminal hung up: writes would fail with EIO)."""
    if not fds:
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        for fd in fds:
            os.dup2(null, fd)
    finally:
        os.close(null)


def _notice(message: str) -> None:
    """Write ``WARNING <logger>: message`` to stderr from a signal handler (unbuffered, never reentrant)."""
    try:
        os.write(2, f"WARNING {__name__}: {message}\n".encode())
    except OSError:  # stderr closed: nothing to tell
        pass
