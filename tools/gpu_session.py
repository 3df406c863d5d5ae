"""One GPU session: benchmarks, then the thesis's full protocol on as many datasets as fit.

    python tools/gpu_session.py --out "$OUT" --budget-minutes 9
    python tools/gpu_session.py --out /tmp/smoke --smoke        # a tiny CPU rehearsal

Order of work: datasets ECG5000 and FordA first (the CPU cannot afford their full protocol),
then Mallat, ShapesAll, ElectricDevices, SonyAIBORobotSurface1 and 2; for each, the baseline,
VIbCReg with gaussian noise and Barlow Twins with slice-and-shuffle; seed 1 first, then more
seeds while time remains. Every finished run leaves a complete results file
(``<out>/runs/.../results.json``), so a session cut short still returns whole runs. A run is
started only if the time left exceeds an estimate of its cost (the last run's time scaled by
the dataset's number of stage-1 steps, with a margin). Datasets missing on the machine are
skipped with a note.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ssl_book.data import REGISTRY, UCRDataError, locate_ucr  # noqa: E402
from ssl_book.experiments.cli import make_config  # noqa: E402
from ssl_book.experiments.pipeline import run_experiment  # noqa: E402

DATASETS = [
    "ECG5000",
    "FordA",
    "Mallat",
    "ShapesAll",
    "ElectricDevices",
    "SonyAIBORobotSurface1",
    "SonyAIBORobotSurface2",
]
CONFIGURATIONS = [("baseline", None), ("vibcreg", "gauss"), ("barlowtwins", "slice")]
#: The rehearsal: every part runs, on tiny models and few samples.
SMOKE = {
    "stage1__steps": 4,
    "stage1__projector_dim": 64,
    "stage2__steps": 4,
    "stage2__dim": 32,
    "stage2__depth": 1,
    "stage2__sample_steps": 2,
    "evaluation__evaluator_epochs": 1,
    "evaluation__cas_epochs": 1,
    "evaluation__cas_min_samples": 20,
}


def stage1_steps(name: str) -> int:
    return 1000 * math.ceil(REGISTRY[name].n_train / 128)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--budget-minutes", type=float, default=9.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 5])
    parser.add_argument("--datasets", nargs="+", default=DATASETS, help="in this order")
    parser.add_argument("--smoke", action="store_true", help="tiny steps on any device (rehearsal)")
    parser.add_argument("--skip-benchmark", action="store_true")
    args = parser.parse_args()
    started = time.monotonic()
    deadline = started + 60 * args.budget_minutes
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    log = args.out / "session.log"
    args.out.mkdir(parents=True, exist_ok=True)

    def note(message: str) -> None:
        line = f"[{time.monotonic() - started:6.0f} s] {message}"
        print(line, flush=True)
        with open(log, "a") as f:
            f.write(line + "\n")

    note(
        f"device {device} ({torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu'}), "
        f"budget {args.budget_minutes} min"
    )
    if not args.skip_benchmark:
        command = [
            sys.executable,
            str(ROOT / "benchmarks" / "pipeline_speed.py"),
            "--output",
            str(args.out / "benchmarks" / f"pipeline_speed-{device.type}.json"),
        ]
        if args.smoke:
            command += ["--steps", "2", "--cases", "stage1-baseline-ECG5000"]
        subprocess.run(command, check=False, timeout=max(60, (deadline - time.monotonic()) / 4))
        note("benchmark done")
    available = []
    for name in args.datasets:
        try:
            locate_ucr(name)
            available.append(name)
        except UCRDataError as err:
            note(f"skipping {name}: {err}")
    seconds_per_step = None
    for seed in args.seeds:
        for name in available:
            for method, augment_set in CONFIGURATIONS:
                config = make_config(name, method, augment_set, seed, **(SMOKE if args.smoke else {}))
                estimate = None if seconds_per_step is None else 1.5 * seconds_per_step * stage1_steps(name)
                left = deadline - time.monotonic()
                if estimate is not None and estimate > left:
                    note(f"stopping before {config.name}: estimated {estimate:.0f} s, {left:.0f} s left")
                    return 0
                run_started = time.monotonic()
                result = run_experiment(config, args.out / "runs", device)
                elapsed = time.monotonic() - run_started
                seconds_per_step = max(seconds_per_step or 0, elapsed / stage1_steps(name))
                metrics = {k: round(v, 4) for k, v in result["metrics"].items()}
                note(f"{config.name}: {elapsed:.0f} s; " + json.dumps(metrics))
    note("all runs done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
