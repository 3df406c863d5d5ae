"""Convolution, pooling and transposed convolution written out in plain code.

Each function has the signature and the semantics of its ``torch.nn.functional`` namesake
(the unit tests check agreement to 1e-5), but computes the result the way the chapters
"Convolution", "Pooling" and "CNN architecture and transposed convolution" explain it: pad the
input, then loop over the taps of the kernel and add up shifted, strided slices of the input.
There is no ``unfold`` and no call to a convolution routine, so every output element can be
traced back to the inputs that made it. The loops run over groups and kernel taps only (a few
dozen iterations), which keeps the functions fast enough for tests and small experiments, and
they are differentiable with autograd.

Notation: ``N`` batch, ``C`` channels, ``L`` length (``H, W`` in 2-D), ``K`` kernel size.
Unbatched inputs ``(C, L)`` (or ``(C, H, W)``) are accepted, as in PyTorch.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch
import torch.nn.functional as F

IntOrPair = int | Sequence[int]


# ---------------------------------------------------------------------------- output sizes
def conv_output_length(
    length: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Length of a convolution's (or pooling's) output:
    ``floor((length + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1``.

    Raises ``ValueError`` when the dilated kernel does not fit in the padded input.
    """
    _check_positive(length=length, kernel_size=kernel_size, stride=stride, dilation=dilation)
    _check_non_negative(padding=padding)
    return _output_length(int(length), 2 * int(padding), int(kernel_size), int(stride), int(dilation))


