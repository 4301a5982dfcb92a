"""Runs that cannot start on this machine or with this env are refused through the real CLI before anything starts:
exit 2, one ``Error:`` line naming the value and the way out, no traceback, no run directory, no worker.

Issue 17 found a traceback (or a bus error later) for each of these: an output directory that is a file or
read-only, ``experiment.device=cuda`` without a GPU, a gymnasium env whose extra is not installed, a /dev/shm too
small for the rollout buffer (the README's own ``ppo.num_workers=15`` command in a default 64 MiB Docker
container), ``ppo.num_workers=10000``, a discrete-action env (refused, but for the wrong reason).
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import subprocess

import pytest
import torch
from conftest import run_trainer
from fault_cli import SMALL, pids_in, run, trainer_cmd


def _refused(res_code: int, out: str, err: str, message: str, tmp_path) -> str:
    assert res_code == 2, err[-3000:]
    errors = [ln for ln in err.splitlines() if ln.startswith("Error")]
    assert len(errors) == 1, err[-3000:]
    assert message in err, err[-3000:]
    assert "Traceback" not in out + err
    runs = tmp_path / "runs"
    assert not runs.exists() or not any(p.is_dir() for p in runs.rglob("*")), list(runs.rglob("*"))
    return err


def _shm_free() -> int:
    st = os.statvfs("/dev/shm")
    return st.f_bavail * st.f_frsize


CASES = {
    "device_index": (["experiment.device=cuda:99"], "experiment.device='cuda:99' cannot be used"),
    "device_format": (
        ["experiment.device=cuda:x"],
        "experiment.device='cuda:x' is invalid: must be auto, cpu, cuda or cuda:N",
    ),
    "too_many_workers": (["ppo.num_workers=10000"], "ppo.num_workers=10000 is invalid on this machine"),
    "discrete_actions": (
        ["env=gym", "env.id=CartPole-v1"],
        "env.id='CartPole-v1' cannot be trained: its action "
        "space is Discrete(2): discrete actions are not supported (Box action spaces only)",
    ),
    # constructor arguments the env refuses are the user's configuration (before: exit 1, "building env failed")
    "env_kwargs_the_constructor_fails_on": (
        ["env=gym", "env.id=Hopper-v5", "+env.kwargs.xml_file=/nonexistent/hopper.xml"],
        "env.id='Hopper-v5' could not be built with env.kwargs={'xml_file': '/nonexistent/hopper.xml'}: OSError: "
        "File /nonexistent/hopper.xml does not exist",
    ),
    "go1_kwarg_of_the_wrong_type": (
        ["env=mujoco_go1", "+env.kwargs.rewards.feet_air_time=abc"],
        "Go1 task argument 'rewards.feet_air_time' takes a number, got 'abc'",
    ),
    "go1_kwarg_out_of_range": (
        ["env=mujoco_go1", "+env.kwargs.sim.nthread=-3"],
        "sim.nthread=-3 is invalid: must be an integer >= 1",
    ),
}
if not torch.cuda.is_available():
    CASES["no_gpu"] = (["experiment.device=cuda"], "experiment.device='cuda' cannot be used")
if importlib.util.find_spec("Box2D") is None:
    CASES["missing_extra"] = (
        ["env=gym", "env.id=LunarLander-v3", "+env.kwargs.continuous=true"],
        "env.id='LunarLander-v3' needs a package that is not installed (Box2D is not "
        "installed, you can install it by run `pip install swig` followed by `pip install "
        '"gymnasium[box2d]"`); install it with: pip install "gymnasium[box2d]"',
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_run_this_machine_or_env_cannot_start_is_refused_in_one_line(tmp_path, case):
    overrides, message = CASES[case]
    pid_log = tmp_path / "env_pids"
    res = run_trainer(["env=gym_pendulum", *SMALL, *overrides], tmp_path, timeout=180)
    _refused(res.returncode, res.stdout, res.stderr, message, tmp_path)
    assert not pids_in(pid_log)


def test_output_dir_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "runs_file"
    target.write_text("a file where the runs should go")
    code, out, err = run(tmp_path, ["env=gym_pendulum", *SMALL, f"experiment.output_dir={target}"], timeout=180)
    assert code == 2, err[-3000:]
    assert f"experiment.output_dir={str(target)!r} is not usable: it is a file, not a directory" in err
    assert "Traceback" not in out + err and target.read_text() == "a file where the runs should go"


def test_shared_memory_the_rollout_buffer_would_not_fit_in_is_refused_before_anything_starts(tmp_path):
    # 2 workers x 2 slots x T steps x 4096 envs of Pendulum (38 bytes per env step) more than /dev/shm has free.
    steps = _shm_free() // (4 * 4096 * 38) + 1
    pid_log = tmp_path / "env_pids"
    res = run_trainer(
        [
            "env=gym",
            "env.id=fault_envs:SlowPendulum-v0",
            f"+env.kwargs.pid_log={pid_log}",
            "ppo.num_workers=2",
            "ppo.envs_per_worker=4096",
            f"ppo.steps_per_env={steps}",
            "logging.tensorboard=false",
        ],
        tmp_path,
        timeout=180,
    )
    err = _refused(res.returncode, res.stdout, res.stderr, "shared memory: this run needs", tmp_path)
    assert "in Docker start the container with --shm-size=" in err
    assert len(pids_in(pid_log)) == 1  # only the learner's probe built an env: no worker was started


# ---- in a mount namespace of their own: a 64 MiB /dev/shm (Docker's default), a read-only output directory ------
def _namespaces_work() -> bool:
    if not shutil.which("unshare"):
        return False
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


needs_namespaces = pytest.mark.skipif(
    not _namespaces_work(), reason="unprivileged user namespaces (unshare -rm) are not available here"
)


def _in_namespace(tmp_path, setup: str, args: list[str]) -> tuple[int, str, str]:
    script = f"{setup} && exec {shlex.join(trainer_cmd(tmp_path, args))}"
    return run(tmp_path, [], timeout=180, prefix=["unshare", "-rm", "sh", "-c", script, "sh"])


@needs_namespaces
def test_the_readme_go1_command_in_a_default_docker_shm_is_refused_with_the_size_to_give(tmp_path):
    # ppo.allow_oversubscription: the command is meant for 16 cores; a smaller test machine would refuse 15 workers.
    code, out, err = _in_namespace(
        tmp_path, "mount -t tmpfs -o size=64m tmpfs /dev/shm", ["ppo.num_workers=15", "ppo.allow_oversubscription=true"]
    )
    err = _refused(code, out, err, "shared memory: this run needs 79 MiB in /dev/shm", tmp_path)
    assert "but only 64 MiB are free; in Docker start the container with --shm-size=256m" in err


@needs_namespaces
def test_read_only_output_dir_is_refused(tmp_path):
    out_dir = tmp_path / "runs"
    out_dir.mkdir()
    setup = f"mount --bind {out_dir} {out_dir} && mount -o remount,ro,bind {out_dir}"
    code, out, err = _in_namespace(tmp_path, setup, ["env=gym_pendulum", *SMALL])
    assert code == 2, err[-3000:]
    assert f"experiment.output_dir={str(out_dir)!r} is not usable: it is not writable" in err
    assert "Traceback" not in out + err and not any(out_dir.iterdir())
