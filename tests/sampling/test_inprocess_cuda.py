"""In-process collection with a GPU env (all of its tensors on the GPU, as Isaac Lab's are), on a real GPU.

The env queues simulated simulator work on its stream every step (``busy_matmuls``), so in ``async`` mode the
collector thread's env steps and the learner stream's update really run at the same time. Both modes must learn the
reach task as the CPU modes do (tests/runners/test_runner.py); a race between the two streams (a slot read before
it is written, a weight copy torn by the update) shows up as a policy that does not learn. Skipped without CUDA
(the GPU host runs it: benchmarks/README or docs/isaaclab.md).
"""

from __future__ import annotations

import pytest
import torch
from isaac_hydra_ext.runners.builder import build_runner
from isaac_hydra_ext.sampling import factory
from memory_envs import TargetReachEnv, reach_config

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_gpu_env_in_process_learns_the_reach_task(tmp_path, monkeypatch, mode):
    monkeypatch.setattr(factory, "GPU_ASYNC_IN_PROCESS_REFUSED", False)
    cfg = reach_config(tmp_path, max_iterations=40, device="cuda", mode=mode, num_workers=0, envs_per_worker=256)
    env = TargetReachEnv(256, "cuda", busy_matmuls=20)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    runner = build_runner(cfg, str(run_dir), env.spec, envs=[env])
    summary = runner.train()
    # random actions: about -6.7 per 20-step episode; reaching the origin quickly: about -2
    assert summary["status"] == "finished" and summary["iterations"] == 40
    assert summary["mean_return"] > -3.5, summary["mean_return"]
    if mode == "async":
        assert summary["last"]["lag/max"] <= 1.0
