"""ssl_book.augment: shapes, reproducibility, and that every augmentation does what it says."""

import numpy as np
import pytest
import torch

from ssl_book import augment as A
from ssl_book.signal import istft, stft

SINGLE_OPS = {
    "gaussian_noise": A.gaussian_noise,
    "amplitude_resize": A.amplitude_resize,
    "window_warp": A.window_warp,
    "slice_and_shuffle": A.slice_and_shuffle,
    "crop": A.crop,
}


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture
def series() -> torch.Tensor:
    t = torch.linspace(0, 1, 64)
    phases = torch.linspace(0, 3, 6)[:, None]
    return torch.sin(2 * np.pi * 3 * t + phases) + 0.5 * t  # (6, 64), smooth


@pytest.mark.parametrize("name", [*SINGLE_OPS, *(f"set:{s}" for s in A.AUGMENTATION_SETS)])
def test_shape_dtype_reproducibility(name, series):
    op = (lambda x, g: A.augment(x, name[4:], g)) if name.startswith("set:") else SINGLE_OPS[name]
    out = op(series, gen(1))
    assert out.shape == series.shape and out.dtype == series.dtype
    assert torch.equal(out, op(series, gen(1))), "same generator state must give the same view"
    assert not torch.allclose(out, op(series, gen(2))), "another seed should give another view"
    channel = op(series[:, None], gen(1))  # (batch, 1, length) works too
    assert channel.shape == (6, 1, 64) and torch.allclose(channel[:, 0], out)


def test_each_series_gets_its_own_draw(series):
    same = series[:1].repeat(8, 1)
    for op in SINGLE_OPS.values():
        out = op(same, gen(3))
        assert not torch.allclose(out[0], out[1]), f"{op.__name__} used one draw for the whole batch"


def test_gaussian_noise_has_the_stated_std():
    x = torch.zeros(200, 500)
    noise = A.gaussian_noise(x, gen(), sigma=0.05)
    assert noise.mean().item() == pytest.approx(0, abs=1e-3)
    assert noise.std().item() == pytest.approx(0.05, rel=0.01)
    assert torch.equal(A.gaussian_noise(x, gen(), sigma=0.0), x)


def test_amplitude_resize_is_one_factor_per_series(series):
    x = series.abs() + 1  # no division by zero
    out = A.amplitude_resize(x.repeat(500, 1), gen(), sigma=0.2)
    ratio = out / x.repeat(500, 1)
    assert torch.allclose(ratio, ratio[:, :1].expand_as(ratio), atol=1e-6), "one factor per series"
    factors = ratio[:, 0]
    assert factors.mean().item() == pytest.approx(1.0, abs=0.02)
    assert factors.std().item() == pytest.approx(0.2, rel=0.06)


def numpy_window_warp(x: np.ndarray, start: int, scale: float, window: int) -> np.ndarray:
    """The tsgm recipe, one series at a time: resample the window, concatenate, resample all."""
    length = len(x)
    m = max(int(round(window * scale)), 2)
    warped_window = np.interp(np.linspace(0, window - 1, m), np.arange(window), x[start : start + window])
    joined = np.concatenate([x[:start], warped_window, x[start + window :]])
    return np.interp(np.arange(length), np.linspace(0, length - 1, len(joined)), joined)


def test_warp_window_matches_the_two_step_numpy_recipe():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 50)).cumsum(1)
    starts, scales = np.array([0, 7, 12, 30, 20]), np.array([0.9, 2.0, 1.37, 1.0, 0.5])
    out = A.warp_window(torch.tensor(x), torch.tensor(starts), torch.tensor(scales), window=20)
    expected = np.stack([numpy_window_warp(x[i], starts[i], scales[i], 20) for i in range(5)])
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-10)


