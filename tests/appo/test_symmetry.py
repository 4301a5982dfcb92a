"""Symmetry augmentation in the update (rsl_rl's use_data_augmentation, use_mirror_loss), against hand values."""

from __future__ import annotations

import math

import pytest
import torch
from isaac_hydra_ext.appo.algorithm import APPO, PreparedBatch
from isaac_hydra_ext.appo.symmetry import mirror_loss
from isaac_hydra_ext.config.schema import (
    AlgorithmConfig,
    PPOConfig,
    section,
)
from isaac_hydra_ext.envs.symmetry import Mirror, SignedPermutation
from isaac_hydra_ext.models.actor_critic import ActorCritic
from isaac_hydra_ext.runners.builder import build_runner
from isaac_hydra_ext.storage.rollout_buffer import TrajectoryBatch
from memory_envs import REACH_MIRROR, TargetReachEnv, reach_config

CPU = torch.device("cpu")


def toy_mirror() -> Mirror:
    """obs (a, b, c) -> (b, a, -c); actions (u, v) -> (-v, -u): both involutions."""
    return Mirror(SignedPermutation([1, 0, 2], [1.0, 1.0, -1.0]), SignedPermutation([1, 0], [-1.0, -1.0]))


def algorithm(**ppo) -> APPO:
    cfg = PPOConfig(actor_hidden_dims=[8], critic_hidden_dims=[8], obs_normalization=False, init_std=0.5, **ppo)
    torch.manual_seed(0)
    model = ActorCritic(3, 2, 0, cfg)
    with torch.no_grad():  # an asymmetric policy with actions of order 1 (the initial output layer is tiny)
        for p in model.policy.mean_net.parameters():
            p.add_(0.5 * torch.randn_like(p))
    return APPO(model, section(cfg, AlgorithmConfig), CPU, mirror=toy_mirror())


def batch(T: int = 8, N: int = 4) -> TrajectoryBatch:
    g = torch.Generator().manual_seed(1)
    return TrajectoryBatch(
        obs=torch.randn(T + 1, N, 3, generator=g),
        actions=torch.randn(T, N, 2, generator=g),
        log_probs=torch.full((T, N), -2.0),
        rewards=torch.randn(T, N, generator=g),
        terminated=torch.zeros(T, N, dtype=torch.bool),
        truncated=torch.zeros(T, N, dtype=torch.bool),
        final_obs=torch.zeros(T, N, 3),
        versions=torch.zeros(T, N, dtype=torch.int64),
    )


