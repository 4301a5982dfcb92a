"""The APPO update: PPO's clipped objective on lagged samples, with V-trace targets and lag dropping.

This module knows nothing about processes, queues or environments: it receives a
:class:`~isaac_hydra_ext.storage.rollout_buffer.TrajectoryBatch` and the learner's current policy version,
and returns a dict of statistics.
"""

from __future__ import annotations

import functools
import math
from typing import Protocol

import torch
from torch import nn

from ..config.schema import AlgorithmConfig
from ..models.actor_critic import ActorCritic, gaussian_entropy, gaussian_kl, gaussian_log_prob
from ..models.normalizer import RunningNormalizer
from ..storage.rollout_buffer import TrajectoryBatch
from .losses import clip_fraction, clipped_surrogate, value_loss
from .prepared import PreparedBatch
from .returns import bootstrap_next_values, gae, vtrace
from .sequences import PreparedSequences, evaluate_sequences, sequence_forward
from .symmetry import Mirror, Symmetry, symmetry_enabled


class GradSync(Protocol):
    """What the algorithm needs from data-parallel training (implemented by ``runners.distributed``)."""

    def all_reduce_sum(self, x: torch.Tensor, /) -> torch.Tensor:
        """Sum ``x`` over ranks."""
        ...

    def global_mean_std(self, x: torch.Tensor, /) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and std of ``x`` pooled over ranks."""
        ...

    def mean_scalar(self, value: float, /) -> float:
        """Mean of a Python float over ranks."""
        ...

    def average_gradients(self, model: nn.Module, /) -> None:
        """Average ``model``'s gradients over ranks, in place."""
        ...

    def all_true(self, flag: bool, /) -> bool:
        """True when ``flag`` is true on every rank."""
        ...


def minibatches_per_epoch(cfg: AlgorithmConfig, samples: int) -> int:
    """Minibatches each epoch splits an iteration of ``samples`` samples into.

    ``ppo.num_minibatches`` (the default: the optimizer steps per iteration, E * num_minibatches, do not depend on
    the worker count), or ceil(samples / M) when a fixed minibatch size M = ``ppo.batch_size`` > 0 is set.
    """
    if cfg.batch_size > 0:
        return max(1, math.ceil(samples / cfg.batch_size))
    return max(1, cfg.num_minibatches)


def optimizer_steps_per_iteration(cfg: AlgorithmConfig, samples: int) -> int:
    """Optimizer steps of one iteration of ``samples`` samples: update_epochs * minibatches per epoch."""
    return cfg.update_epochs * minibatches_per_epoch(cfg, samples)


class NonFiniteUpdateError(RuntimeError):
    """Raised after ``max_nonfinite_updates`` consecutive minibatches had a non-finite loss or gradient."""


