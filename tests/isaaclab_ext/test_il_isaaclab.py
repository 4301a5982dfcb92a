"""Against the real Isaac Lab 3.0 package (and Isaac Lab 2.3's hydra source): run by .ci/isaaclab_job.sh.

Every test here is marked ``isaaclab`` and skipped (with the reason) where Isaac Lab 3.x does not import.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import inspect
import json
import os
import sys
from pathlib import Path

import pytest
from il_helpers import SBER_TASKS, requires_isaaclab, run_python
from isaac_hydra_ext.config.schema import LoggingConfig, PPOConfig, TrainConfig
from isaac_hydra_ext.isaaclab import compat
from isaac_hydra_ext.isaaclab.overrides import OverrideError

pytestmark = requires_isaaclab()

ROUGH, ROUGH_PLAY, FLAT, FLAT_PLAY = SBER_TASKS
RUNNER_CFG_SOURCE = Path(compat.__file__).with_name("runner_cfg.py")


def load(task, key):
    from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry

    return load_cfg_from_registry(task, key)


def as_dict(cfg):
    from isaaclab.utils import to_dict

    return to_dict(cfg)


# ---- registry and configs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("task", SBER_TASKS)
def test_registry_gives_our_env_and_agent_configs(task):
    from isaac_hydra_ext.isaaclab import go1
    from isaac_hydra_ext.isaaclab.runner_cfg import APPORunnerCfg

    flat = "-Flat-" in task
    env_cfg = load(task, "env_cfg_entry_point")
    assert isinstance(env_cfg, go1.UnitreeGo1FlatEnvCfg if flat else go1.UnitreeGo1RoughEnvCfg)
    assert type(env_cfg).__module__.startswith("isaac_hydra_ext.tasks.velocity.go1")
    agent_cfg = load(task, "appo_cfg_entry_point")
    assert isinstance(agent_cfg, APPORunnerCfg)
    assert agent_cfg.experiment_name == ("sber_go1_flat" if flat else "sber_go1_rough")
    rsl_rl_cfg = load(task, "rsl_rl_cfg_entry_point")
    assert type(rsl_rl_cfg) is (go1.UnitreeGo1FlatPPORunnerCfg if flat else go1.UnitreeGo1RoughPPORunnerCfg)
    assert type(rsl_rl_cfg).__module__.startswith(compat.go1_config_module())  # Isaac Lab's own class


def test_go1_configs_come_from_the_3x_location():
    assert compat.go1_config_module() == "isaaclab_tasks.contrib.velocity.config.go1"


@pytest.mark.parametrize(("task", "stock"), [(ROUGH, "UnitreeGo1RoughEnvCfg"), (FLAT, "UnitreeGo1FlatEnvCfg")])
def test_sber_changes_nothing_in_the_stock_mdp(task, stock):
    from isaac_hydra_ext.isaaclab import go1

    assert as_dict(load(task, "env_cfg_entry_point")) == as_dict(getattr(go1, stock)())


@pytest.mark.parametrize(("task", "play_task"), [(ROUGH, ROUGH_PLAY), (FLAT, FLAT_PLAY)])
def test_play_ids_equal_play_mode_and_isaaclabs_play_mode(task, play_task):
    from isaac_hydra_ext.isaaclab import go1
    from isaaclab_tasks.utils.hydra import resolve_presets

    play = resolve_presets(load(play_task, "env_cfg_entry_point"))
    assert play.scene.num_envs == 50 and play.observations.policy.enable_corruption is False
    assert play.events.push_robot is None and play.events.base_external_force_torque is None
    via_compat, _ = compat.resolve_task_configs(task, play_mode=True, overrides=[])
    assert as_dict(via_compat) == as_dict(play)
    stock = (go1.UnitreeGo1FlatEnvCfg if "-Flat-" in task else go1.UnitreeGo1RoughEnvCfg)()
    stock.play_mode()
    assert as_dict(play) == as_dict(resolve_presets(stock))
    assert as_dict(play) != as_dict(resolve_presets(load(task, "env_cfg_entry_point")))


@pytest.mark.parametrize("task", [ROUGH, FLAT])
def test_2x_play_mode_emulation_matches_isaaclab_3x_play_mode(task):
    """On 2.x our play_mode() makes the changes of 2.x's _PLAY classes; they equal 3.x's play_mode()."""
    from isaac_hydra_ext.isaaclab import go1

    emulated, native = load(task, "env_cfg_entry_point"), load(task, "env_cfg_entry_point")
    go1._play_mode_2x(emulated)
    native.play_mode()
    assert as_dict(emulated) == as_dict(native)
    assert emulated.scene.num_envs == 50


def test_default_physics_presets_resolve_as_isaaclab_does():
    rough, _ = compat.resolve_task_configs(ROUGH, overrides=[])
    flat, _ = compat.resolve_task_configs(FLAT, overrides=[])
    newton, _ = compat.resolve_task_configs(FLAT, overrides=["physics=newton_mjwarp"])
    assert type(rough.sim.physics).__name__ == "NewtonCfg"  # kit-less by default
    assert type(flat.sim.physics).__name__ == "PhysxCfg"  # stock flat Go1 defaults to Isaac Sim PhysX
    assert type(newton.sim.physics).__name__ == "NewtonCfg"


# ---- overrides through compat -----------------------------------------------------------------------------------


def test_overrides_reach_the_objects():
    env_cfg, agent_cfg = compat.resolve_task_configs(
        ROUGH,
        overrides=[
            "env.scene.num_envs=64",
            "agent.learning_rate=0.0003",
            "agent.actor_hidden_dims=[64,64]",
            "env.events.push_robot=None",
            "env.sim.physics=isaacsim_physx",
        ],
    )
    assert env_cfg.scene.num_envs == 64
    assert agent_cfg.learning_rate == 0.0003 and agent_cfg.actor_hidden_dims == [64, 64]
    assert env_cfg.events.push_robot is None
    assert type(env_cfg.sim.physics).__name__ == "PhysxCfg"  # a preset selection, resolved by Isaac Lab


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("agent.learning_rate=fast", "'agent.learning_rate' expects float, got str 'fast'"),
        ("agent.nope=3", "unknown key 'nope' in agent (SberGo1RoughAPPORunnerCfg)"),
        ("env.scene.num_envs=1.5", "'env.scene.num_envs' expects int, got float 1.5"),
        ("env.scene.num_env=8", "did you mean 'num_envs'"),
        ("agent.resume=1", "'agent.resume' expects bool, got int 1"),
        ("env.rewards.feet_air_time.weight=heavy", "'env.rewards.feet_air_time.weight' expects float"),
    ],
)
def test_bad_overrides_fail_with_a_clear_message(arg, expected):
    with pytest.raises(OverrideError) as exc:
        compat.resolve_task_configs(ROUGH, overrides=[arg])
    assert f"'{arg}'" in str(exc.value) and expected in str(exc.value)


def test_isaaclab_3x_alone_accepts_such_overrides():
    """Why compat checks overrides itself: Isaac Lab 3.0 sets env/agent literals with a plain setattr."""
    from isaaclab_tasks.utils.hydra import resolve_task_config

    _, agent_cfg = resolve_task_config(ROUGH, "appo_cfg_entry_point", overrides=["agent.nope=3", "agent.seed=x"])
    assert agent_cfg.nope == 3 and agent_cfg.seed == "x"


def test_2x_path_with_isaaclab_2_3_hydra_task_config(monkeypatch, tmp_path):
    """Our 2.x branch driving Isaac Lab 2.3.2's real ``hydra_task_config`` source (on 3.0's config classes)."""
    source = os.environ.get("IHE_ISAACLAB23_SOURCE", "")
    path = Path(source, "isaaclab_tasks", "isaaclab_tasks", "utils", "hydra.py")
    if not path.is_file():
        pytest.skip(f"Isaac Lab 2.3 sources not found (IHE_ISAACLAB23_SOURCE={source!r}); .ci/isaaclab_job.sh sets it")
    import isaaclab_tasks.utils

    name = "isaaclab_tasks.utils._hydra_2_3"  # inside a package: Hydra needs a package for config_path=None
    spec = importlib.util.spec_from_file_location(name, path)
    hydra_23 = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, hydra_23)
    spec.loader.exec_module(hydra_23)
    assert hasattr(hydra_23, "hydra_task_config") and not hasattr(hydra_23, "resolve_task_config")
    assert isaaclab_tasks.utils is not None
    monkeypatch.setattr(compat, "isaaclab_hydra", lambda: hydra_23)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["train.py", "--task", ROUGH])
    env_cfg, agent_cfg = compat.resolve_task_configs(
        ROUGH, play_mode=True, overrides=["env.scene.num_envs=64", "agent.learning_rate=0.0003"]
    )
    assert env_cfg.scene.num_envs == 64 and agent_cfg.learning_rate == 0.0003
    assert env_cfg.observations.policy.enable_corruption is False  # play mode applied
    assert type(agent_cfg).__name__ == "SberGo1RoughAPPORunnerCfg"
    assert sys.argv == ["train.py", "--task", ROUGH]
    assert list(tmp_path.iterdir()) == []  # no Hydra outputs/ folder, as on 3.x
    with pytest.raises(OverrideError, match="'agent.learning_rate' expects float"):
        compat.resolve_task_configs(ROUGH, overrides=["agent.learning_rate=fast"])


def test_runner_cfg_under_isaaclab_2_3_configclass():
    """APPORunnerCfg (a configclass subclass of the PPOConfig dataclass) built with Isaac Lab 2.3.2's configclass."""
    utils = Path(os.environ.get("IHE_ISAACLAB23_SOURCE", ""), "isaaclab", "isaaclab", "utils")
    if not (utils / "configclass.py").is_file():
        pytest.skip(f"Isaac Lab 2.3 sources not found ({utils}); .ci/isaaclab_job.sh sets IHE_ISAACLAB23_SOURCE")
    proc = run_python(
        f"""
        import dataclasses, importlib, json, sys, types
        # isaaclab.utils -> 2.3's utils folder, without its __init__ (which needs Isaac Sim)
        pkg = types.ModuleType("isaaclab"); pkg.__path__ = []
        utils = types.ModuleType("isaaclab.utils"); utils.__path__ = [{str(utils)!r}]
        sys.modules.update({{"isaaclab": pkg, "isaaclab.utils": utils}})
        configclass = importlib.import_module("isaaclab.utils.configclass").configclass
        utils.configclass = configclass
        from isaac_hydra_ext.config.schema import PPOConfig
        from isaac_hydra_ext.isaaclab.runner_cfg import APPORunnerCfg

        @configclass
        class Go1Like(APPORunnerCfg):  # the pattern of our Go1 agent configs: unannotated overrides
            learning_rate = 0.5
            actor_hidden_dims = [8, 8]

        cfg, other = Go1Like(), Go1Like()
        cfg.actor_hidden_dims.append(1)
        data = cfg.to_dict()
        cfg.from_dict({{"max_iterations": 3, "gamma": 0.9}})
        try:
            cfg.from_dict({{"gamma": "high"}})
            strict = False
        except ValueError:
            strict = True
        ppo = {{f.name for f in dataclasses.fields(PPOConfig)}}
        print(json.dumps({{
            "module": type(configclass).__module__ + ":" + configclass.__module__,
            "missing": sorted(ppo - {{f.name for f in dataclasses.fields(APPORunnerCfg)}}),
            "defaults_equal": all(getattr(APPORunnerCfg(), n) == getattr(PPOConfig(), n) for n in ppo),
            "lr": other.learning_rate, "dims": other.actor_hidden_dims, "dict_lr": data["learning_rate"],
            "it": cfg.max_iterations, "gamma": cfg.gamma, "strict": strict,
        }}))
        """
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["module"].endswith("isaaclab.utils.configclass")
    assert result["missing"] == [] and result["defaults_equal"]
    assert (result["lr"], result["dims"], result["dict_lr"]) == (0.5, [8, 8], 0.5)
    assert (result["it"], result["gamma"], result["strict"]) == (3, 0.9, True)


# ---- APPORunnerCfg ----------------------------------------------------------------------------------------------


def _class_body_names(source: Path, class_name: str) -> dict[str, bool]:
    """Field names assigned in a class body, each with whether a docstring follows it."""
    tree = ast.parse(source.read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name]
    names = {}
    for i, node in enumerate(cls.body):
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(target, ast.Name):
            after = cls.body[i + 1] if i + 1 < len(cls.body) else None
            names[target.id] = isinstance(after, ast.Expr) and isinstance(getattr(after, "value", None), ast.Constant)
    return names


def test_runner_cfg_has_every_ppo_field_with_the_same_type_and_default():
    from isaac_hydra_ext.isaaclab.runner_cfg import APPORunnerCfg

    ppo_fields = {f.name: f for f in dataclasses.fields(PPOConfig)}
    runner_fields = {f.name: f for f in dataclasses.fields(APPORunnerCfg)}
    assert set(ppo_fields) <= set(runner_fields)
    runner, ppo = APPORunnerCfg(), PPOConfig()
    for name, f in ppo_fields.items():
        assert runner_fields[name].type == f.type, name
        assert getattr(runner, name) == getattr(ppo, name), name
        assert type(getattr(runner, name)) is type(getattr(ppo, name)), name
    # one source of truth: APPORunnerCfg's body declares no PPOConfig field (names, docs, defaults are inherited)
    own = _class_body_names(RUNNER_CFG_SOURCE, "APPORunnerCfg")
    assert not set(own) & set(ppo_fields)
    assert own and all(own.values()), f"runner fields without a docstring: {[n for n, d in own.items() if not d]}"
    assert set(own) == set(runner_fields) - set(ppo_fields)


def test_runner_cfg_defaults_are_cli_safe():
    from isaac_hydra_ext.isaaclab.runner_cfg import APPORunnerCfg

    for f in dataclasses.fields(APPORunnerCfg):
        value = getattr(APPORunnerCfg(), f.name)
        assert value is not None, f"{f.name} defaults to None (Isaac Lab 2.x's Hydra cannot override it)"
        if "float" in str(f.type):
            assert isinstance(value, float), f"{f.name} is a float field with a {type(value).__name__} default"


def test_runner_cfg_is_a_configclass_that_round_trips():
    from isaac_hydra_ext.isaaclab.runner_cfg import APPORunnerCfg

    cfg = APPORunnerCfg()
    data = cfg.to_dict()
    assert data["learning_rate"] == PPOConfig().learning_rate and data["resume"] is False
    data.update(learning_rate=0.5, actor_hidden_dims=[8])
    other = APPORunnerCfg()
    other.from_dict(data)
    assert other.learning_rate == 0.5 and other.actor_hidden_dims == [8]
    with pytest.raises(ValueError, match="Incorrect type"):
        other.from_dict({"max_iterations": "many"})
    assert cfg.replace(seed=3).seed == 3 and cfg.copy() == cfg
    assert APPORunnerCfg().actor_hidden_dims is not APPORunnerCfg().actor_hidden_dims  # no shared mutables


def test_go1_appo_numbers_follow_isaaclabs_rsl_rl_go1():
    for task in (ROUGH, FLAT):
        appo, rsl = load(task, "appo_cfg_entry_point"), load(task, "rsl_rl_cfg_entry_point")
        alg = rsl.algorithm
        actor = getattr(rsl, "actor", None)
        hidden = list(actor.hidden_dims) if actor is not None else list(rsl.policy.actor_hidden_dims)
        assert appo.actor_hidden_dims == hidden and appo.critic_hidden_dims == hidden
        assert appo.steps_per_env == rsl.num_steps_per_env
        assert appo.max_iterations == rsl.max_iterations and appo.save_interval == rsl.save_interval
        assert appo.num_minibatches == alg.num_mini_batches
        for ours, theirs in [
            ("update_epochs", "num_learning_epochs"),
            ("learning_rate", "learning_rate"),
            ("schedule", "schedule"),
            ("desired_kl", "desired_kl"),
            ("gamma", "gamma"),
            ("lam", "lam"),
            ("clip_param", "clip_param"),
            ("entropy_coef", "entropy_coef"),
            ("value_loss_coef", "value_loss_coef"),
            ("max_grad_norm", "max_grad_norm"),
        ]:
            assert getattr(appo, ours) == getattr(alg, theirs), ours
        assert appo.envs_per_worker == load(task, "env_cfg_entry_point").scene.num_envs


def test_to_train_config_maps_every_field():
    from omegaconf import OmegaConf

    agent = load(ROUGH, "appo_cfg_entry_point")
    agent.seed, agent.device, agent.experiment_name, agent.output_dir = 7, "cpu", "exp", "logs/x"
    agent.save_interval, agent.keep_last_checkpoints, agent.save_on_exit = 10, 2, False
    agent.logger, agent.log_interval, agent.episode_window, agent.console = "none", 5, 20, "none"
    agent.max_wall_time_s, agent.torch_threads, agent.clip_actions = 60.0, 3, 1.5
    agent.learning_rate = 0.0003
    agent.use_data_augmentation, agent.use_mirror_loss, agent.mirror_loss_coeff = True, True, 0.5  # rsl_rl's names
    train = agent.to_train_config(ROUGH, num_envs=64, resume_path="runs/model_5.pt", distributed=True)
    assert (train.ppo.use_data_augmentation, train.ppo.use_mirror_loss, train.ppo.mirror_loss_coeff) == (
        True,
        True,
        0.5,
    )
    assert isinstance(train, TrainConfig)
    assert (train.env.backend, train.env.id, train.env.clip_actions) == ("isaaclab", ROUGH, True)
    assert train.env.kwargs == {"clip_actions": 1.5, "init_at_random_ep_len": True}
    expected_ppo = {f.name: getattr(agent, f.name) for f in dataclasses.fields(PPOConfig)} | {"envs_per_worker": 64}
    assert dataclasses.asdict(train.ppo) == expected_ppo
    assert dataclasses.asdict(train.logging) == {
        **dataclasses.asdict(LoggingConfig()),
        "tensorboard": False,
        "console": "none",
        "log_every_iterations": 5,
        "episode_window": 20,
        "wandb": False,
        "wandb_project": "isaaclab",
    }
    assert dataclasses.asdict(train.checkpoint) == {
        "every_iterations": 10,
        "keep_last": 2,
        "save_on_exit": False,
        "resume": "runs/model_5.pt",
        "allow_env_change": False,
    }
    assert dataclasses.asdict(train.experiment) == {
        "name": "exp",
        "output_dir": "logs/x",
        "seed": 7,
        "max_env_steps": 0,
        "max_iterations": 1500,
        "max_wall_time_s": 60.0,
        "device": "cpu",
        "torch_threads": 3,
        "distributed": True,
    }
    # the result passes the engine's schema (Hydra structured config) unchanged
    merged = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(TrainConfig), OmegaConf.structured(train)))
    assert merged == train
    agent.max_env_steps = 1000
    assert agent.to_train_config(ROUGH).experiment.max_env_steps == 1000
    agent.logger, agent.wandb_project = "wandb", "proj"  # rsl_rl's --logger wandb: W&B and TensorBoard
    logging_cfg = agent.to_train_config(ROUGH).logging
    assert (logging_cfg.wandb, logging_cfg.tensorboard, logging_cfg.wandb_project) == (True, True, "proj")
    agent.logger = "neptune"
    with pytest.raises(ValueError, match="agent.logger='neptune' is invalid"):
        agent.to_train_config(ROUGH)


