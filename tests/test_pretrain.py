"""ssl_book.encoders and ssl_book.pretrain: the encoder, its BatchNorm statistics, and the
self-supervised pretraining loop."""

import numpy as np
import pytest
import torch

from ssl_book.augment import gaussian_noise
from ssl_book.data import make_cbf
from ssl_book.encoders import ConvEncoder, set_batchnorm_statistics
from ssl_book.pretrain import pretrain
from ssl_book.ssl import Projector, invariance_term, vicreg_loss


def test_conv_encoder_shapes_and_errors():
    encoder = ConvEncoder((8, 16), (5, 3))
    assert encoder(torch.randn(4, 50)).shape == (4, 16)
    assert encoder(torch.randn(4, 1, 50)).shape == (4, 16)
    assert ConvEncoder((8,), (3,), in_channels=2)(torch.randn(3, 2, 20)).shape == (3, 8)
    with pytest.raises(ValueError, match="one kernel size per width"):
        ConvEncoder((8, 16), (5,))
    with pytest.raises(ValueError, match=r"expects \(batch, 1, length\)"):
        encoder(torch.randn(4, 3, 50))


def run(seed: int = 0, loss=vicreg_loss, steps: int = 15, **kwargs):
    x, _ = make_cbf(16, seed=0)
    torch.manual_seed(0)
    encoder, projector = ConvEncoder((8, 16), (5, 3)), Projector(16, (32, 32))
    losses = pretrain(
        encoder,
        projector,
        x,
        loss,
        augmentation="gauss",
        steps=steps,
        batch_size=24,
        lr=3e-3,
        seed=seed,
        **kwargs,
    )
    return losses, encoder, projector


def test_pretraining_lowers_the_loss_and_is_reproducible():
    losses, encoder, projector = run()
    assert len(losses) == 15 and np.mean(losses[-3:]) < np.mean(losses[:3])
    assert not encoder.training and not projector.training
    assert run()[0] == losses, "same seed, same run"
    assert run(seed=1)[0] != losses


def test_invariance_only_pretraining_shrinks_the_embeddings():
    x, _ = make_cbf(16, seed=0)
    torch.manual_seed(0)
    encoder, projector = ConvEncoder((8, 16), (5, 3)), torch.nn.Linear(16, 8)
    with torch.no_grad():
        before = projector(encoder.eval()(torch.tensor(x))).std(0).mean()
    pretrain(
        encoder,
        projector,
        x,
        invariance_term,
        augmentation=lambda v, g: gaussian_noise(v, g, 0.3),
        steps=60,
        batch_size=24,
        lr=1e-2,
        augment_both=False,
    )
    with torch.no_grad():
        after = projector(encoder(torch.tensor(x))).std(0).mean()
    assert after < 0.2 * before


def test_bad_arguments():
    x, _ = make_cbf(4, seed=0)
    encoder, projector = ConvEncoder((4,), (3,)), Projector(4, (8,))
    with pytest.raises(ValueError, match="batch_size >= 2"):
        pretrain(encoder, projector, x, vicreg_loss, augmentation="gauss", steps=1, batch_size=1)
    with pytest.raises(ValueError, match="set name or a callable"):
        pretrain(encoder, projector, x, vicreg_loss, augmentation=3, steps=1)
    with pytest.raises(ValueError, match="valid sets"):
        pretrain(encoder, projector, x, vicreg_loss, augmentation="rotate", steps=1)
    with pytest.raises(ValueError, match=r"shape \(n >= 2, length\)"):
        pretrain(encoder, projector, x[:1], vicreg_loss, augmentation="gauss", steps=1)


def test_set_batchnorm_statistics_matches_the_data():
    torch.manual_seed(0)
    encoder = ConvEncoder((4,), (3,))
    x = 3.0 + 2.0 * torch.randn(40, 30)
    norm = encoder.body[0][2]
    assert torch.equal(norm.running_mean, torch.zeros(4))  # fresh: BN is the identity
    weights = [p.clone() for p in encoder.parameters()]
    set_batchnorm_statistics(encoder, x)  # one batch: exact
    assert not encoder.training
    assert all(torch.equal(a, b) for a, b in zip(weights, encoder.parameters()))
    with torch.no_grad():
        pre = encoder.body[0][1](encoder.body[0][0](x.unsqueeze(1)))  # (40, 4, 30) conv output
    assert torch.allclose(norm.running_mean, pre.mean((0, 2)), atol=1e-4)
    assert torch.allclose(norm.running_var, pre.var((0, 2)), rtol=1e-3)
    assert norm.momentum == 0.1  # restored


def test_set_batchnorm_statistics_refuses_bad_input():
    with pytest.raises(ValueError, match="no BatchNorm"):
        set_batchnorm_statistics(torch.nn.Linear(3, 2), torch.randn(5, 3))
    with pytest.raises(ValueError, match="at least 2 inputs"):
        set_batchnorm_statistics(ConvEncoder((4,), (3,)), torch.randn(1, 30))
