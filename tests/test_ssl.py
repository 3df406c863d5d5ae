"""ssl_book.ssl: each loss against a direct transcription of its paper's formula, invariances,
optimisation, IterNorm and the projector, and input errors."""

import numpy as np
import pytest
import torch

from ssl_book import ssl

LOSSES = {
    "info_nce": lambda a, b: ssl.info_nce_loss(a, b, temperature=0.5),
    "barlow_twins": ssl.barlow_twins_loss,
    "vicreg": ssl.vicreg_loss,
    "vibcreg": ssl.vibcreg_loss,
}


@pytest.fixture
def pair():
    g = torch.Generator().manual_seed(0)
    z1 = torch.randn(16, 6, generator=g, dtype=torch.float64) * torch.linspace(0.3, 2, 6, dtype=torch.float64)
    z2 = z1 + 0.7 * torch.randn(16, 6, generator=g, dtype=torch.float64)
    return z1, z2


# ----------------------------------------------------------------------------- transcriptions
def nt_xent_by_hand(z1: np.ndarray, z2: np.ndarray, tau: float) -> float:
    """SimCLR, eq. (1): l(i, j) = -log exp(sim(z_i, z_j)/tau) / sum_{k != i} exp(sim(z_i, z_k)/tau)."""
    z = np.concatenate([z1, z2])
    n2 = len(z)
    sim = lambda a, b: a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
    total = 0.0
    for i in range(n2):
        j = (i + n2 // 2) % n2
        denominator = sum(np.exp(sim(z[i], z[k]) / tau) for k in range(n2) if k != i)
        total += -np.log(np.exp(sim(z[i], z[j]) / tau) / denominator)
    return total / n2


def barlow_twins_by_hand(z1: np.ndarray, z2: np.ndarray, lambd: float) -> float:
    """Zbontar et al., eqs. (1)-(2): C_ij = sum_b z1_bi z2_bj / (sqrt(sum_b z1_bi^2) sqrt(sum_b z2_bj^2))
    on batch-centred embeddings; L = sum_i (1 - C_ii)^2 + lambda sum_i sum_{j != i} C_ij^2."""
    a, b = z1 - z1.mean(0), z2 - z2.mean(0)
    d = a.shape[1]
    loss = 0.0
    for i in range(d):
        for j in range(d):
            c = (a[:, i] * b[:, j]).sum() / (np.sqrt((a[:, i] ** 2).sum()) * np.sqrt((b[:, j] ** 2).sum()))
            loss += (1 - c) ** 2 if i == j else lambd * c**2
    return loss


def vicreg_by_hand(z1, z2, lam, mu, nu, normalised_cov=False):
    """Bardes et al., eqs. (1)-(6) (VICReg); with normalised_cov, Lee & Aune's VIbCReg term."""
    n, d = z1.shape

    def v(z):
        return np.mean([max(0.0, 1 - np.sqrt(np.var(z[:, j], ddof=1) + 1e-4)) for j in range(d)])

    def c(z):
        zc = z - z.mean(0)
        if normalised_cov:
            zc = zc / np.linalg.norm(zc, axis=0)
            m = zc.T @ zc
            return sum(m[i, j] ** 2 for i in range(d) for j in range(d) if i != j) / d**2
        cov = zc.T @ zc / (n - 1)
        return sum(cov[i, j] ** 2 for i in range(d) for j in range(d) if i != j) / d

    s = np.mean([np.sum((z1[i] - z2[i]) ** 2) for i in range(n)]) / d
    return lam * s + mu * (v(z1) + v(z2)) + nu * (c(z1) + c(z2))


def test_info_nce_matches_simclr_formula(pair):
    z1, z2 = pair
    for tau in (0.1, 0.5, 2.0):
        ours = ssl.info_nce_loss(z1, z2, temperature=tau).item()
        assert ours == pytest.approx(nt_xent_by_hand(z1.numpy(), z2.numpy(), tau), rel=1e-10)


def test_barlow_twins_matches_paper_formula(pair):
    z1, z2 = pair
    expected = barlow_twins_by_hand(z1.numpy(), z2.numpy(), 5e-3)
    assert ssl.barlow_twins_loss(z1, z2, eps=0.0).item() == pytest.approx(expected, rel=1e-10)
    assert ssl.barlow_twins_loss(z1, z2, scale_by_dim=True, eps=0.0).item() == pytest.approx(
        expected / 6, rel=1e-10
    )
    assert ssl.barlow_twins_loss(z1, z2).item() == pytest.approx(expected, rel=1e-3)  # eps = 1e-5 as in BN


@pytest.mark.parametrize("weights", [(25.0, 25.0, 1.0), (1.0, 3.0, 7.0)])
def test_vicreg_and_vibcreg_match_their_formulas(pair, weights):
    z1, z2 = pair
    lam, mu, nu = weights
    assert ssl.vicreg_loss(z1, z2, lam, mu, nu).item() == pytest.approx(
        vicreg_by_hand(z1.numpy(), z2.numpy(), lam, mu, nu), rel=1e-10
    )
    assert ssl.vibcreg_loss(z1, z2, lam, mu, nu).item() == pytest.approx(
        vicreg_by_hand(z1.numpy(), z2.numpy(), lam, mu, nu, normalised_cov=True), rel=1e-10
    )


def test_vicreg_is_invariance_plus_vcreg_of_each_view(pair):
    z1, z2 = pair
    decomposed = 25 * ssl.invariance_term(z1, z2) + ssl.vcreg_loss(z1) + ssl.vcreg_loss(z2)
    assert ssl.vicreg_loss(z1, z2).item() == pytest.approx(decomposed.item(), rel=1e-12)
    assert ssl.vcreg_loss(z1, 2.0, 3.0).item() == pytest.approx(
        2 * ssl.variance_term(z1).item() + 3 * ssl.covariance_term(z1).item(), rel=1e-12
    )


# ----------------------------------------------------------------------------- invariances
def decorrelated_unit_std(n: int = 32, d: int = 5, seed: int = 0) -> torch.Tensor:
    """(n, d) columns centred, orthogonal, each with unbiased std 1."""
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, d, generator=g, dtype=torch.float64)
    q, _ = torch.linalg.qr(a - a.mean(0))
    return q * np.sqrt(n - 1)


