"""How code runs: random seeds, the compute device, and the quick (test) mode.

Every chapter starts with the same three lines::

    from ssl_book import seed_everything, get_device, use_book_style
    rng = seed_everything(0)
    device = get_device()

``SSL_BOOK_QUICK`` is the one switch that shrinks work for the test suite. It is read
here and nowhere else; chapters ask :func:`by_mode` for their step counts and sizes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import random
from typing import TypeVar

import numpy as np
import torch

QUICK_ENV_VAR = "SSL_BOOK_QUICK"

T = TypeVar("T")


def seed_everything(seed: int, deterministic: bool = False) -> np.random.Generator:
    """Seed Python, NumPy and PyTorch (CPU and every GPU) with one number.

    Args:
        seed: a non-negative integer.
        deterministic: also ask PyTorch for deterministic kernels (slower on GPU;
            CPU results are already repeatable on the same machine).

    Returns:
        A fresh ``numpy.random.Generator`` seeded with ``seed``, for code that prefers
        explicit generators to the global state.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return np.random.default_rng(seed)


def get_device(prefer: str | None = None) -> torch.device:
    """The best available device: CUDA, then Apple's MPS, then the CPU.

    Args:
        prefer: force a device (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``). A device
            that is not available raises ``ValueError`` instead of failing later inside torch.
    """
    if prefer is not None:
        device = torch.device(prefer)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("CUDA was requested but torch.cuda.is_available() is False")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError("MPS was requested but torch.backends.mps.is_available() is False")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def is_quick() -> bool:
    """True when ``SSL_BOOK_QUICK`` is set to 1/true/yes (the test suite sets it)."""
    value = os.environ.get(QUICK_ENV_VAR, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ValueError(f"{QUICK_ENV_VAR} must be 0/1, true/false or yes/no, got {value!r}")


def by_mode(normal: T, quick: T) -> T:
    """``normal`` when a reader runs a chapter, ``quick`` when the test suite does.

    Example: ``steps = by_mode(400, 20)``.
    """
    return quick if is_quick() else normal


#: glibc's ``mallopt`` parameter numbers (``malloc.h``).
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4


def keep_freed_memory() -> bool:
    """Ask the C allocator to keep freed memory for reuse instead of returning it to the system.

    glibc serves large requests (above a threshold of at most 32 MiB) with fresh ``mmap`` pages
    and unmaps them on ``free``. A CPU training step that allocates and frees the same big
    buffers every step (the 64 MiB gradients of the thesis's 4096-wide projector) then pays for
    zero-filling fresh pages each time: on the development machine a third of the run's time
    was system time, with 100 page faults per kilobyte of useful data. After this call freed
    blocks stay in the heap and the next step reuses them; the process keeps its peak memory.
    Measured with ``benchmarks/full_protocol.py``. Same effect as starting Python with
    ``MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=<large>`` in the environment.

    Returns:
        True if the setting took effect (glibc), False elsewhere (macOS, musl, Windows), where
        it does nothing.
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**30))


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes in bfloat16 natively (x86 ``avx512_bf16`` or ``amx_bf16``, as
    Linux reports them in ``/proc/cpuinfo``). Without these instructions bf16 is emulated and
    slower than fp32; with them a convolution-heavy training step runs 1.4 to 2 times faster
    under bf16 autocast (``benchmarks/full_protocol.py``). False where it cannot tell."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def native_bf16(device: torch.device | str) -> bool:
    """Whether ``device`` computes in bfloat16 natively: a CUDA GPU that supports it, or a CPU
    with :func:`cpu_has_native_bf16`."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_native_bf16()


def effective_precision(precision: str, device: torch.device | str) -> str:
    """``"bf16"`` where ``device`` runs it natively, else ``"fp32"``; ``"fp32"`` stays.

    Emulated bf16 is not a cheaper fp32: on a CPU with AVX2 but no AVX-512 BF16, one FCN
    training step under bf16 autocast took about ten times as long as in fp32
    (``benchmarks/fcn_precision.py``). So a request for bf16 is a request for the fast path,
    and falls back to fp32 where there is none."""
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"precision must be 'fp32' or 'bf16', got {precision!r}")
    return "bf16" if precision == "bf16" and native_bf16(device) else "fp32"
