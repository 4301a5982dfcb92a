"""``python -m isaac_hydra_ext.play [checkpoint=<path>|latest] [key=value ...]``: replay a checkpoint.

Runs the policy's deterministic action (the Gaussian mean) on the checkpoint's env, made exactly as training made it
(:func:`~isaac_hydra_ext.envs.factory.make_vec_env` with the run's env config, so the same autoreset and kwargs) but
on the ``-Play-`` twin of its id when one is registered (for the Go1 task: fixed command, no noise, no pushes).
Each of the ``num_envs`` envs gets its own seed stream. It prints the episodes' return, length and terminations and
the env's own episode metrics under the env's names (for the Go1 task ``Metrics/base_velocity/error_vel_xy`` ...),
writes an MP4 of env 0 through the env's ``render_frame`` hook (the Go1 task renders offscreen and needs EGL or
OSMesa, see docs/go1_task.md; gymnasium envs render with ``render_mode="rgb_array"``), and *after* the replay
exports the policy to TorchScript and ONNX next to the checkpoint (a failed export is one line; the replay stands).
The loop and the report are :mod:`isaac_hydra_ext.envs.replay`, shared with the Isaac Lab play script. Examples::

    python -m isaac_hydra_ext.play                                   # the newest checkpoint under logs/appo
    python -m isaac_hydra_ext.play checkpoint=logs/appo/go1/<run>/model_300.pt command=[0.8,0.0,0.3]
    python -m isaac_hydra_ext.play checkpoint=logs/appo/go1/<run> video=false steps=3000 num_envs=64
    python -m isaac_hydra_ext.play checkpoint=<Newton run> env.id=Sber-Velocity-Flat-Go1-MuJoCo-Play-v0  # sim-to-sim

A checkpoint replayed on another task than its own (``env_id=``, also spelled ``env.id=``) is a sim-to-sim replay:
observations and actions are mapped between the two tasks' deployment info (:mod:`isaac_hydra_ext.envs.sim2sim`;
e.g. a policy trained on the Isaac Lab Newton Go1 task replayed on the embedded MuJoCo one); the report says which
mapping was applied and adds the velocity-tracking errors and the fall rate; what cannot be mapped is exit 2.

A first Ctrl-C ends the replay after the current step (the report, video and export follow, exit 0); a second one,
or one before the replay, stops at once (exit 130).

Exit codes: 0 done (also when only the export failed: see its line), 2 bad input (a bad value, a missing or invalid
checkpoint, an unknown env), 3 video requested but it cannot be written (the message names the cause, e.g. the
system package for offscreen OpenGL; or pass ``video=false``).
"""

from __future__ import annotations

import copy
import os
import signal
import sys
from dataclasses import dataclass, field
from typing import Any, cast

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException, ValidationError

from ..config.schema import EnvConfig
from ..envs.replay import ReplayReport, report_lines
from ..envs.sim2sim import same_task
from ..utils.paths import output_file_problems


@dataclass
class PlayConfig:
    """Options of ``python -m isaac_hydra_ext.play``."""

    checkpoint: str = "latest"
    """A ``model_<iteration>.pt`` file, a run directory (its newest checkpoint), or ``latest``: the newest
    checkpoint under ``<output_dir>/<name>/`` (every experiment when ``name`` is empty)."""
    output_dir: str = "logs/appo"
    """Where ``latest`` looks (``experiment.output_dir`` of the training run)."""
    name: str = ""
    """Experiment name ``latest`` looks under (``experiment.name`` of the training run); empty: every experiment."""
    env_id: str = ""
    """Env to replay on; empty: the checkpoint's env, or its ``-Play-`` twin when registered."""
    num_envs: int = 16
    """Envs replayed together, each with its own seed stream (the video films env 0)."""
    steps: int = 1000
    """Policy steps to run (1000 = one 20 s episode of the Go1 task)."""
    command: list[float] = field(default_factory=list)
    """Fixed command of tasks that take ``commands.fixed_command`` (the Go1 task: [vx, vy, yaw rate]); empty keeps
    the env's (Go1 Play: [0.5, 0, 0])."""
    video: bool = True
    """Write an MP4 of env 0 (needs an env that renders; ``false`` never touches video code)."""
    video_path: str = ""
    """Where; empty: ``<run>/videos/play.mp4``."""
    export: bool = True
    """After the replay, export the policy to ``<run>/exported/policy.pt`` (TorchScript) and ``policy.onnx``."""
    seed: int = 0
    """Env seed (the envs get their own streams from it)."""
    report_json: str = ""
    """Also write the report as JSON to this file (episodes, metrics, the sim-to-sim mapping); empty: don't."""


