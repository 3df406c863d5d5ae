"""Does the thesis's way of encoding series for its probes move the probe curves' numbers?

The thesis probed its tokenizers inside a training hook: BatchNorm used each batch's own
statistics, the EMA codebook moved while encoding, the training split was shuffled into batches
of 128 and the test split read in file order. On ECG5000, whose test file is sorted by class,
that alone explains a ten-point gap between its probes and ours
(``results/calibration/ECG5000-probe-offset.md``). :func:`encoding_probes` measures the same
switch on any stage-1 tokenizer, and :func:`main` runs it on the probe curves' latest
checkpoints, so chapter 16 can say whether the gap between the thesis's final probes and our
curves could be the encoding:

    python -m ssl_book.experiments.probe_encoding --dataset FordA \\
        --out results/calibration/FordA-probe-encoding.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ssl_book.checkpoint import load_checkpoint
from ssl_book.data import UCRDataset
from ssl_book.experiments.config import RunConfig
from ssl_book.experiments.models import NCVQVAE
from ssl_book.experiments.pipeline import checkpoint_meta, load_run_data, quantized_features, run_paths
from ssl_book.experiments.probe_curve import DEFAULT_OUT, load_curves
from ssl_book.experiments.provenance import provenance, write_json_atomic
from ssl_book.probes import probe_accuracies
from ssl_book.tokenizer import STFTVQVAE

#: the thesis's batch size when it encoded a split for its probes
THESIS_BATCH = 128


def thesis_features(tokenizer: STFTVQVAE, x: torch.Tensor, order: np.ndarray) -> torch.Tensor:
    """``(n, dim)`` probe features of ``x`` (``(n, length)``) encoded as the thesis did: batch
    statistics and a moving codebook (:func:`~ssl_book.experiments.pipeline.quantized_features`
    with ``batch_statistics=True``), batches of 128 taken in ``order``; rows in ``x``'s order."""
    if sorted(order.tolist()) != list(range(len(x))):
        raise ValueError(f"order must be a permutation of 0..{len(x) - 1}")
    features = torch.empty(len(x), tokenizer.dim)
    index = torch.as_tensor(order)
    features[index] = quantized_features(tokenizer, x[index], THESIS_BATCH, batch_statistics=True).cpu()
    return features


@torch.no_grad()
def encoding_probes(tokenizer: STFTVQVAE, data: UCRDataset, shuffles: int = 3, seed: int = 0) -> dict:
    """Linear SVM and 5-NN test accuracies (``{"svm", "knn"}``) of ``tokenizer``'s features:
    ``"ours"`` (eval mode), and for each of ``shuffles`` shufflings of the training split,
    ``"thesis"`` (test split in file order) and ``"thesis, test shuffled"``."""
    rng = np.random.default_rng(seed)
    x_train, x_test = torch.as_tensor(data.x_train), torch.as_tensor(data.x_test)

    def probe(train: torch.Tensor, test: torch.Tensor) -> dict[str, float]:
        return probe_accuracies(train, data.y_train, test, data.y_test)

    out: dict = {
        "ours": probe(
            quantized_features(tokenizer, x_train).cpu(), quantized_features(tokenizer, x_test).cpu()
        ),
        "thesis": [],
        "thesis, test shuffled": [],
    }
    in_file_order = np.arange(len(x_test))
    for _ in range(shuffles):
        train = thesis_features(tokenizer, x_train, rng.permutation(len(x_train)))
        out["thesis"].append(probe(train, thesis_features(tokenizer, x_test, in_file_order)))
        shuffled = thesis_features(tokenizer, x_test, rng.permutation(len(x_test)))
        out["thesis, test shuffled"].append(probe(train, shuffled))
    return out


def latest_checkpoints(
    dataset: str, folder: Path = DEFAULT_OUT, seeds: list[int] | None = None
) -> list[tuple[RunConfig, Path]]:
    """For each configuration and seed (of ``seeds``; all if ``None``) of ``dataset``'s probe
    curves under ``folder`` (one per seed, :func:`~ssl_book.experiments.probe_curve.load_curves`'
    choice), its stage-1 config and checkpoint (the curve's latest step), where the checkpoint
    exists on this machine."""
    found = []
    for (name_dataset, _), records in sorted(load_curves(folder).items()):
        for record in records if name_dataset == dataset else []:
            config = RunConfig.from_dict(record["config"])
            checkpoint = run_paths(config, folder).stage1
            if checkpoint.exists() and (seeds is None or config.seed in seeds):
                found.append((config, checkpoint))
    return found


