"""Isaac Lab Newton Go1: APPO variants against rsl_rl, on one machine, in one invocation.

Both trainers run Isaac Lab 3.0's Go1 task kit-less on Newton (our MJCF Go1, docs/isaaclab.md) through their train
scripts, each in its own process (Isaac Lab allows one simulation per process), one after the other:

* APPO: ``scripts/reinforcement_learning/appo/train.py`` (the task's ``appo_cfg_entry_point``);
* rsl_rl: ``scripts/reinforcement_learning/rsl_rl/train.py`` (rsl_rl's ``OnPolicyRunner`` through Isaac Lab's
  ``RslRlVecEnvWrapper`` with the task's ``rsl_rl_cfg_entry_point``).

Both write ``metrics.jsonl`` with the same keys; :mod:`time_to_result` watches it and stops a run. Parts
(``--parts``):

* ``ceiling``: env steps/s of the flat env with random actions (``benchmarks/newton_go1.py --parts env``), the
  most any trainer can collect at that env count on this machine.
* ``flat``: the flat task (``--num-envs``, default 4096), every variant of :data:`VARIANTS` in
  ``--variants`` once per repeat (``--repeats``; a repeat runs all variants in turn, so each repeat is a paired
  comparison), each until it walks or ``--wall`` seconds from launch. Walking is the MuJoCo Go1 benchmark's
  criterion (:func:`time_to_result.walking`): over the last 100 episodes the mean episode length is at least 90%
  of the limit (1000 steps) and the linear-velocity tracking is at least 75% of its maximum. The tracking is
  Isaac Lab's logged ``Episode_Reward/track_lin_vel_xy_exp`` over its maximum, the term's weight (1.5 for Go1):
  Isaac Lab logs each episode's weighted sum divided by the episode limit in seconds, so the fraction is the
  tracking kernel ``exp(-|v_cmd - v|^2 / 0.25)`` averaged over the episode limit (seconds after a fall count as
  zero); for episodes at >= 90% of the limit it is within 10% of the MuJoCo benchmark's per-step average.
  Reported per variant: time to walk (from launch, and by the trainer's clock), samples to walk, steady env
  steps/s (after the first iteration) and its fraction of the ceiling; medians over the repeats, and each APPO
  variant's speed-up over rsl_rl in the same repeat.
* ``rough``: the rough task (``Isaac-Velocity-Sber-Unitree-Go1-Newton-v0``), APPO (``--rough-appo``) and rsl_rl
  for the same training wall time (``--rough-wall`` seconds each, by the trainer's own clock), with the terrain
  curriculum level (``Curriculum/terrain_levels``), the tracking reward and the episode length over time, and a
  plot. A run that cannot hold the wall time continues in the next call: each call leaves ``rough_appo.pt`` and
  ``rough_rsl_rl.pt`` in ``--out-dir`` and in ``--workdir``; ``--rough-resume last`` continues from the previous
  call's on a machine that stayed warm, ``--rough-resume DIR`` from carried ones (model, optimizer, iteration,
  env steps and training clock continue; the report concatenates the calls' curves).

Variant command lines are the table :data:`VARIANTS` (edit it to change what a variant passes). Each run gets a
fresh working directory under ``--workdir``; a run's budget is its ``--wall`` (flat) or ``--rough-wall`` plus
``--startup-grace`` (rough). ``--deadline`` skips runs that would end after that many seconds from the start, so a
call of bounded length still writes its results; the JSON is rewritten after every run.

Output (``--out-dir``, at most 4 files, for a device call's ``$OUT``): ``newton_vs_rsl_rl[_<tag>].json``
(machine, versions, commit, command, every run's curve), ``newton_rough[_<tag>].png`` and the two rough
checkpoints. Here, ``--from A.json [B.json ...]`` merges the calls' JSON files (flat runs pooled, rough curves
concatenated), appends an entry to docs/benchmarks.md and writes docs/newton_go1_rough_curves.png.

Usage::

    python benchmarks/isaaclab_newton_vs_rsl_rl.py --device cuda --parts ceiling,flat --wall 150 --repeats 1 \\
        --out-dir $OUT --deadline 520
    python benchmarks/isaaclab_newton_vs_rsl_rl.py --device cuda --parts rough --rough-wall 200 --out-dir $OUT
    python benchmarks/isaaclab_newton_vs_rsl_rl.py --from call1.json call2.json      # here: docs entry + plot
    python benchmarks/isaaclab_newton_vs_rsl_rl.py --device cpu --num-envs 16 --variants rsl_rl,appo --wall 60 \\
        --repeats 1 --parts flat --out-dir /tmp/bench                                # a CPU smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import time_to_result  # noqa: E402
from common import REPO, append_entry, git_commit, machine, markdown_table, write_json  # noqa: E402

FLAT_TASK = "Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-v0"
ROUGH_TASK = "Isaac-Velocity-Sber-Unitree-Go1-Newton-v0"
SECTION = "APPO vs rsl_rl on Isaac Lab Newton Go1"
APPO_SCRIPT = "scripts/reinforcement_learning/appo/train.py"
RSL_RL_SCRIPT = "scripts/reinforcement_learning/rsl_rl/train.py"
TRACK_KEY = "Episode_Reward/track_lin_vel_xy_exp"
TERRAIN_KEY = "Curriculum/terrain_levels"
GO1_TRACK_WEIGHT = 1.5
"""Weight of ``track_lin_vel_xy_exp`` in Isaac Lab's Go1 configs (and ours): the logged term's maximum."""
MAX_EPISODE_LENGTH = 1000
"""Go1's episode limit in policy steps: 20 s at 50 Hz."""
RESULT_FILE = "newton_vs_rsl_rl.json"
ROUGH_LAST = "rough_last"
ROUGH_PLOT = "newton_rough.png"
DOC_PLOT = "newton_go1_rough_curves.png"
CURVE_POINTS = 80
STOP_MARGIN_S = 15.0
"""Allowed, per run, for a trainer to stop after its budget (save a checkpoint, close the simulation)."""


