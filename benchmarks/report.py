"""Turn the result files of ``benchmarks/h100_suite.sh`` into docs/benchmarks.md entries and PNG plots in docs/.

    python benchmarks/report.py <results-dir> [--sections go1,efficiency,cheetah,learner]
    python benchmarks/report.py --repeats LABEL=DIR [LABEL=DIR ...]   # several go1 runs: one table, the median

Each result file carries the machine, versions and commit it was measured with; the entries quote them.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from common import REPO, append_entry, markdown_table

DOCS = REPO / "docs"


def _fmt(x, spec=",.0f"):
    return "-" if x is None else format(x, spec)


def _memory_line(result: dict) -> str:
    mem = result.get("memory") or []
    if len(mem) < 3:
        return "-"

    def split(sample):
        learner = sum(v for k, v in sample["rss_mb"].items() if k.endswith(":learner"))
        workers = [v for k, v in sample["rss_mb"].items() if k.endswith(":worker")]
        return learner, workers

    warm = next((s for s in mem if s["t"] >= 30), mem[len(mem) // 2])
    l0, w0 = split(warm)
    l1, w1 = split(mem[-1])
    if w1:
        return (
            f"learner {l0:.0f} → {l1:.0f} MB, each worker {max(w0):.0f} → {max(w1):.0f} MB "
            f"(t = {warm['t']:.0f} s → {mem[-1]['t']:.0f} s)"
        )
    return f"trainer {l0:.0f} → {l1:.0f} MB (t = {warm['t']:.0f} s → {mem[-1]['t']:.0f} s)"


def plot_pair(appo: dict, rsl: dict, ykey: str, ylabel: str, title: str, path: Path, second: str | None = None):
    """Curves of APPO and rsl_rl against wall time (from each process's launch)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [ykey] + ([second] if second else [])
    fig, axes = plt.subplots(1, len(keys), figsize=(6 * len(keys), 4))
    axes = axes if len(keys) > 1 else [axes]
    for ax, key in zip(axes, keys):
        for result, label, color in ((appo, "APPO (isaac_hydra_ext)", "tab:blue"), (rsl, "rsl_rl", "tab:orange")):
            if not result:
                continue
            curve = [p for p in result["curve"] if p.get(key) is not None and p.get("t") is not None]
            offset = (result.get("process_wall_s") or 0) - (curve[-1]["t"] if curve else 0)
            offset = max(0.0, offset) if result.get("reached") else 0.0
            ax.plot([p["t"] + offset for p in curve], [p[key] for p in curve], label=label, color=color)
            if result.get("time_to_goal_s"):
                ax.axvline(result["time_to_goal_s"], color=color, ls="--", lw=1)
        ax.set_xlabel("wall time (s)")
        ax.set_ylabel(ylabel if key == ykey else "mean episode length (steps)")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def time_to_result_entry(appo: dict, rsl: dict, task: str, goal: str, plot: str) -> str:
    rows = []
    for name, r in (("APPO (isaac_hydra_ext)", appo), ("rsl_rl OnPolicyRunner", rsl)):
        f = r.get("final") or {}
        rows.append(
            [
                name,
                "yes" if r["reached"] else f"no (budget {r['budget_min']} min)",
                _fmt(r.get("time_to_goal_s"), ".1f"),
                _fmt(r.get("steps_to_goal")),
                _fmt(
                    (r.get("steps_to_goal") or f.get("steps") or 0)
                    / max(r.get("time_to_goal_s") or f.get("t") or 1, 1e-9)
                ),
                _fmt(f.get("return"), ".1f"),
                _fmt(f.get("length"), ".0f"),
                _fmt(f.get("lin_tracking"), ".2f") if r["goal"] == "walk" else "-",
                _memory_line(r),
            ]
        )
    ratio = ""
    if appo.get("time_to_goal_s") and rsl.get("time_to_goal_s"):
        speedup = rsl["time_to_goal_s"] / appo["time_to_goal_s"]
        ratio = f"\n\nAPPO reached the goal **{speedup:.2f}x** faster in wall time."
    table = markdown_table(
        [
            "trainer",
            "reached",
            "time to goal (s, from launch)",
            "env steps to goal",
            "env steps/s",
            "final return",
            "final ep. length",
            "final lin. tracking",
            "resident memory after warm-up → end",
        ],
        rows,
    )
    return (
        f"Goal: {goal}. Task: {task}.\n\nAPPO: `{appo['command']}`\n\n"
        f"rsl_rl: `{rsl['command']}`\n\n{table}{ratio}\n\n![{task}]({plot})\n"
    )


def steady_steps_per_s(result: dict) -> float | None:
    """Env steps/s by the trainer's own clock over the last three quarters of its curve (start-up left out)."""
    curve = [p for p in result.get("curve") or [] if p.get("t") is not None and p.get("steps") is not None]
    if len(curve) < 4:
        return None
    a, b = curve[len(curve) // 4], curve[-1]
    return (b["steps"] - a["steps"]) / max(b["t"] - a["t"], 1e-9)


def repeats_entry(pairs: list[tuple[str, dict, dict]]) -> str:
    """One row per paired Go1 run (APPO then rsl_rl in one call), the median ratio overall and per APPO setting."""
    rows, ratios = [], {}
    for i, (label, appo, rsl) in enumerate(pairs, 1):
        ratio = (
            rsl["time_to_goal_s"] / appo["time_to_goal_s"]
            if appo.get("time_to_goal_s") and rsl.get("time_to_goal_s")
            else None
        )
        if ratio is not None:
            ratios.setdefault(label, []).append(ratio)
        rows.append(
            [
                str(i),
                label,
                appo.get("commit", "-"),
                _fmt(appo.get("time_to_goal_s"), ".1f"),
                _fmt(appo.get("steps_to_goal")),
                _fmt(steady_steps_per_s(appo)),
                _fmt(rsl.get("time_to_goal_s"), ".1f"),
                _fmt(rsl.get("steps_to_goal")),
                _fmt(steady_steps_per_s(rsl)),
                _fmt(ratio, ".2f"),
            ]
        )
    table = markdown_table(
        [
            "run",
            "APPO setting",
            "commit",
            "APPO time to walk (s)",
            "APPO env steps",
            "APPO steps/s",
            "rsl_rl time to walk (s)",
            "rsl_rl env steps",
            "rsl_rl steps/s",
            "speed-up",
        ],
        rows,
    )
    every = sorted(r for rs in ratios.values() for r in rs)
    lines = (
        [
            f"Median speed-up over the {len(every)} paired runs: **{statistics.median(every):.2f}x** "
            f"(range {every[0]:.2f}-{every[-1]:.2f}x)."
        ]
        if every
        else []
    )
    lines += [
        f"With `{label}`: median {statistics.median(rs):.2f}x over {len(rs)} run(s)."
        for label, rs in ratios.items()
        if len(ratios) > 1
    ]
    return table + "\n\n" + " ".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, nargs="?")
    parser.add_argument("--sections", default="go1,efficiency,cheetah,learner")
    parser.add_argument(
        "--repeats",
        nargs="+",
        metavar="LABEL=DIR",
        help="result directories of several `h100_suite.sh go1` calls (go1_appo.json and "
        "go1_rsl_rl.json in each), labelled with the APPO setting they ran",
    )
    args = parser.parse_args()
    if args.repeats:
        pairs = []
        for item in args.repeats:
            label, _, folder = item.rpartition("=")
            if not label:
                parser.error(f"--repeats {item!r}: expected LABEL=DIR")
            pairs.append(
                (label, *(json.loads((Path(folder) / f).read_text()) for f in ("go1_appo.json", "go1_rsl_rl.json")))
            )
        append_entry(
            "Time to a walking Go1 (APPO vs rsl_rl)",
            "Go1, 16 CPU cores + H100, repeated runs",
            repeats_entry(pairs),
            command="benchmarks/h100_suite.sh go1 (once per call); "
            "benchmarks/report.py --repeats " + " ".join(args.repeats),
            measured=pairs[-1][1],
        )
        return
    if args.results is None:
        parser.error("give a results directory or --repeats")
    load = lambda name: json.loads((args.results / name).read_text()) if (args.results / name).exists() else None  # noqa
    sections = args.sections.split(",")
    if "go1" in sections and load("go1_appo.json") and load("go1_rsl_rl.json"):
        appo, rsl = load("go1_appo.json"), load("go1_rsl_rl.json")
        plot_pair(
            appo,
            rsl,
            "lin_tracking",
            "per-step lin. velocity tracking (1 = perfect)",
            "Go1 (MuJoCo): APPO vs rsl_rl on the same 16-core + H100 machine",
            DOCS / "go1_walk_curve.png",
            second="length",
        )
        plot_pair(
            appo,
            rsl,
            "return",
            "mean return (last 100 episodes)",
            "Go1 (MuJoCo): return vs wall time",
            DOCS / "go1_return_vs_time.png",
        )
        body = time_to_result_entry(
            appo,
            rsl,
            "Go1 velocity tracking (embedded MuJoCo task)",
            "walking: mean episode length >= 90% of 1000 steps and per-step linear-velocity "
            "tracking >= 75% of its maximum over the last 100 episodes",
            "go1_walk_curve.png",
        )
        append_entry(
            "Time to a walking Go1 (APPO vs rsl_rl)",
            "Go1, 16 CPU cores + H100",
            body,
            command="benchmarks/h100_suite.sh go1; benchmarks/report.py",
            measured=appo,
        )
    if "cheetah" in sections and load("hc_appo.json") and load("hc_rsl_rl.json"):
        appo, rsl = load("hc_appo.json"), load("hc_rsl_rl.json")
        plot_pair(
            appo,
            rsl,
            "return",
            "mean return (last 100 episodes)",
            "HalfCheetah-v5: APPO vs rsl_rl on the same 16-core + H100 machine",
            DOCS / "halfcheetah_return.png",
        )
        body = time_to_result_entry(
            appo, rsl, "HalfCheetah-v5", "mean return >= 3000 over the last 100 episodes", "halfcheetah_return.png"
        )
        append_entry(
            "Time to HalfCheetah 3000 (APPO vs rsl_rl)",
            "HalfCheetah-v5, 16 CPU cores + H100",
            body,
            command="benchmarks/h100_suite.sh cheetah; benchmarks/report.py",
            measured=appo,
        )
    if "efficiency" in sections and load("efficiency.json"):
        r = load("efficiency.json")
        append_entry(
            "Pipeline efficiency",
            "APPO steps/s over the random-action limit, 16-core H100 host",
            r["table"],
            command=r["command"],
            measured=r,
        )
    if "learner" in sections and load("learner.json"):
        r = load("learner.json")
        append_entry(
            "Learner speed (GPU)",
            "PPO update throughput, Go1 rough network, 4096 x 24 batch, H100",
            r["table"],
            command=r["command"],
            measured=r,
        )


if __name__ == "__main__":
    main()
