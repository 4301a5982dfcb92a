"""What a run prints: a start banner, then a live progress display (rich) in a terminal or plain lines elsewhere.

``logging.console`` picks the output:

* ``auto`` (default): the live display when stdout is a terminal; plain lines when it is a pipe or a file (CI,
  ``nohup``, ``> train.log``);
* ``progress``: the live display even when stdout is not detected as a terminal (IDE consoles that render ANSI);
* ``line``: one plain line per log interval, always;
* ``none``: neither banner nor progress (warnings and the final line still print).

The ETA is the shortest time to any budget (``experiment.max_env_steps``, ``max_iterations``,
``max_wall_time_s``) at the recent rate: env steps per second and seconds per iteration over the last
:data:`RATE_WINDOW_S` seconds (the first iteration, which includes starting the workers, leaves the window as
soon as there are two later ones).
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from ..config.schema import CONSOLE_MODES

RATE_WINDOW_S = 30.0
"""Seconds of recent progress that steps/s and the ETA are computed from."""


@dataclass(frozen=True)
class Budget:
    """The run's stopping budgets (0: no limit of that kind)."""

    max_env_steps: int = 0
    """Total env steps (counted from the start of the run, resumed steps included)."""
    max_iterations: int = 0
    """Total learner iterations (resumed iterations included)."""
    max_wall_time_s: float = 0.0
    """Seconds of this session."""

    @classmethod
    def from_config(cls, experiment: Any) -> Budget:
        """The budget of an :class:`~isaac_hydra_ext.config.ExperimentConfig`."""
        return cls(int(experiment.max_env_steps), int(experiment.max_iterations), float(experiment.max_wall_time_s))

    def fraction(self, env_steps: int, iteration: int, elapsed_s: float) -> float | None:
        """Share of the budget used (the largest over its limits, at most 1); None without any limit."""
        parts = []
        if self.max_env_steps > 0:
            parts.append(env_steps / self.max_env_steps)
        if self.max_iterations > 0:
            parts.append(iteration / self.max_iterations)
        if self.max_wall_time_s > 0:
            parts.append(elapsed_s / self.max_wall_time_s)
        return min(1.0, max(parts)) if parts else None

    def describe(self) -> str:
        """The limits in words, e.g. ``1,000,000 env steps or 0:10:00``."""
        parts = []
        if self.max_env_steps > 0:
            parts.append(f"{self.max_env_steps:,d} env steps")
        if self.max_iterations > 0:
            parts.append(f"{self.max_iterations:,d} iterations")
        if self.max_wall_time_s > 0:
            parts.append(format_duration(self.max_wall_time_s))
        return " or ".join(parts) if parts else "none (runs until Ctrl-C)"


def eta_seconds(
    budget: Budget,
    env_steps: int,
    iteration: int,
    elapsed_s: float,
    steps_per_s: float,
    s_per_iteration: float,
) -> float | None:
    """Seconds until the first budget is reached at the given rates; None when no limit can be estimated.

    ``(max_env_steps - env_steps) / steps_per_s``, ``(max_iterations - iteration) * s_per_iteration`` and
    ``max_wall_time_s - elapsed_s``, whichever is smallest (never negative).
    """
    etas = []
    if budget.max_env_steps > 0 and steps_per_s > 0:
        etas.append(max(0, budget.max_env_steps - env_steps) / steps_per_s)
    if budget.max_iterations > 0 and s_per_iteration > 0:
        etas.append(max(0, budget.max_iterations - iteration) * s_per_iteration)
    if budget.max_wall_time_s > 0:
        etas.append(max(0.0, budget.max_wall_time_s - elapsed_s))
    return min(etas) if etas else None


