"""Calibration of the evaluation numbers: what FID, IS and probe accuracy real data get.

A generated set's FID or IS means little without the values that real series themselves reach
under the same evaluator. :func:`calibrate` measures, for one dataset and the FCN evaluator the
pipeline uses (:func:`ssl_book.evaluator.load_or_train_evaluator`):

* real-vs-real FID: train split vs test split, two random halves of the test split (a few
  random splits, mean and standard deviation), and the test split with and without the STFT
  round trip that :func:`ssl_book.experiments.pipeline.evaluate_generation` applies to the real
  series before comparing them with generated ones;
* the Inception Score of the real test and train splits (and of the round-tripped test split);
* the SVM and 5-NN probes (:func:`ssl_book.probes.probe_accuracies`) on the raw series;
* all of the evaluator-dependent numbers again under evaluators trained with other seeds, so
  that the spread the evaluator itself adds can be read off.

FID is biased upwards by roughly ``c / n`` (see :func:`ssl_book.metrics.fid`): a half of the
test split has half the series the pipeline's FID uses, so the halves' FID over-states the floor
of a full-size comparison; with fewer series than the 128 feature dimensions (the small training
splits) the estimate is strongly biased, and the result says so in ``warnings``.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from ssl_book.augment import stft_round_trip
from ssl_book.data import UCRDataset, load_ucr
from ssl_book.evaluator import Evaluator, EvaluatorConfig, load_or_train_evaluator
from ssl_book.metrics import fid, inception_score
from ssl_book.probes import probe_accuracies


def _mean_sd(values: list[float]) -> dict:
    return {
        "mean": float(np.mean(values)),
        "sd": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
        "values": [float(v) for v in values],
    }


def _is(probs: np.ndarray, splits: int) -> dict:
    mean, std = inception_score(probs, splits=min(splits, len(probs)))
    return {"mean": mean, "std": std, "n": len(probs)}


def _evaluator_numbers(
    evaluator: Evaluator, data: UCRDataset, x_rt: np.ndarray, n_splits: int, split_seed: int, is_splits: int
) -> dict:
    """FID and IS of the real sets under one evaluator."""
    f_train, p_train = evaluator.features_and_probs(data.x_train)
    f_test, p_test = evaluator.features_and_probs(data.x_test)
    f_rt, p_rt = evaluator.features_and_probs(x_rt)
    rng = np.random.default_rng(split_seed)
    n = len(f_test)
    halves, halves_rt = [], []
    for _ in range(n_splits):
        order = rng.permutation(n)
        a, b = order[: n // 2], order[n // 2 : 2 * (n // 2)]
        halves.append(fid(f_test[a], f_test[b]))
        halves_rt.append(fid(f_rt[a], f_rt[b]))
    return {
        "evaluator": {
            "seed": evaluator.config.seed,
            "test_accuracy": evaluator.accuracy,
            "config_key": evaluator.config.key,
            "from_cache": evaluator.from_cache,
        },
        "fid": {
            "test_vs_itself": fid(f_test, f_test),
            "train_vs_test": fid(f_train, f_test),
            "test_halves": _mean_sd(halves),
            "test_halves_round_trip": _mean_sd(halves_rt),
            "test_round_trip_vs_test": fid(f_rt, f_test),
            "feature_change_round_trip": float(np.abs(f_rt - f_test).max()),
        },
        "inception_score": {
            "test": _is(p_test, is_splits),
            "test_round_trip": _is(p_rt, is_splits),
            "train": _is(p_train, is_splits),
        },
    }


def calibrate(
    dataset: str,
    config: EvaluatorConfig | None = None,
    *,
    evaluator_seeds: tuple[int, ...] = (0, 1),
    n_splits: int = 5,
    split_seed: int = 0,
    n_fft: int = 8,
    is_splits: int = 10,
    data: UCRDataset | None = None,
    device: torch.device | str | None = None,
) -> dict:
    """Real-vs-real FID, IS of real data and raw-series probes for one dataset.

    Args:
        dataset: a UCR dataset name (:func:`ssl_book.data.load_ucr`), or the name of ``data``.
        config: the evaluator recipe (default: the full protocol's,
            ``EvaluatorConfig(epochs=1000, precision="bf16")``); its ``seed`` is replaced by each
            of ``evaluator_seeds`` in turn.
        evaluator_seeds: the evaluator seeds to measure under (the first is the pipeline's).
        n_splits: how many random halvings of the test split.
        split_seed: seed of those halvings.
        n_fft: the STFT round trip's window (the pipeline's stage-1 ``n_fft``, 8).
        is_splits: the Inception Score's number of parts (capped at the set's size).
        data: already-loaded data instead of ``load_ucr(dataset)`` (its evaluator is cached by
            content, see :func:`ssl_book.evaluator.load_or_train_evaluator`).
        device: where the evaluators run (default :func:`ssl_book.get_device`).

    Returns:
        A JSON-ready dict: ``dataset``, ``sizes``, ``evaluator_config``, ``probes_raw``
        (``{"svm", "knn"}``), ``per_evaluator`` (one entry per seed, see the module docstring),
        ``evaluator_spread`` (the largest minus the smallest value of each headline number over
        the seeds; ``None`` for a single seed) and ``warnings`` (e.g. FID with fewer series than feature dimensions).

    Raises:
        ValueError: bad arguments (no seeds, ``n_splits < 1``, a test split of fewer than 4
            series, a ``config`` that is not an :class:`EvaluatorConfig`).
    """
    config = EvaluatorConfig(epochs=1000, precision="bf16") if config is None else config
    if not isinstance(config, EvaluatorConfig):
        raise ValueError(f"config must be an EvaluatorConfig, got {type(config).__name__}")
    seeds = tuple(evaluator_seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in seeds):
        raise ValueError(f"evaluator_seeds must be non-empty non-negative integers, got {evaluator_seeds!r}")
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 1:
        raise ValueError(f"n_splits must be a positive integer, got {n_splits!r}")
    loaded = load_ucr(dataset) if data is None else data
    if len(loaded.x_test) < 4:
        raise ValueError(f"the test split has {len(loaded.x_test)} series; halves need at least 4")
    x_rt = stft_round_trip(torch.as_tensor(loaded.x_test), n_fft=n_fft).numpy()
    caught: list[str] = []
    per_evaluator = []
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        for seed in seeds:
            evaluator = load_or_train_evaluator(dataset, replace(config, seed=int(seed)), device, data=data)
            per_evaluator.append(_evaluator_numbers(evaluator, loaded, x_rt, n_splits, split_seed, is_splits))
    for record in records:
        text = f"{record.category.__name__}: {record.message}"
        if text not in caught:
            caught.append(text)
    headline = {
        "test_accuracy": lambda r: r["evaluator"]["test_accuracy"],
        "fid_train_vs_test": lambda r: r["fid"]["train_vs_test"],
        "fid_test_halves_mean": lambda r: r["fid"]["test_halves"]["mean"],
        "is_test_mean": lambda r: r["inception_score"]["test"]["mean"],
    }
    spread = (
        None
        if len(per_evaluator) < 2
        else {
            name: float(max(map(get, per_evaluator)) - min(map(get, per_evaluator)))
            for name, get in headline.items()
        }
    )
    return {
        "dataset": dataset,
        "sizes": {
            "train": len(loaded.x_train),
            "test": len(loaded.x_test),
            "length": loaded.length,
            "classes": loaded.n_classes,
            "test_half": len(loaded.x_test) // 2,
        },
        "evaluator_config": {k: v for k, v in asdict(config).items() if k != "seed"},
        "round_trip_n_fft": n_fft,
        "n_splits": n_splits,
        "split_seed": split_seed,
        "probes_raw": probe_accuracies(loaded.x_train, loaded.y_train, loaded.x_test, loaded.y_test),
        "per_evaluator": per_evaluator,
        "evaluator_spread": spread,
        "warnings": caught,
    }


def load_calibrations(folder: str | Path) -> list[dict]:
    """Every calibration file ``<dataset>.json`` that :func:`calibrate` wrote under ``folder``
    (files of other kinds in the folder are skipped), sorted by dataset."""
    found = []
    for path in sorted(Path(folder).glob("*.json")):
        record = json.loads(path.read_text())
        if {"dataset", "per_evaluator", "probes_raw"} <= record.keys():
            found.append(record)
    return sorted(found, key=lambda record: record["dataset"])
