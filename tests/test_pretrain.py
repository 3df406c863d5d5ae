"""ssl_book.pretrain: the encoder and the self-supervised pretraining loop."""

import numpy as np
import pytest
import torch

from ssl_book.augment import gaussian_noise
from ssl_book.data import make_cbf
from ssl_book.pretrain import ConvEncoder, pretrain
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
    losses = pretrain(encoder, projector, x, loss, augmentation="gauss", steps=steps, batch_size=24,
                      lr=3e-3, seed=seed, **kwargs)
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
    pretrain(encoder, projector, x, invariance_term, augmentation=lambda v, g: gaussian_noise(v, g, 0.3),
             steps=60, batch_size=24, lr=1e-2, augment_both=False)
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
