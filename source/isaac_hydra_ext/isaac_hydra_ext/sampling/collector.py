"""RolloutCollector: one vectorized env plus a policy copy, writing whole rollouts into buffer slots.

The same class runs inside a worker process (async/sync modes), in the learner process for every collector
(serial mode), and in the learner process on the GPU (Isaac Lab in-process collection, ``num_workers=0``).

With a recurrent policy (``ppo.rnn_type``) the collector carries each env's hidden state from step to step and from
one rollout to the next, zeroes it where an episode ends, and writes the state each rollout starts from into the
slot's ``hidden`` field (the learner replays the rollout from it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from ..envs.vec_env import VecEnv
from ..models.actor_critic import Policy
from ..models.recurrent import RecurrentGaussianPolicy
from ..storage.rollout_buffer import RolloutBuffer


def collector_seed(base_seed: int, worker_id: int, incarnation: int = 0) -> int:
    """Seed of collector/worker ``worker_id`` (the same in every mode, so serial and async start alike)."""
    return base_seed + 1000 * (worker_id + 1) + 7919 * incarnation


class EnvError(RuntimeError):
    """An environment raised or produced non-finite numbers; the message names worker, env and step."""


@dataclass
class RolloutInfo:
    """What a collector reports with a finished slot (small, plain Python values)."""

    slot: int
    env_steps: int
    worker_id: int = 0
    """Worker (or in-process collector) that wrote the slot."""
    incarnation: int = 0
    """How many times that worker had been restarted when it wrote the slot."""
    rollout_index: int = 0
    """Rollouts this collector wrote before this one (consecutive per worker incarnation)."""
    episode_returns: list[float] = field(default_factory=list)
    episode_lengths: list[int] = field(default_factory=list)
    env_log: dict[str, float] = field(default_factory=dict)
    """Mean of each ``info["log"]`` key over the steps where it appeared."""
    timers: dict[str, float] = field(default_factory=dict)
    """Seconds spent in ``env``, ``inference``, ``write`` and ``weights`` during this rollout."""
    last_version: int = 0
    """Policy version that acted at the rollout's last step (sync workers wait for a newer one)."""


