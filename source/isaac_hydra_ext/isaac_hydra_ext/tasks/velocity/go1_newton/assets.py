"""Offline assets of the Newton Go1 tasks: our Go1 as an Isaac Lab robot, and a ground plane without downloads.

Robot
    :func:`write_isaaclab_go1_mjcf` writes the Go1 of our parameter table (``isaac_hydra_ext.envs.go1``, built by
    :func:`~isaac_hydra_ext.envs.go1.write_go1_mjcf`) as an MJCF that Isaac Lab's MJCF importer turns into a robot
    like Isaac Lab's own ``go1.usd``:

    * the MuJoCo scene parts are removed (floor, light, textures, camera, sites, sensors, **actuators**: Isaac Lab's
      actuator model drives the joints, see :data:`GO1_ACTUATOR_CFG`);
    * each foot sphere moves from the calf into a welded child body ``<leg>_foot`` (as in Unitree's URDF and Isaac
      Lab's USD), so the ``.*_foot`` contact terms of Isaac Lab's Go1 task find the feet. The foot body gets a
      1 g placeholder mass (the table merges the 60 g foot into the calf, as MuJoCo Menagerie does).

    :class:`Go1MjcfFileCfg` is an ``MjcfFileCfg`` whose spawner writes that MJCF (when :attr:`build_model` is
    set) and converts it once with the standalone importer (``isaacsim-asset-isolated``, kit-less) into
    :data:`ASSET_CACHE`; later runs reuse the USD while the MJCF is unchanged.

Ground
    Isaac Lab's ``terrain_type="plane"`` references a checker-board ground USD on NVIDIA's asset server.
    :class:`LocalPlaneTerrainImporter` authors an infinite collision plane (``UsdGeom.Plane``) in the stage instead.

Nothing here downloads anything. Importing this module imports Isaac Lab 3.x (``isaaclab.sim``, ``isaaclab.terrains``).
"""

# Isaac Lab 3.x, isaaclab_newton, the Isaac Sim importer and pxr are not installed where the package is type-checked:
# pyright: reportMissingImports=false
from __future__ import annotations

import os
from collections.abc import Callable

from isaaclab.actuators import DCMotorCfg
from isaaclab.assets import ArticulationCfg
from isaaclab.sim.spawners.from_files.from_files import spawn_from_mjcf
from isaaclab.sim.spawners.from_files.from_files_cfg import MjcfFileCfg
from isaaclab.terrains import TerrainImporter
from isaaclab.utils import configclass
from isaaclab_newton.sim.schemas import NewtonArticulationCfg

from isaac_hydra_ext.assets.go1 import FOOT_NAMES, GO1, JOINT_TYPES, LEGS, Go1Params

try:  # registers the importer's USD schemas (PhysxJointAPI, mjcPhysics): must happen before the first stage exists
    import isaacsim.asset.importer.utils  # noqa: F401
except ImportError as exc:  # reported when the robot is spawned
    IMPORTER_ERROR: ImportError | None = exc
else:
    IMPORTER_ERROR = None

ASSET_CACHE = os.environ.get("IHE_GO1_ASSET_DIR") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
    "isaac_hydra_ext",
    "go1_newton",
)
"""Where the Go1 MJCF and its converted USD are kept: ``$IHE_GO1_ASSET_DIR``, else
``${XDG_CACHE_HOME:-~/.cache}/isaac_hydra_ext/go1_newton`` (read at import)."""

FOOT_MASS = 1.0e-3
"""Mass (kg) of each welded foot body; the foot's real 60 g stay in the calf inertial of the table."""

ROBOT_BODY_NAMES: tuple[str, ...] = (
    ("trunk",) + tuple(f"{leg}_{kind}" for leg in LEGS for kind in JOINT_TYPES) + FOOT_NAMES
)
"""Rigid bodies of the converted robot (17): trunk, 12 leg links, 4 feet."""


# ------------------------------------------------------------------------------------------------------------------
# MJCF for Isaac Lab
# ------------------------------------------------------------------------------------------------------------------


