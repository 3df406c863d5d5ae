"""Speed and memory of the NC-VQVAE pipeline's training steps: optimized vs plain.

    python benchmarks/pipeline_speed.py                  # every case on the best device
    python benchmarks/pipeline_speed.py --device cpu --cases stage1-baseline-ECG5000

Each case runs in a fresh process (so peak memory is its own): a few warm-up steps, then timed
steps of the real pipeline loss at the thesis's configuration (batch 128 in stage 1 with the
4096-wide projector, batch 256 in stage 2). "plain" is fp32 eager PyTorch with the default
AdamW; "optimized" is the pipeline's path (bf16 autocast on CUDA and on CPUs with native bf16,
fp32 elsewhere; fused AdamW) plus ``torch.compile`` where ``--compile`` asks for it. Both use the
library's losses, which never form the projector's D x D matrices (``ssl_book.ssl``), and keep
the data on the device.

Side by side with the thesis code: when ``THESIS_CODE`` names a checkout of the thesis's
repository and ``THESIS_PYTHON`` the Python of an environment that runs it (PyTorch Lightning 2.2
and its requirements), every case is also measured on the thesis's own modules
(``benchmarks/thesis_code.py``), in fresh processes alternating with ours (ours, thesis, ours,
thesis, ...; ``--repeats`` rounds, medians), with the same number of threads, and the thesis side
at both of its matmul precisions ("highest", and "medium", which its trainers set); the ratio
compares our optimized path with the thesis's faster setting. Without them the benchmark says
so and reports ours alone: no rate of other code is typed in here.

Each case also reports a ceiling: the floating-point operations of one training step (forward
and backward, counted with ``torch.utils.flop_counter``) against the rate of a large matrix
product on the same device. No implementation of the same step at the same precision on the
same hardware runs much faster than ``matmul rate / FLOPs per step``; a target above it needs
less arithmetic (another model) or faster arithmetic (other hardware or precision). Results go
to ``results/benchmarks/`` with provenance.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ssl_book.augment import augment  # noqa: E402
from ssl_book.data import load_ucr  # noqa: E402
from ssl_book.experiments.config import Stage1Config, Stage2Config  # noqa: E402
from ssl_book.experiments.loop import autocast, make_optimizer, step_generator  # noqa: E402
from ssl_book.experiments.models import NCVQVAE, build_prior  # noqa: E402
from ssl_book.experiments.pipeline import encoded_latents, peak_memory_bytes  # noqa: E402
from ssl_book.experiments.provenance import provenance, write_json_atomic  # noqa: E402

#: case -> (stage, dataset, method, augmentation); the same names in benchmarks/thesis_code.py
CASES = {
    "stage1-baseline-ECG5000": (1, "ECG5000", "baseline", None),
    "stage1-vibcreg-ECG5000": (1, "ECG5000", "vibcreg", "gauss"),
    "stage1-baseline-FordA": (1, "FordA", "baseline", None),
    "stage2-baseline-ECG5000": (2, "ECG5000", "baseline", None),
}


def make_step(case: str, device: torch.device, optimized: bool, compile_model: bool):
    stage, dataset, method, aug = CASES[case]
    data = load_ucr(dataset)
    torch.manual_seed(0)
    s1 = Stage1Config(method, aug)
    model = NCVQVAE(data.length, s1).to(device)
    x_train = torch.as_tensor(data.x_train, device=device)
    if stage == 1:
        trainee, batch = model, s1.batch_size

        def loss_of(idx, gen):
            x = x_train[idx]
            x_aug = None
            if aug is not None:
                with torch.autocast(device.type, enabled=False):
                    x_aug = augment(x, aug, gen)
            return forward(x, x_aug)["loss"]
    else:
        s2 = Stage2Config()
        model.eval().requires_grad_(False)
        trainee, batch = build_prior(model.tokenizer, data.n_classes, s1, s2).to(device), s2.batch_size
        latents = encoded_latents(model.tokenizer, x_train)
        labels = torch.as_tensor(data.y_train, device=device)

        def loss_of(idx, gen):
            tokens = model.tokenizer.quantizer.sample_indices(latents[idx], temperature=1.0, generator=gen)
            return forward(tokens.flatten(1), labels[idx], gen)

    forward = trainee if stage == 1 else trainee.loss
    if compile_model and stage == 2:  # as the pipeline does (see RunConfig.compile)
        trainee.encoder.forward = torch.compile(trainee.encoder.forward)
    params = [p for p in trainee.parameters() if p.requires_grad]
    optimizer = (
        make_optimizer(params, 1e-3, 1e-3, device)
        if optimized
        else torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-3)
    )
    trainee.train()
    n = len(x_train)

    def step(i: int) -> torch.Tensor:
        idx = torch.randint(0, n, (batch,), device=device)
        with autocast(device, "bf16" if optimized else "fp32"):
            loss = loss_of(idx, step_generator(0, i, device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


def measure(
    case: str, device: torch.device, optimized: bool, compile_model: bool, warmup: int, steps: int
) -> dict:
    step = make_step(case, device, optimized, compile_model)
    for i in range(warmup):
        step(i)
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for i in range(steps):
        loss = step(warmup + i)
    loss.item()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    result = {"steps_per_s": steps / seconds, "peak_memory_bytes": peak_memory_bytes(device)}
    if not optimized:  # eager fp32: every operation is visible to the counter
        counter = FlopCounterMode(display=False)
        with counter:
            step(warmup + steps)
        result["flops_per_step"] = counter.get_total_flops()
    return result


def matmul_flops_per_s(
    device: torch.device, size: tuple[int, int, int] = (256, 4096, 4096), repeats: int = 20
) -> float:
    """The rate of a large fp32 (bf16 on CUDA) matrix product: what the device's arithmetic can do."""
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    m, k, n = size
    a, b = torch.randn(m, k, device=device, dtype=dtype), torch.randn(k, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if device.type == "cuda":
        torch.cuda.synchronize()
    return repeats * 2 * m * k * n / (time.perf_counter() - started)


def ours(case: str, device: torch.device, steps: int, label: str, compile_flag: str) -> dict:
    """One measurement of our step in a fresh process."""
    command = [
        sys.executable,
        __file__,
        "--device",
        str(device),
        "--steps",
        str(steps),
        "--one",
        case,
        label,
        compile_flag,
    ]
    return json.loads(
        subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()[-1]
    )


def thesis(case: str, steps: int, precision: str) -> float | None:
    """The thesis code's steps/s for ``case`` (None when it failed), in a fresh process."""
    command = [
        os.environ["THESIS_PYTHON"],
        str(ROOT / "benchmarks" / "thesis_code.py"),
        case,
        "--steps",
        str(steps + max(3, steps // 10)),
        "--warmup",
        str(max(3, steps // 10)),
        "--threads",
        str(torch.get_num_threads()),
        "--matmul-precision",
        precision,
    ]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "MPLBACKEND": "Agg"})
    if done.returncode != 0:
        print(f"  thesis code failed on {case}: {done.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])["steps_per_s"]


def side_by_side(case: str, device: torch.device, steps: int, compile_flag: str, repeats: int) -> dict:
    """Ours (optimized) and the thesis code at both matmul precisions, alternated; medians."""
    rates: dict[str, list[float]] = {"ours": [], "highest": [], "medium": []}
    for _ in range(repeats):
        rates["ours"].append(ours(case, device, steps, "optimized", compile_flag)["steps_per_s"])
        for precision in ("highest", "medium"):
            rate = thesis(case, steps, precision)
            if rate is not None:
                rates[precision].append(rate)
    medians = {k: statistics.median(v) for k, v in rates.items() if v}
    best = max((medians[p] for p in ("highest", "medium") if p in medians), default=None)
    return {
        "rounds": repeats,
        "steps_per_s": rates,
        "median": medians,
        "thesis_best": best,
        "ratio": None if best is None else medians["ours"] / best,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default=None)
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument(
        "--steps", type=int, default=None, help="timed steps (default: 20 on CPU, 200 on GPU)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds against the thesis code")
    parser.add_argument(
        "--compile", action="store_true", help="torch.compile the stage-2 transformer in the optimized path"
    )
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--one", nargs=3, metavar=("CASE", "PATH", "COMPILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    device = (
        torch.device(args.device)
        if args.device
        else (torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu"))
    )
    steps = args.steps or (200 if device.type == "cuda" else 20)
    if args.one:  # a child process measuring one case
        case, path, compile_flag = args.one
        print(
            json.dumps(
                measure(
                    case,
                    device,
                    path == "optimized",
                    compile_flag == "1",
                    warmup=max(3, steps // 10),
                    steps=steps,
                )
            )
        )
        return
    with_thesis = (
        bool(os.environ.get("THESIS_CODE") and os.environ.get("THESIS_PYTHON")) and device.type == "cpu"
    )
    if not with_thesis:
        print(
            "THESIS_CODE / THESIS_PYTHON not set (or not a CPU run): the thesis code is not measured, "
            "ours alone is reported"
        )
    peak = matmul_flops_per_s(device)
    print(f"matrix product rate on {device}: {peak / 1e9:.0f} GFLOP/s")
    rows = []
    compile_flag = "1" if args.compile else "0"
    for case in args.cases:
        if CASES[case][1] not in ("ECG5000",) and not _available(CASES[case][1]):
            print(f"skipping {case}: dataset {CASES[case][1]} not available (set SSL_BOOK_UCR_ROOT)")
            continue
        row = {
            "case": case,
            "plain": ours(case, device, steps, "plain", "0"),
            "optimized": ours(case, device, steps, "optimized", compile_flag),
        }
        row["speedup"] = row["optimized"]["steps_per_s"] / row["plain"]["steps_per_s"]
        row["flops_per_step"] = row["plain"].pop("flops_per_step")
        row["ceiling_steps_per_s"] = peak / row["flops_per_step"]
        line = (
            f"{case:>26}: plain {row['plain']['steps_per_s']:6.2f} steps/s, optimized "
            f"{row['optimized']['steps_per_s']:6.2f} steps/s (x{row['speedup']:.2f}), peak "
            f"{row['optimized']['peak_memory_bytes'] / 2**30:.2f} GiB; {row['flops_per_step'] / 1e9:.1f} "
            f"GFLOP/step, ceiling {row['ceiling_steps_per_s']:.1f} steps/s"
        )
        if with_thesis:
            row["thesis_code"] = side_by_side(case, device, steps, compile_flag, args.repeats)
            t = row["thesis_code"]
            if t["ratio"] is not None:
                line += (
                    f"; side by side: ours {t['median']['ours']:.2f}, thesis code {t['thesis_best']:.2f} "
                    f"steps/s (x{t['ratio']:.2f})"
                )
        rows.append(row)
        print(line)
    record = {
        "rows": rows,
        "timed_steps": steps,
        "matmul_flops_per_s": peak,
        "torch_threads": torch.get_num_threads(),
        "compile": args.compile,
        "thesis_code_measured": with_thesis,
        "provenance": provenance(device),
    }
    output = args.output or ROOT / "results" / "benchmarks" / f"pipeline_speed-{device.type}.json"
    write_json_atomic(output, record)
    print(f"wrote {output}")


def _available(name: str) -> bool:
    try:
        load_ucr(name)
        return True
    except ValueError:
        return False


if __name__ == "__main__":
    main()
