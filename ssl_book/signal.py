"""The short-time Fourier transform as a real 2-channel tensor, and its inverse.

The VQ-VAE tokenizer of the thesis works in the time-frequency domain: a series ``x`` of length
``L`` becomes ``u = STFT(x)`` with the real and imaginary parts as two channels,
``(batch, 2, n_fft // 2 + 1, frames)``. With the thesis's settings (``n_fft = 8``, a periodic
Hann window, hop ``n_fft // 4 = 2``, centred frames) that is ``(batch, 2, 5, L // 2 + 1)``.
TimeVQVAE splits ``u`` into a low-frequency part (bin 0) and a high-frequency part (bins 1 to
4) by zeroing the other bins (:func:`split_frequencies`).
Taught in the chapter "Time series and the short-time Fourier transform".
"""

from __future__ import annotations

import torch


def as_series_batch(x: torch.Tensor) -> torch.Tensor:
    """``x`` as ``(batch, length)`` (accepts ``(batch, 1, length)``); ValueError for anything else."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim == 3 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 2:
        raise ValueError(f"x must have shape (batch, length) or (batch, 1, length), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"x must be a floating-point tensor, got {x.dtype}")
    return x


def _hop(n_fft: int, hop_length: int | None) -> int:
    if n_fft < 2:
        raise ValueError(f"n_fft must be at least 2, got {n_fft}")
    hop = max(n_fft // 4, 1) if hop_length is None else hop_length
    if not 1 <= hop <= n_fft:
        raise ValueError(f"hop_length must be in [1, n_fft={n_fft}], got {hop}")
    return hop


def stft(
    x: torch.Tensor,
    n_fft: int = 8,
    hop_length: int | None = None,
    *,
    center: bool = True,
    pad_mode: str = "reflect",
) -> torch.Tensor:
    """Short-time Fourier transform with a periodic Hann window of length ``n_fft``.

    Args:
        x: ``(batch, length)`` or ``(batch, 1, length)`` real series.
        n_fft: window and FFT size; gives ``n_fft // 2 + 1`` frequency bins.
        hop_length: step between frames (default ``n_fft // 4``).
        center: pad ``n_fft // 2`` samples on both sides so frame ``t`` is centred on ``t * hop``.
        pad_mode: how ``center`` pads (``"reflect"``, torch's default and the thesis's, or
            ``"constant"`` for zeros).

    Returns:
        ``(batch, 2, n_fft // 2 + 1, frames)``: real and imaginary parts as channels; with
        ``center=True`` and an even ``n_fft``, ``frames = 1 + length // hop_length``.
    """
    x = as_series_batch(x)
    hop = _hop(n_fft, hop_length)
    if center and pad_mode == "reflect" and x.shape[-1] <= n_fft // 2:
        raise ValueError(
            f"reflect padding needs a series longer than n_fft // 2 = {n_fft // 2}, got length {x.shape[-1]}"
        )
    if x.dtype not in (torch.float32, torch.float64):
        x = x.float()  # torch.stft has no half-precision kernels (autocast, bf16 data)
    window = torch.hann_window(n_fft, device=x.device, dtype=x.dtype)
    spec = torch.stft(
        x,
        n_fft,
        hop_length=hop,
        window=window,
        center=center,
        pad_mode=pad_mode,
        normalized=False,
        onesided=True,
        return_complex=True,
    )
    return torch.stack([spec.real, spec.imag], dim=1)


def istft(
    u: torch.Tensor, length: int, n_fft: int = 8, hop_length: int | None = None, *, center: bool = True
) -> torch.Tensor:
    """Inverse of :func:`stft`: ``(batch, 2, n_fft // 2 + 1, frames)`` -> ``(batch, length)``.

    ``length`` is the length of the original series; the overlap-added result is cut or
    zero-padded to it.
    """
    if not isinstance(u, torch.Tensor) or u.ndim != 4 or u.shape[1] != 2:
        shape = tuple(u.shape) if isinstance(u, torch.Tensor) else type(u).__name__
        raise ValueError(f"u must have shape (batch, 2, freq, frames), got {shape}")
    hop = _hop(n_fft, hop_length)
    if u.shape[2] != n_fft // 2 + 1:
        raise ValueError(f"u has {u.shape[2]} frequency bins but n_fft={n_fft} gives {n_fft // 2 + 1}")
    if length < 1:
        raise ValueError(f"length must be positive, got {length}")
    if u.dtype not in (torch.float32, torch.float64):
        u = u.float()  # e.g. bfloat16 under autocast: complex tensors need float32/64
    window = torch.hann_window(n_fft, device=u.device, dtype=u.dtype)
    spec = torch.complex(u[:, 0].contiguous(), u[:, 1].contiguous())
    return torch.istft(
        spec,
        n_fft,
        hop_length=hop,
        window=window,
        center=center,
        normalized=False,
        onesided=True,
        length=length,
    )


def magnitude(u: torch.Tensor) -> torch.Tensor:
    """The spectrogram magnitude ``|STFT|``: ``(batch, 2, F, T)`` -> ``(batch, F, T)``."""
    if u.ndim != 4 or u.shape[1] != 2:
        raise ValueError(f"u must have shape (batch, 2, freq, frames), got {tuple(u.shape)}")
    return torch.sqrt(u[:, 0] ** 2 + u[:, 1] ** 2)


def split_frequencies(u: torch.Tensor, low_bins: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Split an STFT tensor into its low- and high-frequency parts by zeroing bins.

    TimeVQVAE's split (its ``zero_pad_high_freq`` and ``zero_pad_low_freq``): the low part
    keeps bins ``0 .. low_bins - 1`` and zeros the rest, the high part keeps the rest. The two
    parts add up to ``u``, so (the inverse STFT being linear) their inverse transforms add up to
    the series.

    Args:
        u: ``(batch, channels, freq, frames)``, e.g. the ``(batch, 2, F, T)`` output of
            :func:`stft`.
        low_bins: how many of the lowest frequency bins form the low part, in ``[1, freq - 1]``
            (TimeVQVAE: 1).

    Returns:
        ``(u_low, u_high)``, each shaped like ``u``; new tensors (``u`` is not modified).
    """
    if not isinstance(u, torch.Tensor) or u.ndim != 4:
        shape = tuple(u.shape) if isinstance(u, torch.Tensor) else type(u).__name__
        raise ValueError(f"u must have shape (batch, channels, freq, frames), got {shape}")
    n_freq = u.shape[2]
    if isinstance(low_bins, bool) or not isinstance(low_bins, int) or not 1 <= low_bins <= n_freq - 1:
        raise ValueError(
            f"low_bins must be an integer in [1, {n_freq - 1}] for {n_freq} frequency bins, got {low_bins!r}"
        )
    is_low = torch.arange(n_freq, device=u.device) < low_bins  # (freq,)
    is_low = is_low.view(1, 1, n_freq, 1)
    zero = torch.zeros((), dtype=u.dtype, device=u.device)
    return torch.where(is_low, u, zero), torch.where(is_low, zero, u)
