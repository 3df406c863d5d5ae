"""Class fidelity of finished runs (:mod:`ssl_book.experiments.fidelity`): the FCN evaluator's
accuracy on the real test series, on their reconstructions and on each run's CAS training
samples. For every run under ``--runs`` whose checkpoints are there and whose fidelity file is
not yet written, writes ``<out>/<dataset>/<configuration>/seed<k>-<digest>/fidelity.json`` with
its provenance; finished files are skipped, so the command can be rerun as runs land.

    python tools/class_fidelity.py --runs results/runs --datasets Mallat
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ssl_book.experiments.config import RunConfig
from ssl_book.experiments.fidelity import class_fidelity, fidelity_path
from ssl_book.experiments.pipeline import run_paths
from ssl_book.experiments.provenance import provenance, write_json_atomic

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=Path, default=ROOT / "results" / "runs", help="finished runs")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "class_fidelity")
    parser.add_argument("--datasets", nargs="*", help="only these datasets (default: all)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    command = ["python", "tools/class_fidelity.py", *(sys.argv[1:] if argv is None else argv)]
    todo = []
    for path in sorted(args.runs.rglob("results.json")):
        config = RunConfig.from_dict(json.loads(path.read_text())["config"])
        if args.datasets and config.dataset not in args.datasets:
            continue
        if fidelity_path(config, args.out).exists():
            continue
        paths = run_paths(config, args.runs)
        if paths.stage1.exists() and paths.stage2.exists():
            todo.append(config)
        else:
            print(f"skipped, no checkpoints: {paths.folder}")
    written = []
    for config in tqdm(todo, desc="class fidelity"):
        started = time.perf_counter()
        record = {
            "config": config.to_dict(),
            "config_digest": config.digest(),
            "fidelity": class_fidelity(config, args.runs, device),
            "seconds": time.perf_counter() - started,
            "provenance": provenance(device, command),
        }
        written.append(write_json_atomic(fidelity_path(config, args.out), record))
    return written


if __name__ == "__main__":
    for path in main():
        print(path)
