"""Build the Go1 MuJoCo model from the parameter table (``mujoco.MjSpec``), load an external MJCF, write MJCF.

The scene is: a ground plane, the Go1 (box trunk, cylinder hips, capsule thighs and calves, sphere feet; the
same primitives are the visuals), 12 position actuators that compute the PD torque inside ``mj_step``
(``tau = clip(kp * (target - q) - kd * qdot, -limit, limit)``), and sensors read once per physics step by the
env: one net contact force per body and per foot, and the applied torque of each actuator.

Names follow Unitree: bodies ``trunk``, ``FL_hip``, ``FL_thigh``, ``FL_calf`` ...; joints ``FL_hip_joint`` ...;
each foot is a sphere geom **and** a site named ``FL_foot`` ... inside the calf body (the foot mass is merged
into the calf as in Menagerie; Isaac Lab's USD keeps a separate welded ``FL_foot`` body, which in MuJoCo
would only add cost). Actuators are named like their joints and are ordered as the policy's joints
(:data:`~isaac_hydra_ext.assets.go1.POLICY_JOINT_NAMES`), so ``ctrl`` is the PD target vector in policy order.
"""

# mujoco's compiled modules ship no stubs, so pyright cannot see MjModel, mj_* functions and mjt* enums.
# pyright: reportAttributeAccessIssue=false
from __future__ import annotations

import os
from dataclasses import dataclass

import mujoco
import numpy as np

from ...assets.go1 import FOOT_NAMES, GO1, JOINT_TYPES, LEGS, POLICY_JOINT_NAMES, Go1Params, Inertial
from .cfg import SimCfg

BODY_NAMES: tuple[str, ...] = ("trunk",) + tuple(f"{leg}_{kind}" for leg in LEGS for kind in JOINT_TYPES)
"""Robot bodies that must exist (trunk and 12 leg links)."""

ROBOT_CONTYPE, ROBOT_CONAFFINITY = 1, 0
"""Robot geoms collide with the floor only (Isaac Lab Go1: ``enabled_self_collisions=False``)."""

_INTEGRATORS = {
    "euler": mujoco.mjtIntegrator.mjINT_EULER,
    "implicit": mujoco.mjtIntegrator.mjINT_IMPLICIT,
    "implicitfast": mujoco.mjtIntegrator.mjINT_IMPLICITFAST,
    "rk4": mujoco.mjtIntegrator.mjINT_RK4,
}
_SOLVERS = {"newton": mujoco.mjtSolver.mjSOL_NEWTON, "cg": mujoco.mjtSolver.mjSOL_CG, "pgs": mujoco.mjtSolver.mjSOL_PGS}
_CONES = {"pyramidal": mujoco.mjtCone.mjCONE_PYRAMIDAL, "elliptic": mujoco.mjtCone.mjCONE_ELLIPTIC}


# ------------------------------------------------------------------------------------------------------
# Inertia mirroring
# ------------------------------------------------------------------------------------------------------


def _quat_to_mat(q: tuple[float, float, float, float]) -> np.ndarray:
    mat = np.zeros(9)
    mujoco.mju_quat2Mat(mat, np.asarray(q, dtype=np.float64) / np.linalg.norm(q))
    return mat.reshape(3, 3)


def mirrored_inertial(inertial: Inertial, flip_x: bool, flip_y: bool) -> tuple[np.ndarray, np.ndarray]:
    """Centre of mass and full inertia ``[Ixx, Iyy, Izz, Ixy, Ixz, Iyz]`` of a link reflected through planes.

    The body-frame tensor is I = R diag(d) R^T (R from the principal-axes quaternion). Reflecting the link
    through the x=0 and/or y=0 plane with M = diag(+-1, +-1, 1) gives I' = M I M and c' = M c.
    """
    rot = _quat_to_mat(inertial.quat)
    tensor = rot @ np.diag(inertial.diaginertia) @ rot.T
    mirror = np.diag([-1.0 if flip_x else 1.0, -1.0 if flip_y else 1.0, 1.0])
    tensor = mirror @ tensor @ mirror
    com = mirror @ np.asarray(inertial.pos, dtype=np.float64)
    full = np.array([tensor[0, 0], tensor[1, 1], tensor[2, 2], tensor[0, 1], tensor[0, 2], tensor[1, 2]])
    return com, full


