"""Strict env/agent overrides (isaac_hydra_ext.isaaclab.overrides) on plain dataclasses: no Isaac Lab needed."""

from __future__ import annotations

import types
from dataclasses import dataclass, field, make_dataclass
from typing import TYPE_CHECKING, Literal, Optional

import pytest
from isaac_hydra_ext.isaaclab.overrides import (
    Override,
    OverrideError,
    apply_overrides,
    is_preset_selection,
    parse_literal,
    split_overrides,
)

if TYPE_CHECKING:
    from torch import Tensor  # only for type checkers: hints naming it cannot be resolved at run time


@dataclass
class TermCfg:
    weight: float = 1.0
    params: dict = field(default_factory=lambda: {"body": "trunk"})


@dataclass
class SceneCfg:
    num_envs: int = 4096
    env_spacing: float = 2.5
    replicate_physics: bool = True


@dataclass
class EnvCfg:
    scene: SceneCfg = field(default_factory=SceneCfg)
    push: TermCfg | None = field(default_factory=TermCfg)
    disabled: TermCfg | None = None
    decimation: int = 4
    max_init_level: int | None = 5
    maybe_seed: Optional[int] = None  # noqa: UP045 - the typing.Optional spelling must be understood too
    untyped: object = None
    device: str = "cuda:0"
    pos: tuple = (0.0, 0.0, 0.4)
    dims: list = field(default_factory=lambda: [512, 256])
    names: list = field(default_factory=lambda: ["a", "b"])


@dataclass
class AgentCfg:
    learning_rate: float = 1e-3
    max_iterations: int = 1500
    resume: bool = False
    run_name: str = ""
    actor_hidden_dims: list[int] = field(default_factory=lambda: [512, 256, 128])


def configs():
    return {"env": EnvCfg(), "agent": AgentCfg()}


def apply(*args):
    cfgs = configs()
    overrides, passthrough = split_overrides(list(args))
    assert passthrough == []
    apply_overrides(cfgs, overrides)
    return cfgs["env"], cfgs["agent"]


def error(*args) -> str:
    with pytest.raises(OverrideError) as exc:
        apply(*args)
    return str(exc.value)


def test_values_reach_the_objects_with_the_fields_types():
    env, agent = apply(
        "env.scene.num_envs=64",
        "agent.learning_rate=0.0003",
        "agent.max_iterations=10",
        "agent.resume=true",
        "env.scene.env_spacing=3",  # int for a float field: stored as float
        "env.pos=[1, 2, 3]",  # list for a tuple field: stays a tuple, floats
        "agent.actor_hidden_dims=[64,64]",
        "agent.run_name=123",  # str field: the text, not the int
        "env.device=cpu",
        "env.push.params.body=base",  # into a dict
    )
    assert env.scene.num_envs == 64 and agent.learning_rate == 0.0003 and agent.max_iterations == 10
    assert agent.resume is True
    assert env.scene.env_spacing == 3.0 and isinstance(env.scene.env_spacing, float)
    assert env.pos == (1.0, 2.0, 3.0) and all(isinstance(v, float) for v in env.pos)
    assert agent.actor_hidden_dims == [64, 64]
    assert agent.run_name == "123"
    assert env.device == "cpu"
    assert env.push.params == {"body": "base"}


def test_none_where_the_annotation_or_the_idiom_allows_it():
    env, _ = apply("env.push=None", "env.max_init_level=none", "env.maybe_seed=7", "env.untyped=[1]")
    assert env.push is None and env.max_init_level is None and env.maybe_seed == 7 and env.untyped == [1]
    env, _ = apply("env.maybe_seed=null")
    assert env.maybe_seed is None


def test_none_for_a_plain_str_field_is_the_text():
    # ``agent.logger=none`` (the value rsl_rl and our runner cfg use to switch logging off) was parsed to None and
    # refused as "expects str": a str field that cannot be None takes the word as written
    env, agent = apply("agent.run_name=none", "env.device=null")
    assert agent.run_name == "none" and env.device == "null"


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("agent.learning_rate=abc", "'agent.learning_rate' expects float, got str 'abc'"),
        ("agent.max_iterations=1.5", "'agent.max_iterations' expects int, got float 1.5"),
        ("agent.max_iterations=true", "'agent.max_iterations' expects int, got bool True"),
        ("agent.resume=1", "'agent.resume' expects bool, got int 1"),
        ("env.decimation=None", "'env.decimation' expects int, got NoneType None"),
        ("env.max_init_level=high", "'env.max_init_level' expects int or None, got str 'high'"),
        ("agent.actor_hidden_dims=[64,0.5]", "'agent.actor_hidden_dims' expects list[int], got list [64, 0.5]"),
        ("env.dims=7", "'env.dims' expects list[int], got int 7"),
        ("env.scene=3", "'env.scene' expects a config group (SceneCfg)"),
    ],
)
def test_wrong_types_name_key_value_and_expected_type(arg, expected):
    message = error(arg)
    assert f"'{arg}'" in message and expected in message


