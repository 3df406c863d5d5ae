"""Typed, validated configurations of an NC-VQVAE experiment, with the thesis's values as
defaults: the NC-VQVAE thesis and its paper, Mathisen, Lokna, Lee and Aune, "Blending Low and
High-Level Semantics of Time Series for Better Masked Time Series Generation" (2024,
arXiv 2408.16613), as the thesis's code and run logs set them; summarised in the chapter
"Training NC-VQVAE".

Every quirk of the thesis code is a documented field here. Where the thesis's behaviour is
arguably a bug, the field offers both and its docstring says which one is the default.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssl_book.data.files import check_dataset_name, files_sha256
from ssl_book.data.registry import REGISTRY
from ssl_book.data.ucr import UCRDataError, find_ucr, missing_dataset_help
from ssl_book.evaluator import EvaluatorConfig

METHODS = ("baseline", "barlowtwins", "vibcreg")
AUGMENTATIONS = ("warp", "slice", "gauss")
PRECISIONS = ("fp32", "bf16")


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")


def _non_negative(name: str, value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{name} must be non-negative, got {value!r}")


@dataclass(frozen=True)
class Stage1Config:
    """The tokenizer: the thesis's STFT VQ-VAE, alone (``baseline``) or as NC-VQVAE.

    Attributes:
        method: ``baseline`` (one branch) or the SSL loss of NC-VQVAE (``barlowtwins``,
            ``vibcreg``).
        augment: the augmentation set of the second branch (``warp``, ``slice``, ``gauss``);
            required for the SSL methods, must be ``None`` for the baseline.
        epochs: passes over the training set (thesis: 1000). ``steps`` overrides it.
        aug_recon_weight: weight alpha of the augmented branch's reconstruction. The reported
            thesis runs used 0.2 (the config file says 0.1): default 0.2.
        ssl_weight: overall weight of the SSL loss (thesis: 1.0 for Barlow Twins, 0.01 for
            VIbCReg); ``None`` picks the thesis's value for the method.
        bt_scale_by_dim: divide the Barlow Twins loss by the projector width, as the thesis code
            does (the paper does not). Default: thesis-faithful (True), because the weights
            were tuned with it.
        vibcreg_cov_weight: the thesis used 100 (the VIbCReg paper 200). Default 100.
    """

    method: str = "baseline"
    augment: str | None = None
    epochs: int = 1000
    steps: int | None = None
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-3
    n_fft: int = 8
    dim: int = 64
    num_codes: int = 32
    downsampled_width: int = 8
    ema_decay: float = 0.9
    commitment_weight: float = 1.0
    aug_recon_weight: float = 0.2
    projector_dim: int = 4096
    ssl_weight: float | None = None
    bt_lambda: float = 5e-3
    bt_scale_by_dim: bool = True
    vibcreg_sim_weight: float = 25.0
    vibcreg_var_weight: float = 25.0
    vibcreg_cov_weight: float = 100.0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown stage-1 method {self.method!r}; choose one of {METHODS}")
        if self.method == "baseline" and self.augment is not None:
            raise ValueError("the baseline has no augmented branch: leave augment=None")
        if self.method != "baseline" and self.augment not in AUGMENTATIONS:
            raise ValueError(f"method {self.method!r} needs augment in {AUGMENTATIONS}, got {self.augment!r}")
        for name in (
            "epochs",
            "batch_size",
            "lr",
            "n_fft",
            "dim",
            "num_codes",
            "downsampled_width",
            "projector_dim",
        ):
            _positive(name, getattr(self, name))
        if self.steps is not None:
            _positive("steps", self.steps)
        for name in (
            "weight_decay",
            "commitment_weight",
            "aug_recon_weight",
            "bt_lambda",
            "vibcreg_sim_weight",
            "vibcreg_var_weight",
            "vibcreg_cov_weight",
        ):
            _non_negative(name, getattr(self, name))
        if self.ssl_weight is not None:
            _non_negative("ssl_weight", self.ssl_weight)
        if not 0 < self.ema_decay < 1:
            raise ValueError(f"ema_decay must lie in (0, 1), got {self.ema_decay}")

    @property
    def name(self) -> str:
        """``baseline`` or ``<method>-<augment>``, the thesis's configuration names."""
        return self.method if self.method == "baseline" else f"{self.method}-{self.augment}"

    @property
    def effective_ssl_weight(self) -> float:
        if self.ssl_weight is not None:
            return self.ssl_weight
        return {"baseline": 0.0, "barlowtwins": 1.0, "vibcreg": 0.01}[self.method]