def test_to_train_config_passes_the_engines_validation():
    validation = pytest.importorskip("isaac_hydra_ext.config.validation")
    for task in (ROUGH, FLAT):
        env_cfg, agent_cfg = compat.resolve_task_configs(task, overrides=[])
        validation.validate_config(agent_cfg.to_train_config(task, num_envs=env_cfg.scene.num_envs))
    _, agent_cfg = compat.resolve_task_configs(ROUGH, overrides=["agent.batch_size=384"])
    validation.validate_config(agent_cfg.to_train_config(ROUGH, num_envs=16))


def test_resume_checkpoint_uses_isaaclabs_checkpoint_search(tmp_path):
    agent = load(ROUGH, "appo_cfg_entry_point")
    agent.output_dir = str(tmp_path)
    assert agent.resume_checkpoint() == "" and agent.to_train_config(ROUGH).checkpoint.resume == ""
    for run, its in {"2026-01-01_00-00-00": (5,), "2026-02-01_00-00-00_b": (9, 10, 50)}.items():
        for it in its:
            (tmp_path / "sber_go1_rough" / run).mkdir(parents=True, exist_ok=True)
            (tmp_path / "sber_go1_rough" / run / f"model_{it}.pt").write_bytes(b"")
    agent.resume = True
    latest = tmp_path / "sber_go1_rough" / "2026-02-01_00-00-00_b" / "model_50.pt"
    assert agent.to_train_config(ROUGH).checkpoint.resume == str(latest)
    agent.load_run, agent.load_checkpoint = "2026-01-01.*", "model_5.pt"
    assert agent.resume_checkpoint() == str(tmp_path / "sber_go1_rough" / "2026-01-01_00-00-00" / "model_5.pt")
    assert agent.run_dir("T") == str(tmp_path / "sber_go1_rough" / "T")
    agent.run_name = "b"
    assert agent.run_dir("T") == str(tmp_path / "sber_go1_rough" / "T_b")


