"""Helpers shared by the Isaac Lab tests (a plain module: pytest puts this folder on sys.path).

There is deliberately no conftest.py in this folder: the main suite imports ``tests/conftest.py`` as the module
``conftest``, which a second conftest module would shadow. Tests mark themselves with :func:`requires_isaaclab`
/ :func:`requires_isaacsim` (``isaaclab``/``isaacsim`` markers plus a skip whose reason ``-ra`` prints).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SBER_TASKS = (
    "Isaac-Velocity-Sber-Unitree-Go1-v0",
    "Isaac-Velocity-Sber-Unitree-Go1-Play-v0",
    "Isaac-Velocity-Sber-Flat-Unitree-Go1-v0",
    "Isaac-Velocity-Sber-Flat-Unitree-Go1-Play-v0",
)


@functools.cache
def isaaclab_unavailable() -> str | None:
    """None when Isaac Lab 3.x imports here, else why not."""
    version = f"Python {sys.version.split()[0]}"
    spec = importlib.util.find_spec("isaaclab")
    if spec is None or spec.origin is None:  # no origin: a namespace package, e.g. this tests/isaaclab_ext folder
        return f"isaaclab is not installed in this {version}; .ci/isaaclab_job.sh runs these tests on Python 3.12"
    try:
        hydra = importlib.import_module("isaaclab_tasks.utils.hydra")
    except Exception as exc:  # any import failure means "not usable here"
        return f"isaaclab_tasks.utils.hydra does not import in this {version}: {type(exc).__name__}: {exc}"
    if not hasattr(hydra, "resolve_task_config"):
        return "the installed Isaac Lab is not 3.x (no resolve_task_config); these tests target 3.x"
    return None


@functools.cache
def isaacsim_unavailable() -> str | None:
    """None when Isaac Sim and a CUDA GPU are present, else why not."""
    if importlib.util.find_spec("isaacsim") is None:
        return "Isaac Sim (the isaacsim package) is not installed"
    try:
        import torch

        if not torch.cuda.is_available():
            return "Isaac Sim needs a CUDA GPU; none is visible"
    except ImportError:
        return "torch is not installed"
    return None


def run_python(code: str, cwd: str | None = None) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter of this Python (clean ``sys.modules``); fail the test on a non-zero exit."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        timeout=300,
    )
    assert proc.returncode == 0, f"subprocess failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


def requires_isaaclab() -> list:
    """``pytestmark`` for tests needing the real Isaac Lab 3.x: the ``isaaclab`` marker and a skip with the reason."""
    reason = isaaclab_unavailable()
    return [pytest.mark.isaaclab, pytest.mark.skipif(reason is not None, reason=reason or "")]


def requires_isaacsim() -> list:
    """``pytestmark`` for tests that need Isaac Sim and a GPU (and Isaac Lab 3.x), skipped with the reason."""
    reason = isaacsim_unavailable()
    return [pytest.mark.isaacsim, pytest.mark.skipif(reason is not None, reason=reason or ""), *requires_isaaclab()]


def run_ci_job(script: str, timeout: float = 1800) -> str:
    """Run ``.ci/<script>`` (a Python 3.12 job) and assert it passed; skip, quoting it, when it reports SKIP.

    ``IHE_SKIP_PY312=1`` skips it without running it (the job builds a ~4.5 GB venv on its first run).
    """
    if os.environ.get("IHE_SKIP_PY312", "") == "1":
        pytest.skip(f"SKIP: .ci/{script}: IHE_SKIP_PY312=1")
    repo = Path(__file__).resolve().parents[2]
    res = subprocess.run(
        ["bash", str(repo / ".ci" / script)], cwd=repo, capture_output=True, text=True, timeout=timeout
    )
    out = res.stdout + res.stderr
    if res.returncode == 0 and "SKIP:" in out:
        pytest.skip(next(ln for ln in out.splitlines() if "SKIP:" in ln))
    assert res.returncode == 0, out[-6000:]
    assert " passed" in out and " failed" not in out, out[-3000:]
    return out
