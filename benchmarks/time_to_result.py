"""Wall time until a training run reaches a result: our APPO or rsl_rl, on the Go1 task or HalfCheetah.

Each trainer writes ``metrics.jsonl`` (one line per iteration); this script starts the trainer, watches the file,
and stops the run (SIGINT: our trainer saves a checkpoint and exits 0) once the goal is met or the budget is spent.

Goals:
* ``walk`` (Go1): the Go1 issue's definition of walking — over the last 100 finished episodes the mean episode
  length is at least 90% of the maximum (1000 steps) and the per-step linear-velocity tracking reward
  (``Metrics/lin_vel_tracking``, 1.0 = perfect) is at least 75% of its maximum;
* ``return:<x>``: the mean return of the last 100 episodes is at least x (HalfCheetah: 3000).

It also samples the resident memory of every process of the run (learner and workers) so memory can be checked
for growth. Examples (16-core machine with a GPU)::

    python benchmarks/time_to_result.py --trainer appo --goal walk --minutes 6 --out /tmp/r/appo_go1 -- \\
        env=mujoco_go1 ppo.num_workers=15 ppo.envs_per_worker=256
    python benchmarks/time_to_result.py --trainer rsl_rl --goal walk --minutes 6 --out /tmp/r/rsl_go1 -- \\
        --task go1 --num_envs 4096 --threads 16
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
from common import git_commit, machine, versions

HERE = Path(__file__).resolve().parent
MAX_EPISODE_LENGTH = 1000


def walking(lines: list[dict]) -> tuple[bool, float, float]:
    """(walking?, mean episode length, lin-vel tracking) over the last 100 episodes of a metrics log."""
    if not lines:
        return False, 0.0, 0.0
    length = lines[-1].get("train/mean_episode_length", 0.0)
    weight = total = 0.0
    for line in reversed(lines):  # the most recent iterations that together ended >= 100 episodes
        eps = line.get("train/episodes", 0.0)
        if "Metrics/lin_vel_tracking" in line and eps > 0:
            total += line["Metrics/lin_vel_tracking"] * eps
            weight += eps
        if weight >= 100:
            break
    tracking = total / weight if weight else 0.0
    return (weight >= 100 and length >= 0.9 * MAX_EPISODE_LENGTH and tracking >= 0.75), length, tracking


def read_metrics(path: Path) -> list[dict]:
    """All complete lines of a metrics.jsonl file."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return out


def tree_rss_mb(proc: psutil.Process) -> dict[str, float]:
    """Resident memory (MB) of a process and each descendant, keyed by pid and name."""
    out = {}
    for p in [proc, *proc.children(recursive=True)]:
        try:
            name = "learner" if p.pid == proc.pid else ("worker" if "spawn_main" in " ".join(p.cmdline()) else p.name())
            out[f"{p.pid}:{name}"] = round(p.memory_info().rss / 2**20, 1)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return out


def run(trainer: str, goal: str, minutes: float, out: Path, extra: list[str]) -> dict:
    """Train until ``goal`` or ``minutes``; return the curve, the time to the goal and the memory samples."""
    out.mkdir(parents=True, exist_ok=True)
    # Start clean: a metrics log left in --out by an earlier run would be read as this run's progress.
    shutil.rmtree(out / "run", ignore_errors=True)
    (out / "result.json").unlink(missing_ok=True)
    if trainer == "appo":
        cmd = [sys.executable, "-m", "isaac_hydra_ext.appo_runner", f"experiment.output_dir={out}",
               "experiment.name=run", "hydra.run.dir=" + str(out / "run"), "experiment.max_env_steps=0",
               "checkpoint.every_iterations=0", *extra]
        metrics_path = out / "run" / "metrics.jsonl"
    else:
        cmd = [sys.executable, str(HERE / "rsl_rl_train.py"), "--out", str(out / "run"), "--minutes", str(minutes + 1),
               *extra]
        metrics_path = out / "run" / "metrics.jsonl"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    log = open(out / "train.log", "w")
    start = time.time()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    ps = psutil.Process(proc.pid)
    reached_at = None
    memory = []
    last_mem = 0.0
    detected_at = None
    while proc.poll() is None and time.time() - start < minutes * 60:
        time.sleep(0.5)
        lines = read_metrics(metrics_path)
        if time.time() - last_mem > 15:
            memory.append({"t": round(time.time() - start, 1), "rss_mb": tree_rss_mb(ps)})
            last_mem = time.time()
        if not lines:
            continue
        if goal == "walk":
            done, _, _ = walking(lines)
        else:
            done = lines[-1].get("train/mean_return", -1e18) >= float(goal.split(":", 1)[1])
        if done:
            reached_at, detected_at = lines[-1], time.time() - start
            break
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
    log.close()
    lines = read_metrics(metrics_path)
    curve = []
    for i, line in enumerate(lines):
        _, length, tracking = walking(lines[: i + 1])
        curve.append({"t": line.get("wall_time_s"), "steps": line.get("env_steps"),
                      "return": line.get("train/mean_return"), "length": length, "lin_tracking": tracking,
                      "sps": line.get("perf/env_steps_per_s")})
    result = {"trainer": trainer, "goal": goal, "command": " ".join(cmd), "budget_min": minutes,
              "reached": reached_at is not None,
              # from launching the process (imports, env construction and worker start-up included)
              "time_to_goal_s": round(detected_at, 1) if detected_at is not None else None,
              # by the trainer's own clock (ours: from the start of training; rsl_rl: after building its env)
              "trainer_time_to_goal_s": reached_at.get("wall_time_s") if reached_at else None,
              "steps_to_goal": reached_at.get("env_steps") if reached_at else None,
              "final": curve[-1] if curve else None, "curve": curve, "memory": memory,
              "process_wall_s": round(time.time() - start, 1), "machine": machine(),
              "versions": versions("torch", "mujoco", "gymnasium", "rsl_rl"), "commit": git_commit()}
    (out / "result.json").write_text(json.dumps(result, indent=1))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainer", choices=("appo", "rsl_rl"), required=True)
    parser.add_argument("--goal", required=True, help="walk | return:<threshold>")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="arguments for the trainer, after --")
    args = parser.parse_args()
    extra = args.extra[1:] if args.extra[:1] == ["--"] else args.extra
    r = run(args.trainer, args.goal, args.minutes, args.out, extra)
    final = r["final"] or {}
    print(json.dumps({k: r[k] for k in ("trainer", "goal", "reached", "time_to_goal_s", "steps_to_goal")}
                     | {"final": final}), flush=True)


if __name__ == "__main__":
    main()
