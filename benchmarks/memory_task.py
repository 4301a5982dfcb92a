"""Does the recurrent policy use its memory? Mean return on the partially observed Pendulum, LSTM/GRU vs MLP.

Runs ``env=pendulum_no_velocity`` through the real CLI (2 async workers) for each ``ppo.rnn_type`` and seed, one run
after the other, and reports each run's final mean return (last 100 episodes) and training time; the CI check
(tests/e2e/test_memory_task.py) takes its threshold from these numbers. Usage::

    python benchmarks/memory_task.py --rnn lstm,none --seeds 1,2,3 --steps 300000 [--doc]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import append_entry, markdown_table, write_json

REPO = Path(__file__).resolve().parent.parent


def run(rnn: str, seed: int, steps: int, workers: int, out: Path) -> dict:
    """One training run; its summary's mean return, env steps and wall time, and the machine load at its end."""
    cmd = [
        sys.executable,
        "-m",
        "isaac_hydra_ext.appo_runner",
        "env=pendulum_no_velocity",
        f"ppo.num_workers={workers}",
        f"ppo.rnn_type={rnn}",
        f"experiment.seed={seed}",
        f"experiment.max_env_steps={steps}",
        f"experiment.output_dir={out}",
        "logging.console=none",
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=out.parent)
    if res.returncode != 0:
        raise RuntimeError(f"{rnn} seed {seed} failed:\n{res.stderr[-2000:]}")
    (path,) = list(out.rglob("summary.json"))
    summary = json.loads(path.read_text())
    return {
        "rnn_type": rnn,
        "seed": seed,
        "mean_return": round(float(summary["mean_return"]), 1),
        "env_steps": summary["env_steps"],
        "train_s": round(float(summary.get("wall_time_s", 0.0)), 1),
        "load": os.getloadavg()[0],
    }


def main() -> None:
    """Run the grid, print a table, write JSON and optionally a docs/benchmarks.md entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rnn", default="lstm,none")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--steps", type=int, default=300_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="/tmp/memory_task.json")
    parser.add_argument("--doc", action="store_true", help="append the table to docs/benchmarks.md")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for rnn in args.rnn.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                result = run(rnn, seed, args.steps, args.workers, Path(tmp) / f"{rnn}_{seed}" / "runs")
                print(result, flush=True)
                rows.append(result)
    write_json(args.out, {"steps": args.steps, "workers": args.workers, "runs": rows})
    table = markdown_table(
        ["ppo.rnn_type", "seed", "mean return", "training s", "load"],
        [[r["rnn_type"], r["seed"], r["mean_return"], r["train_s"], f"{r['load']:.1f}"] for r in rows],
    )
    print(table)
    if args.doc:
        append_entry("Memory task: Pendulum without velocity (issue 19)", f"{args.steps:,} env steps", table)


if __name__ == "__main__":
    main()
