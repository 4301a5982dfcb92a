"""Checkpoints: atomic writes, safe loads (``weights_only=True``), clear errors for bad files.

A checkpoint is a dict of tensors and plain Python values only, so it loads with ``weights_only=True`` (no
code can run on load):

``format``         the string ``"isaac_hydra_ext.appo"``
``format_version`` :data:`FORMAT_VERSION`
``model``          ActorCritic state dict (policy incl. normalizer, critic)
``optimizer``      Adam state dict; ``learning_rate`` the adaptive learning rate
``iteration``, ``env_steps``, ``policy_version``, ``wall_time_s``
``env_spec``       dict: obs_dim, act_dim, critic_obs_dim, action_low, action_high, max_episode_steps
``model_cfg``      dict: the PPOConfig fields that define the network shape
``config_yaml``    the run's resolved config as YAML text
``episode_returns``, ``episode_lengths``  the recent-episode window, so a resumed curve continues
"""

from __future__ import annotations

import glob
import os
import pickle
import re
import tempfile
import warnings
from typing import Any

import torch

FORMAT = "isaac_hydra_ext.appo"
FORMAT_VERSION = 1
MODEL_SHAPE_KEYS = ("actor_hidden_dims", "critic_hidden_dims", "activation", "obs_normalization")
_CHECKPOINT_RE = re.compile(r"model_(\d+)\.pt$")


class CheckpointError(RuntimeError):
    """A checkpoint cannot be written or loaded; the message says which file and why."""


def save_checkpoint(path: str, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically: a temp file in the same directory, fsync, then rename.

    If anything fails (full disk, read-only directory, size limit), ``path`` keeps its previous content and
    the temp file is removed.
    """
    directory = os.path.dirname(os.path.abspath(path)) or "."
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, **state}
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp_", suffix=".pt", dir=directory)
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
    except (OSError, RuntimeError) as exc:  # torch.save turns a failed write (e.g. disk full) into RuntimeError
        cause = exc.__context__ if isinstance(exc, RuntimeError) and isinstance(exc.__context__, OSError) else exc
        raise CheckpointError(f"could not write checkpoint {path}: {cause}") from exc
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def load_checkpoint(path: str, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load and check a checkpoint; raise :class:`CheckpointError` naming the file and the problem."""
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path} does not exist")
    if torch.device(map_location).type == "cuda" and not torch.cuda.is_available():
        raise CheckpointError(f"cannot load checkpoint {path} onto {map_location}: CUDA is not available here")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols of foreign files; our message says it
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        detail = _unpickling_detail(exc)
        if "GLOBAL" in detail:  # the file names a Python callable: loading it the unsafe way would run code
            raise CheckpointError(
                f"checkpoint {path} was refused: it is not a plain tensor/number file and would need to run code to "
                f"load (torch.load weights_only=True). Nothing was executed. Detail: {detail}"
            ) from exc
        raise CheckpointError(
            f"checkpoint {path} is corrupt or not a PyTorch checkpoint: the safe loader (torch.load "
            f"weights_only=True) could not read it. Nothing was executed. Detail: {detail}"
        ) from exc
    except Exception as exc:  # zip/EOF/runtime errors, and whatever else a foreign file makes torch.load raise
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        raise CheckpointError(
            f"checkpoint {path} is corrupt or truncated ({type(exc).__name__}: {first_line})"
        ) from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(
            f"checkpoint {path} is not an isaac_hydra_ext APPO checkpoint (expected format {FORMAT!r}, "
            f"found {state.get('format') if isinstance(state, dict) else type(state).__name__!r})"
        )
    if state.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format_version {state.get('format_version')}; this version reads {FORMAT_VERSION}"
        )
    missing = [k for k in ("model", "iteration", "env_steps", "env_spec", "model_cfg") if k not in state]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks the keys {missing}")
    return state


def _unpickling_detail(exc: Exception) -> str:
    """Return the informative line of torch's weights-only refusal (not its advice to use weights_only=False)."""
    boilerplate = ("Weights only load failed", "Please file an issue", "Check the documentation",
                   "WeightsUnpickler error")
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(boilerplate)]
    return (useful or lines or [type(exc).__name__])[0]


def check_compatible(path: str, state: dict[str, Any], env_spec: dict[str, Any], model_cfg: dict[str, Any]) -> None:
    """Refuse a checkpoint made for another env shape or network shape, naming each difference."""
    diffs = []
    for key in ("obs_dim", "act_dim", "critic_obs_dim"):
        if state["env_spec"].get(key) != env_spec.get(key):
            diffs.append(f"env {key}: checkpoint {state['env_spec'].get(key)}, this run {env_spec.get(key)}")
    for key in MODEL_SHAPE_KEYS:
        if list_or_value(state["model_cfg"].get(key)) != list_or_value(model_cfg.get(key)):
            diffs.append(f"ppo.{key}: checkpoint {state['model_cfg'].get(key)}, this run {model_cfg.get(key)}")
    if diffs:
        raise CheckpointError(f"checkpoint {path} does not fit this run's network: " + "; ".join(diffs))


def list_or_value(x: Any) -> Any:
    """Compare lists and tuples alike."""
    return list(x) if isinstance(x, (list, tuple)) else x


def checkpoint_iteration(path: str) -> int:
    """Iteration number in a ``model_<iteration>.pt`` file name (-1 if it has none)."""
    m = _CHECKPOINT_RE.search(os.path.basename(path))
    return int(m.group(1)) if m else -1


def list_checkpoints(run_dir: str) -> list[str]:
    """``model_<it>.pt`` files of a run directory, by iteration."""
    files = [p for p in glob.glob(os.path.join(run_dir, "model_*.pt")) if checkpoint_iteration(p) >= 0]
    return sorted(files, key=checkpoint_iteration)


def find_latest_checkpoint(experiment_dir: str, exclude_dir: str | None = None) -> str | None:
    """Newest checkpoint under ``<output_dir>/<name>/``: the newest run directory that has one, its last iteration.

    Run directories are named by timestamp, so their names sort by age (Isaac Lab's ``get_checkpoint_path``
    rule). Multirun sub-directories are searched too.
    """
    if not os.path.isdir(experiment_dir):
        return None
    candidates = []
    for root, _dirs, files in os.walk(experiment_dir):
        if exclude_dir and os.path.abspath(root) == os.path.abspath(exclude_dir):
            continue
        if any(_CHECKPOINT_RE.search(f) for f in files):
            candidates.append(root)
    for run_dir in sorted(candidates, key=lambda d: (os.path.relpath(d, experiment_dir), os.path.getmtime(d)),
                          reverse=True):
        checkpoints = list_checkpoints(run_dir)
        if checkpoints:
            return checkpoints[-1]
    return None


def prune_checkpoints(run_dir: str, keep_last: int) -> None:
    """Delete all but the newest ``keep_last`` periodic checkpoints (0 keeps all)."""
    if keep_last <= 0:
        return
    for path in list_checkpoints(run_dir)[:-keep_last]:
        try:
            os.unlink(path)
        except OSError:
            pass
