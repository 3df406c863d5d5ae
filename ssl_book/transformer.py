"""Attention and the bidirectional transformer encoder.

Taught in the chapter "Transformers" (Vaswani et al. 2017), which writes each piece in plain
code first and checks it against PyTorch. The pieces compose into the MaskGIT prior
(:mod:`ssl_book.maskgit`):

- :func:`attention_weights` and :func:`scaled_dot_product_attention`: softmax(q kᵀ/√d) v,
  with boolean (True = may attend) or additive float masks; :func:`causal_mask`.
- :class:`MultiHeadAttention`: h heads of attention on learned projections.
- :func:`sinusoidal_positions`, :class:`SinusoidalPositionalEncoding`,
  :class:`LearnedPositionalEncoding`: what tells attention where a token sits.
- :class:`EncoderLayer` (pre-norm: attention and MLP on normalised inputs, added to the
  residual stream) and :class:`TransformerEncoder`, a stack of them with a final norm.

Shapes: sequences are ``(batch, length, dim)`` (batch first), attention weights
``(batch, heads, L_q, L_k)``.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

NORMS = ("layer", "rms")


def _check_mask(mask: torch.Tensor, scores_shape: torch.Size) -> None:
    try:
        torch.broadcast_shapes(mask.shape, scores_shape)
    except RuntimeError:
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} does not broadcast to the attention "
            f"scores' shape {tuple(scores_shape)} (..., L_q, L_k)"
        ) from None
    if mask.dtype == torch.bool:
        if not mask.any(-1).all():
            raise ValueError(
                "the boolean mask leaves a query with no key to attend to (a row of the mask is all False)"
            )
    elif not mask.is_floating_point():
        raise ValueError(
            f"mask must be boolean (True = may attend) or an additive float mask, got dtype {mask.dtype}"
        )


def attention_weights(q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """softmax(q kᵀ / √d): how much each query attends to each key.

    Args:
        q: queries ``(..., L_q, d)``.
        k: keys ``(..., L_k, d)``; leading dimensions broadcast with ``q``'s.
        mask: optional, broadcastable to ``(..., L_q, L_k)``. Boolean: True where the query
            may attend to the key (every query must be allowed at least one key). Float:
            added to the scores before the softmax (0 = keep, ``-inf`` = forbid).

    Returns:
        ``(..., L_q, L_k)`` weights; each row is a probability distribution over the keys.
    """
    if q.ndim < 2 or k.ndim < 2:
        raise ValueError(
            f"q and k need at least 2 dimensions (..., length, d), got {tuple(q.shape)} and {tuple(k.shape)}"
        )
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"queries and keys must have the same size d, got {q.shape[-1]} and {k.shape[-1]}")
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., L_q, L_k)
    if mask is not None:
        _check_mask(mask, scores.shape)
        scores = scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
    return scores.softmax(dim=-1)


def scaled_dot_product_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Attention(q, k, v) = softmax(q kᵀ / √d) v  (Vaswani et al. 2017, eq. 1).

    Args:
        q: ``(..., L_q, d)``; k: ``(..., L_k, d)``; v: ``(..., L_k, d_v)``.
        mask: see :func:`attention_weights` (boolean: True = may attend; float: additive).

    Returns:
        ``(..., L_q, d_v)``. Equal to ``torch.nn.functional.scaled_dot_product_attention``
        with the same mask (PyTorch's boolean masks also mean True = may attend).
    """
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"keys and values must have the same length, got {k.shape[-2]} and {v.shape[-2]}")
    return attention_weights(q, k, mask) @ v


def causal_mask(length: int, device: torch.device | str | None = None) -> torch.Tensor:
    """``(length, length)`` boolean mask, True on and below the diagonal: position i may
    attend to positions j <= i only (the mask of a left-to-right, autoregressive model)."""
    if length < 1:
        raise ValueError(f"length must be positive, got {length}")
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


