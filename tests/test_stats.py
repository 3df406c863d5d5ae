"""ssl_book.stats against scipy and against the definitions written out."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps

from ssl_book import stats


def test_paired_comparison_matches_scipy_and_the_t_interval():
    a = np.array([0.71, 0.65, 0.80, 0.74])
    b = np.array([0.78, 0.70, 0.83, 0.75])
    r = stats.paired_comparison(a, b)
    d = b - a
    assert r.mean == pytest.approx(d.mean()) and r.sd == pytest.approx(d.std(ddof=1)) and r.n == 4
    assert r.p_value == pytest.approx(sps.ttest_rel(b, a).pvalue)
    low, high = sps.t.interval(0.95, df=3, loc=d.mean(), scale=d.std(ddof=1) / 2)
    assert (r.ci_low, r.ci_high) == pytest.approx((low, high))
    assert r.effect_size == pytest.approx(d.mean() / d.std(ddof=1))
    # the paired test sees what an unpaired one cannot when seeds shift both methods alike
    assert r.p_value < sps.ttest_ind(b, a).pvalue


def test_paired_comparison_with_identical_differences():
    r = stats.paired_comparison([1.0, 2.0, 3.0], [1.5, 2.5, 3.5])
    assert r.sd == 0 and r.effect_size == math.inf and r.p_value == 0.0
    assert stats.paired_comparison([1.0, 2.0], [1.0, 2.0]).p_value == 1.0


@pytest.mark.parametrize(
    "a, b, message",
    [([1.0], [2.0], "at least 2"), ([1.0, 2.0], [1.0], "one length"), ([1.0, np.nan], [1.0, 2.0], "finite")],
)
def test_paired_comparison_rejects_bad_input(a, b, message):
    with pytest.raises(ValueError, match=message):
        stats.paired_comparison(a, b)


def test_bootstrap_interval_brackets_the_mean_and_matches_the_resample_extremes():
    values = np.array([0.2, 0.5, 0.9])
    low, high = stats.bootstrap_ci(values, level=0.99)
    means = [np.mean(c) for c in itertools.product(values, repeat=3)]
    assert min(means) <= low <= values.mean() <= high <= max(means)
    assert stats.bootstrap_ci([0.4, 0.4, 0.4]) == (0.4, 0.4)


def holm_by_definition(p):
    """Adjusted p_(k) = max over j <= k of min(1, (m - j + 1) p_(j)), in sorted order."""
    m = len(p)
    order = np.argsort(p)
    out = np.empty(m)
    for k in range(m):
        out[order[k]] = max(min(1.0, (m - j) * p[order[j]]) for j in range(k + 1))
    return out


def test_holm_matches_its_definition_and_bh_matches_scipy():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = rng.uniform(0, 0.2, size=rng.integers(1, 12))
        np.testing.assert_allclose(stats.holm(p), holm_by_definition(p))
        assert (stats.holm(p) >= stats.benjamini_hochberg(p) - 1e-12).all()  # Holm is the stricter
    np.testing.assert_allclose(
        stats.benjamini_hochberg([0.01, 0.04, 0.03]), sps.false_discovery_control([0.01, 0.04, 0.03])
    )
    np.testing.assert_allclose(stats.holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        stats.holm([0.5, 1.5])


def test_sign_test_is_the_binomial_tail():
    # "the direction agrees in 18 of 30" happens by chance about 18 % of the time
    assert stats.sign_test(18, 30) == pytest.approx(sum(math.comb(30, k) for k in range(18, 31)) / 2**30)
    assert stats.sign_test(18, 30) == pytest.approx(0.181, abs=1e-3)
    assert stats.sign_test(0, 5) == 1.0
    with pytest.raises(ValueError):
        stats.sign_test(6, 5)


def test_factorial_2x2_effects_are_one_sample_t_tests_of_the_per_seed_contrasts():
    rng = np.random.default_rng(3)
    a00, a01, a10, a11 = (rng.normal(m, 1.0, size=4) for m in (0.0, 2.0, 0.5, 3.5))
    r = stats.factorial_2x2(a00, a01, a10, a11)
    contrasts = {
        "first": ((a10 - a00) + (a11 - a01)) / 2,
        "second": ((a01 - a00) + (a11 - a10)) / 2,
        "interaction": (a11 - a01) - (a10 - a00),
        "both": a11 - a00,
    }
    for name, per_seed in contrasts.items():
        got = getattr(r, name)
        expected = sps.ttest_1samp(per_seed, 0.0)
        low, high = sps.t.interval(0.95, len(per_seed) - 1, per_seed.mean(), sps.sem(per_seed))
        assert got.mean == pytest.approx(per_seed.mean())
        assert got.p_value == pytest.approx(expected.pvalue)
        assert (got.ci_low, got.ci_high) == pytest.approx((low, high))
    assert r.both.mean == pytest.approx(r.first.mean + r.second.mean)  # the main effects split it


def test_factorial_2x2_without_interaction_and_bad_input():
    base = np.array([1.0, 2.0, 4.0])
    r = stats.factorial_2x2(base, base + 1.0, base + 3.0, base + 4.0)  # additive: no interaction
    assert r.interaction.mean == 0.0 and r.interaction.p_value == 1.0
    assert r.first.mean == 3.0 and r.second.mean == 1.0
    with pytest.raises(ValueError, match="one value per seed each"):
        stats.factorial_2x2(base, base, base[:2], base[:2])
    with pytest.raises(ValueError, match="at least 2 seeds"):
        stats.factorial_2x2([1.0], [1.0], [1.0], [1.0])
