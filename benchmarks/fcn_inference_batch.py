"""FCN inference (the evaluator's features and probabilities) at several batch sizes on a CPU.

    python benchmarks/fcn_inference_batch.py

The evaluator scores hundreds of series at a time (FID, IS, CAS test accuracy). On a CPU one
big batch is not the fastest way: the activations of 512 series of length 128 (256 channels,
float32) no longer fit in the caches, and the same work in batches of about a hundred runs
faster. This measures the wall time of the evaluator's forward pass over 450 random series of
length 128 (chapter 13's CBF sets) per batch size, with 1 and 2 threads, and writes
``results/benchmarks/fcn_inference_batch-cpu.json`` with provenance. It is the measurement
behind :data:`ssl_book.evaluator.INFERENCE_BATCH`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ssl_book.experiments.provenance import provenance, write_json_atomic  # noqa: E402
from ssl_book.fcn import FCN  # noqa: E402

OUTPUT = ROOT / "results" / "benchmarks" / "fcn_inference_batch-cpu.json"


@torch.no_grad()
def seconds_per_pass(model: FCN, x: torch.Tensor, batch: int, repeats: int) -> float:
    """The fastest of ``repeats`` passes of ``model.features`` over ``x`` in batches of ``batch``."""
    times = []
    for _ in range(repeats + 1):  # the first pass warms up
        started = time.perf_counter()
        torch.cat([model.features(x[i : i + batch]) for i in range(0, len(x), batch)])
        times.append(time.perf_counter() - started)
    return min(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=450)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 64, 128, 256, 512])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = FCN(3).eval()
    x = torch.randn(args.series, args.length)
    rows = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for batch in args.batches:
            seconds = seconds_per_pass(model, x, batch, args.repeats)
            rows.append({"threads": threads, "batch": batch, "seconds": seconds})
            print(f"{threads} thread(s), batch {batch:4d}: {seconds * 1000:.0f} ms")
    record = {
        "rows": rows,
        "series": args.series,
        "length": args.length,
        "provenance": provenance(torch.device("cpu")),
    }
    write_json_atomic(args.output, record)
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
