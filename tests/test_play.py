"""``python -m isaac_hydra_ext.play``: replay any env's checkpoint, report generically, film it, then export."""

import shutil
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import cli_env, compose, run_trainer
from isaac_hydra_ext.cli import play as play_cli
from isaac_hydra_ext.envs.factory import make_vec_env
from isaac_hydra_ext.envs.replay import replay
from isaac_hydra_ext.envs.vec_env import EnvSpec, EnvStep
from isaac_hydra_ext.models.export import load_policy
from isaac_hydra_ext.runners.builder import build_runner
from isaac_hydra_ext.utils.checkpoint import save_checkpoint

GO1_PLAY = "Sber-Velocity-Flat-Go1-MuJoCo-Play-v0"


@pytest.fixture(scope="module")
def go1_checkpoint(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("go1")
    # 40-step episodes, so a short replay on the Play twin (which inherits the run's time limit) finishes some
    res = run_trainer(
        [
            "ppo.num_workers=1",
            "ppo.envs_per_worker=16",
            "experiment.max_iterations=2",
            "env.max_episode_steps=40",
            "logging.console=none",
        ],
        tmp,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    return sorted((tmp / "runs").rglob("model_*.pt"))[-1]


@pytest.fixture(scope="module")
def pendulum_checkpoint(tmp_path_factory) -> Path:
    """A real checkpoint of Pendulum-v1: one serial iteration of the real builder and runner, in this process."""
    cfg = compose(
        [
            "env=gym_pendulum",
            "ppo.mode=serial",
            "ppo.num_workers=1",
            "ppo.envs_per_worker=4",
            "ppo.steps_per_env=16",
            "ppo.batch_size=64",
            "experiment.max_iterations=1",
            "logging.tensorboard=false",
            "logging.console=none",
            "experiment.device=cpu",
        ]
    )
    run_dir = tmp_path_factory.mktemp("pendulum") / "logs" / "appo" / "pendulum" / "2026-01-01_00-00-00"
    run_dir.mkdir(parents=True)
    envs = [make_vec_env(cfg.env, 4)]
    summary = build_runner(cfg, str(run_dir), envs[0].spec, envs=envs).train()
    assert summary["status"] == "finished"
    return run_dir / "model_1.pt"


def _copy_run(checkpoint: Path, dest: Path) -> Path:
    """A copy of the checkpoint's run directory (without what earlier plays wrote); return the copied checkpoint."""
    shutil.copytree(checkpoint.parent, dest, ignore=shutil.ignore_patterns("exported", "videos"))
    return dest / checkpoint.name


def _play(args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "isaac_hydra_ext.play", *args],
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _main(args, capsys):
    code = play_cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


# ---- the Go1 task through the shim ------------------------------------------------------------------------------
def test_play_reports_tracking_and_exports(go1_checkpoint, tmp_path):
    res = _play(
        [f"checkpoint={go1_checkpoint}", "steps=60", "num_envs=4", "video=false", "command=[0.3,0.0,0.2]"], tmp_path
    )
    assert res.returncode == 0, res.stderr
    assert GO1_PLAY in res.stdout  # the -Play- twin of the trained env
    # the env's own episode log, under the env's names: 4 envs x one 40-step episode each end within 60 steps
    assert "episodes: 4 finished (0 terminated, 4 truncated by the time limit)" in res.stdout, res.stdout
    for key in (
        "Metrics/base_velocity/error_vel_xy",
        "Metrics/base_velocity/error_vel_yaw",
        "Episode_Termination/base_contact",
    ):
        assert key in res.stdout, res.stdout
    exported = go1_checkpoint.parent / "exported"
    scripted = torch.jit.load(str(exported / "policy.pt"))
    obs = torch.randn(3, 48)
    with torch.no_grad():
        assert torch.allclose(scripted(obs), load_policy(str(go1_checkpoint)).policy(obs), atol=1e-6)


def test_play_writes_a_video_or_says_which_package_is_missing(go1_checkpoint, tmp_path):
    video = tmp_path / "clip.mp4"
    res = _play(
        [f"checkpoint={go1_checkpoint}", "steps=25", "num_envs=2", f"video_path={video}", "export=false"], tmp_path
    )
    if res.returncode == 3:  # no offscreen OpenGL on this machine: the message must say what to install
        assert "EGL" in res.stderr or "OSMesa" in res.stderr, res.stderr
        assert not video.exists()
        pytest.skip(f"no offscreen OpenGL here: {res.stderr.strip().splitlines()[0]}")
    assert res.returncode == 0, res.stderr
    assert video.stat().st_size > 1000 and f"video: {video}" in res.stdout


def test_go1_play_metrics_are_the_env_log_averaged_over_episodes(go1_checkpoint):
    """The Go1 report is nothing but the env's EnvStep.log, averaged per episode: recomputed here by hand."""
    cfg = play_cli.PlayConfig(checkpoint=str(go1_checkpoint), steps=45, num_envs=3, video=False, export=False, seed=7)
    result = play_cli.play(cfg)
    env = make_vec_env(
        play_cli.play_env_config(cfg, str(go1_checkpoint), load_policy(str(go1_checkpoint)).config_yaml), 3
    )
    policy = load_policy(str(go1_checkpoint)).policy
    obs, _ = env.reset(seed=7)
    sums, count = {}, 0
    for _ in range(45):
        with torch.inference_mode():
            step = env.step(policy(obs))
        ended = int((step.terminated | step.truncated).sum())
        for key, value in step.log.items():
            sums[key] = sums.get(key, 0.0) + ended * value
        count += ended if step.log else 0
        obs = step.obs
    env.close()
    assert count == 3 and result.report.episodes == 3
    assert set(result.report.metrics) == set(sums)
    for key, value in sums.items():
        assert result.report.metrics[key] == pytest.approx(value / count, rel=1e-9, abs=1e-12)


def test_go1_play_envs_are_distinct_episodes_and_reproducible(go1_checkpoint):
    """16 envs used to be 16 bit-identical copies; each now starts from its own draws of the seed."""
    policy = load_policy(str(go1_checkpoint)).policy
    cfg = play_cli.PlayConfig(checkpoint=str(go1_checkpoint), num_envs=6, video=False)
    env_cfg = play_cli.play_env_config(cfg, str(go1_checkpoint), load_policy(str(go1_checkpoint)).config_yaml)
    assert env_cfg.id == GO1_PLAY

    def returns(seed):
        env = make_vec_env(env_cfg, 6)
        try:
            return replay(env, policy, 30, seed).unfinished_returns
        finally:
            env.close()

    first = returns(3)
    assert len(set(first)) == 6, first  # six different trajectories
    assert returns(3) == first  # the same seed replays the same six
    assert returns(4) != first


def test_command_goes_to_the_play_envs_fixed_command(go1_checkpoint):
    cfg = play_cli.PlayConfig(checkpoint=str(go1_checkpoint), command=[0.8, 0.0, 0.3])
    env_cfg = play_cli.play_env_config(cfg, str(go1_checkpoint), load_policy(str(go1_checkpoint)).config_yaml)
    assert env_cfg.kwargs["commands"]["fixed_command"] == [0.8, 0.0, 0.3]
    env = make_vec_env(env_cfg, 2)
    try:
        obs, _ = env.reset(seed=0)
    finally:
        env.close()
    assert torch.allclose(obs[:, 9:12], torch.tensor([[0.8, 0.0, 0.3]] * 2))  # the command part of the observation


# ---- any gymnasium env: Pendulum ----------------------------------------------------------------------------------
def test_generic_play_on_pendulum_matches_a_hand_rollout(pendulum_checkpoint, capsys):
    code, out, err = _main(
        [f"checkpoint={pendulum_checkpoint}", "steps=250", "num_envs=3", "video=false", "export=false", "seed=11"],
        capsys,
    )
    assert code == 0, err
    # the reference: the same policy on 3 plain gymnasium Pendulums seeded 11, 12, 13, actions clipped to [-2, 2]
    policy = load_policy(str(pendulum_checkpoint)).policy
    returns = []
    for i in range(3):
        env = gym.make("Pendulum-v1")
        obs, _ = env.reset(seed=11 + i)
        total, done = 0.0, False
        while not done:
            with torch.inference_mode():
                action = policy(torch.as_tensor(obs, dtype=torch.float32)[None])[0].numpy()
            obs, reward, terminated, truncated, _ = env.step(np.clip(action, -2.0, 2.0))
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    assert len(set(returns)) == 3  # own seeds: three different episodes
    expected = np.mean(returns)
    assert "played 250 steps x 3 envs of Pendulum-v1" in out
    assert "episodes: 3 finished (0 terminated, 3 truncated by the time limit)" in out, out
    line = next(x for x in out.splitlines() if "mean return" in x)
    assert line.endswith("mean length 200.0 steps"), line
    reported = float(line.split("mean return ")[1].split(",")[0])
    assert reported == pytest.approx(expected, abs=2e-3), (line, returns)
    assert err == ""


def test_checkpoint_directory_resolves_to_its_newest_checkpoint(pendulum_checkpoint, capsys):
    code, out, err = _main(
        [f"checkpoint={pendulum_checkpoint.parent}", "steps=3", "num_envs=1", "video=false", "export=false"], capsys
    )
    assert code == 0, err
    assert f"from {pendulum_checkpoint}" in out


def test_play_without_arguments_finds_the_newest_run_under_logs_appo(
    pendulum_checkpoint, tmp_path, monkeypatch, capsys
):
    copied = _copy_run(pendulum_checkpoint, tmp_path / "logs" / "appo" / "pendulum" / "2026-02-02_00-00-00")
    monkeypatch.chdir(tmp_path)
    code, out, err = _main(["video=false", "export=false", "steps=2", "num_envs=1"], capsys)
    assert code == 0, err
    assert f"from {copied}" in out


def test_ctrl_c_ends_a_long_replay_with_its_report_and_export_exit_0(pendulum_checkpoint, tmp_path):
    # A replay of 10^7 steps ended by Ctrl-C, as a user ends one that runs too long. Before: a KeyboardInterrupt
    # traceback, exit 130, no report and no export.
    import signal
    import time

    copied = _copy_run(pendulum_checkpoint, tmp_path / "run")
    with open(tmp_path / "out.txt", "w") as out, open(tmp_path / "err.txt", "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "isaac_hydra_ext.play", f"checkpoint={copied}", "steps=10000000", "video=false"],
            cwd=tmp_path,
            env=cli_env(),
            stdout=out,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 120
        while "replaying " not in (tmp_path / "out.txt").read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "err.txt").read_text()[-3000:]
            time.sleep(0.1)
        time.sleep(0.5)  # some steps into the replay
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stdout, stderr = (tmp_path / "out.txt").read_text(), (tmp_path / "err.txt").read_text()
    assert proc.returncode == 0, stderr[-3000:]
    assert "Traceback" not in stdout + stderr and "Ctrl-C: ending the replay after this step" in stderr
    assert "stopped by Ctrl-C after " in stdout and " of 10000000 steps" in stdout, stdout
    assert (copied.parent / "exported" / "policy.pt").is_file()


def test_export_runs_after_the_replay_and_a_failed_export_is_one_line(pendulum_checkpoint, tmp_path, capsys):
    checkpoint = _copy_run(pendulum_checkpoint, tmp_path / "run")
    (tmp_path / "run" / "exported").write_text("a file where the export directory goes: it cannot be written")
    code, out, err = _main([f"checkpoint={checkpoint}", "steps=5", "num_envs=2", "video=false"], capsys)
    assert code == 0, err
    assert "played 5 steps x 2 envs of Pendulum-v1" in out  # the replay happened and was reported
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Warning: export skipped: cannot create"), err
    assert str(tmp_path / "run" / "exported") in lines[0] and "Traceback" not in err


def test_missing_onnx_packages_skip_onnx_in_one_line_never_blamed_on_video(
    pendulum_checkpoint, tmp_path, monkeypatch, capsys
):
    checkpoint = _copy_run(pendulum_checkpoint, tmp_path / "run")
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` now raises ImportError, as when not installed
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    code, out, err = _main([f"checkpoint={checkpoint}", "steps=5", "num_envs=2", "video=false"], capsys)
    assert code == 0, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Warning: ONNX export skipped:"), err
    assert "pip install 'isaac_hydra_ext[export]'" in lines[0] and "onnx" in lines[0]
    assert "video" not in err.lower()
    exported = tmp_path / "run" / "exported"
    assert (exported / "policy.pt").is_file() and not (exported / "policy.onnx").exists()
    assert sorted(p.name for p in exported.iterdir()) == ["policy.pt"]  # no half-written or temporary file


def test_video_false_never_touches_video_code(pendulum_checkpoint, monkeypatch, capsys):
    from isaac_hydra_ext.envs import video

    def forbidden(*args, **kwargs):
        raise AssertionError("video code ran with video=false")

    monkeypatch.setattr(video, "VideoRecorder", forbidden)
    monkeypatch.setattr(video, "rendering_env_config", forbidden)
    code, _, err = _main(
        [f"checkpoint={pendulum_checkpoint}", "steps=2", "num_envs=1", "video=false", "export=false"], capsys
    )
    assert code == 0, err


def test_a_video_that_cannot_be_made_is_named_as_such_and_leaves_nothing(
    pendulum_checkpoint, tmp_path, monkeypatch, capsys
):
    """Pendulum renders through pygame; without it (simulated) the error is a video error naming pygame."""
    monkeypatch.setitem(sys.modules, "pygame", None)
    monkeypatch.delenv("MUJOCO_GL", raising=False)  # the recorder may choose one for this process: undone after
    video = tmp_path / "new_dir" / "clip.mp4"
    code, out, err = _main(
        [f"checkpoint={pendulum_checkpoint}", "steps=5", "num_envs=1", f"video_path={video}", "export=false"], capsys
    )
    assert code == 3
    assert err.count("\n") == 1 and "cannot write the video" in err and "pygame" in err and "video=false" in err
    assert not (tmp_path / "new_dir").exists()  # neither the partial file nor the directory made for it
    assert out.startswith("replaying ") and "played " not in out  # the start line, no report


# ---- bad input: one line, exit 2 ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args,message",
    [
        (["checkpoint=/no/such/model_1.pt"], "does not exist"),
        (["stepz=3"], "Key 'stepz' not in 'PlayConfig'"),
        (["steps=many"], "steps='many': Value 'many' of type 'str' could not be converted to Integer"),
        (["video=maybe"], "video='maybe': Value 'maybe' is not a valid bool"),
        (["checkpoint=latest", "output_dir=/nonexistent"], "no model_<iteration>.pt under"),
    ],
)
def test_play_bad_input_is_a_clear_error(args, message, tmp_path):
    res = _play(args, tmp_path)
    assert res.returncode == 2, res.stderr
    assert message in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize(
    "args,message",
    [
        (["num_envs=0"], "num_envs=0 is invalid: must be an integer >= 1"),
        (["steps=-5"], "steps=-5 is invalid: must be an integer >= 1"),
        (["seed=-1"], "seed=-1 is invalid: must be an integer >= 0"),  # before: gymnasium's traceback, exit 1
        (["report_json=/dev/null/r.json"], "report_json='/dev/null/r.json' cannot be written: '/dev/null' is a file"),
        (["report_json=/"], "report_json='/' is a directory; pass a file path"),
        (["video=true", "video_path=/dev/null/v.mp4"], "video_path='/dev/null/v.mp4' cannot be written"),
        (["command=[1.0,0.0,0.0]"], "command=[1.0, 0.0, 0.0]: env Pendulum-v1 cannot take it"),
        (["env_id=Pendulum-v9"], "env.id='Pendulum-v9' is not a registered gymnasium environment"),
        (
            ["env_id=MountainCarContinuous-v0"],
            "env MountainCarContinuous-v0 has 2 observations and 1 actions, the checkpoint's policy 3 and 1",
        ),
    ],
)
def test_bad_values_are_one_line_and_exit_2(pendulum_checkpoint, args, message, capsys):
    code, out, err = _main([f"checkpoint={pendulum_checkpoint}", "video=false", "export=false", *args], capsys)
    assert code == 2
    assert err.startswith("Error: ") and err.count("\n") == 1 and message in err, err
    assert out == ""


def _crafted(pendulum_checkpoint: Path, tmp_path: Path, change) -> Path:
    state = torch.load(pendulum_checkpoint, weights_only=True)
    change(state)
    for key in ("format", "format_version"):
        state.pop(key)
    path = tmp_path / "model_9.pt"
    save_checkpoint(str(path), state)
    return path


@pytest.mark.parametrize(
    "change,message",
    [
        (
            lambda s: s["model"].update({"policy.mean_net.0.weight": torch.zeros(5, 3)}),
            "does not fit this model: mean_net.0.weight: checkpoint [5, 3], this model [64, 3]",
        ),
        (lambda s: s["model"].pop("policy.log_std"), "log_std: missing in the checkpoint"),
        (lambda s: s["model_cfg"].update({"actor_hidden_dims": ["wide"]}), "has a model_cfg this version cannot build"),
        (lambda s: s["model_cfg"].update({"activation": "sigmoidish"}), "activation='sigmoidish'"),
    ],
)
def test_crafted_checkpoints_with_wrong_shapes_or_types_are_one_line(
    pendulum_checkpoint, tmp_path, change, message, capsys
):
    path = _crafted(pendulum_checkpoint, tmp_path, change)
    code, out, err = _main([f"checkpoint={path}", "video=false", "steps=2"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and message in err and "Traceback" not in err, err
    assert not (tmp_path / "exported").exists()


# ---- the shared loop --------------------------------------------------------------------------------------------
class _ScriptedEnv:
    """Two envs; env 0 ends at steps 2 and 4 (terminated, then truncated), env 1 at step 4; each end logs x."""

    def __init__(self):
        self.num_envs, self.device, self.t = 2, torch.device("cpu"), 0
        self.spec = EnvSpec(obs_dim=1, act_dim=1, action_low=[-1.0], action_high=[1.0])
        self.actions = []

    def reset(self, seed=None):
        return torch.zeros(2, 1), None

    def step(self, actions):
        self.actions.append(actions.clone())
        self.t += 1
        terminated = torch.tensor([self.t == 2, False])
        truncated = torch.tensor([self.t == 4, self.t == 4])
        log = {2: {"x": 1.0}, 4: {"x": 4.0, "y": 2.0}}.get(self.t, {})
        return EnvStep(
            obs=torch.zeros(2, 1),
            reward=torch.tensor([1.0, 0.5]),
            terminated=terminated,
            truncated=truncated,
            final_obs=torch.zeros(2, 1),
            log=log,
        )

    def close(self):
        pass


def test_replay_weights_the_env_log_by_episodes_and_counts_ends():
    env = _ScriptedEnv()
    report = replay(env, lambda obs: torch.full((2, 1), 3.0), 5, seed=0)
    # episodes: env 0 ends at t=2 (return 2, terminated) and t=4 (2, truncated); env 1 at t=4 (2.0, truncated)
    assert report.episode_returns == [2.0, 2.0, 2.0] and report.episode_lengths == [2, 2, 4]
    assert (report.terminations, report.truncations, report.steps) == (1, 2, 5)
    # x: step 2 (1 episode, 1.0) and step 4 (2 episodes, 4.0) -> (1*1 + 2*4) / 3 = 3; y only at step 4 -> 2
    assert report.metrics == {"x": pytest.approx(3.0), "y": pytest.approx(2.0)}
    assert report.unfinished_returns == [1.0, 0.5]  # one step into the next episodes
    assert all(torch.equal(a, torch.ones(2, 1)) for a in env.actions)  # clipped to the spec's bounds
