"""The recurrent actor-critic: memory replay with resets, hidden state carried by collectors, sequence replay by the
learner (importance weights of exactly 1 on-policy), and minibatches of whole sequences."""

from __future__ import annotations

import pytest
import torch
from isaac_hydra_ext.appo.algorithm import APPO
from isaac_hydra_ext.config.schema import AlgorithmConfig, ModelConfig, PPOConfig, section
from isaac_hydra_ext.envs.vec_env import EnvSpec, EnvStep
from isaac_hydra_ext.models.actor_critic import ActorCritic
from isaac_hydra_ext.models.recurrent import RecurrentMemory, StatefulPolicy
from isaac_hydra_ext.sampling.collector import RolloutCollector
from isaac_hydra_ext.storage.rollout_buffer import BatchGatherer, RolloutBuffer
from memory_envs import TargetReachEnv


class StaggeredReachEnv(TargetReachEnv):
    """TargetReach whose envs end their episodes at different steps: env i after 3 + i % 5 steps, odd envs by
    termination, even envs by a time limit (so resets fall inside rollouts, at different steps per env)."""

    def __init__(self, num_envs: int):
        super().__init__(num_envs)
        self.limits = 3 + torch.arange(num_envs) % 5
        self.odd = torch.arange(num_envs) % 2 == 1

    def step(self, actions: torch.Tensor) -> EnvStep:
        self.steps_taken += 1
        self.x = self.x + 0.1 * actions.reshape(-1).clamp(-1, 1).cpu()
        self.t += 1
        done = self.t >= self.limits
        final = self.x.unsqueeze(-1).clone()
        reward = -(self.x**2)
        if done.any():
            self.x[done] = self._start(int(done.sum()))
            self.t[done] = 0
        return EnvStep(
            obs=self.x.unsqueeze(-1).clone(),
            reward=reward.float(),
            terminated=done & self.odd,
            truncated=done & ~self.odd,
            final_obs=final,
        )


class PrivilegedStaggeredReachEnv(StaggeredReachEnv):
    """The staggered task with a critic observation group: [x, steps left in the episode]."""

    def __init__(self, num_envs: int):
        super().__init__(num_envs)
        self.spec = EnvSpec(obs_dim=1, act_dim=1, critic_obs_dim=2, max_episode_steps=7)

    def _critic(self) -> torch.Tensor:
        return torch.stack((self.x, (self.limits - self.t).float()), dim=-1)

    def reset(self, seed: int | None = None):
        obs, _ = super().reset(seed)
        return obs, self._critic()

    def step(self, actions: torch.Tensor) -> EnvStep:
        before = torch.stack((self.x + 0.1 * actions.reshape(-1).clamp(-1, 1), (self.limits - self.t - 1).float()), -1)
        step = super().step(actions)
        step.critic_obs, step.final_critic_obs = self._critic(), before
        return step


def _cfg(rnn_type: str = "lstm", **kw) -> PPOConfig:
    base = dict(actor_hidden_dims=[16], critic_hidden_dims=[16], rnn_type=rnn_type, rnn_hidden_dim=8, rnn_num_layers=2)
    base.update(kw)
    return PPOConfig(**base)


@pytest.mark.parametrize("rnn_type", ["lstm", "gru"])
def test_unroll_with_resets_equals_stepping_one_step_at_a_time(rnn_type):
    torch.manual_seed(0)
    memory = RecurrentMemory(3, rnn_type, 5, 2)
    T, N = 9, 4
    x, final_x = torch.randn(T, N, 3), torch.randn(T, N, 3)
    resets = torch.zeros(T, N, dtype=torch.bool)
    resets[3, 1] = resets[6, 2] = resets[6, 0] = True
    final_mask = torch.zeros(T, N, dtype=torch.bool)
    final_mask[2, 1] = final_mask[5, 2] = True  # cut by a time limit at t, so the state resets at t + 1
    h0 = torch.randn(N, memory.state_size)
    out, final_out = memory.unroll(x, h0, resets, final_x, final_mask)
    h = h0.clone()
    for t in range(T):
        h = torch.where(resets[t].view(-1, 1), 0.0, h)
        step_out, h_next = memory.step(x[t], h)
        torch.testing.assert_close(out[t], step_out, rtol=0, atol=1e-6)
        for n in final_mask[t].nonzero().flatten().tolist():  # one more step on the final observation from h_t
            f_out, _ = memory.step(final_x[t, n : n + 1], h_next[n : n + 1])
            torch.testing.assert_close(final_out[t, n], f_out[0], rtol=0, atol=1e-6)
        h = h_next
    assert final_out[~final_mask].abs().max() == 0


