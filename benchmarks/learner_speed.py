"""Learner speed on one GPU: PPO update throughput of our APPO against rsl_rl's, at Isaac Lab's Go1 rough batch.

Network: 235 observations, actor and critic [512, 256, 128] ELU, 12 actions (Isaac Lab's Go1 rough rsl_rl config).
Batch: 4096 envs x 24 steps = 98,304 samples; 5 epochs x 4 minibatches; adaptive learning rate.
Throughput = samples through forward and backward over all epochs per second = 5 * 98,304 / (update seconds).

What is timed (CUDA-synchronized wall time of one call, median of the repeats, alternating sides):
* ours: ``APPO.update(batch)``, which also computes the values of all observations, the V-trace targets and the
  normalizer update (work rsl_rl does during collection and in ``compute_returns``);
* rsl_rl: ``PPO.compute_returns(obs)`` + ``PPO.update()`` on a storage filled by its own collection loop.

Variants: ours in float32, with bf16 autocast (``ppo.mixed_precision``), with ``torch.compile`` (``ppo.compile``);
rsl_rl in float32 and with its ``torch_compile_mode``. GPU memory is the peak allocated during the updates.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch
from common import append_entry, git_commit, machine, markdown_table, versions, write_json

N_ENVS, T, OBS, ACT = 4096, 24, 235, 12


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


EPOCHS, MINIBATCHES = 5, 4


def ours(variant: str, device: torch.device):
    """(update callable, description) for our APPO learner."""
    from isaac_hydra_ext.appo.algorithm import APPO
    from isaac_hydra_ext.config import PPOConfig
    from isaac_hydra_ext.models.actor_critic import ActorCritic
    from isaac_hydra_ext.storage.rollout_buffer import TrajectoryBatch

    cfg = PPOConfig(
        actor_hidden_dims=[512, 256, 128],
        critic_hidden_dims=[512, 256, 128],
        activation="elu",
        obs_normalization=False,
        update_epochs=EPOCHS,
        batch_size=N_ENVS * T // MINIBATCHES,
        entropy_coef=0.01,
        compile="compile" in variant,
        mixed_precision="bf16" in variant,
    )
    torch.manual_seed(0)
    alg = APPO(ActorCritic(OBS, ACT, 0, cfg), cfg, device)
    g = torch.Generator(device=device).manual_seed(0)
    batch = TrajectoryBatch(
        obs=torch.randn(T + 1, N_ENVS, OBS, device=device, generator=g),
        actions=torch.randn(T, N_ENVS, ACT, device=device, generator=g),
        log_probs=torch.full((T, N_ENVS), -16.0, device=device),
        rewards=torch.randn(T, N_ENVS, device=device, generator=g),
        terminated=torch.rand(T, N_ENVS, device=device, generator=g) < 0.01,
        truncated=torch.rand(T, N_ENVS, device=device, generator=g) < 0.01,
        final_obs=torch.randn(T, N_ENVS, OBS, device=device, generator=g),
        versions=torch.zeros(T, N_ENVS, dtype=torch.int64, device=device),
    )
    return (lambda: alg.update(batch, 0)), alg


def rsl(variant: str, device: torch.device):
    """(update callable, runner) for rsl_rl 5.x's PPO, its storage filled by its own collection code."""
    from rsl_rl.env import VecEnv
    from rsl_rl.runners import OnPolicyRunner
    from tensordict import TensorDict

    class RandomEnv(VecEnv):
        def __init__(self):
            self.num_envs, self.num_actions, self.device = N_ENVS, ACT, device
            self.max_episode_length, self.cfg = 1000, {}
            self.episode_length_buf = torch.zeros(N_ENVS, dtype=torch.long, device=device)

        def get_observations(self):
            return TensorDict({"policy": torch.randn(N_ENVS, OBS, device=device)}, batch_size=[N_ENVS])

        def step(self, actions):
            return (
                self.get_observations(),
                torch.randn(N_ENVS, device=device),
                (torch.rand(N_ENVS, device=device) < 0.01).long(),
                {"time_outs": torch.zeros(N_ENVS, device=device)},
            )

    cfg = {
        "num_steps_per_env": T,
        "save_interval": 10**9,
        "obs_groups": {"actor": ["policy"], "critic": ["policy"]},
        "algorithm": {
            "class_name": "PPO",
            "num_learning_epochs": EPOCHS,
            "num_mini_batches": MINIBATCHES,
            "clip_param": 0.2,
            "gamma": 0.99,
            "lam": 0.95,
            "value_loss_coef": 1.0,
            "entropy_coef": 0.01,
            "learning_rate": 1e-3,
            "max_grad_norm": 1.0,
            "schedule": "adaptive",
            "desired_kl": 0.01,
        },
        "actor": {
            "class_name": "MLPModel",
            "hidden_dims": [512, 256, 128],
            "activation": "elu",
            "obs_normalization": False,
            "distribution_cfg": {"class_name": "GaussianDistribution", "init_std": 1.0},
        },
        "critic": {
            "class_name": "MLPModel",
            "hidden_dims": [512, 256, 128],
            "activation": "elu",
            "obs_normalization": False,
        },
    }
    if "compile" in variant:
        cfg["torch_compile_mode"] = "default"
    env = RandomEnv()
    runner = OnPolicyRunner(env, cfg, log_dir=None, device=str(device))
    alg = runner.alg

    def collect():
        obs = env.get_observations()
        for _ in range(T):
            actions = alg.act(obs)
            obs, rew, dones, extras = env.step(actions)
            alg.process_env_step(obs, rew, dones, extras)
        return obs

    def timed_update():
        # as OnPolicyRunner.learn: collection and compute_returns under inference_mode, then update()
        with torch.inference_mode():
            obs = collect()
            sync(device)
            t0 = time.perf_counter()
            alg.compute_returns(obs)
            sync(device)
            returns_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        alg.update()
        sync(device)
        return returns_s + time.perf_counter() - t0

    return timed_update, runner


