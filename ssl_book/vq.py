"""Vector quantization: a codebook of ``K`` vectors, nearest-code lookup, and the tricks that
keep the codebook alive.

Taught in the chapter "Vector quantization and VQ-VAE". A :class:`VectorQuantizer` maps every
position of an encoder output ``z`` of shape ``(batch, dim, *spatial)`` to its nearest code
``e_k`` (squared Euclidean distance) and returns

* ``z_q``: the quantized tensor with the straight-through estimator of Bengio et al.,
  ``z + sg(e - z)``: the forward value is the code, the backward pass copies the gradient of
  ``z_q`` onto ``z`` unchanged (computed as ``sg(e) + (z - sg(z))``, which gives the code
  exactly rather than up to rounding);
* ``indices``: the code of every position, ``(batch, *spatial)``;
* ``loss``: the auxiliary loss to add to the reconstruction loss.

The codebook learns in one of two ways (van den Oord et al. 2017):

* ``ema=False``: a gradient on the codebook loss ``mean ||sg(z) - e||^2``;
* ``ema=True`` (the thesis's choice): exponential moving averages of the number of vectors
  assigned to each code and of their sum, with Laplace smoothing (as in lucidrains'
  ``EuclideanCodebook``, which the thesis code copies). No gradient reaches the codebook.

In both cases the encoder is pulled towards its codes by the commitment loss
``commitment_weight * mean ||z - sg(e)||^2``. Squared norms are averaged over elements
(``F.mse_loss``), as in the thesis code. Optional switches: k-means initialisation of the
codebook on the first training batch, dead-code revival, and the orthogonal codebook
regulariser of Shin et al. (2023).

Codebook updates (EMA, k-means, revival) happen only in training mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ssl_book import info
from ssl_book.distributed import all_reduce_sum_


@dataclass
class VQOutput:
    """What :meth:`VectorQuantizer.forward` returns.

    Attributes:
        z_q: ``(batch, dim, *spatial)`` quantized vectors (exactly the codes) with the
            straight-through gradient.
        indices: ``(batch, *spatial)`` long, the chosen code at every position.
        loss: scalar auxiliary loss: ``commitment_weight * commitment_loss`` (+ ``codebook_loss``
            when the codebook is learned by gradient) (+ ``orthogonal_weight * orthogonal_loss``).
        commitment_loss: ``mean ||z - sg(e)||^2`` (unweighted).
        codebook_loss: ``mean ||sg(z) - e||^2``; zero (and without gradient) when ``ema=True``.
        orthogonal_loss: :func:`orthogonal_loss` of the codebook; zero when its weight is 0.
        perplexity: ``exp(entropy)`` of the code usage in this batch (a 0-d tensor, no grad).
    """

    z_q: torch.Tensor
    indices: torch.Tensor
    loss: torch.Tensor
    commitment_loss: torch.Tensor
    codebook_loss: torch.Tensor
    orthogonal_loss: torch.Tensor
    perplexity: torch.Tensor


def flatten_positions(z: torch.Tensor) -> torch.Tensor:
    """``(batch, dim, *spatial)`` -> ``(batch * prod(spatial), dim)``: one row per position."""
    return z.movedim(1, -1).reshape(-1, z.shape[1])


def unflatten_positions(rows: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """Inverse of :func:`flatten_positions` for a target ``shape = (batch, dim, *spatial)``."""
    batch, dim, *spatial = shape
    return rows.reshape(batch, *spatial, dim).movedim(-1, 1)


def squared_distances(rows: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """``||rows_i - codebook_k||^2`` for every pair: ``(N, D), (K, D) -> (N, K)``.

    Always computed in at least fp32, also under bf16 autocast: the distances decide which
    code a latent gets (argmin) and the stage-2 targets (a softmax over them), and bf16's 8-bit
    mantissa would reorder near-equal distances (on latents of norm ~24, a code or two in a few
    hundred changed).
    """
    dtype = torch.promote_types(torch.promote_types(rows.dtype, codebook.dtype), torch.float32)
    with torch.autocast(rows.device.type, enabled=False):
        rows, codebook = rows.to(dtype), codebook.to(dtype)
        return (
            rows.pow(2).sum(1, keepdim=True) - 2 * rows @ codebook.T + codebook.pow(2).sum(1)[None, :]
        ).clamp_min(0)


def orthogonal_loss(codebook: torch.Tensor) -> torch.Tensor:
    """The orthogonal codebook regulariser of Shin et al. (2023), their eq. 2.

    ``(1 / K^2) * || E E^T - I ||_F^2`` where the rows of ``E`` are the L2-normalised codes:
    it is 0 exactly when the codes are pairwise orthogonal (possible only for ``K <= D``).

    Args:
        codebook: ``(K, D)``.
    """
    if codebook.ndim != 2:
        raise ValueError(f"codebook must have shape (num_codes, dim), got {tuple(codebook.shape)}")
    normed = F.normalize(codebook, dim=1)
    k = codebook.shape[0]
    gram = normed @ normed.T
    return (gram - torch.eye(k, device=codebook.device, dtype=codebook.dtype)).pow(2).sum() / k**2


def kmeans_plus_plus(
    rows: torch.Tensor, num_clusters: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """k-means++ seeding (Arthur and Vassilvitskii 2007): each new centre is a row drawn with
    probability proportional to its squared distance to the nearest centre chosen so far.

    ``(N, D) -> (K, D)``.
    """
    first = torch.randint(0, len(rows), (1,), generator=generator).item()
    centres = [rows[first]]
    closest = squared_distances(rows, rows[first][None])[:, 0]
    for _ in range(1, num_clusters):
        weights = closest.double().cpu()
        if weights.sum() <= 0:  # fewer distinct rows than clusters
            weights = torch.ones_like(weights)
        pick = torch.multinomial(weights, 1, generator=generator).item()
        centres.append(rows[pick])
        closest = torch.minimum(closest, squared_distances(rows, rows[pick][None])[:, 0])
    return torch.stack(centres)


def kmeans(
    rows: torch.Tensor, num_clusters: int, iterations: int = 10, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Lloyd's k-means (assign every row to its nearest centre, move every centre to the mean
    of its rows, repeat) from a k-means++ start.

    Args:
        rows: ``(N, D)`` data.
        num_clusters: ``K``.
        iterations: Lloyd iterations.
        generator: a CPU ``torch.Generator`` for the random start.

    Returns:
        ``(centres (K, D), counts (K,))``, the counts of the final assignment. A centre whose
        cluster empties keeps its position.
    """
    if rows.ndim != 2 or len(rows) == 0:
        raise ValueError(f"rows must have shape (N, D) with N >= 1, got {tuple(rows.shape)}")
    if num_clusters < 1 or iterations < 0:
        raise ValueError(f"need num_clusters >= 1 and iterations >= 0, got {num_clusters}, {iterations}")
    centres = kmeans_plus_plus(rows, num_clusters, generator)
    for step in range(iterations + 1):
        assignment = squared_distances(rows, centres).argmin(1)
        counts = torch.bincount(assignment, minlength=num_clusters).to(rows.dtype)
        if step == iterations:
            break
        sums = torch.zeros_like(centres).index_add_(0, assignment, rows)
        filled = counts > 0
        centres[filled] = sums[filled] / counts[filled, None]
    return centres, counts


