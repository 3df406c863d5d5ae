"""Aggregate results files into the thesis's table layout, next to the thesis's numbers.

A results file (written by :mod:`ssl_book.experiments.pipeline`) is JSON with ``config`` (a
:class:`~ssl_book.experiments.config.RunConfig` as a dict), ``metrics``, ``timing`` and
``provenance``. Rows are grouped by dataset, configuration name and *protocol* (the full
thesis protocol or a reduced one, spelled out) and *hardware*, then averaged over seeds.
"""

from __future__ import annotations

import csv
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

#: metric -> (label, results-file key, scale to the thesis's unit, higher is better)
METRICS = {
    "fid": ("FID", "fid", 1.0, False),
    "is": ("IS", "is_mean", 1.0, True),
    "svm": ("SVM %", "svm", 100.0, True),
    "knn": ("kNN %", "knn", 100.0, True),
    "cas": ("CAS %", "cas", 100.0, True),
}


def thesis_results() -> dict[tuple[str, str, str], tuple[float, float | None]]:
    """``(dataset, metric, config) -> (mean, std)`` from the thesis's run logs (4 seeds)."""
    text = resources.files("ssl_book.experiments").joinpath("thesis_results.csv").read_text()
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {
        (r["dataset"], r["metric"], r["config"]): (float(r["mean"]), float(r["std"]) if r["std"] else None)
        for r in rows
    }


def load_results(folder: str | Path) -> list[dict[str, Any]]:
    """Every ``*.json`` results file under ``folder`` (recursively), sorted by path."""
    files = sorted(Path(folder).rglob("*.json"))
    results = []
    for path in files:
        data = json.loads(path.read_text())
        if {"config", "metrics", "provenance"} <= data.keys():
            data["path"] = str(path)
            results.append(data)
    return results


def protocol_label(config: dict[str, Any]) -> str:
    """``full protocol`` when both stages, the 4096-wide projector, the evaluator and CAS ran the
    thesis's settings (``full protocol, CAS 200 epochs`` when only CAS was shortened), else
    what ran."""
    s1, s2, ev = config["stage1"], config["stage2"], config["evaluation"]
    cap = ev.get("max_fcn_steps")
    if (
        s1["steps"] is None
        and s2["steps"] is None
        and s1["epochs"] == 1000
        and s2["epochs"] == 1000
        and s1["projector_dim"] == 4096
        and ev["evaluator_epochs"] == 1000
        and cap is None
    ):
        return (
            "full protocol" if ev["cas_epochs"] == 1000 else f"full protocol, CAS {ev['cas_epochs']} epochs"
        )
    part = lambda s: f"{s['steps']} steps" if s["steps"] is not None else f"{s['epochs']} epochs"  # noqa: E731
    label = f"reduced: stage 1 {part(s1)}, stage 2 {part(s2)}, evaluator {ev['evaluator_epochs']} epochs"
    return label if cap is None else f"{label}, FCN steps ≤ {cap}"


def protocol_family(label: str) -> str:
    """The protocol a :func:`protocol_label` counts under when configurations are compared:
    ``full protocol`` also for a full-protocol run whose CAS alone was shortened (within one
    dataset every configuration shares that CAS, so its changes compare like with like; the
    tables mark them), else the label itself."""
    return "full protocol" if label.startswith("full protocol, CAS ") else label


def configuration_label(config: dict[str, Any]) -> str:
    """The thesis's configuration name (``baseline``, ``vibcreg-gauss``), plus the stage-2
    ablations when they differ from the thesis's choice: ``[prior: codebook]`` (the prior's token
    embedding) and ``[thesis mask]`` (the baseline's inverted mask ratio)."""
    s1, s2 = config["stage1"], config["stage2"]
    name = s1["method"] if s1["method"] == "baseline" else f"{s1['method']}-{s1['augment']}"
    thesis_prior = "learned" if s1["method"] == "baseline" else "codebook"
    prior = thesis_prior if s2.get("prior", "auto") == "auto" else s2["prior"]
    if prior != thesis_prior:
        name += f" [prior: {prior}]"
    if s2.get("invert_baseline_mask") and prior == "learned":  # where the model applies it
        name += " [thesis mask]"
    return name


@dataclass
class Row:
    dataset: str
    config: str
    protocol: str
    hardware: str
    seeds: list[int]
    values: dict[str, list[float]]


def aggregate(results: list[dict[str, Any]]) -> list[Row]:
    groups: dict[tuple, Row] = {}
    for r in results:
        cfg = r["config"]
        key = (cfg["dataset"], configuration_label(cfg), protocol_label(cfg), r["provenance"]["device"])
        row = groups.setdefault(key, Row(*key, seeds=[], values=defaultdict(list)))
        row.seeds.append(cfg["seed"])
        for metric, (_, field, scale, _) in METRICS.items():
            if r["metrics"].get(field) is not None:
                row.values[metric].append(scale * r["metrics"][field])
    return sorted(groups.values(), key=lambda g: (g.dataset, g.config != "baseline", g.config, g.protocol))


def mean_sd_text(values: list[float], digits: int = 2) -> str:
    """``"mean ± sd"`` of ``values`` (sample sd, ``ddof=1``) with ``digits`` decimals; the value
    alone for one value, ``"–"`` for none."""
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def markdown_table(rows: list[Row]) -> str:
    """One line per (dataset, configuration, protocol, hardware): ours, then the thesis's."""
    thesis = thesis_results()
    header = ["dataset", "configuration", "source", *[label for label, *_ in METRICS.values()]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        digits = {m: (2 if m in ("fid", "is") else 1) for m in METRICS}
        ours = [mean_sd_text(row.values.get(m, []), digits[m]) for m in METRICS]
        source = f"ssl-book, {row.protocol}, {row.hardware}, seeds {','.join(map(str, sorted(row.seeds)))}"
        lines.append("| " + " | ".join([row.dataset, row.config, source, *ours]) + " |")
        published = []
        for m in METRICS:
            value = thesis.get((row.dataset, m, row.config))
            if value is None:
                published.append("–")
            else:
                spread = "" if value[1] is None else f" ± {value[1]:.{digits[m]}f}"
                published.append(f"{value[0]:.{digits[m]}f}{spread}")
        if any(p != "–" for p in published):
            cells = [row.dataset, row.config, "thesis (4 seeds, full protocol)", *published]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