def test_unknown_keys_are_errors_with_suggestions():
    message = error("agent.learning_rat=0.1")
    assert "unknown key 'learning_rat' in agent (AgentCfg)" in message and "did you mean 'learning_rate'" in message
    message = error("env.scene.nope.deeper=1")
    assert "unknown key 'nope' in env.scene (SceneCfg)" in message
    assert "unknown key 'x'" in error("env.push.params.x=1")  # dict keys must exist too
    assert "'env.disabled' is None (disabled)" in error("env.disabled.weight=2.0")
    assert "is a int, not a config group" in error("env.decimation.x=1")


def test_all_problems_reported_together_and_nothing_applied():
    cfgs = configs()
    overrides, _ = split_overrides(["env.scene.num_envs=64", "agent.nope=1", "agent.learning_rate=x"])
    with pytest.raises(OverrideError) as exc:
        apply_overrides(cfgs, overrides)
    assert "agent.nope=1" in str(exc.value) and "agent.learning_rate=x" in str(exc.value)
    assert cfgs["env"].scene.num_envs == 4096  # all or nothing


def test_missing_section():
    overrides, _ = split_overrides(["agent.learning_rate=0.1"])
    with pytest.raises(OverrideError, match="no agent config"):
        apply_overrides({"env": EnvCfg(), "agent": None}, overrides)


def test_split_passes_selectors_and_hydra_settings_through():
    overrides, passthrough = split_overrides(
        [
            "presets=newton_mjwarp",
            "physics=ovphysx",
            "renderer=rtx",
            "hydra.run.dir=.",
            "hydra/job_logging=none",
            "env.scene.num_envs=8",
        ]
    )
    assert passthrough == [
        "presets=newton_mjwarp",
        "physics=ovphysx",
        "renderer=rtx",
        "hydra.run.dir=.",
        "hydra/job_logging=none",
    ]
    assert overrides == [Override("env", "scene.num_envs", "8")]
    assert overrides[0].key == "env.scene.num_envs" and overrides[0].arg == "env.scene.num_envs=8"


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("--headless", "not an override"),
        ("+agent.extra=3", "adding or deleting config keys is not supported"),
        ("~env.scene", "deleting config keys is not supported"),
        ("agent=3", "a whole section cannot be replaced"),
        ("foo.bar=1", "unknown override key 'foo.bar'"),
    ],
)
def test_split_rejects_what_cannot_be_an_override(arg, expected):
    with pytest.raises(OverrideError, match=expected):
        split_overrides([arg])


def test_parse_literal_matches_isaaclab():
    assert parse_literal("true") is True and parse_literal("False") is False
    assert parse_literal("none") is None and parse_literal("null") is None
    assert parse_literal("3") == 3 and parse_literal("1e-3") == 0.001 and parse_literal("[1, 2]") == [1, 2]
    assert parse_literal("newton_mjwarp") == "newton_mjwarp" and parse_literal("'quoted'") == "quoted"


def test_preset_selection_is_a_string_at_a_preset_path():
    presets = {"env.sim.physics"}
    assert is_preset_selection(Override("env", "sim.physics", "newton_mjwarp"), presets)
    assert not is_preset_selection(Override("env", "sim.physics", "3"), presets)
    assert not is_preset_selection(Override("env", "sim.device", "cpu"), presets)


def apply_to(cfg, *args):
    overrides, _ = split_overrides(list(args))
    apply_overrides({"env": cfg}, overrides)
    return cfg


def error_for(cfg, *args) -> str:
    with pytest.raises(OverrideError) as exc:
        apply_to(cfg, *args)
    return str(exc.value)


# Built with real type objects (not strings): ``int | None`` is a types.UnionType, Optional[...] a typing.Union.
NativeCfg = make_dataclass(
    "NativeCfg",
    [
        ("level", int | None, 5),
        ("widths", Optional[list[float]], None),  # noqa: UP045 - typing.Optional must be understood too
        ("pair", tuple[float, float], (0.0, 1.0)),
    ],
)


def test_native_union_and_optional_container_annotations():
    assert isinstance(NativeCfg.__dataclass_fields__["level"].type, types.UnionType)
    cfg = apply_to(NativeCfg(), "env.level=none", "env.widths=[1, 2.5]")
    assert cfg.level is None
    assert cfg.widths == [1.0, 2.5] and all(isinstance(v, float) for v in cfg.widths)
    assert apply_to(NativeCfg(), "env.level=2").level == 2
    assert apply_to(NativeCfg(widths=[1.0]), "env.widths=null").widths is None
    assert "'env.level' expects int or None, got float 2.0" in error_for(NativeCfg(), "env.level=2.0")
    assert "'env.widths' expects list[float] or None, got list ['a']" in error_for(NativeCfg(), "env.widths=['a']")


def test_fixed_length_tuple_checks_each_position_and_the_length():
    cfg = apply_to(NativeCfg(), "env.pair=[1, 2.5]")
    assert cfg.pair == (1.0, 2.5) and isinstance(cfg.pair, tuple) and all(isinstance(v, float) for v in cfg.pair)
    for bad in ("[1, 2, 3]", "(1, 'a')", "1.0"):
        assert "'env.pair' expects tuple[float, float]" in error_for(NativeCfg(), f"env.pair={bad}")


