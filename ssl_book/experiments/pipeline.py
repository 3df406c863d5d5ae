"""One NC-VQVAE experiment end to end: stage 1 (tokenizer), stage 2 (prior), evaluation, and a
results file with provenance.

Layout of a run's folder ``<out>/<dataset>/<configuration>/seed<k>-<digest>/``: ``stage1.pt`` and
``stage2.pt`` (checkpoints, written atomically every ``checkpoint_every`` steps; an interrupted
run resumes from them) and ``results.json`` (metrics, timing, configuration, provenance).
"""

from __future__ import annotations

import fcntl
import json
import math
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ssl_book.augment import augment, stft_round_trip
from ssl_book.checkpoint import load_checkpoint
from ssl_book.data import load_series_files, load_ucr
from ssl_book.data.ucr import UCRDataset
from ssl_book.distributed import DistContext, barrier, global_batchnorm
from ssl_book.evaluator import Evaluator, cache_dir, load_or_train_evaluator
from ssl_book.experiments import loop
from ssl_book.experiments.config import RunConfig
from ssl_book.experiments.models import NCVQVAE, build_prior
from ssl_book.experiments.provenance import library_fingerprint, provenance, write_json_atomic
from ssl_book.maskgit import MaskGIT
from ssl_book.metrics import cas, fid, inception_score
from ssl_book.probes import probe_accuracies
from ssl_book.runtime import effective_precision, seed_everything
from ssl_book.tokenizer import STFTVQVAE, evaluate_tokenizer


@dataclass(frozen=True)
class RunPaths:
    """Where a run's files live: its own folder, and the stage-1 checkpoint it may share."""

    folder: Path
    stage1: Path

    @property
    def stage2(self) -> Path:
        return self.folder / "stage2.pt"

    @property
    def results(self) -> Path:
        return self.folder / "results.json"


def default_runs_dir() -> Path:
    """Where the chapters keep their runs: ``$SSL_BOOK_CACHE_DIR/runs/<library fingerprint>``
    (``~/.cache/ssl_book/...``). The fingerprint changes with the library's source, so a chapter
    never loads a checkpoint that older code wrote."""
    return cache_dir() / "runs" / library_fingerprint()


def run_paths(config: RunConfig, out: str | Path) -> RunPaths:
    """``<out>/<dataset>/<configuration>/seed<k>-<digest>``: the digest keeps runs of different
    settings (a quick test run and a full one, say) apart. The stage-1 checkpoint sits beside,
    as ``stage1-seed<k>-<stage-1 digest>.pt``, shared by runs that differ only after stage 1."""
    parent = Path(out) / config.dataset / config.stage1.name
    return RunPaths(
        parent / f"seed{config.seed}-{config.digest()[:8]}",
        parent / f"stage1-seed{config.seed}-{config.stage1_digest()[:8]}.pt",
    )


def ddp_device_ids(device: torch.device) -> list[int] | None:
    """DDP's ``device_ids``: the GPU of this rank, or None on a CPU."""
    return [device.index] if device.type == "cuda" else None


def checkpoint_meta(config: RunConfig, stage: int) -> dict:
    """What a stage's checkpoint must record to be resumed or loaded for ``config``."""
    return {"config": config.stage1_digest() if stage == 1 else config.digest(), "stage": stage}


def load_run_data(config: RunConfig) -> UCRDataset:
    """The run's data: the UCR dataset ``config.dataset`` (:func:`ssl_book.data.load_ucr`), or the
    reader's files ``config.train_path``/``test_path`` (:func:`ssl_book.data.load_series_files`,
    which checks them against ``config.data_sha256``); NaN handled as ``config.nan_policy`` says.

    Raises:
        UCRDataError: missing, changed or malformed data, with a message naming the file.
    """
    if config.train_path is None:
        return load_ucr(config.dataset, nan=config.nan_policy)
    return load_series_files(
        config.train_path, config.test_path, config.dataset, nan=config.nan_policy, sha256=config.data_sha256
    )


