"""Checkpoints: atomic writes, safe loads (``weights_only=True``), clear errors for bad files.

A checkpoint is a dict of tensors and plain Python values only, so it loads with ``weights_only=True`` (no
code can run on load):

``format``         the string ``"isaac_hydra_ext.appo"``
``format_version`` :data:`FORMAT_VERSION`
``model``          ActorCritic state dict (policy incl. normalizer, critic)
``optimizer``      Adam state dict; ``learning_rate`` the adaptive learning rate
``iteration``, ``env_steps``, ``policy_version``, ``wall_time_s``
``env_spec``       dict: obs_dim, act_dim, critic_obs_dim, action_low, action_high, max_episode_steps
``env_id``         the ``env.id`` trained on (a resume on another id is refused unless allowed)
``model_cfg``      dict: the PPOConfig fields that define the network shape
``config_yaml``    the run's resolved config as YAML text
``episode_returns``, ``episode_lengths``  the recent-episode window, so a resumed curve continues

:func:`load_checkpoint` checks the format keys *and* the types of the values above, so a crafted or damaged file
is refused with one line instead of failing later; :func:`check_state_matches_model` compares the tensor shapes of
the stored ``model`` with a module before ``load_state_dict``. Finding checkpoints (``latest``, run directories)
belongs to :mod:`isaac_hydra_ext.utils.run_dirs`.
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
import warnings
from collections.abc import Mapping
from typing import Any

import torch

from ..config.schema import ModelConfig

FORMAT = "isaac_hydra_ext.appo"
FORMAT_VERSION = 1
MODEL_SHAPE_KEYS = (
    "actor_hidden_dims",
    "critic_hidden_dims",
    "activation",
    "obs_normalization",
    "rnn_type",
    "rnn_hidden_dim",
    "rnn_num_layers",
)
"""The ``ppo.*`` fields that define the network's shape: stored in ``model_cfg``, compared on resume."""
RNN_KEYS = ("rnn_type", "rnn_hidden_dim", "rnn_num_layers")
"""Shape keys of the recurrent memory; checkpoints written before it existed lack them (they are feed-forward)."""
_CHECKPOINT_RE = re.compile(r"model_(\d+)\.pt")
"""A checkpoint's file name, matched against the whole base name (so ``.tmp_*.pt`` and ``old_model_3.pt`` are not)."""


class CheckpointError(RuntimeError):
    """A checkpoint cannot be written or loaded; the message says which file and why."""


class CheckpointMismatchError(CheckpointError):
    """A sound checkpoint that this run's configuration does not fit (env shapes, network, env id).

    The configuration can fix it (set the keys as the checkpoint has them), so the command lines exit with 2, the
    configuration code, where a damaged file exits with 1.
    """


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
    if os.path.isdir(path):
        raise CheckpointError(f"checkpoint {path} is a directory: pass a model_<iteration>.pt file in it")
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
    problems = payload_problems(state)
    if problems:
        raise CheckpointError(f"checkpoint {path} has malformed contents: {'; '.join(problems)}")
    return state


def _is_count(value: Any, minimum: int) -> bool:
    """Whether ``value`` is a Python int (not a bool) of at least ``minimum``."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _describe(value: Any) -> str:
    """A short description of a bad value for an error line: its repr if short, else its type."""
    text = repr(value)
    return text if len(text) <= 40 else type(value).__name__


def payload_problems(state: Mapping[str, Any]) -> list[str]:
    """Return what is wrong with the values of a checkpoint payload (empty list: nothing).

    Checked: ``model`` is a dict of string keys to tensors; ``iteration`` and ``env_steps`` are ints >= 0;
    ``env_spec`` is a dict whose ``obs_dim`` and ``act_dim`` are ints >= 1 (and ``critic_obs_dim``, when present,
    an int >= 0); ``model_cfg`` is a dict. A missing key is reported as a problem too.
    """
    problems: list[str] = []
    model = state.get("model")
    if not isinstance(model, Mapping):
        problems.append(f"model is a {type(model).__name__}, expected a dict of tensors")
    else:
        bad_key = next((k for k in model if not isinstance(k, str)), None)
        bad_value = next((k for k, v in model.items() if not isinstance(v, torch.Tensor)), None)
        if bad_key is not None:
            problems.append(f"model has the key {bad_key!r} ({type(bad_key).__name__}), expected str keys")
        elif bad_value is not None:
            problems.append(f"model[{bad_value!r}] is a {type(model[bad_value]).__name__}, expected a tensor")
    for key in ("iteration", "env_steps"):
        if not _is_count(state.get(key), 0):
            problems.append(f"{key} is {_describe(state.get(key))}, expected an int >= 0")
    spec = state.get("env_spec")
    if not isinstance(spec, Mapping):
        problems.append(f"env_spec is a {type(spec).__name__}, expected a dict")
    else:
        required = [("obs_dim", 1), ("act_dim", 1)]
        optional = [("critic_obs_dim", 0)] if "critic_obs_dim" in spec else []
        for key, minimum in required + optional:
            if not _is_count(spec.get(key), minimum):
                problems.append(f"env_spec.{key} is {_describe(spec.get(key))}, expected an int >= {minimum}")
    if not isinstance(state.get("model_cfg"), Mapping):
        problems.append(f"model_cfg is a {type(state.get('model_cfg')).__name__}, expected a dict")
    return problems


def check_state_matches_model(
    path: str, state_dict: Mapping[str, Any], model: torch.nn.Module | Mapping[str, torch.Tensor]
) -> None:
    """Refuse a stored ``model`` state dict whose keys or tensor shapes differ from ``model``'s, in one line.

    ``model`` is the module to load into (or its state dict). The message names the first differing key, in the
    module's order, with both shapes, and how many other keys differ; call this before ``load_state_dict`` so a
    mismatch is a :class:`CheckpointError` instead of torch's multi-line ``RuntimeError``.
    """
    expected = model.state_dict() if isinstance(model, torch.nn.Module) else model
    diffs: list[str] = []
    for key, tensor in expected.items():
        if key not in state_dict:
            diffs.append(f"{key}: missing in the checkpoint, this model {list(tensor.shape)}")
            continue
        stored = state_dict[key]
        if not isinstance(stored, torch.Tensor):
            diffs.append(f"{key}: checkpoint has a {type(stored).__name__}, this model a tensor {list(tensor.shape)}")
        elif stored.shape != tensor.shape:
            diffs.append(f"{key}: checkpoint {list(stored.shape)}, this model {list(tensor.shape)}")
    for key in state_dict:
        if key not in expected:
            stored = state_dict[key]
            shape = list(stored.shape) if isinstance(stored, torch.Tensor) else type(stored).__name__
            diffs.append(f"{key}: checkpoint {shape}, not in this model")
    if diffs:
        more = f" (and {len(diffs) - 1} more)" if len(diffs) > 1 else ""
        raise CheckpointError(f"checkpoint {path} does not fit this model: {diffs[0]}{more}")


def _unpickling_detail(exc: Exception) -> str:
    """Return the informative line of torch's weights-only refusal (not its advice to use weights_only=False)."""
    boilerplate = (
        "Weights only load failed",
        "Please file an issue",
        "Check the documentation",
        "WeightsUnpickler error",
    )
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(boilerplate)]
    return (useful or lines or [type(exc).__name__])[0]


