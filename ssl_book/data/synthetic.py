"""Synthetic time series with published definitions, for tests and exercises."""

from __future__ import annotations

import numpy as np

CBF_CLASSES = ("cylinder", "bell", "funnel")


def make_cbf(
    n_per_class: int, length: int = 128, seed: int | np.random.Generator | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Cylinder-Bell-Funnel series (Saito 1994; the generator behind the UCR ``CBF`` dataset).

    With ``a ~ U{16..32}``, ``b - a ~ U{32..96}``, ``eta ~ N(0, 1)``, ``eps(t) ~ N(0, 1)`` and
    ``chi`` the indicator of ``[a, b]``::

        cylinder(t) = (6 + eta) chi(t)                      + eps(t)
        bell(t)     = (6 + eta) chi(t) (t - a) / (b - a)    + eps(t)
        funnel(t)   = (6 + eta) chi(t) (b - t) / (b - a)    + eps(t)

    The original uses length 128; for other lengths ``a`` and ``b`` are scaled with it.

    Args:
        n_per_class: series per class (> 0).
        length: series length (>= 16).
        seed: an integer seed or a ``numpy.random.Generator``.

    Returns:
        ``x`` of shape ``(3 * n_per_class, length)`` float32 and labels ``y`` of shape
        ``(3 * n_per_class,)`` int64 (0 cylinder, 1 bell, 2 funnel), classes in blocks.
    """
    if n_per_class < 1:
        raise ValueError(f"n_per_class must be positive, got {n_per_class}")
    if length < 16:
        raise ValueError(f"length must be at least 16, got {length}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = 3 * n_per_class
    y = np.repeat(np.arange(3), n_per_class)
    scale = length / 128
    a = np.round(rng.integers(16, 33, size=n) * scale)
    b = np.minimum(a + np.round(rng.integers(32, 97, size=n) * scale), length - 1)
    eta = rng.standard_normal(n)
    t = np.arange(length)[None, :]
    a, b, eta = a[:, None], b[:, None], eta[:, None]
    chi = ((t >= a) & (t <= b)).astype(np.float64)
    ramp_up = (t - a) / (b - a)
    shape = np.where(y[:, None] == 0, 1.0, np.where(y[:, None] == 1, ramp_up, 1.0 - ramp_up))
    x = (6 + eta) * chi * shape + rng.standard_normal((n, length))
    return x.astype(np.float32), y.astype(np.int64)