def schedule(epochs: int, steps: int | None, n_train: int, batch_size: int) -> tuple[int, int]:
    """``(steps, cosine period)``: the thesis's ``epochs * ceil(N / batch)`` steps with period
    ``epochs * (ceil(N / batch) + 1)``, unless a step budget overrides both."""
    if steps is not None:
        return steps, steps
    per_epoch = math.ceil(n_train / batch_size)
    return epochs * per_epoch, epochs * (per_epoch + 1)


def loop_spec(config: RunConfig, stage: int, n_train: int, checkpoint: Path) -> loop.LoopSpec:
    """The training loop's settings for stage 1 or 2 of ``config``."""
    section = config.stage1 if stage == 1 else config.stage2
    steps, period = schedule(section.epochs, section.steps, n_train, section.batch_size)
    return loop.LoopSpec(
        steps=steps,
        n_train=n_train,
        batch_size=section.batch_size,
        lr=section.lr,
        weight_decay=section.weight_decay,
        lr_period=period,
        seed=config.seed,
        checkpoint=checkpoint,
        checkpoint_every=config.checkpoint_every,
        meta=checkpoint_meta(config, stage),
    )


def peak_memory_bytes(device: torch.device) -> int:
    """Peak GPU memory allocated by torch, or the process's peak resident memory on CPU."""
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale)


@torch.no_grad()
def quantized_features(
    tokenizer: STFTVQVAE, x: torch.Tensor, batch_size: int = 512, *, batch_statistics: bool = False
) -> torch.Tensor:
    """Global average pool of the quantized latents, the probes' input: ``(n, dim)``.

    ``batch_statistics=True`` reproduces the thesis's probe features: its probe ran in a hook
    where the model was in training mode, so BatchNorm normalised every batch with that batch's
    own statistics and the EMA codebook moved while encoding. This encodes a copy of the
    tokenizer in training mode (the tokenizer itself is left unchanged), in batches of
    ``batch_size`` in the order of ``x``; the features then depend on both (the thesis: batches of
    128, the training split shuffled, the test split in file order). Each call starts from the
    tokenizer's own codebook (the thesis's carried its updates from split to split).
    See ``results/calibration/ECG5000-probe-offset.md`` for what this does to the accuracies.
    """
    if batch_statistics:
        trainee = deepcopy(tokenizer).train()
        parts = [
            trainee.quantize(trainee.encode(x[i : i + batch_size])).z_q.mean(dim=(2, 3))
            for i in range(0, len(x), batch_size)
        ]
        return torch.cat(parts).float()
    tokenizer.eval()
    parts = [
        tokenizer.quantize(tokenizer.encode(x[i : i + batch_size])).z_q.mean(dim=(2, 3))
        for i in range(0, len(x), batch_size)
    ]
    return torch.cat(parts).float()


# ----------------------------------------------------------------------------- stage 1
def train_stage1(
    config: RunConfig,
    data: UCRDataset,
    paths: RunPaths,
    device: torch.device,
    ctx: DistContext = DistContext(),
    on_step=None,
) -> tuple[NCVQVAE, dict]:
    """Train (or resume, or load the finished) stage-1 model; returns it (eval mode) and its history."""
    s1 = config.stage1
    seed_everything(config.seed)
    model = NCVQVAE(data.length, s1).to(device)
    x_train = torch.as_tensor(data.x_train, device=device)
    trainee: nn.Module = model
    if ctx.enabled:
        global_batchnorm(model.tokenizer)  # batch statistics over all ranks, as on one device
        trainee = nn.parallel.DistributedDataParallel(model, device_ids=ddp_device_ids(device))

    def loss_fn(idx: torch.Tensor, local: slice, generator: torch.Generator) -> dict[str, torch.Tensor]:
        x = x_train[idx]
        x_aug = None
        if s1.augment is not None:  # views of the global batch, so every rank draws alike
            with torch.autocast(device.type, enabled=False):
                x_aug = augment(x, s1.augment, generator)[local]
        return trainee(x[local], x_aug)

    spec = loop_spec(config, 1, len(x_train), paths.stage1)
    history = loop.train(
        trainee,
        loss_fn,
        spec,
        device=device,
        precision=config.precision,
        ctx=ctx,
        desc=f"stage 1 ({s1.name})",
        on_step=on_step,
    )
    return model.eval(), history


