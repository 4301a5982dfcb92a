"""Checkpoints are written atomically and bad files are refused with a clear message, running no code."""

import os
import pickle
import subprocess
import sys

import pytest
import torch
from isaac_hydra_ext.utils.checkpoint import (
    CheckpointError,
    check_compatible,
    find_latest_checkpoint,
    load_checkpoint,
    prune_checkpoints,
    save_checkpoint,
)

SPEC = {"obs_dim": 3, "act_dim": 1, "critic_obs_dim": 0}
MODEL = {"actor_hidden_dims": [64, 64], "critic_hidden_dims": [64, 64], "activation": "elu", "obs_normalization": True}


def _state(**kw):
    return {"model": {"w": torch.ones(3)}, "iteration": 7, "env_steps": 700, "env_spec": SPEC, "model_cfg": MODEL, **kw}


def test_roundtrip(tmp_path):
    path = tmp_path / "model_7.pt"
    save_checkpoint(str(path), _state())
    state = load_checkpoint(str(path))
    assert state["iteration"] == 7 and torch.equal(state["model"]["w"], torch.ones(3))
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp_")]


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / "model_1.pt"
    save_checkpoint(str(path), _state())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_checkpoint(str(path))


def test_random_bytes_are_refused(tmp_path):
    path = tmp_path / "model_1.pt"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(CheckpointError, match=r"model_1.pt"):
        load_checkpoint(str(path))


class _Evil:
    def __reduce__(self):
        return (os.system, (f"touch {_Evil.marker}",))


def test_pickle_that_would_run_code_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    _Evil.marker = marker
    path = tmp_path / "model_1.pt"
    torch.save({"format": "isaac_hydra_ext.appo", "payload": _Evil()}, path)
    with pytest.raises(CheckpointError, match="would need to run code"):
        load_checkpoint(str(path))
    assert not marker.exists()
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps(_Evil()))
    with pytest.raises(CheckpointError):
        load_checkpoint(str(raw))
    assert not marker.exists()


def test_foreign_files_are_refused(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"model_state_dict": {}, "iter": 3}, path)  # an rsl_rl checkpoint, say
    with pytest.raises(CheckpointError, match="not an isaac_hydra_ext APPO checkpoint"):
        load_checkpoint(str(path))
    save_checkpoint(str(path), _state())
    blob = torch.load(path, weights_only=True)
    blob["format_version"] = 99
    torch.save(blob, path)
    with pytest.raises(CheckpointError, match="format_version 99"):
        load_checkpoint(str(path))


def test_checkpoint_from_another_network_shape_is_refused(tmp_path):
    state = _state()
    other = dict(MODEL, actor_hidden_dims=[256, 128])
    with pytest.raises(CheckpointError, match=r"ppo.actor_hidden_dims: checkpoint \[64, 64\], this run \[256, 128\]"):
        check_compatible("x.pt", state, SPEC, other)
    with pytest.raises(CheckpointError, match="env obs_dim: checkpoint 3, this run 48"):
        check_compatible("x.pt", state, dict(SPEC, obs_dim=48), MODEL)
    check_compatible("x.pt", state, SPEC, dict(MODEL, actor_hidden_dims=(64, 64)))  # tuple == list


def _make_read_only(path) -> list[str]:
    """Make a directory unwritable; returns the command that undoes it. Root ignores mode bits, so as root the
    directory is made immutable (chattr +i), which binds root too."""
    if os.geteuid() != 0:
        os.chmod(path, 0o555)
        return ["chmod", "755", str(path)]
    res = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot make a directory read-only for root here: {res.stderr.strip()}")
    return ["chattr", "-i", str(path)]


def test_failed_write_to_read_only_dir_keeps_previous_checkpoint(tmp_path):
    ckpt_dir = tmp_path / "ro"
    ckpt_dir.mkdir()
    path = ckpt_dir / "model_1.pt"
    save_checkpoint(str(path), _state())
    undo = _make_read_only(ckpt_dir)
    try:
        with pytest.raises(CheckpointError, match="could not write checkpoint"):
            save_checkpoint(str(path), _state(iteration=8))
    finally:
        subprocess.run(undo, check=True)
    assert load_checkpoint(str(path))["iteration"] == 7
    assert os.listdir(ckpt_dir) == ["model_1.pt"]


def test_failed_write_under_file_size_limit_keeps_previous_checkpoint(tmp_path):
    # A full disk, simulated by RLIMIT_FSIZE in a child process: the write fails, the old file stays intact.
    path = tmp_path / "model_1.pt"
    save_checkpoint(str(path), _state())
    code = f"""
import resource, signal, torch
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
from isaac_hydra_ext.utils.checkpoint import save_checkpoint, CheckpointError
try:
    save_checkpoint({str(path)!r}, {{"model": {{"w": torch.ones(100000)}}, "iteration": 9, "env_steps": 1,
                    "env_spec": {{}}, "model_cfg": {{}}}})
except CheckpointError as e:
    print("REFUSED", e)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "REFUSED could not write checkpoint" in res.stdout, res.stderr
    assert load_checkpoint(str(path))["iteration"] == 7
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp_")]


def test_latest_and_pruning(tmp_path):
    exp = tmp_path / "exp"
    for run, its in (("2026-01-01_00-00-00", [5, 10]), ("2026-01-02_00-00-00", [50, 100, 150]), ("2026-01-03_x", [])):
        (exp / run).mkdir(parents=True)
        for it in its:
            save_checkpoint(str(exp / run / f"model_{it}.pt"), _state(iteration=it))
    assert find_latest_checkpoint(str(exp)).endswith("2026-01-02_00-00-00/model_150.pt")
    assert find_latest_checkpoint(str(exp), exclude_dir=str(exp / "2026-01-02_00-00-00")).endswith("model_10.pt")
    prune_checkpoints(str(exp / "2026-01-02_00-00-00"), keep_last=2)
    assert sorted(os.listdir(exp / "2026-01-02_00-00-00")) == ["model_100.pt", "model_150.pt"]
    assert find_latest_checkpoint(str(tmp_path / "missing")) is None
