"""Seeding, device choice and the quick-mode switch."""

import random

import numpy as np
import pytest
import torch

from ssl_book import by_mode, get_device, is_quick, seed_everything
from ssl_book.runtime import QUICK_ENV_VAR


def draw_everything() -> tuple:
    return (random.random(), np.random.rand(3).tolist(), torch.rand(3).tolist(),
            torch.nn.Linear(4, 2).weight.sum().item())


def test_same_seed_gives_same_numbers():
    rng_a = seed_everything(7)
    first = draw_everything(), rng_a.random()
    rng_b = seed_everything(7)
    second = draw_everything(), rng_b.random()
    assert first == second


def test_different_seeds_give_different_numbers():
    seed_everything(1)
    first = draw_everything()
    seed_everything(2)
    assert draw_everything() != first


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, None])
def test_bad_seed_is_refused(bad):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(bad)


def test_device_defaults_to_an_available_one():
    device = get_device()
    assert device.type in ("cpu", "cuda", "mps")
    assert torch.zeros(1, device=device).device.type == device.type


def test_unavailable_device_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA was requested"):
        get_device("cuda")
    assert get_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("value, quick", [("1", True), ("true", True), ("YES", True),
                                          ("0", False), ("", False), ("no", False)])
def test_quick_switch(monkeypatch, value, quick):
    monkeypatch.setenv(QUICK_ENV_VAR, value)
    assert is_quick() is quick
    assert by_mode("normal", "quick") == ("quick" if quick else "normal")


def test_quick_switch_unset_means_normal(monkeypatch):
    monkeypatch.delenv(QUICK_ENV_VAR, raising=False)
    assert by_mode(100, 5) == 100


def test_quick_switch_rejects_typos(monkeypatch):
    monkeypatch.setenv(QUICK_ENV_VAR, "quick")
    with pytest.raises(ValueError, match=QUICK_ENV_VAR):
        is_quick()


def test_keep_freed_memory_reports_whether_it_applied():
    import platform

    from ssl_book.runtime import keep_freed_memory

    applied = keep_freed_memory()
    assert isinstance(applied, bool)
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert applied
