"""``<run>/curves.png``: the learning curves of a run, drawn from its ``metrics.jsonl`` at the end of the run.

Rows: mean return, mean episode length and the task's main metric (the Go1's velocity-tracking error; set
``logging.curves_metric`` for another key of ``metrics.jsonl``); columns: against env steps and against wall time.
A resumed run's picture starts at the beginning: the runs it resumed from (``summary.json``'s ``resumed_from``,
followed back) contribute their rows up to the resume point. Needs matplotlib (``pip install
'isaac_hydra_ext[plots]'``), imported only here.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

MAIN_METRICS: dict[str, str] = {
    "Metrics/base_velocity/error_vel_xy": "velocity tracking error xy (m/s)",
    "Metrics/base_velocity/error_vel_yaw": "yaw-rate tracking error (rad/s)",
}
"""Preferred main metrics, first match wins, with their axis labels (the Go1 task's tracking errors first)."""

INSTALL_HINT = "pip install 'isaac_hydra_ext[plots]' (or pip install matplotlib)"


def _read_jsonl(path: str) -> list[dict[str, Any]]:
    rows = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    rows.append(json.loads(line))
                except ValueError:  # a line cut by a crash
                    continue
    except OSError:
        return []
    return [r for r in rows if isinstance(r, dict) and "env_steps" in r]


def read_metrics(run_dir: str, resumed_from: str | None = None, max_hops: int = 50) -> list[dict[str, Any]]:
    """The rows of ``<run_dir>/metrics.jsonl``, preceded by those of the runs it resumed from.

    ``resumed_from`` is the checkpoint this run started from (None: read ``<run_dir>/summary.json``). Rows of an
    earlier run are kept up to the first env step of the later one.
    """
    rows = _read_jsonl(os.path.join(run_dir, "metrics.jsonl"))
    if resumed_from is None:
        resumed_from = _resumed_from(run_dir)
    seen = {os.path.abspath(run_dir)}
    for _ in range(max_hops):
        if not resumed_from:
            break
        previous = os.path.dirname(os.path.abspath(resumed_from))
        if previous in seen:
            break
        seen.add(previous)
        first = rows[0]["env_steps"] if rows else math.inf
        rows = [r for r in _read_jsonl(os.path.join(previous, "metrics.jsonl")) if r["env_steps"] < first] + rows
        resumed_from = _resumed_from(previous)
    return rows


def _resumed_from(run_dir: str) -> str | None:
    try:
        with open(os.path.join(run_dir, "summary.json")) as f:
            return json.load(f).get("resumed_from")
    except (OSError, ValueError):
        return None


def main_metric(rows: list[dict[str, Any]], preferred: str = "") -> str | None:
    """The key to plot as the task's main metric (None when there is none).

    ``preferred`` if set, else the first of :data:`MAIN_METRICS` present in ``rows``, else the first
    ``Metrics/...`` key.
    """
    keys = {k for r in rows for k in r}
    if preferred:
        return preferred if preferred in keys else None
    for key in MAIN_METRICS:
        if key in keys:
            return key
    others = sorted(k for k in keys if k.startswith("Metrics/"))
    return others[0] if others else None


def _series(rows: list[dict[str, Any]], key: str) -> tuple[list[float], list[float], list[float]]:
    steps, walls, values = [], [], []
    for r in rows:
        v = r.get(key)
        if isinstance(v, (int, float)) and math.isfinite(v):
            steps.append(float(r["env_steps"]))
            walls.append(float(r.get("wall_time_s", math.nan)))
            values.append(float(v))
    return steps, walls, values


def plot_curves(
    run_dir: str, path: str | None = None, metric: str = "", title: str = "", resumed_from: str | None = None
) -> str:
    """Draw the run's curves to ``path`` (default ``<run_dir>/curves.png``) and return the path.

    Raises:
        ImportError: matplotlib is not installed (the message says how to install it).
        ValueError: ``metrics.jsonl`` has no rows yet.

    """
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(f"matplotlib is not installed ({exc}): {INSTALL_HINT}") from None
    rows = read_metrics(run_dir, resumed_from)
    if not rows:
        raise ValueError(f"no rows in {os.path.join(run_dir, 'metrics.jsonl')} (the run logged no iteration)")
    panels = [("train/mean_return", "mean return"), ("train/mean_episode_length", "mean episode length")]
    key = main_metric(rows, metric)
    if key is not None:
        panels.append((key, MAIN_METRICS.get(key, key)))
    walls = [float(r.get("wall_time_s", 0.0)) for r in rows]
    max_steps = max(float(r["env_steps"]) for r in rows)
    longest = max(walls, default=0.0)
    wall_scale, wall_unit = (3600.0, "h") if longest > 2 * 3600 else (60.0, "min") if longest > 120 else (1.0, "s")

    fig = Figure(figsize=(11, 2.8 * len(panels) + 0.8), layout="constrained")
    axes = fig.subplots(len(panels), 2, squeeze=False)
    for row, (series, label) in enumerate(panels):
        steps, wall, values = _series(rows, series)
        left, right = axes[row]
        marker = "o" if len(values) <= 50 else None
        left.plot(steps, values, color="tab:blue", linewidth=1.4, marker=marker, markersize=3)
        right.plot(
            [w / wall_scale for w in wall], values, color="tab:orange", linewidth=1.4, marker=marker, markersize=3
        )
        left.set_xlim(0, max_steps * 1.02)
        right.set_xlim(0, max(walls) / wall_scale * 1.02 or 1.0)
        for ax in (left, right):
            ax.set_ylabel(label)
            ax.grid(True, alpha=0.3)
            if not values:
                ax.text(0.5, 0.5, "no finished episode yet", ha="center", va="center", transform=ax.transAxes)
        if row == len(panels) - 1:
            left.set_xlabel("env steps")
            right.set_xlabel(f"wall time ({wall_unit})")
    last = rows[-1]
    ret = last.get("train/mean_return")
    headline = f"{last['env_steps']:,d} env steps in {walls[-1] / wall_scale:.1f} {wall_unit}"
    if isinstance(ret, (int, float)) and math.isfinite(ret):
        headline += f", mean return {ret:.2f}"
    fig.suptitle(f"{title or os.path.basename(os.path.normpath(run_dir))}: {headline}")
    path = path or os.path.join(run_dir, "curves.png")
    tmp = f"{path}.tmp.png"
    fig.savefig(tmp, dpi=100)
    os.replace(tmp, path)
    return path
