"""Sweeps: parallel single-thread runs, one lock per run, results a reader can trust
(atomic, the command as typed, no machine paths)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from ssl_book.experiments.cli import main
from ssl_book.experiments.pipeline import run_lock
from ssl_book.experiments.provenance import ROOT, provenance, typed_command
from ssl_book.experiments.report import load_results

DATASET = "SonyAIBORobotSurface1"
TINY = [
    "--preset",
    "cpu",
    "--precision",
    "fp32",
    "--stage1-steps",
    "3",
    "--stage2-steps",
    "3",
    "--evaluator-epochs",
    "1",
    "--cas-epochs",
    "1",
]


def test_typed_command_has_no_machine_paths(tmp_path):
    argv = [
        str(ROOT / "ssl_book" / "experiments" / "__main__.py"),
        "sweep",
        "--out",
        str(ROOT / "results" / "runs"),
        f"--train={tmp_path / 'mine_TRAIN.tsv'}",
        "--seeds",
        "1",
    ]
    assert typed_command(argv) == [
        "python -m ssl_book.experiments",
        "sweep",
        "--out",
        "results/runs",
        "--train=.../mine_TRAIN.tsv",
        "--seeds",
        "1",
    ]
    module = [str(ROOT / "ssl_book" / "experiments" / "probe_curve.py"), "--seed", "1"]
    assert typed_command(module) == ["python -m ssl_book.experiments.probe_curve", "--seed", "1"]
    assert typed_command(["tools/calibrate.py", "--seed", "1"])[0] == "tools/calibrate.py"
    record = provenance(__import__("torch").device("cpu"), argv)
    assert "host" not in record and str(tmp_path) not in json.dumps(record)
    assert record["command"].startswith("python -m ssl_book.experiments sweep --out results/runs")


def test_a_held_run_lock_is_refused_to_another_process(tmp_path):
    """The lock is the operating system's (flock): another process cannot take it while this
    one holds it, and can as soon as it is released."""
    probe = textwrap.dedent(f"""
        from pathlib import Path
        from ssl_book.experiments.pipeline import run_lock
        with run_lock(Path({str(tmp_path)!r})) as acquired:
            print(acquired)
    """)
    with run_lock(tmp_path) as acquired:
        assert acquired
        held = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
        assert held.stdout.strip() == "False"
    free = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert free.stdout.strip() == "True"


def test_a_run_held_by_another_process_is_skipped_not_run_twice(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SSL_BOOK_CACHE_DIR", str(tmp_path / "cache"))
    from ssl_book.experiments.cli import make_config
    from ssl_book.experiments.pipeline import run_paths

    config = make_config(
        DATASET,
        "baseline",
        None,
        1,
        "cpu",
        "fp32",
        stage1__steps=3,
        stage2__steps=3,
        evaluation__evaluator_epochs=1,
        evaluation__cas_epochs=1,
    )
    folder = run_paths(config, tmp_path / "runs").folder
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from ssl_book.experiments.pipeline import run_lock
        with run_lock(Path({str(folder)!r})) as acquired:
            print(acquired, flush=True)
            sys.stdin.read()
    """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "True"
        assert main(["run", "--dataset", DATASET, "--out", str(tmp_path / "runs"), *TINY]) == 0
        assert "running in another process, skipped" in capsys.readouterr().err
        assert not (folder / "results.json").exists() and not (folder / "stage1.pt").exists()
    finally:
        holder.communicate("")
    assert main(["run", "--dataset", DATASET, "--out", str(tmp_path / "runs"), *TINY]) == 0
    assert (folder / "results.json").exists()