def isaaclab_go1_mjcf(params: Go1Params = GO1) -> str:
    """Return the MJCF text of our Go1 prepared for Isaac Lab's importer (see the module docstring)."""
    import tempfile

    import mujoco

    from isaac_hydra_ext.envs.go1 import write_go1_mjcf

    # mujoco's compiled modules ship no stubs: pyright cannot see MjSpec and mjtGeom (hence the two ignores below)
    with tempfile.TemporaryDirectory(prefix="ihe_go1_") as tmp:
        spec = mujoco.MjSpec.from_file(  # pyright: ignore[reportAttributeAccessIssue]
            write_go1_mjcf(os.path.join(tmp, "go1.xml"), params)
        )
    for geom in list(spec.worldbody.geoms):  # the floor: Isaac Lab's terrain is the ground
        spec.delete(geom)
    for light in list(spec.worldbody.lights):
        spec.delete(light)
    for group in (spec.actuators, spec.sensors, spec.textures, spec.materials, spec.cameras, spec.sites, spec.keys):
        for element in list(group):
            spec.delete(element)
    radius = params.foot_radius
    for leg, foot in zip(LEGS, FOOT_NAMES, strict=True):
        calf, sphere = spec.body(f"{leg}_calf"), spec.geom(foot)
        body = calf.add_body(name=foot, pos=list(sphere.pos))
        body.explicitinertial = True
        body.mass = FOOT_MASS
        body.inertia = [0.4 * FOOT_MASS * radius**2] * 3  # solid sphere
        body.add_geom(
            name=f"{foot}_collision",
            type=mujoco.mjtGeom.mjGEOM_SPHERE,  # pyright: ignore[reportAttributeAccessIssue]
            size=[radius, 0.0, 0.0],
            contype=sphere.contype,
            conaffinity=sphere.conaffinity,
            condim=sphere.condim,
            priority=sphere.priority,
            friction=list(sphere.friction),
            rgba=list(sphere.rgba),
            mass=0.0,
        )
        spec.delete(sphere)
    spec.compile()  # fails loudly here rather than in the importer
    return spec.to_xml()


def write_isaaclab_go1_mjcf(path: str, params: Go1Params = GO1) -> str:
    """Write :func:`isaaclab_go1_mjcf` to ``path`` (only if its content changed, so the USD cache stays valid)."""
    xml = isaaclab_go1_mjcf(params)
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == xml:
                return path
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(xml)
    os.replace(tmp, path)
    return path


def spawn_go1_mjcf(prim_path: str, cfg: Go1MjcfFileCfg, *args, **kwargs):
    """Spawner of :class:`Go1MjcfFileCfg`: write our Go1 MJCF (if asked), then Isaac Lab's ``spawn_from_mjcf``.

    Writing and converting hold a file lock next to the MJCF, so that processes starting together (APPO workers)
    convert once and the others reuse the result.
    """
    from filelock import FileLock

    if IMPORTER_ERROR is not None:
        raise ImportError(
            f"spawning the Go1 from MJCF needs Isaac Lab's standalone MJCF importer ({IMPORTER_ERROR}); install "
            "isaacsim-asset-isolated (the isaaclab[importers] extra) and its dependencies, see docs/isaaclab.md"
        ) from IMPORTER_ERROR
    asset_path = os.path.abspath(cfg.asset_path)
    os.makedirs(os.path.dirname(asset_path), exist_ok=True)
    with FileLock(asset_path + ".lock"):
        if cfg.build_model:
            write_isaaclab_go1_mjcf(asset_path)
        elif not os.path.isfile(asset_path):
            raise FileNotFoundError(f"robot MJCF '{asset_path}' does not exist (build_model=False)")
        return spawn_from_mjcf(prim_path, cfg, *args, **kwargs)


@configclass
class Go1MjcfFileCfg(MjcfFileCfg):
    """Spawn our Go1 from MJCF: :class:`~isaaclab.sim.MjcfFileCfg` whose spawner first writes the model."""

    func: Callable | str = spawn_go1_mjcf

    build_model: bool = True
    """Write our Go1 (``isaac_hydra_ext.envs.go1`` parameter table) to :attr:`asset_path` before converting.
    False: convert the MJCF already at :attr:`asset_path` (any Go1 with Unitree names and ``<leg>_foot`` bodies)."""


# ------------------------------------------------------------------------------------------------------------------
# Robot and actuators
# ------------------------------------------------------------------------------------------------------------------

