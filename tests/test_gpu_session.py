"""The prepared GPU script, rehearsed on the CPU in smoke mode: it runs its plan in order and
leaves a complete results file per run."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_session_smoke_rehearsal(tmp_path):
    env = {**os.environ, "SSL_BOOK_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        str(ROOT / "tools" / "gpu_session.py"),
        "--out",
        str(tmp_path / "out"),
        "--smoke",
        "--skip-benchmark",
        "--datasets",
        "SonyAIBORobotSurface1",
        "NoSuchDataset",
        "--seeds",
        "1",
        "--budget-minutes",
        "30",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    log = (tmp_path / "out" / "session.log").read_text()
    assert "skipping NoSuchDataset" in log and "all runs done" in log
    files = sorted((tmp_path / "out" / "runs").rglob("results.json"))
    names = sorted(json.loads(f.read_text())["config"]["stage1"]["method"] for f in files)
    assert names == ["barlowtwins", "baseline", "vibcreg"]
    for f in files:
        record = json.loads(f.read_text())
        assert record["provenance"]["command"].startswith("tools/gpu_session.py")
        assert str(tmp_path) not in record["provenance"]["command"]
