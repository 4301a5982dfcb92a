"""Gait symmetry of a Go1 policy on the embedded task: left and right foot air times (for benchmarks).

Every foot touchdown in a policy step (Isaac Lab's ``compute_first_contact``: 0 < contact time <= step dt) records
the foot's last air time (the task's physics-rate air-time tracker, Isaac Lab's ``last_air_time``). Per foot the
mean over its touchdowns is reported, and per side the mean over the touchdowns of its two feet; the symmetry index
(Robinson et al. 1987) compares the sides:

    SI = |T_left - T_right| / ((T_left + T_right) / 2)      (0: symmetric; 0.1: the sides differ by 10 %)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ...assets.go1 import LEGS

LEFT_FEET = tuple(i for i, leg in enumerate(LEGS) if leg.endswith("L"))
"""Indices (in :data:`~isaac_hydra_ext.assets.go1.LEGS` order) of the left feet: FL, RL."""
RIGHT_FEET = tuple(i for i, leg in enumerate(LEGS) if leg.endswith("R"))
"""Indices of the right feet: FR, RR."""


@dataclass
class GaitSymmetry:
    """Air-time statistics of a replay."""

    air_time_s: dict[str, float] = field(default_factory=dict)
    """Leg (FL, FR, RL, RR) -> mean air time (s) before its touchdowns (NaN without touchdowns)."""
    touchdowns: dict[str, int] = field(default_factory=dict)
    """Leg -> number of touchdowns recorded."""
    left_air_time_s: float = float("nan")
    """Mean air time over the touchdowns of the left feet (FL, RL)."""
    right_air_time_s: float = float("nan")
    """Mean air time over the touchdowns of the right feet (FR, RR)."""
    symmetry_index: float = float("nan")
    """|T_left - T_right| / mean(T_left, T_right): 0 for a left-right symmetric gait (NaN without touchdowns)."""


class GaitRecorder:
    """Collects each touchdown's air time from a :class:`~.env.Go1VelocityEnv` after every step."""

    def __init__(self, env):
        """Record from ``env`` (the unwrapped batched Go1 env)."""
        self.env = env
        self.sums = np.zeros(len(LEGS))
        self.counts = np.zeros(len(LEGS), dtype=np.int64)

    def record(self) -> None:
        """Add the air times of the feet that touched down in the last step (call after each ``env.step``)."""
        tracker = self.env.air_time
        touched = tracker.first_contact(self.env.step_dt)  # (B, 4)
        self.sums += np.where(touched, tracker.last_air_time, 0.0).sum(axis=0)
        self.counts += touched.sum(axis=0)

    def result(self) -> GaitSymmetry:
        """The statistics of everything recorded so far."""
        return gait_symmetry(self.sums, self.counts)


def gait_symmetry(sums: np.ndarray, counts: np.ndarray) -> GaitSymmetry:
    """Statistics from per-foot air-time sums (s) and touchdown counts, both in ``LEGS`` order."""

    def mean(total: float, n: int) -> float:
        return total / n if n else float("nan")

    left = mean(float(sums[list(LEFT_FEET)].sum()), int(counts[list(LEFT_FEET)].sum()))
    right = mean(float(sums[list(RIGHT_FEET)].sum()), int(counts[list(RIGHT_FEET)].sum()))
    both = (left + right) / 2.0
    return GaitSymmetry(
        air_time_s={leg: mean(float(sums[i]), int(counts[i])) for i, leg in enumerate(LEGS)},
        touchdowns={leg: int(counts[i]) for i, leg in enumerate(LEGS)},
        left_air_time_s=left,
        right_air_time_s=right,
        symmetry_index=abs(left - right) / both if both > 0 else float("nan"),
    )


def measure_gait_symmetry(env, act: Callable[[np.ndarray], np.ndarray], steps: int, seed: int = 0) -> GaitSymmetry:
    """Step ``env`` (a batched Go1 env) ``steps`` times with ``act(obs) -> actions`` and return its gait symmetry."""
    obs, _ = env.reset(seed=seed)
    recorder = GaitRecorder(env)
    for _ in range(steps):
        obs = env.step(act(obs))[0]
        recorder.record()
    return recorder.result()
