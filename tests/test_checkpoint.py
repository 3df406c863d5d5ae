"""Atomic checkpoints: round trip, corruption and mismatch errors, no partial files."""

import pytest
import torch

from ssl_book.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def test_round_trip_of_model_optimizer_and_rng(tmp_path):
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters())
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    gen = torch.Generator().manual_seed(5)
    state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "step": 7, "rng": gen.get_state()}
    path = save_checkpoint(tmp_path / "run" / "last.pt", state, {"config": "abc"})
    loaded = load_checkpoint(path, {"config": "abc"})
    assert loaded["step"] == 7
    torch.testing.assert_close(loaded["model"]["weight"], model.weight.detach())
    restored = torch.Generator()
    restored.set_state(loaded["rng"])
    assert torch.rand(3, generator=restored).tolist() == torch.rand(3, generator=gen).tolist()
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]  # no temporary files left


def test_mismatched_run_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "c.pt", {"step": 1}, {"config": "abc"})
    with pytest.raises(CheckpointError, match="belongs to another run"):
        load_checkpoint(path, {"config": "xyz"})


def test_corrupted_file_is_a_clear_error(tmp_path):
    path = save_checkpoint(tmp_path / "c.pt", {"w": torch.randn(100)}, {})
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(path)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt")


def test_foreign_payload_is_refused(tmp_path):
    torch.save({"weights": torch.ones(2)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not an ssl_book checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


def test_failed_write_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "c.pt", {"step": 1}, {})

    def broken_save(obj, f):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        save_checkpoint(path, {"step": 2}, {})
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]
