"""Comparing methods over a few seeds: paired differences, intervals, effect sizes, multiple
testing and a sign test.

Runs of two methods with the same seed see the same minibatches in the same order (the
pipeline's randomness is a function of the seed), so a seed's two results form a pair and the
paired difference removes what the seed contributes to both. With 3 to 5 seeds every interval
here is wide; the point of computing them is to say how wide. Used in the chapter "Results".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


def _as_pairs(a, b) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(
            f"a and b must be 1-D arrays of one length (one value per seed), got {a.shape}, {b.shape}"
        )
    if len(a) < 2:
        raise ValueError(f"need at least 2 seeds, got {len(a)}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("a and b must be finite")
    return a, b


@dataclass(frozen=True)
class PairedComparison:
    """Method B minus method A over seeds.

    Attributes:
        mean: mean paired difference ``mean(b - a)``.
        sd: sample standard deviation of the paired differences (``ddof=1``).
        ci_low, ci_high: the two-sided ``level`` t-interval of the mean difference.
        effect_size: ``mean / sd`` of the differences (Cohen's d_z): the difference in units of
            its own seed-to-seed spread; ``inf`` when every seed moved by the same amount.
        p_value: two-sided paired t-test (``scipy.stats.ttest_rel``).
        n: number of seeds.
    """

    mean: float
    sd: float
    ci_low: float
    ci_high: float
    effect_size: float
    p_value: float
    n: int


def paired_comparison(a, b, level: float = 0.95) -> PairedComparison:
    """Compare ``b`` with ``a``, two ``(n_seeds,)`` arrays whose entry ``i`` used seed ``i``."""
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    a, b = _as_pairs(a, b)
    d = b - a
    n, mean, sd = len(d), float(d.mean()), float(d.std(ddof=1))
    half = stats.t.ppf(0.5 + level / 2, df=n - 1) * sd / np.sqrt(n)
    if sd == 0:
        p_value = 1.0 if mean == 0 else 0.0
        effect = 0.0 if mean == 0 else float(np.sign(mean) * np.inf)
    else:
        p_value = float(stats.ttest_rel(b, a).pvalue)
        effect = mean / sd
    return PairedComparison(mean, sd, mean - half, mean + half, effect, p_value, n)


@dataclass(frozen=True)
class Factorial2x2:
    """Two two-level factors crossed, over seeds: each effect is a per-seed contrast of the four
    cells summarised like a paired difference (mean, t-interval, d_z, p against zero).

    Attributes:
        first: main effect of the first factor, ``((a10 - a00) + (a11 - a01)) / 2``.
        second: main effect of the second factor, ``((a01 - a00) + (a11 - a10)) / 2``.
        interaction: how much the first factor's effect changes with the second,
            ``(a11 - a01) - (a10 - a00)``.
        both: both factors changed at once, ``a11 - a00``; per seed it equals
            ``first + second`` exactly, so the two main effects split it.
    """

    first: PairedComparison
    second: PairedComparison
    interaction: PairedComparison
    both: PairedComparison


def factorial_contrasts(a00, a01, a10, a11) -> dict[str, np.ndarray]:
    """The per-seed contrasts of a 2 x 2 design (see :class:`Factorial2x2`), keyed ``first``,
    ``second``, ``interaction`` and ``both``; works from one seed on."""
    a00, a01, a10, a11 = (np.asarray(a, dtype=float) for a in (a00, a01, a10, a11))
    if not (a00.ndim == 1 and a00.shape == a01.shape == a10.shape == a11.shape):
        raise ValueError(
            f"the four cells need one value per seed each, got shapes {[a.shape for a in (a00, a01, a10, a11)]}"
        )
    return {
        "first": ((a10 - a00) + (a11 - a01)) / 2,
        "second": ((a01 - a00) + (a11 - a10)) / 2,
        "interaction": (a11 - a01) - (a10 - a00),
        "both": a11 - a00,
    }


def factorial_2x2(a00, a01, a10, a11, level: float = 0.95) -> Factorial2x2:
    """Main effects and interaction of a 2 x 2 design from four ``(n_seeds,)`` arrays aligned by
    seed; ``aij`` is the first factor at level ``i`` and the second at level ``j``."""
    contrasts = factorial_contrasts(a00, a01, a10, a11)
    zero = np.zeros_like(contrasts["both"])
    return Factorial2x2(**{name: paired_comparison(zero, c, level) for name, c in contrasts.items()})


def bootstrap_ci(values, level: float = 0.95, n_resamples: int = 9999, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (``scipy.stats.bootstrap``).

    With ``n`` values there are at most ``C(2n-1, n)`` distinct resamples (10 for 3 seeds), so
    for very few seeds prefer the t-interval of :func:`paired_comparison`.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError(f"values must be a 1-D array of at least 2 numbers, got shape {values.shape}")
    if np.all(values == values[0]):
        return float(values[0]), float(values[0])
    result = stats.bootstrap(
        (values,),
        np.mean,
        confidence_level=level,
        n_resamples=n_resamples,
        method="percentile",
        random_state=np.random.default_rng(seed),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control, any dependence).

    Sorted ascending, the ``k``-th smallest p-value (``k = 1..m``) is multiplied by
    ``m - k + 1``; each adjusted value is the running maximum of these, capped at 1. Reject
    hypothesis ``i`` at level ``alpha`` when the adjusted ``p_i <= alpha``.
    """
    p = _p_values(p_values)
    m = len(p)
    order = np.argsort(p)
    scaled = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    adjusted = np.empty(m)
    adjusted[order] = scaled
    return adjusted


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate), via
    ``scipy.stats.false_discovery_control``."""
    return np.asarray(stats.false_discovery_control(_p_values(p_values), method="bh"))


def _p_values(p_values) -> np.ndarray:
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1 or len(p) == 0:
        raise ValueError(f"p_values must be a non-empty 1-D array, got shape {p.shape}")
    if not ((p >= 0) & (p <= 1)).all():
        raise ValueError("p-values must lie in [0, 1]")
    return p


def sign_test(agreements: int, trials: int) -> float:
    """One-sided p-value of ``agreements`` or more out of ``trials`` when each comparison agrees
    by chance with probability 1/2 (``scipy.stats.binomtest``): is "the direction agrees with
    the thesis in k of n comparisons" more than a coin would give?"""
    if not 0 <= agreements <= trials or trials < 1:
        raise ValueError(f"need 0 <= agreements <= trials and trials >= 1, got {agreements}, {trials}")
    return float(stats.binomtest(agreements, trials, 0.5, alternative="greater").pvalue)
