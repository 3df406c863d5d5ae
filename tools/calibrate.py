"""Calibrate the evaluation numbers of one dataset: real-vs-real FID, IS of real data, raw-series
probes, under the full protocol's FCN evaluator and a second evaluator seed
(:func:`ssl_book.calibration.calibrate`). Writes ``results/calibration/<dataset>.json``.

    python tools/calibrate.py --dataset Mallat
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from ssl_book.calibration import calibrate
from ssl_book.evaluator import EvaluatorConfig
from ssl_book.experiments.provenance import provenance, write_json_atomic

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, help="a UCR dataset name, e.g. ECG5000")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="evaluator seeds (default 0 1)")
    parser.add_argument("--splits", type=int, default=5, help="random halvings of the test split (default 5)")
    parser.add_argument(
        "--epochs", type=int, default=1000, help="evaluator epochs (default 1000, the protocol)"
    )
    parser.add_argument(
        "--precision", default="bf16", help="evaluator precision (default bf16, the full preset)"
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "calibration")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    started = time.perf_counter()
    result = calibrate(
        args.dataset,
        EvaluatorConfig(epochs=args.epochs, precision=args.precision),
        evaluator_seeds=tuple(args.seeds),
        n_splits=args.splits,
        device=device,
    )
    result["seconds"] = time.perf_counter() - started
    command = ["python", "tools/calibrate.py", *(sys.argv[1:] if argv is None else argv)]
    result["provenance"] = provenance(device, command)
    return write_json_atomic(args.out / f"{args.dataset}.json", result)


if __name__ == "__main__":
    print(main())
