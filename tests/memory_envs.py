"""A tiny VecEnv in plain torch, for unit tests of the runner and samplers without any simulator or subprocess.

``TargetReachEnv``: a point on a line must move to the origin. Observation ``[x]``, action ``a`` in R, next state
``x + 0.1 * clip(a, -1, 1)``, reward ``-x^2`` per step, 20-step episodes (time-outs), start ``x ~ U(-1, 1)``. A
random policy earns about ``-20 * E[x^2] = -6.7`` per episode; the optimal policy drives x to 0 in about 10 steps
(about -1.7).
"""

from __future__ import annotations

import torch
from isaac_hydra_ext.config.schema import EnvConfig, ExperimentConfig, LoggingConfig, PPOConfig, TrainConfig
from isaac_hydra_ext.envs.vec_env import EnvSpec, EnvStep


class TargetReachEnv:
    """B independent 1-D reach tasks, stepped together with same-step automatic reset."""

    horizon = 20

    def __init__(self, num_envs: int, device: str = "cpu", busy_matmuls: int = 0):
        """``device``: where the state and every returned tensor live (a GPU env, as Isaac Lab's are, on "cuda").
        ``busy_matmuls``: square 512x512 products queued per step on ``device``, so a GPU step takes time (as a
        simulator's kernels do) and the collector and the learner really overlap."""
        self.num_envs = num_envs
        self.device = torch.device(device)
        self.spec = EnvSpec(obs_dim=1, act_dim=1, max_episode_steps=self.horizon)
        self.generator = torch.Generator().manual_seed(0)
        self.x = torch.zeros(num_envs, device=self.device)
        self.t = torch.zeros(num_envs, dtype=torch.int64, device=self.device)
        self.busy = torch.ones(512, 512, device=self.device) / 512 if busy_matmuls else None
        self.busy_matmuls = busy_matmuls
        self.steps_taken = 0
        self.closed = False

    def _start(self, n: int) -> torch.Tensor:
        return (torch.rand(n, generator=self.generator) * 2 - 1).to(self.device)

    def reset(self, seed: int | None = None):
        if seed is not None:
            self.generator.manual_seed(seed)
        self.x = self._start(self.num_envs)
        self.t.zero_()
        return self.x.unsqueeze(-1).clone(), None

    def step(self, actions: torch.Tensor) -> EnvStep:
        self.steps_taken += 1
        busy = self.busy
        for _ in range(self.busy_matmuls):
            assert busy is not None
            busy = busy @ self.busy  # simulated simulator work on the env's stream; the result stays ~ones/512
        self.x = self.x + 0.1 * actions.reshape(-1).to(self.device).clamp(-1, 1)
        self.t += 1
        reward = -(self.x**2)
        truncated = self.t >= self.horizon
        final = self.x.unsqueeze(-1).clone()
        if truncated.any():
            self.x[truncated] = self._start(int(truncated.sum()))
            self.t[truncated] = 0
        return EnvStep(
            obs=self.x.unsqueeze(-1).clone(),
            reward=reward.float(),
            terminated=torch.zeros(self.num_envs, dtype=torch.bool, device=self.device),
            truncated=truncated,
            final_obs=final,
        )

    def close(self) -> None:
        self.closed = True


def reach_mirror(spec: EnvSpec):
    """The reach task's mirror (the task is symmetric about the origin): x -> -x, a -> -a."""
    from isaac_hydra_ext.envs.symmetry import Mirror, SignedPermutation

    return Mirror(SignedPermutation([0], [-1.0]), SignedPermutation([0], [-1.0]))


REACH_MIRROR = "memory_envs:reach_mirror"
"""``mirror_function`` of :class:`TargetReachEnv`."""


def reach_config(tmp_path, max_iterations: int = 3, device: str = "cpu", **ppo) -> TrainConfig:
    """A run of :class:`TargetReachEnv` (tiny networks, seed 5, nothing logged but metrics); ``ppo`` overrides."""
    base = dict(
        mode="serial",
        num_workers=2,
        envs_per_worker=8,
        steps_per_env=20,
        actor_hidden_dims=[32],
        critic_hidden_dims=[32],
        learning_rate=3e-3,
        gamma=0.9,
    )
    base.update(ppo)
    return TrainConfig(
        env=EnvConfig(id="memory:TargetReach", clip_actions=False),
        ppo=PPOConfig(**base),
        logging=LoggingConfig(tensorboard=False, console="none"),
        experiment=ExperimentConfig(output_dir=str(tmp_path), max_iterations=max_iterations, device=device, seed=5),
    )
