"""Command line of the NC-VQVAE pipeline.

    python -m ssl_book.experiments run --dataset FordA --method vibcreg --augment gauss --seed 1
    python -m ssl_book.experiments run --train my_TRAIN.tsv --test my_TEST.tsv --name MyData
    python -m ssl_book.experiments sweep --datasets ECG5000 Wafer --methods baseline vibcreg \\
        --augments gauss slice --seeds 1 2 3
    python -m ssl_book.experiments report --results results/ [--output table.md]

``run`` takes any dataset of the UCR archive (``--dataset``; bundled or in
``$SSL_BOOK_UCR_ROOT``) or the reader's own files (``--train``/``--test``, ``.tsv`` in the UCR
format or ``.npz``; ``run --help`` gives the formats), checked before anything is written.

``--preset full`` (the default) is the thesis's protocol: 1000 epochs per stage and a
1000-epoch FCN evaluator. ``--preset cpu`` is a small configuration for a laptop: a few hundred
steps per stage, a 256-wide projector and short evaluator and CAS training; its results are
labelled as such. Under ``torchrun --nproc_per_node=N``, ``run`` trains with DDP and ``sweep``
spreads its runs over the ranks.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from pathlib import Path

import torch

from ssl_book.data.files import dataset_name_from
from ssl_book.distributed import DistContext, init_distributed, shard
from ssl_book.experiments.config import (
    AUGMENTATIONS,
    METHODS,
    EvalConfig,
    RunConfig,
    Stage1Config,
    Stage2Config,
)
from ssl_book.experiments.pipeline import load_run_data, run_experiment
from ssl_book.experiments.provenance import typed_command
from ssl_book.experiments.report import aggregate, load_results, markdown_table
from ssl_book.experiments.sweep import run_parallel
from ssl_book.runtime import by_mode, get_device, keep_freed_memory

#: The thesis's protocol; its FCNs (evaluator, CAS) train under bf16 autocast where the device
#: runs bf16 natively, which halves their time on a GPU or a CPU with bf16 instructions
#: (benchmarks/full_protocol.py), and in fp32 elsewhere.
FULL_PRESET = {"stage1": {}, "stage2": {}, "evaluation": {"fcn_precision": "bf16"}}

#: Overrides of the thesis's defaults for the small CPU configuration (FCNs in fp32, as its
#: committed runs were made).
CPU_PRESET = {
    "stage1": {"steps": 300, "projector_dim": 256},
    "stage2": {"steps": 300, "batch_size": 128, "dim": 128, "depth": 2},
    "evaluation": {"evaluator_epochs": 100, "cas_epochs": 20, "cas_min_samples": 500, "max_fcn_steps": 200},
}


def make_config(
    dataset: str,
    method: str,
    augment: str | None,
    seed: int,
    preset: str = "full",
    precision: str = "bf16",
    compile: bool = False,
    *,
    train_path: str | Path | None = None,
    test_path: str | Path | None = None,
    nan: str | None = None,
    **overrides,
) -> RunConfig:
    """A validated :class:`RunConfig` from command-line style arguments; ``train_path``,
    ``test_path`` and ``nan`` are its data-source fields (the reader's own files)."""
    parts = CPU_PRESET if preset == "cpu" else FULL_PRESET
    if preset not in ("full", "cpu"):
        raise ValueError(f"preset must be 'full' or 'cpu', got {preset!r}")
    stage1 = {**parts["stage1"], "method": method, "augment": augment if method != "baseline" else None}
    for key, value in overrides.items():
        section, _, field = key.partition("__")
        if section == "stage1":
            stage1[field] = value
        elif section in ("stage2", "evaluation"):
            parts = {**parts, section: {**parts[section], field: value}}
        else:
            raise ValueError(f"unknown override {key!r}")
    return RunConfig(
        dataset=dataset,
        seed=seed,
        precision=precision,
        compile=compile,
        stage1=Stage1Config(**stage1),
        stage2=Stage2Config(**parts["stage2"]),
        evaluation=EvalConfig(**parts["evaluation"]),
        train_path=None if train_path is None else str(train_path),
        test_path=None if test_path is None else str(test_path),
        nan=nan,
    )


#: What quick mode (the test suite) shrinks in the chapters' small configuration.
QUICK_OVERRIDES = {
    "stage1__steps": 10,
    "stage2__steps": 10,
    "evaluation__evaluator_epochs": 3,
    "evaluation__cas_epochs": 1,
}


def book_config(
    dataset: str, method: str, augment: str | None, full_protocol: bool, seed: int = 1
) -> RunConfig:
    """The configuration the NC-VQVAE chapters run: the thesis's full protocol (bf16 on the GPU)
    when ``full_protocol``, else the small CPU configuration in fp32, shrunk further in quick mode."""
    if full_protocol:
        return make_config(dataset, method, augment, seed, preset="full", precision="bf16")
    return make_config(
        dataset, method, augment, seed, preset="cpu", precision="fp32", **by_mode({}, QUICK_OVERRIDES)
    )


def sweep_configs(
    datasets: list[str],
    methods: list[str],
    augments: list[str],
    seeds: list[int],
    preset: str = "full",
    precision: str = "bf16",
    compile: bool = False,
    **overrides,
) -> list[RunConfig]:
    """Every (dataset, method, augmentation, seed), the baseline once per dataset and seed; seeds
    vary slowest, so that every configuration gets its first seed before any gets a second."""
    configs = []
    for seed, dataset, method in itertools.product(seeds, datasets, methods):
        for augment in [None] if method == "baseline" else augments:
            configs.append(
                make_config(dataset, method, augment, seed, preset, precision, compile, **overrides)
            )
    return configs


RUN_HELP = """One run of the NC-VQVAE pipeline (stage 1, stage 2, evaluation) on one dataset.

The data: --dataset NAME, any dataset of the UCR archive 2018 (the bundled ones, or any
<NAME>/<NAME>_TRAIN.tsv in the folder $SSL_BOOK_UCR_ROOT), or your own files with
--train PATH --test PATH [--name NAME], either
  .tsv  the UCR format: one series per line, a numeric class label first, then the
        values, tab-separated, no header, the same number of columns on every line; or
  .npz  np.savez(path, x=series, y=labels): x of shape (n, length), y of shape (n,).
TRAIN and TEST must hold series of one length, TRAIN at least two classes, and TEST no
class that TRAIN lacks. The files are checked before anything is written.

  python -m ssl_book.experiments run --train waves_TRAIN.tsv --test waves_TEST.tsv \\
      --method vibcreg --augment gauss --preset cpu"""


def _run_config(args: argparse.Namespace) -> RunConfig:
    """The configuration of ``run`` from its arguments (``ValueError`` for a bad combination)."""
    if args.method != "baseline" and args.augment is None:
        raise ValueError(f"--method {args.method} needs --augment ({', '.join(AUGMENTATIONS)})")
    if args.train is None and (args.test is not None or args.name is not None):
        raise ValueError("--test and --name go with --train (your own files); --dataset names a UCR dataset")
    if args.train is not None and args.test is None:
        raise ValueError("--train needs --test: give both of your own files")
    name = args.dataset if args.train is None else args.name or dataset_name_from(args.train)
    return make_config(
        name,
        args.method,
        args.augment,
        args.seed,
        args.preset,
        args.precision,
        args.compile,
        train_path=args.train,
        test_path=args.test,
        nan=args.nan,
        **_overrides(args),
    )


def _overrides(args: argparse.Namespace) -> dict:
    mapping = {
        "stage1_steps": "stage1__steps",
        "stage2_steps": "stage2__steps",
        "evaluator_epochs": "evaluation__evaluator_epochs",
        "cas_epochs": "evaluation__cas_epochs",
        "fcn_precision": "evaluation__fcn_precision",
        "prior": "stage2__prior",
        "invert_baseline_mask": "stage2__invert_baseline_mask",
    }
    return {
        key: getattr(args, name) for name, key in mapping.items() if getattr(args, name, None) is not None
    }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ssl_book.experiments", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--preset", choices=("full", "cpu"), default="full")
    common.add_argument("--precision", choices=("bf16", "fp32"), default="bf16")
    common.add_argument("--compile", action="store_true", help="torch.compile the stage-2 transformer")
    common.add_argument(
        "--fcn-precision",
        choices=("bf16", "fp32"),
        default=None,
        help="how the evaluator and CAS classifiers train (default bf16 autocast)",
    )
    common.add_argument(
        "--prior",
        choices=("auto", "learned", "codebook"),
        default=None,
        help="the prior's token embedding (auto: the thesis's choice per method)",
    )
    common.add_argument(
        "--invert-baseline-mask",
        action="store_true",
        default=None,
        help="the thesis's baseline mask ratio 1 - cos(pi t / 2) (ablation)",
    )
    common.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: the best available)")
    common.add_argument(
        "--out", type=Path, default=Path("runs"), help="checkpoints and results (default runs/)"
    )
    for name in ("--stage1-steps", "--stage2-steps", "--evaluator-epochs", "--cas-epochs"):
        common.add_argument(name, type=int, default=None)
    run = sub.add_parser(
        "run",
        parents=[common],
        help="one run",
        description=RUN_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", help="a UCR archive dataset: bundled, or in $SSL_BOOK_UCR_ROOT")
    source.add_argument("--train", type=Path, help="your own training file (.tsv or .npz, see above)")
    run.add_argument("--test", type=Path, help="your own test file, with --train")
    run.add_argument(
        "--name",
        help="the name of your own data; names the run folder (default: the "
        "--train file's name without _TRAIN)",
    )
    run.add_argument(
        "--nan",
        choices=("zero", "raise"),
        default=None,
        help="missing values: 'zero' sets them to 0 (padding; the default for --dataset), "
        "'raise' refuses them (the default for --train/--test)",
    )
    run.add_argument("--method", choices=METHODS, default="baseline")
    run.add_argument("--augment", choices=AUGMENTATIONS, default=None)
    run.add_argument("--seed", type=int, default=1)
    sweep = sub.add_parser("sweep", parents=[common], help="datasets x methods x augmentations x seeds")
    sweep.add_argument("--datasets", nargs="+", required=True)
    sweep.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    sweep.add_argument("--augments", nargs="+", choices=AUGMENTATIONS, default=list(AUGMENTATIONS))
    sweep.add_argument("--seeds", nargs="+", type=int, default=[1])
    sweep.add_argument(
        "--jobs", type=int, default=1, help="runs at once, each in its own single-thread process (CPU)"
    )
    report = sub.add_parser("report", help="aggregate results files into the thesis's table")
    report.add_argument("--results", type=Path, default=Path("results"))
    report.add_argument("--output", type=Path, default=None)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command = typed_command(sys.argv if argv is None else ["python -m ssl_book.experiments", *argv])
    keep_freed_memory()
    if args.command == "report":
        table = markdown_table(aggregate(load_results(args.results)))
        if args.output:
            args.output.write_text(table + "\n")
        print(table)
        return 0
    try:
        if args.command == "run":
            configs = [_run_config(args)]
            load_run_data(configs[0])  # bad or missing data fail here, before anything is written
        else:
            configs = sweep_configs(
                args.datasets,
                args.methods,
                args.augments,
                args.seeds,
                args.preset,
                args.precision,
                args.compile,
                **_overrides(args),
            )
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.command == "run":
        device = get_device(args.device)
        ctx = init_distributed(device.type)
        if ctx.enabled and device.type == "cuda":
            device = get_device(f"cuda:{ctx.local_rank}")
        results = [run_experiment(configs[0], args.out, device, ctx, command)]
    else:
        ctx = DistContext(
            int(os.environ.get("RANK", "0")),
            int(os.environ.get("WORLD_SIZE", "1")),
            int(os.environ.get("LOCAL_RANK", "0")),
        )
        device = get_device(args.device or (f"cuda:{ctx.local_rank}" if torch.cuda.is_available() else None))
        if args.jobs < 1:
            print(f"error: --jobs must be at least 1, got {args.jobs}", file=sys.stderr)
            return 2
        mine = shard(configs, ctx)
        if args.jobs > 1:
            results = run_parallel(mine, args.out, args.jobs, device=str(device), command=command)
        else:
            results = [run_experiment(c, args.out, device, DistContext(), command) for c in mine]
    for r in results:
        if r is not None:
            print(
                f"{r['config']['dataset']} {r['config']['stage1']['method']}-{r['config']['stage1']['augment']} "
                f"seed {r['config']['seed']}: " + ", ".join(f"{k}={v:.4g}" for k, v in r["metrics"].items())
            )
    return 0
