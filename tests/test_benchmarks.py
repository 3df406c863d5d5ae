"""The benchmark scripts run and write complete records (their timings are not asserted)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_pipeline_speed_writes_rates_flops_and_provenance(tmp_path):
    output = tmp_path / "speed.json"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "pipeline_speed.py"),
            "--device",
            "cpu",
            "--cases",
            "stage1-baseline-ECG5000",
            "--steps",
            "1",
            "--output",
            str(output),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    record = json.loads(output.read_text())
    (row,) = record["rows"]
    assert row["case"] == "stage1-baseline-ECG5000"
    for path in ("plain", "optimized"):
        assert row[path]["steps_per_s"] > 0 and row[path]["peak_memory_bytes"] > 0
    # the tokenizer's step is dominated by convolutions: tens of GFLOP for a batch of 128
    assert 1e9 < row["flops_per_step"] < 1e12
    assert row["ceiling_steps_per_s"] == record["matmul_flops_per_s"] / row["flops_per_step"]
    assert record["provenance"]["code_version"] and record["provenance"]["device_type"] == "cpu"


def test_full_protocol_benchmark_counts_flops_and_tabulates(tmp_path, monkeypatch):
    """The full-protocol benchmark's arithmetic count and table (its runs take minutes each and
    are not run here): FLOPs of every training part and a row per measured run."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import full_protocol

    counts = full_protocol.flops_per_part("vibcreg-gauss")
    baseline = full_protocol.flops_per_part("baseline")
    assert set(counts) == {"stage1", "stage2", "evaluator", "cas"}
    assert counts["stage1"] > 3 * baseline["stage1"]  # the 4096-wide projector dominates
    assert (
        counts["stage2"] == pytest.approx(baseline["stage2"], rel=1e-3) and counts["cas"] == baseline["cas"]
    )
    row = {
        "run": "baseline",
        "seed": 1,
        "user_seconds": 60.0,
        "system_seconds": 6.0,
        "minor_page_faults": 2e6,
        "parts_seconds": full_protocol.part_seconds(
            {
                "timing": {
                    "stage1": {"seconds": 30.0},
                    "stage2": {"seconds": 90.0},
                    "evaluation_seconds": 200.0,
                    "total_seconds": 330.0,
                }
            }
        ),
    }
    text = full_protocol.table({"labels": {"before": {"runs": [row]}}})
    assert "| before | baseline s1 | 0.50 | – | 1.50 | (3.33 for all three)" in text and "| 5.50 |" in text


def test_pipeline_speed_reports_a_failing_thesis_checkout_instead_of_a_number(tmp_path):
    """With THESIS_CODE pointing at something that is not the thesis code, the side-by-side
    measurement fails visibly and no ratio is recorded (no typed-in rate stands in for it)."""
    import os

    output = tmp_path / "speed.json"
    env = {**os.environ, "THESIS_CODE": str(tmp_path), "THESIS_PYTHON": sys.executable}
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "pipeline_speed.py"),
            "--device",
            "cpu",
            "--cases",
            "stage1-baseline-ECG5000",
            "--steps",
            "1",
            "--repeats",
            "1",
            "--output",
            str(output),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    assert "thesis code failed on stage1-baseline-ECG5000" in done.stdout
    record = json.loads(output.read_text())
    assert record["thesis_code_measured"] and record["rows"][0]["thesis_code"]["ratio"] is None


def test_fcn_precision_benchmark_records_both_precisions_and_the_cpu(tmp_path):
    output = tmp_path / "fcn.json"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "fcn_precision.py"),
            "--steps",
            "1",
            "--batches",
            "2",
            "--output",
            str(output),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    record = json.loads(output.read_text())
    (row,) = record["rows"]
    assert row["batch"] == 2 and row["fp32_seconds"] > 0 and row["bf16_seconds"] > 0
    assert row["bf16_over_fp32"] == row["bf16_seconds"] / row["fp32_seconds"]
    assert set(record["cpu"]) == {"capability", "native_bf16"} and record["provenance"]["code_version"]


def test_stage1_profile_names_the_costliest_operators(tmp_path):
    """Two profiled stage-1 steps of each method: operators with their time, a table of both."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import stage1_profile

    found = stage1_profile.profile_stage1(ROOT, "vibcreg", "gauss", 2, "fp32")
    assert found["steps"] == 2 and found["wall_seconds_per_step"] > 0
    shares = [t["share"] for t in found["top"]]
    assert (
        0 < len(shares) <= stage1_profile.TOP
        and shares == sorted(shares, reverse=True)
        and sum(shares) <= 1 + 1e-9
    )
    assert any("addmm" in t["op"] or "mm" in t["op"] for t in found["top"])  # the projector's products
    text = stage1_profile.table(
        {"labels": {"after": {"precision": "fp32", "runs": {"vibcreg-gauss": found}}}}
    )
    assert "**after**, vibcreg-gauss (fp32)" in text and text.count("\n| `") == len(shares)


def test_fcn_inference_batch_benchmark_records_every_batch_and_thread_count(tmp_path):
    output = tmp_path / "inference.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "fcn_inference_batch.py"), "--series", "10"]
    command += ["--length", "24", "--batches", "4", "10", "--repeats", "1", "--output", str(output)]
    subprocess.run(command, check=True, capture_output=True, text=True)
    record = json.loads(output.read_text())
    assert [(r["threads"], r["batch"]) for r in record["rows"]] == [(1, 4), (1, 10), (2, 4), (2, 10)]
    assert all(r["seconds"] > 0 for r in record["rows"]) and record["provenance"]["code_version"]
    assert record["series"] == 10 and record["length"] == 24
