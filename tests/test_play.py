"""``python -m isaac_hydra_ext.play``: replay a Go1 checkpoint, report tracking, film it, export the policy."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import cli_env, run_trainer
from isaac_hydra_ext.models.export import load_policy


@pytest.fixture(scope="module")
def go1_checkpoint(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("go1")
    res = run_trainer(["ppo.num_workers=1", "ppo.envs_per_worker=16", "experiment.max_iterations=2",
                       "logging.console=none"], tmp)
    assert res.returncode == 0, res.stderr[-2000:]
    return sorted((tmp / "runs").rglob("model_*.pt"))[-1]


def _play(args, cwd):
    return subprocess.run([sys.executable, "-m", "isaac_hydra_ext.play", *args], cwd=cwd, env=cli_env(),
                          capture_output=True, text=True, timeout=300)


def test_play_reports_tracking_and_exports(go1_checkpoint, tmp_path):
    res = _play([f"checkpoint={go1_checkpoint}", "steps=60", "num_envs=4", "video=false", "command=[0.3,0.0,0.2]"],
                tmp_path)
    assert res.returncode == 0, res.stderr
    assert "Sber-Velocity-Flat-Go1-MuJoCo-Play-v0" in res.stdout  # the -Play- twin of the trained env
    assert "tracking error: linear velocity" in res.stdout
    exported = go1_checkpoint.parent / "exported"
    scripted = torch.jit.load(str(exported / "policy.pt"))
    obs = torch.randn(3, 48)
    with torch.no_grad():
        assert torch.allclose(scripted(obs), load_policy(str(go1_checkpoint)).policy(obs), atol=1e-6)


def test_play_writes_a_video_or_says_which_package_is_missing(go1_checkpoint, tmp_path):
    video = tmp_path / "clip.mp4"
    res = _play([f"checkpoint={go1_checkpoint}", "steps=25", "num_envs=2", f"video_path={video}", "export=false"],
                tmp_path)
    if res.returncode == 3:  # no offscreen OpenGL on this machine: the message must say what to install
        assert "EGL" in res.stderr or "OSMesa" in res.stderr, res.stderr
        pytest.skip(f"no offscreen OpenGL here: {res.stderr.strip().splitlines()[0]}")
    assert res.returncode == 0, res.stderr
    assert video.stat().st_size > 1000 and f"video: {video}" in res.stdout


@pytest.mark.parametrize("args,message", [
    (["checkpoint=/no/such/model_1.pt"], "does not exist"),
    (["stepz=3"], "Key 'stepz' not in 'PlayConfig'"),
    (["steps=many"], "steps"),
    (["checkpoint=latest", "output_dir=/nonexistent"], "no model_<iteration>.pt under"),
])
def test_play_bad_input_is_a_clear_error(args, message, tmp_path):
    res = _play(args, tmp_path)
    assert res.returncode == 2, res.stderr
    assert message in res.stderr and "Traceback" not in res.stderr
