"""Run directories and ``latest`` through the real CLI (issue 17's data-loss cases).

* Two runs of one name started in the same second shared a run directory (per-second timestamp, ``exist_ok``):
  checkpoints overwritten, config.yaml of the other run, interleaved metrics. Every run now gets a fresh directory.
* ``checkpoint.resume=latest`` ordered directories by name, so an older ``-m`` sweep (``multirun_...``) beat every
  newer single run. It is now the newest checkpoint of the experiment by time written.
* Brackets in ``experiment.name`` or ``output_dir`` went unescaped into glob: pruning silently stopped (``keep_last``
  ignored) and ``latest`` found nothing.
"""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import sys
import time

from conftest import cli_env
from fault_cli import SMALL, output, read_summary, run, run_dirs, start

BASE = ["env=gym_pendulum", *SMALL, "experiment.name=exp"]


def test_runs_started_in_the_same_second_as_another_never_share_its_directory(tmp_path):
    # Another run's directory exists for every second of the next few minutes (as if a job array had started them
    # all at once), and two runs start together now: each must get a directory of its own.
    exp = tmp_path / "runs" / "exp"
    now = datetime.datetime.now()
    taken = []
    for s in range(-2, 300):
        d = exp / (now + datetime.timedelta(seconds=s)).strftime("%Y-%m-%d_%H-%M-%S")
        d.mkdir(parents=True, exist_ok=True)
        (d / "other_run.txt").write_text("another run's files")
        taken.append(d)
    procs = []
    for i in range(2):
        (tmp_path / str(i)).mkdir()
        procs.append(
            start(
                tmp_path / str(i),
                [
                    *BASE,
                    f"experiment.output_dir={tmp_path / 'runs'}",
                    "experiment.max_iterations=2",
                    f"experiment.seed={i + 1}",
                ],
            )
        )
    for i, proc in enumerate(procs):
        proc.wait(timeout=300)
        assert proc.returncode == 0, output(tmp_path / str(i))[1][-3000:]
    for d in taken:  # nothing of ours in another run's directory
        assert sorted(p.name for p in d.iterdir()) == ["other_run.txt"], d
    mine = sorted({p.parent for p in exp.rglob("config.yaml")})
    assert len(mine) == 2 and all(d.name.rsplit("_", 1)[1].isdigit() for d in mine), mine  # suffixed: _1, _2, ...
    seeds = sorted(
        next(
            ln.split(":")[1].strip()
            for ln in (d / "config.yaml").read_text().splitlines()
            if ln.strip().startswith("seed:")
        )
        for d in mine
    )
    assert seeds == ["1", "2"]  # each directory describes its own run
    for d in mine:
        assert read_summary(d)["run_dir"] == str(d) and (d / "model_2.pt").exists()


def test_latest_is_the_newest_checkpoint_not_the_last_directory_name(tmp_path):
    code, _, err = run(tmp_path, [*BASE, "experiment.max_iterations=2"])
    assert code == 0, err[-3000:]
    (single,) = run_dirs(tmp_path)
    # An older sweep job's directory, laid out as Hydra's -m wrote it (<name>/multirun_<timestamp>/<job>/; this
    # version puts sweep jobs next to single runs, but old sweeps stay on disk), with a checkpoint written an hour
    # before the single run's.
    sweep_run = single.parent / f"multirun_{single.name}" / "0"
    sweep_run.mkdir(parents=True)
    shutil.copy(single / "model_2.pt", sweep_run / "model_7.pt")
    shutil.copy(single / "config.yaml", sweep_run / "config.yaml")
    an_hour_ago = (single / "model_2.pt").stat().st_mtime - 3600
    os.utime(sweep_run / "model_7.pt", (an_hour_ago, an_hour_ago))
    assert single.name < sweep_run.parent.name  # by name the sweep sorts last: "2026-..." < "multirun_2026-..."
    time.sleep(1.1)
    code, _, err = run(tmp_path, [*BASE, "experiment.max_iterations=3", "checkpoint.resume=latest"])
    assert code == 0, err[-3000:]
    (resumed,) = [d for d in run_dirs(tmp_path) if d not in (sweep_run, single)]
    s = read_summary(resumed)
    assert s["resumed_from"] == str(single / "model_2.pt") and s["iterations"] == 3


def test_glob_characters_in_the_name_and_output_dir_keep_pruning_and_latest_working(tmp_path):
    # A name built from an override value, e.g. ppo.actor_hidden_dims=[64,64]; quoted as Hydra wants it.
    out_dir = tmp_path / "out[1]*"
    cmd = [
        sys.executable,
        "-m",
        "isaac_hydra_ext.appo_runner",
        "env=gym_pendulum",
        *SMALL,
        f"experiment.output_dir='{out_dir}'",
        "experiment.name='exp_[64,64]'",
        "checkpoint.every_iterations=1",
        "checkpoint.keep_last=2",
    ]
    res = subprocess.run(
        [*cmd, "experiment.max_iterations=5"], cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr[-3000:]
    (run_dir,) = sorted({p.parent for p in (out_dir / "exp_[64,64]").rglob("config.yaml")})
    assert sorted(p.name for p in run_dir.glob("model_*.pt")) == ["model_4.pt", "model_5.pt"]  # keep_last=2 held
    time.sleep(1.1)
    res = subprocess.run(
        [*cmd, "experiment.max_iterations=6", "checkpoint.resume=latest"],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    (resumed,) = sorted({p.parent for p in (out_dir / "exp_[64,64]").rglob("config.yaml")} - {run_dir})
    assert read_summary(resumed)["resumed_from"] == str(run_dir / "model_5.pt")