@dataclass(frozen=True)
class Variant:
    """One trainer configuration: which script, and what it gets beyond the common arguments."""

    trainer: str
    """``appo`` or ``rsl_rl``."""
    label: str
    """Name in tables and plots."""
    args: tuple[str, ...] = ()
    """Extra command-line arguments; ``{num_envs}`` and ``{per_worker}`` (num_envs // workers) are filled in."""
    workers: int = 0
    """Worker processes (for ``{per_worker}``; 0: in-process)."""


VARIANTS: dict[str, Variant] = {
    "rsl_rl": Variant("rsl_rl", "rsl_rl OnPolicyRunner"),
    "appo_sync": Variant("appo", "APPO sync, in-process", ("--num_workers", "0", "--mode", "sync")),
    "appo_async": Variant("appo", "APPO async, in-process", ("--num_workers", "0", "--mode", "async")),
    "appo_w2": Variant("appo", "APPO, 2 workers", ("--num_workers", "2", "agent.envs_per_worker={per_worker}"), 2),
    "appo_w4": Variant("appo", "APPO, 4 workers", ("--num_workers", "4", "agent.envs_per_worker={per_worker}"), 4),
    "appo": Variant("appo", "APPO (task default)"),
}
"""The trainers compared. The common arguments are ``--task --device --num_envs --max_iterations`` and the
trainer's own wall-time limit; the issue's set is the first five (``--variants`` default)."""
DEFAULT_VARIANTS = "rsl_rl,appo_sync,appo_async,appo_w2,appo_w4"


# ---- building and running one trainer ---------------------------------------------------------------------------
def command(
    variant: Variant, task: str, device: str, num_envs: int, wall_s: float, checkpoint: str | None = None
) -> list[str]:
    """The command line of one run (the trainer also stops itself after ``wall_s`` seconds of training)."""
    script = APPO_SCRIPT if variant.trainer == "appo" else RSL_RL_SCRIPT
    cmd = [
        sys.executable,
        str(REPO / script),
        "--task",
        task,
        "--device",
        device,
        "--num_envs",
        str(num_envs),
        "--max_iterations",
        "1000000",
    ]
    cmd += (
        [f"agent.max_wall_time_s={float(wall_s)}"]
        if variant.trainer == "appo"
        else ["--max_wall_time_s", str(float(wall_s))]
    )
    if checkpoint:
        cmd += ["--checkpoint", checkpoint]
    per_worker = num_envs // max(variant.workers, 1)
    cmd += [a.format(num_envs=num_envs, per_worker=per_worker) for a in variant.args]
    return cmd


def metrics_glob(variant: Variant) -> str:
    """Where the trainer writes ``metrics.jsonl``, relative to its working directory."""
    return f"logs/{variant.trainer}/*/*/metrics.jsonl"