def test_window_warp_keeps_endpoints_and_order(series):
    ramp = torch.arange(100.0).repeat(300, 1)
    out = A.window_warp(ramp, gen())
    assert torch.all(out.diff(dim=-1) > 0), "warping time keeps the order of the samples"
    assert torch.allclose(out[:, 0], ramp[:, 0]) and torch.allclose(out[:, -1], ramp[:, -1])
    assert torch.allclose(A.window_warp(series, gen(), scales=(1.0, 1.0)), series, atol=1e-6)
    # scale 2 on a window of 40 samples: 80 samples for the window, 140 in all, squeezed into
    # 100: outside the window the ramp advances 139/99 per step, inside it 39/79 of that
    doubled = A.window_warp(ramp, gen(), scales=(2.0, 2.0)).diff(dim=-1)
    assert torch.allclose(doubled.max(-1).values, torch.tensor(139 / 99), atol=1e-4)
    assert torch.allclose(doubled.min(-1).values, torch.tensor(139 / 99 * 39 / 79), atol=1e-4)


def test_slice_and_shuffle_permutes_contiguous_segments():
    ramp = torch.arange(40).float().repeat(200, 1)
    out = A.slice_and_shuffle(ramp, gen(), n_segments=4)
    for row in out.long():
        assert sorted(row.tolist()) == list(range(40)), "every sample appears exactly once"
        runs = 1 + int((row.diff() != 1).sum())
        assert runs <= 4, "at most n_segments runs of consecutive samples"
    shuffled = (out != ramp).any(-1).float().mean().item()
    assert shuffled > 0.9, "23 of the 24 orders of 4 segments change the series"


def test_crop_reads_a_stretched_window():
    ramp = torch.arange(101.0).repeat(50, 1)
    out = A.crop(ramp, gen(), crop_ratio=0.8)
    steps = out.diff(dim=-1)
    assert torch.allclose(steps, torch.full_like(steps, 0.8), atol=1e-4), "a window of 80% stretched to 100%"
    assert (out[:, 0] >= 0).all() and (out[:, -1] <= 100 + 1e-4).all()
    assert out[:, 0].std() > 1, "the window starts at different places"
    assert torch.allclose(A.crop(ramp, gen(), crop_ratio=1.0), ramp)


def test_stft_round_trip_is_the_identity_up_to_rounding(series):
    x = series.repeat(1, 2)  # length 128
    assert torch.allclose(A.stft_round_trip(x, n_fft=32), x, atol=1e-5)
    direct = istft(stft(x, n_fft=32), x.shape[-1], n_fft=32)
    assert torch.equal(A.stft_round_trip(x), direct)


def test_augmentation_sets_compose_as_documented(series):
    assert set(A.AUGMENTATION_SETS) == {"warp", "slice", "gauss"}
    assert A.ROUND_TRIP_N_FFT == 32
    expected = A.stft_round_trip(A.gaussian_noise(series, gen(5), sigma=0.05), n_fft=32)
    assert torch.equal(A.augment(series, "gauss", gen(5)), expected)
    g = gen(6)
    warped = A.amplitude_resize(A.window_warp(series, g), g)
    assert torch.equal(A.augment(series, "warp", gen(6)), A.stft_round_trip(warped))
    assert torch.equal(
        A.augment(series, "slice", gen(7)), A.stft_round_trip(A.slice_and_shuffle(series, gen(7)))
    )


def test_bad_inputs_raise_clear_errors(series):
    with pytest.raises(ValueError, match="valid sets: warp, slice, gauss"):
        A.augment(series, "jitter", gen())
    with pytest.raises(ValueError, match=r"\(batch, length\)"):
        A.gaussian_noise(series[0], gen())
    with pytest.raises(ValueError, match="floating-point"):
        A.crop(torch.ones(2, 10, dtype=torch.long), gen())
    with pytest.raises(ValueError, match="torch.Generator"):
        A.gaussian_noise(series, 0)
    with pytest.raises(ValueError, match="sigma"):
        A.amplitude_resize(series, gen(), sigma=-1.0)
    with pytest.raises(ValueError, match="scales"):
        A.window_warp(series, gen(), scales=(2.0, 1.0))
    with pytest.raises(ValueError, match="window_ratio"):
        A.window_warp(series, gen(), window_ratio=1.5)
    with pytest.raises(ValueError, match="n_segments"):
        A.slice_and_shuffle(series, gen(), n_segments=1)
    with pytest.raises(ValueError, match="crop_ratio"):
        A.crop(series, gen(), crop_ratio=0.0)
    with pytest.raises(ValueError, match="start"):
        A.warp_window(series, torch.full((6,), 60), torch.ones(6), window=20)