def test_augmented_batch_appends_the_hand_mirrored_rows_with_what_they_need():
    alg = algorithm(use_data_augmentation=True)
    policy = alg.model.policy
    obs = torch.tensor([[1.0, 2.0, 3.0], [-4.0, 5.0, 0.5]])
    actions = torch.tensor([[0.1, -0.2], [0.3, 0.4]])
    behaviour = torch.tensor([-1.0, -2.0])
    with torch.no_grad():
        prepared = PreparedBatch(
            obs=obs,
            critic_obs=obs,
            actions=actions,
            behaviour_log_probs=behaviour,
            target_log_probs=torch.tensor([-1.1, -2.1]),
            is_weights=torch.tensor([0.9, 1.0]),
            advantages=torch.tensor([0.5, -0.5]),
            returns=torch.tensor([1.0, 2.0]),
            old_values=torch.tensor([0.8, 1.9]),
            old_mean=policy(obs),
            old_log_std=torch.full((2, 2), math.log(0.5)),
        )
    assert alg.symmetry is not None
    aug = alg.symmetry.augment_batch(prepared, policy)
    mirrored_obs = torch.tensor([[2.0, 1.0, -3.0], [5.0, -4.0, -0.5]])
    mirrored_actions = torch.tensor([[0.2, -0.1], [-0.4, -0.3]])
    assert torch.equal(aug.obs, torch.cat([obs, mirrored_obs]))
    assert torch.equal(aug.critic_obs, torch.cat([obs, mirrored_obs]))
    assert torch.equal(aug.actions, torch.cat([actions, mirrored_actions]))
    # repeated for the mirror images (rsl_rl's rule): advantages, returns, values, behaviour log-probs, log-std
    for name in ("advantages", "returns", "old_values", "behaviour_log_probs", "old_log_std"):
        original = getattr(prepared, name)
        assert torch.equal(getattr(aug, name), torch.cat([original, original])), name
    # their own target-policy terms: log N(a'; mu(s'), 0.5^2) summed over the 2 action dims, by hand
    with torch.no_grad():
        mu = policy(mirrored_obs)
    rows = []
    for i in range(2):
        rows.append(
            sum(
                -0.5 * ((float(mirrored_actions[i, j]) - float(mu[i, j])) / 0.5) ** 2
                - math.log(0.5)
                - 0.5 * math.log(2 * math.pi)
                for j in range(2)
            )
        )
    assert aug.target_log_probs[:2].tolist() == pytest.approx([-1.1, -2.1])
    assert aug.target_log_probs[2:].tolist() == pytest.approx(rows, abs=1e-5)
    assert aug.is_weights[2:].tolist() == pytest.approx(
        [min(1.0, math.exp(rows[i] - float(behaviour[i]))) for i in range(2)], abs=1e-5
    )
    assert torch.allclose(aug.old_mean[2:], mu)
    assert alg.symmetry.minibatch_ids(torch.tensor([1, 0]), 2).tolist() == [1, 0, 3, 2]


def test_every_minibatch_of_an_update_is_doubled_by_its_mirror_images():
    alg = algorithm(use_data_augmentation=True, update_epochs=2, num_minibatches=4)
    seen = []
    inner = alg._loss_fn

    def spy(mb, ids):
        seen.append((mb, ids.clone()))
        return inner(mb, ids)

    alg._loss_fn = spy
    stats = alg.update(batch(), learner_version=0)
    n = 8 * 4
    assert len(seen) == 2 * 4 and stats["updates/minibatch_steps"] == 8
    mirror = toy_mirror()
    for epoch in range(2):
        originals = []
        for mb, ids in seen[4 * epoch : 4 * epoch + 4]:
            k = ids.numel() // 2
            first, second = ids[:k], ids[k:]
            assert torch.equal(second, first + n)  # each row's mirror image, in the same minibatch
            assert torch.equal(mb.obs[second], mirror.mirror_observation(mb.obs[first]))
            assert torch.equal(mb.actions[second], mirror.mirror_action(mb.actions[first]))
            assert torch.equal(mb.advantages[second], mb.advantages[first])
            originals += first.tolist()
        assert sorted(originals) == list(range(n))  # every original sample once per epoch
    assert "loss/symmetry" in stats


def test_mirror_loss_is_rsl_rls_mse_with_a_detached_target_by_hand():
    # mu(s) = w . s + b with w = (1, 2), b = 0.5; mirror s = (x, y) -> (-x, y), a -> -a.
    policy = torch.nn.Linear(2, 1)
    with torch.no_grad():
        policy.weight.copy_(torch.tensor([[1.0, 2.0]]))
        policy.bias.fill_(0.5)
    mirror = Mirror(SignedPermutation([0, 1], [-1.0, 1.0]), SignedPermutation([0], [-1.0]))
    obs = torch.tensor([[1.0, 1.0], [2.0, -1.0]])
    # row 1: mu(s) = 3.5, mu(Ms) = 1.5, target -3.5 -> (1.5 + 3.5)^2 = 25
    # row 2: mu(s) = 0.5, mu(Ms) = -3.5, target -0.5 -> (-3.5 + 0.5)^2 = 9
    loss = mirror_loss(policy, obs, mirror)
    assert float(loss.detach()) == pytest.approx(17.0)
    loss.backward()
    # d/db mean((mu(Ms) - sg[target])^2) = mean(2 * (5, -3)) = 2 (it would be 4 if the target carried gradient)
    assert float(policy.bias.grad) == pytest.approx(2.0)


