"""Evaluation metrics of the NC-VQVAE protocol: for a tokenizer (reconstruction error, probes on
pooled latents, codebook perplexity) and for a generator (Inception Score, Fréchet distance /
FID, classification accuracy score).

Taught in the chapter "Evaluation metrics". The generator metrics read the features and class
probabilities of a classifier trained on real data; in this book that is the per-dataset FCN of
:mod:`ssl_book.evaluator`. Every function accepts NumPy arrays or PyTorch tensors and answers
with Python floats, computed in float64.

Numerical care in the Fréchet distance (see :func:`frechet_distance`):

* ``scipy.linalg.sqrtm(sigma1 @ sigma2)`` can come back *complex*: the product of two
  covariance matrices is not symmetric, and round-off can push its (in exact arithmetic real,
  non-negative) eigenvalues slightly off the real axis or below zero. The imaginary part is
  dropped only when it is negligible next to the real part; otherwise ``ValueError``.
* With fewer samples than feature dimensions a covariance estimate is *singular* (rank at most
  ``n - 1``). Its square root still exists, but it is less accurate and the estimate is strongly
  biased. :func:`fid` warns. When ``sqrtm`` fails (non-finite entries or a large residual
  ``||X X - A|| / ||A||``), ``eps * I`` is added to both covariances and the square root is
  taken again, with a warning that says so.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.linalg
import torch
from scipy.special import xlogy

from ssl_book import info, signal
from ssl_book.evaluator import EvaluatorConfig, train_fcn
from ssl_book.probes import check_labelled_pair, knn_probe, linear_probe, probe_accuracies, svm_probe
from ssl_book.runtime import get_device
from ssl_book.train import accuracy

__all__ = [
    "gaussian_statistics",
    "trace_sqrt_product",
    "frechet_distance",
    "fid",
    "inception_score",
    "cas",
    "time_mse",
    "stft_mse",
    "reconstruction_errors",
    "global_average_pool",
    "latent_probes",
    "codebook_perplexity",
    "svm_probe",
    "knn_probe",
    "linear_probe",
    "probe_accuracies",
]

#: Largest accepted relative residual ``||X @ X - A||_F / ||A||_F`` of the matrix square root.
SQRTM_RESIDUAL_TOL = 1e-6


def _as_float64(a, name: str) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    array = np.asarray(a)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise ValueError(f"{name} must be real, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


# --------------------------------------------------------------------------------------------
# Fréchet distance and FID
# --------------------------------------------------------------------------------------------


def gaussian_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of a feature set, the two moments FID compares.

    Args:
        features: ``(n, d)`` samples (rows) of ``d``-dimensional features, ``n >= 2``.

    Returns:
        ``mu`` of shape ``(d,)`` and the unbiased (``n - 1``) covariance ``sigma`` of shape ``(d, d)``.
    """
    x = _as_float64(features, "features")
    if x.ndim != 2:
        raise ValueError(f"features must be 2-D (samples, dims), got shape {x.shape}")
    if x.shape[0] < 2:
        raise ValueError(f"a covariance needs at least 2 samples, got {x.shape[0]}")
    return x.mean(axis=0), np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])


def _check_moments(mu, sigma, name: str) -> tuple[np.ndarray, np.ndarray]:
    mu, sigma = _as_float64(mu, f"mu{name}"), _as_float64(sigma, f"sigma{name}")
    if mu.ndim != 1:
        raise ValueError(f"mu{name} must be a 1-D mean vector, got shape {mu.shape}")
    if sigma.shape != (len(mu), len(mu)):
        raise ValueError(
            f"sigma{name} must be a ({len(mu)}, {len(mu)}) covariance matching "
            f"mu{name}, got shape {sigma.shape}"
        )
    scale = max(np.abs(sigma).max(), 1e-300)
    if np.abs(sigma - sigma.T).max() > 1e-8 * scale:
        raise ValueError(f"sigma{name} is not symmetric, so it is not a covariance matrix")
    return mu, sigma


def _sqrtm(a: np.ndarray) -> tuple[np.ndarray, bool]:
    """``scipy.linalg.sqrtm(a)`` and whether it is usable (finite, small residual)."""
    with warnings.catch_warnings():
        # scipy warns "Matrix is singular" for singular products; the residual below decides.
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        root = scipy.linalg.sqrtm(a)
    if not np.isfinite(root).all():
        return root, False
    residual = np.linalg.norm(root @ root - a) / max(np.linalg.norm(a), 1e-300)
    return root, residual <= SQRTM_RESIDUAL_TOL