def test_the_gradient_stops_where_an_episode_starts():
    torch.manual_seed(0)
    memory = RecurrentMemory(2, "lstm", 4, 1)
    x = torch.randn(8, 1, 2, requires_grad=True)
    resets = torch.zeros(8, 1, dtype=torch.bool)
    resets[5] = True
    out, _ = memory.unroll(x, torch.zeros(1, memory.state_size), resets)
    (grad,) = torch.autograd.grad(out[5:].sum(), x, retain_graph=True)
    assert grad[:5].abs().max() == 0  # steps of the previous episode do not influence the new one
    assert grad[5:].abs().min() > 0
    (grad,) = torch.autograd.grad(out[4].sum(), x)
    assert grad[:5].abs().sum(-1).min() > 0  # within an episode the gradient flows back through every step


def _collect(
    rnn_type: str, rollouts: int, T: int = 7, B: int = 6, obs_normalization: bool = True, privileged: bool = False
):
    torch.manual_seed(1)
    critic_dim = 2 if privileged else 0
    model = ActorCritic(1, 1, critic_dim, section(_cfg(rnn_type, obs_normalization=obs_normalization), ModelConfig))
    with torch.no_grad():  # a policy whose actions depend clearly on its memory (not a fresh near-zero output layer)
        for p in model.policy.parameters():
            p.add_(0.3 * torch.randn_like(p))
    env = PrivilegedStaggeredReachEnv(B) if privileged else StaggeredReachEnv(B)
    buf = RolloutBuffer.allocate(rollouts, T, B, 1, 1, critic_dim, state_size=model.policy.state_size)
    collector = RolloutCollector(env, model.policy, buf, seed=3, clip_actions=False)
    for slot in range(rollouts):
        collector.collect(slot, lambda: 1)
    return model, buf, collector


@pytest.mark.parametrize("rnn_type", ["lstm", "gru"])
def test_the_collector_carries_the_state_across_rollouts_and_resets_it_at_episode_ends(rnn_type):
    model, buf, collector = _collect(rnn_type, rollouts=3)
    assert buf.hidden is not None and collector.hidden is not None
    assert buf.hidden[0].abs().max() == 0  # the first rollout starts every episode from zeros
    policy = model.policy
    with torch.no_grad():
        for slot in range(2):  # replaying rollout k from its stored state gives the state rollout k+1 stored
            h = buf.hidden[slot, 0].clone()
            for t in range(buf.steps):
                _, h = policy(buf.obs[slot, t], h)
                done = buf.terminated[slot, t] | buf.truncated[slot, t]
                h = torch.where(done.view(-1, 1), 0.0, h)
            torch.testing.assert_close(buf.hidden[slot + 1, 0], h, rtol=0, atol=1e-6)
        done_last = buf.terminated[2, -1] | buf.truncated[2, -1]
    assert done_last.any() and collector.hidden[done_last].abs().max() == 0
    assert collector.hidden[~done_last].abs().min() > 0 or not (~done_last).any()


