"""ssl_book.maskgit: schedules, masking, the prior's loss, iterative decoding, guidance."""

import math

import pytest
import torch
import torch.nn.functional as F

from ssl_book.maskgit import SCHEDULES, MaskGIT, get_schedule, mask_tokens, masked_count, train_prior

N_TOKENS, N_CODES, N_CLASSES = 12, 6, 3


def tiny_prior(**kwargs) -> MaskGIT:
    torch.manual_seed(0)
    settings = dict(dim=32, depth=1, heads=2, head_dim=16, mlp_ratio=1.0, embed_dim=16)
    settings.update(kwargs)
    return MaskGIT(N_TOKENS, N_CODES, N_CLASSES, **settings)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedules_are_monotone_with_the_right_endpoints(name):
    gamma = get_schedule(name)
    r = torch.linspace(0, 1, 1001, dtype=torch.float64)
    values = gamma(r)
    assert values[0] == 1 and abs(values[-1]) < 1e-12
    assert torch.all(values[1:] <= values[:-1] + 1e-12)
    assert torch.all((values >= 0) & (values <= 1))


def test_schedule_names_and_functions_are_checked():
    assert get_schedule(lambda r: 1 - r**4)(torch.tensor(0.5)) == 1 - 0.5**4
    with pytest.raises(ValueError, match="unknown schedule"):
        get_schedule("exponential")
    with pytest.raises(ValueError, match="map 0 to 1"):
        get_schedule(lambda r: r)  # increasing
    with pytest.raises(ValueError, match="map 0 to 1"):
        get_schedule(lambda r: 0.5 * (1 - r))  # wrong start


def test_mask_tokens_hides_exactly_the_prescribed_number():
    tokens = torch.zeros(4, 10, dtype=torch.long)
    g = torch.Generator().manual_seed(0)
    mask = mask_tokens(tokens, torch.tensor([0.0, 0.25, 0.5, 1.0]), g)
    assert mask.dtype == torch.bool and mask.sum(1).tolist() == [0, 2, 5, 10]
    again = mask_tokens(tokens, torch.tensor([0.0, 0.25, 0.5, 1.0]), torch.Generator().manual_seed(0))
    assert torch.equal(mask, again)
    positions = torch.stack([mask_tokens(tokens, 0.3, g) for _ in range(300)]).float().mean((0, 1))
    assert positions.min() > 0.2 and positions.max() < 0.4  # every position equally likely
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        mask_tokens(tokens, 1.5)
    with pytest.raises(ValueError, match="ratio must be"):
        mask_tokens(tokens, torch.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match="batch, n_tokens"):
        mask_tokens(torch.zeros(10, dtype=torch.long), 0.5)


def record_decoding(model: MaskGIT):
    """Wrap model._logits to record the (tokens, mask) it is called with at each step."""
    calls = []
    original = model._logits

    def recording(tokens, class_ids, mask):
        calls.append((tokens.clone(), mask.clone(), class_ids.clone()))
        return original(tokens, class_ids, mask)

    model._logits = recording
    return calls


@pytest.mark.parametrize(
    "schedule, steps", [("cosine", 10), ("linear", 4), ("cubic", 7), ("cosine", 20), ("sqrt", 1)]
)
def test_decoding_unmasks_what_the_schedule_prescribes_and_keeps_known_tokens(schedule, steps):
    model = tiny_prior(schedule=schedule)
    calls = record_decoding(model)
    tokens, history = model.sample(
        5, steps=steps, generator=torch.Generator().manual_seed(1), return_history=True
    )
    assert tokens.shape == (5, N_TOKENS) and tokens.dtype == torch.long
    assert tokens.min() >= 0 and tokens.max() < N_CODES
    assert history.shape == (steps + 1, 5, N_TOKENS)
    assert history[0].all() and not history[-1].any()  # starts all masked, ends with none masked
    gamma = get_schedule(schedule)
    for t in range(1, steps + 1):
        still_masked = history[t].sum(1)
        fraction = float(gamma(torch.tensor(t / steps, dtype=torch.float64)))
        assert torch.all(still_masked == max(0, math.floor(N_TOKENS * fraction + 1e-9)))
        assert torch.all(history[t] <= history[t - 1])  # a fixed token is never re-masked
    assert len(calls) == steps
    for (step_tokens, step_mask, _), before in zip(calls, history[:-1]):
        assert torch.equal(step_mask, before)
        known = ~step_mask
        assert torch.equal(step_tokens[known], tokens[known])  # known tokens are kept to the end


