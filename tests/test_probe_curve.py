"""Probes along stage-1 training (ssl_book.experiments.probe_curve)."""

import json

import numpy as np
import pytest

from ssl_book.experiments import probe_curve as pc
from ssl_book.experiments.config import RunConfig, Stage1Config, Stage2Config
from ssl_book.experiments.pipeline import run_lock, run_paths

DATASET = "SonyAIBORobotSurface1"  # bundled: 20 training series of length 70


def tiny(**stage1) -> RunConfig:
    return RunConfig(
        DATASET,
        seed=2,
        precision="fp32",
        stage1=Stage1Config("barlowtwins", "slice", steps=8, batch_size=8, projector_dim=32, **stage1),
        stage2=Stage2Config(steps=2, batch_size=8, dim=32, depth=1, heads=2),
    )


def steps_of(record: dict) -> list[int]:
    return [p["step"] for p in record["points"]]


def saved_step(config: RunConfig, milestones, out) -> int:
    checkpointed = pc.curve_config(config, milestones)
    return pc.saved_step(checkpointed, run_paths(checkpointed, out).stage1)


def test_a_curve_scores_each_milestone_and_stops_after_the_last(tmp_path):
    record = pc.run_probe_curve(tiny(), [2, 4, 6], tmp_path, device="cpu")
    assert steps_of(record) == [2, 4, 6] and record["schedule_steps"] == 8
    assert saved_step(tiny(), [2, 4, 6], tmp_path) == 6  # not trained to the schedule's end
    for point in record["points"]:
        assert 0 <= point["svm"] <= 1 and 0 <= point["knn"] <= 1 and 1 <= point["perplexity"] <= 32
        assert point["training_seconds"] > 0 and point["provenance"]["code_version"]
    assert [p["training_seconds"] for p in record["points"]] == sorted(
        p["training_seconds"] for p in record["points"]
    )
    on_disk = json.loads(pc.curve_path(pc.curve_config(tiny(), [2]), tmp_path).read_text())
    assert on_disk == json.loads(json.dumps(record))
    assert RunConfig.from_dict(on_disk["config"]).stage1 == tiny().stage1


def test_extending_a_curve_resumes_on_the_same_trajectory(tmp_path):
    whole = pc.run_probe_curve(tiny(), [2, 4, 6], tmp_path / "whole", device="cpu")
    first = pc.run_probe_curve(tiny(), [2, 4], tmp_path / "parts", device="cpu")
    extended = pc.run_probe_curve(tiny(), [2, 4, 6], tmp_path / "parts", device="cpu")
    assert steps_of(first) == [2, 4] and steps_of(extended) == [2, 4, 6]
    metrics = ("svm", "knn", "perplexity", "val_loss")
    for a, b in zip(whole["points"], extended["points"]):
        assert {m: a[m] for m in metrics} == pytest.approx({m: b[m] for m in metrics}, rel=1e-5)
    again = pc.run_probe_curve(tiny(), [2, 4, 6], tmp_path / "parts", device="cpu")
    assert again["points"] == extended["points"]  # nothing left to measure: nothing retrained


def test_a_milestone_checkpointed_but_not_recorded_is_scored_without_training(tmp_path):
    record = pc.run_probe_curve(tiny(), [2, 4], tmp_path, device="cpu")
    path = pc.curve_path(pc.curve_config(tiny(), [2, 4]), tmp_path)
    lost = {**record, "points": record["points"][:1]}  # as if stopped before writing step 4
    path.write_text(json.dumps(lost))
    rescored = pc.run_probe_curve(tiny(), [2, 4], tmp_path, device="cpu")
    assert steps_of(rescored) == [2, 4] and saved_step(tiny(), [2, 4], tmp_path) == 4
    assert rescored["points"][1]["svm"] == record["points"][1]["svm"]


@pytest.mark.parametrize(
    "milestones, message",
    [([], "at least one"), ([2, 2], "must differ"), ([0, 4], "1..8"), ([4, 9], "1..8")],
)
def test_bad_milestones_are_refused(tmp_path, milestones, message):
    with pytest.raises(ValueError, match=message):
        pc.run_probe_curve(tiny(), milestones, tmp_path, device="cpu")


def test_a_curve_another_process_trains_is_refused(tmp_path):
    folder = pc.curve_path(pc.curve_config(tiny(), [2]), tmp_path).parent
    with run_lock(folder) as acquired:
        assert acquired
        with pytest.raises(RuntimeError, match="another process"):
            pc.run_probe_curve(tiny(), [2], tmp_path, device="cpu")


