"""Learning per sample and per second with the defaults, by worker count: any gymnasium env, no per-env tuning.

For each env, worker count W and seed, the trainer runs ``env=gym env.id=<id> ppo.num_workers=W`` (plus whatever
follows ``--``) for ``--samples`` env steps. From its ``metrics.jsonl`` this reads the mean return of the last 100
episodes at each ``--marks`` sample count, the wall time to get there, and the wall time to the published return of
a standard PPO at 1M samples (CleanRL's ``ppo_continuous_action.py``, MuJoCo v4, docs.cleanrl.dev/rl-algorithms/ppo,
tag pr-424: Hopper-v4 2382.86 +- 271.74, HalfCheetah-v4 1442.64 +- 46.03). Whether the run printed the learner-bound
warning is read from its ``train.log``.

The issue's goals this measures: the return at 1M and 3M samples with 15 workers within 10% of the 1-worker run
(3 seeds or more), and at least the published level at 1M samples. Example (16-core GPU host)::

    python benchmarks/learning_vs_workers.py --envs hopper,halfcheetah --workers 1,15 --seeds 1,2,3 \\
        --samples 3000000 --parallel 3 --out /tmp/lw.json -- experiment.device=cuda
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import append_entry, git_commit, machine, markdown_table, versions, write_json

ENVS = {"hopper": "Hopper-v5", "halfcheetah": "HalfCheetah-v5", "walker2d": "Walker2d-v5", "ant": "Ant-v5"}
PUBLISHED = {"hopper": 2382.86, "halfcheetah": 1442.64, "walker2d": 2287.95}
"""CleanRL ppo_continuous_action.py, MuJoCo v4, mean return at 1M samples (docs.cleanrl.dev, tag pr-424)."""


def run_one(env: str, workers: int, seed: int, samples: int, extra: list[str], max_wall_s: float) -> dict:
    """One training run; its curve (env steps, wall time, mean return) and whether it warned of a slow learner.

    ``max_wall_s`` > 0 stops the run there (the trainer's own ``experiment.max_wall_time_s``: it exits cleanly with
    what it logged), so a suite with a time limit still gets partial curves.
    """
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        cmd = [
            sys.executable,
            "-m",
            "isaac_hydra_ext.appo_runner",
            "env=gym",
            f"env.id={ENVS[env]}",
            f"ppo.num_workers={workers}",
            f"experiment.seed={seed}",
            f"experiment.max_env_steps={samples}",
            f"experiment.output_dir={tmp}",
            "experiment.name=lw",
            f"hydra.run.dir={run}",
            "checkpoint.every_iterations=0",
            "checkpoint.save_on_exit=false",
            "logging.console=none",
            "logging.tensorboard=false",
            f"experiment.max_wall_time_s={max_wall_s}",
            *extra,
        ]
        start = time.time()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=(max_wall_s or 86400) + 300)
        wall = time.time() - start
        runs = sorted(Path(tmp, "lw").glob("*/metrics.jsonl"))
        lines = [json.loads(x) for x in runs[-1].read_text().splitlines()] if runs else []
        log = (runs[-1].parent / "train.log").read_text() if runs and (runs[-1].parent / "train.log").exists() else ""
        summary = runs[-1].parent / "summary.json" if runs else None
        stop = json.loads(summary.read_text()).get("stop_reason") if summary and summary.exists() else None
    curve = [(x["env_steps"], x["wall_time_s"], x.get("train/mean_return")) for x in lines]
    return {
        "env": env,
        "workers": workers,
        "seed": seed,
        "returncode": proc.returncode,
        "stop_reason": stop,
        "process_wall_s": wall,
        "curve": curve,
        "learner_bound_warning": "learner-bound" in log or "learner-bound" in proc.stdout,
        "mean_policy_lag": statistics.mean(x["lag/mean"] for x in lines) if lines and "lag/mean" in lines[0] else None,
        "iterations": len(lines),
        "stderr_tail": proc.stderr[-600:] if proc.returncode else "",
    }


def at(curve: list, mark: int) -> tuple[float | None, float | None]:
    """(mean return, wall seconds) at the first logged iteration with at least ``mark`` env steps."""
    for steps, wall, ret in curve:
        if steps >= mark:
            return ret, wall
    return None, None


def time_to(curve: list, target: float) -> tuple[float | None, int | None]:
    """(wall seconds, env steps) when the mean return first reached ``target``."""
    for steps, wall, ret in curve:
        if ret is not None and ret >= target:
            return wall, steps
    return None, None


def _ms(xs: list[float | None], spec: str = ",.0f") -> str:
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    if len(xs) == 1:
        return format(xs[0], spec)
    return f"{format(statistics.mean(xs), spec)} ± {format(statistics.stdev(xs), spec)}"


def summarize(results: list[dict], marks: list[int]) -> tuple[list[dict], str]:
    """Per (env, W): returns at the marks over seeds, time to the published return, steps/s; and a table."""
    rows, table = [], []
    keys = sorted({(r["env"], r["workers"]) for r in results}, key=lambda k: (k[0], k[1]))
    for env, w in keys:
        group = [r for r in results if r["env"] == env and r["workers"] == w]
        row = {"env": env, "workers": w, "seeds": [r["seed"] for r in group]}
        cells = [env, w, len(group)]
        for m in marks:
            rets = [at(r["curve"], m)[0] for r in group]
            walls = [at(r["curve"], m)[1] for r in group]
            row[f"return_at_{m}"], row[f"wall_s_at_{m}"] = rets, walls
            cells += [_ms(rets), _ms(walls, ".0f")]
        target = PUBLISHED.get(env)
        if target is not None:
            reached = [time_to(r["curve"], target) for r in group]
            row["time_to_published_s"] = [t for t, _ in reached]
            cells.append(
                f"{sum(t is not None for t, _ in reached)}/{len(group)}: {_ms([t for t, _ in reached], '.0f')}"
                f" s at {_ms([s for _, s in reached])} samples"
            )
        else:
            cells.append("-")
        sps = [r["curve"][-1][0] / r["curve"][-1][1] for r in group if r["curve"] and r["curve"][-1][1]]
        row["env_steps_per_s"] = sps
        row["learner_bound_warning"] = [r["learner_bound_warning"] for r in group]
        cells += [_ms(sps), sum(row["learner_bound_warning"])]
        rows.append(row)
        table.append(cells)
    header = ["env", "W", "seeds"]
    for m in marks:
        header += [f"return at {m / 1e6:g}M", f"wall s at {m / 1e6:g}M"]
    header += ["time to CleanRL's 1M return (runs reaching it)", "env steps/s", "learner-bound warnings"]
    return rows, markdown_table(header, table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", default="hopper,halfcheetah")
    parser.add_argument("--workers", default="1,15")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument(
        "--marks",
        default="",
        help="sample counts to read the return at (default: 1M, 3M up to --samples, else --samples)",
    )
    parser.add_argument("--parallel", type=int, default=1, help="runs at once (throughput figures need 1)")
    parser.add_argument(
        "--max-wall-s",
        type=float,
        default=0.0,
        help="stop each run after this many seconds of training (0: only --samples)",
    )
    parser.add_argument("--out", default="")
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="trainer overrides for every run, after --")
    args = parser.parse_args()
    extra = args.extra[1:] if args.extra[:1] == ["--"] else args.extra
    marks = (
        [int(float(m)) for m in args.marks.split(",")]
        if args.marks
        else ([m for m in (1_000_000, 3_000_000) if m <= args.samples] or [args.samples])
    )
    jobs = [
        (e, int(w), int(s))
        for e in args.envs.split(",")
        for w in args.workers.split(",")
        for s in args.seeds.split(",")
    ]
    with ThreadPoolExecutor(max(1, args.parallel)) as pool:
        results = list(pool.map(lambda j: run_one(*j, args.samples, extra, args.max_wall_s), jobs))
    for r in results:
        brief = {k: r[k] for k in ("env", "workers", "seed", "returncode", "stop_reason", "mean_policy_lag")}
        print(
            json.dumps(brief | {"final": r["curve"][-1] if r["curve"] else None})
            + (f" {r['stderr_tail']}" if r["returncode"] else ""),
            flush=True,
        )
    rows, table = summarize(results, marks)
    print(table)
    if args.out:
        write_json(
            args.out,
            {
                "machine": machine(),
                "versions": versions("torch", "mujoco", "gymnasium"),
                "commit": git_commit(),
                "command": " ".join(sys.argv),
                "overrides": extra,
                "marks": marks,
                "summary": rows,
                "runs": results,
                "table": table,
            },
        )
    if not args.no_doc:
        append_entry(
            "Learning with the defaults, by worker count",
            "Mean return at sample marks, defaults only",
            table,
            modules=("torch", "mujoco", "gymnasium"),
        )


if __name__ == "__main__":
    main()
