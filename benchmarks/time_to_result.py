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
from collections.abc import Callable
from pathlib import Path

import psutil
from common import git_commit, machine, versions

HERE = Path(__file__).resolve().parent
MAX_EPISODE_LENGTH = 1000


def mujoco_tracking(line: dict) -> float | None:
    """The MuJoCo Go1 env's per-step linear-velocity tracking of the episodes that ended (1.0 = perfect)."""
    return line.get("Metrics/lin_vel_tracking")


def isaaclab_tracking(
    key: str = "Episode_Reward/track_lin_vel_xy_exp", weight: float = 1.5
) -> Callable[[dict], float | None]:
    """Read an Isaac Lab task's logged tracking term as a fraction of its maximum.

    Isaac Lab logs ``Episode_Reward/<term>`` as the ending episodes' sum of ``weight * kernel * step_dt`` divided by
    the episode limit in seconds, so a full-length episode of perfect tracking logs ``weight`` (1.5 for the Go1
    ``track_lin_vel_xy_exp``): the fraction is the kernel averaged over the episode limit.
    """

    def read(line: dict) -> float | None:
        return line[key] / weight if key in line else None

    return read


def walking(
    lines: list[dict],
    max_episode_length: int = MAX_EPISODE_LENGTH,
    tracking: Callable[[dict], float | None] = mujoco_tracking,
) -> tuple[bool, float, float]:
    """(walking?, mean episode length, lin-vel tracking) over the last 100 episodes of a metrics log.

    ``tracking`` reads a line's linear-velocity tracking as a fraction of its maximum (default: the MuJoCo Go1
    env's ``Metrics/lin_vel_tracking``; :func:`isaaclab_tracking` for Isaac Lab tasks). Walking: at least 100
    episodes seen, the latest mean episode length >= 90% of ``max_episode_length`` and the episode-weighted
    tracking of the most recent iterations that together ended >= 100 episodes >= 0.75.
    """
    if not lines:
        return False, 0.0, 0.0
    # the latest mean episode length (a line without one ended no episode since the trainer started or resumed)
    length = next((ln["train/mean_episode_length"] for ln in reversed(lines) if "train/mean_episode_length" in ln), 0.0)
    weight = total = 0.0
    for line in reversed(lines):  # the most recent iterations that together ended >= 100 episodes
        eps = line.get("train/episodes", 0.0)
        value = tracking(line)
        if value is not None and eps > 0:
            total += value * eps
            weight += eps
        if weight >= 100:
            break
    tracking_mean = total / weight if weight else 0.0
    ok = weight >= 100 and length >= 0.9 * max_episode_length and tracking_mean >= 0.75
    return ok, length, tracking_mean


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


def watch(
    cmd: list[str],
    metrics_glob: str,
    done: Callable[[list[dict]], bool],
    budget_s: float,
    out: Path,
    cwd: Path | None = None,
    env: dict | None = None,
) -> tuple[dict, list[dict]]:
    """Run ``cmd`` until ``done(metrics lines)`` or ``budget_s`` seconds from launch; stop it with SIGINT.

    ``metrics_glob`` (relative to ``out``) finds the run's ``metrics.jsonl`` once the trainer has created it (the
    newest match is read); ``cwd`` is the trainer's working directory (default: this process's). The trainer's
    output goes to ``out/train.log``. Returns the facts of the run (time to the goal from launch, the line that met
    it, resident memory samples, exit code) and every metrics line.
    """
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ if env is None else env, PYTHONUNBUFFERED="1")
    log = open(out / "train.log", "w")
    start = time.time()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    ps = psutil.Process(proc.pid)
    reached_at = detected_at = metrics_path = None
    memory, last_mem = [], 0.0
    while proc.poll() is None and time.time() - start < budget_s:
        time.sleep(0.5)
        if metrics_path is None:
            found = sorted(out.glob(metrics_glob), key=lambda p: p.stat().st_mtime)
            metrics_path = found[-1] if found else None
        if time.time() - last_mem > 15:
            memory.append({"t": round(time.time() - start, 1), "rss_mb": tree_rss_mb(ps)})
            last_mem = time.time()
        lines = read_metrics(metrics_path) if metrics_path else []
        if lines and done(lines):
            reached_at, detected_at = lines[-1], time.time() - start
            break
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log.close()
    if metrics_path is None:
        found = sorted(out.glob(metrics_glob), key=lambda p: p.stat().st_mtime)
        metrics_path = found[-1] if found else None
    facts = {
        "command": " ".join(cmd),
        "reached": reached_at is not None,
        # from launching the process (imports, env construction and worker start-up included)
        "time_to_goal_s": round(detected_at, 1) if detected_at is not None else None,
        "reached_line": reached_at,
        "memory": memory,
        "process_wall_s": round(time.time() - start, 1),
        "returncode": proc.returncode,
        "metrics_path": str(metrics_path) if metrics_path else None,
    }
    return facts, read_metrics(metrics_path) if metrics_path else []