def test_the_mirror_loss_enters_the_minibatch_loss_with_its_coefficient_and_is_logged():
    alg = algorithm(use_mirror_loss=True, mirror_loss_coeff=0.7, schedule="fixed", learning_rate=1e-9)
    prepared, _ = alg.prepare(batch(), learner_version=0)
    ids = torch.arange(5)
    with torch.no_grad():
        plain = alg._loss(prepared, ids)[0]
        total = alg._minibatch_loss(prepared, ids, prepared.obs.shape[0])[0]
        expected = mirror_loss(alg.model.policy, prepared.obs[ids], toy_mirror())
    assert float(total - plain) == pytest.approx(0.7 * float(expected), rel=1e-5)
    # without data augmentation the minibatch is not doubled; loss/symmetry is the mean over the minibatches
    alg.symmetry.pop_stats()  # type: ignore[union-attr]
    with torch.no_grad():
        before = float(mirror_loss(alg.model.policy, prepared.obs, toy_mirror()))
    stats = alg.update(batch(), learner_version=0)
    assert stats["loss/symmetry"] == pytest.approx(before, rel=1e-4)


def test_symmetry_without_a_mirror_is_refused():
    cfg = PPOConfig(actor_hidden_dims=[8], critic_hidden_dims=[8], use_data_augmentation=True)
    with pytest.raises(ValueError, match="need the task's mirror"):
        APPO(ActorCritic(3, 2, 0, cfg), section(cfg, AlgorithmConfig), CPU)


def test_the_reach_task_still_learns_with_symmetry_on_and_its_policy_is_symmetric(tmp_path):
    # the real builder and runner; the learner finds the mirror through the env spec
    cfg = reach_config(
        tmp_path, max_iterations=30, use_data_augmentation=True, use_mirror_loss=True, mirror_loss_coeff=1.0
    )
    envs = [TargetReachEnv(8), TargetReachEnv(8)]
    for env in envs:
        env.spec.mirror = REACH_MIRROR
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    runner = build_runner(cfg, str(run_dir), envs[0].spec, envs=envs)
    summary = runner.train()
    # random actions: about -6.7 per 20-step episode; without symmetry this config reaches -0.72 (seed 5), with
    # it -0.71 (measured)
    assert summary["mean_return"] > -1.5, summary["mean_return"]
    assert summary["last"]["loss/symmetry"] < 0.01
    # the mirrored policy -mu(-x) differs from mu(x) by less than 0.1 on the task's start range (measured 0.03;
    # the same run without symmetry: 1.6, with only the mirror loss: 0.33)
    x = torch.linspace(-1.0, 1.0, 41).unsqueeze(-1)
    with torch.no_grad():
        policy = runner.alg.model.policy
        gap = (policy(x) + policy(-x)).abs().max()
    assert float(gap) < 0.1, float(gap)


def test_go1_trains_with_symmetry_in_worker_processes_the_mirror_found_by_the_learner(tmp_path):
    # The async pipeline with a real worker process: the learner builds the mirror from the env spec it probed (the
    # workers know nothing about symmetry) and logs the mirror loss.
    import json

    from conftest import run_trainer

    args = [
        "env=mujoco_go1",
        "ppo.num_workers=1",
        "ppo.envs_per_worker=8",
        "ppo.steps_per_env=16",
        "experiment.max_iterations=2",
    ]
    args += ["ppo.use_data_augmentation=true", "ppo.use_mirror_loss=true", "ppo.mirror_loss_coeff=0.5"]
    res = run_trainer([*args, "logging.console=none"], tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    (metrics,) = list((tmp_path / "runs").rglob("metrics.jsonl"))
    rows = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert len(rows) == 2 and all(math.isfinite(r["loss/symmetry"]) and r["loss/symmetry"] > 0 for r in rows)
    assert rows[-1]["updates/minibatch_steps"] == 5 * 4
