"""The FCN evaluator: a supervised classifier per dataset whose features and class probabilities
turn generated series into FID, Inception Score and CAS numbers.

The thesis uses the FCN of Wang, Yan and Oates (2017) (:class:`ssl_book.fcn.FCN`) trained on
each UCR dataset's training split with AdamW (lr 1e-3, weight decay 1e-5), a cosine schedule,
batch 256 and 1000 epochs, and downloads the weights at run time. This module trains the same
network with the same recipe (:class:`EvaluatorConfig`; fewer epochs on a CPU) and caches it on
disk, so that every number can be reproduced offline and later chapters reuse the model.
Taught in the chapter "Evaluation metrics".

Inputs are series as :func:`ssl_book.data.load_ucr` returns them. (The thesis standardises each
dataset with one global mean and standard deviation of its training split; for the UCR
datasets, whose series are z-normalised one by one, that is the identity.)

Cache: ``$SSL_BOOK_CACHE_DIR/evaluators/<dataset>-fcn-<config key>.pt`` (default folder
``~/.cache/ssl_book``), one file per dataset and configuration; the key is a SHA-256 digest of
the configuration's fields. An evaluator of data passed in directly (a reader's own files, the
``data`` argument of :func:`load_or_train_evaluator`) is cached as
``<name>-<content digest>-fcn-<config key>.pt``: keyed by the data's content, not only its
name. Files are written and read with :mod:`ssl_book.checkpoint`
(atomically, through a temporary file and ``os.replace``; loaded with
``torch.load(..., weights_only=True)``). A cache file that cannot be read, or that
holds another dataset or configuration, is **retrained with a warning and overwritten**: the
cache only saves time, and retraining reproduces the same model from the same seed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from ssl_book.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ssl_book.data import UCRDataset, load_ucr
from ssl_book.fcn import FCN
from ssl_book.runtime import effective_precision, get_device
from ssl_book.train import PRECISIONS, History, accuracy, fit_classifier

CACHE_ENV_VAR = "SSL_BOOK_CACHE_DIR"
CACHE_FORMAT = 1
# Series per forward pass when scoring: on a CPU, 450 series of length 128 went through the FCN
# about 25 % faster in batches of 128 than in one batch of 512, whose activations overflow the
# caches (benchmarks/fcn_inference_batch.py). The results do not depend on it (eval mode).
INFERENCE_BATCH = 128


@dataclass(frozen=True)
class EvaluatorConfig:
    """How an FCN evaluator (or a CAS classifier) is trained; the thesis's recipe by default.

    Attributes:
        epochs: passes over the training set; ``epochs * ceil(n_train / batch_size)`` steps.
        max_steps: a cap on those steps (``None``: none, the thesis's recipe). The small CPU
            configuration caps them so that a large dataset (FordA: 3601 series of length 500)
            costs minutes, not an hour; on small datasets the cap does not bind.
        batch_size: minibatch size.
        lr: AdamW learning rate (cosine-decayed to 0, no warm-up).
        weight_decay: AdamW weight decay.
        seed: seeds the weight initialisation and the minibatch order.
        precision: ``"fp32"`` or ``"bf16"`` (training under bf16 autocast, see
            :func:`ssl_book.train.autocast_to`; the thesis's GPU ran its convolutions in TF32,
            itself a reduced precision). Inference (features, probabilities) is always fp32.
    """

    epochs: int = 1000
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-5
    seed: int = 0
    precision: str = "fp32"
    max_steps: int | None = None

    def __post_init__(self):
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.seed, (int, np.integer)) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        for name, low in (("lr", 0.0), ("weight_decay", 0.0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
                raise ValueError(f"{name} must be a number, got {value!r}")
            if not math.isfinite(value) or value < low or (name == "lr" and value == 0):
                raise ValueError(
                    f"{name} must be {'positive' if name == 'lr' else 'non-negative'} "
                    f"and finite, got {value!r}"
                )
        if self.max_steps is not None and (
            isinstance(self.max_steps, bool)
            or not isinstance(self.max_steps, (int, np.integer))
            or self.max_steps < 1
        ):
            raise ValueError(f"max_steps must be None or a positive integer, got {self.max_steps!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        for name in ("epochs", "batch_size", "seed"):  # canonical types: stable keys
            object.__setattr__(self, name, int(getattr(self, name)))
        for name in ("lr", "weight_decay"):
            object.__setattr__(self, name, float(getattr(self, name)))

    def steps(self, n_train: int) -> int:
        """Optimisation steps for ``n_train`` training series."""
        if n_train < 1:
            raise ValueError(f"need at least one training series, got {n_train}")
        steps = self.epochs * math.ceil(n_train / self.batch_size)
        return steps if self.max_steps is None else min(steps, int(self.max_steps))

    def fields(self) -> dict:
        """The fields as a dict, without ``precision`` and ``max_steps`` at their defaults
        (``"fp32"``, ``None``), so keys made before those fields existed stay valid."""
        fields = asdict(self)
        if fields["precision"] == "fp32":
            del fields["precision"]
        if fields["max_steps"] is None:
            del fields["max_steps"]
        return fields

    @property
    def key(self) -> str:
        """A stable 16-hex-digit digest of the fields (Python's ``hash`` changes between runs).
        An fp32 configuration keeps the key it had before ``precision`` existed."""
        text = json.dumps({"format": CACHE_FORMAT, "model": "FCN", **self.fields()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def train_fcn(
    x,
    y,
    n_classes: int,
    config: EvaluatorConfig,
    *,
    device: torch.device | str | None = None,
    desc: str = "FCN",
) -> tuple[FCN, History]:
    """A fresh :class:`ssl_book.fcn.FCN` trained on ``(n, length)`` series ``x`` with labels ``y``.

    The initial weights come from ``config.seed`` without touching the caller's random state.
    Returns the model, in eval mode on ``device`` (default :func:`ssl_book.get_device`), and its
    training :class:`ssl_book.train.History`.
    """
    if not isinstance(config, EvaluatorConfig):
        raise ValueError(f"config must be an EvaluatorConfig, got {type(config).__name__}")
    device = get_device() if device is None else torch.device(device)
    config = replace(config, precision=effective_precision(config.precision, device))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = FCN(n_classes)
    history = fit_classifier(
        model,
        x,
        y,
        steps=config.steps(len(x)),
        batch_size=config.batch_size,
        lr=config.lr,
        weight_decay=config.weight_decay,
        device=device,
        seed=config.seed,
        desc=desc,
        precision=config.precision,
    )
    return model, history


@dataclass
class Evaluator:
    """A trained FCN evaluator for one dataset.

    Attributes:
        model: the FCN, in eval mode.
        dataset_name: the UCR dataset it was trained on.
        config: how it was trained.
        accuracy: its accuracy on the dataset's test split.
        length: the series length it expects.
        train_loss: the training loss at every step.
        path: its cache file.
        from_cache: whether it was loaded from the cache rather than trained now.
    """

    model: FCN
    dataset_name: str
    config: EvaluatorConfig
    accuracy: float
    length: int
    train_loss: list[float] = field(repr=False)
    path: Path
    from_cache: bool

    @property
    def n_classes(self) -> int:
        return self.model.head.out_features

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def _batches(self, x, fn, batch_size: int) -> np.ndarray:
        t = x.detach() if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x, dtype=np.float32))
        if t.ndim == 3 and t.shape[1] == 1:
            t = t[:, 0]
        if t.ndim != 2 or len(t) == 0:
            raise ValueError(f"x must be (n, length) or (n, 1, length) with n >= 1, got {tuple(t.shape)}")
        if t.shape[1] != self.length:
            raise ValueError(
                f"the {self.dataset_name} evaluator expects series of length {self.length}, got {t.shape[1]}"
            )
        if not torch.isfinite(t).all():
            raise ValueError("x contains NaN or infinite values")
        t = t.to(self.device, torch.float32)
        self.model.eval()
        with torch.no_grad():
            out = torch.cat([fn(t[i : i + batch_size]) for i in range(0, len(t), batch_size)])
        return out.double().cpu().numpy()

    def features(self, x, batch_size: int = INFERENCE_BATCH) -> np.ndarray:
        """The 128-d globally pooled features that FID compares: ``(n, length)`` -> ``(n, 128)``."""
        return self._batches(x, self.model.features, batch_size)

    def probs(self, x, batch_size: int = INFERENCE_BATCH) -> np.ndarray:
        """Class probabilities ``p(y|x)`` (softmax, in float64) for the Inception Score: ``(n, K)``."""
        return self._batches(x, lambda b: self.model(b).double().softmax(-1), batch_size)

    def features_and_probs(self, x, batch_size: int = INFERENCE_BATCH) -> tuple[np.ndarray, np.ndarray]:
        """Both :meth:`features` ``(n, 128)`` and :meth:`probs` ``(n, K)`` from one pass."""
        both = self._batches(x, self._features_and_probs, batch_size)
        return both[:, : self.model.feature_dim], both[:, self.model.feature_dim :]

    def _features_and_probs(self, batch: torch.Tensor) -> torch.Tensor:
        features = self.model.features(batch)
        return torch.cat([features.double(), self.model.head(features).double().softmax(-1)], dim=1)

    def predict(self, x, batch_size: int = INFERENCE_BATCH) -> np.ndarray:
        """Predicted classes, ``(n,)``."""
        return self.probs(x, batch_size).argmax(-1)


def cache_dir() -> Path:
    """``$SSL_BOOK_CACHE_DIR`` if set, else ``~/.cache/ssl_book``."""
    env = os.environ.get(CACHE_ENV_VAR, "").strip()
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ssl_book"


def evaluator_path(dataset_name: str, config: EvaluatorConfig, data_key: str | None = None) -> Path:
    """Where the evaluator of ``dataset_name`` trained with ``config`` is cached; ``data_key``
    (:meth:`ssl_book.data.UCRDataset.content_digest`) marks one trained on given data."""
    name = dataset_name if data_key is None else f"{dataset_name}-{data_key}"
    return cache_dir() / "evaluators" / f"{name}-fcn-{config.key}.pt"


def _cache_meta(dataset_name: str, config: EvaluatorConfig, data_key: str | None = None) -> dict:
    meta = {
        "kind": "fcn-evaluator",
        "cache_format": CACHE_FORMAT,
        "dataset": dataset_name,
        "config": config.fields(),
    }
    return meta if data_key is None else {**meta, "data": data_key}


def _load(
    path: Path, dataset_name: str, config: EvaluatorConfig, device: torch.device, data_key: str | None = None
) -> Evaluator:
    """Raises :class:`ssl_book.checkpoint.CheckpointError` for an unusable file."""
    state = load_checkpoint(path, expected_meta=_cache_meta(dataset_name, config, data_key))
    try:
        model = FCN(int(state["n_classes"]))
        model.load_state_dict(state["state_dict"])
        return Evaluator(
            model.to(device).eval(),
            dataset_name,
            config,
            float(state["accuracy"]),
            int(state["length"]),
            list(state["train_loss"]),
            path,
            from_cache=True,
        )
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise CheckpointError(
            f"{path} does not hold an FCN evaluator ({type(err).__name__}: {err})"
        ) from None


def load_or_train_evaluator(
    dataset_name: str,
    config: EvaluatorConfig | None = None,
    device: torch.device | str | None = None,
    *,
    retrain: bool = False,
    data: UCRDataset | None = None,
) -> Evaluator:
    """The FCN evaluator of a UCR dataset, or of given data: loaded from the cache, else trained
    and cached.

    Args:
        dataset_name: a dataset :func:`ssl_book.data.load_ucr` can read (e.g. ``"CBF"``), or,
            with ``data``, the name of that data.
        config: the training recipe (default :class:`EvaluatorConfig`, the thesis's 1000 epochs).
        device: where the model lives (default :func:`ssl_book.get_device`).
        retrain: train anew even if a cached model exists (and overwrite it).
        data: already-loaded data to train on instead of ``load_ucr(dataset_name)`` (a
            reader's own files, :func:`ssl_book.data.load_series_files`). Its cache file is
            keyed by the data's content (:meth:`ssl_book.data.UCRDataset.content_digest`) as
            well as the name, so that changed data, or other data of the same name, never
            load a stale model.

    Returns:
        An :class:`Evaluator`; ``.accuracy`` is its test-split accuracy.
    """
    if not isinstance(dataset_name, str) or not dataset_name:
        raise ValueError(f"dataset_name must be a non-empty string, got {dataset_name!r}")
    config = EvaluatorConfig() if config is None else config
    if not isinstance(config, EvaluatorConfig):
        raise ValueError(f"config must be an EvaluatorConfig, got {type(config).__name__}")
    if data is not None and not isinstance(data, UCRDataset):
        raise ValueError(
            f"data must be a UCRDataset (see ssl_book.data.load_series_files), got {type(data).__name__}"
        )
    device = get_device() if device is None else torch.device(device)
    # bf16 only where the device runs it natively (the cache key names what actually trains)
    config = replace(config, precision=effective_precision(config.precision, device))
    data_key = None if data is None else data.content_digest()
    path = evaluator_path(dataset_name, config, data_key)
    if path.exists() and not retrain:
        try:
            return _load(path, dataset_name, config, device, data_key)
        except CheckpointError as err:
            warnings.warn(
                f"the cached evaluator is unusable: {err}. Retraining it and overwriting the file.",
                RuntimeWarning,
                stacklevel=2,
            )
    data = load_ucr(dataset_name) if data is None else data
    model, history = train_fcn(
        data.x_train,
        data.y_train,
        data.n_classes,
        config,
        device=device,
        desc=f"FCN evaluator ({dataset_name})",
    )
    test_accuracy = accuracy(
        model, torch.as_tensor(data.x_test, device=device), torch.as_tensor(data.y_test, device=device)
    )
    losses = [float(v) for v in history.loss]
    state = {
        "n_classes": data.n_classes,
        "length": data.length,
        "accuracy": test_accuracy,
        "train_loss": losses,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    save_checkpoint(path, state, _cache_meta(dataset_name, config, data_key))
    return Evaluator(model, dataset_name, config, test_accuracy, data.length, losses, path, from_cache=False)