def format_duration(seconds: float | None) -> str:
    """``H:MM:SS`` (``Nd H:MM:SS`` beyond a day); ``--:--`` when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "--:--"
    seconds = int(round(max(0.0, seconds)))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{days}d {text}" if days else text


def format_mean(value: float, spec: str) -> str:
    """``value`` in format ``spec`` (``"9.2f"``), or ``-`` padded to the same width while it is NaN.

    NaN: no episode has finished yet, so there is no mean to show.
    """
    if math.isnan(value):
        width = spec.split(".")[0]
        return "-".rjust(int(width)) if width.isdigit() else "-"
    return format(value, spec)


def format_rate(steps_per_s: float) -> str:
    """Steps per second, compact: ``950``, ``22.1k``, ``1.31M``."""
    if steps_per_s >= 1e6:
        return f"{steps_per_s / 1e6:.2f}M"
    if steps_per_s >= 1e4:
        return f"{steps_per_s / 1e3:.1f}k"
    return f"{steps_per_s:.0f}"


class RateWindow:
    """Env steps per second and seconds per iteration over the last ``window_s`` seconds of updates."""

    def __init__(self, window_s: float = RATE_WINDOW_S):
        """Start empty; :meth:`start` sets the reference point of the session."""
        self.window_s = window_s
        self._start: tuple[float, int, int] | None = None
        self._points: deque[tuple[float, int, int]] = deque()

    def start(self, t: float, env_steps: int, iteration: int) -> None:
        """The session's starting point (used until two updates exist)."""
        self._start = (t, env_steps, iteration)
        self._points.clear()

    def add(self, t: float, env_steps: int, iteration: int) -> None:
        """Record progress at time ``t``; points older than the window go (two always stay)."""
        self._points.append((t, env_steps, iteration))
        while len(self._points) > 2 and t - self._points[0][0] > self.window_s:
            self._points.popleft()

    def _span(self) -> tuple[float, int, int]:
        if len(self._points) >= 2:
            first, last = self._points[0], self._points[-1]
        elif self._points and self._start is not None:
            first, last = self._start, self._points[-1]
        else:
            return 0.0, 0, 0
        return last[0] - first[0], last[1] - first[1], last[2] - first[2]

    def steps_per_s(self) -> float:
        """Env steps per second over the window (0 before the first update)."""
        dt, steps, _ = self._span()
        return steps / dt if dt > 0 else 0.0

    def s_per_iteration(self) -> float:
        """Seconds per learner iteration over the window (0 before the first update)."""
        dt, _, iterations = self._span()
        return dt / iterations if iterations > 0 else 0.0


@dataclass
class ProgressState:
    """The latest numbers the display shows."""

    iteration: int = 0
    env_steps: int = 0
    mean_return: float = math.nan
    mean_length: float = math.nan
    updated_at: float | None = None
    """Clock time of the last update (None before the first iteration)."""
    eta_s: float | None = None
    """ETA at ``updated_at``."""


