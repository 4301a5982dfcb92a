"""The Go1 MuJoCo model: names, parameter table, PD actuators, standing, MJCF export and external models."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

import mujoco
import numpy as np
import pytest
from go1_helpers import still_env
from isaac_hydra_ext.envs.go1 import GO1, POLICY_JOINT_NAMES, Go1VelocityEnv, build_go1_spec, write_go1_mjcf
from isaac_hydra_ext.envs.go1.model import go1_layout

LEGS = ("FL", "FR", "RL", "RR")


@pytest.fixture(scope="module")
def model() -> mujoco.MjModel:
    return build_go1_spec().compile()


def test_model_has_12_actuated_joints_with_unitree_names(model):
    assert (model.nq, model.nv, model.nu) == (19, 18, 12)
    hinge = [model.joint(j).name for j in range(model.njnt) if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_HINGE]
    assert sorted(hinge) == sorted(f"{leg}_{k}_joint" for leg in LEGS for k in ("hip", "thigh", "calf"))
    # actuators are in Isaac Lab's policy order and drive the joint of the same name
    assert [model.actuator(i).name for i in range(12)] == list(POLICY_JOINT_NAMES)
    assert [model.joint(model.actuator_trnid[i, 0]).name for i in range(12)] == list(POLICY_JOINT_NAMES)
    assert POLICY_JOINT_NAMES[:5] == ("FL_hip_joint", "FR_hip_joint", "RL_hip_joint", "RR_hip_joint", "FL_thigh_joint")
    for leg in LEGS:
        for body in ("hip", "thigh", "calf"):
            assert model.body(f"{leg}_{body}").id > 0
        foot_geom, foot_site = model.geom(f"{leg}_foot"), model.site(f"{leg}_foot")
        assert model.body(foot_geom.bodyid[0]).name == f"{leg}_calf"
        assert foot_geom.type[0] == mujoco.mjtGeom.mjGEOM_SPHERE and foot_geom.size[0] == pytest.approx(0.02)
        np.testing.assert_allclose(foot_site.pos, [0.0, 0.0, -0.213])


def test_masses_and_mirrored_inertials_match_unitree_numbers(model):
    masses = {name: model.body(name).mass[0] for name in ("trunk", "FL_hip", "RR_thigh", "RL_calf")}
    assert masses == pytest.approx({"trunk": 5.204, "FL_hip": 0.68, "RR_thigh": 1.009, "RL_calf": 0.195862})
    assert model.body_subtreemass[model.body("trunk").id] == pytest.approx(5.204 + 4 * (0.68 + 1.009 + 0.195862))
    # The table stores FL only; the mirrored legs must reproduce Menagerie's published FR / RR numbers.
    fr_hip = model.body("FR_hip")
    np.testing.assert_allclose(fr_hip.ipos, [-0.0049166, 0.00762615, -8.865e-05])
    np.testing.assert_allclose(np.sort(fr_hip.inertia), np.sort([0.000734064, 0.000468438, 0.000398719]), rtol=1e-6)
    rr_hip = model.body("RR_hip")
    np.testing.assert_allclose(rr_hip.ipos, [0.0049166, 0.00762615, -8.865e-05])
    menagerie_fr_thigh_quat = np.array([0.65243, -0.0272313, 0.0775126, 0.753383])
    quat = model.body("FR_thigh").iquat
    assert abs(np.dot(quat, menagerie_fr_thigh_quat / np.linalg.norm(menagerie_fr_thigh_quat))) == pytest.approx(1.0)
    # body frames: hips at (+-0.1881, +-0.04675, 0), thighs 0.08 outwards, calves 0.213 below
    np.testing.assert_allclose(model.body("RR_hip").pos, [-0.1881, -0.04675, 0.0])
    np.testing.assert_allclose(model.body("FR_thigh").pos, [0.0, -0.08, 0.0])
    np.testing.assert_allclose(model.body("RL_calf").pos, [0.0, 0.0, -0.213])


def test_joint_limits_axes_and_pd_gains_match_table(model):
    for name in POLICY_JOINT_NAMES:
        joint = model.joint(name)
        kind = name.split("_")[1]
        expected = {"hip": (-0.863, 0.863), "thigh": (-0.686, 4.501), "calf": (-2.818, -0.888)}[kind]
        np.testing.assert_allclose(joint.range, expected)
        np.testing.assert_allclose(joint.axis, [1, 0, 0] if kind == "hip" else [0, 1, 0])
        assert joint.armature[0] == pytest.approx(0.01) and joint.damping[0] == 0.0
        act = model.actuator(name)
        limit = 35.55 if kind == "calf" else 23.7
        np.testing.assert_allclose(act.forcerange, [-limit, limit])
        np.testing.assert_allclose(act.gainprm[:1], [20.0])
        np.testing.assert_allclose(act.biasprm[:3], [0.0, -20.0, -0.5])


def test_position_actuators_compute_clipped_pd_torque(model):
    data = mujoco.MjData(model)
    layout = go1_layout(model)
    data.qpos[layout.joint_qpos] = [GO1.default_joint_pos(n) for n in POLICY_JOINT_NAMES]
    data.qvel[layout.joint_qvel] = np.linspace(-2.0, 2.0, 12)
    offsets = np.array([0.1, -0.2, 0.3, 0.05, 0.5, -0.4, 1.5, -2.0, 0.2, -0.1, 2.0, 0.0])
    data.ctrl[:] = data.qpos[layout.joint_qpos] + offsets
    mujoco.mj_forward(model, data)
    # tau = clip(kp (q* - q) - kd qdot, -limit, limit), kp 20, kd 0.5
    limits = np.array([23.7] * 8 + [35.55] * 4)
    expected = np.clip(20.0 * offsets - 0.5 * np.linspace(-2.0, 2.0, 12), -limits, limits)
    np.testing.assert_allclose(data.actuator_force, expected, atol=1e-9)
    assert expected[6] == pytest.approx(23.7) and expected[7] == pytest.approx(-23.7)  # saturated entries


def test_standing_still_with_zero_action_keeps_trunk_up_for_2_seconds():
    env = still_env(2, commands={"fixed_command": (0.0, 0.0, 0.0)})
    env.reset(seed=0)
    heights, gravity_z = [], []
    for _ in range(100):  # 100 policy steps = 2 s
        obs, _, terminated, truncated, _ = env.step(np.zeros((2, 12)))
        assert not terminated.any() and not truncated.any()
        heights.append(env.sim.qpos[:, 2].copy())
        gravity_z.append(obs[:, 8].copy())
    heights = np.array(heights)
    assert heights.min() > 0.22  # spawned at 0.4, settles on its legs
    assert np.all(np.abs(heights[-25:] - heights[-1]) < 0.005)  # at rest during the last 0.5 s
    assert np.all(np.array(gravity_z)[-50:] < -0.99)  # upright: projected gravity ~ (0, 0, -1)
    env.close()


def test_written_mjcf_reloads_to_the_same_trajectories(tmp_path):
    path = write_go1_mjcf(str(tmp_path / "go1.xml"))
    text = Path(path).read_text()
    assert "<mesh" not in text and 'name="FL_calf_joint"' in text
    reference = still_env(2)
    external = still_env(2, model_path=path)
    obs_a, _ = reference.reset(seed=5)
    obs_b, _ = external.reset(seed=5)
    np.testing.assert_array_equal(obs_a, obs_b)
    actions = np.random.default_rng(0).normal(size=(30, 2, 12))
    for a in actions:
        step_a, step_b = reference.step(a), external.step(a)
        np.testing.assert_allclose(step_b[0], step_a[0], rtol=1e-5, atol=1e-6)  # float32 observations
        np.testing.assert_allclose(step_b[1], step_a[1], rtol=1e-5, atol=1e-9)


def _menagerie_like_xml(drop: tuple[str, ...] = ()) -> str:
    """A Go1 written Menagerie's way: unnamed free joint, feet geoms named 'FL', no foot sites, its own kp=100
    actuators and a keyframe; ``drop`` removes joints (and every actuator, which would point at them)."""
    root = ET.fromstring(build_go1_spec().to_xml())
    for geom in root.iter("geom"):
        if geom.get("name", "").endswith("_foot"):
            geom.set("name", geom.get("name")[:2])
    for body in root.iter("body"):
        for site in [s for s in body.findall("site") if s.get("name", "").endswith("_foot")]:
            body.remove(site)
        for joint in body.findall("joint"):
            if joint.get("type") == "free":
                del joint.attrib["name"]
            if joint.get("name") in drop:
                body.remove(joint)
    root.remove(root.find("sensor"))
    actuators = root.find("actuator")
    for act in list(actuators):
        actuators.remove(act)
        if not drop:
            ET.SubElement(
                actuators,
                "position",
                name=act.get("name")[:-6],
                joint=act.get("joint"),
                kp="100",
                forcerange=act.get("forcerange"),
            )
    keyframe = ET.SubElement(root, "keyframe")
    home = [0, 0, 0.27, 1, 0, 0, 0] + [0.0, 0.9, -1.8] * 4
    ET.SubElement(keyframe, "key", name="home", qpos=" ".join(map(str, home)))
    return ET.tostring(root, encoding="unicode")


def test_external_model_path_with_menagerie_names_is_mapped(tmp_path):
    path = tmp_path / "go1_menagerie_like.xml"
    path.write_text(_menagerie_like_xml())
    env = still_env(1, model_path=str(path))
    model = env.sim.model
    assert model.nkey == 0 and model.nu == 12
    np.testing.assert_allclose(model.actuator_gainprm[:, 0], 20.0)  # the task's PD, not the file's kp=100
    foot_sensor = model.sensor("FL_foot_contact")
    assert model.geom(foot_sensor.objid[0]).name == "FL"
    env.reset(seed=0)
    for _ in range(50):
        env.step(np.zeros((1, 12)))
    assert env.sim.qpos[0, 2] > 0.22


def test_external_model_missing_names_fail_with_a_list(tmp_path):
    path = tmp_path / "broken.xml"
    path.write_text(_menagerie_like_xml(drop=("RL_calf_joint", "FR_hip_joint")))
    with pytest.raises(ValueError, match="missing: .*joint 'FR_hip_joint'.*joint 'RL_calf_joint'"):
        Go1VelocityEnv(1, model_path=str(path))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Go1VelocityEnv(1, model_path=str(tmp_path / "nope.xml"))


def test_parameter_table_overrides_reach_the_model():
    env = still_env(1, robot={"kp": 25.0, "calf_torque_limit": 30.0})
    model = env.sim.model
    assert model.actuator("FL_calf_joint").gainprm[0] == 25.0
    np.testing.assert_allclose(model.actuator("RR_calf_joint").forcerange, [-30.0, 30.0])
    assert dataclasses.replace(GO1, kp=25.0).kp == 25.0 and GO1.kp == 20.0
