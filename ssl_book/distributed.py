"""Several processes, one run (PyTorch DDP) or one sweep (runs spread over ranks).

Launched with ``torchrun --nproc_per_node=N ...``, every process sees ``RANK``, ``WORLD_SIZE``
and ``LOCAL_RANK``; launched plainly, it is the only process and nothing here does anything.
So the same code runs on one device with no change.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist
from torch import nn

T = TypeVar("T")


@dataclass(frozen=True)
class DistContext:
    """This process's place in the job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed(device_type: str | None = None) -> DistContext:
    """Join the process group torchrun set up (NCCL on CUDA, gloo otherwise); a no-op alone."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return DistContext()
    ctx = DistContext(int(os.environ["RANK"]), world_size, int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        cuda = (device_type or ("cuda" if torch.cuda.is_available() else "cpu")) == "cuda"
        if cuda:
            torch.cuda.set_device(ctx.local_rank)
        dist.init_process_group("nccl" if cuda else "gloo")
    return ctx


def shard(items: Sequence[T], ctx: DistContext) -> list[T]:
    """The items this rank handles when a sweep is spread over ranks (round robin)."""
    return list(items[ctx.rank :: ctx.world_size])


def local_slice(batch_size: int, ctx: DistContext) -> slice:
    """This rank's part of a global batch of ``batch_size`` (as equal as possible)."""
    if batch_size < ctx.world_size:
        raise ValueError(f"a global batch of {batch_size} cannot be split over {ctx.world_size} ranks")
    bounds = [round(i * batch_size / ctx.world_size) for i in range(ctx.world_size + 1)]
    return slice(bounds[ctx.rank], bounds[ctx.rank + 1])


def all_reduce_sum_(tensor: torch.Tensor) -> torch.Tensor:
    """Sum ``tensor`` over ranks in place (no-op when not distributed)."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def is_active() -> bool:
    """True inside a process group of more than one rank."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def gather_batch(t: torch.Tensor) -> torch.Tensor:
    """Concatenate every rank's ``(local_batch, ...)`` tensor into the global batch, keeping
    gradients (each rank's part receives the gradient of its rows). Identity when alone."""
    if not is_active():
        return t
    return _GatherWithGradient.apply(t.contiguous())


class _GatherWithGradient(torch.autograd.Function):
    """All-gather along dim 0 whose backward hands every rank the summed gradient of its rows.

    Every rank computes a loss from the same global batch, and the job's loss is their sum, so
    the gradient of a rank's rows is the sum over ranks of each loss's gradient for those rows."""

    @staticmethod
    def forward(ctx, t: torch.Tensor) -> torch.Tensor:
        parts = [torch.empty_like(t) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, t)
        ctx.rank, ctx.world_size = dist.get_rank(), len(parts)
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad.chunk(ctx.world_size)[ctx.rank]


class _SumWithGradient(torch.autograd.Function):
    """All-reduce (sum) whose backward sums the gradients over ranks, by the same argument."""

    @staticmethod
    def forward(ctx, t: torch.Tensor) -> torch.Tensor:
        total = t.clone()
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        return total

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad


class GlobalBatchNorm(nn.modules.batchnorm._BatchNorm):
    """Batch normalisation with statistics over the global batch of all ranks, on any backend
    (gloo included, unlike ``torch.nn.SyncBatchNorm``). Plain batch norm when alone or in eval
    mode. Statistics are computed in float32."""

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.ndim < 2:
            raise ValueError(f"expected at least 2-D input (batch, channels, ...), got {tuple(x.shape)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and is_active()):
            return super().forward(x)
        dims = [0, *range(2, x.ndim)]
        xf = x.float()
        local = torch.cat([xf.sum(dims), (xf * xf).sum(dims), xf.new_tensor([xf.numel() / xf.shape[1]])])
        total = _SumWithGradient.apply(local)
        c = x.shape[1]
        n = total[-1]
        mean = total[:c] / n
        var = total[c : 2 * c] / n - mean * mean
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                momentum = (
                    self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                )
                self.running_mean.lerp_(mean.detach().to(self.running_mean.dtype), momentum)
                unbiased = var.detach() * n / (n - 1)
                self.running_var.lerp_(unbiased.to(self.running_var.dtype), momentum)
        shape = (1, c) + (1,) * (x.ndim - 2)
        y = (xf - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y.to(x.dtype)


def global_batchnorm(module: nn.Module) -> nn.Module:
    """Replace every ``BatchNorm{1,2,3}d`` in ``module`` by :class:`GlobalBatchNorm` (same
    parameters and buffers), in place; returns ``module``."""
    for name, child in module.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm) and not isinstance(child, GlobalBatchNorm):
            replacement = GlobalBatchNorm(
                child.num_features, child.eps, child.momentum, child.affine, child.track_running_stats
            )
            replacement.load_state_dict(child.state_dict())
            setattr(module, name, replacement.to(next(child.buffers(), torch.empty(0)).device))
        else:
            global_batchnorm(child)
    return module