def test_unmasked_counts_per_step_for_the_thesis_setting():
    """N = 40 tokens, T = 10, cosine: the counts of newly fixed tokens per step."""
    gamma = get_schedule("cosine")
    counts = [masked_count(gamma, (t - 1) / 10, 40) - masked_count(gamma, t / 10, 40) for t in range(1, 11)]
    assert counts == [1, 1, 3, 3, 4, 5, 5, 6, 6, 6] and sum(counts) == 40


def test_guidance_scale_zero_equals_unconditional_and_one_equals_conditional():
    model = tiny_prior()
    with torch.no_grad():  # make the class token matter
        model.class_embedding.weight.mul_(20)
    sample = lambda **kw: model.sample(8, steps=5, generator=torch.Generator().manual_seed(3), **kw)
    unconditional = sample()
    assert torch.equal(sample(labels=2, guidance_scale=0.0), unconditional)
    assert torch.equal(
        sample(labels=torch.tensor([0, 1, 2, 0, 1, 2, 0, 1]), guidance_scale=0.0), unconditional
    )
    conditional = sample(labels=2)
    assert torch.equal(sample(labels=2, guidance_scale=1.0), conditional)
    assert not torch.equal(conditional, unconditional)


def test_guided_logits_follow_the_cfg_formula():
    model = tiny_prior().eval()
    tokens = torch.randint(0, N_CODES, (4, N_TOKENS))
    mask = torch.rand(4, N_TOKENS) < 0.5
    labels = torch.tensor([0, 1, 2, 1])
    with torch.no_grad():
        cond, null = model(tokens, labels, mask), model(tokens, None, mask)
        guided = model._guided_logits(tokens, mask, labels, 3.0)
    torch.testing.assert_close(guided, null + 3.0 * (cond - null))


