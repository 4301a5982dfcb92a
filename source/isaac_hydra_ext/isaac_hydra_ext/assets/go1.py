"""The Unitree Go1 parameter table: every number the MuJoCo model is built from, with its source.

Sources (numbers are facts copied with attribution; no file or mesh is downloaded at run time):

* **[URDF]** Unitree ``go1_description/urdf/go1.urdf`` as forked for Isaac Lab's asset conversion
  (``isaac-orbit/unitree_ros``, commit 57a9241): kinematics, joint limits, effort limits, collision boxes.
* **[MEN]** MuJoCo Menagerie ``unitree_go1/go1.xml`` (``google-deepmind/mujoco_menagerie`` @28ffb48, BSD-3-Clause,
  derived from the same URDF): link inertials with the rotor and foot masses merged into their parent links,
  armature.
* **[IL]** Isaac Lab ``isaaclab_assets/robots/unitree.py`` ``UNITREE_GO1_CFG``: initial base height, default joint
  angles, ``soft_joint_pos_limit_factor``, self-collisions disabled.
* **[WTW]** ``Improbable-AI/walk-these-ways`` ``go1_gym/envs/go1/go1_config.py``: the PD gains (Kp 20, Kd 0.5)
  of the Go1 controller whose motor data Isaac Lab's Go1 actuator network (``unitree_go1.pt``) was fitted to.

Conventions: joint and body names follow Unitree's (``FL_hip_joint``, ``FL_thigh``, ...); leg prefixes are
FL, FR, RL, RR (front/rear, left/right). Lengths in m, masses in kg, inertias in kg m^2, angles in rad,
torques in N m. Inertials are given for the front-left leg; the builder mirrors them (y -> -y for right legs,
x -> -x for rear hips) exactly as [MEN]/[URDF] list them for the other legs.
"""

from __future__ import annotations

from dataclasses import dataclass

LEGS: tuple[str, ...] = ("FL", "FR", "RL", "RR")
"""Leg prefixes in Isaac Lab's order (front-left, front-right, rear-left, rear-right)."""

JOINT_TYPES: tuple[str, ...] = ("hip", "thigh", "calf")
"""The three joints of a leg from the trunk outwards (abduction, hip flexion, knee)."""

POLICY_JOINT_NAMES: tuple[str, ...] = tuple(f"{leg}_{kind}_joint" for kind in JOINT_TYPES for leg in LEGS)
"""Joint order of actions and observations: Isaac Lab's PhysX order for Go1, grouped by joint type, legs
FL, FR, RL, RR: ``FL_hip, FR_hip, RL_hip, RR_hip, FL_thigh, ..., RR_calf`` (12 joints)."""

FOOT_NAMES: tuple[str, ...] = tuple(f"{leg}_foot" for leg in LEGS)
"""Foot names (geom and site of the same name in the calf body), in leg order."""


@dataclass(frozen=True)
class Inertial:
    """Mass properties of one link in its body frame."""

    mass: float
    """Link mass (kg)."""
    pos: tuple[float, float, float]
    """Centre of mass in the body frame (m)."""
    quat: tuple[float, float, float, float]
    """Orientation (w, x, y, z) of the principal axes in the body frame."""
    diaginertia: tuple[float, float, float]
    """Principal moments of inertia (kg m^2)."""


