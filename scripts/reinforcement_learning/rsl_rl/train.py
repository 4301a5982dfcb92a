r"""Train rsl_rl's ``OnPolicyRunner`` on an Isaac Lab task, as Isaac Lab's own rsl_rl train script does.

    python scripts/reinforcement_learning/rsl_rl/train.py --task Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-v0 \\
        --device cpu --num_envs 16 --max_iterations 2
    python scripts/reinforcement_learning/rsl_rl/train.py --task Isaac-Velocity-Sber-Unitree-Go1-Newton-v0 \\
        --device cuda --max_wall_time_s 300 agent.seed=1        # env.* / agent.* overrides as for APPO

The rsl_rl side of the APPO-vs-rsl_rl benchmarks (``benchmarks/isaaclab_newton_vs_rsl_rl.py``). The steps are those
of Isaac Lab 3.0's rsl_rl training backend (``isaaclab_rl/entrypoints/backends/train_rsl_rl.py``; 2.x:
``scripts/reinforcement_learning/rsl_rl/train.py``), with Isaac Lab's own pieces:

* the task's registered ``rsl_rl_cfg_entry_point`` agent config (``--agent`` picks another key);
* Isaac Lab's ``isaaclab_rl.rsl_rl.RslRlVecEnvWrapper``: TensorDict observation groups mapped by the config's
  ``obs_groups``, ``extras["time_outs"]`` for bootstrapping, ``extras["log"]`` episode statistics;
* ``handle_deprecated_rsl_rl_cfg`` and ``create_rsl_rl_runner`` where the installed Isaac Lab has them (3.x),
  ``OnPolicyRunner(env, agent_cfg.to_dict(), ...)`` otherwise (2.x);
* ``runner.learn(max_iterations, init_at_random_ep_len=...)``, one call, unchanged.

The configs are resolved and the simulator launched by ``isaac_hydra_ext.isaaclab.compat.open_task``, the same call
APPO's ``scripts/reinforcement_learning/appo/train.py`` makes, so both trainers get the same env config from the
same command line (``--num_envs``, ``--device``, ``env.*`` overrides, presets) and the same kit-less launch.

What this script adds to Isaac Lab's:

* ``metrics.jsonl`` in the run directory, one line per iteration, with the keys of APPO's log (``env_steps``,
  ``wall_time_s``, ``train/mean_return``, ``train/mean_episode_length`` and ``train/episodes`` of the last 100
  episodes / this iteration, every ``extras["log"]`` key such as ``Episode_Reward/track_lin_vel_xy_exp`` and
  ``Curriculum/terrain_levels``, ``perf/*``), so one harness reads both trainers;
* ``--max_wall_time_s``: stop after this much training time; SIGINT/SIGTERM also stop. Either way the last
  iteration's model is saved (``model_<it>.pt``, with ``env_steps`` and ``wall_time_s`` in its ``infos``) and
  the exit code is 0;
* ``--checkpoint PATH|latest``: resume (model, optimizer, iteration) and continue the env-step and wall clocks;
* ``summary.json`` (status, iterations, env steps, wall time, checkpoint).

Logs go to ``logs/rsl_rl/<experiment_name>/<timestamp>[_<run_name>]/`` as in Isaac Lab.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import re
import signal
import statistics
import sys
import time
from typing import Any

from isaac_hydra_ext.isaaclab import compat

AGENT_ENTRY = "rsl_rl_cfg_entry_point"


class WallTimeReached(Exception):
    """Raised from the per-iteration hook once ``--max_wall_time_s`` of training time has passed."""


def _scalar_mean(values: list[Any]) -> float | None:
    """Mean of a list of numbers and tensors (any shape), as rsl_rl's logger averages ``extras["log"]`` values."""
    import torch

    parts = []
    for value in values:
        if isinstance(value, torch.Tensor):
            parts.append(value.detach().float().reshape(-1).cpu())
        else:
            parts.append(torch.tensor([float(value)]))
    if not parts:
        return None
    flat = torch.cat(parts)
    return float(flat.mean()) if flat.numel() else None


