"""The symmetry knobs (rsl_rl's names): validated values, and a clear refusal for an env without a mirror."""

from __future__ import annotations

import dataclasses

from conftest import compose, run_trainer
from isaac_hydra_ext.config.schema import AlgorithmConfig, PPOConfig
from isaac_hydra_ext.config.validation import config_problems
from isaac_hydra_ext.envs.vec_env import EnvSpec
from isaac_hydra_ext.runners.preflight import symmetry_problems


def test_the_knobs_live_on_the_algorithm_section_with_rsl_rls_names_and_defaults():
    names = {f.name for f in dataclasses.fields(AlgorithmConfig)}
    assert {"use_data_augmentation", "use_mirror_loss", "mirror_loss_coeff", "mirror_function"} <= names
    cfg = PPOConfig()
    assert (cfg.use_data_augmentation, cfg.use_mirror_loss, cfg.mirror_loss_coeff, cfg.mirror_function) == (
        False,
        False,
        0.0,
        "",
    )


def test_values_are_validated_one_line_each():
    problems = config_problems(
        compose(["env=gym_pendulum", "ppo.use_mirror_loss=true", "ppo.mirror_function=not a function"])
    )
    assert any(
        p.startswith("ppo.mirror_function='not a function' is invalid: must be empty (the task's own mirror) or")
        for p in problems
    ), problems
    problems = config_problems(compose(["env=gym_pendulum", "ppo.use_mirror_loss=true"]))
    assert problems == [
        "ppo.mirror_loss_coeff=0.0 is invalid with ppo.use_mirror_loss=true: must be > 0 (the weight of the mirror "
        "loss)"
    ]
    assert config_problems(compose(["env=gym_pendulum", "ppo.mirror_loss_coeff=-1.0"])) == [
        "ppo.mirror_loss_coeff=-1.0 is invalid: must be a number >= 0"
    ]
    assert config_problems(compose(["env=mujoco_go1", "ppo.use_mirror_loss=true", "ppo.mirror_loss_coeff=0.5"])) == []
    assert config_problems(compose(["env=mujoco_go1", "ppo.use_data_augmentation=true", "ppo.rnn_type=lstm"])) == [
        "ppo.use_data_augmentation=true is invalid with ppo.rnn_type=lstm: symmetry augmentation mirrors single steps, "
        "not recurrent sequences (as in rsl_rl); use one or the other"
    ]


def test_an_env_without_a_mirror_is_named_and_a_go1_run_finds_its_own():
    cfg = compose(["env=gym_pendulum", "ppo.use_data_augmentation=true"])
    (problem,) = symmetry_problems(cfg, EnvSpec(obs_dim=3, act_dim=1))
    assert problem.startswith(
        "ppo.use_data_augmentation=true needs the task's mirror function, and env.id='Pendulum-v1' names none: set "
        "ppo.mirror_function=package.module:function"
    ), problem
    cfg.ppo.mirror_function = "isaac_hydra_ext.envs.symmetry:no_such_factory"
    (problem,) = symmetry_problems(cfg, EnvSpec(obs_dim=3, act_dim=1))
    assert "cannot be imported" in problem and "no_such_factory" in problem
    cfg.ppo.use_data_augmentation = False
    assert symmetry_problems(cfg, EnvSpec(obs_dim=3, act_dim=1)) == []  # switched off: nothing is looked up


def test_the_cli_refuses_symmetry_for_an_env_without_a_mirror_with_exit_2_and_one_line(tmp_path):
    args = [
        "env=gym_pendulum",
        "ppo.use_data_augmentation=true",
        "ppo.use_mirror_loss=true",
        "ppo.mirror_loss_coeff=0.5",
    ]
    res = run_trainer(args, tmp_path)
    assert res.returncode == 2, res.stderr[-3000:]
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("Error")]
    assert len(errors) == 1, res.stderr
    assert "ppo.use_data_augmentation=true and ppo.use_mirror_loss=true needs the task's mirror function" in res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    runs = tmp_path / "runs"
    assert not runs.exists() or not any(p.is_dir() for p in runs.rglob("*"))


class _RaisingMirror:
    """A mirror whose observation method raises (a user's bug)."""

    def mirror_observation(self, obs):
        raise IndexError("index 7 is out of bounds")

    def mirror_action(self, actions):
        return actions


def broken_factory(spec):
    """A user's mirror factory that fails on the spec (here: a KeyError for a term the task lacks)."""
    raise KeyError("joint_names")


def raising_mirror_factory(spec):
    return _RaisingMirror()


def test_a_user_mirror_that_raises_is_reported_in_one_line_not_a_traceback():
    cfg = compose(["env=gym_pendulum", "ppo.use_data_augmentation=true"])
    cfg.ppo.mirror_function = "test_symmetry_config:broken_factory"
    (problem,) = symmetry_problems(cfg, EnvSpec(obs_dim=3, act_dim=1))
    assert problem.startswith("mirror function 'test_symmetry_config:broken_factory' failed on the task's EnvSpec:")
    assert "KeyError" in problem and "joint_names" in problem and "\n" not in problem
    cfg.ppo.mirror_function = "test_symmetry_config:raising_mirror_factory"
    (problem,) = symmetry_problems(cfg, EnvSpec(obs_dim=3, act_dim=1))
    assert "mirror_observation failed on a (4, 3) batch: IndexError: index 7 is out of bounds" in problem, problem


def test_the_cli_reports_a_factory_that_raises_with_exit_2(tmp_path):
    res = run_trainer(["env=gym_pendulum", "ppo.use_data_augmentation=true", "ppo.mirror_function=os:getcwd"], tmp_path)
    assert res.returncode == 2, res.stderr[-3000:]
    assert "mirror function 'os:getcwd' failed on the task's EnvSpec: TypeError" in res.stderr
    assert "Traceback" not in res.stdout + res.stderr
