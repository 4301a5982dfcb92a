"""The learner's work per iteration does not grow with the worker count under the defaults (issue 16).

With a fixed minibatch *size* (the old default, 512 samples) an iteration of W workers was ``5 * ceil(W*512/512)``
optimizer steps, so every added worker added learner work and the learner capped the throughput; with a minibatch
*count* (rsl_rl's ``num_mini_batches``) an iteration is ``update_epochs * num_minibatches`` steps for any W.
"""

import pytest
import torch
from conftest import compose
from isaac_hydra_ext.appo.algorithm import APPO, minibatches_per_epoch, optimizer_steps_per_iteration
from isaac_hydra_ext.config.schema import AlgorithmConfig, PPOConfig, section
from isaac_hydra_ext.models.actor_critic import ActorCritic
from isaac_hydra_ext.storage.rollout_buffer import TrajectoryBatch

WORKERS = (1, 2, 4, 8, 15)


def _samples(ppo: PPOConfig) -> int:
    return ppo.num_workers * ppo.envs_per_worker * ppo.steps_per_env


def test_default_optimizer_steps_per_iteration_do_not_grow_with_the_workers():
    # The "any gymnasium env" path with nothing but the worker count set.
    steps = {}
    for w in WORKERS:
        ppo = compose(["env=gym", "env.id=Hopper-v5", f"ppo.num_workers={w}"]).ppo
        steps[w] = optimizer_steps_per_iteration(section(ppo, AlgorithmConfig), _samples(ppo))
    assert len(set(steps.values())) == 1, steps
    defaults = AlgorithmConfig()
    assert steps[1] == defaults.update_epochs * defaults.num_minibatches


def test_a_fixed_minibatch_size_still_grows_with_the_workers():
    # ppo.batch_size > 0 is the explicit opt-in to the old behaviour: ceil(N / M) minibatches per epoch.
    cfg = AlgorithmConfig(batch_size=512)
    assert [minibatches_per_epoch(cfg, w * 16 * 32) for w in (1, 15)] == [1, 15]
    assert minibatches_per_epoch(cfg, 513) == 2
    assert minibatches_per_epoch(AlgorithmConfig(num_minibatches=3), 10_000) == 3


def _batch(T: int, N: int, obs_dim: int = 3, act_dim: int = 2) -> TrajectoryBatch:
    g = torch.Generator().manual_seed(0)
    return TrajectoryBatch(
        obs=torch.randn(T + 1, N, obs_dim, generator=g),
        actions=torch.randn(T, N, act_dim, generator=g),
        log_probs=torch.full((T, N), -2.0),
        rewards=torch.randn(T, N, generator=g),
        terminated=torch.zeros(T, N, dtype=torch.bool),
        truncated=torch.zeros(T, N, dtype=torch.bool),
        final_obs=torch.zeros(T, N, obs_dim),
        versions=torch.zeros(T, N, dtype=torch.int64),
    )


@pytest.mark.parametrize("workers", [1, 8])
def test_update_takes_the_same_number_of_steps_for_one_or_eight_workers_batches(workers):
    # The real update on an iteration of W workers' rollouts of the default size (the envs of W workers are columns
    # of one batch): the optimizer steps it reports are E * num_minibatches for both sizes.
    cfg = PPOConfig(actor_hidden_dims=[8], critic_hidden_dims=[8])
    alg = APPO(ActorCritic(3, 2, 0, cfg), section(cfg, AlgorithmConfig), torch.device("cpu"))
    stats = alg.update(_batch(cfg.steps_per_env, cfg.envs_per_worker * workers), learner_version=0)
    assert stats["updates/minibatch_steps"] == cfg.update_epochs * cfg.num_minibatches
