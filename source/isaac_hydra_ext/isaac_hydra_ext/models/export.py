"""Load a trained policy from a checkpoint and export it for deployment (TorchScript and ONNX).

The exported network maps *raw* observations to the *deterministic* action (the Gaussian mean): the running
observation normalization is folded in, so a robot program needs nothing else. Actions are not clipped (as
in Isaac Lab's exporters); clip to your actuator limits downstream. A recurrent policy (``ppo.rnn_type``) is exported
as one step that takes and returns its hidden state: ``(obs, h_in[, c_in]) -> (actions, h_out[, c_out])``
(:mod:`.recurrent_export`).

ONNX goes through PyTorch's TorchScript-based exporter, which needs the ``onnx`` package (a dependency of this
package); PyTorch versions without that exporter use the dynamo exporter, which also needs ``onnxscript`` (the
``export`` extra). Files are written to a temporary name and renamed, so a failed export leaves no half-written
file. :func:`export_after_replay` is what both play commands call: it never raises, and says in one line per
problem what was not exported and why.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch
from torch import nn

from ..config.schema import ModelConfig
from ..utils.checkpoint import CheckpointError, check_state_matches_model, load_checkpoint
from .actor_critic import GaussianPolicy, Policy, build_policy
from .onnx_metadata import write_onnx_metadata
from .recurrent import RecurrentGaussianPolicy
from .recurrent_export import ExportSignature, recurrent_signature

EXPORT_EXTRA_HINT = "pip install 'isaac_hydra_ext[export]'"
"""What installs every package an ONNX export may need."""


class DeterministicPolicy(nn.Module):
    """``actions = mean_net(normalize(obs))``: the policy's mean action for raw observations."""

    def __init__(self, policy: GaussianPolicy):
        """Copy the normalizer and the mean network of ``policy`` (float32, CPU)."""
        super().__init__()
        self.normalizer = copy.deepcopy(policy.normalizer).float().cpu()
        self.mean_net = copy.deepcopy(policy.mean_net).float().cpu()
        self.eval()

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Actions for a batch of raw observations (N, obs_dim)."""
        return self.mean_net(self.normalizer(obs))


@dataclass
class LoadedPolicy:
    """A policy restored from a checkpoint, with what is known about the run that made it."""

    policy: Policy
    """The Gaussian policy in eval mode; calling it gives the mean (deterministic) action (a recurrent one also
    takes and returns its hidden state: wrap it in :class:`~.recurrent.StatefulPolicy` to step envs)."""
    obs_dim: int
    """Size of the observation it takes."""
    act_dim: int
    """Size of the action it returns."""
    iteration: int
    """Learner iteration of the checkpoint."""
    env_steps: int
    """Env steps the run had collected."""
    config_yaml: str
    """The training run's resolved config as YAML ("" for checkpoints that do not carry it)."""
    path: str
    """Absolute path of the checkpoint file."""
    deployment: dict = field(default_factory=dict)
    """The training task's deployment info (``env_spec.deployment``: joint order, defaults, action scale, control
    period, observation terms); empty for checkpoints of tasks without it. Sim-to-sim replay maps from it."""
    env_id: str = ""
    """The training run's env id (``env.id`` of its stored config; "" when the checkpoint does not say)."""


