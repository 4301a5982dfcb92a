"""Resident memory of a worker per env: a fresh process builds what a worker builds and steps it.

For each B, a spawned process imports torch, builds the env of B envs and the CPU policy copy exactly as a worker
does (``make_vec_env`` + ``build_policy``), steps it for a while, and reports its peak resident memory. The slope
over B is the memory per env; the intercept is the fixed cost of a worker (Python, torch, MuJoCo, the model).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource

from common import append_entry, markdown_table

ENV_IDS = {"go1": ("Sber-Velocity-Flat-Go1-MuJoCo-v0", 12), "halfcheetah": ("HalfCheetah-v5", 6)}


def _worker(env_name: str, num_envs: int, steps: int, out) -> None:
    import torch
    from isaac_hydra_ext.config import EnvConfig, PPOConfig
    from isaac_hydra_ext.envs.factory import make_vec_env
    from isaac_hydra_ext.models.actor_critic import build_policy

    torch.set_num_threads(1)
    env_id, _ = ENV_IDS[env_name]
    env = make_vec_env(EnvConfig(id=env_id, clip_actions=True), num_envs)
    policy = build_policy(env.spec.obs_dim, env.spec.act_dim, PPOConfig(actor_hidden_dims=[128, 128, 128]))
    obs, _ = env.reset(seed=0)
    with torch.inference_mode():
        for _ in range(steps):
            actions, _ = policy.act(obs)
            obs = env.step(actions).obs
    env.close()
    out.put(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)  # kB -> MB (Linux)


def peak_rss_mb(env_name: str, num_envs: int, steps: int) -> float:
    """Peak RSS (MB) of a fresh process that builds and steps ``num_envs`` envs like a worker."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    p = ctx.Process(target=_worker, args=(env_name, num_envs, steps, out))
    p.start()
    value = out.get(timeout=600)
    p.join(60)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", default="go1,halfcheetah")
    parser.add_argument("--sizes", default="1,64,256")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    rows = []
    for name in args.envs.split(","):
        peaks = [peak_rss_mb(name, b, args.steps) for b in sizes]
        per_env = (peaks[-1] - peaks[0]) / (sizes[-1] - sizes[0])
        rows.append([name, *[f"{p:,.0f}" for p in peaks], f"{per_env * 1024:,.0f} KB", f"{peaks[0] - per_env:,.0f}"])
        print(rows[-1], flush=True)
    table = markdown_table(
        ["env", *[f"worker peak RSS, B={b} (MB)" for b in sizes], "per env (slope)", "fixed cost of a worker (MB)"],
        rows,
    )
    print(table)
    if not args.no_doc:
        append_entry("Memory", "resident memory of a worker per env", table, modules=("torch", "mujoco"))


if __name__ == "__main__":
    main()
