"""Soak test: a long async APPO run with worker processes SIGKILLed every few minutes, watched from the outside.

Starts ``python -m isaac_hydra_ext.appo_runner`` (async mode, real worker processes), and every
``--sample-every`` seconds records with psutil, from outside the run:

* resident memory (RSS) and open file descriptors of the learner and of every descendant process
  (workers, multiprocessing's resource tracker), worker processes keyed by their worker index;
* shared-memory use: bytes used on ``/dev/shm`` and the number of entries there;
* the learning curve and counters from the run's ``summary.json`` (iterations, env steps, mean return,
  restarts, the cumulative ``accounting`` block).

Every ``--kill-every`` seconds one worker (alternating) is killed with SIGKILL, wherever it is (usually in the
middle of writing a rollout). At the end the run's own accounting is checked:

* every injected kill was survived: the run finished (exit 0), ``worker_restarts`` equals the kills, and each
  killed worker index came back with a new pid;
* no rollout was lost or trained twice: per worker incarnation the trained rollout indices are 0..n-1 with no
  duplicate and no gap; rollouts received by the pool = trained + still queued at stop + gathered-not-trained;
* samples add up: ``samples_total = rollouts_trained * T * B = used + dropped_lag + dropped_nonfinite``, and no
  sample was dropped as non-finite (a killed worker's half-written slot is never gathered);
* nothing is left behind: no process of the run alive after it exits, no new ``/dev/shm`` entry.

Writes ``soak.json`` (all samples and the verdict) and ``soak.md`` (a report section for docs/benchmarks.md)
into ``--out``; exits 0 only if every check passed. Run it niced on a shared machine::

    nice -n 19 python benchmarks/soak.py --minutes 30 --kill-every 180 --out /tmp/soak
    python benchmarks/soak.py --minutes 1 --kill-every 15 --env pendulum --out /tmp/soak1   # the test's version
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
from common import git_commit, machine, versions

REPO = Path(__file__).resolve().parents[1]

ENVS = {
    # name: (Hydra overrides, samples per rollout T*B is read back from config.yaml)
    "halfcheetah": ["env=mujoco_halfcheetah"],
    "pendulum": ["env=gym_pendulum"],
}


def shm_usage() -> tuple[int, int, set[str]]:
    """Bytes used on /dev/shm, number of entries, and their names."""
    st = os.statvfs("/dev/shm")
    used = (st.f_blocks - st.f_bfree) * st.f_frsize
    names = set(os.listdir("/dev/shm"))
    return used, len(names), names


def proc_info(p: psutil.Process) -> dict | None:
    try:
        with p.oneshot():
            return {
                "pid": p.pid,
                "rss_mb": round(p.memory_info().rss / 2**20, 1),
                "fds": p.num_fds(),
                "cmd": " ".join(p.cmdline())[:160],
            }
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def read_summary(run_dir: Path | None) -> dict:
    if run_dir is None:
        return {}
    try:
        return json.loads((run_dir / "summary.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def find_run_dir(root: Path) -> Path | None:
    found = sorted(p.parent for p in root.rglob("summary.json"))
    return found[0] if found else None


def classify(learner: psutil.Process, pids: list[int]) -> dict[str, dict]:
    """Learner, each worker (by index, from summary.json's worker_pids) and any other descendant."""
    out = {}
    info = proc_info(learner)
    if info:
        out["learner"] = info
    try:
        children = learner.children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    for c in children:
        info = proc_info(c)
        if info is None:
            continue
        if c.pid in pids:
            out[f"worker{pids.index(c.pid)}"] = info
        elif "resource_tracker" in info["cmd"]:
            out["resource_tracker"] = info
        elif "spawn_main" in info["cmd"]:
            out[f"worker?{c.pid}"] = info  # started, not yet announced in summary.json
        else:
            out[f"other{c.pid}"] = info
    return out


def machine_facts() -> dict:
    """The host, its CPU, versions and commit (benchmarks/common.py), plus this process's nice value."""
    facts = machine()
    return {
        "host": facts["host"],
        "platform": platform.platform(),
        "cpu": facts["cpu"],
        "cores": facts["cores"],
        "nice": os.nice(0),
        "versions": versions("torch", "gymnasium", "mujoco", "numpy", "psutil"),
        "commit": git_commit(),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="length of the training run")
    ap.add_argument("--kill-every", type=float, default=180.0, help="seconds between worker SIGKILLs (0: none)")
    ap.add_argument("--sample-every", type=float, default=10.0, help="seconds between psutil samples")
    ap.add_argument("--env", choices=sorted(ENVS), default="halfcheetah")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("/tmp/appo_soak"))
    ap.add_argument("overrides", nargs="*", help="extra Hydra overrides for the run")
    args = ap.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    runs = args.out / "runs"
    wall = args.minutes * 60.0
    kills_planned = int(wall // args.kill_every) if args.kill_every > 0 else 0
    cmd = [
        sys.executable,
        "-m",
        "isaac_hydra_ext.appo_runner",
        *ENVS[args.env],
        "ppo.mode=async",
        f"ppo.num_workers={args.workers}",
        f"experiment.output_dir={runs}",
        "experiment.name=soak",
        "experiment.max_env_steps=1000000000000",
        f"experiment.max_wall_time_s={wall}",
        f"ppo.max_worker_restarts={kills_planned + 10}",
        "logging.log_every_iterations=10",
        *args.overrides,
    ]
    shm_before = shm_usage()
    host = machine_facts()  # at the start: the commit and versions of the code that runs
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.setdefault("OMP_NUM_THREADS", "1")
    started = time.monotonic()
    wallclock_start = dt.datetime.now(dt.timezone.utc)
    log_path = args.out / "train.log"
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=args.out)
    learner = psutil.Process(proc.pid)
    print(f"soak: pid {proc.pid}, {args.minutes} min, kill every {args.kill_every} s; log {log_path}", flush=True)

    samples: list[dict] = []
    kills: list[dict] = []
    seen_pids: set[int] = set()
    run_dir = None
    next_sample = 0.0
    next_kill = float("inf")  # the first kill comes --kill-every seconds after the run is training
    victim = 0
    try:
        while proc.poll() is None:
            now = time.monotonic() - started
            if run_dir is None:
                run_dir = find_run_dir(runs)
            s = read_summary(run_dir)
            pids = [int(p) for p in s.get("worker_pids") or []]
            if next_kill == float("inf") and args.kill_every > 0 and s.get("iterations"):
                next_kill = now + args.kill_every
            if now >= next_sample:
                procs = classify(learner, pids)
                seen_pids.update(p["pid"] for p in procs.values())
                used, entries, _ = shm_usage()
                samples.append(
                    {
                        "t": round(now, 1),
                        "status": s.get("status"),
                        "procs": procs,
                        "shm_used_mb": round(used / 2**20, 2),
                        "shm_entries": entries,
                        "iterations": s.get("iterations"),
                        "env_steps": s.get("env_steps"),
                        "mean_return": s.get("mean_return"),
                        "restarts": s.get("worker_restarts"),
                        "accounting": s.get("accounting"),
                    }
                )
                last = samples[-1]
                print(
                    f"[{now:7.1f}s] it {last['iterations']} steps {last['env_steps']} return {last['mean_return']} "
                    f"restarts {last['restarts']} learner {procs.get('learner', {}).get('rss_mb')} MB "
                    f"fds {procs.get('learner', {}).get('fds')} shm {last['shm_used_mb']} MB",
                    flush=True,
                )
                next_sample += args.sample_every
            # Kill only a worker that is up (its pid is in summary.json), and not in the last 3 s of the run.
            if now >= next_kill and now < wall - 3.0 and len(pids) == args.workers and all(pids):
                pid = pids[victim % args.workers]
                try:
                    os.kill(pid, signal.SIGKILL)
                    kills.append(
                        {
                            "t": round(now, 1),
                            "worker": victim % args.workers,
                            "pid": pid,
                            "restarts_before": s.get("worker_restarts", 0),
                        }
                    )
                    print(f"[{now:7.1f}s] SIGKILL worker {victim % args.workers} (pid {pid})", flush=True)
                except ProcessLookupError:
                    pass
                victim += 1
                next_kill += args.kill_every
            time.sleep(0.5)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    elapsed = time.monotonic() - started
    time.sleep(1.0)
    final = read_summary(run_dir)
    shm_after = shm_usage()
    left_alive = [p for p in seen_pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    new_shm = sorted(shm_after[2] - shm_before[2])

    checks = verdict(final, proc.returncode, kills, samples, run_dir, left_alive, new_shm)
    report = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "command": " ".join(cmd),
        "machine": host,
        "started_utc": wallclock_start.strftime("%Y-%m-%d %H:%M UTC"),
        "elapsed_s": round(elapsed, 1),
        "returncode": proc.returncode,
        "kills": kills,
        "final_summary": final,
        "checks": checks,
        "samples": samples,
        "shm_before_mb": round(shm_before[0] / 2**20, 2),
        "shm_after_mb": round(shm_after[0] / 2**20, 2),
        "processes_left": left_alive,
        "shm_entries_left": new_shm,
    }
    (args.out / "soak.json").write_text(json.dumps(report, indent=1))
    md = markdown(report)
    (args.out / "soak.md").write_text(md)
    print(md)
    failed = [c for c in checks if not c["ok"]]
    for c in failed:
        print(f"FAILED: {c['check']}: {c['detail']}", file=sys.stderr)
    return 1 if failed else 0