class RolloutCollector:
    """Collects T steps of B envs into one slot of a :class:`RolloutBuffer` per :meth:`collect` call."""

    def __init__(
        self,
        env: VecEnv,
        policy: Policy,
        buffer: RolloutBuffer,
        seed: int,
        clip_actions: bool = True,
        name: str = "collector",
        heartbeat: Callable[[], None] | None = None,
        worker_id: int = 0,
        incarnation: int = 0,
    ):
        """Reset ``env`` with ``seed`` and remember its first observation."""
        self.env = env
        self.policy = policy
        self.buffer = buffer
        self.name = name
        self.heartbeat = heartbeat
        self.worker_id, self.incarnation = worker_id, incarnation
        self.rollouts_done = 0
        self.device = env.device
        self.policy_device = next(policy.parameters()).device
        spec = env.spec
        self.low = self.high = None
        if clip_actions and spec.action_low:
            self.low = torch.as_tensor(spec.action_low, dtype=torch.float32, device=self.policy_device)
            self.high = torch.as_tensor(spec.action_high, dtype=torch.float32, device=self.policy_device)
        # The collector's own generator: action noise never touches the global RNG (serial-mode determinism).
        # It lives where the policy runs (a worker's CPU copy may act on a GPU env's observations).
        self.generator = torch.Generator(device=self.policy_device)
        self.generator.manual_seed(seed)
        try:
            self.obs, self.critic_obs = env.reset(seed=seed)
        except Exception as exc:  # an env error like one in step: the on_env_error policy applies
            raise EnvError(f"{self.name}: env.reset raised at env step 0 (first reset): {exc!r}") from exc
        self._check_finite(self.obs, "observation after reset", step=0)
        if self.critic_obs is not None:
            self._check_finite(self.critic_obs, "critic observation after reset", step=0)
        B = env.num_envs
        self.ep_return = torch.zeros(B, dtype=torch.float64, device=self.device)
        self.ep_length = torch.zeros(B, dtype=torch.int64, device=self.device)
        self.total_steps = 0
        self.hidden: torch.Tensor | None = None
        """A recurrent policy's state of each env (B, state_size), carried across rollouts; None: feed-forward."""
        if isinstance(policy, RecurrentGaussianPolicy):
            self.hidden = policy.initial_state(B, self.policy_device)

    def _check_finite(self, x: torch.Tensor, what: str, step: int, only: torch.Tensor | None = None) -> None:
        """Raise :class:`EnvError` if a row of ``x`` (B, ...) has a non-finite value (only the rows ``only`` marks)."""
        bad = ~torch.isfinite(x)
        if only is not None:
            bad &= only.reshape(-1, *([1] * (bad.dim() - 1))).to(bad.device)
        if bad.any():
            rows = bad.reshape(bad.shape[0], -1).any(-1).nonzero().flatten().tolist()
            raise EnvError(
                f"{self.name}: env {rows[0]} of {bad.shape[0]} returned a non-finite {what} "
                f"at env step {self.total_steps + step} (values {x[rows[0]].flatten()[:6].tolist()}; "
                f"envs with non-finite values: {rows[:8]})"
            )

    @torch.inference_mode()
    def collect(self, slot: int, refresh_weights: Callable[[], int]) -> RolloutInfo:
        """Fill ``slot`` with T steps; ``refresh_weights()`` loads newer weights if any and returns the version."""
        buf = self.buffer
        T = buf.steps
        timers = {"env": 0.0, "inference": 0.0, "write": 0.0, "weights": 0.0}
        info = RolloutInfo(
            slot=slot,
            env_steps=T * self.env.num_envs,
            worker_id=self.worker_id,
            incarnation=self.incarnation,
            rollout_index=self.rollouts_done,
        )
        log_sums: dict[str, float] = {}
        log_counts: dict[str, int] = {}
        versions = buf.versions[slot]
        if self.hidden is not None and buf.hidden is not None:
            buf.hidden[slot, 0].copy_(self.hidden)
        for t in range(T):
            t0 = time.perf_counter()
            version = refresh_weights()
            t1 = time.perf_counter()
            buf.obs[slot, t].copy_(self.obs)
            if buf.critic_obs is not None:
                buf.critic_obs[slot, t].copy_(self.critic_obs)
            t2 = time.perf_counter()
            policy = self.policy
            if isinstance(policy, RecurrentGaussianPolicy):
                assert self.hidden is not None
                actions, log_probs, self.hidden = policy.act(
                    self.obs.to(self.policy_device), self.hidden, self.generator
                )
            else:
                actions, log_probs = policy.act(self.obs.to(self.policy_device), self.generator)
            env_actions = actions if self.low is None else torch.maximum(torch.minimum(actions, self.high), self.low)
            t3 = time.perf_counter()
            try:
                step = self.env.step(env_actions)
            except Exception as exc:  # name the worker and the step; the original error is chained
                raise EnvError(
                    f"{self.name}: env.step raised at env step {self.total_steps + t} (in one of its envs "
                    f"0..{self.env.num_envs - 1}, or in an automatic reset): {exc!r}"
                ) from exc
            t4 = time.perf_counter()
            # Every array written below is checked: what the learner reads must be finite (final observations only
            # where an episode ended: the other rows are unspecified and never read).
            done = step.terminated | step.truncated
            self._check_finite(step.obs, "observation", t)
            self._check_finite(step.reward, "reward", t)
            self._check_finite(step.final_obs, "final observation (of an episode that ended)", t, only=done)
            if buf.critic_obs is not None:
                self._check_finite(step.critic_obs, "critic observation", t)
                self._check_finite(
                    step.final_critic_obs, "final critic observation (of an episode that ended)", t, only=done
                )
            buf.actions[slot, t].copy_(actions)
            buf.log_probs[slot, t].copy_(log_probs)
            buf.rewards[slot, t].copy_(step.reward)
            buf.terminated[slot, t].copy_(step.terminated)
            buf.truncated[slot, t].copy_(step.truncated)
            buf.final_obs[slot, t].copy_(step.final_obs)
            if buf.critic_obs is not None:
                buf.final_critic_obs[slot, t].copy_(step.final_critic_obs)
            versions[t] = version
            # episode bookkeeping: returns and lengths of episodes that ended at this step
            self.ep_return += step.reward.to(torch.float64)
            self.ep_length += 1
            if self.hidden is not None:  # a new episode starts from the zero state: h = 0 where done
                self.hidden = torch.where(done.to(self.policy_device).view(-1, 1), 0.0, self.hidden)
            if done.any():
                info.episode_returns.extend(self.ep_return[done].tolist())
                info.episode_lengths.extend(self.ep_length[done].tolist())
                self.ep_return[done] = 0.0
                self.ep_length[done] = 0
            for key, value in step.log.items():
                log_sums[key] = log_sums.get(key, 0.0) + value
                log_counts[key] = log_counts.get(key, 0) + 1
            self.obs, self.critic_obs = step.obs, step.critic_obs
            t5 = time.perf_counter()
            timers["weights"] += t1 - t0
            timers["write"] += (t2 - t1) + (t5 - t4)
            timers["inference"] += t3 - t2
            timers["env"] += t4 - t3
            if self.heartbeat is not None:
                self.heartbeat()
        buf.obs[slot, T].copy_(self.obs)
        if buf.critic_obs is not None:
            buf.critic_obs[slot, T].copy_(self.critic_obs)
        self.total_steps += T
        self.rollouts_done += 1
        info.last_version = int(versions[T - 1])
        info.env_log = {k: log_sums[k] / log_counts[k] for k in log_sums}
        info.timers = timers
        return info