def check_compatible(path: str, state: dict[str, Any], env_spec: dict[str, Any], model_cfg: dict[str, Any]) -> None:
    """Refuse a checkpoint made for another env shape or network shape, naming each difference."""
    diffs = []
    for key in ("obs_dim", "act_dim", "critic_obs_dim"):
        if state["env_spec"].get(key) != env_spec.get(key):
            diffs.append(f"env {key}: checkpoint {state['env_spec'].get(key)}, this run {env_spec.get(key)}")
    stored_cfg = stored_model_cfg(state["model_cfg"])
    model_cfg = stored_model_cfg(model_cfg)  # a description without memory keys is feed-forward on either side
    feed_forward = stored_cfg.get("rnn_type") == model_cfg.get("rnn_type") == "none"
    for key in MODEL_SHAPE_KEYS:
        if feed_forward and key in RNN_KEYS[1:]:  # sizes of a memory neither network has
            continue
        if list_or_value(stored_cfg.get(key)) != list_or_value(model_cfg.get(key)):
            diffs.append(f"ppo.{key}: checkpoint {stored_cfg.get(key)}, this run {model_cfg.get(key)}")
    if diffs:
        memory = any(d.startswith("ppo.rnn_") for d in diffs)
        hint = " (a recurrent policy's memory must match: set ppo.rnn_* as the checkpoint has them)" if memory else ""
        raise CheckpointMismatchError(f"checkpoint {path} does not fit this run's network: " + "; ".join(diffs) + hint)


def stored_model_cfg(model_cfg: Mapping[str, Any]) -> dict[str, Any]:
    """A network description with the memory keys filled in where it has none (older, feed-forward checkpoints)."""
    defaults = ModelConfig()
    return {**{key: getattr(defaults, key) for key in RNN_KEYS}, **dict(model_cfg)}


def list_or_value(x: Any) -> Any:
    """Compare lists and tuples alike."""
    return list(x) if isinstance(x, (list, tuple)) else x


def checkpoint_iteration(path: str) -> int:
    """Iteration number in a ``model_<iteration>.pt`` file name (-1 if it has none)."""
    m = _CHECKPOINT_RE.fullmatch(os.path.basename(path))
    return int(m.group(1)) if m else -1


def list_checkpoints(run_dir: str) -> list[str]:
    """``model_<it>.pt`` files directly in ``run_dir``, by iteration (empty if it is missing or not a directory).

    The directory is listed, not globbed, so names with glob metacharacters (``exp_[64,64]``, ``*``, ``?``) work.
    """
    try:
        with os.scandir(run_dir) as entries:
            files = [e.path for e in entries if checkpoint_iteration(e.name) >= 0 and e.is_file()]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(files, key=checkpoint_iteration)


def prune_checkpoints(run_dir: str, keep_last: int) -> None:
    """Delete all but the newest ``keep_last`` periodic checkpoints (0 keeps all)."""
    if keep_last <= 0:
        return
    for path in list_checkpoints(run_dir)[:-keep_last]:
        try:
            os.unlink(path)
        except OSError:
            pass
