"""Is the learner the bottleneck? Its time per iteration against the collectors', over the first iterations.

An iteration's update takes ``learn_s`` seconds in the learner; its rollouts took the collectors ``busy_s`` seconds
each (env steps, inference, buffer writes, weight refreshes: everything but waiting), and P collectors work at once
(the W worker processes; one in serial mode or when collecting in the learner process). The workers can deliver an
iteration in ``collect_s = sum(busy_s) / P`` seconds, so the run is learner-bound when

    median(learn_s) > RATIO * median(collect_s)

over ``window`` iterations after ``warmup`` (start-up, CUDA initialisation, compilation). Then at most
1 / RATIO = 80% of what the collectors could step is trained on, and more workers add nothing:
:class:`LearnerBoundCheck` says so once, naming the knob to turn.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..appo.algorithm import minibatches_per_epoch
from ..config.schema import PPOConfig

RATIO = 1.25
"""Learner seconds per collection second above which a run is called learner-bound (collectors below 80% busy)."""


def busy_seconds(timers: Mapping[str, float]) -> float:
    """Seconds a collector worked on one rollout: every timer except ``wait``."""
    return sum(v for k, v in timers.items() if k != "wait")


def parallel_collectors(ppo: PPOConfig) -> int:
    """Collectors stepping at the same time: W worker processes, or 1 (serial mode, collection in the learner)."""
    return ppo.num_workers if ppo.num_workers > 0 and ppo.mode != "serial" else 1


@dataclass
class LearnerBoundCheck:
    """Watches the first iterations and, once, returns the console line of a learner-bound configuration."""

    ppo: PPOConfig
    """The run's ``ppo`` settings (the sizes and the knobs the message names)."""
    learner_device: str = "cpu"
    """Where the update runs (a CPU learner on a machine with a GPU is one of the knobs)."""
    warmup: int = 2
    """Iterations not measured (start-up, CUDA initialisation, compilation)."""
    window: int = 5
    """Iterations measured before the verdict."""
    learn_s: list[float] = field(default_factory=list)
    """Learner seconds of each measured iteration."""
    collect_s: list[float] = field(default_factory=list)
    """Seconds the collectors needed for each measured iteration's rollouts (busy time / parallel collectors)."""
    seen: int = 0
    """Iterations observed so far (warm-up included)."""
    verdict: bool | None = None
    """None until decided; then whether the run is learner-bound."""

    def observe(self, learn_s: float, rollout_timers: Iterable[Mapping[str, float]], samples: int) -> str | None:
        """Record one iteration (learner seconds, each rollout's timers, samples trained on).

        Returns the warning line the first time the window shows a learner-bound run, else None.
        """
        self.seen += 1
        if self.verdict is not None or self.seen <= self.warmup:
            return None
        self.learn_s.append(learn_s)
        self.collect_s.append(sum(busy_seconds(t) for t in rollout_timers) / parallel_collectors(self.ppo))
        if len(self.learn_s) < self.window:
            return None
        learn, collect = statistics.median(self.learn_s), statistics.median(self.collect_s)
        self.verdict = learn > RATIO * collect
        return self.message(learn, collect, samples) if self.verdict else None

    def message(self, learn: float, collect: float, samples: int) -> str:
        """The warning: measured seconds, the optimizer steps behind them and the knobs that cut them."""
        ppo = self.ppo
        per_epoch = minibatches_per_epoch(ppo, samples)
        steps = ppo.update_epochs * per_epoch
        who = f"the {ppo.num_workers} workers deliver" if parallel_collectors(ppo) > 1 else "collection delivers"
        if ppo.batch_size > 0:
            knob = (
                f"ppo.batch_size={ppo.batch_size} gives {per_epoch} minibatches per epoch, a count that grows with "
                f"the workers: set ppo.batch_size=0 (ppo.num_minibatches={ppo.num_minibatches} per epoch at any "
                f"worker count) or raise it"
            )
        else:
            knob = (
                f"fewer optimizer steps per iteration (ppo.update_epochs={ppo.update_epochs} x "
                f"ppo.num_minibatches={ppo.num_minibatches}) or more samples per step "
                f"(ppo.envs_per_worker={ppo.envs_per_worker}, ppo.steps_per_env={ppo.steps_per_env})"
            )
        if self.learner_device == "cpu" and _cuda_available():
            knob += ", or the GPU learner (experiment.device=cuda)"
        return (
            f"learner-bound: the update takes {learn:.2f} s per iteration ({steps} optimizer steps on "
            f"{samples:,} samples) while {who} an iteration in {collect:.2f} s, so collectors wait "
            f"and more workers will not train faster. To turn: {knob}."
        )


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()
