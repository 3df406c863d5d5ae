"""The thesis's probe encoding on the probe curves' checkpoints (ssl_book.experiments.probe_encoding)."""

import json

import numpy as np
import pytest
import torch
from test_probe_curve import tiny

from ssl_book.experiments import probe_curve as pc
from ssl_book.experiments import probe_encoding as pe
from ssl_book.experiments.pipeline import load_run_data, quantized_features
from ssl_book.probes import probe_accuracies


@pytest.fixture(scope="module")
def curve(tmp_path_factory):
    """A tiny probe curve trained to step 4, with its checkpoint."""
    out = tmp_path_factory.mktemp("curves")
    pc.run_probe_curve(tiny(), [2, 4], out, device="cpu")
    return out


def test_thesis_features_come_back_in_row_order(curve):
    ((config, checkpoint),) = pe.latest_checkpoints(tiny().dataset, curve)
    data = load_run_data(config)
    tok, step = pe.load_tokenizer(config, checkpoint, data.length)
    assert step == 4 and not tok.training
    x = torch.as_tensor(data.x_train)  # 20 series: one batch, so the order changes nothing
    in_order = pe.thesis_features(tok, x, np.arange(len(x)))
    shuffled = pe.thesis_features(tok, x, np.random.default_rng(0).permutation(len(x)))
    torch.testing.assert_close(shuffled, in_order, atol=1e-5, rtol=1e-4)
    direct = quantized_features(tok, x, pe.THESIS_BATCH, batch_statistics=True).cpu()
    torch.testing.assert_close(in_order, direct)
    eval_mode = quantized_features(tok, x).cpu()
    assert not torch.allclose(in_order, eval_mode)  # batch statistics do change the features
    with pytest.raises(ValueError, match="permutation"):
        pe.thesis_features(tok, x, np.zeros(len(x), dtype=int))


def test_measure_reports_ours_as_the_curve_does_and_each_shuffle(curve):
    ((config, checkpoint),) = pe.latest_checkpoints(tiny().dataset, curve)
    row = pe.measure(config, checkpoint, shuffles=2)
    assert row["step"] == 4 and row["seed"] == tiny().seed and row["configuration"] == "barlowtwins-slice"
    (recorded,) = pc.load_curves(curve)[tiny().dataset, "barlowtwins-slice"]
    last = recorded["points"][-1]
    assert row["ours"] == pytest.approx({"svm": last["svm"], "knn": last["knn"]})
    assert len(row["thesis"]) == len(row["thesis, test shuffled"]) == 2
    for probes in row["thesis"] + row["thesis, test shuffled"]:
        assert set(probes) == {"svm", "knn"} and all(0 <= v <= 1 for v in probes.values())


def test_encoding_probes_match_probe_accuracies_on_eval_features(curve):
    ((config, checkpoint),) = pe.latest_checkpoints(tiny().dataset, curve)
    data = load_run_data(config)
    tok, _ = pe.load_tokenizer(config, checkpoint, data.length)
    ours = pe.encoding_probes(tok, data, shuffles=1)["ours"]
    features = [quantized_features(tok, torch.as_tensor(x)).cpu() for x in (data.x_train, data.x_test)]
    assert ours == probe_accuracies(features[0], data.y_train, features[1], data.y_test)


def test_main_writes_a_record_with_provenance_and_refuses_a_dataset_without_curves(curve, tmp_path):
    out = tmp_path / "encoding.json"
    assert (
        pe.main(["--dataset", tiny().dataset, "--curves", str(curve), "--shuffles", "1", "--out", str(out)])
        == 0
    )
    record = json.loads(out.read_text())
    assert record["dataset"] == tiny().dataset and len(record["rows"]) == 1
    assert record["provenance"]["code_version"]
    assert record["provenance"]["command"].startswith(
        "python -m ssl_book.experiments.probe_encoding --dataset"
    )
    assert pe.latest_checkpoints(tiny().dataset, curve, seeds=[tiny().seed + 1]) == []
    with pytest.raises(SystemExit, match="no stage-1 checkpoint of FordA"):
        pe.main(["--dataset", "FordA", "--curves", str(curve), "--out", str(out)])


def test_summary_keeps_each_seeds_latest_step_and_averages_the_shuffles():
    def row(name, seed, step, ours, thesis, shuffled):
        return {
            "configuration": name,
            "seed": seed,
            "step": step,
            "ours": {"svm": ours, "knn": ours - 0.1},
            "thesis": [{"svm": t, "knn": t - 0.1} for t in thesis],
            "thesis, test shuffled": [{"svm": s, "knn": s - 0.1} for s in shuffled],
        }

    record = {
        "rows": [
            row("baseline", 1, 2000, 0.8, [0.7, 0.72, 0.74], [0.79, 0.81, 0.8]),
            row("baseline", 1, 250, 0.5, [0.5], [0.5]),  # an earlier step of the same seed
            row("barlowtwins-slice", 2, 1000, 0.6, [0.55, 0.57], [0.6, 0.6]),
        ]
    }
    summary = pe.summary(record)
    assert list(summary) == [("barlowtwins-slice", 2), ("baseline", 1)]
    base = summary["baseline", 1]
    assert base["step"] == 2000 and base["svm"] == 0.8 and base["knn"] == pytest.approx(0.7)
    assert base["svm_thesis"] == pytest.approx(0.72) and base["svm_thesis_sd"] == pytest.approx(0.02)
    assert base["svm_shuffled"] == pytest.approx(0.8) and base["knn_thesis"] == pytest.approx(0.62)
    table = pe.summary_table({"D": record}).splitlines()
    assert len(table) == 4
    assert table[3] == "| D | baseline | 1 | 2000 | 0.800 | 0.720 ± 0.020 | 0.800 | 0.700 | 0.620 |"
