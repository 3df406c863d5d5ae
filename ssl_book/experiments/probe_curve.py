"""Probes along stage-1 training: when does the self-supervised branch's probe gain appear?

The thesis reports its probe accuracies once, at the end of stage 1. :func:`run_probe_curve`
trains one stage-1 model with its configuration's full schedule (the cosine learning-rate
period of the whole protocol, so every point lies on the full run's trajectory) and, at each
milestone step, scores the checkpoint written at that step: the linear SVM and 5-NN probes on
pooled quantized latents, the code perplexity and the validation loss on the test split
(:func:`ssl_book.experiments.pipeline.evaluate_stage1`, the numbers a finished run reports).
Each point is written to ``curve.json`` as soon as it is measured, with its training time so
far and the provenance of the process that measured it. Training stops after the last
milestone; a later call resumes from the checkpoint and skips the milestones already measured,
so a curve can be extended over several sessions (``milestones`` only grow).

    python -m ssl_book.experiments.probe_curve --dataset ShapesAll --method barlowtwins \\
        --augment slice --seed 1 --milestones 250 500 1000 2000
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.ticker import NullLocator

from ssl_book.checkpoint import load_checkpoint
from ssl_book.experiments import loop
from ssl_book.experiments.cli import make_config
from ssl_book.experiments.config import RunConfig
from ssl_book.experiments.models import NCVQVAE
from ssl_book.experiments.pipeline import (
    checkpoint_meta,
    evaluate_stage1,
    load_run_data,
    run_lock,
    run_paths,
    schedule,
    train_stage1,
)
from ssl_book.experiments.provenance import provenance, write_json_atomic
from ssl_book.plot import plot_seeds
from ssl_book.runtime import get_device

#: Where the committed curves live, next to ``results/runs``.
DEFAULT_OUT = Path(__file__).resolve().parents[2] / "results" / "probe_curves"


class _LastMilestoneReached(Exception):
    """Raised from the training loop's step hook once the last milestone is measured."""


def curve_config(config: RunConfig, milestones: Sequence[int]) -> RunConfig:
    """``config`` with a checkpoint at every milestone (``checkpoint_every`` = their greatest
    common divisor), so that each milestone's model is on disk when it is scored. The stage-1
    model does not depend on ``checkpoint_every``."""
    return RunConfig.from_dict({**config.to_dict(), "checkpoint_every": math.gcd(*milestones)})


def check_milestones(milestones: Sequence[int], total_steps: int) -> list[int]:
    """The milestones, sorted; a clear error for an empty list, a repeat, or a step outside
    ``1..total_steps`` (the configuration's stage-1 schedule)."""
    steps = sorted(milestones)
    if not steps:
        raise ValueError("give at least one milestone step")
    if len(set(steps)) != len(steps):
        raise ValueError(f"milestones must differ, got {list(milestones)}")
    if any(not isinstance(s, int) or s < 1 or s > total_steps for s in steps):
        raise ValueError(f"milestones must be whole steps in 1..{total_steps} (this schedule), got {steps}")
    return steps


def curve_path(config: RunConfig, out: str | Path = DEFAULT_OUT) -> Path:
    """``<out>/<dataset>/<configuration>/seed<k>-<stage-1 digest>/curve.json``."""
    folder = Path(out) / config.dataset / config.stage1.name
    return folder / f"seed{config.seed}-{config.stage1_digest()[:8]}" / "curve.json"


def load_curve(path: Path, config: RunConfig) -> dict:
    """The curve recorded at ``path`` for this stage-1 configuration, or a new, empty one."""
    if path.exists():
        record = json.loads(path.read_text())
        if record.get("stage1_digest") == config.stage1_digest():
            return record
    return {
        "config": config.to_dict(),
        "stage1_digest": config.stage1_digest(),
        "points": [],
    }


def score_checkpoint(
    config: RunConfig, checkpoint: Path, data, device: torch.device
) -> tuple[dict, float | None]:
    """The stage-1 metrics of the model saved in ``checkpoint``, and the training time (wall
    seconds, over every process that trained it) the checkpoint records."""
    state = load_checkpoint(checkpoint, checkpoint_meta(config, 1), map_location=device)
    model = NCVQVAE(data.length, config.stage1).to(device)
    model.load_state_dict(state["model"])
    return evaluate_stage1(model.eval().tokenizer, data, device), state["history"].get("elapsed_seconds")