# ------------------------------------------------------------------------------------------------------
# Building the model
# ------------------------------------------------------------------------------------------------------


def build_go1_spec(params: Go1Params = GO1, sim: SimCfg | None = None) -> mujoco.MjSpec:
    """Build the Go1 scene as an ``MjSpec`` (robot, floor, actuators, sensors, camera) from the parameter table."""
    spec = mujoco.MjSpec()
    spec.modelname = "go1"
    spec.compiler.degree = False  # every angle in the table is in radians
    _add_robot(spec, params)
    _finish_scene(spec, params, sim or SimCfg(), _BUILT_FEET)
    return spec


def _add_robot(spec: mujoco.MjSpec, p: Go1Params) -> None:
    trunk = spec.worldbody.add_body(name="trunk", pos=[0.0, 0.0, p.init_base_height])
    trunk.add_freejoint(name="root")
    _set_inertial(trunk, *mirrored_inertial(p.trunk_inertial, flip_x=False, flip_y=False), p.trunk_inertial.mass)
    _robot_geom(
        trunk,
        p,
        name="trunk",
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=list(p.trunk_box_half_size),
        pos=list(p.trunk_box_pos),
    )
    # a non-colliding marker on the front face, so videos show which way the robot faces
    trunk.add_geom(
        name="head_marker",
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=[0.01, 0.04, 0.02],
        pos=[p.trunk_box_pos[0] + p.trunk_box_half_size[0], 0.0, 0.02],
        contype=0,
        conaffinity=0,
        group=1,
        rgba=[0.9, 0.3, 0.1, 1.0],
        mass=0.0,
    )
    trunk.add_site(name="imu", pos=[0.0, 0.0, 0.0])
    # follows the centre of mass of the robot, fixed orientation in the world
    trunk.add_camera(
        name="tracking",
        mode=mujoco.mjtCamLight.mjCAMLIGHT_TRACKCOM,
        pos=[0.0, -1.1, 0.45],
        xyaxes=[1.0, 0.0, 0.0, 0.0, 0.35, 0.94],
    )
    for leg in LEGS:
        _add_leg(trunk, p, leg)


def _add_leg(trunk: mujoco.MjsBody, p: Go1Params, leg: str) -> None:
    front, left = leg[0] == "F", leg[1] == "L"
    sx, sy = (1.0 if front else -1.0), (1.0 if left else -1.0)
    hip = trunk.add_body(name=f"{leg}_hip", pos=[sx * p.hip_pos[0], sy * p.hip_pos[1], p.hip_pos[2]])
    # [MEN]: hips mirror in x for rear legs and in y for right legs; thighs mirror in y; calves are identical
    _set_inertial(hip, *mirrored_inertial(p.hip_inertial, flip_x=not front, flip_y=not left), p.hip_inertial.mass)
    _add_joint(hip, p, f"{leg}_hip_joint", axis=[1.0, 0.0, 0.0], limits=p.hip_range)
    # cylinder axis along y: rotate z onto y by -90 deg about x
    _robot_geom(
        hip,
        p,
        name=f"{leg}_hip",
        type=mujoco.mjtGeom.mjGEOM_CYLINDER,
        size=[p.hip_cylinder_radius, p.hip_cylinder_half_length, 0.0],
        pos=[0.0, sy * p.thigh_offset, 0.0],
        quat=[np.sqrt(0.5), np.sqrt(0.5), 0.0, 0.0],
    )

    thigh = hip.add_body(name=f"{leg}_thigh", pos=[0.0, sy * p.thigh_offset, 0.0])
    _set_inertial(thigh, *mirrored_inertial(p.thigh_inertial, flip_x=False, flip_y=not left), p.thigh_inertial.mass)
    _add_joint(thigh, p, f"{leg}_thigh_joint", axis=[0.0, 1.0, 0.0], limits=p.thigh_range)
    _robot_geom(
        thigh,
        p,
        name=f"{leg}_thigh",
        type=mujoco.mjtGeom.mjGEOM_CAPSULE,
        size=[p.thigh_capsule_radius, 0, 0],
        fromto=[0.0, 0.0, p.thigh_capsule_z[0], 0.0, 0.0, p.thigh_capsule_z[1]],
    )

    calf = thigh.add_body(name=f"{leg}_calf", pos=[0.0, 0.0, -p.thigh_length])
    _set_inertial(calf, *mirrored_inertial(p.calf_inertial, flip_x=False, flip_y=False), p.calf_inertial.mass)
    _add_joint(calf, p, f"{leg}_calf_joint", axis=[0.0, 1.0, 0.0], limits=p.calf_range)
    _robot_geom(
        calf,
        p,
        name=f"{leg}_calf",
        type=mujoco.mjtGeom.mjGEOM_CAPSULE,
        size=[p.calf_capsule_radius, 0, 0],
        fromto=[0.0, 0.0, p.calf_capsule_z[0], 0.0, 0.0, p.calf_capsule_z[1]],
    )
    _robot_geom(
        calf,
        p,
        name=f"{leg}_foot",
        type=mujoco.mjtGeom.mjGEOM_SPHERE,
        size=[p.foot_radius, 0, 0],
        pos=[0.0, 0.0, -p.calf_length],
        rgba=list(p.rgba_foot),
    )
    calf.add_site(name=f"{leg}_foot", pos=[0.0, 0.0, -p.calf_length], size=[p.foot_radius * 1.05, 0, 0], group=5)


