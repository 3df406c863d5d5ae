"""ssl_book.transformer against PyTorch's attention, and the properties of its pieces."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ssl_book.transformer import (
    EncoderLayer,
    LearnedPositionalEncoding,
    MultiHeadAttention,
    SinusoidalPositionalEncoding,
    TransformerEncoder,
    attention_weights,
    causal_mask,
    make_norm,
    scaled_dot_product_attention,
    sinusoidal_positions,
)


@pytest.fixture
def qkv():
    g = torch.Generator().manual_seed(0)
    q = torch.randn(2, 3, 5, 8, generator=g)
    k = torch.randn(2, 3, 7, 8, generator=g)
    v = torch.randn(2, 3, 7, 4, generator=g)
    return q, k, v


def test_attention_equals_torch_without_mask(qkv):
    q, k, v = qkv
    torch.testing.assert_close(
        scaled_dot_product_attention(q, k, v), F.scaled_dot_product_attention(q, k, v), atol=1e-5, rtol=0
    )


def test_attention_equals_torch_with_boolean_mask(qkv):
    q, k, v = qkv
    mask = torch.rand(2, 1, 5, 7, generator=torch.Generator().manual_seed(1)) > 0.4
    mask[..., 0] = True  # every query may attend somewhere
    ours = scaled_dot_product_attention(q, k, v, mask)
    torch.testing.assert_close(
        ours, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), atol=1e-5, rtol=0
    )
    weights = attention_weights(q, k, mask)
    assert torch.all(weights[~mask.expand_as(weights)] == 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 5))


def test_attention_equals_torch_with_float_and_causal_masks(qkv):
    q, k, v = qkv
    additive = torch.randn(5, 7, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(
        scaled_dot_product_attention(q, k, v, additive),
        F.scaled_dot_product_attention(q, k, v, attn_mask=additive),
        atol=1e-5,
        rtol=0,
    )
    kk, vv = k[..., :5, :], v[..., :5, :]
    torch.testing.assert_close(
        scaled_dot_product_attention(q, kk, vv, causal_mask(5)),
        F.scaled_dot_product_attention(q, kk, vv, is_causal=True),
        atol=1e-5,
        rtol=0,
    )


def test_causal_attention_ignores_the_future(qkv):
    q, k, v = (t[..., :5, :] for t in qkv)
    out = scaled_dot_product_attention(q, k, v, causal_mask(5))
    v2 = v.clone()
    v2[..., 3:, :] += 10.0  # change only the future of positions 0..2
    k2 = k.clone()
    k2[..., 3:, :] -= 5.0
    torch.testing.assert_close(
        scaled_dot_product_attention(q, k2, v2, causal_mask(5))[..., :3, :], out[..., :3, :]
    )


def test_attention_rejects_bad_input(qkv):
    q, k, v = qkv
    with pytest.raises(ValueError, match="same size d"):
        scaled_dot_product_attention(q, k[..., :4], v)
    with pytest.raises(ValueError, match="same length"):
        scaled_dot_product_attention(q, k, v[..., :6, :])
    with pytest.raises(ValueError, match="does not broadcast"):
        scaled_dot_product_attention(q, k, v, torch.ones(5, 6, dtype=torch.bool))
    with pytest.raises(ValueError, match="no key"):
        scaled_dot_product_attention(q, k, v, torch.zeros(5, 7, dtype=torch.bool))
    with pytest.raises(ValueError, match="boolean"):
        scaled_dot_product_attention(q, k, v, torch.ones(5, 7, dtype=torch.long))
    with pytest.raises(ValueError, match="positive"):
        causal_mask(0)


def test_multi_head_attention_equals_torch():
    torch.manual_seed(0)
    reference = nn.MultiheadAttention(16, 4, batch_first=True)
    ours = MultiHeadAttention(16, 4).load_from_torch(reference)
    x = torch.randn(3, 6, 16)
    mask = torch.rand(6, 6) > 0.3
    mask.fill_diagonal_(True)
    # torch's attn_mask: True = blocked
    expected, expected_weights = reference(x, x, x, attn_mask=~mask, average_attn_weights=False)
    out, weights = ours(x, mask=mask, return_weights=True)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(weights, expected_weights, atol=1e-5, rtol=0)
    context = torch.randn(3, 9, 16)
    torch.testing.assert_close(
        ours(x, context), reference(x, context, context, need_weights=False)[0], atol=1e-5, rtol=0
    )


def test_multi_head_attention_shapes_and_errors():
    mha = MultiHeadAttention(12, 2, head_dim=5)
    assert mha(torch.randn(2, 4, 12)).shape == (2, 4, 12)
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match="batch, length, 12"):
        mha(torch.randn(4, 12))
    with pytest.raises(ValueError, match="context"):
        mha(torch.randn(2, 4, 12), torch.randn(3, 4, 12))
    with pytest.raises(ValueError, match="same dim"):
        mha.load_from_torch(nn.MultiheadAttention(12, 2, batch_first=True))


def test_sinusoidal_positions_properties():
    pe = sinusoidal_positions(50, 16)
    assert pe.shape == (50, 16) and pe.abs().max() <= 1
    torch.testing.assert_close(pe[0], torch.tensor([0.0, 1.0] * 8))
    torch.testing.assert_close((pe[:, 0::2] ** 2 + pe[:, 1::2] ** 2), torch.ones(50, 8))
    gram = pe @ pe.T  # depends on p - q only
    for shift in (1, 5, 20):
        diagonal = torch.diagonal(gram, offset=shift)
        torch.testing.assert_close(diagonal, diagonal[0].expand_as(diagonal), atol=1e-4, rtol=0)
    # PE[p + k] = PE[p] @ R_k, with R_k block-diagonal: one 2x2 rotation by angle w_i k per frequency
    k, frequencies = 3, 10000.0 ** (-torch.arange(0, 16, 2) / 16)
    rotation = torch.zeros(16, 16)
    for i, angle in enumerate(frequencies * k):
        c, s = torch.cos(angle), torch.sin(angle)
        rotation[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = torch.stack(
            [torch.stack([c, -s]), torch.stack([s, c])]
        )
    torch.testing.assert_close(pe[:-k] @ rotation, pe[k:], atol=1e-4, rtol=0)
    assert len({tuple(row.round(decimals=4).tolist()) for row in pe}) == 50  # all positions distinct
    with pytest.raises(ValueError, match="even"):
        sinusoidal_positions(10, 7)


def test_positional_encoding_modules():
    x = torch.zeros(2, 5, 8)
    torch.testing.assert_close(SinusoidalPositionalEncoding(8, max_len=10)(x)[1], sinusoidal_positions(5, 8))
    learned = LearnedPositionalEncoding(8, max_len=10)
    assert learned(x).shape == (2, 5, 8) and learned.table.requires_grad
    with pytest.raises(ValueError, match="exceeds max_len"):
        learned(torch.zeros(1, 11, 8))
    with pytest.raises(ValueError, match="batch, length, 8"):
        learned(torch.zeros(1, 5, 4))


def test_encoder_is_permutation_equivariant_without_positions_and_not_with_them():
    torch.manual_seed(0)
    encoder = TransformerEncoder(16, depth=2, heads=2, mlp_ratio=2).eval()
    x = torch.randn(2, 7, 16)
    perm = torch.randperm(7)
    torch.testing.assert_close(encoder(x[:, perm]), encoder(x)[:, perm], atol=1e-5, rtol=0)
    positions = SinusoidalPositionalEncoding(16)
    assert not torch.allclose(encoder(positions(x[:, perm])), encoder(positions(x))[:, perm], atol=1e-3)


def test_encoder_layer_is_pre_norm_residual():
    torch.manual_seed(0)
    layer = EncoderLayer(8, heads=2, mlp_ratio=2, norm="rms").eval()
    x = torch.randn(2, 5, 8)
    by_hand = x + layer.attention(layer.norm_attention(x))
    by_hand = by_hand + layer.mlp(layer.norm_mlp(by_hand))
    torch.testing.assert_close(layer(x), by_hand)


def test_rms_norm_formula():
    norm = make_norm("rms", 6)
    x = torch.randn(4, 6)
    torch.testing.assert_close(norm(x), x / torch.sqrt((x**2).mean(-1, keepdim=True) + 1e-6))
    with pytest.raises(ValueError, match="norm must be"):
        make_norm("batch", 6)


def test_encoder_masks_and_weights_and_errors():
    torch.manual_seed(0)
    encoder = TransformerEncoder(8, depth=3, heads=2, dropout=0.1)
    out, weights = encoder(torch.randn(2, 4, 8), mask=causal_mask(4), return_weights=True)
    assert out.shape == (2, 4, 8) and len(weights) == 3 and weights[0].shape == (2, 2, 4, 4)
    assert torch.all(weights[0].triu(1) == 0)
    with pytest.raises(ValueError, match="depth"):
        TransformerEncoder(8, depth=0, heads=2)
    with pytest.raises(ValueError, match="dropout"):
        TransformerEncoder(8, depth=1, heads=2, dropout=1.0)
    with pytest.raises(ValueError, match="batch, length, 8"):
        encoder(torch.randn(2, 4, 6))


def test_encoder_fused_path_equals_the_explicit_one():
    """Without weights the encoder runs PyTorch's fused attention kernel; with them it forms the
    weights explicitly. Outputs and gradients agree."""
    torch.manual_seed(0)
    encoder = TransformerEncoder(16, depth=2, heads=2, norm="rms")
    x = torch.randn(3, 5, 16, requires_grad=True)
    fused = encoder(x, mask=causal_mask(5))
    explicit, _ = encoder(x, mask=causal_mask(5), return_weights=True)
    torch.testing.assert_close(fused, explicit, atol=1e-5, rtol=0)
    (grad_fused,) = torch.autograd.grad(fused.square().sum(), x)
    (grad_explicit,) = torch.autograd.grad(explicit.square().sum(), x)
    torch.testing.assert_close(grad_fused, grad_explicit, atol=1e-4, rtol=0)


def test_encoder_learns_a_copy_task():
    """A few steps lower the loss of predicting each token back from a position-encoded input."""
    torch.manual_seed(0)
    embed, positions = nn.Embedding(5, 16), LearnedPositionalEncoding(16, 6)
    encoder, head = TransformerEncoder(16, depth=1, heads=2), nn.Linear(16, 5)
    modules = nn.ModuleList([embed, positions, encoder, head])
    optimizer = torch.optim.Adam(modules.parameters(), lr=1e-2)
    tokens = torch.randint(0, 5, (64, 6))
    losses = []
    for _ in range(30):
        logits = head(encoder(positions(embed(tokens))))
        loss = F.cross_entropy(logits.flatten(0, 1), tokens.flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
