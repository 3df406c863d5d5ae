"""The shared training loop, the FCN classifier and the probes."""

import numpy as np
import pytest
import torch
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC

from ssl_book.data import make_cbf
from ssl_book.fcn import FCN
from ssl_book.probes import knn_probe, linear_probe, probe_accuracies, svm_probe
from ssl_book.train import accuracy, fit_classifier, minibatches


def test_minibatches_cover_every_sample_once_per_epoch():
    gen = torch.Generator().manual_seed(0)
    batches = minibatches(10, 4, gen)
    epoch = torch.cat([next(batches) for _ in range(3)])
    assert sorted(epoch.tolist()) == list(range(10))
    with pytest.raises(ValueError):
        next(minibatches(0, 4, gen))


def test_minibatches_never_yield_a_lone_sample():
    gen = torch.Generator().manual_seed(0)
    batches = minibatches(9, 4, gen)  # 4 + 4 + 1: the one joins the batch before
    sizes = [len(next(batches)) for _ in range(4)]
    assert sizes == [4, 5, 4, 5]
    batches = minibatches(10, 4, gen)  # 4 + 4 + 2 stays as it is
    assert [len(next(batches)) for _ in range(3)] == [4, 4, 2]


def test_fcn_shapes_and_errors():
    model = FCN(n_classes=3)
    assert model(torch.randn(5, 77)).shape == (5, 3)
    assert model.features(torch.randn(5, 1, 77)).shape == (5, 128)
    assert FCN(2, in_channels=2)(torch.randn(4, 2, 30)).shape == (4, 2)
    with pytest.raises(ValueError, match=r"expects \(batch, 1, length\)"):
        model(torch.randn(5, 2, 77))
    with pytest.raises(ValueError):
        FCN(n_classes=1)


def test_fit_classifier_learns_cbf_and_is_reproducible():
    x, y = make_cbf(20, seed=0)
    xt, yt = make_cbf(20, seed=1)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = FCN(3)
        history = fit_classifier(model, x, y, steps=30, batch_size=20, x_val=xt, y_val=yt, seed=0)
        runs.append(history.loss)
    assert runs[0] == runs[1]
    assert np.mean(runs[0][-5:]) < np.mean(runs[0][:5])
    assert accuracy(model, torch.tensor(xt), torch.tensor(yt)) > 0.6
    with pytest.raises(ValueError, match="steps"):
        fit_classifier(model, x, y, steps=0)
    with pytest.raises(ValueError, match="rows"):
        fit_classifier(model, x, y[:-1], steps=1)


def test_fit_classifier_in_bf16_autocast_learns_as_fp32_does():
    """bf16 autocast changes the arithmetic, not the recipe: the loss falls, the weights stay
    fp32, and the accuracy matches fp32 training within a few series."""
    x, y = make_cbf(20, seed=0)
    xt, yt = make_cbf(40, seed=1)
    scores = {}
    for precision in ("fp32", "bf16"):
        torch.manual_seed(0)
        model = FCN(3)
        history = fit_classifier(model, x, y, steps=40, batch_size=30, seed=0, precision=precision)
        assert np.mean(history.loss[-5:]) < np.mean(history.loss[:5])
        assert all(p.dtype == torch.float32 for p in model.parameters())
        scores[precision] = accuracy(model, torch.tensor(xt), torch.tensor(yt))
    assert scores["bf16"] > 0.6 and abs(scores["bf16"] - scores["fp32"]) <= 0.1
    with pytest.raises(ValueError, match="precision"):
        fit_classifier(FCN(3), x, y, steps=1, precision="fp16")


@pytest.fixture
def features():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 8)) * 2
    ytr, yte = rng.integers(0, 3, 90), rng.integers(0, 3, 60)
    return centres[ytr] + rng.normal(size=(90, 8)), ytr, centres[yte] + rng.normal(size=(60, 8)), yte


def test_probes_reproduce_scikit_learn(features):
    xtr, ytr, xte, yte = features
    scaler = MinMaxScaler((-1, 1)).fit(xtr)
    svm = SVC(kernel="linear").fit(scaler.transform(xtr), ytr).score(scaler.transform(xte), yte)
    knn = KNeighborsClassifier(5).fit(scaler.transform(xtr), ytr).score(scaler.transform(xte), yte)
    assert svm_probe(xtr, ytr, xte, yte) == svm
    assert knn_probe(xtr, ytr, xte, yte) == knn
    assert probe_accuracies(torch.tensor(xtr), ytr, xte, torch.tensor(yte)) == {"svm": svm, "knn": knn}
    assert linear_probe(xtr, ytr, xte, yte) > 0.8


@pytest.mark.parametrize(
    "mangle, message",
    [
        (lambda a, b, c, d: (a[:, :4], b, c, d), "dimension"),
        (lambda a, b, c, d: (a, b[:-1], c, d), "length"),
        (lambda a, b, c, d: (a[:, 0], b, c, d), "2-D"),
        (lambda a, b, c, d: (a, np.zeros_like(b), c, d), "single class"),
        (lambda a, b, c, d: (np.where(a > 1, np.nan, a), b, c, d), "NaN"),
    ],
)
def test_probe_input_errors(features, mangle, message):
    with pytest.raises(ValueError, match=message):
        svm_probe(*mangle(*features))
