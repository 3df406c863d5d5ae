"""ssl_book.calibration: real-vs-real FID, IS of real data, raw-series probes."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from ssl_book import evaluator as ev
from ssl_book.calibration import calibrate, load_calibrations
from ssl_book.data import UCRDataset
from ssl_book.evaluator import EvaluatorConfig
from ssl_book.experiments.pipeline import quantized_features
from ssl_book.tokenizer import STFTVQVAE

TINY = EvaluatorConfig(epochs=2, batch_size=32)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(ev.CACHE_ENV_VAR, str(tmp_path))
    return tmp_path


def tiny_data(n_train: int = 24, n_test: int = 300, length: int = 32) -> UCRDataset:
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, length, dtype=np.float32)

    def make(n):
        y = np.arange(n) % 2
        x = np.sin(2 * np.pi * (1 + 2 * y[:, None]) * t) + 0.3 * rng.standard_normal((n, length))
        return x.astype(np.float32), y.astype(np.int64)

    (xtr, ytr), (xte, yte) = make(n_train), make(n_test)
    return UCRDataset("Tiny", xtr, ytr, xte, yte, np.array([1, 2]), Path("."))


def test_calibrate_on_tiny_data(cache):
    # 150 series per half: more than the 128 feature dimensions, so that the covariances have
    # full rank and FID(x, x) is 0 up to round-off
    result = calibrate("Tiny", TINY, evaluator_seeds=(0, 1), n_splits=3, data=tiny_data(), device="cpu")
    for key in (
        "dataset",
        "sizes",
        "evaluator_config",
        "probes_raw",
        "per_evaluator",
        "evaluator_spread",
        "warnings",
    ):
        assert key in result
    assert result["sizes"] == {"train": 24, "test": 300, "length": 32, "classes": 2, "test_half": 150}
    assert set(result["probes_raw"]) == {"svm", "knn"}
    assert all(0 <= v <= 1 for v in result["probes_raw"].values())
    assert [r["evaluator"]["seed"] for r in result["per_evaluator"]] == [0, 1]
    for r in result["per_evaluator"]:
        f = r["fid"]
        assert f["test_vs_itself"] == pytest.approx(0, abs=1e-6)
        assert f["test_round_trip_vs_test"] == pytest.approx(0, abs=1e-4)  # the round trip is invertible
        assert len(f["test_halves"]["values"]) == 3
        assert all(math.isfinite(v) and v > 0 for v in f["test_halves"]["values"])
        assert math.isfinite(f["train_vs_test"]) and f["train_vs_test"] > 0
        for part in ("test", "test_round_trip", "train"):
            assert 1 <= r["inception_score"][part]["mean"] <= 2 + 1e-9
    assert any("samples" in w for w in result["warnings"])  # 24 training series < 128 dimensions
    assert result["evaluator_spread"]["test_accuracy"] >= 0


def test_a_single_evaluator_seed_has_no_spread(cache):
    result = calibrate("Tiny", TINY, evaluator_seeds=(0,), n_splits=1, data=tiny_data(), device="cpu")
    assert len(result["per_evaluator"]) == 1
    assert result["evaluator_spread"] is None
    assert result["per_evaluator"][0]["fid"]["test_halves"]["sd"] == 0.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"evaluator_seeds": ()}, "evaluator_seeds"),
        ({"evaluator_seeds": (-1,)}, "evaluator_seeds"),
        ({"n_splits": 0}, "n_splits"),
        ({"config": "fcn"}, "EvaluatorConfig"),
    ],
)
def test_bad_arguments(cache, kwargs, match):
    with pytest.raises(ValueError, match=match):
        calibrate("Tiny", **{"config": TINY, **kwargs}, data=tiny_data(), device="cpu")


def test_too_small_a_test_split(cache):
    with pytest.raises(ValueError, match="at least 4"):
        calibrate("Tiny", TINY, data=tiny_data(n_test=3), device="cpu")


def test_quantized_features_with_batch_statistics():
    """The thesis's probe features (training-mode BatchNorm, per batch) as an option of
    ``quantized_features``: the default is unchanged, the option leaves the tokenizer as it was
    and its features depend on how the series are batched."""
    torch.manual_seed(0)
    tokenizer = STFTVQVAE(32, dim=8, num_codes=6, n_resblocks=1)
    tokenizer.train()
    x = torch.randn(64, 32)
    tokenizer(x)  # one training-mode pass: codebook initialised, BN stats moved
    tokenizer.eval()
    state = {k: v.clone() for k, v in tokenizer.state_dict().items()}
    plain = quantized_features(tokenizer, x)
    assert plain.shape == (64, 8)
    assert torch.equal(plain, quantized_features(tokenizer, x, batch_size=7))  # eval mode: batching is moot
    whole = quantized_features(tokenizer, x, batch_statistics=True)
    halves = quantized_features(tokenizer, x, batch_size=32, batch_statistics=True)
    assert whole.shape == (64, 8)
    assert not torch.allclose(whole, plain)
    assert not torch.allclose(whole, halves)
    assert not tokenizer.training
    assert all(torch.equal(v, state[k]) for k, v in tokenizer.state_dict().items())


def test_committed_calibrations_load_and_other_files_are_skipped():
    folder = Path(__file__).resolve().parents[1] / "results" / "calibration"
    records = load_calibrations(folder)
    names = [r["dataset"] for r in records]
    assert names == sorted(names) and {"SonyAIBORobotSurface1", "ECG5000"} <= set(names)
    assert all(r["per_evaluator"] and "svm" in r["probes_raw"] for r in records)