def _set_inertial(body: mujoco.MjsBody, com: np.ndarray, full_inertia: np.ndarray, mass: float) -> None:
    body.explicitinertial = True
    body.mass = mass
    body.ipos = list(com)
    body.fullinertia = list(full_inertia)


def _add_joint(body: mujoco.MjsBody, p: Go1Params, name: str, axis: list[float], limits: tuple[float, float]) -> None:
    body.add_joint(
        name=name,
        type=mujoco.mjtJoint.mjJNT_HINGE,
        axis=axis,
        range=list(limits),
        limited=mujoco.mjtLimited.mjLIMITED_TRUE,
        armature=p.armature,
        damping=p.joint_damping,
        frictionloss=p.joint_frictionloss,
    )


def _robot_geom(body: mujoco.MjsBody, p: Go1Params, **kwargs) -> mujoco.MjsGeom:
    kwargs.setdefault("rgba", list(p.rgba_body))
    # priority 1: the robot's friction wins against the floor's (Isaac Lab multiplies robot x ground = x 1.0)
    return body.add_geom(
        contype=ROBOT_CONTYPE,
        conaffinity=ROBOT_CONAFFINITY,
        condim=3,
        priority=1,
        friction=[p.friction, 0.005, 0.0001],
        group=0,
        mass=0.0,
        **kwargs,
    )


def _finish_scene(spec: mujoco.MjSpec, p: Go1Params, sim: SimCfg, feet: dict[str, tuple[mujoco.mjtObj, str]]) -> None:
    """Add floor, light, options, actuators and sensors to a spec that already holds the robot.

    ``feet`` maps each foot name to the (object type, name) its contact sensor watches.
    """
    spec.option.timestep = sim.dt
    spec.option.integrator = _INTEGRATORS[sim.integrator]
    spec.option.solver = _SOLVERS[sim.solver]
    spec.option.iterations = sim.iterations
    spec.option.ls_iterations = sim.ls_iterations
    spec.option.cone = _CONES[sim.cone]
    spec.option.impratio = sim.impratio
    spec.option.noslip_iterations = sim.noslip_iterations
    spec.visual.global_.offwidth = 1280
    spec.visual.global_.offheight = 720
    if not any(g.type == mujoco.mjtGeom.mjGEOM_PLANE for g in spec.worldbody.geoms):
        spec.add_texture(
            name="grid",
            type=mujoco.mjtTexture.mjTEXTURE_2D,
            builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
            rgb1=[0.32, 0.36, 0.4],
            rgb2=[0.22, 0.25, 0.28],
            width=300,
            height=300,
            mark=mujoco.mjtMark.mjMARK_EDGE,
            markrgb=[0.6, 0.6, 0.6],
        )
        spec.add_material(name="grid", textures=["", "grid"], texrepeat=[1.0, 1.0], texuniform=True, reflectance=0.0)
        spec.add_texture(
            name="sky",
            type=mujoco.mjtTexture.mjTEXTURE_SKYBOX,
            builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT,
            rgb1=[0.55, 0.7, 0.85],
            rgb2=[0.1, 0.15, 0.2],
            width=256,
            height=256,
        )
        # Isaac Lab ground material: friction 1.0 (combined by "multiply" with the robot's)
        spec.worldbody.add_geom(
            name="floor",
            type=mujoco.mjtGeom.mjGEOM_PLANE,
            size=[0.0, 0.0, 0.05],
            material="grid",
            friction=[1.0, 0.005, 0.0001],
            condim=3,
            contype=1,
            conaffinity=1,
        )
        spec.worldbody.add_light(
            name="sun",
            pos=[0.0, 0.0, 4.0],
            dir=[0.3, 0.2, -1.0],
            type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL,
            diffuse=[0.7, 0.7, 0.7],
            specular=[0.2, 0.2, 0.2],
            castshadow=False,
        )
    for joint_name, kind in zip(POLICY_JOINT_NAMES, _kinds(), strict=True):
        limit = p.torque_limit(kind)
        act = spec.add_actuator(name=joint_name, target=joint_name, trntype=mujoco.mjtTrn.mjTRN_JOINT)
        # PD inside mj_step: force = kp * (ctrl - q) - kd * qdot, clipped to +-limit
        act.set_to_position(kp=p.kp, kv=p.kd)
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.forcerange = [-limit, limit]
        act.ctrllimited = mujoco.mjtLimited.mjLIMITED_FALSE
    _add_sensors(spec, feet)


