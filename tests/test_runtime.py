"""Seeding, device choice and the quick-mode switch."""

import random

import numpy as np
import pytest
import torch

from ssl_book import by_mode, get_device, is_quick, seed_everything
from ssl_book.runtime import QUICK_ENV_VAR


def draw_everything() -> tuple:
    return (
        random.random(),
        np.random.rand(3).tolist(),
        torch.rand(3).tolist(),
        torch.nn.Linear(4, 2).weight.sum().item(),
    )


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


@pytest.mark.parametrize(
    "value, quick", [("1", True), ("true", True), ("YES", True), ("0", False), ("", False), ("no", False)]
)
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


@pytest.mark.parametrize(
    ("native", "requested", "expected"),
    [(True, "bf16", "bf16"), (False, "bf16", "fp32"), (True, "fp32", "fp32")],
)
def test_bf16_falls_back_to_fp32_where_it_would_be_emulated(monkeypatch, native, requested, expected):
    from ssl_book import runtime

    monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: native)
    assert runtime.effective_precision(requested, "cpu") == expected
    with pytest.raises(ValueError, match="precision"):
        runtime.effective_precision("fp16", "cpu")


def test_evaluator_trains_and_caches_under_the_precision_that_runs(monkeypatch, tmp_path):
    """A bf16 request on a CPU without native bf16 trains in fp32 and is cached under the fp32
    key, so the cache names what actually trained."""
    import numpy as np

    from ssl_book import evaluator as ev
    from ssl_book import runtime
    from ssl_book.data import UCRDataset

    monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: False)
    monkeypatch.setenv("SSL_BOOK_CACHE_DIR", str(tmp_path))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 16)).astype(np.float32)
    y = np.arange(8) % 2
    data = UCRDataset("toy", x, y, x, y, np.array([0, 1]), tmp_path)
    config = ev.EvaluatorConfig(epochs=1, precision="bf16")
    trained = ev.load_or_train_evaluator("toy", config, "cpu", data=data)
    assert trained.config.precision == "fp32"
    assert trained.path == ev.evaluator_path("toy", ev.EvaluatorConfig(epochs=1), data.content_digest())