def run_probe_curve(
    config: RunConfig,
    milestones: Sequence[int],
    out: str | Path = DEFAULT_OUT,
    device: torch.device | str | None = None,
) -> dict:
    """Train ``config``'s stage 1 up to the last milestone, scoring each milestone's checkpoint;
    returns the curve (``{"points": [{"step", "svm", "knn", "perplexity", "val_loss", ...}]}``).

    Raises:
        ValueError: bad milestones (see :func:`check_milestones`).
        RuntimeError: another process is training the same curve.
    """
    device = get_device() if device is None else torch.device(device)
    data = load_run_data(config)
    s1 = config.stage1
    total = schedule(s1.epochs, s1.steps, len(data.x_train), s1.batch_size)[0]
    steps = check_milestones(milestones, total)
    config = curve_config(config, steps)
    path = curve_path(config, out)
    paths = run_paths(config, out)
    record = load_curve(path, config)
    wanted = [s for s in steps if s not in {p["step"] for p in record["points"]}]

    def score(step: int) -> None:
        started = time.perf_counter()
        metrics, training_seconds = score_checkpoint(config, paths.stage1, data, device)
        record["points"].append(
            {
                "step": step,
                **metrics,
                "training_seconds": training_seconds,
                "evaluation_seconds": time.perf_counter() - started,
                "autocast_bf16": loop.uses_bf16(device, config.precision),
                "provenance": provenance(device),
            }
        )
        record["points"].sort(key=lambda p: p["step"])
        record["schedule_steps"] = total
        write_json_atomic(path, record)

    def on_step(step: int) -> None:
        if step in wanted:
            score(step)
            if step == wanted[-1]:
                raise _LastMilestoneReached

    with run_lock(path.parent) as acquired:
        if not acquired:
            raise RuntimeError(f"{path.parent} is being trained by another process")
        # a process stopped between a milestone's checkpoint and its record: score it now;
        # milestones before the checkpoint's step can no longer be measured
        resumed = saved_step(config, paths.stage1)
        if resumed in wanted:
            score(resumed)
        wanted = [s for s in wanted if s > resumed]
        if wanted:
            try:
                train_stage1(config, data, paths, device, on_step=on_step)
            except _LastMilestoneReached:
                pass
            except FloatingPointError as error:  # kept in the record, so a reader sees it
                record["diverged"] = {
                    "after_step": saved_step(config, paths.stage1),
                    "error": str(error),
                    "provenance": provenance(device),
                }
                write_json_atomic(path, record)
                raise
    return record


def saved_step(config: RunConfig, checkpoint: Path) -> int:
    """The step of the stage-1 checkpoint of ``config``, 0 if there is none."""
    if not checkpoint.exists():
        return 0
    return int(load_checkpoint(checkpoint, checkpoint_meta(config, 1))["step"])


# ----------------------------------------------------------------------------- reading curves
def load_curves(folder: str | Path = DEFAULT_OUT) -> dict[tuple[str, str], list[dict]]:
    """The curves under ``folder``, one per seed, grouped by ``(dataset, configuration name)``
    (e.g. ``("ShapesAll", "barlowtwins-slice")``), each group sorted by seed.

    A seed can have several curves when a run diverged (see :func:`diverged_curves`) and was
    rerun in another precision: the one kept is :func:`preferred_curve`'s choice."""
    by_seed: dict[tuple[str, str, int], list[dict]] = {}
    for record in _read_curves(folder):
        config = RunConfig.from_dict(record["config"])
        by_seed.setdefault((config.dataset, config.stage1.name, config.seed), []).append(record)
    groups: dict[tuple[str, str], list[dict]] = {}
    for (dataset, name, _seed), records in sorted(by_seed.items()):
        groups.setdefault((dataset, name), []).append(preferred_curve(records))
    return groups


def preferred_curve(records: list[dict]) -> dict:
    """Of several curves of one configuration and seed, the one to show: a run that did not
    diverge over one that did, then the one measured furthest along training."""
    return min(records, key=lambda r: ("diverged" in r, -max((p["step"] for p in r["points"]), default=0)))


