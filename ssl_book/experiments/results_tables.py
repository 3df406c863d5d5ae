"""The Markdown tables of the chapter "Results": calibration, ablations and compute.

Each function takes what the chapter has loaded (results files as
:func:`~ssl_book.experiments.report.load_results` returns them, or their
:func:`~ssl_book.experiments.report.aggregate` rows; calibration records of
:func:`ssl_book.calibration.load_calibrations`; class-fidelity records of
:func:`ssl_book.experiments.fidelity.load_fidelities`; a benchmark record of
``benchmarks/full_protocol.py``) and returns a table as Markdown text, one line per row. Every
table works with any number of runs: with none it is its header alone.

Tested in ``tests/test_results_tables.py``.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Container
from dataclasses import dataclass
from typing import Any

import numpy as np

from ssl_book.experiments.evidence import MIN_TEST_SEEDS, oriented, per_seed, short_name, shortened_cas
from ssl_book.experiments.report import (
    METRICS,
    Row,
    configuration_label,
    mean_sd_text,
    protocol_family,
    protocol_label,
)
from ssl_book.stats import (
    Factorial2x2,
    PairedComparison,
    factorial_2x2,
    factorial_contrasts,
    paired_comparison,
)


def seed_spread(
    results: list[dict[str, Any]], config: str, protocol: str, metrics: tuple[str, ...] = ("fid", "is")
) -> dict[tuple[str, str], float]:
    """``(dataset, metric) ->`` the sample standard deviation over the seeds of ``config`` under
    ``protocol`` (its family: :func:`~ssl_book.experiments.report.protocol_family`), for every
    metric with two seeds or more. Seeds pool across hardware, as the paired changes do
    (:func:`~ssl_book.experiments.evidence.per_seed`)."""
    return {
        (dataset, metric): float(np.std(list(values.values()), ddof=1))
        for metric in metrics
        for (dataset, name, proto), values in per_seed(results, metric).items()
        if name == config and protocol_family(proto) == protocol and len(values) > 1
    }


@dataclass(frozen=True)
class Level:
    """Where one (dataset, metric) sits, ours against the thesis's (its units, not oriented):
    the baseline's mean over seeds, and the NC-VQVAE configurations' mean over configurations
    of their means over seeds, over the configurations both sources ran."""

    baseline_ours: list[float]  # one value per seed
    baseline_thesis: tuple[float, float | None]  # (mean, sd over its four seeds)
    nc_ours: dict[str, float]  # configuration -> its mean over seeds
    nc_thesis: dict[str, float]  # configuration -> the thesis's mean

    @property
    def baseline_gap(self) -> float:
        """Our baseline's mean minus the thesis's."""
        return float(np.mean(self.baseline_ours)) - self.baseline_thesis[0]

    @property
    def nc_gap(self) -> float:
        """The NC-VQVAE configurations' mean, ours minus the thesis's."""
        return float(np.mean(list(self.nc_ours.values())) - np.mean(list(self.nc_thesis.values())))


def levels(results: list[dict[str, Any]], thesis: dict, protocol: str, metric: str) -> dict[str, Level]:
    """``dataset -> Level`` of ``metric`` for every dataset of ``protocol`` (its family) where
    the baseline and at least one NC-VQVAE configuration ran, in both sources."""
    table = per_seed(results, metric)
    by_dataset: dict[str, dict[str, dict[int, float]]] = defaultdict(dict)
    for (dataset, name, proto), values in table.items():
        if protocol_family(proto) == protocol and "[" not in name:
            by_dataset[dataset][name] = values
    out = {}
    for dataset, runs in sorted(by_dataset.items()):
        base = thesis.get((dataset, metric, "baseline"))
        nc = [c for c in runs if c != "baseline" and (dataset, metric, c) in thesis]
        if "baseline" in runs and base is not None and nc:
            out[dataset] = Level(
                list(runs["baseline"].values()),
                base,
                {c: float(np.mean(list(runs[c].values()))) for c in nc},
                {c: thesis[dataset, metric, c][0] for c in nc},
            )
    return out


def levels_table(
    results: list[dict[str, Any]],
    thesis: dict,
    protocol: str,
    metrics: tuple[str, ...] = ("fid", "is", "cas"),
) -> str:
    """:func:`levels` as a table, one line per (dataset, metric): the baseline's mean ± sd over
    seeds, ours and the thesis's, and the NC-VQVAE configurations' mean with, in parentheses,
    the lowest and highest configuration, ours and the thesis's; then ours minus the thesis's
    for each. A gap in the baseline alone moves every change against it by the same amount.
    A CAS trained for fewer epochs than the thesis's is marked ``†`` (:func:`shortened_cas`)."""
    lines = [
        "| data | metric | baseline: ours | thesis | NC-VQVAE: ours | thesis | ours − thesis: baseline, NC |",
        "|---|---|---|---|---|---|---|",
    ]

    def spread(values: dict[str, float]) -> str:
        v = list(values.values())
        return f"{np.mean(v):.2f}" + (f" ({min(v):.2f} to {max(v):.2f})" if len(v) > 1 else "")

    shortened = shortened_cas(results)
    for metric in metrics:
        for dataset, level in levels(results, thesis, protocol, metric).items():
            mark = "†" if metric == "cas" and dataset in shortened else ""
            mean, sd = level.baseline_thesis
            theirs = f"{mean:.2f}" + (f" ± {sd:.2f}" if sd is not None else "")
            lines.append(
                f"| {short_name(dataset)}{mark} | {METRICS[metric][0]} | {mean_sd_text(level.baseline_ours)} | "
                f"{theirs} | {spread(level.nc_ours)} | {spread(level.nc_thesis)} | "
                f"{level.baseline_gap:+.2f}, {level.nc_gap:+.2f} |"
            )
    return "\n".join(lines)