def _kinds() -> list[str]:
    return [name.split("_")[1] for name in POLICY_JOINT_NAMES]


def _add_sensors(spec: mujoco.MjSpec, feet: dict[str, tuple[mujoco.mjtObj, str]]) -> None:
    """Net contact force (3) of every robot body and foot, then the applied torque of every actuator."""
    contact = mujoco.mjtSensor.mjSENS_CONTACT
    # intprm = (data, reduce, num): data bit 1 = force; reduce 3 = netforce (sum of the forces, world frame)
    intprm = [2, 3, 1]
    for name in BODY_NAMES:
        spec.add_sensor(
            name=f"{name}_contact", type=contact, objtype=mujoco.mjtObj.mjOBJ_BODY, objname=name, intprm=intprm
        )
    for foot, foot_obj in feet.items():
        spec.add_sensor(name=f"{foot}_contact", type=contact, objtype=foot_obj[0], objname=foot_obj[1], intprm=intprm)
    for joint_name in POLICY_JOINT_NAMES:
        spec.add_sensor(
            name=f"{joint_name}_torque",
            type=mujoco.mjtSensor.mjSENS_ACTUATORFRC,
            objtype=mujoco.mjtObj.mjOBJ_ACTUATOR,
            objname=joint_name,
        )


_BUILT_FEET: dict[str, tuple[mujoco.mjtObj, str]] = {foot: (mujoco.mjtObj.mjOBJ_GEOM, foot) for foot in FOOT_NAMES}
"""In the built model each foot contact sensor watches the foot geom of the same name."""


# ------------------------------------------------------------------------------------------------------
# External MJCF
# ------------------------------------------------------------------------------------------------------


