"""ssl_book.vae: the KL and likelihood against torch.distributions and Monte Carlo, the ELBO
against an exact log-likelihood, and training."""

import math

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence

from ssl_book.vae import (
    Autoencoder,
    GaussianVAE,
    elbo_terms,
    gaussian_kl,
    gaussian_nll,
    mlp,
    reparameterize,
    train_autoencoder,
)


def test_gaussian_kl_matches_torch_distributions():
    torch.manual_seed(0)
    mu, logvar = torch.randn(6, 4, dtype=torch.float64), torch.randn(6, 4, dtype=torch.float64)
    q = Normal(mu, (0.5 * logvar).exp())
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    assert torch.allclose(gaussian_kl(mu, logvar), kl_divergence(q, p).sum(-1), atol=1e-12)
    assert torch.allclose(gaussian_kl(torch.zeros(3, 2), torch.zeros(3, 2)), torch.zeros(3))


def test_gaussian_kl_equals_a_large_sample_monte_carlo_estimate():
    gen = torch.Generator().manual_seed(1)
    mu = torch.tensor([[0.5, -1.0, 2.0]], dtype=torch.float64)
    logvar = torch.tensor([[0.3, -0.7, 0.0]], dtype=torch.float64)
    z = reparameterize(mu.expand(400_000, 3), logvar.expand(400_000, 3), gen)
    std = (0.5 * logvar).exp()
    log_q = Normal(mu, std).log_prob(z).sum(-1)
    log_p = Normal(0.0, 1.0).log_prob(z).sum(-1)
    estimate = (log_q - log_p).mean().item()
    standard_error = (log_q - log_p).std().item() / math.sqrt(len(z))
    assert abs(estimate - gaussian_kl(mu, logvar).item()) < 4 * standard_error


def test_reparameterize_has_the_right_moments_and_gradients():
    mu = torch.tensor([1.0, -2.0], requires_grad=True)
    logvar = torch.tensor([0.0, math.log(4.0)], requires_grad=True)
    z = reparameterize(mu.expand(100_000, 2), logvar.expand(100_000, 2), torch.Generator().manual_seed(0))
    assert torch.allclose(z.mean(0), mu.detach(), atol=0.03)
    assert torch.allclose(z.std(0), torch.tensor([1.0, 2.0]), atol=0.03)
    z.sum().backward()
    assert torch.allclose(mu.grad, torch.full((2,), 100_000.0))  # dz/dmu = 1 for every draw
    assert logvar.grad.abs().sum() > 0


def test_gaussian_nll_matches_torch_log_prob():
    x, x_hat = torch.randn(4, 7, dtype=torch.float64), torch.randn(4, 7, dtype=torch.float64)
    for std in (0.3, 1.0, 2.5):
        expected = -Normal(x_hat, std).log_prob(x).sum(-1)
        assert torch.allclose(gaussian_nll(x, x_hat, std), expected, atol=1e-12)


def test_elbo_is_a_lower_bound_that_is_tight_at_the_true_posterior():
    # linear-Gaussian model: z ~ N(0, 1), x | z ~ N(w z, s^2 I), so log p(x) is known exactly
    torch.manual_seed(0)
    w, s = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64), 0.7
    x = torch.tensor([[0.8, -1.1, 0.9]], dtype=torch.float64)
    log_px = MultivariateNormal(
        torch.zeros(3, dtype=torch.float64), torch.outer(w, w) + s**2 * torch.eye(3, dtype=torch.float64)
    ).log_prob(x)
    precision = 1 + w @ w / s**2
    post_mu, post_logvar = (x @ w / s**2 / precision).reshape(1, 1), torch.log(1 / precision).reshape(1, 1)

    def mean_elbo(mu, logvar, n=200_000):
        z = reparameterize(mu.expand(n, 1), logvar.expand(n, 1), torch.Generator().manual_seed(2))
        return elbo_terms(x.expand(n, 3), z * w, mu.expand(n, 1), logvar.expand(n, 1), obs_std=s).elbo.mean()

    assert mean_elbo(post_mu, post_logvar).item() == pytest.approx(log_px.item(), abs=5e-3)
    wrong = mean_elbo(post_mu + 0.5, post_logvar + 1.0)
    assert wrong.item() < log_px.item() - 0.1


def test_elbo_terms_and_beta():
    x, x_hat = torch.randn(5, 6), torch.randn(5, 6)
    mu, logvar = torch.randn(5, 2), torch.randn(5, 2)
    t1 = elbo_terms(x, x_hat, mu, logvar, beta=1.0)
    t4 = elbo_terms(x, x_hat, mu, logvar, beta=4.0)
    assert torch.allclose(t1.elbo, -(t1.reconstruction + t1.kl))
    assert torch.allclose(t4.loss - t1.loss, 3 * t1.kl.mean())


@pytest.mark.parametrize(
    "model",
    [Autoencoder(24, latent_dim=3, hidden=(16,)), GaussianVAE(24, latent_dim=3, hidden=(16,), obs_std=0.5)],
)
def test_training_lowers_the_loss(model):
    torch.manual_seed(0)
    t = torch.linspace(0, 1, 24)
    x = torch.sin(2 * math.pi * (t[None] + torch.rand(64, 1))) * (1 + torch.rand(64, 1))
    before = model.loss(x).item()
    history = train_autoencoder(model, x, steps=80, batch_size=32, lr=5e-3, disable_progress=True)
    assert len(history.loss) == 80
    assert model.loss(x).item() < 0.6 * before
    assert not model.training


def test_vae_shapes_and_eval_uses_the_mean():
    vae = GaussianVAE(10, latent_dim=2, hidden=(8,)).eval()
    x = torch.randn(3, 10)
    out = vae(x)
    assert out.x_hat.shape == (3, 10) and out.mu.shape == (3, 2) and torch.equal(out.z, out.mu)
    assert vae.sample(5, torch.Generator().manual_seed(0)).shape == (5, 10)
    assert vae(x.unsqueeze(1)).x_hat.shape == (3, 10)


def test_bad_inputs_raise():
    vae = GaussianVAE(10, latent_dim=2, hidden=(8,))
    ae = Autoencoder(10, latent_dim=2, hidden=(8,))
    for model in (vae, ae):
        with pytest.raises(ValueError):
            model(torch.randn(3, 11))
        with pytest.raises(ValueError):
            model.decode(torch.randn(3, 5))
    with pytest.raises(ValueError):
        gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError):
        gaussian_nll(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError):
        gaussian_nll(torch.zeros(2, 3), torch.zeros(2, 3), obs_std=0.0)
    with pytest.raises(ValueError):
        elbo_terms(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 1), torch.zeros(2, 1), beta=-1.0)
    with pytest.raises(ValueError):
        GaussianVAE(10, latent_dim=0)
    with pytest.raises(ValueError):
        GaussianVAE(10, hidden=())
    with pytest.raises(ValueError):
        mlp([5])
    with pytest.raises(ValueError):
        vae.sample(0)
    with pytest.raises(ValueError):
        train_autoencoder(ae, torch.randn(4, 10), steps=0)
