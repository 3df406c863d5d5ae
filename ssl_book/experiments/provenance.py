"""Where a result came from: code version, configuration, hardware, software, time.

Every results file the pipeline writes carries this record, so a number in the book can be
traced to the exact commit, command and machine that produced it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[2]


def git_commit() -> str:
    """The commit of the working tree, with ``-dirty`` when it has uncommitted changes to tracked
    files; ``"unknown"`` outside a git checkout."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}-dirty" if dirty else commit


def library_fingerprint() -> str:
    """A short hash of the library's source: changes whenever any ``ssl_book`` module does."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def device_name(device: torch.device) -> str:
    """A human-readable name of the hardware: the GPU model, or the CPU and its thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu} ({torch.get_num_threads()} threads)"


#: The code version when this process imported the library: the code that is running, even if
#: the working tree changes while a long run goes on.
CODE_VERSION = git_commit()


def _typed_path(word: str) -> str:
    """A path as a reader would type it in the repository: relative to it when inside, else
    only its last part (``.../name``), so that no machine's folder layout is recorded."""
    if not os.path.isabs(word):
        return word
    path = Path(word).resolve()
    if path == ROOT or ROOT in path.parents:
        return str(path.relative_to(ROOT)) or "."
    return f".../{path.name}"


def _as_module(script: str) -> str | None:
    """``python -m ssl_book.x.y`` for a script path inside the library (``.../ssl_book/x/y.py``,
    ``__main__.py`` naming its package), as ``python -m`` puts it in ``sys.argv[0]``; else None."""
    path = Path(script).resolve()
    package = ROOT / "ssl_book"
    if path.suffix != ".py" or package not in path.parents:
        return None
    parts = path.relative_to(ROOT).with_suffix("").parts
    return "python -m " + ".".join(parts[:-1] if parts[-1] == "__main__" else parts)


def typed_command(argv: list[str]) -> list[str]:
    """``argv`` as typed relative to the repository: ``python -m ssl_book.experiments ...``
    instead of a library module's absolute path, paths inside the repository relative to it,
    and paths outside it shortened to their last part (``--out=/abs/runs`` forms included)."""
    words = list(argv)
    module = _as_module(words[0]) if words else None
    if module is not None:
        words[0] = module
    typed = []
    for word in words:
        option, equals, value = word.partition("=")
        typed.append(
            f"{option}={_typed_path(value)}" if equals and option.startswith("--") else _typed_path(word)
        )
    return typed


def provenance(device: torch.device, command: list[str] | None = None) -> dict[str, Any]:
    """The record stored in every results file: code version, the command as typed (see
    :func:`typed_command`), hardware, software and date; no host name or machine path."""
    return {
        "code_version": CODE_VERSION,
        "command": " ".join(typed_command(command if command is not None else sys.argv)),
        "device": device_name(device),
        "device_type": device.type,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def write_json_atomic(path: str | Path, data: dict[str, Any]) -> Path:
    """Write ``data`` as JSON to ``path`` via a temporary file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2, sort_keys=False)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
