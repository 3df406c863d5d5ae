"""Many runs at once on a CPU: one process per run, ``jobs`` at a time, each on one thread.

On a CPU, small models train faster as several single-thread runs side by side than as one run
spread over all cores (the thesis's models at batch 20 to 128 leave most of a second core idle).
:func:`run_parallel` starts each run in a fresh process (``spawn``) with one intra-op thread and
shows one progress bar per running process; finished results are written by the runs
themselves (atomically, see :func:`ssl_book.experiments.pipeline.run_experiment`), so a sweep
that is interrupted and started again skips what finished, and two sweeps pointed at the same
folder never run the same run twice (each run holds a lock on its folder while it trains).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing as mp
import os
import queue as queue_module
import signal
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing.managers import SyncManager
from pathlib import Path

from ssl_book.experiments.config import RunConfig
from ssl_book.progress import progress

#: Environment the worker processes start with: one thread for every math library.
WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}

_messages: mp.Queue | None = None


def die_with_parent() -> bool:
    """Ask Linux to send this process SIGTERM when its parent exits (``prctl(PR_SET_PDEATHSIG)``),
    so that stopping a sweep with ``kill`` stops its runs too instead of leaving them running
    unseen. Returns False where the call is not available (other systems)."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    pr_set_pdeathsig = 1
    if libc.prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0) != 0:
        return False
    if os.getppid() == 1:  # the parent died before the call
        os.kill(os.getpid(), signal.SIGTERM)
    return True


def _init_worker(messages) -> None:
    """Runs once in every worker process, before its first run."""
    global _messages
    die_with_parent()
    _messages = messages
    os.environ["TQDM_DISABLE"] = "1"  # the parent draws the bars
    import torch

    from ssl_book.runtime import keep_freed_memory

    torch.set_num_threads(1)
    keep_freed_memory()


def _run_one(config: RunConfig, out: str, device: str, command: list[str]) -> dict | None:
    """One run inside a worker; reports ``(pid, run name, part, step, total)`` as it goes."""
    import torch

    from ssl_book.experiments.pipeline import run_experiment

    pid = os.getpid()

    def report(part: str, step: int, total: int) -> None:
        if _messages is not None:
            _messages.put((pid, config.name, part, step, total))

    try:
        return run_experiment(config, out, torch.device(device), command=command, report=report)
    finally:
        if _messages is not None:
            _messages.put((pid, config.name, "done", 1, 1))


def _show_progress(messages, stop: threading.Event) -> None:
    """Draw one bar per worker process from the messages the workers send."""
    bars: dict[int, object] = {}
    while not stop.is_set() or not messages.empty():
        try:
            pid, name, part, step, total = messages.get(timeout=0.2)
        except queue_module.Empty:
            continue
        if pid not in bars:
            bars[pid] = progress(total=total, leave=False, position=len(bars))
        bar = bars[pid]
        if bar.total != total:
            bar.reset(total=total)
        bar.set_description_str(f"{name} {part}", refresh=False)
        bar.n = step
        bar.refresh()
    for bar in bars.values():
        bar.close()


def run_parallel(
    configs: Sequence[RunConfig],
    out: str | Path,
    jobs: int,
    *,
    device: str = "cpu",
    command: list[str] | None = None,
) -> list[dict | None]:
    """Run ``configs`` in ``jobs`` single-thread worker processes; returns their results in the
    order of ``configs`` (``None`` for a run that another process was running).

    A run whose results already exist in ``out`` returns them at once; a failing run raises once
    the other runs have finished (their results are kept).
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    saved = {name: os.environ.get(name) for name in WORKER_ENV}
    os.environ.update(WORKER_ENV)  # inherited by the spawned workers
    context = mp.get_context("spawn")
    manager = SyncManager(ctx=context)
    manager.start(initializer=die_with_parent)
    messages = manager.Queue()
    stop = threading.Event()
    drawer = threading.Thread(target=_show_progress, args=(messages, stop), daemon=True)
    drawer.start()
    results: list[dict | None] = [None] * len(configs)
    try:
        with ProcessPoolExecutor(
            max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(messages,)
        ) as pool:
            futures = {
                pool.submit(_run_one, c, str(out), device, command or []): i for i, c in enumerate(configs)
            }
            for future in as_completed(futures):
                results[futures[future]] = future.result()
    finally:
        stop.set()
        drawer.join()
        manager.shutdown()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return results
