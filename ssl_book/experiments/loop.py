"""The pipeline's training loop: resumable, mixed precision, single device or DDP.

Randomness is *stateless*: the minibatch of step ``s`` comes from a permutation seeded by
``(seed, epoch)``, and every other random choice of that step (augmentations, masks, target
tokens) from a generator seeded by ``(seed, s)``. A run resumed from a checkpoint at step ``s``
therefore continues exactly as the uninterrupted run would have, and the checkpoint needs only
the model, optimizer, scheduler, step and history.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ssl_book.checkpoint import load_checkpoint, save_checkpoint
from ssl_book.distributed import DistContext, all_reduce_sum_, local_slice
from ssl_book.progress import progress
from ssl_book.runtime import native_bf16

LossFn = Callable[[torch.Tensor, slice, torch.Generator], dict[str, torch.Tensor]]


@dataclass(frozen=True)
class LoopSpec:
    """What to train for how long.

    Attributes:
        steps: optimisation steps in total.
        n_train, batch_size: dataset size and the global batch size.
        lr_period: the cosine schedule's period in steps (the thesis uses
            ``epochs * (ceil(N / batch) + 1)``, slightly longer than the run).
        checkpoint: where the checkpoint lives; ``meta`` must match to resume from it.
        log_every: how often losses are copied from the device (every copy synchronises).
    """

    steps: int
    n_train: int
    batch_size: int
    lr: float
    weight_decay: float
    lr_period: int
    seed: int
    checkpoint: Path
    checkpoint_every: int
    meta: dict
    log_every: int = 10


def batch_indices(seed: int, step: int, n: int, batch_size: int) -> torch.Tensor:
    """Global indices of minibatch ``step`` (0-based): epochs are seeded permutations."""
    per_epoch = math.ceil(n / batch_size)
    epoch, position = divmod(step, per_epoch)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
    return order[position * batch_size : (position + 1) * batch_size]


def step_generator(seed: int, step: int, device: torch.device) -> torch.Generator:
    """The generator for every random choice of one step, on ``device``."""
    return torch.Generator(device=device).manual_seed(seed * 7_919 + step * 104_729 + 1)


def uses_bf16(device: torch.device, precision: str) -> bool:
    """Whether ``precision="bf16"`` turns autocast on for ``device``: on a CUDA GPU that
    supports bf16, and on a CPU with native bf16 instructions
    (:func:`ssl_book.runtime.cpu_has_native_bf16`). Elsewhere bf16 would be emulated and slower,
    and the run stays in fp32; results files record which (``timing.autocast_bf16``)."""
    return precision == "bf16" and native_bf16(device)


def autocast(device: torch.device, precision: str):
    """bf16 autocast where :func:`uses_bf16` says so, else a no-op. Under it the quantizer,
    IterNorm and the SSL losses still compute in fp32 (their own modules see to it)."""
    if uses_bf16(device, precision):
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


def make_optimizer(params, lr: float, weight_decay: float, device: torch.device) -> torch.optim.Optimizer:
    """AdamW with the fused kernel (one pass over all parameters) on CUDA and CPU."""
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=device.type in ("cuda", "cpu"))


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def train(
    model: nn.Module,
    loss_fn: LossFn,
    spec: LoopSpec,
    *,
    device: torch.device,
    precision: str,
    ctx: DistContext = DistContext(),
    desc: str = "training",
    on_step: Callable[[int], None] | None = None,
) -> dict:
    """Run (or resume) the loop; returns ``{"log_step": [...], "terms": {...}, "seconds": ...,
    "cpu_seconds": ..., "steps_run": ..., "resumed_at_step": ..., "earlier_seconds": ...,
    "earlier_cpu_seconds": ...}``: the wall and process CPU time and the steps of this call, the
    step it resumed at (0 for a fresh start), and the time the earlier calls that wrote the
    checkpoint spent (``None`` when the checkpoint it resumed from predates that record).

    ``loss_fn(indices, local, generator)`` computes the loss terms (a dict with ``"loss"``) of
    this rank's part ``indices[local]`` of the global batch ``indices``; ``on_step(step)`` is
    called after every step (tests use it to interrupt a run).
    """
    optimizer = make_optimizer(
        [p for p in model.parameters() if p.requires_grad], spec.lr, spec.weight_decay, device
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, spec.lr_period) / spec.lr_period))
    )
    history = {"log_step": [], "terms": {}}
    start = 0
    if spec.checkpoint.exists():
        state = load_checkpoint(spec.checkpoint, spec.meta, map_location=device)
        unwrap(model).load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start, history = state["step"], state["history"]
    earlier = {
        key: history.pop(key, None if start else 0.0) for key in ("elapsed_seconds", "elapsed_cpu_seconds")
    }

    def save(step: int) -> None:
        if ctx.is_main:
            elapsed = {  # time spent on this stage so far, over every call that resumed it
                "elapsed_seconds": plus_known(earlier["elapsed_seconds"], time.perf_counter() - started),
                "elapsed_cpu_seconds": plus_known(
                    earlier["elapsed_cpu_seconds"], time.process_time() - cpu_started
                ),
            }
            save_checkpoint(
                spec.checkpoint,
                {
                    "model": unwrap(model).state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "step": step,
                    "history": {**history, **elapsed},
                },
                spec.meta,
            )

    # a checkpoint must fall on a logging step, or the partial window would be lost on resume
    log_every = math.gcd(spec.log_every, spec.checkpoint_every)
    model.train()
    sums: dict[str, torch.Tensor] = {}
    count = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    for step in (
        bar := progress(range(start, spec.steps), desc=desc, total=spec.steps, disable=not ctx.is_main)
    ):
        if step == start:
            bar.update(start)
        idx = batch_indices(spec.seed, step, spec.n_train, spec.batch_size).to(device, non_blocking=True)
        with autocast(device, precision):
            terms = loss_fn(idx, local_slice(len(idx), ctx), step_generator(spec.seed, step, device))
        optimizer.zero_grad(set_to_none=True)
        terms["loss"].backward()
        optimizer.step()
        scheduler.step()
        for name, value in terms.items():
            sums[name] = sums.get(name, 0) + value.detach().float()
        count += 1
        if (step + 1) % log_every == 0 or step + 1 == spec.steps:
            history["log_step"].append(step + 1)
            names = sorted(sums)
            means = all_reduce_sum_(torch.stack([sums[n] for n in names]) / count) / ctx.world_size
            means = dict(zip(names, means.tolist()))  # the mean over ranks: the global batch's
            check_finite(means, step + 1, count)
            for name, mean in means.items():
                history["terms"].setdefault(name, []).append(mean)
            bar.set_postfix(loss=f"{history['terms']['loss'][-1]:.4f}")
            sums, count = {}, 0
        if (step + 1) % spec.checkpoint_every == 0 or step + 1 == spec.steps:
            save(step + 1)
        if on_step is not None:
            on_step(step + 1)
    model.eval()
    return {
        **history,
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu_started,
        "steps_run": spec.steps - start,
        "resumed_at_step": start,
        "earlier_seconds": earlier["elapsed_seconds"],
        "earlier_cpu_seconds": earlier["elapsed_cpu_seconds"],
    }


def check_finite(means: dict[str, float], step: int, window: int) -> None:
    """Stop a run whose loss terms went NaN or infinite, before the checkpoint of ``step`` is
    written: the last checkpoint on disk is still a sound model to resume from, and no results
    file is ever computed from a diverged one. (The check runs on the logged means of every
    ``window`` steps, which are synchronised anyway, so it costs no extra GPU sync.)

    Raises:
        FloatingPointError: naming the terms and the steps.
    """
    bad = sorted(name for name, value in means.items() if not math.isfinite(value))
    if bad:
        raise FloatingPointError(
            f"non-finite loss terms {bad} in steps {step - window + 1}-{step}; the last checkpoint "
            "was kept (a rerun resumes from it; in bf16, try --precision fp32)"
        )


def plus_known(earlier: float | None, now: float) -> float | None:
    """``earlier + now``, unknown (``None``) when the earlier part is."""
    return None if earlier is None else earlier + now
