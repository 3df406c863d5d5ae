"""Training loops shared by the chapters: minibatches of on-device tensors, a supervised
classifier loop with a progress bar, and evaluation helpers.

Taught in the chapter "Neural networks and their training", which writes the loop by hand
first. Data stay on the device as tensors: for UCR-sized datasets that is faster than a
``DataLoader`` with worker processes, and it keeps the code short.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

import torch
from torch import nn

from ssl_book.progress import progress


def minibatches(
    n: int,
    batch_size: int,
    generator: torch.Generator,
    *,
    device: torch.device | str = "cpu",
    shuffle: bool = True,
) -> Iterator[torch.Tensor]:
    """Endless index batches over ``n`` samples, reshuffled every epoch.

    Yields ``(batch_size,)`` long tensors on ``device``; every sample is seen once per epoch.
    The last batch of an epoch may be smaller, but never a single sample (batch normalisation
    cannot train on one): a lone last sample joins the batch before it.
    """
    if n < 1 or batch_size < 1:
        raise ValueError(f"need n >= 1 and batch_size >= 1, got n={n}, batch_size={batch_size}")
    starts = list(range(0, n, batch_size))
    if len(starts) > 1 and n - starts[-1] == 1:
        starts.pop()
    bounds = list(zip(starts, starts[1:] + [n]))
    while True:
        order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
        for start, stop in bounds:
            yield order[start:stop].to(device)


def as_tensor(x, dtype: torch.dtype, device: torch.device | str) -> torch.Tensor:
    """A tensor on ``device`` from a NumPy array or tensor (no copy when already there)."""
    return torch.as_tensor(x, dtype=dtype).to(device)


@dataclass
class History:
    """What a training run recorded: the loss every step, validation accuracy at intervals."""

    loss: list[float] = field(default_factory=list)
    val_step: list[int] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)


PRECISIONS = ("fp32", "bf16")


def autocast_to(device: torch.device | str, precision: str) -> AbstractContextManager:
    """``torch.autocast`` to bfloat16 on ``device`` (CPU or CUDA) for ``"bf16"``, else nothing.

    Under it convolutions and matrix products run in bf16 while weights, optimizer state and
    reductions stay in fp32. On a CPU with native bf16 instructions (AVX-512 BF16 or AMX) an FCN
    training step takes half the time of fp32 (``benchmarks/full_protocol.py``); without them bf16
    is emulated and slower, so keep ``"fp32"`` there.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "fp32":
        return nullcontext()
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)


def cosine_lr(optimizer: torch.optim.Optimizer, steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Cosine decay from the optimizer's learning rate to 0 over ``steps`` steps, no warm-up."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))
    )


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Model outputs for every row of ``x`` in eval mode, batch by batch: ``(n, ...)``."""
    was_training = model.training
    model.eval()
    out = torch.cat([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
    model.train(was_training)
    return out


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows of ``x`` whose arg-max logit equals ``y``."""
    return (predict_logits(model, x).argmax(-1) == y).float().mean().item()


def fit_classifier(
    model: nn.Module,
    x_train,
    y_train,
    *,
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    weight_decay: float = 1e-5,
    x_val=None,
    y_val=None,
    eval_every: int = 0,
    device: torch.device | str | None = None,
    seed: int = 0,
    desc: str = "training",
    precision: str = "fp32",
) -> History:
    """Train ``model`` with cross-entropy, AdamW and a cosine learning-rate schedule.

    Args:
        model: maps a ``(batch, ...)`` float tensor to ``(batch, n_classes)`` logits.
        x_train, y_train: ``(n, ...)`` inputs and ``(n,)`` integer labels (arrays or tensors).
        steps: optimisation steps (> 0).
        x_val, y_val, eval_every: if given, accuracy on the validation set every
            ``eval_every`` steps and at the end.
        device: where to train (default: where the model's parameters are).
        seed: seeds the minibatch order.
        precision: ``"fp32"``, or ``"bf16"`` for the forward pass under :func:`autocast_to`.

    Returns:
        The :class:`History`. The model is trained in place and left in eval mode.
    """
    if steps < 1:
        raise ValueError(f"steps must be positive, got {steps}")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    autocast_to(device, precision)  # rejects an unknown precision early
    model.to(device).train()
    x = as_tensor(x_train, torch.float32, device)
    y = as_tensor(y_train, torch.long, device)
    if len(x) != len(y):
        raise ValueError(f"x_train has {len(x)} rows but y_train has {len(y)}")
    validate = x_val is not None and y_val is not None
    if validate:
        xv, yv = as_tensor(x_val, torch.float32, device), as_tensor(y_val, torch.long, device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = cosine_lr(optimizer, steps)
    batches = minibatches(len(x), batch_size, torch.Generator().manual_seed(seed), device=device)
    history = History()
    for step in (bar := progress(range(1, steps + 1), desc=desc)):
        idx = next(batches)
        with autocast_to(device, precision):
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        history.loss.append(loss.item())
        if validate and ((eval_every and step % eval_every == 0) or step == steps):
            history.val_step.append(step)
            history.val_accuracy.append(accuracy(model, xv, yv))
            bar.set_postfix(loss=f"{loss.item():.3f}", val_acc=f"{history.val_accuracy[-1]:.3f}")
    model.eval()
    return history
