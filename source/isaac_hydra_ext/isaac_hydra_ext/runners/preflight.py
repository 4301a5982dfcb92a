"""Pre-flight checks against the machine: can this run start *here*? One line per problem, before anything starts.

:mod:`isaac_hydra_ext.config.validation` checks values against each other; this module checks them against the
machine the run is about to use, which only the entry points can do (they call :func:`preflight_problems` after
probing the env and before making the run directory, and report the lines with exit code 2):

* ``experiment.device``: a device string torch accepts, and a device that exists (CUDA available, index in range);
* shared memory: worker processes share the rollout buffer and the weights through ``/dev/shm``; a Docker
  container has 64 MiB there by default, which e.g. 15 Go1 workers exceed (the run would die with a bus error);
* ``ppo.num_workers`` against the CPU cores (more than :data:`OVERSUBSCRIPTION` per core needs
  ``ppo.allow_oversubscription=true``);
* ``experiment.output_dir``: a directory (or creatable as one) that this process may write.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import torch

from ..config.schema import AlgorithmConfig, SamplerConfig, TrainConfig, section
from ..envs.symmetry import MirrorError, task_mirror
from ..envs.vec_env import EnvSpec
from ..models.actor_critic import build_policy
from ..storage.rollout_buffer import RolloutBuffer
from ..utils.paths import nearest_existing

OVERSUBSCRIPTION = 4
"""Worker processes allowed per CPU core without ``ppo.allow_oversubscription=true``."""

SHM_PATH = "/dev/shm"
"""Where POSIX shared memory lives on Linux (torch's shared tensors are files there)."""

_MIB = 1 << 20


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def shm_free_bytes(path: str = SHM_PATH) -> int | None:
    """Free bytes of the shared-memory filesystem, or None where there is none to measure."""
    try:
        st = os.statvfs(path)
    except (OSError, AttributeError):
        return None
    return st.f_bavail * st.f_frsize


def uses_worker_processes(cfg: TrainConfig) -> bool:
    """Whether the run starts worker processes (``async``/``sync`` with ``ppo.num_workers >= 1``)."""
    return cfg.ppo.mode in ("async", "sync") and cfg.ppo.num_workers >= 1


def shared_memory_bytes(cfg: TrainConfig, spec: EnvSpec) -> int:
    """Bytes of shared memory a worker-process run allocates: the rollout buffer of W*K slots plus the weights."""
    ppo = cfg.ppo
    policy = build_policy(spec.obs_dim, spec.act_dim, ppo)
    buffer = RolloutBuffer.bytes_needed(
        ppo.num_workers * ppo.slots_per_worker,
        ppo.steps_per_env,
        ppo.envs_per_worker,
        spec.obs_dim,
        spec.act_dim,
        spec.critic_obs_dim,
        int(getattr(policy, "state_size", 0)),
    )
    weights = 4 * sum(t.numel() for t in policy.state_dict().values())
    heartbeats = 8 * ppo.num_workers
    return buffer + weights + heartbeats + 3 * 4096


def device_problems(name: str) -> list[str]:
    """What keeps ``experiment.device=name`` from being used on this machine (empty: usable)."""
    if name == "auto":
        return []
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError) as exc:
        return [f"experiment.device={name!r} is invalid: must be auto, cpu, cuda or cuda:N ({exc})"]
    if device.type == "cpu":
        return []
    if device.type != "cuda":
        return [f"experiment.device={name!r} is invalid: must be auto, cpu, cuda or cuda:N"]
    if not torch.cuda.is_available():
        built = (
            f"this torch {torch.__version__} has no CUDA support"
            if torch.version.cuda is None
            else "no CUDA GPU is visible (driver, CUDA_VISIBLE_DEVICES)"
        )
        return [f"experiment.device={name!r} cannot be used: {built}; use experiment.device=cpu or auto"]
    count = torch.cuda.device_count()
    if device.index is not None and device.index >= count:
        return [
            f"experiment.device={name!r} cannot be used: this machine has {count} CUDA device(s) "
            f"(cuda:0..cuda:{count - 1})"
        ]
    return []


