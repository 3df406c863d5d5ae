"""The NC-VQVAE pipeline: configuration checks, resume after interruption, DDP, end to end."""

from __future__ import annotations

import json
import os
import socket

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from ssl_book.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ssl_book.data import load_ucr
from ssl_book.experiments import loop
from ssl_book.experiments.cli import main, make_config, sweep_configs
from ssl_book.experiments.config import RunConfig, Stage1Config, Stage2Config
from ssl_book.experiments.loop import batch_indices
from ssl_book.experiments.pipeline import (
    _stage_timing,
    checkpoint_meta,
    earlier_seconds,
    evaluate_stage1,
    run_paths,
    train_stage1,
    train_stage2,
)
from ssl_book.experiments.report import aggregate, load_results, markdown_table, mean_sd_text, thesis_results

DATASET = "SonyAIBORobotSurface1"  # 20 training series of length 70: a thesis dataset, bundled


def tiny(method="vibcreg", augment="gauss", **stage1) -> RunConfig:
    return RunConfig(
        DATASET,
        seed=3,
        precision="fp32",
        checkpoint_every=4,
        stage1=Stage1Config(
            method,
            augment if method != "baseline" else None,
            steps=8,
            batch_size=8,
            projector_dim=64,
            **stage1,
        ),
        stage2=Stage2Config(steps=8, batch_size=8, dim=32, depth=1, heads=2),
    )


# ----------------------------------------------------------------------------- configuration
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"method": "simclr"}, "unknown stage-1 method"),
        ({"method": "vibcreg"}, "needs augment"),
        ({"method": "baseline", "augment": "gauss"}, "no augmented branch"),
        ({"method": "barlowtwins", "augment": "jitter"}, "needs augment"),
        ({"steps": 0}, "steps must be positive"),
        ({"epochs": -1}, "epochs must be positive"),
        ({"ema_decay": 1.0}, "ema_decay"),
    ],
)
def test_stage1_config_is_validated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Stage1Config(**kwargs)


def test_run_config_is_validated_and_round_trips():
    with pytest.raises(ValueError, match="unknown dataset"):
        RunConfig("NoSuchData")
    with pytest.raises(ValueError, match="dim .* divisible"):
        Stage2Config(dim=30, heads=4)
    config = make_config("ECG5000", "barlowtwins", "slice", 2, preset="cpu")
    assert RunConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert config.stage1.name == "barlowtwins-slice" and config.stage1.projector_dim == 256
    thesis = make_config("ECG5000", "vibcreg", "gauss", 1)
    assert (thesis.stage1.epochs, thesis.stage1.batch_size, thesis.stage1.projector_dim) == (1000, 128, 4096)
    assert thesis.stage1.effective_ssl_weight == 0.01 and thesis.stage1.aug_recon_weight == 0.2
    assert (thesis.stage2.epochs, thesis.stage2.batch_size) == (1000, 256)


def test_sweep_orders_seeds_last_and_runs_the_baseline_once():
    configs = sweep_configs(["ECG5000", "Wafer"], ["baseline", "vibcreg"], ["gauss", "slice"], [1, 2])
    assert len(configs) == 2 * 2 * 3
    assert [c.seed for c in configs[:6]] == [1] * 6
    assert sum(c.stage1.method == "baseline" for c in configs) == 4


def test_cli_refuses_bad_arguments(capsys):
    assert main(["run", "--dataset", "Nope"]) == 2
    assert "unknown dataset" in capsys.readouterr().err
    assert main(["run", "--dataset", DATASET, "--method", "vibcreg"]) == 2


def test_batches_are_epoch_permutations():
    seen = torch.cat([batch_indices(0, s, 20, 8) for s in range(3)])
    assert sorted(seen.tolist()) == list(range(20))


# ----------------------------------------------------------------------------- resume
class Interrupt(Exception):
    pass


def interrupt_at(step_to_fail: int):
    def on_step(step: int) -> None:
        if step == step_to_fail:
            raise Interrupt

    return on_step