class VectorQuantizer(nn.Module):
    """Nearest-code quantization with a straight-through gradient.

    Args:
        num_codes: codebook size ``K`` (the thesis: 32).
        dim: code dimension ``D``, the channel dimension of the input (the thesis: 64).
        ema: learn the codebook with exponential moving averages (True, the thesis) or with
            the codebook loss by gradient descent (False, van den Oord et al.).
        decay: EMA decay, in ``[0, 1)`` (the thesis: 0.9; TimeVQVAE: 0.8). Also the decay of
            the usage counts that dead-code revival watches.
        eps: Laplace smoothing of the EMA cluster sizes (> 0).
        commitment_weight: ``beta`` of the commitment loss (>= 0; the thesis: 1.0).
        kmeans_init: initialise the codebook with k-means (10 iterations) on the first
            training batch instead of keeping the random-normal initialisation.
        dead_code_threshold: codes whose EMA usage count (vectors per batch) falls below
            this are replaced by random encoder outputs of the current batch (0 = off).
        orthogonal_weight: weight of :func:`orthogonal_loss` (>= 0). Needs ``ema=False``:
            the EMA update overwrites the codebook every step, so a gradient on it would have
            no lasting effect.

    Buffers: ``cluster_size`` ``(K,)`` (EMA of usage counts) and, with EMA, ``embed_avg``
    ``(K, D)`` (EMA of the sums of assigned vectors).
    """

    def __init__(
        self,
        num_codes: int = 32,
        dim: int = 64,
        *,
        ema: bool = True,
        decay: float = 0.9,
        eps: float = 1e-5,
        commitment_weight: float = 1.0,
        kmeans_init: bool = False,
        dead_code_threshold: float = 0.0,
        orthogonal_weight: float = 0.0,
    ) -> None:
        super().__init__()
        if num_codes < 1 or dim < 1:
            raise ValueError(f"num_codes and dim must be positive, got num_codes={num_codes}, dim={dim}")
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must be in [0, 1), got {decay}")
        if eps <= 0:
            raise ValueError(f"eps must be positive, got {eps}")
        for name, value in (
            ("commitment_weight", commitment_weight),
            ("dead_code_threshold", dead_code_threshold),
            ("orthogonal_weight", orthogonal_weight),
        ):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if ema and orthogonal_weight > 0:
            raise ValueError(
                "orthogonal_weight > 0 needs a codebook learned by gradient (ema=False): "
                "the EMA update overwrites the codebook every step"
            )
        self.num_codes, self.dim = num_codes, dim
        self.ema, self.decay, self.eps = ema, decay, eps
        self.commitment_weight = commitment_weight
        self.kmeans_init = kmeans_init
        self.dead_code_threshold = dead_code_threshold
        self.orthogonal_weight = orthogonal_weight

        embed = torch.randn(num_codes, dim)
        if ema:
            self.register_buffer("embed", embed)
            self.register_buffer("embed_avg", embed.clone())
        else:
            self.embed = nn.Parameter(embed)
        self.register_buffer("cluster_size", torch.zeros(num_codes))
        self.register_buffer("initialized", torch.tensor(not kmeans_init))

    @property
    def codebook(self) -> torch.Tensor:
        """The codes, ``(K, D)`` (a parameter when learned by gradient, a buffer with EMA)."""
        return self.embed

    def extra_repr(self) -> str:
        return (
            f"num_codes={self.num_codes}, dim={self.dim}, ema={self.ema}, decay={self.decay}, "
            f"commitment_weight={self.commitment_weight}, kmeans_init={self.kmeans_init}, "
            f"dead_code_threshold={self.dead_code_threshold}, orthogonal_weight={self.orthogonal_weight}"
        )

    # ----------------------------------------------------------------------------- checks
    def _check_input(self, z: torch.Tensor) -> None:
        if not isinstance(z, torch.Tensor):
            raise ValueError(f"z must be a torch.Tensor, got {type(z).__name__}")
        if z.ndim < 2 or z.shape[1] != self.dim:
            raise ValueError(f"z must have shape (batch, dim={self.dim}, *spatial), got {tuple(z.shape)}")
        if not z.is_floating_point():
            raise ValueError(f"z must be a floating-point tensor, got {z.dtype}")
        if z.numel() == 0:
            raise ValueError("z is empty")

    def _check_indices(self, indices: torch.Tensor) -> None:
        if not isinstance(indices, torch.Tensor) or indices.is_floating_point() or indices.is_complex():
            raise ValueError("indices must be an integer tensor")
        if indices.numel() and (indices.min() < 0 or indices.max() >= self.num_codes):
            raise ValueError(
                f"indices must lie in [0, {self.num_codes}), got range "
                f"[{indices.min().item()}, {indices.max().item()}]"
            )

    # ----------------------------------------------------------------------------- lookups
    def nearest(self, z: torch.Tensor) -> torch.Tensor:
        """Index of the nearest code at every position: ``(batch, dim, *spatial) -> (batch, *spatial)``."""
        self._check_input(z)
        rows = flatten_positions(z)
        return squared_distances(rows, self.embed.detach()).argmin(1).reshape(z.shape[0], *z.shape[2:])

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """Code vectors for code indices: ``(batch, *spatial) -> (batch, dim, *spatial)``."""
        self._check_indices(indices)
        return self.embed[indices.long()].movedim(-1, 1)

    def sample_indices(
        self, z: torch.Tensor, temperature: float = 1.0, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Stochastic code assignment from ``softmax(-||z - e_k||^2 / temperature)``.

        The thesis draws its stage-2 training targets this way (temperature 1), following
        TimeVQVAE. ``temperature = 0`` gives the nearest code.

        Args:
            z: ``(batch, dim, *spatial)``.
            temperature: ``>= 0``.
            generator: a ``torch.Generator`` on ``z``'s device, for repeatable draws.

        Returns:
            ``(batch, *spatial)`` long.
        """
        self._check_input(z)
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        if temperature == 0:
            return self.nearest(z)
        rows = flatten_positions(z.detach())
        logits = -squared_distances(rows, self.embed.detach()) / temperature
        probs = torch.softmax(logits, dim=1)
        drawn = torch.multinomial(probs, 1, generator=generator)[:, 0]
        return drawn.reshape(z.shape[0], *z.shape[2:])

    # ----------------------------------------------------------------------------- updates
    @torch.no_grad()
    def _initialise_with_kmeans(self, rows: torch.Tensor) -> None:
        centres, counts = kmeans(rows, self.num_codes)
        counts = counts.clamp_min(1.0)  # an empty cluster keeps its centre under EMA
        self.embed.copy_(centres)
        self.cluster_size.copy_(counts)
        if self.ema:  # consistent statistics: embed_avg / cluster_size = centres
            self.embed_avg.copy_(centres * counts[:, None])
        self.initialized.fill_(True)

    @torch.no_grad()
    def _update(self, rows: torch.Tensor, indices: torch.Tensor) -> None:
        """EMA statistics (and, with ``ema=True``, the codebook), then dead-code revival; in
        the codebook's precision, also under autocast."""
        with torch.autocast(rows.device.type, enabled=False):
            self._update_in_full_precision(rows.to(self.embed.dtype), indices)

    def _update_in_full_precision(self, rows: torch.Tensor, indices: torch.Tensor) -> None:
        one_hot = F.one_hot(indices, self.num_codes).to(rows.dtype)  # (N, K)
        # Under DDP every rank sees part of the batch: sum the statistics over ranks so that all
        # ranks keep the same codebook, the one a single process would have (no-op when alone).
        counts = all_reduce_sum_(one_hot.sum(0))
        self.cluster_size.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        if self.ema:
            sums = all_reduce_sum_(one_hot.T @ rows)
            self.embed_avg.mul_(self.decay).add_(sums, alpha=1 - self.decay)
            total = self.cluster_size.sum()
            smoothed = (self.cluster_size + self.eps) / (total + self.num_codes * self.eps) * total
            self.embed.copy_(self.embed_avg / smoothed[:, None])
        if self.dead_code_threshold > 0:
            self._revive_dead_codes(rows)

    @torch.no_grad()
    def _revive_dead_codes(self, rows: torch.Tensor) -> None:
        dead = self.cluster_size < self.dead_code_threshold
        n_dead = int(dead.sum())
        if n_dead == 0:
            return
        picks = torch.randint(0, len(rows), (n_dead,), device=rows.device)
        fresh = rows[picks]
        self.embed[dead] = fresh.to(self.embed.dtype)
        self.cluster_size[dead] = self.dead_code_threshold
        if self.ema:
            self.embed_avg[dead] = fresh * self.dead_code_threshold

    # ----------------------------------------------------------------------------- forward
    def forward(self, z: torch.Tensor) -> VQOutput:
        """Quantize ``z`` of shape ``(batch, dim, *spatial)``; see :class:`VQOutput`."""
        self._check_input(z)
        rows = flatten_positions(z)
        if self.training and not bool(self.initialized):
            self._initialise_with_kmeans(rows.detach())
        indices = squared_distances(rows.detach(), self.embed.detach()).argmin(1)
        codes = self.embed[indices]  # (N, D)
        z_q = unflatten_positions(codes, z.shape)
        if self.training:
            self._update(rows.detach(), indices)

        zero = z.new_zeros(())
        commitment = F.mse_loss(z, z_q.detach())
        codebook_loss = zero if self.ema else F.mse_loss(z_q, z.detach())
        orthogonal = orthogonal_loss(self.embed) if self.orthogonal_weight > 0 else zero
        loss = self.commitment_weight * commitment + codebook_loss + self.orthogonal_weight * orthogonal

        index_map = indices.reshape(z.shape[0], *z.shape[2:])
        with torch.no_grad():
            perplexity = info.perplexity(info.code_usage(index_map, self.num_codes))
        # The straight-through estimator z + sg(e - z), written as e + (z - sg(z)): the same
        # gradient (the identity onto z), but the forward value is exactly e, not e up to the
        # rounding of z + (e - z). Exact codes keep exact ties where one code fills several
        # positions, so a max-pool over them does not depend on the last bits of z.
        straight_through = z_q.detach() + (z - z.detach())
        return VQOutput(
            z_q=straight_through,
            indices=index_map,
            loss=loss,
            commitment_loss=commitment,
            codebook_loss=codebook_loss,
            orthogonal_loss=orthogonal,
            perplexity=perplexity,
        )