def test_the_command_line_prints_every_point(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(pc, "make_config", lambda *args: tiny())
    argv = ["--dataset", DATASET, "--method", "barlowtwins", "--augment", "slice"]
    assert pc.main([*argv, "--milestones", "2", "4", "--out", str(tmp_path), "--device", "cpu"]) == 0
    assert capsys.readouterr().out.count("SVM") == 2


def test_a_run_that_diverges_records_where_and_why_and_stops(tmp_path, monkeypatch):
    real_train = pc.train_stage1

    def diverging_at_step_3(config, data, paths, device, on_step):
        def hook(step: int) -> None:
            if step == 3:  # as loop.check_finite does: before step 3's checkpoint is written
                raise FloatingPointError("non-finite loss terms ['loss'] in steps 3-3")
            on_step(step)

        real_train(config, data, paths, device, on_step=hook)

    monkeypatch.setattr(pc, "train_stage1", diverging_at_step_3)
    with pytest.raises(FloatingPointError, match="non-finite"):
        pc.run_probe_curve(tiny(), [2, 4], tmp_path, device="cpu")
    record = json.loads(pc.curve_path(pc.curve_config(tiny(), [2, 4]), tmp_path).read_text())
    assert steps_of(record) == [2]  # the milestone reached before the loss went non-finite
    assert record["diverged"]["after_step"] == 2 and "non-finite" in record["diverged"]["error"]
    assert pc.diverged_curves(tmp_path) == [record]


def fake_curve(folder, config: RunConfig, points: dict[int, float], **extra) -> None:
    path = pc.curve_path(config, folder)
    path.parent.mkdir(parents=True)
    record = {
        "config": config.to_dict(),
        "points": [{"step": s, "svm": v, "knn": v / 2} for s, v in points.items()],
        **extra,
    }
    path.write_text(json.dumps(record))


def test_curves_are_grouped_by_dataset_and_configuration_and_aligned_on_common_steps(tmp_path):
    fake_curve(
        tmp_path, RunConfig.from_dict({**tiny().to_dict(), "seed": 2}), {250: 0.5, 500: 0.6, 1000: 0.7}
    )
    fake_curve(tmp_path, RunConfig.from_dict({**tiny().to_dict(), "seed": 1}), {250: 0.3, 500: 0.4})
    curves = pc.load_curves(tmp_path)
    assert list(curves) == [(DATASET, "barlowtwins-slice")]
    records = curves[DATASET, "barlowtwins-slice"]
    assert [r["config"]["seed"] for r in records] == [1, 2]
    steps, values = pc.curve_matrix(records, "svm")
    assert steps.tolist() == [250, 500] and values.tolist() == [[0.3, 0.4], [0.5, 0.6]]
    with pytest.raises(ValueError, match="no curves"):
        pc.curve_matrix([], "svm")


def test_plotted_curves_carry_every_seed_the_mean_and_the_thesis_reference(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for seed in (1, 2):
        fake_curve(
            tmp_path, RunConfig.from_dict({**tiny().to_dict(), "seed": seed}), {250: 0.2 * seed, 500: 0.3}
        )
    fig, ax = plt.subplots()
    thesis = {(DATASET, "svm", "barlowtwins-slice"): (60.4, 1.0), (DATASET, "svm", "baseline"): (30.5, 2.0)}
    pc.plot_curves(ax, pc.load_curves(tmp_path), DATASET, "svm", {"barlowtwins-slice": "C1"}, thesis)
    lines = ax.get_lines()
    dashed = [line for line in lines if line.get_linestyle() == "--"]
    assert [line.get_ydata()[0] for line in dashed] == [pytest.approx(0.604)]  # only configurations drawn
    assert sum(line.get_linewidth() == 0.6 for line in lines) == 2  # one thin line per seed
    assert any(line.get_label() == "barlowtwins-slice (2)" for line in lines)
    fig.canvas.draw()  # the x axis is labelled at the measured steps, in plain numbers
    assert [t.get_text() for t in ax.get_xticklabels()] == ["250", "500"]
    plt.close(fig)


def test_gains_are_paired_by_seed_on_the_steps_both_runs_measured(tmp_path):
    base, other = (
        tiny(),
        RunConfig.from_dict(
            {**tiny().to_dict(), "stage1": {**tiny().to_dict()["stage1"], "augment": "gauss"}}
        ),
    )
    for seed, (b, o) in {1: (0.3, 0.5), 2: (0.4, 0.45)}.items():
        fake_curve(tmp_path, RunConfig.from_dict({**base.to_dict(), "seed": seed}), {250: b, 500: b})
        fake_curve(tmp_path, RunConfig.from_dict({**other.to_dict(), "seed": seed}), {250: o, 1000: o})
    fake_curve(tmp_path, RunConfig.from_dict({**other.to_dict(), "seed": 3}), {250: 0.9})  # no baseline
    curves = pc.load_curves(tmp_path)
    steps, gains = pc.paired_gains(curves, DATASET, "svm", "barlowtwins-slice", "barlowtwins-gauss")
    assert steps == [250] and gains == pytest.approx(np.array([[0.2], [0.05]]))
    assert pc.paired_gains(curves, DATASET, "svm", "barlowtwins-slice", "vibcreg-gauss")[1].shape == (0, 0)


def test_a_seed_rerun_after_divergence_is_shown_by_its_rerun(tmp_path):
    bf16, fp32 = (RunConfig.from_dict({**tiny().to_dict(), "precision": p}) for p in ("bf16", "fp32"))
    diverged = {"after_step": 500, "error": "non-finite loss terms ['loss'] in steps 501-510"}
    fake_curve(tmp_path, bf16, {250: 0.3, 500: 0.4}, diverged=diverged)
    fake_curve(tmp_path, fp32, {250: 0.35})  # the rerun, not yet as far along
    fake_curve(tmp_path, RunConfig.from_dict({**bf16.to_dict(), "seed": 1}), {250: 0.2, 500: 0.1})
    fake_curve(tmp_path, RunConfig.from_dict({**fp32.to_dict(), "seed": 1}), {250: 0.2})
    records = pc.load_curves(tmp_path)[DATASET, "barlowtwins-slice"]
    assert [(r["config"]["seed"], r["config"]["precision"]) for r in records] == [(1, "bf16"), (2, "fp32")]
    assert [r["diverged"] for r in pc.diverged_curves(tmp_path)] == [diverged]