def test_sampling_is_reproducible_and_restores_training_mode():
    model = tiny_prior().train()
    a = model.sample(3, labels=1, generator=torch.Generator().manual_seed(0))
    b = model.sample(3, labels=1, generator=torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and model.training


def test_loss_matches_its_definition_on_masked_tokens():
    model = tiny_prior().eval()  # eval: no class dropout
    tokens = torch.randint(0, N_CODES, (6, N_TOKENS), generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    loss = model.loss(tokens, labels, torch.Generator().manual_seed(5))
    g = torch.Generator().manual_seed(5)
    t = torch.rand(6, generator=g, dtype=torch.float64)
    ratio = torch.cos(torch.pi / 2 * t).clamp(min=1 / N_TOKENS)
    mask = mask_tokens(tokens, ratio, g)
    logits = model(tokens, labels, mask)
    torch.testing.assert_close(loss, F.cross_entropy(logits[mask], tokens[mask]))


def test_thesis_quirks_all_tokens_and_inverted_ratio():
    model = tiny_prior(loss_on="all", invert_mask_ratio=True).eval()
    tokens = torch.randint(0, N_CODES, (6, N_TOKENS), generator=torch.Generator().manual_seed(0))
    loss = model.loss(tokens, None, torch.Generator().manual_seed(5))
    g = torch.Generator().manual_seed(5)
    t = torch.rand(6, generator=g, dtype=torch.float64)
    mask = mask_tokens(tokens, (1 - torch.cos(torch.pi / 2 * t)).clamp(min=1 / N_TOKENS), g)
    logits = model(tokens, None, mask)
    torch.testing.assert_close(loss, F.cross_entropy(logits.flatten(0, 1), tokens.flatten()))


def test_class_dropout_only_in_training():
    model = tiny_prior(p_uncond=1.0)
    tokens = torch.randint(0, N_CODES, (6, N_TOKENS))
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    loss = lambda y: model.loss(tokens, y, torch.Generator().manual_seed(1))
    with torch.no_grad():
        model.class_embedding.weight.mul_(20)
        model.train()  # every label dropped (the transformer has no dropout)
        torch.testing.assert_close(loss(labels), loss(None))
        model.eval()  # labels used
        assert not torch.isclose(loss(labels), loss(None))


@pytest.mark.parametrize("embedding", ["learned", "codebook"])
def test_training_lowers_the_loss(embedding):
    codebook = torch.randn(N_CODES, 16, generator=torch.Generator().manual_seed(0))
    model = tiny_prior(embedding=embedding, codebook=codebook)
    labels = torch.arange(96) % N_CLASSES
    tokens = (labels[:, None] + torch.arange(N_TOKENS)[None, :]) % N_CODES  # a class-dependent pattern
    losses = train_prior(model, tokens, labels, steps=40, batch_size=32, lr=3e-3)
    assert len(losses) == 40 and not model.training
    assert sum(losses[-5:]) / 5 < 0.75 * sum(losses[:5]) / 5


def test_int32_tokens_are_accepted():
    model = tiny_prior().eval()
    tokens = torch.randint(0, N_CODES, (4, N_TOKENS))
    g = lambda: torch.Generator().manual_seed(0)
    torch.testing.assert_close(model.loss(tokens.int(), None, g()), model.loss(tokens, None, g()))


def test_stochastic_targets_from_logits():
    model = tiny_prior()
    logits = torch.randn(32, N_TOKENS, N_CODES)
    losses = train_prior(model, logits, None, steps=3, batch_size=16)
    assert len(losses) == 3 and all(math.isfinite(v) for v in losses)


def test_embeddings_of_the_two_variants():
    codebook = torch.randn(N_CODES, 16)
    learned = tiny_prior(codebook=codebook)
    torch.testing.assert_close(learned.token_embedding.weight[:N_CODES], codebook)
    full = tiny_prior(embedding="codebook", codebook=codebook)
    tokens = torch.randint(0, N_CODES, (2, N_TOKENS))
    mask = torch.zeros(2, N_TOKENS, dtype=torch.bool)
    mask[:, :3] = True
    vectors = full.embed(tokens, mask)
    torch.testing.assert_close(vectors[:, 3:], codebook[tokens[:, 3:]])
    torch.testing.assert_close(vectors[:, :3], full.mask_embedding.expand(2, 3, 16))
    assert isinstance(full.codebook, torch.nn.Parameter)
    frozen = tiny_prior(embedding="codebook", codebook=codebook, finetune_codebook=False)
    assert "codebook" not in dict(frozen.named_parameters()) and "codebook" in dict(frozen.named_buffers())
    assert full(tokens, torch.tensor([0, 2]), mask).shape == (2, N_TOKENS, N_CODES)


def test_thesis_size():
    model = MaskGIT(40, 32, 5, codebook=torch.randn(32, 64))
    n_parameters = sum(p.numel() for p in model.parameters())
    assert 1.0e6 < n_parameters < 1.2e6, n_parameters  # "about 1.1M parameters"


def test_bad_settings_and_shapes_raise_clear_errors():
    with pytest.raises(ValueError, match="embedding must be"):
        tiny_prior(embedding="onehot")
    with pytest.raises(ValueError, match="needs the stage-1 codebook"):
        tiny_prior(embedding="codebook")
    with pytest.raises(ValueError, match="codebook must be"):
        tiny_prior(codebook=torch.randn(N_CODES + 1, 16))
    with pytest.raises(ValueError, match="loss_on"):
        tiny_prior(loss_on="unmasked")
    with pytest.raises(ValueError, match="p_uncond"):
        tiny_prior(p_uncond=1.5)
    model = tiny_prior()
    good = torch.zeros(2, N_TOKENS, dtype=torch.long)
    with pytest.raises(ValueError, match=f"batch, {N_TOKENS}"):
        model(torch.zeros(2, N_TOKENS + 1, dtype=torch.long))
    with pytest.raises(ValueError, match="integer codes"):
        model(good.float())
    with pytest.raises(ValueError, match="token ids"):
        model(good + N_CODES)
    with pytest.raises(ValueError, match="labels must lie"):
        model(good, torch.tensor([0, N_CLASSES]))
    with pytest.raises(ValueError, match="labels must be"):
        model(good, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="mask must be"):
        model(good, None, torch.zeros(2, N_TOKENS))
    with pytest.raises(ValueError, match="steps"):
        model.sample(2, steps=0)
    with pytest.raises(ValueError, match="guidance_scale"):
        model.sample(2, guidance_scale=-1.0)
    with pytest.raises(ValueError, match="tokens must be"):
        train_prior(model, torch.zeros(5, N_TOKENS + 2, dtype=torch.long), steps=1)
    with pytest.raises(ValueError, match="labels must be"):
        train_prior(model, torch.zeros(5, N_TOKENS, dtype=torch.long), torch.zeros(4), steps=1)
    with pytest.raises(ValueError, match="steps"):
        train_prior(model, torch.zeros(5, N_TOKENS, dtype=torch.long), steps=0)