def load_policy(checkpoint: str, device: str | torch.device = "cpu") -> LoadedPolicy:
    """Rebuild the Gaussian policy stored in an APPO checkpoint (``weights_only`` load).

    Raises :class:`~isaac_hydra_ext.utils.checkpoint.CheckpointError` (one line) for a missing, unsafe or malformed
    file, a ``model_cfg`` this version cannot build, and stored weights whose names or shapes do not fit it.
    """
    state = load_checkpoint(checkpoint, map_location=device)
    spec, shape = state["env_spec"], state["model_cfg"]
    try:
        cfg = ModelConfig(**{k: v for k, v in shape.items() if k in ModelConfig.__dataclass_fields__})
        policy = build_policy(int(spec["obs_dim"]), int(spec["act_dim"]), cfg)
    except (TypeError, ValueError, RuntimeError) as exc:  # e.g. hidden sizes that are not ints, an unknown activation
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f"checkpoint {checkpoint} has a model_cfg this version cannot build: {first}") from exc
    prefix = "policy."
    policy_state = {k[len(prefix) :]: v for k, v in state["model"].items() if k.startswith(prefix)}
    stored_memory = any(k.startswith("memory.") for k in policy_state)
    if stored_memory != (cfg.rnn_type != "none"):
        raise CheckpointError(
            f"checkpoint {checkpoint} does not fit this model: its model_cfg says ppo.rnn_type={cfg.rnn_type!r}, but "
            f"its policy weights {'have' if stored_memory else 'have no'} recurrent memory"
        )
    check_state_matches_model(checkpoint, policy_state, policy)
    try:
        policy.load_state_dict(policy_state)
    except RuntimeError as exc:  # dtypes torch cannot copy (shapes and names were checked above)
        first = str(exc).splitlines()[0]
        raise CheckpointError(f"checkpoint {checkpoint} does not fit this model: {first}") from exc
    policy.to(device).eval()
    return LoadedPolicy(
        policy,
        int(spec["obs_dim"]),
        int(spec["act_dim"]),
        int(state["iteration"]),
        int(state["env_steps"]),
        str(state.get("config_yaml", "")),
        os.path.abspath(checkpoint),
        dict(spec.get("deployment") or {}),
        _stored_env_id(str(state.get("config_yaml", ""))),
    )


def _stored_env_id(config_yaml: str) -> str:
    """``env.id`` of a stored run config ("" when absent, unset or unreadable)."""
    if not config_yaml:
        return ""
    from omegaconf import OmegaConf

    try:
        value = OmegaConf.select(OmegaConf.create(config_yaml), "env.id", default="", throw_on_missing=False)
    except Exception:  # noqa: BLE001 - a malformed stored config: play reports it where it reads the env config
        return ""
    return "" if value in (None, "???") else str(value)


class ExportDependencyError(ImportError):
    """A package an export needs is not installed; the message says which and how to install it."""