# ---- Isaac Lab interfaces the adapter and the scripts rely on ---------------------------------------------------


def test_manager_based_rl_env_interface():
    from isaaclab.envs import ManagerBasedRLEnv, ManagerBasedRLEnvCfg
    from isaaclab.envs.common import VecEnvStepReturn

    assert list(inspect.signature(ManagerBasedRLEnv.step).parameters) == ["self", "action"]
    reset = inspect.signature(ManagerBasedRLEnv.reset).parameters
    assert "seed" in reset and reset["seed"].kind is inspect.Parameter.KEYWORD_ONLY
    assert len(VecEnvStepReturn.__args__) == 5  # obs, reward, terminated, time_outs, extras
    for prop in ("num_envs", "device", "max_episode_length"):
        assert isinstance(inspect.getattr_static(ManagerBasedRLEnv, prop), property), prop
    fields = {f.name: f for f in dataclasses.fields(ManagerBasedRLEnvCfg)}
    for name in ("is_finite_horizon", "compute_final_obs"):  # configclass turns defaults into factories
        assert fields[name].default_factory() is False, name
    step_source = inspect.getsource(ManagerBasedRLEnv.step)
    assert 'self.extras["final_obs"]' in step_source and "self.cfg.compute_final_obs" in step_source
    assert 'self.extras["log"]' in inspect.getsource(ManagerBasedRLEnv._reset_idx)


def test_launcher_helpers_on_3x():
    import argparse

    assert compat.uses_launch_simulation()
    parser = argparse.ArgumentParser()
    compat.add_launcher_args(parser)
    args, rest = parser.parse_known_args(["--headless", "--device", "cpu", "env.scene.num_envs=2"])
    assert args.headless and args.device == "cpu" and rest == ["env.scene.num_envs=2"]


def test_isaaclab_cli_discovers_our_tasks_through_the_entry_point_group():
    proc = run_python(
        f"""
        import json, sys
        import gymnasium as gym
        before = "isaac_hydra_ext" in sys.modules or {ROUGH!r} in gym.registry
        from isaaclab.cli import load_external_tasks
        load_external_tasks()
        print(json.dumps({{"before": before, "after": [t for t in {list(SBER_TASKS)!r} if t in gym.registry]}}))
        """
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"before": False, "after": list(SBER_TASKS)}


def test_importing_our_package_imports_no_isaaclab_even_where_installed():
    proc = run_python(
        """
        import json, sys
        import isaac_hydra_ext, isaac_hydra_ext.isaaclab.compat
        prefixes = ("isaaclab", "omni", "isaacsim")
        print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0].startswith(prefixes))))
        """
    )
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
