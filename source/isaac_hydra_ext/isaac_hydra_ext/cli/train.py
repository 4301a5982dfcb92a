"""``python -m isaac_hydra_ext.appo_runner [overrides]``: train with Hydra on any registered env backend.

Examples::

    python -m isaac_hydra_ext.appo_runner                                  # the default env (MuJoCo Go1)
    python -m isaac_hydra_ext.appo_runner env=gym_pendulum experiment.name=local_test
    python -m isaac_hydra_ext.appo_runner env=gym env.id=Hopper-v5
    python -m isaac_hydra_ext.appo_runner -m ppo.entropy_coef=0.0,0.01     # a sweep, one directory per run
    python -m isaac_hydra_ext.appo_runner checkpoint.resume=latest          # continue the newest run

Exit codes: 0 finished or interrupted (Ctrl-C/SIGTERM: a checkpoint is saved), 1 the run failed,
2 invalid configuration (one line per problem; nothing was started and no run directory is left behind).
"""

from __future__ import annotations

import logging
import os
import sys
import threading

import hydra
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from ..config.schema import TrainConfig
from ..config.store import register_configs
from ..config.validation import ConfigError, config_problems, raise_if_problems, unknown_keys
from ..envs.factory import EnvBuildError, EnvConfigError, env_problems, probe_env_spec
from ..envs.vec_env import EnvSpec
from ..runners.builder import build_runner
from ..runners.distributed import DistributedContext
from ..runners.preflight import preflight_problems
from ..runners.runner import NothingToTrain
from ..runners.shutdown import StopSignals
from ..sampling.factory import UnsupportedSamplerError
from ..utils.checkpoint import CheckpointError, CheckpointMismatchError
from ..utils.run_dirs import RunDirError, create_run_dir, remove_unused_run_dir, resolve_checkpoint
from ..utils.run_logger import RunLoggerError, WandbLoginError
from . import early_signals

log = logging.getLogger("isaac_hydra_ext")

CONFIG_MODULE = "isaac_hydra_ext.conf"
CONFIG_NAME = "train_appo"


class StartError(RuntimeError):
    """The run could not start; ``exit_code`` says why (2: configuration, 1: anything else)."""

    def __init__(self, message: str, exit_code: int):
        """Carry the one-line message and the exit code."""
        super().__init__(message)
        self.exit_code = exit_code


def to_train_config(dcfg: DictConfig) -> TrainConfig:
    """The typed config of a composed Hydra config, or :class:`ConfigError` naming every unknown or missing key."""
    raise_if_problems(unknown_keys(dcfg))
    try:
        return OmegaConf.to_object(dcfg)  # type: ignore[return-value]
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", "") or ""
        if "Missing mandatory value" in str(exc) or "missing mandatory value" in str(exc):
            raise ConfigError(
                f"Invalid configuration:\n  - {key or 'a key'} is required and has no value "
                f"(set it on the command line, e.g. {key or 'env.id'}=<value>)"
            ) from exc
        raise ConfigError(f"Invalid configuration:\n  - {_first_line(exc)}") from exc


def check(cfg: TrainConfig) -> None:
    """Every value problem of ``cfg``, the env layer's (backend, env id) included, at once."""
    raise_if_problems(config_problems(cfg) + env_problems(cfg.env))


def run(cfg: TrainConfig, run_dir: str | None = None) -> dict:
    """Validate ``cfg``, probe the env, check the machine, make a run directory (unless given) and train.

    Returns the summary. Raises :class:`StartError` when the run cannot start (nothing is left behind then):
    exit code 2 for what the configuration can fix (values, env id, spaces, missing packages, the device, shared
    memory, the worker count, the output directory, a ``checkpoint.resume`` that names no checkpoint or one that
    this configuration does not fit: other env shapes, network or env id), 1 for the rest (a damaged checkpoint
    file, an env whose own code fails).
    """
    try:
        check(cfg)
        spec = probe_env_spec(cfg.env)
        raise_if_problems(preflight_problems(cfg, spec, check_output_dir=run_dir is None))
    except (ConfigError, EnvConfigError) as exc:
        raise StartError(str(exc), 2) from exc
    except EnvBuildError as exc:
        raise StartError(str(exc), 1) from exc
    try:
        resume = resolve_checkpoint(
            cfg.checkpoint.resume, cfg.experiment.output_dir, cfg.experiment.name, option="checkpoint.resume"
        )
    except CheckpointError as exc:  # checkpoint.resume names nothing to resume: a configuration error
        raise StartError(str(exc), 2) from exc
    dist = DistributedContext.from_environment(cfg.experiment.device) if cfg.experiment.distributed else None
    try:
        return _run_in_dir(cfg, spec, resume, run_dir, dist)
    finally:
        if dist is not None:
            dist.close()