@dataclass(frozen=True)
class Stage2Config:
    """The MaskGIT prior on the stage-1 tokens.

    Attributes:
        prior: ``auto`` picks what the thesis did: token embeddings initialised from the
            codebook (``learned``) after the baseline, the stage-1 codebook vectors themselves
            (``codebook``, fine-tuned) after NC-VQVAE.
        loss_on: ``all`` tokens (thesis) or only the ``masked`` ones (MaskGIT paper). Default:
            thesis-faithful ``all``.
        invert_baseline_mask: the thesis's baseline prior masks 1 - cos(pi t / 2) of the tokens
            instead of cos(pi t / 2) (arguably a bug). Default False (the schedule as written);
            True reproduces the thesis.
        stochastic_tau: temperature of the stochastic target tokens (thesis 1.0; 0 = argmin).
    """

    epochs: int = 1000
    steps: int | None = None
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-3
    dim: int = 256
    depth: int = 4
    heads: int = 2
    mlp_ratio: float = 1.0
    p_uncond: float = 0.2
    prior: str = "auto"
    loss_on: str = "all"
    invert_baseline_mask: bool = False
    stochastic_tau: float = 1.0
    sample_steps: int = 10
    choice_temperature: float = 4.0
    guidance_scale: float = 1.0

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "lr", "dim", "depth", "heads", "mlp_ratio", "sample_steps"):
            _positive(name, getattr(self, name))
        if self.steps is not None:
            _positive("steps", self.steps)
        if self.dim % self.heads:
            raise ValueError(f"dim ({self.dim}) must be divisible by heads ({self.heads})")
        if not 0 <= self.p_uncond < 1:
            raise ValueError(f"p_uncond must lie in [0, 1), got {self.p_uncond}")
        if self.prior not in ("auto", "learned", "codebook"):
            raise ValueError(f"prior must be 'auto', 'learned' or 'codebook', got {self.prior!r}")
        if self.loss_on not in ("all", "masked"):
            raise ValueError(f"loss_on must be 'all' or 'masked', got {self.loss_on!r}")
        for name in ("weight_decay", "stochastic_tau", "choice_temperature", "guidance_scale"):
            _non_negative(name, getattr(self, name))


@dataclass(frozen=True)
class EvalConfig:
    """The evaluation protocol (thesis section 1.5).

    Attributes:
        evaluator_epochs: epochs of the per-dataset FCN evaluator (thesis: 1000).
        cas_epochs: epochs of the FCN trained on synthetic data for CAS (thesis: 1000).
        cas_min_samples: CAS trains on at least this many class-conditional samples.
        fid_first_n_test: the thesis computes FID on only the first ``n_test`` of its
            ``max(n_test, 256)`` samples; default True (faithful; it matches the real set's size).
        fcn_precision: how the evaluator and the CAS classifier train: ``fp32`` (the default,
            and what every run before this field existed used) or ``bf16`` (autocast; half the
            time on a GPU or a CPU with bf16 instructions; the thesis's GPU itself ran these
            convolutions in TF32). The full preset of the command line picks ``bf16``. A device
            without native bf16 trains them in fp32 instead
            (:func:`ssl_book.runtime.effective_precision`; emulated bf16 is many times slower),
            and the results file records which ran (``timing.fcn_precision``). Their inference
            is always fp32.
        max_fcn_steps: a cap on the optimisation steps of the evaluator and the CAS classifier
            (``None``, the thesis's protocol: no cap). The command line's CPU preset sets 200,
            which binds only on large datasets (FordA's evaluator: 1500 steps otherwise).
    """

    evaluator_epochs: int = 1000
    cas_epochs: int = 1000
    cas_min_samples: int = 1000
    min_generated: int = 256
    fid_first_n_test: bool = True
    is_splits: int = 10
    fcn_precision: str = "fp32"
    max_fcn_steps: int | None = None

    def __post_init__(self) -> None:
        for name in ("evaluator_epochs", "cas_epochs", "cas_min_samples", "min_generated", "is_splits"):
            _positive(name, getattr(self, name))
        if self.max_fcn_steps is not None:
            _positive("max_fcn_steps", self.max_fcn_steps)
        if self.fcn_precision not in PRECISIONS:
            raise ValueError(f"fcn_precision must be one of {PRECISIONS}, got {self.fcn_precision!r}")

    def fcn(self, epochs: int) -> EvaluatorConfig:
        """The FCN recipe for the evaluator (``evaluator_epochs``) or CAS (``cas_epochs``)."""
        return EvaluatorConfig(epochs=epochs, precision=self.fcn_precision, max_steps=self.max_fcn_steps)


#: RunConfig fields that name a data source other than the UCR archive; left out of its dict when None.
_DATA_SOURCE_FIELDS = ("train_path", "test_path", "data_sha256", "nan")


def _ucr_dataset_exists(name: str) -> bool:
    """Whether :func:`ssl_book.data.load_ucr` finds ``name`` now (an incomplete copy raises)."""
    return find_ucr(name) is not None


def _names_a_ucr_dataset(name: str) -> bool:
    """Whether ``name`` is a UCR dataset's: registered, bundled or in the reader's archive."""
    try:
        return name in REGISTRY or _ucr_dataset_exists(name)
    except UCRDataError:  # an incomplete copy or a bad archive folder: nothing to mix up with
        return False


