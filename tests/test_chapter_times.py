"""tools/chapter_times.py: chapter times read from a jupyter-cache database, recorded and compared."""

import json
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import chapter_times  # noqa: E402


def fake_cache(folder: Path, seconds: dict[str, list[float]]) -> Path:
    """A jupyter-cache folder whose nbcache table holds the given executions (oldest first)."""
    folder.mkdir(parents=True)
    with sqlite3.connect(folder / "global.db") as connection:
        connection.execute("CREATE TABLE nbcache (uri TEXT, data TEXT, created TEXT)")
        for minute, (page, values) in enumerate(seconds.items()):
            for repeat, value in enumerate(values):
                connection.execute(
                    "INSERT INTO nbcache VALUES (?, ?, ?)",
                    (
                        f"/elsewhere/{page}.ipynb",
                        json.dumps({"execution_seconds": value}),
                        f"2026-12-0{repeat + 1} 10:{minute:02d}",
                    ),
                )
    return folder


def test_newest_execution_wins_and_missing_chapters_are_named(tmp_path):
    first, second = chapter_times.chapters()[:2]
    cache = fake_cache(tmp_path / "cache", {first: [50.0, 12.6]})
    assert chapter_times.cached_times(cache)[first][0] == 12.6
    table = chapter_times.chapter_table(cache)
    assert "| 13 |" in table and "not measured" in table and second not in chapter_times.cached_times(cache)


def test_record_keeps_each_label_and_compare_shows_them_side_by_side(tmp_path):
    first, second = chapter_times.chapters()[:2]
    out = tmp_path / "times.json"
    chapter_times.record(fake_cache(tmp_path / "a", {first: [90.0], second: [30.0]}), out, "before", ["x.py"])
    chapter_times.record(fake_cache(tmp_path / "b", {first: [40.0]}), out, "after", ["x.py"], note="quiet")
    labels = json.loads(out.read_text())["labels"]
    assert labels["before"]["chapters"] == {first: 90.0, second: 30.0}
    assert labels["after"]["chapters"] == {first: 40.0}
    assert "cores)" in labels["after"]["hardware"] and labels["after"]["note"] == "quiet"
    table = chapter_times.compare_table(out)
    row = next(line for line in table.splitlines() if line.startswith("| 1. "))
    assert row.endswith("| 90 | 40 |")
    assert "| **120** | **40** |" in table and "not measured" in table


def test_the_teachers_guide_shows_the_builds_its_footnote_names():
    guide = (chapter_times.ROOT / "book" / "teachers_guide.md").read_text()
    footnote = guide[guide.index("\n[^chapter-time]:") :]
    labels = footnote.split('"')[1], footnote.split('"')[3]  # the two builds it names
    recorded = json.loads((chapter_times.ROOT / "results/benchmarks/chapter_times-cpu.json").read_text())
    table = guide[guide.index("| chapter | 1st build (s) | 2nd build (s) |") :].split("\n\n")[0]
    rows = [line.split("|")[1:4] for line in table.splitlines()[2:]]
    *chapter_rows, (name, *whole) = rows
    assert name.strip() == "whole book" and len(chapter_rows) == len(chapter_times.chapters())
    for column, label in enumerate(labels):
        seconds = [recorded["labels"][label]["chapters"][c] for c in chapter_times.chapters()]
        assert [int(row[column + 1]) for row in chapter_rows] == [round(s) for s in seconds], label
        assert int(whole[column]) == round(sum(seconds)), label


def test_the_teachers_guide_pipeline_rows_are_rows_of_the_run_table():
    guide = (chapter_times.ROOT / "book" / "teachers_guide.md").read_text()
    table = guide[guide.index("| dataset | configuration | stage 1 | stage 2 |") :].split("\n\n")[0]
    produced = chapter_times.run_table(chapter_times.ROOT / "results" / "runs")
    rows = {tuple(cell.strip() for cell in line.split("|")[1:-1]) for line in produced.splitlines()}
    for line in table.splitlines()[2:]:
        dataset, config, *seconds = (cell.strip() for cell in line.split("|")[1:-1])
        assert any(
            r[:2] == (dataset, config) and list(r[-4:]) == seconds and "Intel" in r[3] for r in rows
        ), line
