"""The full-protocol sweep behind the Results chapter, in the order a partial sweep should finish.

    python tools/full_protocol_sweep.py --jobs 2                 # everything, seeds 1-3
    python tools/full_protocol_sweep.py --jobs 2 --seeds 4 --dry-run

First, cheap and most telling: the small CPU configuration's stage-2 ablations on ECG5000
(``--small-ablations``, seeds as given), where the small configuration's only significant
generation differences run opposite to the thesis: the baseline tokenizer with the codebook as
the prior's input, VIbCReg-gauss with a learned embedding, and the baseline with the thesis's
inverted mask, next to the committed small-configuration runs (same configuration otherwise,
so stage 1 is the same). Then, at the thesis's protocol (``--preset full``, bf16 autocast
where the CPU has native bf16), one part at a time and, within a part, one seed at a time (so
a sweep stopped at any point leaves each part's table balanced over configurations):

1. SonyAIBORobotSurface1 and 2: the baseline and the six NC-VQVAE configurations, every seed,
   first, because the chapter tests a change only once it holds three seeds;
2. the same datasets' stage-2 ablations, sharing stage 1 with the runs of step 1: the baseline
   tokenizer with the codebook as the prior's input, VIbCReg-gauss with a learned embedding,
   and the baseline with the thesis's inverted mask;
3. Mallat: the baseline, Barlow Twins-slice and VIbCReg-gauss (``--mallat-cas-epochs`` shortens
   its CAS, labelled as such in every table).

Runs whose results exist are skipped, and a run another sweep is training is left to it, so
the command can be stopped and started again. All runs go through
:func:`ssl_book.experiments.sweep.run_parallel` in one queue, so ``--jobs`` workers stay busy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ssl_book.experiments.cli import make_config, sweep_configs
from ssl_book.experiments.config import RunConfig
from ssl_book.experiments.provenance import typed_command
from ssl_book.experiments.report import configuration_label
from ssl_book.experiments.sweep import run_parallel
from ssl_book.runtime import keep_freed_memory

SONY = ["SonyAIBORobotSurface1", "SonyAIBORobotSurface2"]
ABLATIONS = [
    ("baseline", None, {"stage2__prior": "codebook"}),
    ("vibcreg", "gauss", {"stage2__prior": "learned"}),
    ("baseline", None, {"stage2__invert_baseline_mask": True}),
]
MALLAT = [("baseline", None), ("barlowtwins", "slice"), ("vibcreg", "gauss")]
#: the small CPU configuration of the committed runs: fp32, FCN steps uncapped as when those ran
SMALL = {"preset": "cpu", "precision": "fp32", "evaluation__max_fcn_steps": None}


def small_ablations(datasets: list[str], seeds: list[int]) -> list[RunConfig]:
    """The stage-2 ablations in the small CPU configuration of the committed runs (fp32, FCN
    steps uncapped as when those ran, so the protocol label and stage 1 match theirs): the two
    prior-input arms of the 2 x 2 for every seed first, then the thesis-mask arm."""

    def arms(ablations):
        return [
            make_config(d, m, a, seed, **SMALL, **o)
            for seed in seeds
            for d in datasets
            for m, a, o in ablations
        ]

    return arms(ABLATIONS[:2]) + arms(ABLATIONS[2:])  # the 2 x 2 over all seeds, then the mask


def matched_sets(
    datasets: list[str], seeds: list[int], preset: str = "small", precision: str = "bf16"
) -> list[RunConfig]:
    """The 2 x 2 and mask arms, all five of a (dataset, seed) together: the two main
    configurations (the baseline and VIbCReg-gauss) and the three ablations, in the small
    configuration of the committed runs (fp32) or at the full protocol (``precision``). Run in
    one folder on one machine, each tokenizer's arms read one stage-1 checkpoint, which a
    stage 1 retrained on another CPU model is not (``results_tables.matched_arms``)."""
    main = [("baseline", None, {}), ("vibcreg", "gauss", {})]
    settings = SMALL if preset == "small" else {"preset": "full", "precision": precision}
    return [
        make_config(d, m, a, seed, **settings, **o)
        for seed in seeds
        for d in datasets
        for m, a, o in main + ABLATIONS
    ]


def plan(
    seeds: list[int], precision: str = "bf16", mallat_cas_epochs: int | None = None, small: list[str] = ()
) -> list[RunConfig]:
    """The runs in the order they should finish (see the module docstring)."""
    configs: list[RunConfig] = small_ablations(list(small), seeds)
    mallat = {} if mallat_cas_epochs is None else {"evaluation__cas_epochs": mallat_cas_epochs}
    configs += sweep_configs(
        SONY, ["baseline", "barlowtwins", "vibcreg"], ["warp", "slice", "gauss"], seeds, "full", precision
    )
    configs += [
        make_config(d, m, a, seed, "full", precision, **o)
        for seed in seeds
        for d in SONY
        for m, a, o in ABLATIONS
    ]
    configs += [
        make_config("Mallat", m, a, seed, "full", precision, **mallat) for seed in seeds for m, a in MALLAT
    ]
    return configs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--jobs", type=int, default=2, help="single-thread runs at once (default 2)")
    parser.add_argument("--precision", choices=("bf16", "fp32"), default="bf16")
    parser.add_argument(
        "--mallat-cas-epochs",
        type=int,
        default=None,
        help="shorter CAS on Mallat (default: the thesis's 1000 epochs)",
    )
    parser.add_argument(
        "--small-ablations",
        nargs="*",
        default=["ECG5000"],
        metavar="DATASET",
        help="datasets for the small configuration's ablations (default ECG5000)",
    )
    parser.add_argument(
        "--matched",
        nargs="+",
        metavar="DATASET",
        help="only the five ablation arms of each seed, run together so that they share "
        "stage 1 (with --out results/ablations)",
    )
    parser.add_argument(
        "--matched-preset", choices=("small", "full"), default="small", help="for --matched (default small)"
    )
    parser.add_argument("--out", type=Path, default=Path("results/runs"))
    parser.add_argument("--dry-run", action="store_true", help="list the runs and stop")
    args = parser.parse_args(argv)
    if args.matched:
        configs = matched_sets(args.matched, args.seeds, args.matched_preset, args.precision)
    else:
        configs = plan(args.seeds, args.precision, args.mallat_cas_epochs, args.small_ablations)
    if args.dry_run:
        for c in configs:
            print(f"{c.dataset} {configuration_label(c.to_dict())} seed {c.seed}")
        return 0
    keep_freed_memory()
    command = typed_command(sys.argv if argv is None else ["tools/full_protocol_sweep.py", *argv])
    run_parallel(configs, args.out, args.jobs, device="cpu", command=command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
