"""Bad configuration stops at start-up with one readable message naming key, value and what is allowed."""

import dataclasses
import re
import sys

import pytest
from conftest import run_trainer
from isaac_hydra_ext.config.validation import RULES, ConfigError, validate_config

# One out-of-range value for every rule (types are Hydra's job and are tested through the CLI below).
BAD_VALUES = {
    "ppo.mode": "turbo",
    "ppo.num_workers": -1,
    "ppo.envs_per_worker": 0,
    "ppo.steps_per_env": -1,
    "ppo.slots_per_worker": 1,
    "ppo.rollouts_per_iteration": -2,
    "ppo.update_epochs": 0,
    "ppo.batch_size": -1,
    "ppo.num_minibatches": 0,
    "ppo.learning_rate": 0.0,
    "ppo.schedule": "cosine",
    "ppo.desired_kl": -0.1,
    "ppo.min_learning_rate": 0.0,
    "ppo.max_learning_rate": float("inf"),
    "ppo.gamma": 1.5,
    "ppo.lam": -0.1,
    "ppo.clip_param": 0.0,
    "ppo.value_loss_coef": -1.0,
    "ppo.entropy_coef": float("nan"),
    "ppo.max_grad_norm": 0.0,
    "ppo.off_policy_correction": "retrace",
    "ppo.ratio_reference": "mu",
    "ppo.vtrace_rho_clip": 0.0,
    "ppo.vtrace_c_clip": -1.0,
    "ppo.max_policy_lag": -1,
    "ppo.actor_hidden_dims": [],
    "ppo.critic_hidden_dims": [64, 0],
    "ppo.activation": "swish",
    "ppo.init_std": 0.0,
    "ppo.obs_clip": -1.0,
    "ppo.rnn_type": "transformer",
    "ppo.rnn_hidden_dim": 0,
    "ppo.rnn_num_layers": 0,
    "ppo.on_env_error": "ignore",
    "ppo.max_worker_restarts": -1,
    "ppo.heartbeat_timeout_s": 0.0,
    "ppo.max_nonfinite_updates": 0,
    "ppo.mirror_loss_coeff": -0.5,
    "ppo.mirror_function": "no colon",
    "env.backend": "",
    "env.id": "",
    "env.max_episode_steps": -5,
    "logging.console": "bar",
    "logging.log_every_iterations": 0,
    "logging.episode_window": 0,
    "checkpoint.every_iterations": -1,
    "checkpoint.keep_last": -1,
    "experiment.name": "a/b",
    "experiment.output_dir": "",
    "experiment.seed": -1,
    "experiment.max_env_steps": -1,
    "experiment.max_iterations": -1,
    "experiment.max_wall_time_s": -1.0,
    "experiment.device": "tpu",
    "experiment.torch_threads": -1,
    "logging.wandb_project": "",
    "logging.video_every_iterations": -1,
    "logging.video_length": 0,
}


def test_every_rule_has_a_bad_value_case():
    assert {r.key for r in RULES} == set(BAD_VALUES)


def _with(cfg, key, value):
    group, name = key.split(".")
    setattr(getattr(cfg, group), name, value)
    return cfg


@pytest.mark.parametrize("key", sorted(BAD_VALUES))
def test_each_bad_value_gives_one_message_naming_key_value_and_allowed(key, small_cfg):
    cfg = _with(small_cfg, key, BAD_VALUES[key])
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    lines = [ln for ln in str(err.value).splitlines() if ln.strip().startswith("- ")]
    assert len(lines) == 1, str(err.value)
    assert f"{key}={BAD_VALUES[key]!r} is invalid: must be" in lines[0]


def test_relations_between_keys(small_cfg):
    cfg = dataclasses.replace(small_cfg, ppo=dataclasses.replace(small_cfg.ppo, batch_size=10_000))
    with pytest.raises(
        ConfigError,
        match=r"ppo.batch_size=10000 is invalid: must be <= the samples per iteration "
        r"W\*B\*T = 2\*4\*16 = 128",
    ):
        validate_config(cfg)
    cfg = dataclasses.replace(small_cfg, ppo=dataclasses.replace(small_cfg.ppo, num_workers=0, mode="serial"))
    with pytest.raises(ConfigError, match="ppo.num_workers=0 is invalid with ppo.mode=serial"):
        validate_config(cfg)


def test_optional_outputs_need_their_packages_and_a_gym_env(small_cfg, monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)  # import wandb -> ImportError
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    small_cfg.logging.wandb = True
    small_cfg.logging.video_every_iterations = 5
    with pytest.raises(ConfigError) as err:
        validate_config(small_cfg)
    message = str(err.value)
    assert "logging.wandb=true needs the wandb package" in message and "pip install 'isaac_hydra_ext[wandb]'" in message
    assert "logging.video_every_iterations=5 needs imageio-ffmpeg" in message and "[video]" in message
    monkeypatch.delitem(sys.modules, "imageio_ffmpeg")
    small_cfg.logging.wandb = False
    small_cfg.env.backend = "isaaclab"
    with pytest.raises(ConfigError, match=r"logging.video_every_iterations=5 is invalid with env.backend='isaaclab'"):
        validate_config(small_cfg)


def test_unknown_gym_id_suggests_close_matches(small_cfg):
    from isaac_hydra_ext.envs.factory import env_problems

    small_cfg.env.id = "Pendulum-v7"
    (problem,) = env_problems(small_cfg.env)
    assert re.match(
        r"env.id='Pendulum-v7' is not a registered gymnasium environment; did you mean Pendulum-v1", problem
    )


def test_unknown_backend_names_the_allowed_ones(small_cfg):
    from isaac_hydra_ext.envs.factory import env_problems

    small_cfg.env.backend = "brax"
    (problem,) = env_problems(small_cfg.env)
    assert problem.startswith(
        "env.backend='brax' is invalid: must be one of gym, isaaclab or 'package.module:function'"
    )