class APPO:
    """Asynchronous PPO: owns the actor-critic, its optimizer and the learning-rate schedule."""

    def __init__(
        self,
        model: ActorCritic,
        cfg: AlgorithmConfig,
        device: torch.device,
        grad_sync: GradSync | None = None,
        mirror: Mirror | None = None,
    ):
        """Own ``model`` on ``device``; ``cfg`` is the algorithm section only; ``grad_sync`` joins ranks.

        ``mirror`` is the task's mirror, needed when ``cfg`` switches on symmetry (:mod:`.symmetry`).
        """
        self.model = model.to(device)
        self.cfg = cfg
        self.device = device
        self.learning_rate = float(cfg.learning_rate)
        fused = device.type == "cuda"
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.learning_rate, fused=fused)
        self.grad_sync = grad_sync
        # bf16 autocast of the forward passes (CUDA only); losses and optimizer state stay float32.
        self.amp = bool(cfg.mixed_precision) and device.type == "cuda"
        # torch.compile of the minibatch loss (forward + loss terms); the backward is compiled with it.
        self._loss_fn = torch.compile(self._loss) if cfg.compile else self._loss
        self.nonfinite_in_a_row = 0
        self.nonfinite_total = 0
        if symmetry_enabled(cfg) and mirror is None:
            raise ValueError("ppo.use_data_augmentation / ppo.use_mirror_loss need the task's mirror")
        self.symmetry = Symmetry(mirror, cfg, model.asymmetric) if symmetry_enabled(cfg) and mirror else None

    # ------------------------------------------------------------------------------------------------
    def _normalizers(self) -> list[tuple[RunningNormalizer, str]]:
        out = []
        if isinstance(self.model.policy.normalizer, RunningNormalizer):
            out.append((self.model.policy.normalizer, "policy"))
        if isinstance(self.model.critic.normalizer, RunningNormalizer):
            out.append((self.model.critic.normalizer, "critic" if self.model.asymmetric else "policy"))
        return out

    def update_normalizers(self, batch: TrajectoryBatch, valid_rows: torch.Tensor) -> None:
        """Fold the batch's valid observations into the running statistics (all-reduced when distributed)."""
        for normalizer, group in self._normalizers():
            obs = batch.critic_obs if group == "critic" else batch.obs
            rows = obs[:-1][valid_rows]
            moments = (
                RunningNormalizer.batch_moments(rows)
                if rows.numel()
                else torch.zeros(3, normalizer.dim, dtype=torch.float64, device=obs.device)
            )
            if self.grad_sync is not None:
                moments = self.grad_sync.all_reduce_sum(moments)
            normalizer.merge(moments)

    # ------------------------------------------------------------------------------------------------
    @torch.no_grad()
    def prepare(self, batch: TrajectoryBatch, learner_version: int) -> tuple[PreparedBatch, dict[str, float]]:
        """Values, targets and the sample mask of one iteration (before any gradient step).

        A sample is used when its policy version is at most ``max_policy_lag`` behind ``learner_version`` and
        all its numbers are finite. Values of s_0..s_T and of the final observations are computed with the
        current critic, and the targets (GAE or V-trace) with the current policy as target policy.
        """
        cfg = self.cfg
        T, N = batch.num_steps, batch.num_envs
        lag, finite, fresh, valid = self._sample_mask(batch, learner_version)

        self.update_normalizers(batch, valid)

        critic_obs = batch.critic_obs if self.model.asymmetric else batch.obs
        final_critic_obs = batch.final_critic_obs if self.model.asymmetric else batch.final_obs
        # Non-finite inputs would poison the recursion of the whole column: zero them (their samples are masked).
        critic_obs = torch.nan_to_num(critic_obs, nan=0.0, posinf=0.0, neginf=0.0)
        values_all = self.model.critic(critic_obs)  # (T+1, N)
        final_values = torch.zeros(T, N, device=self.device)
        trunc = batch.truncated
        if trunc.any():
            final_values[trunc] = self.model.critic(torch.nan_to_num(final_critic_obs[trunc]))
        values = values_all[:-1]
        next_values = bootstrap_next_values(values_all[1:], final_values, batch.terminated, trunc)
        rewards = torch.nan_to_num(batch.rewards, nan=0.0, posinf=0.0, neginf=0.0)
        dones = batch.terminated | trunc

        obs = torch.nan_to_num(batch.obs[:-1])
        actions = torch.nan_to_num(batch.actions)
        mean = self.model.policy(obs)  # (T, N, A)
        log_std = self.model.policy.log_std.expand_as(mean)
        target_log_probs = gaussian_log_prob(actions, mean, log_std)
        behaviour_log_probs = torch.nan_to_num(batch.log_probs)
        log_rhos = target_log_probs - behaviour_log_probs

        advantages, returns = self._targets(rewards, values, next_values, dones, log_rhos)
        self._fold_returns(returns, valid)

        flat_valid = valid.reshape(-1)
        idx = flat_valid.nonzero().squeeze(-1)
        n_valid = int(idx.numel())

        def pick(x: torch.Tensor) -> torch.Tensor:
            return x.reshape(T * N, *x.shape[2:]).index_select(0, idx)

        adv = pick(advantages)
        if cfg.normalize_advantage and n_valid > 1:
            adv_mean, adv_std = adv.mean(), adv.std()
            if self.grad_sync is not None:
                adv_mean, adv_std = self.grad_sync.global_mean_std(adv)
            adv = (adv - adv_mean) / (adv_std + 1e-8)

        prepared = PreparedBatch(
            obs=pick(obs),
            critic_obs=pick(critic_obs[:-1]),
            actions=pick(actions),
            behaviour_log_probs=pick(behaviour_log_probs),
            target_log_probs=pick(target_log_probs),
            is_weights=pick(torch.clamp(torch.exp(log_rhos), max=cfg.vtrace_rho_clip)),
            advantages=adv,
            returns=pick(returns),
            old_values=pick(values),
            old_mean=pick(mean),
            old_log_std=pick(log_std),
        )
        stats = self._stats(batch, lag, finite, fresh, valid, log_rhos, prepared.returns, prepared.old_values)
        return prepared, stats

    @torch.no_grad()
    def prepare_sequences(
        self, batch: TrajectoryBatch, learner_version: int
    ) -> tuple[PreparedSequences, dict[str, float]]:
        """:meth:`prepare` for a recurrent model: the same mask, values and targets, kept as (T, N) sequences.

        Each env's rollout is replayed through the policy's memory from the state stored at its start, zeroing the
        state where an episode starts (after a done). Only envs with at least one valid sample are kept; invalid
        steps inside a kept rollout still advance the memory but are left out of the loss.
        """
        cfg = self.cfg
        lag, finite, fresh, valid = self._sample_mask(batch, learner_version)
        self.update_normalizers(batch, valid)
        dones = batch.terminated | batch.truncated
        ev = evaluate_sequences(self.model, batch)
        next_values = bootstrap_next_values(ev.values_all[1:], ev.final_values, batch.terminated, batch.truncated)
        rewards = torch.nan_to_num(batch.rewards, nan=0.0, posinf=0.0, neginf=0.0)
        values = ev.values_all[:-1]
        log_std = self.model.policy.log_std.expand_as(ev.mean)
        actions = torch.nan_to_num(batch.actions)
        target_log_probs = gaussian_log_prob(actions, ev.mean, log_std)
        behaviour_log_probs = torch.nan_to_num(batch.log_probs)
        log_rhos = target_log_probs - behaviour_log_probs
        advantages, returns = self._targets(rewards, values, next_values, dones, log_rhos)
        self._fold_returns(returns, valid)

        n_valid = int(valid.sum())
        if cfg.normalize_advantage and n_valid > 1:
            adv_valid = advantages[valid]
            adv_mean, adv_std = adv_valid.mean(), adv_valid.std()
            if self.grad_sync is not None:
                adv_mean, adv_std = self.grad_sync.global_mean_std(adv_valid)
            advantages = (advantages - adv_mean) / (adv_std + 1e-8)
        cols = valid.any(0).nonzero().squeeze(-1)  # envs with at least one usable sample

        def keep(x: torch.Tensor) -> torch.Tensor:
            return x.index_select(1, cols)

        prepared = PreparedSequences(
            obs=keep(ev.obs[:-1]),
            critic_obs=None if ev.critic_obs is None else keep(ev.critic_obs[:-1]),
            hidden0=ev.hidden0.index_select(0, cols),
            resets=keep(ev.resets[:-1]),
            valid=keep(valid),
            actions=keep(actions),
            behaviour_log_probs=keep(behaviour_log_probs),
            target_log_probs=keep(target_log_probs),
            is_weights=keep(torch.clamp(torch.exp(log_rhos), max=cfg.vtrace_rho_clip)),
            advantages=keep(advantages),
            returns=keep(returns),
            old_values=keep(values),
            old_mean=keep(ev.mean),
            old_log_std=keep(log_std),
        )
        stats = self._stats(batch, lag, finite, fresh, valid, log_rhos, returns[valid], values[valid])
        stats["samples/sequences"] = float(cols.numel())
        return prepared, stats

    # ------------------------------------------------------------------------------------------------
    def _sample_mask(
        self, batch: TrajectoryBatch, learner_version: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(lag, finite, fresh, valid), each (T, N): a sample is valid when finite, fresh and written."""
        lag = (learner_version - batch.versions).to(torch.float32)  # (T, N)
        finite = (
            torch.isfinite(batch.obs[:-1]).all(-1)
            & torch.isfinite(batch.obs[1:]).all(-1)
            & torch.isfinite(batch.actions).all(-1)
            & torch.isfinite(batch.log_probs)
            & torch.isfinite(batch.rewards)
            & (~batch.truncated | torch.isfinite(batch.final_obs).all(-1))
        )
        if batch.critic_obs is not None:
            finite &= torch.isfinite(batch.critic_obs[:-1]).all(-1) & torch.isfinite(batch.critic_obs[1:]).all(-1)
        if batch.hidden is not None:  # a sequence replayed from a non-finite start state is unusable as a whole
            finite &= torch.isfinite(batch.hidden[0]).all(-1).unsqueeze(0)
        fresh = lag <= self.cfg.max_policy_lag
        valid = finite & fresh & (batch.versions >= 0)
        return lag, finite, fresh, valid

    def _targets(
        self,
        rewards: torch.Tensor,
        values: torch.Tensor,
        next_values: torch.Tensor,
        dones: torch.Tensor,
        log_rhos: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Advantages and value targets (T, N): V-trace or GAE, as ``ppo.off_policy_correction`` says."""
        cfg = self.cfg
        if cfg.off_policy_correction == "vtrace":
            return vtrace(
                rewards,
                values,
                next_values,
                dones,
                log_rhos,
                cfg.gamma,
                cfg.lam,
                cfg.vtrace_rho_clip,
                cfg.vtrace_c_clip,
            )
        return gae(rewards, values, next_values, dones, cfg.gamma, cfg.lam)

    def _fold_returns(self, returns: torch.Tensor, valid: torch.Tensor) -> None:
        """Fold this iteration's valid value targets into the return statistics (with value normalization)."""
        critic = self.model.critic
        if critic.return_normalizer is not None:
            targets = returns[valid].reshape(-1, 1)
            moments = (
                RunningNormalizer.batch_moments(targets)
                if targets.numel()
                else torch.zeros(3, 1, dtype=torch.float64, device=returns.device)
            )
            if self.grad_sync is not None:
                moments = self.grad_sync.all_reduce_sum(moments)
            critic.return_normalizer.merge(moments)

    def _stats(
        self,
        batch: TrajectoryBatch,
        lag: torch.Tensor,
        finite: torch.Tensor,
        fresh: torch.Tensor,
        valid: torch.Tensor,
        log_rhos: torch.Tensor,
        ret_flat: torch.Tensor,
        val_flat: torch.Tensor,
    ) -> dict[str, float]:
        """Sample counts, lag, explained variance and value statistics of one iteration's prepared samples."""
        T, N = batch.num_steps, batch.num_envs
        n_valid = int(ret_flat.numel())
        var_ret = ret_flat.var() if n_valid > 1 else torch.tensor(0.0)
        explained = 1.0 - (ret_flat - val_flat).var() / var_ret if n_valid > 1 and var_ret > 0 else torch.tensor(0.0)
        lag_valid = lag[finite & (batch.versions >= 0)]
        return {
            "samples/total": float(T * N),
            "samples/used": float(n_valid),
            "samples/dropped_lag": float((finite & ~fresh).sum()),
            "samples/dropped_nonfinite": float((~finite).sum()),
            "lag/mean": float(lag_valid.mean()) if lag_valid.numel() else 0.0,
            "lag/max": float(lag_valid.max()) if lag_valid.numel() else 0.0,
            "lag/p50": float(torch.quantile(lag_valid, 0.5)) if lag_valid.numel() else 0.0,
            "lag/p90": float(torch.quantile(lag_valid, 0.9)) if lag_valid.numel() else 0.0,
            "policy/explained_variance": float(explained),
            "policy/importance_weight_mean": float(torch.exp(log_rhos[valid]).mean()) if n_valid else 1.0,
            "values/mean": float(val_flat.mean()) if n_valid else 0.0,
            "values/return_mean": float(ret_flat.mean()) if n_valid else 0.0,
        }

    # ------------------------------------------------------------------------------------------------
    def _loss(self, mb: PreparedBatch, ids: torch.Tensor):
        """PPO clipped surrogate + clipped value loss - entropy bonus on the minibatch rows ``ids``."""
        with torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            mean = self.model.policy(mb.obs[ids]).float()
            critic_out = self.model.critic.normalized(mb.critic_obs[ids]).float()
        return self._loss_terms(mb, ids, mean, critic_out)

    def _sequence_loss(self, seq: PreparedSequences, env_ids: torch.Tensor):
        """The same loss on whole rollouts of the envs ``env_ids``, replayed through the memory (valid steps only)."""
        with torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            mean, critic_out = sequence_forward(self.model, seq, env_ids)
        rows = seq.rows(env_ids)
        mb = PreparedBatch(obs=rows.pop("obs"), critic_obs=rows.pop("critic_obs"), **rows)
        return self._loss_terms(mb, slice(None), mean.float(), critic_out.float())

    def _loss_terms(self, mb: PreparedBatch, ids: torch.Tensor | slice, mean: torch.Tensor, critic_out: torch.Tensor):
        """The loss terms of rows ``ids`` of ``mb`` given the policy's means and the critic's raw outputs there."""
        cfg = self.cfg
        actions = mb.actions[ids]
        adv, returns, old_values = mb.advantages[ids], mb.returns[ids], mb.old_values[ids]
        log_std = self.model.policy.log_std.expand_as(mean)
        log_probs = gaussian_log_prob(actions, mean, log_std)
        if cfg.off_policy_correction == "vtrace" and cfg.ratio_reference == "target":
            # Lag-corrected surrogate (IMPACT's target-policy form): the trust region is centred on the policy at the
            # start of this update, pi_target, and the off-policyness of the behaviour samples is corrected by the
            # truncated importance weight rho_t = min(rho_bar, pi_target/mu):
            #   L = -E_mu[ rho_t * min(r_t A_t, clip(r_t, 1-eps, 1+eps) A_t) ],   r_t = pi_theta / pi_target
            # On-policy (mu = pi_target) this is exactly PPO's clipped objective.
            ratio = torch.exp(log_probs - mb.target_log_probs[ids])
            policy_loss = clipped_surrogate(ratio, adv, cfg.clip_param, weights=mb.is_weights[ids])
        else:
            # PPO's ratio against the policy that acted: r_t = pi_theta(a_t|s_t) / mu(a_t|s_t)
            ratio = torch.exp(log_probs - mb.behaviour_log_probs[ids])
            policy_loss = clipped_surrogate(ratio, adv, cfg.clip_param)
        # Value loss in the critic's output units (normalized returns when value normalization is on).
        critic = self.model.critic
        v_loss = value_loss(
            critic_out,
            critic.normalize_value(old_values),
            critic.normalize_value(returns),
            cfg.clip_param if cfg.use_clipped_value_loss else None,
        )
        entropy = gaussian_entropy(log_std).mean()
        loss = policy_loss + cfg.value_loss_coef * v_loss - cfg.entropy_coef * entropy
        with torch.no_grad():
            kl = gaussian_kl(mb.old_mean[ids], mb.old_log_std[ids], mean, log_std).mean()
            clip_frac = clip_fraction(ratio, cfg.clip_param)
        return loss, policy_loss, v_loss, entropy, kl, clip_frac

    def _minibatch_loss(self, prepared: PreparedBatch, ids: torch.Tensor, n: int):
        """:meth:`_loss` of the original samples ``ids`` (of ``n``), their mirror images and the mirror loss."""
        if not ids.numel():
            return self._zero_loss()
        if self.symmetry is None:
            return self._loss_fn(prepared, ids)
        loss, *rest = self._loss_fn(prepared, self.symmetry.minibatch_ids(ids, n))
        return (loss + self.symmetry.loss(self.model.policy, prepared.obs[ids]), *rest)

    def _sequence_minibatch_loss(self, sequences: PreparedSequences, ids: torch.Tensor):
        """:meth:`_sequence_loss` of the whole rollouts of the envs ``ids`` (a zero loss when there are none)."""
        return self._sequence_loss(sequences, ids) if ids.numel() else self._zero_loss()

    def _zero_loss(self):
        """A loss with zero gradient for every parameter (a rank's empty minibatch in a distributed update)."""
        zero = sum(p.sum() * 0.0 for p in self.model.parameters())
        z = torch.zeros((), device=self.device)
        return zero, z, z, z, z, z

    def _adapt_learning_rate(self, kl: float) -> None:
        """rsl_rl's rule: lr /= 1.5 if KL > 2 * desired; lr *= 1.5 if KL < desired / 2 (within bounds)."""
        cfg = self.cfg
        if kl > 2.0 * cfg.desired_kl:
            self.learning_rate = max(cfg.min_learning_rate, self.learning_rate / 1.5)
        elif 0.0 < kl < cfg.desired_kl / 2.0:
            self.learning_rate = min(cfg.max_learning_rate, self.learning_rate * 1.5)
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate

    def update(self, batch: TrajectoryBatch, learner_version: int) -> dict[str, float]:
        """Run ``update_epochs`` passes of minibatch updates on one iteration's samples; return statistics."""
        cfg = self.cfg
        saved = self._snapshot()  # restored if no step of this iteration succeeds (see _restore)
        if self.model.recurrent:  # minibatches of whole rollouts (split along envs, never along time)
            sequences, stats = self.prepare_sequences(batch, learner_version)
            n = sequences.num_sequences
            loss_fn = functools.partial(self._sequence_minibatch_loss, sequences)
        else:
            prepared, stats = self.prepare(batch, learner_version)
            n = prepared.advantages.shape[0]
            if self.symmetry is not None:  # rows n..2n-1: the mirror images of rows 0..n-1
                prepared = self.symmetry.augment_batch(prepared, self.model.policy)
            loss_fn = functools.partial(self._minibatch_loss, prepared, n=n)
        num_minibatches = minibatches_per_epoch(cfg, batch.num_steps * batch.num_envs)
        keys = (
            "loss/policy",
            "loss/value",
            "loss/entropy",
            "policy/approx_kl",
            "policy/clip_fraction",
            "policy/grad_norm",
        )
        sums = torch.zeros(len(keys), device=self.device)
        steps = 0
        skipped = 0
        # Every rank of a distributed job must take the same number of steps (each one is a collective), even if
        # lag dropping left it fewer samples: it then contributes zero gradients for its empty minibatches.
        splits = num_minibatches if self.grad_sync is not None else min(num_minibatches, n)
        if n > 0 or self.grad_sync is not None:
            for _ in range(cfg.update_epochs):
                perm = torch.randperm(n, device=self.device)
                for ids in torch.tensor_split(perm, splits):
                    loss, pl, vl, ent, kl, cf = loss_fn(ids)
                    kl_value = float(kl)
                    if self.grad_sync is not None:
                        kl_value = self.grad_sync.mean_scalar(kl_value)
                    if cfg.schedule == "adaptive" and math.isfinite(kl_value):
                        self._adapt_learning_rate(kl_value)
                    self.optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    if self.grad_sync is not None:
                        self.grad_sync.average_gradients(self.model)
                    grad_norm = nn.utils.clip_grad_norm_(self.model.parameters(), cfg.max_grad_norm)
                    finite = bool(torch.isfinite(loss) & torch.isfinite(grad_norm))
                    if self.grad_sync is not None:  # every rank skips, or none: parameters must stay identical
                        finite = self.grad_sync.all_true(finite)
                    if not finite:
                        # Skip the step: the weights stay at the last good version.
                        self.optimizer.zero_grad(set_to_none=True)
                        skipped += 1
                        self.nonfinite_total += 1
                        self.nonfinite_in_a_row += 1
                        if self.nonfinite_in_a_row >= cfg.max_nonfinite_updates:
                            if not steps:
                                self._restore(saved)
                            raise NonFiniteUpdateError(
                                f"{self.nonfinite_in_a_row} consecutive minibatch updates had a non-finite loss or "
                                f"gradient (loss={float(loss.detach())}, grad_norm={float(grad_norm)}); stopping "
                                f"(ppo.max_nonfinite_updates={cfg.max_nonfinite_updates})"
                            )
                        continue
                    self.nonfinite_in_a_row = 0
                    self.optimizer.step()
                    steps += 1
                    sums += torch.stack([pl.detach(), vl.detach(), ent.detach(), kl, cf, grad_norm.detach()])
        if skipped and not steps:
            self._restore(saved)
        means = (sums / max(steps, 1)).tolist()
        stats.update(dict(zip(keys, means)))
        stats["policy/learning_rate"] = self.learning_rate
        stats["policy/std"] = float(torch.exp(self.model.policy.log_std.detach()).mean())
        stats["updates/minibatch_steps"] = float(steps)
        stats["updates/skipped_nonfinite"] = float(skipped)
        stats["updates/skipped_nonfinite_total"] = float(self.nonfinite_total)
        if self.symmetry is not None:
            stats.update(self.symmetry.pop_stats())
        return stats

    def _snapshot(self) -> tuple[dict[str, torch.Tensor], float]:
        """Copy the model's buffers (normalizer statistics) and the learning rate, before an update."""
        return {name: b.clone() for name, b in self.model.named_buffers()}, self.learning_rate

    def _restore(self, saved: tuple[dict[str, torch.Tensor], float]) -> None:
        """Undo what an iteration without a single good step changed.

        That is the normalizer statistics folded in by :meth:`prepare` (returns that overflow float32 would make
        them inf/NaN and poison every later update) and the learning rate. Skipped steps leave the parameters and
        the optimizer state untouched already.
        """
        buffers, lr = saved
        with torch.no_grad():
            for name, b in self.model.named_buffers():
                b.copy_(buffers[name])
        self.learning_rate = lr
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    # ------------------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Optimizer and schedule state (the model is saved by the caller)."""
        return {"optimizer": self.optimizer.state_dict(), "learning_rate": self.learning_rate}

    def load_state_dict(self, state: dict) -> None:
        """Restore the optimizer and the adaptive learning rate (so a resumed run keeps its schedule)."""
        self.optimizer.load_state_dict(state["optimizer"])
        self.learning_rate = float(state["learning_rate"])
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate
