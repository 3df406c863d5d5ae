"""The two models of the pipeline, as compositions of the book's modules.

* :class:`NCVQVAE`: the thesis's STFT VQ-VAE (:class:`ssl_book.tokenizer.STFTVQVAE`) plus, for
  NC-VQVAE, a second branch: the augmented view is encoded *without* quantization, decoded, and
  an SSL loss (:mod:`ssl_book.ssl`) compares the projected, pooled quantized latent of the
  original with the projected, pooled continuous latent of the view. Its ``forward`` returns
  the loss terms, their sum ``"loss"`` and :data:`DIAGNOSTICS` (logged, never summed):
  :func:`loss_terms` picks the terms.
* :func:`build_prior`: the MaskGIT prior (:class:`ssl_book.maskgit.MaskGIT`) in the thesis's two
  variants.
"""

from __future__ import annotations

import torch
from torch import nn

from ssl_book.distributed import gather_batch
from ssl_book.experiments.config import Stage1Config, Stage2Config
from ssl_book.maskgit import MaskGIT
from ssl_book.ssl import Projector, barlow_twins_loss, collapse_diagnostics, vibcreg_loss
from ssl_book.tokenizer import STFTVQVAE

#: Entries of :meth:`NCVQVAE.forward`'s dict that are measurements, not loss terms: the code
#: perplexity of the batch and, for NC-VQVAE, :func:`ssl_book.ssl.collapse_diagnostics` of the
#: projector outputs of the quantized original (``p1``) and of the view (``p2``): the mean
#: per-dimension standard deviation (``*_std``) and the effective rank (``*_erank``).
DIAGNOSTICS = ("perplexity", "p1_std", "p1_erank", "p2_std", "p2_erank")


def loss_terms(terms: dict) -> dict:
    """The loss terms of a dict like :meth:`NCVQVAE.forward`'s (or a history's ``"terms"``):
    everything except the total ``"loss"`` and the :data:`DIAGNOSTICS`; they add up to the total."""
    return {name: value for name, value in terms.items() if name != "loss" and name not in DIAGNOSTICS}


class NCVQVAE(nn.Module):
    """Stage 1. ``forward(x, x_aug)`` returns every loss term, their total and diagnostics.

    Args:
        length: series length L.
        config: the stage-1 configuration (method, augmentation, weights, sizes).

    Loss (Mathisen et al. 2024, arXiv 2408.16613)::

        L = MSE(x, x̂) + MSE(u, û) + β·commit                       (original branch, quantized)
          + α·[MSE(x', x̂') + MSE(u', û')]                           (view, not quantized)
          + w·SSL(proj(pool(z_q)), proj(pool(z')))
    """

    def __init__(self, length: int, config: Stage1Config):
        super().__init__()
        self.config = config
        self.tokenizer = STFTVQVAE(
            length,
            n_fft=config.n_fft,
            dim=config.dim,
            num_codes=config.num_codes,
            downsampled_width=config.downsampled_width,
            decay=config.ema_decay,
            commitment_weight=config.commitment_weight,
        )
        self.projector = None
        if config.method != "baseline":
            self.projector = Projector(
                2 * config.dim, (config.projector_dim,) * 3, iternorm=config.method == "vibcreg"
            )

    def ssl_loss(self, p1: torch.Tensor, p2: torch.Tensor) -> torch.Tensor:
        c = self.config
        if c.method == "barlowtwins":
            return barlow_twins_loss(p1, p2, lambd=c.bt_lambda, scale_by_dim=c.bt_scale_by_dim)
        return vibcreg_loss(
            p1,
            p2,
            sim_weight=c.vibcreg_sim_weight,
            var_weight=c.vibcreg_var_weight,
            cov_weight=c.vibcreg_cov_weight,
        )

    def forward(self, x: torch.Tensor, x_aug: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """``x``, ``x_aug``: ``(batch, length)``. Returns scalar terms, ``"loss"`` (their sum) and
        the :data:`DIAGNOSTICS` (detached, computed in fp32 after the sum: not part of the loss)."""
        out = self.tokenizer(x)
        terms = {"time": out.time_loss, "stft": out.stft_loss, "vq": out.vq.loss}
        if self.projector is not None:
            if x_aug is None or x_aug.shape != x.shape:
                raise ValueError(f"NC-VQVAE needs an augmented view shaped like x {tuple(x.shape)}")
            z_aug = self.tokenizer.encode(x_aug)
            x_hat_aug, u_hat_aug = self.tokenizer.decode(z_aug)
            time_aug, stft_aug = self.tokenizer.reconstruction_loss(x_aug, x_hat_aug, u_hat_aug)
            terms["aug_recon"] = self.config.aug_recon_weight * (time_aug + stft_aug)
            # Under DDP the SSL loss sees the global batch: its statistics (cross-correlation,
            # variance, covariance) are batch-level, so each rank's half would change the objective.
            p1, p2 = self.projector.pair(
                gather_batch(self.tokenizer.pooled(out.vq.z_q).float()),
                gather_batch(self.tokenizer.pooled(z_aug).float()),
            )
            terms["ssl"] = self.config.effective_ssl_weight * self.ssl_loss(p1.float(), p2.float())
        terms["loss"] = sum(terms.values())
        terms["perplexity"] = out.vq.perplexity
        if self.projector is not None:
            with torch.no_grad(), torch.autocast(x.device.type, enabled=False):
                for branch, p in (("p1", p1), ("p2", p2)):
                    for name, value in collapse_diagnostics(p.float()).items():
                        terms[f"{branch}_{name}"] = value
        return terms


def prior_embedding(stage1: Stage1Config, stage2: Stage2Config) -> str:
    """``learned`` after the baseline, ``codebook`` after NC-VQVAE (unless configured)."""
    if stage2.prior != "auto":
        return stage2.prior
    return "learned" if stage1.method == "baseline" else "codebook"


def build_prior(tokenizer: STFTVQVAE, n_classes: int, stage1: Stage1Config, stage2: Stage2Config) -> MaskGIT:
    """The MaskGIT prior over the tokenizer's tokens (token embeddings from its codebook)."""
    embedding = prior_embedding(stage1, stage2)
    return MaskGIT(
        tokenizer.num_tokens,
        stage1.num_codes,
        n_classes,
        codebook=tokenizer.codebook.detach().clone(),
        embedding=embedding,
        dim=stage2.dim,
        depth=stage2.depth,
        heads=stage2.heads,
        mlp_ratio=stage2.mlp_ratio,
        p_uncond=stage2.p_uncond,
        loss_on=stage2.loss_on,
        invert_mask_ratio=stage2.invert_baseline_mask and embedding == "learned",
    )