def test_a_loss_gone_nan_stops_the_run_and_keeps_the_last_sound_checkpoint(tmp_path):
    model = torch.nn.Linear(3, 1)
    x = torch.randn(16, 3)

    def loss_fn(idx, local, generator):  # diverges at step 6 (0-based 5)
        loss = model(x[idx]).pow(2).mean()
        steps_done = len(calls)
        calls.append(idx)
        return {"loss": loss * (float("nan") if steps_done == 5 else 1.0), "fit": loss.detach()}

    calls = []
    spec = loop.LoopSpec(8, 16, 4, 0.1, 0.0, 8, 0, tmp_path / "c.pt", 2, {"run": 1}, log_every=2)
    with pytest.raises(FloatingPointError, match=r"\['loss'\] in steps 5-6"):
        loop.train(model, loss_fn, spec, device=torch.device("cpu"), precision="fp32")
    state = load_checkpoint(tmp_path / "c.pt", {"run": 1})
    assert state["step"] == 4 and all(np.isfinite(state["history"]["terms"]["loss"]))
    assert all(torch.isfinite(v).all() for v in state["model"].values())


@pytest.mark.parametrize("method", ["baseline", "vibcreg"])
def test_interrupted_stage1_resumes_to_the_same_result(tmp_path, method):
    config = tiny(method)
    data = load_ucr(DATASET)
    device = torch.device("cpu")
    whole, history = train_stage1(config, data, run_paths(config, tmp_path / "whole"), device)
    paths = run_paths(config, tmp_path / "broken")
    with pytest.raises(Interrupt):
        train_stage1(config, data, paths, device, on_step=interrupt_at(6))  # last checkpoint: step 4
    assert load_checkpoint(paths.stage1, checkpoint_meta(config, 1))["step"] == 4
    resumed, resumed_history = train_stage1(config, data, paths, device)
    assert resumed_history["steps_run"] == 4
    assert resumed_history["terms"]["loss"] == history["terms"]["loss"]
    for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    assert evaluate_stage1(whole.tokenizer, data, device) == evaluate_stage1(resumed.tokenizer, data, device)


def test_a_resumed_stage_reports_the_time_of_every_process_that_trained_it(tmp_path):
    config, data, device = tiny("baseline"), load_ucr(DATASET), torch.device("cpu")
    paths = run_paths(config, tmp_path)
    with pytest.raises(Interrupt):
        train_stage1(config, data, paths, device, on_step=interrupt_at(6))  # last checkpoint: step 4
    _, resumed = train_stage1(config, data, paths, device)
    assert resumed["resumed_at_step"] == 4 and resumed["earlier_seconds"] > 0
    timing = _stage_timing(resumed, batch_size=8)
    assert timing["seconds"] == pytest.approx(resumed["earlier_seconds"] + resumed["seconds"])
    assert timing["seconds_this_process"] == resumed["seconds"] < timing["seconds"]
    _, reused = train_stage1(config, data, paths, device)  # finished: loaded, nothing trained
    assert reused["steps_run"] == 0 and reused["earlier_seconds"] == pytest.approx(timing["seconds"], abs=0.5)
    assert earlier_seconds(resumed, reused) == pytest.approx(
        resumed["earlier_seconds"] + reused["earlier_seconds"]
    )
    state = load_checkpoint(paths.stage1, checkpoint_meta(config, 1))
    for key in ("elapsed_seconds", "elapsed_cpu_seconds"):  # a checkpoint written before the record
        del state["history"][key]
    save_checkpoint(paths.stage1, state, checkpoint_meta(config, 1))
    _, old = train_stage1(config, data, paths, device)
    assert _stage_timing(old, batch_size=8)["seconds"] is None and earlier_seconds(old, resumed) is None


def test_interrupted_stage2_resumes_to_the_same_prior(tmp_path):
    config = tiny("baseline")
    data = load_ucr(DATASET)
    device = torch.device("cpu")
    model, _ = train_stage1(config, data, run_paths(config, tmp_path / "s1"), device)
    whole, _ = train_stage2(config, data, model.tokenizer, run_paths(config, tmp_path / "a"), device)
    paths = run_paths(config, tmp_path / "b")
    with pytest.raises(Interrupt):
        train_stage2(config, data, model.tokenizer, paths, device, on_step=interrupt_at(7))
    resumed, _ = train_stage2(config, data, model.tokenizer, paths, device)
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_checkpoint_of_another_configuration_is_refused(tmp_path):
    config = tiny("baseline")
    paths = run_paths(config, tmp_path)
    save_checkpoint(paths.stage1, {"step": 1}, {"config": "someone-else", "stage": 1})
    with pytest.raises(CheckpointError, match="belongs to another run"):
        train_stage1(config, load_ucr(DATASET), paths, torch.device("cpu"))
    paths.stage1.write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        train_stage1(config, load_ucr(DATASET), paths, torch.device("cpu"))


