"""Pipeline efficiency: APPO's env steps/s over the physical limit of the same envs on the same processes.

For each env and worker count W (alternating the two sides, ``--repeats`` times):

* **limit**: W processes, each stepping its own gymnasium vector env of B envs with pre-sampled random actions
  and nothing else (no policy, no buffer), for ``--seconds``; aggregate env steps/s;
* **APPO**: the trainer with W workers of B envs (T steps per rollout, learner on the GPU when present, every other
  setting the preset's or the defaults') for ``--seconds`` after start-up; env steps/s is the median of its
  per-iteration rate over the second half.

Efficiency = APPO / limit. The engine's own timers (fractions of worker time in env stepping, policy inference,
buffer writes, weight refreshes and waiting; the learner's wait and update seconds) say where the rest goes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import append_entry, git_commit, machine, markdown_table, median, versions, write_json

ENVS = {
    "go1": {"id": "Sber-Velocity-Flat-Go1-MuJoCo-v0", "hydra": ["env=mujoco_go1"]},
    # Any gymnasium env with the engine's defaults (issue 16: the "any gymnasium env" path must use the machine).
    "halfcheetah": {"id": "HalfCheetah-v5", "hydra": ["env=gym", "env.id=HalfCheetah-v5"]},
    "hopper": {"id": "Hopper-v5", "hydra": ["env=gym", "env.id=Hopper-v5"]},
}
"""Each env's trainer arguments; B and T (envs per worker, steps per rollout) are the preset's or the defaults'."""


def rollout_size(env: dict) -> tuple[int, int]:
    """(B, T) the trainer uses for ``env`` with nothing overridden: its preset's values, else the schema defaults."""
    from hydra import compose, initialize_config_module
    from isaac_hydra_ext.config.store import register_configs

    register_configs()
    with initialize_config_module("isaac_hydra_ext.conf", version_base="1.3"):
        ppo = compose("train_appo", overrides=env["hydra"]).ppo
    return int(ppo.envs_per_worker), int(ppo.steps_per_env)


def _raw_worker(env_id: str, num_envs: int, seconds: float, start, out) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import gymnasium as gym
    import isaac_hydra_ext.envs  # noqa: F401  (registers the Go1 ids)
    import numpy as np

    spec = gym.spec(env_id)
    if spec.vector_entry_point is not None:
        env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
    else:
        env = gym.make_vec(
            env_id,
            num_envs=num_envs,
            vectorization_mode="sync",
            vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
        )
    env.reset(seed=os.getpid())
    rng = np.random.default_rng(0)
    low, high = env.single_action_space.low, env.single_action_space.high
    low, high = np.maximum(low, -1.0), np.minimum(high, 1.0)
    actions = [rng.uniform(low, high, size=(num_envs, len(low))).astype(np.float32) for _ in range(64)]
    for i in range(5):
        env.step(actions[i])
    start.wait()
    steps, i, t0 = 0, 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        env.step(actions[i % 64])
        i += 1
        steps += num_envs
    out.put(steps / (time.perf_counter() - t0))
    env.close()


def raw_limit(env_id: str, workers: int, num_envs: int, seconds: float) -> float:
    """Aggregate random-action env steps/s of ``workers`` processes (the physical limit)."""
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_raw_worker, args=(env_id, num_envs, seconds, start, out)) for _ in range(workers)]
    for p in procs:
        p.start()
    time.sleep(2.0 + 0.3 * workers)  # let every process build its env
    start.set()
    rates = [out.get(timeout=seconds + 300) for _ in procs]
    for p in procs:
        p.join(60)
    return sum(rates)


