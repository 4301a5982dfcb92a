"""``python -m isaac_hydra_ext.play [checkpoint=<path>|latest] [key=value ...]``: replay a checkpoint.

Runs the policy's deterministic action (the Gaussian mean) on the checkpoint's env — the ``-Play-`` twin when one
is registered (for the Go1 task: fixed command, no noise, no randomization) — prints the mean return and, for the
Go1 task, the velocity-tracking errors; writes an MP4 rendered offscreen (Go1 task; needs EGL or OSMesa, see
docs/go1_task.md) and exports the policy to TorchScript and ONNX next to the checkpoint. Examples::

    python -m isaac_hydra_ext.play                                   # the newest run's last checkpoint
    python -m isaac_hydra_ext.play checkpoint=logs/appo/appo/<run>/model_300.pt command=[0.8,0.0,0.3]
    python -m isaac_hydra_ext.play checkpoint=<path> video=false steps=3000 num_envs=64

Exit codes: 0 done, 2 bad input (missing or invalid checkpoint, unknown env), 3 video requested but no
offscreen OpenGL backend (the message says which system package to install; or pass ``video=false``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException


@dataclass
class PlayConfig:
    """Options of ``python -m isaac_hydra_ext.play``."""

    checkpoint: str = "latest"
    """A ``model_<iteration>.pt`` path, or ``latest``: the newest checkpoint under ``<output_dir>/<name>/``."""
    output_dir: str = "logs/appo"
    """Where ``latest`` looks (``experiment.output_dir`` of the training run)."""
    name: str = ""
    """Experiment name ``latest`` looks under (``experiment.name`` of the training run); empty: every experiment."""
    env_id: str = ""
    """Env to replay on; empty: the checkpoint's env, or its ``-Play-`` twin when registered."""
    num_envs: int = 16
    """Envs replayed together (the video films env 0)."""
    steps: int = 1000
    """Policy steps to run (1000 = one 20 s episode of the Go1 task)."""
    command: list[float] = field(default_factory=list)
    """Go1 task: fixed velocity command [vx, vy, yaw rate]; empty keeps the env's (Play: [0.5, 0, 0])."""
    video: bool = True
    """Write an MP4 of env 0 (Go1 task)."""
    video_path: str = ""
    """Where; empty: ``<run>/videos/play.mp4``."""
    export: bool = True
    """Export the policy to ``<run>/exported/policy.pt`` (TorchScript) and ``policy.onnx``."""
    seed: int = 0
    """Env seed."""


class PlayError(RuntimeError):
    """Bad input for play; the message says what to change."""


def _resolve_checkpoint(cfg: PlayConfig) -> str:
    from ..utils.checkpoint import CheckpointError
    from ..utils.run_dirs import latest_checkpoint, resolve_checkpoint

    if cfg.checkpoint in ("", "latest") and not cfg.name:  # the newest checkpoint of any experiment
        path = latest_checkpoint(os.path.abspath(cfg.output_dir))
        if path is None:
            raise CheckpointError(f"checkpoint=latest: no model_<iteration>.pt under {os.path.abspath(cfg.output_dir)}; "
                                  "train first, or pass checkpoint=<file or run directory>")
        return path
    path = resolve_checkpoint(cfg.checkpoint or "latest", cfg.output_dir, cfg.name)
    assert path is not None
    return path


def _play_env_id(env_id: str) -> str:
    import gymnasium as gym

    from .. import envs  # noqa: F401  (registers our ids)

    if "-Play-" in env_id:
        return env_id
    head, _, version = env_id.rpartition("-")
    twin = f"{head}-Play-{version}"
    return twin if twin in gym.registry else env_id


