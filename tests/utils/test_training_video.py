"""Videos during training: MP4s with the right frame count and size (Go1, a gymnasium MuJoCo env), memory that stays
flat over many videos, and an env that cannot render disables videos with one warning. (A real Go1 training run
with videos: tests/e2e/test_watch_cli.py.)"""

from __future__ import annotations

import logging
from pathlib import Path

import psutil
import pytest
from isaac_hydra_ext.config.schema import PPOConfig
from isaac_hydra_ext.models.actor_critic import build_policy
from isaac_hydra_ext.runners.training_video import TrainingVideoRecorder
from watch_helpers import mp4_frames, needs_video

GO1 = "Sber-Velocity-Flat-Go1-MuJoCo-v0"


def record(recorder: TrainingVideoRecorder, iteration: int, policy) -> list:
    assert recorder.maybe_record(iteration, iteration * 1000, policy)
    assert recorder.wait_idle(timeout=120)
    return recorder.results()


@needs_video
def test_go1_videos_have_the_right_frames_and_size_and_memory_stays_flat(tmp_path):
    policy = build_policy(48, 12, PPOConfig(actor_hidden_dims=[32, 32]))
    recorder = TrainingVideoRecorder(GO1, {}, 0, str(tmp_path / "videos"), every_iterations=2, length=8, nice=0)
    learner, rss_mb = psutil.Process(), []
    try:
        assert recorder.wait_ready(120) and recorder.frame_size == (640, 480)
        recorder_process = psutil.Process(recorder.pid)
        assert recorder_process.pid != learner.pid and recorder_process.nice() == learner.nice()  # nice=0 here
        assert not recorder.maybe_record(3, 3000, policy)  # not due: iterations 2, 4, 6, ...
        for k in range(1, 7):
            (result,) = record(recorder, 2 * k, policy)
            assert result.path == str(tmp_path / "videos" / f"iteration_{2 * k:06d}.mp4")
            assert (result.frames, result.width, result.height, result.fps) == (8, 640, 480, 50.0)
            assert result.preview_gif[:6] == b"GIF89a" and result.preview_size == (320, 240)
            rss_mb.append((learner.memory_info().rss / 2**20, recorder_process.memory_info().rss / 2**20))
    finally:
        recorder.close()
    assert not recorder_process.is_running() or recorder_process.status() == psutil.STATUS_ZOMBIE
    videos = sorted((tmp_path / "videos").iterdir())  # the MP4s only: previews are read back and removed
    assert [v.name for v in videos] == [f"iteration_{2 * k:06d}.mp4" for k in range(1, 7)]
    for video in videos:
        assert mp4_frames(video) == ((640, 480), 50.0, 8)
    assert recorder.stats()["recorded"] == 6 and recorder.stats()["failed"] == 0
    # Memory: after the first two videos (GL context, ffmpeg, caches) neither the learner's nor the recorder's RSS
    # may grow with more videos. Bound: 20 MB each over four more videos (measured: under 1 MB).
    for who in (0, 1):
        growth = max(r[who] for r in rss_mb[2:]) - rss_mb[1][who]
        assert growth < 20, (("learner", "recorder")[who], [round(r[who], 1) for r in rss_mb])


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


def test_an_env_that_cannot_render_disables_videos_with_one_warning(tmp_path, caplog):
    policy = build_policy(3, 1, PPOConfig(actor_hidden_dims=[8]))
    env_id = "fault_envs:BlindPendulum-v0"  # render() returns None
    with caplog.at_level(logging.WARNING):
        recorder = TrainingVideoRecorder(env_id, {}, 0, str(tmp_path), every_iterations=1, length=5, nice=0)
        assert recorder.wait_ready(120)
        assert not recorder.maybe_record(1, 10, policy)
        recorder.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        f"videos disabled: cannot render {env_id}: RuntimeError: render() returned nothing "
        "(is render_mode='rgb_array' supported by this env?)"
    ]
    assert recorder.stats()["disabled"] and recorder.stats()["recorded"] == 0
    assert not list(tmp_path.glob("*.mp4"))