def _run_in_dir(
    cfg: TrainConfig, spec: EnvSpec, resume: str | None, run_dir: str | None, dist: DistributedContext | None
) -> dict:
    """Make the run directory (unless given), build the runner and train; a run that cannot start leaves none."""
    is_main = dist is None or dist.rank == 0
    created = False
    if run_dir is None:
        try:
            run_dir = create_run_dir(cfg.experiment.output_dir, cfg.experiment.name) if is_main else "."
        except (RunDirError, OSError) as exc:
            raise StartError(
                f"cannot create a run directory under experiment.output_dir={cfg.experiment.output_dir!r}: {exc}", 2
            ) from exc
        created = is_main
    signals = StopSignals()
    try:
        runner = build_runner(cfg, run_dir, spec, resume_path=resume, dist=dist, signals=signals)
    except (NothingToTrain, CheckpointError, OSError, UnsupportedSamplerError, RunLoggerError) as exc:
        removed = created and remove_unused_run_dir(run_dir, ["config.yaml", "metrics.jsonl", "train.log"])
        if isinstance(exc, NothingToTrain):
            exc.remark = " (no run directory was made)" if removed else ""
            raise
        # what the configuration can fix: an unsupported sampler, a sound checkpoint this configuration does not fit
        if isinstance(exc, (UnsupportedSamplerError, CheckpointMismatchError, WandbLoginError)):
            raise StartError(str(exc), 2) from exc
        what = "" if isinstance(exc, CheckpointError) else f"cannot write the run's files in {run_dir}: "
        raise StartError(f"{what}{exc}", 1) from exc
    handler = _log_to_file(run_dir) if is_main else None
    if early_signals.pending():
        signals.request(early_signals.pending() or "SIGINT")
    try:
        return runner.train()
    finally:
        if handler is not None:
            logging.getLogger().removeHandler(handler)
            handler.close()


class _RunLogFile(logging.FileHandler):
    """``<run>/train.log``: when the disk refuses a write, say so once on stderr and stop writing the file.

    (``logging``'s own reaction is a traceback on stderr for every record.) The console keeps every record.
    """

    failed = False

    def emit(self, record: logging.LogRecord) -> None:
        """Write the record unless an earlier write failed."""
        if not self.failed:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        """Report the first failed write in one line; drop later records."""
        self._report(sys.exc_info()[1])

    def flush(self) -> None:
        """Flush, reporting a full or read-only disk once instead of raising."""
        try:
            super().flush()
        except OSError as exc:
            self._report(exc)

    def close(self) -> None:
        """Close the file, whatever the disk says."""
        try:
            super().close()
        except OSError as exc:
            self._report(exc)

    def _report(self, exc: BaseException | None) -> None:
        if not self.failed:
            self.failed = True
            print(
                f"WARNING isaac_hydra_ext: cannot write {self.baseFilename}: {exc}; logging to the console only",
                file=sys.stderr,
                flush=True,
            )


def _log_to_file(run_dir: str) -> logging.Handler:
    """Also write this run's log records to ``<run>/train.log``; return the handler (removed after the run)."""
    handler = _RunLogFile(os.path.join(run_dir, "train.log"))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return handler