class MultiHeadAttention(nn.Module):
    """Multi-head self- or cross-attention (Vaswani et al. 2017, section 3.2.2).

    Each head projects the inputs to its own queries, keys and values of size ``head_dim``,
    attends, and the heads' outputs are concatenated and projected back to ``dim``.

    Args:
        dim: size of the input and output vectors.
        heads: number of heads.
        head_dim: size of each head's queries/keys/values; default ``dim // heads`` (then
            ``dim`` must be divisible by ``heads``, and the module matches
            ``torch.nn.MultiheadAttention``; see :meth:`load_from_torch`).
        dropout: dropout on the attention weights (training only).
        bias: whether the projections have biases.
    """

    def __init__(
        self, dim: int, heads: int, head_dim: int | None = None, dropout: float = 0.0, bias: bool = True
    ):
        super().__init__()
        if dim < 1 or heads < 1:
            raise ValueError(f"dim and heads must be positive, got dim={dim}, heads={heads}")
        if head_dim is None:
            if dim % heads:
                raise ValueError(f"dim={dim} is not divisible by heads={heads}; choose head_dim explicitly")
            head_dim = dim // heads
        if head_dim < 1:
            raise ValueError(f"head_dim must be positive, got {head_dim}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.dim, self.heads, self.head_dim = dim, heads, head_dim
        inner = heads * head_dim
        self.to_q = nn.Linear(dim, inner, bias=bias)
        self.to_k = nn.Linear(dim, inner, bias=bias)
        self.to_v = nn.Linear(dim, inner, bias=bias)
        self.to_out = nn.Linear(inner, dim, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:  # (B, L, h*d) -> (B, h, L, d)
        return x.unflatten(-1, (self.heads, self.head_dim)).transpose(1, 2)

    def forward(
        self,
        x: torch.Tensor,
        context: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        return_weights: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Attend from ``x`` to ``context`` (default: ``x`` itself, self-attention).

        Args:
            x: ``(B, L_q, dim)`` queries' inputs.
            context: ``(B, L_k, dim)`` keys' and values' inputs; ``None`` for self-attention.
            mask: broadcastable to ``(B, heads, L_q, L_k)``, e.g. ``(L_q, L_k)`` or
                ``(B, 1, 1, L_k)``; boolean True = may attend, or additive float.
            return_weights: also return the attention weights ``(B, heads, L_q, L_k)``.

        Returns:
            ``(B, L_q, dim)``, and the weights if asked for.
        """
        if x.ndim != 3 or x.shape[-1] != self.dim:
            raise ValueError(f"x must be (batch, length, {self.dim}), got {tuple(x.shape)}")
        context = x if context is None else context
        if context.ndim != 3 or context.shape[0] != x.shape[0] or context.shape[-1] != self.dim:
            raise ValueError(
                f"context must be ({x.shape[0]}, length, {self.dim}), got {tuple(context.shape)}"
            )
        q = self._split_heads(self.to_q(x))
        k = self._split_heads(self.to_k(context))
        v = self._split_heads(self.to_v(context))
        if return_weights:
            weights = attention_weights(q, k, mask)  # (B, h, L_q, L_k)
            heads_out = self.dropout(weights) @ v  # (B, h, L_q, head_dim)
        else:
            # The same computation as above (tested), in PyTorch's fused kernel: no (L_q, L_k)
            # weights are kept for the backward pass, which makes training faster.
            if mask is not None:
                _check_mask(mask, (*q.shape[:-1], k.shape[-2]))
            heads_out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, dropout_p=self.dropout.p if self.training else 0.0
            )
        out = self.to_out(heads_out.transpose(1, 2).flatten(2))  # (B, L_q, dim)
        return (out, weights) if return_weights else out

    @torch.no_grad()
    def load_from_torch(self, reference: nn.MultiheadAttention) -> MultiHeadAttention:
        """Copy the weights of a batch-first ``torch.nn.MultiheadAttention`` with the same
        ``dim`` and ``heads`` (its packed ``in_proj`` holds q, k, v stacked). Returns self."""
        if (
            reference.embed_dim != self.dim
            or reference.num_heads != self.heads
            or self.head_dim * self.heads != self.dim
        ):
            raise ValueError(
                "the reference must have the same dim and heads, and head_dim must be dim // heads"
            )
        if reference.in_proj_weight is None:
            raise ValueError(
                "the reference must use a packed in_proj_weight (same dim for query, key, value)"
            )
        for i, layer in enumerate((self.to_q, self.to_k, self.to_v)):
            layer.weight.copy_(reference.in_proj_weight[i * self.dim : (i + 1) * self.dim])
            if layer.bias is not None:
                layer.bias.copy_(reference.in_proj_bias[i * self.dim : (i + 1) * self.dim])
        self.to_out.weight.copy_(reference.out_proj.weight)
        if self.to_out.bias is not None:
            self.to_out.bias.copy_(reference.out_proj.bias)
        return self


def sinusoidal_positions(length: int, dim: int, base: float = 10000.0) -> torch.Tensor:
    """The fixed positional encodings of Vaswani et al. (2017), ``(length, dim)``.

    ``PE[p, 2i] = sin(p / base^(2i/dim))`` and ``PE[p, 2i+1] = cos(p / base^(2i/dim))``:
    each pair of columns is a rotation at its own frequency, so ``PE[p + k]`` is a fixed
    linear function (a rotation) of ``PE[p]`` and ``PE[p] · PE[q]`` depends on ``p - q`` only.
    """
    if length < 1 or dim < 2 or dim % 2:
        raise ValueError(f"need length >= 1 and an even dim >= 2, got length={length}, dim={dim}")
    positions = torch.arange(length, dtype=torch.float32)[:, None]  # (length, 1)
    frequencies = base ** (-torch.arange(0, dim, 2, dtype=torch.float32) / dim)  # (dim/2,)
    angles = positions * frequencies  # (length, dim/2)
    return torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(1)  # (length, dim)


class _PositionalEncoding(nn.Module):
    max_len: int

    def _check(self, x: torch.Tensor) -> None:
        if x.ndim != 3 or x.shape[-1] != self.dim:
            raise ValueError(f"x must be (batch, length, {self.dim}), got {tuple(x.shape)}")
        if x.shape[1] > self.max_len:
            raise ValueError(f"sequence length {x.shape[1]} exceeds max_len={self.max_len}")


class SinusoidalPositionalEncoding(_PositionalEncoding):
    """Adds :func:`sinusoidal_positions` to a ``(B, L, dim)`` sequence (no parameters)."""

    def __init__(self, dim: int, max_len: int = 1024):
        super().__init__()
        self.dim, self.max_len = dim, max_len
        self.register_buffer("table", sinusoidal_positions(max_len, dim), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        return x + self.table[: x.shape[1]]


class LearnedPositionalEncoding(_PositionalEncoding):
    """Adds a learned vector per position to a ``(B, L, dim)`` sequence (BERT, MaskGIT).

    Initialised from N(0, ``init_std``²)."""

    def __init__(self, dim: int, max_len: int, init_std: float = 0.02):
        super().__init__()
        if dim < 1 or max_len < 1:
            raise ValueError(f"dim and max_len must be positive, got dim={dim}, max_len={max_len}")
        self.dim, self.max_len = dim, max_len
        self.table = nn.Parameter(torch.randn(max_len, dim) * init_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        return x + self.table[: x.shape[1]]


class FP32RMSNorm(nn.RMSNorm):
    """RMSNorm computed in fp32 and returned in the input's precision. Under bf16 autocast the
    input arrives in bf16 while the gain stays fp32; PyTorch's fused kernel wants one dtype, and a
    norm is where bf16's rounding hurts most, so the statistics are taken in fp32."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.float32:
            return super().forward(x)
        return super().forward(x.float()).to(x.dtype)


def make_norm(norm: str, dim: int) -> nn.Module:
    """``"layer"``: LayerNorm (Ba et al. 2016); ``"rms"``: RMSNorm (Zhang & Sennrich 2019),
    x / sqrt(mean(x²) + eps) · g, which skips LayerNorm's centring and bias."""
    if norm == "layer":
        return nn.LayerNorm(dim)
    if norm == "rms":
        return FP32RMSNorm(dim, eps=1e-6)
    raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")


class EncoderLayer(nn.Module):
    """One pre-norm transformer layer (Xiong et al. 2020):

    ``x = x + Dropout(Attention(Norm(x)))``, then ``x = x + Dropout(MLP(Norm(x)))``, with
    ``MLP = Linear(dim, mlp_ratio·dim) → GELU → Dropout → Linear(·, dim)``.
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
        *,
        norm: str = "layer",
        head_dim: int | None = None,
    ):
        super().__init__()
        if mlp_ratio <= 0:
            raise ValueError(f"mlp_ratio must be positive, got {mlp_ratio}")
        hidden = max(1, round(dim * mlp_ratio))
        self.norm_attention = make_norm(norm, dim)
        self.attention = MultiHeadAttention(dim, heads, head_dim=head_dim, dropout=dropout)
        self.norm_mlp = make_norm(norm, dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, dim)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, return_weights: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """``(B, L, dim)`` -> ``(B, L, dim)`` (and the ``(B, heads, L, L)`` weights if asked)."""
        if return_weights:
            attended, weights = self.attention(self.norm_attention(x), mask=mask, return_weights=True)
        else:  # without weights, attention runs in the fused kernel
            attended, weights = self.attention(self.norm_attention(x), mask=mask), None
        x = x + self.dropout(attended)
        x = x + self.dropout(self.mlp(self.norm_mlp(x)))
        return (x, weights) if return_weights else x


class TransformerEncoder(nn.Module):
    """A bidirectional transformer: ``depth`` pre-norm :class:`EncoderLayer` s and a final
    norm. Every position attends to every other (unless a mask says otherwise), as in BERT.

    It adds no positional information itself: add a positional encoding to the input, or the
    encoder is permutation equivariant (permuting the input tokens permutes the outputs).

    Args:
        dim: token vector size; depth: number of layers; heads: attention heads per layer.
        mlp_ratio: hidden size of each MLP as a multiple of ``dim``.
        dropout: dropout in attention, MLPs and residual branches (training only).
        norm: ``"layer"`` (LayerNorm) or ``"rms"`` (RMSNorm).
        head_dim: size of each attention head (default ``dim // heads``).
    """

    def __init__(
        self,
        dim: int,
        depth: int,
        heads: int,
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
        *,
        norm: str = "layer",
        head_dim: int | None = None,
    ):
        super().__init__()
        if depth < 1:
            raise ValueError(f"depth must be positive, got {depth}")
        self.dim = dim
        self.layers = nn.ModuleList(
            EncoderLayer(dim, heads, mlp_ratio, dropout, norm=norm, head_dim=head_dim) for _ in range(depth)
        )
        self.final_norm = make_norm(norm, dim)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, return_weights: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """``(B, L, dim)`` -> ``(B, L, dim)``; with ``return_weights`` also the list of each
        layer's attention weights ``(B, heads, L, L)``."""
        if x.ndim != 3 or x.shape[-1] != self.dim:
            raise ValueError(f"x must be (batch, length, {self.dim}), got {tuple(x.shape)}")
        all_weights = []
        for layer in self.layers:
            if return_weights:
                x, weights = layer(x, mask=mask, return_weights=True)
                all_weights.append(weights)
            else:  # without weights, attention runs in the fused kernel
                x = layer(x, mask=mask)
        x = self.final_norm(x)
        return (x, all_weights) if return_weights else x
