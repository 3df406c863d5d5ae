"""MaskGIT: a bidirectional transformer prior over token sequences, trained by masked-token
prediction and sampled by iterative parallel decoding (Chang et al. 2022).

Taught in the chapter "Masked modelling: MaskGIT". Stage 2 of TimeVQVAE and NC-VQVAE: the
tokens are the codes that a frozen VQ-VAE tokenizer (:mod:`ssl_book.tokenizer`) assigns to a
time series, ``N`` positions over a vocabulary of ``K`` codes.

- Masking schedules γ: r ∈ [0, 1] ↦ masked fraction, γ(0) = 1, γ(1) = 0, non-increasing
  (:data:`SCHEDULES`, :func:`get_schedule`).
- :func:`mask_tokens`: which positions to hide for the masked-token objective.
- :class:`MaskGIT`: the prior, with a class token for classifier-free guidance (Ho & Salimans
  2022) and two input variants (``embedding="learned"``: the thesis baseline;
  ``embedding="codebook"``: the NC-VQVAE ``Full_Embedding_MaskGIT``); :meth:`MaskGIT.loss`
  and :meth:`MaskGIT.sample`.
- :func:`train_prior`: AdamW with a cosine learning-rate schedule.

Thesis quirks (Mathisen 2024, ``models/stage2``) and what this module does by default:

1. The thesis computes the cross-entropy over **all** tokens; the MaskGIT paper over the masked
   ones. Default ``loss_on="masked"``; ``"all"`` is thesis-faithful.
2. The thesis **baseline** masks a fraction 1 − γ(t) (it *keeps* ⌊γ(t)N⌋ tokens); its NC prior
   masks γ(t). Default ``invert_mask_ratio=False`` (the paper and the NC prior);
   ``True`` reproduces the baseline.
3. The thesis drops the class label (p = 0.2) also while sampling; here class dropout happens
   only in :meth:`MaskGIT.loss` on a model in training mode.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from ssl_book.progress import progress
from ssl_book.train import cosine_lr, minibatches
from ssl_book.transformer import LearnedPositionalEncoding, TransformerEncoder

Schedule = Callable[[torch.Tensor], torch.Tensor]


def cosine_schedule(r: torch.Tensor) -> torch.Tensor:
    """γ(r) = cos(πr/2): MaskGIT's choice; few tokens are fixed early, many late."""
    return torch.cos(torch.pi / 2 * r)


def linear_schedule(r: torch.Tensor) -> torch.Tensor:
    """γ(r) = 1 − r: the same number of tokens fixed at every step."""
    return 1 - r


def square_schedule(r: torch.Tensor) -> torch.Tensor:
    """γ(r) = 1 − r² (concave, like cosine)."""
    return 1 - r**2


def cubic_schedule(r: torch.Tensor) -> torch.Tensor:
    """γ(r) = 1 − r³ (more concave: even fewer tokens fixed early)."""
    return 1 - r**3


def sqrt_schedule(r: torch.Tensor) -> torch.Tensor:
    """γ(r) = 1 − √r (convex: many tokens fixed early)."""
    return 1 - r.sqrt()


SCHEDULES: dict[str, Schedule] = {
    "cosine": cosine_schedule,
    "linear": linear_schedule,
    "square": square_schedule,
    "cubic": cubic_schedule,
    "sqrt": sqrt_schedule,
}


def get_schedule(schedule: str | Schedule) -> Schedule:
    """A schedule by name (see :data:`SCHEDULES`), or a callable checked to map 0 ↦ 1, 1 ↦ 0
    and to be non-increasing in between (on a grid of 101 points)."""
    if isinstance(schedule, str):
        if schedule not in SCHEDULES:
            raise ValueError(
                f"unknown schedule {schedule!r}; choose from {sorted(SCHEDULES)} or pass a function"
            )
        return SCHEDULES[schedule]
    if not callable(schedule):
        raise ValueError(f"schedule must be a name or a function, got {schedule!r}")
    values = schedule(torch.linspace(0, 1, 101, dtype=torch.float64))
    if not (
        torch.isclose(values[0], values.new_tensor(1.0))
        and torch.isclose(values[-1], values.new_tensor(0.0))
        and torch.all(values[1:] <= values[:-1] + 1e-12)
    ):
        raise ValueError("a masking schedule must map 0 to 1 and 1 to 0 and be non-increasing")
    return schedule


