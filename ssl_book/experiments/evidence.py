"""NC-VQVAE against its baseline, seed by seed, and a verdict for each of the thesis's claims.

A *change* is one NC-VQVAE configuration minus the baseline on one dataset, one metric and one
protocol, oriented so that a positive change is an improvement (FID's sign is flipped). Runs
with the same seed see the same minibatches in the same order, so the change is computed per
seed and summarised with :func:`ssl_book.stats.paired_comparison` (mean, t-interval, effect
size in units of its own spread, paired t-test). Holm's correction runs over the whole family
of changes that a page shows, and every claim's verdict reads the corrected p-values.

The thesis's own change is computed from its published means and standard deviations over 4
seeds (unpaired, Welch), since its per-seed values are not in the summary.

Used by the chapter "Results"; tested in ``tests/test_evidence.py``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats as sps

from ssl_book.experiments.report import METRICS, configuration_label, protocol_family, protocol_label
from ssl_book.stats import PairedComparison, holm, paired_comparison, sign_test

#: the thesis's number of seeds per configuration
THESIS_SEEDS = 4
#: the six NC-VQVAE configurations of the thesis
NC_CONFIGS = (
    "barlowtwins-warp",
    "barlowtwins-slice",
    "barlowtwins-gauss",
    "vibcreg-warp",
    "vibcreg-slice",
    "vibcreg-gauss",
)
SHORT_CONFIG = {
    "baseline": "base",
    "barlowtwins-warp": "BT-warp",
    "barlowtwins-slice": "BT-slice",
    "barlowtwins-gauss": "BT-gauss",
    "vibcreg-warp": "VIb-warp",
    "vibcreg-slice": "VIb-slice",
    "vibcreg-gauss": "VIb-gauss",
}
SHORT_DATASET = {
    "SonyAIBORobotSurface1": "Sony1",
    "SonyAIBORobotSurface2": "Sony2",
    "UWaveGestureLibraryAll": "UWaveAll",
    "StarLightCurves": "StarLight",
    "ElectricDevices": "ElecDev",
}


#: the fewest seeds a paired test runs on: with two, the spread comes from a single degree of
#: freedom, and two differences that happen to coincide pass any correction (the issue's and
#: the thesis's protocols run three and four)
MIN_TEST_SEEDS = 3


def short_name(name: str) -> str:
    """A table-friendly name: ``Sony1`` for SonyAIBORobotSurface1, ``VIb-gauss`` for
    vibcreg-gauss; other names unchanged (the stage-2 ablation tags are kept)."""
    base, _, tag = name.partition(" [")
    short = SHORT_DATASET.get(base, SHORT_CONFIG.get(base, base))
    return f"{short} [{tag}" if tag else short


def shortened_cas(results: list[dict[str, Any]]) -> dict[str, int]:
    """``dataset -> CAS epochs`` for the datasets whose full-protocol runs trained CAS for fewer
    epochs than the thesis's 1000 (they count under the full protocol, marked)."""
    return {
        r["config"]["dataset"]: r["config"]["evaluation"]["cas_epochs"]
        for r in results
        if protocol_label(r["config"]).startswith("full protocol, CAS ")
    }


def row_label(change: Change) -> str:
    """A change's dataset for a table or a figure: its short name, with ``†`` on a CAS change
    whose runs trained CAS for fewer epochs than the thesis (:func:`shortened_cas`)."""
    marked = change.metric == "cas" and change.protocol != protocol_family(change.protocol)
    return short_name(change.dataset) + ("†" if marked else "")


