"""Training-step rate of the NC-VQVAE thesis code, for a side-by-side ratio with ours.

Run with the Python environment of the thesis code (PyTorch Lightning 2.2, its requirements):

    THESIS_CODE=/path/to/checkout $THESIS_PYTHON benchmarks/thesis_code.py stage1-baseline-ECG5000

``THESIS_CODE`` is a checkout of the thesis's repository (Lokna, Generative-SSL-VQVAE-modelling;
measured at commit 4b905c6) whose ``data/UCRArchive_2018`` holds the UCR files. The script builds
the repository's own LightningModule for the case, with the repository's configuration file and
data loaders, turns off its per-epoch evaluation hooks (they train probes and plot, which is not
the training step), trains ``--steps`` steps with a Lightning ``Trainer`` on the CPU, and prints
one JSON line: steps per second after ``--warmup`` steps. ``benchmarks/pipeline_speed.py`` calls
it for every case, alternating with ours. Nothing of the thesis code is copied here; this file
only drives it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

#: case -> (module kind, dataset, SSL method, augmentation); the cases of pipeline_speed.py
CASES = {
    "stage1-baseline-ECG5000": ("vqvae", "ECG5000", "", None),
    "stage1-vibcreg-ECG5000": ("siam", "ECG5000", "vibcreg", "gaussian_noise"),
    "stage1-baseline-FordA": ("vqvae", "FordA", "", None),
    "stage2-baseline-ECG5000": ("maskgit", "ECG5000", "", None),
}


def thesis_config(root, dataset: str, ssl: str, augmentation: str | None) -> dict:
    """The repository's configuration file with the case's dataset, method and augmentation."""
    from utils import load_yaml_param_settings

    config = load_yaml_param_settings(os.path.join(root, "configs", "config.yaml"))
    config["dataset"]["dataset_name"] = dataset
    config["dataset"]["num_workers"] = 0
    config["SSL"]["stage1_method"] = ssl
    config["augmentations"]["time_augs"] = [augmentation] if augmentation else []
    config["augmentations"]["timefreq_augs"] = []
    config["VQVAE"]["aug_recon_rate"] = 0.2  # the reported runs' alpha
    for stage in ("stage1", "stage2"):  # sets the cosine schedule's period
        config["trainer_params"]["max_epochs"][stage] = 1000
    return config


def without_epoch_hooks(module_class):
    """The module class with its epoch-start/end hooks (probes, plots, logging) turned off."""
    return type(
        module_class.__name__ + "StepsOnly",
        (module_class,),
        {"on_train_epoch_start": lambda self: None, "on_train_epoch_end": lambda self: None},
    )


def build(kind: str, config: dict):
    """``(LightningModule, train loader)`` for the case, from the repository's own classes."""
    import numpy as np
    from experiments.exp_maskgit import ExpMaskGIT
    from experiments.exp_siam_vqvae import Exp_SIAM_VQVAE
    from experiments.exp_vqvae import Exp_VQVAE
    from preprocessing.data_pipeline import build_data_pipeline
    from preprocessing.preprocess_ucr import UCRDatasetImporter

    importer = UCRDatasetImporter(**config["dataset"])
    sizes = config["dataset"]["batch_sizes"]
    batch = sizes["stage2"] if kind == "maskgit" else sizes["stage1"]
    train = build_data_pipeline(batch, importer, config, kind="train", augment=kind == "siam")
    test = build_data_pipeline(batch, importer, config, kind="test", augment=False)
    length, n = train.dataset.X.shape[-1], len(train.dataset)
    if kind == "maskgit":
        n_classes = len(np.unique(train.dataset.Y))
        return without_epoch_hooks(ExpMaskGIT)(length, config, n, n_classes), train
    module_class = Exp_SIAM_VQVAE if kind == "siam" else Exp_VQVAE
    return without_epoch_hooks(module_class)(length, config, n, train, test), train


def save_stage1(config: dict, dataset: str) -> None:
    """A briefly trained stage-1 model saved where the thesis's MaskGIT loads it from."""
    from utils import model_filename, save_model

    module, loader = build("vqvae", config)
    fit(module, loader, steps=2)
    save_model(
        {
            model_filename(config, "encoder"): module.encoder,
            model_filename(config, "decoder"): module.decoder,
            model_filename(config, "vqmodel"): module.vq_model,
        },
        id=dataset,
    )


def fit(module, loader, steps: int) -> list[float]:
    """Train ``steps`` steps; returns the time at the end of every step."""
    import pytorch_lightning as pl

    ends: list[float] = []

    class StepClock(pl.Callback):
        def on_train_batch_end(self, *args, **kwargs):
            ends.append(time.perf_counter())

    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=steps,
        max_epochs=-1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        callbacks=[StepClock()],
    )
    trainer.fit(module, train_dataloaders=loader)
    return ends


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case", choices=list(CASES))
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="default: torch's own choice")
    parser.add_argument(
        "--matmul-precision",
        choices=("highest", "high", "medium"),
        default="highest",
        help="the thesis's trainers set 'medium' when they start",
    )
    args = parser.parse_args()
    root = os.environ.get("THESIS_CODE")
    if not root or not os.path.isdir(root):
        sys.exit("THESIS_CODE must name a checkout of the thesis's repository")
    os.environ.setdefault("WANDB_MODE", "disabled")
    os.environ.setdefault("MPLBACKEND", "Agg")
    warnings.filterwarnings("ignore")
    sys.path.insert(0, root)
    os.chdir(root)
    import torch
    import wandb

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_float32_matmul_precision(args.matmul_precision)
    torch.manual_seed(0)
    wandb.init(mode="disabled")
    kind, dataset, ssl, augmentation = CASES[args.case]
    config = thesis_config(root, dataset, ssl, augmentation)
    if kind == "maskgit":
        save_stage1(config, dataset)
    module, loader = build(kind, config)
    ends = fit(module, loader, args.steps)
    timed = ends[args.warmup :]
    print(
        json.dumps(
            {
                "case": args.case,
                "steps_per_s": (len(timed) - 1) / (timed[-1] - timed[0]),
                "batch_size": loader.batch_size,
                "threads": torch.get_num_threads(),
                "matmul_precision": args.matmul_precision,
                "torch": torch.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
