"""The one place that decides how a run collects rollouts.

============================  ==============================================================================
``ppo.mode`` / ``num_workers``  sampler
============================  ==============================================================================
``async`` or ``sync``, W >= 1  :class:`~.samplers.ProcessSampler`: W worker processes, shared-memory buffer
``serial``, W >= 1             :class:`~.samplers.InProcessSampler`: W collectors with CPU policy copies
``sync``, W = 0                :class:`~.samplers.InProcessSampler`: one env on its own device, acting with the
                               learner's policy, alternating with the update
``async``, W = 0               :class:`~.async_inprocess.AsyncInProcessSampler`: one env stepped by a collector
                               thread with a policy snapshot; collecting rollout k+1 overlaps the update on
                               rollout k (lag 0 or 1)
============================  ==============================================================================
"""

from __future__ import annotations

from collections.abc import Callable

from ..config.schema import EnvConfig, ModelConfig, SamplerConfig
from ..envs.factory import make_vec_env
from ..envs.vec_env import EnvSpec, VecEnv
from ..models.actor_critic import Policy
from ..storage.rollout_buffer import RolloutBuffer
from .async_inprocess import AsyncInProcessSampler
from .base import Sampler
from .samplers import InProcessSampler, ProcessSampler, shared_weights_for
from .worker_pool import WorkerPool

GPU_ASYNC_IN_PROCESS_REFUSED = True
"""Refuse ``ppo.mode=async`` with ``num_workers=0`` for a GPU env (see :func:`make_sampler`); tests and the
diagnostics in benchmarks/ switch it off to run the mode on a GPU on purpose."""


class UnsupportedSamplerError(ValueError):
    """The configuration asks for a collection mode this env cannot run (one line, shown as a configuration error)."""


def rollouts_per_iteration(sampler_cfg: SamplerConfig, collectors: int) -> int:
    """Rollouts per learner iteration: ``ppo.rollouts_per_iteration``, or one per collector (worker) when 0."""
    return sampler_cfg.rollouts_per_iteration if sampler_cfg.rollouts_per_iteration > 0 else collectors


def make_sampler(
    sampler_cfg: SamplerConfig,
    model_cfg: ModelConfig,
    env_cfg: EnvConfig,
    spec: EnvSpec,
    policy: Policy,
    seed: int,
    stop_requested: Callable[[], bool],
    envs: list[VecEnv] | None = None,
    hurry: Callable[[], bool] = lambda: False,
) -> Sampler:
    """Build the sampler ``sampler_cfg`` asks for, with its buffer and the first published weights of ``policy``.

    Args:
        sampler_cfg: The sampler section of the config.
        model_cfg: Network shape of the policy copies that workers and serial collectors build.
        env_cfg: The env every collector steps.
        spec: The env's shapes (probed by the caller).
        policy: The learner's policy; its weights are published (version 1) before anything collects.
        seed: This rank's base seed; collector ``w`` uses :func:`~.collector.collector_seed`.
        stop_requested: Polled while waiting for workers (Ctrl-C / SIGTERM).
        hurry: Polled while waiting for workers to exit (a second Ctrl-C: stop waiting).
        envs: Envs already built by the caller for in-process collection (the Isaac Lab script builds its own
            GPU env); None builds them here with :func:`~isaac_hydra_ext.envs.factory.make_vec_env`.

    """
    W, B, T = sampler_cfg.num_workers, sampler_cfg.envs_per_worker, sampler_cfg.steps_per_env
    K = sampler_cfg.slots_per_worker
    in_process = sampler_cfg.mode == "serial" or W == 0
    state_size = int(getattr(policy, "state_size", 0))  # a recurrent policy's hidden state, stored per rollout
    if not in_process:
        buffer = RolloutBuffer.allocate(
            W * K, T, B, spec.obs_dim, spec.act_dim, spec.critic_obs_dim, shared=True, state_size=state_size
        )
        publisher = shared_weights_for(policy, shared=True)
        pool = WorkerPool(
            sampler_cfg,
            env_cfg,
            model_cfg,
            seed,
            spec.obs_dim,
            spec.act_dim,
            buffer,
            publisher.block,
            stop_requested,
            hurry,
        )
        return ProcessSampler(pool, buffer, publisher, sampler_cfg.mode, rollouts_per_iteration(sampler_cfg, W), B)

    if envs is None:
        envs = [make_vec_env(env_cfg, B) for _ in range(max(W, 1))]
    env_device = envs[0].device
    if any(str(env.device) != str(env_device) for env in envs):
        raise ValueError(f"in-process envs are on different devices: {sorted({str(e.device) for e in envs})}")
    B = envs[0].num_envs
    buffer = RolloutBuffer.allocate(
        len(envs) * K,
        T,
        B,
        spec.obs_dim,
        spec.act_dim,
        spec.critic_obs_dim,
        shared=False,
        device=env_device,
        state_size=state_size,
    )
    publisher = shared_weights_for(policy, shared=False)
    per_iteration = rollouts_per_iteration(sampler_cfg, len(envs))
    if sampler_cfg.mode == "serial":
        return InProcessSampler(
            envs, buffer, publisher, K, seed, model_cfg, env_cfg.clip_actions, "serial", per_iteration
        )
    if sampler_cfg.mode == "async":
        if env_device.type == "cuda" and GPU_ASYNC_IN_PROCESS_REFUSED:
            raise UnsupportedSamplerError(
                "ppo.mode=async with ppo.num_workers=0 is not supported for GPU envs yet: on the H200 the collector "
                "thread stepping Newton beside the GPU update collapsed training (docs/isaaclab.md); use "
                "ppo.mode=sync (agent.mode=sync, --mode sync) or worker processes (ppo.num_workers >= 1)"
            )
        return AsyncInProcessSampler(
            envs[0], buffer, publisher, K, seed, env_cfg.clip_actions, policy, per_iteration, stop_requested, hurry
        )
    return InProcessSampler(
        envs, buffer, publisher, K, seed, model_cfg, env_cfg.clip_actions, "sync", per_iteration, learner_policy=policy
    )