def test_sweep_with_two_jobs_runs_every_configuration_once(tmp_path, monkeypatch):
    monkeypatch.setenv("SSL_BOOK_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "runs"
    argv = [
        "sweep",
        "--datasets",
        DATASET,
        "--methods",
        "baseline",
        "barlowtwins",
        "--augments",
        "gauss",
        "--seeds",
        "1",
        "2",
        "--jobs",
        "2",
        "--out",
        str(out),
        *TINY,
    ]
    assert main(argv) == 0
    results = load_results(out)
    assert sorted((r["config"]["stage1"]["method"], r["config"]["seed"]) for r in results) == [
        ("barlowtwins", 1),
        ("barlowtwins", 2),
        ("baseline", 1),
        ("baseline", 2),
    ]
    for r in results:
        assert r["provenance"]["command"].startswith("python -m ssl_book.experiments sweep")
        assert str(tmp_path) not in r["provenance"]["command"]
        assert "host" not in r["provenance"]
        for part in ("probes", "evaluator", "sampling", "cas", "total"):
            assert r["timing"][f"{part}_seconds"] >= 0 and r["timing"][f"{part}_cpu_seconds"] >= 0
        assert r["timing"]["stage1"]["cpu_seconds"] > 0
    stamps = sorted(p.stat().st_mtime_ns for p in out.rglob("results.json"))
    assert main(argv) == 0  # everything finished: nothing reruns
    assert sorted(p.stat().st_mtime_ns for p in out.rglob("results.json")) == stamps
    assert not list(out.rglob("*.tmp"))


def test_sweep_rejects_a_bad_job_count(tmp_path, capsys):
    assert main(["sweep", "--datasets", DATASET, "--jobs", "0", "--out", str(tmp_path), *TINY]) == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err


@pytest.mark.parametrize("precision", ["fp16", "BF16"])
def test_unknown_fcn_precision_is_refused(precision, capsys):
    with pytest.raises(SystemExit):
        main(["run", "--dataset", DATASET, "--fcn-precision", precision])


def test_prior_ablation_reuses_the_stage1_model_and_is_labelled(tmp_path, monkeypatch):
    """The 2 x 2 of tokenizer x prior input: a run that differs only in stage 2 loads the
    finished stage-1 checkpoint instead of training it again, and the report names it."""
    from ssl_book.experiments.report import aggregate

    monkeypatch.setenv("SSL_BOOK_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "runs"
    base = ["run", "--dataset", DATASET, "--out", str(out), *TINY]
    assert main(base) == 0
    assert main([*base, "--prior", "codebook"]) == 0
    assert main([*base, "--invert-baseline-mask"]) == 0
    results = {r["path"]: r for r in load_results(out)}
    assert len(results) == 3 and len(list(out.rglob("stage1-seed1-*.pt"))) == 1
    runs = sorted(results.values(), key=lambda r: r["timing"]["stage1"]["steps_run"])
    assert [r["timing"]["stage1"]["steps_run"] for r in runs] == [0, 0, 3]
    assert len({r["metrics"]["svm"] for r in runs}) == 1  # one tokenizer, one probe score
    labels = sorted(row.config for row in aggregate(list(results.values())))
    assert labels == ["baseline", "baseline [prior: codebook]", "baseline [thesis mask]"]


def test_committed_results_hold_no_machine_paths_or_host_names():
    files = sorted((ROOT / "results").rglob("*.json"))
    assert files
    for path in files:
        text = path.read_text()
        record = json.loads(text)
        assert "host" not in record.get("provenance", {}), path
        for marker in ("/work/", "/home/", "/root/", "/tmp/", "/Users/"):
            assert marker not in text, (path, marker)


def test_full_protocol_plan_finishes_the_main_runs_of_every_seed_first():
    sys.path.insert(0, str(ROOT / "tools"))
    from full_protocol_sweep import plan

    from ssl_book.experiments.report import configuration_label, protocol_label

    configs = plan([1, 2], mallat_cas_epochs=200)
    assert len(configs) == 2 * (14 + 6 + 3)
    kinds = [
        "mallat"
        if c.dataset == "Mallat"
        else "ablation"
        if "[" in configuration_label(c.to_dict())
        else "main"
        for c in configs
    ]
    assert kinds == ["main"] * 28 + ["ablation"] * 12 + ["mallat"] * 6
    for start, size in ((0, 14), (28, 6), (40, 3)):  # within a part, one seed at a time
        part = configs[start : start + 2 * size]
        assert [c.seed for c in part] == [1] * size + [2] * size
        first = [(c.dataset, configuration_label(c.to_dict())) for c in part[:size]]
        assert len(set(first)) == size
    labels = [configuration_label(c.to_dict()) for c in configs]
    assert "vibcreg-gauss [prior: learned]" in labels and "baseline [thesis mask]" in labels
    assert {protocol_label(c.to_dict()) for c in configs} == {
        "full protocol",
        "full protocol, CAS 200 epochs",
    }
    assert all(c.evaluation.cas_epochs == 200 for c in configs if c.dataset == "Mallat")
    sony_stage1 = {c.stage1_digest() for c in configs if c.dataset != "Mallat" and c.seed == 1}
    assert len(sony_stage1) == 14  # the ablations reuse stage 1 of the main runs


def test_small_ablations_pair_with_the_committed_small_runs():
    sys.path.insert(0, str(ROOT / "tools"))
    from full_protocol_sweep import plan

    from ssl_book.experiments.report import configuration_label, protocol_label

    committed = {
        (r["config"]["dataset"], r["config"]["seed"]): r["config"]
        for r in load_results(ROOT / "results" / "runs")
        if configuration_label(r["config"]) == "baseline" and r["config"]["stage1"]["steps"] == 300
    }
    configs = plan([1], small=["ECG5000"])
    small = [c for c in configs if c.stage1.steps == 300]
    assert configs[: len(small)] == small and len(small) == 3
    for c in small:
        base = committed["ECG5000", 1]
        assert protocol_label(c.to_dict()) == protocol_label(base)
        if c.stage1.method == "baseline":
            assert c.stage1_digest() == type(c).from_dict(base).stage1_digest()


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _orphan_after_parent_killed(tmp_path, ask: bool) -> bool:
    """Start parent -> child, kill the parent, and say whether the child still runs 5 s later."""
    import os
    import signal
    import time

    pid_file = tmp_path / f"child-{ask}.pid"
    child = textwrap.dedent(f"""
        import os, time
        from ssl_book.experiments.sweep import die_with_parent
        {"assert die_with_parent()" if ask else ""}
        open({str(pid_file)!r}, "w").write(str(os.getpid()))
        time.sleep(60)
    """)
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {child!r}]); time.sleep(60)",
        ]
    )
    deadline = time.monotonic() + 60
    while not (pid_file.is_file() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    child_pid = int(pid_file.read_text())
    parent.kill()
    parent.wait()
    time.sleep(5)
    alive = _alive(child_pid)
    if alive:
        os.kill(child_pid, signal.SIGKILL)
    return alive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_PDEATHSIG) is Linux-only")
