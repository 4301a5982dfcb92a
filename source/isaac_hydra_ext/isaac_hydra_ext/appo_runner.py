"""``python -m isaac_hydra_ext.appo_runner [overrides]``: train with Hydra on a gymnasium env.

Examples::

    python -m isaac_hydra_ext.appo_runner                                  # the default env
    python -m isaac_hydra_ext.appo_runner env=gym_pendulum experiment.name=local_test
    python -m isaac_hydra_ext.appo_runner env=gym env.id=Hopper-v5
    python -m isaac_hydra_ext.appo_runner -m ppo.learning_rate=1e-4,3e-4   # a sweep, one directory per run
    python -m isaac_hydra_ext.appo_runner checkpoint.resume=latest          # continue the newest run

Exit codes: 0 finished or interrupted (Ctrl-C/SIGTERM: a checkpoint is saved), 1 the run failed,
2 invalid configuration (nothing was started).
"""

from __future__ import annotations

import logging
import os
import signal
import sys

# A Ctrl-C during start-up (imports, Hydra composition) must still end in an orderly exit: until the runner
# installs its own handler, note the request and stop before anything is started.
_early_stop: list[str] = []


def _early_signal(signum, _frame) -> None:
    _early_stop.append(signal.Signals(signum).name)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, _early_signal)
    signal.signal(signal.SIGTERM, _early_signal)

import hydra  # noqa: E402
from omegaconf import DictConfig, OmegaConf  # noqa: E402

from .config.store import register_configs  # noqa: E402

log = logging.getLogger("isaac_hydra_ext")


def run(cfg, run_dir: str) -> dict:
    """Validate ``cfg`` (a TrainConfig), probe the env and train in ``run_dir``; return the summary."""
    from .config.validation import validate_config
    from .envs.factory import make_vec_env, probe_env_spec
    from .runners.runner import APPORunner

    validate_config(cfg)
    spec = probe_env_spec(cfg.env)
    dist = None
    if cfg.experiment.distributed:
        from .runners.distributed import DistributedContext

        dist = DistributedContext.from_environment(cfg.experiment.device)
    try:
        inprocess = None
        if cfg.ppo.mode == "serial":
            inprocess = [make_vec_env(cfg.env, cfg.ppo.envs_per_worker) for _ in range(cfg.ppo.num_workers)]
        runner = APPORunner(cfg, run_dir, spec, inprocess_envs=inprocess, dist=dist)
        if _early_stop:
            runner.stop_reason = _early_stop[0]
        return runner.train()
    finally:
        if dist is not None:
            dist.close()


@hydra.main(version_base="1.3", config_path="conf", config_name="train_appo")
def _hydra_main(dcfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    from .config.validation import ConfigError
    from .envs.factory import EnvConfigError

    cfg = OmegaConf.to_object(dcfg)
    run_dir = HydraConfig.get().runtime.output_dir
    os.makedirs(run_dir, exist_ok=True)
    try:
        summary = run(cfg, run_dir)
    except (ConfigError, EnvConfigError) as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)
    status = summary["status"]
    if int(os.environ.get("RANK", "0")) > 0:  # rank 0 reports for the whole torchrun job
        if status == "failed":
            print(f"Error (rank {os.environ['RANK']}): {summary['error']}", file=sys.stderr, flush=True)
            sys.exit(1)
        return
    print(
        f"run {status}: {summary['iterations']} iterations, {summary['env_steps']:,} env steps, "
        f"{summary['wall_time_s']:.1f} s, mean return {summary['mean_return']}; run directory {run_dir}",
        flush=True,
    )
    if status == "failed":
        print(f"Error: {summary['error']}", file=sys.stderr, flush=True)
        sys.exit(1)


def main() -> None:
    """Console entry point (``appo-train``)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if int(os.environ.get("RANK", "0")) > 0:
        # Under torchrun only rank 0 writes a run directory; other ranks log to their console only.
        sys.argv += ["hydra.run.dir=.", "hydra.output_subdir=null", "hydra/job_logging=stdout"]
    register_configs()
    _hydra_main()


if __name__ == "__main__":
    main()
