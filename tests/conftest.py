"""Shared helpers for the test suite (CPU only, real processes, real Hydra)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO = TESTS_DIR.parent

# Fault-injection envs (tests/fault_envs.py) must be importable by worker processes and by CLI subprocesses.
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

FULL = os.environ.get("IHE_FULL", "") == "1"
"""IHE_FULL=1 runs the learning tests with their full budgets; CI runs the short, honest versions."""


PY312_JOBS = (("Isaac Lab 3.0 job", "venv312-il", ""), ("Newton job", "venv312-newton", "IHE_NEWTON_VENV"))
"""The Python 3.12 jobs the suite runs (.ci/isaaclab_job.sh, .ci/newton_job.sh): name, cached venv, override."""


def _python312() -> str | None:
    """The interpreter .ci/py312_venv.sh would use (the same search order), or None."""
    import glob
    import shutil

    candidates = [os.environ.get("IHE_PYTHON312", ""), shutil.which("python3.12") or ""]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python3")))
    candidates += ["/usr/local/bin/python3.12", "/usr/bin/python3.12"]
    for py in candidates:
        if py and os.access(py, os.X_OK):
            try:
                res = subprocess.run(
                    [py, "-c", "import sys, venv; sys.exit(sys.version_info[:2] != (3, 12))"],
                    capture_output=True,
                    timeout=30,
                )
            except (OSError, subprocess.TimeoutExpired):
                continue
            if res.returncode == 0:
                return py
    return None


def pytest_report_header(config) -> str:
    """Announce the heavy Python 3.12 jobs at the top of the run: skipped, reused from the cache, or built now."""
    what = "Python 3.12 jobs (Isaac Lab 3.0, Newton)"
    if os.environ.get("IHE_SKIP_PY312", "") == "1":
        return f"{what}: skipped (IHE_SKIP_PY312=1)"
    py = _python312()
    if py is None:
        return f"{what}: skipped, no Python 3.12 interpreter found (IHE_PYTHON312 points at one)"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "isaac_hydra_ext"
    states = []
    for name, venv, override in PY312_JOBS:
        path = Path(os.environ.get(override) or cache / venv) if override else cache / venv
        if (path / ".requirements.sha256").exists():
            states.append(f"{name}: reusing {path} (rebuilt only if its pinned packages changed)")
        else:
            states.append(f"{name}: BUILDING {path} now (about 4.5 GB to download and install, a few minutes)")

    return f"{what} with {py}; " + "; ".join(states) + ". IHE_SKIP_PY312=1 skips them."


def cli_env(**extra: str) -> dict[str, str]:
    """Environment for a CLI subprocess: the tests dir on PYTHONPATH, unbuffered output."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS_DIR), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(extra)
    return env


def run_trainer(args: list[str], tmp_path: Path, timeout: float = 600, **popen) -> subprocess.CompletedProcess:
    """Run ``python -m isaac_hydra_ext.appo_runner <args>`` with its output under ``tmp_path``."""
    flags = [a for a in args if a.startswith("-")]  # Hydra flags such as -m go before the overrides
    rest = [a for a in args if not a.startswith("-")]
    cmd = [
        sys.executable,
        "-m",
        "isaac_hydra_ext.appo_runner",
        *flags,
        f"experiment.output_dir={tmp_path / 'runs'}",
        *rest,
    ]
    return subprocess.run(cmd, cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=timeout, **popen)


def compose(overrides: list[str] | None = None):
    """Compose ``train_appo`` with overrides through real Hydra and return the TrainConfig object."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from isaac_hydra_ext.config.store import register_configs
    from omegaconf import OmegaConf

    register_configs()
    with initialize_config_module("isaac_hydra_ext.conf", version_base="1.3"):
        return OmegaConf.to_object(hydra_compose("train_appo", overrides=overrides or []))


@pytest.fixture
def small_cfg():
    """A small Pendulum config for in-process tests."""
    return compose(
        ["env=gym_pendulum", "ppo.num_workers=2", "ppo.envs_per_worker=4", "ppo.steps_per_env=16", "ppo.batch_size=64"]
    )


def pool_sections(cfg):
    """The WorkerPool arguments a TrainConfig provides: (sampler section, env config, model section, seed)."""
    from isaac_hydra_ext.config.schema import ModelConfig, SamplerConfig, section

    return section(cfg.ppo, SamplerConfig), cfg.env, section(cfg.ppo, ModelConfig), cfg.experiment.seed


def sampler_for(pool, buffer, publisher=None):
    """A ProcessSampler over a hand-built pool (the runner's view of worker processes)."""
    from isaac_hydra_ext.sampling.samplers import ProcessSampler

    return ProcessSampler(
        pool, buffer, publisher, pool.sampler_cfg.mode, pool.num_workers, pool.sampler_cfg.envs_per_worker
    )