def play(cfg: PlayConfig) -> dict:
    """Replay, report, film and export; return what was measured."""
    import numpy as np
    import torch

    from ..envs.factory import EnvConfigError, check_env_id
    from ..envs.registration import GO1_FLAT_ID, GO1_FLAT_PLAY_ID
    from ..models.export import export_policy, load_policy

    checkpoint = _resolve_checkpoint(cfg)
    loaded = load_policy(checkpoint)
    trained = OmegaConf.create(loaded.config_yaml) if loaded.config_yaml else OmegaConf.create({})
    env_id = cfg.env_id or _play_env_id(str(OmegaConf.select(trained, "env.id", default="")))
    if not env_id:
        raise PlayError(f"checkpoint {checkpoint} does not name its env; pass env_id=<gymnasium id>")
    try:
        env_id = check_env_id(env_id)
    except EnvConfigError as exc:
        raise PlayError(str(exc)) from exc
    kwargs = dict(OmegaConf.to_container(OmegaConf.select(trained, "env.kwargs", default={})) or {})
    go1 = env_id in (GO1_FLAT_ID, GO1_FLAT_PLAY_ID)
    if cfg.command:
        if not go1 or len(cfg.command) != 3:
            raise PlayError(f"command={list(cfg.command)} is invalid: must be [vx, vy, yaw_rate] for the Go1 task")
        kwargs.setdefault("commands", {})["fixed_command"] = [float(x) for x in cfg.command]
    import gymnasium as gym

    if gym.spec(env_id).vector_entry_point is not None:
        env = gym.make_vec(env_id, num_envs=cfg.num_envs, vectorization_mode="vector_entry_point", **kwargs)
    else:
        env = gym.make_vec(env_id, num_envs=cfg.num_envs, vectorization_mode="sync", **kwargs)
    obs_dim = env.single_observation_space.shape[0]
    if obs_dim != loaded.obs_dim:
        raise PlayError(f"env {env_id} has {obs_dim} observations, the checkpoint's policy takes {loaded.obs_dim}")
    run_dir = os.path.dirname(checkpoint)
    # Export first: it needs nothing from the replay, and it must not fail after minutes of rendering.
    exported = export_policy(loaded.policy, os.path.join(run_dir, "exported")) if cfg.export else None
    renderer = writer = None
    if cfg.video and go1:
        from ..envs.go1.render import Go1Renderer, Mp4Writer

        video_path = cfg.video_path or os.path.join(run_dir, "videos", "play.mp4")
        renderer = Go1Renderer(env.unwrapped if hasattr(env, "unwrapped") else env)
        writer = Mp4Writer(video_path, fps=1.0 / env.unwrapped.step_dt)
    low, high = env.single_action_space.low, env.single_action_space.high
    bounded = bool(np.all(np.isfinite(low)) and np.all(np.isfinite(high)))
    obs, _ = env.reset(seed=cfg.seed)
    returns = np.zeros(cfg.num_envs)
    finished, falls = [], 0
    lin_err, yaw_err = [], []
    try:
        for _ in range(cfg.steps):
            with torch.inference_mode():
                actions = loaded.policy(torch.as_tensor(obs, dtype=torch.float32)).numpy()
            if bounded:
                actions = np.clip(actions, low, high)
            if go1:  # Isaac Lab's observation order: lin vel (0:3), ang vel (3:6), gravity, command (9:12), ...
                lin_err.append(np.linalg.norm(obs[:, 0:2] - obs[:, 9:11], axis=1).mean())
                yaw_err.append(np.abs(obs[:, 5] - obs[:, 11]).mean())
            obs, reward, terminated, truncated, _ = env.step(actions)
            returns += reward
            done = np.logical_or(terminated, truncated)
            falls += int(np.sum(terminated))
            finished.extend(returns[done].tolist())
            returns[done] = 0.0
            if writer is not None:
                writer.append(renderer.render(0))
    finally:
        if writer is not None:
            writer.close()
        if renderer is not None:
            renderer.close()
        env.close()
    result = {"checkpoint": checkpoint, "env_id": env_id, "steps": cfg.steps, "num_envs": cfg.num_envs,
              "episodes_finished": len(finished), "terminations": falls,
              "mean_return": float(np.mean(finished)) if finished else float(np.mean(returns))}
    if go1:
        result["mean_lin_vel_error_m_s"] = float(np.mean(lin_err))
        result["mean_yaw_rate_error_rad_s"] = float(np.mean(yaw_err))
    if writer is not None:
        result["video"] = writer.path
    if exported is not None:
        result["exported"] = exported
    return result


def parse_args(argv: list[str]) -> PlayConfig:
    """``key=value`` arguments into a typed :class:`PlayConfig` (unknown keys and wrong types are errors)."""
    bad = [a for a in argv if "=" not in a]
    if bad:
        raise PlayError(f"arguments must be key=value, got {bad}; keys: {', '.join(PlayConfig.__dataclass_fields__)}")
    try:
        merged = OmegaConf.merge(OmegaConf.structured(PlayConfig), OmegaConf.from_dotlist(argv))
    except OmegaConfBaseException as exc:
        raise PlayError(f"{str(exc).splitlines()[0]} (keys: {', '.join(PlayConfig.__dataclass_fields__)})") from exc
    return OmegaConf.to_object(merged)


def main(argv: list[str] | None = None) -> int:
    """Console entry point (``appo-play``); returns the exit code."""
    from ..envs.go1.render import RenderingUnavailableError
    from ..utils.checkpoint import CheckpointError

    try:
        result = play(parse_args(sys.argv[1:] if argv is None else argv))
    except (PlayError, CheckpointError) as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return 2
    except (RenderingUnavailableError, ImportError) as exc:
        print(f"Error: cannot write the video: {exc}\n(pass video=false to replay without it)", file=sys.stderr,
              flush=True)
        return 3
    print(f"played {result['steps']} steps x {result['num_envs']} envs of {result['env_id']} "
          f"from {result['checkpoint']}")
    print(f"  episodes finished: {result['episodes_finished']}, terminations (falls): {result['terminations']}, "
          f"mean return: {result['mean_return']:.3f}")
    if "mean_lin_vel_error_m_s" in result:
        print(f"  tracking error: linear velocity {result['mean_lin_vel_error_m_s']:.3f} m/s, "
              f"yaw rate {result['mean_yaw_rate_error_rad_s']:.3f} rad/s")
    if "video" in result:
        print(f"  video: {result['video']}")
    if "exported" in result:
        print(f"  exported: {result['exported']['torchscript']}, {result['exported']['onnx']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

