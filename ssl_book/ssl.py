"""Self-supervised joint-embedding losses, projector heads and IterNorm.

Every loss is a pure function of two ``(batch, dim)`` embeddings ``z1``, ``z2`` of two views of
the same ``batch`` series (row ``i`` of ``z1`` and row ``i`` of ``z2`` are a positive pair) and
returns a scalar tensor. Each follows its paper's formula; where the NC-VQVAE thesis code
scales differently, the docstring says so and an option reproduces it.

* :func:`info_nce_loss`: NT-Xent, the contrastive loss of SimCLR (Chen et al. 2020), a form of
  InfoNCE (van den Oord et al. 2018).
* :func:`barlow_twins_loss`: Barlow Twins (Zbontar et al. 2021).
* :func:`vicreg_loss`: VICReg (Bardes, Ponce, LeCun 2022), built from
  :func:`invariance_term`, :func:`variance_term` and :func:`covariance_term`.
* :func:`vibcreg_loss`: VIbCReg (Lee & Aune 2021), VICReg with
  :func:`normalized_covariance_term`; used with :class:`IterNorm` at the end of the projector.
* :func:`vcreg_loss`: the variance and covariance terms alone (Mialon et al. 2024).
* :func:`effective_rank` and :func:`collapse_diagnostics`: is a batch of projector outputs
  collapsing? Tensors on the batch's device, cheap enough to log at every training step.

Taught in the chapter "Self-supervised learning".
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


# ----------------------------------------------------------------------------- input checks
def _check_embeddings(z: torch.Tensor, name: str = "z") -> None:
    if not isinstance(z, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(z).__name__}")
    if z.ndim != 2:
        raise ValueError(f"{name} must have shape (batch, dim), got {tuple(z.shape)}")
    if z.shape[0] < 2:
        raise ValueError(
            f"{name} holds a batch of {z.shape[0]}: these losses compare samples "
            f"within a batch and need at least 2"
        )
    if not z.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got {z.dtype}")


def _check_pair(z1: torch.Tensor, z2: torch.Tensor) -> None:
    _check_embeddings(z1, "z1")
    _check_embeddings(z2, "z2")
    if z1.shape != z2.shape:
        raise ValueError(
            f"z1 and z2 must have the same shape (batch, dim), got {tuple(z1.shape)} and {tuple(z2.shape)}"
        )


def _off_diagonal(matrix: torch.Tensor) -> torch.Tensor:
    """The ``d * (d - 1)`` off-diagonal entries of a ``(d, d)`` matrix, flattened."""
    d = matrix.shape[0]
    return matrix.flatten()[:-1].view(d - 1, d + 1)[:, 1:].flatten()


def off_diagonal_square_sum(a: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    """``sum_{i != j} (a^T b)_ij^2`` for ``(N, D)`` matrices ``a`` and ``b`` (default ``b = a``).

    The ``(D, D)`` matrix ``a^T b`` is never formed when the batch is smaller than the width
    (``N < D``, as with a 4096-wide projector and a batch of 128): by the trace identity
    ``||a^T b||_F^2 = sum_{n, m} (a a^T)_{nm} (b b^T)_{nm}`` two ``(N, N)`` Gram matrices suffice,
    and the diagonal is ``(a^T b)_ii = sum_n a_ni b_ni``. That is ``D / N`` times fewer operations
    (32 for the thesis's head) and no ``D x D`` buffers. The Gram route runs in float64, since it
    subtracts the diagonal from the full sum.
    """
    b = a if b is None else b
    diagonal = (a * b).sum(0)
    if a.shape[0] >= a.shape[1]:
        return (a.T @ b).pow(2).sum() - diagonal.pow(2).sum()
    a64 = a.double()
    gram_a = a64 @ a64.T
    gram_b = gram_a if b is a else b.double() @ b.double().T
    full = (gram_a * gram_b).sum()
    return (full - diagonal.double().pow(2).sum()).to(a.dtype)


# ----------------------------------------------------------------------------- contrastive
def info_nce_loss(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """NT-Xent (normalised temperature-scaled cross-entropy), the loss of SimCLR.

    The ``2N`` embeddings are L2-normalised; with cosine similarities
    ``s_ij = <u_i, u_j> / temperature``, the loss of anchor ``i`` with positive ``p(i)`` (its
    other view) is ``-log( exp(s_{i,p(i)}) / sum_{k != i} exp(s_ik) )``, averaged over all
    ``2N`` anchors. The other ``2N - 2`` embeddings of the batch are the negatives.

    Args:
        z1, z2: ``(N, D)`` embeddings of the two views, ``N >= 2``.
        temperature: ``tau > 0``; small values sharpen the softmax (SimCLR used 0.1 to 0.5).

    Returns:
        Scalar loss; ``log(2N - 1)`` when all similarities are equal.
    """
    _check_pair(z1, z2)
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    n = z1.shape[0]
    u = F.normalize(torch.cat([z1, z2]), dim=1)  # (2N, D)
    logits = u @ u.T / temperature  # (2N, 2N)
    self_mask = torch.eye(2 * n, dtype=torch.bool, device=u.device)
    logits = logits.masked_fill(self_mask, float("-inf"))  # an anchor is not its own negative
    positives = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(u.device)
    return F.cross_entropy(logits, positives)


# ----------------------------------------------------------------------------- Barlow Twins
def cross_correlation(z1: torch.Tensor, z2: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """The ``(D, D)`` cross-correlation matrix of Barlow Twins.

    Each dimension is standardised over the batch (mean 0, biased variance 1, as batch norm
    without affine parameters does), then ``C = z1_hat^T z2_hat / N``, so
    ``C_ij`` is the correlation between dimension ``i`` of view 1 and dimension ``j`` of
    view 2, in ``[-1, 1]``.
    """
    _check_pair(z1, z2)
    return _standardise(z1, eps).T @ _standardise(z2, eps) / z1.shape[0]


def _standardise(z: torch.Tensor, eps: float) -> torch.Tensor:
    """Each column to mean 0 and (biased) variance 1, as batch norm without affine parameters."""
    return (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + eps)


def barlow_twins_loss(
    z1: torch.Tensor, z2: torch.Tensor, lambd: float = 5e-3, scale_by_dim: bool = False, eps: float = 1e-5
) -> torch.Tensor:
    """Barlow Twins: ``sum_i (1 - C_ii)^2 + lambd * sum_{i != j} C_ij^2``.

    ``C`` is :func:`cross_correlation` (computed without forming it, see
    :func:`off_diagonal_square_sum`). The first term makes every dimension invariant to the
    augmentation (perfect correlation between views), the second decorrelates dimensions so
    they do not all carry the same information (redundancy reduction).

    Args:
        z1, z2: ``(N, D)`` embeddings, ``N >= 2``.
        lambd: weight of the off-diagonal term (paper: 5e-3).
        scale_by_dim: divide by ``D``. The NC-VQVAE thesis code does this (with ``D = 4096``),
            so its loss is the paper's divided by ``D``; ``True`` reproduces it. (The thesis
            code also standardises with the unbiased standard deviation, which caps ``C_ii`` at
            ``(N - 1) / N``; a negligible difference for ``N = 128`` that this function does not
            copy.)
        eps: added to each variance before the square root, as batch norm does.

    Returns:
        Scalar loss, 0 exactly when ``C`` is the identity.
    """
    if lambd < 0:
        raise ValueError(f"lambd must be >= 0, got {lambd}")
    _check_pair(z1, z2)
    n, d = z1.shape
    s1, s2 = _standardise(z1, eps), _standardise(z2, eps)  # C = s1^T s2 / N, never formed
    on_diagonal = (1 - (s1 * s2).sum(0) / n).pow(2).sum()
    off_diagonal = off_diagonal_square_sum(s1, s2) / n**2
    loss = on_diagonal + lambd * off_diagonal
    return loss / d if scale_by_dim else loss


# ----------------------------------------------------------------------------- VICReg family
def invariance_term(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """``s(Z, Z') = (1/N) sum_i ||z_i - z'_i||^2 / D``: the mean squared error between views."""
    _check_pair(z1, z2)
    return F.mse_loss(z1, z2)


def variance_term(z: torch.Tensor, gamma: float = 1.0, eps: float = 1e-4) -> torch.Tensor:
    """``v(Z) = (1/D) sum_j max(0, gamma - sqrt(Var(z_j) + eps))``, a hinge on each dimension's std.

    ``Var`` is the unbiased variance over the batch. Zero when every dimension has a standard
    deviation of at least ``gamma``; it is what keeps the embeddings from collapsing to a point.
    """
    _check_embeddings(z)
    std = torch.sqrt(z.var(0) + eps)
    return F.relu(gamma - std).mean()


def covariance_matrix(z: torch.Tensor) -> torch.Tensor:
    """``(D, D)`` sample covariance of the columns of ``z`` (``(N, D)``, divided by ``N - 1``)."""
    _check_embeddings(z)
    centred = z - z.mean(0)
    return centred.T @ centred / (z.shape[0] - 1)


def covariance_term(z: torch.Tensor) -> torch.Tensor:
    """VICReg's ``c(Z) = (1/D) sum_{i != j} Cov(Z)_ij^2``: penalises correlated dimensions."""
    _check_embeddings(z)
    centred = z - z.mean(0)
    return off_diagonal_square_sum(centred) / ((z.shape[0] - 1) ** 2 * z.shape[1])


def normalized_covariance_term(z: torch.Tensor) -> torch.Tensor:
    """VIbCReg's covariance term: the mean over the ``D x D`` matrix of squared off-diagonal
    entries of ``Zhat^T Zhat``, where ``Zhat`` is ``z`` centred and with every column scaled to
    unit L2 norm, so the matrix is the correlation matrix: ``(1/D^2) sum_{i != j} corr_ij^2``.

    Unlike :func:`covariance_term` it does not depend on the scale of the embeddings, which
    makes its weight easier to choose.
    """
    _check_embeddings(z)
    zhat = F.normalize(z - z.mean(0), dim=0)
    return off_diagonal_square_sum(zhat) / z.shape[1] ** 2


def vcreg_loss(z: torch.Tensor, var_weight: float = 25.0, cov_weight: float = 1.0) -> torch.Tensor:
    """VCReg: ``var_weight * v(Z) + cov_weight * c(Z)`` on one batch of embeddings.

    The variance-covariance regulariser of VICReg on its own, studied by Mialon, Balestriero and
    LeCun (2024), who show it drives the features towards pairwise independence. It has no
    invariance term: add it to another objective (an invariance term, a supervised loss) to
    keep that objective from collapsing the embedding. VICReg is
    ``sim_weight * invariance_term(z1, z2) + vcreg_loss(z1) + vcreg_loss(z2)``.

    Args:
        z: ``(N, D)`` embeddings, ``N >= 2``.
    """
    return var_weight * variance_term(z) + cov_weight * covariance_term(z)


def vicreg_loss(
    z1: torch.Tensor,
    z2: torch.Tensor,
    sim_weight: float = 25.0,
    var_weight: float = 25.0,
    cov_weight: float = 1.0,
) -> torch.Tensor:
    """VICReg: ``lambda s(Z, Z') + mu [v(Z) + v(Z')] + nu [c(Z) + c(Z')]``.

    :func:`invariance_term` pulls the two views together, :func:`variance_term` keeps every
    dimension's std above 1, :func:`covariance_term` decorrelates dimensions. Defaults are the
    paper's ``lambda = mu = 25``, ``nu = 1``. (The official VICReg code averages the two
    variance terms instead of adding them, i.e. it uses ``mu / 2``; this function follows the
    paper's formula, as the thesis code does.)

    Args:
        z1, z2: ``(N, D)`` embeddings, ``N >= 2``.
    """
    _check_pair(z1, z2)
    return (
        sim_weight * invariance_term(z1, z2)
        + var_weight * (variance_term(z1) + variance_term(z2))
        + cov_weight * (covariance_term(z1) + covariance_term(z2))
    )


def vibcreg_loss(
    z1: torch.Tensor,
    z2: torch.Tensor,
    sim_weight: float = 25.0,
    var_weight: float = 25.0,
    cov_weight: float = 200.0,
) -> torch.Tensor:
    """VIbCReg: VICReg with the normalised covariance term.

    ``lambda s(Z, Z') + mu [v(Z) + v(Z')] + nu [c_hat(Z) + c_hat(Z')]`` with ``c_hat`` the
    :func:`normalized_covariance_term`; the paper's defaults are ``lambda = mu = 25``,
    ``nu = 200``, and the projector ends with :class:`IterNorm`. The NC-VQVAE thesis uses
    ``nu = 100`` and multiplies the whole loss by 0.01: call
    ``0.01 * vibcreg_loss(z1, z2, cov_weight=100.0)`` to reproduce it.

    Args:
        z1, z2: ``(N, D)`` embeddings, ``N >= 2``.
    """
    _check_pair(z1, z2)
    return (
        sim_weight * invariance_term(z1, z2)
        + var_weight * (variance_term(z1) + variance_term(z2))
        + cov_weight * (normalized_covariance_term(z1) + normalized_covariance_term(z2))
    )


# ----------------------------------------------------------------------------- diagnostics
def effective_rank(z: torch.Tensor) -> torch.Tensor:
    """Roy and Vetterli's (2007) effective rank of a batch of embeddings ``z`` ``(N, D)``.

    With ``sigma_1 >= sigma_2 >= ...`` the singular values of the centred batch and
    ``p_k = sigma_k / sum_j sigma_j``, it is ``exp(-sum_k p_k log p_k)``: exactly ``r`` when
    ``r`` singular values are equal and the rest zero, close to 1 when one direction carries
    almost everything, and at most ``min(N - 1, D)`` (centring removes one direction). A batch
    of identical rows (complete collapse) has no spread at all: 0 by convention. A batch with a
    NaN or an infinity gives NaN.

    For logging during training it stays on ``z``'s device (no copy to the CPU; Apple's MPS,
    which lacks float64, is the exception): the singular values are the square roots of the
    eigenvalues of the smaller Gram matrix (``N x N`` or ``D x D``), computed in float64. (In
    float32 the square root would turn rounding errors of ``1e-7 sigma_1^2`` in the
    eigenvalues into spurious singular values of ``3e-4 sigma_1``, which add to the entropy;
    in float64 they are about ``1e-8 sigma_1``, and the result is accurate to about 1e-5.)
    On CUDA the eigenvalue solver's error check may synchronise with the host once per call.
    :func:`ssl_book.representation.effective_rank` computes the same number with NumPy, for a
    whole dataset. Not meant as a loss: no gradient is intended to flow through it.

    Returns:
        A 0-d float32 tensor.
    """
    _check_embeddings(z)
    work = z.detach()
    if work.device.type == "mps":  # Apple GPUs have neither float64 nor eigvalsh
        work = work.cpu()
    centred = work.double() - work.double().mean(0)
    finite = torch.isfinite(centred).all()  # a diverged run logs NaN instead of raising
    centred = torch.where(finite, centred, torch.zeros_like(centred))
    gram = centred @ centred.T if centred.shape[0] <= centred.shape[1] else centred.T @ centred
    sigma = torch.linalg.eigvalsh(gram).clamp_min(0).sqrt()
    total = sigma.sum()
    entropy = torch.special.entr(sigma / total.clamp_min(torch.finfo(total.dtype).tiny)).sum()
    rank = torch.where(total > 0, entropy.exp(), torch.zeros_like(total))
    return torch.where(finite, rank, torch.full_like(rank, float("nan"))).float().to(z.device)


def collapse_diagnostics(z: torch.Tensor) -> dict[str, torch.Tensor]:
    """Two measures of collapse of a batch of embeddings ``z`` ``(N, D)``, as 0-d float32
    tensors on ``z``'s device:

    * ``std``: the standard deviation of each dimension over the batch (unbiased), averaged
      over the ``D`` dimensions. It goes to 0 under *complete* collapse (every input gets the
      same embedding). It has a scale, so compare it along one run, not across heads.
    * ``erank``: :func:`effective_rank`, scale-free. It goes towards 1 under *dimensional*
      collapse (the embeddings vary along only a few directions) and is at most
      ``min(N - 1, D)``.
    """
    _check_embeddings(z)
    return {"std": z.detach().float().std(0).mean(), "erank": effective_rank(z)}


# ----------------------------------------------------------------------------- modules
class IterNorm(nn.Module):
    """Iterative normalisation (Huang et al. 2019): group-wise whitening by Newton's iterations.

    The ``D`` features are split into groups of ``group_size``. For each group, with the
    centred batch ``X`` (``group_size x N``), ``Sigma = X X^T / N + eps I`` is normalised by
    its trace, ``Sigma_N = Sigma / tr(Sigma)``, and Newton-Schulz iterations
    ``P_{k+1} = (3 P_k - P_k^3 Sigma_N) / 2`` from ``P_0 = I`` approximate ``Sigma_N^{-1/2}``;
    the output is ``P_T X / sqrt(tr(Sigma))``. With many iterations the output covariance of
    each group is the identity (full whitening); the usual ``T = 5`` stops early, which
    shrinks the spread of the covariance's eigenvalues without equalising them (Huang et al.
    argue this partial whitening generalises better). In floating point the iteration is only
    stable for a limited number of steps: once converged, rounding errors that do not commute
    with ``Sigma_N`` are amplified, and beyond roughly 15 to 20 iterations (fewer for
    ill-conditioned covariances) the output blows up, so keep ``iterations`` small. In eval
    mode running averages of the mean and the whitening matrix are used, as in batch norm.

    VIbCReg (and the thesis) put it after the projector's last linear layer with
    ``D = 4096`` = 64 groups of 64 features, ``T = 5``.

    Input and output: ``(N, D)``.
    """

    def __init__(
        self,
        num_features: int,
        group_size: int = 64,
        iterations: int = 5,
        eps: float = 1e-5,
        momentum: float = 0.1,
    ):
        super().__init__()
        if num_features < 1 or group_size < 1 or num_features % group_size:
            raise ValueError(
                f"num_features ({num_features}) must be a positive multiple of group_size ({group_size})"
            )
        if iterations < 1:
            raise ValueError(f"iterations must be >= 1, got {iterations}")
        self.num_features, self.group_size, self.iterations = num_features, group_size, iterations
        self.eps, self.momentum = eps, momentum
        groups = num_features // group_size
        self.register_buffer("running_mean", torch.zeros(groups, group_size, 1))
        self.register_buffer("running_whitening", torch.eye(group_size).repeat(groups, 1, 1))

    def whitening_matrix(self, centred: torch.Tensor) -> torch.Tensor:
        """``(G, c, c)`` approximation of ``Sigma^{-1/2}`` for centred groups ``(G, c, N)``."""
        groups, c, n = centred.shape
        eye = torch.eye(c, dtype=centred.dtype, device=centred.device).expand(groups, c, c)
        sigma = centred @ centred.transpose(1, 2) / n + self.eps * eye
        trace = sigma.diagonal(dim1=1, dim2=2).sum(-1).view(groups, 1, 1)
        sigma_n = sigma / trace
        p = 1.5 * eye - 0.5 * sigma_n  # the first step from P_0 = I, without products
        for _ in range(self.iterations - 1):
            p = 1.5 * p - 0.5 * torch.linalg.matrix_power(p, 3) @ sigma_n
        return p / trace.sqrt()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Whiten ``z`` ``(N, D)``; always in the buffers' precision (fp32), also under bf16
        autocast, where Newton's iterations would lose the small eigenvalues."""
        if z.ndim != 2 or z.shape[1] != self.num_features:
            raise ValueError(f"IterNorm expects (batch, {self.num_features}), got {tuple(z.shape)}")
        with torch.autocast(z.device.type, enabled=False):
            return self._whiten(z.to(self.running_mean.dtype))

    def _whiten(self, z: torch.Tensor) -> torch.Tensor:
        n = z.shape[0]
        x = z.T.reshape(-1, self.group_size, n)  # (G, c, N)
        if self.training:
            if n < 2:
                raise ValueError("IterNorm needs a batch of at least 2 in training mode")
            mean = x.mean(-1, keepdim=True)
            centred = x - mean
            whitening = self.whitening_matrix(centred)
            with torch.no_grad():
                self.running_mean.lerp_(mean, self.momentum)
                self.running_whitening.lerp_(whitening, self.momentum)
        else:
            centred, whitening = x - self.running_mean, self.running_whitening
        return (whitening @ centred).reshape(self.num_features, n).T

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, group_size={self.group_size}, iterations={self.iterations}, "
            f"eps={self.eps}, momentum={self.momentum}"
        )


