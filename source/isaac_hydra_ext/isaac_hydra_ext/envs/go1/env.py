"""The batched Go1 flat velocity-tracking env: a gymnasium ``VectorEnv`` with SAME_STEP autoreset.

One env object steps B robots with a single ``mujoco.rollout`` call per policy step and numpy over the batch
for everything else (no Python loop over envs). It follows Isaac Lab's ``ManagerBasedRLEnv.step``:

1. actions -> PD targets ``q_default + scale * a``; ``decimation`` physics steps (PD inside ``mj_step``);
2. episode counters += 1; terminations (trunk contact, time-out); rewards (sum of weight * term * dt);
3. commands advance (resample on timer, heading control); observation (the ``final_obs`` of ended envs);
4. ended envs log their episode and reset; interval pushes; new observation rows for reset or pushed envs.

``info`` of :meth:`Go1VelocityEnv.step` holds ``final_obs`` (B, 48) and its mask ``_final_obs`` when an env
ended, and ``log`` (Isaac Lab style episode statistics of the envs that ended in this step).
"""

# mujoco's compiled modules ship no stubs, so pyright cannot see MjModel, mj_* functions and mjt* enums.
# pyright: reportAttributeAccessIssue=false
from __future__ import annotations

import copy
import dataclasses
import math
import re
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from ...assets.go1 import POLICY_JOINT_NAMES
from ..deployment import DeploymentInfo
from .cfg import Go1VelocityTaskCfg, SimCfg, apply_overrides, play_cfg
from .commands import VelocityCommand
from .contact import AirTimeTracker, force_index, force_norms
from .deployment import GO1_MIRROR, go1_deployment_info
from .model import compile_go1, go1_layout
from .observations import OBS_DIM, add_noise, noise_scale, policy_obs
from .rewards import REWARD_TERMS, RewardInputs, active_terms, soft_limits
from .rotations import heading, quat_from_euler_xyz, quat_to_rotmat
from .sim import BatchedSim
from .state import RobotState, robot_state

_CONSTRUCTOR_ARGS = ("num_envs", "max_episode_steps", "render_mode", "cfg")