def load_tokenizer(config: RunConfig, checkpoint: Path, length: int) -> tuple[STFTVQVAE, int]:
    """The stage-1 tokenizer saved in ``checkpoint`` for series of ``length`` (eval mode), and
    the step it was saved at."""
    state = load_checkpoint(checkpoint, checkpoint_meta(config, 1), map_location="cpu")
    model = NCVQVAE(length, config.stage1)
    model.load_state_dict(state["model"])
    return model.eval().tokenizer, int(state["step"])


def measure(config: RunConfig, checkpoint: Path, shuffles: int) -> dict:
    """:func:`encoding_probes` of the tokenizer saved in ``checkpoint``, with its step."""
    data = load_run_data(config)
    tokenizer, step = load_tokenizer(config, checkpoint, data.length)
    probes = encoding_probes(tokenizer, data, shuffles, seed=config.seed)
    return {"configuration": config.stage1.name, "seed": config.seed, "step": step, **probes}


def summary(record: dict) -> dict[tuple[str, int], dict[str, float]]:
    """``(configuration, seed) ->`` the probes of a :func:`main` record at its latest step:
    ``step``, ``{svm,knn}`` (ours), ``{svm,knn}_thesis`` and ``{svm,knn}_shuffled`` (means over
    the shufflings) and ``svm_thesis_sd`` (their sample standard deviation)."""
    latest: dict[tuple[str, int], dict] = {}
    for row in record["rows"]:
        key = (row["configuration"], row["seed"])
        if key not in latest or row["step"] > latest[key]["step"]:
            latest[key] = row
    out = {}
    for key, row in sorted(latest.items()):
        entry = {"step": row["step"], **row["ours"]}
        for name, runs in (("thesis", row["thesis"]), ("shuffled", row["thesis, test shuffled"])):
            for probe in ("svm", "knn"):
                entry[f"{probe}_{name}"] = float(np.mean([r[probe] for r in runs]))
        entry["svm_thesis_sd"] = float(np.std([r["svm"] for r in row["thesis"]], ddof=1))
        out[key] = entry
    return out


def summary_table(records: dict[str, dict]) -> str:
    """A markdown table of :func:`summary` for each ``dataset -> record``: SVM and 5-NN test
    accuracy encoded our way, the thesis's way (test split in file order; SVM mean ± sd over
    the shufflings of the training split) and the thesis's way with the test split shuffled."""
    lines = [
        "| data | configuration | seed | step | SVM ours | SVM thesis's | SVM test shuffled "
        "| 5-NN ours | 5-NN thesis's |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for dataset, record in records.items():
        for (name, seed), e in summary(record).items():
            lines.append(
                f"| {dataset} | {name} | {seed} | {e['step']} | {e['svm']:.3f} | "
                f"{e['svm_thesis']:.3f} ± {e['svm_thesis_sd']:.3f} | {e['svm_shuffled']:.3f} | "
                f"{e['knn']:.3f} | {e['knn_thesis']:.3f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--curves", type=Path, default=DEFAULT_OUT, help="probe curves and their checkpoints")
    parser.add_argument("--shuffles", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="only these seeds (default: all)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    found = latest_checkpoints(args.dataset, args.curves, args.seeds)
    if not found:
        raise SystemExit(f"no stage-1 checkpoint of {args.dataset}'s probe curves under {args.curves}")
    rows = [
        measure(config, checkpoint, args.shuffles) for config, checkpoint in tqdm(found, desc=args.dataset)
    ]
    command = None if argv is None else [__file__, *argv]  # as typed, however main was called
    record = {"dataset": args.dataset, "rows": rows, "provenance": provenance(torch.device("cpu"), command)}
    write_json_atomic(args.out, record)
    print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