def _first_line(exc: BaseException) -> str:
    """The informative part of an OmegaConf/Hydra error: its first line plus the reason line, without advice."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    skip = ("To append to your config", "full_key:", "object_type", "reference_type", "msg:")
    useful = [ln for ln in lines if not ln.startswith(skip)]
    cause = exc.__cause__ or exc.__context__
    if cause is not None and len(useful) < 2:
        useful += [ln.strip() for ln in str(cause).splitlines() if ln.strip() and not ln.strip().startswith(skip)]
    return ": ".join(ln.rstrip(".") for ln in useful[:2]) or type(exc).__name__


@hydra.main(version_base="1.3", config_path=f"pkg://{CONFIG_MODULE}", config_name=CONFIG_NAME)
def _hydra_main(dcfg: DictConfig) -> None:
    try:
        summary = run(to_train_config(dcfg))
    except ConfigError as exc:
        _fail(str(exc), 2)
    except StartError as exc:
        _fail(str(exc), exc.exit_code)
    except NothingToTrain as exc:  # a finished run resumed again (a job script that always resumes): not an error
        if int(os.environ.get("RANK", "0")) == 0:
            print(exc.describe(), flush=True)
        return
    status = summary["status"]
    if int(os.environ.get("RANK", "0")) > 0:  # rank 0 reports for the whole torchrun job
        if status == "failed":
            _fail(f"(rank {os.environ['RANK']}): {summary['error']}", 1)
        return
    print(
        f"run {status}: {summary['iterations']} iterations, {summary['env_steps']:,} env steps, "
        f"{summary['wall_time_s']:.1f} s, mean return {_mean_return(summary['mean_return'])}; "
        f"run directory {summary['run_dir']}",
        flush=True,
    )
    unwritten = summary.get("summary_write_error")
    note = f" (the final summary.json could not be written: {unwritten})" if unwritten else ""
    if status == "failed":
        _fail(f"{summary['error']}{note}", 1)
    if unwritten:
        print(f"WARNING: run {status}{note}", file=sys.stderr, flush=True)


def _mean_return(value: float | None) -> str:
    """The summary's mean return for the closing line: two decimals, or a dash before any episode has finished."""
    return "- (no episode finished)" if value is None else f"{value:.2f}"


