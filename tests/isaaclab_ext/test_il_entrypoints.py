"""train.py / play.py logic against the real Isaac Lab 3.0 config machinery, with the simulator replaced.

Everything Isaac Lab does here is real (task registry, ``resolve_task_config``, presets, ``dump_yaml``); only what
cannot run on these machines is replaced: starting the simulator (``compat.launch``) and the robot env that would
load NVIDIA's Go1 asset (``IsaacLabEnvDouble``, beside ``test_il_isaaclab.py`` which checks the real env class).
"""

from __future__ import annotations

import contextlib
import functools
import json

import pytest
import torch
from il_helpers import requires_isaaclab

pytestmark = requires_isaaclab()

ROUGH = "Isaac-Velocity-Sber-Unitree-Go1-v0"
ROUGH_PLAY = "Isaac-Velocity-Sber-Unitree-Go1-Play-v0"


@pytest.fixture
def no_simulator(monkeypatch):
    from isaac_hydra_ext.isaaclab import compat
    from isaac_hydra_ext.isaaclab import play as play_script
    from isaac_hydra_ext.isaaclab import train as train_script
    from isaaclab_env_double import IsaacLabEnvDouble

    made = []

    @contextlib.contextmanager
    def launch(env_cfg, launcher_args):
        yield None

    def make_env(task, env_cfg, render=False):
        env = IsaacLabEnvDouble(env_cfg, obs_dim=235, act_dim=12)
        made.append(env)
        return env

    monkeypatch.setattr(compat, "launch", launch)
    # the seam: run_train / run_play take the env factory as their `make_env` parameter
    monkeypatch.setattr(train_script, "run_train", functools.partial(train_script.run_train, make_env=make_env))
    monkeypatch.setattr(play_script, "run_play", functools.partial(play_script.run_play, make_env=make_env))
    return made


def test_train_then_play_writes_isaac_lab_layout_and_exports(tmp_path, monkeypatch, capsys, no_simulator):
    from isaac_hydra_ext.isaaclab.entrypoints import main_play, main_train

    monkeypatch.chdir(tmp_path)
    code = main_train(
        [
            "--task",
            ROUGH,
            "--num_envs",
            "16",
            "--max_iterations",
            "3",
            "--device",
            "cpu",
            "agent.batch_size=96",
            "agent.learning_rate=0.0003",
            "agent.save_interval=1",
        ]
    )
    assert code == 0
    (run,) = [p for p in (tmp_path / "logs" / "appo" / "sber_go1_rough").iterdir()]
    assert (run / "params" / "env.yaml").is_file() and (run / "params" / "agent.yaml").is_file()
    assert "learning_rate: 0.0003" in (run / "params" / "agent.yaml").read_text()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["iterations"] == 3
    assert summary["env_steps"] == 3 * 16 * 24
    assert sorted(p.name for p in run.glob("model_*.pt")) == ["model_1.pt", "model_2.pt", "model_3.pt"]
    assert no_simulator[0].closed

    capsys.readouterr()
    code = main_play(["--task", ROUGH_PLAY, "--num_steps", "55", "--num_envs", "3", "--device", "cpu"])
    assert code == 0
    out = capsys.readouterr().out
    # the shared replay report (envs/replay.py): the double's 50-step episodes end, and its extras["log"] shows
    assert f"played 55 steps x 3 envs of {ROUGH_PLAY} from {run / 'model_3.pt'}" in out, out
    assert "episodes: 3 finished (0 terminated, 3 truncated by the time limit)" in out, out
    assert "Episode_Reward/track_lin_vel_xy_exp  0.5000" in out, out
    exported = run / "exported"
    scripted = torch.jit.load(str(exported / "policy.pt"))
    assert scripted(torch.zeros(2, 235)).shape == (2, 12)
    assert (exported / "policy.onnx").stat().st_size > 0


