"""ssl_book.signal against torch.stft and scipy.signal.stft; the round trip."""

import numpy as np
import pytest
import scipy.signal
import torch

from ssl_book.data import load_ucr
from ssl_book.signal import istft, magnitude, split_frequencies, stft


@pytest.mark.parametrize("n_fft, hop", [(8, None), (8, 1), (16, 4), (32, 8), (9, 3)])
def test_matches_torch_stft(n_fft, hop):
    x = torch.randn(3, 101, dtype=torch.float64)
    u = stft(x, n_fft, hop)
    ref = torch.stft(
        x,
        n_fft,
        hop_length=hop or n_fft // 4,
        window=torch.hann_window(n_fft, dtype=torch.float64),
        center=True,
        return_complex=True,
    )
    assert u.shape == (3, 2, n_fft // 2 + 1, ref.shape[-1])
    torch.testing.assert_close(u[:, 0], ref.real)
    torch.testing.assert_close(u[:, 1], ref.imag)


@pytest.mark.parametrize("n_fft", [8, 16])
def test_matches_scipy_stft(n_fft):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 96))
    hop = n_fft // 4
    u = stft(torch.tensor(x), n_fft, hop, pad_mode="constant").numpy()
    window = scipy.signal.get_window("hann", n_fft)  # periodic, like torch.hann_window
    _, _, ref = scipy.signal.stft(
        x,
        window=window,
        nperseg=n_fft,
        noverlap=n_fft - hop,
        boundary="zeros",
        padded=False,
        return_onesided=True,
    )
    ref = ref * window.sum()  # scipy divides by the window's sum
    np.testing.assert_allclose(u[:, 0], ref.real, atol=1e-10)
    np.testing.assert_allclose(u[:, 1], ref.imag, atol=1e-10)


def test_thesis_shape_and_round_trip_on_real_data():
    data = load_ucr("ECG5000")
    x = torch.tensor(data.x_test[:64])
    u = stft(x)  # n_fft 8, hop 2
    assert u.shape == (64, 2, 5, 140 // 2 + 1)
    x_back = istft(u, length=140)
    assert (x_back - x).abs().max().item() < 1e-5


@pytest.mark.parametrize("length", [65, 70, 96, 251])
def test_round_trip_for_odd_and_even_lengths(length):
    x = torch.randn(4, 1, length)
    assert (istft(stft(x), length) - x[:, 0]).abs().max().item() < 1e-5


def test_magnitude():
    u = stft(torch.randn(2, 64))
    torch.testing.assert_close(magnitude(u), torch.sqrt(u[:, 0] ** 2 + u[:, 1] ** 2))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: stft(torch.randn(2, 3, 50)), "batch, length"),
        (lambda: stft(torch.ones(2, 50, dtype=torch.long)), "floating"),
        (lambda: stft(torch.randn(2, 50), n_fft=1), "n_fft"),
        (lambda: stft(torch.randn(2, 50), 8, hop_length=9), "hop_length"),
        (lambda: stft(torch.randn(2, 3), 8), "longer than"),
        (lambda: stft(np.zeros((2, 50))), "torch.Tensor"),
        (lambda: istft(torch.randn(2, 5, 20), 40), "batch, 2, freq, frames"),
        (lambda: istft(torch.randn(2, 2, 4, 20), 40), "frequency bins"),
        (lambda: istft(torch.randn(2, 2, 5, 20), 0), "length"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_split_frequencies_is_timevqvae_zero_padding():
    u = torch.randn(3, 2, 5, 41)
    u_low, u_high = split_frequencies(u)
    expected_low = torch.zeros_like(u)  # TimeVQVAE's zero_pad_high_freq
    expected_low[:, :, 0] = u[:, :, 0]
    expected_high = torch.zeros_like(u)  # and zero_pad_low_freq
    expected_high[:, :, 1:] = u[:, :, 1:]
    assert u_low.shape == u_high.shape == u.shape
    assert torch.equal(u_low, expected_low) and torch.equal(u_high, expected_high)


@pytest.mark.parametrize("low_bins", [1, 2, 4])
def test_split_parts_add_up_in_both_domains(low_bins):
    x = torch.tensor(load_ucr("GunPoint").x_test[:16], dtype=torch.float64)
    u = stft(x)
    before = u.clone()
    u_low, u_high = split_frequencies(u, low_bins)
    assert torch.equal(u, before), "the input must not be modified"
    assert torch.equal(u_low + u_high, u)
    assert (u_low[:, :, low_bins:] == 0).all() and (u_high[:, :, :low_bins] == 0).all()
    x_low, x_high = istft(u_low, x.shape[-1]), istft(u_high, x.shape[-1])
    torch.testing.assert_close(x_low + x_high, x, rtol=0, atol=1e-10)


def test_low_part_of_a_constant_is_two_thirds_of_it():
    # Bin 0 of a Hann-windowed frame of a constant c is c * sum(w) = c * n_fft / 2, so each frame
    # synthesises c / 2; overlap-adding with w and dividing by sum(w^2) gives
    # (c / 2) * (n_fft / (2 hop)) / (3 n_fft / (8 hop)) = 2c / 3 away from the ends.
    x = torch.full((2, 64), 3.0, dtype=torch.float64)
    x_low, x_high = (istft(part, 64) for part in split_frequencies(stft(x)))
    torch.testing.assert_close(x_low[:, 4:-4], torch.full((2, 56), 2.0, dtype=torch.float64))
    torch.testing.assert_close(x_high[:, 4:-4], torch.full((2, 56), 1.0, dtype=torch.float64))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: split_frequencies(torch.randn(2, 5, 20)), "batch, channels, freq, frames"),
        (lambda: split_frequencies(np.zeros((2, 2, 5, 20))), "batch, channels, freq, frames"),
        (lambda: split_frequencies(torch.randn(2, 2, 5, 20), low_bins=0), "low_bins"),
        (lambda: split_frequencies(torch.randn(2, 2, 5, 20), low_bins=5), "low_bins"),
        (lambda: split_frequencies(torch.randn(2, 2, 5, 20), low_bins=1.0), "low_bins"),
    ],
)
def test_split_frequencies_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_half_precision_input_is_transformed_in_float32():
    x = torch.randn(2, 64)
    u = stft(x.bfloat16())
    assert u.dtype == torch.float32
    torch.testing.assert_close(u, stft(x.bfloat16().float()))
    assert istft(u.bfloat16(), 64).dtype == torch.float32
