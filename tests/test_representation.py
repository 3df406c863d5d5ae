"""ssl_book.representation: collapse measurements against NumPy and closed forms."""

import numpy as np
import pytest
import torch

from ssl_book import representation as R


def orthogonal_centred(n: int, r: int, seed: int = 0) -> np.ndarray:
    """(n, r) centred columns that are orthonormal."""
    a = np.random.default_rng(seed).normal(size=(n, r))
    q, _ = np.linalg.qr(a - a.mean(0))
    return q


def test_std_and_singular_values_match_numpy():
    z = np.random.default_rng(0).normal(size=(40, 7)) * np.arange(1, 8)
    np.testing.assert_allclose(R.embedding_std(z), z.std(0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(
        R.singular_values(z), np.linalg.svd(z - z.mean(0), compute_uv=False), rtol=1e-10
    )
    np.testing.assert_allclose(
        R.singular_values(z, center=False), np.linalg.svd(z, compute_uv=False), rtol=1e-10
    )
    np.testing.assert_allclose(
        R.embedding_std(torch.tensor(z, dtype=torch.float32)), z.std(0, ddof=1), rtol=1e-5
    )


def test_effective_rank_follows_roy_and_vetterli():
    z = np.random.default_rng(1).normal(size=(50, 9))
    s = np.linalg.svd(z - z.mean(0), compute_uv=False)
    p = s / s.sum()
    assert R.effective_rank(z) == pytest.approx(np.exp(-(p * np.log(p)).sum()), rel=1e-10)
    for r in (1, 3, 6):  # r equal singular values, embedded in 12 dims
        basis = orthogonal_centred(60, r)
        embedding = (
            np.hstack([5.0 * basis, np.zeros((60, 12 - r))])
            @ np.linalg.qr(np.random.default_rng(r).normal(size=(12, 12)))[0]
        )
        assert R.effective_rank(embedding) == pytest.approx(r, rel=1e-9)
    assert R.effective_rank(np.ones((10, 4))) == 0.0  # complete collapse


def test_effective_rank_detects_dimensional_collapse():
    rng = np.random.default_rng(2)
    spread = rng.normal(size=(200, 32))
    collapsed = rng.normal(size=(200, 2)) @ rng.normal(size=(2, 32)) + 1e-3 * rng.normal(size=(200, 32))
    assert R.effective_rank(spread) > 25
    assert R.effective_rank(collapsed) < 3
    assert R.embedding_std(collapsed).min() > 0.1  # not a complete collapse: it still varies


def test_mean_abs_correlation():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(100, 1))
    copies = np.hstack([x, -2 * x, 3 * x + 1])
    assert R.mean_abs_correlation(copies) == pytest.approx(1.0)
    z = rng.normal(size=(100, 5))
    corr = np.corrcoef(z.T)
    expected = np.abs(corr[~np.eye(5, dtype=bool)]).mean()
    assert R.mean_abs_correlation(z) == pytest.approx(expected, rel=1e-10)
    with_constant = np.hstack([z, np.ones((100, 1))])
    assert R.mean_abs_correlation(with_constant) == pytest.approx(expected, rel=1e-10)
    assert np.isnan(R.mean_abs_correlation(np.ones((10, 3))))


def test_embed_runs_in_eval_mode_in_batches_and_restores_the_mode():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.BatchNorm1d(4)).train()
    x = np.random.default_rng(4).normal(size=(23, 6)).astype(np.float32)
    out = R.embed(net, x, batch_size=5)
    assert net.training, "the caller's mode is restored"
    net.eval()
    with torch.no_grad():
        expected = net(torch.tensor(x))
    assert torch.allclose(out, expected, atol=1e-6) and not out.requires_grad
    with pytest.raises(ValueError, match="batch_size"):
        R.embed(net, x, batch_size=0)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.ones(5), "samples, dims"),
        (np.ones((1, 4)), "at least 2 samples"),
        (np.array([[1.0, np.nan], [2.0, 3.0]]), "NaN"),
        (np.array([["a", "b"], ["c", "d"]]), "numeric"),
    ],
)
def test_bad_inputs(bad, message):
    with pytest.raises(ValueError, match=message):
        R.effective_rank(bad)
