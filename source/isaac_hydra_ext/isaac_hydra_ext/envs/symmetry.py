"""Left-right mirrors of observations and actions, for symmetry augmentation (rsl_rl's ``symmetry_cfg``).

A *mirror* is any object with ``mirror_observation(obs)`` and ``mirror_action(actions)`` (and
``mirror_critic_observation(critic_obs)`` for a task with privileged critic observations), each mapping a batch
``(..., dim)`` to its mirror image, an involution: mirroring twice gives the input back. A task names the factory
that builds its mirror from its :class:`~.vec_env.EnvSpec` (the ``mirror_function`` task hook,
:mod:`.deployment`); :func:`resolve_mirror` imports and calls it in the learner process.

:func:`quadruped_mirror` is the factory of Unitree-named quadrupeds (legs ``FL FR RL RR``, joints
``<leg>_<hip|thigh|calf>_joint``: the Go1 tasks, embedded and Isaac Lab), built from the task's deployment info
(joint order and observation terms), so it follows whatever joint order the physics backend uses. Reflecting the
world in the base's x-z plane (y -> -y):

* polar vectors flip their y component: base linear velocity, projected gravity;
* the angular velocity is a pseudovector: w -> (-w_x, w_y, -w_z);
* commands (v_x, v_y, w_z) -> (v_x, -v_y, -w_z);
* joints: left and right legs swap (FL <-> FR, RL <-> RR) and the hip abduction angles change sign (thigh and
  calf rotate about the y axis, which the reflection keeps); joint positions, velocities and actions alike;
* a height scan on Isaac Lab's (11 y, 17 x) grid flips its y rows.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from ..config.schema import AlgorithmConfig
from .vec_env import EnvSpec


class MirrorError(ValueError):
    """A mirror cannot be built or found for the task; the message (one line) says why."""


class TaskMirror(Protocol):
    """What symmetry augmentation needs from a task (see the module docstring)."""

    def mirror_observation(self, obs: torch.Tensor) -> torch.Tensor:
        """The mirror image of a batch of policy observations (..., obs_dim)."""
        ...

    def mirror_action(self, actions: torch.Tensor) -> torch.Tensor:
        """The mirror image of a batch of actions (..., act_dim)."""
        ...


class SignedPermutation:
    """``out[..., i] = sign[i] * x[..., perm[i]]``: a column permutation with a sign per column."""

    def __init__(self, perm: Sequence[int], sign: Sequence[float]):
        """``perm`` and ``sign`` of equal length (the vector size)."""
        if len(perm) != len(sign):
            raise MirrorError(f"a signed permutation needs one sign per index, got {len(perm)} and {len(sign)}")
        if sorted(perm) != list(range(len(perm))):
            raise MirrorError(f"{list(perm)} is not a permutation of 0..{len(perm) - 1}")
        self.perm = [int(p) for p in perm]
        self.sign = [float(s) for s in sign]
        self._cache: dict[tuple[torch.device, torch.dtype], tuple[torch.Tensor, torch.Tensor]] = {}

    @property
    def dim(self) -> int:
        """The vector size it acts on."""
        return len(self.perm)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The permuted, sign-flipped copy of ``x`` (..., dim)."""
        key = (x.device, x.dtype)
        if key not in self._cache:
            self._cache[key] = (
                torch.tensor(self.perm, dtype=torch.long, device=x.device),
                torch.tensor(self.sign, dtype=x.dtype, device=x.device),
            )
        perm, sign = self._cache[key]
        return x.index_select(-1, perm) * sign

    def is_involution(self) -> bool:
        """Whether applying it twice is the identity: perm[perm[i]] == i and sign[i] * sign[perm[i]] == 1."""
        return all(self.perm[p] == i and self.sign[i] * self.sign[p] == 1.0 for i, p in enumerate(self.perm))


@dataclass
class Mirror:
    """A task mirror made of signed permutations (every mirror of this module)."""

    observation: SignedPermutation
    """Acts on the policy observation."""
    action: SignedPermutation
    """Acts on the action."""
    critic_observation: SignedPermutation | None = None
    """Acts on the privileged critic observation (None: the task has none, or no mirror for it)."""

    def mirror_observation(self, obs: torch.Tensor) -> torch.Tensor:
        """Mirror a batch of policy observations."""
        return self.observation(obs)

    def mirror_action(self, actions: torch.Tensor) -> torch.Tensor:
        """Mirror a batch of actions."""
        return self.action(actions)

    def mirror_critic_observation(self, obs: torch.Tensor) -> torch.Tensor:
        """Mirror a batch of critic observations (raises :class:`MirrorError` when there is no mirror for them)."""
        if self.critic_observation is None:
            raise MirrorError("this task's mirror has no mirror of the critic observation")
        return self.critic_observation(obs)