def masked_count(schedule: Schedule, r: float, n_tokens: int) -> int:
    """⌊N · γ(r)⌋: the number of positions still masked at decoding progress r."""
    fraction = float(schedule(torch.tensor(r, dtype=torch.float64)))
    return min(n_tokens, max(0, math.floor(n_tokens * fraction + 1e-9)))


def mask_tokens(
    tokens: torch.Tensor, ratio: float | torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Choose ⌊ratio · N⌋ positions per sequence, uniformly at random, to hide.

    Args:
        tokens: ``(B, N)`` token ids (only the shape and device are used).
        ratio: masked fraction in [0, 1], one float or a ``(B,)`` tensor (one per sequence).
        generator: a ``torch.Generator`` on the tokens' device, for reproducible masks.

    Returns:
        ``(B, N)`` boolean, True = masked; row b has exactly ``⌊ratio_b · N⌋`` True entries.
    """
    if tokens.ndim != 2:
        raise ValueError(f"tokens must be (batch, n_tokens), got shape {tuple(tokens.shape)}")
    batch, n = tokens.shape
    ratio = torch.as_tensor(ratio, dtype=torch.float64, device=tokens.device)
    if ratio.ndim > 1 or (ratio.ndim == 1 and len(ratio) != batch):
        raise ValueError(f"ratio must be a float or a ({batch},) tensor, got shape {tuple(ratio.shape)}")
    ratio = ratio.expand(batch)
    if torch.any((ratio < 0) | (ratio > 1)):
        raise ValueError("mask ratios must lie in [0, 1]")
    n_masked = torch.floor(ratio * n + 1e-9).long()  # (B,)
    scores = torch.rand(batch, n, generator=generator, device=tokens.device)
    rank = scores.argsort(dim=1).argsort(dim=1)  # a random permutation per row
    return rank < n_masked[:, None]


class MaskGIT(nn.Module):
    """A class-conditional MaskGIT prior over ``n_tokens`` codes from a ``n_codes`` vocabulary.

    The input sequence is embedded (see ``embedding``), a learned position embedding is added,
    LayerNorm is applied, a class token is prepended, and a pre-norm
    :class:`~ssl_book.transformer.TransformerEncoder` of width ``dim`` (with linear maps from
    and back to the embedding size) predicts logits over the ``n_codes`` codes at every position.
    This follows the thesis's ``BidirectionalTransformer``/``FullEmbedBidirectionalTransformer``
    (x-transformers ``Encoder`` with RMSNorm, wrapped to map 64 ↔ 256).

    Args:
        n_tokens: sequence length N.
        n_codes: vocabulary size K (the mask token is extra).
        n_classes: number of classes; class ``n_classes`` is "unconditional". 0 = no labels.
        codebook: ``(K, d)`` stage-1 code vectors. ``embedding="learned"`` initialises its
            token embeddings from them (random N(0, 1) when omitted); ``"codebook"`` needs them.
        embedding: ``"learned"``: trainable token embeddings (K + 1 with the mask token), logits
            = head(h) · embeddingsᵀ + a per-position bias (the thesis baseline ``MaskGIT``).
            ``"codebook"``: the input is the code vectors themselves, a learned ``mask_embedding``
            at masked positions, logits from ``Linear(d, K)`` (NC-VQVAE's ``Full_Embedding_MaskGIT``).
        embed_dim: d when no codebook is given.
        finetune_codebook: with ``"codebook"``, whether the codebook copy is trained (NC-VQVAE: yes).
        dim, depth, heads, head_dim, mlp_ratio, dropout, norm: the transformer; defaults are
            the thesis's (256, 4, 2, 64 as in x-transformers, 1, 0, RMSNorm).
        p_uncond: probability of replacing the label by "unconditional" in training (CFG).
        schedule: masking schedule for training and sampling.
        loss_on: ``"masked"`` (default, the paper) or ``"all"`` (thesis) tokens in the loss.
        invert_mask_ratio: mask 1 − γ(t) instead of γ(t) in training (the thesis baseline).
    """

    def __init__(
        self,
        n_tokens: int,
        n_codes: int,
        n_classes: int = 0,
        *,
        codebook: torch.Tensor | None = None,
        embedding: str = "learned",
        embed_dim: int = 64,
        finetune_codebook: bool = True,
        dim: int = 256,
        depth: int = 4,
        heads: int = 2,
        head_dim: int | None = 64,
        mlp_ratio: float = 1.0,
        dropout: float = 0.0,
        norm: str = "rms",
        p_uncond: float = 0.2,
        schedule: str | Schedule = "cosine",
        loss_on: str = "masked",
        invert_mask_ratio: bool = False,
    ):
        super().__init__()
        if n_tokens < 1 or n_codes < 2 or n_classes < 0:
            raise ValueError(
                f"need n_tokens >= 1, n_codes >= 2, n_classes >= 0; got {n_tokens}, {n_codes}, {n_classes}"
            )
        if embedding not in ("learned", "codebook"):
            raise ValueError(f"embedding must be 'learned' or 'codebook', got {embedding!r}")
        if loss_on not in ("masked", "all"):
            raise ValueError(f"loss_on must be 'masked' or 'all', got {loss_on!r}")
        if not 0.0 <= p_uncond <= 1.0:
            raise ValueError(f"p_uncond must be in [0, 1], got {p_uncond}")
        if codebook is not None:
            if codebook.ndim != 2 or codebook.shape[0] != n_codes:
                raise ValueError(f"codebook must be (n_codes={n_codes}, d), got {tuple(codebook.shape)}")
            embed_dim = codebook.shape[1]
        elif embedding == "codebook":
            raise ValueError("embedding='codebook' needs the stage-1 codebook (n_codes, d)")
        self.n_tokens, self.n_codes, self.n_classes = n_tokens, n_codes, n_classes
        self.embedding, self.p_uncond, self.loss_on = embedding, p_uncond, loss_on
        self.invert_mask_ratio = invert_mask_ratio
        self.schedule = get_schedule(schedule)

        if embedding == "learned":
            self.token_embedding = nn.Embedding(n_codes + 1, embed_dim)  # last row: the mask token
            if codebook is not None:
                with torch.no_grad():
                    self.token_embedding.weight[:n_codes] = codebook
            self.output_bias = nn.Parameter(torch.zeros(n_tokens, n_codes + 1))
        else:
            codebook = codebook.detach().clone().float()
            if finetune_codebook:
                self.codebook = nn.Parameter(codebook)
            else:
                self.register_buffer("codebook", codebook)
            self.mask_embedding = nn.Parameter(torch.randn(embed_dim) * 0.02)
        self.positions = LearnedPositionalEncoding(
            embed_dim, n_tokens, init_std=1.0
        )  # as nn.Embedding in the thesis
        self.input_norm = nn.LayerNorm(embed_dim)
        self.class_embedding = nn.Embedding(n_classes + 1, embed_dim)  # last row: unconditional
        self.project_in = nn.Linear(embed_dim, dim)
        self.encoder = TransformerEncoder(dim, depth, heads, mlp_ratio, dropout, norm=norm, head_dim=head_dim)
        self.project_out = nn.Linear(dim, embed_dim)
        head = [nn.Linear(embed_dim, embed_dim), nn.GELU(), nn.LayerNorm(embed_dim)]
        if embedding == "codebook":
            head.append(nn.Linear(embed_dim, n_codes))
        self.head = nn.Sequential(*head)

    @property
    def device(self) -> torch.device:
        return self.class_embedding.weight.device

    # ------------------------------------------------------------------ forward
    def _checked_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Validate ``(B, N)`` integer codes and return them as a long tensor."""
        if not isinstance(tokens, torch.Tensor) or tokens.ndim != 2 or tokens.shape[1] != self.n_tokens:
            raise ValueError(
                f"tokens must be a (batch, {self.n_tokens}) tensor, got {getattr(tokens, 'shape', tokens)}"
            )
        if tokens.is_floating_point() or tokens.is_complex() or tokens.dtype == torch.bool:
            raise ValueError(f"tokens must be integer codes, got dtype {tokens.dtype}")
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= self.n_codes):
            raise ValueError(
                f"token ids must lie in [0, {self.n_codes}), got [{tokens.min()}, {tokens.max()}]"
            )
        return tokens.long()

    def _class_ids(self, labels: torch.Tensor | int | None, batch: int) -> torch.Tensor:
        """``(B,)`` class ids; ``None`` -> the unconditional id ``n_classes``."""
        if labels is None:
            return torch.full((batch,), self.n_classes, dtype=torch.long, device=self.device)
        labels = torch.as_tensor(labels, dtype=torch.long, device=self.device)
        labels = labels.expand(batch) if labels.ndim == 0 else labels
        if labels.shape != (batch,):
            raise ValueError(f"labels must be an int or a ({batch},) tensor, got shape {tuple(labels.shape)}")
        if labels.numel() and (labels.min() < 0 or labels.max() >= self.n_classes):
            raise ValueError(
                f"labels must lie in [0, n_classes={self.n_classes}); use None for unconditional"
            )
        return labels

    def embed(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``(B, N)`` ids and ``(B, N)`` mask (True = hidden) -> ``(B, N, d)`` input vectors."""
        if self.embedding == "learned":
            return self.token_embedding(tokens.masked_fill(mask, self.n_codes))
        vectors = F.embedding(tokens, self.codebook)
        return torch.where(mask[..., None], self.mask_embedding, vectors)

    def forward(
        self, tokens: torch.Tensor, labels: torch.Tensor | int | None = None, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Logits over the codes at every position.

        Args:
            tokens: ``(B, N)`` code ids in ``[0, n_codes)`` (values at masked positions are ignored).
            labels: ``(B,)`` class ids, one int for all, or ``None`` (unconditional).
            mask: ``(B, N)`` boolean, True = the token is hidden (replaced by the mask token).

        Returns:
            ``(B, N, n_codes)`` logits.
        """
        tokens = self._checked_tokens(tokens)
        mask = torch.zeros_like(tokens, dtype=torch.bool) if mask is None else mask
        if mask.shape != tokens.shape or mask.dtype != torch.bool:
            raise ValueError(f"mask must be a boolean tensor of shape {tuple(tokens.shape)}")
        return self._logits(tokens, self._class_ids(labels, tokens.shape[0]), mask)

    def _logits(self, tokens: torch.Tensor, class_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Checked inputs: ``(B, N)`` ids, ``(B,)`` class ids (``n_classes`` = unconditional), mask."""
        x = self.input_norm(self.positions(self.embed(tokens, mask)))  # (B, N, d)
        x = torch.cat([self.class_embedding(class_ids)[:, None], x], dim=1)  # (B, 1+N, d)
        h = self.head(self.project_out(self.encoder(self.project_in(x)))[:, 1:])  # (B, N, d) or (B, N, K)
        if self.embedding == "learned":
            return (h @ self.token_embedding.weight.T + self.output_bias)[..., : self.n_codes]
        return h

    # ------------------------------------------------------------------ training
    def loss(
        self,
        tokens: torch.Tensor,
        labels: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """The masked-token cross-entropy on one batch.

        Per sequence: t ~ U(0, 1), mask ⌊γ(t)·N⌋ random positions (at least one; 1 − γ(t)
        with ``invert_mask_ratio``), predict the hidden codes. In training mode the label is
        replaced by "unconditional" with probability ``p_uncond``.

        Args:
            tokens: ``(B, N)`` target codes; labels: ``(B,)`` class ids or ``None``.
            generator: for reproducible t, masks and label dropout (on the model's device).

        Returns:
            Scalar mean cross-entropy over the masked tokens (``loss_on="masked"``) or all tokens.
        """
        tokens = self._checked_tokens(tokens)
        batch = tokens.shape[0]
        class_ids = self._class_ids(labels, batch)
        if self.training and self.p_uncond > 0:
            drop = torch.rand(batch, generator=generator, device=self.device) < self.p_uncond
            class_ids = class_ids.masked_fill(drop, self.n_classes)
        t = torch.rand(batch, generator=generator, device=self.device, dtype=torch.float64)
        ratio = self.schedule(t)
        ratio = 1 - ratio if self.invert_mask_ratio else ratio
        ratio = ratio.clamp(min=1.0 / self.n_tokens)  # at least one masked
        mask = mask_tokens(tokens, ratio, generator)
        logits = self._logits(tokens, class_ids, mask)  # (B, N, K)
        if self.loss_on == "masked":
            return F.cross_entropy(logits[mask], tokens[mask])
        return F.cross_entropy(logits.flatten(0, 1), tokens.flatten())

    # ------------------------------------------------------------------ sampling
    def _guided_logits(
        self, tokens: torch.Tensor, mask: torch.Tensor, class_ids: torch.Tensor | None, guidance_scale: float
    ) -> torch.Tensor:
        unconditional = torch.full_like(tokens[:, 0], self.n_classes)
        if class_ids is None:
            return self._logits(tokens, unconditional, mask)
        conditional = self._logits(tokens, class_ids, mask)
        if guidance_scale == 1.0:
            return conditional
        null = self._logits(tokens, unconditional, mask)
        return null + guidance_scale * (conditional - null)

    @torch.no_grad()
    def sample(
        self,
        n: int,
        labels: torch.Tensor | int | None = None,
        steps: int = 10,
        choice_temperature: float = 4.0,
        guidance_scale: float = 1.0,
        generator: torch.Generator | None = None,
        return_history: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """MaskGIT iterative parallel decoding (Chang et al. 2022), in eval mode.

        Start with all N positions masked. At step t = 1, ..., T:

        1. predict logits for every position (with labels and ``guidance_scale`` s ≠ 1:
           ``l_null + s · (l_cond − l_null)``, classifier-free guidance);
        2. sample a code at every masked position; known positions keep their code;
        3. confidence = log p(sampled code) + ``choice_temperature`` · (1 − t/T) · Gumbel noise,
           +∞ at known positions;
        4. re-mask the ⌊N · γ(t/T)⌋ lowest-confidence positions; the rest become known.

        After T steps γ(1) = 0, so every position is known. The number of positions fixed at
        step t is ⌊N·γ((t−1)/T)⌋ − ⌊N·γ(t/T)⌋ (it can be 0 for short sequences).

        Args:
            n: number of sequences.
            labels: ``None`` (unconditional), one class id, or ``(n,)`` class ids.
            steps: T >= 1.
            choice_temperature: scale of the Gumbel noise on the confidences (0 = greedy choice).
            guidance_scale: s >= 0; 0 gives unconditional samples, 1 plain conditional ones.
            generator: for reproducible samples (on the model's device).
            return_history: also return ``(T + 1, n, N)`` booleans, the masked positions before
                the first step and after each step.

        Returns:
            ``(n, N)`` long codes (and the history).
        """
        if n < 1 or steps < 1:
            raise ValueError(f"need n >= 1 and steps >= 1, got n={n}, steps={steps}")
        if choice_temperature < 0 or guidance_scale < 0:
            raise ValueError(
                f"choice_temperature and guidance_scale must be >= 0, got "
                f"{choice_temperature} and {guidance_scale}"
            )
        was_training = self.training
        self.eval()
        class_ids = None if labels is None else self._class_ids(labels, n)
        tokens = torch.zeros(n, self.n_tokens, dtype=torch.long, device=self.device)
        masked = torch.ones_like(tokens, dtype=torch.bool)
        history = [masked.clone()]
        for step in range(1, steps + 1):
            logits = self._guided_logits(tokens, masked, class_ids, guidance_scale)  # (n, N, K)
            probs = logits.float().softmax(-1)
            sampled = torch.multinomial(probs.flatten(0, 1), 1, generator=generator).view(n, self.n_tokens)
            tokens = torch.where(masked, sampled, tokens)
            log_p = probs.gather(-1, tokens[..., None]).squeeze(-1).clamp_min(1e-30).log()
            uniform = torch.rand(log_p.shape, generator=generator, device=self.device).clamp(1e-20, 1 - 1e-7)
            gumbel = -torch.log(-torch.log(uniform))
            confidence = log_p + choice_temperature * (1 - step / steps) * gumbel
            confidence = confidence.masked_fill(~masked, float("inf"))
            n_remask = masked_count(self.schedule, step / steps, self.n_tokens)
            remask = torch.zeros_like(masked)
            if n_remask:
                remask.scatter_(1, confidence.topk(n_remask, dim=1, largest=False).indices, True)
            masked = remask
            history.append(masked.clone())
        self.train(was_training)
        return (tokens, torch.stack(history)) if return_history else tokens


def train_prior(
    model: MaskGIT,
    tokens: torch.Tensor,
    labels: torch.Tensor | None = None,
    *,
    steps: int,
    batch_size: int = 256,
    lr: float = 1e-3,
    weight_decay: float = 1e-3,
    seed: int = 0,
    desc: str = "training the prior",
) -> list[float]:
    """Train a :class:`MaskGIT` with :meth:`MaskGIT.loss`, AdamW and a cosine schedule
    (the thesis's stage-2 settings: lr 1e-3, weight decay 1e-3, batch 256, no warm-up).

    Args:
        model: the prior (trained in place on its device, left in eval mode).
        tokens: ``(n, N)`` integer codes, or ``(n, N, K)`` float logits, e.g. −‖z − e_k‖²/τ,
            from which fresh target codes are drawn for every batch (the stochastic targets
            of TimeVQVAE/NC-VQVAE).
        labels: ``(n,)`` class ids, or ``None`` to train an unconditional prior.
        steps: optimisation steps; seed: seeds batches, masks, class dropout and targets.

    Returns:
        The loss at every step.
    """
    if steps < 1:
        raise ValueError(f"steps must be positive, got {steps}")
    device = model.device
    tokens = torch.as_tensor(tokens).to(device)
    stochastic = tokens.is_floating_point()
    expected_ndim = 3 if stochastic else 2
    if (
        tokens.ndim != expected_ndim
        or tokens.shape[1] != model.n_tokens
        or (stochastic and tokens.shape[2] != model.n_codes)
    ):
        raise ValueError(
            f"tokens must be (n, {model.n_tokens}) integer codes or (n, {model.n_tokens}, "
            f"{model.n_codes}) float logits, got {tuple(tokens.shape)} of dtype {tokens.dtype}"
        )
    if labels is not None:
        labels = torch.as_tensor(labels, dtype=torch.long).to(device)
        if labels.shape != (len(tokens),):
            raise ValueError(f"labels must be ({len(tokens)},), got {tuple(labels.shape)}")
    generator = torch.Generator(device=device).manual_seed(seed)
    batches = minibatches(len(tokens), batch_size, torch.Generator().manual_seed(seed), device=device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = cosine_lr(optimizer, steps)
    model.train()
    losses = []
    for _ in (bar := progress(range(steps), desc=desc)):
        idx = next(batches)
        batch = tokens[idx]
        if stochastic:
            batch = torch.multinomial(batch.softmax(-1).flatten(0, 1), 1, generator=generator).view(
                len(idx), -1
            )
        loss = model.loss(batch, None if labels is None else labels[idx], generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if len(losses) % 25 == 0:
            bar.set_postfix(loss=f"{sum(losses[-25:]) / 25:.3f}")
    model.eval()
    return losses
