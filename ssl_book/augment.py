"""Time-series augmentations: random *views* of a batch of series for self-supervised learning.

Every augmentation takes a ``(batch, length)`` (or ``(batch, 1, length)``) float tensor and a
``torch.Generator``, draws its random numbers from that generator only, and returns a tensor of
the same shape on the same device. All of them are vectorised over the batch: each series gets
its own random draw, but there is no Python loop over series, so they run on GPU batches every
training step. The same generator state gives the same views.

If the generator lives on another device than ``x`` (say a CPU generator and a CUDA batch), the
random numbers are drawn on the generator's device and moved, which keeps results identical
across devices at the cost of a small copy.

The thesis's three augmentation sets (``AUGMENTATION_SETS``; NC-VQVAE, Mathisen et al. 2024)
are applied with :func:`augment`, which ends every view with the STFT round trip
(``n_fft = 32``) as the thesis's data loader did. Taught in the chapter "Self-supervised
learning".
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch

from ssl_book.signal import as_series_batch, istft, stft

Augmentation = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


# ----------------------------------------------------------------------------- helpers
def _as_batch(x: torch.Tensor) -> torch.Tensor:
    """``(batch, length)`` view of ``x``; accepts ``(batch, 1, length)``."""
    x = as_series_batch(x)
    if x.shape[0] < 1 or x.shape[1] < 2:
        raise ValueError(f"x needs at least one series of length >= 2, got shape {tuple(x.shape)}")
    return x


def _check_generator(generator: torch.Generator) -> None:
    if not isinstance(generator, torch.Generator):
        raise ValueError(
            f"generator must be a torch.Generator, got {type(generator).__name__}; "
            f"make one with torch.Generator().manual_seed(seed)"
        )


def _rand(shape: tuple[int, ...], generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    """Uniform [0, 1) numbers drawn on the generator's device, returned on ``like``'s device."""
    _check_generator(generator)
    draw = torch.rand(shape, generator=generator, device=generator.device, dtype=like.dtype)
    return draw.to(like.device)


def _randn(shape: tuple[int, ...], generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    """Standard normal numbers drawn on the generator's device, returned on ``like``'s device."""
    _check_generator(generator)
    draw = torch.randn(shape, generator=generator, device=generator.device, dtype=like.dtype)
    return draw.to(like.device)


def interpolate_at(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Read each series at fractional positions by linear interpolation.

    Args:
        x: ``(batch, length)`` series.
        positions: ``(batch, n)`` positions in ``[0, length - 1]`` (clamped to that range).

    Returns:
        ``(batch, n)``: ``x[b, p]`` for integer ``p``, the straight line between the two
        neighbouring samples otherwise (what ``numpy.interp`` does for one series).
    """
    length = x.shape[-1]
    positions = positions.clamp(0, length - 1)
    left = positions.floor().long().clamp(max=length - 2)
    frac = positions - left
    return torch.lerp(x.gather(-1, left), x.gather(-1, left + 1), frac)


# ----------------------------------------------------------------------------- augmentations
def gaussian_noise(x: torch.Tensor, generator: torch.Generator, sigma: float = 0.05) -> torch.Tensor:
    """Add i.i.d. noise ``N(0, sigma^2)`` to every time step (also called *jitter*).

    Teaches invariance to measurement noise. ``sigma`` is in the units of ``x`` (the UCR series
    are z-normalised, so 0.05 is 5% of a standard deviation).
    """
    series = _as_batch(x)
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    return (series + sigma * _randn(series.shape, generator, series)).reshape(x.shape)


def amplitude_resize(x: torch.Tensor, generator: torch.Generator, sigma: float = 0.2) -> torch.Tensor:
    """Multiply each series by one random factor ``1 + N(0, sigma^2)``.

    This is the *scaling* augmentation of Um et al. (2017); the thesis calls it amplitude
    resize and uses ``sigma = 0.2``. Teaches invariance to the overall amplitude.
    """
    series = _as_batch(x)
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    factor = 1 + sigma * _randn((series.shape[0], 1), generator, series)
    return (series * factor).reshape(x.shape)