# ---- Unitree-named quadrupeds ------------------------------------------------------------------------------------
VECTOR_TERM_SIGNS: dict[str, tuple[float, ...]] = {
    "base_lin_vel": (1.0, -1.0, 1.0),
    "base_ang_vel": (-1.0, 1.0, -1.0),
    "projected_gravity": (1.0, -1.0, 1.0),
    "velocity_commands": (1.0, -1.0, -1.0),
}
"""Left-right signs of the base and command terms (see the module docstring)."""
JOINT_TERMS = ("joint_pos", "joint_vel", "actions", "joint_pos_rel", "joint_vel_rel", "last_action")
"""Observation terms with one entry per joint, in action order."""
HEIGHT_SCAN_TERM = "height_scan"
"""Isaac Lab's height scan: rays on an (11, 17) grid of (y, x), y-major (``GridPatternCfg`` size (1.6, 1.0), 0.1 m)."""
HEIGHT_SCAN_GRID = (11, 17)
"""(rows along y, columns along x) of the height-scan grid."""
_SIDE_SWAP = {"L": "R", "R": "L"}


def quadruped_joint_mirror(joint_names: Sequence[str]) -> SignedPermutation:
    """Left-right mirror over joints named ``<F|R><L|R>_<kind>_joint``: swap sides, negate the ``hip`` joints."""
    names = list(joint_names)
    perm, sign = [], []
    for name in names:
        leg, _, rest = name.partition("_")
        if len(leg) != 2 or leg[0] not in "FR" or leg[1] not in _SIDE_SWAP or not rest:
            raise MirrorError(
                f"joint {name!r} is not named <FL|FR|RL|RR>_<joint>: the quadruped mirror cannot pair it with its "
                "mirror joint"
            )
        twin = f"{leg[0]}{_SIDE_SWAP[leg[1]]}_{rest}"
        if twin not in names:
            raise MirrorError(f"joint {name!r} has no mirror joint {twin!r} among the action joints")
        perm.append(names.index(twin))
        sign.append(-1.0 if rest.split("_")[0] == "hip" else 1.0)
    return SignedPermutation(perm, sign)


def quadruped_observation_mirror(
    terms: Sequence[dict[str, Any]], obs_dim: int, joints: SignedPermutation
) -> SignedPermutation:
    """Left-right mirror over an observation made of ``terms`` (dicts with ``name``, ``start``, ``stop``)."""
    perm, sign = list(range(obs_dim)), [1.0] * obs_dim
    covered = 0
    for term in terms:
        name, start, stop = str(term["name"]), int(term["start"]), int(term["stop"])
        size = stop - start
        covered += size
        if name in VECTOR_TERM_SIGNS and size == 3:
            sign[start:stop] = VECTOR_TERM_SIGNS[name]
        elif name in JOINT_TERMS and size == joints.dim:
            perm[start:stop] = [start + p for p in joints.perm]
            sign[start:stop] = joints.sign
        elif name == HEIGHT_SCAN_TERM and size == HEIGHT_SCAN_GRID[0] * HEIGHT_SCAN_GRID[1]:
            grid = torch.arange(start, stop).view(*HEIGHT_SCAN_GRID).flip(dims=[0])
            perm[start:stop] = grid.flatten().tolist()
        else:
            raise MirrorError(
                f"observation term {name!r} ({size} values) has no left-right mirror rule (known: "
                f"{', '.join([*VECTOR_TERM_SIGNS, *JOINT_TERMS, HEIGHT_SCAN_TERM])})"
            )
    if covered != obs_dim:
        raise MirrorError(f"the observation terms cover {covered} of the {obs_dim} observations")
    return SignedPermutation(perm, sign)


