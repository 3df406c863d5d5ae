"""ssl_book.metrics: Fréchet distance / FID against closed forms, Inception Score against its
definition and its extremes, CAS, reconstruction errors, probes and bad input."""

import warnings

import numpy as np
import pytest
import scipy.stats
import torch
from scipy.stats import ortho_group
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC

from ssl_book import metrics, probes
from ssl_book.data import make_cbf
from ssl_book.evaluator import EvaluatorConfig


def random_covariance(rng, d, scale=1.0):
    a = rng.normal(size=(d, d))
    return scale * (a @ a.T / d + 0.1 * np.eye(d))


def symmetric_sqrt(sigma):
    w, v = np.linalg.eigh(sigma)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


# ------------------------------------------------------------------ Fréchet distance and FID


def test_frechet_distance_one_dimensional_closed_form():
    # 1-D: (mu1 - mu2)^2 + (s1 - s2)^2
    assert metrics.frechet_distance([1.0], [[4.0]], [-2.0], [[9.0]]) == pytest.approx(9 + 1, rel=1e-12)


def test_frechet_distance_commuting_covariances_closed_form():
    rng = np.random.default_rng(0)
    d = 6
    q = ortho_group.rvs(d, random_state=1)  # shared eigenvectors: the matrices commute
    a, b = rng.uniform(0.1, 3, d), rng.uniform(0.1, 3, d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert metrics.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-10)
    sigma1, sigma2 = q @ np.diag(a) @ q.T, q @ np.diag(b) @ q.T
    sigma1, sigma2 = (sigma1 + sigma1.T) / 2, (sigma2 + sigma2.T) / 2
    assert metrics.frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_general_covariances_match_the_symmetric_form_and_are_symmetric():
    rng = np.random.default_rng(1)
    d = 10
    s1, s2 = random_covariance(rng, d), random_covariance(rng, d, 2.0)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    root1 = symmetric_sqrt(s1)
    cross = np.trace(symmetric_sqrt(root1 @ s2 @ root1))  # Tr (S1^1/2 S2 S1^1/2)^1/2
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * cross
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)
    assert metrics.frechet_distance(mu2, s2, mu1, s1) == pytest.approx(expected, rel=1e-9)
    assert metrics.frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0, abs=1e-9)


def test_fid_of_a_set_with_itself_is_zero_and_invariant_to_rigid_motions():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(300, 12)) @ rng.normal(size=(12, 12))
    b = rng.normal(size=(250, 12)) + 0.3
    assert metrics.fid(a, a) == pytest.approx(0, abs=1e-8)
    assert metrics.fid(torch.tensor(a), a) == pytest.approx(0, abs=1e-8)
    q, shift = ortho_group.rvs(12, random_state=3), rng.normal(size=12)
    assert metrics.fid(a @ q + shift, b @ q + shift) == pytest.approx(metrics.fid(a, b), rel=1e-8)


def test_fid_converges_to_the_frechet_distance_of_the_true_gaussians():
    rng = np.random.default_rng(3)
    d = 4
    s1, s2 = random_covariance(rng, d), random_covariance(rng, d, 0.5)
    mu1, mu2 = np.zeros(d), np.full(d, 0.5)
    truth = metrics.frechet_distance(mu1, s1, mu2, s2)
    errors = []
    for n in (200, 50_000):
        a = rng.multivariate_normal(mu1, s1, size=n)
        b = rng.multivariate_normal(mu2, s2, size=n)
        errors.append(abs(metrics.fid(a, b) - truth))
    assert errors[1] < 0.02 * truth
    assert errors[1] < errors[0]


def test_fid_with_fewer_samples_than_dimensions_warns_and_stays_finite():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(10, 32)), rng.normal(size=(10, 32))
    with pytest.warns(UserWarning, match="singular"):
        value = metrics.fid(a, b)
    assert np.isfinite(value) and value > 0


