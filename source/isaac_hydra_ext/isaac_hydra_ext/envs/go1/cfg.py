"""Typed configuration of the Go1 flat velocity-tracking task (mirrors Isaac Lab's ``UnitreeGo1FlatEnvCfg``).

Defaults reproduce Isaac Lab 2.3 ``locomotion/velocity/config/go1/flat_env_cfg.py`` on top of ``rough_env_cfg.py``
and the base ``velocity_env_cfg.py``; each field's docstring names the Isaac Lab setting it mirrors and
docs/go1_task.md lists every difference. Constructor keyword arguments of the env override fields through
:func:`apply_overrides`, with nested dicts for the sections, e.g.
``Go1VelocityEnv(16, rewards={"feet_air_time": 0.5}, events={"push_robot": True})``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

from ...assets.go1 import GO1, Go1Params


@dataclass
class SimCfg:
    """Physics stepping and MuJoCo solver settings."""

    dt: float = 0.005
    """Physics time step in s (Isaac Lab ``sim.dt = 1/200``)."""
    decimation: int = 4
    """Physics steps per policy step (Isaac Lab ``decimation = 4`` -> 50 Hz policy)."""
    episode_length_s: float = 20.0
    """Episode time limit in s (Isaac Lab ``episode_length_s = 20``); the step limit is
    ``round(episode_length_s / (dt * decimation))`` = 1000. Through ``gym.make_vec`` the registered
    ``max_episode_steps`` (1000) also arrives and both must agree: change the limit with ``max_episode_steps``."""
    integrator: str = "implicitfast"
    """MuJoCo integrator: ``euler``, ``implicitfast`` (default: implicit in the PD damping, stable at 5 ms) or
    ``implicit``."""
    solver: str = "newton"
    """MuJoCo constraint solver: ``newton``, ``cg`` or ``pgs``."""
    iterations: int = 4
    """Maximum constraint solver iterations per physics step (Newton converges in 1-3 on flat ground)."""
    ls_iterations: int = 8
    """Maximum line-search iterations per solver iteration."""
    cone: str = "pyramidal"
    """Friction cone: ``pyramidal`` (cheaper) or ``elliptic``."""
    impratio: float = 1.0
    """Ratio of frictional to normal constraint impedance (elliptic cones only); larger = less creep."""
    noslip_iterations: int = 2
    """Iterations of MuJoCo's no-slip post-solver (0 = off). MuJoCo's soft friction lets a standing Go1's feet
    creep apart (~4 cm in 8 s, the trunk sinks ~2 cm); PhysX friction does not creep, and 2 iterations
    remove it at little cost."""
    nthread: int = 1
    """Threads stepping the B worlds (``mujoco.rollout``); 1 suits a worker process that owns one core."""


@dataclass
class ActionCfg:
    """Joint-position action (Isaac Lab ``JointPositionActionCfg(joint_names=[".*"], use_default_offset=True)``)."""

    scale: float = 0.25
    """PD target = default joint pos + scale * action (Isaac Lab Go1 ``actions.joint_pos.scale = 0.25``)."""
    clip: float | None = None
    """If set, actions are clipped to [-clip, clip] and the action space is bounded; None = unbounded
    (Isaac Lab: no clipping)."""


@dataclass
class CommandsCfg:
    """Base-velocity command generator (Isaac Lab ``UniformVelocityCommandCfg`` ``base_velocity``)."""

    resampling_time_s: float = 10.0
    """Commands are resampled every this many seconds (``resampling_time_range=(10, 10)``)."""
    rel_standing_envs: float = 0.02
    """Probability that a resampled command is zero (standing) (``rel_standing_envs``)."""
    heading_command: bool = True
    """Yaw-rate command from a heading target: ``clip(stiffness * wrap(heading_target - heading))``
    (``heading_command=True``)."""
    rel_heading_envs: float = 1.0
    """Probability that an env uses heading control when ``heading_command`` (``rel_heading_envs``)."""
    heading_control_stiffness: float = 0.5
    """Gain from heading error (rad) to yaw-rate command (rad/s) (``heading_control_stiffness``)."""
    lin_vel_x: tuple[float, float] = (-1.0, 1.0)
    """Forward velocity command range in m/s (``ranges.lin_vel_x``)."""
    lin_vel_y: tuple[float, float] = (-1.0, 1.0)
    """Lateral velocity command range in m/s (``ranges.lin_vel_y``)."""
    ang_vel_z: tuple[float, float] = (-1.0, 1.0)
    """Yaw-rate command range in rad/s; also the clip of the heading controller (``ranges.ang_vel_z``)."""
    heading: tuple[float, float] = (-math.pi, math.pi)
    """Heading target range in rad (``ranges.heading``)."""
    fixed_command: tuple[float, float, float] | None = None
    """If set, every env always gets this (vx, vy, yaw rate) command: no sampling, heading or standing (Play)."""


@dataclass
class ObservationNoiseCfg:
    """Additive uniform noise U(-n, n) on the policy observation (Isaac Lab ``Unoise`` terms)."""

    enable_corruption: bool = True
    """Add the noise (Isaac Lab ``enable_corruption=True``; Play: False)."""
    base_lin_vel: float = 0.1
    """Base linear velocity noise (m/s)."""
    base_ang_vel: float = 0.2
    """Base angular velocity noise (rad/s)."""
    projected_gravity: float = 0.05
    """Projected gravity noise (unit vector components)."""
    joint_pos: float = 0.01
    """Joint position noise (rad)."""
    joint_vel: float = 1.5
    """Joint velocity noise (rad/s)."""


@dataclass
class RewardsCfg:
    """Reward weights and parameters (Isaac Lab ``RewardsCfg`` with the Go1 rough + flat overrides).

    A weight of ``None`` removes the term (Isaac Lab sets the term to ``None``); ``0.0`` keeps it in the
    logs with value 0 without computing it (Isaac Lab's reward manager skips zero weights). Every
    weighted term is multiplied by the policy step dt (0.02 s), as Isaac Lab's reward manager does.
    """

    track_lin_vel_xy_exp: float | None = 1.5
    """exp(-|cmd_xy - v_xy|^2 / std^2) (base 1.0, Go1 1.5)."""
    track_ang_vel_z_exp: float | None = 0.75
    """exp(-(cmd_wz - w_z)^2 / std^2) (base 0.5, Go1 0.75)."""
    lin_vel_z_l2: float | None = -2.0
    """v_z^2 in the base frame."""
    ang_vel_xy_l2: float | None = -0.05
    """w_x^2 + w_y^2 in the base frame."""
    dof_torques_l2: float | None = -2.0e-4
    """sum of squared applied joint torques (base -1e-5, Go1 -2e-4)."""
    dof_acc_l2: float | None = -2.5e-7
    """sum of squared joint accelerations (finite difference over the last physics step)."""
    action_rate_l2: float | None = -0.01
    """sum of squared action changes."""
    feet_air_time: float | None = 0.25
    """sum over feet touching down of (air time - threshold), zero when |cmd_xy| <= min command (base 0.125,
    Go1 rough 0.01, Go1 flat 0.25)."""
    undesired_contacts: float | None = None
    """number of ``undesired_contact_bodies`` in contact (base -1.0 on ``.*THIGH``; Go1 sets it to None)."""
    flat_orientation_l2: float | None = -2.5
    """g_x^2 + g_y^2 of the projected gravity (base 0.0, Go1 flat -2.5)."""
    dof_pos_limits: float | None = 0.0
    """sum of joint position violations of the soft limits (base 0.0)."""

    tracking_std: float = 0.5
    """std of both tracking kernels (Isaac Lab ``std=math.sqrt(0.25)``)."""
    feet_air_time_threshold: float = 0.5
    """Air time (s) that breaks even in ``feet_air_time`` (``threshold=0.5``)."""
    feet_air_time_min_command: float = 0.1
    """``feet_air_time`` is zero unless |cmd_xy| exceeds this (Isaac Lab hard-codes 0.1)."""
    undesired_contact_bodies: str = ".*_thigh"
    """Regex over body names for ``undesired_contacts`` (Isaac Lab ``.*THIGH`` for ANYmal names)."""
    undesired_contact_threshold: float = 1.0
    """Contact force norm (N) counted as a contact in ``undesired_contacts``."""


@dataclass
class TerminationsCfg:
    """Termination terms (Isaac Lab ``TerminationsCfg``; time-out is the episode limit in :class:`SimCfg`)."""

    base_contact_bodies: str = "trunk"
    """Regex over body names whose contact ends the episode (Go1 ``base_contact`` body ``trunk``)."""
    base_contact_threshold: float = 1.0
    """Contact force norm (N) above which ``base_contact`` fires (``threshold=1.0``)."""


@dataclass
class ContactSensorCfg:
    """Contact sensing at physics rate (Isaac Lab ``ContactSensorCfg`` ``contact_forces``)."""

    history_length: int = 3
    """Physics steps of force history the contact terms take the max over (``history_length=3``; the
    sensor updates every physics step). At most ``sim.decimation``."""
    force_threshold: float = 1.0
    """Force norm (N) above which a foot counts as in contact for the air-time timers (``force_threshold``)."""


@dataclass
class EventsCfg:
    """Domain randomization (Isaac Lab ``EventCfg`` with the Go1 overrides)."""

    randomize_friction: bool = True
    """Sample one friction coefficient per env at startup (Isaac Lab ``physics_material``, mode startup)."""
    friction_range: tuple[float, float] = (0.8, 0.8)
    """Friction range (Isaac Lab static_friction_range (0.8, 0.8) x ground 1.0, multiply)."""
    randomize_base_mass: bool = True
    """Add a uniform mass to the base at startup (Isaac Lab ``add_base_mass``, mode startup)."""
    added_mass_range: tuple[float, float] = (-1.0, 3.0)
    """Added base mass range in kg (Go1 override ``(-1.0, 3.0)``); the inertia scales with the mass."""
    base_mass_body: str = "trunk"
    """Body that receives the added mass (Go1 ``trunk``)."""
    reset_pose_x: tuple[float, float] = (-0.5, 0.5)
    """Base x offset at reset in m (``reset_base`` pose_range x)."""
    reset_pose_y: tuple[float, float] = (-0.5, 0.5)
    """Base y offset at reset in m (pose_range y)."""
    reset_pose_yaw: tuple[float, float] = (-3.14, 3.14)
    """Base yaw at reset in rad (pose_range yaw)."""
    reset_pose_roll: tuple[float, float] = (0.0, 0.0)
    """Base roll at reset in rad (not set by Isaac Lab -> 0)."""
    reset_pose_pitch: tuple[float, float] = (0.0, 0.0)
    """Base pitch at reset in rad (not set by Isaac Lab -> 0)."""
    reset_lin_vel: tuple[float, float] = (0.0, 0.0)
    """Range of each world-frame base linear velocity component at reset (Go1: all zero; base task +-0.5)."""
    reset_ang_vel: tuple[float, float] = (0.0, 0.0)
    """Range of each world-frame base angular velocity component at reset (Go1: all zero; base task +-0.5)."""
    reset_joint_pos_scale: tuple[float, float] = (1.0, 1.0)
    """Joint positions at reset = default * U(range), clipped to the soft limits (Go1 ``(1.0, 1.0)``)."""
    reset_joint_vel_scale: tuple[float, float] = (0.0, 0.0)
    """Joint velocities at reset = default (0) * U(range) (``velocity_range=(0.0, 0.0)``)."""
    push_robot: bool = False
    """Interval pushes that add a random base velocity (Isaac Lab 2.3 Go1: ``push_robot = None``; 3.0 keeps
    the base task's push)."""
    push_interval_s: tuple[float, float] = (10.0, 15.0)
    """Seconds between pushes, sampled per env (``interval_range_s=(10.0, 15.0)``)."""
    push_velocity_xy: tuple[float, float] = (-0.5, 0.5)
    """Range of the x and y base velocity added by a push in m/s (base task ``velocity_range``)."""


@dataclass
class Go1VelocityTaskCfg:
    """The whole Go1 flat velocity-tracking task (Isaac Lab ``UnitreeGo1FlatEnvCfg``)."""

    sim: SimCfg = field(default_factory=SimCfg)
    """Physics and episode timing."""
    robot: Go1Params = GO1
    """The robot parameter table (masses, geometry, limits, PD gains)."""
    action: ActionCfg = field(default_factory=ActionCfg)
    """Action scaling."""
    commands: CommandsCfg = field(default_factory=CommandsCfg)
    """Velocity commands."""
    noise: ObservationNoiseCfg = field(default_factory=ObservationNoiseCfg)
    """Observation noise."""
    rewards: RewardsCfg = field(default_factory=RewardsCfg)
    """Reward terms."""
    terminations: TerminationsCfg = field(default_factory=TerminationsCfg)
    """Termination terms."""
    contact: ContactSensorCfg = field(default_factory=ContactSensorCfg)
    """Contact sensing."""
    events: EventsCfg = field(default_factory=EventsCfg)
    """Domain randomization."""
    init_at_random_ep_len: bool = True
    """After a seeded reset, start each env at a random step of its first episode so time-outs spread out
    (rsl_rl/Isaac Lab ``runner.learn(init_at_random_ep_len=True)``); later episodes start at 0."""
    model_path: str | None = None
    """MJCF file of a Go1 to use instead of the built-in model (must use Unitree names; its actuators,
    sensors and keyframes are replaced by the task's)."""

    @property
    def step_dt(self) -> float:
        """Policy step in s: dt * decimation (0.02)."""
        return self.sim.dt * self.sim.decimation


def play_cfg(lin_vel_x: float = 0.5) -> Go1VelocityTaskCfg:
    """Return the Play variant: a fixed forward command, no observation noise, no pushes, no random episode start.

    As Isaac Lab's ``UnitreeGo1FlatEnvCfg_PLAY``, the start-state and startup randomization stay (reset pose, added
    base mass, friction), so the B envs of a replay are B different episodes rather than B copies of one; a seeded
    ``reset(seed=...)`` draws them all again from the seed, so a replay is reproducible.
    """
    cfg = Go1VelocityTaskCfg()
    cfg.commands.fixed_command = (lin_vel_x, 0.0, 0.0)
    cfg.noise.enable_corruption = False
    cfg.events.push_robot = False
    cfg.init_at_random_ep_len = False
    return cfg


def apply_overrides(cfg: Any, overrides: Mapping[str, Any], path: str = "") -> Any:
    """Return a copy of dataclass ``cfg`` with ``overrides`` applied; nested dataclasses take nested dicts.

    Lists become tuples where the field is a tuple (Hydra passes lists). An unknown key raises
    ``TypeError`` naming it and listing the allowed keys of its section.
    """
    hints = get_type_hints(type(cfg))
    names = [f.name for f in dataclasses.fields(cfg)]
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        where = f"{path}{key}"
        if key not in names:
            section = f" in section '{path[:-1]}'" if path else ""
            raise TypeError(f"unknown Go1 task argument '{where}'{section}; allowed: {', '.join(sorted(names))}")
        current = getattr(cfg, key)
        if dataclasses.is_dataclass(current) and isinstance(value, Mapping):
            changes[key] = apply_overrides(current, value, f"{where}.")
        elif dataclasses.is_dataclass(current) and not dataclasses.is_dataclass(value):
            raise TypeError(f"Go1 task argument '{where}' takes a dict of fields or a {type(current).__name__}")
        else:
            changes[key] = _coerce(value, hints.get(key), where)
    return dataclasses.replace(cfg, **changes)


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Check ``value`` against the field's type ``hint`` and convert Hydra/YAML values to it.

    Lists become tuples, ints become floats where the field is a float; a value of another type (a string for a
    number, a number for a flag, a scalar for a range) raises ``TypeError`` naming the field and the type it takes.
    Types other than these scalars, tuples and their ``| None`` pass through unchecked.
    """
    options, nullable = _union_options(hint)
    if value is None:
        if nullable:
            return None
        raise TypeError(f"Go1 task argument '{where}' takes {_type_name(hint)}, got None")
    if len(options) != 1:
        return value
    kind = options[0]
    if get_origin(kind) is tuple:
        args = get_args(kind)
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise TypeError(f"Go1 task argument '{where}' takes {_type_name(hint)}, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            element_types = [args[0]] * len(value)
        else:
            element_types = list(args)
            if len(value) != len(args):
                what = " (low, high)" if len(args) == 2 else ""
                raise ValueError(f"Go1 task argument '{where}' needs {len(args)} values{what}, got {tuple(value)!r}")
        return tuple(_coerce(v, t, where) for v, t in zip(value, element_types))
    if kind is bool and not isinstance(value, bool):
        raise TypeError(f"Go1 task argument '{where}' takes true or false, got {value!r}")
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError(f"Go1 task argument '{where}' takes an integer, got {value!r}")
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"Go1 task argument '{where}' takes a number, got {value!r}")
        return float(value)
    if kind is str and not isinstance(value, str):
        raise TypeError(f"Go1 task argument '{where}' takes a string, got {value!r}")
    return value


def _union_options(hint: Any) -> tuple[list[Any], bool]:
    """The types a field's hint allows besides None, and whether it allows None (``float | None``: [float], True)."""
    if get_origin(hint) not in (Union, UnionType):
        return [hint], False
    options = [a for a in get_args(hint) if a is not type(None)]
    return options, len(options) < len(get_args(hint))


def _type_name(hint: Any) -> str:
    """How an error message names a field's type: ``a number``, ``2 numbers``, ``a string or null``..."""
    options, nullable = _union_options(hint)
    if len(options) > 1 or nullable:
        return " or ".join(_type_name(a) for a in options) + (" or null" if nullable else "")
    if get_origin(hint) is tuple:
        args = get_args(hint)
        element = _type_name(args[0]).removeprefix("a ").removeprefix("an ")
        count = "" if len(args) == 2 and args[1] is Ellipsis else f"{len(args)} "
        return f"a list of {count}{element}s"
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(hint, str(hint))