def quadruped_mirror(spec: EnvSpec) -> Mirror:
    """The left-right mirror of a Unitree-named quadruped task, from its deployment info (joints, observation terms).

    The critic observation is not mirrored (the Go1 tasks have none).
    """
    joint_names = spec.deployment.get("joint_names") or []
    terms = spec.deployment.get("observation_terms") or []
    if not joint_names or not terms:
        raise MirrorError("the quadruped mirror needs the task's deployment info (joint names, observation terms)")
    if len(joint_names) != spec.act_dim:
        raise MirrorError(f"{len(joint_names)} joint names for {spec.act_dim} actions")
    joints = quadruped_joint_mirror(joint_names)
    return Mirror(observation=quadruped_observation_mirror(terms, spec.obs_dim, joints), action=joints)


# ---- finding a task's mirror ---------------------------------------------------------------------------------------
def resolve_mirror(name: str, spec: EnvSpec) -> TaskMirror:
    """Import factory ``name`` (``package.module:function``), build the mirror of ``spec`` and check it.

    Raises :class:`MirrorError` (one line) when it cannot be imported or built, lacks a mirror method, changes a
    shape, or is not an involution on random input.
    """
    module_name, _, attr = name.partition(":")
    if not module_name or not attr:
        raise MirrorError(f"mirror function {name!r} is invalid: must be 'package.module:function'")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise MirrorError(f"mirror function {name!r} cannot be imported: {exc}") from exc
    try:
        mirror = factory(spec)
    except MirrorError as exc:
        raise MirrorError(f"mirror function {name!r}: {exc}") from exc
    except Exception as exc:  # a user's factory: its error in one line, not a traceback
        raise MirrorError(
            f"mirror function {name!r} failed on the task's EnvSpec: {type(exc).__name__}: {exc}"
        ) from exc
    for method in ("mirror_observation", "mirror_action"):
        if not callable(getattr(mirror, method, None)):
            raise MirrorError(f"mirror function {name!r} returned a {type(mirror).__name__} without {method}()")
    generator = torch.Generator().manual_seed(0)
    for method, dim in (("mirror_observation", spec.obs_dim), ("mirror_action", spec.act_dim)):
        x = torch.randn(4, dim, generator=generator)
        try:
            y = getattr(mirror, method)(x)
            ok = (
                isinstance(y, torch.Tensor)
                and y.shape == x.shape
                and torch.allclose(getattr(mirror, method)(y), x, atol=1e-6)
            )
        except Exception as exc:  # noqa: BLE001 - reported in one line, as above
            raise MirrorError(
                f"mirror function {name!r}: {method} failed on a ({4}, {dim}) batch: {type(exc).__name__}: {exc}"
            ) from exc
        if not ok:
            raise MirrorError(f"mirror function {name!r}: {method} is not a shape-keeping involution")
    return mirror


def task_mirror(cfg: AlgorithmConfig, spec: EnvSpec, env_id: str = "") -> TaskMirror | None:
    """The mirror symmetry augmentation uses (None when ``cfg`` switches symmetry off).

    ``cfg.mirror_function`` if set, else the factory the task names (``spec.mirror``). Raises :class:`MirrorError`
    (one line naming the switch and what to set) when there is none, it cannot be built, or the critic has its own
    observation (``spec.critic_obs_dim``) that the mirror cannot mirror while data augmentation is on.
    """
    switches = [k for k in ("use_data_augmentation", "use_mirror_loss") if getattr(cfg, k)]
    if not switches:
        return None
    name = cfg.mirror_function or spec.mirror
    flags = " and ".join(f"ppo.{k}=true" for k in switches)
    if not name:
        env = f"env.id={env_id!r}" if env_id else "the env"
        raise MirrorError(
            f"{flags} needs the task's mirror function, and {env} names none: set "
            "ppo.mirror_function=package.module:function (a factory (EnvSpec) -> mirror; see "
            "isaac_hydra_ext.envs.symmetry) or switch symmetry off"
        )
    mirror = resolve_mirror(name, spec)
    if cfg.use_data_augmentation and spec.critic_obs_dim > 0:
        try:
            mirror.mirror_critic_observation(torch.zeros(1, spec.critic_obs_dim))  # type: ignore[attr-defined]
        except (AttributeError, MirrorError):
            raise MirrorError(
                f"ppo.use_data_augmentation=true with a privileged critic observation ({spec.critic_obs_dim} values) "
                f"needs mirror_critic_observation(), which mirror function {name!r} does not provide"
            ) from None
    return mirror
