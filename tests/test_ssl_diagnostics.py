"""ssl_book.ssl.effective_rank / collapse_diagnostics against closed forms and NumPy, and their
place in NCVQVAE's output: logged next to the loss, never part of it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ssl_book import representation
from ssl_book.experiments.config import Stage1Config
from ssl_book.experiments.models import DIAGNOSTICS, NCVQVAE, loss_terms
from ssl_book.ssl import collapse_diagnostics, effective_rank


def centred_orthonormal(n: int, k: int, generator: torch.Generator) -> torch.Tensor:
    """``(n, k)`` orthonormal columns, each orthogonal to the ones vector (so centring keeps them)."""
    a = torch.randn(n, k, generator=generator, dtype=torch.float64)
    q, _ = torch.linalg.qr(a - a.mean(0))
    return q


def numpy_effective_rank(z: np.ndarray) -> float:
    sigma = np.linalg.svd(z - z.mean(0), compute_uv=False)
    p = sigma / sigma.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


@pytest.mark.parametrize("n, d, k", [(64, 32, 1), (64, 32, 5), (40, 200, 12), (128, 16, 16)])
def test_equal_singular_values_give_exactly_k(n, d, k):
    g = torch.Generator().manual_seed(k)
    u, v = (
        centred_orthonormal(n, k, g),
        torch.linalg.qr(torch.randn(d, k, generator=g, dtype=torch.float64))[0],
    )
    z = 3.0 * u @ v.T  # k singular values, all 3
    # float64 eigenvalues leave singular values of ~1e-8 sigma_1 where the exact ones are 0
    assert effective_rank(z).item() == pytest.approx(k, rel=1e-5)
    assert effective_rank(z.float()).item() == pytest.approx(k, rel=1e-4)


def test_one_dominant_direction_gives_about_one():
    g = torch.Generator().manual_seed(0)
    u, v = torch.randn(100, 1, generator=g), torch.randn(1, 50, generator=g)
    z = 100.0 * u @ v + 1e-6 * torch.randn(100, 50, generator=g)
    assert 1.0 <= effective_rank(z).item() < 1.001


def test_two_unequal_directions_match_the_entropy_formula():
    g = torch.Generator().manual_seed(1)
    u, v = centred_orthonormal(30, 2, g), centred_orthonormal(10, 2, g)
    z = u @ torch.diag(torch.tensor([3.0, 1.0], dtype=torch.float64)) @ v.T
    p = np.array([0.75, 0.25])
    assert effective_rank(z).item() == pytest.approx(np.exp(-(p * np.log(p)).sum()), rel=1e-6)


@pytest.mark.parametrize("shape", [(32, 100), (100, 8), (27, 256), (2, 5)])
def test_matches_numpy_svd_and_the_representation_module(shape):
    z = np.random.default_rng(sum(shape)).standard_normal(shape) @ np.diag(np.linspace(0.1, 3, shape[1]))
    ours = effective_rank(torch.as_tensor(z)).item()
    assert ours == pytest.approx(numpy_effective_rank(z), rel=1e-5)
    assert ours == pytest.approx(representation.effective_rank(z), rel=1e-5)
    assert 1.0 <= ours <= min(shape[0] - 1, shape[1]) + 1e-6


def test_scale_free_and_bounded_by_the_batch():
    z = torch.randn(20, 512, generator=torch.Generator().manual_seed(2))
    assert effective_rank(1e-3 * z).item() == pytest.approx(effective_rank(z).item(), rel=1e-5)
    assert effective_rank(z).item() <= 19 + 1e-4  # centring: rank at most N - 1


def test_complete_collapse_gives_zero_std_and_rank():
    z = torch.ones(16, 8) * torch.arange(8.0)  # every row the same
    diagnostics = collapse_diagnostics(z)
    assert diagnostics["std"].item() == 0.0 and diagnostics["erank"].item() == 0.0


def test_std_is_the_mean_unbiased_std_and_everything_is_fp32_and_detached():
    z = torch.randn(
        50, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(3), requires_grad=True
    )
    diagnostics = collapse_diagnostics(z.to(torch.bfloat16))
    expected = np.std(z.detach().to(torch.bfloat16).double().numpy(), axis=0, ddof=1).mean()
    assert diagnostics["std"].item() == pytest.approx(expected, rel=1e-5)
    for value in collapse_diagnostics(z).values():
        assert value.dtype == torch.float32 and value.ndim == 0 and not value.requires_grad


def test_a_diverged_batch_gives_nan_instead_of_raising():
    z = torch.randn(8, 4)
    z[3, 1] = float("nan")
    assert torch.isnan(effective_rank(z)) and torch.isnan(collapse_diagnostics(z)["std"])
    z[3, 1] = float("inf")
    assert torch.isnan(effective_rank(z))


def test_rejects_what_is_not_a_batch_of_embeddings():
    for bad in (torch.randn(1, 4), torch.randn(4), torch.ones(3, 2, dtype=torch.long)):
        with pytest.raises(ValueError):
            effective_rank(bad)


# ----------------------------------------------------------------------------- in NCVQVAE
@pytest.mark.parametrize(
    "method, augment", [("vibcreg", "gauss"), ("barlowtwins", "slice"), ("baseline", None)]
)
def test_ncvqvae_logs_diagnostics_outside_the_loss(method, augment):
    torch.manual_seed(0)
    config = Stage1Config(method, augment, projector_dim=64)
    model = NCVQVAE(70, config).train()
    x = torch.randn(12, 70)
    terms = model(x, x + 0.05 * torch.randn_like(x) if augment else None)
    parts = loss_terms(terms)
    assert torch.allclose(sum(parts.values()), terms["loss"])
    assert not set(parts) & set(DIAGNOSTICS)
    logged = {"perplexity"} | ({"p1_std", "p1_erank", "p2_std", "p2_erank"} if augment else set())
    assert set(terms) - set(parts) - {"loss"} == logged
    for name in logged - {"perplexity"}:
        assert not terms[name].requires_grad and terms[name].dtype == torch.float32
        assert 0 < terms[name].item() and (name.endswith("std") or terms[name].item() <= 11 + 1e-4)
    terms["loss"].backward()  # the diagnostics do not get in the way