def test_variance_term_vanishes_at_unit_std_and_counts_the_deficit():
    z = decorrelated_unit_std()
    assert ssl.variance_term(z).item() == 0.0
    assert ssl.variance_term(3 * z).item() == 0.0
    half = ssl.variance_term(0.5 * z).item()
    assert half == pytest.approx(1 - np.sqrt(0.25 + 1e-4), rel=1e-9)  # every dimension short by ~0.5
    assert ssl.variance_term(torch.ones(8, 3)).item() == pytest.approx(1 - 1e-2, rel=1e-6)  # collapsed


def test_covariance_terms_vanish_for_decorrelated_features():
    z = decorrelated_unit_std()
    assert ssl.covariance_term(z).item() == pytest.approx(0, abs=1e-12)
    assert ssl.normalized_covariance_term(z).item() == pytest.approx(0, abs=1e-12)
    copies = torch.cat([z[:, :1]] * 4, dim=1)  # four copies of one feature
    assert ssl.normalized_covariance_term(copies).item() == pytest.approx(12 / 16, rel=1e-9)
    # the normalised term ignores the scale of each feature, the plain one does not
    mixed = z + 0.5 * z[:, :1]  # correlated with the first feature
    scaled = mixed * torch.tensor([1.0, 10, 0.1, 3, 7], dtype=torch.float64)
    assert ssl.normalized_covariance_term(scaled * 100).item() == pytest.approx(
        ssl.normalized_covariance_term(scaled).item(), rel=1e-9
    )
    assert ssl.covariance_term(scaled * 100).item() == pytest.approx(
        1e8 * ssl.covariance_term(scaled).item(), rel=1e-9
    )