@dataclass(frozen=True)
class Go1Params:
    """Everything needed to build the Go1 MuJoCo model. Override fields with ``dataclasses.replace``."""

    # ---- trunk ---------------------------------------------------------------------------------------
    trunk_inertial: Inertial = Inertial(
        mass=5.204,  # [URDF] trunk link, = [MEN] trunk
        pos=(0.0223, 0.002, -0.0005),  # [MEN] / [URDF]
        quat=(-0.00342088, 0.705204, 0.000106698, 0.708996),  # [MEN]
        diaginertia=(0.0716565, 0.0630105, 0.0168101),  # [MEN]
    )
    """Trunk mass properties."""
    trunk_box_half_size: tuple[float, float, float] = (0.24, 0.065, 0.057)
    """Half extents of the trunk collision box ([URDF] ``<box size="0.48 0.13 0.114"/>``)."""
    trunk_box_pos: tuple[float, float, float] = (0.03, 0.0, 0.0)
    """Centre of the trunk collision box in the trunk frame ([URDF] collision origin)."""

    # ---- leg kinematics (front-left leg; other legs mirrored) ----------------------------------------
    hip_pos: tuple[float, float, float] = (0.1881, 0.04675, 0.0)
    """FL hip joint origin in the trunk frame ([URDF] ``FL_hip_joint`` origin)."""
    thigh_offset: float = 0.08
    """Lateral offset of the thigh joint from the hip joint ([URDF] ``FL_thigh_joint`` origin y)."""
    thigh_length: float = 0.213
    """Thigh joint to calf joint, straight down in the thigh frame ([URDF] ``FL_calf_joint`` origin z)."""
    calf_length: float = 0.213
    """Calf joint to foot centre, straight down in the calf frame ([URDF] ``FL_foot_fixed`` origin z)."""
    foot_radius: float = 0.02
    """Foot collision sphere radius ([URDF] foot collision; [MEN] uses 0.023)."""

    # ---- collision primitives of the legs (approximations of the [URDF] boxes/cylinders) ------------
    hip_cylinder_radius: float = 0.046
    """Hip motor housing cylinder radius ([URDF] ``FL_hip`` collision cylinder)."""
    hip_cylinder_half_length: float = 0.02
    """Hip cylinder half length ([URDF] length 0.04), centred on the thigh joint axis."""
    thigh_capsule_radius: float = 0.017
    """Thigh capsule radius (half the 0.034 m thickness of the [URDF] thigh box)."""
    thigh_capsule_z: tuple[float, float] = (-0.02, -0.19)
    """Thigh capsule segment end points along the thigh frame z axis."""
    calf_capsule_radius: float = 0.01
    """Calf capsule radius (the [URDF] calf box is 0.016 m thick)."""
    calf_capsule_z: tuple[float, float] = (-0.02, -0.19)
    """Calf capsule segment end points along the calf frame z axis (ends above the foot sphere)."""

    # ---- leg inertials (front-left leg) --------------------------------------------------------------
    hip_inertial: Inertial = Inertial(
        mass=0.68,  # [MEN] = [URDF] FL_hip 0.591 + FL_thigh_rotor 0.089
        pos=(-0.0049166, -0.00762615, -8.865e-05),
        quat=(0.482891, 0.495027, 0.514169, 0.507341),
        diaginertia=(0.000734064, 0.000468438, 0.000398719),
    )
    """FL hip link mass properties ([MEN] ``FL_hip``)."""
    thigh_inertial: Inertial = Inertial(
        mass=1.009,  # [MEN] = [URDF] FL_thigh 0.92 + FL_calf_rotor 0.089
        pos=(-0.00304722, -0.019315, -0.0305004),
        quat=(0.753383, 0.0775126, -0.0272313, 0.65243),
        diaginertia=(0.00478717, 0.00460903, 0.000709268),
    )
    """FL thigh link mass properties ([MEN] ``FL_thigh``)."""
    calf_inertial: Inertial = Inertial(
        mass=0.195862,  # [MEN] = [URDF] FL_calf 0.135862 + FL_foot 0.06
        pos=(0.00429862, 0.000976676, -0.146197),
        quat=(0.691246, 0.00357467, 0.00511118, 0.722592),
        diaginertia=(0.00149767, 0.00148468, 3.58427e-05),
    )
    """Calf link (with foot) mass properties ([MEN] ``FL_calf``; identical for all legs, not mirrored)."""

    # ---- joints ---------------------------------------------------------------------------------------
    hip_range: tuple[float, float] = (-0.863, 0.863)
    """Hip (abduction, x axis) joint limits ([URDF] / [MEN])."""
    thigh_range: tuple[float, float] = (-0.686, 4.501)
    """Thigh (hip flexion, y axis) joint limits ([URDF] / [MEN])."""
    calf_range: tuple[float, float] = (-2.818, -0.888)
    """Calf (knee, y axis) joint limits ([URDF] / [MEN])."""
    armature: float = 0.01
    """Reflected rotor inertia added to each joint ([MEN] ``armature="0.01"``)."""
    joint_damping: float = 0.0
    """Passive joint damping ([URDF] ``<dynamics damping="0.0"/>``; the PD actuator supplies damping)."""
    joint_frictionloss: float = 0.0
    """Dry joint friction ([URDF] ``friction="0.0"``)."""

    # ---- actuators (joint-space PD with torque limits) -------------------------------------------
    kp: float = 20.0
    """Proportional gain (N m / rad) [WTW] ``stiffness = {'joint': 20.}``."""
    kd: float = 0.5
    """Derivative gain (N m s / rad) [WTW] ``damping = {'joint': 0.5}``."""
    hip_torque_limit: float = 23.7
    """Hip motor torque limit ([URDF] ``effort="23.7"``, [IL] actuator ``effort_limit=23.7``)."""
    thigh_torque_limit: float = 23.7
    """Thigh motor torque limit ([URDF] ``effort="23.7"``)."""
    calf_torque_limit: float = 35.55
    """Knee motor torque limit ([URDF] ``effort="35.55"``, [MEN] knee ``forcerange``; Isaac Lab 2.3's actuator
    net clips all joints at 23.7, Isaac Lab 3.0 uses 35.55 for the calf)."""

    # ---- default state ([IL] UNITREE_GO1_CFG.init_state) ---------------------------------------------
    init_base_height: float = 0.4
    """Trunk height at reset ([IL] ``pos=(0.0, 0.0, 0.4)``)."""
    default_hip_pos: float = 0.1
    """Default abduction angle: +0.1 for left legs, -0.1 for right legs ([IL] ``.*L_hip_joint: 0.1``)."""
    default_front_thigh_pos: float = 0.8
    """Default front thigh angle ([IL] ``F[L,R]_thigh_joint: 0.8``)."""
    default_rear_thigh_pos: float = 1.0
    """Default rear thigh angle ([IL] ``R[L,R]_thigh_joint: 1.0``)."""
    default_calf_pos: float = -1.5
    """Default knee angle ([IL] ``.*_calf_joint: -1.5``)."""
    soft_joint_pos_limit_factor: float = 0.9
    """Soft joint limits are this fraction of the hard range around its middle ([IL])."""

    # ---- contact ----------------------------------------------------------------------------------
    friction: float = 0.8
    """Coulomb friction of robot geoms. MuJoCo has one coefficient; Isaac Lab's base task sets static 0.8 /
    dynamic 0.6 on the robot and 1.0 on the ground with "multiply" combination, so 0.8 x 1.0 ([MEN] feet: 0.8)."""
    rgba_body: tuple[float, float, float, float] = (0.62, 0.64, 0.68, 1.0)
    """Colour of trunk and legs (visual only)."""
    rgba_foot: tuple[float, float, float, float] = (0.15, 0.15, 0.15, 1.0)
    """Colour of the feet (visual only)."""

    def default_joint_pos(self, joint_name: str) -> float:
        """Default angle of a joint given its Unitree name (e.g. ``RL_thigh_joint``)."""
        leg, kind = joint_name.split("_")[:2]
        if kind == "hip":
            return self.default_hip_pos if leg.endswith("L") else -self.default_hip_pos
        if kind == "thigh":
            return self.default_front_thigh_pos if leg.startswith("F") else self.default_rear_thigh_pos
        return self.default_calf_pos

    def joint_range(self, kind: str) -> tuple[float, float]:
        """Hard limits of a joint type (``hip``, ``thigh`` or ``calf``)."""
        return {"hip": self.hip_range, "thigh": self.thigh_range, "calf": self.calf_range}[kind]

    def torque_limit(self, kind: str) -> float:
        """Motor torque limit of a joint type (``hip``, ``thigh`` or ``calf``)."""
        return {"hip": self.hip_torque_limit, "thigh": self.thigh_torque_limit, "calf": self.calf_torque_limit}[kind]


GO1 = Go1Params()
"""The default Go1 parameter table."""
