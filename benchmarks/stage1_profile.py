"""Where a stage-1 step of NC-VQVAE spends its time: ``torch.profiler`` over a short training run.

    python benchmarks/stage1_profile.py                                   # this checkout
    python benchmarks/stage1_profile.py --code /path/to/old/checkout --label before --precision fp32
    python benchmarks/stage1_profile.py --table                           # both labels, from the file

Each profile trains stage 1 of SonyAIBORobotSurface1 at the full protocol (the thesis's 4096-wide
projector, batch 20) for ``--steps`` steps with ``train_stage1`` of the checkout given by ``--code``
(default: this one), in a fresh process on one thread (``OMP_NUM_THREADS=1``), set up as that
version's command line sets itself up (``keep_freed_memory`` where it exists), so a before/after
comparison runs both versions with one harness. Reported per label: the operators with the most
self CPU time per step, the wall time and the minor page faults per step (with the profiler's
overhead: compare labels with each other, and use ``benchmarks/full_protocol.py`` for times).
Results go to ``results/benchmarks/stage1_profile-cpu.json``, one entry per label, with provenance.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from ssl_book.experiments.provenance import provenance, write_json_atomic  # noqa: E402

OUTPUT = ROOT / "results" / "benchmarks" / "stage1_profile-cpu.json"
TOP = 12

# Runs in the child process, with the library of the checkout under test on its path.
CHILD = r"""
import json, resource, sys, tempfile, time
import torch
from torch.profiler import ProfilerActivity, profile
from ssl_book.data import load_ucr
from ssl_book.experiments.cli import make_config
from ssl_book.experiments.pipeline import run_paths, train_stage1

method, augment, precision = sys.argv[1], sys.argv[2] or None, sys.argv[4]
steps, top = int(sys.argv[3]), int(sys.argv[5])
torch.set_num_threads(1)
try:  # what the command line of a version that has it does first (older versions lack it)
    from ssl_book.runtime import keep_freed_memory
    keep_freed_memory()
except ImportError:
    pass
config = make_config("SonyAIBORobotSurface1", method, augment, 1, "full", precision, stage1__steps=steps)
data = load_ucr("SonyAIBORobotSurface1")
with tempfile.TemporaryDirectory() as out:
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    started = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        train_stage1(config, data, run_paths(config, out), torch.device("cpu"))
    wall = time.perf_counter() - started
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
total = sum(e.self_cpu_time_total for e in events)
print(json.dumps({
    "steps": steps, "wall_seconds_per_step": wall / steps, "minor_page_faults_per_step": faults / steps,
    "self_cpu_ms_per_step": total / 1e3 / steps,
    "top": [{"op": e.key, "self_cpu_ms_per_step": e.self_cpu_time_total / 1e3 / steps,
             "share": e.self_cpu_time_total / total, "calls_per_step": e.count / steps} for e in events[:top]],
}))
"""


def profile_stage1(code: Path, method: str, augment: str | None, steps: int, precision: str) -> dict:
    """One profiled stage-1 run of ``code``'s library in a fresh single-thread process."""
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TQDM_DISABLE": "1",
        "PYTHONPATH": str(code),
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD, method, augment or "", str(steps), precision, str(TOP)],
        env=env,
        cwd=code,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(record: dict) -> str:
    """A Markdown table per label: the top operators, their time per step and share."""
    blocks = []
    for label, entry in record["labels"].items():
        for run, found in entry["runs"].items():
            head = (
                f"**{label}**, {run} ({entry['precision']}): {1e3 * found['wall_seconds_per_step']:.0f} ms "
                f"a step (profiled), {found['minor_page_faults_per_step']:.0f} minor page faults a step\n\n"
                "| operator | self CPU ms / step | share | calls / step |\n|---|---|---|---|"
            )
            rows = [
                f"| `{t['op']}` | {t['self_cpu_ms_per_step']:.1f} | {100 * t['share']:.0f} % | "
                f"{t['calls_per_step']:.0f} |"
                for t in found["top"]
            ]
            blocks.append(head + "\n" + "\n".join(rows))
    return "\n\n".join(blocks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--code", type=Path, default=ROOT, help="checkout whose ssl_book runs (default: this one)"
    )
    parser.add_argument("--label", default="after", help="name of this code version in the output file")
    parser.add_argument("--steps", type=int, default=60, help="stage-1 steps to profile")
    parser.add_argument("--precision", choices=("bf16", "fp32"), default="bf16")
    parser.add_argument("--table", action="store_true", help="print the tables of the output file and stop")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    if args.table:
        print(table(json.loads(args.output.read_text())))
        return
    runs = {
        "vibcreg-gauss": profile_stage1(args.code.resolve(), "vibcreg", "gauss", args.steps, args.precision),
        "baseline": profile_stage1(args.code.resolve(), "baseline", None, args.steps, args.precision),
    }
    record = json.loads(args.output.read_text()) if args.output.exists() else {"labels": {}}
    code = subprocess.run(["git", "-C", str(args.code), "rev-parse", "HEAD"], capture_output=True, text=True)
    record["labels"][args.label] = {
        "precision": args.precision,
        "runs": runs,
        "code": code.stdout.strip() or None,
        "provenance": provenance(torch.device("cpu")),
    }
    write_json_atomic(args.output, record)
    print(table(record))


if __name__ == "__main__":
    main()
