"""Data-parallel learners on PyTorch's own distributed engine (``torchrun``), as Isaac Lab users launch them.

Each rank is one learner with its own workers (or in-process env). Ranks stay identical by construction:

* parameters are broadcast from rank 0 at start and after a resume;
* gradients are averaged across ranks every minibatch (one flat all-reduce);
* normalizer statistics are merged from all-reduced batch moments;
* the adaptive learning rate is driven by the KL averaged over ranks, and a non-finite step is skipped by
  every rank if it is non-finite on any;
* env steps are summed over ranks, so budgets and logs count the whole job, and all ranks agree each
  iteration on whether to stop (a signal or an error on one rank stops all of them).

Only rank 0 writes logs and checkpoints. NCCL on GPUs, gloo on CPUs. See docs/scaling_out.md.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from ..config.validation import ConfigError


class PeerFailure(RuntimeError):
    """A collective failed: another rank died or stopped answering."""


def _guard(what: str):
    def wrap(fn):
        def inner(self, *args, **kwargs):
            try:
                return fn(self, *args, **kwargs)
            except (RuntimeError, dist.DistBackendError) as exc:
                if isinstance(exc, PeerFailure):
                    raise
                raise PeerFailure(
                    f"rank {self.rank}/{self.world_size}: {what} failed — another rank died or stopped answering "
                    f"({str(exc).splitlines()[0][:300]}); stopping this rank"
                ) from exc

        return inner

    return wrap


@dataclass
class GradientSync:
    """The collectives the algorithm needs (averaging, sums, agreement)."""

    rank: int
    world_size: int
    device: torch.device

    @_guard("all-reduce of statistics")
    def all_reduce_sum(self, t: torch.Tensor) -> torch.Tensor:
        """Sum ``t`` over ranks (returns a new tensor on ``t``'s device)."""
        out = t.detach().clone().to(self.device)
        dist.all_reduce(out, op=dist.ReduceOp.SUM)
        return out.to(t.device)

    @_guard("gradient all-reduce")
    def average_gradients(self, model: nn.Module) -> None:
        """Average every parameter's gradient over ranks with one flat all-reduce."""
        params = [p for p in model.parameters() if p.requires_grad]
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        flat /= self.world_size
        offset = 0
        for p in params:
            n = p.numel()
            p.grad = flat[offset : offset + n].view_as(p).clone()
            offset += n

    @_guard("KL all-reduce")
    def mean_scalar(self, x: float) -> float:
        """Mean of a scalar over ranks."""
        t = torch.tensor([x], dtype=torch.float64, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return float(t) / self.world_size

    @_guard("agreement all-reduce")
    def all_true(self, ok: bool) -> bool:
        """True only if ``ok`` on every rank."""
        t = torch.tensor([1.0 if ok else 0.0], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MIN)
        return bool(t.item() > 0.5)

    @_guard("advantage statistics all-reduce")
    def global_mean_std(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and (unbiased) std of ``x`` over the samples of all ranks."""
        s = torch.stack([torch.tensor(float(x.numel()), device=x.device), x.sum(), (x * x).sum()]).to(
            self.device, torch.float64
        )
        dist.all_reduce(s, op=dist.ReduceOp.SUM)
        n, total, sq = s[0], s[1], s[2]
        mean = total / n
        var = (sq - n * mean * mean) / torch.clamp(n - 1, min=1)
        return mean.to(x.device, x.dtype), torch.sqrt(torch.clamp(var, min=0)).to(x.device, x.dtype)


class DistributedContext:
    """The place of this process in a ``torchrun`` job (RANK, WORLD_SIZE, LOCAL_RANK from the environment)."""

    def __init__(self, rank: int, world_size: int, local_rank: int, device: torch.device):
        """Use :meth:`from_environment` to create one."""
        self.rank, self.world_size, self.local_rank = rank, world_size, local_rank
        self.device = device
        self.grad_sync = GradientSync(rank, world_size, device)

    @classmethod
    def from_environment(cls, device: str = "auto", timeout_s: float = 300.0) -> DistributedContext:
        """Join the process group torchrun set up; the learner device is ``cuda:LOCAL_RANK`` when CUDA is used."""
        missing = [v for v in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT") if v not in os.environ]
        if missing:
            raise ConfigError(
                f"experiment.distributed=true needs torchrun's environment (missing {', '.join(missing)}). "
                "Launch with: "
                "torchrun --nproc_per_node=N -m isaac_hydra_ext.appo_runner experiment.distributed=true ..."
            )
        rank, world, local = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"])
        use_cuda = torch.cuda.is_available() and device != "cpu"
        if use_cuda:
            dev = torch.device(f"cuda:{local}")
            torch.cuda.set_device(dev)
        else:
            dev = torch.device("cpu")
        if not dist.is_initialized():
            dist.init_process_group(
                backend="nccl" if use_cuda else "gloo",
                timeout=datetime.timedelta(seconds=timeout_s),
                device_id=dev if use_cuda else None,
            )
        return cls(rank, world, local, dev)

    # ---- model and run-level agreement -----------------------------------------------------------------
    @_guard("parameter broadcast")
    def broadcast_model(self, model: nn.Module) -> None:
        """Copy rank 0's parameters and buffers (normalizer statistics included) to every rank."""
        for t in model.state_dict().values():
            buf = t.to(self.device)
            dist.broadcast(buf, src=0)
            if buf.data_ptr() != t.data_ptr():
                t.copy_(buf)

    @_guard("step-count all-reduce")
    def sum_int(self, x: int) -> int:
        """Sum an integer over ranks."""
        t = torch.tensor([x], dtype=torch.int64, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return int(t.item())

    @_guard("stop agreement")
    def any_true(self, flag: bool) -> bool:
        """True if ``flag`` is set on any rank (used so all ranks stop at the same iteration)."""
        t = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item() > 0.5)

    @_guard("gather")
    def gather_floats(self, values: list[float]) -> list[list[float]]:
        """Every rank's ``values`` (same length on all ranks), in rank order."""
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        out = [torch.zeros_like(t) for _ in range(self.world_size)]
        dist.all_gather(out, t)
        return [o.tolist() for o in out]

    def parameter_checksum(self, model: nn.Module) -> list[float]:
        """[sum, sum of squares, sum of |x|] of all parameters in float64: equal on all ranks iff in sync."""
        flat = torch.cat([p.detach().reshape(-1).to(torch.float64) for p in model.parameters()])
        return [float(flat.sum()), float((flat * flat).sum()), float(flat.abs().sum())]

    def close(self) -> None:
        """Leave the process group."""
        if dist.is_initialized():
            try:
                dist.destroy_process_group()
            except Exception:
                pass
