"""The Results chapter's tables: calibration, ablations, compute per part, benchmark."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from test_evidence import result as evidence_result

from ssl_book.calibration import load_calibrations
from ssl_book.experiments.evidence import shortened_cas
from ssl_book.experiments.fidelity import load_fidelities
from ssl_book.experiments.report import aggregate, load_results
from ssl_book.experiments.results_tables import (
    BENCHMARK_PARTS,
    FACTORIAL_ARMS,
    MASK_CONTRASTS,
    TIMING_PARTS,
    ablation_table,
    benchmark_table,
    calibration_table,
    contrast_table,
    factorial_table,
    fidelity_table,
    levels,
    levels_table,
    matched_arms,
    part_minutes,
    rests_on,
    same_stage1,
    seed_spread,
    timing_groups,
    timing_is_complete,
    timing_table,
)

ROOT = Path(__file__).resolve().parents[1]
FULL = "full protocol"
SMALL = "reduced: stage 1 300 steps, stage 2 300 steps, evaluator 1000 epochs"


def result(dataset, config, seed, full=True, device="cpu", prior="auto", timing=None, **metrics) -> dict:
    """A results file as :func:`test_evidence.result` writes it, with hardware, prior and timing."""
    record = evidence_result(dataset, config, seed, full, **metrics)
    record["config"]["stage2"]["prior"] = prior
    record["provenance"]["device"] = device
    record["timing"] = timing or {}
    return record


def body(table: str) -> list[str]:
    return table.splitlines()[2:]  # without the header and the rule


def test_seed_spread_keeps_one_configuration_and_protocol_with_two_or_more_seeds_on_any_hardware():
    results = [
        result("D", "baseline", 1, fid=1.0, is_mean=2.0),
        result("D", "baseline", 2, fid=3.0),
        result("D", "baseline", 3, full=False, fid=10.0),
        result("D", "baseline", 4, full=False, fid=20.0),
        result("D", "vibcreg-gauss", 1, fid=5.0),
        result("D", "vibcreg-gauss", 2, fid=9.0),
    ]
    results.append(result("D", "baseline", 5, device="another cpu", fid=5.0))
    spread = seed_spread(results, "baseline", FULL)
    # seeds pool across hardware: FID 1, 3, 5; IS has one seed only
    assert spread == {("D", "fid"): pytest.approx(2.0)}


def calibration(dataset: str, accuracies=(0.9, 0.8)) -> dict:
    numbers = {
        "fid": {"test_halves": {"mean": 1.234, "sd": 0.5}, "train_vs_test": 7.0},
        "inception_score": {"test": {"mean": 2.5}},
    }
    return {
        "dataset": dataset,
        "per_evaluator": [{"evaluator": {"test_accuracy": a}, **numbers} for a in accuracies],
        "probes_raw": {"svm": 0.75, "knn": 0.5},
        "evaluator_spread": {"fid_train_vs_test": 0.125, "is_test_mean": 0.05}
        if len(accuracies) > 1
        else None,
    }


def test_calibration_table_has_a_line_per_dataset_and_marks_missing_spreads():
    table = calibration_table(
        [calibration("SonyAIBORobotSurface1"), calibration("Mallat", (0.95,))], {("Mallat", "is"): 0.25}
    )
    sony, mallat = body(table)
    assert sony == "| Sony1 | 90.0 / 80.0 | 1.23 ± 0.50 | 7.00 | 2.50 | 0.12, 0.05 | 75.0 / 50.0 | –, – |"
    assert mallat.startswith("| Mallat | 95.0 |") and mallat.endswith("| 2.50 | – | 75.0 / 50.0 | –, 0.25 |")
    assert body(calibration_table([], {})) == []


def test_ablation_table_shows_only_ablated_datasets_and_pools_hardware():
    arms = ("baseline", "baseline [prior: codebook]")
    results = [
        result("A", "baseline", 1, fid=1.0, is_mean=2.0, cas=0.5),
        result("A", "baseline", 2, device="other", fid=3.0, is_mean=2.0, cas=0.7),
        result("A", "baseline", 1, prior="codebook", fid=2.0),
        result("B", "baseline", 1, fid=9.0),  # no ablation on B: not shown
        result("A", "vibcreg-gauss", 1, fid=4.0),  # not an arm
    ]
    lines = body(ablation_table(aggregate(results), arms, {FULL: "full"}))
    assert lines == [
        "| full | A | base | 2 | 2.00 ± 1.41 | 2.00 ± 0.00 | 60.00 ± 14.14 |",
        "| full | A | base [prior: codebook] | 1 | 2.00 | – | – |",
    ]
    assert body(ablation_table(aggregate(results), arms, {SMALL: "small CPU"})) == []


def arms(dataset: str, seed: int, fids: tuple[float, float, float, float], mask_fid=None) -> list[dict]:
    """The four runs of the 2 x 2 (baseline, baseline [codebook], VIb-gauss [learned], VIb-gauss)
    on ``dataset`` and ``seed`` with these FIDs, and the thesis-mask arm where ``mask_fid`` is set."""
    base, codebook, learned, nc = fids
    runs = [
        result(dataset, "baseline", seed, fid=base),
        result(dataset, "baseline", seed, prior="codebook", fid=codebook),
        result(dataset, "vibcreg-gauss", seed, prior="learned", fid=learned),
        result(dataset, "vibcreg-gauss", seed, fid=nc),
    ]
    if mask_fid is not None:
        runs.append(result(dataset, "baseline", seed, fid=mask_fid))
        runs[-1]["config"]["stage2"]["invert_baseline_mask"] = True
    return runs


def test_the_2x2_reads_only_arms_that_share_their_stage1_model():
    results = arms("A", 1, (10.0, 6.0, 9.0, 5.0)) + arms("A", 2, (12.0, 7.0, 10.0, 6.0))
    for r in results:
        r["metrics"].update(svm=0.5, val_loss=0.25)
    results[1]["metrics"]["svm"] = 0.625  # seed 1's codebook arm: stage 1 retrained elsewhere
    assert not same_stage1(results[0]["metrics"], results[1]["metrics"])
    labels = list(FACTORIAL_ARMS.values())
    matched, unmatched = matched_arms(results, FULL, labels)
    assert unmatched == [("A", 1)] and list(matched["A"]) == [2]
    (row,) = body(factorial_table(results, FULL, metrics=("fid",)))
    assert row.startswith("| A | FID | 1 | +1.50 | +4.50 |")  # seed 2 alone
    # stage 2 of the baseline rerun on the codebook arm's stage-1 model: seed 1 counts again,
    # with the rerun, not with the first baseline
    rerun = result("A", "baseline", 1, fid=20.0, svm=0.625, val_loss=0.25)
    matched, unmatched = matched_arms(results + [rerun], FULL, labels)
    assert unmatched == [] and matched["A"][1][0] is rerun and matched["A"][2][0] is results[4]
    (row,) = body(factorial_table(results + [rerun], FULL, metrics=("fid",)))
    assert row.startswith("| A | FID | 2 | +3.75 (+6.00, +1.50) |")


def test_factorial_table_splits_the_change_into_main_effects():
    results = arms("A", 1, (10.0, 6.0, 9.0, 5.0)) + arms("A", 2, (12.0, 7.0, 10.0, 6.0))
    results += arms("C", 1, (10.0, 6.0, 9.0, 5.0))  # one seed: no intervals
    results += arms("B", 1, (1.0, 1.0, 1.0, 1.0))[:3]  # an arm missing: no row
    a, c = body(factorial_table(results, FULL, metrics=("fid",)))
    # FID falls, so every change is positive: SSL branch +1 and +1.5, codebook +4 and +4.5;
    # two seeds show their values, not a t-interval from one degree of freedom
    assert a.startswith("| A | FID | 2 | +1.25 (+1.00, +1.50) | +4.25 (+4.00, +4.50) |")
    assert "| +5.50 (+5.00, +6.00) |" in a and "±" not in a
    assert "| -0.50 (+0.00, -1.00) |" in a  # the SSL branch helps less with the codebook input
    assert a.endswith("| fewer than 3 seeds |")
    assert c == "| C | FID | 1 | +1.00 | +4.00 | +0.00 | +5.00 | fewer than 3 seeds |"
    results += arms("A", 3, (11.0, 6.5, 11.5, 7.0))
    a, _ = body(factorial_table(results, FULL, metrics=("fid",)))
    # three seeds: intervals; SSL branch +1, +1.5, -0.5 (mean 2/3, sd 1.04, t(0.975, 2) = 4.30)
    assert a.startswith("| A | FID | 3 | +0.67 ± 2.59 |")
    assert a.endswith("| prior input |")  # codebook +4, +4.5, +4.5: clear; SSL +1, +1.5, -0.5: not
    assert body(factorial_table(results, SMALL, metrics=("fid",))) == []


def test_rests_on_names_the_clear_main_effects():
    from ssl_book.stats import factorial_2x2

    base = np.array([1.0, 2.0, 4.0])
    clear, noise = np.array([1.0, 1.1, 0.9]), np.array([1.0, -1.0, 0.1])
    assert rests_on(factorial_2x2(base, base + clear, base + noise, base + noise + clear)) == "prior input"
    assert rests_on(factorial_2x2(base, base + noise, base + clear, base + clear + noise)) == "SSL branch"
    assert rests_on(factorial_2x2(base, base + clear, base + clear, base + 2 * clear)) == "both"
    assert rests_on(factorial_2x2(base, base + noise, base - noise, base)) == "neither"
    assert rests_on(None) == "fewer than 3 seeds"
    two = factorial_2x2(base[:2], base[:2] + clear[:2], base[:2], base[:2] + clear[:2])
    assert two.second.ci_low > 0 and rests_on(two) == "fewer than 3 seeds"


def test_contrast_table_pairs_by_seed():
    results = arms("A", 1, (10.0, 6.0, 9.0, 5.0), mask_fid=8.0) + arms(
        "A", 2, (12.0, 7.0, 10.0, 6.0), mask_fid=9.0
    )
    (line,) = body(contrast_table(results, FULL, MASK_CONTRASTS, metrics=("fid",)))
    # thesis mask vs ours: FID 10 -> 8 and 12 -> 9; VIb-gauss vs the thesis's baseline: 8 -> 5, 9 -> 6
    assert line == "| A | FID | 2 | +2.50 (+2.00, +3.00) | +3.00 (+3.00, +3.00) |"


def test_fidelity_table_joins_runs_and_their_fidelity_by_digest_within_one_protocol():
    runs = []
    for seed, cas in ((1, 0.7), (2, 0.9)):
        runs.append({**result("Mallat", "baseline", seed, cas=cas), "config_digest": f"b{seed}"})
        runs.append({**result("Mallat", "baseline", seed, full=False, cas=0.1), "config_digest": f"s{seed}"})
    fidelities = {
        f"b{seed}": {"fidelity": {"real": 0.96, "reconstructed": 0.8, "samples": samples}}
        for seed, samples in ((1, 0.9), (2, 0.7))
    }
    runs.append({**result("Mallat", "vibcreg-gauss", 1, cas=0.5), "config_digest": "no fidelity yet"})
    (line,) = body(fidelity_table(runs, fidelities, FULL))
    assert line == "| Mallat | base | 2 | 96.0 ± 0.0 | 80.0 ± 0.0 | 80.0 ± 14.1 | 80.0 ± 14.1 |"
    assert body(fidelity_table(runs, fidelities, SMALL)) == []  # no fidelity of the small runs
    for r in runs:  # a CAS of 100 epochs: still the full protocol, the CAS cell marked
        r["config"]["evaluation"]["cas_epochs"] = 100
    assert body(fidelity_table(runs, fidelities, FULL))[0].endswith("| 80.0 ± 14.1† |")


def test_part_minutes_reads_nested_parts_and_marks_missing_ones():
    timing = {"stage1": {"seconds": 120.0}, "cas_seconds": 30.0, "sampling_seconds": None}
    assert part_minutes(timing, TIMING_PARTS["stage 1"]) == 2.0
    assert part_minutes(timing, TIMING_PARTS["CAS"]) == 0.5
    assert math.isnan(part_minutes(timing, TIMING_PARTS["sampling"]))
    assert math.isnan(part_minutes(timing, TIMING_PARTS["stage 2"]))


def test_timing_table_averages_finished_runs_of_one_protocol():
    done = {"stage1": {"seconds": 60.0}, "stage2": {"seconds": 120.0}, "total_seconds": 600.0}
    results = [
        result("D", "baseline", 1, timing=done),
        result("D", "baseline", 2, timing={**done, "total_seconds": 1200.0, "cas_seconds": 60.0}),
        result("D", "baseline", 3, timing={"stage1": {"seconds": 1.0}}),  # unfinished
        result("D", "baseline", 4, full=False, timing=done),  # another protocol
    ]
    groups = timing_groups(results, FULL)
    assert list(groups) == [("D", "baseline")] and len(groups["D", "baseline"]) == 2
    (line,) = body(timing_table(groups))
    assert line == "| D | base | 2 | 1.0 | 2.0 | – | 1.0 | 15.0 | – |"
    with_cpu = {**done, "total_cpu_seconds": 300.0}
    (line,) = body(timing_table({("D", "baseline"): [with_cpu, {**with_cpu, "total_cpu_seconds": 420.0}]}))
    assert line.endswith("| 10.0 | 6.0 |")  # wall 10 minutes, CPU (300 + 420) / 2 s
    assert body(timing_table({})) == []
    shortened_run = result("Mallat", "baseline", 1, timing={**done, "cas_seconds": 60.0})
    shortened_run["config"]["evaluation"]["cas_epochs"] = 100  # still the full protocol
    groups = timing_groups([shortened_run], FULL)
    assert list(groups) == [("Mallat", "baseline")]
    (line,) = body(timing_table(groups, shortened_cas([shortened_run])))
    assert line == "| Mallat | base | 1 | 1.0 | 2.0 | – | 1.0† | 10.0 | – |"
    assert body(timing_table(groups))[0] == line.replace("†", "")


def test_runs_resumed_from_checkpoints_without_a_time_record_are_left_out_of_the_cost():
    fresh = {"seconds": 60.0, "steps_run": 100, "resumed_at_step": 0}
    assert timing_is_complete({"stage1": fresh, "stage2": fresh, "total_seconds": 200.0})
    reused = {"seconds": 60.0, "steps_run": 0, "resumed_at_step": 100}  # loaded, time recorded
    assert timing_is_complete({"stage1": reused, "stage2": fresh, "total_seconds": 200.0})
    unknown = {"seconds": None, "steps_run": 40, "resumed_at_step": 60}
    assert not timing_is_complete({"stage1": unknown, "stage2": fresh, "total_seconds": 200.0})
    old_loaded = {"seconds": 0.3, "steps_run": 0}  # an older file: only the loading was timed
    assert not timing_is_complete({"stage1": fresh, "stage2": old_loaded, "total_seconds": 200.0})
    assert not timing_is_complete({"stage1": fresh, "stage2": fresh})  # unfinished


def test_benchmark_table_adds_up_the_evaluation_when_timed_part_by_part():
    run = {"run": "Sony1 seed 1", "user_seconds": 100.0, "system_seconds": 20.0}
    benchmark = {
        "labels": {
            "before": {"runs": [{**run, "parts_seconds": {"stage1": 60.0, "evaluation (all)": 300.0}}]},
            "after": {
                "runs": [
                    {**run, "parts_seconds": {"evaluator": 6.0, "sampling": 6.0, "cas": 48.0, "total": 120.0}}
                ]
            },
        }
    }
    before, after = body(benchmark_table(benchmark))
    assert before == "| before | Sony1 seed 1 | 1.0 | – | 5.0 | – | – | 2.0 |"
    assert after == "| after | Sony1 seed 1 | – | – | 1.0 | 0.8 | 2.0 | 2.0 |"
    assert len(BENCHMARK_PARTS) + 3 == before.count("|") - 1  # label, run, parts, CPU


def test_tables_read_the_committed_files():
    fidelities = load_fidelities(ROOT / "results" / "class_fidelity")
    digests = {r["config_digest"] for r in load_results(ROOT / "results" / "runs")}
    assert set(fidelities) <= digests  # every fidelity record belongs to a committed run
    calibrations = load_calibrations(ROOT / "results" / "calibration")
    assert len(body(calibration_table(calibrations, {}))) == len(calibrations)
    path = ROOT / "results" / "benchmarks" / "full_protocol-cpu.json"
    if path.exists():
        benchmark = json.loads(path.read_text())
        runs = sum(len(entry["runs"]) for entry in benchmark["labels"].values())
        assert len(body(benchmark_table(benchmark))) == runs


def test_levels_put_ours_next_to_the_thesis_baseline_and_nc_apart():
    runs = [result("A", "baseline", s, is_mean=v) for s, v in ((1, 1.6), (2, 1.4))]
    runs += [result("A", "vibcreg-gauss", s, is_mean=v) for s, v in ((1, 1.3), (2, 1.1))]
    runs += [result("A", "barlowtwins-slice", 1, is_mean=1.0)]
    runs += [result("A", "vibcreg-gauss", 1, prior="learned", is_mean=9.0)]  # an ablation: left out
    runs += [result("B", "vibcreg-gauss", 1, is_mean=1.0)]  # no baseline: no line
    thesis = {
        ("A", "is", "baseline"): (1.2, 0.1),
        ("A", "is", "vibcreg-gauss"): (1.4, 0.05),
        ("A", "is", "barlowtwins-slice"): (1.0, 0.05),
        ("B", "is", "baseline"): (1.0, 0.1),
    }
    (level,) = levels(runs, thesis, FULL, "is").values()
    assert level.baseline_ours == [1.6, 1.4] and level.nc_ours == pytest.approx(
        {"vibcreg-gauss": 1.2, "barlowtwins-slice": 1.0}
    )
    assert level.baseline_gap == pytest.approx(0.3) and level.nc_gap == pytest.approx(1.1 - 1.2)
    (line,) = body(levels_table(runs, thesis, FULL, metrics=("is",)))
    assert (
        line
        == "| A | IS | 1.50 ± 0.14 | 1.20 ± 0.10 | 1.10 (1.00 to 1.20) | 1.20 (1.00 to 1.40) | +0.30, -0.10 |"
    )
    assert body(levels_table(runs, thesis, SMALL, metrics=("is",))) == []