class PlayError(RuntimeError):
    """Bad input for play; the message says what to change."""


@dataclass
class PlayResult:
    """What :func:`play` did."""

    checkpoint: str
    """The checkpoint file replayed."""
    env_id: str
    """The env it was replayed on."""
    report: ReplayReport
    """What the replay measured."""
    video: str = ""
    """Path of the MP4 written ("" without video)."""
    exported: dict[str, str] = field(default_factory=dict)
    """Format -> path of each exported file."""
    export_problems: list[str] = field(default_factory=list)
    """One line per export that failed or was skipped."""
    onnx_metadata: dict[str, Any] = field(default_factory=dict)
    """The exported ONNX file's deployment metadata, read back from it (empty when no ONNX was written)."""
    notes: list[str] = field(default_factory=list)
    """Report lines after the first: the sim-to-sim mapping applied and its tracking summary (empty otherwise)."""


def play_problems(cfg: PlayConfig) -> list[str]:
    """What is wrong with the values of ``cfg`` (one line each; empty: nothing)."""
    problems = []
    for key in ("num_envs", "steps"):
        value = getattr(cfg, key)
        if value < 1:
            problems.append(f"{key}={value} is invalid: must be an integer >= 1")
    if cfg.seed < 0:
        problems.append(f"seed={cfg.seed} is invalid: must be an integer >= 0 (the envs' seed streams start there)")
    problems += output_file_problems("report_json", cfg.report_json)
    if cfg.video:
        problems += output_file_problems("video_path", cfg.video_path)
    return problems


def _resolve_checkpoint(cfg: PlayConfig) -> str:
    from ..utils.checkpoint import CheckpointError
    from ..utils.run_dirs import latest_checkpoint, resolve_checkpoint

    if cfg.checkpoint in ("", "latest") and not cfg.name:  # the newest checkpoint of any experiment
        path = latest_checkpoint(os.path.abspath(cfg.output_dir))
        if path is None:
            raise CheckpointError(
                f"checkpoint=latest: no model_<iteration>.pt under {os.path.abspath(cfg.output_dir)}; "
                "train first, or pass checkpoint=<file or run directory>"
            )
        return path
    path = resolve_checkpoint(cfg.checkpoint or "latest", cfg.output_dir, cfg.name)
    assert path is not None
    return path


def _play_env_id(env_id: str) -> str:
    """``env_id``'s ``-Play-`` twin when one is registered (``Name-v0`` -> ``Name-Play-v0``), else ``env_id``."""
    import gymnasium as gym

    if "-Play-" in env_id:
        return env_id
    head, _, version = env_id.rpartition("-")
    twin = f"{head}-Play-{version}"
    return twin if twin in gym.registry else env_id


def _trained_env_config(config_yaml: str) -> EnvConfig | None:
    """The training run's ``env`` section as an :class:`EnvConfig` (None when the checkpoint carries no config)."""
    if not config_yaml:
        return None
    node = OmegaConf.select(OmegaConf.create(config_yaml), "env", default=None)
    if node is None:
        return None
    stored = cast("dict[str, Any]", OmegaConf.to_container(node))
    known = {k: v for k, v in stored.items() if k in EnvConfig.__dataclass_fields__}
    return cast(EnvConfig, OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(EnvConfig), known)))


def play_env_config(cfg: PlayConfig, checkpoint: str, config_yaml: str) -> EnvConfig:
    """The env config to replay on: the training run's, on its ``-Play-`` twin or on ``cfg.env_id``.

    The run's backend, kwargs, time limit and action clipping are kept (a different ``env_id`` gets none of the
    kwargs); ``cfg.command`` becomes ``kwargs.commands.fixed_command``.
    """
    from ..envs.factory import EnvConfigError, check_env_id

    try:
        trained = _trained_env_config(config_yaml)
    except Exception as exc:  # noqa: BLE001 - only the stored YAML was parsed: a malformed checkpoint config
        raise PlayError(
            f"checkpoint {checkpoint}: its env config cannot be read ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:200]}); "
            "pass env_id=<gymnasium id>"
        ) from exc
    if trained is not None and trained.backend == "isaaclab" and (not cfg.env_id or same_task(cfg.env_id, trained.id)):
        raise PlayError(
            f"checkpoint {checkpoint} was trained on the Isaac Lab task {trained.id}: replay it with "
            f"scripts/reinforcement_learning/appo/play.py --task <its -Play- id> --checkpoint {checkpoint} (or "
            "pass env_id=<one of our gymnasium Go1 ids> for a sim-to-sim replay)"
        )
    if trained is None or not trained.id or trained.id == "???":
        if not cfg.env_id:
            raise PlayError(f"checkpoint {checkpoint} does not name its env; pass env_id=<gymnasium id>")
        env_cfg = EnvConfig(id=cfg.env_id)
    elif cfg.env_id and cfg.env_id not in (trained.id, _play_env_id(trained.id)):
        env_cfg = EnvConfig(id=cfg.env_id, clip_actions=trained.clip_actions)  # another env: none of its kwargs
    else:
        env_cfg = copy.deepcopy(trained)
        env_cfg.id = cfg.env_id or (_play_env_id(trained.id) if trained.backend == "gym" else trained.id)
        env_cfg.launch = type(trained.launch)()
    if env_cfg.backend == "gym":
        try:
            env_cfg.id = check_env_id(env_cfg.id)
        except EnvConfigError as exc:
            raise PlayError(str(exc)) from exc
    if cfg.command:
        kwargs: dict[str, Any] = dict(env_cfg.kwargs)
        kwargs["commands"] = {**dict(kwargs.get("commands") or {}), "fixed_command": [float(x) for x in cfg.command]}
        env_cfg.kwargs = kwargs
    return env_cfg


