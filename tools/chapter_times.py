"""Measured times for the teacher's guide (book/teachers_guide.md), printed as Markdown tables.

    python tools/chapter_times.py                 # chapters, from `make book`'s execution cache
    python tools/chapter_times.py --quick         # chapters, from `make test`'s quick-mode build
    python tools/chapter_times.py --cache DIR     # chapters, from any .jupyter_cache folder
    python tools/chapter_times.py --runs results/runs   # NC-VQVAE pipeline runs only
    python tools/chapter_times.py --record results/benchmarks/chapter_times-cpu.json --label after
    python tools/chapter_times.py --compare results/benchmarks/chapter_times-cpu.json

Chapters: Jupyter Book (MyST-NB in ``execute_notebooks: cache`` mode) stores every notebook it
executes in a jupyter-cache database, ``<cache>/global.db``, with the wall time of that
execution (``execution_seconds``, kernel start included) and the time it was stored. This
script reads the newest entry per chapter, in table-of-contents order. The cache records no
hardware and no load: say where and how the build ran when you quote a number.

Pipeline runs: every ``results.json`` under ``--runs`` holds the wall time of stage 1, stage 2
and the evaluation, with the device and thread count in its provenance; runs of one dataset,
configuration, protocol and device are summarised as mean (min-max) over their seeds.

Recorded builds: ``--record FILE --label NAME`` stores the chapter times of a cache in a JSON
file under that label, with what the cache itself does not know: the commit of the tree the
cache belongs to, the hardware and thread count of this machine (run it where the build ran),
the command and the date. ``--compare FILE`` prints one column per label, e.g. the times
before and after a change, for the teacher's guide or an issue's closing note.

Nothing is estimated: a chapter that is not in the cache is listed as not measured.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from build_book import toc_files  # noqa: E402

sys.path.insert(0, str(ROOT))
from ssl_book.experiments.report import configuration_label  # noqa: E402
from ssl_book.experiments.results_tables import timing_is_complete  # noqa: E402

NORMAL_CACHE = ROOT / "_build" / ".jupyter_cache"
QUICK_CACHE = ROOT / "_build" / "quick" / "_build" / ".jupyter_cache"


def chapters() -> list[str]:
    """The notebook pages of the table of contents, in order (``book/01_.../name``)."""
    return [entry for entry in toc_files() if (ROOT / f"{entry}.ipynb").is_file()]


def title(entry: str) -> str:
    """The first level-1 heading of a chapter."""
    cells = json.loads((ROOT / f"{entry}.ipynb").read_text())["cells"]
    for cell in cells:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return entry


def page_of(uri: str) -> str | None:
    """``book/NN_x/name`` from a cached notebook's path (the build may have run elsewhere)."""
    parts = Path(uri).with_suffix("").parts
    return "/".join(parts[parts.index("book") :]) if "book" in parts else None


def cached_times(cache: Path) -> dict[str, tuple[float, str]]:
    """Newest ``(execution_seconds, stored at)`` per page in a jupyter-cache folder."""
    database = cache / "global.db"
    if not database.is_file():
        raise SystemExit(f"no execution cache at {database}: build the book first (make book)")
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT uri, data, created FROM nbcache ORDER BY created").fetchall()
    times = {}
    for uri, data, created in rows:  # oldest first: a newer entry replaces an older one
        seconds = json.loads(data or "{}").get("execution_seconds")
        page = page_of(uri)
        if page is not None and seconds is not None:
            times[page] = (float(seconds), str(created)[:16])
    return times


def chapter_table(cache: Path) -> str:
    times = cached_times(cache)
    lines = ["| chapter | seconds | executed (UTC) |", "|---|---|---|"]
    total, missing = 0.0, []
    for number, entry in enumerate(chapters(), start=1):
        if entry in times:
            seconds, when = times[entry]
            total += seconds
            lines.append(f"| {number}. {title(entry)} | {seconds:.0f} | {when} |")
        else:
            missing.append(number)
            lines.append(f"| {number}. {title(entry)} | not measured | |")
    lines.append(
        f"\nSum over the {len(chapters()) - len(missing)} measured chapters: {total:.0f} s "
        f"({total / 60:.1f} min). Source: {shown(cache / 'global.db')}."
    )
    if missing:
        lines.append(f"Not in the cache: chapters {', '.join(map(str, missing))}.")
    return "\n".join(lines)


