"""Running one experiment over several seeds, and summarising it by mean and standard deviation.

A single run of a small experiment says little about which method wins: another seed (another
initialisation, another order of minibatches, another draw of labelled examples) can reorder
methods whose scores are a few points apart. :func:`over_seeds` runs an experiment once per
seed, after :func:`ssl_book.runtime.seed_everything`, and collects the metrics it returns::

    def experiment(seed: int) -> dict[str, float]:
        ...                                   # train, evaluate; use `seed` where a seed goes
        return {"dense": acc_dense, "conv": acc_conv}

    runs = over_seeds(experiment, seeds=range(5), desc="CBF")
    runs.summary("conv")                      # '0.953 ± 0.012'
    runs.difference("dense", "conv")          # paired: conv - dense, seed by seed

Since the same seed gives the same numbers, the methods of one seed share everything the seed
draws (data order, labelled subset), and :meth:`SeedResults.difference` compares them in pairs
(``ssl_book.stats.paired_comparison``). Used from the convolution chapter on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ssl_book.progress import progress
from ssl_book.runtime import seed_everything
from ssl_book.stats import PairedComparison, paired_comparison


@dataclass(frozen=True)
class SeedResults:
    """The metrics of one experiment run once per seed.

    Attributes:
        seeds: the seeds, in the order they ran.
        values: for every metric, an array of shape ``(n_seeds, *shape)``: row ``i`` is what
            the run with ``seeds[i]`` returned (a number, or an array of one fixed shape).
    """

    seeds: tuple[int, ...]
    values: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        """The number of seeds."""
        return len(self.seeds)

    def keys(self) -> list[str]:
        """The metric names, in the order the experiment returned them."""
        return list(self.values)

    def __getitem__(self, key: str) -> np.ndarray:
        """All seeds' values of one metric: ``(n_seeds, *shape)``."""
        if key not in self.values:
            raise KeyError(f"no metric {key!r}; the metrics are {self.keys()}")
        return self.values[key]

    def mean(self, key: str) -> np.ndarray | float:
        """Mean over seeds (a float for a scalar metric)."""
        return _scalar(self[key].mean(axis=0))

    def sd(self, key: str) -> np.ndarray | float:
        """Sample standard deviation over seeds (``ddof=1``; a float for a scalar metric)."""
        return _scalar(self[key].std(axis=0, ddof=1))

    def summary(self, key: str, fmt: str = ".3f") -> str:
        """``'mean ± sd'`` of a scalar metric, formatted with ``fmt``."""
        if self[key].ndim != 1:
            raise ValueError(f"summary needs a scalar metric; {key!r} has shape {self[key].shape[1:]}")
        return f"{self.mean(key):{fmt}} ± {self.sd(key):{fmt}}"

    def difference(self, a: str, b: str, level: float = 0.95) -> PairedComparison:
        """Metric ``b`` minus metric ``a``, paired seed by seed (scalar metrics)."""
        return paired_comparison(self[a], self[b], level=level)

    def overlap(self, a: str, b: str) -> bool:
        """True when the intervals mean ± sd of two scalar metrics overlap."""
        low_a, high_a = self.mean(a) - self.sd(a), self.mean(a) + self.sd(a)
        low_b, high_b = self.mean(b) - self.sd(b), self.mean(b) + self.sd(b)
        return bool(low_a <= high_b and low_b <= high_a)

    def table(self, keys: Iterable[str] | None = None, fmt: str = ".3f", width: int = 0) -> str:
        """One line per scalar metric: its name, ``mean ± sd`` and the number of seeds."""
        keys = list(self.keys() if keys is None else keys)
        width = width or max(len(k) for k in keys)
        return "\n".join(f"{k:>{width}}: {self.summary(k, fmt)}  (n = {self.n} seeds)" for k in keys)


def _scalar(value: np.ndarray) -> np.ndarray | float:
    return float(value) if value.ndim == 0 else value


@contextmanager
def _bars_off(off: bool):
    """Turn off the progress bars of ``ssl_book.progress`` (``TQDM_DISABLE``) inside the block."""
    if not off:
        yield
        return
    before = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TQDM_DISABLE", None)
        else:
            os.environ["TQDM_DISABLE"] = before


def over_seeds(
    fn: Callable[[int], Mapping[str, object]],
    seeds: Iterable[int],
    *,
    desc: str = "seeds",
    inner_bars: bool = False,
) -> SeedResults:
    """Run ``fn(seed)`` for every seed, each after ``seed_everything(seed)``, and collect.

    Args:
        fn: the experiment. It takes the seed (to hand on to whatever takes a seed: a
            ``torch.Generator``, ``fit_classifier(seed=...)``, a ``numpy`` generator) and
            returns a mapping from metric names to numbers or arrays; every seed must
            return the same names with the same shapes.
        seeds: at least two distinct non-negative integers (one seed has no spread).
        desc: the label of the progress bar (one step per seed).
        inner_bars: show the progress bars of the training loops inside ``fn`` too (off by
            default: one bar per experiment, not one per run).

    Returns:
        A :class:`SeedResults` with one row per seed, in the order of ``seeds``.
    """
    seeds = tuple(seeds)
    if len(seeds) < 2:
        raise ValueError(f"need at least 2 seeds to measure a spread, got {len(seeds)}")
    for seed in seeds:
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seeds must be non-negative integers, got {seed!r}")
    seeds = tuple(int(s) for s in seeds)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    rows: list[dict[str, np.ndarray]] = []
    for seed in (bar := progress(seeds, desc=desc)):
        seed_everything(seed)
        with _bars_off(not inner_bars):
            metrics = fn(seed)
        if not isinstance(metrics, Mapping) or not metrics:
            raise TypeError(f"fn must return a non-empty mapping of metrics, got {type(metrics).__name__}")
        row = {str(k): np.asarray(v, dtype=float) for k, v in metrics.items()}
        if rows and (row.keys() != rows[0].keys() or any(row[k].shape != rows[0][k].shape for k in row)):
            raise ValueError(
                f"seed {seed} returned metrics {_describe(row)}, the first seed {_describe(rows[0])}"
            )
        rows.append(row)
        if hasattr(bar, "set_postfix_str"):
            bar.set_postfix_str(f"seed {seed}")
    return SeedResults(seeds, {k: np.stack([r[k] for r in rows]) for k in rows[0]})


def _describe(row: Mapping[str, np.ndarray]) -> str:
    return "{" + ", ".join(f"{k}: shape {v.shape}" for k, v in row.items()) + "}"