def _make_env(cfg: PlayConfig, env_cfg: EnvConfig) -> Any:
    from ..envs.factory import EnvConfigError, make_vec_env

    try:
        return make_vec_env(env_cfg, cfg.num_envs)
    except (EnvConfigError, TypeError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if cfg.command:
            raise PlayError(
                f"command={list(cfg.command)}: env {env_cfg.id} cannot take it as "
                f"commands.fixed_command (command= is for tasks with a fixed command, such as the Go1 "
                f"task's [vx, vy, yaw_rate]): {first}"
            ) from exc
        raise PlayError(f"cannot make env {env_cfg.id}: {first}") from exc


def play(cfg: PlayConfig) -> PlayResult:
    """Replay, report, film and then export.

    Raises :class:`PlayError` or ``CheckpointError`` for bad input and :class:`~isaac_hydra_ext.envs.video.VideoError`
    when a requested video cannot be written (before the first step).
    """
    from ..envs.replay import replay, write_report_json
    from ..envs.sim2sim import MappedPolicy, Sim2SimError, sim2sim_mapping, summary_line
    from ..models.export import export_after_replay, load_policy
    from ..models.onnx_metadata import deployment_metadata, read_onnx_metadata
    from ..models.recurrent import StatefulPolicy

    problems = play_problems(cfg)
    if problems:
        raise PlayError("; ".join(problems))
    checkpoint = _resolve_checkpoint(cfg)
    loaded = load_policy(checkpoint)
    env_cfg = play_env_config(cfg, checkpoint, loaded.config_yaml)
    run_dir = os.path.dirname(checkpoint)
    recorder = None
    ctrl_c = _CtrlCStopsTheReplay()
    if cfg.video:
        from ..envs.video import rendering_env_config

        env_cfg = rendering_env_config(env_cfg)
    env = _make_env(cfg, env_cfg)
    metadata = deployment_metadata(env.spec.deployment, env_cfg.id)
    policy: Any = StatefulPolicy(loaded.policy)
    mapping = None
    try:
        try:
            mapping = sim2sim_mapping(loaded, env.spec, env_cfg.id)
        except Sim2SimError as exc:
            raise PlayError(str(exc)) from exc
        if mapping is not None:  # the policy sees its training layout; export describes that layout
            policy = MappedPolicy(policy, mapping)
            metadata = deployment_metadata(loaded.deployment, loaded.env_id)
        elif (env.spec.obs_dim, env.spec.act_dim) != (loaded.obs_dim, loaded.act_dim):
            raise PlayError(
                f"env {env_cfg.id} has {env.spec.obs_dim} observations and {env.spec.act_dim} actions, "
                f"the checkpoint's policy {loaded.obs_dim} and {loaded.act_dim}; pass env_id=<the "
                "env it was trained on>"
            )
        if cfg.video:
            from ..envs.video import VideoRecorder

            recorder = VideoRecorder(env, cfg.video_path or os.path.join(run_dir, "videos", "play.mp4"))
        with ctrl_c:
            print(
                f"replaying {checkpoint} on {env_cfg.id}: {cfg.num_envs} envs x {cfg.steps} steps "
                "(Ctrl-C ends it early)",
                flush=True,
            )
            report = replay(
                env,
                policy,
                cfg.steps,
                cfg.seed,
                clip_actions=env_cfg.clip_actions,
                on_frame=None if recorder is None else recorder.capture,
                keep_running=ctrl_c.keep_running,
            )
        if recorder is not None:
            recorder.close()
    except BaseException:
        if recorder is not None:
            recorder.abort()
        raise
    finally:
        env.close()
    result = PlayResult(checkpoint, env_cfg.id, report, video="" if recorder is None else recorder.path)
    if mapping is not None:
        result.notes = [f"  {mapping.describe()}", summary_line(report)]
    if ctrl_c.stopped:
        result.notes.append(f"  stopped by Ctrl-C after {report.steps} of {cfg.steps} steps")
    if cfg.report_json:
        try:
            write_report_json(cfg.report_json, report, env_cfg.id, checkpoint, mapping)
        except OSError as exc:  # checked before the replay; a folder that went away or a full disk since
            raise PlayError(f"report_json={cfg.report_json!r} cannot be written: {exc.strerror or exc}") from exc
    if cfg.export:  # after the replay: an unwritable run directory or a missing package must not cost the replay
        exported = export_after_replay(loaded.policy, os.path.join(run_dir, "exported"), metadata)
        result.exported, result.export_problems = exported.paths, exported.problems
        if "onnx" in exported.paths:
            result.onnx_metadata = read_onnx_metadata(exported.paths["onnx"])
    return result


class _CtrlCStopsTheReplay:
    """Ctrl-C within the block: the first ends the replay after the current step, a second interrupts at once.

    After a first Ctrl-C the report, the video and the export still follow. Outside the main thread nothing is
    installed.
    """

    def __init__(self) -> None:
        self.stopped = False
        self._previous: Any = None

    def keep_running(self) -> bool:
        """For :func:`~isaac_hydra_ext.envs.replay.replay`: False once Ctrl-C was pressed."""
        return not self.stopped

    def _handle(self, _signum: int, _frame: Any) -> None:
        if self.stopped:
            raise KeyboardInterrupt
        self.stopped = True
        try:  # unbuffered: the interrupted code may be writing to stderr's buffer
            os.write(2, b"Ctrl-C: ending the replay after this step (again: stop at once)\n")
        except OSError:
            pass

    def __enter__(self) -> _CtrlCStopsTheReplay:
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread
            self._previous = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def parse_args(argv: list[str]) -> PlayConfig:
    """``key=value`` arguments into a typed :class:`PlayConfig` (unknown keys and wrong types are errors)."""
    argv = [f"env_id={a[len('env.id=') :]}" if a.startswith("env.id=") else a for a in argv]  # training's key
    bad = [a for a in argv if "=" not in a]
    if bad:
        raise PlayError(f"arguments must be key=value, got {bad}; keys: {', '.join(PlayConfig.__dataclass_fields__)}")
    try:
        merged = OmegaConf.merge(OmegaConf.structured(PlayConfig), OmegaConf.from_dotlist(argv))
    except OmegaConfBaseException as exc:
        # a value of the wrong type: name the key and the value given (an unknown key names itself already)
        key = getattr(exc, "full_key", "") or ""
        given = next((a.split("=", 1)[1] for a in argv if a.split("=", 1)[0] == key), None)
        where = f"{key}={given!r}: " if isinstance(exc, ValidationError) and given is not None else ""
        raise PlayError(
            f"{where}{str(exc).splitlines()[0]} (keys: {', '.join(PlayConfig.__dataclass_fields__)})"
        ) from exc
    return cast(PlayConfig, OmegaConf.to_object(merged))


def main(argv: list[str] | None = None) -> int:
    """Console entry point (``appo-play``); returns the exit code."""
    from ..envs.video import VideoError
    from ..utils.checkpoint import CheckpointError
    from ..utils.run_dirs import RunDirError

    try:
        result = play(parse_args(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:  # before the replay started, or a second Ctrl-C during it
        print("Error: interrupted (nothing exported)", file=sys.stderr, flush=True)
        return 130
    except (PlayError, CheckpointError, RunDirError) as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return 2
    except VideoError as exc:
        print(f"Error: {exc} (pass video=false to replay without a video)", file=sys.stderr, flush=True)
        return 3
    print("\n".join(report_lines(result.report, result.env_id, result.checkpoint, result.notes)), flush=True)
    if result.video:
        print(f"  video: {result.video}")
    if result.exported:
        print(f"  exported: {', '.join(result.exported.values())}", flush=True)
    if result.onnx_metadata:
        from ..models.onnx_metadata import metadata_lines

        print("\n".join(metadata_lines(result.onnx_metadata)), flush=True)
    for problem in result.export_problems:
        print(f"Warning: {problem}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