def appo(env: dict, workers: int, seconds: float) -> dict:
    """Run the trainer for ``seconds`` (after start-up) and read its per-iteration rates and timers."""
    with tempfile.TemporaryDirectory() as tmp:
        # The minibatches are the defaults' (ppo.num_minibatches of them, whatever W): nothing tuned per env.
        cmd = [
            sys.executable,
            "-m",
            "isaac_hydra_ext.appo_runner",
            *env["hydra"],
            f"ppo.num_workers={workers}",
            f"ppo.envs_per_worker={env['B']}",
            f"ppo.steps_per_env={env['T']}",
            f"experiment.output_dir={tmp}",
            "experiment.max_env_steps=0",
            f"experiment.max_wall_time_s={seconds + 10}",
            "checkpoint.every_iterations=0",
            "checkpoint.save_on_exit=false",
            "logging.console=none",
            "logging.tensorboard=false",
        ]
        proc = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=seconds + 300)
        metrics = next(Path(tmp).rglob("metrics.jsonl"))  # <output_dir>/<name>/<timestamp>/ (utils/run_dirs.py)
        lines = [json.loads(x) for x in metrics.read_text().splitlines()]
        warned = "learner-bound" in proc.stdout + proc.stderr  # the runner's one-time warning (runners/throughput.py)
    half = lines[len(lines) // 2 :] or lines
    keys = [
        "perf/worker_env_fraction",
        "perf/worker_inference_fraction",
        "perf/worker_write_fraction",
        "perf/worker_weights_fraction",
        "perf/worker_wait_fraction",
        "perf/learner_wait_s",
        "perf/learn_s",
    ]
    return {
        "sps": median([x["perf/env_steps_per_s"] for x in half]),
        "iterations": len(lines),
        "learner_bound_warning": warned,
        **{k: median([x[k] for x in half if k in x]) for k in keys},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", default="go1,halfcheetah")
    parser.add_argument("--workers", default="1,4,8,15")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--envs-per-worker",
        default="",
        help="comma-separated B values to measure (default: each env's own: the go1 preset's, the "
        "defaults' for the gymnasium envs)",
    )
    parser.add_argument(
        "--steps-per-env",
        type=int,
        default=0,
        help="T for every env (default: each env's own: the go1 preset's, the defaults' otherwise)",
    )
    parser.add_argument("--out", default="")
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    rows, results = [], []
    workers = [int(x) for x in args.workers.split(",")]
    chosen_b = [int(x) for x in args.envs_per_worker.split(",")] if args.envs_per_worker else []
    sizes = {name: rollout_size(ENVS[name]) for name in args.envs.split(",")}
    if args.steps_per_env:
        sizes = {name: (b, args.steps_per_env) for name, (b, _) in sizes.items()}
    cells = [(name, w, b) for name in args.envs.split(",") for b in chosen_b or [sizes[name][0]] for w in workers]
    for name, w, b in cells:
        env = dict(ENVS[name], B=b, T=sizes[name][1])
        limits, runs = [], []
        for _ in range(args.repeats):  # alternate the two sides
            limits.append(raw_limit(env["id"], w, env["B"], args.seconds))
            runs.append(appo(env, w, args.seconds))
        limit = statistics.median(limits)
        sps = statistics.median(r["sps"] for r in runs)
        timers = {
            k: statistics.median(r[k] for r in runs)
            for k in runs[0]
            if k not in ("sps", "iterations", "learner_bound_warning")
        }
        result = {
            "env": name,
            "workers": w,
            "B": env["B"],
            "T": env["T"],
            "limit_sps": round(limit),
            "appo_sps": round(sps),
            "efficiency": round(sps / limit, 3),
            "limits": limits,
            "appo_runs": [round(r["sps"]) for r in runs],
            "learner_bound_warning": [r["learner_bound_warning"] for r in runs],
            **timers,
        }
        results.append(result)
        print(json.dumps(result), flush=True)
        rows.append(
            [
                name,
                w,
                env["B"],
                env["T"],
                f"{limit:,.0f}",
                f"{sps:,.0f}",
                f"{sps / limit:.2f}",
                " / ".join(
                    f"{100 * timers[k]:.0f}"
                    for k in (
                        "perf/worker_env_fraction",
                        "perf/worker_inference_fraction",
                        "perf/worker_write_fraction",
                        "perf/worker_weights_fraction",
                        "perf/worker_wait_fraction",
                    )
                ),
                f"{timers['perf/learner_wait_s']:.2f} / {timers['perf/learn_s']:.2f}",
            ]
        )
    table = markdown_table(
        [
            "env",
            "W",
            "B",
            "T",
            "limit steps/s (random actions)",
            "APPO steps/s",
            "efficiency",
            "worker time % env / inference / write / weights / wait",
            "learner s per iteration: wait / update",
        ],
        rows,
    )
    print(table)
    if args.out:
        write_json(
            args.out,
            {
                "machine": machine(),
                "versions": versions("torch", "mujoco", "gymnasium"),
                "commit": git_commit(),
                "command": " ".join(sys.argv),
                "results": results,
                "table": table,
            },
        )
    if not args.no_doc:
        append_entry(
            "Pipeline efficiency",
            "APPO steps/s over the random-action limit",
            table,
            modules=("torch", "mujoco", "gymnasium"),
        )


if __name__ == "__main__":
    main()
