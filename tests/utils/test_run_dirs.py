"""Run directories are made exclusively and stay inside output_dir; checkpoints are found by time written."""

import datetime
import multiprocessing
import os

import pytest
import torch
from isaac_hydra_ext.utils.checkpoint import CheckpointError, prune_checkpoints, save_checkpoint
from isaac_hydra_ext.utils.run_dirs import (
    TIMESTAMP_FORMAT,
    RunDirError,
    create_run_dir,
    latest_checkpoint,
    remove_unused_run_dir,
    resolve_checkpoint,
    validate_name,
)

NOW = datetime.datetime(2026, 1, 2, 3, 4, 5)
STAMP = "2026-01-02_03-04-05"


def _save(run_dir, it, mtime_s=None):
    os.makedirs(run_dir, exist_ok=True)
    path = os.path.join(run_dir, f"model_{it}.pt")
    save_checkpoint(
        path,
        {
            "model": {"w": torch.ones(1)},
            "iteration": it,
            "env_steps": it,
            "model_cfg": {},
            "env_spec": {"obs_dim": 1, "act_dim": 1},
        },
    )
    if mtime_s is not None:
        os.utime(path, ns=(mtime_s * 10**9, mtime_s * 10**9))
    return path


# ---- layout ------------------------------------------------------------------------------------------------------
def test_layout_is_output_dir_name_timestamp_and_run_name(tmp_path):
    assert NOW.strftime(TIMESTAMP_FORMAT) == STAMP
    path = create_run_dir(str(tmp_path / "logs"), "go1", now=NOW)
    assert path == str(tmp_path / "logs" / "go1" / STAMP) and os.path.isdir(path)
    named = create_run_dir(str(tmp_path / "logs"), "go1", run_name="seed1", now=NOW)
    assert named == str(tmp_path / "logs" / "go1" / f"{STAMP}_seed1")


def test_relative_output_dir_gives_an_absolute_run_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert create_run_dir("logs", "go1", now=NOW) == str(tmp_path / "logs" / "go1" / STAMP)


def test_same_second_gets_a_suffix_and_never_reuses_a_directory(tmp_path):
    paths = [create_run_dir(str(tmp_path), "exp", now=NOW) for _ in range(3)]
    assert [os.path.basename(p) for p in paths] == [STAMP, f"{STAMP}_1", f"{STAMP}_2"]
    (tmp_path / "exp" / f"{STAMP}_3").write_text("a file, not a run")  # a taken name is skipped whatever it is
    assert os.path.basename(create_run_dir(str(tmp_path), "exp", now=NOW)) == f"{STAMP}_4"


def _create_in_child(output_dir, barrier, results):
    barrier.wait()  # all start together, at the same fixed timestamp
    results.put(create_run_dir(output_dir, "exp", now=NOW))


def test_concurrent_processes_at_the_same_timestamp_get_distinct_directories(tmp_path):
    # fork when available: spawn would re-import torch in each of the 8 children (slow); they only call os.mkdir
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    barrier, results = ctx.Barrier(8), ctx.Queue()
    procs = [ctx.Process(target=_create_in_child, args=(str(tmp_path), barrier, results)) for _ in range(8)]
    for p in procs:
        p.start()
    paths = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert len(set(paths)) == 8
    assert sorted(os.listdir(tmp_path / "exp")) == sorted([STAMP] + [f"{STAMP}_{i}" for i in range(1, 8)])


# ---- names -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../escaped", "/abs", "x\0y"])
def test_names_that_would_escape_output_dir_are_refused(tmp_path, name):
    output_dir = tmp_path / "out"
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(RunDirError) as info:
        create_run_dir(str(output_dir), name, now=NOW)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert message.startswith(f"experiment.name={name!r} is not a valid directory name (") and "\n" not in message
    assert sorted(os.listdir(tmp_path)) == before  # nothing created, inside or outside output_dir