class MetricsTap:
    """Writes one ``metrics.jsonl`` line per rsl_rl iteration, from inside ``OnPolicyRunner.learn``.

    It wraps the runner's ``logger.process_env_step`` (to count finished episodes without a GPU sync per step) and
    ``logger.log`` (called once per iteration, before the logger clears its episode extras). rsl_rl's own console
    output and TensorBoard logging are unchanged.
    """

    def __init__(
        self,
        runner: Any,
        run_dir: str,
        num_envs: int,
        steps_per_env: int,
        env_steps: int = 0,
        wall_time_s: float = 0.0,
        max_wall_time_s: float = 0.0,
    ):
        """Hook into ``runner.logger``; clocks continue from ``env_steps`` / ``wall_time_s`` (a resumed run)."""
        self.logger = runner.logger
        self.batch = num_envs * steps_per_env
        self.env_steps = int(env_steps)
        self.wall_time_before = float(wall_time_s)
        self.max_wall_time_s = float(max_wall_time_s)
        self.iterations = 0
        self.started = time.time()
        self._dones = None
        self._process_env_step = self.logger.process_env_step
        self._log = self.logger.log
        self.logger.process_env_step = self.process_env_step
        self.logger.log = self.log
        self.metrics = open(os.path.join(run_dir, "metrics.jsonl"), "a")

    def start(self) -> None:
        """Start the training clock (call just before ``runner.learn``)."""
        self.started = time.time()

    @property
    def wall_time_s(self) -> float:
        """Training wall time so far, resumed runs included."""
        return self.wall_time_before + time.time() - self.started

    def process_env_step(self, rewards, dones, extras, intrinsic_rewards=None):
        """Count finished episodes (on the device), then let rsl_rl book the step."""
        count = (dones > 0).sum()
        self._dones = count if self._dones is None else self._dones + count
        return self._process_env_step(rewards, dones, extras, intrinsic_rewards)

    def log(self, **kwargs):
        """Build this iteration's line, let rsl_rl log it, write the line, and stop at the wall-time limit."""
        self.iterations += 1
        self.env_steps += self.batch
        line: dict[str, Any] = {
            "env_steps": self.env_steps,
            "wall_time_s": round(self.wall_time_s, 3),
            "train/iteration": float(kwargs["it"] + 1),
        }
        if self.logger.rewbuffer:
            line["train/mean_return"] = statistics.mean(self.logger.rewbuffer)
            line["train/mean_episode_length"] = statistics.mean(self.logger.lenbuffer)
        line["train/episodes"] = float(self._dones) if self._dones is not None else 0.0
        self._dones = None
        keys = dict.fromkeys(k for extras in self.logger.ep_extras for k in extras)
        for key in keys:
            value = _scalar_mean([extras[key] for extras in self.logger.ep_extras if key in extras])
            if value is not None:
                line[key if "/" in key else f"Episode/{key}"] = value
        collect_s, learn_s = float(kwargs["collect_time"]), float(kwargs["learn_time"])
        line["perf/env_steps_per_s"] = self.batch / max(collect_s + learn_s, 1e-9)
        line["perf/collect_s"], line["perf/learn_s"] = collect_s, learn_s
        line["policy/learning_rate"] = float(kwargs["learning_rate"])
        for key, value in (kwargs.get("loss_dict") or {}).items():
            line[f"loss/{key}"] = float(value)
        self._log(**kwargs)
        self.metrics.write(json.dumps(line) + "\n")
        self.metrics.flush()
        if self.max_wall_time_s > 0 and time.time() - self.started >= self.max_wall_time_s:
            raise WallTimeReached

    def close(self) -> None:
        """Close ``metrics.jsonl``."""
        self.metrics.close()