class Projector(nn.Sequential):
    """The projector head: ``Linear-BN-ReLU`` blocks, then a final ``Linear`` (and optionally
    :class:`IterNorm`).

    ``Projector(128, (4096, 4096, 4096))`` is the thesis's head:
    ``Linear(128, 4096)-BN-ReLU-Linear(4096, 4096)-BN-ReLU-Linear(4096, 4096)`` (about 34M
    parameters); add ``iternorm=True`` for VIbCReg (64 groups of 64 features, ``T = 5``).

    Args:
        in_dim: size of the representation it reads.
        widths: output size of every linear layer; the last one is the embedding size.
        iternorm: end with :class:`IterNorm` (``group_size`` features per group).

    Input ``(N, in_dim)``, output ``(N, widths[-1])``.
    """

    def __init__(
        self,
        in_dim: int,
        widths: Sequence[int] = (4096, 4096, 4096),
        *,
        iternorm: bool = False,
        group_size: int = 64,
        iterations: int = 5,
    ):
        if in_dim < 1 or not widths or any(w < 1 for w in widths):
            raise ValueError(
                f"need in_dim >= 1 and a non-empty list of positive widths, got {in_dim}, {widths}"
            )
        layers: list[nn.Module] = []
        sizes = [in_dim, *widths]
        for d_in, d_out in zip(sizes[:-2], sizes[1:-1]):
            layers += [nn.Linear(d_in, d_out), nn.BatchNorm1d(d_out), nn.ReLU()]
        layers.append(nn.Linear(sizes[-2], sizes[-1]))
        if iternorm:
            layers.append(IterNorm(sizes[-1], group_size=min(group_size, sizes[-1]), iterations=iterations))
        super().__init__(*layers)

    def pair(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(self(a), self(b))`` for two views ``(N, in_dim)``, with one pass over the weights.

        The linear layers see both views stacked as one ``(2N, in_dim)`` batch, so each weight
        matrix is read once and gets one gradient instead of two that autograd must add; batch
        norm and IterNorm still normalise each view with its own batch statistics (and update
        their running averages as two calls would, ``a`` first). The thesis's 4096-wide head at
        batch 20 is limited by memory traffic, not arithmetic, so this halves its cost.
        """
        if a.shape != b.shape:
            raise ValueError(f"the two views must have one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
        n = len(a)
        h = torch.cat([a, b])
        for layer in self:
            if isinstance(layer, (nn.BatchNorm1d, IterNorm)) and layer.training:
                h = torch.cat([layer(h[:n]), layer(h[n:])])  # batch statistics per view
            else:
                h = layer(h)
        return h[:n], h[n:]
