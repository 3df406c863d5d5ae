"""The fully convolutional network (FCN) of Wang, Yan and Oates (2017) for time-series
classification: three convolution blocks and global average pooling.

The NC-VQVAE evaluation uses it as the "Inception network" of time series: its 128-d pooled
features feed FID and its softmax feeds the Inception Score. Taught in the chapter "CNN
architecture"; trained per dataset in the evaluation chapter.
"""

from __future__ import annotations

import torch
from torch import nn


def conv_block(in_channels: int, out_channels: int, kernel_size: int) -> nn.Sequential:
    """Zero-pad to keep the length ('same'; the extra zero of an even kernel goes right),
    Conv1d, BatchNorm, ReLU."""
    same = nn.ConstantPad1d(((kernel_size - 1) // 2, kernel_size // 2), 0.0)
    return nn.Sequential(
        same, nn.Conv1d(in_channels, out_channels, kernel_size), nn.BatchNorm1d(out_channels), nn.ReLU()
    )


class FCN(nn.Module):
    """Conv(128, k=8) -> Conv(256, k=5) -> Conv(128, k=3), each with BN and ReLU, then global
    average pooling over time and a linear classifier.

    Input ``(batch, length)`` or ``(batch, in_channels, length)``; output ``(batch, n_classes)``
    logits. ``features(x)`` gives the ``(batch, 128)`` pooled features.
    """

    feature_dim = 128

    def __init__(self, n_classes: int, in_channels: int = 1):
        super().__init__()
        if n_classes < 2 or in_channels < 1:
            raise ValueError(f"need n_classes >= 2 and in_channels >= 1, got {n_classes}, {in_channels}")
        self.in_channels = in_channels
        self.body = nn.Sequential(
            conv_block(in_channels, 128, 8), conv_block(128, 256, 5), conv_block(256, 128, 3)
        )
        self.head = nn.Linear(self.feature_dim, n_classes)

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 2 and self.in_channels == 1:
            x = x.unsqueeze(1)
        if x.ndim != 3 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"FCN expects (batch, {self.in_channels}, length)"
                f"{' or (batch, length)' if self.in_channels == 1 else ''}, got {tuple(x.shape)}"
            )
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Global-average-pooled features, ``(batch, 128)``."""
        return self.body(self._check(x)).mean(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
