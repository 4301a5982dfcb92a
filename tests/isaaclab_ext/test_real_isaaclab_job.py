"""Runs the Python 3.12 job that tests our Isaac Lab wiring against the real ``isaaclab==3.0.0`` package.

The main test suite runs on the project's Python; Isaac Lab 3.0 needs Python 3.12, so `.ci/isaaclab_job.sh`
builds (or reuses from its cache) a 3.12 venv with the real package and runs the `isaaclab`-marked tests there.
This test makes that job part of the one README test command.
"""

from il_helpers import run_ci_job


def test_isaaclab_3_job_passes():
    run_ci_job("isaaclab_job.sh")
