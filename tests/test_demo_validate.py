"""The demo workspace: validate reports every injected defect at its cell and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesbook.core.findings import CODES, MASTER_CODES
from salesbook.demo_data import generate_demo
from salesbook.pipeline import consolidate, validate


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return generate_demo(tmp_path_factory.mktemp("demo"))


def test_findings_equal_injected_defects_both_ways(demo) -> None:
    """Every defect of the generator's list is found at its file, sheet, row, column and code — and no other."""
    run = validate([demo.team_dir], master=demo.master_path, period=demo.period)
    expected = {(d["file"], d["sheet"], d["row"], d["column"], d["code"]) for d in demo.defects}
    found = {(f.file, f.sheet, f.row, f.column, f.code) for f in run.findings}
    assert sorted(expected - found) == []
    assert sorted(found - expected) == []


def test_demo_covers_every_code(demo) -> None:
    """The demo's defects cover every finding code but those about the master workbook and scoring."""
    assert {d["code"] for d in demo.defects} == set(CODES) - MASTER_CODES


def test_demo_consolidates_with_scorecards_for_every_active_rep(demo) -> None:
    """Consolidating the demo gives a scorecard per rep, and the scoring note (a blank target) shows."""
    c = consolidate(demo.team_dir, master=demo.master_path, period=demo.period)
    reps = set(c.scorecards["rep_id"])
    assert {r["rep_id"] for r in demo.reps} == reps  # the rep who left has rows in the period
    notes = {(n["rep_id"], n.get("kpi")) for n in demo.scoring_notes}
    found = {(f.rep_id, f.message.split("no ")[-1].split(" target")[0]) for f in c.run.findings
             if f.code == "missing-target"}
    assert notes <= found
    assert c.scorecards["rating"].nunique() >= 3


def test_demo_skips_lock_and_hidden_files(demo) -> None:
    """Lock files and hidden files are not read; a lock file is listed as skipped, naming who has what open."""
    run = validate([demo.team_dir], master=demo.master_path, period=demo.period)
    read = {f.label for f in run.files if f.status != "skipped"}
    assert not any(n.startswith(("~$", ".")) for n in read)
    [lock] = [f for f in run.files if f.status == "skipped"]
    assert (lock.label, lock.rows, lock.sha256) == ("~$team_east.xlsx", 0, "")
    assert "someone has team_east.xlsx open" in lock.reason
    assert Path(demo.team_dir, "~$team_east.xlsx").exists()