def add_train_args(parser: argparse.ArgumentParser) -> None:
    """The arguments of Isaac Lab's rsl_rl train script that a benchmark needs, plus the wall-time limit."""
    parser.add_argument("--task", type=str, required=True, help="Registered task id.")
    parser.add_argument("--agent", type=str, default=AGENT_ENTRY, help="Registry key of the rsl_rl agent config.")
    parser.add_argument("--num_envs", type=int, default=None, help="Number of environments (env.scene.num_envs).")
    parser.add_argument("--seed", type=int, default=None, help="Seed of the run (agent.seed; -1 picks one).")
    parser.add_argument("--max_iterations", type=int, default=None, help="rsl_rl learning iterations.")
    parser.add_argument(
        "--max_wall_time_s",
        type=float,
        default=0.0,
        help="Stop after this much training time (seconds; 0: no limit) and save the model.",
    )
    parser.add_argument(
        "--checkpoint",
        type=str,
        default=None,
        help="Resume from this model_<it>.pt, or 'latest' (the newest run of the experiment).",
    )
    parser.add_argument("--run_name", type=str, default=None, help="Suffix of the run directory.")
    parser.add_argument(
        "--log_root",
        type=str,
        default=os.path.join("logs", "rsl_rl"),
        help="Experiments folder (Isaac Lab: logs/rsl_rl).",
    )
    parser.add_argument(
        "--torch_threads",
        type=int,
        default=0,
        help="torch intra-op threads (0: torch's default); 1 suits CPU physics on few cores.",
    )


def _latest_checkpoint(root: str) -> str:
    """The highest-iteration ``model_<it>.pt`` of the newest run under ``root``."""
    runs = sorted(d for d in glob.glob(os.path.join(root, "*")) if os.path.isdir(d))
    for run in reversed(runs):
        models = {
            int(m.group(1)): path
            for path in glob.glob(os.path.join(run, "model_*.pt"))
            if (m := re.search(r"model_(\d+)\.pt$", path))
        }
        if models:
            return models[max(models)]
    raise FileNotFoundError(f"--checkpoint latest: no model_<iteration>.pt under {os.path.abspath(root)}")


def _isaaclab_rsl_rl() -> dict[str, Any]:
    """Isaac Lab's rsl_rl integration pieces (3.x has all; 2.x lacks the runner factory and the cfg migration)."""
    import isaaclab_rl.rsl_rl as il_rsl_rl

    pieces = {"wrapper": il_rsl_rl.RslRlVecEnvWrapper}
    for name in ("check_rsl_rl_version", "handle_deprecated_rsl_rl_cfg", "create_rsl_rl_runner"):
        pieces[name] = getattr(il_rsl_rl, name, None)
    return pieces


