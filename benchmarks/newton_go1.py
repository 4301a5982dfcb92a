"""Isaac Lab's Go1 flat task on Newton (kit-less, our MJCF Go1): env speed and an APPO training run.

Task ``Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-v0`` (docs/isaaclab.md, "Running the real Isaac Lab task without
Isaac Sim"). Two parts, each in its own process (Isaac Lab allows one simulation per process):

* ``env``: env steps per second of the Isaac Lab env (``ManagerBasedRLEnv.step``: 4 physics steps of 5 ms with 2
  MuJoCo-Warp substeps each, observations, rewards, resets) with random actions a ~ N(0, 1), ``--num-envs`` envs on
  ``--device``; then the same through our adapter (``IsaacLabVecEnv.step``). Reported: build time, the first step
  (kernel compilation / CUDA-graph capture), and the steady rate over ``--seconds``.
* ``train``: ``entrypoints.main_train`` (what ``scripts/reinforcement_learning/appo/train.py`` runs), APPO with
  in-process collection (``num_workers=0``, the task's agent config) for ``--train-minutes`` of wall time. Reported:
  the APPO throughput (env steps/s after the first iteration, which includes compilation), learner time per
  iteration, and the learning curve (mean return, episode length, velocity tracking) at about ten points.

The table is printed; ``--out FILE`` writes the results as JSON (machine, versions, commit included), and unless
``--no-doc`` an entry is appended to the section ``## Isaac Lab Newton Go1`` of docs/benchmarks.md. On the GPU
machine, where docs/ does not come back, run with ``--out $OUT/newton_go1.json --no-doc`` and append here with
``python benchmarks/newton_go1.py --from newton_go1.json``.

Usage::

    python benchmarks/newton_go1.py --device cuda                       # 4096 envs, env + 4-minute training run
    python benchmarks/newton_go1.py --device cuda --parts env --seconds 30
    python benchmarks/newton_go1.py --device cpu --num-envs 16 --seconds 10 --train-minutes 1   # a CPU smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import append_entry, git_commit, machine, markdown_table, write_json  # noqa: E402

TASK = "Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-v0"
SECTION = "Isaac Lab Newton Go1"
CURVE_POINTS = 10


def _versions() -> dict[str, str]:
    import platform
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in ("torch", "warp-lang", "newton", "mujoco-warp", "mujoco", "isaaclab", "isaacsim-asset-isolated"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


# ---- child: env speed ---------------------------------------------------------------------------------------
def child_env(args: argparse.Namespace) -> dict:
    import gymnasium as gym
    import torch
    from isaac_hydra_ext.isaaclab import compat
    from isaac_hydra_ext.isaaclab.vec_env import IsaacLabVecEnv

    started = time.perf_counter()
    overrides = [f"env.scene.num_envs={args.num_envs}", f"env.sim.device={args.device}"]
    with compat.open_task(args.task, {"device": args.device}, overrides=overrides) as session:
        env = gym.make(args.task, cfg=session.env_cfg)
        raw = env.unwrapped
        build_s = time.perf_counter() - started
        device = str(raw.device)
        n = raw.num_envs
        gen = torch.Generator(device=device).manual_seed(0)
        actions = [torch.randn(n, 12, device=device, generator=gen) for _ in range(64)]
        env.reset(seed=0)
        t = time.perf_counter()
        env.step(actions[0])
        _sync(device)
        first_step_s = time.perf_counter() - t
        for i in range(20):  # warm-up
            env.step(actions[i % 64])

        def timed(step) -> tuple[float, int]:
            _sync(device)
            count, t0 = 0, time.perf_counter()
            while True:
                step(actions[count % 64])
                count += 1
                if count % 10 == 0:
                    _sync(device)
                    if time.perf_counter() - t0 >= args.seconds:
                        break
            return count * n / (time.perf_counter() - t0), count

        env_rate, env_calls = timed(env.step)
        vec = IsaacLabVecEnv(env)
        vec.reset(seed=1)
        for i in range(10):
            vec.step(actions[i])
        vec_rate, vec_calls = timed(vec.step)
        peak_mb = round(torch.cuda.max_memory_allocated() / 2**20) if device.startswith("cuda") else 0
        vec.close()
    return {
        "part": "env",
        "task": args.task,
        "num_envs": n,
        "device": device,
        "build_s": round(build_s, 1),
        "first_step_s": round(first_step_s, 2),
        "env_steps_per_s": round(env_rate),
        "adapter_steps_per_s": round(vec_rate),
        "timed_calls": [env_calls, vec_calls],
        "peak_gpu_mb": peak_mb,
    }


# ---- child: APPO training run -------------------------------------------------------------------------------------
def child_train(args: argparse.Namespace) -> dict:
    from isaac_hydra_ext.isaaclab.train import main_train

    workdir = Path(tempfile.mkdtemp(prefix="newton_go1_"))
    os.chdir(workdir)
    argv = [
        "--task",
        args.task,
        "--device",
        args.device,
        "--num_envs",
        str(args.num_envs),
        "--max_iterations",
        "100000",
        f"agent.max_wall_time_s={args.train_minutes * 60.0}",
        "agent.save_interval=100",
        *args.overrides,
    ]
    started = time.perf_counter()
    code = main_train(argv)
    wall = time.perf_counter() - started
    runs = sorted((workdir / "logs" / "appo").glob("*/*/summary.json"))
    if code != 0 or not runs:
        return {"part": "train", "error": f"main_train exited {code}", "argv": argv}
    run = runs[-1].parent
    summary = json.loads(runs[-1].read_text())
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    steady = lines[1:] if len(lines) > 1 else lines
    if len(steady) >= 2:
        rate = (steady[-1]["env_steps"] - lines[0]["env_steps"]) / (steady[-1]["wall_time_s"] - lines[0]["wall_time_s"])
    else:
        rate = summary["env_steps"] / max(summary["wall_time_s"], 1e-9)
    learn = sorted(line.get("perf/learn_s", 0.0) for line in steady)
    wait = sorted(line.get("perf/learner_wait_s", 0.0) for line in steady)
    picks = sorted({round(i * (len(lines) - 1) / (CURVE_POINTS - 1)) for i in range(CURVE_POINTS)}) if lines else []
    last: dict = {}
    for i, line in enumerate(lines):  # episode terms appear only in iterations in which episodes ended: carry over
        last.update(line)
        lines[i] = dict(last)
    curve = [
        {
            "iteration": int(lines[i].get("train/iteration", i + 1)),
            "env_steps": int(lines[i]["env_steps"]),
            "wall_s": round(lines[i]["wall_time_s"], 1),
            "mean_return": round(lines[i].get("train/mean_return", float("nan")), 2),
            "mean_episode_length": round(lines[i].get("train/mean_episode_length", float("nan")), 1),
            "track_lin_vel": round(lines[i].get("Episode_Reward/track_lin_vel_xy_exp", float("nan")), 3),
            "error_vel_xy": round(lines[i].get("Metrics/base_velocity/error_vel_xy", float("nan")), 3),
        }
        for i in picks
    ]
    return {
        "part": "train",
        "task": args.task,
        "num_envs": args.num_envs,
        "device": args.device,
        "status": summary["status"],
        "iterations": summary["iterations"],
        "env_steps": summary["env_steps"],
        "wall_s": round(wall, 1),
        "first_iteration_s": round(lines[0]["wall_time_s"], 1) if lines else None,
        "appo_env_steps_per_s": round(rate),
        "median_learn_s": round(learn[len(learn) // 2], 3) if learn else None,
        "median_wait_s": round(wait[len(wait) // 2], 3) if wait else None,
        "curve": curve,
        "argv": argv,
    }


# ---- parent ---------------------------------------------------------------------------------------------------
def run_child(part: str, args: argparse.Namespace) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        result_path = f.name
    cmd = [
        sys.executable,
        __file__,
        "--child",
        part,
        "--child-out",
        result_path,
        "--task",
        args.task,
        "--device",
        args.device,
        "--num-envs",
        str(args.num_envs),
        "--seconds",
        str(args.seconds),
        "--train-minutes",
        str(args.train_minutes),
        "--",
        *args.overrides,
    ]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    try:
        result = json.loads(Path(result_path).read_text())
    except (OSError, ValueError):
        result = {"part": part, "error": f"exit {proc.returncode}: {(proc.stdout + proc.stderr)[-1500:]}"}
    finally:
        Path(result_path).unlink(missing_ok=True)
    result["process_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result), flush=True)
    return result


def tables(results: list[dict]) -> str:
    out = []
    for r in results:
        if "error" in r:
            out.append(f"**{r['part']}: failed** — `{r['error'][-600:]}`")
        elif r["part"] == "env":
            out.append(
                markdown_table(
                    [
                        "envs",
                        "device",
                        "build (s)",
                        "first step (s)",
                        "Isaac Lab env (steps/s)",
                        "through IsaacLabVecEnv (steps/s)",
                        "peak GPU MB",
                    ],
                    [
                        [
                            f"{r['num_envs']:,}",
                            r["device"],
                            r["build_s"],
                            r["first_step_s"],
                            f"{r['env_steps_per_s']:,}",
                            f"{r['adapter_steps_per_s']:,}",
                            r["peak_gpu_mb"],
                        ]
                    ],
                )
            )
        elif r["part"] == "train":
            out.append(
                markdown_table(
                    [
                        "envs",
                        "device",
                        "status",
                        "iterations",
                        "env steps",
                        "wall (s)",
                        "first iteration (s)",
                        "APPO env steps/s",
                        "learn s/it (median)",
                        "wait s/it (median)",
                    ],
                    [
                        [
                            f"{r['num_envs']:,}",
                            r["device"],
                            r["status"],
                            r["iterations"],
                            f"{r['env_steps']:,}",
                            r["wall_s"],
                            r["first_iteration_s"],
                            f"{r['appo_env_steps_per_s']:,}",
                            r["median_learn_s"],
                            r["median_wait_s"],
                        ]
                    ],
                )
            )
            out.append(
                "Learning curve:\n\n"
                + markdown_table(
                    [
                        "iteration",
                        "env steps",
                        "wall (s)",
                        "mean return",
                        "mean episode length",
                        "track_lin_vel_xy_exp",
                        "error_vel_xy",
                    ],
                    [
                        [
                            c["iteration"],
                            f"{c['env_steps']:,}",
                            c["wall_s"],
                            c["mean_return"],
                            c["mean_episode_length"],
                            c["track_lin_vel"],
                            c["error_vel_xy"],
                        ]
                        for c in r["curve"]
                    ],
                )
            )
    return "\n\n".join(out)


def record(data: dict, no_doc: bool) -> None:
    task = data["results"][0].get("task", TASK)
    body = (
        f"Task `{task}` (Isaac Lab 3.0 kit-less, Newton MuJoCo-Warp, our MJCF Go1, DC-motor actuators); random "
        "actions N(0, 1) for the env part, APPO with in-process collection (`num_workers=0`) for the training run."
        "\n\n" + data["table"]
    )
    print(data["table"])
    if not no_doc:
        first, gpu = data["results"][0], data["machine"]["gpu"]
        title = f"{first.get('num_envs', '?')} envs, {first.get('device', '?')}"
        title += f" ({gpu})" if gpu != "none" else ""
        append_entry(SECTION, title, body, command=data["command"], measured=data)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--task",
        default=TASK,
        help="the flat task (default) or the rough one, Isaac-Velocity-Sber-Unitree-Go1-Newton-v0",
    )
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--num-envs", type=int, default=4096)
    parser.add_argument("--parts", default="env,train", help="comma-separated: env, train")
    parser.add_argument("--seconds", type=float, default=20.0, help="timed stepping per env measurement")
    parser.add_argument("--train-minutes", type=float, default=4.0, help="wall time of the training run")
    parser.add_argument("--out", default="", help="write the results (JSON) here")
    parser.add_argument("--no-doc", action="store_true", help="do not append to docs/benchmarks.md")
    parser.add_argument("--from", dest="from_file", default="", help="only append the entry of a result file")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", default="", help=argparse.SUPPRESS)
    parser.add_argument("overrides", nargs="*", help="env.*/agent.* overrides for the training run (after --)")
    args = parser.parse_args(argv)

    if args.child:
        result = {"env": child_env, "train": child_train}[args.child](args)
        Path(args.child_out).write_text(json.dumps(result))
        return
    if args.from_file:
        record(json.loads(Path(args.from_file).read_text()), no_doc=False)
        return
    results = [run_child(part.strip(), args) for part in args.parts.split(",") if part.strip()]
    data = {
        "machine": machine(),
        "versions": _versions(),
        "commit": git_commit(),
        "command": " ".join(["python", "benchmarks/newton_go1.py", *(argv if argv is not None else sys.argv[1:])]),
        "results": results,
    }
    data["table"] = tables(results)
    if args.out:
        write_json(args.out, data)
    record(data, args.no_doc)


if __name__ == "__main__":
    main()
