"""StopSignals' handlers in this process: which signals it takes over, and which it leaves as they were."""

import signal

from isaac_hydra_ext.runners import shutdown
from isaac_hydra_ext.runners.shutdown import StopSignals


def test_a_hang_up_stops_the_run_unless_it_is_ignored_as_under_nohup(monkeypatch):
    # pytest -s from a terminal: the hang-up must not send this session's own output to /dev/null
    monkeypatch.setattr(shutdown, "_isatty", lambda fd: False)
    previous = signal.getsignal(signal.SIGHUP)
    try:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)  # a run started from a terminal
        signals = StopSignals()
        signals.install()
        try:
            assert signal.getsignal(signal.SIGHUP) == signals._handle
            signal.raise_signal(signal.SIGHUP)
            assert signals.requested() and signals.reason == "SIGHUP"
        finally:
            signals.restore()
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_DFL

        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # nohup: logging out must not stop the run
        signals = StopSignals()
        signals.install()
        try:
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            signal.raise_signal(signal.SIGHUP)
            assert not signals.requested()
        finally:
            signals.restore()
    finally:
        signal.signal(signal.SIGHUP, previous)
