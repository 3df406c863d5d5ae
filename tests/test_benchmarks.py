"""The benchmark scripts run and write complete records (their timings are not asserted)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_pipeline_speed_writes_rates_flops_and_provenance(tmp_path):
    output = tmp_path / "speed.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "pipeline_speed.py"), "--device", "cpu",
                    "--cases", "stage1-baseline-ECG5000", "--steps", "1", "--output", str(output)],
                   check=True, capture_output=True, text=True)
    record = json.loads(output.read_text())
    (row,) = record["rows"]
    assert row["case"] == "stage1-baseline-ECG5000"
    for path in ("plain", "optimized"):
        assert row[path]["steps_per_s"] > 0 and row[path]["peak_memory_bytes"] > 0
    # the tokenizer's step is dominated by convolutions: tens of GFLOP for a batch of 128
    assert 1e9 < row["flops_per_step"] < 1e12
    assert row["ceiling_steps_per_s"] == record["matmul_flops_per_s"] / row["flops_per_step"]
    assert record["provenance"]["code_version"] and record["provenance"]["device_type"] == "cpu"
