"""Pre-flight checks against the machine: device, shared memory, worker count, output directory (one line each)."""

from __future__ import annotations

import os

import pytest
import torch
from conftest import compose
from isaac_hydra_ext.envs.vec_env import EnvSpec
from isaac_hydra_ext.runners.preflight import (
    OVERSUBSCRIPTION,
    device_problems,
    output_dir_problems,
    preflight_problems,
    shared_memory_bytes,
    shared_memory_problems,
    worker_count_problems,
)
from isaac_hydra_ext.storage.rollout_buffer import RolloutBuffer
from isaac_hydra_ext.storage.weights import SharedWeights

GO1 = EnvSpec(obs_dim=48, act_dim=12)
MIB = 1 << 20


# ---- device --------------------------------------------------------------------------------------------------------
def test_cpu_and_auto_are_always_usable():
    assert device_problems("cpu") == [] and device_problems("auto") == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_without_a_gpu_is_one_line_naming_the_value_and_the_way_out(name):
    (line,) = device_problems(name)
    assert line.startswith(f"experiment.device={name!r} cannot be used: ") and "experiment.device=cpu" in line


def test_a_cuda_index_beyond_the_devices_is_refused():
    (line,) = device_problems("cuda:99")
    assert line.startswith("experiment.device='cuda:99' cannot be used: ")


@pytest.mark.parametrize("name", ["tpu", "cuda:x", "gpu0"])
def test_a_string_torch_does_not_accept_is_invalid(name):
    (line,) = device_problems(name)
    assert line.startswith(f"experiment.device={name!r} is invalid: must be auto, cpu, cuda or cuda:N")


# ---- shared memory -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sizes", [(4, 16, 4, 3, 1, 0), (6, 10, 3, 5, 2, 7), (30, 24, 256, 48, 12, 0)])
def test_the_size_estimate_is_what_the_buffer_really_takes(sizes):
    estimate = RolloutBuffer.bytes_needed(*sizes)
    real = RolloutBuffer.allocate(*sizes).nbytes
    assert real <= estimate <= real + 12 * 4096  # exact up to the page rounding of each of its (at most 10) tensors


def test_the_readme_go1_command_needs_more_than_dockers_default_64_mib():
    cfg = compose(["ppo.num_workers=15"])  # the README's "Go1 on 16 cores"
    need = shared_memory_bytes(cfg, GO1)
    buffer = RolloutBuffer.allocate(30, 24, 256, 48, 12).nbytes
    from isaac_hydra_ext.models.actor_critic import build_policy

    weights = SharedWeights.for_module(build_policy(48, 12, cfg.ppo), shared=False).flat.numel() * 4
    assert buffer + weights <= need <= buffer + weights + 16 * 4096
    (line,) = shared_memory_problems(cfg, GO1, free=64 * MIB)
    assert line.startswith(f"shared memory: this run needs {need / MIB:.0f} MiB in /dev/shm")
    assert "only 64 MiB are free" in line and "--shm-size=256m" in line and "ppo.num_workers=15" in line
    assert shared_memory_problems(cfg, GO1, free=need) == []  # exactly enough is enough


@pytest.mark.parametrize("overrides", [["ppo.mode=serial"], ["ppo.num_workers=0"]])
def test_runs_without_worker_processes_need_no_shared_memory(overrides):
    cfg = compose(["ppo.num_workers=15", *overrides])
    assert shared_memory_problems(cfg, GO1, free=0) == []


def test_unmeasurable_shared_memory_is_not_checked():
    assert shared_memory_problems(compose(["ppo.num_workers=15"]), GO1, free=None) == []


# ---- worker count --------------------------------------------------------------------------------------------------
def test_more_than_four_workers_per_core_are_refused_unless_allowed():
    cfg = compose(["env=gym_pendulum", f"ppo.num_workers={OVERSUBSCRIPTION * 2}"])
    assert worker_count_problems(cfg.ppo, cores=2) == []
    cfg = compose(["env=gym_pendulum", "ppo.num_workers=10000"])
    (line,) = worker_count_problems(cfg.ppo, cores=2)
    assert line.startswith("ppo.num_workers=10000 is invalid on this machine: it has 2 CPU core(s)")
    assert "ppo.allow_oversubscription=true" in line and "e.g. ppo.num_workers=1" in line
    allowed = compose(["env=gym_pendulum", "ppo.num_workers=10000", "ppo.allow_oversubscription=true"])
    assert worker_count_problems(allowed.ppo, cores=2) == []
    serial = compose(["env=gym_pendulum", "ppo.num_workers=10000", "ppo.mode=serial"])  # no processes
    assert worker_count_problems(serial.ppo, cores=2) == []


# ---- output directory ----------------------------------------------------------------------------------------------
def test_output_dir_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "runs"
    f.write_text("not a directory")
    (line,) = output_dir_problems(str(f))
    assert line == f"experiment.output_dir={str(f)!r} is not usable: it is a file, not a directory"
    (line,) = output_dir_problems(str(f / "deeper"))
    assert "would be created inside" in line and "which is a file, not a directory" in line


def test_output_dir_that_does_not_exist_yet_is_fine(tmp_path):
    assert output_dir_problems(str(tmp_path / "a" / "b")) == []
    assert not (tmp_path / "a").exists()  # checking creates nothing


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permissions (the CLI test uses a read-only mount)")
def test_output_dir_without_write_permission_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        (line,) = output_dir_problems(str(ro / "runs"))
        assert "is not usable: its parent" in line and "not writable" in line
    finally:
        ro.chmod(0o755)


def test_every_problem_is_reported_at_once(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    cfg = compose(
        ["env=gym_pendulum", "ppo.num_workers=10000", "experiment.device=cuda:99", f"experiment.output_dir={f}"]
    )
    problems = preflight_problems(cfg, EnvSpec(obs_dim=3, act_dim=1), cores=2, shm_free=lambda: 0)
    assert [p.split("=")[0] for p in problems] == ["experiment.device", "ppo.num_workers", "experiment.output_dir"]
    cfg = compose(["env=gym_pendulum", f"experiment.output_dir={tmp_path}"])
    problems = preflight_problems(cfg, EnvSpec(obs_dim=3, act_dim=1), cores=2, shm_free=lambda: 1000)
    assert len(problems) == 1 and problems[0].startswith("shared memory: this run needs")