@dataclass
class BaseTaskCfg:
    level: int | None = 3


@dataclass
class PartlyTypedCfg(BaseTaskCfg):
    gain: Tensor | float = 0.5  # unresolvable at run time: the current value's type (float) rules
    hook: Tensor | None = None  # unresolvable and None now: any literal
    names: str | list[str] = "base"


def test_unresolvable_annotation_falls_back_to_the_current_type_and_spares_the_other_fields():
    cfg = apply_to(PartlyTypedCfg(), "env.gain=2", "env.hook=[1]", "env.level=none", "env.names=['a', 'b']")
    assert cfg.gain == 2.0 and isinstance(cfg.gain, float)
    assert cfg.hook == [1]
    assert cfg.level is None  # the inherited ``int | None`` is still read, though the class's hints fail as a whole
    assert cfg.names == ["a", "b"]
    assert "'env.gain' expects float, got str 'abc'" in error_for(PartlyTypedCfg(), "env.gain=abc")
    assert "'env.level' expects int or None, got str 'x'" in error_for(PartlyTypedCfg(), "env.level=x")


@dataclass
class UnionCfg:
    mix: float | str = 1.0
    num: int | float = 1
    names: str | list[str] = "base"
    mode: Literal["add", "scale"] | None = "add"


def test_unions_try_exact_scalars_first_then_float_then_str():
    cfg = apply_to(UnionCfg(), "env.mix=3", "env.num=3", "env.names=trunk")
    assert cfg.mix == 3.0 and isinstance(cfg.mix, float)
    assert cfg.num == 3 and isinstance(cfg.num, int)
    assert cfg.names == "trunk"
    cfg = apply_to(UnionCfg(), "env.mix=abc", "env.num=2.5", "env.names=['a']")
    assert cfg.mix == "abc" and cfg.num == 2.5 and cfg.names == ["a"]


def test_literal_fields_take_one_of_their_choices():
    assert apply_to(UnionCfg(), "env.mode=scale").mode == "scale"
    assert apply_to(UnionCfg(), "env.mode=none").mode is None
    assert "'env.mode' expects 'add' or 'scale' or None, got str 'abs'" in error_for(UnionCfg(), "env.mode=abs")


@dataclass
class GainsCfg:
    stiffness: float = 20.0
    joint_names: list[str] = field(default_factory=lambda: [".*_hip_joint"])


@dataclass
class ActuatorsCfg:
    legs: GainsCfg = field(default_factory=GainsCfg)
    arm: GainsCfg = None  # annotated as a group (not Optional) and disabled: None stays allowed


@dataclass
class RobotCfg:
    actuators: ActuatorsCfg = field(default_factory=ActuatorsCfg)
    mass_scale: tuple[float, float] = (0.9, 1.1)


@dataclass
class NestedEnvCfg:
    robot: RobotCfg = field(default_factory=RobotCfg)


def test_nested_config_groups_use_each_level_s_own_annotations():
    cfg = apply_to(
        NestedEnvCfg(),
        "env.robot.actuators.legs.stiffness=30",
        "env.robot.actuators.legs.joint_names=['.*_knee_joint']",
        "env.robot.mass_scale=[1, 1]",
        "env.robot.actuators.arm=None",
    )
    legs = cfg.robot.actuators.legs
    assert legs.stiffness == 30.0 and isinstance(legs.stiffness, float)
    assert legs.joint_names == [".*_knee_joint"] and cfg.robot.mass_scale == (1.0, 1.0)
    assert apply_to(NestedEnvCfg(), "env.robot.actuators.legs=None").robot.actuators.legs is None
    message = error_for(NestedEnvCfg(), "env.robot.actuators.legs.joint_names=[1]")
    assert "'env.robot.actuators.legs.joint_names' expects list[str], got list [1]" in message
    assert "expects a config group (ActuatorsCfg)" in error_for(NestedEnvCfg(), "env.robot.actuators=3")
    assert "expects GainsCfg (not settable" in error_for(NestedEnvCfg(), "env.robot.actuators.arm=3")
    assert "unknown key 'stifness'" in error_for(NestedEnvCfg(), "env.robot.actuators.legs.stifness=1")


def test_plain_objects_without_annotations_use_the_current_types():
    cfg = apply_to(types.SimpleNamespace(lr=0.1, steps=10, tags=["a"]), "env.lr=1", "env.steps=20", "env.tags=['b']")
    assert cfg.lr == 1.0 and isinstance(cfg.lr, float) and cfg.steps == 20 and cfg.tags == ["b"]
    assert "'env.steps' expects int, got float 0.5" in error_for(types.SimpleNamespace(steps=10), "env.steps=0.5")
    assert "'env.tags' expects list[str], got list [1]" in error_for(types.SimpleNamespace(tags=["a"]), "env.tags=[1]")