@pytest.mark.parametrize("rnn_type", ["lstm", "gru"])
@pytest.mark.parametrize("correction", ["vtrace", "none"])
def test_the_learner_replays_the_behaviour_policy_exactly(rnn_type, correction):
    # On-policy, the learner's replay of each sequence from its stored start state, with resets at episode ends,
    # must give the very log-probabilities the collector acted with: importance weights of 1 (without observation
    # normalization, whose statistics the learner updates before its replay).
    model, buf, _ = _collect(rnn_type, rollouts=2, obs_normalization=False)
    cfg = _cfg(rnn_type, off_policy_correction=correction)
    algo = APPO(model, section(cfg, AlgorithmConfig), torch.device("cpu"))
    batch = BatchGatherer(buf, 2, "cpu").gather([0, 1])
    prepared, stats = algo.prepare_sequences(batch, learner_version=1)
    log_rhos = prepared.target_log_probs - prepared.behaviour_log_probs
    assert log_rhos.abs().max() < 1e-5, log_rhos.abs().max()
    assert prepared.obs.shape[:2] == (buf.steps, 2 * buf.envs) and stats["samples/sequences"] == 2 * buf.envs
    assert stats["samples/used"] == buf.steps * 2 * buf.envs
    # Without the stored start state (zeros instead), the second rollout's replay no longer matches.
    batch.hidden.zero_()
    prepared, _ = algo.prepare_sequences(batch, learner_version=1)
    assert (prepared.target_log_probs - prepared.behaviour_log_probs).abs().max() > 1e-3


def test_an_update_trains_on_whole_sequences_and_drops_poisoned_ones():
    model, buf, _ = _collect("lstm", rollouts=2)
    buf.poison(1)  # a worker died mid-rollout: the slot, its start state included, is NaN
    cfg = _cfg("lstm", num_minibatches=3, update_epochs=2, batch_size=0)
    algo = APPO(model, section(cfg, AlgorithmConfig), torch.device("cpu"))
    before = [p.detach().clone() for p in model.parameters()]
    seen: list[torch.Tensor] = []
    loss = algo._sequence_loss
    algo._sequence_loss = lambda seq, ids: (seen.append(ids.clone()), loss(seq, ids))[1]  # type: ignore[method-assign]
    stats = algo.update(BatchGatherer(buf, 2, "cpu").gather([0, 1]), learner_version=1)
    assert stats["samples/sequences"] == buf.envs and stats["samples/used"] == buf.steps * buf.envs
    assert stats["samples/dropped_nonfinite"] == buf.steps * buf.envs
    assert stats["updates/minibatch_steps"] == 6 and len(seen) == 6
    for epoch in (seen[:3], seen[3:]):  # each epoch: the 6 sequences split into 3 minibatches of whole sequences
        assert sorted(torch.cat(epoch).tolist()) == list(range(buf.envs))
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_stateful_policy_resets_the_state_of_envs_whose_episode_ended():
    torch.manual_seed(0)
    model = ActorCritic(2, 1, 0, section(_cfg("gru"), ModelConfig))
    stateful = StatefulPolicy(model.policy)
    obs = torch.randn(3, 2)
    with torch.no_grad():
        first = stateful(obs)
        stateful(obs)
        stateful.reset(torch.tensor([True, False, False]))
        again = stateful(obs)
    assert torch.equal(again[0], first[0])  # env 0 starts over: the same action as at its first step
    assert not torch.equal(again[1], first[1])


def test_an_asymmetric_recurrent_critic_trains_on_the_privileged_group():
    model, buf, _ = _collect("gru", rollouts=2, privileged=True)
    assert model.asymmetric and buf.critic_obs is not None
    algo = APPO(model, section(_cfg("gru", num_minibatches=2), AlgorithmConfig), torch.device("cpu"))
    critic_norm = model.critic.normalizer
    stats = algo.update(BatchGatherer(buf, 2, "cpu").gather([0, 1]), learner_version=1)
    assert stats["samples/used"] == 2 * buf.steps * buf.envs and stats["updates/minibatch_steps"] == 10
    assert float(critic_norm.count) > 0  # the critic group's own statistics (steps left: 0..7)
    assert float(critic_norm.mean[1]) > 0.5
    assert all(torch.isfinite(p).all() for p in model.parameters())