def test_barlow_twins_is_zero_for_identical_decorrelated_views_and_ignores_affine_maps():
    z = decorrelated_unit_std()
    assert ssl.barlow_twins_loss(z, z, eps=0.0).item() == pytest.approx(0, abs=1e-12)
    z2 = z * torch.tensor([2.0, 0.5, 3.0, 1.0, 9.0], dtype=torch.float64) + 4.0
    assert ssl.barlow_twins_loss(z, z2, eps=0.0).item() == pytest.approx(0, abs=1e-12)
    assert ssl.barlow_twins_loss(z, z2).item() < 1e-8  # with batch norm's eps
    c = ssl.cross_correlation(z, -z)
    assert torch.allclose(torch.diagonal(c), -torch.ones(5, dtype=torch.float64), atol=1e-6)
    assert ssl.barlow_twins_loss(z, -z, eps=0.0).item() == pytest.approx(
        5 * 4, rel=1e-10
    )  # (1 - (-1))^2 per dim


def test_info_nce_ignores_the_norm_and_has_a_known_value_for_equal_similarities(pair):
    z1, z2 = pair
    assert ssl.info_nce_loss(3 * z1, 0.2 * z2).item() == pytest.approx(
        ssl.info_nce_loss(z1, z2).item(), rel=1e-10
    )
    same = torch.ones(5, 3)
    assert ssl.info_nce_loss(same, same).item() == pytest.approx(np.log(2 * 5 - 1), rel=1e-6)


def test_invariance_term_is_mse(pair):
    z1, z2 = pair
    assert ssl.invariance_term(z1, z2).item() == pytest.approx(((z1 - z2) ** 2).mean().item(), rel=1e-12)
    assert ssl.invariance_term(z1, z1).item() == 0.0


# ----------------------------------------------------------------------------- optimisation
@pytest.mark.parametrize("name", LOSSES)
def test_a_few_optimisation_steps_lower_each_loss(name):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(64, 10, generator=g)
    x1, x2 = x + 0.3 * torch.randn(64, 10, generator=g), x + 0.3 * torch.randn(64, 10, generator=g)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.ReLU(), torch.nn.Linear(32, 16))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        loss = LOSSES[name](net(x1), net(x2))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.85 * losses[0], f"{name}: {losses[0]:.3f} -> {losses[-1]:.3f}"


# ----------------------------------------------------------------------------- modules
def test_iternorm_whitens_each_group_with_enough_iterations():
    g = torch.Generator().manual_seed(0)
    mixing = torch.eye(16, dtype=torch.float64) + 0.15 * torch.randn(16, 16, generator=g, dtype=torch.float64)
    z = torch.randn(512, 16, generator=g, dtype=torch.float64) @ mixing + 3.0  # correlated, shifted
    assert ssl.normalized_covariance_term(z) > 1e-3
    # (Newton's iteration for the inverse square root is only stable for well-conditioned
    # covariances, which is one reason IterNorm stops after a few iterations.)
    layer = ssl.IterNorm(16, group_size=8, iterations=12).double().train()
    out = layer(z)
    assert out.shape == z.shape
    assert torch.allclose(out.mean(0), torch.zeros(16, dtype=torch.float64), atol=1e-10)
    for group in (out[:, :8], out[:, 8:]):
        cov = group.T @ group / len(group)
        assert torch.allclose(cov, torch.eye(8, dtype=torch.float64), atol=1e-3)


def test_iternorm_with_five_iterations_shrinks_the_eigenvalue_spread():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(512, 8, generator=g, dtype=torch.float64) * torch.logspace(0, 1, 8, dtype=torch.float64)
    out = ssl.IterNorm(8, group_size=8, iterations=5).double()(z)
    spread = lambda a: (lambda e: (e.max() / e.min()).item())(torch.linalg.eigvalsh(torch.cov(a.T)))
    assert spread(out) < spread(z) / 10


