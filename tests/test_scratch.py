"""ssl_book.scratch against torch.nn.functional: convolutions, pooling, transposed convolution."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ssl_book import scratch

N_RANDOM = 40  # random settings per operation


def random_conv1d_case(rng: np.random.Generator) -> dict:
    groups = int(rng.choice([1, 1, 2, 3]))
    c_in, c_out = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
    kernel, stride, dilation = int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
    padding = int(rng.integers(0, 4))
    span = dilation * (kernel - 1) + 1
    length = int(rng.integers(max(1, span - 2 * padding), span + 30))
    return dict(
        shape=(int(rng.integers(1, 4)), c_in, length),
        weight=(c_out, c_in // groups, kernel),
        bias=bool(rng.integers(0, 2)),
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
    )


@pytest.mark.parametrize("seed", range(N_RANDOM))
def test_conv1d_matches_torch(seed):
    rng = np.random.default_rng(seed)
    case = random_conv1d_case(rng)
    gen = torch.Generator().manual_seed(seed)
    x, w = torch.randn(case["shape"], generator=gen), torch.randn(case["weight"], generator=gen)
    b = torch.randn(case["weight"][0], generator=gen) if case["bias"] else None
    kwargs = {k: case[k] for k in ("stride", "padding", "dilation", "groups")}
    torch.testing.assert_close(
        scratch.conv1d(x, w, b, **kwargs), F.conv1d(x, w, b, **kwargs), atol=1e-5, rtol=1e-5
    )


@pytest.mark.parametrize("seed", range(N_RANDOM))
def test_conv2d_matches_torch(seed):
    rng = np.random.default_rng(1000 + seed)
    groups = int(rng.choice([1, 1, 2]))
    c_in, c_out = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    kernel = tuple(int(k) for k in rng.integers(1, 5, 2))
    stride, dilation = (
        tuple(int(s) for s in rng.integers(1, 4, 2)),
        tuple(int(d) for d in rng.integers(1, 3, 2)),
    )
    padding = tuple(int(p) for p in rng.integers(0, 3, 2))
    size = tuple(int(d * (k - 1) + 1 + rng.integers(0, 12)) for k, d in zip(kernel, dilation))
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2, c_in, *size, generator=gen)
    w = torch.randn(c_out, c_in // groups, *kernel, generator=gen)
    b = torch.randn(c_out, generator=gen)
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    torch.testing.assert_close(
        scratch.conv2d(x, w, b, **kwargs), F.conv2d(x, w, b, **kwargs), atol=1e-5, rtol=1e-5
    )


@pytest.mark.parametrize("seed", range(N_RANDOM))
def test_conv_transpose1d_matches_torch(seed):
    rng = np.random.default_rng(2000 + seed)
    groups = int(rng.choice([1, 1, 2, 3]))
    c_in, c_out = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
    kernel, stride, dilation = int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(1, 3))
    output_padding = int(rng.integers(0, max(stride, dilation)))
    length = int(rng.integers(1, 20))
    full = (length - 1) * stride + dilation * (kernel - 1) + 1 + output_padding
    padding = int(rng.integers(0, (full - 1) // 2 + 1))
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2, c_in, length, generator=gen)
    w = torch.randn(c_in, c_out // groups, kernel, generator=gen)
    b = torch.randn(c_out, generator=gen) if seed % 2 else None
    kwargs = dict(
        stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation
    )
    ours = scratch.conv_transpose1d(x, w, b, **kwargs)
    torch.testing.assert_close(ours, F.conv_transpose1d(x, w, b, **kwargs), atol=1e-5, rtol=1e-5)
    assert ours.shape[-1] == scratch.conv_transpose_output_length(
        length, kernel, stride, padding, output_padding, dilation
    )


@pytest.mark.parametrize("seed", range(N_RANDOM))
def test_pooling_matches_torch(seed):
    rng = np.random.default_rng(3000 + seed)
    kernel = int(rng.integers(1, 7))
    stride = None if seed % 3 == 0 else int(rng.integers(1, 5))
    padding = int(rng.integers(0, kernel // 2 + 1))
    length = int(rng.integers(max(1, kernel - 2 * padding), 40))
    x = torch.randn(3, 2, length, generator=torch.Generator().manual_seed(seed))
    torch.testing.assert_close(
        scratch.max_pool1d(x, kernel, stride, padding), F.max_pool1d(x, kernel, stride, padding)
    )
    for include in (True, False):
        torch.testing.assert_close(
            scratch.avg_pool1d(x, kernel, stride, padding, count_include_pad=include),
            F.avg_pool1d(x, kernel, stride, padding, count_include_pad=include),
            atol=1e-6,
            rtol=1e-6,
        )


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_padding_strings_unbatched_inputs_and_float64():
    x, w = torch.randn(3, 17, dtype=torch.float64), torch.randn(4, 3, 4, dtype=torch.float64)
    for padding in ("same", "valid"):
        torch.testing.assert_close(
            scratch.conv1d(x, w, padding=padding, dilation=2), F.conv1d(x, w, padding=padding, dilation=2)
        )
    img, k = torch.randn(2, 9, 8), torch.randn(3, 2, 2, 3)
    torch.testing.assert_close(scratch.conv2d(img, k, padding="same"), F.conv2d(img, k, padding="same"))
    torch.testing.assert_close(scratch.max_pool1d(x, 3), F.max_pool1d(x, 3))
    torch.testing.assert_close(
        scratch.conv_transpose1d(x, w.transpose(0, 1).contiguous(), stride=2),
        F.conv_transpose1d(x, w.transpose(0, 1).contiguous(), stride=2),
    )


def test_numpy_integers_are_accepted_and_booleans_refused():
    x, w = torch.randn(1, 2, 12), torch.randn(3, 2, 3)
    torch.testing.assert_close(
        scratch.conv1d(x, w, stride=np.int64(2), padding=np.int32(1)), F.conv1d(x, w, stride=2, padding=1)
    )
    assert scratch.conv_output_length(np.int64(12), 3, 2, 1) == 6
    with pytest.raises(ValueError, match="stride"):
        scratch.conv1d(x, w, stride=True)


def test_gradients_flow_like_torch():
    x = torch.randn(2, 2, 20, requires_grad=True)
    w = torch.randn(3, 2, 5, requires_grad=True)
    scratch.conv1d(x, w, stride=2, padding=1).square().sum().backward()
    ours = x.grad.clone(), w.grad.clone()
    x.grad = w.grad = None
    F.conv1d(x, w, stride=2, padding=1).square().sum().backward()
    torch.testing.assert_close(ours[0], x.grad)
    torch.testing.assert_close(ours[1], w.grad)


@pytest.mark.parametrize(
    "stride, padding, dilation, groups", [(1, 0, 1, 1), (2, 1, 1, 1), (3, 2, 2, 1), (2, 0, 1, 2)]
)
def test_transposed_convolution_is_the_adjoint(stride, padding, dilation, groups):
    """<conv1d(x), y> = <x, conv_transpose1d(y)> for the same weight and settings."""
    gen = torch.Generator().manual_seed(stride + 10 * padding)
    x = torch.randn(2, 4, 23, dtype=torch.float64, generator=gen)
    w = torch.randn(6, 4 // groups, 3, dtype=torch.float64, generator=gen)
    cx = scratch.conv1d(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups)
    y = torch.randn(cx.shape, dtype=torch.float64, generator=gen)
    # conv_transpose1d needs output_padding to reach the input length exactly
    output_padding = x.shape[-1] - scratch.conv_transpose_output_length(
        cx.shape[-1], 3, stride, padding, 0, dilation
    )
    cty = scratch.conv_transpose1d(
        y, w, stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation
    )
    assert cty.shape == x.shape
    torch.testing.assert_close((cx * y).sum(), (x * cty).sum())


def test_output_length_formula_matches_torch():
    for length in (5, 16, 31):
        for kernel in (1, 3, 4):
            for stride in (1, 2, 3):
                for padding in (0, 1, 2):
                    for dilation in (1, 2):
                        if dilation * (kernel - 1) + 1 > length + 2 * padding:
                            continue
                        expected = F.conv1d(
                            torch.zeros(1, 1, length),
                            torch.zeros(1, 1, kernel),
                            stride=stride,
                            padding=padding,
                            dilation=dilation,
                        ).shape[-1]
                        assert (
                            scratch.conv_output_length(length, kernel, stride, padding, dilation) == expected
                        )


x3, w3 = torch.randn(2, 4, 10), torch.randn(6, 4, 3)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: scratch.conv1d(x3, torch.randn(6, 4, 13)), "kernel larger than the padded input"),
        (lambda: scratch.conv1d(x3, torch.randn(6, 4, 6), dilation=2), "kernel larger than the padded input"),
        (lambda: scratch.conv1d(x3, w3, stride=0), "stride must be a positive integer"),
        (lambda: scratch.conv1d(x3, w3, dilation=-1), "dilation must be a positive integer"),
        (lambda: scratch.conv1d(x3, w3, padding=-1), "padding must be a non-negative integer"),
        (lambda: scratch.conv1d(x3, w3, padding="full"), "padding must be an integer"),
        (lambda: scratch.conv1d(x3, w3, stride=2, padding="same"), "needs stride 1"),
        (lambda: scratch.conv1d(x3, torch.randn(6, 3, 3)), "input has 4 channels"),
        (lambda: scratch.conv1d(x3, torch.randn(6, 4, 3), groups=3), "groups \\(3\\) must divide"),
        (lambda: scratch.conv1d(x3, torch.randn(5, 2, 3), groups=2), "groups \\(2\\) must divide"),
        (lambda: scratch.conv1d(x3, w3, groups=0), "groups must be a positive integer"),
        (lambda: scratch.conv1d(x3, w3, bias=torch.randn(4)), "bias must have shape \\(6,\\)"),
        (lambda: scratch.conv1d(x3[0, 0], w3), "input must be \\(N, C_in, L\\)"),
        (lambda: scratch.conv1d(x3, w3[0]), "weight must be a 3-D tensor"),
        (lambda: scratch.conv1d(x3.numpy(), w3), "must be a torch.Tensor"),
        (lambda: scratch.conv1d(x3.long(), w3), "floating-point"),
        (lambda: scratch.conv1d(x3.double(), w3), "same dtype"),
        (lambda: scratch.conv2d(x3[0], w3), "input must be \\(N, C_in, H, W\\)"),
        (lambda: scratch.conv2d(torch.randn(1, 4, 5, 5), torch.randn(2, 4, 3, 7)), "kernel larger"),
        (lambda: scratch.conv2d(torch.randn(1, 4, 5, 5), torch.randn(2, 4, 3, 3), stride=(1, 0)), "stride"),
        (
            lambda: scratch.conv2d(torch.randn(1, 4, 5, 5), torch.randn(2, 4, 3, 3), stride=(1, 1, 1)),
            "sequence of 2",
        ),
        (lambda: scratch.conv_transpose1d(x3, torch.randn(3, 2, 3)), "input has 4 channels"),
        (
            lambda: scratch.conv_transpose1d(x3, torch.randn(4, 2, 3), stride=2, output_padding=2),
            "output_padding",
        ),
        (lambda: scratch.conv_transpose1d(x3, torch.randn(4, 2, 3), padding=20), "removes the whole output"),
        (lambda: scratch.conv_transpose1d(x3, torch.randn(4, 2, 3), groups=3), "groups"),
        (lambda: scratch.conv_transpose1d(x3, torch.randn(4, 2, 3), stride=0), "stride"),
        (lambda: scratch.max_pool1d(x3, 11), "kernel larger than the padded input"),
        (lambda: scratch.max_pool1d(x3, 3, padding=2), "at most half the kernel size"),
        (lambda: scratch.max_pool1d(x3, 0), "kernel_size must be a positive integer"),
        (lambda: scratch.avg_pool1d(x3, 2, stride=0), "stride must be a positive integer"),
        (lambda: scratch.avg_pool1d(x3[0, 0], 2), "input must be \\(N, C, L\\)"),
        (lambda: scratch.conv_output_length(10, 3, stride=0), "stride"),
    ],
)
def test_invalid_arguments_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