def oriented(metric: str, value: float) -> float:
    """``value`` with the sign that makes "up" better (FID is a distance: its sign flips)."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {sorted(METRICS)}")
    return value if METRICS[metric][3] else -value


def per_seed(results: list[dict[str, Any]], metric: str) -> dict[tuple[str, str, str], dict[int, float]]:
    """``(dataset, configuration, protocol) -> {seed: value}`` in the thesis's units (percent for
    accuracies). A second file for the same key and seed is an error, not a silent overwrite."""
    _, key, scale, _ = METRICS[metric]
    table: dict[tuple[str, str, str], dict[int, float]] = defaultdict(dict)
    for r in results:
        cfg = r["config"]
        value = r["metrics"].get(key)
        if value is None:
            continue
        group = (cfg["dataset"], configuration_label(cfg), protocol_label(cfg))
        if cfg["seed"] in table[group]:
            raise ValueError(f"two results files for {group} seed {cfg['seed']}")
        table[group][cfg["seed"]] = scale * value
    return dict(table)


@dataclass(frozen=True)
class ThesisChange:
    """The thesis's NC-minus-baseline change (oriented) from its means and standard deviations
    over 4 seeds each: the mean, a Welch 95 % interval and Welch's two-sided p-value."""

    mean: float
    ci_low: float
    ci_high: float
    p_value: float


def thesis_change(
    thesis: dict, dataset: str, config: str, metric: str, level: float = 0.95
) -> ThesisChange | None:
    """The thesis's change for ``config`` against its baseline, or ``None`` when it lacks one."""
    nc, base = thesis.get((dataset, metric, config)), thesis.get((dataset, metric, "baseline"))
    if nc is None or base is None:
        return None
    mean = oriented(metric, nc[0] - base[0])
    if not nc[1] or not base[1]:
        return ThesisChange(mean, float("nan"), float("nan"), float("nan"))
    n = THESIS_SEEDS
    v1, v2 = nc[1] ** 2 / n, base[1] ** 2 / n
    se = np.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1**2 / (n - 1) + v2**2 / (n - 1))
    half = sps.t.ppf(0.5 + level / 2, df) * se
    p = sps.ttest_ind_from_stats(nc[0], nc[1], n, base[0], base[1], n, equal_var=False).pvalue
    return ThesisChange(mean, mean - half, mean + half, float(p))


@dataclass
class Change:
    """One configuration minus the baseline (oriented: positive is better), paired by seed.

    ``differences`` maps each seed both ran to its paired difference; ``paired`` summarises
    them (``None`` below two seeds); ``p_holm`` is the Holm-adjusted p-value within the family
    it was computed with (``nan`` below :data:`MIN_TEST_SEEDS` seeds: not tested)."""

    dataset: str
    config: str
    metric: str
    protocol: str
    differences: dict[int, float]
    paired: PairedComparison | None
    thesis: ThesisChange | None
    p_holm: float = float("nan")

    @property
    def mean(self) -> float:
        return float(np.mean(list(self.differences.values())))

    @property
    def n_seeds(self) -> int:
        return len(self.differences)

    @property
    def tested(self) -> bool:
        """Whether enough seeds ran for a test (:data:`MIN_TEST_SEEDS`)."""
        return self.paired is not None and self.n_seeds >= MIN_TEST_SEEDS

    @property
    def significant(self) -> bool:
        """Holm-adjusted p below 0.05."""
        return bool(np.isfinite(self.p_holm) and self.p_holm < 0.05)


