"""ssl_book.evaluator: the recipe's config, the FCN evaluator and its on-disk cache."""

import dataclasses

import numpy as np
import pytest
import torch

from ssl_book import evaluator as ev
from ssl_book.data import load_ucr

DATASET = "ItalyPowerDemand"  # 67 training series of length 24: trains in a second
TINY = ev.EvaluatorConfig(epochs=3, batch_size=32)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(ev.CACHE_ENV_VAR, str(tmp_path))
    return tmp_path


def test_config_validates_and_has_a_stable_key():
    assert ev.EvaluatorConfig() == ev.EvaluatorConfig(
        epochs=1000, batch_size=256, lr=1e-3, weight_decay=1e-5, seed=0
    )
    assert ev.EvaluatorConfig(lr=1).key == ev.EvaluatorConfig(lr=1.0).key
    assert len({ev.EvaluatorConfig().key, TINY.key, ev.EvaluatorConfig(seed=1).key}) == 3
    assert ev.EvaluatorConfig(epochs=2, batch_size=32).steps(67) == 6
    for bad in (
        {"epochs": 0},
        {"batch_size": 2.5},
        {"lr": 0},
        {"weight_decay": -1e-5},
        {"seed": -1},
        {"lr": float("nan")},
        {"epochs": True},
        {"lr": "fast"},
    ):
        with pytest.raises(ValueError):
            ev.EvaluatorConfig(**bad)
    with pytest.raises(dataclasses.FrozenInstanceError):
        TINY.epochs = 5  # frozen


def test_cache_dir_follows_the_environment(cache, monkeypatch):
    assert ev.cache_dir() == cache
    assert ev.evaluator_path(DATASET, TINY).parent == cache / "evaluators"
    monkeypatch.delenv(ev.CACHE_ENV_VAR)
    assert ev.cache_dir() == ev.Path.home() / ".cache" / "ssl_book"


def test_second_call_loads_instead_of_training(cache, monkeypatch):
    first = ev.load_or_train_evaluator(DATASET, TINY, device="cpu")
    assert not first.from_cache and first.path.is_file()
    assert 0 <= first.accuracy <= 1 and len(first.train_loss) == TINY.steps(67)
    assert not list(first.path.parent.glob("*.tmp")), "a temporary file was left behind"

    def no_training(*args, **kwargs):
        raise AssertionError("the cached evaluator should have been loaded")

    monkeypatch.setattr(ev, "train_fcn", no_training)
    second = ev.load_or_train_evaluator(DATASET, TINY, device="cpu")
    assert second.from_cache and second.accuracy == first.accuracy
    assert second.train_loss == first.train_loss
    for name, tensor in first.model.state_dict().items():
        assert torch.equal(tensor, second.model.state_dict()[name]), name
    x = load_ucr(DATASET).x_test[:50]
    assert np.array_equal(first.features(x), second.features(x))


def test_training_is_reproducible_and_a_new_config_trains_anew(cache):
    first = ev.load_or_train_evaluator(DATASET, TINY, device="cpu")
    again = ev.load_or_train_evaluator(DATASET, TINY, device="cpu", retrain=True)
    assert not again.from_cache and again.train_loss == first.train_loss
    other = ev.load_or_train_evaluator(
        DATASET, ev.EvaluatorConfig(epochs=3, batch_size=32, seed=1), device="cpu"
    )
    assert not other.from_cache and other.path != first.path
    assert other.train_loss != first.train_loss
    assert len(list((cache / "evaluators").glob("*.pt"))) == 2


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other config", "pickled object"])
def test_an_unusable_cache_file_is_retrained_with_a_warning(cache, damage):
    path = ev.evaluator_path(DATASET, TINY)
    reference = ev.load_or_train_evaluator(DATASET, TINY, device="cpu")
    if damage == "garbage":
        path.write_bytes(b"not a torch file")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "other config":
        other = ev.load_or_train_evaluator(DATASET, ev.EvaluatorConfig(epochs=1, batch_size=32), device="cpu")
        path.write_bytes(other.path.read_bytes())
    else:  # weights_only=True refuses arbitrary objects
        torch.save(
            {
                "format_version": 1,
                "meta": ev._cache_meta(DATASET, TINY),
                "state": {"payload": np.random.default_rng(0)},
            },
            path,
        )
    with pytest.warns(RuntimeWarning, match="unusable"):
        rebuilt = ev.load_or_train_evaluator(DATASET, TINY, device="cpu")
    assert not rebuilt.from_cache and rebuilt.train_loss == reference.train_loss
    assert ev.load_or_train_evaluator(DATASET, TINY, device="cpu").from_cache  # file repaired


def test_features_and_probabilities(cache):
    evaluator = ev.load_or_train_evaluator(DATASET, TINY, device="cpu")
    data = load_ucr(DATASET)
    assert evaluator.n_classes == data.n_classes and evaluator.length == data.length
    features = evaluator.features(data.x_test[:70], batch_size=32)
    probs = evaluator.probs(torch.tensor(data.x_test[:70, None]))
    assert features.shape == (70, 128) and features.dtype == np.float64
    assert probs.shape == (70, 2) and np.allclose(probs.sum(1), 1, atol=1e-12) and (probs >= 0).all()
    with torch.no_grad():
        expected = evaluator.model.features(torch.tensor(data.x_test[:70])).double().numpy()
    assert np.allclose(features, expected, atol=1e-5)
    both = evaluator.features_and_probs(data.x_test[:70], batch_size=16)
    assert np.allclose(both[0], features, atol=1e-12) and np.allclose(both[1], probs, atol=1e-12)
    assert np.mean(evaluator.predict(data.x_test) == data.y_test) == pytest.approx(evaluator.accuracy)
    with pytest.raises(ValueError, match="length 24"):
        evaluator.features(np.zeros((3, 30)))
    with pytest.raises(ValueError, match="NaN"):
        evaluator.probs(np.full((3, 24), np.nan))


def test_bad_arguments(cache):
    with pytest.raises(ValueError, match="EvaluatorConfig"):
        ev.load_or_train_evaluator(DATASET, {"epochs": 3})
    with pytest.raises(ValueError, match="dataset_name"):
        ev.load_or_train_evaluator("")
    with pytest.raises(ValueError, match="unknown UCR dataset"):
        ev.load_or_train_evaluator("NoSuchSet", TINY)
