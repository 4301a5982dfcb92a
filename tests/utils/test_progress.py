"""The console: ETA from steps/s (hand-computed), plain lines in a pipe, a live display in a pseudo-terminal."""

from __future__ import annotations

import io
import os
import pty
import select

import pytest
from isaac_hydra_ext.utils.progress import (
    Budget,
    ProgressDisplay,
    RateWindow,
    eta_seconds,
    format_duration,
    format_mean,
)


class FakeClock:
    def __init__(self, t: float = 0.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_eta_is_remaining_steps_over_recent_steps_per_second():
    clock = FakeClock(0.0)
    display = ProgressDisplay("line", Budget(max_env_steps=1_000_000), stream=io.StringIO(), clock=clock)
    # t=10: 100k steps (the first iteration includes starting the workers); t=20: 250k; t=30: 400k.
    for t, steps, it in [(10, 100_000, 1), (20, 250_000, 2), (30, 400_000, 3)]:
        clock.t = t
        display.update(it, steps, -5.0, 100.0)
    # Two updates exist, so the rate is over them only: (400k - 100k) / (30 - 10) = 15,000 steps/s.
    assert display.rates.steps_per_s() == pytest.approx(15_000.0)
    # (1,000,000 - 400,000) / 15,000 = 40 s.
    assert display.state.eta_s == pytest.approx(40.0)
    assert display.suffix() == " |  40% of 1,000,000 env steps | ETA 0:00:40"
    clock.t = 45  # the ETA counts down between updates
    assert display.eta_now() == pytest.approx(25.0)


def test_eta_before_a_second_update_uses_the_session_start():
    clock = FakeClock(100.0)
    display = ProgressDisplay("line", Budget(max_env_steps=50_000), env_steps=10_000, stream=io.StringIO(), clock=clock)
    clock.t = 108.0
    display.update(1, 14_000, 0.0, 0.0)  # resumed at 10k: 4,000 steps in 8 s = 500 steps/s
    assert display.state.eta_s == pytest.approx((50_000 - 14_000) / 500.0)  # 72 s
    assert display.fraction() == pytest.approx(14_000 / 50_000)


def test_eta_takes_the_budget_reached_first():
    # 2,000 steps/s and 4 s per iteration at iteration 50 of 100 with 500k of 10M steps after 200 s of 300.
    budget = Budget(max_env_steps=10_000_000, max_iterations=100, max_wall_time_s=300.0)
    eta = eta_seconds(budget, 500_000, 50, 200.0, steps_per_s=2_000.0, s_per_iteration=4.0)
    assert eta == pytest.approx(min(9_500_000 / 2_000.0, 50 * 4.0, 100.0))  # the wall-time limit: 100 s
    assert eta_seconds(Budget(), 1, 1, 1.0, 1.0, 1.0) is None  # no limit: no ETA
    assert budget.fraction(500_000, 50, 200.0) == pytest.approx(200 / 300)
    assert Budget().describe() == "none (runs until Ctrl-C)"


def test_rate_window_forgets_old_points():
    rates = RateWindow(window_s=30.0)
    rates.start(0.0, 0, 0)
    for t in range(0, 101, 10):  # 100 steps/s until t=50, then 1,000 steps/s
        rates.add(float(t), 100 * t if t <= 50 else 5_000 + 1_000 * (t - 50), t // 10)
    assert rates.steps_per_s() == pytest.approx(1_000.0)  # only t = 70..100 remain
    assert rates.s_per_iteration() == pytest.approx(10.0)


@pytest.mark.parametrize(
    "seconds,text", [(0, "0:00:00"), (59.6, "0:01:00"), (3725, "1:02:05"), (90061, "1d 1:01:01"), (None, "--:--")]
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_a_mean_before_the_first_episode_is_a_dash_of_the_same_width():
    # before: "return       nan | len     nan" until an episode had finished
    assert format_mean(float("nan"), "9.2f") == "        -" and len(format_mean(-1254.45, "9.2f")) == 9
    assert format_mean(-1254.449, "9.2f") == " -1254.45" and format_mean(float("nan"), ".1f") == "-"


def test_pipe_gets_plain_lines_with_budget_and_eta_and_no_escape_codes():
    out = io.StringIO()  # not a terminal: "auto" falls back to plain lines
    clock = FakeClock()
    display = ProgressDisplay("auto", Budget(max_env_steps=1000), stream=out, clock=clock)
    assert not display.live
    display.banner("APPO training: Pendulum-v1", [("run dir", "/tmp/x"), ("watch", "tensorboard --logdir /tmp")])
    display.start()
    clock.t = 1.0
    display.update(1, 100, -1200.0, 200.0)
    display.line("[it     1] steps         100")
    display.stop()
    text = out.getvalue()
    assert "\x1b[" not in text
    lines = text.splitlines()
    assert lines[0] == "APPO training: Pendulum-v1"
    assert "  watch    tensorboard --logdir /tmp" in lines
    assert lines[-1] == "[it     1] steps         100 |  10% of 1,000 env steps | ETA 0:00:09"


def test_none_prints_nothing():
    out = io.StringIO()
    display = ProgressDisplay("none", Budget(max_env_steps=1000), stream=out)
    display.banner("title", [("a", "b")])
    display.update(1, 10, 0.0, 0.0)
    display.line("line")
    display.message("message")
    assert out.getvalue() == ""


def _read_all(fd: int) -> bytes:
    data = b""
    while select.select([fd], [], [], 0.2)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def test_terminal_gets_a_live_display(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    for var in ("NO_COLOR", "TTY_COMPATIBLE", "FORCE_COLOR", "TTY_INTERACTIVE"):
        monkeypatch.delenv(var, raising=False)
    master, slave = pty.openpty()
    stream = os.fdopen(slave, "w", encoding="utf-8")
    try:
        clock = FakeClock()
        display = ProgressDisplay("auto", Budget(max_env_steps=1_000_000), stream=stream, clock=clock)
        assert display.live
        display.banner("APPO training: Go1", [("run dir", "/tmp/x")])
        display.start()
        clock.t = 10.0
        display.update(3, 300_000, 12.5, 650.0)
        display.line("[it     3] plain line")  # the live display replaces plain lines
        display.stop()
        stream.flush()
        text = _read_all(master).decode("utf-8", "replace")
    finally:
        stream.close()
        os.close(master)
    assert "\x1b[" in text  # cursor control / colour: a live display, not lines
    assert "\u2501" in text  # the bar
    assert "300,000/1,000,000 steps" in text and "30.0k steps/s" in text and "ETA" in text and "0:00:23" in text
    assert "return 12.50" in text and "episode length 650.0" in text
    assert "plain line" not in text