def evaluate_stage1(tokenizer: STFTVQVAE, data: UCRDataset, device: torch.device) -> dict[str, float]:
    """Validation loss on the test split, probes on pooled quantized latents, test perplexity."""
    x_train = torch.as_tensor(data.x_train, device=device)
    x_test = torch.as_tensor(data.x_test, device=device)
    val = evaluate_tokenizer(tokenizer, x_test)
    probes = probe_accuracies(
        quantized_features(tokenizer, x_train).cpu(),
        data.y_train,
        quantized_features(tokenizer, x_test).cpu(),
        data.y_test,
    )
    return {
        "val_loss": val["loss"],
        "val_time_loss": val["time_loss"],
        "val_stft_loss": val["stft_loss"],
        "perplexity": val["perplexity"],
        "svm": probes["svm"],
        "knn": probes["knn"],
    }


# ----------------------------------------------------------------------------- stage 2
class PriorLoss(nn.Module):
    """The prior's training loss as a ``forward``, so that DDP can wrap it."""

    def __init__(self, prior: MaskGIT):
        super().__init__()
        self.prior = prior

    def forward(self, tokens: torch.Tensor, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return self.prior.loss(tokens, labels, generator)


@torch.no_grad()
def encoded_latents(tokenizer: STFTVQVAE, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """The frozen encoder's continuous latents ``(n, dim, H, W)``, computed once for stage 2."""
    tokenizer.eval()
    return torch.cat([tokenizer.encode(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


def train_stage2(
    config: RunConfig,
    data: UCRDataset,
    tokenizer: STFTVQVAE,
    paths: RunPaths,
    device: torch.device,
    ctx: DistContext = DistContext(),
    on_step=None,
) -> tuple[MaskGIT, dict]:
    """Train (or resume) the MaskGIT prior on the frozen tokenizer's (stochastic) tokens."""
    s2 = config.stage2
    seed_everything(config.seed)
    tokenizer.eval().requires_grad_(False)
    prior = build_prior(tokenizer, data.n_classes, config.stage1, s2).to(device)
    if config.compile:  # fuses the transformer's element-wise chains (+20 % on a 2-core CPU)
        prior.encoder.forward = torch.compile(prior.encoder.forward)
    latents = encoded_latents(tokenizer, torch.as_tensor(data.x_train, device=device))
    labels = torch.as_tensor(data.y_train, device=device)
    trainee: nn.Module = PriorLoss(prior)
    if ctx.enabled:
        trainee = nn.parallel.DistributedDataParallel(trainee, device_ids=ddp_device_ids(device))

    def loss_fn(idx: torch.Tensor, local: slice, generator: torch.Generator) -> dict[str, torch.Tensor]:
        # Under DDP the masks are drawn per rank: the same distribution as on one device, not
        # the same numbers (unlike stage 1, whose test checks equality with one process).
        idx = idx[local]
        tokens = tokenizer.quantizer.sample_indices(
            latents[idx], temperature=s2.stochastic_tau, generator=generator
        )
        return {"loss": trainee(tokens.flatten(1), labels[idx], generator)}

    spec = loop_spec(config, 2, len(latents), paths.stage2)
    history = loop.train(
        trainee,
        loss_fn,
        spec,
        device=device,
        precision=config.precision,
        ctx=ctx,
        desc=f"stage 2 ({config.stage1.name})",
        on_step=on_step,
    )
    return prior.eval(), history


# ----------------------------------------------------------------------------- evaluation
@torch.no_grad()
def generate(
    prior: MaskGIT,
    tokenizer: STFTVQVAE,
    n: int,
    config: RunConfig,
    device: torch.device,
    labels: torch.Tensor | None = None,
    batch_size: int = 1024,
    seed_offset: int = 0,
) -> torch.Tensor:
    """``n`` series ``(n, L)`` sampled from the prior (unconditional when ``labels`` is None)."""
    s2 = config.stage2
    generator = torch.Generator(device=device).manual_seed(config.seed * 1_000_033 + seed_offset)
    parts = []
    for start in range(0, n, batch_size):
        chunk = None if labels is None else labels[start : start + batch_size].to(device)
        size = min(batch_size, n - start)
        tokens = prior.sample(
            size,
            labels=chunk,
            steps=s2.sample_steps,
            choice_temperature=s2.choice_temperature,
            guidance_scale=s2.guidance_scale,
            generator=generator,
        )
        parts.append(tokenizer.decode_tokens(tokens))
    return torch.cat(parts).float()


def class_balanced_labels(y_train: np.ndarray, n_classes: int, minimum: int) -> torch.Tensor:
    """Labels in the training set's class proportions, ``max(n_train, minimum)`` in total."""
    total = max(len(y_train), minimum)
    counts = np.bincount(y_train, minlength=n_classes) / len(y_train) * total
    counts = np.maximum(np.round(counts).astype(int), 1)
    return torch.as_tensor(np.repeat(np.arange(n_classes), counts))


def cas_training_set(
    prior: MaskGIT, tokenizer: STFTVQVAE, data: UCRDataset, config: RunConfig, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """The class-conditional samples a run's CAS classifier trains on: series ``(n, L)`` and
    their conditioning labels ``(n,)``, in the training set's class proportions, ``n`` at least
    ``cas_min_samples`` (drawn with the run's seed, so the same run gives the same samples)."""
    labels = class_balanced_labels(data.y_train, data.n_classes, config.evaluation.cas_min_samples)
    return generate(prior, tokenizer, len(labels), config, device, labels=labels, seed_offset=1), labels


def run_evaluator(config: RunConfig, data: UCRDataset, device: torch.device) -> Evaluator:
    """The FCN evaluator behind a run's FID and IS (trained once per dataset and settings, then
    read from the cache; a custom dataset's is cached by its content, not its name)."""
    own_data = data if config.train_path is not None else None
    ev = config.evaluation
    return load_or_train_evaluator(config.dataset, ev.fcn(ev.evaluator_epochs), device, data=own_data)


@contextmanager
def timed(times: dict[str, float], name: str) -> Iterator[None]:
    """Add the wall time of the block to ``times[name]`` and the process's CPU time (user and
    system, all threads) to ``times[name.replace("_seconds", "_cpu_seconds")]``. On a busy
    machine the CPU time of a single-thread run stays close to what the wall time would be on an
    idle one."""
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        times[name] = times.get(name, 0.0) + time.perf_counter() - started
        cpu_name = name.replace("_seconds", "_cpu_seconds")
        times[cpu_name] = times.get(cpu_name, 0.0) + time.process_time() - cpu_started


def evaluate_generation(
    config: RunConfig,
    data: UCRDataset,
    tokenizer: STFTVQVAE,
    prior: MaskGIT,
    device: torch.device,
    times: dict[str, float] | None = None,
    report: Report | None = None,
) -> dict[str, float]:
    """FID and IS of unconditional samples, CAS of class-conditional ones (thesis §1.5).

    ``times`` (if given) receives the wall time of each part: ``evaluator_seconds`` (training
    or loading the FCN evaluator), ``sampling_seconds`` (both sets of samples, FID and IS) and
    ``cas_seconds`` (training the CAS classifier)."""
    ev = config.evaluation
    times = {} if times is None else times
    report = report or (lambda part, step, total: None)
    report("evaluator", 0, 1)
    with timed(times, "evaluator_seconds"):
        evaluator = run_evaluator(config, data, device)
    report("sampling", 0, 1)
    with timed(times, "sampling_seconds"):
        n_test = len(data.x_test)
        x_gen = generate(prior, tokenizer, max(n_test, ev.min_generated), config, device)
        used = x_gen[:n_test] if ev.fid_first_n_test else x_gen
        x_real = stft_round_trip(torch.as_tensor(data.x_test, device=device), n_fft=config.stage1.n_fft)
        is_mean, is_std = inception_score(evaluator.probs(used), splits=ev.is_splits)
        fid_value = fid(evaluator.features(x_real), evaluator.features(used))
        x_syn, labels = cas_training_set(prior, tokenizer, data, config, device)
    report("CAS", 0, 1)
    with timed(times, "cas_seconds"):
        cas_accuracy = cas(
            x_syn.cpu().numpy(),
            labels.numpy(),
            data.x_test,
            data.y_test,
            n_classes=data.n_classes,
            config=ev.fcn(ev.cas_epochs),
            device=device,
        )
    return {
        "fid": fid_value,
        "is_mean": is_mean,
        "is_std": is_std,
        "cas": cas_accuracy,
        "evaluator_accuracy": evaluator.accuracy,
    }


# ----------------------------------------------------------------------------- a whole run
def _stage_timing(history: dict, batch_size: int) -> dict[str, float | int | None]:
    """A stage's time in a results file: ``seconds`` and ``cpu_seconds`` over every process that
    trained it (a run resumed from a checkpoint adds the time its checkpoint recorded; ``None``
    where an older checkpoint did not record it), and this process's own share and speed."""
    rate = (
        history["steps_run"] / history["seconds"] if history["steps_run"] and history["seconds"] > 0 else None
    )
    earlier, earlier_cpu = history.get("earlier_seconds", 0.0), history.get("earlier_cpu_seconds", 0.0)
    return {
        "seconds": loop.plus_known(earlier, history["seconds"]),
        "cpu_seconds": loop.plus_known(earlier_cpu, history["cpu_seconds"]),
        "seconds_this_process": history["seconds"],
        "steps_run": history["steps_run"],
        "resumed_at_step": history.get("resumed_at_step", 0),
        "steps_per_s": rate,
        "samples_per_s": None if rate is None else rate * batch_size,
    }


def earlier_seconds(*histories: dict, kind: str = "seconds") -> float | None:
    """The wall (``kind="seconds"``) or CPU (``"cpu_seconds"``) time earlier processes spent on
    the stages of ``histories``, ``None`` if any of it is unknown."""
    values = [h.get(f"earlier_{kind}", 0.0) for h in histories]
    return None if None in values else sum(values)


Report = Callable[[str, int, int], None]


def finished_results(config: RunConfig, out: str | Path) -> dict | None:
    """The results of ``config`` if a run of exactly this configuration finished in ``out``."""
    path = run_paths(config, out).results
    if path.exists():
        previous = json.loads(path.read_text())
        if previous.get("config_digest") == config.digest():
            return previous
    return None


@contextmanager
def run_lock(folder: Path) -> Iterator[bool]:
    """Hold an exclusive lock on ``folder/run.lock`` while the block runs; yields False (and
    holds nothing) when another process holds it. The operating system drops the lock when its
    holder exits, so a killed run never leaves a stale lock behind."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "run.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_experiment(
    config: RunConfig,
    out: str | Path,
    device: torch.device,
    ctx: DistContext = DistContext(),
    command: list[str] | None = None,
    report: Report | None = None,
) -> dict | None:
    """Stage 1, stage 2 and evaluation of one run; writes and returns its results (rank 0), or
    returns the existing results if this configuration already finished in ``out``.

    While it trains, the run holds a lock on its folder (:func:`run_lock`): a second process
    asked for the same run (another sweep on the same folder) returns ``None`` at once instead
    of training it twice. ``report(part, step, total)`` is told the progress of each part.
    """
    previous = finished_results(config, out)
    if previous is not None:
        return previous
    if not ctx.enabled:
        with run_lock(run_paths(config, out).folder) as acquired:
            if not acquired:
                print(f"{config.name}: running in another process, skipped", file=sys.stderr)
                return None
            return finished_results(config, out) or _run(config, out, device, ctx, command, report)
    return _run(config, out, device, ctx, command, report)


def _run(
    config: RunConfig,
    out: str | Path,
    device: torch.device,
    ctx: DistContext,
    command: list[str] | None,
    report: Report | None,
) -> dict | None:
    paths = run_paths(config, out)
    report = report or (lambda part, step, total: None)
    data = load_run_data(config)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    started, cpu_started = time.perf_counter(), time.process_time()
    n_train, s1, s2 = len(data.x_train), config.stage1, config.stage2
    total1 = schedule(s1.epochs, s1.steps, n_train, s1.batch_size)[0]
    total2 = schedule(s2.epochs, s2.steps, n_train, s2.batch_size)[0]
    model, history1 = train_stage1(
        config, data, paths, device, ctx, on_step=lambda step: report("stage 1", step, total1)
    )
    peak1 = peak_memory_bytes(device)
    metrics: dict[str, float] = {}
    parts: dict[str, float] = {}
    if ctx.is_main:
        report("probes", 0, 1)
        with timed(parts, "probes_seconds"):
            metrics.update(evaluate_stage1(model.tokenizer, data, device))
    tokenizer = model.tokenizer
    prior, history2 = train_stage2(
        config, data, tokenizer, paths, device, ctx, on_step=lambda step: report("stage 2", step, total2)
    )
    peak2 = peak_memory_bytes(device)
    eval_started = time.perf_counter()
    results = None
    if ctx.is_main:
        metrics.update(evaluate_generation(config, data, tokenizer, prior, device, parts, report))
        results = {
            "config": config.to_dict(),
            "config_digest": config.digest(),
            "metrics": metrics,
            "timing": {
                "stage1": _stage_timing(history1, min(config.stage1.batch_size, len(data.x_train))),
                "stage2": _stage_timing(history2, min(config.stage2.batch_size, len(data.x_train))),
                "evaluation_seconds": time.perf_counter() - eval_started,
                **parts,
                "total_seconds": loop.plus_known(
                    earlier_seconds(history1, history2), time.perf_counter() - started
                ),
                "total_cpu_seconds": loop.plus_known(
                    earlier_seconds(history1, history2, kind="cpu_seconds"), time.process_time() - cpu_started
                ),
                "total_seconds_this_process": time.perf_counter() - started,
                "peak_memory_bytes": {"stage1": peak1, "stage2": peak2},
                "world_size": ctx.world_size,
                "autocast_bf16": loop.uses_bf16(device, config.precision),
                "fcn_precision": effective_precision(config.evaluation.fcn_precision, device),
            },
            "history": {
                "stage1": {k: history1[k] for k in ("log_step", "terms")},
                "stage2": {k: history2[k] for k in ("log_step", "terms")},
            },
            "provenance": provenance(device, command),
        }
        write_json_atomic(paths.results, results)
    barrier()
    return results


def load_run(
    config: RunConfig, out: str | Path, device: torch.device
) -> tuple[STFTVQVAE, MaskGIT, UCRDataset]:
    """The trained tokenizer and prior of a finished run (for the chapters' figures)."""
    paths = run_paths(config, out)
    data = load_run_data(config)
    model = NCVQVAE(data.length, config.stage1).to(device)
    model.load_state_dict(load_checkpoint(paths.stage1, checkpoint_meta(config, 1), device)["model"])
    prior = build_prior(model.tokenizer, data.n_classes, config.stage1, config.stage2).to(device)
    state = load_checkpoint(paths.stage2, checkpoint_meta(config, 2), device)["model"]
    prior.load_state_dict({k.removeprefix("prior."): v for k, v in state.items()})
    return model.tokenizer.eval(), prior.eval(), data
