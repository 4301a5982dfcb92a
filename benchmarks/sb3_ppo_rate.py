"""A standard PPO's wall time on this machine: Stable-Baselines3's PPO with CleanRL's MuJoCo settings (issue 16).

Issue 16 asks that our defaults reach a standard PPO's published return at 1M samples *sooner in wall time* than
that PPO would on the same machine. The published figure is CleanRL's ``ppo_continuous_action.py`` (MuJoCo v4, mean
return at the end of 1M-step runs: Hopper 2,382.86, HalfCheetah 1,442.64). CleanRL's script does not run beside our
stack (it reads gymnasium 0.29's ``final_info`` autoreset API; we run gymnasium 1.x), so this runs the same algorithm
with the same settings through Stable-Baselines3 (a pip package, nothing copied): one env, 2,048 steps per update,
minibatches of 64 for 10 epochs, learning rate 3e-4 annealed linearly to 0, gamma 0.99, GAE lambda 0.95, clip 0.2,
no entropy bonus, value coefficient 0.5, gradient norm 0.5, [64, 64] tanh actor and critic, observations and rewards
normalized and clipped at 10 (``VecNormalize``), on the CPU.

For ``--steps`` env steps (default 100k: 49 updates) it measures the env steps per second, updates included, and
projects the wall time to 1M samples, the sample count at which CleanRL's curve reaches its published return. Both
envs run side by side when ``--parallel`` (each process one torch thread). Results go to ``--out`` as JSON with
machine, versions and command. Needs ``stable-baselines3`` (benchmark-only; not a dependency of the package).

Usage: ``python benchmarks/sb3_ppo_rate.py --envs hopper,halfcheetah --steps 100000 --parallel --out sb3.json``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from common import machine, versions, write_json

ENVS = {"hopper": "Hopper-v5", "halfcheetah": "HalfCheetah-v5", "walker2d": "Walker2d-v5"}
TARGET_SAMPLES = 1_000_000
"""CleanRL's published return is its runs' return at 1M samples."""


def train(env_id: str, steps: int, seed: int) -> dict:
    """Train SB3's PPO with CleanRL's settings for ``steps`` env steps; rate and the last episodes' mean return."""
    import gymnasium as gym
    import numpy as np
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    torch.set_num_threads(1)
    venv = VecNormalize(
        DummyVecEnv([lambda: Monitor(gym.make(env_id))]), norm_obs=True, norm_reward=True, clip_obs=10.0
    )

    def linear(progress_remaining: float) -> float:  # CleanRL's anneal_lr: lr_k = (1 - k / K) * 3e-4
        return 3e-4 * progress_remaining

    model = PPO(
        "MlpPolicy",
        venv,
        n_steps=2048,
        batch_size=64,
        n_epochs=10,
        learning_rate=linear,
        gamma=0.99,
        gae_lambda=0.95,
        clip_range=0.2,
        ent_coef=0.0,
        vf_coef=0.5,
        max_grad_norm=0.5,
        policy_kwargs={"net_arch": {"pi": [64, 64], "vf": [64, 64]}, "activation_fn": torch.nn.Tanh},
        seed=seed,
        device="cpu",
        verbose=0,
    )
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    elapsed = time.perf_counter() - start
    returns = [ep["r"] for ep in model.ep_info_buffer]
    return {
        "env": env_id,
        "env_steps": int(model.num_timesteps),
        "wall_s": round(elapsed, 2),
        "env_steps_per_s": round(model.num_timesteps / elapsed, 1),
        "projected_s_to_1M": round(TARGET_SAMPLES / (model.num_timesteps / elapsed), 1),
        "mean_return_last_episodes": float(np.mean(returns)) if returns else None,
    }


def main(argv: list[str] | None = None) -> int:
    """Run (or, with ``--child``, be) one measurement per env and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--envs", default="hopper,halfcheetah", help=f"of {', '.join(ENVS)}")
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--parallel", action="store_true", help="the envs side by side, one process each")
    parser.add_argument("--out", default="")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(train(ENVS[args.child], args.steps, args.seed)), flush=True)
        return 0
    names = [n.strip() for n in args.envs.split(",") if n.strip()]
    unknown = [n for n in names if n not in ENVS]
    if unknown:
        parser.error(f"unknown envs {unknown}; known: {', '.join(ENVS)}")
    cmds = [
        [sys.executable, os.path.abspath(__file__), "--child", n, "--steps", str(args.steps), "--seed", str(args.seed)]
        for n in names
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    results = []
    if args.parallel:
        procs = [subprocess.Popen(c, stdout=subprocess.PIPE, text=True, env=env) for c in cmds]
        outs = [p.communicate()[0] for p in procs]
    else:
        outs = [subprocess.run(c, stdout=subprocess.PIPE, text=True, env=env).stdout for c in cmds]
    for name, out in zip(names, outs):
        line = out.strip().splitlines()[-1] if out.strip() else ""
        if not line.startswith("{"):
            print(f"{name}: the SB3 run printed no result", file=sys.stderr)
            return 1
        results.append(json.loads(line))
        print(json.dumps(results[-1]), flush=True)
    if args.out:
        write_json(
            args.out,
            {
                "machine": machine(),
                "versions": versions("stable_baselines3", "torch", "gymnasium", "mujoco"),
                "command": " ".join(sys.argv),
                "parallel": args.parallel,
                "results": results,
            },
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