def warp_window(x: torch.Tensor, start: torch.Tensor, scale: torch.Tensor, window: int) -> torch.Tensor:
    """Resample the window ``x[start : start + window]`` of each series by ``scale``, then the
    whole series back to its length: the deterministic core of :func:`window_warp`.

    Per series, the window is linearly resampled to ``m = round(window * scale)`` samples
    (``scale > 1`` slows the window down, ``scale < 1`` speeds it up); with the samples before
    and after it, the concatenation has length ``L' = L - window + m`` and is linearly
    re-interpolated to ``L`` points (the recipe of the tsgm library, which the thesis used).
    Both interpolations are computed at once, without loops over the batch: output sample
    ``j`` sits at position ``q = j (L' - 1) / (L - 1)`` of the concatenation, whose sample
    ``k`` reads the original series at a known position ``pos(k)``.

    Args:
        x: ``(batch, length)`` series.
        start: ``(batch,)`` integer window starts in ``[0, length - window]``.
        scale: ``(batch,)`` positive resampling factors.
        window: window length in samples, ``2 <= window < length``.

    Returns:
        ``(batch, length)`` warped series.
    """
    series = _as_batch(x)
    batch, length = series.shape
    if not 2 <= window < length:
        raise ValueError(f"window must be in [2, length={length}), got {window}")
    start = torch.as_tensor(start, device=series.device).to(series.dtype).reshape(batch, 1)
    scale = torch.as_tensor(scale, device=series.device).to(series.dtype).reshape(batch, 1)
    if (start < 0).any() or (start > length - window).any() or (start != start.round()).any():
        raise ValueError(f"start must hold integers in [0, {length - window}]")
    if (scale <= 0).any():
        raise ValueError("scale must be positive")
    return _warp(series, start, scale, window).reshape(x.shape)


def _warp(series: torch.Tensor, start: torch.Tensor, scale: torch.Tensor, window: int) -> torch.Tensor:
    """:func:`warp_window` without the checks (which synchronise a GPU): ``(batch, length)``
    series, ``(batch, 1)`` float starts and scales."""
    batch, length = series.shape
    m = (window * scale).round().clamp(min=2)  # warped window length
    new_length = length - window + m  # (batch, 1)

    def original_position(k: torch.Tensor) -> torch.Tensor:
        """Where sample k of the concatenation reads the original series."""
        inside = start + (k - start) * (window - 1) / (m - 1)
        after = k - m + window
        return torch.where(k < start, k, torch.where(k < start + m, inside, after))

    j = torch.arange(length, device=series.device, dtype=series.dtype).expand(batch, length)
    q = j * (new_length - 1) / (length - 1)
    k = q.floor().clamp(max=new_length - 2)
    left = interpolate_at(series, original_position(k))
    right = interpolate_at(series, original_position(k + 1))
    return torch.lerp(left, right, q - k)


def window_warp(
    x: torch.Tensor,
    generator: torch.Generator,
    window_ratio: float = 0.4,
    scales: tuple[float, float] = (0.9, 2.0),
) -> torch.Tensor:
    """Stretch or squeeze a random window in time, then resample the series back to its length.

    Per series: a window of ``round(window_ratio * L)`` samples at a uniformly random start is
    resampled by a factor ``s ~ U(scales)`` and the result re-interpolated to ``L`` samples
    (:func:`warp_window`). The thesis's setting: ``window_ratio = 0.4``,
    ``scales = (0.9, 2.0)``. Teaches invariance to local changes of speed.
    """
    series = _as_batch(x)
    batch, length = series.shape
    low, high = scales
    if not 0 < low <= high:
        raise ValueError(f"scales must be (low, high) with 0 < low <= high, got {scales}")
    if not 0 < window_ratio < 1:
        raise ValueError(f"window_ratio must be in (0, 1), got {window_ratio}")
    window = max(round(window_ratio * length), 2)
    if window >= length:
        raise ValueError(f"series of length {length} too short for a window of {window} samples")
    scale = low + (high - low) * _rand((batch, 1), generator, series)
    start = (_rand((batch, 1), generator, series) * (length - window + 1)).floor().clamp(max=length - window)
    return _warp(series, start, scale, window).reshape(x.shape)


