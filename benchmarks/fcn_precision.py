"""One FCN training step (the evaluator's and CAS's classifier) in fp32 and under bf16 autocast.

    python benchmarks/fcn_precision.py

On a CPU with native bf16 instructions (AVX-512 BF16, AMX) bf16 autocast speeds the
convolutions up; without them PyTorch emulates bf16 and the step gets slower, not faster. This
measures both on the machine at hand, one thread, at the evaluator's batch on
SonyAIBORobotSurface1 (20 series of length 70) and at the CAS batch (256), and writes
``results/benchmarks/fcn_precision-cpu.json`` with the CPU's vector unit and provenance. It is
the measurement behind :func:`ssl_book.runtime.effective_precision`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ssl_book.experiments.provenance import provenance, write_json_atomic  # noqa: E402
from ssl_book.fcn import FCN  # noqa: E402
from ssl_book.runtime import cpu_has_native_bf16  # noqa: E402
from ssl_book.train import autocast_to  # noqa: E402

OUTPUT = ROOT / "results" / "benchmarks" / "fcn_precision-cpu.json"


def seconds_per_step(batch: int, length: int, precision: str, steps: int, warmup: int = 3) -> float:
    """Mean seconds of one AdamW training step of a fresh FCN (2 classes) on random data."""
    torch.manual_seed(0)
    model = FCN(2)
    optimizer = torch.optim.AdamW(model.parameters(), 1e-3)
    x, y = torch.randn(batch, length), torch.randint(0, 2, (batch,))

    def step() -> None:
        with autocast_to("cpu", precision):
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(warmup):
        step()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - started) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batches", type=int, nargs="+", default=[20, 256])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for batch in args.batches:
        fp32, bf16 = (seconds_per_step(batch, 70, p, args.steps) for p in ("fp32", "bf16"))
        rows.append(
            {
                "batch": batch,
                "length": 70,
                "fp32_seconds": fp32,
                "bf16_seconds": bf16,
                "bf16_over_fp32": bf16 / fp32,
            }
        )
        print(
            f"batch {batch}: fp32 {fp32 * 1000:.0f} ms, bf16 autocast {bf16 * 1000:.0f} ms "
            f"({bf16 / fp32:.2f}x)"
        )
    record = {
        "rows": rows,
        "steps": args.steps,
        "threads": 1,
        "cpu": {"capability": torch.backends.cpu.get_cpu_capability(), "native_bf16": cpu_has_native_bf16()},
        "provenance": provenance(torch.device("cpu")),
    }
    write_json_atomic(args.output, record)
    print(json.dumps(record["cpu"]))


if __name__ == "__main__":
    main()