GO1_ACTUATOR_CFG = DCMotorCfg(
    joint_names_expr=[".*_hip_joint", ".*_thigh_joint", ".*_calf_joint"],
    stiffness=GO1.kp,
    damping=GO1.kd,
    friction=0.0,
    armature=GO1.armature,
    actuator_effort_limit={
        ".*_hip_joint": GO1.hip_torque_limit,
        ".*_thigh_joint": GO1.thigh_torque_limit,
        ".*_calf_joint": GO1.calf_torque_limit,
    },
    saturation_effort={
        ".*_hip_joint": GO1.hip_torque_limit,
        ".*_thigh_joint": GO1.thigh_torque_limit,
        ".*_calf_joint": GO1.calf_torque_limit,
    },
    actuator_velocity_limit={".*_hip_joint": 30.1, ".*_thigh_joint": 30.1, ".*_calf_joint": 20.06},
)
"""Explicit PD motor model in place of Isaac Lab's downloaded actuator network (``unitree_go1.pt``).

``tau = clip(Kp (q* - q) - Kd qdot, torque-speed limits)`` with the gains of our table (Kp 20, Kd 0.5: the Go1
controller the network was fitted to) and the Go1 motor limits Isaac Lab 3.0's Go1 actuator config uses: effort and
saturation torque 23.7 / 23.7 / 35.55 N m (hip / thigh / calf), no-load speed 30.1 / 30.1 / 20.06 rad/s (the
DC-motor torque-speed line that Isaac Lab's Go2 and A1 configs use)."""

SBER_GO1_MJCF_CFG = ArticulationCfg(
    spawn=Go1MjcfFileCfg(
        asset_path=os.path.join(ASSET_CACHE, "go1.xml"),
        usd_dir=os.path.join(ASSET_CACHE, "usd"),
        fix_base=False,
        self_collision=False,
        import_physics_scene=False,
        activate_contact_sensors=True,
        articulation_props=NewtonArticulationCfg(self_collision_enabled=False),
    ),
    init_state=ArticulationCfg.InitialStateCfg(
        pos=(0.0, 0.0, GO1.init_base_height),
        joint_pos={
            ".*L_hip_joint": GO1.default_hip_pos,
            ".*R_hip_joint": -GO1.default_hip_pos,
            "F[L,R]_thigh_joint": GO1.default_front_thigh_pos,
            "R[L,R]_thigh_joint": GO1.default_rear_thigh_pos,
            ".*_calf_joint": GO1.default_calf_pos,
        },
        joint_vel={".*": 0.0},
    ),
    soft_joint_pos_limit_factor=GO1.soft_joint_pos_limit_factor,
    actuators={"base_legs": GO1_ACTUATOR_CFG},
)
"""Our Go1 (MJCF from the parameter table) with Isaac Lab's ``UNITREE_GO1_CFG`` initial state and a DC motor model."""


# ------------------------------------------------------------------------------------------------------------------
# Ground plane
# ------------------------------------------------------------------------------------------------------------------


class LocalPlaneTerrainImporter(TerrainImporter):
    """Isaac Lab's terrain importer whose ``plane`` is authored in the stage, not referenced from the asset server.

    The plane is an infinite ``UsdGeom.Plane`` with a collision API and the terrain's physics material; its visual
    is the plane itself (no MDL material, no texture).
    """

    def import_ground_plane(self, name: str, size: tuple[float, float] | None = None):
        """Author ``<prim_path>/<name>`` as a local collision plane (``size`` only sizes the visual extent)."""
        from isaaclab.sim.spawners.materials.physics_materials import spawn_physics_material
        from isaaclab.sim.utils import bind_physics_material
        from isaaclab.sim.utils.stage import get_current_stage
        from pxr import Gf, UsdGeom, UsdPhysics

        prim_path = self.cfg.prim_path + f"/{name}"
        if prim_path in self.terrain_prim_paths:
            raise ValueError(f"A terrain with the name '{name}' already exists: {', '.join(self.terrain_names)}.")
        self.terrain_prim_paths.append(prim_path)
        stage = get_current_stage()
        UsdGeom.Xform.Define(stage, prim_path)
        plane = UsdGeom.Plane.Define(stage, f"{prim_path}/CollisionPlane")
        plane.CreateAxisAttr(UsdGeom.Tokens.z)
        half = 0.5 * max(size) if size else 100.0
        plane.CreateWidthAttr(2.0 * half)
        plane.CreateLengthAttr(2.0 * half)
        plane.CreateDisplayColorAttr([Gf.Vec3f(0.3, 0.33, 0.36)])
        UsdPhysics.CollisionAPI.Apply(plane.GetPrim())
        if self.cfg.physics_material is not None:
            material_path = f"{prim_path}/physicsMaterial"
            spawn_physics_material(material_path, self.cfg.physics_material, stage=stage)
            bind_physics_material(plane.GetPath(), material_path, stage=stage)