def trace_sqrt_product(
    sigma1: np.ndarray, sigma2: np.ndarray, eps: float = 1e-6, imag_tol: float = 1e-3
) -> float:
    """``Tr((sigma1 @ sigma2) ** 1/2)`` with ``scipy.linalg.sqrtm``, guarded against round-off.

    If the square root is not finite or its residual exceeds :data:`SQRTM_RESIDUAL_TOL`, it is
    recomputed for ``sigma + eps * I`` (a warning says so). A complex result keeps its real part
    only when the largest imaginary entry is at most ``imag_tol`` times the largest entry;
    otherwise ``ValueError`` (the inputs are then not valid covariances, or too ill-conditioned).
    """
    sigma1, sigma2 = _as_float64(sigma1, "sigma1"), _as_float64(sigma2, "sigma2")
    if sigma1.ndim != 2 or sigma1.shape[0] != sigma1.shape[1] or sigma1.shape != sigma2.shape:
        raise ValueError(
            f"sigma1 and sigma2 must be square matrices of one shape, got {sigma1.shape} and {sigma2.shape}"
        )
    root, ok = _sqrtm(sigma1 @ sigma2)
    if not ok:
        if eps <= 0:
            raise ValueError(
                "the matrix square root of sigma1 @ sigma2 is inaccurate and eps <= 0 "
                "forbids the eps * I offset; pass eps > 0"
            )
        warnings.warn(
            f"sqrtm(sigma1 @ sigma2) was inaccurate (near-singular covariances); added "
            f"{eps:g} * I to both covariances and took the square root again",
            RuntimeWarning,
            stacklevel=3,
        )
        offset = eps * np.eye(len(sigma1))
        root, _ = _sqrtm((sigma1 + offset) @ (sigma2 + offset))
        if not np.isfinite(root).all():
            raise ValueError(
                "the matrix square root is not finite even after the eps * I offset; "
                "the covariances are degenerate (try a larger eps)"
            )
    if np.iscomplexobj(root):
        largest_imag = np.abs(root.imag).max()
        if largest_imag > imag_tol * max(np.abs(root).max(), 1e-300):
            raise ValueError(
                f"sqrtm(sigma1 @ sigma2) has a non-negligible imaginary part "
                f"({largest_imag:.3g}); are both matrices positive semi-definite?"
            )
        root = root.real
    return float(np.trace(root))


def frechet_distance(mu1, sigma1, mu2, sigma2, *, eps: float = 1e-6) -> float:
    """Squared Fréchet (2-Wasserstein) distance between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``:

    ``||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^{1/2})``.

    Args:
        mu1, mu2: ``(d,)`` means.
        sigma1, sigma2: ``(d, d)`` symmetric positive semi-definite covariances.
        eps: the offset ``eps * I`` used only if the matrix square root fails (see the module
            docstring); ``eps = 0`` turns the fallback off.

    Returns:
        The distance as a float, ``>= 0``. Round-off can make an exact zero come out a hair
        below zero; such values (within ``1e-9`` of the scale of the traces) are returned as 0.
    """
    mu1, sigma1 = _check_moments(mu1, sigma1, "1")
    mu2, sigma2 = _check_moments(mu2, sigma2, "2")
    if len(mu1) != len(mu2):
        raise ValueError(f"the two Gaussians differ in dimension: {len(mu1)} vs {len(mu2)}")
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    traces = np.trace(sigma1) + np.trace(sigma2)
    distance = float(np.sum((mu1 - mu2) ** 2) + traces - 2 * trace_sqrt_product(sigma1, sigma2, eps))
    if distance < 0:
        if distance < -1e-9 * max(1.0, traces):
            raise ValueError(
                f"the Fréchet distance came out negative ({distance:.3g}); are the "
                f"covariances positive semi-definite?"
            )
        distance = 0.0
    return distance