@pytest.mark.parametrize(
    "args,message",
    [
        (["--num_envs", "0"], "--num_envs=0 is invalid: must be an integer >= 1"),
        (["--num_steps", "-5"], "--num_steps=-5 is invalid: must be an integer >= 0"),
        (["--report_json", "/dev/null/r.json"], "--report_json='/dev/null/r.json' cannot be written: '/dev/null' is"),
    ],
)
def test_bad_play_values_are_one_line_before_the_simulator_starts(
    tmp_path, monkeypatch, capsys, no_simulator, args, message
):
    from isaac_hydra_ext.isaaclab.entrypoints import main_play

    monkeypatch.chdir(tmp_path)
    assert main_play(["--task", ROUGH_PLAY, "--device", "cpu", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not no_simulator  # nothing was built


def test_bad_override_is_a_clear_error(tmp_path, monkeypatch, capsys, no_simulator):
    from isaac_hydra_ext.isaaclab.entrypoints import main_train

    monkeypatch.chdir(tmp_path)
    code = main_train(["--task", ROUGH, "--device", "cpu", "agent.learning_rat=0.1"])
    assert code == 2
    err = capsys.readouterr().err
    assert "agent.learning_rat" in err and "Traceback" not in err
    assert not no_simulator  # nothing was built


def test_a_checkpoint_that_names_nothing_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, no_simulator):
    from isaac_hydra_ext.isaaclab.entrypoints import main_train

    monkeypatch.chdir(tmp_path)
    args = ["--task", ROUGH, "--num_envs", "8", "--device", "cpu"]
    for checkpoint, message in (
        (str(tmp_path / "no_such.pt"), f"checkpoint {tmp_path / 'no_such.pt'} does not exist (--checkpoint="),
        ("latest", "--checkpoint=latest: no model_<iteration>.pt under "),
    ):
        assert main_train([*args, "--checkpoint", checkpoint]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err and "Traceback" not in err, err
    assert not (tmp_path / "logs" / "appo" / "sber_go1_rough").exists() or not any(
        (tmp_path / "logs" / "appo" / "sber_go1_rough").iterdir()
    )


def test_a_checkpoint_this_configuration_does_not_fit_is_one_line_and_exit_2(
    tmp_path, monkeypatch, capsys, no_simulator
):
    # a sound checkpoint of another network: the configuration can fix it (exit 2), not a damaged file (exit 1)
    from isaac_hydra_ext.isaaclab.entrypoints import main_train

    monkeypatch.chdir(tmp_path)
    args = ["--task", ROUGH, "--num_envs", "8", "--device", "cpu", "agent.batch_size=64"]
    assert main_train([*args, "--max_iterations", "1"]) == 0
    capsys.readouterr()
    assert main_train([*args, "--max_iterations", "2", "--checkpoint", "latest", "agent.actor_hidden_dims=[32]"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not fit this run's network: ppo.actor_hidden_dims: checkpoint [" in err, err
    assert "Traceback" not in err


def test_resuming_a_run_that_reached_max_iterations_trains_nothing_and_says_so(
    tmp_path, monkeypatch, capsys, no_simulator
):
    # a job script that always passes --checkpoint latest, run again after the run finished (before: a new run
    # directory with a copy of the checkpoint)
    from isaac_hydra_ext.isaaclab.entrypoints import main_train

    monkeypatch.chdir(tmp_path)
    args = ["--task", ROUGH, "--num_envs", "8", "--device", "cpu", "agent.batch_size=64", "--max_iterations", "1"]
    assert main_train(args) == 0
    capsys.readouterr()
    runs = sorted((tmp_path / "logs" / "appo").rglob("model_1.pt"))
    assert len(runs) == 1
    assert main_train([*args, "--checkpoint", "latest"]) == 0
    out, err = capsys.readouterr()
    assert f"nothing to train: {runs[0]} is at iteration 1 and " in out, out + err
    assert "which --max_iterations=1 already covers; raise --max_iterations to train further" in out
    assert "Traceback" not in out + err and sorted((tmp_path / "logs" / "appo").rglob("model_*.pt")) == runs
    assert [p.parent for p in (tmp_path / "logs" / "appo").rglob("params")] == [runs[0].parent]  # no second run dir


def test_resume_latest_continues(tmp_path, monkeypatch, no_simulator):
    from isaac_hydra_ext.isaaclab.entrypoints import main_train

    monkeypatch.chdir(tmp_path)
    args = ["--task", ROUGH, "--num_envs", "8", "--device", "cpu", "agent.batch_size=64"]
    assert main_train([*args, "--max_iterations", "2"]) == 0
    import time

    time.sleep(1.1)
    assert main_train([*args, "--max_iterations", "4", "--checkpoint", "latest"]) == 0
    runs = sorted((tmp_path / "logs" / "appo" / "sber_go1_rough").iterdir())
    s = json.loads((runs[-1] / "summary.json").read_text())
    assert s["iterations"] == 4 and s["resumed_from"].endswith("model_2.pt")
