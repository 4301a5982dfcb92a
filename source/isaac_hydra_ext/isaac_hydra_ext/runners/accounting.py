"""Sample accounting of a run: proof that no rollout was lost or trained twice (``summary.json`` key ``accounting``)."""

from __future__ import annotations

from ..sampling.base import SamplerStats
from ..sampling.collector import RolloutInfo


class RolloutAccounting:
    """Cumulative sample accounting of a run (``summary.json`` key ``accounting``).

    With it a long run can prove that no rollout was lost or trained on twice.

    Per collector incarnation ``(worker_id, incarnation)`` the trained ``rollout_index`` values must be exactly
    0, 1, 2, ... (a worker announces its rollouts in order on its own pipe, and the learner takes the oldest
    first): an index seen twice is a duplicate, an index skipped is a lost rollout. A rollout that a killed worker
    was writing never gets an index that is trained. Sample counts come from the update's mask:
    ``samples_total == samples_used + samples_dropped_lag + samples_dropped_nonfinite``.
    """

    def __init__(self) -> None:
        """Start with every count at zero."""
        self.rollouts_trained = 0
        self.rollouts_not_trained = 0  # gathered, but the update failed (the run stops)
        self.duplicates = 0
        self.samples = {"total": 0, "used": 0, "dropped_lag": 0, "dropped_nonfinite": 0}
        self._next: dict[tuple[int, int], int] = {}  # (worker, incarnation) -> next expected rollout_index
        self._ahead: dict[tuple[int, int], set[int]] = {}  # indices trained before a lower one (out of order)

    def trained(self, rollouts: list[RolloutInfo], stats: dict[str, float]) -> None:
        """Count one iteration's rollouts and the update's sample statistics."""
        for r in rollouts:
            key = (r.worker_id, r.incarnation)
            nxt, ahead = self._next.get(key, 0), self._ahead.setdefault(key, set())
            if r.rollout_index < nxt or r.rollout_index in ahead:
                self.duplicates += 1
            else:
                ahead.add(r.rollout_index)
                while nxt in ahead:
                    ahead.discard(nxt)
                    nxt += 1
            self._next[key] = nxt
            self.rollouts_trained += 1
        for k in self.samples:
            self.samples[k] += int(stats.get(f"samples/{k}", 0))

    def as_dict(self, sampler_stats: SamplerStats | None = None) -> dict:
        """Return the counts; with worker processes also what the pool received, poisoned and still holds."""
        # A trained index above one that was never trained means that one was lost (0 when nothing was lost).
        gaps = sum(len(a) for a in self._ahead.values())
        out = {
            "rollouts_trained": self.rollouts_trained,
            "rollouts_not_trained": self.rollouts_not_trained,
            "rollout_duplicates": self.duplicates,
            "rollouts_after_a_gap": gaps,
            "rollouts_per_incarnation": {f"{w}.{i}": n for (w, i), n in sorted(self._next.items())},
            **{f"samples_{k}": v for k, v in self.samples.items()},
        }
        if sampler_stats is not None and sampler_stats.received is not None:
            out["rollouts_received"] = sampler_stats.received
            out["rollouts_pending"] = sampler_stats.pending
            out["slots_poisoned"] = sampler_stats.poisoned
        if sampler_stats is not None and sampler_stats.samples_by_lag is not None:
            out["samples_by_lag"] = {str(lag): n for lag, n in sampler_stats.samples_by_lag.items()}
        return out