def fid(features_a, features_b, *, eps: float = 1e-6) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (FID when the features are
    those of a classifier, here the FCN evaluator's 128-d pooled features).

    Args:
        features_a, features_b: ``(n_a, d)`` and ``(n_b, d)`` feature sets, ``n >= 2`` each.
        eps: see :func:`frechet_distance`.

    The estimate is biased upwards by roughly ``c / n`` (Chong and Forsyth 2020): compare FIDs
    only at equal sample sizes. With ``n <= d`` the covariances are singular and a warning says
    so.
    """
    a, b = _as_float64(features_a, "features_a"), _as_float64(features_b, "features_b")
    for name, x in (("features_a", a), ("features_b", b)):
        if x.ndim != 2:
            raise ValueError(f"{name} must be 2-D (samples, dims), got shape {x.shape}")
        if x.shape[0] < 2:
            raise ValueError(f"{name} has {x.shape[0]} sample(s); a covariance needs at least 2")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"the feature sets differ in dimension: {a.shape[1]} vs {b.shape[1]}")
    small = min(len(a), len(b))
    if small <= a.shape[1]:
        warnings.warn(
            f"only {small} samples for {a.shape[1]}-dimensional features: a covariance of "
            f"n samples has rank at most n - 1, so it is singular and the FID estimate is "
            f"strongly biased; use more samples than dimensions",
            UserWarning,
            stacklevel=2,
        )
    return frechet_distance(*gaussian_statistics(a), *gaussian_statistics(b), eps=eps)


# --------------------------------------------------------------------------------------------
# Inception Score
# --------------------------------------------------------------------------------------------


def _check_probs(probs, atol: float) -> np.ndarray:
    p = _as_float64(probs, "probs")
    if p.ndim != 2 or p.shape[1] < 1:
        raise ValueError(f"probs must be 2-D (samples, classes), got shape {p.shape}")
    if (p < 0).any():
        raise ValueError(f"probs has negative entries (min {p.min():.3g}); pass softmax probabilities")
    worst = np.abs(p.sum(axis=1) - 1).max()
    if worst > atol:
        raise ValueError(
            f"every row of probs must sum to 1 (off by up to {worst:.3g}, tolerance "
            f"{atol:g}); pass softmax probabilities, not logits"
        )
    return p


def inception_score(
    probs, splits: int = 10, *, shuffle: bool = True, seed: int = 0, atol: float = 1e-4
) -> tuple[float, float]:
    """Inception Score ``exp(E_x KL(p(y|x) || p(y)))``, as mean and standard deviation over splits.

    The protocol of the thesis (from ``supervised-FCN``): shuffle the samples, cut them into
    ``splits`` parts, compute the score on each part with that part's marginal ``p(y)``, and
    report the mean and the (population) standard deviation over the parts. Unlike the original,
    the parts are ``numpy.array_split``'s (sizes differ by at most one, no sample is dropped),
    the shuffle uses its own generator (``seed``), and ``0 log 0 = 0`` replaces a ``1e-16``
    offset inside the logarithms.

    Args:
        probs: ``(n, K)`` class probabilities ``p(y|x)`` of the generated samples.
        splits: number of parts, ``1 <= splits <= n``.
        shuffle: shuffle before splitting.
        seed: seed of the shuffle.
        atol: tolerance on every row summing to 1.

    Returns:
        ``(mean, std)``; each split's score lies in ``[1, K]``.
    """
    p = _check_probs(probs, atol)
    if not isinstance(splits, (int, np.integer)) or isinstance(splits, bool) or not 1 <= splits <= len(p):
        raise ValueError(f"splits must be an integer in [1, n_samples={len(p)}], got {splits!r}")
    if shuffle:
        p = p[np.random.default_rng(seed).permutation(len(p))]
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(axis=0, keepdims=True)  # p(y) on this part
        kl = (xlogy(part, part) - xlogy(part, marginal)).sum(axis=1)  # KL(p(y|x) || p(y))
        scores.append(math.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


# --------------------------------------------------------------------------------------------
# Classification accuracy score (train on synthetic, test on real)
# --------------------------------------------------------------------------------------------


def cas(
    x_synthetic,
    y_synthetic,
    x_real,
    y_real,
    *,
    n_classes: int | None = None,
    config: EvaluatorConfig | None = None,
    device: torch.device | str | None = None,
) -> float:
    """Classification Accuracy Score (Ravuri and Vinyals 2019): train a fresh FCN on labelled
    synthetic series, report its accuracy on real test series.

    Args:
        x_synthetic: ``(n_syn, length)`` generated series; ``y_synthetic``: ``(n_syn,)`` the
            classes they were generated for.
        x_real, y_real: ``(n_real, length)`` real test series and their labels.
        n_classes: number of classes (default: ``1 + the largest label`` seen in either set).
        config: an :class:`ssl_book.evaluator.EvaluatorConfig`, the FCN recipe (default: the
            thesis's, 1000 epochs at batch 256).
        device: where to train (default: :func:`ssl_book.get_device`).

    Returns:
        Test accuracy in ``[0, 1]``. (The thesis logs an exponential moving average of the
        per-batch validation accuracy; this is the plain accuracy at the end of training.)
    """
    xs, xr = _as_float64(x_synthetic, "x_synthetic"), _as_float64(x_real, "x_real")
    ys, yr = _labels(y_synthetic, "y_synthetic"), _labels(y_real, "y_real")
    check_labelled_pair(xs, ys, xr, yr, names=("synthetic", "real"), kind="series", width="length")
    n_classes = int(max(ys.max(), yr.max()) + 1) if n_classes is None else n_classes
    if max(ys.max(), yr.max()) >= n_classes:
        raise ValueError(f"labels must lie in [0, n_classes={n_classes})")
    device = get_device() if device is None else torch.device(device)
    model, _ = train_fcn(
        xs, ys, max(n_classes, 2), config or EvaluatorConfig(), device=device, desc="CAS: FCN on synthetic"
    )
    return accuracy(
        model, torch.as_tensor(xr, dtype=torch.float32, device=device), torch.as_tensor(yr, device=device)
    )


def _labels(y, name: str) -> np.ndarray:
    labels = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of labels, got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise ValueError(f"{name} must hold non-negative integer class labels, got dtype {labels.dtype}")
    return labels.astype(np.int64)


# --------------------------------------------------------------------------------------------
# Tokenizer metrics: reconstruction, probes on pooled latents, codebook perplexity
# --------------------------------------------------------------------------------------------


def _series_pair(x, x_hat) -> tuple[torch.Tensor, torch.Tensor]:
    a, b = (torch.as_tensor(_as_float64(v, name)) for v, name in ((x, "x"), (x_hat, "x_hat")))
    if a.shape != b.shape:
        raise ValueError(f"x and x_hat differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
    if a.ndim == 3 and a.shape[1] == 1:
        a, b = a[:, 0], b[:, 0]
    if a.ndim != 2:
        raise ValueError(
            f"series must have shape (batch, length) or (batch, 1, length), got {tuple(a.shape)}"
        )
    return a, b


def time_mse(x, x_hat) -> float:
    """Mean squared reconstruction error in the time domain; ``(batch, length)`` inputs."""
    a, b = _series_pair(x, x_hat)
    return float(((a - b) ** 2).mean())


def stft_mse(x, x_hat, n_fft: int = 8) -> float:
    """Mean squared error between the STFTs (real and imaginary channels) of ``x`` and ``x_hat``,
    with the thesis's STFT (:func:`ssl_book.signal.stft`, hop ``n_fft // 4``)."""
    a, b = _series_pair(x, x_hat)
    return float(((signal.stft(a, n_fft) - signal.stft(b, n_fft)) ** 2).mean())


def reconstruction_errors(x, x_hat, n_fft: int = 8) -> dict[str, float]:
    """``{"time_mse": ..., "stft_mse": ...}`` for ``(batch, length)`` series and reconstructions."""
    return {"time_mse": time_mse(x, x_hat), "stft_mse": stft_mse(x, x_hat, n_fft)}


def global_average_pool(z) -> np.ndarray:
    """Average a latent map over every axis after the channel axis:
    ``(batch, channels, ...)`` -> ``(batch, channels)``, e.g. ``(B, 64, 5, W')`` -> ``(B, 64)``."""
    array = _as_float64(z, "z")
    if array.ndim < 2:
        raise ValueError(f"z must be (batch, channels, ...), got shape {array.shape}")
    return array.mean(axis=tuple(range(2, array.ndim)))


def latent_probes(z_train, y_train, z_test, y_test) -> dict[str, float]:
    """The thesis's probe protocol on latent maps: global average pooling of the (quantized)
    latents, then :func:`ssl_book.probes.probe_accuracies` (min-max scaling to [-1, 1] fitted on
    train, linear SVM and 5-NN). Returns ``{"svm": ..., "knn": ...}`` test accuracies."""
    return probe_accuracies(global_average_pool(z_train), y_train, global_average_pool(z_test), y_test)


def codebook_perplexity(indices, num_codes: int) -> float:
    """``exp(H(usage))`` of the code indices: the effective number of codes in use, in ``[1, K]``."""
    return float(info.perplexity(info.code_usage(indices, num_codes)))
