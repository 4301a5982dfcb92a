"""Runs the Python 3.12 job that tests our Isaac Lab wiring against the real ``isaaclab==3.0.0`` package.

The main test suite runs on the project's Python; Isaac Lab 3.0 needs Python 3.12, so `.ci/isaaclab_job.sh`
builds (or reuses from its cache) a 3.12 venv with the real package and runs the `isaaclab`-marked tests there.
This test makes that job part of the one README test command.
"""

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_isaaclab_3_job_passes():
    res = subprocess.run(["bash", str(REPO / ".ci" / "isaaclab_job.sh")], cwd=REPO, capture_output=True, text=True,
                         timeout=1500)
    out = res.stdout + res.stderr
    if res.returncode == 0 and "SKIP:" in out:
        pytest.skip(next(ln for ln in out.splitlines() if "SKIP:" in ln))
    assert res.returncode == 0, out[-6000:]
    assert " passed" in out and " failed" not in out, out[-3000:]