@pytest.mark.parametrize("run_name", ["..", "a/b", "."])
def test_bad_run_names_are_refused(tmp_path, run_name):
    with pytest.raises(RunDirError, match=r"^run_name="):
        create_run_dir(str(tmp_path), "exp", run_name=run_name, now=NOW)
    assert not (tmp_path / "exp").exists()


def test_validate_name_returns_good_names():
    assert validate_name("exp_[64,64]") == "exp_[64,64]"
    assert validate_name("", "run_name", allow_empty=True) == ""


def test_names_with_glob_metacharacters_work_end_to_end(tmp_path):
    output_dir = str(tmp_path / "out[1]*?")
    run_dir = create_run_dir(output_dir, "exp_[64,64]", now=NOW)
    for it in (1, 2, 3):
        _save(run_dir, it, mtime_s=1_700_000_000 + it)
    prune_checkpoints(run_dir, keep_last=2)
    assert sorted(os.listdir(run_dir)) == ["model_2.pt", "model_3.pt"]
    assert resolve_checkpoint("latest", output_dir, "exp_[64,64]") == os.path.join(run_dir, "model_3.pt")


# ---- removing a run directory that was never used ----------------------------------------------------------------
def test_unused_run_dir_and_its_empty_experiment_dir_are_removed(tmp_path):
    run_dir = create_run_dir(str(tmp_path), "exp", now=NOW)
    os.makedirs(os.path.join(run_dir, ".hydra"))
    for rel in ("config.yaml", os.path.join(".hydra", "config.yaml")):
        with open(os.path.join(run_dir, rel), "w") as f:
            f.write("x: 1\n")
    assert remove_unused_run_dir(run_dir, written=["config.yaml", ".hydra/config.yaml"])
    assert os.listdir(tmp_path) == []  # no run directory and no empty experiment directory left behind
    assert remove_unused_run_dir(run_dir)  # already gone: fine


def test_empty_run_dir_is_removed_but_other_runs_are_kept(tmp_path):
    other = create_run_dir(str(tmp_path), "exp", now=NOW)
    _save(other, 1)
    run_dir = create_run_dir(str(tmp_path), "exp", now=NOW)
    assert remove_unused_run_dir(run_dir)
    assert os.listdir(tmp_path / "exp") == [STAMP] and os.listdir(other) == ["model_1.pt"]


@pytest.mark.parametrize("foreign", ["model_1.pt", "notes.txt", os.path.join("sub", "x")])
def test_run_dir_with_anything_else_is_left_untouched(tmp_path, foreign):
    run_dir = create_run_dir(str(tmp_path), "exp", now=NOW)
    with open(os.path.join(run_dir, "config.yaml"), "w") as f:
        f.write("x: 1\n")
    os.makedirs(os.path.dirname(os.path.join(run_dir, foreign)), exist_ok=True)
    with open(os.path.join(run_dir, foreign), "w") as f:
        f.write("keep me")
    assert not remove_unused_run_dir(run_dir, written=["config.yaml"])
    assert os.path.isfile(os.path.join(run_dir, "config.yaml"))  # nothing deleted, not even our own file
    with open(os.path.join(run_dir, foreign)) as f:
        assert f.read() == "keep me"


# ---- resolving a checkpoint value ----------------------------------------------------------------------------------
def test_empty_spec_means_no_checkpoint(tmp_path):
    assert resolve_checkpoint("", str(tmp_path), "exp") is None
    assert resolve_checkpoint(None, str(tmp_path), "exp") is None


def test_file_spec_is_made_absolute(tmp_path, monkeypatch):
    path = _save(str(tmp_path / "run"), 4)
    monkeypatch.chdir(tmp_path)
    assert resolve_checkpoint(os.path.join("run", "model_4.pt"), "unused", "exp") == path


def test_missing_file_is_a_clear_error(tmp_path):
    missing = str(tmp_path / "nope" / "model_3.pt")
    with pytest.raises(CheckpointError, match=rf"^checkpoint {missing} does not exist \(checkpoint.resume="):
        resolve_checkpoint(missing, str(tmp_path), "exp", option="checkpoint.resume")


