"""Autoencoders and the variational autoencoder (VAE) for fixed-length univariate series.

Taught in the chapter "Autoencoders and the VAE". The models are small multilayer perceptrons:
the series of length ``L`` is one input vector. Pieces:

* :class:`Autoencoder`: ``x -> z = f(x) -> x_hat = g(z)``, trained on the mean squared error;
* :class:`GaussianVAE`: the encoder outputs the mean and log-variance of the approximate
  posterior ``q(z | x) = N(mu, diag(exp(logvar)))``, a latent is drawn with the
  reparameterisation trick, and the decoder gives the mean of a Gaussian likelihood
  ``p(x | z) = N(x_hat, obs_std^2 I)``; the prior is ``N(0, I)``;
* :func:`gaussian_kl`, :func:`reparameterize`, :func:`elbo_terms`: the ELBO of Kingma and
  Welling, with a weight ``beta`` on the KL term (Higgins et al.'s beta-VAE);
* :func:`train_autoencoder`: AdamW with a cosine schedule for either model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from ssl_book.progress import progress
from ssl_book.train import as_tensor, cosine_lr, minibatches


def mlp(sizes: Sequence[int], final_activation: bool = False) -> nn.Sequential:
    """``Linear -> GELU -> ... -> Linear`` through ``sizes`` (e.g. ``(140, 128, 64, 8)``)."""
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise ValueError(f"sizes must hold at least two positive widths, got {list(sizes)}")
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or final_activation:
            layers.append(nn.GELU())
    return nn.Sequential(*layers)


def _check_series(x: torch.Tensor, length: int) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim == 3 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 2 or x.shape[1] != length:
        raise ValueError(f"x must have shape (batch, {length}) or (batch, 1, {length}), got {tuple(x.shape)}")
    return x


class Autoencoder(nn.Module):
    """A deterministic MLP autoencoder: ``(B, L) -> z (B, latent_dim) -> x_hat (B, L)``.

    Args:
        length: series length ``L``.
        latent_dim: bottleneck width.
        hidden: widths of the encoder's hidden layers (the decoder mirrors them).
    """

    def __init__(self, length: int, latent_dim: int = 8, hidden: Sequence[int] = (128, 64)) -> None:
        super().__init__()
        if length < 1 or latent_dim < 1:
            raise ValueError(f"length and latent_dim must be positive, got {length}, {latent_dim}")
        self.length, self.latent_dim = length, latent_dim
        self.encoder = mlp([length, *hidden, latent_dim])
        self.decoder = mlp([latent_dim, *reversed(hidden), length])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, L) -> (B, latent_dim)``."""
        return self.encoder(_check_series(x, self.length))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``(B, latent_dim) -> (B, L)``."""
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (batch, {self.latent_dim}), got {tuple(z.shape)}")
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction ``x_hat``, ``(B, L)``."""
        return self.decode(self.encode(x))

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """Mean squared reconstruction error."""
        return nn.functional.mse_loss(self(x), _check_series(x, self.length))


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, diag(exp(logvar))) || N(0, I))`` in closed form, summed over the last axis.

    ``0.5 * sum(mu^2 + exp(logvar) - 1 - logvar)``. Shapes: ``(..., d), (..., d) -> (...)``.
    """
    if mu.shape != logvar.shape:
        raise ValueError(
            f"mu and logvar must have the same shape, got {tuple(mu.shape)} and {tuple(logvar.shape)}"
        )
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)


def reparameterize(
    mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A draw ``z = mu + exp(logvar / 2) * eps`` with ``eps ~ N(0, I)``: differentiable in ``mu, logvar``."""
    if mu.shape != logvar.shape:
        raise ValueError(
            f"mu and logvar must have the same shape, got {tuple(mu.shape)} and {tuple(logvar.shape)}"
        )
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + (0.5 * logvar).exp() * eps


def gaussian_nll(x: torch.Tensor, x_hat: torch.Tensor, obs_std: float = 1.0) -> torch.Tensor:
    """``-log N(x; x_hat, obs_std^2 I)`` summed over the last axis: ``(B, L) -> (B,)``."""
    if x.shape != x_hat.shape:
        raise ValueError(
            f"x and x_hat must have the same shape, got {tuple(x.shape)} and {tuple(x_hat.shape)}"
        )
    if obs_std <= 0:
        raise ValueError(f"obs_std must be positive, got {obs_std}")
    squared = (x - x_hat).pow(2).sum(-1) / (2 * obs_std**2)
    return squared + x.shape[-1] * (math.log(obs_std) + 0.5 * math.log(2 * math.pi))


@dataclass
class ELBOTerms:
    """Per-series terms of the (negative) ELBO, each ``(B,)``, and the scalar training loss.

    ``elbo = -(reconstruction + kl)``; ``loss = mean(reconstruction + beta * kl)``.
    """

    reconstruction: torch.Tensor
    kl: torch.Tensor
    elbo: torch.Tensor
    loss: torch.Tensor