def run(trainer: str, goal: str, minutes: float, out: Path, extra: list[str]) -> dict:
    """Train until ``goal`` or ``minutes``; return the curve, the time to the goal and the memory samples."""
    out.mkdir(parents=True, exist_ok=True)
    # Start clean: a metrics log left in --out by an earlier run would be read as this run's progress.
    shutil.rmtree(out / "run", ignore_errors=True)
    (out / "result.json").unlink(missing_ok=True)
    if trainer == "appo":
        cmd = [
            sys.executable,
            "-m",
            "isaac_hydra_ext.appo_runner",
            f"experiment.output_dir={out}",
            "experiment.name=run",
            "hydra.run.dir=" + str(out / "run"),
            "experiment.max_env_steps=0",
            "checkpoint.every_iterations=0",
            *extra,
        ]
    else:
        cmd = [
            sys.executable,
            str(HERE / "rsl_rl_train.py"),
            "--out",
            str(out / "run"),
            "--minutes",
            str(minutes + 1),
            *extra,
        ]
    if goal == "walk":
        done = lambda lines: walking(lines)[0]  # noqa: E731
    else:
        threshold = float(goal.split(":", 1)[1])
        done = lambda lines: lines[-1].get("train/mean_return", -1e18) >= threshold  # noqa: E731
    facts, lines = watch(cmd, "run/metrics.jsonl", done, minutes * 60, out)
    reached_at = facts["reached_line"]
    curve = []
    for i, line in enumerate(lines):
        _, length, tracking = walking(lines[: i + 1])
        curve.append(
            {
                "t": line.get("wall_time_s"),
                "steps": line.get("env_steps"),
                "return": line.get("train/mean_return"),
                "length": length,
                "lin_tracking": tracking,
                "sps": line.get("perf/env_steps_per_s"),
            }
        )
    result = {
        "trainer": trainer,
        "goal": goal,
        "command": facts["command"],
        "budget_min": minutes,
        "reached": facts["reached"],
        # from launching the process (imports, env construction and worker start-up included)
        "time_to_goal_s": facts["time_to_goal_s"],
        # by the trainer's own clock (ours: from the start of training; rsl_rl: after building its env)
        "trainer_time_to_goal_s": reached_at.get("wall_time_s") if reached_at else None,
        "steps_to_goal": reached_at.get("env_steps") if reached_at else None,
        "final": curve[-1] if curve else None,
        "curve": curve,
        "memory": facts["memory"],
        "process_wall_s": facts["process_wall_s"],
        "machine": machine(),
        "versions": versions("torch", "mujoco", "gymnasium", "rsl_rl"),
        "commit": git_commit(),
    }
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
    print(
        json.dumps(
            {k: r[k] for k in ("trainer", "goal", "reached", "time_to_goal_s", "steps_to_goal")} | {"final": final}
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
