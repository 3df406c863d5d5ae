"""ssl_book.vq against brute force, hand-computed updates and the papers' formulas."""

import numpy as np
import pytest
import scipy.stats
import torch
import torch.nn.functional as F

from ssl_book.vq import VectorQuantizer, kmeans, orthogonal_loss, squared_distances


def make_vq(num_codes=6, dim=3, **options) -> VectorQuantizer:
    torch.manual_seed(0)
    return VectorQuantizer(num_codes, dim, **options)


@pytest.mark.parametrize("spatial", [(), (7,), (3, 4)])
def test_returns_the_nearest_code(spatial):
    vq = make_vq().eval()
    z = torch.randn(5, 3, *spatial)
    out = vq(z)
    rows = z.movedim(1, -1).reshape(-1, 3)
    expected = torch.cdist(rows, vq.codebook).argmin(1)
    assert out.indices.shape == (5, *spatial) and out.indices.dtype == torch.long
    assert torch.equal(out.indices.reshape(-1), expected)
    assert out.z_q.shape == z.shape
    assert torch.allclose(out.z_q, vq.lookup(out.indices), atol=1e-6)
    assert torch.equal(vq.nearest(z), out.indices)


def test_squared_distances_match_cdist():
    a, b = torch.randn(10, 4, dtype=torch.float64), torch.randn(7, 4, dtype=torch.float64)
    assert torch.allclose(squared_distances(a, b), torch.cdist(a, b) ** 2, atol=1e-10)


@pytest.mark.parametrize("ema", [True, False])
def test_straight_through_gradient_is_the_identity(ema):
    vq = make_vq(ema=ema).train()
    z = torch.randn(4, 3, 5, requires_grad=True)
    out = vq(z)
    upstream = torch.randn_like(z)
    (grad,) = torch.autograd.grad(out.z_q, z, grad_outputs=upstream)
    assert torch.equal(grad, upstream)


def test_gradients_of_each_loss_term_reach_what_the_paper_says():
    vq = make_vq(ema=False, commitment_weight=0.25).train()
    z = torch.randn(4, 3, 5, requires_grad=True)
    out = vq(z)
    e = vq.codebook[out.indices].movedim(-1, 1).detach()
    # the commitment term moves only the encoder, towards its code: d/dz mean((z - e)^2)
    (g_z,) = torch.autograd.grad(out.commitment_loss, z, retain_graph=True)
    assert torch.allclose(g_z, 2 * (z - e) / z.numel(), atol=1e-7)
    assert (
        torch.autograd.grad(out.commitment_loss, vq.codebook, retain_graph=True, allow_unused=True)[0] is None
    )
    # the codebook term moves only the codes
    assert torch.autograd.grad(out.codebook_loss, z, retain_graph=True, allow_unused=True)[0] is None
    (g_e,) = torch.autograd.grad(out.codebook_loss, vq.codebook, retain_graph=True)
    assert g_e.abs().sum() > 0
    # the output carries no gradient to the codebook
    assert torch.autograd.grad(out.z_q.sum(), vq.codebook, allow_unused=True)[0] is None
    assert torch.allclose(out.loss, 0.25 * out.commitment_loss + out.codebook_loss)
    assert torch.allclose(out.commitment_loss, ((z - e) ** 2).mean())
    assert torch.allclose(out.codebook_loss, out.commitment_loss)  # same value, different gradients