def changes(
    results: list[dict[str, Any]],
    thesis: dict,
    protocol: str | None = None,
    metrics: tuple[str, ...] = tuple(METRICS),
    baseline: str = "baseline",
) -> list[Change]:
    """Every (dataset, configuration, metric) against ``baseline`` of the same dataset and
    protocol, over the seeds both ran, Holm-corrected over the returned family. Only changes
    with :data:`MIN_TEST_SEEDS` seeds or more are tested (and form the Holm family); two seeds
    still get their interval (``Change.paired``) but no p-value.

    Args:
        results: results files as loaded by :func:`~ssl_book.experiments.report.load_results`.
        thesis: :func:`~ssl_book.experiments.report.thesis_results`.
        protocol: keep only this protocol (``"full protocol"``, say, which also keeps runs whose
            CAS alone was shortened: :func:`~ssl_book.experiments.report.protocol_family`;
            each change keeps its own label in ``Change.protocol``); ``None`` keeps all.
        metrics: the metrics to compare.
        baseline: the configuration label to compare against.
    """
    found: list[Change] = []
    for metric in metrics:
        table = per_seed(results, metric)
        for (dataset, config, proto), values in sorted(table.items()):
            if config == baseline or (protocol is not None and protocol_family(proto) != protocol):
                continue
            base = table.get((dataset, baseline, proto))
            seeds = sorted(set(values) & set(base or {}))
            if not seeds:
                continue
            diffs = {s: oriented(metric, values[s] - base[s]) for s in seeds}
            paired = None
            if len(seeds) > 1:
                a = [oriented(metric, base[s]) for s in seeds]
                b = [oriented(metric, values[s]) for s in seeds]
                paired = paired_comparison(a, b)
            thesis_config = config.partition(" [")[0]
            found.append(
                Change(
                    dataset,
                    config,
                    metric,
                    proto,
                    diffs,
                    paired,
                    thesis_change(thesis, dataset, thesis_config, metric),
                )
            )
    tested = [c for c in found if c.tested]
    if tested:
        for c, p in zip(tested, holm([c.paired.p_value for c in tested])):
            c.p_holm = float(p)
    return found


@dataclass
class Agreement:
    """How often our direction matches the thesis's, against a coin (one-sided sign test)."""

    agree: int
    total: int
    p_value: float


def direction_agreement(found: list[Change]) -> Agreement | None:
    """Count the changes whose mean has the thesis's sign (where the thesis has one)."""
    pairs = [
        (c.mean, c.thesis.mean) for c in found if c.thesis is not None and c.thesis.mean != 0 and c.mean != 0
    ]
    if not pairs:
        return None
    agree = sum(np.sign(a) == np.sign(b) for a, b in pairs)
    return Agreement(int(agree), len(pairs), sign_test(int(agree), len(pairs)))


#: the verdicts a claim can get
VERDICTS = (
    "reproduced",
    "same direction, not significant",
    "mixed",
    "contradicted",
    "not reproduced",
    "fewer than 3 seeds",
    "not testable here",
)


@dataclass
class Claim:
    """A finding of the thesis and how to test it on a family of changes.

    ``select`` picks the changes that bear on the claim; the claim predicts that each of them is
    an improvement (positive)."""

    key: str
    statement: str
    select: Callable[[Change], bool]
    evidence_needed: str = ""

    def verdict(self, found: list[Change]) -> tuple[str, str]:
        """``(verdict, evidence)`` on ``found`` (see :data:`VERDICTS`)."""
        chosen = [c for c in found if self.select(c)]
        if not chosen:
            return "not testable here", self.evidence_needed or "no run of ours bears on it"
        better = sum(c.mean > 0 for c in chosen)
        shown_up = sum(c.significant and c.mean > 0 for c in chosen)
        shown_down = sum(c.significant and c.mean < 0 for c in chosen)
        seeds = sorted({c.n_seeds for c in chosen})
        evidence = (
            f"{better} of {len(chosen)} changes are improvements; significant after Holm: "
            f"{shown_up} up, {shown_down} down; seeds per comparison: {'/'.join(map(str, seeds))}"
        )
        if shown_down:
            return "contradicted", evidence
        if not any(c.tested for c in chosen):
            return "fewer than 3 seeds", evidence
        if better == len(chosen):
            return ("reproduced" if shown_up else "same direction, not significant"), evidence
        return "mixed", evidence


def _is(metric: str, *configs: str) -> Callable[[Change], bool]:
    def select(c: Change) -> bool:
        return c.metric == metric and (not configs or c.config in configs)

    return select