class ProgressDisplay:
    """The banner and the per-iteration progress of a run, as a live rich display or as plain lines.

    Args:
        mode: one of :data:`CONSOLE_MODES`.
        budget: the run's limits (for the share done and the ETA).
        env_steps: env steps at the start of this session (non-zero when resuming).
        iteration: learner iterations at the start of this session.
        stream: where to print (default: ``sys.stdout`` at each write).
        clock: monotonic clock in seconds (tests pass a fake one).

    """

    def __init__(
        self,
        mode: str,
        budget: Budget,
        env_steps: int = 0,
        iteration: int = 0,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        """Decide live vs plain output; nothing is printed yet."""
        if mode not in CONSOLE_MODES:
            raise ValueError(f"console mode {mode!r} is invalid: must be one of {', '.join(CONSOLE_MODES)}")
        self.mode = mode
        self.budget = budget
        self.clock = clock
        self._stream = stream
        self.state = ProgressState(iteration=iteration, env_steps=env_steps)
        self.rates = RateWindow()
        self._t0 = clock()
        self.rates.start(self._t0, env_steps, iteration)
        self._console = None
        self._live = None
        self._redirected: list[tuple[logging.StreamHandler, Any]] = []
        self.live = False
        if mode in ("auto", "progress"):
            from rich.console import Console

            console = Console(file=stream, force_terminal=True if mode == "progress" else None, highlight=False)
            self.live = mode == "progress" or (console.is_terminal and not console.is_dumb_terminal)
            if self.live:
                self._console = console

    # ---- numbers -------------------------------------------------------------------------------------------
    @property
    def elapsed_s(self) -> float:
        """Seconds since the display was created (the session's start)."""
        return self.clock() - self._t0

    def update(self, iteration: int, env_steps: int, mean_return: float, mean_length: float) -> None:
        """Record the state after a logged iteration (recomputes rates and ETA)."""
        now = self.clock()
        self.rates.add(now, env_steps, iteration)
        s = self.state
        s.iteration, s.env_steps, s.mean_return, s.mean_length, s.updated_at = (
            iteration,
            env_steps,
            mean_return,
            mean_length,
            now,
        )
        s.eta_s = eta_seconds(
            self.budget, env_steps, iteration, now - self._t0, self.rates.steps_per_s(), self.rates.s_per_iteration()
        )
        if self._live is not None:
            self._live.refresh()

    def eta_now(self) -> float | None:
        """The ETA counted down since the last update."""
        s = self.state
        if s.eta_s is None or s.updated_at is None:
            return None
        return max(0.0, s.eta_s - (self.clock() - s.updated_at))

    def fraction(self) -> float | None:
        """Share of the budget done."""
        return self.budget.fraction(self.state.env_steps, self.state.iteration, self.elapsed_s)

    def suffix(self) -> str:
        """What plain lines append: `` | 45% of 1,000,000 env steps | ETA 0:00:25`` (empty without a budget)."""
        fraction = self.fraction()
        if fraction is None:
            return ""
        return f" | {fraction:4.0%} of {self.budget.describe()} | ETA {format_duration(self.state.eta_s)}"

    # ---- output --------------------------------------------------------------------------------------------
    def _print(self, text: str) -> None:
        stream = self._stream or sys.stdout
        print(text, file=stream, flush=True)

    def banner(self, title: str, rows: list[tuple[str, str]]) -> None:
        """Print the start banner: a title and ``label  value`` rows."""
        if self.mode == "none":
            return
        width = max((len(label) for label, _ in rows), default=0)
        if self._console is not None:
            from rich.table import Table

            table = Table.grid(padding=(0, 2))
            table.add_column(style="bold cyan", no_wrap=True)
            table.add_column(overflow="fold")
            for label, value in rows:
                table.add_row(label, value)
            self._console.print(f"[bold]{title}[/bold]")
            self._console.print(table)
        else:
            self._print(title)
            for label, value in rows:
                self._print(f"  {label:<{width}}  {value}")

    def start(self) -> None:
        """Start the live display (live mode only; plain modes print per update)."""
        if self._console is None or self._live is not None:
            return
        from rich.live import Live

        self._live = Live(
            console=self._console,
            get_renderable=self._render,
            refresh_per_second=4,
            redirect_stdout=True,
            redirect_stderr=True,
        )
        self._live.start()
        self._redirect_log_handlers()

    def line(self, text: str) -> None:
        """A per-iteration progress line: printed (with the budget suffix) unless the display is live or off."""
        if self.mode == "none" or self._live is not None:
            return
        self._print(text + self.suffix())

    def message(self, text: str) -> None:
        """Print a line above the live display (or plainly)."""
        if self.mode == "none":
            return
        if self._live is not None:
            self._live.console.print(text, markup=False, highlight=False)
        else:
            self._print(text)

    def stop(self) -> None:
        """Stop the live display, leaving its last state on screen."""
        if self._live is None:
            return
        self._restore_log_handlers()
        try:
            self._live.stop()
        finally:
            self._live = None

    # ---- rich ----------------------------------------------------------------------------------------------
    def _render(self) -> Any:
        """Two lines: ``<bar> 45% 450,560/1,000,000 steps  22.1k steps/s  ETA 0:00:25`` and the episode stats."""
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.text import Text

        s = self.state
        fraction = self.fraction()
        elapsed = format_duration(self.elapsed_s)
        if s.updated_at is None:
            head = Text(f"starting: waiting for the first rollouts  elapsed {elapsed}", style="dim")
            return self._row(ProgressBar(total=None, pulse=True), head)
        steps = f"{s.env_steps:,d}" + (f"/{self.budget.max_env_steps:,d}" if self.budget.max_env_steps else "")
        head = Text.assemble(
            (f"{fraction:4.0%} " if fraction is not None else "", "bold"),
            f"{steps} steps  ",
            (f"{format_rate(self.rates.steps_per_s())} steps/s", "cyan"),
            "  ETA ",
            (format_duration(self.eta_now()), "bold green"),
        )
        bar = ProgressBar(
            total=1.0 if fraction is not None else None, completed=fraction or 0.0, pulse=fraction is None
        )
        tail = Text(
            f"it {s.iteration:,d}  return {format_mean(s.mean_return, '.2f')}  "
            f"episode length {format_mean(s.mean_length, '.1f')}  elapsed {elapsed}",
            no_wrap=True,
            overflow="ellipsis",
        )
        return Group(self._row(bar, head), tail)

    def _row(self, bar: Any, text: Any) -> Any:
        """The bar and ``text`` on one line; the bar takes what the text leaves (10 to 40 columns)."""
        from rich.table import Table

        width = self._console.width if self._console is not None else 80
        bar.width = max(10, min(40, width - len(text) - 1))
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=bar.width, no_wrap=True)
        grid.add_column(no_wrap=True, overflow="ellipsis")
        grid.add_row(bar, text)
        return grid

    def _redirect_log_handlers(self) -> None:
        """Point logging's console handlers at the live display's proxies so records print above the display."""
        targets = {id(sys.__stdout__), id(sys.__stderr__)}
        loggers = [logging.getLogger()] + [
            lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
        ]
        for lg in loggers:
            for handler in lg.handlers:
                if type(handler) is logging.StreamHandler and id(handler.stream) in targets:
                    proxy = sys.stderr if handler.stream is sys.__stderr__ else sys.stdout
                    self._redirected.append((handler, handler.setStream(proxy)))

    def _restore_log_handlers(self) -> None:
        for handler, stream in self._redirected:
            handler.setStream(stream)
        self._redirected.clear()