def conv_transpose_output_length(
    length: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """Length of a transposed convolution's output:
    ``(length - 1) stride - 2 padding + dilation (kernel_size - 1) + output_padding + 1``."""
    _check_positive(length=length, kernel_size=kernel_size, stride=stride, dilation=dilation)
    _check_non_negative(padding=padding, output_padding=output_padding)
    if output_padding >= max(stride, dilation):
        raise ValueError(
            f"output_padding ({output_padding}) must be smaller than stride ({stride}) "
            f"or dilation ({dilation})"
        )
    out = (length - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    if out < 1:
        raise ValueError(f"padding {padding} removes the whole output (it would have length {out})")
    return int(out)


# ---------------------------------------------------------------------------- convolution
def conv1d(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: IntOrPair = 1,
    padding: IntOrPair | str = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> torch.Tensor:
    """1-D convolution (cross-correlation, as in deep learning), like ``F.conv1d``.

    ``out[n, o, t] = bias[o] + sum_{c, k} weight[o, c, k] * x[n, g C_g + c, t stride + k dilation]``
    where ``x`` is the zero-padded input, ``g`` the group of output channel ``o`` and ``C_g``
    the input channels per group.

    Args:
        input: ``(N, C_in, L)`` or ``(C_in, L)``.
        weight: ``(C_out, C_in / groups, K)``.
        bias: ``(C_out,)`` or None.
        stride, dilation: positive integers (or 1-tuples).
        padding: zeros added on both sides: an integer (or 1-tuple), ``"valid"`` (none) or
            ``"same"`` (output as long as the input; stride 1 only; an odd total puts the
            extra zero on the right, as PyTorch does).
        groups: split channels into ``groups`` independent convolutions.

    Returns:
        ``(N, C_out, L_out)`` (or ``(C_out, L_out)``) with ``L_out`` from :func:`conv_output_length`.
    """
    x, unbatched = _batched(input, 3, "conv1d", "(N, C_in, L) or (C_in, L)")
    _check_weight(weight, x, 3, "conv1d", "(C_out, C_in / groups, K)")
    (stride,), (dilation,) = _ints(stride, 1, "stride"), _ints(dilation, 1, "dilation")
    kernel = weight.shape[-1]
    pad_left, pad_right = _resolve_padding(padding, (kernel,), (stride,), (dilation,))[0]
    out_channels, in_per_group = weight.shape[0], weight.shape[1]
    _check_groups(groups, x.shape[1], out_channels, in_per_group)
    _check_bias(bias, out_channels, x)

    length = x.shape[-1]
    x = F.pad(x, (pad_left, pad_right))
    out_length = _output_length(length, pad_left + pad_right, kernel, stride, dilation)
    out_per_group = out_channels // groups
    outputs = []
    for g in range(groups):
        x_g = x[:, g * in_per_group : (g + 1) * in_per_group]  # (N, C_g, L_padded)
        w_g = weight[g * out_per_group : (g + 1) * out_per_group]  # (O_g, C_g, K)
        out_g = x.new_zeros(x.shape[0], out_per_group, out_length)
        for k in range(kernel):
            start = k * dilation
            taps = x_g[:, :, start : start + stride * (out_length - 1) + 1 : stride]  # (N, C_g, L_out)
            out_g = out_g + torch.einsum("ncl,oc->nol", taps, w_g[:, :, k])
        outputs.append(out_g)
    out = torch.cat(outputs, dim=1)
    if bias is not None:
        out = out + bias[None, :, None]
    return out[0] if unbatched else out


def conv2d(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: IntOrPair = 1,
    padding: IntOrPair | str = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> torch.Tensor:
    """2-D convolution (cross-correlation), like ``F.conv2d``.

    ``out[n, o, i, j] = bias[o] + sum_{c, a, b} weight[o, c, a, b]
    * x[n, g C_g + c, i s_h + a d_h, j s_w + b d_w]`` on the zero-padded input ``x``.

    Args:
        input: ``(N, C_in, H, W)`` or ``(C_in, H, W)``.
        weight: ``(C_out, C_in / groups, K_h, K_w)``.
        bias: ``(C_out,)`` or None.
        stride, dilation: a positive integer or a pair (height, width).
        padding: an integer, a pair, ``"valid"`` or ``"same"`` (stride 1 only).
        groups: split channels into ``groups`` independent convolutions.

    Returns:
        ``(N, C_out, H_out, W_out)`` (or unbatched), each size from :func:`conv_output_length`.
    """
    x, unbatched = _batched(input, 4, "conv2d", "(N, C_in, H, W) or (C_in, H, W)")
    _check_weight(weight, x, 4, "conv2d", "(C_out, C_in / groups, K_h, K_w)")
    strides, dilations = _ints(stride, 2, "stride"), _ints(dilation, 2, "dilation")
    kernels = tuple(weight.shape[-2:])
    pads = _resolve_padding(padding, kernels, strides, dilations)
    out_channels, in_per_group = weight.shape[0], weight.shape[1]
    _check_groups(groups, x.shape[1], out_channels, in_per_group)
    _check_bias(bias, out_channels, x)

    (s_h, s_w), (d_h, d_w) = strides, dilations
    out_h = _output_length(x.shape[-2], sum(pads[0]), kernels[0], s_h, d_h)
    out_w = _output_length(x.shape[-1], sum(pads[1]), kernels[1], s_w, d_w)
    x = F.pad(x, (*pads[1], *pads[0]))  # F.pad lists the last axis first
    out_per_group = out_channels // groups
    outputs = []
    for g in range(groups):
        x_g = x[:, g * in_per_group : (g + 1) * in_per_group]  # (N, C_g, H_p, W_p)
        w_g = weight[g * out_per_group : (g + 1) * out_per_group]  # (O_g, C_g, K_h, K_w)
        out_g = x.new_zeros(x.shape[0], out_per_group, out_h, out_w)
        for a in range(kernels[0]):
            for b in range(kernels[1]):
                top, left = a * d_h, b * d_w
                taps = x_g[
                    :, :, top : top + s_h * (out_h - 1) + 1 : s_h, left : left + s_w * (out_w - 1) + 1 : s_w
                ]  # (N, C_g, H_out, W_out)
                out_g = out_g + torch.einsum("nchw,oc->nohw", taps, w_g[:, :, a, b])
        outputs.append(out_g)
    out = torch.cat(outputs, dim=1)
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out[0] if unbatched else out


def conv_transpose1d(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    output_padding: IntOrPair = 0,
    groups: int = 1,
    dilation: IntOrPair = 1,
) -> torch.Tensor:
    """1-D transposed convolution, like ``F.conv_transpose1d`` (note PyTorch's argument order:
    ``output_padding`` and ``groups`` come before ``dilation``).

    Every input sample *scatters* a scaled copy of the kernel into the output, copies placed
    ``stride`` apart: ``full[n, o, t stride + k dilation] += sum_c x[n, c, t] weight[c, o, k]``.
    Then ``padding`` samples are cut from both ends and ``output_padding`` extra samples are
    kept on the right. This is the adjoint (transpose) of :func:`conv1d` with the same settings.

    Args:
        input: ``(N, C_in, L)`` or ``(C_in, L)``.
        weight: ``(C_in, C_out / groups, K)`` (input channels first, unlike :func:`conv1d`).
        bias: ``(C_out,)`` or None.
        stride, dilation: positive integers.
        padding: non-negative integer: samples removed from each end of the full output.
        output_padding: extra samples on the right, smaller than ``stride`` or ``dilation``.
        groups: split channels into ``groups`` independent transposed convolutions.

    Returns:
        ``(N, C_out, L_out)`` with ``L_out`` from :func:`conv_transpose_output_length`.
    """
    x, unbatched = _batched(input, 3, "conv_transpose1d", "(N, C_in, L) or (C_in, L)")
    if not isinstance(weight, torch.Tensor) or weight.ndim != 3:
        raise ValueError(
            f"conv_transpose1d: weight must be a 3-D tensor (C_in, C_out / groups, K), "
            f"got {_describe(weight)}"
        )
    _check_dtypes(x, weight, "conv_transpose1d")
    (stride,), (dilation,) = _ints(stride, 1, "stride"), _ints(dilation, 1, "dilation")
    (padding,), (output_padding,) = (
        _ints(padding, 1, "padding", 0),
        _ints(output_padding, 1, "output_padding", 0),
    )
    in_channels, out_per_group, kernel = weight.shape
    if kernel < 1:
        raise ValueError("conv_transpose1d: the kernel is empty")
    if x.shape[1] != in_channels:
        raise ValueError(
            f"conv_transpose1d: input has {x.shape[1]} channels but weight expects "
            f"{in_channels} (weight is (C_in, C_out / groups, K) = {tuple(weight.shape)})"
        )
    if not _is_integer(groups) or groups < 1 or in_channels % groups:
        raise ValueError(
            f"conv_transpose1d: groups ({groups}) must be a positive integer dividing "
            f"the {in_channels} input channels"
        )
    out_channels = out_per_group * groups
    _check_bias(bias, out_channels, x)

    length = x.shape[-1]
    out_length = conv_transpose_output_length(length, kernel, stride, padding, output_padding, dilation)
    full_length = (length - 1) * stride + dilation * (kernel - 1) + 1 + output_padding
    in_per_group = in_channels // groups
    outputs = []
    for g in range(groups):
        x_g = x[:, g * in_per_group : (g + 1) * in_per_group]  # (N, C_g, L)
        w_g = weight[g * in_per_group : (g + 1) * in_per_group]  # (C_g, O_g, K)
        full = x.new_zeros(x.shape[0], out_per_group, full_length)
        for k in range(kernel):
            start = k * dilation
            contribution = torch.einsum("ncl,co->nol", x_g, w_g[:, :, k])  # (N, O_g, L)
            full[:, :, start : start + stride * (length - 1) + 1 : stride] += contribution
        outputs.append(full[:, :, padding : padding + out_length])
    out = torch.cat(outputs, dim=1)
    if bias is not None:
        out = out + bias[None, :, None]
    return out[0] if unbatched else out


# ---------------------------------------------------------------------------- pooling
def max_pool1d(
    input: torch.Tensor, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0
) -> torch.Tensor:
    """1-D max pooling, like ``F.max_pool1d``: ``out[n, c, t] = max_k x[n, c, t stride + k]``.

    Padding adds ``-inf`` (never the maximum), at most ``kernel_size // 2`` on each side.

    Args:
        input: ``(N, C, L)`` or ``(C, L)``.
        kernel_size: window length (positive).
        stride: step between windows; ``None`` means ``kernel_size`` (non-overlapping windows).
        padding: samples added on both sides.

    Returns:
        ``(N, C, L_out)`` (or ``(C, L_out)``), ``L_out`` from :func:`conv_output_length`.
    """
    return _pool1d(input, kernel_size, stride, padding, "max_pool1d", reduce="max")


def avg_pool1d(
    input: torch.Tensor,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    count_include_pad: bool = True,
) -> torch.Tensor:
    """1-D average pooling, like ``F.avg_pool1d``: ``out[n, c, t] = mean_k x[n, c, t stride + k]``.

    Padding adds zeros, at most ``kernel_size // 2`` on each side; with
    ``count_include_pad=False`` the padded zeros are left out of each average.

    Args:
        input: ``(N, C, L)`` or ``(C, L)``.
        kernel_size: window length (positive).
        stride: step between windows; ``None`` means ``kernel_size``.
        padding: samples added on both sides.
        count_include_pad: divide by ``kernel_size`` (True) or by the number of real samples.

    Returns:
        ``(N, C, L_out)`` (or ``(C, L_out)``).
    """
    return _pool1d(
        input, kernel_size, stride, padding, "avg_pool1d", reduce="mean", count_include_pad=count_include_pad
    )


def _pool1d(
    input: torch.Tensor,
    kernel_size: IntOrPair,
    stride: IntOrPair | None,
    padding: IntOrPair,
    name: str,
    reduce: str,
    count_include_pad: bool = True,
) -> torch.Tensor:
    x, unbatched = _batched(input, 3, name, "(N, C, L) or (C, L)")
    (kernel,) = _ints(kernel_size, 1, "kernel_size")
    (stride,) = (kernel,) if stride is None else _ints(stride, 1, "stride")
    (padding,) = _ints(padding, 1, "padding", 0)
    if padding > kernel // 2:
        raise ValueError(
            f"{name}: padding ({padding}) must be at most half the kernel size "
            f"({kernel} // 2 = {kernel // 2})"
        )
    length = x.shape[-1]
    out_length = _output_length(length, 2 * padding, kernel, stride, 1)
    x = F.pad(x, (padding, padding), value=float("-inf") if reduce == "max" else 0.0)
    # window k of every output: the k-th sample of each window, (N, C, L_out)
    windows = [x[:, :, k : k + stride * (out_length - 1) + 1 : stride] for k in range(kernel)]
    if reduce == "max":
        out = windows[0]
        for window in windows[1:]:
            out = torch.maximum(out, window)
    else:
        out = sum(windows[1:], windows[0])
        if count_include_pad:
            out = out / kernel
        else:
            is_real = F.pad(x.new_ones(length), (padding, padding))  # 1 for input samples, 0 for padding
            counts = sum(is_real[k : k + stride * (out_length - 1) + 1 : stride] for k in range(kernel))
            out = out / counts
    return out[0] if unbatched else out


# ---------------------------------------------------------------------------- argument checks
def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"


def _batched(input: torch.Tensor, rank: int, name: str, shapes: str) -> tuple[torch.Tensor, bool]:
    """The input with a batch axis, and whether one was added."""
    if not isinstance(input, torch.Tensor):
        raise ValueError(f"{name}: input must be a torch.Tensor {shapes}, got {_describe(input)}")
    if input.ndim not in (rank - 1, rank):
        raise ValueError(f"{name}: input must be {shapes}, got shape {tuple(input.shape)}")
    if not input.is_floating_point():
        raise ValueError(f"{name}: input must be a floating-point tensor, got {input.dtype}")
    unbatched = input.ndim == rank - 1
    return (input.unsqueeze(0) if unbatched else input), unbatched


def _check_dtypes(x: torch.Tensor, weight: torch.Tensor, name: str) -> None:
    if weight.dtype != x.dtype:
        raise ValueError(f"{name}: input ({x.dtype}) and weight ({weight.dtype}) must have the same dtype")


def _check_weight(weight: torch.Tensor, x: torch.Tensor, rank: int, name: str, shape: str) -> None:
    if not isinstance(weight, torch.Tensor) or weight.ndim != rank:
        raise ValueError(f"{name}: weight must be a {rank}-D tensor {shape}, got {_describe(weight)}")
    _check_dtypes(x, weight, name)
    if min(weight.shape[2:]) < 1 or weight.shape[0] < 1:
        raise ValueError(f"{name}: weight has an empty axis, shape {tuple(weight.shape)}")


def _check_groups(groups: int, in_channels: int, out_channels: int, in_per_group: int) -> None:
    if not _is_integer(groups) or groups < 1:
        raise ValueError(f"groups must be a positive integer, got {groups!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(
            f"groups ({groups}) must divide both the input channels ({in_channels}) "
            f"and the output channels ({out_channels})"
        )
    if in_channels != in_per_group * groups:
        raise ValueError(
            f"input has {in_channels} channels but weight expects {in_per_group} per group "
            f"x {groups} groups = {in_per_group * groups}"
        )


def _check_bias(bias: torch.Tensor | None, out_channels: int, x: torch.Tensor) -> None:
    if bias is None:
        return
    if not isinstance(bias, torch.Tensor) or bias.shape != (out_channels,):
        raise ValueError(
            f"bias must have shape ({out_channels},) (one per output channel), got {_describe(bias)}"
        )
    if bias.dtype != x.dtype:
        raise ValueError(f"bias ({bias.dtype}) must have the input's dtype ({x.dtype})")


def _is_integer(value) -> bool:
    """Python and NumPy integers, but not booleans."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if not _is_integer(value) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_non_negative(**values: int) -> None:
    for name, value in values.items():
        if not _is_integer(value) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def _ints(value: IntOrPair, n: int, name: str, minimum: int = 1) -> tuple[int, ...]:
    """An integer or a length-``n`` sequence of integers as an ``n``-tuple, each >= ``minimum``."""
    if _is_integer(value):
        values = (value,) * n
    elif isinstance(value, Sequence) and not isinstance(value, str):
        values = tuple(value)
    else:
        values = ()
    if len(values) != n:
        raise ValueError(f"{name} must be an integer or a sequence of {n} integers, got {value!r}")
    check = _check_positive if minimum == 1 else _check_non_negative
    for v in values:
        check(**{name: v})
    return tuple(int(v) for v in values)


def _resolve_padding(
    padding: IntOrPair | str, kernels: tuple[int, ...], strides: tuple[int, ...], dilations: tuple[int, ...]
) -> list[tuple[int, int]]:
    """(left, right) zeros per spatial axis for an integer, a sequence, "valid" or "same"."""
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * len(kernels)
        if padding == "same":
            if any(s != 1 for s in strides):
                raise ValueError(f"padding='same' needs stride 1, got stride {strides}")
            totals = [d * (k - 1) for k, d in zip(kernels, dilations)]
            return [(t // 2, t - t // 2) for t in totals]
        raise ValueError(f"padding must be an integer, a sequence, 'valid' or 'same', got {padding!r}")
    return [(p, p) for p in _ints(padding, len(kernels), "padding", 0)]


def _output_length(length: int, total_padding: int, kernel: int, stride: int, dilation: int) -> int:
    """Like :func:`conv_output_length`, for padding split unevenly between the two ends."""
    span = dilation * (kernel - 1) + 1
    if span > length + total_padding:
        raise ValueError(
            f"kernel larger than the padded input: the kernel spans {span} samples "
            f"(size {kernel}, dilation {dilation}) but the padded input has "
            f"{length + total_padding} (length {length} + padding {total_padding})"
        )
    return (length + total_padding - span) // stride + 1
