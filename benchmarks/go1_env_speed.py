"""Speed of the embedded MuJoCo Go1 env on one core, next to plain ``mj_step`` as the physical limit.

For each batch size B it measures, with random actions a ~ N(0, 1) (an untrained policy; PD targets
q_default + 0.25 a) and the process pinned to one CPU:

* ``mj_step limit``: a Python loop over B ``MjData`` calling ``mujoco.mj_step(model, data, nstep=4)`` (the same
  model and decimation, nothing else; a world that falls or reaches 20 s is reset);
* ``rollout``: the env's batched simulator alone (one ``mujoco.rollout`` call per policy step for all B worlds);
* ``env``: ``Go1VelocityEnv.step`` (physics + observations, rewards, terminations, resets, commands, noise).

Each number is the median of ``--reps`` timed runs of ``--seconds`` each, in policy steps (env steps) per second.
The table is printed and appended, with machine, CPU, versions, command and git commit, to the section
``## Go1 MuJoCo env speed`` of docs/benchmarks.md (created if missing; other sections are left alone).

Usage: ``python benchmarks/go1_env_speed.py [--batch-sizes 1 16 64 256] [--seconds 2] [--reps 3] [--no-append]``
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402
from common import REPO, append_entry, markdown_table  # noqa: E402
from isaac_hydra_ext.envs.go1 import Go1VelocityEnv  # noqa: E402

SECTION = "Go1 MuJoCo env speed"


def _timed(step: Callable[[int], None], batch: int, seconds: float, reps: int) -> float:
    """Median steps/s of ``step(i)`` (advances ``batch`` envs) over ``reps`` runs of ``seconds``."""
    for i in range(5):  # warm-up
        step(i)
    rates = []
    for _ in range(reps):
        n, start = 0, time.perf_counter()
        while True:
            step(n)
            n += 1
            if n % 10 == 0 and time.perf_counter() - start > seconds:
                break
        rates.append(n * batch / (time.perf_counter() - start))
    return statistics.median(rates)


def bench_plain(env: Go1VelocityEnv, targets: np.ndarray, seconds: float, reps: int) -> float:
    """Plain ``mj_step`` loop over B MjData of the env's model (the physical limit)."""
    model = env.sim.model
    batch = targets.shape[1]
    datas = [mujoco.MjData(model) for _ in range(batch)]
    initial = env.sim.state[0].copy()
    full = mujoco.mjtState.mjSTATE_FULLPHYSICS
    for data in datas:
        mujoco.mj_setState(model, data, initial, full)
    decimation = env.cfg.sim.decimation
    limit_s = env.cfg.sim.episode_length_s

    def step(i: int) -> None:
        ctrl = targets[i % len(targets)]
        for k, data in enumerate(datas):
            data.ctrl[:] = ctrl[k]
            mujoco.mj_step(model, data, nstep=decimation)
            if data.qpos[2] < 0.15 or data.time >= limit_s:
                mujoco.mj_setState(model, data, initial, full)

    return _timed(step, batch, seconds, reps)


def bench_rollout(env: Go1VelocityEnv, targets: np.ndarray, seconds: float, reps: int) -> float:
    """The env's batched simulator alone: one ``mujoco.rollout`` call per policy step."""
    sim = env.sim
    initial = sim.state[0].copy()

    def step(i: int) -> None:
        sim.step(targets[i % len(targets)])
        fallen = sim.qpos[:, 2] < 0.15
        if fallen.any():
            sim.state[fallen] = initial

    return _timed(step, targets.shape[1], seconds, reps)


def bench_env(env: Go1VelocityEnv, actions: np.ndarray, seconds: float, reps: int) -> float:
    """The full env step."""
    env.reset(seed=0)

    def step(i: int) -> None:
        env.step(actions[i % len(actions)])

    return _timed(step, actions.shape[1], seconds, reps)


SECTION_INTRO = (
    "`benchmarks/go1_env_speed.py`: policy steps per second of `Go1VelocityEnv` (50 Hz policy, 4 physics steps\n"
    "of 5 ms each) with random actions on one pinned core, next to a plain `mj_step(nstep=4)` loop over the\n"
    "same model (the physical limit) and the env's `mujoco.rollout` simulator alone. Median of timed runs.\n"
)


def format_table(rows: list[tuple[int, float, float, float]]) -> str:
    """The Markdown table of one run."""
    return markdown_table(
        ["B", "mj_step limit (steps/s)", "rollout only (steps/s)", "env (steps/s)", "env / limit"],
        [
            [b, f"{plain:,.0f}", f"{rollout:,.0f}", f"{env:,.0f}", f"{env / plain:.0%}"]
            for b, plain, rollout, env in rows
        ],
    )


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and record it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 16, 64, 256])
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one timed run")
    parser.add_argument("--reps", type=int, default=3, help="timed runs per cell (median reported)")
    parser.add_argument("--no-append", action="store_true", help="print only, do not write docs/benchmarks.md")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    rows = []
    print(f"{'B':>5} {'mj_step limit':>14} {'rollout only':>13} {'env':>9} {'env/limit':>10}", flush=True)
    for batch in args.batch_sizes:
        rng = np.random.default_rng(0)
        actions = rng.normal(size=(100, batch, 12))
        env = Go1VelocityEnv(batch)
        env.reset(seed=0)
        targets = env.default_joint_pos + env.cfg.action.scale * actions
        plain = bench_plain(env, targets, args.seconds, args.reps)
        rollout = bench_rollout(env, targets, args.seconds, args.reps)
        full = bench_env(env, actions, args.seconds, args.reps)
        env.close()
        rows.append((batch, plain, rollout, full))
        print(f"{batch:>5} {plain:>14,.0f} {rollout:>13,.0f} {full:>9,.0f} {full / plain:>10.0%}", flush=True)

    command = "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(__file__, REPO), *sys.argv[1:]])
    table = format_table(rows)
    print()
    print(table)
    if not args.no_append:
        append_entry(
            SECTION,
            "one core pinned",
            SECTION_INTRO + "\n" + table,
            command=command,
            modules=("mujoco", "numpy", "gymnasium"),
            doc=args.output,
        )
        print(f"appended to {args.output}")


if __name__ == "__main__":
    main()
