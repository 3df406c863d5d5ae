"""The thesis's time-series tokenizer: a VQ-VAE in the time-frequency (STFT) domain.

Taught in the chapter "Vector quantization and VQ-VAE". This is the "naive VQVAE" baseline of
the NC-VQVAE thesis (a simplified TimeVQVAE without the low/high-frequency split):

* ``u = STFT(x)``: ``(batch, 2, F, T)`` with ``F = n_fft // 2 + 1`` and ``T = L // hop + 1``
  (``ssl_book.signal``; the thesis: ``n_fft = 8``, so ``F = 5`` and ``T = L // 2 + 1``);
* encoder: ``n`` blocks ``Conv2d(k=(3, 4), stride=(1, 2), pad=(1, 1), replicate) -> BN ->
  LeakyReLU`` halving only the time axis, then ``n_resblocks x [ResBlock -> BN]``, giving
  ``z`` of shape ``(batch, dim, F, T // 2**n)``; ``n = max(1, int(log2(r)))`` with the rate
  ``r = round(L / (log2(n_fft) - 1) / downsampled_width)``;
* a :class:`~ssl_book.vq.VectorQuantizer` (32 codes of dimension 64, EMA decay 0.9);
* decoder: the mirror image with transposed convolutions, a bilinear resize to the exact STFT
  size, and the inverse STFT back to length ``L``.

The loss is ``MSE(x, x_hat) + MSE(u, u_hat) + VQ loss`` (the thesis's equal weights).

The pieces are separately usable, which is what the two-branch NC-VQVAE needs::

    z = model.encode(x_aug)                 # no quantization on the augmented branch
    x_hat, u_hat = model.decode(z)
    time_mse, stft_mse = model.reconstruction_loss(x_aug, x_hat, u_hat)
    features = model.pooled(z)              # (batch, 2 * dim) for an SSL projector
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ssl_book import info
from ssl_book.progress import progress
from ssl_book.signal import istft, stft
from ssl_book.train import as_tensor, cosine_lr, minibatches
from ssl_book.vq import VectorQuantizer, VQOutput


def downsample_rate(length: int, n_fft: int = 8, downsampled_width: int = 8) -> int:
    """The thesis's time-downsampling rate ``r = round(L / (log2(n_fft) - 1) / width)``.

    Series shorter than ``downsampled_width`` get ``r = 1`` (as in the thesis code).
    """
    if length < 1 or downsampled_width < 1:
        raise ValueError(f"length and downsampled_width must be positive, got {length}, {downsampled_width}")
    if n_fft < 4 or n_fft & (n_fft - 1):
        raise ValueError(f"n_fft must be a power of two >= 4, got {n_fft}")
    if length < downsampled_width:
        return 1
    return max(1, round(length / (math.log2(n_fft) - 1) / downsampled_width))


def n_downsampling_blocks(rate: int) -> int:
    """How many stride-2 blocks the encoder stacks for a rate: ``max(1, int(log2(rate)))``."""
    return max(1, int(np.log2(rate)))


class ResBlock(nn.Module):
    """``x + Conv1x1(LeakyReLU([BN](Conv3x3(LeakyReLU(x)))))`` on ``(batch, dim, H, W)``.

    The encoder's blocks have the inner batch norm, the decoder's do not (as in the thesis).
    """

    def __init__(self, dim: int, inner_norm: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.LeakyReLU(), nn.Conv2d(dim, dim, 3, padding=1)]
        if inner_norm:
            layers.append(nn.BatchNorm2d(dim))
        layers += [nn.LeakyReLU(), nn.Conv2d(dim, dim, 1)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _down_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, (3, 4), stride=(1, 2), padding=(1, 1), padding_mode="replicate"),
        nn.BatchNorm2d(c_out),
        nn.LeakyReLU(),
    )


def _up_conv(c_in: int, c_out: int) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(c_in, c_out, (3, 4), stride=(1, 2), padding=(1, 1))


class STFTEncoder(nn.Module):
    """``(batch, 2, F, T) -> (batch, dim, F, T // 2**n_down)``: halves time ``n_down`` times."""

    def __init__(self, dim: int = 64, n_down: int = 3, n_resblocks: int = 4, in_channels: int = 2) -> None:
        super().__init__()
        blocks = [_down_block(in_channels, dim)] + [_down_block(dim, dim) for _ in range(n_down - 1)]
        blocks += [
            nn.Sequential(ResBlock(dim, inner_norm=True), nn.BatchNorm2d(dim)) for _ in range(n_resblocks)
        ]
        self.net = nn.Sequential(*blocks)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return self.net(u)


class STFTDecoder(nn.Module):
    """``(batch, dim, F, W') -> (batch, 2, F, T)``: the encoder's mirror, resized to ``out_size``.

    ``n_down - 1`` upsampling blocks, then ``ConvT(dim -> 2)`` and ``ConvT(2 -> 2)`` (each
    doubling the width), then a bilinear resize to exactly ``out_size = (F, T)``.
    """

    def __init__(
        self,
        out_size: tuple[int, int],
        dim: int = 64,
        n_down: int = 3,
        n_resblocks: int = 4,
        out_channels: int = 2,
    ) -> None:
        super().__init__()
        blocks: list[nn.Module] = [
            nn.Sequential(ResBlock(dim, inner_norm=False), nn.BatchNorm2d(dim)) for _ in range(n_resblocks)
        ]
        blocks += [
            nn.Sequential(_up_conv(dim, dim), nn.BatchNorm2d(dim), nn.LeakyReLU()) for _ in range(n_down - 1)
        ]
        blocks += [_up_conv(dim, out_channels), _up_conv(out_channels, out_channels)]
        self.net = nn.Sequential(*blocks)
        self.out_size = tuple(out_size)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return F.interpolate(self.net(z), size=self.out_size, mode="bilinear", align_corners=True)


@dataclass
class TokenizerOutput:
    """What :meth:`STFTVQVAE.forward` returns (shapes for a batch of ``B`` series of length ``L``).

    Attributes:
        x_hat: ``(B, L)`` reconstruction. u: ``(B, 2, F, T)`` STFT of the input.
        u_hat: ``(B, 2, F, T)`` reconstructed STFT. z: ``(B, D, H, W)`` encoder output.
        vq: the quantizer's :class:`~ssl_book.vq.VQOutput` (``vq.z_q``, ``vq.indices``, ...).
        time_loss, stft_loss: ``MSE(x, x_hat)`` and ``MSE(u, u_hat)``; ``commitment_loss`` is
            ``vq.commitment_loss``.
        loss: ``time_loss + stft_loss + vq.loss`` (the thesis: ``vq.loss`` = commitment).
    """

    x_hat: torch.Tensor
    u: torch.Tensor
    u_hat: torch.Tensor
    z: torch.Tensor
    vq: VQOutput
    time_loss: torch.Tensor
    stft_loss: torch.Tensor
    loss: torch.Tensor

    @property
    def commitment_loss(self) -> torch.Tensor:
        """The quantizer's (unweighted) commitment loss ``MSE(z, sg(z_q))``."""
        return self.vq.commitment_loss


class STFTVQVAE(nn.Module):
    """The thesis's STFT VQ-VAE tokenizer for univariate series of a fixed length.

    Args:
        length: series length ``L``.
        n_fft: STFT size (hop ``n_fft // 4``); the thesis: 8.
        dim: channel width and code dimension ``D``; the thesis: 64.
        num_codes: codebook size ``K``; the thesis: 32.
        downsampled_width: the target token width that sets the downsampling rate; the thesis: 8.
        n_resblocks: residual blocks in the encoder and in the decoder; the thesis: 4.
        **quantizer_options: passed on to :class:`~ssl_book.vq.VectorQuantizer` (``ema``,
            ``decay`` (default 0.9, the thesis), ``commitment_weight``, ``kmeans_init``,
            ``dead_code_threshold``, ``orthogonal_weight``, ...).

    Tokens: ``token_shape = (F, W')`` with ``F = n_fft // 2 + 1``; ``tokens(x)`` flattens them
    row-major (frequency row by frequency row) into ``(batch, F * W')``.
    """

    def __init__(
        self,
        length: int,
        n_fft: int = 8,
        dim: int = 64,
        num_codes: int = 32,
        downsampled_width: int = 8,
        n_resblocks: int = 4,
        **quantizer_options: Any,
    ) -> None:
        super().__init__()
        rate = downsample_rate(length, n_fft, downsampled_width)
        if dim < 1 or num_codes < 1 or n_resblocks < 0:
            raise ValueError(
                f"need dim >= 1, num_codes >= 1, n_resblocks >= 0; got {dim}, {num_codes}, {n_resblocks}"
            )
        self.length, self.n_fft, self.dim, self.num_codes = length, n_fft, dim, num_codes
        self.n_down = n_downsampling_blocks(rate)
        freq, frames = n_fft // 2 + 1, length // max(n_fft // 4, 1) + 1
        if frames >> self.n_down < 1:
            raise ValueError(f"length {length} is too short for {self.n_down} downsampling blocks")
        if length <= n_fft // 2:
            raise ValueError(f"length must exceed n_fft // 2 = {n_fft // 2}, got {length}")
        self.stft_shape = (freq, frames)
        self.token_shape = (freq, frames >> self.n_down)
        self.encoder = STFTEncoder(dim, self.n_down, n_resblocks)
        self.decoder = STFTDecoder(self.stft_shape, dim, self.n_down, n_resblocks)
        quantizer_options.setdefault("decay", 0.9)
        self.quantizer = VectorQuantizer(num_codes, dim, **quantizer_options)

    @property
    def num_tokens(self) -> int:
        """Tokens per series, ``F * W'``."""
        return self.token_shape[0] * self.token_shape[1]

    @property
    def codebook(self) -> torch.Tensor:
        """The quantizer's codes, ``(K, D)``."""
        return self.quantizer.codebook

    def _check_series(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise ValueError(f"x must be a torch.Tensor, got {type(x).__name__}")
        if x.ndim == 3 and x.shape[1] == 1:
            x = x[:, 0]
        if x.ndim != 2 or x.shape[1] != self.length:
            raise ValueError(
                f"x must have shape (batch, {self.length}) or (batch, 1, {self.length}), got {tuple(x.shape)}"
            )
        return x

    # ------------------------------------------------------------------ the pieces
    def to_stft(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, L) -> (B, 2, F, T)``."""
        return stft(self._check_series(x), self.n_fft)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, L) -> z (B, D, F, W')``, the continuous encoder output (not quantized)."""
        return self.encoder(self.to_stft(x))

    def quantize(self, z: torch.Tensor) -> VQOutput:
        """The quantizer on ``z`` (updates the codebook in training mode)."""
        return self.quantizer(z)

    def decode(self, z_q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, D, F, W') -> (x_hat (B, L), u_hat (B, 2, F, T))``; quantized or not."""
        if z_q.ndim != 4 or z_q.shape[1] != self.dim:
            raise ValueError(f"z_q must have shape (batch, {self.dim}, H, W), got {tuple(z_q.shape)}")
        u_hat = self.decoder(z_q)
        return istft(u_hat, self.length, self.n_fft), u_hat

    def reconstruction_loss(
        self, x: torch.Tensor, x_hat: torch.Tensor, u_hat: torch.Tensor, u: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(MSE(x, x_hat), MSE(u, u_hat))``; ``u`` defaults to ``STFT(x)``."""
        x = self._check_series(x)
        u = self.to_stft(x) if u is None else u
        return F.mse_loss(x_hat, x), F.mse_loss(u_hat, u)

    @staticmethod
    def pooled(z: torch.Tensor) -> torch.Tensor:
        """``concat(global average pool, global max pool)`` over the token grid: ``(B, D, H, W) -> (B, 2D)``.

        The input of NC-VQVAE's SSL projector.
        """
        if z.ndim != 4:
            raise ValueError(f"z must have shape (batch, dim, H, W), got {tuple(z.shape)}")
        return torch.cat([z.mean(dim=(2, 3)), z.amax(dim=(2, 3))], dim=1)

    def forward(self, x: torch.Tensor) -> TokenizerOutput:
        """Encode, quantize, decode: ``(B, L)`` -> :class:`TokenizerOutput` with the thesis's loss."""
        u = self.to_stft(x)
        z = self.encoder(u)
        vq = self.quantizer(z)
        x_hat, u_hat = self.decode(vq.z_q)
        time_loss, stft_loss = self.reconstruction_loss(x, x_hat, u_hat, u)
        return TokenizerOutput(
            x_hat=x_hat,
            u=u,
            u_hat=u_hat,
            z=z,
            vq=vq,
            time_loss=time_loss,
            stft_loss=stft_loss,
            loss=time_loss + stft_loss + vq.loss,
        )

    # ------------------------------------------------------------------ tokens
    @torch.no_grad()
    def tokens(
        self,
        x: torch.Tensor,
        *,
        temperature: float = 0.0,
        generator: torch.Generator | None = None,
        batch_size: int = 512,
    ) -> torch.Tensor:
        """Token sequences ``(B, F * W')`` long, computed in eval mode (no codebook update).

        ``temperature = 0`` takes the nearest code; ``temperature > 0`` draws each token from
        ``softmax(-||z - e_k||^2 / temperature)``, the thesis's stage-2 targets (temperature 1).
        """
        x = self._check_series(x)
        was_training = self.training
        self.eval()
        try:
            out = [
                self.quantizer.sample_indices(self.encode(x[i : i + batch_size]), temperature, generator)
                for i in range(0, len(x), batch_size)
            ]
        finally:
            self.train(was_training)
        return torch.cat(out).flatten(1)

    def tokens_to_latents(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(B, F * W')`` code indices -> ``(B, D, F, W')`` code vectors."""
        if tokens.ndim != 2 or tokens.shape[1] != self.num_tokens:
            raise ValueError(f"tokens must have shape (batch, {self.num_tokens}), got {tuple(tokens.shape)}")
        return self.quantizer.lookup(tokens.reshape(len(tokens), *self.token_shape))

    @torch.no_grad()
    def decode_tokens(self, tokens: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
        """``(B, F * W')`` code indices -> ``(B, L)`` series, decoded in eval mode."""
        was_training = self.training
        self.eval()
        try:
            out = [
                self.decode(self.tokens_to_latents(tokens[i : i + batch_size]))[0]
                for i in range(0, len(tokens), batch_size)
            ]
        finally:
            self.train(was_training)
        return torch.cat(out)


@dataclass
class TokenizerHistory:
    """Per-step training curves of :func:`train_tokenizer`, and validation at intervals."""

    loss: list[float] = field(default_factory=list)
    time_loss: list[float] = field(default_factory=list)
    stft_loss: list[float] = field(default_factory=list)
    commitment_loss: list[float] = field(default_factory=list)
    perplexity: list[float] = field(default_factory=list)
    val_step: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_perplexity: list[float] = field(default_factory=list)


@torch.no_grad()
@torch.no_grad()
@torch.no_grad()
def evaluate_tokenizer(model: STFTVQVAE, x: torch.Tensor, batch_size: int = 512) -> dict[str, float]:
    """Mean loss terms and the code-usage perplexity over ``x`` in eval mode (no updates, no
    autograd graph)."""
    was_training = model.training
    model.eval()
    totals = {"loss": 0.0, "time_loss": 0.0, "stft_loss": 0.0, "commitment_loss": 0.0}
    indices = []
    try:
        for i in range(0, len(x), batch_size):
            out = model(x[i : i + batch_size])
            weight = len(out.x_hat) / len(x)
            for name in ("loss", "time_loss", "stft_loss"):
                totals[name] += weight * getattr(out, name).item()
            totals["commitment_loss"] += weight * out.vq.commitment_loss.item()
            indices.append(out.vq.indices.flatten())
    finally:
        model.train(was_training)
    totals["perplexity"] = float(info.perplexity(info.code_usage(torch.cat(indices), model.num_codes)))
    return totals


def train_tokenizer(
    model: STFTVQVAE,
    x_train,
    *,
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    weight_decay: float = 1e-3,
    seed: int = 0,
    x_val=None,
    eval_every: int = 0,
    desc: str = "tokenizer",
) -> TokenizerHistory:
    """Train the tokenizer (stage 1 of the thesis's baseline) with AdamW and a cosine schedule.

    Args:
        model: an :class:`STFTVQVAE`; it trains on the device its parameters are on, and the
            data are moved there once.
        x_train: ``(n, L)`` series (array or tensor).
        steps: optimisation steps (> 0).
        batch_size, lr, weight_decay: the thesis: 128, 1e-3, 1e-3.
        seed: seeds the minibatch order.
        x_val: optional ``(m, L)`` series, evaluated every ``eval_every`` steps (if > 0) and at the end.

    Returns:
        A :class:`TokenizerHistory`. The model is left in eval mode.
    """
    if steps < 1:
        raise ValueError(f"steps must be positive, got {steps}")
    device = next(model.parameters()).device
    x = as_tensor(x_train, torch.float32, device)
    model._check_series(x)
    xv = None if x_val is None else model._check_series(as_tensor(x_val, torch.float32, device))
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = cosine_lr(optimizer, steps)
    batches = minibatches(len(x), batch_size, torch.Generator().manual_seed(seed), device=device)
    history = TokenizerHistory()
    model.train()
    for step in (bar := progress(range(1, steps + 1), desc=desc)):
        out = model(x[next(batches)])
        optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        optimizer.step()
        schedule.step()
        history.loss.append(out.loss.item())
        history.time_loss.append(out.time_loss.item())
        history.stft_loss.append(out.stft_loss.item())
        history.commitment_loss.append(out.commitment_loss.item())
        history.perplexity.append(out.vq.perplexity.item())
        if xv is not None and ((eval_every and step % eval_every == 0) or step == steps):
            scores = evaluate_tokenizer(model, xv)
            history.val_step.append(step)
            history.val_loss.append(scores["loss"])
            history.val_perplexity.append(scores["perplexity"])
        if step % 10 == 0 or step == steps:
            bar.set_postfix(loss=f"{history.loss[-1]:.3f}", perplexity=f"{history.perplexity[-1]:.1f}")
    model.eval()
    return history