def test_sweep_workers_stop_when_the_sweep_is_killed(tmp_path):
    """`kill <sweep pid>` must not leave runs training unseen: a worker that asked for it gets
    SIGTERM when its parent dies, while a process that did not ask keeps running (the control)."""
    assert _orphan_after_parent_killed(tmp_path, ask=False)
    assert not _orphan_after_parent_killed(tmp_path, ask=True)


def test_matched_sets_rerun_all_five_arms_of_the_committed_configurations():
    sys.path.insert(0, str(ROOT / "tools"))
    from full_protocol_sweep import matched_sets

    from ssl_book.experiments.report import configuration_label

    runs = load_results(ROOT / "results" / "runs")
    committed = {
        (configuration_label(r["config"]), r["config"]["seed"]): r["config_digest"]
        for r in runs
        if r["config"]["dataset"] == "ECG5000" and r["config"]["stage1"]["steps"] == 300
    }
    configs = matched_sets(["ECG5000"], [1, 2])
    labels = [configuration_label(c.to_dict()) for c in configs[:5]]
    assert sorted(labels) == sorted(
        ["baseline", "vibcreg-gauss", "baseline [prior: codebook]", "vibcreg-gauss [prior: learned]"]
        + ["baseline [thesis mask]"]
    )
    assert [c.seed for c in configs] == [1] * 5 + [2] * 5
    for c in configs:  # the same settings as the committed runs: the same digests
        assert c.digest() == committed[configuration_label(c.to_dict()), c.seed]
    for method in ("baseline", "vibcreg"):  # each tokenizer's arms share one stage-1 model
        assert len({c.stage1_digest() for c in configs[:5] if c.stage1.method == method}) == 1
    full = matched_sets(["SonyAIBORobotSurface1"], [1], preset="full")
    for c in full:
        run = [r for r in runs if r["config_digest"] == c.digest()]
        assert len(run) == 1, configuration_label(c.to_dict())