def verdict(
    final: dict,
    returncode: int,
    kills: list[dict],
    samples: list[dict],
    run_dir: Path | None,
    left_alive: list[int],
    new_shm: list[str],
) -> list[dict]:
    checks = []

    def check(name: str, ok: bool, detail) -> None:
        checks.append({"check": name, "ok": bool(ok), "detail": detail})

    acc = final.get("accounting") or {}
    check(
        "run finished, exit 0",
        returncode == 0 and final.get("status") == "finished",
        {"returncode": returncode, "status": final.get("status"), "error": final.get("error")},
    )
    check(
        "every kill survived (restarts == kills)",
        final.get("worker_restarts") == len(kills),
        {"kills": len(kills), "restarts": final.get("worker_restarts")},
    )
    replaced = all(k["pid"] not in (final.get("worker_pids") or []) for k in kills)
    check("each killed worker was replaced (new pid)", replaced, [k["pid"] for k in kills])
    T = B = None
    if run_dir is not None and (run_dir / "config.yaml").is_file():
        for line in (run_dir / "config.yaml").read_text().splitlines():
            key, _, value = line.strip().partition(":")
            if key == "steps_per_env":
                T = int(value)
            elif key == "envs_per_worker":
                B = int(value)
    trained = acc.get("rollouts_trained", -1)
    check("no rollout trained twice", acc.get("rollout_duplicates") == 0, acc.get("rollout_duplicates"))
    check(
        "no rollout lost (indices contiguous per incarnation)",
        acc.get("rollouts_after_a_gap") == 0,
        acc.get("rollouts_after_a_gap"),
    )
    received = acc.get("rollouts_received")
    check(
        "received = trained + pending + not trained",
        received == trained + acc.get("rollouts_pending", 0) + acc.get("rollouts_not_trained", 0),
        {k: acc.get(k) for k in ("rollouts_received", "rollouts_trained", "rollouts_pending", "rollouts_not_trained")},
    )
    per_incarnation = acc.get("rollouts_per_incarnation") or {}
    check(
        "rollouts per incarnation sum to trained",
        sum(per_incarnation.values()) == trained,
        acc.get("rollouts_per_incarnation"),
    )
    total = acc.get("samples_total")
    check(
        "samples_total = rollouts_trained * T * B",
        T is not None and total == trained * T * B,
        {"samples_total": total, "rollouts_trained": trained, "T": T, "B": B},
    )
    check(
        "samples_total = used + dropped_lag + dropped_nonfinite",
        total == sum(acc.get(k, 0) for k in ("samples_used", "samples_dropped_lag", "samples_dropped_nonfinite")),
        {k: acc.get(k) for k in ("samples_used", "samples_dropped_lag", "samples_dropped_nonfinite")},
    )
    check(
        "no half-written sample reached the learner (dropped_nonfinite == 0)",
        acc.get("samples_dropped_nonfinite") == 0,
        acc.get("samples_dropped_nonfinite"),
    )
    check("no process left", not left_alive, left_alive)
    check("no /dev/shm entry left", not new_shm, new_shm)
    return checks


