"""ssl_book.signal against torch.stft and scipy.signal.stft; the round trip."""

import numpy as np
import pytest
import scipy.signal
import torch

from ssl_book.data import load_ucr
from ssl_book.signal import istft, magnitude, stft


@pytest.mark.parametrize("n_fft, hop", [(8, None), (8, 1), (16, 4), (32, 8), (9, 3)])
def test_matches_torch_stft(n_fft, hop):
    x = torch.randn(3, 101, dtype=torch.float64)
    u = stft(x, n_fft, hop)
    ref = torch.stft(x, n_fft, hop_length=hop or n_fft // 4, window=torch.hann_window(n_fft, dtype=torch.float64),
                     center=True, return_complex=True)
    assert u.shape == (3, 2, n_fft // 2 + 1, ref.shape[-1])
    torch.testing.assert_close(u[:, 0], ref.real)
    torch.testing.assert_close(u[:, 1], ref.imag)


@pytest.mark.parametrize("n_fft", [8, 16])
def test_matches_scipy_stft(n_fft):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 96))
    hop = n_fft // 4
    u = stft(torch.tensor(x), n_fft, hop, pad_mode="constant").numpy()
    window = scipy.signal.get_window("hann", n_fft)        # periodic, like torch.hann_window
    _, _, ref = scipy.signal.stft(x, window=window, nperseg=n_fft, noverlap=n_fft - hop,
                                  boundary="zeros", padded=False, return_onesided=True)
    ref = ref * window.sum()                                # scipy divides by the window's sum
    np.testing.assert_allclose(u[:, 0], ref.real, atol=1e-10)
    np.testing.assert_allclose(u[:, 1], ref.imag, atol=1e-10)


def test_thesis_shape_and_round_trip_on_real_data():
    data = load_ucr("ECG5000")
    x = torch.tensor(data.x_test[:64])
    u = stft(x)                                             # n_fft 8, hop 2
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


@pytest.mark.parametrize("call, message", [
    (lambda: stft(torch.randn(2, 3, 50)), "batch, length"),
    (lambda: stft(torch.ones(2, 50, dtype=torch.long)), "floating"),
    (lambda: stft(torch.randn(2, 50), n_fft=1), "n_fft"),
    (lambda: stft(torch.randn(2, 50), 8, hop_length=9), "hop_length"),
    (lambda: stft(torch.randn(2, 3), 8), "longer than"),
    (lambda: stft(np.zeros((2, 50))), "torch.Tensor"),
    (lambda: istft(torch.randn(2, 5, 20), 40), "batch, 2, freq, frames"),
    (lambda: istft(torch.randn(2, 2, 4, 20), 40), "frequency bins"),
    (lambda: istft(torch.randn(2, 2, 5, 20), 0), "length"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