def _write_atomically(path: str, write: Callable[[str], None]) -> str:
    """Call ``write(tmp)`` for a temporary file beside ``path``, then rename it to ``path``; no partial file stays."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp_", suffix=os.path.splitext(path)[1], dir=directory)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _signature(policy: Policy) -> ExportSignature:
    """The module to export with its named inputs and outputs (a feed-forward policy: ``obs -> actions``)."""
    if isinstance(policy, RecurrentGaussianPolicy):
        return recurrent_signature(policy)
    return ExportSignature(
        DeterministicPolicy(policy), (torch.zeros(1, policy.obs_dim),), ["obs"], ["actions"], {"obs": 0, "actions": 0}
    )


def export_torchscript(policy: Policy, path: str) -> str:
    """Write the deterministic policy (a recurrent one's step) as TorchScript to ``path`` (``torch.jit.load``)."""
    scripted = torch.jit.script(_signature(policy).module)
    return _write_atomically(path, lambda tmp: scripted.save(tmp))


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def _require(module: str, what: str) -> None:
    if not _importable(module):
        raise ExportDependencyError(f"{what} needs the {module} package, which is not installed ({EXPORT_EXTRA_HINT})")


def export_onnx(policy: Policy, path: str, opset: int = 17, metadata: Mapping[str, str] | None = None) -> str:
    """Write ``DeterministicPolicy`` as ONNX (input ``obs`` (batch, obs_dim), output ``actions``).

    A recurrent policy's step has the inputs ``obs, h_in[, c_in]`` and outputs ``actions, h_out[, c_out]``
    (states (num_layers, batch, rnn_hidden_dim)). The file's metadata (:mod:`.onnx_metadata`) holds the input/output
    names, the sizes and ``metadata`` (the task's deployment info as JSON texts, from
    :func:`~.onnx_metadata.deployment_metadata`).

    Raises :class:`ExportDependencyError` when ``onnx`` is missing. Should the TorchScript-based exporter fail, the
    dynamo exporter is tried where ``onnxscript`` is installed; if that fails too (or is not there), the first
    exporter's error propagates as torch raised it, never reported as a missing package.
    """
    sig = _signature(policy)
    module, dummy, input_names, output_names = sig.module, sig.example_inputs, sig.input_names, sig.output_names
    _require("onnx", "PyTorch's ONNX exporter")
    has_dynamo = "dynamo" in inspect.signature(torch.onnx.export).parameters

    def legacy(tmp: str) -> None:  # the TorchScript-based exporter: needs only onnx
        axes = {name: {axis: "batch"} for name, axis in sig.batch_axes.items()}
        if has_dynamo:  # PyTorch >= 2.5 asks which exporter; older ones have only this one
            torch.onnx.export(
                module,
                dummy,
                tmp,
                input_names=input_names,
                output_names=output_names,
                opset_version=opset,
                dynamic_axes=axes,
                dynamo=False,
            )
        else:
            torch.onnx.export(
                module,
                dummy,
                tmp,
                input_names=input_names,
                output_names=output_names,
                opset_version=opset,
                dynamic_axes=axes,
            )

    def dynamo(tmp: str) -> None:  # needs onnxscript too
        batch = torch.export.Dim("batch")
        torch.onnx.export(
            module,
            dummy,
            tmp,
            dynamic_shapes=tuple({sig.batch_axes[name]: batch} for name in input_names),
            dynamo=True,
            input_names=input_names,
            output_names=output_names,
        )

    def annotated(write: Callable[[str], None]) -> Callable[[str], None]:
        def write_and_annotate(tmp: str) -> None:
            write(tmp)
            write_onnx_metadata(tmp, policy.obs_dim, policy.act_dim, metadata)

        return write_and_annotate

    try:
        return _write_atomically(path, annotated(legacy))
    except Exception as legacy_error:
        if not has_dynamo or not _importable("onnxscript"):
            raise
        try:  # a PyTorch without a working TorchScript-based exporter: try the dynamo one
            return _write_atomically(path, annotated(dynamo))
        except Exception:  # noqa: BLE001 - the first exporter's error is the one to report
            raise legacy_error from None


def export_policy(policy: Policy, out_dir: str, metadata: Mapping[str, str] | None = None) -> dict[str, str]:
    """Write ``policy.pt`` (TorchScript) and ``policy.onnx`` (with ``metadata``) to ``out_dir``; return their paths.

    Raises on failure.
    """
    return {
        "torchscript": export_torchscript(policy, os.path.join(out_dir, "policy.pt")),
        "onnx": export_onnx(policy, os.path.join(out_dir, "policy.onnx"), metadata=metadata),
    }


@dataclass
class ExportResult:
    """What :func:`export_after_replay` wrote, and what it could not, one line each."""

    paths: dict[str, str] = field(default_factory=dict)
    """Format (``torchscript``, ``onnx``) -> path of each file written."""
    problems: list[str] = field(default_factory=list)
    """One line per format that was not written, naming the cause."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ExportDependencyError):
        return str(exc)
    text = " ".join(str(exc).split()) if str(exc) else ""
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def export_after_replay(policy: Policy, out_dir: str, metadata: Mapping[str, str] | None = None) -> ExportResult:
    """Export ``policy`` to ``out_dir`` (TorchScript, then ONNX) without raising: each failure is one line.

    Used after a replay, so an unwritable run directory or a missing exporter package never costs the replay.
    A missing ONNX package skips only ONNX (TorchScript is still written); ``out_dir`` is removed again when this
    call created it and wrote nothing into it. ``metadata`` goes into the ONNX file (:func:`export_onnx`).
    """
    result = ExportResult()
    created = not os.path.isdir(out_dir)
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        result.problems.append(f"export skipped: cannot create {out_dir}: {_describe(exc)}")
        return result
    exporters: list[tuple[str, str, Callable[[Policy, str], str]]] = [
        ("TorchScript", "policy.pt", export_torchscript),
        ("ONNX", "policy.onnx", lambda p, path: export_onnx(p, path, metadata=metadata)),
    ]
    for label, name, export in exporters:
        path = os.path.join(out_dir, name)
        try:
            result.paths[label.lower()] = export(policy, path)
        except ExportDependencyError as exc:
            result.problems.append(f"{label} export skipped: {exc}")
        except OSError as exc:  # the directory is not writable (read-only run, full disk): the next file fails too
            result.problems.append(f"export to {out_dir} failed, nothing more exported: {_describe(exc)}")
            break
        except Exception as exc:  # noqa: BLE001 - reported in one line; the replay's results stand
            result.problems.append(f"{label} export to {path} failed: {_describe(exc)}")
    if created and not result.paths:
        try:
            os.rmdir(out_dir)
        except OSError:  # not empty
            pass
    return result