def slice_and_shuffle(x: torch.Tensor, generator: torch.Generator, n_segments: int = 4) -> torch.Tensor:
    """Cut each series at ``n_segments - 1`` random distinct points and shuffle the pieces.

    The output is a permutation of the input's samples in which each piece keeps its internal
    order. Teaches invariance to the order of events (a strong assumption: right for
    datasets whose classes are defined by local shapes, wrong where timing matters).
    """
    series = _as_batch(x)
    batch, length = series.shape
    if not 2 <= n_segments <= length:
        raise ValueError(f"n_segments must be in [2, length={length}], got {n_segments}")
    # n_segments - 1 distinct cut points in 1..L-1, sorted: the first entries of a random order.
    cuts = _rand((batch, length - 1), generator, series).argsort(-1)[:, : n_segments - 1] + 1
    zero = torch.zeros(batch, 1, dtype=torch.long, device=series.device)
    bounds = torch.cat([zero, cuts.sort(-1).values, zero + length], dim=-1)  # (batch, S + 1)
    starts, lengths = bounds[:, :-1], bounds.diff(dim=-1)  # (batch, S)
    order = _rand((batch, n_segments), generator, series).argsort(-1)  # new slot -> piece
    new_lengths = lengths.gather(-1, order)
    new_ends = new_lengths.cumsum(-1)
    new_starts = new_ends - new_lengths
    j = torch.arange(length, device=series.device).expand(batch, length).contiguous()
    slot = torch.searchsorted(new_ends, j, right=True)  # output j -> slot
    piece = order.gather(-1, slot)
    source = starts.gather(-1, piece) + (j - new_starts.gather(-1, slot))
    return series.gather(-1, source).reshape(x.shape)


def crop(x: torch.Tensor, generator: torch.Generator, crop_ratio: float = 0.8) -> torch.Tensor:
    """Keep a random window of ``crop_ratio * L`` samples and stretch it back to length ``L``.

    Teaches invariance to where the series starts and ends (and, through the stretch, to a
    uniform change of speed).
    """
    series = _as_batch(x)
    batch, length = series.shape
    if not 0 < crop_ratio <= 1:
        raise ValueError(f"crop_ratio must be in (0, 1], got {crop_ratio}")
    span = (length - 1) * crop_ratio
    start = _rand((batch, 1), generator, series) * (length - 1 - span)
    j = torch.arange(length, device=series.device, dtype=series.dtype).expand(batch, length)
    return interpolate_at(series, start + j * span / (length - 1)).reshape(x.shape)


def stft_round_trip(x: torch.Tensor, n_fft: int = 32) -> torch.Tensor:
    """``ISTFT(STFT(x))`` with a Hann window, hop ``n_fft // 4`` (``ssl_book.signal``).

    With these settings the STFT is invertible, so this returns ``x`` up to float rounding:
    the thesis's data loader passed every view through it because time-frequency augmentations
    (all switched off in the reported runs) would act between the two transforms. Needs
    ``length > n_fft // 2``.
    """
    series = _as_batch(x)
    return istft(stft(series, n_fft=n_fft), series.shape[-1], n_fft=n_fft).reshape(x.shape)


# ----------------------------------------------------------------------------- the thesis's sets
#: The three augmentation sets of NC-VQVAE (T_warp, T_slice, T_gauss), applied in order.
AUGMENTATION_SETS: dict[str, tuple[Augmentation, ...]] = {
    "warp": (window_warp, amplitude_resize),
    "slice": (slice_and_shuffle,),
    "gauss": (partial(gaussian_noise, sigma=0.05),),
}

#: ``n_fft`` of the STFT round trip that ends every view in :func:`augment`.
ROUND_TRIP_N_FFT = 32


def augment(x: torch.Tensor, set_name: str, generator: torch.Generator) -> torch.Tensor:
    """An augmented view of a batch with one of the thesis's sets, then the STFT round trip.

    Args:
        x: ``(batch, length)`` or ``(batch, 1, length)`` series, on any device.
        set_name: ``"warp"`` (window warp, then amplitude resize), ``"slice"`` (slice and
            shuffle) or ``"gauss"`` (gaussian noise, sigma 0.05).
        generator: the source of randomness (same state, same views).

    Returns:
        The view, same shape and device as ``x``.
    """
    if set_name not in AUGMENTATION_SETS:
        raise ValueError(f"unknown augmentation set {set_name!r}; valid sets: {', '.join(AUGMENTATION_SETS)}")
    view = x
    for op in AUGMENTATION_SETS[set_name]:
        view = op(view, generator)
    return stft_round_trip(view, n_fft=ROUND_TRIP_N_FFT)
