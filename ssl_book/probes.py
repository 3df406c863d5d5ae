"""Probes: how well frozen features serve a downstream classification task.

The NC-VQVAE protocol (thesis section on evaluation): features of the training split are
min-max scaled to [-1, 1] (the scaler is fitted on train only), then a linear SVM and a 5-NN
classifier from scikit-learn are fitted on train and scored on test. A logistic-regression
probe, the usual "linear probe" of the SSL literature, is also provided.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC


def _to_numpy(a, name: str) -> np.ndarray:
    array = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}")
    return array


def check_labelled_pair(
    x_a: np.ndarray,
    y_a: np.ndarray,
    x_b: np.ndarray,
    y_b: np.ndarray,
    *,
    names: tuple[str, str] = ("train", "test"),
    kind: str = "features",
    width: str = "dimension",
) -> None:
    """Two labelled sets of ``(samples, width)`` rows (train/test features, synthetic/real
    series) must have the same width and one label per row; raises ``ValueError`` otherwise."""
    if x_a.ndim != 2 or x_b.ndim != 2:
        raise ValueError(f"{kind} must be 2-D (samples, {width}), got {x_a.shape} and {x_b.shape}")
    if x_a.shape[1] != x_b.shape[1]:
        raise ValueError(
            f"{names[0]} and {names[1]} {kind} differ in {width}: {x_a.shape[1]} vs {x_b.shape[1]}"
        )
    if len(x_a) != len(y_a) or len(x_b) != len(y_b):
        raise ValueError(
            f"{kind} and labels differ in length (number of samples): {names[0]} {len(x_a)} vs "
            f"{len(y_a)}, {names[1]} {len(x_b)} vs {len(y_b)}"
        )


def _check(train_features, y_train, test_features, y_test):
    xtr, xte = _to_numpy(train_features, "train_features"), _to_numpy(test_features, "test_features")
    ytr, yte = _to_numpy(y_train, "y_train").reshape(-1), _to_numpy(y_test, "y_test").reshape(-1)
    check_labelled_pair(xtr, ytr, xte, yte)
    if len(np.unique(ytr)) < 2:
        raise ValueError("the training labels hold a single class: a probe needs at least two")
    if not (np.isfinite(xtr).all() and np.isfinite(xte).all()):
        raise ValueError("features contain NaN or infinite values")
    return xtr, ytr, xte, yte


def _score(classifier, train_features, y_train, test_features, y_test) -> float:
    xtr, ytr, xte, yte = _check(train_features, y_train, test_features, y_test)
    model = make_pipeline(MinMaxScaler(feature_range=(-1, 1)), classifier).fit(xtr, ytr)
    return float(model.score(xte, yte))


def svm_probe(train_features, y_train, test_features, y_test) -> float:
    """Test accuracy of a linear SVM (``SVC(kernel='linear')``) on min-max scaled features."""
    return _score(SVC(kernel="linear"), train_features, y_train, test_features, y_test)


def knn_probe(train_features, y_train, test_features, y_test, k: int = 5) -> float:
    """Test accuracy of a ``k``-nearest-neighbour classifier on min-max scaled features."""
    if k < 1:
        raise ValueError(f"k must be positive, got {k}")
    k_eff = min(k, len(_to_numpy(train_features, "train_features")))
    return _score(KNeighborsClassifier(n_neighbors=k_eff), train_features, y_train, test_features, y_test)


def linear_probe(train_features, y_train, test_features, y_test, c: float = 1.0) -> float:
    """Test accuracy of multinomial logistic regression on min-max scaled features."""
    return _score(LogisticRegression(C=c, max_iter=2000), train_features, y_train, test_features, y_test)


def probe_accuracies(train_features, y_train, test_features, y_test) -> dict[str, float]:
    """The thesis's two probes at once: ``{"svm": ..., "knn": ...}`` (5-NN)."""
    return {
        "svm": svm_probe(train_features, y_train, test_features, y_test),
        "knn": knn_probe(train_features, y_train, test_features, y_test),
    }
