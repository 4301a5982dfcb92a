"""Contact bookkeeping at physics rate, as Isaac Lab's ``ContactSensor`` (history and air time)."""

from __future__ import annotations

import numpy as np


def force_index(adr: np.ndarray) -> np.ndarray:
    """(n, 3) sensordata indices of the 3-vectors that start at ``adr`` (n,)."""
    return np.asarray(adr)[:, None] + np.arange(3)


def force_norms(sensordata: np.ndarray, index: np.ndarray) -> np.ndarray:
    """|f| of the 3-vectors at ``index`` (n, 3) (:func:`force_index`) in sensordata (..., nsensordata) -> (..., n)."""
    forces = sensordata[..., index]
    return np.sqrt(np.einsum("...k,...k->...", forces, forces))


def max_over_history(norms: np.ndarray, history_length: int) -> np.ndarray:
    """Max of (B, substeps, n) force norms over the last ``history_length`` physics steps -> (B, n).

    Isaac Lab keeps ``net_forces_w_history`` of the last ``history_length`` physics steps and its contact terms
    use ``max(norm(history), dim=1)``.
    """
    return norms[:, -history_length:].max(axis=1)


class AirTimeTracker:
    """Per-foot air and contact timers updated every physics step (Isaac Lab ``track_air_time=True``).

    With ``c`` = (force norm > threshold) and elapsed time ``dt`` of one physics step:
    on touchdown (airborne before, contact now) ``last_air_time = current_air_time + dt``;
    ``current_air_time = current_air_time + dt`` while airborne, else 0;
    ``current_contact_time`` likewise while in contact.
    """

    def __init__(self, num_envs: int, num_feet: int, threshold: float):
        """Zeroed timers for ``num_envs`` x ``num_feet`` feet; contact means force norm > ``threshold`` N."""
        self.threshold = threshold
        self.current_air_time = np.zeros((num_envs, num_feet))
        self.current_contact_time = np.zeros((num_envs, num_feet))
        self.last_air_time = np.zeros((num_envs, num_feet))

    def update(self, foot_norms: np.ndarray, dt: float) -> None:
        """Advance the timers over (B, substeps, feet) force norms, one physics step at a time."""
        contacts = foot_norms > self.threshold
        airborne = ~contacts
        air, contact_time = self.current_air_time, self.current_contact_time
        for k in range(contacts.shape[1]):
            touchdown = contacts[:, k] & (air > 0.0)
            air += dt
            np.copyto(self.last_air_time, air, where=touchdown)
            air *= airborne[:, k]
            contact_time += dt
            contact_time *= contacts[:, k]

    def first_contact(self, step_dt: float) -> np.ndarray:
        """(B, feet) True where the foot touched down within the last policy step: 0 < contact time <= step_dt.

        Isaac Lab ``compute_first_contact(dt, abs_tol=1e-8)``.
        """
        return (self.current_contact_time > 0.0) & (self.current_contact_time < step_dt + 1e-8)

    def reset(self, env_ids: np.ndarray) -> None:
        """Zero the timers of the given envs."""
        self.current_air_time[env_ids] = 0.0
        self.current_contact_time[env_ids] = 0.0
        self.last_air_time[env_ids] = 0.0