@dataclass(frozen=True)
class RunConfig:
    """One run: a dataset, a seed, and the three parts of the protocol.

    Attributes:
        dataset: the data's name; it names the run's folder. Without ``train_path``: a UCR
            dataset, either one the registry knows (checked when the run loads it) or any other
            that :func:`ssl_book.data.load_ucr` finds now (``$SSL_BOOK_UCR_ROOT``). With
            ``train_path``: a name for the reader's own data, which must not be a UCR dataset's.
        train_path, test_path: the reader's own TRAIN and TEST files (``.tsv`` in the UCR
            format, or ``.npz`` with ``x`` and ``y``: :mod:`ssl_book.data.files`), both or
            neither; stored as absolute paths.
        data_sha256: :func:`ssl_book.data.files.files_sha256` of those files, computed here when
            not given; loading the run's data checks it, so changed files never resume a run.
        nan: missing values: ``zero`` (set to 0, the thesis's reading of them as padding) or
            ``raise``; ``None`` means ``zero`` for a UCR dataset, ``raise`` for one's own files.
        precision: ``bf16`` (autocast on a CUDA GPU, and on a CPU with native bf16
            instructions; elsewhere the run stays in fp32, where emulated bf16 would be slower:
            see :func:`ssl_book.experiments.loop.uses_bf16`) or ``fp32``.
        compile: ``torch.compile`` the stage-2 transformer. Stage 1 is not compiled: its
            replicate padding trips an inductor bug in torch 2.13 on the CPU, and its time goes
            to convolutions that compiling does not speed up.
        checkpoint_every: steps between checkpoints.
    """

    dataset: str
    seed: int = 1
    stage1: Stage1Config = field(default_factory=Stage1Config)
    stage2: Stage2Config = field(default_factory=Stage2Config)
    evaluation: EvalConfig = field(default_factory=EvalConfig)
    precision: str = "bf16"
    compile: bool = False
    checkpoint_every: int = 500
    train_path: str | None = None
    test_path: str | None = None
    data_sha256: str | None = None
    nan: str | None = None

    def __post_init__(self) -> None:
        self._check_data_source()
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        _positive("checkpoint_every", self.checkpoint_every)

    def _check_data_source(self) -> None:
        """The dataset names a UCR dataset, or the reader's files exist (errors at config time)."""
        if self.nan not in (None, "zero", "raise"):
            raise ValueError(f"nan must be 'zero', 'raise' or None, got {self.nan!r}")
        if (self.train_path is None) != (self.test_path is None):
            raise ValueError("give both train_path and test_path (your own TRAIN and TEST files), or neither")
        if self.train_path is None:
            if self.data_sha256 is not None:
                raise ValueError("data_sha256 describes train_path and test_path, which are not given")
            if self.dataset not in REGISTRY and not _ucr_dataset_exists(check_dataset_name(self.dataset)):
                own = "give train_path and test_path (CLI: --train and --test)"
                raise ValueError(
                    f"unknown dataset {self.dataset!r}: {missing_dataset_help(self.dataset, own_data=own)}"
                )
            return
        if _names_a_ucr_dataset(check_dataset_name(self.dataset)):
            raise ValueError(
                f"{self.dataset!r} is the name of a UCR dataset: give your own files "
                f"another name (CLI: --name), or run the archive's copy without train_path"
            )
        for name in ("train_path", "test_path"):
            object.__setattr__(self, name, str(Path(getattr(self, name)).expanduser().resolve()))
        if self.data_sha256 is None:  # also checks that both files exist and have a known type
            object.__setattr__(self, "data_sha256", files_sha256(self.train_path, self.test_path))

    @property
    def nan_policy(self) -> str:
        """``nan``, or its default for the data source: ``zero`` (UCR) or ``raise`` (own files)."""
        return self.nan or ("zero" if self.train_path is None else "raise")

    @property
    def name(self) -> str:
        return f"{self.dataset}/{self.stage1.name}/seed{self.seed}"

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain data; the data-source fields only when set, so that a UCR run's
        dict (and :meth:`digest`) is what it was before they existed."""
        data = dataclasses.asdict(self)
        for name in _DATA_SOURCE_FIELDS:
            if data[name] is None:
                del data[name]
        for name, default in (("fcn_precision", "fp32"), ("max_fcn_steps", None)):
            if data["evaluation"][name] == default:  # as before the field existed
                del data["evaluation"][name]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        data = dict(data)
        return cls(
            stage1=Stage1Config(**data.pop("stage1", {})),
            stage2=Stage2Config(**data.pop("stage2", {})),
            evaluation=EvalConfig(**data.pop("evaluation", {})),
            **data,
        )

    def digest(self) -> str:
        """A short hash of everything that changes the results (names checkpoints and caches)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]

    def stage1_digest(self) -> str:
        """A short hash of what the stage-1 model depends on: the data, the seed, the stage-1
        settings and the precision. Runs that differ only in stage 2 or the evaluation (the
        prior-input ablation, say) share one stage-1 checkpoint."""
        data = self.to_dict()
        for name in ("stage2", "evaluation", "compile", "checkpoint_every"):
            data.pop(name)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
