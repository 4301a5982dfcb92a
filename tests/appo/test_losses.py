"""PPO loss terms, Gaussian math, the normalizer and the adaptive learning rate against hand computations."""

import math

import numpy as np
import pytest
import torch
from isaac_hydra_ext.appo.algorithm import APPO
from isaac_hydra_ext.appo.losses import clip_fraction, clipped_surrogate, value_loss
from isaac_hydra_ext.config import PPOConfig
from isaac_hydra_ext.models.actor_critic import ActorCritic, gaussian_entropy, gaussian_kl, gaussian_log_prob
from isaac_hydra_ext.models.normalizer import RunningNormalizer
from isaac_hydra_ext.storage.rollout_buffer import TrajectoryBatch


def test_clipped_surrogate_hand_computed():
    # ratio = [1, 1.5, .5], A = [1, 2, -1], eps = .2
    # t0: min(1, 1) = 1; t1: min(3, 1.2*2 = 2.4) = 2.4; t2: min(-.5, .8*-1 = -.8) = -.8
    # L = -(1 + 2.4 - .8)/3 = -0.866667
    ratio = torch.tensor([1.0, 1.5, 0.5])
    adv = torch.tensor([1.0, 2.0, -1.0])
    assert clipped_surrogate(ratio, adv, 0.2).item() == pytest.approx(-2.6 / 3, abs=1e-6)
    assert clip_fraction(ratio, 0.2).item() == pytest.approx(2 / 3)


def test_clipped_value_loss_hand_computed():
    # V = [1, 2], V_old = [.5, 2.5], R = [2, 2.6], eps = .2
    # t0: (1-2)^2 = 1 vs (.5+.2-2)^2 = 1.69 -> 1.69;  t1: (2-2.6)^2 = .36 vs (2.5-.2-2.6)^2 = .09 -> .36
    v, v_old, ret = torch.tensor([1.0, 2.0]), torch.tensor([0.5, 2.5]), torch.tensor([2.0, 2.6])
    assert value_loss(v, v_old, ret, 0.2).item() == pytest.approx((1.69 + 0.36) / 2, abs=1e-6)
    assert value_loss(v, v_old, ret, None).item() == pytest.approx((1.0 + 0.36) / 2, abs=1e-6)


def test_gaussian_terms_match_torch_distributions():
    torch.manual_seed(0)
    mean, log_std, a = torch.randn(4, 3), torch.randn(3) * 0.3, torch.randn(4, 3)
    ref = torch.distributions.Normal(mean, log_std.exp())
    assert torch.allclose(gaussian_log_prob(a, mean, log_std.expand_as(mean)), ref.log_prob(a).sum(-1), atol=1e-5)
    assert torch.allclose(gaussian_entropy(log_std), ref.entropy()[0].sum(), atol=1e-5)
    mean2, log_std2 = torch.randn(4, 3), torch.randn(3) * 0.3
    ref2 = torch.distributions.Normal(mean2, log_std2.exp())
    kl = gaussian_kl(mean, log_std.expand_as(mean), mean2, log_std2.expand_as(mean2))
    assert torch.allclose(kl, torch.distributions.kl_divergence(ref, ref2).sum(-1), atol=1e-5)


def test_running_normalizer_matches_numpy_over_batches():
    rng = np.random.default_rng(0)
    a, b = rng.normal(3.0, 2.0, size=(50, 4)), rng.normal(-1.0, 0.5, size=(30, 4))
    norm = RunningNormalizer(4)
    norm.update(torch.tensor(a))
    norm.update(torch.tensor(b))
    both = np.concatenate([a, b])
    assert np.allclose(norm.mean.numpy(), both.mean(0))
    assert np.allclose(norm.var.numpy(), both.var(0))
    assert float(norm.count) == 80
    x = torch.tensor(both[:3], dtype=torch.float32)
    expected = (both[:3] - both.mean(0)) / np.sqrt(both.var(0) + 1e-8)
    assert np.allclose(norm(x).numpy(), expected, atol=1e-5)
    norm_clip = RunningNormalizer(4, clip=0.5)
    norm_clip.update(torch.tensor(both))
    assert float(norm_clip(x).abs().max()) <= 0.5


def _cfg(**kw):
    cfg = PPOConfig(actor_hidden_dims=[8], critic_hidden_dims=[8], obs_normalization=False, **kw)
    return cfg


@pytest.mark.parametrize(
    "kl,lr,expected",
    [(0.05, 1e-3, 1e-3 / 1.5), (0.001, 1e-3, 1.5e-3), (0.01, 1e-3, 1e-3), (0.05, 1e-5, 1e-5), (0.001, 1e-2, 1e-2)],
)
def test_adaptive_learning_rate_rule(kl, lr, expected):
    # desired_kl = .01: > .02 divides by 1.5, < .005 multiplies by 1.5, clamped to [1e-5, 1e-2]
    alg = APPO(ActorCritic(3, 2, 0, _cfg(learning_rate=lr)), _cfg(learning_rate=lr), torch.device("cpu"))
    alg._adapt_learning_rate(kl)
    assert alg.learning_rate == pytest.approx(expected)
    assert alg.optimizer.param_groups[0]["lr"] == pytest.approx(expected)


