"""ssl_book.info against SciPy, scikit-learn and closed forms."""

import numpy as np
import pytest
import scipy.stats
import torch
from sklearn.metrics import mutual_info_score

from ssl_book import info

rng = np.random.default_rng(0)
RANDOM_PS = [rng.dirichlet(np.full(k, alpha)) for k in (2, 5, 17, 100) for alpha in (0.1, 1.0, 10.0)]


@pytest.mark.parametrize("p", RANDOM_PS)
@pytest.mark.parametrize("base", [None, 2, 10])
def test_entropy_matches_scipy(p, base):
    assert info.entropy(p, base=base) == pytest.approx(scipy.stats.entropy(p, base=base), abs=1e-10)


@pytest.mark.parametrize("p", RANDOM_PS)
def test_kl_and_cross_entropy_match_scipy(p):
    q = rng.dirichlet(np.ones(len(p)))
    assert info.kl_divergence(p, q) == pytest.approx(scipy.stats.entropy(p, q), abs=1e-10)
    assert info.kl_divergence(p, q, base=2) == pytest.approx(scipy.stats.entropy(p, q, base=2), abs=1e-10)
    # H(p, q) = H(p) + KL(p || q)
    expected = scipy.stats.entropy(p) + scipy.stats.entropy(p, q)
    assert info.cross_entropy(p, q) == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("seed", range(10))
def test_mutual_information_matches_sklearn(seed):
    r = np.random.default_rng(seed)
    a = r.integers(0, r.integers(2, 8), size=300)
    b = (a + r.integers(0, 3, size=300)) % 6  # dependent on a
    table = np.zeros((a.max() + 1, 6))
    np.add.at(table, (a, b), 1)
    assert info.mutual_information(table / table.sum()) == pytest.approx(mutual_info_score(a, b), abs=1e-10)


def test_closed_forms():
    assert info.entropy([0.5, 0.5], base=2) == pytest.approx(1.0)
    assert info.entropy([1.0, 0.0, 0.0]) == 0.0  # 0 log 0 = 0
    assert info.perplexity(np.full(32, 1 / 32)) == pytest.approx(32.0)
    assert info.perplexity([1.0, 0.0]) == pytest.approx(1.0)
    p = rng.dirichlet(np.ones(6))
    assert info.kl_divergence(p, p) == pytest.approx(0.0, abs=1e-15)
    assert info.mutual_information(np.outer(p, p)) == pytest.approx(0.0, abs=1e-12)
    assert info.mutual_information(np.diag(p)) == pytest.approx(info.entropy(p), abs=1e-12)
    assert info.kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf  # support mismatch


def test_perplexity_is_exp_entropy_in_any_base():
    p = rng.dirichlet(np.ones(9))
    assert info.perplexity(p) == pytest.approx(np.exp(info.entropy(p)))
    assert info.perplexity(p) == pytest.approx(2 ** info.entropy(p, base=2))


def test_batched_rows():
    ps = rng.dirichlet(np.ones(4), size=(3, 5))
    result = info.entropy(ps)
    assert result.shape == (3, 5)
    assert result[2, 1] == pytest.approx(scipy.stats.entropy(ps[2, 1]), abs=1e-10)


def test_torch_input_gives_tensor_with_gradients():
    logits = torch.randn(4, 6, requires_grad=True)
    p = logits.softmax(-1)
    h = info.entropy(p)
    assert isinstance(h, torch.Tensor) and h.shape == (4,)
    h.sum().backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()
    np.testing.assert_allclose(
        h.detach().numpy(), scipy.stats.entropy(p.detach().numpy(), axis=-1), rtol=1e-5
    )


def test_code_usage():
    usage = info.code_usage(np.array([[0, 1], [1, 3]]), num_codes=4)
    np.testing.assert_allclose(usage, [0.25, 0.5, 0.0, 0.25])
    t_usage = info.code_usage(torch.tensor([2, 2, 2]), num_codes=3)
    assert isinstance(t_usage, torch.Tensor) and info.perplexity(t_usage).item() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: info.entropy([0.5, 0.6]), "sum to 1"),
        (lambda: info.entropy([1.2, -0.2]), "negative"),
        (lambda: info.entropy([np.nan, 1.0]), "NaN"),
        (lambda: info.entropy([]), "at least one entry"),
        (lambda: info.entropy(["a", "b"]), "numeric"),
        (lambda: info.entropy([0.5, 0.5], base=1), "base"),
        (lambda: info.kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5]), "same shape"),
        (lambda: info.cross_entropy([0.5, 0.5], [0.7, 0.7]), "q must sum to 1"),
        (lambda: info.mutual_information([0.5, 0.5]), "2-D"),
        (lambda: info.mutual_information([[0.5, 0.5], [0.5, 0.5]]), "sum to 1"),
        (lambda: info.code_usage([0, 5], num_codes=4), r"\[0, 4\)"),
        (lambda: info.code_usage([0.5], num_codes=4), "integers"),
        (lambda: info.code_usage([], num_codes=4), "empty"),
    ],
)
def test_invalid_input_is_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_float32_tolerance():
    p32 = torch.softmax(torch.randn(1000), 0)  # sums to 1 only within float32 rounding
    assert torch.isfinite(info.entropy(p32))
