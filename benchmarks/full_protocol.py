"""Wall time of one whole run at the thesis's full protocol, part by part, on one CPU thread.

    python benchmarks/full_protocol.py                              # this checkout, both methods
    python benchmarks/full_protocol.py --code /path/to/old/checkout --label before
    python benchmarks/full_protocol.py --table                      # before/after from the file
    python benchmarks/full_protocol.py --runs --flops               # FLOPs and ceilings only

Each run is ``python -m ssl_book.experiments run --dataset SonyAIBORobotSurface1 ... --preset
full --precision P --device cpu`` (``--precision``, default ``bf16``: autocast where the CPU has
native bf16, see ``ssl_book.experiments.loop.uses_bf16``) in a fresh process with ``OMP_NUM_THREADS=1`` and an empty
cache folder (so the FCN evaluator is trained and timed too). ``--code DIR`` runs the library of
another checkout (an older commit, say) the same way, so a before/after comparison is measured
with one harness. Reported per run: the time of each part (stage 1, probes, stage 2, evaluator,
sampling with FID and IS, CAS) from the run's own results file, the process's user and system
CPU time and minor page faults (``getrusage``), and the metrics (to check that a faster version
gives the same results). ``--flops`` adds the arithmetic of each training part (one step
counted with ``torch.utils.flop_counter``, times the steps) and the ceiling it implies at this
machine's single-thread matrix-product rate.

The thesis code is measured side by side when ``THESIS_CODE`` names its checkout (see
``tools/thesis-bench`` in the development setup for how to drive it); without it the benchmark
says so and reports ours alone. Results go to ``results/benchmarks/full_protocol-cpu.json``,
one entry per label, with provenance.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from ssl_book.experiments.provenance import provenance, write_json_atomic  # noqa: E402
from ssl_book.runtime import cpu_has_native_bf16  # noqa: E402

DATASET = "SonyAIBORobotSurface1"
RUNS = {"baseline": ("baseline", None), "vibcreg-gauss": ("vibcreg", "gauss")}
PARTS = ("stage1", "probes", "stage2", "evaluator", "sampling", "cas")
OUTPUT = ROOT / "results" / "benchmarks" / "full_protocol-cpu.json"


def run_command(
    method: str, augment: str | None, seed: int, out: Path, precision: str, extra: list[str]
) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "ssl_book.experiments",
        "run",
        "--dataset",
        DATASET,
        "--method",
        method,
        "--seed",
        str(seed),
        "--preset",
        "full",
        "--precision",
        precision,
        "--device",
        "cpu",
        "--out",
        str(out),
    ]
    return command + (["--augment", augment] if augment else []) + extra


def part_seconds(results: dict, clock: str = "") -> dict[str, float]:
    """The time of each part from a results file: wall time, or with ``clock="cpu_"`` the
    process's CPU time where the file records it (older files lack it and the evaluation's
    split)."""
    timing = results["timing"]
    parts = {
        stage: timing[stage][f"{clock}seconds"]
        for stage in ("stage1", "stage2")
        if timing[stage].get(f"{clock}seconds") is not None
    }
    for name in ("probes", "evaluator", "sampling", "cas", "total"):
        if f"{name}_{clock}seconds" in timing:
            parts[name] = timing[f"{name}_{clock}seconds"]
    if not clock and "cas" not in parts:
        parts["evaluation (all)"] = timing["evaluation_seconds"]
    return parts


def measure(
    name: str, code: Path, seed: int, precision: str, extra: list[str], keep: Path | None = None
) -> dict:
    """One run in a fresh single-thread process, timed part by part; with ``keep``, its results
    file is copied there (``<keep>/<dataset>/<configuration>/<run>/results.json``), so a
    benchmarked run can count as a run of a sweep writing to the same folder."""
    method, augment = RUNS[name]
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            **os.environ,
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "TQDM_DISABLE": "1",
            "SSL_BOOK_CACHE_DIR": str(Path(scratch) / "cache"),
            "PYTHONPATH": str(code),
        }
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            run_command(method, augment, seed, Path(scratch) / "runs", precision, extra),
            env=env,
            cwd=code,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        found = next(Path(scratch, "runs").rglob("results.json"))
        results = json.loads(found.read_text())
        if keep is not None:
            target = keep / found.relative_to(Path(scratch, "runs"))
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(found, target)
    return {
        "run": name,
        "seed": seed,
        "precision": precision,
        "wall_seconds": wall,
        "parts_seconds": part_seconds(results),
        "parts_cpu_seconds": part_seconds(results, "cpu_"),
        "user_seconds": after.ru_utime - before.ru_utime,
        "system_seconds": after.ru_stime - before.ru_stime,
        "minor_page_faults": after.ru_minflt - before.ru_minflt,
        "metrics": results["metrics"],
        "code_version": results["provenance"]["code_version"],
    }


def flops_per_part(name: str) -> dict[str, float]:
    """Floating-point operations of each training part of one run (this checkout's code)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from ssl_book.data import load_ucr
    from ssl_book.experiments.cli import make_config
    from ssl_book.experiments.pipeline import schedule

    method, augment = RUNS[name]
    config = make_config(DATASET, method, augment, 1, "full", "fp32")
    data = load_ucr(DATASET)
    steps = {
        stage: schedule(s.epochs, s.steps, len(data.x_train), s.batch_size)[0]
        for stage, s in (("stage1", config.stage1), ("stage2", config.stage2))
    }
    counts = {}
    for stage in ("stage1", "stage2"):
        counter = FlopCounterMode(display=False)
        step = _one_step(config, data, stage)
        with counter:
            step()
        counts[stage] = counter.get_total_flops() * steps[stage]
    from ssl_book.fcn import FCN

    model = FCN(data.n_classes)
    batch = torch.randn(256, data.length)
    counter = FlopCounterMode(display=False)
    with counter:
        model(batch).sum().backward()
    per_sample = counter.get_total_flops() / 256
    ev = config.evaluation
    counts["evaluator"] = per_sample * len(data.x_train) * ev.evaluator_epochs
    n_cas = max(len(data.x_train), ev.cas_min_samples)
    counts["cas"] = per_sample * n_cas * ev.cas_epochs
    return counts


def _one_step(config, data, stage: str):
    """A closure running one training step of ``stage`` at the run's batch size."""
    import torch

    from ssl_book.augment import augment
    from ssl_book.experiments.models import NCVQVAE, build_prior
    from ssl_book.experiments.pipeline import encoded_latents

    model = NCVQVAE(data.length, config.stage1)
    x = torch.as_tensor(data.x_train)
    gen = torch.Generator().manual_seed(0)
    if stage == "stage1":
        batch = x[: config.stage1.batch_size]
        view = augment(batch, config.stage1.augment, gen) if config.stage1.augment else None
        return lambda: model(batch, view)["loss"].backward()
    model.eval().requires_grad_(False)
    prior = build_prior(model.tokenizer, data.n_classes, config.stage1, config.stage2)
    latents = encoded_latents(model.tokenizer, x)[: config.stage2.batch_size]
    labels = torch.as_tensor(data.y_train)[: config.stage2.batch_size]
    tokens = model.tokenizer.quantizer.sample_indices(latents, 1.0, gen).flatten(1)
    return lambda: prior.loss(tokens, labels, gen).backward()


def matmul_rate(size: tuple[int, int, int] = (256, 4096, 4096), repeats: int = 10) -> float:
    """FLOP/s of a large fp32 matrix product on one thread."""
    import torch

    torch.set_num_threads(1)
    m, k, n = size
    a, b = torch.randn(m, k), torch.randn(k, n)
    a @ b
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return repeats * 2 * m * k * n / (time.perf_counter() - started)


def table(record: dict) -> str:
    """A Markdown table: one row per (label, run), the parts' minutes (wall; "wall / CPU" where
    the run recorded its parts' CPU time), the whole process's CPU time, page faults."""
    head = (
        "| code | run | " + " | ".join(PARTS) + " | total | user+sys CPU | sys | page faults |\n"
        "|---|---|" + "---|" * (len(PARTS) + 4)
    )
    rows = []
    for label, entry in record["labels"].items():
        for row in entry["runs"]:
            parts, cpu = row["parts_seconds"], row.get("parts_cpu_seconds", {})
            cells = [
                (
                    "–"
                    if p not in parts
                    else f"{parts[p] / 60:.2f}" + (f" / {cpu[p] / 60:.2f}" if p in cpu else "")
                )
                for p in PARTS
            ]
            if "evaluation (all)" in parts:
                cells[3] = f"({parts['evaluation (all)'] / 60:.2f} for all three)"
            rows.append(
                f"| {label} | {row['run']} s{row['seed']} | "
                + " | ".join(cells)
                + f" | {parts['total'] / 60:.2f} | {(row['user_seconds'] + row['system_seconds']) / 60:.2f}"
                + f" | {row['system_seconds'] / 60:.2f} | {row['minor_page_faults'] / 1e6:.1f} M |"
            )
    return head + "\n" + "\n".join(rows) + "\n\n(minutes; one thread per run)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--code", type=Path, default=ROOT, help="checkout whose ssl_book runs (default: this one)"
    )
    parser.add_argument("--label", default="after", help="name of this code version in the output file")
    parser.add_argument(
        "--runs",
        nargs="*",
        choices=list(RUNS),
        default=list(RUNS),
        help="runs to time (none: with --flops, only count the FLOPs)",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--precision", choices=("bf16", "fp32"), default="bf16")
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="more arguments for the run")
    parser.add_argument("--flops", action="store_true", help="also count the FLOPs of each part")
    parser.add_argument("--table", action="store_true", help="print the table of the output file and stop")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument(
        "--keep-results", type=Path, default=None, help="copy each run's results file into this runs folder"
    )
    args = parser.parse_args()
    record = json.loads(args.output.read_text()) if args.output.exists() else {"labels": {}}
    if args.table:
        print(table(record))
        return
    if not os.environ.get("THESIS_CODE"):
        print("THESIS_CODE is not set: the thesis code is not measured, ours alone is reported")
    for seed, name in ((seed, name) for seed in args.seeds for name in args.runs):
        row = measure(name, args.code.resolve(), seed, args.precision, args.extra, args.keep_results)
        # read again: a benchmark of another label may run at the same time and write the file
        record = json.loads(args.output.read_text()) if args.output.exists() else {"labels": {}}
        entry = record["labels"].setdefault(args.label, {"runs": []})
        entry["runs"] = [r for r in entry["runs"] if (r["run"], r["seed"]) != (name, seed)] + [row]
        print(json.dumps({k: row[k] for k in ("run", "wall_seconds", "parts_seconds", "system_seconds")}))
        entry["provenance"] = provenance(torch.device("cpu"))
        entry["cpu"] = {
            "capability": torch.backends.cpu.get_cpu_capability(),
            "native_bf16": cpu_has_native_bf16(),
        }
        write_json_atomic(args.output, record)
    if args.flops:
        rate = matmul_rate()
        record["matmul_flops_per_s_one_thread"] = rate
        record["flops"] = {name: flops_per_part(name) for name in RUNS}
        record["ceiling_seconds"] = {
            name: {part: f / rate for part, f in parts.items()} for name, parts in record["flops"].items()
        }
        write_json_atomic(args.output, record)
    print(table(record))


if __name__ == "__main__":
    main()
