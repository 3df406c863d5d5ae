"""The Markdown tables of the chapter "Results": calibration, ablations and compute.

Each function takes what the chapter has loaded (results files as
:func:`~ssl_book.experiments.report.load_results` returns them, or their
:func:`~ssl_book.experiments.report.aggregate` rows; calibration records of
:func:`ssl_book.calibration.load_calibrations`; a benchmark record of ``benchmarks/full_protocol.py``)
and returns a table as Markdown text, one line per row. Every table works with any number of runs:
with none it is its header alone.

Tested in ``tests/test_results_tables.py``.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from typing import Any

import numpy as np

from ssl_book.experiments.evidence import short_name
from ssl_book.experiments.report import Row, configuration_label, mean_sd_text, protocol_label


def seed_spread(rows: list[Row], config: str, protocol: str) -> dict[tuple[str, str], float]:
    """``(dataset, metric) ->`` the sample standard deviation over seeds of ``config`` under
    ``protocol``, for every metric with more than one seed (the last row wins where several
    rows, run on different hardware, share a dataset)."""
    return {
        (row.dataset, metric): float(np.std(values, ddof=1))
        for row in rows
        if row.config == config and row.protocol == protocol
        for metric, values in row.values.items()
        if len(values) > 1
    }


def calibration_table(calibrations: list[dict], seed_sd: dict[tuple[str, str], float]) -> str:
    """One line per calibrated dataset: the evaluators' test accuracies, the FID between two
    halves of the test set (mean ± sd over the splits) and between train and test, the IS of the
    real test set (all under the first evaluator), the raw-series probes, and ``seed_sd``'s
    FID and IS spread (from :func:`seed_spread`; ``–`` where it has none)."""
    lines = [
        "| data | FCN acc % | FID halves | FID train/test | IS test | raw SVM / kNN % "
        "| baseline sd: FID, IS |",
        "|---|---|---|---|---|---|---|",
    ]
    for cal in calibrations:
        first, dataset = cal["per_evaluator"][0], cal["dataset"]
        accuracy = " / ".join(f"{100 * e['evaluator']['test_accuracy']:.1f}" for e in cal["per_evaluator"])
        halves = first["fid"]["test_halves"]
        sd = ", ".join(
            f"{seed_sd[dataset, m]:.2f}" if (dataset, m) in seed_sd else "–" for m in ("fid", "is")
        )
        probes = cal["probes_raw"]
        lines.append(
            f"| {short_name(dataset)} | {accuracy} | {halves['mean']:.2f} ± {halves['sd']:.2f} | "
            f"{first['fid']['train_vs_test']:.2f} | {first['inception_score']['test']['mean']:.2f} | "
            f"{100 * probes['svm']:.1f} / {100 * probes['knn']:.1f} | {sd} |"
        )
    return "\n".join(lines)


def ablation_table(rows: list[Row], arms: tuple[str, ...], protocols: dict[str, str]) -> str:
    """FID, IS and CAS (mean ± sd over seeds) of every configuration in ``arms``, for each
    (protocol, dataset) on which at least one stage-2 ablation (a label with ``[``) ran.

    Args:
        rows: :func:`~ssl_book.experiments.report.aggregate` rows; rows of one (protocol,
            dataset, configuration) on different hardware are pooled.
        arms: the configuration labels to show, e.g. ``("baseline", "baseline [prior: codebook]")``.
        protocols: the protocol labels to show, each with its short name for the table.
    """
    pooled: dict[tuple[str, str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if row.config in arms and row.protocol in protocols:
            for metric in ("fid", "is", "cas"):
                pooled[row.protocol, row.dataset, row.config][metric] += row.values.get(metric, [])
    ablated = {(p, d) for p, d, c in pooled if "[" in c}
    lines = [
        "| protocol | data | tokenizer [stage-2 change] | seeds | FID | IS | CAS % |",
        "|---|---|---|---|---|---|---|",
    ]
    for (protocol, dataset, config), values in sorted(pooled.items()):
        if (protocol, dataset) not in ablated:
            continue
        cells = [mean_sd_text(values[m], 2) for m in ("fid", "is", "cas")]
        lines.append(
            f"| {protocols[protocol]} | {short_name(dataset)} | {short_name(config)} | "
            f"{len(values['fid'])} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


#: the parts of a run that the compute table shows: column -> where ``timing`` holds its seconds
TIMING_PARTS = {
    "stage 1": ("stage1", "seconds"),
    "stage 2": ("stage2", "seconds"),
    "sampling": ("sampling_seconds",),
    "CAS": ("cas_seconds",),
    "total": ("total_seconds",),
    "CPU": ("total_cpu_seconds",),
}


def part_minutes(timing: dict[str, Any], keys: tuple[str, ...]) -> float:
    """One part of a results file's ``timing`` in minutes (``nan`` where it was not recorded)."""
    value: Any = timing
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return float("nan") if value is None else value / 60


def timing_is_complete(timing: dict[str, Any]) -> bool:
    """True when a results file's ``timing`` holds the whole cost of its run: a total, and each
    stage's time over every process that trained it. False for a run that resumed from a
    checkpoint written before checkpoints recorded their time (its stage seconds are ``None``,
    or, in files written before ``resumed_at_step`` existed, 0 steps run: only the loading)."""

    def stage_known(stage: dict[str, Any]) -> bool:
        if stage.get("seconds") is None:
            return False
        return "resumed_at_step" in stage or stage.get("steps_run", 1) > 0

    return bool(timing.get("total_seconds")) and all(stage_known(timing[s]) for s in ("stage1", "stage2"))


def timing_groups(results: list[dict[str, Any]], protocol: str) -> dict[tuple[str, str], list[dict]]:
    """``(dataset, configuration) ->`` the ``timing`` of every finished run of ``protocol``
    whose timing is complete (:func:`timing_is_complete`)."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in results:
        if timing_is_complete(r["timing"]) and protocol_label(r["config"]) == protocol:
            groups[r["config"]["dataset"], configuration_label(r["config"])].append(r["timing"])
    return dict(groups)


def timing_table(groups: dict[tuple[str, str], list[dict]]) -> str:
    """One line per (dataset, configuration) of :func:`timing_groups`: the number of runs and the
    mean minutes of each part of :data:`TIMING_PARTS` over them (wall time, and the run's CPU
    time in the last column; ``–`` where no run recorded a part)."""
    lines = [
        "| data | config | runs | " + " | ".join(TIMING_PARTS) + " |",
        "|---|---|---|" + "---|" * len(TIMING_PARTS),
    ]
    for (dataset, config), timings in sorted(groups.items()):
        with warnings.catch_warnings():  # a part no run recorded: its mean is nan, say so quietly
            warnings.simplefilter("ignore", RuntimeWarning)
            minutes = [np.nanmean([part_minutes(t, k) for t in timings]) for k in TIMING_PARTS.values()]
        cells = " | ".join("–" if np.isnan(m) else f"{m:.1f}" for m in minutes)
        lines.append(f"| {short_name(dataset)} | {short_name(config)} | {len(timings)} | {cells} |")
    return "\n".join(lines)


#: the parts a benchmark run reports, in the table's order
BENCHMARK_PARTS = ("stage1", "stage2", "evaluation (all)", "cas", "total")
#: the parts that make up the evaluation, for runs that timed them one by one
EVALUATION_PARTS = ("evaluator", "sampling", "cas")


def benchmark_table(benchmark: dict[str, Any]) -> str:
    """One line per run of every label (code version) of a ``benchmarks/full_protocol.py``
    record: minutes of wall time per part (``–`` where a version did not time it) and the
    CPU minutes (user + system) of the whole run."""
    lines = [
        "| code | run | stage 1 | stage 2 | evaluation | of it CAS | total | CPU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, entry in benchmark["labels"].items():
        for row in entry["runs"]:
            parts = dict(row["parts_seconds"])
            if "evaluation (all)" not in parts:  # timed part by part: add them up
                parts["evaluation (all)"] = sum(parts[p] for p in EVALUATION_PARTS)
            cells = [f"{parts[p] / 60:.1f}" if p in parts else "–" for p in BENCHMARK_PARTS]
            cpu = (row["user_seconds"] + row["system_seconds"]) / 60
            lines.append(f"| {label} | {row['run']} | " + " | ".join(cells) + f" | {cpu:.1f} |")
    return "\n".join(lines)