def test_inaccurate_square_root_falls_back_to_an_eps_offset(monkeypatch):
    rng = np.random.default_rng(5)
    s1, s2 = random_covariance(rng, 5), random_covariance(rng, 5)
    exact = metrics.frechet_distance(np.zeros(5), s1, np.ones(5), s2)
    monkeypatch.setattr(metrics, "SQRTM_RESIDUAL_TOL", -1.0)  # pretend sqrtm always fails
    with pytest.warns(RuntimeWarning, match=r"added 1e-06 \* I"):
        offset = metrics.frechet_distance(np.zeros(5), s1, np.ones(5), s2)
    assert offset == pytest.approx(exact, abs=1e-4)
    with pytest.raises(ValueError, match="eps"):
        metrics.frechet_distance(np.zeros(5), s1, np.ones(5), s2, eps=0)


def test_complex_square_root_keeps_a_negligible_imaginary_part_only():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(8, 20))  # rank-7 covariance in 20-d
    s = np.cov(x, rowvar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback needed here
        assert metrics.trace_sqrt_product(s, s) == pytest.approx(np.trace(s), rel=1e-6)
    with pytest.raises(ValueError, match="imaginary"):
        metrics.frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), -np.eye(3))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: metrics.fid(np.ones((5, 3)), np.ones((5, 4))), "dimension"),
        (lambda: metrics.fid(np.ones((1, 3)), np.ones((5, 3))), "at least 2"),
        (lambda: metrics.fid(np.ones(5), np.ones((5, 1))), "2-D"),
        (lambda: metrics.fid(np.full((5, 2), np.nan), np.ones((5, 2))), "NaN"),
        (lambda: metrics.frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3)), "dimension"),
        (lambda: metrics.frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2)), "covariance"),
        (
            lambda: metrics.frechet_distance(np.zeros(2), [[1, 0.5], [0, 1]], np.zeros(2), np.eye(2)),
            "symmetric",
        ),
        (lambda: metrics.frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2), eps=-1), "eps"),
        (lambda: metrics.gaussian_statistics(np.ones((1, 4))), "at least 2"),
    ],
)
def test_fid_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ------------------------------------------------------------------ Inception Score


def test_inception_score_is_one_for_identical_predictions():
    p = np.tile([0.7, 0.2, 0.1], (100, 1))
    assert metrics.inception_score(p) == pytest.approx((1.0, 0.0), abs=1e-12)


def test_inception_score_is_the_number_of_classes_for_confident_balanced_predictions():
    k = 4
    p = np.eye(k)[np.tile(np.arange(k), 25)]  # every split of 4 is balanced
    assert metrics.inception_score(p, splits=25, shuffle=False) == pytest.approx((k, 0.0), abs=1e-12)
    mean, _ = metrics.inception_score(p, splits=1)
    assert mean == pytest.approx(k, rel=1e-12)


def test_inception_score_matches_its_definition_and_its_bounds():
    rng = np.random.default_rng(7)
    p = rng.dirichlet(np.full(5, 0.3), size=200)
    marginal = p.mean(0)
    by_definition = np.exp(np.mean([scipy.stats.entropy(row, marginal) for row in p]))
    as_entropies = np.exp(scipy.stats.entropy(marginal) - np.mean([scipy.stats.entropy(r) for r in p]))
    mean, std = metrics.inception_score(p, splits=1)
    assert mean == pytest.approx(by_definition, rel=1e-10) and std == 0
    assert mean == pytest.approx(as_entropies, rel=1e-10)
    mean, std = metrics.inception_score(torch.tensor(p), splits=10, seed=3)
    assert 1 <= mean <= 5 and std > 0
    assert metrics.inception_score(p, splits=10, seed=3) == (mean, std)  # seeded shuffle


@pytest.mark.parametrize(
    "probs, kwargs, message",
    [
        (np.array([[0.5, 0.6], [0.5, 0.5]]), {}, "sum to 1"),
        (np.array([[1.2, -0.2], [0.5, 0.5]]), {}, "negative"),
        (np.array([0.5, 0.5]), {}, "2-D"),
        (np.full((4, 2), 0.5), {"splits": 5}, "splits"),
        (np.full((4, 2), 0.5), {"splits": 0}, "splits"),
        (np.array([[np.nan, 1.0]]), {"splits": 1}, "NaN"),
    ],
)
def test_inception_score_bad_input(probs, kwargs, message):
    with pytest.raises(ValueError, match=message):
        metrics.inception_score(probs, **kwargs)