def _fail(message: str, code: int) -> None:
    print(f"Error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


MULTIRUN_FLAGS = ("-m", "--multirun")
"""Hydra's sweep flags: a sweep's points are checked like a single run's overrides before the first job starts."""


def precheck(argv: list[str]) -> None:
    """Compose the command line's overrides before Hydra runs, so a bad override is one line and exit 2.

    Hydra itself reports composition errors (unknown keys, wrong types) with a multi-line message and exit code 1.
    A sweep (``-m``) is checked at each value of each swept key (the other keys at their first value), values
    included, so that a typo in its third value does not stop it after two finished jobs. Hydra's other flags
    (``--cfg``, ``--help``) and sweeps over globs are left to Hydra.
    """
    flags = [a for a in argv if a.startswith("-")]
    if any(flag not in MULTIRUN_FLAGS for flag in flags):
        return
    overrides = [a for a in argv if not a.startswith("-") and not a.startswith(("hydra.", "hydra/"))]
    try:
        points = _sweep_points(overrides) if flags else [overrides]
    except Exception as exc:  # Hydra's override syntax errors
        _fail(f"Invalid configuration:\n  - {_unparsable(exc, overrides) or _first_line(exc)}", 2)
    if not points:
        return
    from hydra import compose, initialize_config_module

    with initialize_config_module(CONFIG_MODULE, version_base="1.3"):
        for point in points:
            try:
                dcfg = compose(CONFIG_NAME, overrides=point)
            except Exception as exc:  # Hydra's override and composition errors
                problem = _missing_option(exc) or _unparsable(exc, point) or _first_line(exc) + _add_key_hint(exc)
                _fail(f"Invalid configuration:\n  - {problem}", 2)
            try:
                raise_if_problems(unknown_keys(dcfg))
                if flags:  # a single run checks its values itself; a sweep's jobs would one by one
                    check(to_train_config(dcfg))
            except ConfigError as exc:
                _fail(str(exc), 2)


def _sweep_points(overrides: list[str]) -> list[list[str]]:
    """The override lists that cover every value of a sweep, or none where it cannot be expanded here.

    All keys at their first value, then one swept key at a time at each of its other values. Empty for a glob or
    an interval sweep (left to Hydra's sweeper); an override Hydra cannot parse raises its error.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import Glob, ValueType

    parsed = OverridesParser.create().parse_overrides(overrides)
    values: list[list[str]] = []
    for override in parsed:
        if not override.is_sweep_override():
            values.append([override.input_line])
            continue
        if isinstance(override.value(), Glob) or override.value_type not in (
            ValueType.CHOICE_SWEEP,
            ValueType.SIMPLE_CHOICE_SWEEP,
            ValueType.RANGE_SWEEP,
        ):  # a glob or an interval (a sweeper plugin's search space): Hydra's sweeper expands it
            return []
        key = override.get_key_element()
        values.append([f"{key}={value}" for value in override.sweep_string_iterator()])
    first = [choices[0] for choices in values]
    points = [first]
    for index, choices in enumerate(values):
        points += [first[:index] + [choice] + first[index + 1 :] for choice in choices[1:]]
    return points


def _unparsable(exc: BaseException, overrides: list[str]) -> str:
    """One line naming the override Hydra's grammar cannot parse (its own message names only the offending text)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    if not isinstance(exc, OverrideParseException):
        return ""
    parser = OverridesParser.create()
    for override in overrides:
        try:
            parser.parse_overrides([override])
        except OverrideParseException:
            reason = str(exc).splitlines()[0].rstrip(".")
            return (
                f"{override!r} is not a valid override ({reason}); quote values with special characters, "
                "e.g. experiment.name='a,b' (https://hydra.cc/docs/advanced/override_grammar/basic)"
            )
    return ""


def _missing_option(exc: BaseException) -> str:
    """One line for ``group=name`` naming no option of a config group: the allowed options, schemas left out.

    Hydra lists them on lines of their own, after a blank line, which the one-line message would drop. A path given
    to the ``checkpoint`` group (``checkpoint=logs/appo/go1/<run>``) gets the key that resumes from it.
    """
    from hydra.errors import MissingConfigException

    if not isinstance(exc, MissingConfigException) or not exc.options or not exc.missing_cfg_file:
        return ""
    group, _, name = exc.missing_cfg_file.partition("/")
    allowed = ", ".join(o for o in exc.options if not o.endswith("_schema"))
    line = f"{group}={name} names no option of the config group {group!r} (allowed: {allowed})"
    if group == "checkpoint":
        line += f"; to resume from a checkpoint or run directory use checkpoint.resume={name}"
    return line


def _add_key_hint(exc: BaseException) -> str:
    """Hydra's ``+key=value`` advice, kept where the key goes into a free-form mapping (``env.kwargs``).

    There adding a key is what the user wants; for a typo in a typed section (``ppo.learnin_rate``) it would be
    wrong advice, and those errors say ``not in 'PPOConfig'`` rather than ``not in struct``.
    """
    cause = exc.__cause__ or exc.__context__
    if cause is None or "is not in struct" not in str(cause):
        return ""
    for line in str(exc).splitlines():
        line = line.strip()
        if line.startswith("To append to your config use +"):
            return f" (to add the key, prefix it with +: {line.removeprefix('To append to your config use ')})"
    return ""


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    """One line, not a traceback, for a background thread that fails on I/O (TensorBoard's writer on a full disk).

    The run itself sees the same error at its next write and stops with it; anything else keeps Python's report.
    """
    if isinstance(args.exc_value, OSError):
        name = args.thread.name if args.thread is not None else "a background thread"
        log.error("%s could not write: %s", name, args.exc_value)
        return
    threading.__excepthook__(args)


def main() -> None:
    """Console entry point (``appo-train``)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    threading.excepthook = _thread_excepthook
    # Hydra only parses the command line: run directories are ours (utils/run_dirs.py). The one file Hydra still
    # writes, a sweep's multirun.yaml (the sweep's overrides), goes to experiment.output_dir, not the working directory.
    register_configs()
    precheck(sys.argv[1:])
    sys.argv += [
        "hydra.run.dir=.",
        "hydra.sweep.dir=${experiment.output_dir}",  # where a sweep writes multirun.yaml, beside its runs
        "hydra.sweep.subdir=.",
        "hydra.output_subdir=null",
        "hydra/job_logging=stdout",
    ]
    _hydra_main()


if __name__ == "__main__":
    early_signals.install()
    main()