def diverged_curves(folder: str | Path = DEFAULT_OUT) -> list[dict]:
    """The curves whose training stopped on a non-finite loss (their ``"diverged"`` entry gives
    the last sound checkpoint's step and the error), whether or not a rerun replaced them."""
    return [record for record in _read_curves(folder) if "diverged" in record]


def _read_curves(folder: str | Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(Path(folder).rglob("curve.json"))]


def curve_matrix(records: list[dict], metric: str) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, values)``: the steps every record has measured, and ``(n_seeds, n_steps)``
    values of ``metric`` there (one row per record), ready for :func:`ssl_book.plot.plot_seeds`."""
    if not records:
        raise ValueError("no curves given")
    measured = [{p["step"]: p[metric] for p in r["points"]} for r in records]
    steps = sorted(set.intersection(*(set(m) for m in measured)))
    return np.array(steps), np.array([[m[s] for s in steps] for m in measured], dtype=float)


def paired_gains(
    curves: dict[tuple[str, str], list[dict]], dataset: str, metric: str, baseline: str, other: str
) -> tuple[list[int], np.ndarray]:
    """``other`` minus ``baseline`` on ``dataset``, paired by seed (same seed, same batches):
    ``(steps, gains)`` with ``gains`` of shape ``(n_seeds, n_steps)`` over the seeds both ran and
    the steps every one of those runs measured; no seeds in common gives ``([], (0, 0))``."""
    by_seed = [
        {
            r["config"]["seed"]: {p["step"]: p[metric] for p in r["points"]}
            for r in curves.get((dataset, name), [])
        }
        for name in (baseline, other)
    ]
    seeds = sorted(set(by_seed[0]) & set(by_seed[1]))
    if not seeds:
        return [], np.zeros((0, 0))
    steps = sorted(set.intersection(*(set(run[s]) for run in by_seed for s in seeds)))
    return steps, np.array([[by_seed[1][s][t] - by_seed[0][s][t] for t in steps] for s in seeds])


def plot_curves(
    ax: Axes,
    curves: dict[tuple[str, str], list[dict]],
    dataset: str,
    metric: str,
    colors: dict[str, str],
    thesis: dict[tuple[str, str, str], tuple[float, float | None]] | None = None,
) -> None:
    """One dataset's curves of ``metric`` (``"svm"``, ``"knn"``, ``"perplexity"``) per
    configuration: every seed as a thin line, the mean ± sd over seeds where all of them were
    measured, and (for the probes) the thesis's final accuracy of that configuration as a dashed
    line (``thesis`` as :func:`ssl_book.experiments.report.thesis_results` gives it, in %)."""
    measured: set[int] = set()
    for (name_dataset, name), records in sorted(curves.items()):
        if name_dataset != dataset or name not in colors:
            continue
        color = colors[name]
        measured |= {p["step"] for r in records for p in r["points"]}
        for record in records:
            points = record["points"]
            seed_steps, seed_values = [p["step"] for p in points], [p[metric] for p in points]
            ax.plot(seed_steps, seed_values, color=color, lw=0.6, marker="o", ms=3, alpha=0.6)
        steps, values = curve_matrix(records, metric)
        if len(steps):
            plot_seeds(
                ax, steps, values, kind="line", color=color, dots=False, label=f"{name} ({len(records)})"
            )
        final = (thesis or {}).get((dataset, metric, name))
        if final is not None and metric in ("svm", "knn"):
            ax.axhline(final[0] / 100, color=color, ls="--", lw=1)
    ax.set(xscale="log", xlabel="stage-1 step")
    ax.xaxis.set_minor_locator(NullLocator())  # the measured steps, labelled as plain numbers
    ax.set_xticks(sorted(measured), [str(step) for step in sorted(measured)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--method", required=True, choices=["baseline", "barlowtwins", "vibcreg"])
    parser.add_argument("--augment", default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--milestones", type=int, nargs="+", required=True)
    parser.add_argument("--precision", default="bf16", choices=["bf16", "fp32"])
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    config = make_config(args.dataset, args.method, args.augment, args.seed, "full", args.precision)
    device = get_device() if args.device is None else torch.device(args.device)
    record = run_probe_curve(config, args.milestones, args.out, device)
    for point in record["points"]:
        print(
            f"step {point['step']:>5}: SVM {point['svm']:.3f}, 5-NN {point['knn']:.3f}, "
            f"perplexity {point['perplexity']:.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
