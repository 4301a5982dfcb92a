"""Videos during training: MP4s with the right frame count and size (Go1, a gymnasium MuJoCo env), memory that stays
flat over many videos, and an env that cannot render disables videos with one warning. (A real Go1 training run
with videos: tests/e2e/test_watch_cli.py.)"""

from __future__ import annotations

import logging
from pathlib import Path

import gymnasium as gym
import numpy as np
import psutil
import pytest
from isaac_hydra_ext.appo.models import build_policy
from isaac_hydra_ext.config.schema import PPOConfig
from isaac_hydra_ext.utils.training_video import TrainingVideoRecorder
from watch_helpers import mp4_frames, needs_video

GO1 = "Sber-Velocity-Flat-Go1-MuJoCo-v0"


def record(recorder: TrainingVideoRecorder, iteration: int, policy) -> list:
    assert recorder.maybe_record(iteration, iteration * 1000, policy)
    assert recorder.wait_idle(timeout=120)
    return recorder.results()


@needs_video
def test_go1_videos_have_the_right_frames_and_size_and_memory_stays_flat(tmp_path):
    policy = build_policy(48, 12, PPOConfig(actor_hidden_dims=[32, 32]))
    recorder = TrainingVideoRecorder(GO1, {}, 0, str(tmp_path / "videos"), every_iterations=2, length=12, nice=0)
    process = psutil.Process()
    rss_mb = []
    try:
        assert not recorder.maybe_record(3, 3000, policy)  # not due: iterations 2, 4, 6, ...
        for k in range(1, 9):
            (result,) = record(recorder, 2 * k, policy)
            assert result.path == str(tmp_path / "videos" / f"iteration_{2 * k:06d}.mp4")
            assert (result.frames, result.width, result.height, result.fps) == (12, 640, 480, 50.0)
            assert result.preview_gif[:6] == b"GIF89a" and result.preview_size == (320, 240)
            rss_mb.append(process.memory_info().rss / 2**20)
    finally:
        recorder.close()
    videos = sorted((tmp_path / "videos").glob("*.mp4"))
    assert [v.name for v in videos] == [f"iteration_{2 * k:06d}.mp4" for k in range(1, 9)]
    for video in videos:
        assert mp4_frames(video) == ((640, 480), 50.0, 12)
    assert recorder.stats()["recorded"] == 8 and recorder.stats()["failed"] == 0
    # Memory: after the first two videos (GL context, ffmpeg, caches) the RSS must not grow with more videos.
    # Bound: 20 MB over six more videos (measured: < 1 MB; 30 videos of 50 frames: +0 MB after the second).
    growth = max(rss_mb[2:]) - rss_mb[1]
    assert growth < 20, [round(r, 1) for r in rss_mb]


@needs_video
def test_any_gymnasium_env_with_rgb_array_rendering(tmp_path):
    pytest.importorskip("gymnasium.envs.mujoco")
    policy = build_policy(17, 6, PPOConfig(actor_hidden_dims=[16]))
    recorder = TrainingVideoRecorder("HalfCheetah-v5", {}, 0, str(tmp_path), every_iterations=1, length=7, nice=0)
    try:
        (result,) = record(recorder, 1, policy)
    finally:
        recorder.close()
    assert mp4_frames(Path(result.path)) == ((480, 480), 20.0, 7)  # HalfCheetah's default size and render_fps


class _NoPictureEnv(gym.Env):
    """An env that accepts render_mode but renders nothing."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, render_mode=None):
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(-1, 1, (3,), np.float32)
        self.action_space = gym.spaces.Box(-1, 1, (1,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(3, np.float32), {}

    def step(self, action):
        return np.zeros(3, np.float32), 0.0, False, False, {}

    def render(self):
        return None


def test_an_env_that_cannot_render_disables_videos_with_one_warning(tmp_path, caplog):
    if "NoPicture-v0" not in gym.registry:
        gym.register("NoPicture-v0", entry_point=_NoPictureEnv, max_episode_steps=10)
    policy = build_policy(3, 1, PPOConfig(actor_hidden_dims=[8]))
    with caplog.at_level(logging.WARNING):
        recorder = TrainingVideoRecorder("NoPicture-v0", {}, 0, str(tmp_path), every_iterations=1, length=5, nice=0)
        assert recorder._ready.wait(60)
        assert not recorder.maybe_record(1, 10, policy)
        recorder.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        "videos disabled: cannot render NoPicture-v0: RuntimeError: render() returned nothing "
        "(is render_mode='rgb_array' supported by this env?)"
    ]
    assert recorder.stats()["disabled"] and recorder.stats()["recorded"] == 0
    assert not list(tmp_path.glob("*.mp4"))