def shared_memory_problems(cfg: TrainConfig, spec: EnvSpec, free: int | None) -> list[str]:
    """Whether the run's shared memory fits in ``free`` bytes of ``/dev/shm`` (None: not measurable, not checked)."""
    if free is None or not uses_worker_processes(cfg):
        return []
    need = shared_memory_bytes(cfg, spec)
    if need <= free:
        return []
    ppo = cfg.ppo
    suggest_mib = max(256, -(-2 * need // (256 * _MIB)) * 256)  # twice the need, in steps of 256 MiB
    return [
        f"shared memory: this run needs {need / _MIB:.0f} MiB in {SHM_PATH} (the rollout buffer of "
        f"ppo.num_workers={ppo.num_workers} x ppo.slots_per_worker={ppo.slots_per_worker} slots of "
        f"ppo.steps_per_env={ppo.steps_per_env} x ppo.envs_per_worker={ppo.envs_per_worker} env steps, plus the "
        f"weights) but only {free / _MIB:.0f} MiB are free; in Docker start the container with "
        f"--shm-size={suggest_mib}m (or --ipc=host), or lower ppo.num_workers or ppo.envs_per_worker"
    ]


def worker_count_problems(sampler: SamplerConfig, cores: int) -> list[str]:
    """More worker processes than :data:`OVERSUBSCRIPTION` per core, without ``ppo.allow_oversubscription``."""
    if sampler.mode not in ("async", "sync") or sampler.allow_oversubscription:
        return []
    limit = OVERSUBSCRIPTION * cores
    if sampler.num_workers <= limit:
        return []
    return [
        f"ppo.num_workers={sampler.num_workers} is invalid on this machine: it has {cores} CPU core(s) for this "
        f"process, and more than {OVERSUBSCRIPTION} worker processes per core ({limit}) only slow each other down "
        f"(one per core, e.g. ppo.num_workers={max(1, cores - 1)}, is fastest); set ppo.allow_oversubscription=true "
        "to start them anyway"
    ]


def output_dir_problems(output_dir: str) -> list[str]:
    """Whether runs can be written under ``output_dir``: it, or its nearest existing parent, is a writable directory."""
    path = os.path.abspath(os.path.expanduser(output_dir))
    probe = nearest_existing(path)
    if not os.path.isdir(probe):
        what = "is" if probe == path else f"would be created inside {probe!r}, which is"
        return [f"experiment.output_dir={output_dir!r} is not usable: it {what} a file, not a directory"]
    if not os.access(probe, os.W_OK | os.X_OK):
        where = "it is" if probe == path else f"its parent {probe!r} is"
        return [
            f"experiment.output_dir={output_dir!r} is not usable: {where} not writable (permissions or a "
            "read-only filesystem); choose another experiment.output_dir"
        ]
    return []


def preflight_problems(
    cfg: TrainConfig,
    spec: EnvSpec | None,
    *,
    cores: int | None = None,
    shm_free: Callable[[], int | None] = shm_free_bytes,
    check_output_dir: bool = True,
) -> list[str]:
    """Every reason ``cfg`` cannot run on this machine, one line each (empty: it can start).

    Args:
        cfg: The validated config.
        spec: The env's shapes (None: the shared-memory check is skipped, e.g. before an Isaac Lab probe).
        cores: CPU cores to plan for (default: :func:`available_cores`).
        shm_free: Returns the free bytes of ``/dev/shm`` (None: not measurable).
        check_output_dir: Whether to check ``experiment.output_dir`` (off for callers that got a run directory).

    """
    problems = device_problems(cfg.experiment.device)
    too_many = worker_count_problems(section(cfg.ppo, SamplerConfig), cores or available_cores())
    problems += too_many
    if spec is not None and not too_many:  # the shared memory of a refused worker count is beside the point
        problems += shared_memory_problems(cfg, spec, shm_free())
    if spec is not None:
        problems += symmetry_problems(cfg, spec)
    if check_output_dir:
        problems += output_dir_problems(cfg.experiment.output_dir)
    return problems


def symmetry_problems(cfg: TrainConfig, spec: EnvSpec) -> list[str]:
    """Why the symmetry switches cannot work with this env (no mirror, one that cannot be built), one line each."""
    try:
        task_mirror(section(cfg.ppo, AlgorithmConfig), spec, cfg.env.id)
    except MirrorError as exc:
        return [str(exc)]
    return []
