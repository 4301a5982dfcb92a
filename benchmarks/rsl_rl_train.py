"""The rsl_rl side of the comparisons: rsl-rl-lib's OnPolicyRunner on our environments, with its own settings.

Our vectorized env is wrapped honestly as rsl_rl's ``VecEnv`` (TensorDict observation groups, ``time_outs`` for
bootstrapping, ``log`` extras); rsl_rl collects and updates synchronously in one process, as it is designed to.

* Go1 (``--task go1``): one ``Go1VelocityEnv`` of ``--num_envs`` robots whose physics runs on ``--threads`` threads
  (``mujoco.rollout``), Isaac Lab's ``UnitreeGo1FlatPPORunnerCfg`` settings (24 steps, [128,128,128] elu,
  entropy 0.01, lr 1e-3 adaptive, 5 epochs x 4 minibatches, init std 1, no obs normalization).
* HalfCheetah (``--task halfcheetah``): gymnasium ``AsyncVectorEnv`` of ``--num_envs`` processes (rsl_rl has no
  multi-process collection of its own; this is how a user would use all cores), rsl_rl's defaults with obs
  normalization, [256,256] elu, 64 steps per env.

Writes ``metrics.jsonl`` in ``--out`` with the same keys as our trainer (env_steps, wall_time_s,
train/mean_return, train/mean_episode_length, train/episodes, Metrics/*), so one monitor judges both.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np
import torch
from rsl_rl.env import VecEnv
from rsl_rl.runners import OnPolicyRunner
from tensordict import TensorDict


class LogTap:
    """Collects the env's ``log`` extras and finished-episode counts between two reads (rsl_rl clears its own)."""

    def reset_tap(self) -> None:
        self.log_sums, self.log_counts, self.episodes = {}, {}, 0

    def tap(self, log: dict | None, done: np.ndarray) -> None:
        self.episodes += int(np.sum(done))
        for key, value in (log or {}).items():
            self.log_sums[key] = self.log_sums.get(key, 0.0) + float(np.mean(value))
            self.log_counts[key] = self.log_counts.get(key, 0) + 1

    def read_tap(self) -> dict:
        out = {k: self.log_sums[k] / self.log_counts[k] for k in self.log_sums}
        out["train/episodes"] = float(self.episodes)
        self.reset_tap()
        return out


class Go1RslEnv(VecEnv, LogTap):
    """rsl_rl VecEnv over our batched Go1 env (numpy in the env, torch on ``device`` for rsl_rl)."""

    def __init__(self, num_envs: int, threads: int, device: str):
        from isaac_hydra_ext.envs.go1 import Go1VelocityEnv

        self.env = Go1VelocityEnv(num_envs, sim={"nthread": threads})
        self.num_envs, self.num_actions, self.device = num_envs, 12, torch.device(device)
        self.max_episode_length = 1000
        self.episode_length_buf = torch.zeros(num_envs, dtype=torch.long)
        self.cfg = {}
        obs, _ = self.env.reset(seed=0)
        self.obs = self._td(obs)
        self.reset_tap()

    def _td(self, obs):
        return TensorDict({"policy": torch.as_tensor(obs, device=self.device)}, batch_size=[self.num_envs])

    def get_observations(self):
        return self.obs

    def step(self, actions):
        obs, rew, term, trunc, info = self.env.step(actions.detach().cpu().numpy())
        self.obs = self._td(obs)
        done = np.logical_or(term, trunc)
        extras = {"time_outs": torch.as_tensor(trunc & ~term, device=self.device, dtype=torch.float32)}
        if "log" in info:
            extras["log"] = {k: float(np.mean(v)) for k, v in info["log"].items()}
        self.tap(info.get("log"), done)
        return (
            self.obs,
            torch.as_tensor(rew, device=self.device, dtype=torch.float32),
            torch.as_tensor(done, device=self.device, dtype=torch.long),
            extras,
        )


