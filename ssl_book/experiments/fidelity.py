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

import numpy as np
import torch

from ssl_book.experiments.config import RunConfig
from ssl_book.experiments.pipeline import cas_training_set, load_run, run_evaluator, run_paths


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