CLI_CASES = [
    (["ppo.mode=serial", "ppo.num_workers=0"], 2, "ppo.num_workers=0 is invalid with ppo.mode=serial"),
    (["ppo.batch_size=1000000"], 2, "ppo.batch_size=1000000 is invalid: must be <= the samples per iteration"),
    (["ppo.steps_per_env=-1"], 2, "ppo.steps_per_env=-1 is invalid: must be an integer >= 1"),
    (["env=gym", "env.id=NoSuchEnv-v9"], 2, "env.id='NoSuchEnv-v9' is not a registered gymnasium environment"),
    (["ppo.mode=turbo"], 2, "ppo.mode='turbo' is invalid: must be one of async, sync, serial"),
    # Typos and type errors are configuration errors too: exit 2 and one line (Hydra alone exits 1 with a traceback
    # hint); a key added with '+' is refused as well instead of being silently ignored.
    (["ppo.no_such_knob=3"], 2, "Could not override 'ppo.no_such_knob'"),
    # a key of the env's own kwargs (a free-form mapping) is added with '+': the line says so (Hydra's advice, which
    # the one-line message used to drop)
    (
        ["env.kwargs.g=9.81"],
        2,
        "Could not override 'env.kwargs.g': Key 'g' is not in struct (to add the key, prefix it with +: "
        "+env.kwargs.g=9.81)",
    ),
    (["ppo.num_workers=abc"], 2, "Value 'abc' of type 'str' could not be converted to Integer"),
    (["+ppo.num_worker=4"], 2, "ppo.num_worker is not a configuration key; did you mean ppo.num_workers?"),
    (
        ["+experiment.max_iteration=1"],
        2,
        "experiment.max_iteration is not a configuration key; did you mean experiment.max_iterations?",
    ),
    (["env=gym"], 2, "env.id is required"),
    # an option a config group does not have: the allowed ones in the one line (Hydra lists them on later lines)
    (
        ["env=nosuch"],
        2,
        "env=nosuch names no option of the config group 'env' (allowed: gym, gym_pendulum, mujoco_go1,",
    ),
    # a sweep is checked at every value before its first job starts (before: Hydra's multi-line error and exit 1 for
    # a bad key; a bad second value stopped the sweep after its first job had run)
    (["-m", "ppo.learning_rat=1e-4,3e-4"], 2, "Could not override 'ppo.learning_rat': Key 'learning_rat' not in"),
    (["-m", "ppo.learning_rate=1e-3,-1"], 2, "ppo.learning_rate=-1.0 is invalid: must be a number > 0"),
    (["-m", "ppo.entropy_coef=0.0,0.01", "experiment.seed=range(1,3)", "env.backend=gym,brax"], 2, "'brax' is invalid"),
    (["-m", "env.id=Pendulum-v1,Pendulm-v1"], 2, "env.id='Pendulm-v1' is not a registered gymnasium environment"),
    (["-m", "ppo.gamma=[0.9,"], 2, "'ppo.gamma=[0.9,' is not a valid override (no viable alternative at input"),
    (["ppo.gamma=[0.9,"], 2, "'ppo.gamma=[0.9,' is not a valid override (no viable alternative at input"),
    # a path given to the checkpoint group: the key that resumes from it
    (["checkpoint=logs/run1"], 2, "to resume from a checkpoint or run directory use checkpoint.resume=logs/run1"),
    (["experiment.name=.."], 2, "experiment.name='..' is invalid"),
    (["env.backend=brax"], 2, "env.backend='brax' is invalid: must be one of gym, isaaclab"),
]


@pytest.mark.parametrize("overrides,code,message", CLI_CASES)
def test_cli_bad_config_exits_with_one_clear_message_and_starts_nothing(overrides, code, message, tmp_path):
    res = run_trainer(["env=gym_pendulum", *overrides], tmp_path, timeout=120)
    assert res.returncode == code, res.stderr
    assert message in res.stderr
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    assert not list((tmp_path / "runs").rglob("summary.json"))  # no run started, no worker spawned
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*"))  # no run directory left
    assert len([ln for ln in res.stderr.splitlines() if ln.startswith("Error")]) == 1


def test_a_sweep_is_checked_at_each_value_of_each_swept_key():
    from isaac_hydra_ext.cli.train import _sweep_points

    points = _sweep_points(["env=gym_pendulum", "ppo.gamma=0.9,0.99", "experiment.seed=range(1,4)", "+env.kwargs.g=9"])
    # all keys at their first value, then one swept key at a time at each of its other values: 1 + 1 + 2 points
    assert points == [
        ["env=gym_pendulum", "ppo.gamma=0.9", "experiment.seed=1", "+env.kwargs.g=9"],
        ["env=gym_pendulum", "ppo.gamma=0.99", "experiment.seed=1", "+env.kwargs.g=9"],
        ["env=gym_pendulum", "ppo.gamma=0.9", "experiment.seed=2", "+env.kwargs.g=9"],
        ["env=gym_pendulum", "ppo.gamma=0.9", "experiment.seed=3", "+env.kwargs.g=9"],
    ]
    assert _sweep_points(["env=gym_pendulum"]) == [["env=gym_pendulum"]]
    assert _sweep_points(["ppo.gamma=glob(*)"]) == []  # left to Hydra
    assert _sweep_points(["ppo.gamma=interval(0.9,0.99)"]) == []  # a sweeper plugin's search space: left to it
    with pytest.raises(Exception, match="no viable alternative at input '\\[1,'"):  # the precheck names it, one line
        _sweep_points(["ppo.gamma=[1,"])
