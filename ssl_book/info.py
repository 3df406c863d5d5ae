"""Information theory on discrete distributions: entropy, cross-entropy, KL, MI, perplexity.

Taught in the chapter "Information theory". Every function

* accepts a NumPy array or a PyTorch tensor and answers in the same kind (a Python float for a
  single NumPy distribution; a tensor, with autograd, for torch input);
* reads distributions along the last axis, so a ``(batch, K)`` input gives ``batch`` answers;
* uses the natural logarithm (nats) unless ``base`` is given (``base=2`` gives bits);
* follows the convention ``0 log 0 = 0``; where ``p > 0`` but ``q = 0`` the answer is ``inf``;
* raises ``ValueError`` for invalid input: negative or NaN entries, rows that do not sum to 1,
  mismatched shapes.
"""

from __future__ import annotations

import math

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor


def _as_tensor(x: ArrayLike | list | tuple, name: str) -> tuple[torch.Tensor, bool]:
    """Convert to a floating tensor; report whether the caller gave a torch tensor."""
    if isinstance(x, torch.Tensor):
        return (x if x.is_floating_point() else x.double()), True
    array = np.asarray(x)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}")
    return torch.tensor(array, dtype=torch.float64), False


def _default_atol(t: torch.Tensor) -> float:
    return 1e-6 if t.dtype == torch.float64 else 1e-4


def _check_distribution(p: torch.Tensor, name: str, atol: float | None) -> None:
    if p.ndim == 0 or p.shape[-1] == 0:
        raise ValueError(
            f"{name} must have at least one entry along its last axis, got shape {tuple(p.shape)}"
        )
    if torch.isnan(p).any():
        raise ValueError(f"{name} contains NaN")
    if (p < 0).any():
        raise ValueError(
            f"{name} has negative entries (min {p.min().item():.3g}); probabilities must be >= 0"
        )
    sums = p.sum(dim=-1)
    tol = _default_atol(p) if atol is None else atol
    worst = (sums - 1).abs().max().item()
    if worst > tol:
        raise ValueError(
            f"{name} must sum to 1 along its last axis (off by up to {worst:.3g}, "
            f"tolerance {tol:g}); normalise it first, e.g. p / p.sum(-1, keepdims=True)"
        )


def _log_base(base: float | None) -> float:
    if base is None:
        return 1.0
    if base <= 0 or base == 1:
        raise ValueError(f"base must be positive and not 1, got {base}")
    return math.log(base)


def _answer(value: torch.Tensor, as_torch: bool):
    if as_torch:
        return value
    array = value.detach().numpy()
    return float(array) if array.ndim == 0 else array


def entropy(p: ArrayLike, base: float | None = None, atol: float | None = None):
    """Shannon entropy ``H(p) = -sum_k p_k log p_k``.

    Args:
        p: probabilities, shape ``(..., K)``.
        base: logarithm base (``None`` = e, nats).
        atol: tolerance on ``sum(p) = 1`` (default 1e-6 for float64, 1e-4 otherwise).

    Returns:
        Shape ``(...)``.
    """
    t, as_torch = _as_tensor(p, "p")
    _check_distribution(t, "p", atol)
    return _answer(-torch.special.xlogy(t, t).sum(-1) / _log_base(base), as_torch)


def _check_pair(p: ArrayLike, q: ArrayLike, atol: float | None):
    tp, p_torch = _as_tensor(p, "p")
    tq, q_torch = _as_tensor(q, "q")
    if tp.shape != tq.shape:
        raise ValueError(f"p and q must have the same shape, got {tuple(tp.shape)} and {tuple(tq.shape)}")
    _check_distribution(tp, "p", atol)
    _check_distribution(tq, "q", atol)
    dtype = torch.promote_types(tp.dtype, tq.dtype)
    return tp.to(dtype), tq.to(dtype), p_torch or q_torch


def cross_entropy(p: ArrayLike, q: ArrayLike, base: float | None = None, atol: float | None = None):
    """Cross-entropy ``H(p, q) = -sum_k p_k log q_k`` of ``q`` relative to the true ``p``.

    Shapes: ``p`` and ``q`` are ``(..., K)``; the result is ``(...)``.
    """
    tp, tq, as_torch = _check_pair(p, q, atol)
    return _answer(-torch.special.xlogy(tp, tq).sum(-1) / _log_base(base), as_torch)


def kl_divergence(p: ArrayLike, q: ArrayLike, base: float | None = None, atol: float | None = None):
    """Kullback-Leibler divergence ``KL(p || q) = sum_k p_k log(p_k / q_k)``, always >= 0.

    Shapes: ``p`` and ``q`` are ``(..., K)``; the result is ``(...)``. Not symmetric.
    """
    tp, tq, as_torch = _check_pair(p, q, atol)
    kl = (torch.special.xlogy(tp, tp) - torch.special.xlogy(tp, tq)).sum(-1)
    return _answer(kl / _log_base(base), as_torch)


def mutual_information(joint: ArrayLike, base: float | None = None, atol: float | None = None):
    """Mutual information ``I(X; Y) = KL(p(x, y) || p(x) p(y))`` from a joint probability table.

    Args:
        joint: ``(|X|, |Y|)`` table of ``p(x, y)``, non-negative, summing to 1.

    Returns:
        A scalar (float for NumPy input, 0-d tensor for torch input).
    """
    t, as_torch = _as_tensor(joint, "joint")
    if t.ndim != 2:
        raise ValueError(f"joint must be a 2-D table p(x, y), got shape {tuple(t.shape)}")
    _check_distribution(t.reshape(-1), "joint", atol)
    independent = t.sum(1, keepdim=True) * t.sum(0, keepdim=True)
    mi = (torch.special.xlogy(t, t) - torch.special.xlogy(t, independent)).sum()
    return _answer(mi / _log_base(base), as_torch)


def perplexity(p: ArrayLike, atol: float | None = None):
    """Perplexity ``exp(H(p))``: the number of equally likely outcomes with the same entropy.

    It lies between 1 (one sure outcome) and ``K`` (uniform over ``K``) and does not depend
    on the logarithm base. Shapes: ``(..., K)`` -> ``(...)``.
    """
    t, as_torch = _as_tensor(p, "p")
    _check_distribution(t, "p", atol)
    return _answer(torch.exp(-torch.special.xlogy(t, t).sum(-1)), as_torch)


def code_usage(indices: ArrayLike, num_codes: int):
    """How often each of ``num_codes`` codes is used: a distribution over codes.

    Args:
        indices: integer code indices of any shape (for example the ``(batch, tokens)``
            output of a vector quantizer), each in ``[0, num_codes)``.
        num_codes: the codebook size ``K``.

    Returns:
        Shape ``(K,)`` frequencies summing to 1; ``perplexity(code_usage(...))`` is the
        codebook perplexity the VQ-VAE chapters report.
    """
    t = indices if isinstance(indices, torch.Tensor) else torch.as_tensor(np.asarray(indices))
    if t.numel() == 0:
        raise ValueError("indices is empty: there is no usage to count")
    if t.is_floating_point() or t.is_complex():
        raise ValueError(f"indices must be integers, got dtype {t.dtype}")
    if num_codes < 1:
        raise ValueError(f"num_codes must be positive, got {num_codes}")
    if t.min() < 0 or t.max() >= num_codes:
        raise ValueError(
            f"indices must lie in [0, {num_codes}), got range [{t.min().item()}, {t.max().item()}]"
        )
    counts = torch.bincount(t.reshape(-1).long(), minlength=num_codes).double()
    return _answer(counts / counts.sum(), isinstance(indices, torch.Tensor))