def elbo_terms(
    x: torch.Tensor,
    x_hat: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    *,
    beta: float = 1.0,
    obs_std: float = 1.0,
) -> ELBOTerms:
    """The ELBO of a Gaussian VAE with a one-sample reconstruction term (Kingma and Welling).

    Args:
        x, x_hat: ``(B, L)`` data and decoder mean.
        mu, logvar: ``(B, d)`` posterior parameters.
        beta: weight of the KL term in ``loss`` (1 = the ELBO; Higgins et al. vary it).
        obs_std: standard deviation of the Gaussian likelihood.
    """
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    if len(x) != len(mu):
        raise ValueError(f"x has {len(x)} rows but mu has {len(mu)}")
    reconstruction = gaussian_nll(x, x_hat, obs_std)
    kl = gaussian_kl(mu, logvar)
    return ELBOTerms(
        reconstruction=reconstruction,
        kl=kl,
        elbo=-(reconstruction + kl),
        loss=(reconstruction + beta * kl).mean(),
    )


@dataclass
class VAEOutput:
    """``x_hat (B, L)`` decoded from ``z (B, d)``, drawn from ``N(mu, exp(logvar))`` (each ``(B, d)``)."""

    x_hat: torch.Tensor
    z: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor


class GaussianVAE(nn.Module):
    """A VAE with a Gaussian posterior, a standard-normal prior and a Gaussian likelihood.

    Args:
        length: series length ``L``.
        latent_dim: ``d``.
        hidden: widths of the encoder's hidden layers (the decoder mirrors them).
        beta: weight of the KL term in :meth:`loss`.
        obs_std: standard deviation of the likelihood ``p(x | z) = N(x_hat, obs_std^2 I)``.
    """

    def __init__(
        self,
        length: int,
        latent_dim: int = 8,
        hidden: Sequence[int] = (128, 64),
        *,
        beta: float = 1.0,
        obs_std: float = 1.0,
    ) -> None:
        super().__init__()
        if length < 1 or latent_dim < 1:
            raise ValueError(f"length and latent_dim must be positive, got {length}, {latent_dim}")
        if beta < 0 or obs_std <= 0:
            raise ValueError(f"need beta >= 0 and obs_std > 0, got beta={beta}, obs_std={obs_std}")
        if not hidden:
            raise ValueError("hidden must list at least one hidden-layer width")
        self.length, self.latent_dim, self.beta, self.obs_std = length, latent_dim, beta, obs_std
        self.body = mlp([length, *hidden], final_activation=True)
        self.to_mu = nn.Linear(hidden[-1], latent_dim)
        self.to_logvar = nn.Linear(hidden[-1], latent_dim)
        self.decoder = mlp([latent_dim, *reversed(hidden), length])

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, L) -> (mu, logvar)``, each ``(B, d)``."""
        h = self.body(_check_series(x, self.length))
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``(B, d) -> (B, L)``, the likelihood's mean."""
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (batch, {self.latent_dim}), got {tuple(z.shape)}")
        return self.decoder(z)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> VAEOutput:
        """Encode, draw one latent per series (the posterior mean in eval mode), decode."""
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, generator) if self.training else mu
        return VAEOutput(x_hat=self.decode(z), z=z, mu=mu, logvar=logvar)

    def terms(self, x: torch.Tensor, generator: torch.Generator | None = None) -> ELBOTerms:
        """The ELBO terms of a batch (one reparameterised draw per series, also in eval mode)."""
        x = _check_series(x, self.length)
        mu, logvar = self.encode(x)
        x_hat = self.decode(reparameterize(mu, logvar, generator))
        return elbo_terms(x, x_hat, mu, logvar, beta=self.beta, obs_std=self.obs_std)

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """The training loss ``mean(reconstruction + beta * KL)``."""
        return self.terms(x).loss

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` new series: decode draws from the prior ``N(0, I)``. Returns ``(n, L)``."""
        if n < 1:
            raise ValueError(f"n must be positive, got {n}")
        device = self.to_mu.weight.device
        z = torch.randn(n, self.latent_dim, generator=generator, device=device)
        return self.decode(z)


@dataclass
class AutoencoderHistory:
    """The training loss at every step."""

    loss: list[float] = field(default_factory=list)


def train_autoencoder(
    model: Autoencoder | GaussianVAE,
    x_train,
    *,
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    weight_decay: float = 1e-4,
    seed: int = 0,
    desc: str = "autoencoder",
    disable_progress: bool = False,
) -> AutoencoderHistory:
    """Minimise ``model.loss(batch)`` with AdamW and a cosine schedule.

    Works for any module with a ``loss(x) -> scalar`` method (the MSE of an
    :class:`Autoencoder`, the negative beta-ELBO of a :class:`GaussianVAE`). Data are moved to
    the model's device once; the model is left in eval mode.
    """
    if steps < 1:
        raise ValueError(f"steps must be positive, got {steps}")
    device = next(model.parameters()).device
    x = as_tensor(x_train, torch.float32, device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = cosine_lr(optimizer, steps)
    batches = minibatches(len(x), batch_size, torch.Generator().manual_seed(seed), device=device)
    history = AutoencoderHistory()
    model.train()
    for step in (bar := progress(range(1, steps + 1), desc=desc, disable=disable_progress)):
        loss = model.loss(x[next(batches)])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        history.loss.append(loss.item())
        if step % 50 == 0 or step == steps:
            bar.set_postfix(loss=f"{history.loss[-1]:.4f}")
    model.eval()
    return history