def test_iternorm_eval_uses_running_statistics():
    layer = ssl.IterNorm(8, group_size=4, iterations=5, momentum=1.0)
    z = torch.randn(64, 8) * 2 + 1
    train_out = layer.train()(z)
    assert torch.allclose(layer.eval()(z), train_out, atol=1e-5)  # momentum 1: the last batch's stats
    assert layer.eval()(z[:1]).shape == (1, 8)  # a single sample works in eval
    with pytest.raises(ValueError, match="multiple of group_size"):
        ssl.IterNorm(10, group_size=4)
    with pytest.raises(ValueError, match=r"\(batch, 8\)"):
        layer(torch.randn(4, 6))
    with pytest.raises(ValueError, match="at least 2"):
        layer.train()(z[:1])


def test_iternorm_is_differentiable():
    z = torch.randn(32, 8, requires_grad=True)
    ssl.IterNorm(8, group_size=4)(z).pow(2).sum().backward()
    assert z.grad is not None and torch.isfinite(z.grad).all()


def test_projector_layout():
    head = ssl.Projector(128, (64, 32, 16))
    kinds = [type(m).__name__ for m in head]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU", "Linear"]
    assert head(torch.randn(5, 128)).shape == (5, 16)
    whitened = ssl.Projector(128, (64, 64), iternorm=True, group_size=16)
    assert isinstance(whitened[-1], ssl.IterNorm) and whitened[-1].group_size == 16
    assert ssl.Projector(8, (4,))(torch.randn(3, 8)).shape == (3, 4)
    # the thesis's head: 128 -> 4096 -> 4096 -> 4096, about 34M parameters
    n_params = (128 * 4096 + 4096) + 2 * (4096 * 4096 + 4096) + 2 * 2 * 4096
    assert 34e6 < n_params < 34.2e6
    with pytest.raises(ValueError):
        ssl.Projector(128, ())


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("name", LOSSES)
def test_bad_inputs_raise_value_errors(name, pair):
    z1, z2 = pair
    loss = LOSSES[name]
    with pytest.raises(ValueError, match="same shape"):
        loss(z1, z2[:, :4])
    with pytest.raises(ValueError, match="same shape"):
        loss(z1, z2[:8])
    with pytest.raises(ValueError, match="at least 2"):
        loss(z1[:1], z2[:1])
    with pytest.raises(ValueError, match=r"\(batch, dim\)"):
        loss(z1[0], z2[0])


def test_other_errors(pair):
    z1, z2 = pair
    with pytest.raises(ValueError, match="temperature"):
        ssl.info_nce_loss(z1, z2, temperature=0.0)
    with pytest.raises(ValueError, match="lambd"):
        ssl.barlow_twins_loss(z1, z2, lambd=-1.0)
    with pytest.raises(ValueError, match="at least 2"):
        ssl.vcreg_loss(z1[:1])
    with pytest.raises(ValueError, match="floating-point"):
        ssl.variance_term(torch.ones(4, 3, dtype=torch.long))


