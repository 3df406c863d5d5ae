"""Class fidelity: how recognisable a run's series are to the evaluator that scores its samples.

CAS trains a classifier on class-conditional samples and tests it on real series, so a low CAS
has two possible causes: the samples do not look like the class they were drawn for, or they do
but lack the variety a classifier needs to generalise. :func:`class_fidelity` separates the
stages with the FCN evaluator behind FID and IS, reading its test accuracy on three sets:

- ``real``: the real test series (the ceiling, the evaluator's own accuracy);
- ``reconstructed``: the tokenizer's reconstructions of them (nearest codes, decoded): what
  stage 1 keeps of each class;
- ``samples``: the very samples the run's CAS classifier trained on, scored against the class
  each was drawn for: what stage 2 makes of it.

    python tools/class_fidelity.py --runs results/runs
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

from ssl_book.experiments.config import RunConfig
from ssl_book.experiments.evidence import short_name
from ssl_book.experiments.pipeline import cas_training_set, load_run, run_evaluator, run_paths
from ssl_book.experiments.report import configuration_label, protocol_family, protocol_label


def class_fidelity(config: RunConfig, runs: str | Path, device: torch.device | str = "cpu") -> dict:
    """The evaluator's accuracy on the real test series, on their reconstructions and on the CAS
    training samples of the finished run ``config`` under ``runs`` (its checkpoints must be
    there), with the samples' accuracy per conditioning class."""
    device = torch.device(device)
    tokenizer, prior, data = load_run(config, runs, device)
    evaluator = run_evaluator(config, data, device)
    x_test = torch.as_tensor(data.x_test, dtype=torch.float32, device=device)
    reconstructed = tokenizer.decode_tokens(tokenizer.tokens(x_test))
    samples, labels = cas_training_set(prior, tokenizer, data, config, device)
    labels = labels.numpy()
    predicted = evaluator.predict(samples)
    return {
        "real": float(np.mean(evaluator.predict(x_test) == data.y_test)),
        "reconstructed": float(np.mean(evaluator.predict(reconstructed) == data.y_test)),
        "samples": float(np.mean(predicted == labels)),
        "samples_per_class": [float(np.mean(predicted[labels == k] == k)) for k in range(data.n_classes)],
        "n_samples": len(labels),
    }


def fidelity_path(config: RunConfig, out: str | Path) -> Path:
    """``<out>/<dataset>/<configuration>/seed<k>-<digest>/fidelity.json``, the run's own layout."""
    return run_paths(config, out).folder / "fidelity.json"


def load_fidelities(folder: str | Path) -> dict[str, dict]:
    """Every ``fidelity.json`` under ``folder``, keyed by its run's configuration digest."""
    records = (json.loads(path.read_text()) for path in sorted(Path(folder).rglob("fidelity.json")))
    return {record["config_digest"]: record for record in records}


# ----------------------------------------------------------------------------- reading them
#: ``(dataset, configuration label, seed) -> (fidelity, metrics)`` of the runs with a record
Scored = dict[tuple[str, str, int], tuple[dict, dict]]


class SeedPair(NamedTuple):
    """One seed's run of a configuration and of its reference: fidelity and metrics of each."""

    seed: int
    fidelity: dict
    metrics: dict
    reference_fidelity: dict
    reference_metrics: dict


def scored_runs(results: list[dict[str, Any]], fidelities: dict[str, dict]) -> Scored:
    """The runs of ``results`` that have a fidelity record, keyed by dataset,
    :func:`~ssl_book.experiments.report.configuration_label` and seed."""
    return {
        (r["config"]["dataset"], configuration_label(r["config"]), r["config"]["seed"]): (
            fidelities[r["config_digest"]]["fidelity"],
            r["metrics"],
        )
        for r in results
        if r["config_digest"] in fidelities
    }


def paired_by_seed(scored: Scored, dataset: str, config: str, reference: str) -> list[SeedPair]:
    """``config`` against ``reference`` on ``dataset``, for every seed both have scored."""
    return [
        SeedPair(seed, fidelity, metrics, *scored[dataset, reference, seed])
        for (d, c, seed), (fidelity, metrics) in sorted(scored.items())
        if d == dataset and c == config and (dataset, reference, seed) in scored
    ]


def unscored_runs(results: list[dict[str, Any]], fidelities: dict[str, dict], protocol: str) -> list[str]:
    """The runs of ``protocol`` (its family, :func:`~ssl_book.experiments.report.protocol_family`)
    without a fidelity record, e.g. ``"Sony1 base seed 1"``, sorted."""
    return sorted(
        f"{short_name(r['config']['dataset'])} {short_name(configuration_label(r['config']))} "
        f"seed {r['config']['seed']}"
        for r in results
        if protocol_family(protocol_label(r["config"])) == protocol and r["config_digest"] not in fidelities
    )
