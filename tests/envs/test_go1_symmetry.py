"""The Go1 left-right mirror: an involution, standing poses map to themselves, and it is the physical mirror."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from isaac_hydra_ext.assets.go1 import GO1, POLICY_JOINT_NAMES
from isaac_hydra_ext.envs.go1 import Go1VelocityEnv
from isaac_hydra_ext.envs.symmetry import MirrorError, quadruped_mirror, resolve_mirror
from isaac_hydra_ext.envs.vec_env import EnvSpec, GymVecEnv

GO1_ID = "Sber-Velocity-Flat-Go1-MuJoCo-v0"


@pytest.fixture(scope="module")
def spec() -> EnvSpec:
    env = GymVecEnv(GO1_ID, 1)
    try:
        return env.spec
    finally:
        env.close()


def by_name_mirror(values: np.ndarray) -> np.ndarray:
    """Joint values (policy order) of the mirrored robot, by names: FL <-> FR, RL <-> RR, hip abduction negated."""
    index = {name: i for i, name in enumerate(POLICY_JOINT_NAMES)}
    out = np.empty_like(values)
    for name, i in index.items():
        leg, kind = name.split("_")[:2]
        twin = f"{leg[0]}{'R' if leg[1] == 'L' else 'L'}_{kind}_joint"
        out[..., i] = (-1.0 if kind == "hip" else 1.0) * values[..., index[twin]]
    return out


def test_the_task_names_its_mirror_and_mirroring_twice_is_the_identity(spec):
    assert spec.mirror == "isaac_hydra_ext.envs.symmetry:quadruped_mirror"
    mirror = resolve_mirror(spec.mirror, spec)
    g = torch.Generator().manual_seed(0)
    obs, actions = torch.randn(64, 48, generator=g), torch.randn(64, 12, generator=g)
    assert torch.equal(mirror.mirror_observation(mirror.mirror_observation(obs)), obs)
    assert torch.equal(mirror.mirror_action(mirror.mirror_action(actions)), actions)
    assert not torch.equal(mirror.mirror_observation(obs), obs)  # not the identity itself
    # the action mirror, written out: FL_hip <-> FR_hip negated, FL_thigh <-> FR_thigh, ... (policy order)
    a = torch.arange(1.0, 13.0)[None]
    assert mirror.mirror_action(a)[0].tolist() == [-2, -1, -4, -3, 6, 5, 8, 7, 10, 9, 12, 11]


def test_a_standing_pose_is_its_own_mirror_image(spec):
    mirror = quadruped_mirror(spec)
    default = torch.tensor([GO1.default_joint_pos(n) for n in POLICY_JOINT_NAMES])
    assert torch.allclose(mirror.mirror_action(default[None])[0], default)  # the default pose (absolute angles)
    env = Go1VelocityEnv(1, noise={"enable_corruption": False}, commands={"fixed_command": (0.0, 0.0, 0.0)})
    try:
        env.reset(seed=0)  # upright at the default joint positions, at rest
        env.sim.qvel[:] = 0.0
        env.action[:] = 0.0
        obs = torch.as_tensor(env.compute_obs())
    finally:
        env.close()
    assert obs[0, 6:9].tolist() == pytest.approx([0.0, 0.0, -1.0], abs=1e-6)  # upright
    assert torch.allclose(mirror.mirror_observation(obs), obs, atol=1e-6)


def test_a_physically_mirrored_mujoco_state_gives_the_mirrored_observation(spec):
    # The real Go1's trunk COM is 2 mm off the symmetry plane, which makes its COM-velocity observation asymmetric by
    # w x (0, 0.004, 0); this robot has it on the plane, so the mirror must hold exactly.
    trunk = dataclasses.replace(GO1.trunk_inertial, pos=(GO1.trunk_inertial.pos[0], 0.0, GO1.trunk_inertial.pos[2]))
    env = Go1VelocityEnv(2, noise={"enable_corruption": False}, robot=dataclasses.replace(GO1, trunk_inertial=trunk))
    rng = np.random.default_rng(3)
    try:
        env.reset(seed=0)
        lay = env.layout
        q, v = env.sim.qpos, env.sim.qvel
        r, rv = lay.root_qpos, lay.root_qvel
        # env 0: an arbitrary state (tilted, moving, bent joints), command and last action
        quat = rng.normal(size=4)
        q[0, r : r + 3] = (0.3, 0.2, 0.31)
        q[0, r + 3 : r + 7] = quat / np.linalg.norm(quat)
        v[0, rv : rv + 3] = (0.4, -0.7, 0.1)  # world-frame linear velocity of the base origin
        v[0, rv + 3 : rv + 6] = (0.5, -0.3, 0.9)  # body-frame angular velocity
        joints_q = q[0, lay.joint_qpos] + rng.uniform(-0.3, 0.3, 12)
        joints_v = rng.normal(size=12)
        q[0, lay.joint_qpos] = joints_q
        v[0, lay.joint_qvel] = joints_v
        env.commands.command[0] = (0.6, 0.3, -0.4)
        env.action[0] = rng.normal(size=12)
        # env 1: its mirror image in the world's x-z plane, by hand
        w, x, y, z = q[0, r + 3 : r + 7]
        q[1, r : r + 3] = (0.3, -0.2, 0.31)  # y -> -y
        q[1, r + 3 : r + 7] = (w, -x, y, -z)  # R -> M R M with M = diag(1, -1, 1)
        v[1, rv : rv + 3] = (0.4, 0.7, 0.1)  # a polar vector: y flips
        v[1, rv + 3 : rv + 6] = (-0.5, -0.3, -0.9)  # a pseudovector: x and z flip
        q[1, lay.joint_qpos] = by_name_mirror(joints_q)
        v[1, lay.joint_qvel] = by_name_mirror(joints_v)
        env.commands.command[1] = (0.6, -0.3, 0.4)  # lateral velocity and yaw rate flip
        env.action[1] = by_name_mirror(env.action[0])
        obs = torch.as_tensor(env.compute_obs())  # no step: the observation of exactly these states
    finally:
        env.close()
    mirror = quadruped_mirror(spec)
    assert not torch.allclose(obs[1], obs[0], atol=1e-2)
    assert torch.allclose(obs[1], mirror.mirror_observation(obs[:1])[0], atol=1e-5), (obs[1] - obs[0]).tolist()


def test_terms_and_joints_without_a_mirror_rule_are_one_line_errors(spec):
    terms = [*spec.deployment["observation_terms"][:-1], {"name": "foot_contacts", "start": 36, "stop": 48}]
    bad = dataclasses.replace(spec, deployment={**spec.deployment, "observation_terms": terms})
    with pytest.raises(MirrorError, match="observation term 'foot_contacts' .12 values. has no left-right mirror"):
        quadruped_mirror(bad)
    names = ["left_hip", *spec.deployment["joint_names"][1:]]
    bad = dataclasses.replace(spec, deployment={**spec.deployment, "joint_names": names})
    with pytest.raises(MirrorError, match="joint 'left_hip' is not named"):
        quadruped_mirror(bad)
    with pytest.raises(MirrorError, match="needs the task's deployment info"):
        quadruped_mirror(EnvSpec(obs_dim=48, act_dim=12))
