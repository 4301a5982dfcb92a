"""Execution modes compared: in-process ``sync`` vs ``async`` (``num_workers=0``), and N worker processes.

Runs the trainer with its env in the learner process, alternating ``--mode sync`` and ``--mode async`` runs
``--repeats`` times, and, with ``--workers 1,2,4``, async runs with N worker processes of total/N envs each (the same
samples per iteration: one rollout per worker). Each run's ``metrics.jsonl`` is read (the first ``--warmup``
iterations are skipped):

* ``iteration_s``: median wall time per iteration (differences of ``wall_time_s``);
* ``env_steps_per_s``: samples per iteration / ``iteration_s``;
* ``learner_wait_s``, ``learn_s``: the learner waiting for a rollout, and gathering + updating + publishing;
* ``collector_busy_s``: seconds the collector spent collecting per iteration (sync: the wait; async: the thread);
* ``overlap``: fraction of ``learn_s`` during which the collector was collecting (0 in sync mode).

``iteration_s(sync) ~ collect + learn``; with full overlap ``iteration_s(async) ~ max(collect, learn)``.

Backends: ``--preset`` (the Hydra command, e.g. ``mujoco_go1``, ``gym_pendulum``) or ``--task`` (the Isaac Lab
train script, e.g. the Newton Go1 task, with ``--device`` and ``--num-envs``; run it with Isaac Lab's Python).

``--profile DIR`` (Isaac Lab tasks, CUDA): one more run per mode under ``torch.profiler`` for
``--profile-iterations`` iterations after the warm-up; the Chrome traces go to DIR, and the kernels (and copies) of
each CUDA stream are summed: GPU busy time, and the time during which kernels of two or more streams ran at once.
In async mode the env's kernels (the collector thread's default stream, and Warp's stream) and the update's (the
learner stream) can run concurrently; that concurrent time is the direct measure of overlap on one GPU.

Usage::

    python benchmarks/inprocess_overlap.py --preset mujoco_go1 --envs 256 --iterations 20 --repeats 2
    python benchmarks/inprocess_overlap.py --task Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-v0 --device cuda:0 \\
        --num-envs 4096 --iterations 40 --profile $OUT/traces --out $OUT/inprocess_overlap.json --no-doc
    python benchmarks/inprocess_overlap.py --from inprocess_overlap.json        # append a GPU machine's results

Results: a table on stdout, ``--out FILE`` as JSON, and (unless ``--no-doc``) an entry in docs/benchmarks.md under
``## In-process collection: sync vs async``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, append_entry, git_commit, machine, markdown_table, median, versions, write_json  # noqa: E402

SECTION = "In-process collection: sync vs async"
TRAIN_SCRIPT = REPO / "scripts" / "reinforcement_learning" / "appo" / "train.py"
MODES = ("sync", "async")
"""The in-process setups; worker setups are named ``workers=N``."""
METRICS = {
    "perf/learner_wait_s": "learner_wait_s",
    "perf/learn_s": "learn_s",
    "perf/collector_busy_s": "collector_busy_s",
    "perf/overlap": "overlap",
    "lag/mean": "lag",
}
"""metrics.jsonl keys summarized per run, and their names in the results."""


# ---- one run ----------------------------------------------------------------------------------------------------
def setups(args: argparse.Namespace) -> list[str]:
    """The setups to compare: ``sync``, ``async`` (in-process) and ``workers=N`` for each ``--workers`` value."""
    workers = [int(n) for n in args.workers.split(",") if n.strip()] if args.workers else []
    return [*MODES, *(f"workers={n}" for n in workers)]


def command(args: argparse.Namespace, setup: str, out_dir: Path, profile: Path | None = None) -> list[str]:
    """The trainer command line of one run (``profile``: run it under torch.profiler, traces into that folder)."""
    workers = int(setup.split("=")[1]) if setup.startswith("workers=") else 0
    mode = "async" if workers else setup
    total = args.num_envs if args.task else args.envs
    if workers and (not total or total % workers):
        raise SystemExit(f"--workers {workers} needs a total env count divisible by it (--num-envs / --envs)")
    prefix = [sys.executable]
    if profile:
        prefix = [
            sys.executable,
            __file__,
            "--child-profile",
            str(profile),
            "--profile-iterations",
            str(args.profile_iterations),
            "--warmup",
            str(args.warmup),
            "--",
        ]
    if args.task:
        cmd = [
            str(TRAIN_SCRIPT),
            "--task",
            args.task,
            "--num_workers",
            str(workers),
            "--mode",
            mode,
            "--max_iterations",
            str(args.iterations),
            "--device",
            args.device,
            f"agent.output_dir={out_dir}",
            "agent.save_interval=0",
            "agent.save_on_exit=false",
        ]
        if workers:
            cmd.append(f"agent.envs_per_worker={total // workers}")
        elif total:
            cmd += ["--num_envs", str(total)]
    else:
        cmd = [
            "-m",
            "isaac_hydra_ext.appo_runner",
            f"env={args.preset}",
            f"ppo.num_workers={workers}",
            f"ppo.mode={mode}",
            f"experiment.max_iterations={args.iterations}",
            "experiment.max_env_steps=0",
            f"experiment.output_dir={out_dir}",
            "checkpoint.every_iterations=0",
            "checkpoint.save_on_exit=false",
            "logging.tensorboard=false",
            f"experiment.device={args.device}",
        ]
        if total:
            cmd.append(f"ppo.envs_per_worker={total // workers if workers else total}")
        if profile:
            cmd = ["--hydra", *cmd[2:]]
    return [*prefix, *cmd, *args.overrides]


def summarize(metrics: list[dict], warmup: int) -> dict[str, float]:
    """Medians over the iterations after ``warmup`` (see the module docstring)."""
    rows = metrics[warmup:]
    if len(rows) < 2:
        raise ValueError(f"{len(metrics)} iterations logged; need more than warmup + 1 = {warmup + 1}")
    steps = [b["env_steps"] - a["env_steps"] for a, b in zip(rows, rows[1:])]
    times = [b["wall_time_s"] - a["wall_time_s"] for a, b in zip(rows, rows[1:])]
    iteration_s = median(times)
    out = {"iteration_s": iteration_s, "env_steps_per_s": median(steps) / iteration_s if iteration_s > 0 else 0.0}
    for key, name in METRICS.items():
        values = [r[key] for r in rows if key in r]
        out[name] = median(values) if values else float("nan")
    return out


def run_once(args: argparse.Namespace, setup: str, profile: Path | None = None) -> dict:
    """One training run; its summary numbers (and the kernel overlap when profiled)."""
    with tempfile.TemporaryDirectory(prefix="ihe_overlap_") as tmp:
        out_dir = Path(tmp) / "runs"
        cmd = command(args, setup, out_dir, profile)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=args.timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{(proc.stdout + proc.stderr)[-4000:]}")
        (metrics_file,) = out_dir.rglob("metrics.jsonl")
        summary = json.loads((metrics_file.parent / "summary.json").read_text())
        lines = [json.loads(x) for x in metrics_file.read_text().splitlines()]
    result = {"mode": summary["mode"], "sampler": summary["sampler"], **summarize(lines, args.warmup)}
    if profile:
        traces = sorted(profile.glob(f"trace_{summary['mode']}_*.json"), key=lambda p: p.stat().st_mtime)
        result["trace"] = str(traces[-1]) if traces else None
        result["gpu"] = kernel_overlap(json.loads(traces[-1].read_text())) if traces else None
    return result


# ---- the profiler's timeline --------------------------------------------------------------------------------
GPU_CATEGORIES = ("kernel", "gpu_memcpy", "gpu_memset")


def _union_length(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total


def kernel_overlap(trace: dict) -> dict:
    """GPU activity per CUDA stream in a Chrome trace (torch.profiler), and how much of it ran concurrently.

    Returns ``busy_s`` (time with any GPU activity), ``concurrent_s`` (time during which activities of at least two
    streams ran at once: a sweep over all start/end points counting the streams with an activity in flight),
    ``concurrent_fraction`` = concurrent_s / busy_s, and per stream its activity count and busy seconds.
    """
    per_stream: dict[str, list[tuple[float, float]]] = {}
    for event in trace.get("traceEvents", []):
        if event.get("cat") in GPU_CATEGORIES and event.get("ph") == "X":
            stream = str(event.get("args", {}).get("stream", event.get("tid")))
            start = float(event["ts"])
            per_stream.setdefault(stream, []).append((start, start + float(event.get("dur", 0.0))))
    points: list[tuple[float, int, str]] = []
    for stream, intervals in per_stream.items():
        for a, b in intervals:
            points += [(a, 1, stream), (b, -1, stream)]
    points.sort(key=lambda p: (p[0], p[1]))  # at equal times, ends before starts
    in_flight: dict[str, int] = {}
    busy = concurrent = 0.0
    last = None
    for t, delta, stream in points:
        if last is not None:
            active = sum(1 for n in in_flight.values() if n > 0)
            busy += (t - last) if active >= 1 else 0.0
            concurrent += (t - last) if active >= 2 else 0.0
        in_flight[stream] = in_flight.get(stream, 0) + delta
        last = t
    streams = {s: {"activities": len(iv), "busy_s": _union_length(iv) / 1e6} for s, iv in sorted(per_stream.items())}
    return {
        "busy_s": busy / 1e6,
        "concurrent_s": concurrent / 1e6,
        "concurrent_fraction": concurrent / busy if busy > 0 else 0.0,
        "streams": streams,
    }


def child_profile(trace_dir: str, iterations: int, warmup: int, argv: list[str]) -> int:
    """Run the trainer in this process under torch.profiler, one profiler step per published policy version."""
    import torch
    from isaac_hydra_ext.sampling.async_inprocess import AsyncInProcessSampler
    from isaac_hydra_ext.sampling.samplers import InProcessSampler

    hydra = argv[:1] == ["--hydra"]
    mode = next((a.split("=")[1] for a in argv if a.startswith("ppo.mode=")), None) or argv[argv.index("--mode") + 1]
    Path(trace_dir).mkdir(parents=True, exist_ok=True)
    # GPU activity only where there is a GPU (what the overlap is computed from; CPU-op traces of a training run
    # are large); on a CPU-only machine the CPU ops, to have a timeline at all.
    cuda = torch.cuda.is_available()
    activities = [torch.profiler.ProfilerActivity.CUDA if cuda else torch.profiler.ProfilerActivity.CPU]
    prof = torch.profiler.profile(
        activities=activities,
        schedule=torch.profiler.schedule(wait=max(0, warmup - 1), warmup=1, active=iterations, repeat=1),
        on_trace_ready=lambda p: p.export_chrome_trace(os.path.join(trace_dir, f"trace_{mode}_{os.getpid()}.json")),
    )
    for cls in (AsyncInProcessSampler, InProcessSampler):
        original = cls.publish

        def publish(self, _original=original) -> int:
            version = _original(self)
            prof.step()
            return version

        cls.publish = publish
    prof.start()
    try:
        if hydra:
            sys.argv = ["appo_runner", *argv[1:]]
            from isaac_hydra_ext.cli.train import main

            main()
            code = 0
        else:
            sys.argv = [argv[0], *argv[1:]]
            from isaac_hydra_ext.isaaclab.train import main_train

            code = main_train(argv[1:])
    finally:
        prof.stop()
    return code


# ---- report -------------------------------------------------------------------------------------------------
def fmt(value: float, spec: str) -> str:
    """``value`` formatted with ``spec``, or ``-`` when it was not measured (NaN: no in-process collector)."""
    return "-" if math.isnan(value) else format(value, spec)


def table(results: dict) -> str:
    """One row per setup: medians over the repeats."""
    rows = []
    workers = sorted((k for k in results["runs"] if k.startswith("workers=")), key=lambda k: int(k.split("=")[1]))
    for mode in [m for m in (*MODES, *workers) if m in results["runs"]]:
        runs = results["runs"][mode]
        if not runs:
            continue

        def med(key: str, runs=runs) -> float:
            return median([r[key] for r in runs])

        row = [
            mode,
            len(runs),
            fmt(med("iteration_s"), ".3f"),
            fmt(med("env_steps_per_s"), ",.0f"),
            fmt(med("learner_wait_s"), ".3f"),
            fmt(med("learn_s"), ".3f"),
            fmt(med("collector_busy_s"), ".3f"),
            fmt(med("overlap"), ".2f"),
            fmt(med("lag"), ".2f"),
        ]
        gpu = [r["gpu"] for r in results.get("profiled", {}).get(mode, []) if r.get("gpu")]
        row.append(f"{median([g['concurrent_fraction'] for g in gpu]):.2f}" if gpu else "-")
        rows.append(row)
    header = [
        "setup",
        "runs",
        "iteration s",
        "env steps/s",
        "learner wait s",
        "learn s",
        "collector busy s",
        "overlap",
        "lag",
        "GPU concurrent",
    ]
    text = markdown_table(header, rows)
    sync, asyn = results["runs"].get("sync"), results["runs"].get("async")
    if sync and asyn:
        speedup = median([r["iteration_s"] for r in sync]) / median([r["iteration_s"] for r in asyn])
        text += f"\n\nasync / sync throughput: {speedup:.2f}x"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="mujoco_go1", help="Hydra env preset (when no --task).")
    parser.add_argument("--envs", type=int, default=0, help="ppo.envs_per_worker with --preset (0: the preset's).")
    parser.add_argument("--task", default="", help="Isaac Lab task id (runs the Isaac Lab train script).")
    parser.add_argument("--num-envs", type=int, default=0, help="--num_envs of the Isaac Lab task (0: its config's).")
    parser.add_argument("--device", default="cpu", help="Learner (and Isaac Lab sim) device.")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3, help="Iterations left out of the medians.")
    parser.add_argument("--repeats", type=int, default=2, help="Runs per setup, alternating the setups.")
    parser.add_argument("--workers", default="", help="Also N worker processes (async), e.g. 1,2,4; total envs fixed.")
    parser.add_argument("--timeout", type=float, default=3600.0, help="Seconds one run may take.")
    parser.add_argument("--profile", default="", help="Folder for torch.profiler traces (one profiled run per mode).")
    parser.add_argument("--profile-iterations", type=int, default=5)
    parser.add_argument("--out", default="", help="Write the results as JSON.")
    parser.add_argument("--no-doc", action="store_true", help="Do not append to docs/benchmarks.md.")
    parser.add_argument("--from", dest="from_file", default="", help="Append the results of this JSON file.")
    parser.add_argument("--note", default="", help="A remark printed under the table (e.g. the machine's load).")
    parser.add_argument("--child-profile", default="", help=argparse.SUPPRESS)
    parser.add_argument("overrides", nargs="*", help="Extra overrides for every run (after --).")
    if "--child-profile" in sys.argv:
        split = sys.argv.index("--")
        args = parser.parse_args(sys.argv[1:split])
        return child_profile(args.child_profile, args.profile_iterations, args.warmup, sys.argv[split + 1 :])
    args = parser.parse_args()
    if args.from_file:
        results = json.loads(Path(args.from_file).read_text())
    else:
        results = {
            "machine": machine(),
            "versions": versions("torch", "mujoco"),
            "commit": git_commit(),
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "config": {k: v for k, v in vars(args).items() if k not in ("from_file", "child_profile")},
            "runs": {setup: [] for setup in setups(args)},
        }
        for _ in range(args.repeats):
            for setup in setups(args):
                result = run_once(args, setup)
                results["runs"][setup].append(result)
                print(f"{setup}: {json.dumps(result)}", flush=True)
        if args.profile:
            for mode in MODES:
                result = run_once(args, mode, profile=Path(args.profile).resolve())
                results.setdefault("profiled", {}).setdefault(mode, []).append(result)  # timings skewed: apart
                print(f"{mode} (profiled): {json.dumps(result)}", flush=True)
    text = table(results)
    note = args.note or results.get("note", "")
    if note:
        results["note"] = note
        text += f"\n\n{note}"
    print(text)
    if args.out:
        write_json(args.out, results)
    if not args.no_doc:
        cfg = results["config"]
        total = cfg["num_envs"] if cfg["task"] else cfg["envs"]
        what = (cfg["task"] or cfg["preset"]) + (f", {total} envs" if total else "")
        what += "".join(f", {o}" for o in cfg.get("overrides", []))
        append_entry(
            SECTION,
            f"{what}, {cfg['device']}",
            text,
            command=results.get("command"),
            measured=results if args.from_file else None,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