class GymRslEnv(VecEnv, LogTap):
    """rsl_rl VecEnv over a gymnasium AsyncVectorEnv (one process per env) with same-step autoreset."""

    def __init__(self, env_id: str, num_envs: int, device: str):
        import gymnasium as gym

        self.env = gym.make_vec(
            env_id,
            num_envs=num_envs,
            vectorization_mode="async",
            vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
        )
        space = self.env.single_action_space
        self.low, self.high = torch.as_tensor(space.low), torch.as_tensor(space.high)
        self.num_envs, self.num_actions, self.device = num_envs, int(space.shape[0]), torch.device(device)
        self.max_episode_length = gym.spec(env_id).max_episode_steps
        self.episode_length_buf = torch.zeros(num_envs, dtype=torch.long)
        self.cfg = {}
        obs, _ = self.env.reset(seed=0)
        self.obs = TensorDict(
            {"policy": torch.as_tensor(obs, dtype=torch.float32, device=self.device)}, batch_size=[num_envs]
        )
        self.reset_tap()

    def get_observations(self):
        return self.obs

    def step(self, actions):
        a = torch.clamp(actions.detach().cpu(), self.low, self.high).numpy()
        obs, rew, term, trunc, _ = self.env.step(a)
        self.obs = TensorDict(
            {"policy": torch.as_tensor(obs, dtype=torch.float32, device=self.device)}, batch_size=[self.num_envs]
        )
        extras = {"time_outs": torch.as_tensor(trunc & ~term, dtype=torch.float32, device=self.device)}
        self.tap(None, np.logical_or(term, trunc))
        return (
            self.obs,
            torch.as_tensor(rew, dtype=torch.float32, device=self.device),
            torch.as_tensor(np.logical_or(term, trunc), dtype=torch.long, device=self.device),
            extras,
        )


def train_cfg(task: str, steps_per_env: int) -> dict:
    """rsl_rl 5.x train config (Isaac Lab's Go1 flat runner settings; rsl_rl defaults for HalfCheetah)."""
    go1 = task == "go1"
    hidden = [128, 128, 128] if go1 else [256, 256]
    return {
        "num_steps_per_env": steps_per_env,
        "save_interval": 10**9,
        "obs_groups": {"actor": ["policy"], "critic": ["policy"]},
        "logger": "tensorboard",
        "algorithm": {
            "class_name": "PPO",
            "num_learning_epochs": 5,
            "num_mini_batches": 4,
            "clip_param": 0.2,
            "gamma": 0.99,
            "lam": 0.95,
            "value_loss_coef": 1.0,
            "entropy_coef": 0.01 if go1 else 0.0,
            "learning_rate": 1e-3,
            "max_grad_norm": 1.0,
            "schedule": "adaptive",
            "desired_kl": 0.01,
        },
        "actor": {
            "class_name": "MLPModel",
            "hidden_dims": hidden,
            "activation": "elu",
            "obs_normalization": not go1,
            "distribution_cfg": {"class_name": "GaussianDistribution", "init_std": 1.0},
        },
        "critic": {"class_name": "MLPModel", "hidden_dims": hidden, "activation": "elu", "obs_normalization": not go1},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=("go1", "halfcheetah"), required=True)
    parser.add_argument("--num_envs", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--steps_per_env", type=int, default=0, help="0: 24 for Go1, 64 for HalfCheetah")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    os.makedirs(args.out, exist_ok=True)
    steps_per_env = args.steps_per_env or (24 if args.task == "go1" else 64)
    env = (
        Go1RslEnv(args.num_envs, args.threads, args.device)
        if args.task == "go1"
        else GymRslEnv("HalfCheetah-v5", args.num_envs, args.device)
    )
    runner = OnPolicyRunner(env, train_cfg(args.task, steps_per_env), log_dir=args.out, device=args.device)
    metrics = open(os.path.join(args.out, "metrics.jsonl"), "a")
    start, steps, it = time.time(), 0, 0
    while time.time() - start < args.minutes * 60:
        runner.learn(1)
        it += 1
        steps += args.num_envs * steps_per_env
        rew, lens = list(runner.logger.rewbuffer), list(runner.logger.lenbuffer)
        line = {
            "env_steps": steps,
            "wall_time_s": round(time.time() - start, 3),
            "train/iteration": it,
            "train/mean_return": statistics.mean(rew) if rew else None,
            "train/mean_episode_length": statistics.mean(lens) if lens else None,
            **env.read_tap(),
        }
        metrics.write(json.dumps({k: v for k, v in line.items() if v is not None}) + "\n")
        metrics.flush()
    metrics.close()


if __name__ == "__main__":
    main()