#: the thesis's findings as its run logs summarise them (13 datasets, 4 seeds): each one tested
#: on the datasets we ran. The dataset-level claims cannot be tested on 2-3 datasets and say so.
THESIS_CLAIMS = (
    Claim(
        "is",
        "IS rises with NC-VQVAE on almost every dataset (11-12 of 13 per configuration)",
        _is("is", *NC_CONFIGS),
    ),
    Claim(
        "fid-vibcreg-gauss",
        "FID improves with VIbCReg-gauss on 9 of 13 datasets (6-8 for the other configurations)",
        _is("fid", "vibcreg-gauss"),
    ),
    Claim(
        "fid-others",
        "FID improves with the other five configurations on 6-8 of 13 datasets",
        _is("fid", *[c for c in NC_CONFIGS if c != "vibcreg-gauss"]),
    ),
    Claim("svm", "The SVM probe improves on 9-11 of 13 datasets", _is("svm", *NC_CONFIGS)),
    Claim("knn", "The 5-NN probe improves on 9-11 of 13 datasets", _is("knn", *NC_CONFIGS)),
    Claim(
        "cas",
        "CAS improves with VIbCReg on 10-12 of 13 datasets (6-9 with Barlow Twins)",
        _is("cas", "vibcreg-warp", "vibcreg-slice", "vibcreg-gauss"),
    ),
    Claim(
        "shape",
        "Probe gains are largest where classes differ in shape (TwoPatterns, UWave, ShapesAll, "
        "FordA/B: +15 to +40 points)",
        lambda c: False,
        "a claim about why gains differ across 13 datasets, not testable on ours; the stage-1 probe "
        "curves below test its largest cases (ShapesAll, FordA)",
    ),
)


@dataclass
class Ranking:
    """Configurations ordered by their mean standardised change over the datasets.

    ``first_share`` says how often each configuration ranks first when the seeds are resampled
    with replacement (jointly for every change, since one seed's runs share their batches);
    empty when the changes rest on fewer than :data:`MIN_TEST_SEEDS` common seeds."""

    metric: str
    order: list[tuple[str, float, int]] = field(default_factory=list)  # (config, score, n datasets)
    first_share: dict[str, float] = field(default_factory=dict)
    n_seeds: int = 0
    resamples: int = 0


def _scores(chosen: list[Change], means: np.ndarray) -> dict[str, np.ndarray]:
    """Each configuration's standardised score for ``means`` of shape (len(chosen), B): every
    change divided by the standard deviation, over configurations, of the changes of its
    (dataset, metric), then averaged per configuration; shape (B,) per configuration."""
    cells: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, c in enumerate(chosen):
        cells[c.dataset, c.metric].append(i)
    parts: dict[str, list[np.ndarray]] = defaultdict(list)
    for rows in cells.values():
        if len(rows) < 2:
            continue
        scale = means[rows].std(axis=0, ddof=1)
        for i in rows:
            with np.errstate(divide="ignore", invalid="ignore"):
                parts[chosen[i].config].append(np.where(scale > 0, means[i] / scale, np.nan))
    return {k: np.nanmean(np.stack(v), axis=0) for k, v in parts.items()}


