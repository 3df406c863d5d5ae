"""Self-supervised pretraining of a joint-embedding (siamese) network on unlabelled series.

One shared encoder ``h`` and projector ``p`` embed two views of every series of a minibatch;
a loss from :mod:`ssl_book.ssl` compares the embeddings; AdamW and a cosine schedule update
both networks. Afterwards the projector is usually thrown away and the encoder's
representation ``h(x)`` is evaluated with probes (``ssl_book.probes``).

The encoder itself lives in :mod:`ssl_book.encoders`. Taught in the chapter
"Self-supervised learning"; the NC-VQVAE chapters add the same kind of
loss to a VQ-VAE instead.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ssl_book.augment import augment as augment_with_set
from ssl_book.progress import progress
from ssl_book.train import as_tensor, cosine_lr

EmbeddingLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
ViewFn = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def _view_fn(augmentation: str | ViewFn) -> ViewFn:
    if isinstance(augmentation, str):
        return lambda x, generator: augment_with_set(x, augmentation, generator)
    if callable(augmentation):
        return augmentation
    raise ValueError(
        f"augmentation must be a set name or a callable (x, generator) -> view, got {augmentation!r}"
    )


def pretrain(
    encoder: nn.Module,
    projector: nn.Module,
    x_train,
    loss_fn: EmbeddingLoss,
    *,
    augmentation: str | ViewFn,
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    weight_decay: float = 1e-3,
    augment_both: bool = True,
    device: torch.device | str | None = None,
    seed: int = 0,
    desc: str = "SSL pretraining",
) -> list[float]:
    """Train ``encoder`` and ``projector`` with a joint-embedding loss; no labels are used.

    Each step draws a minibatch ``x``, makes two views ``x1 = T(x)`` and ``x2 = T'(x)``
    (``augment_both=True``, as in SimCLR, Barlow Twins and VICReg) or ``x1 = x``, ``x2 = T(x)``
    (``augment_both=False``, the NC-VQVAE pairing of an original and an augmented view), and
    minimises ``loss_fn(p(h(x1)), p(h(x2)))``.

    Args:
        encoder, projector: ``h`` and ``p``; trained in place and left in eval mode.
        x_train: ``(n, length)`` unlabelled series (array or tensor).
        loss_fn: maps two ``(batch, D)`` embeddings to a scalar, e.g. ``ssl_book.ssl.vicreg_loss``.
        augmentation: a set name of ``ssl_book.augment.AUGMENTATION_SETS`` or a callable
            ``(x, generator) -> view``.
        steps, batch_size, lr, weight_decay: AdamW with a cosine schedule, as in the thesis
            (lr 1e-3, weight decay 1e-3).
        seed: seeds the minibatches (a random subset of ``batch_size`` series per step, so
            every batch is full) and the augmentations.

    Returns:
        The loss at every step.
    """
    if steps < 1 or batch_size < 2:
        raise ValueError(
            f"need steps >= 1 and batch_size >= 2 (the losses compare samples), got {steps}, {batch_size}"
        )
    make_view = _view_fn(augmentation)
    if device is None:
        first = next(encoder.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    device = torch.device(device)
    encoder.to(device).train()
    projector.to(device).train()
    x = as_tensor(x_train, torch.float32, device)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"x_train must have shape (n >= 2, length), got {tuple(x.shape)}")
    parameters = list(encoder.parameters()) + list(projector.parameters())
    optimizer = torch.optim.AdamW(parameters, lr=lr, weight_decay=weight_decay)
    schedule = cosine_lr(optimizer, steps)
    generator = torch.Generator(device=device).manual_seed(seed)
    batch_size = min(batch_size, len(x))
    losses = []
    for _ in (bar := progress(range(steps), desc=desc)):
        # A fresh random subset every step: always a full batch, which the losses need.
        batch = x[torch.randperm(len(x), generator=generator, device=device)[:batch_size]]
        view1 = make_view(batch, generator) if augment_both else batch
        view2 = make_view(batch, generator)
        loss = loss_fn(projector(encoder(view1)), projector(encoder(view2)))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
    encoder.eval()
    projector.eval()
    return losses