def _series(samples: list[dict], key: str) -> list[tuple[float, dict]]:
    return [(s["t"], s["procs"][key]) for s in samples if key in s["procs"]]


def markdown(r: dict) -> str:
    m, samples, final = r["machine"], r["samples"], r["final_summary"]
    acc = final.get("accounting") or {}
    lines = [
        f"### {r['started_utc']}",
        "",
        f"- machine: {m['host']} ({m['platform']})",
        f"- CPU: {m['cpu']}; cores: {m['cores']} logical; run at nice {m['nice']} on a shared machine",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        f"- git commit: {m['commit']}",
        f"- command: `nice -n {m['nice']} python benchmarks/soak.py "
        f"--minutes {r['args']['minutes']} --kill-every {r['args']['kill_every']} --env {r['args']['env']}`",
        f"- trainer command: `{r['command'].split(' -m ', 1)[-1]}`",
        f"- result: exit {r['returncode']}, status {final.get('status')}, {final.get('iterations')} iterations, "
        f"{final.get('env_steps'):,} env steps in {final.get('wall_time_s')} s "
        f"({final.get('env_steps_per_s')} steps/s), final mean return {final.get('mean_return')}"
        if final.get("env_steps") is not None
        else f"- result: exit {r['returncode']}, no summary",
        "",
    ]
    # memory and descriptors, first sample with all workers vs last sample
    # samples while the run trains (not while it starts or shuts down and closes its workers' pipes)
    full = [
        s
        for s in samples
        if sum(k.startswith("worker") and "?" not in k for k in s["procs"]) >= 1
        and s.get("iterations")
        and s.get("status") == "running"
    ]
    if full:
        first, last = full[0], full[-1]
        lines += [
            f"Resident memory and open descriptors, first sample with the run training (t = {first['t']} s) "
            f"vs last sample (t = {last['t']} s):",
            "",
            "| process | RSS start (MB) | RSS end (MB) | RSS min..max over run (MB) | fds start | fds end | "
            "fds min..max |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        keys = sorted({k for s in full for k in s["procs"] if "?" not in k and not k.startswith("other")})
        for k in keys:
            ser = [(t, p) for t, p in _series(full, k)]
            if not ser:
                continue
            rss = [p["rss_mb"] for _, p in ser]
            fds = [p["fds"] for _, p in ser]
            a, b = first["procs"].get(k), last["procs"].get(k)
            lines.append(
                f"| {k} | {a['rss_mb'] if a else '-'} | {b['rss_mb'] if b else '-'} | "
                f"{min(rss)}..{max(rss)} | "
                f"{a['fds'] if a else '-'} | {b['fds'] if b else '-'} | {min(fds)}..{max(fds)} |"
            )
        lines += [
            "",
            f"Shared memory (/dev/shm): {r['shm_before_mb']} MB used before, "
            f"{min(s['shm_used_mb'] for s in samples)}..{max(s['shm_used_mb'] for s in samples)} MB during "
            f"(other users included), {r['shm_after_mb']} MB after; entries left by the run: "
            f"{len(r['shm_entries_left'])}. Processes of the run alive after exit: "
            f"{len(r['processes_left'])}.",
            "",
        ]
    kills = r["kills"]
    lines += [
        f"Faults: {len(kills)} worker SIGKILLs at t = "
        + ", ".join(f"{k['t']:.0f} s (w{k['worker']})" for k in kills)
        + f"; restarts logged: {final.get('worker_restarts')}; slots poisoned: {acc.get('slots_poisoned')}.",
        "",
    ]
    lines += [
        "Sample accounting (summary.json `accounting`):",
        "",
        f"- rollouts received {acc.get('rollouts_received')} = trained {acc.get('rollouts_trained')} "
        f"+ queued at stop {acc.get('rollouts_pending')} "
        f"+ gathered-not-trained {acc.get('rollouts_not_trained')}",
        f"- duplicates {acc.get('rollout_duplicates')}, rollouts after a gap {acc.get('rollouts_after_a_gap')}, "
        f"incarnations {len(acc.get('rollouts_per_incarnation') or {})}",
        f"- samples total {acc.get('samples_total'):,} = used {acc.get('samples_used'):,} + dropped for lag "
        f"{acc.get('samples_dropped_lag'):,} + dropped non-finite {acc.get('samples_dropped_nonfinite'):,}"
        if acc.get("samples_total") is not None
        else "- no accounting",
        "",
    ]
    # learning curve and resources over time, about every 10% of the run
    step = max(1, len(samples) // 12)
    lines += [
        "Over time:",
        "",
        "| t (s) | iterations | env steps | mean return | restarts | learner RSS (MB) | "
        "worker RSS (MB) | learner fds | worker fds | /dev/shm (MB) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in samples[::step] + ([samples[-1]] if samples and (len(samples) - 1) % step else []):
        ws = [p for k, p in sorted(s["procs"].items()) if k.startswith("worker") and "?" not in k]
        ln = s["procs"].get("learner", {})
        ret = s["mean_return"]
        lines.append(
            f"| {s['t']:.0f} | {s['iterations']} | {s['env_steps']} | "
            f"{'-' if ret is None else f'{ret:.1f}'} | {s['restarts']} | {ln.get('rss_mb', '-')} | "
            f"{' / '.join(str(p['rss_mb']) for p in ws) or '-'} | {ln.get('fds', '-')} | "
            f"{' / '.join(str(p['fds']) for p in ws) or '-'} | {s['shm_used_mb']} |"
        )
    lines += ["", "Checks: " + "; ".join(f"{'PASS' if c['ok'] else 'FAIL'} {c['check']}" for c in r["checks"]), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
