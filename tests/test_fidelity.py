"""Class fidelity of finished runs (ssl_book.experiments.fidelity, tools/class_fidelity.py)."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ssl_book.experiments import pipeline
from ssl_book.experiments.config import EvalConfig, RunConfig, Stage1Config, Stage2Config
from ssl_book.experiments.fidelity import (
    class_fidelity,
    fidelity_path,
    load_fidelities,
    paired_by_seed,
    scored_runs,
    unscored_runs,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import class_fidelity as tool  # noqa: E402

DATASET = "SonyAIBORobotSurface1"  # bundled: 20 training series of length 70, 2 classes


def tiny(method: str = "baseline", augment: str | None = None) -> RunConfig:
    return RunConfig(
        DATASET,
        seed=4,
        precision="fp32",
        stage1=Stage1Config(method, augment, steps=6, batch_size=8, projector_dim=32),
        stage2=Stage2Config(steps=6, batch_size=8, dim=32, depth=1, heads=2),
        evaluation=EvalConfig(evaluator_epochs=3, cas_epochs=1, cas_min_samples=40),
    )


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """Two finished tiny runs, and the series each run's CAS classifier was trained on."""
    folder = tmp_path_factory.mktemp("fidelity")
    patch = pytest.MonkeyPatch()
    patch.setenv("SSL_BOOK_CACHE_DIR", str(folder / "cache"))
    trained_on = {}

    def recording_cas(x_syn, y_syn, *args, **kwargs):
        trained_on[len(trained_on)] = (x_syn, y_syn)
        return 0.5

    patch.setattr(pipeline, "cas", recording_cas)
    configs = [tiny(), tiny("vibcreg", "gauss")]
    for config in configs:
        pipeline.run_experiment(config, folder / "runs", torch.device("cpu"))
    patch.setattr(pipeline, "cas", pipeline.cas)
    yield folder, configs, trained_on
    patch.undo()


def test_the_samples_scored_are_those_cas_trained_on(finished):
    folder, configs, trained_on = finished
    tokenizer, prior, data = pipeline.load_run(configs[0], folder / "runs", torch.device("cpu"))
    samples, labels = pipeline.cas_training_set(prior, tokenizer, data, configs[0], torch.device("cpu"))
    x_syn, y_syn = trained_on[0]
    assert np.array_equal(samples.numpy(), x_syn) and np.array_equal(labels.numpy(), y_syn)
    assert np.bincount(y_syn).tolist() == (np.bincount(data.y_train) * 2).tolist()  # 40 = 2 x 20


def test_fidelity_reads_the_evaluators_accuracy_on_real_reconstructed_and_sampled_series(finished):
    folder, configs, _ = finished
    result = class_fidelity(configs[0], folder / "runs")
    results = json.loads(pipeline.run_paths(configs[0], folder / "runs").results.read_text())
    assert result["real"] == pytest.approx(results["metrics"]["evaluator_accuracy"], abs=1e-6)
    assert all(0 <= result[k] <= 1 for k in ("reconstructed", "samples"))
    per_class = result["samples_per_class"]
    counts = np.bincount(pipeline.load_run_data(configs[0]).y_train) * 2  # the CAS set's classes
    assert result["n_samples"] == 40 and len(per_class) == 2
    assert result["samples"] == pytest.approx(np.average(per_class, weights=counts))


def test_the_tool_writes_each_run_once_and_skips_runs_without_checkpoints(finished, capsys):
    folder, configs, _ = finished
    out = folder / "fidelity"
    written = tool.main(["--runs", str(folder / "runs"), "--out", str(out)])
    assert sorted(written) == sorted(fidelity_path(c, out) for c in configs)
    records = load_fidelities(out)
    assert set(records) == {c.digest() for c in configs}
    for record in records.values():
        assert record["provenance"]["code_version"] and record["seconds"] > 0
        assert RunConfig.from_dict(record["config"]).digest() == record["config_digest"]
    assert tool.main(["--runs", str(folder / "runs"), "--out", str(out)]) == []  # all done
    pipeline.run_paths(configs[1], folder / "runs").stage2.unlink()
    fidelity_path(configs[1], out).unlink()
    assert tool.main(["--runs", str(folder / "runs"), "--out", str(out)]) == []
    assert "skipped, no checkpoints" in capsys.readouterr().out


def test_runs_are_paired_by_seed_with_their_reference_and_the_unscored_named():
    from test_results_tables import result

    runs = [
        {**result("Mallat", name, seed, cas=cas), "config_digest": f"{name}{seed}"}
        for name, seed, cas in [("baseline", 1, 0.7), ("baseline", 2, 0.8), ("vibcreg-gauss", 2, 0.9)]
    ]
    runs.append({**result("Mallat", "vibcreg-gauss", 3, cas=0.5), "config_digest": "unscored"})
    fidelities = {r["config_digest"]: {"fidelity": {"samples": r["metrics"]["cas"]}} for r in runs[:3]}
    scored = scored_runs(runs, fidelities)
    assert set(scored) == {
        ("Mallat", "baseline", 1),
        ("Mallat", "baseline", 2),
        ("Mallat", "vibcreg-gauss", 2),
    }
    (pair,) = paired_by_seed(scored, "Mallat", "vibcreg-gauss", "baseline")
    assert pair.seed == 2 and pair.metrics["cas"] == 0.9 and pair.reference_metrics["cas"] == 0.8
    assert pair.fidelity == {"samples": 0.9} and pair.reference_fidelity == {"samples": 0.8}
    assert paired_by_seed(scored, "Mallat", "barlowtwins-slice", "baseline") == []
    assert unscored_runs(runs, fidelities, "full protocol") == ["Mallat VIb-gauss seed 3"]
    assert unscored_runs(runs, fidelities, "small") == []