def rank_configs(
    found: list[Change], metrics: tuple[str, ...], resamples: int = 2000, seed: int = 0
) -> Ranking:
    """Rank configurations by the mean, over datasets and ``metrics``, of the change divided by
    the baseline-free scale of that (dataset, metric): the standard deviation of the changes of
    all configurations there (so metrics in different units average fairly). Only datasets that
    ran all six NC-VQVAE configurations count, where any did (a dataset with a few of them
    would rank those on one more dataset than the rest). Where every change counted has the
    same :data:`MIN_TEST_SEEDS` or more seeds, also the share of ``resamples`` seed bootstraps
    in which each configuration ranks first."""
    chosen = [c for c in found if c.metric in metrics]
    ran: dict[str, set] = defaultdict(set)
    for c in chosen:
        ran[c.dataset].add(c.config)
    complete = {d for d, configs in ran.items() if configs >= set(NC_CONFIGS)}
    chosen = [c for c in chosen if c.dataset in complete] if complete else chosen
    if not chosen:
        return Ranking("+".join(metrics))
    point = _scores(chosen, np.array([[c.mean] for c in chosen]))
    datasets: dict[str, set] = defaultdict(set)
    for c in chosen:
        datasets[c.config].add(c.dataset)
    order = sorted(
        ((k, float(v[0]), len(datasets[k])) for k, v in point.items() if np.isfinite(v[0])),
        key=lambda item: -item[1],
    )
    ranking = Ranking("+".join(metrics), order)
    seeds = sorted(set.intersection(*(set(c.differences) for c in chosen)))
    if len(seeds) < MIN_TEST_SEEDS or not order:
        return ranking
    table = np.array([[c.differences[s] for s in seeds] for c in chosen])  # (changes, seeds)
    drawn = np.random.default_rng(seed).integers(0, len(seeds), size=(resamples, len(seeds)))
    scores = _scores(chosen, table[:, drawn].mean(axis=-1))  # config -> (resamples,)
    names = list(scores)
    stacked = np.nan_to_num(np.stack([scores[k] for k in names]), nan=-np.inf)
    firsts = np.bincount(stacked.argmax(axis=0), minlength=len(names)) / resamples
    ranking.first_share = dict(zip(names, firsts.tolist()))
    ranking.n_seeds, ranking.resamples = len(seeds), resamples
    return ranking


def ranking_verdict(ranking: Ranking, expected: str) -> tuple[str, str]:
    """``(verdict, evidence)`` for "``expected`` is the best configuration" on ``ranking``:
    testable only once all six NC-VQVAE configurations ran on a common dataset. Without
    resamples (fewer than :data:`MIN_TEST_SEEDS` common seeds), "fewer than 3 seeds";
    otherwise "reproduced" where ``expected`` ranks first in 95 % of the seed resamples or more,
    "not reproduced" where it ranks first in under 5 %, and between those "same direction, not
    significant" (it ranks first on the mean) or "mixed" (it does not)."""
    if len(ranking.order) < len(NC_CONFIGS):
        have = ", ".join(short_name(k) for k, *_ in ranking.order) or "none"
        return "not testable here", f"needs all six configurations (have: {have})"
    place = [k for k, *_ in ranking.order].index(expected) + 1
    first, score, n = ranking.order[0]
    evidence = (
        f"{short_name(expected)} ranks {place} of {len(ranking.order)}; first: {short_name(first)} "
        f"({score:+.2f} sd of the configurations' changes, over {n} datasets)"
    )
    if not ranking.first_share:
        return "fewer than 3 seeds", evidence + "; a ranking without three common seeds"
    share = ranking.first_share.get(expected, 0.0)
    evidence += f"; first in {share:.0%} of {ranking.resamples} resamples of the {ranking.n_seeds} seeds"
    if place == 1:
        return ("reproduced" if share >= 0.95 else "same direction, not significant"), evidence
    return ("not reproduced" if share < 0.05 else "mixed"), evidence


def _excludes_zero(low: float, high: float) -> bool:
    return bool(np.isfinite(low) and np.isfinite(high) and (low > 0 or high < 0))


def disagreements(found: list[Change]) -> list[Change]:
    """The changes whose direction differs from the thesis's where at least one of the two is
    clear: its 95 % interval (ours: paired t over seeds, unadjusted, from
    :data:`MIN_TEST_SEEDS` seeds on; the thesis's: Welch) excludes zero. These are the places a
    reproduction has to explain."""
    chosen = []
    for c in found:
        if c.thesis is None or np.sign(c.mean) == np.sign(c.thesis.mean):
            continue
        ours = c.tested and _excludes_zero(c.paired.ci_low, c.paired.ci_high)
        if ours or _excludes_zero(c.thesis.ci_low, c.thesis.ci_high):
            chosen.append(c)
    return chosen