def child_env() -> dict[str, str]:
    """The trainers' environment: this checkout's package first on ``PYTHONPATH``, unbuffered output."""
    path = [str(REPO / "source" / "isaac_hydra_ext")] + [p for p in os.environ.get("PYTHONPATH", "").split(":") if p]
    return dict(os.environ, PYTHONPATH=":".join(path), PYTHONUNBUFFERED="1")


def isaaclab_walking(lines: list[dict], weight: float = GO1_TRACK_WEIGHT) -> tuple[bool, float, float]:
    """The shared walking criterion on an Isaac Lab metrics log (see the module docstring)."""
    return time_to_result.walking(lines, MAX_EPISODE_LENGTH, time_to_result.isaaclab_tracking(TRACK_KEY, weight))


def carried(lines: list[dict]) -> list[dict]:
    """The lines with each key's last value carried forward (episode terms appear only when episodes ended)."""
    out, last = [], {}
    for line in lines:
        last.update(line)
        out.append(dict(last))
    return out


def steady_rate(lines: list[dict]) -> float | None:
    """Env steps/s by the trainer's clock after its first iteration (compilation and graph capture left out)."""
    if len(lines) < 3:
        return None
    a, b = lines[0], lines[-1]
    dt = b["wall_time_s"] - a["wall_time_s"]
    return (b["env_steps"] - a["env_steps"]) / dt if dt > 0 else None


def thin(points: list[dict], n: int = CURVE_POINTS) -> list[dict]:
    """At most ``n`` evenly spaced points, the first and last kept."""
    if len(points) <= n:
        return points
    picks = sorted({round(i * (len(points) - 1) / (n - 1)) for i in range(n)})
    return [points[i] for i in picks]


def flat_summary(lines: list[dict], facts: dict, weight: float) -> dict:
    """What a flat run reports: time and samples to walk, steady rate, final state and a thinned curve."""
    reached = facts["reached_line"]
    curve = []
    for i, line in enumerate(lines):
        _, length, tracking = isaaclab_walking(lines[: i + 1], weight)
        curve.append(
            {
                "t": line.get("wall_time_s"),
                "steps": line.get("env_steps"),
                "length": round(length, 1),
                "tracking": round(tracking, 4),
                "return": line.get("train/mean_return"),
            }
        )
    return {
        "reached": facts["reached"],
        "time_to_walk_s": facts["time_to_goal_s"],
        "trainer_time_to_walk_s": reached.get("wall_time_s") if reached else None,
        "steps_to_walk": reached.get("env_steps") if reached else None,
        "first_iteration_s": lines[0].get("wall_time_s") if lines else None,
        "steady_steps_per_s": round(steady_rate(lines)) if steady_rate(lines) else None,
        "iterations": len(lines),
        "final": curve[-1] if curve else None,
        "curve": thin(curve),
    }


def rough_curve(lines: list[dict], weight: float) -> list[dict]:
    """Terrain level, tracking (fraction of its maximum), episode length and return over training time."""
    out = []
    for line in carried(lines):
        out.append(
            {
                "t": line.get("wall_time_s"),
                "steps": line.get("env_steps"),
                "terrain_level": line.get(TERRAIN_KEY),
                "tracking_reward": line.get(TRACK_KEY),
                "tracking": (line[TRACK_KEY] / weight) if TRACK_KEY in line else None,
                "length": line.get("train/mean_episode_length"),
                "return": line.get("train/mean_return"),
            }
        )
    return out


def log_tail(path: Path, chars: int = 3000) -> str:
    """The end of a run's console log (for failures)."""
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def run_one(
    name: str,
    variant: Variant,
    task: str,
    args: argparse.Namespace,
    wall_s: float,
    budget_s: float,
    run_dir: Path,
    done,
    checkpoint: str | None = None,
) -> tuple[dict, list[dict]]:
    """Launch one trainer in a fresh ``run_dir``, watch it, stop it; return its facts and metrics lines."""
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    cmd = command(variant, task, args.device, args.num_envs, wall_s, checkpoint)
    print(f"[bench] {name}: {' '.join(cmd[1:])}", flush=True)
    facts, lines = time_to_result.watch(
        cmd, metrics_glob(variant), done, budget_s, run_dir, cwd=run_dir, env=child_env()
    )
    facts = {k: v for k, v in facts.items() if k != "memory"} | {"peak_rss_mb": peak_rss(facts["memory"])}
    if not lines or facts["returncode"] not in (0, -2, 130):
        facts["log_tail"] = log_tail(run_dir / "train.log")
    return facts, lines