# ------------------------------------------------------------------ CAS


def test_cas_on_a_tiny_synthetic_problem():
    x_syn, y_syn = make_cbf(10, length=48, seed=1)
    x_real, y_real = make_cbf(20, length=48, seed=2)
    config = EvaluatorConfig(epochs=20, batch_size=32)
    good = metrics.cas(x_syn, y_syn, x_real, y_real, config=config, device="cpu")
    assert good > 0.75
    two_classes = y_syn < 2  # a mode-dropping generator
    dropped = metrics.cas(
        x_syn[two_classes], y_syn[two_classes], x_real, y_real, n_classes=3, config=config, device="cpu"
    )
    assert dropped <= 2 / 3 + 1e-9 < good
    with pytest.raises(ValueError, match="length"):
        metrics.cas(x_syn[:, :40], y_syn, x_real, y_real, config=config)
    with pytest.raises(ValueError, match="number"):
        metrics.cas(x_syn, y_syn[:-1], x_real, y_real, config=config)
    with pytest.raises(ValueError, match="n_classes"):
        metrics.cas(x_syn, y_syn, x_real, y_real, n_classes=2, config=config)
    with pytest.raises(ValueError, match="integer"):
        metrics.cas(x_syn, y_syn.astype(float), x_real, y_real, config=config)


# ------------------------------------------------------------------ tokenizer metrics


def test_reconstruction_errors_match_their_definitions():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(6, 40)).astype(np.float32)
    x_hat = x + 0.1 * rng.normal(size=x.shape)
    errors = metrics.reconstruction_errors(x, x_hat)
    assert errors["time_mse"] == pytest.approx(np.mean((x - x_hat) ** 2), rel=1e-10)
    window = torch.hann_window(8, dtype=torch.float64)
    spec = lambda s: torch.view_as_real(
        torch.stft(torch.as_tensor(s, dtype=torch.float64), 8, 2, window=window, return_complex=True)
    )
    assert errors["stft_mse"] == pytest.approx(((spec(x) - spec(x_hat)) ** 2).mean().item(), rel=1e-10)
    assert metrics.reconstruction_errors(x[:, None], x[:, None]) == {"time_mse": 0.0, "stft_mse": 0.0}
    with pytest.raises(ValueError, match="shape"):
        metrics.time_mse(x, x[:, :-1])
    with pytest.raises(ValueError, match="batch"):
        metrics.stft_mse(x[0], x_hat[0])


def test_latent_probes_pool_then_reproduce_scikit_learn():
    rng = np.random.default_rng(9)
    centres = rng.normal(size=(3, 8, 1, 1)) * 2
    ytr, yte = rng.integers(0, 3, 60), rng.integers(0, 3, 40)
    ztr = centres[ytr] + rng.normal(size=(60, 8, 5, 7))
    zte = centres[yte] + rng.normal(size=(40, 8, 5, 7))
    pooled = metrics.global_average_pool(torch.tensor(ztr))
    assert np.allclose(pooled, torch.nn.functional.adaptive_avg_pool2d(torch.tensor(ztr), 1)[:, :, 0, 0])
    gtr, gte = ztr.mean((2, 3)), zte.mean((2, 3))
    scaler = MinMaxScaler((-1, 1)).fit(gtr)
    svm = SVC(kernel="linear").fit(scaler.transform(gtr), ytr).score(scaler.transform(gte), yte)
    knn = KNeighborsClassifier(5).fit(scaler.transform(gtr), ytr).score(scaler.transform(gte), yte)
    assert metrics.latent_probes(ztr, ytr, zte, yte) == {"svm": svm, "knn": knn}
    assert metrics.probe_accuracies is probes.probe_accuracies  # re-exported, not duplicated
    with pytest.raises(ValueError, match="channels"):
        metrics.global_average_pool(np.ones(5))


def test_codebook_perplexity_extremes():
    assert metrics.codebook_perplexity(np.arange(32).repeat(3), 32) == pytest.approx(32)
    assert metrics.codebook_perplexity(torch.zeros(10, 4, dtype=torch.long), 32) == pytest.approx(1)
    with pytest.raises(ValueError):
        metrics.codebook_perplexity(np.array([0, 40]), 32)
