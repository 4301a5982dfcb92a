"""Weights & Biases output of a run (``logging.wandb=true``); wandb is imported only here, only when enabled.

One W&B run per training run: its name is the run directory's name, its files go to ``<run>/wandb/``, its config
is the resolved run config, its step axis is env steps (the same x axis as TensorBoard), and every scalar the
run logs to TensorBoard is logged to it too, with videos and the final summary. A run resumed from a checkpoint
(``checkpoint.resume``) continues the W&B run of the run it resumes (its id is read from that run's
``summary.json``). ``WANDB_MODE=offline`` writes everything locally; ``wandb sync <run>/wandb/offline-run-*``
uploads it later (resumed sessions in order, into the one run).
"""

from __future__ import annotations

import json
import os
from typing import Any

INSTALL_HINT = "pip install 'isaac_hydra_ext[wandb]' (or pip install wandb)"


class WandbUnavailableError(ImportError):
    """``logging.wandb=true`` but the wandb package cannot be imported."""


def require_wandb() -> None:
    """Raise :class:`WandbUnavailableError` (one line, with the install command) when wandb does not import."""
    try:
        import wandb  # noqa: F401
    except ImportError as exc:
        raise WandbUnavailableError(f"logging.wandb=true needs the wandb package ({exc}): {INSTALL_HINT}") from None


def previous_run(resumed_from: str | None) -> dict[str, Any] | None:
    """The W&B run (``id``, ``name``, ...) recorded in ``summary.json`` beside the checkpoint a run resumes from."""
    if not resumed_from:
        return None
    path = os.path.join(os.path.dirname(os.path.abspath(resumed_from)), "summary.json")
    try:
        with open(path) as f:
            wandb_info = json.load(f).get("wandb") or {}
    except (OSError, ValueError):
        return None
    return wandb_info if wandb_info.get("id") else None


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, f"{name}/"))
        elif isinstance(value, (int, float, str, bool)) or value is None:
            out[name] = value
    return out


class WandbSink:
    """A W&B run that receives the run's scalars (at env steps), videos, config and final summary.

    Args:
        run_dir: the training run's directory (W&B files go to ``<run_dir>/wandb/``; the run is named after it).
        project: W&B project.
        entity: W&B entity (user or team); empty: the default entity of the logged-in user.
        group: W&B group; empty: none.
        config: the resolved run config (nested dict).
        resume: the W&B run to continue (``id`` and ``name``, as :func:`previous_run` returns), or None for a new
            run named after ``run_dir``.

    """

    def __init__(
        self,
        run_dir: str,
        project: str,
        entity: str = "",
        group: str = "",
        config: dict[str, Any] | None = None,
        resume: dict[str, Any] | None = None,
    ):
        """Start (or resume) the W&B run."""
        import wandb

        name = os.path.basename(os.path.normpath(run_dir))
        self._wandb = wandb
        self.run = wandb.init(
            project=project,
            entity=entity or None,
            group=group or None,
            name=(resume or {}).get("name") or name,
            id=resume["id"] if resume else None,
            resume="allow" if resume else None,
            dir=run_dir,
            config={**(config or {}), "run_dir": os.path.abspath(run_dir)},
            allow_val_change=True,
            settings=wandb.Settings(console="off", silent=True, save_code=False),
        )
        self.resumed = resume is not None
        self._last_step = -1

    @property
    def info(self) -> dict[str, Any]:
        """What ``summary.json`` records about the W&B run: id, project, entity, mode, local directory, URL."""
        run = self.run
        offline = bool(getattr(run.settings, "_offline", False)) or run.settings.mode == "offline"
        return {
            "id": run.id,
            "project": run.project,
            "entity": getattr(run, "entity", None) or None,
            "name": run.name,
            "mode": "offline" if offline else "online",
            "dir": os.path.dirname(run.dir),
            "url": None if offline else run.url,
        }

    def where(self) -> str:
        """One line for the banner: the run's URL, or the offline directory and how to upload it."""
        info = self.info
        if info["url"]:
            return str(info["url"])
        return f"offline; upload with: wandb sync {info['dir']}"

    def _step(self, step: int) -> int:
        # W&B rejects steps below the last one; never go back (e.g. a late video of an earlier iteration).
        self._last_step = max(self._last_step, int(step))
        return self._last_step

    def log_scalars(self, values: dict[str, float], step: int, wall_time_s: float) -> None:
        """Log scalars at env step ``step`` (also as the ``env_steps`` and ``wall_time_s`` series)."""
        self.run.log({**values, "env_steps": int(step), "wall_time_s": float(wall_time_s)}, step=self._step(step))

    def log_video(self, key: str, path: str, step: int, caption: str = "") -> None:
        """Log the MP4 at ``path`` under ``key``."""
        video = self._wandb.Video(path, format="mp4", caption=caption or None)
        self.run.log({key: video}, step=self._step(step))

    def log_image(self, key: str, path: str, step: int) -> None:
        """Log the image file at ``path`` under ``key``."""
        self.run.log({key: self._wandb.Image(path)}, step=self._step(step))

    def finish(self, summary: dict[str, Any] | None = None, exit_code: int = 0) -> None:
        """Record the final summary (flattened: ``accounting/rollouts_trained``, ...) and close the run.

        ``summary["last"]`` is left out: W&B's summary already holds the last value of every logged series.
        """
        if self.run is None:
            return
        try:
            if summary:
                self.run.summary.update({k: v for k, v in _flat(summary).items() if not k.startswith("last/")})
        finally:
            self.run.finish(exit_code=exit_code)
            self.run = None
