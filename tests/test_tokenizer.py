"""ssl_book.tokenizer: the thesis's token counts, the STFT path, tokens round trips, training."""

import pytest
import torch

from ssl_book.signal import stft
from ssl_book.tokenizer import STFTVQVAE, downsample_rate, evaluate_tokenizer, train_tokenizer

# length -> tokens (5 x W'), the table of the NC-VQVAE reference (n_fft 8, width 8)
THESIS_TOKENS = {
    140: 40,
    96: 60,
    500: 75,
    1024: 40,
    512: 40,
    70: 45,
    65: 40,
    398: 60,
    128: 40,
    945: 70,
    152: 45,
}


def small(length: int, **options) -> STFTVQVAE:
    torch.manual_seed(0)
    return STFTVQVAE(length, dim=8, num_codes=6, n_resblocks=1, **options)


@pytest.mark.parametrize("length,n_tokens", THESIS_TOKENS.items())
def test_token_counts_match_the_thesis(length, n_tokens):
    model = small(length)
    assert model.num_tokens == n_tokens
    assert model.token_shape[0] == 5
    assert model.stft_shape == (5, length // 2 + 1)


@pytest.mark.parametrize("length", [140, 70, 65, 500])
def test_shapes_of_every_piece(length):
    model = small(length).eval()
    x = torch.randn(3, length)
    z = model.encode(x)
    assert z.shape == (3, 8, *model.token_shape)
    out = model(x)
    assert out.x_hat.shape == (3, length)
    assert out.u.shape == out.u_hat.shape == (3, 2, *model.stft_shape)
    assert out.vq.indices.shape == (3, *model.token_shape)
    assert model.tokens(x).shape == (3, model.num_tokens) and model.tokens(x).dtype == torch.long
    assert model.pooled(z).shape == (3, 16)
    x_hat, u_hat = model.decode(z)  # the unquantized branch of NC-VQVAE
    assert x_hat.shape == (3, length) and u_hat.shape == out.u_hat.shape


def test_thesis_defaults():
    model = STFTVQVAE(140)
    assert model.codebook.shape == (32, 64)
    assert model.quantizer.ema and model.quantizer.decay == 0.9 and model.quantizer.commitment_weight == 1.0
    assert downsample_rate(140) == 9 and model.n_down == 3


def test_the_stft_path_round_trips():
    model = small(140).eval()
    x = torch.randn(4, 140, dtype=torch.float64)
    u = model.to_stft(x)
    assert torch.allclose(u, stft(x, 8))

    class PerfectDecoder(torch.nn.Module):
        def forward(self, z):
            return u

    model.decoder = PerfectDecoder()
    x_hat, u_hat = model.decode(torch.zeros(4, 8, *model.token_shape))
    assert torch.allclose(x_hat, x, atol=1e-10)
    time_mse, stft_mse = model.reconstruction_loss(x, x_hat, u_hat)
    assert time_mse.item() < 1e-20 and stft_mse.item() == 0.0


def test_loss_is_the_sum_of_its_terms_and_pooling_is_avg_and_max():
    model = small(70).eval()
    out = model(torch.randn(5, 70))
    assert torch.allclose(out.loss, out.time_loss + out.stft_loss + out.vq.loss)
    assert torch.allclose(out.vq.loss, out.vq.commitment_loss)
    assert out.commitment_loss is out.vq.commitment_loss
    z = torch.randn(2, 8, 5, 9)
    pooled = model.pooled(z)
    assert torch.equal(pooled[:, :8], z.mean((2, 3))) and torch.equal(
        pooled[:, 8:], z.flatten(2).max(2).values
    )


def test_tokens_decode_to_the_eval_reconstruction_without_touching_the_codebook():
    model = small(140).train()
    x = torch.randn(6, 140)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    tokens = model.tokens(x)
    assert model.training  # mode restored
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    model.eval()
    out = model(x)
    assert torch.equal(tokens.reshape(6, *model.token_shape), out.vq.indices)
    assert torch.allclose(model.decode_tokens(tokens), out.x_hat, atol=1e-6)
    assert torch.allclose(model.tokens_to_latents(tokens), out.vq.z_q, atol=1e-6)


def test_stochastic_tokens_are_repeatable_and_follow_the_temperature():
    model = small(140).eval()
    x = torch.randn(20, 140)
    a = model.tokens(x, temperature=1.0, generator=torch.Generator().manual_seed(0))
    b = model.tokens(x, temperature=1.0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    near = model.tokens(x)
    cold = model.tokens(x, temperature=1e-4, generator=torch.Generator().manual_seed(0))
    assert (cold == near).float().mean() > 0.99
    hot = model.tokens(x, temperature=1e4, generator=torch.Generator().manual_seed(0))
    assert (hot == near).float().mean() < 0.5


def test_a_few_training_steps_lower_the_loss():
    torch.manual_seed(0)
    t = torch.linspace(0, 1, 70)
    x = torch.sin(2 * torch.pi * (3 * t[None] + torch.rand(64, 1))) * (1 + torch.rand(64, 1))
    model = small(70)
    before = evaluate_tokenizer(model, x)["loss"]
    history = train_tokenizer(model, x, steps=25, batch_size=32, lr=1e-2, x_val=x[:16], eval_every=10)
    assert len(history.loss) == 25 and history.val_step == [10, 20, 25]
    assert evaluate_tokenizer(model, x)["loss"] < 0.5 * before
    assert 1.0 <= history.perplexity[-1] <= 6.0
    assert not model.training


def test_quantizer_options_are_passed_on():
    model = small(70, ema=False, commitment_weight=0.25, kmeans_init=True)
    assert (
        not model.quantizer.ema and model.quantizer.commitment_weight == 0.25 and model.quantizer.kmeans_init
    )


def test_bad_inputs_raise():
    model = small(140)
    with pytest.raises(ValueError):
        model(torch.randn(2, 141))
    with pytest.raises(ValueError):
        model(torch.randn(140))
    with pytest.raises(ValueError):
        model.decode(torch.randn(2, 7, 5, 8))
    with pytest.raises(ValueError):
        model.decode_tokens(torch.zeros(2, 39, dtype=torch.long))
    with pytest.raises(ValueError):
        model.decode_tokens(torch.full((2, 40), 6))
    with pytest.raises(ValueError):
        model.pooled(torch.randn(2, 8, 5))
    with pytest.raises(ValueError):
        STFTVQVAE(140, n_fft=6)
    with pytest.raises(ValueError):
        STFTVQVAE(0)
    with pytest.raises(ValueError):
        STFTVQVAE(140, dim=0)
    with pytest.raises(ValueError):
        STFTVQVAE(140, decay=1.5)
    with pytest.raises(ValueError):
        train_tokenizer(model, torch.randn(4, 140), steps=0)
    with pytest.raises(ValueError):
        train_tokenizer(model, torch.randn(4, 100), steps=1)


def test_evaluation_builds_no_graph_and_matches_a_plain_eval_forward():
    torch.manual_seed(0)
    x = torch.randn(20, 70)
    model = small(70).train()
    grad_enabled = []
    model.register_forward_hook(lambda *_: grad_enabled.append(torch.is_grad_enabled()))
    scores = evaluate_tokenizer(model, x, batch_size=8)
    assert grad_enabled == [False, False, False] and model.training  # 3 batches; mode restored
    model.eval()
    out = model(x)
    assert scores["loss"] == pytest.approx(out.loss.item(), rel=1e-5)
    assert scores["time_loss"] == pytest.approx(out.time_loss.item(), rel=1e-5)