def peak_rss(memory: list[dict]) -> float | None:
    """Largest total resident memory of the run's processes over its samples (MB)."""
    totals = [sum(s["rss_mb"].values()) for s in memory if s.get("rss_mb")]
    return round(max(totals), 1) if totals else None


def newest_checkpoint(run_dir: Path, variant: Variant) -> Path | None:
    """The newest ``model_<it>.pt`` the trainer wrote in ``run_dir``."""
    models = list(run_dir.glob(f"logs/{variant.trainer}/*/*/model_*.pt"))
    return max(models, key=lambda p: p.stat().st_mtime) if models else None


# ---- parts --------------------------------------------------------------------------------------------------------
def part_ceiling(args: argparse.Namespace, work: Path) -> dict:
    """Random-action env steps/s of the flat env (``newton_go1.py --parts env``, its own process)."""
    out = work / "ceiling.json"
    cmd = [
        sys.executable,
        str(REPO / "benchmarks" / "newton_go1.py"),
        "--parts",
        "env",
        "--task",
        FLAT_TASK,
        "--device",
        args.device,
        "--num-envs",
        str(args.num_envs),
        "--seconds",
        str(args.ceiling_seconds),
        "--no-doc",
        "--out",
        str(out),
    ]
    print(f"[bench] ceiling: {' '.join(cmd[1:])}", flush=True)
    started = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=child_env())
    try:
        result = json.loads(out.read_text())["results"][0]
    except (OSError, ValueError, KeyError, IndexError):
        result = {"error": f"exit {proc.returncode}: {(proc.stdout + proc.stderr)[-2000:]}"}
    result["command"] = " ".join(cmd)
    result["process_s"] = round(time.time() - started, 1)
    return result


