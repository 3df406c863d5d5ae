"""Measuring embeddings: is a representation spread out, or has it collapsed?

A joint-embedding network can *collapse*: completely, when every input gets (nearly) the same
embedding, so every dimension's standard deviation over the data goes to zero; or
dimensionally, when the embeddings vary but only inside a low-dimensional subspace, so a few
singular values of the centred embedding matrix carry everything (Jing et al. 2022). These
functions measure both on an ``(N, D)`` matrix of embeddings (a NumPy array or a tensor):

* :func:`embedding_std`: the standard deviation of every dimension;
* :func:`singular_values`: the spectrum of the centred embeddings;
* :func:`effective_rank`: Roy and Vetterli's (2007) effective rank, the exponential of the
  entropy of the normalised singular values: between 1 and ``min(N, D)``;
* :func:`mean_abs_correlation`: how redundant the dimensions are;
* :func:`embed`: embeddings of a whole dataset from an encoder, in batches, without gradients.

Taught in the chapters "Representation learning" and "Self-supervised learning".
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ssl_book import info


def _as_matrix(z, name: str = "z") -> torch.Tensor:
    if isinstance(z, torch.Tensor):
        matrix = z.detach().to("cpu", torch.float64)
    else:
        array = np.asarray(z)
        if not np.issubdtype(array.dtype, np.number):
            raise ValueError(f"{name} must be numeric, got dtype {array.dtype}")
        matrix = torch.as_tensor(array, dtype=torch.float64)
    if matrix.ndim != 2:
        raise ValueError(f"{name} must have shape (samples, dims), got {tuple(matrix.shape)}")
    if matrix.shape[0] < 2 or matrix.shape[1] < 1:
        raise ValueError(f"{name} needs at least 2 samples and 1 dimension, got {tuple(matrix.shape)}")
    if not torch.isfinite(matrix).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return matrix


def embedding_std(z) -> np.ndarray:
    """``(D,)`` standard deviation of each dimension over the ``N`` samples (unbiased).

    All zeros means complete collapse: every input gets the same embedding.
    """
    return _as_matrix(z).std(0).numpy()


def singular_values(z, center: bool = True) -> np.ndarray:
    """``(min(N, D),)`` singular values of the (by default centred) embedding matrix, descending.

    Their squares divided by ``N - 1`` are the eigenvalues of the embeddings' covariance, i.e.
    the variance along each principal direction. Many values near zero means dimensional
    collapse.
    """
    matrix = _as_matrix(z)
    if center:
        matrix = matrix - matrix.mean(0)
    return torch.linalg.svdvals(matrix).numpy()


def effective_rank(z, center: bool = True) -> float:
    """Roy & Vetterli's effective rank: ``exp(H(p))`` with ``p_k = sigma_k / sum_j sigma_j``.

    ``sigma`` are the :func:`singular_values`; ``H`` is the entropy in nats (this is the
    perplexity of ``p``, ``ssl_book.info.perplexity``). It equals ``r`` when ``r`` singular
    values are equal and the rest are zero, and varies smoothly in between. A completely
    collapsed matrix (all singular values zero) has effective rank 0 by convention.
    """
    sigma = singular_values(z, center=center)
    total = sigma.sum()
    if total <= 0:
        return 0.0
    return float(info.perplexity(sigma / total))


def mean_abs_correlation(z) -> float:
    """Mean absolute Pearson correlation between pairs of distinct dimensions, in ``[0, 1]``.

    Dimensions with zero variance are left out (their correlation is undefined); ``nan`` if
    fewer than two dimensions vary.
    """
    matrix = _as_matrix(z)
    matrix = matrix[:, matrix.std(0) > 0]
    d = matrix.shape[1]
    if d < 2:
        return float("nan")
    corr = torch.corrcoef(matrix.T)
    return float((corr.abs().sum() - d) / (d * (d - 1)))


@torch.no_grad()
def embed(
    encoder: nn.Module, x, batch_size: int = 512, device: torch.device | str | None = None
) -> torch.Tensor:
    """``encoder(x)`` for a whole dataset, in eval mode and batches, without gradients.

    Args:
        encoder: maps a ``(batch, ...)`` float tensor to ``(batch, D)`` embeddings.
        x: ``(n, ...)`` inputs (array or tensor).
        device: where to run (default: where the encoder's parameters are).

    Returns:
        ``(n, D)`` embeddings on the CPU. The encoder's train/eval mode is restored.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if device is None:
        first = next(encoder.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    inputs = torch.as_tensor(x, dtype=torch.float32)
    was_training = encoder.training
    encoder.eval()
    out = torch.cat(
        [encoder(inputs[i : i + batch_size].to(device)).cpu() for i in range(0, len(inputs), batch_size)]
    )
    encoder.train(was_training)
    return out