def run_train(args: argparse.Namespace, session: compat.TaskSession) -> dict[str, Any]:
    """Train ``args.task`` with rsl_rl on the resolved configs of ``session``; return the run summary."""
    import gymnasium as gym
    import torch

    il = _isaaclab_rsl_rl()
    env_cfg, agent_cfg = session.env_cfg, session.agent_cfg
    if il["check_rsl_rl_version"] and il["handle_deprecated_rsl_rl_cfg"]:
        agent_cfg = il["handle_deprecated_rsl_rl_cfg"](agent_cfg, il["check_rsl_rl_version"]())
    if args.num_envs is not None:
        env_cfg.scene.num_envs = args.num_envs
    if args.seed is not None:
        agent_cfg.seed = args.seed if args.seed >= 0 else int.from_bytes(os.urandom(3), "little")
    if args.max_iterations is not None:
        agent_cfg.max_iterations = args.max_iterations
    elif args.max_wall_time_s > 0:
        agent_cfg.max_iterations = 10**9  # the wall time decides
    if args.run_name:
        agent_cfg.run_name = args.run_name
    device = getattr(args, "device", None)
    if device:
        env_cfg.sim.device = device
        agent_cfg.device = device
    env_cfg.seed = agent_cfg.seed
    if args.torch_threads > 0:
        torch.set_num_threads(args.torch_threads)

    log_root = os.path.abspath(os.path.join(args.log_root, agent_cfg.experiment_name))
    resume = None
    if args.checkpoint:
        resume = _latest_checkpoint(log_root) if args.checkpoint == "latest" else os.path.abspath(args.checkpoint)
    run_name = datetime.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    if agent_cfg.run_name:
        run_name += f"_{agent_cfg.run_name}"
    run_dir = os.path.join(log_root, run_name)
    os.makedirs(run_dir, exist_ok=True)
    print(f"[INFO] Logging experiment in directory: {run_dir}", flush=True)
    env_cfg.log_dir = run_dir

    env = il["wrapper"](gym.make(args.task, cfg=env_cfg), clip_actions=agent_cfg.clip_actions)
    if il["create_rsl_rl_runner"]:
        runner = il["create_rsl_rl_runner"](env, agent_cfg, log_dir=run_dir)
    else:  # Isaac Lab 2.x
        from rsl_rl.runners import OnPolicyRunner

        runner = OnPolicyRunner(env, agent_cfg.to_dict(), log_dir=run_dir, device=agent_cfg.device)
    runner.add_git_repo_to_log(__file__)
    env_steps, wall_before = 0, 0.0
    if resume:
        print(f"[INFO] Loading model checkpoint from: {resume}", flush=True)
        infos = runner.load(resume, map_location=agent_cfg.device) or {}
        env_steps = int(
            infos.get("env_steps", (runner.current_learning_iteration + 1) * env.num_envs * agent_cfg.num_steps_per_env)
        )
        wall_before = float(infos.get("wall_time_s", 0.0))
    _dump_params(run_dir, env_cfg, agent_cfg)

    tap = MetricsTap(
        runner, run_dir, env.num_envs, agent_cfg.num_steps_per_env, env_steps, wall_before, args.max_wall_time_s
    )
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops like SIGINT
    status = "finished"
    tap.start()
    try:
        runner.learn(
            num_learning_iterations=agent_cfg.max_iterations,
            init_at_random_ep_len=getattr(agent_cfg, "init_at_random_ep_len", True),
        )
    except WallTimeReached:
        status = "finished"
    except KeyboardInterrupt:
        status = "interrupted"
    finally:
        signal.signal(signal.SIGTERM, previous)
        tap.close()
    wall = tap.wall_time_s
    checkpoint = os.path.join(run_dir, f"model_{runner.current_learning_iteration}.pt")
    runner.save(checkpoint, infos={"env_steps": tap.env_steps, "wall_time_s": wall})
    env.close()
    summary = {
        "status": status,
        "trainer": "rsl_rl",
        "task": args.task,
        "iterations": tap.iterations,
        "env_steps": tap.env_steps,
        "wall_time_s": round(wall, 3),
        "run_dir": run_dir,
        "checkpoint": checkpoint,
        "resumed_from": resume,
    }
    with open(os.path.join(run_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    return summary


def _dump_params(run_dir: str, env_cfg: Any, agent_cfg: Any) -> None:
    """``params/env.yaml`` and ``params/agent.yaml``, as Isaac Lab's scripts write them."""
    from isaaclab.utils.io import dump_yaml

    dump_yaml(os.path.join(run_dir, "params", "env.yaml"), env_cfg)
    dump_yaml(os.path.join(run_dir, "params", "agent.yaml"), agent_cfg)


def main(argv: list[str] | None = None) -> int:
    """Parse, resolve the configs and launch (``compat.open_task``), train; return the exit code."""
    parser = argparse.ArgumentParser(description="Train rsl_rl's OnPolicyRunner on an Isaac Lab task.")
    add_train_args(parser)
    compat.add_launcher_args(parser)
    args, overrides = parser.parse_known_args(argv)
    stray = [o for o in overrides if o.startswith("-")]
    if stray:
        parser.error(f"unrecognized arguments: {' '.join(stray)}")
    from isaac_hydra_ext.isaaclab.overrides import OverrideError

    try:
        with compat.open_task(args.task, args, args.agent, overrides=overrides) as session:
            summary = run_train(args, session)
    except (OverrideError, FileNotFoundError) as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return 2
    print(
        f"run {summary['status']}: {summary['iterations']} iterations, {summary['env_steps']:,} env steps, "
        f"{summary['wall_time_s']:.1f} s; run directory {summary['run_dir']}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
