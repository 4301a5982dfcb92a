"""Load a trained policy from a checkpoint and export it for deployment (TorchScript and ONNX).

The exported network maps *raw* observations to the *deterministic* action (the Gaussian mean): the running
observation normalization is folded in, so a robot program needs nothing else. Actions are not clipped (as
in Isaac Lab's exporters); clip to your actuator limits downstream.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass

import torch
from torch import nn

from ..config.schema import ModelConfig
from ..utils.checkpoint import load_checkpoint
from .actor_critic import GaussianPolicy, build_policy


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

    policy: GaussianPolicy
    obs_dim: int
    act_dim: int
    iteration: int
    env_steps: int
    config_yaml: str
    path: str


def load_policy(checkpoint: str, device: str | torch.device = "cpu") -> LoadedPolicy:
    """Rebuild the Gaussian policy stored in an APPO checkpoint (``weights_only`` load; clear errors)."""
    state = load_checkpoint(checkpoint, map_location=device)
    spec, shape = state["env_spec"], state["model_cfg"]
    cfg = ModelConfig(**{k: v for k, v in shape.items() if k in ModelConfig.__dataclass_fields__})
    policy = build_policy(int(spec["obs_dim"]), int(spec["act_dim"]), cfg)
    prefix = "policy."
    policy_state = {k[len(prefix):]: v for k, v in state["model"].items() if k.startswith(prefix)}
    policy.load_state_dict(policy_state)
    policy.to(device).eval()
    return LoadedPolicy(policy, int(spec["obs_dim"]), int(spec["act_dim"]), int(state["iteration"]),
                        int(state["env_steps"]), str(state.get("config_yaml", "")), os.path.abspath(checkpoint))


def export_torchscript(policy: GaussianPolicy, path: str) -> str:
    """Write ``DeterministicPolicy`` as TorchScript to ``path``; load with ``torch.jit.load``."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    scripted = torch.jit.script(DeterministicPolicy(policy))
    scripted.save(path)
    return path


def export_onnx(policy: GaussianPolicy, path: str, opset: int = 17) -> str:
    """Write ``DeterministicPolicy`` as ONNX (input ``obs`` (batch, obs_dim), output ``actions``)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    module = DeterministicPolicy(policy)
    dummy = torch.zeros(1, policy.obs_dim)
    try:  # the TorchScript-based exporter needs no extra packages
        torch.onnx.export(module, (dummy,), path, input_names=["obs"], output_names=["actions"], opset_version=opset,
                          dynamic_axes={"obs": {0: "batch"}, "actions": {0: "batch"}}, dynamo=False)
    except (TypeError, RuntimeError, ModuleNotFoundError):  # torch versions without it: the dynamo exporter
        torch.onnx.export(module, (dummy,), path, input_names=["obs"], output_names=["actions"],
                          dynamic_shapes=({0: torch.export.Dim("batch")},), dynamo=True)
    return path


def export_policy(policy: GaussianPolicy, out_dir: str) -> dict[str, str]:
    """Write ``policy.pt`` (TorchScript) and ``policy.onnx`` to ``out_dir``; return their paths."""
    return {
        "torchscript": export_torchscript(policy, os.path.join(out_dir, "policy.pt")),
        "onnx": export_onnx(policy, os.path.join(out_dir, "policy.onnx")),
    }