# ----------------------------------------------------------------------------- DDP
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank: int, world: int, port: int, out: str, config_dict: dict) -> None:
    os.environ.update(
        RANK=str(rank),
        WORLD_SIZE=str(world),
        LOCAL_RANK=str(rank),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    torch.set_num_threads(1)
    from ssl_book.distributed import init_distributed

    ctx = init_distributed("cpu")
    config = RunConfig.from_dict(config_dict)
    train_stage1(config, load_ucr(DATASET), run_paths(config, out), torch.device("cpu"), ctx)
    torch.distributed.destroy_process_group()


#: the quantizer's EMA buffers (per-code running counts and sums of the assigned latents)
EMA_STATISTICS = ("embed_avg", "cluster_size")


@pytest.mark.parametrize("method, rel", [("baseline", 1e-3), ("vibcreg", 2e-2)])
def test_ddp_with_two_processes_matches_one_process(tmp_path, method, rel):
    """Two gloo processes, each with half of every batch, train like one process: batch norm
    statistics, the codebook's EMA statistics and the SSL loss all use the global batch.

    The baseline matches to rounding: the two-process batch norm sums in another order (and its
    variance in one pass), which after 8 steps moves the loss by 1.7e-4 relative on an AVX2 CPU
    and by less on AVX-512 ones; statistics of half a batch (the bug this guards against)
    change the normalisation itself, not its last bits.

    NC-VQVAE matches less tightly: its SSL head max-pools quantized latents, where many positions
    hold the same code and tie; the straight-through sum z + (e - z) breaks the ties by the last
    bit of z, which the two-process batch norm (a one-pass variance) changes, so the max-pool
    gradient can land on another tied position."""
    config = tiny(method)
    data = load_ucr(DATASET)
    single, single_history = train_stage1(
        config, data, run_paths(config, tmp_path / "single"), torch.device("cpu")
    )
    mp.spawn(
        _ddp_worker, args=(2, _free_port(), str(tmp_path / "ddp"), config.to_dict()), nprocs=2, join=True
    )
    state = load_checkpoint(run_paths(config, tmp_path / "ddp").stage1, checkpoint_meta(config, 1))
    assert state["history"]["terms"]["loss"] == pytest.approx(single_history["terms"]["loss"], rel=rel)
    for name, value in single.state_dict().items():
        if name.rsplit(".", 1)[-1] in EMA_STATISTICS:
            # running sums over code assignments: one near-tied assignment that rounds the
            # other way moves a code's sum by a whole latent, so compare the whole table
            change = float((state["model"][name] - value).norm() / value.norm())
            assert change < 10 * rel, f"{name}: relative change {change:.2e}"
        else:
            torch.testing.assert_close(state["model"][name], value, rtol=100 * rel, atol=100 * rel, msg=name)


# ----------------------------------------------------------------------------- end to end
def test_whole_pipeline_and_report_on_cpu(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SSL_BOOK_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "runs"
    arguments = [
        "--preset",
        "cpu",
        "--precision",
        "fp32",
        "--out",
        str(out),
        "--stage1-steps",
        "30",
        "--stage2-steps",
        "30",
        "--evaluator-epochs",
        "20",
        "--cas-epochs",
        "3",
    ]
    assert (
        main(
            [
                "sweep",
                "--datasets",
                DATASET,
                "--methods",
                "baseline",
                "vibcreg",
                "--augments",
                "gauss",
                *arguments,
            ]
        )
        == 0
    )
    results = load_results(out)
    assert len(results) == 2
    for r in results:
        m = r["metrics"]
        assert 0 <= m["svm"] <= 1 and 0 <= m["knn"] <= 1 and 0 <= m["cas"] <= 1
        assert m["fid"] >= 0 and 1 <= m["is_mean"] <= 2 + 1e-6 and 1 <= m["perplexity"] <= 32
        assert r["provenance"]["code_version"] and r["provenance"]["torch"] == torch.__version__
        assert r["timing"]["stage1"]["steps_run"] == 30
    table = markdown_table(aggregate(results))
    assert "thesis (4 seeds, full protocol)" in table and "reduced: stage 1 30 steps" in table
    assert f"{thesis_results()[(DATASET, 'fid', 'baseline')][0]:.2f}" in table
    # running again finds the finished results instead of training anew
    capsys.readouterr()
    assert main(["run", "--dataset", DATASET, "--method", "baseline", *arguments]) == 0
    assert "stage 1" not in capsys.readouterr().err


def test_committed_results_keep_their_digests():
    """New configuration fields keep the digest of every committed run (so a sweep skips
    them and the chapters find them); the full preset's FCN precision is recorded."""
    from pathlib import Path

    files = sorted((Path(__file__).resolve().parents[1] / "results" / "runs").rglob("results.json"))
    assert files
    for path in files:
        record = json.loads(path.read_text())
        assert RunConfig.from_dict(record["config"]).digest() == record["config_digest"], path
    assert make_config("ECG5000", "baseline", None, 1).evaluation.fcn_precision == "bf16"
    assert make_config("ECG5000", "baseline", None, 1, preset="cpu").evaluation.fcn_precision == "fp32"


def test_cpu_preset_caps_fcn_training_on_large_datasets_only():
    from ssl_book.evaluator import EvaluatorConfig

    cpu = make_config("FordA", "baseline", None, 1, preset="cpu").evaluation
    assert cpu.fcn(cpu.evaluator_epochs).steps(3601) == 200  # 1500 without the cap
    assert cpu.fcn(cpu.evaluator_epochs).steps(500) == 200 == 100 * 2  # ECG5000: does not bind
    assert cpu.fcn(cpu.cas_epochs).steps(500) == 40
    full = make_config("FordA", "baseline", None, 1).evaluation
    assert full.max_fcn_steps is None and full.fcn(full.evaluator_epochs).steps(3601) == 15_000
    assert EvaluatorConfig(epochs=10).key == EvaluatorConfig(epochs=10, max_steps=None).key
    assert EvaluatorConfig(epochs=10).key != EvaluatorConfig(epochs=10, max_steps=5).key
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="max_steps"):
            EvaluatorConfig(max_steps=bad)


@pytest.mark.parametrize("method", ["baseline", "vibcreg", "barlowtwins"])
def test_stages_train_under_cpu_bf16_autocast(tmp_path, monkeypatch, method):
    """The bf16 path that GPUs (and CPUs with native bf16) take: both stages train, losses stay
    finite, and the quantizer and IterNorm keep their fp32 state."""
    import dataclasses

    from ssl_book import runtime
    from ssl_book.experiments import loop

    monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: True)
    config = dataclasses.replace(tiny(method), precision="bf16")
    assert loop.uses_bf16(torch.device("cpu"), "bf16") and not loop.uses_bf16(torch.device("cpu"), "fp32")
    data = load_ucr(DATASET)
    model, history = train_stage1(config, data, run_paths(config, tmp_path), torch.device("cpu"))
    assert all(np.isfinite(history["terms"]["loss"]))
    assert model.tokenizer.codebook.dtype == torch.float32
    _, history2 = train_stage2(
        config, data, model.tokenizer, run_paths(config, tmp_path), torch.device("cpu")
    )
    assert all(np.isfinite(history2["terms"]["loss"]))
    monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: False)
    assert not loop.uses_bf16(torch.device("cpu"), "bf16")


def test_mean_sd_text_gives_the_sample_spread_and_marks_single_and_missing_values():
    assert mean_sd_text([1.0, 3.0]) == "2.00 ± 1.41"  # sample sd (ddof=1), not 1.00
    assert mean_sd_text([1.0, 3.0], 1) == "2.0 ± 1.4"
    assert mean_sd_text([2.5]) == "2.50"
    assert mean_sd_text([]) == "–"
