"""MuJoCo's warnings: each distinct text once per run (learner and workers together), not once per env."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from conftest import cli_env

_SCRIPT = textwrap.dedent(
    """
    import multiprocessing as mp

    import mujoco
    import numpy as np

    from isaac_hydra_ext.config.schema import EnvConfig
    from isaac_hydra_ext.envs.factory import make_gym_vec_env
    from isaac_hydra_ext.envs.mujoco_warnings import show_each_warning_once

    XML = "<mujoco><worldbody><body><freejoint/><geom size='.1'/></body></worldbody></mujoco>"


    def unstable(dof_value):  # MuJoCo warns through mju_warning: "Nan, Inf or huge value in QVEL at DOF 0 ..."
        model = mujoco.MjModel.from_xml_string(XML)
        data = mujoco.MjData(model)
        data.qvel[:] = dof_value
        mujoco.mj_step(model, data)


    def child():  # a worker: it builds its envs (which installs the printer), then its simulation goes unstable
        make_gym_vec_env(EnvConfig(backend="gym", id="HalfCheetah-v5"), 2).close()
        unstable(np.nan)  # shown by the parent before this process started: not again
        unstable(np.inf)  # the same text (MuJoCo says "Nan, Inf or huge"): not again
        print("child done", flush=True)


    if __name__ == "__main__":
        show_each_warning_once()
        for _ in range(3):
            unstable(np.nan)
        cfg = EnvConfig(backend="gym", id="HalfCheetah-v5")
        for _ in range(2):  # 2 x 4 envs: gymnasium's model compiles 8 times (MuJoCo 4 warns about settotalmass)
            make_gym_vec_env(cfg, 4).close()
        process = mp.get_context("spawn").Process(target=child)
        process.start()
        process.join()
        print("exit", process.exitcode, flush=True)
    """
)


def test_each_mujoco_warning_is_shown_once_across_envs_and_worker_processes(tmp_path):
    script = tmp_path / "warn.py"
    script.write_text(_SCRIPT)
    res = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=120
    )
    out = res.stdout + res.stderr
    assert res.returncode == 0 and "exit 0" in out and "child done" in out, out[-3000:]
    # before: one "WARNING: ..." per occurrence on stdout (3 here, and one per HalfCheetah env compiled)
    assert out.count("The simulation is unstable") == 1, out
    assert "WARNING (MuJoCo): Nan, Inf or huge value in QVEL at DOF 0" in res.stderr
    assert out.count("settotalmass") <= 1, out
    assert not (tmp_path / "MUJOCO_LOG.TXT").exists()  # MuJoCo's own printer also appended each one to this file