def test_ema_update_matches_its_formula():
    decay, eps = 0.8, 1e-5
    vq = make_vq(num_codes=4, dim=2, decay=decay, eps=eps).train()
    before = vq.codebook.clone().numpy().astype(np.float64)
    size0, avg0 = vq.cluster_size.clone().numpy(), vq.embed_avg.clone().numpy().astype(np.float64)
    z = torch.randn(10, 2)
    out = vq(z)
    # by hand
    rows = z.numpy().astype(np.float64)
    assign = ((rows[:, None, :] - before[None]) ** 2).sum(-1).argmin(1)
    assert np.array_equal(assign, out.indices.numpy())
    counts = np.bincount(assign, minlength=4)
    sums = np.stack([rows[assign == k].sum(0) for k in range(4)])
    size = decay * size0 + (1 - decay) * counts
    avg = decay * avg0 + (1 - decay) * sums
    smoothed = (size + eps) / (size.sum() + 4 * eps) * size.sum()
    np.testing.assert_allclose(vq.cluster_size.numpy(), size, rtol=1e-5)
    np.testing.assert_allclose(vq.embed_avg.numpy(), avg, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(vq.codebook.numpy(), avg / smoothed[:, None], rtol=1e-4)
    # the output used the codebook from before the update
    np.testing.assert_allclose(out.z_q.detach().numpy(), before[assign], rtol=1e-6)


def test_no_codebook_update_in_eval_mode():
    vq = make_vq(kmeans_init=True, dead_code_threshold=1.0).eval()
    state = {k: v.clone() for k, v in vq.state_dict().items()}
    vq(torch.randn(8, 3, 4))
    assert all(torch.equal(state[k], v) for k, v in vq.state_dict().items())


def test_many_ema_steps_converge_to_the_cluster_means():
    vq = make_vq(num_codes=2, dim=1, decay=0.5).train()
    vq.embed.copy_(torch.tensor([[-1.0], [1.0]]))
    vq.embed_avg.copy_(vq.embed)
    data = torch.tensor([[-3.0], [-2.0], [2.0], [6.0]]).reshape(4, 1)
    for _ in range(60):
        vq(data)
    assert torch.allclose(vq.codebook.squeeze(), torch.tensor([-2.5, 4.0]), atol=1e-3)


def test_perplexity_is_exp_entropy_of_code_usage():
    vq = make_vq(num_codes=8, dim=2).eval()
    out = vq(torch.randn(50, 2, 6))
    usage = np.bincount(out.indices.reshape(-1).numpy(), minlength=8) / out.indices.numel()
    assert out.perplexity.item() == pytest.approx(np.exp(scipy.stats.entropy(usage)), rel=1e-9)


@pytest.mark.parametrize("ema", [True, False])
def test_dead_code_revival_replaces_unused_codes(ema):
    vq = make_vq(num_codes=5, dim=2, ema=ema, dead_code_threshold=0.5).train()
    with torch.no_grad():
        vq.embed.copy_(torch.tensor([[0.0, 0.0], [0.1, 0.0], [100.0, 100.0], [-100.0, 50.0], [80.0, -90.0]]))
        if ema:
            vq.embed_avg.copy_(vq.embed)
    z = 0.3 * torch.randn(16, 2, 3)
    vq(z)
    rows = z.movedim(1, -1).reshape(-1, 2)
    for k in (2, 3, 4):  # far away, so never used: now equal to one of the batch's vectors
        assert torch.isclose(rows, vq.codebook[k]).all(1).any(), k
        assert vq.cluster_size[k] == pytest.approx(0.5)
    if ema:  # consistent EMA statistics for the revived codes
        assert torch.allclose(vq.embed_avg[2:] / 0.5, vq.codebook[2:])


def test_orthogonal_loss_matches_its_formula_and_vanishes_for_orthonormal_codes():
    codes = torch.randn(5, 8, dtype=torch.float64)
    normed = codes / codes.norm(dim=1, keepdim=True)
    by_hand = sum((normed[i] @ normed[j] - float(i == j)) ** 2 for i in range(5) for j in range(5)) / 25
    assert orthogonal_loss(codes).item() == pytest.approx(by_hand.item(), rel=1e-12)
    q, _ = torch.linalg.qr(torch.randn(8, 8, dtype=torch.float64))
    assert orthogonal_loss(3.0 * q[:5]).item() == pytest.approx(0.0, abs=1e-12)
    assert orthogonal_loss(torch.randn(12, 8)).item() > 0  # more codes than dimensions


def test_orthogonal_weight_enters_the_loss_and_lowers_code_similarity():
    vq = make_vq(num_codes=4, dim=8, ema=False, commitment_weight=0.0, orthogonal_weight=1.0).train()
    with torch.no_grad():
        vq.embed.copy_(torch.randn(4, 8) + 3.0)  # strongly correlated codes
    optimizer = torch.optim.Adam(vq.parameters(), lr=0.1)
    z = torch.randn(6, 8)
    first = None
    for _ in range(100):
        out = vq(z)
        assert torch.allclose(out.loss, out.codebook_loss + out.orthogonal_loss)
        first = out.orthogonal_loss.item() if first is None else first
        optimizer.zero_grad()
        out.orthogonal_loss.backward()
        optimizer.step()
    assert orthogonal_loss(vq.codebook).item() < 0.1 * first


def test_kmeans_finds_separated_clusters_and_kmeans_init_uses_them():
    torch.manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    rows = torch.cat([c + 0.1 * torch.randn(40, 2) for c in centres])
    found, counts = kmeans(rows, 3, iterations=10, generator=torch.Generator().manual_seed(3))
    order = torch.cdist(centres, found).argmin(1)
    assert torch.allclose(found[order], centres, atol=0.1)
    assert sorted(counts.tolist()) == [40.0, 40.0, 40.0]

    vq = make_vq(num_codes=3, dim=2, kmeans_init=True).train()
    vq(rows.T.reshape(1, 2, -1))
    assert torch.cdist(centres, vq.codebook).min(1).values.max() < 0.2


def test_sample_indices_follows_the_softmax_of_negative_distances():
    vq = make_vq(num_codes=3, dim=2).eval()
    with torch.no_grad():
        vq.embed.copy_(torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]]))
    z = torch.zeros(1, 2, 20000)
    gen = torch.Generator().manual_seed(0)
    drawn = vq.sample_indices(z, temperature=2.0, generator=gen)
    assert drawn.shape == (1, 20000)
    probs = torch.softmax(-torch.tensor([0.0, 1.0, 4.0]) / 2.0, 0).numpy()
    freq = np.bincount(drawn.reshape(-1).numpy(), minlength=3) / 20000
    np.testing.assert_allclose(freq, probs, atol=0.015)
    again = vq.sample_indices(z, temperature=2.0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(drawn, again)
    z2 = torch.randn(4, 2, 6)
    assert torch.equal(vq.sample_indices(z2, temperature=0.0), vq.nearest(z2))
    assert torch.equal(vq.sample_indices(z2, temperature=1e-6), vq.nearest(z2))


def test_codebook_loss_training_moves_codes_to_data():
    vq = make_vq(num_codes=2, dim=1, ema=False).train()
    with torch.no_grad():
        vq.embed.copy_(torch.tensor([[-1.0], [1.0]]))
    data = torch.tensor([[-3.0, -2.0, 2.0, 6.0]]).reshape(1, 1, 4)
    optimizer = torch.optim.SGD(vq.parameters(), lr=0.5)
    for _ in range(200):
        loss = vq(data).codebook_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert torch.allclose(vq.codebook.squeeze(), torch.tensor([-2.5, 4.0]), atol=1e-3)


@pytest.mark.parametrize(
    "options",
    [
        dict(num_codes=0),
        dict(dim=0),
        dict(decay=1.0),
        dict(decay=-0.1),
        dict(eps=0.0),
        dict(commitment_weight=-1.0),
        dict(dead_code_threshold=-1.0),
        dict(orthogonal_weight=-1.0),
        dict(orthogonal_weight=1.0, ema=True),
    ],
)
def test_invalid_settings_raise(options):
    with pytest.raises(ValueError):
        VectorQuantizer(**{"num_codes": 4, "dim": 3, **options})


def test_bad_inputs_raise():
    vq = make_vq(num_codes=4, dim=3)
    for bad in (
        torch.randn(3),
        torch.randn(2, 4, 5),
        torch.ones(2, 3, 5, dtype=torch.long),
        np.zeros((2, 3)),
    ):
        with pytest.raises(ValueError):
            vq(bad)
    with pytest.raises(ValueError):
        vq.lookup(torch.tensor([[0, 4]]))
    with pytest.raises(ValueError):
        vq.lookup(torch.tensor([[0.0, 1.0]]))
    with pytest.raises(ValueError):
        vq.sample_indices(torch.randn(2, 3, 4), temperature=-1.0)
    with pytest.raises(ValueError):
        orthogonal_loss(torch.randn(3))
    with pytest.raises(ValueError):
        kmeans(torch.randn(0, 2), 3)


def test_losses_match_functional_mse():
    vq = make_vq(ema=False, commitment_weight=0.5).eval()
    z = torch.randn(3, 3, 4)
    out = vq(z)
    assert torch.allclose(out.commitment_loss, F.mse_loss(z, out.z_q))


@pytest.mark.parametrize("scale", [1.0, 24.0])
def test_codes_and_targets_do_not_change_under_bf16_autocast(scale):
    """The same fp32 latents get the same codes, the same stochastic stage-2 targets and the
    same EMA codebook with and without CPU bf16 autocast (also for latents of large norm)."""
    torch.manual_seed(0)
    vq = VectorQuantizer(32, 64).train()
    z = torch.randn(16, 64, 5, 9) * scale / 8  # per-position norm about `scale`
    vq(z)  # k-means initialisation, in fp32
    twin = VectorQuantizer(32, 64).train()
    twin.load_state_dict(vq.state_dict())
    z2 = z + 0.3 * torch.randn_like(z) * scale / 8
    plain = vq(z2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = twin(z2)
        drawn_mixed = twin.sample_indices(z2, 1.0, torch.Generator().manual_seed(1))
        nearest_mixed = twin.nearest(z2)
    assert torch.equal(plain.indices, mixed.indices)
    assert torch.equal(vq.embed, twin.embed) and torch.equal(vq.cluster_size, twin.cluster_size)
    assert torch.equal(vq.sample_indices(z2, 1.0, torch.Generator().manual_seed(1)), drawn_mixed)
    assert torch.equal(vq.nearest(z2), nearest_mixed)


def test_exact_ties_pick_the_same_code_under_bf16_autocast():
    vq = VectorQuantizer(4, 2, ema=False).eval()
    with torch.no_grad():
        vq.embed.copy_(torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]]))
    vq.initialized.fill_(True)
    z = torch.zeros(1, 2, 3)  # equidistant from all four codes
    z[0, :, 1] = torch.tensor([0.5, 0.5])  # tie between codes 0 and 2
    plain = vq.nearest(z)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = vq.nearest(z)
    assert torch.equal(plain, mixed) and plain.tolist() == [[0, 0, 0]]
