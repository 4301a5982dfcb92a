"""Filming a VecEnv through its ``render_frame`` hook (envs/video.py): Go1 and any gymnasium id, and the failures."""

from __future__ import annotations

import sys

import imageio.v2 as imageio
import numpy as np
import pytest
import torch
from isaac_hydra_ext.config.schema import EnvConfig
from isaac_hydra_ext.envs.factory import make_vec_env
from isaac_hydra_ext.envs.go1.render import RenderingUnavailableError, create_gl_context
from isaac_hydra_ext.envs.video import VideoError, VideoRecorder, record_video, rendering_env_config
from memory_envs import TargetReachEnv

GO1_PLAY = "Sber-Velocity-Flat-Go1-MuJoCo-Play-v0"


def _gl_available() -> bool:
    try:
        context, _ = create_gl_context(32, 32)
    except RenderingUnavailableError:
        return False
    context.free()
    return True


needs_gl = pytest.mark.skipif(not _gl_available(), reason="no OpenGL backend (EGL/OSMesa) on this machine")


@pytest.fixture(autouse=True)
def _restore_mujoco_gl(monkeypatch):
    """VideoRecorder may set MUJOCO_GL for this process (prefer_offscreen_gl); undo it after each test."""
    monkeypatch.delenv("MUJOCO_GL", raising=False)


def _frames(path) -> int:
    with imageio.get_reader(str(path)) as reader:
        return sum(1 for _ in reader)


@needs_gl
def test_record_video_films_the_chosen_go1_env_one_frame_per_step(tmp_path):
    env = make_vec_env(rendering_env_config(EnvConfig(id=GO1_PLAY)), 2)
    try:
        assert env.render_fps == 50.0  # one frame per 20 ms policy step plays in real time
        env.reset(seed=1)
        first, second = env.render_frame(0), env.render_frame(1)
        assert first.shape == (480, 640, 3) and first.dtype == np.uint8
        assert np.abs(first.astype(float) - second.astype(float)).mean() > 1.0  # env 1 is another robot pose
        path, report = record_video(
            env,
            lambda obs: torch.zeros(obs.shape[0], 12),
            str(tmp_path / "v" / "go1.mp4"),
            num_steps=7,
            env_index=1,
            seed=1,
        )
    finally:
        env.close()
    assert report.steps == 7
    assert _frames(path) == 8  # the reset frame and one per step


@needs_gl
def test_any_gymnasium_env_renders_through_its_copies(tmp_path):
    """A MuJoCo gymnasium id stepped by SyncVectorEnv: the frame of copy i is copy i's own render()."""
    env = make_vec_env(rendering_env_config(EnvConfig(id="InvertedPendulum-v5")), 2)
    try:
        path, report = record_video(
            env, lambda obs: torch.zeros(obs.shape[0], 1), str(tmp_path / "ip.mp4"), num_steps=3, seed=0
        )
        assert env.render_fps == 25.0  # the env's metadata["render_fps"]
    finally:
        env.close()
    assert _frames(path) == 4 and report.steps == 3


def test_an_env_without_the_hook_is_a_video_error(tmp_path):
    with pytest.raises(VideoError, match="TargetReachEnv cannot render frames"):
        VideoRecorder(TargetReachEnv(2), str(tmp_path / "x.mp4"))
    assert not (tmp_path / "x.mp4").exists()


def test_an_env_made_without_render_mode_fails_at_the_first_frame_and_leaves_nothing(tmp_path):
    env = make_vec_env(EnvConfig(id="Pendulum-v1"), 1)
    target = tmp_path / "a" / "b" / "clip.mp4"
    try:
        with pytest.raises(VideoError, match="without render_mode='rgb_array'"):
            record_video(env, lambda obs: torch.zeros(obs.shape[0], 1), str(target), num_steps=3)
    finally:
        env.close()
    assert not (tmp_path / "a").exists()  # the file and the directories made for it are gone


def test_a_missing_render_package_is_named(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pygame", None)  # classic-control frames need pygame
    env = make_vec_env(rendering_env_config(EnvConfig(id="Pendulum-v1")), 1)
    try:
        with pytest.raises(VideoError, match="pygame"):
            record_video(env, lambda obs: torch.zeros(obs.shape[0], 1), str(tmp_path / "p.mp4"), num_steps=2)
    finally:
        env.close()
    assert list(tmp_path.iterdir()) == []