def measure(kind: str, variant: str, device, repeats: int) -> dict:
    make = ours if kind == "ours" else rsl
    fn, _ = make(variant, device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for i in range(repeats + 2):  # two warm-ups (compilation, cuBLAS plans)
        if kind == "ours":
            sync(device)
            t0 = time.perf_counter()
            fn()
            sync(device)
            dt = time.perf_counter() - t0
        else:
            dt = fn()
        if i >= 2:
            times.append(dt)
    med = statistics.median(times)
    return {
        "side": kind,
        "variant": variant,
        "median_update_s": round(med, 4),
        "samples_per_s": round(EPOCHS * N_ENVS * T / med),
        "repeats": [round(t, 4) for t in times],
        "peak_gpu_mem_mb": round(torch.cuda.max_memory_allocated(device) / 2**20) if device.type == "cuda" else 0,
    }


def main() -> None:
    global N_ENVS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--variants", default="ours:fp32,rsl:fp32,ours:bf16,ours:compile,ours:bf16+compile,rsl:compile")
    parser.add_argument("--out", default="")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--envs", type=int, default=N_ENVS, help="envs in the batch (4096: Isaac Lab's)")
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    N_ENVS = args.envs
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    results = []
    for spec in args.variants.split(","):
        kind, variant = spec.split(":")
        try:
            results.append(measure(kind, variant, device, args.repeats))
        except Exception as exc:  # a variant that cannot run here is reported, not hidden
            results.append({"side": kind, "variant": variant, "error": f"{type(exc).__name__}: {exc}"[:300]})
        print(results[-1], flush=True)
    base = next(
        (r["samples_per_s"] for r in results if r["side"] == "rsl" and r["variant"] == "fp32" and "samples_per_s" in r),
        None,
    )
    rows = [
        [
            r["side"],
            r["variant"],
            r.get("median_update_s", "-"),
            f"{r.get('samples_per_s', 0):,}",
            f"{r['samples_per_s'] / base:.2f}" if base and "samples_per_s" in r else "-",
            r.get("peak_gpu_mem_mb", "-"),
            r.get("error", ""),
        ]
        for r in results
    ]
    table = markdown_table(
        ["learner", "variant", "update (s, median)", "samples/s", "vs rsl_rl fp32", "peak GPU MB", "note"], rows
    )
    print(table)
    if args.out:
        write_json(
            args.out,
            {
                "machine": machine(),
                "versions": versions("torch", "rsl_rl"),
                "commit": git_commit(),
                "command": " ".join(sys.argv),
                "results": results,
                "table": table,
            },
        )
    if not args.no_doc:
        append_entry(
            "Learner speed (GPU)",
            "PPO update throughput, Go1 rough network, 4096 x 24 batch",
            table,
            modules=("torch", "rsl_rl"),
        )


if __name__ == "__main__":
    main()