def shown(path: Path) -> str:
    """A path relative to the repository when it lies inside it."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def spread(values: list[float]) -> str:
    mean = sum(values) / len(values)
    return f"{mean:.0f}" if len(values) == 1 else f"{mean:.0f} ({min(values):.0f}-{max(values):.0f})"


def run_table(runs: Path) -> str:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    incomplete = 0
    for path in sorted(runs.rglob("results.json")):
        result = json.loads(path.read_text())
        if not timing_is_complete(result["timing"]):
            incomplete += 1
            continue
        c, p = result["config"], result["provenance"]
        name = configuration_label(c)
        full = c["stage1"]["steps"] is None and c["stage1"]["epochs"] == 1000
        protocol = "full" if full else f"{c['stage1']['steps']}+{c['stage2']['steps']} steps"
        groups[(c["dataset"], name, protocol, p["device"])].append(result)
    if not groups:
        return f"No results files under {runs}."
    lines = [
        "| dataset | configuration | protocol | device | runs | stage 1 s | stage 2 s | evaluation s | total s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    dates = []
    for (dataset, name, protocol, device), results in sorted(groups.items()):
        timing = [r["timing"] for r in results]
        dates += [r["provenance"]["date"][:10] for r in results]
        lines.append(
            f"| {dataset} | {name} | {protocol} | {device} | {len(results)} | "
            f"{spread([t['stage1']['seconds'] for t in timing])} | "
            f"{spread([t['stage2']['seconds'] for t in timing])} | "
            f"{spread([t['evaluation_seconds'] for t in timing])} | "
            f"{spread([t['total_seconds'] for t in timing])} |"
        )
    lines.append(
        f"\nMean (min-max) over seeds; runs dated {min(dates)} to {max(dates)}. Source: {shown(runs)}."
        + (
            f" Left out: {incomplete} runs resumed from checkpoints that did not record their time."
            if incomplete
            else ""
        )
    )
    return "\n".join(lines)


def tree_commit(folder: Path) -> str:
    """The commit checked out in the git tree that holds ``folder``, ``-dirty`` when its tracked
    files have uncommitted changes."""

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True).stdout

    commit = git("rev-parse", "HEAD").strip() or "unknown"
    return f"{commit}-dirty" if git("status", "--porcelain", "--untracked-files=no").strip() else commit


def cpu_name() -> str:
    """The CPU model and the number of cores this process may use (no host name)."""
    import torch

    from ssl_book.experiments.provenance import device_name

    model = device_name(torch.device("cpu")).rsplit(" (", 1)[0]
    return f"{model} ({len(os.sched_getaffinity(0))} cores)"


def record(cache: Path, out: Path, label: str, command: list[str], note: str = "") -> dict:
    """Add (or replace) ``label`` in the JSON file ``out``: chapter seconds and provenance."""
    from ssl_book.experiments.provenance import typed_command, write_json_atomic

    times = cached_times(cache)
    data = json.loads(out.read_text()) if out.is_file() else {"labels": {}}
    data["labels"][label] = {
        "chapters": {entry: round(times[entry][0], 1) for entry in chapters() if entry in times},
        "executed": sorted({times[entry][1] for entry in chapters() if entry in times}),
        "code_version": tree_commit(cache),
        "hardware": cpu_name(),
        "command": "python " + " ".join(typed_command(command)),
        "note": note,
        "recorded": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    write_json_atomic(out, data)
    return data


def compare_table(path: Path) -> str:
    """One row per chapter, one column of seconds per recorded label."""
    labels = json.loads(path.read_text())["labels"]
    names = list(labels)
    lines = ["| chapter | " + " | ".join(f"{n} (s)" for n in names) + " |", "|---|" + "---|" * len(names)]
    totals = dict.fromkeys(names, 0.0)
    for number, entry in enumerate(chapters(), start=1):
        cells = []
        for name in names:
            seconds = labels[name]["chapters"].get(entry)
            totals[name] += seconds or 0.0
            cells.append("not measured" if seconds is None else f"{seconds:.0f}")
        lines.append(f"| {number}. {title(entry)} | " + " | ".join(cells) + " |")
    lines.append("| **sum** | " + " | ".join(f"**{totals[n]:.0f}**" for n in names) + " |")
    for name in names:
        info = labels[name]
        lines.append(
            f"\n{name}: code {info['code_version'][:12]}, {info['hardware']}, executed "
            f"{info['executed'][0]} to {info['executed'][-1]} UTC, recorded with `{info['command']}`."
            + (f" {info['note']}" if info.get("note") else "")
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--quick", action="store_true", help="the quick-mode build of `make test`")
    source.add_argument("--cache", type=Path, help="a .jupyter_cache folder")
    parser.add_argument("--runs", type=Path, help="only the pipeline runs under this folder")
    parser.add_argument("--record", type=Path, help="store the cache's chapter times in this JSON file")
    parser.add_argument("--label", help="the name of the recorded build (with --record)")
    parser.add_argument("--note", default="", help="conditions of the build (with --record)")
    parser.add_argument("--compare", type=Path, help="print the builds recorded in this JSON file")
    args = parser.parse_args()
    if args.compare is not None:
        print(compare_table(args.compare))
        return 0
    if args.record is not None:
        if not args.label:
            parser.error("--record needs --label (e.g. --label after)")
        cache = args.cache or (QUICK_CACHE if args.quick else NORMAL_CACHE)
        record(cache, args.record, args.label, sys.argv, args.note)
        print(compare_table(args.record))
        return 0
    if args.runs is not None:
        print(run_table(args.runs))
        return 0
    cache = args.cache or (QUICK_CACHE if args.quick else NORMAL_CACHE)
    print(chapter_table(cache))
    print()
    print(run_table(ROOT / "results" / "runs"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