class Bench:
    """One invocation: the runs done so far, written to ``--out-dir`` after each one."""

    def __init__(self, args: argparse.Namespace, argv: list[str]):
        self.args = args
        self.started = time.time()
        self.work = Path(args.workdir)
        self.out_dir = Path(args.out_dir) if args.out_dir else None
        self.data = {
            "machine": machine(),
            "versions": bench_versions(),
            "commit": git_commit(),
            "command": " ".join(["python", "benchmarks/isaaclab_newton_vs_rsl_rl.py", *argv]),
            "settings": {
                "device": args.device,
                "num_envs": args.num_envs,
                "wall_s": args.wall,
                "rough_wall_s": args.rough_wall,
                "repeats": args.repeats,
                "variants": args.variants,
                "tracking_weight": args.tracking_weight,
            },
            "variants": {
                k: {"trainer": v.trainer, "label": v.label, "args": list(v.args)} for k, v in VARIANTS.items()
            },
            "ceiling": None,
            "flat": [],
            "rough": [],
            "skipped": [],
        }

    def fits(self, name: str, budget_s: float) -> bool:
        """Whether a run of ``budget_s`` seconds (plus :data:`STOP_MARGIN_S` to stop and save) still ends before
        ``--deadline``; records a skip otherwise."""
        if self.args.deadline <= 0 or time.time() - self.started + budget_s + STOP_MARGIN_S <= self.args.deadline:
            return True
        self.data["skipped"].append(name)
        print(f"[bench] skipped {name}: it would end after the deadline ({self.args.deadline:.0f} s)", flush=True)
        return False

    def save(self) -> None:
        """Rewrite the result file (after every run, so a call cut short still returns what it measured)."""
        self.data["elapsed_s"] = round(time.time() - self.started, 1)
        if self.out_dir:
            write_json(self.out_dir / tagged(RESULT_FILE, self.args.tag), self.data)

    def ceiling(self) -> None:
        """Measure the random-action ceiling."""
        if self.fits("ceiling", self.args.ceiling_seconds * 2 + 60):
            self.data["ceiling"] = part_ceiling(self.args, self.work)
            self.save()

    def flat(self) -> None:
        """Every variant once per repeat, each until walking or ``--wall`` seconds from launch."""
        names = [n.strip() for n in self.args.variants.split(",") if n.strip()]
        for repeat in range(self.args.repeat_offset, self.args.repeat_offset + self.args.repeats):
            for name in names:
                if not self.fits(f"flat/{name}/r{repeat}", self.args.wall):
                    continue
                variant = VARIANTS[name]
                weight = self.args.tracking_weight
                facts, lines = run_one(
                    name,
                    variant,
                    FLAT_TASK,
                    self.args,
                    self.args.wall,
                    self.args.wall,
                    self.work / "flat" / f"r{repeat}_{name}",
                    lambda ls, w=weight: isaaclab_walking(ls, w)[0],
                )
                entry = {
                    "variant": name,
                    "label": variant.label,
                    "trainer": variant.trainer,
                    "repeat": repeat,
                    "task": FLAT_TASK,
                    "num_envs": self.args.num_envs,
                    "wall_s": self.args.wall,
                    **{k: facts[k] for k in ("command", "process_wall_s", "returncode", "peak_rss_mb")},
                    **flat_summary(lines, facts, weight),
                }
                if "log_tail" in facts:
                    entry["log_tail"] = facts["log_tail"]
                self.data["flat"].append(entry)
                print(
                    f"[bench] {name} r{repeat}: reached={entry['reached']} t={entry['time_to_walk_s']} "
                    f"steps={entry['steps_to_walk']} sps={entry['steady_steps_per_s']}",
                    flush=True,
                )
                self.save()

    def rough(self) -> None:
        """APPO and rsl_rl on the rough task for the same training wall time; checkpoints for the next call."""
        resume = rough_resume_dir(self.args)
        last = self.work / ROUGH_LAST
        for name in (self.args.rough_appo, "rsl_rl"):
            variant = VARIANTS[name]
            budget = self.args.rough_wall + self.args.startup_grace
            if not self.fits(f"rough/{name}", budget):
                continue
            checkpoint = str((resume / f"rough_{variant.trainer}.pt").resolve()) if resume else None
            run_dir = self.work / "rough" / name
            facts, lines = run_one(
                name,
                variant,
                ROUGH_TASK,
                self.args,
                self.args.rough_wall,
                budget,
                run_dir,
                lambda ls: False,
                checkpoint,
            )
            entry = {
                "variant": name,
                "label": variant.label,
                "trainer": variant.trainer,
                "task": ROUGH_TASK,
                "num_envs": self.args.num_envs,
                "wall_s": self.args.rough_wall,
                "resumed_from": checkpoint,
                **{k: facts[k] for k in ("command", "process_wall_s", "returncode", "peak_rss_mb")},
                "steady_steps_per_s": round(steady_rate(lines)) if steady_rate(lines) else None,
                "curve": thin(rough_curve(lines, self.args.tracking_weight), 2 * CURVE_POINTS),
            }
            if "log_tail" in facts:
                entry["log_tail"] = facts["log_tail"]
            saved = newest_checkpoint(run_dir, variant)
            if saved:  # for the next call: on this machine (--rough-resume last) and in --out-dir
                for folder in [last] + ([self.out_dir] if self.out_dir else []):
                    folder.mkdir(parents=True, exist_ok=True)
                    shutil.copy(saved, folder / f"rough_{variant.trainer}.pt")
                entry["checkpoint"] = f"rough_{variant.trainer}.pt"
            self.data["rough"].append(entry)
            self.save()
        if self.out_dir and self.data["rough"]:
            plot_rough(
                rough_by_trainer(self.data["rough"]),
                self.out_dir / tagged(ROUGH_PLOT, self.args.tag),
                f"Go1 rough (Newton), {self.args.num_envs} envs, {self.args.device} "
                f"({self.data['machine']['gpu']}, {self.data['machine']['cpu']})",
            )


def tagged(name: str, tag: str) -> str:
    """``newton_vs_rsl_rl.json`` -> ``newton_vs_rsl_rl_<tag>.json`` (one name per device call)."""
    if not tag:
        return name
    stem, dot, ext = name.rpartition(".")
    return f"{stem}_{tag}{dot}{ext}"


def rough_resume_dir(args: argparse.Namespace) -> Path | None:
    """The folder of the checkpoints ``--rough-resume`` continues from (``last``: the previous call's, kept in
    ``--workdir`` on a machine that stayed warm); None for fresh runs."""
    if not args.rough_resume:
        return None
    return Path(args.workdir) / ROUGH_LAST if args.rough_resume == "last" else Path(args.rough_resume)


