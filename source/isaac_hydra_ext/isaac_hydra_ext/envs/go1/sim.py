"""B MuJoCo worlds stepped together in C with ``mujoco.rollout``: one call per policy step, no Python per world.

The authoritative state of world i is row i of :attr:`BatchedSim.state`, MuJoCo's ``mjSTATE_FULLPHYSICS`` vector
(time, qpos, qvel, ...). :meth:`BatchedSim.step` runs ``decimation`` physics steps of every world with a
constant ``ctrl`` (the PD targets) and keeps the state and the sensor data of every physics step, so
contact forces are seen at physics rate as Isaac Lab's contact sensor sees them. MuJoCo releases the GIL
while stepping; ``nthread > 1`` spreads the worlds over a thread pool.
"""

# mujoco's compiled modules ship no stubs, so pyright cannot see MjModel, mj_* functions and mjt* enums.
# pyright: reportAttributeAccessIssue=false
from __future__ import annotations

import copy

import mujoco
import numpy as np
from mujoco import rollout

_FULL = mujoco.mjtState.mjSTATE_FULLPHYSICS


class BatchedSim:
    """B copies of one compiled model, each world with its own (possibly randomized) ``MjModel``."""

    def __init__(self, model: mujoco.MjModel, num_envs: int, decimation: int, nthread: int = 1):
        """Worlds start in the model's default state (``qpos0``, zero velocity)."""
        self.model = model
        self.num_envs = num_envs
        self.decimation = decimation
        self.models: list[mujoco.MjModel] = [model] * num_envs
        self.nstate = mujoco.mj_stateSize(model, _FULL)
        # offsets of qpos and qvel inside a FULLPHYSICS state vector
        self.qpos_offset = mujoco.mj_stateSize(model, mujoco.mjtState.mjSTATE_TIME)
        self.qvel_offset = self.qpos_offset + model.nq
        data = mujoco.MjData(model)
        initial = np.empty(self.nstate)
        mujoco.mj_getState(model, data, initial, _FULL)
        self.state = np.tile(initial, (num_envs, 1))
        self.qpos = self.state[:, self.qpos_offset : self.qpos_offset + model.nq]
        """(B, nq) view into :attr:`state`."""
        self.qvel = self.state[:, self.qvel_offset : self.qvel_offset + model.nv]
        """(B, nv) view into :attr:`state`."""
        self.trajectory = np.empty((num_envs, decimation, self.nstate))
        """(B, decimation, nstate): state after each physics step of the last :meth:`step`."""
        self.sensordata = np.zeros((num_envs, decimation, model.nsensordata))
        """(B, decimation, nsensordata): sensors computed in each physics step of the last :meth:`step`."""
        self._ctrl = np.zeros((num_envs, decimation, model.nu))
        # each rollout starts the solver cold, so world i never depends on the world stepped before it
        self._warmstart = np.zeros((num_envs, model.nv))
        self._nthread = max(1, nthread)
        self._datas = [mujoco.MjData(model) for _ in range(self._nthread)]
        self._runner = rollout.Rollout(nthread=self._nthread if self._nthread > 1 else 0)

    def randomize(self, env_ids: np.ndarray | None = None) -> list[mujoco.MjModel]:
        """Give the worlds their own model copies (for per-world physical parameters); returns the list."""
        ids = range(self.num_envs) if env_ids is None else env_ids
        for i in ids:
            if self.models[i] is self.model:
                self.models[i] = copy.copy(self.model)
        return self.models

    def step(self, ctrl: np.ndarray) -> None:
        """Run ``decimation`` physics steps of every world with ``ctrl`` (B, nu) held constant."""
        assert self._runner is not None, "BatchedSim.step() after close()"
        self._ctrl[:] = ctrl[:, None, :]
        self._runner.rollout(
            self.models,
            self._datas,
            self.state,
            self._ctrl,
            nstep=self.decimation,
            skip_checks=True,
            initial_warmstart=self._warmstart,
            state=self.trajectory,
            sensordata=self.sensordata,
        )
        self.state[:] = self.trajectory[:, -1]

    def joint_velocity_history(self, qvel_adr: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """Joint velocities before and after the last physics step of the last :meth:`step`, each (B, n).

        ``before`` is None when ``decimation`` is 1 (the trajectory then holds only the state after the step).
        """
        before = self.trajectory[:, -2, self.qvel_offset + qvel_adr] if self.decimation > 1 else None
        after = self.trajectory[:, -1, self.qvel_offset + qvel_adr]
        return before, after

    def data_for(self, env_index: int) -> tuple[mujoco.MjModel, mujoco.MjData]:
        """Return a fresh ``MjData`` holding world ``env_index``'s state, kinematics computed (for rendering)."""
        model = self.models[env_index]
        data = mujoco.MjData(model)
        mujoco.mj_setState(model, data, self.state[env_index], _FULL)
        mujoco.mj_forward(model, data)
        return model, data

    def close(self) -> None:
        """Stop the thread pool."""
        if self._runner is not None:
            self._runner.close()
            self._runner = None
