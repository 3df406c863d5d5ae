"""Checkpoints that survive interruptions: atomic writes, safe loads, clear errors.

A checkpoint is a ``dict`` of tensors, numbers, strings, lists and dicts (model, optimizer and
scheduler ``state_dict``s, the step, random-generator states) plus a ``meta`` dict that names
what produced it (for example a hash of the run's configuration). It is written to a temporary
file in the same folder, flushed to disk, then moved over the old one with ``os.replace``, so a
crash at any moment leaves either the old or the new checkpoint, never a broken one. Loading
uses ``torch.load(..., weights_only=True)``: no arbitrary code can run from a checkpoint file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

FORMAT_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint is corrupted, unreadable, or belongs to another run."""


def save_checkpoint(path: str | Path, state: dict[str, Any], meta: dict[str, Any]) -> Path:
    """Atomically write ``{"state": state, "meta": meta}`` to ``path`` (parents are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format_version": FORMAT_VERSION, "meta": dict(meta), "state": state}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(
    path: str | Path, expected_meta: dict[str, Any] | None = None, map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` and return its ``state``.

    Args:
        expected_meta: entries that must match the checkpoint's ``meta`` (for example the
            configuration hash); a mismatch raises instead of silently resuming another run.

    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError: the file is not a readable checkpoint, or its ``meta`` differs.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # unpickling errors come in many types
        raise CheckpointError(
            f"{path} is not a readable checkpoint ({type(err).__name__}: {err}); "
            f"it may be truncated or corrupted: delete it to start the run afresh"
        ) from None
    if (
        not isinstance(payload, dict)
        or payload.get("format_version") != FORMAT_VERSION
        or "state" not in payload
    ):
        raise CheckpointError(f"{path} is not an ssl_book checkpoint (format version {FORMAT_VERSION})")
    meta = payload.get("meta", {})
    for key, value in (expected_meta or {}).items():
        if meta.get(key) != value:
            raise CheckpointError(
                f"{path} belongs to another run: its {key!r} is {meta.get(key)!r}, "
                f"expected {value!r}. Use another output folder or delete the checkpoint."
            )
    return payload["state"]