def _batch(T=8, N=16, obs_dim=3, act_dim=2, versions=0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return TrajectoryBatch(
        obs=torch.randn(T + 1, N, obs_dim, generator=g),
        actions=torch.randn(T, N, act_dim, generator=g),
        log_probs=torch.full((T, N), -2.0),
        rewards=torch.randn(T, N, generator=g),
        terminated=torch.zeros(T, N, dtype=torch.bool),
        truncated=torch.zeros(T, N, dtype=torch.bool),
        final_obs=torch.zeros(T, N, obs_dim),
        versions=torch.full((T, N), versions, dtype=torch.int64),
    )


def test_update_moves_policy_towards_positive_advantage():
    # Reward 1 for the sampled action's first dimension > 0, else 0, every step: the mean of a[0] must rise.
    torch.manual_seed(0)
    cfg = _cfg(learning_rate=3e-3, schedule="fixed", batch_size=64, update_epochs=10, gamma=0.5)
    model = ActorCritic(3, 2, 0, cfg)
    alg = APPO(model, cfg, torch.device("cpu"))
    batch = _batch()
    with torch.no_grad():
        batch.actions = model.policy(batch.obs[:-1]) + torch.randn(8, 16, 2)
        batch.log_probs = gaussian_log_prob(
            batch.actions, model.policy(batch.obs[:-1]), model.policy.log_std.expand(8, 16, 2)
        )
        batch.rewards = (batch.actions[..., 0] > model.policy(batch.obs[:-1])[..., 0]).float()
        before = model.policy(batch.obs[:-1])[..., 0].mean().item()
    stats = alg.update(batch, learner_version=0)
    with torch.no_grad():
        after = model.policy(batch.obs[:-1])[..., 0].mean().item()
    assert after > before + 0.05
    assert stats["samples/used"] == 8 * 16 and stats["updates/minibatch_steps"] == 20


def test_update_drops_samples_beyond_max_policy_lag():
    cfg = _cfg(max_policy_lag=3, batch_size=32)
    alg = APPO(ActorCritic(3, 2, 0, cfg), cfg, torch.device("cpu"))
    batch = _batch(T=4, N=8)
    batch.versions[:2] = 1  # lag 10 - 1 = 9: dropped
    batch.versions[2:] = 8  # lag 2: kept
    stats = alg.update(batch, learner_version=10)
    assert stats["samples/dropped_lag"] == 16 and stats["samples/used"] == 16
    assert stats["lag/max"] == 9 and stats["lag/mean"] == pytest.approx(5.5)


def test_non_finite_samples_never_reach_the_optimizer():
    cfg = _cfg(batch_size=32)
    alg = APPO(ActorCritic(3, 2, 0, cfg), cfg, torch.device("cpu"))
    batch = _batch(T=4, N=8)
    batch.rewards[1, 3] = math.nan
    batch.obs[2, 5, 0] = math.inf  # s_2 of env 5: steps 1 (as next obs) and 2 (as obs) are unusable
    stats = alg.update(batch, learner_version=0)
    assert stats["samples/dropped_nonfinite"] == 3
    assert all(torch.isfinite(p).all() for p in alg.model.parameters())


def test_non_finite_loss_skips_update_then_stops_run():
    from isaac_hydra_ext.appo.algorithm import NonFiniteUpdateError

    cfg = _cfg(batch_size=32, max_nonfinite_updates=3)
    alg = APPO(ActorCritic(3, 2, 0, cfg), cfg, torch.device("cpu"))
    before = [p.clone() for p in alg.model.parameters()]
    alg.model.critic.value_net[0].weight.data[0, 0] = math.inf  # forward becomes non-finite
    bad = alg.model.critic.value_net[0].weight.data.clone()
    with pytest.raises(NonFiniteUpdateError, match="3 consecutive"):
        alg.update(_batch(T=4, N=8), learner_version=0)
    assert torch.equal(alg.model.critic.value_net[0].weight.data, bad)  # no optimizer step was taken
    for p, q in zip(alg.model.policy.parameters(), before):
        assert torch.equal(p, q)


def test_weighted_surrogate_hand_computed():
    # w = [1, .5, 2]: -(1*1 + .5*2.4 + 2*(-.8))/3 = -(1 + 1.2 - 1.6)/3 = -0.2
    ratio = torch.tensor([1.0, 1.5, 0.5])
    adv = torch.tensor([1.0, 2.0, -1.0])
    w = torch.tensor([1.0, 0.5, 2.0], requires_grad=True)
    loss = clipped_surrogate(ratio, adv, 0.2, weights=w)
    assert loss.item() == pytest.approx(-0.2, abs=1e-6)
    assert not loss.requires_grad  # the weights carry no gradient


def test_lagged_samples_use_the_target_policy_as_trust_region_centre():
    # Behaviour mu differs from the current policy by a lot: with V-trace the ratio is taken against the policy at
    # update start, so the first minibatch has ratio 1 (nothing clipped), and the weight min(1, pi/mu) scales it.
    torch.manual_seed(0)
    cfg = _cfg(batch_size=128, update_epochs=1, ratio_reference="target")
    alg = APPO(ActorCritic(3, 2, 0, cfg), cfg, torch.device("cpu"))
    batch = _batch(T=8, N=16)
    batch.log_probs = torch.full((8, 16), 5.0)  # mu much more likely than pi: heavily off-policy samples
    prepared, _ = alg.prepare(batch, learner_version=0)
    loss, pl, vl, ent, kl, clip_frac = alg._loss(prepared, torch.arange(128))
    assert float(clip_frac) == 0.0
    assert float(prepared.is_weights.max()) < 1e-2  # min(1, pi/mu) is tiny for these samples
    alg.cfg = _cfg(batch_size=128, update_epochs=1, ratio_reference="behaviour")  # centred on mu: all clipped
    assert float(alg._loss(prepared, torch.arange(128))[5]) == 1.0