def bench_versions() -> dict[str, str]:
    """Python and the packages that decide these numbers."""
    import platform
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in ("torch", "warp-lang", "newton", "mujoco-warp", "mujoco", "isaaclab", "rsl-rl-lib", "tensordict"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


# ---- report -------------------------------------------------------------------------------------------------------
def _fmt(x, spec: str = ",.0f") -> str:
    return "-" if x is None else format(x, spec)


def _median(xs: list[float]) -> float | None:
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def flat_table(runs: list[dict], ceiling: dict | None) -> str:
    """One row per variant: medians over the repeats, and the paired speed-up over rsl_rl."""
    limit = (ceiling or {}).get("env_steps_per_s")
    rsl = {r["repeat"]: r for r in runs if r["variant"] == "rsl_rl"}
    rows = []
    for name in dict.fromkeys(r["variant"] for r in runs):
        mine = [r for r in runs if r["variant"] == name]
        reached = [r for r in mine if r["reached"]]
        sps = _median([r["steady_steps_per_s"] for r in mine])
        ratios = sorted(
            rsl[r["repeat"]]["time_to_walk_s"] / r["time_to_walk_s"]
            for r in reached
            if name != "rsl_rl" and r["repeat"] in rsl and rsl[r["repeat"]]["reached"]
        )
        speedup = (
            "-"
            if not ratios
            else (
                f"{statistics.median(ratios):.2f}" + (f" ({ratios[0]:.2f}-{ratios[-1]:.2f})" if len(ratios) > 1 else "")
            )
        )
        rows.append(
            [
                mine[0]["label"],
                f"{len(reached)}/{len(mine)}",
                _fmt(_median([r["time_to_walk_s"] for r in reached]), ".1f"),
                _fmt(_median([r["trainer_time_to_walk_s"] for r in reached]), ".1f"),
                _fmt(_median([r["steps_to_walk"] for r in reached])),
                _fmt(sps),
                _fmt(sps / limit if sps and limit else None, ".2f"),
                _fmt(_median([(r["final"] or {}).get("length") for r in mine]), ".0f"),
                _fmt(_median([(r["final"] or {}).get("tracking") for r in mine]), ".2f"),
                speedup,
            ]
        )
    return markdown_table(
        [
            "trainer",
            "walked",
            "time to walk (s, from launch)",
            "time to walk (s, trainer clock)",
            "env steps to walk",
            "env steps/s (steady)",
            "of ceiling",
            "final ep. length",
            "final tracking",
            "speed-up vs rsl_rl (paired)",
        ],
        rows,
    )


def flat_runs_table(runs: list[dict]) -> str:
    """Every flat run, for the record."""
    rows = [
        [
            r["repeat"],
            r["label"],
            "yes" if r["reached"] else f"no ({r['wall_s']:.0f} s)",
            _fmt(r["time_to_walk_s"], ".1f"),
            _fmt(r["steps_to_walk"]),
            _fmt(r["steady_steps_per_s"]),
            _fmt(r["first_iteration_s"], ".1f"),
            _fmt((r["final"] or {}).get("length"), ".0f"),
            _fmt((r["final"] or {}).get("tracking"), ".2f"),
            r["returncode"],
        ]
        for r in runs
    ]
    return markdown_table(
        [
            "repeat",
            "trainer",
            "walked",
            "time to walk (s)",
            "env steps to walk",
            "env steps/s",
            "first iteration (s)",
            "final ep. length",
            "final tracking",
            "exit",
        ],
        rows,
    )


def rough_by_trainer(runs: list[dict]) -> dict[str, dict]:
    """Rough runs of several calls joined per trainer: one curve ordered by training time (resumed clocks)."""
    out: dict[str, dict] = {}
    for r in runs:
        entry = out.setdefault(r["trainer"], {"label": r["label"], "curve": [], "calls": 0})
        entry["calls"] += 1
        seen = {p["t"] for p in entry["curve"]}
        entry["curve"] += [p for p in r["curve"] if p["t"] is not None and p["t"] not in seen]
        entry["curve"].sort(key=lambda p: p["t"])
    return out


def value_at(curve: list[dict], t: float, key: str):
    """The last value of ``key`` at or before training time ``t``."""
    value = None
    for p in curve:
        if p["t"] > t:
            break
        if p.get(key) is not None:
            value = p[key]
    return value


def rough_table(joined: dict[str, dict]) -> str:
    """Terrain level, tracking and episode length of each trainer at the same training times."""
    horizon = min((e["curve"][-1]["t"] for e in joined.values() if e["curve"]), default=0.0)
    rows = []
    for frac in (0.25, 0.5, 0.75, 1.0):
        t = horizon * frac
        for e in joined.values():
            rows.append(
                [
                    f"{t:.0f}",
                    e["label"],
                    _fmt(value_at(e["curve"], t, "steps")),
                    _fmt(value_at(e["curve"], t, "terrain_level"), ".2f"),
                    _fmt(value_at(e["curve"], t, "tracking_reward"), ".3f"),
                    _fmt(value_at(e["curve"], t, "length"), ".0f"),
                    _fmt(value_at(e["curve"], t, "return"), ".2f"),
                ]
            )
    return markdown_table(
        [
            "training time (s)",
            "trainer",
            "env steps",
            "terrain level",
            "track_lin_vel_xy_exp (max 1.5)",
            "mean ep. length",
            "mean return",
        ],
        rows,
    )


def plot_rough(joined: dict[str, dict], path: Path, title: str) -> None:
    """Terrain level, tracking reward and episode length against training wall time, one line per trainer."""
    try:
        import matplotlib
    except ImportError:
        print(f"[bench] matplotlib is not installed: no plot {path}", flush=True)
        return

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (
        ("terrain_level", "terrain curriculum level"),
        ("tracking_reward", "track_lin_vel_xy_exp (max 1.5)"),
        ("length", "mean episode length (steps)"),
    )
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    colors = {"appo": "tab:blue", "rsl_rl": "tab:orange"}
    for ax, (key, ylabel) in zip(axes, panels):
        for trainer, e in joined.items():
            pts = [p for p in e["curve"] if p.get(key) is not None]
            ax.plot([p["t"] for p in pts], [p[key] for p in pts], label=e["label"], color=colors.get(trainer))
        ax.set_xlabel("training wall time (s)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def merge(files: list[Path]) -> dict:
    """Several calls' result files as one: flat runs pooled, the last ceiling, rough runs in call order."""
    datas = [json.loads(Path(f).read_text()) for f in files]
    merged = dict(datas[-1])
    merged["ceiling"] = next((d["ceiling"] for d in reversed(datas) if d.get("ceiling")), None)
    merged["flat"] = [r for d in datas for r in d.get("flat", [])]
    merged["rough"] = [r for d in datas for r in d.get("rough", [])]
    merged["commands"] = [d["command"] for d in datas]
    merged["commits"] = sorted({d["commit"] for d in datas})
    return merged


def report(data: dict, doc: bool, plot_path: Path | None = None) -> str:
    """The markdown entry of (merged) results; appended to docs/benchmarks.md when ``doc``.

    The rough plot goes to ``plot_path``; by default to docs/ with ``doc``, nowhere without.
    """
    s = data["settings"]
    plot_path = plot_path or (REPO / "docs" / DOC_PLOT if doc else None)
    parts = [
        f"Task `{FLAT_TASK}` / `{ROUGH_TASK}` (Isaac Lab 3.0 kit-less, Newton MuJoCo-Warp, our MJCF Go1), "
        f"{s['num_envs']:,} envs, device {s['device']}. Both trainers ran on this machine in the same "
        "invocation, one after the other, through their train scripts (APPO: "
        f"`{APPO_SCRIPT}`; rsl_rl: `{RSL_RL_SCRIPT}`, Isaac Lab's `RslRlVecEnvWrapper` and the task's "
        "rsl_rl config). Walking: over the last 100 episodes, mean episode length >= 90% of 1000 steps and "
        f"`{TRACK_KEY}` >= 75% of its maximum ({s['tracking_weight']})."
    ]
    c = data.get("ceiling")
    if c and "error" not in c:
        parts.append(
            f"Random-action ceiling ({c['num_envs']:,} envs): **{c['env_steps_per_s']:,}** env steps/s "
            f"(Isaac Lab env), {c['adapter_steps_per_s']:,} through `IsaacLabVecEnv`."
        )
    elif c:
        parts.append(f"Ceiling: failed — `{c['error'][-400:]}`")
    if data.get("flat"):
        repeats = len({r["repeat"] for r in data["flat"]})
        parts.append(
            f"Flat, {repeats} paired repeat(s), each run at most {s['wall_s']:.0f} s from launch "
            "(medians; speed-up = rsl_rl's time to walk over the variant's, same repeat):\n\n"
            + flat_table(data["flat"], c)
            + "\n\nAll runs:\n\n"
            + flat_runs_table(data["flat"])
        )
    if data.get("rough"):
        joined = rough_by_trainer(data["rough"])
        calls = max(e["calls"] for e in joined.values())
        if plot_path is not None:
            plot_rough(joined, plot_path, f"Go1 rough (Newton), {s['num_envs']:,} envs")
        parts.append(
            f"Rough, same training wall time ({calls} call(s) of {s['rough_wall_s']:.0f} s per trainer, "
            "resumed from checkpoints between calls):\n\n"
            + rough_table(joined)
            + f"\n\n![Go1 rough: terrain level, tracking, episode length]({DOC_PLOT})"
        )
    if data.get("skipped"):
        parts.append("Skipped (deadline): " + ", ".join(data["skipped"]) + ".")
    body = "\n\n".join(parts)
    if doc:
        command = "; ".join(data.get("commands") or [data["command"]])
        title = f"{s['num_envs']:,} envs, {data['machine']['gpu']}"
        append_entry(SECTION, title, body, command=command, measured=data)
    return body


# ---- main ---------------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    """Run the parts, or (``--from``) turn result files into the docs entry."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--num-envs", type=int, default=4096)
    parser.add_argument("--parts", default="ceiling,flat,rough", help="comma-separated: ceiling, flat, rough")
    parser.add_argument("--variants", default=DEFAULT_VARIANTS, help=f"flat variants, of: {', '.join(VARIANTS)}")
    parser.add_argument("--repeats", type=int, default=2, help="paired repeats of the flat variants")
    parser.add_argument("--repeat-offset", type=int, default=0, help="number of the first repeat (split calls)")
    parser.add_argument("--wall", type=float, default=150.0, help="flat: seconds per run, from launch")
    parser.add_argument("--rough-wall", type=float, default=240.0, help="rough: training seconds per trainer")
    parser.add_argument("--rough-appo", default="appo_async", help="the APPO variant of the rough comparison")
    parser.add_argument(
        "--rough-resume",
        default="",
        help="continue the rough runs from DIR/rough_<trainer>.pt; 'last': the previous call's on this machine",
    )
    parser.add_argument(
        "--startup-grace", type=float, default=120.0, help="rough: seconds allowed for start-up on top of --rough-wall"
    )
    parser.add_argument("--ceiling-seconds", type=float, default=10.0)
    parser.add_argument("--tracking-weight", type=float, default=GO1_TRACK_WEIGHT)
    parser.add_argument("--deadline", type=float, default=0.0, help="skip runs that would end after this (s)")
    parser.add_argument("--workdir", default="/tmp/ihe_newton_bench")
    parser.add_argument("--out-dir", default="", help="write the result file, plot and rough checkpoints here")
    parser.add_argument("--tag", default="", help="suffix of the result file and plot names (e.g. the call)")
    parser.add_argument(
        "--from",
        dest="from_files",
        nargs="+",
        default=None,
        help="merge these result files and append the docs entry (nothing is run)",
    )
    parser.add_argument("--no-doc", action="store_true", help="with --from: print the entry only")
    args = parser.parse_args(argv)
    if args.from_files:
        print(report(merge([Path(f) for f in args.from_files]), doc=not args.no_doc))
        return
    unknown = [n for n in args.variants.split(",") + [args.rough_appo] if n.strip() and n.strip() not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    resume = rough_resume_dir(args)
    if "rough" in parts and resume is not None:
        missing = [t for t in ("appo", "rsl_rl") if not (resume / f"rough_{t}.pt").is_file()]
        if missing:
            parser.error(
                f"--rough-resume {args.rough_resume}: no {', '.join(f'rough_{t}.pt' for t in missing)} in {resume}"
            )
    bench = Bench(args, argv)
    n_flat = len([n for n in args.variants.split(",") if n.strip()]) * args.repeats
    print(
        f"[bench] planned: ceiling {'ceiling' in parts}, {n_flat if 'flat' in parts else 0} flat runs of "
        f"<= {args.wall:.0f} s, rough {'rough' in parts} (2 x <= {args.rough_wall + args.startup_grace:.0f} s)",
        flush=True,
    )
    if "ceiling" in parts:
        bench.ceiling()
    if "flat" in parts:
        bench.flat()
    if "rough" in parts:
        bench.rough()
    bench.save()
    print(report(bench.data, doc=False, plot_path=Path(args.workdir) / DOC_PLOT))


if __name__ == "__main__":
    main()