class Go1VelocityEnv(VectorEnv):
    """B Unitree Go1 robots tracking base-velocity commands on flat ground (Isaac Lab Go1 flat, on MuJoCo).

    Observation (B, 48) float32, action (B, 12) float32, both in
    :data:`~isaac_hydra_ext.assets.go1.POLICY_JOINT_NAMES` order; see docs/go1_task.md for the layout, the terms
    and the differences from Isaac Lab.
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": ["rgb_array"], "render_fps": 50}
    mirror_function = GO1_MIRROR
    """The task's left-right mirror factory (a task hook: :mod:`isaac_hydra_ext.envs.deployment`)."""

    @classmethod
    def default_cfg(cls) -> Go1VelocityTaskCfg:
        """Return the task configuration before keyword overrides (training variant)."""
        return Go1VelocityTaskCfg()

    def __init__(
        self,
        num_envs: int = 1,
        *,
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
        cfg: Go1VelocityTaskCfg | None = None,
        **overrides: Any,
    ):
        """Build B = ``num_envs`` robots.

        Args:
            num_envs: number of robots stepped together.
            max_episode_steps: time limit in policy steps (gymnasium passes the registered 1000); overrides
                ``sim.episode_length_s`` unless that was set explicitly to a different value (then: error).
            render_mode: ``None`` or ``"rgb_array"`` (:meth:`render` returns env 0's tracking-camera frame).
            cfg: a complete task configuration (default: :meth:`default_cfg`).
            **overrides: task fields to override, sections as dicts, e.g. ``rewards={"feet_air_time": 0.5}``,
                ``commands={"lin_vel_x": (0.0, 1.0)}``, ``model_path="go1.xml"``. Unknown names raise TypeError.

        """
        if not isinstance(num_envs, int) or isinstance(num_envs, bool) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        base = copy.deepcopy(cfg) if cfg is not None else self.default_cfg()
        allowed = sorted(set(_CONSTRUCTOR_ARGS) | {f.name for f in dataclasses.fields(base)})
        unknown = [key for key in overrides if key not in allowed]
        if unknown:
            raise TypeError(f"unknown Go1VelocityEnv argument '{unknown[0]}'; allowed: {', '.join(allowed)}")
        self.cfg: Go1VelocityTaskCfg = apply_overrides(base, overrides)
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        self.num_envs = num_envs
        self._resolve_episode_length(max_episode_steps, overrides, cfg)
        _validate(self.cfg)
        task = self.cfg
        self.step_dt = task.step_dt
        self.physics_dt = task.sim.dt

        # ---- model and batched simulator ------------------------------------------------------------
        model = compile_go1(task.robot, task.sim, task.model_path)
        self.layout = go1_layout(model)
        self.sim = BatchedSim(model, num_envs, task.sim.decimation, task.sim.nthread)
        self._initial_state = self.sim.state[0].copy()
        self.default_joint_pos = np.array([task.robot.default_joint_pos(n) for n in POLICY_JOINT_NAMES])
        self.soft_joint_limits = soft_limits(self.layout.joint_range, task.robot.soft_joint_pos_limit_factor)
        base_adr = self._body_adr(task.terminations.base_contact_bodies, "terminations.base_contact_bodies")
        undesired_adr = self._body_adr(
            task.rewards.undesired_contact_bodies,
            "rewards.undesired_contact_bodies",
            required=task.rewards.undesired_contacts is not None,
        )
        # all contact forces read per step, in one gather: [feet (4) | base bodies | undesired bodies]
        self._contact_index = force_index(np.concatenate([self.layout.foot_contact_adr, base_adr, undesired_adr]))
        self._base_cols = slice(4, 4 + len(base_adr))
        self._undesired_cols = slice(4 + len(base_adr), 4 + len(base_adr) + len(undesired_adr))
        self._mass_body = _body_id(model, task.events.base_mass_body, "events.base_mass_body")
        self._robot_geoms = np.flatnonzero(model.geom_bodyid > 0)

        # ---- spaces -------------------------------------------------------------------------------------
        bound = np.inf if task.action.clip is None else float(task.action.clip)
        self.single_observation_space = gym.spaces.Box(-np.inf, np.inf, (OBS_DIM,), np.float32)
        self.single_action_space = gym.spaces.Box(-bound, bound, (12,), np.float32)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)

        # ---- task buffers -------------------------------------------------------------------------------
        self.reward_terms = active_terms(task.rewards)
        """(name, weight) of the reward terms, in order."""
        self._weights_dt = np.array([w for _, w in self.reward_terms]) * self.step_dt
        self._term_values = np.zeros((num_envs, len(self.reward_terms)))
        self._neg_inv_std2 = -1.0 / task.rewards.tracking_std**2
        self._computed_terms = [i for i, (_, w) in enumerate(self.reward_terms) if w != 0.0]
        self._noise_scale = noise_scale(task.noise) if task.noise.enable_corruption else None
        self.commands = VelocityCommand(task.commands, num_envs, self.step_dt)
        self._inv_resample_steps = 1.0 / self.commands.resample_steps
        self.air_time = AirTimeTracker(num_envs, 4, task.contact.force_threshold)
        self.action = np.zeros((num_envs, 12))
        self.prev_action = np.zeros((num_envs, 12))
        self.episode_length = np.zeros(num_envs, dtype=np.int64)
        """Steps counted towards the time-out (may start at a random value, see ``init_at_random_ep_len``)."""
        self.episode_steps = np.zeros(num_envs, dtype=np.int64)
        """Steps actually taken in the current episode."""
        self.episode_sums = np.zeros((num_envs, len(self.reward_terms)))
        self._metric_sums = np.zeros((num_envs, 4))  # lin/ang tracking kernels, Isaac Lab vel errors
        self._push_steps_left = np.zeros(num_envs, dtype=np.int64)
        self._last_joint_vel = np.zeros((num_envs, 12))
        self._obs = np.zeros((num_envs, OBS_DIM), dtype=np.float32)
        self._rng = np.random.default_rng()
        self._renderer: Any = None
        self._randomize_physics()
        self._reset_envs(np.arange(num_envs))

    # ------------------------------------------------------------------------------------------------------
    # construction helpers
    # ------------------------------------------------------------------------------------------------------

    def _resolve_episode_length(self, max_episode_steps: int | None, overrides: dict, cfg: Any) -> None:
        sim = self.cfg.sim
        step_dt = sim.dt * sim.decimation
        # Isaac Lab: max_episode_length = ceil(episode_length_s / step_dt) (tolerance for float round-off)
        from_seconds = math.ceil(sim.episode_length_s / step_dt - 1e-9)
        if max_episode_steps is None:
            self.max_episode_steps = from_seconds
            return
        if int(max_episode_steps) < 1:
            raise ValueError(f"max_episode_steps must be >= 1, got {max_episode_steps!r}")
        explicit = "episode_length_s" in dict(overrides.get("sim") or {}) or (
            cfg is not None and cfg.sim.episode_length_s != SimCfg().episode_length_s
        )
        if explicit and from_seconds != int(max_episode_steps):
            raise ValueError(
                f"sim.episode_length_s={sim.episode_length_s} ({from_seconds} steps) disagrees with "
                f"max_episode_steps={max_episode_steps}; set the time limit with max_episode_steps only "
                "(Hydra: env.max_episode_steps=N)"
            )
        self.max_episode_steps = int(max_episode_steps)
        sim.episode_length_s = self.max_episode_steps * step_dt

    def _body_adr(self, pattern: str, what: str, required: bool = True) -> np.ndarray:
        names = self.layout.body_names
        picked = [i for i, name in enumerate(names) if re.fullmatch(pattern, name)]
        if required and not picked:
            raise ValueError(f"{what}={pattern!r} matches no body; bodies: {', '.join(names)}")
        return self.layout.body_contact_adr[picked]

    # ------------------------------------------------------------------------------------------------------
    # gymnasium API
    # ------------------------------------------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """Reset all envs (or ``options["reset_mask"]``); a seed re-seeds every random draw of the env.

        With a seed, the startup randomization (friction, base mass) is drawn again from it, so the same
        seed and actions give the same trajectories. A full reset with ``init_at_random_ep_len`` starts the
        time-out counters at random steps of the first episode.
        """
        if seed is not None:
            self._rng = np.random.default_rng(seed)
            self._randomize_physics()
        mask = None if options is None else options.get("reset_mask")
        ids = np.arange(self.num_envs) if mask is None else np.flatnonzero(np.asarray(mask, dtype=bool))
        self._reset_envs(ids)
        if mask is None and self.cfg.init_at_random_ep_len:
            self.episode_length[:] = self._rng.integers(0, self.max_episode_steps, size=self.num_envs)
        state = self._robot_state()
        self.commands.update(heading(state.rot))
        return self._observe(state, self._obs), {}

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Advance every env one policy step; envs that ended are reset in the same call (SAME_STEP)."""
        cfg = self.cfg
        action = np.asarray(actions, dtype=np.float64).reshape(self.num_envs, 12)
        if cfg.action.clip is not None:
            action = np.clip(action, -cfg.action.clip, cfg.action.clip)
        self.prev_action[:] = self.action
        self.action[:] = action
        # PD targets: q* = q_default + scale * a
        time_before = self.sim.state[:, 0].copy()
        self.sim.step(self.default_joint_pos + cfg.action.scale * action)
        # MuJoCo resets a world whose accelerations blow up (time back to 0): end that episode as truncated
        sim_reset = self.sim.state[:, 0] < time_before + 0.5 * self.step_dt

        state = self._robot_state()
        # contact force norms of every physics step of this policy step: (B, decimation, n)
        norms = force_norms(self.sim.sensordata, self._contact_index)
        self.air_time.update(norms[:, :, :4], self.physics_dt)
        # contact terms look at the max over the last `history_length` physics steps (Isaac Lab history)
        recent = norms[:, -cfg.contact.history_length :].max(axis=1)
        self.episode_length += 1
        self.episode_steps += 1
        terminated = (recent[:, self._base_cols] > cfg.terminations.base_contact_threshold).any(axis=1)
        time_out = (self.episode_length >= self.max_episode_steps) | sim_reset

        reward = self._compute_rewards(state, recent[:, self._undesired_cols])
        self.commands.step(heading(state.rot), self._rng)
        obs = self._observe(state, self._obs)

        done = terminated | time_out
        info: dict[str, Any] = {}
        if done.any():
            ids = np.flatnonzero(done)
            info["final_obs"] = obs.copy()
            info["_final_obs"] = done
            info["log"] = self._episode_log(ids, terminated, time_out, sim_reset)
            self._reset_envs(ids)
        pushed = self._push()
        rows = np.flatnonzero(done | pushed)
        if rows.size:
            # envs that were reset or pushed: new state, so new heading command and observation
            sub = self._robot_state(rows)
            self.commands.update(heading(sub.rot), rows)
            obs[rows] = self._observe(sub, None, rows)
        if self.sim.decimation == 1:
            self._last_joint_vel[:] = self.sim.qvel[:, self.layout.joint_qvel]
        return obs.copy(), reward, terminated, time_out & ~terminated, info

    def deployment_info(self) -> DeploymentInfo:
        """Joint order, defaults, action scale, control period and observation layout (a task hook)."""
        return go1_deployment_info(self.cfg)

    def compute_obs(self) -> np.ndarray:
        """Return the policy observation (B, 48) of the current state, command and last action (noisy in training).

        After writing ``sim.qpos``/``sim.qvel``, ``commands.command`` or ``action`` by hand (tests, tools),
        this shows what the policy would observe; it does not step or reset anything.
        """
        return self._observe(self._robot_state(), None).copy()

    def render(self) -> tuple[np.ndarray, ...] | None:
        """With ``render_mode="rgb_array"``: a 1-tuple with env 0's tracking-camera frame (H, W, 3) uint8."""
        if self.render_mode != "rgb_array":
            return None
        return (self.render_frame(0),)

    def render_frame(self, env_index: int = 0) -> np.ndarray:
        """Env ``env_index``'s tracking-camera frame (H, W, 3) uint8 (the VecEnv video hook); needs ``rgb_array``.

        The offscreen renderer is made on first use; it raises :class:`~.render.RenderingUnavailableError` naming
        the system package to install when no OpenGL backend works.
        """
        if self.render_mode != "rgb_array":
            raise RuntimeError("Go1VelocityEnv renders frames only when made with render_mode='rgb_array'")
        if not 0 <= env_index < self.num_envs:
            raise IndexError(f"env_index={env_index} is out of range: there are {self.num_envs} envs")
        if self._renderer is None:
            from .render import Go1Renderer

            self._renderer = Go1Renderer(self)
        return self._renderer.render(env_index)

    def close(self, **kwargs: Any) -> None:
        """Release the simulator threads and the renderer."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        self.sim.close()
        super().close(**kwargs)

    # ------------------------------------------------------------------------------------------------------
    # step pieces
    # ------------------------------------------------------------------------------------------------------

    def _robot_state(self, rows: np.ndarray | None = None) -> RobotState:
        """Robot quantities of all envs, or of ``rows`` only."""
        lay = self.layout
        qpos, qvel = (self.sim.qpos, self.sim.qvel) if rows is None else (self.sim.qpos[rows], self.sim.qvel[rows])
        return robot_state(qpos, qvel, lay.root_qpos, lay.root_qvel, lay.joint_qpos, lay.joint_qvel, lay.trunk_com)

    def _observe(self, state: RobotState, out: np.ndarray | None, rows: np.ndarray | None = None) -> np.ndarray:
        """Policy observation of all envs (or ``rows``, matching ``state``), noise added in training."""
        ids = slice(None) if rows is None else rows
        out = policy_obs(state, self.commands.command[ids], self.default_joint_pos, self.action[ids], out=out)
        if self._noise_scale is not None:
            add_noise(out, self._noise_scale, self._rng)
        return out

    def _compute_rewards(self, state: RobotState, undesired_contact: np.ndarray) -> np.ndarray:
        """Weighted, dt-scaled reward of this step (B,); accumulates the episode sums and metrics."""
        cfg = self.cfg
        lay = self.layout
        sim = self.sim
        before = sim.trajectory[:, -2, sim.qvel_offset + lay.joint_qvel] if sim.decimation > 1 else self._last_joint_vel
        inputs = RewardInputs(
            state=state,
            command=self.commands.command,
            action=self.action,
            prev_action=self.prev_action,
            joint_torque=sim.sensordata[:, -1, lay.torque_adr],
            # finite difference over the last physics step, as Isaac Lab's joint_acc
            joint_acc=(state.joint_vel - before) / self.physics_dt,
            first_contact=self.air_time.first_contact(self.step_dt).astype(np.float64),
            last_air_time=self.air_time.last_air_time,
            undesired_contact=undesired_contact,
            soft_joint_limits=self.soft_joint_limits,
        )
        values = self._term_values
        for k in self._computed_terms:
            values[:, k] = REWARD_TERMS[self.reward_terms[k][0]](inputs, cfg.rewards)
        # Isaac Lab reward manager: r = sum_k w_k * f_k * dt
        weighted = values * self._weights_dt
        self.episode_sums += weighted
        # episode metrics: unweighted tracking kernels exp(-err^2 / std^2) and Isaac Lab's command errors
        diff = inputs.command - np.concatenate([state.lin_vel_b[:, :2], state.ang_vel_b[:, 2:]], axis=1)
        err = np.empty((self.num_envs, 2))  # squared errors |cmd_xy - v_xy|^2, (cmd_yaw - w_z)^2
        err[:, 0] = np.einsum("ij,ij->i", diff[:, :2], diff[:, :2])
        err[:, 1] = np.square(diff[:, 2])
        self._metric_sums[:, :2] += np.exp(err * self._neg_inv_std2)
        self._metric_sums[:, 2:] += np.sqrt(err) * self._inv_resample_steps
        return weighted.sum(axis=1)

    def _episode_log(
        self, ids: np.ndarray, terminated: np.ndarray, time_out: np.ndarray, sim_reset: np.ndarray
    ) -> dict[str, float]:
        """Statistics of the episodes ending now, averaged over those envs (Isaac Lab ``extras["log"]``)."""
        log: dict[str, float] = {}
        sums = self.episode_sums[ids].mean(axis=0) / self.cfg.sim.episode_length_s
        for k, (name, _) in enumerate(self.reward_terms):
            log[f"Episode_Reward/{name}"] = float(sums[k])
        log["Episode_Termination/base_contact"] = float(terminated[ids].mean())
        log["Episode_Termination/time_out"] = float((time_out[ids] & ~terminated[ids] & ~sim_reset[ids]).mean())
        log["Episode_Termination/sim_reset"] = float((sim_reset[ids] & ~terminated[ids]).mean())
        steps = self.episode_steps[ids]
        log["Metrics/lin_vel_tracking"] = float(np.mean(self._metric_sums[ids, 0] / steps))
        log["Metrics/ang_vel_tracking"] = float(np.mean(self._metric_sums[ids, 1] / steps))
        log["Metrics/base_velocity/error_vel_xy"] = float(np.mean(self._metric_sums[ids, 2]))
        log["Metrics/base_velocity/error_vel_yaw"] = float(np.mean(self._metric_sums[ids, 3]))
        return log

    def _push(self) -> np.ndarray:
        """Interval pushes: add U(push range) to the base x/y velocity of envs whose push timer expired.

        Returns the (B,) mask of pushed envs.
        """
        ev = self.cfg.events
        pushed = np.zeros(self.num_envs, dtype=bool)
        if not ev.push_robot:
            return pushed
        self._push_steps_left -= 1
        pushed = self._push_steps_left <= 0
        ids = np.flatnonzero(pushed)
        if ids.size:
            lo, hi = ev.push_velocity_xy
            v = self.layout.root_qvel
            self.sim.qvel[ids, v : v + 2] += self._rng.uniform(lo, hi, (ids.size, 2))
            self._push_steps_left[ids] = self._sample_push_steps(ids.size)
        return pushed

    def _sample_push_steps(self, n: int) -> np.ndarray:
        lo, hi = self.cfg.events.push_interval_s
        return np.maximum(1, np.round(self._rng.uniform(lo, hi, n) / self.step_dt)).astype(np.int64)

    # ------------------------------------------------------------------------------------------------------
    # resets and randomization
    # ------------------------------------------------------------------------------------------------------

    def _reset_envs(self, ids: np.ndarray) -> None:
        """Put envs ``ids`` at a randomized start state and clear their episode buffers."""
        n = ids.size
        if n == 0:
            return
        ev, lay, rng = self.cfg.events, self.layout, self._rng
        self.sim.state[ids] = self._initial_state
        qpos = self.sim.qpos
        qvel = self.sim.qvel
        # base pose: default (0, 0, h) + U(x, y) offsets, orientation = quat(roll, pitch, yaw)
        r = lay.root_qpos
        qpos[ids, r] = rng.uniform(*ev.reset_pose_x, n)
        qpos[ids, r + 1] = rng.uniform(*ev.reset_pose_y, n)
        qpos[ids, r + 2] = self.cfg.robot.init_base_height
        quat = quat_from_euler_xyz(
            rng.uniform(*ev.reset_pose_roll, n),
            rng.uniform(*ev.reset_pose_pitch, n),
            rng.uniform(*ev.reset_pose_yaw, n),
        )
        qpos[ids, r + 3 : r + 7] = quat
        # base velocity sampled in the world frame; MuJoCo's free joint takes the angular part in the body frame
        v = lay.root_qvel
        qvel[ids, v : v + 3] = rng.uniform(*ev.reset_lin_vel, (n, 3))
        ang_w = rng.uniform(*ev.reset_ang_vel, (n, 3))
        qvel[ids, v + 3 : v + 6] = np.einsum("bij,bi->bj", quat_to_rotmat(quat), ang_w)
        # joints: q = q_default * U(scale), clipped to the soft limits; qdot = 0 * U(scale) = 0
        scale = rng.uniform(*ev.reset_joint_pos_scale, (n, 12))
        joint_pos = np.clip(self.default_joint_pos * scale, self.soft_joint_limits[:, 0], self.soft_joint_limits[:, 1])
        qpos[np.ix_(ids, lay.joint_qpos)] = joint_pos
        qvel[np.ix_(ids, lay.joint_qvel)] = 0.0 * rng.uniform(*ev.reset_joint_vel_scale, (n, 12))
        self._last_joint_vel[ids] = qvel[np.ix_(ids, lay.joint_qvel)]
        self.action[ids] = 0.0
        self.prev_action[ids] = 0.0
        self.air_time.reset(ids)
        self.episode_length[ids] = 0
        self.episode_steps[ids] = 0
        self.episode_sums[ids] = 0.0
        self._metric_sums[ids] = 0.0
        self.commands.resample(ids, rng)
        if ev.push_robot:
            self._push_steps_left[ids] = self._sample_push_steps(n)

    def _randomize_physics(self) -> None:
        """Startup randomization (Isaac Lab mode "startup"): per-env friction and added base mass."""
        ev = self.cfg.events
        if not (ev.randomize_friction or ev.randomize_base_mass):
            return
        models = self.sim.randomize()
        base = self.sim.model
        friction = self._rng.uniform(*ev.friction_range, self.num_envs)
        added = self._rng.uniform(*ev.added_mass_range, self.num_envs)
        mass0 = base.body_mass[self._mass_body]
        inertia0 = base.body_inertia[self._mass_body].copy()
        data = mujoco.MjData(base)
        for i, model in enumerate(models):
            if ev.randomize_friction:
                model.geom_friction[self._robot_geoms, 0] = friction[i]
            if ev.randomize_base_mass:
                # Isaac Lab randomize_rigid_body_mass(operation="add", recompute_inertia=True): I' = I m'/m
                model.body_mass[self._mass_body] = mass0 + added[i]
                model.body_inertia[self._mass_body] = inertia0 * (mass0 + added[i]) / mass0
            mujoco.mj_setConst(model, data)


def _body_id(model: mujoco.MjModel, name: str, what: str) -> int:
    body = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name)
    if body < 0:
        raise ValueError(f"{what}={name!r} is not a body of the model")
    return body


def _validate(cfg: Go1VelocityTaskCfg) -> None:
    """Value checks the types cannot express; raises ValueError naming the field."""
    sim = cfg.sim
    if sim.dt <= 0 or sim.decimation < 1:
        raise ValueError(f"sim.dt must be > 0 and sim.decimation >= 1, got {sim.dt}, {sim.decimation}")
    if sim.nthread < 1:
        raise ValueError(f"sim.nthread={sim.nthread} is invalid: must be an integer >= 1 (threads stepping the worlds)")
    choices = {
        "integrator": ("euler", "implicit", "implicitfast", "rk4"),
        "solver": ("newton", "cg", "pgs"),
        "cone": ("pyramidal", "elliptic"),
    }
    for name, allowed in choices.items():
        if getattr(sim, name) not in allowed:
            raise ValueError(f"sim.{name}={getattr(sim, name)!r}; allowed: {', '.join(allowed)}")
    history = cfg.contact.history_length
    if not 1 <= history <= sim.decimation:
        raise ValueError(f"contact.history_length={history} must be in [1, sim.decimation={sim.decimation}]")
    for section_name in ("commands", "events"):
        for field_name, value in vars(getattr(cfg, section_name)).items():
            if isinstance(value, tuple) and len(value) == 2 and field_name != "fixed_command" and value[0] > value[1]:
                raise ValueError(f"{section_name}.{field_name}={value}: low > high")
    for name in ("rel_standing_envs", "rel_heading_envs"):
        if not 0.0 <= getattr(cfg.commands, name) <= 1.0:
            raise ValueError(f"commands.{name} must be in [0, 1]")
    if cfg.events.randomize_base_mass and cfg.robot.trunk_inertial.mass + cfg.events.added_mass_range[0] <= 0:
        raise ValueError("events.added_mass_range would make the base mass non-positive")


class Go1VelocityPlayEnv(Go1VelocityEnv):
    """The Play variant: fixed command (vx 0.5 m/s), no noise, no pushes (see :func:`~.cfg.play_cfg`)."""

    @classmethod
    def default_cfg(cls) -> Go1VelocityTaskCfg:
        """Return the Play task configuration before keyword overrides."""
        return play_cfg()