def test_directory_spec_gives_its_newest_checkpoint(tmp_path):
    # Regression: a run directory was reported as "does not exist"; now it means its newest checkpoint.
    run_dir = str(tmp_path / "exp" / STAMP)
    _save(run_dir, 50, mtime_s=1_700_000_050)
    _save(run_dir, 100, mtime_s=1_700_000_100)
    assert resolve_checkpoint(run_dir, str(tmp_path), "exp") == os.path.join(run_dir, "model_100.pt")
    assert resolve_checkpoint(run_dir + os.sep, str(tmp_path), "exp") == os.path.join(run_dir, "model_100.pt")


def test_directory_without_checkpoints_is_a_clear_error(tmp_path):
    run_dir = tmp_path / "exp" / STAMP
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text("x: 1\n")
    with pytest.raises(CheckpointError, match=rf"^checkpoint={run_dir}: the directory {run_dir} holds no model_"):
        resolve_checkpoint(str(run_dir), str(tmp_path), "exp")


def test_latest_is_the_newest_written_whatever_the_directory_names(tmp_path):
    exp = tmp_path / "exp"
    _save(str(exp / "multirun_2026-01-01_00-00-00" / "0"), 900, mtime_s=1_700_000_000)  # old sweep, high iteration
    _save(str(exp / "2026-02-01_00-00-00"), 7, mtime_s=1_700_000_500)
    newest = _save(str(exp / "2026-01-15_00-00-00_resumed"), 3, mtime_s=1_700_000_900)  # name sorts in the middle
    assert resolve_checkpoint("latest", str(tmp_path), "exp") == newest
    sweep_job = _save(str(exp / "multirun_2026-03-01_00-00-00" / "11"), 1, mtime_s=1_700_001_000)
    assert resolve_checkpoint("latest", str(tmp_path), "exp") == sweep_job
    assert latest_checkpoint(str(exp)) == sweep_job


def test_latest_breaks_time_ties_by_iteration(tmp_path):
    exp = tmp_path / "exp"
    _save(str(exp / "a"), 20, mtime_s=1_700_000_000)
    high = _save(str(exp / "b"), 30, mtime_s=1_700_000_000)
    _save(str(exp / "c"), 10, mtime_s=1_700_000_000)
    assert resolve_checkpoint("latest", str(tmp_path), "exp") == high


def test_latest_skips_the_excluded_run(tmp_path):
    exp = tmp_path / "exp"
    older = _save(str(exp / "2026-01-01_00-00-00"), 5, mtime_s=1_700_000_000)
    _save(str(exp / "2026-01-02_00-00-00"), 9, mtime_s=1_700_000_100)
    assert resolve_checkpoint("latest", str(tmp_path), "exp", exclude_dir=str(exp / "2026-01-02_00-00-00")) == older


def test_latest_with_nothing_names_the_directory_searched(tmp_path):
    exp = tmp_path / "exp"
    with pytest.raises(
        CheckpointError,
        match=rf"^checkpoint.resume=latest: no model_<iteration>.pt under {exp} "
        r"\(the directory does not exist\)",
    ):
        resolve_checkpoint("latest", str(tmp_path), "exp", option="checkpoint.resume")
    (exp / STAMP).mkdir(parents=True)
    with pytest.raises(CheckpointError, match=rf"^checkpoint=latest: no model_<iteration>.pt under {exp}; train"):
        resolve_checkpoint("latest", str(tmp_path), "exp")


def test_latest_refuses_a_name_that_escapes_output_dir(tmp_path):
    _save(str(tmp_path / "elsewhere"), 1)
    with pytest.raises(RunDirError, match=r"^experiment.name='\.\.' is not a valid directory name"):
        resolve_checkpoint("latest", str(tmp_path / "out"), "..")