@pytest.mark.parametrize("n, d", [(8, 64), (64, 8), (16, 16)])
def test_off_diagonal_square_sum_equals_the_explicit_matrix(n, d):
    gen = torch.Generator().manual_seed(n * d)
    a, b = torch.randn(n, d, generator=gen), torch.randn(n, d, generator=gen)
    explicit = (a.T @ b).pow(2).sum() - torch.diagonal(a.T @ b).pow(2).sum()
    torch.testing.assert_close(ssl.off_diagonal_square_sum(a, b), explicit, rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(
        ssl.off_diagonal_square_sum(a),
        (a.T @ a).pow(2).sum() - (a * a).sum(0).pow(2).sum(),
        rtol=1e-4,
        atol=1e-3,
    )
    # gradients agree with the explicit formula too
    a.requires_grad_(True)
    (g_fast,) = torch.autograd.grad(ssl.off_diagonal_square_sum(a, b), a)
    (g_slow,) = torch.autograd.grad((a.T @ b).pow(2).sum() - (a * b).sum(0).pow(2).sum(), a)
    torch.testing.assert_close(g_fast, g_slow, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("iterations", [1, 2, 5])
def test_iternorm_follows_newton_schulz_from_the_identity(iterations):
    """The whitening matrix is Huang et al.'s iteration P_{k+1} = (3 P_k - P_k^3 Sigma_N) / 2
    from P_0 = I, divided by sqrt(tr Sigma), written out here without shortcuts."""
    g = torch.Generator().manual_seed(3)
    z = torch.randn(40, 8, generator=g, dtype=torch.float64) @ torch.randn(
        8, 8, generator=g, dtype=torch.float64
    )
    layer = ssl.IterNorm(8, group_size=8, iterations=iterations).double()
    x = z.T - z.T.mean(1, keepdim=True)  # (c, N)
    sigma = x @ x.T / 40 + layer.eps * torch.eye(8, dtype=torch.float64)
    trace = torch.trace(sigma)
    p = torch.eye(8, dtype=torch.float64)
    for _ in range(iterations):
        p = (3 * p - p @ p @ p @ (sigma / trace)) / 2
    expected = (p / trace.sqrt() @ x).T
    torch.testing.assert_close(layer(z), expected)


@pytest.mark.parametrize("iternorm", [False, True])
def test_projector_pair_equals_two_calls(iternorm):
    """``pair`` shares the linear layers' pass but keeps per-view normalisation: outputs,
    gradients and running statistics equal those of two separate calls."""
    torch.manual_seed(0)
    head = ssl.Projector(12, (32, 32, 32), iternorm=iternorm, group_size=8).double()
    twin = ssl.Projector(12, (32, 32, 32), iternorm=iternorm, group_size=8).double()
    twin.load_state_dict(head.state_dict())
    a, b = torch.randn(10, 12, dtype=torch.float64), torch.randn(10, 12, dtype=torch.float64)
    pa, pb = head.pair(a, b)
    qa, qb = twin(a), twin(b)
    torch.testing.assert_close((pa, pb), (qa, qb))
    (pa.sin().sum() + pb.cos().sum()).backward()
    (qa.sin().sum() + qb.cos().sum()).backward()
    for p, q in zip(head.parameters(), twin.parameters()):
        torch.testing.assert_close(p.grad, q.grad)
    for name, buffer in head.state_dict().items():
        torch.testing.assert_close(buffer, twin.state_dict()[name], msg=name)
    head.eval(), twin.eval()
    torch.testing.assert_close(head.pair(a, b), (twin(a), twin(b)))
    with pytest.raises(ValueError, match="one shape"):
        head.pair(a, b[:5])


def test_iternorm_whitens_in_fp32_under_bf16_autocast():
    """Under autocast the projector's last linear layer hands IterNorm a bf16 batch: IterNorm
    still whitens in fp32 (same result as on the fp32 batch) and keeps fp32 running buffers."""
    torch.manual_seed(0)
    z = torch.randn(64, 16) @ torch.randn(16, 16)
    layer, twin = ssl.IterNorm(16, group_size=8), ssl.IterNorm(16, group_size=8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = layer(z.bfloat16())
    assert out.dtype == torch.float32 and layer.running_mean.dtype == torch.float32
    torch.testing.assert_close(out, twin(z.bfloat16().float()))
    head = ssl.Projector(8, (32, 32), iternorm=True, group_size=16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        p1, p2 = head.pair(torch.randn(10, 8), torch.randn(10, 8))
    assert p1.dtype == p2.dtype == torch.float32 and torch.isfinite(p1).all()
