"""curves.png from metrics.jsonl (a valid PNG; resumed runs drawn from the start); without matplotlib: one warning."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest
from isaac_hydra_ext.utils.curves import main_metric, plot_curves, read_metrics
from isaac_hydra_ext.utils.run_logger import RunLogger
from watch_helpers import png_size


def write_run(run_dir: Path, rows: list[dict], resumed_from: str | None = None) -> None:
    run_dir.mkdir(parents=True)
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (run_dir / "summary.json").write_text(json.dumps({"resumed_from": resumed_from}))


def rows(steps: range, with_metric: bool = True) -> list[dict]:
    out = []
    for s in steps:
        r = {
            "env_steps": s,
            "wall_time_s": s / 100.0,
            "train/mean_return": s / 1000.0,
            "train/mean_episode_length": 500.0,
        }
        if with_metric:
            r["Metrics/base_velocity/error_vel_xy"] = 1.0 / (1 + s)
        out.append(r)
    return out


def test_plot_writes_a_png_with_three_rows_for_the_go1_metric(tmp_path):
    run = tmp_path / "run"
    write_run(run, rows(range(0, 100_000, 1000)))
    path = plot_curves(str(run), title="Go1")
    assert path == str(run / "curves.png")
    width, height = png_size(run / "curves.png")
    assert (width, height) == (1100, 920)  # figsize (11, 2.8 per row + 0.8) at 100 dpi: 3 rows
    assert not list(run.glob("*.tmp*"))


def test_without_a_task_metric_two_rows(tmp_path):
    run = tmp_path / "run"
    write_run(run, rows(range(0, 5000, 1000), with_metric=False))
    plot_curves(str(run))
    assert png_size(run / "curves.png") == (1100, 640)  # 2 rows


def test_main_metric_choice():
    data = [{"env_steps": 1, "Metrics/zz": 1.0, "Metrics/base_velocity/error_vel_yaw": 2.0}]
    assert main_metric(data) == "Metrics/base_velocity/error_vel_yaw"
    assert main_metric([{"env_steps": 1, "Metrics/zz": 1.0, "Metrics/aa": 1.0}]) == "Metrics/aa"
    assert main_metric(data, preferred="Metrics/zz") == "Metrics/zz"
    assert main_metric([{"env_steps": 1}]) is None


def test_resumed_runs_are_drawn_from_the_start(tmp_path):
    first, second, third = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write_run(first, rows(range(0, 10)))  # steps 0..9; the next run resumed from a checkpoint at step 6
    write_run(second, rows(range(7, 15)), resumed_from=str(first / "model_6.pt"))
    write_run(third, rows(range(12, 20)), resumed_from=str(second / "model_11.pt"))
    assert [r["env_steps"] for r in read_metrics(str(third))] == list(range(0, 20))


def test_missing_matplotlib_skips_curves_with_one_warning_and_the_run_goes_on(tmp_path, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    logger = RunLogger(str(tmp_path), tensorboard=False, console="none")
    logger.scalars({"train/mean_return": 1.0, "train/iteration": 1.0}, step=100, wall_time_s=1.0)
    logger.summary({"status": "finished"})
    with caplog.at_level(logging.WARNING):
        logger.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "curves.png skipped" in warnings[0] and "isaac_hydra_ext[plots]" in warnings[0]
    assert "curves" not in json.loads((tmp_path / "summary.json").read_text())
    assert not (tmp_path / "curves.png").exists()


def test_no_rows_no_curves_and_no_error(tmp_path):
    logger = RunLogger(str(tmp_path), tensorboard=False, console="none")
    logger.summary({"status": "interrupted"})
    logger.close()  # a run stopped before its first iteration
    assert not (tmp_path / "curves.png").exists()
    with pytest.raises(ValueError, match="no rows"):
        plot_curves(str(tmp_path))
