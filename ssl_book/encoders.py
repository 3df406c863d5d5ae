"""Encoders that map a series to one representation vector, and setting their BatchNorm
statistics from data.

* :class:`ConvEncoder`: the FCN-style encoder ``h`` of the representation-learning and
  self-supervised-learning chapters (Conv-BN-ReLU blocks, then the average over time).
* :func:`set_batchnorm_statistics`: the running means and variances of every BatchNorm layer
  computed from a dataset, without changing a weight. A freshly initialised network keeps
  running means 0 and variances 1, so in eval mode its BatchNorm layers are the identity and
  the "random encoder" of a comparison is a network without normalisation. With the
  statistics set from the training data, the random encoder normalises as it would after
  training, and only its weights are random.

Taught in the chapter "Representation learning"; used again in "Self-supervised learning".
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ssl_book.fcn import conv_block


class ConvEncoder(nn.Module):
    """An FCN-style encoder (Wang et al. 2017) with configurable widths: ``Conv-BN-ReLU``
    blocks with "same" padding, then global average pooling over time.

    ``ConvEncoder((128, 256, 128), (8, 5, 3))`` has the layout of ``ssl_book.fcn.FCN``'s body;
    the narrower default trains quickly on a CPU.

    Input ``(batch, length)`` or ``(batch, in_channels, length)``; output
    ``(batch, widths[-1])``.
    """

    def __init__(
        self,
        widths: Sequence[int] = (32, 64, 64),
        kernel_sizes: Sequence[int] = (8, 5, 3),
        in_channels: int = 1,
    ):
        super().__init__()
        if len(widths) != len(kernel_sizes) or not widths:
            raise ValueError(
                f"need one kernel size per width, got widths {widths} and kernel sizes {kernel_sizes}"
            )
        if in_channels < 1 or any(w < 1 for w in widths) or any(k < 1 for k in kernel_sizes):
            raise ValueError("in_channels, widths and kernel sizes must be positive")
        self.in_channels = in_channels
        self.out_dim = widths[-1]
        sizes = [in_channels, *widths]
        self.body = nn.Sequential(
            *(conv_block(a, b, k) for a, b, k in zip(sizes[:-1], sizes[1:], kernel_sizes))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 2 and self.in_channels == 1:
            x = x.unsqueeze(1)
        if x.ndim != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f"ConvEncoder expects (batch, {self.in_channels}, length), got {tuple(x.shape)}")
        return self.body(x).mean(-1)


_BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


@torch.no_grad()
def set_batchnorm_statistics(model: nn.Module, x, batch_size: int = 512) -> nn.Module:
    """Set the running mean and variance of every BatchNorm layer of ``model`` to those of
    the data ``x``; no weight changes. With ``x`` in one batch they are exactly the data's
    statistics; otherwise the plain average of the per-batch statistics.

    Args:
        model: any module; its BatchNorm layers (1-D, 2-D, 3-D) are reset and re-estimated.
        x: ``(n, ...)`` inputs (array or tensor), at least 2 of them.
        batch_size: forward passes run in batches of this size, in training mode.

    Returns:
        ``model``, in eval mode (the mode in which the statistics are used).
    """
    inputs = torch.as_tensor(x, dtype=torch.float32)
    if len(inputs) < 2 or batch_size < 2:
        raise ValueError(f"need at least 2 inputs and batch_size >= 2, got {len(inputs)}, {batch_size}")
    norms = [m for m in model.modules() if isinstance(m, _BATCHNORMS)]
    if not norms:
        raise ValueError("model has no BatchNorm layer")
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    saved = [(m, m.momentum) for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # None: a cumulative (exact) average
    model.train()
    try:
        for i in range(0, len(inputs), batch_size):
            chunk = inputs[i : i + batch_size]
            if len(chunk) > 1:  # BatchNorm needs two samples per batch
                model(chunk.to(device))
    finally:
        for m, momentum in saved:
            m.momentum = momentum
    return model.eval()