def calibration_table(calibrations: list[dict], seed_sd: dict[tuple[str, str], float]) -> str:
    """One line per calibrated dataset: the evaluators' test accuracies, the FID between two
    halves of the test set (mean ± sd over the splits) and between train and test, the IS of the
    real test set (all under the first evaluator), how far the train/test FID and the test IS
    move between the evaluator seeds (largest minus smallest), the raw-series probes, and
    ``seed_sd``'s FID and IS spread (from :func:`seed_spread`); ``–`` where there is none."""
    lines = [
        "| data | FCN acc % | FID halves | FID train/test | IS test | evaluators Δ: FID, IS "
        "| raw SVM / kNN % | baseline sd: FID, IS |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for cal in calibrations:
        first, dataset = cal["per_evaluator"][0], cal["dataset"]
        accuracy = " / ".join(f"{100 * e['evaluator']['test_accuracy']:.1f}" for e in cal["per_evaluator"])
        halves = first["fid"]["test_halves"]
        sd = ", ".join(
            f"{seed_sd[dataset, m]:.2f}" if (dataset, m) in seed_sd else "–" for m in ("fid", "is")
        )
        probes, spread = cal["probes_raw"], cal.get("evaluator_spread")
        moved = f"{spread['fid_train_vs_test']:.2f}, {spread['is_test_mean']:.2f}" if spread else "–"
        lines.append(
            f"| {short_name(dataset)} | {accuracy} | {halves['mean']:.2f} ± {halves['sd']:.2f} | "
            f"{first['fid']['train_vs_test']:.2f} | {first['inception_score']['test']['mean']:.2f} | "
            f"{moved} | {100 * probes['svm']:.1f} / {100 * probes['knn']:.1f} | {sd} |"
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


#: the 2 x 2 of the ablations: (SSL branch in stage 1, codebook as the prior's input) -> label
FACTORIAL_ARMS = {
    (0, 0): "baseline",
    (0, 1): "baseline [prior: codebook]",
    (1, 0): "vibcreg-gauss [prior: learned]",
    (1, 1): "vibcreg-gauss",
}
#: the mask ablation's contrasts: column -> (from, to)
MASK_CONTRASTS = {
    "thesis mask vs ours, baseline": ("baseline", "baseline [thesis mask]"),
    "VIb-gauss vs the thesis's baseline": ("baseline [thesis mask]", "vibcreg-gauss"),
}


def effect_text(values: np.ndarray, effect: PairedComparison | None) -> str:
    """``"+1.23 ± 1.13"``: the mean of per-seed ``values`` (shape ``(seeds,)``) and the
    half-width of its (symmetric) t-interval, compact enough for a table of several effects,
    from :data:`~ssl_book.experiments.evidence.MIN_TEST_SEEDS` seeds on; below that the mean
    and each seed's value, ``"+1.23 (+0.50, +1.96)"`` (a t-interval from one degree of freedom
    says nothing), and for one seed the value alone."""
    values = np.asarray(values, dtype=float)
    if len(values) == 1:
        return f"{values[0]:+.2f}"
    if effect is None or len(values) < MIN_TEST_SEEDS:
        return f"{values.mean():+.2f} (" + ", ".join(f"{v:+.2f}" for v in values) + ")"
    return f"{effect.mean:+.2f} ± {effect.ci_high - effect.mean:.2f}"


def rests_on(fit: Factorial2x2 | None) -> str:
    """Which stage a 2 x 2's change rests on: the main effects whose 95 % interval excludes
    zero (the SSL branch of stage 1, the prior's input in stage 2); ``"fewer than 3 seeds"``
    below :data:`~ssl_book.experiments.evidence.MIN_TEST_SEEDS` seeds, as for the tests."""
    if fit is None or fit.both.n < MIN_TEST_SEEDS:
        return "fewer than 3 seeds"
    clear = [e.ci_low > 0 or e.ci_high < 0 for e in (fit.first, fit.second)]
    return {
        (True, False): "SSL branch",
        (False, True): "prior input",
        (True, True): "both",
        (False, False): "neither",
    }[tuple(clear)]


#: what stage 1 alone decides in a results file's ``metrics``: runs whose stage 2 read one
#: stage-1 model report the same values, to the last bit
STAGE1_METRICS = ("val_loss", "val_time_loss", "val_stft_loss", "perplexity", "svm", "knn")


def same_stage1(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two runs of one dataset, seed and stage-1 configuration read the same stage-1
    model, judged by their ``metrics``: every stage-1 metric (:data:`STAGE1_METRICS`) agrees
    exactly. A stage 1 retrained from the same seed on another CPU model does not: its
    arithmetic differs in the last bits, and a thousand epochs turn that into another model."""
    return all(a.get(k) == b.get(k) for k in STAGE1_METRICS)


def tokenizer_label(label: str) -> str:
    """The stage-1 part of a configuration label: ``"baseline [prior: codebook]"`` -> ``"baseline"``."""
    return label.split(" [")[0]


def _match(by_label: dict[str, list[dict]], labels: list[str]) -> list[dict] | None:
    """One results file per label such that labels with one tokenizer share a stage-1 model
    (the first such file of each label wins), or ``None`` where no such choice exists."""
    groups: dict[str, list[str]] = defaultdict(list)
    for label in labels:
        groups[tokenizer_label(label)].append(label)
    chosen: dict[str, dict] = {}
    for group in groups.values():
        for first in by_label[group[0]]:
            picks = [
                next((r for r in by_label[other] if same_stage1(r["metrics"], first["metrics"])), None)
                for other in group[1:]
            ]
            if all(p is not None for p in picks):
                chosen.update(zip(group, [first, *picks]))
                break
        else:
            return None
    return [chosen[label] for label in labels]


def matched_arms(
    results: list[dict[str, Any]], protocol: str, labels: list[str]
) -> tuple[dict[str, dict[int, list[dict]]], list[tuple[str, int]]]:
    """The ablation arms ``labels`` of ``protocol``, per dataset and seed, chosen so that arms
    with one stage-1 tokenizer read one stage-1 model (:func:`same_stage1`): only then does a
    contrast of two arms isolate their stage-2 difference. ``results`` may hold several files of
    one label and seed (stage 2 rerun on a saved stage-1 model, say).

    Returns:
        ``({dataset: {seed: [one results file per label]}}, unmatched)``, where ``unmatched``
        lists the ``(dataset, seed)`` pairs that ran every label without a matching choice.
    """
    candidates: dict[tuple[str, int], dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        cfg = r["config"]
        label = configuration_label(cfg)
        if protocol_label(cfg) == protocol and label in labels:
            candidates[cfg["dataset"], cfg["seed"]][label].append(r)
    matched: dict[str, dict[int, list[dict]]] = defaultdict(dict)
    unmatched = []
    for (dataset, seed), by_label in sorted(candidates.items()):
        if len(by_label) == len(set(labels)):
            chosen = _match(by_label, labels)
            if chosen is None:
                unmatched.append((dataset, seed))
            else:
                matched[dataset][seed] = chosen
    return dict(matched), unmatched


def _cells(
    results: list[dict[str, Any]], protocol: str, metric: str, labels: list[str]
) -> list[tuple[str, list[np.ndarray]]]:
    """Per dataset, the oriented values of ``labels`` (one array per label, shape ``(seeds,)``)
    over the seeds whose arms match (:func:`matched_arms`)."""
    _, key, scale, _ = METRICS[metric]
    out = []
    for dataset, by_seed in sorted(matched_arms(results, protocol, labels)[0].items()):
        seeds = [s for s in sorted(by_seed) if all(r["metrics"].get(key) is not None for r in by_seed[s])]
        if seeds:
            values = np.array(
                [[oriented(metric, scale * r["metrics"][key]) for r in by_seed[s]] for s in seeds]
            )
            out.append((dataset, list(values.T)))
    return out


def factorial_fits(
    results: list[dict[str, Any]], protocol: str, metric: str
) -> dict[str, tuple[dict[str, np.ndarray], Factorial2x2 | None]]:
    """``dataset -> (per-seed contrasts, fit)`` of the 2 x 2 ablation (:data:`FACTORIAL_ARMS`)
    on ``metric`` (oriented: positive is better), for every dataset of ``protocol`` whose four
    arms share seeds, over the seeds whose arms match (:func:`matched_arms`: each tokenizer's two
    arms read one stage-1 model); the fit (:func:`ssl_book.stats.factorial_2x2`) is ``None`` for
    one seed."""
    labels = [FACTORIAL_ARMS[k] for k in ((0, 0), (0, 1), (1, 0), (1, 1))]
    return {
        dataset: (factorial_contrasts(*arms), factorial_2x2(*arms) if len(arms[0]) > 1 else None)
        for dataset, arms in _cells(results, protocol, metric, labels)
    }


def factorial_table(
    results: list[dict[str, Any]], protocol: str, metrics: tuple[str, ...] = ("fid", "is", "cas")
) -> str:
    """The 2 x 2 ablation (:func:`factorial_fits`) under ``protocol`` as main effects: for each
    (dataset, metric) whose four arms share seeds, the SSL branch's main effect (averaged over
    the two prior inputs), the codebook input's (averaged over the two tokenizers), their
    interaction, and both changed at once (the baseline against VIbCReg-gauss; the two main
    effects add up to it). Oriented so that positive is better, with the half-widths of 95 %
    t-intervals from three seeds on, the seeds' values below that (:func:`effect_text`); the
    last column says which main effects are clear (:func:`rests_on`)."""
    lines = [
        "| data | metric | seeds | SSL branch | codebook input | interaction | both | rests on |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for metric in metrics:
        for dataset, (contrasts, fit) in factorial_fits(results, protocol, metric).items():
            effects = (fit.first, fit.second, fit.interaction, fit.both) if fit else (None,) * 4
            cells = " | ".join(effect_text(v, e) for v, e in zip(contrasts.values(), effects))
            lines.append(
                f"| {short_name(dataset)} | {METRICS[metric][0]} | {len(contrasts['both'])} | {cells} "
                f"| {rests_on(fit)} |"
            )
    return "\n".join(lines)


def contrast_fits(
    results: list[dict[str, Any]], protocol: str, metric: str, contrasts: dict[str, tuple[str, str]]
) -> dict[str, dict[str, tuple[np.ndarray, PairedComparison | None]]]:
    """``dataset -> {name: (per-seed differences, fit)}`` for each contrast ``name -> (from, to)``
    on ``metric``, ``to - from`` oriented so that positive is better, over the seeds of that
    dataset of ``protocol`` whose arms match (:func:`matched_arms`); the fit
    (:func:`ssl_book.stats.paired_comparison`) is ``None`` for one seed."""
    labels = sorted({label for pair in contrasts.values() for label in pair})
    out = {}
    for dataset, values in _cells(results, protocol, metric, labels):
        by_label = dict(zip(labels, values))
        out[dataset] = {
            name: (
                by_label[b] - by_label[a],
                paired_comparison(by_label[a], by_label[b]) if len(by_label[a]) > 1 else None,
            )
            for name, (a, b) in contrasts.items()
        }
    return out


def contrast_table(
    results: list[dict[str, Any]],
    protocol: str,
    contrasts: dict[str, tuple[str, str]],
    metrics: tuple[str, ...] = ("fid", "is", "cas"),
) -> str:
    """One column per contrast of :func:`contrast_fits`, one line per (dataset, metric) of
    ``protocol``: the mean change with the half-width of its 95 % t-interval from three seeds
    on, the seeds' values below that (:func:`effect_text`)."""
    lines = [
        "| data | metric | seeds | " + " | ".join(contrasts) + " |",
        "|---|---|---|" + "---|" * len(contrasts),
    ]
    for metric in metrics:
        for dataset, fits in contrast_fits(results, protocol, metric, contrasts).items():
            n = len(next(iter(fits.values()))[0])
            cells = " | ".join(effect_text(diff, fit) for diff, fit in fits.values())
            lines.append(f"| {short_name(dataset)} | {METRICS[metric][0]} | {n} | {cells} |")
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


#: the sets a class-fidelity record scores, as the table's columns name them
FIDELITY_SETS = {"real": "real test", "reconstructed": "reconstructed", "samples": "CAS samples"}


def fidelity_table(results: list[dict[str, Any]], fidelities: dict[str, dict], protocol: str) -> str:
    """One line per (dataset, configuration) of ``protocol`` (runs whose CAS alone was shortened
    included): how many runs have a class-fidelity record, the evaluator's accuracy in % on each
    set of :data:`FIDELITY_SETS` and the runs' CAS in %, each ``mean ± sd`` over those runs; a
    CAS trained for fewer epochs than the thesis's is marked ``†`` (:func:`shortened_cas`)."""
    groups: dict[tuple[str, str], list[tuple[dict, float]]] = defaultdict(list)
    for r in results:
        record = fidelities.get(r["config_digest"])
        if record is not None and protocol_family(protocol_label(r["config"])) == protocol:
            key = (r["config"]["dataset"], configuration_label(r["config"]))
            groups[key].append((record["fidelity"], r["metrics"]["cas"]))
    shortened = shortened_cas(results)
    lines = [
        "| data | config | runs | " + " | ".join(FIDELITY_SETS.values()) + " | CAS |",
        "|---|---|---|" + "---|" * (len(FIDELITY_SETS) + 1),
    ]
    for (dataset, config), runs in sorted(groups.items()):
        columns = [[100 * fidelity[k] for fidelity, _ in runs] for k in FIDELITY_SETS]
        columns.append([100 * cas for _, cas in runs])
        cells = " | ".join(mean_sd_text(values, 1) for values in columns)
        mark = "†" if dataset in shortened else ""
        lines.append(f"| {short_name(dataset)} | {short_name(config)} | {len(runs)} | {cells}{mark} |")
    return "\n".join(lines)


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
    """``(dataset, configuration) ->`` the ``timing`` of every finished run of ``protocol`` (runs
    whose CAS alone was shortened included) whose timing is complete (:func:`timing_is_complete`)."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in results:
        if timing_is_complete(r["timing"]) and protocol_family(protocol_label(r["config"])) == protocol:
            groups[r["config"]["dataset"], configuration_label(r["config"])].append(r["timing"])
    return dict(groups)


def timing_table(groups: dict[tuple[str, str], list[dict]], shortened: Container[str] = ()) -> str:
    """One line per (dataset, configuration) of :func:`timing_groups`: the number of runs and the
    mean minutes of each part of :data:`TIMING_PARTS` over them (wall time, and the run's CPU
    time in the last column; ``–`` where no run recorded a part). The CAS minutes of a dataset
    in ``shortened`` (:func:`shortened_cas`: its CAS ran fewer epochs than the thesis's) are
    marked ``†``."""
    lines = [
        "| data | config | runs | " + " | ".join(TIMING_PARTS) + " |",
        "|---|---|---|" + "---|" * len(TIMING_PARTS),
    ]
    for (dataset, config), timings in sorted(groups.items()):
        with warnings.catch_warnings():  # a part no run recorded: its mean is nan, say so quietly
            warnings.simplefilter("ignore", RuntimeWarning)
            minutes = [np.nanmean([part_minutes(t, k) for t in timings]) for k in TIMING_PARTS.values()]
        cells = ["–" if np.isnan(m) else f"{m:.1f}" for m in minutes]
        if dataset in shortened:
            cells[list(TIMING_PARTS).index("CAS")] += "†"
        lines.append(
            f"| {short_name(dataset)} | {short_name(config)} | {len(timings)} | {' | '.join(cells)} |"
        )
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