def load_external_spec(path: str, params: Go1Params = GO1, sim: SimCfg | None = None) -> mujoco.MjSpec:
    """Load a Go1 MJCF (e.g. Menagerie's ``go1.xml``) and give it the task's actuators, sensors and options.

    Required names: bodies ``trunk``, ``<leg>_hip|thigh|calf``; joints ``<leg>_hip|thigh|calf_joint``; a free joint
    on ``trunk``; per foot a geom ``<leg>_foot`` or (Menagerie) ``<leg>``, or a body ``<leg>_foot``.
    The file's own actuators, sensors and keyframes are removed; a floor is added if it has no plane.
    Raises ``ValueError`` listing every missing name.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Go1 model_path '{path}' does not exist")
    spec = mujoco.MjSpec.from_file(path)
    missing = [f"body '{b}'" for b in BODY_NAMES if spec.body(b) is None]
    missing += [f"joint '{j}'" for j in POLICY_JOINT_NAMES if spec.joint(j) is None]
    trunk = spec.body("trunk")
    if trunk is not None and not any(j.type == mujoco.mjtJoint.mjJNT_FREE for j in trunk.joints):
        missing.append("a free joint on body 'trunk'")
    feet: dict[str, tuple[mujoco.mjtObj, str]] = {}
    for leg, foot in zip(LEGS, FOOT_NAMES, strict=True):
        if spec.geom(foot) is not None:
            feet[foot] = (mujoco.mjtObj.mjOBJ_GEOM, foot)
        elif spec.geom(leg) is not None:
            feet[foot] = (mujoco.mjtObj.mjOBJ_GEOM, leg)
        elif spec.body(foot) is not None:
            feet[foot] = (mujoco.mjtObj.mjOBJ_BODY, foot)
        else:
            missing.append(f"foot geom '{foot}' (or geom '{leg}', or body '{foot}')")
    if missing:
        raise ValueError(f"model_path '{path}' is not a Go1 with Unitree names; missing: {', '.join(missing)}")
    assert trunk is not None  # a missing trunk is in `missing`
    for group in (spec.actuators, spec.sensors, spec.keys):
        for element in list(group):
            spec.delete(element)
    if trunk.find_child("tracking") is None and spec.camera("tracking") is None:
        trunk.add_camera(
            name="tracking",
            mode=mujoco.mjtCamLight.mjCAMLIGHT_TRACKCOM,
            pos=[0.0, -1.1, 0.45],
            xyaxes=[1.0, 0.0, 0.0, 0.0, 0.35, 0.94],
        )
    _finish_scene(spec, params, sim or SimCfg(), feet)
    return spec


def write_go1_mjcf(path: str, params: Go1Params = GO1, sim: SimCfg | None = None) -> str:
    """Write the built Go1 scene (robot, floor, actuators, sensors) as an MJCF file; return the path.

    The file uses only primitives, so it is self-contained (no mesh or texture files).
    """
    xml = build_go1_spec(params, sim).to_xml()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(xml)
    return path


# ------------------------------------------------------------------------------------------------------
# Addresses into qpos / qvel / sensordata
# ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Go1Layout:
    """Where the env reads everything in a compiled Go1 model (policy joint order throughout)."""

    trunk_body: int
    """Body id of ``trunk``."""
    root_qpos: int
    """qpos address of the trunk free joint (position 3 + quaternion 4)."""
    root_qvel: int
    """qvel address of the trunk free joint (linear world 3 + angular body 3)."""
    joint_qpos: np.ndarray
    """(12,) qpos address of each policy joint."""
    joint_qvel: np.ndarray
    """(12,) qvel address of each policy joint."""
    joint_range: np.ndarray
    """(12, 2) hard joint limits."""
    body_names: tuple[str, ...]
    """Bodies with a contact sensor, in sensor order."""
    body_contact_adr: np.ndarray
    """(len(body_names),) sensordata address of each body's net contact force (3 values)."""
    foot_contact_adr: np.ndarray
    """(4,) sensordata address of each foot's net contact force (3 values)."""
    torque_adr: np.ndarray
    """(12,) sensordata address of each actuator's applied torque."""
    trunk_com: np.ndarray
    """(3,) trunk centre of mass in the trunk frame."""


def go1_layout(model: mujoco.MjModel) -> Go1Layout:
    """Resolve the names of a compiled Go1 scene into addresses."""

    def sensor_adr(name: str) -> int:
        return int(model.sensor_adr[model.sensor(name).id])

    trunk = model.body("trunk").id
    free = [
        j for j in range(model.njnt) if model.jnt_bodyid[j] == trunk and model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE
    ]
    joints = [model.joint(name) for name in POLICY_JOINT_NAMES]
    return Go1Layout(
        trunk_body=trunk,
        root_qpos=int(model.jnt_qposadr[free[0]]),
        root_qvel=int(model.jnt_dofadr[free[0]]),
        joint_qpos=np.array([int(j.qposadr[0]) for j in joints]),
        joint_qvel=np.array([int(j.dofadr[0]) for j in joints]),
        joint_range=np.array([model.jnt_range[j.id] for j in joints]),
        body_names=BODY_NAMES,
        body_contact_adr=np.array([sensor_adr(f"{b}_contact") for b in BODY_NAMES]),
        foot_contact_adr=np.array([sensor_adr(f"{f}_contact") for f in FOOT_NAMES]),
        torque_adr=np.array([sensor_adr(f"{j}_torque") for j in POLICY_JOINT_NAMES]),
        trunk_com=np.array(model.body_ipos[trunk], dtype=np.float64),
    )


def compile_go1(params: Go1Params = GO1, sim: SimCfg | None = None, model_path: str | None = None) -> mujoco.MjModel:
    """Compile the built-in Go1 scene, or the one from ``model_path``."""
    spec = load_external_spec(model_path, params, sim) if model_path else build_go1_spec(params, sim)
    return spec.compile()
