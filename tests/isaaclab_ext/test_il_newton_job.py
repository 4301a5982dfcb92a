"""Runs the Python 3.12 job that tests the Isaac Lab Go1 task on Newton (kit-less, CPU, offline).

Like ``test_real_isaaclab_job.py`` for ``.ci/isaaclab_job.sh``: ``.ci/newton_job.sh`` builds (or reuses from its
cache) a 3.12 venv with isaaclab 3.0, Newton and the standalone MJCF importer and runs the ``newton``-marked tests
there (``test_il_newton.py``). This test makes that job part of the one README test command. Cold (new machine):
about 4 minutes (venv 1.7 min, Warp's CPU kernels 1 min); warm: about 50 s.
"""

from il_helpers import run_ci_job


def test_newton_job_passes():
    run_ci_job("newton_job.sh")
