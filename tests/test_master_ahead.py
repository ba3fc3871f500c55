"""The master is read in the same workers as the team files, which start with the default settings:
what they give must be exactly what reading the master first gives, whatever the master's settings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import ACTIVITY_HEADER, CUSTOMER_HEADER, write_master, write_workbook

import salesbook.pipeline as pipeline
from salesbook.pipeline import MasterError, NothingToRead, consolidate, validate

ROSTER = [["S001", "王芳", "E1001", "华东一组", "华东", "李强", "在职"]]
TARGETS = [["S001", "2026-11", 100000, 10, 80000, 2, 20]]


def _team(folder: Path) -> Path:
    """One team file with an activity dated 2024-05-01 and a customer created 2026-11-02."""
    write_workbook(folder / "team_a.xlsx", {
        "客户": [CUSTOMER_HEADER, ["C001", "甲公司", "中型", 50, "高", 10, "张三", "13800138000", "a@b.cn", "S001",
                                  date(2026, 11, 2), date(2026, 11, 2), "B"]],
        "活动": [ACTIVITY_HEADER, [date(2024, 5, 1), "S001", "C001", "拜访", "介绍新产品的方案", None, 30],
                 [date(2026, 11, 3), "S001", "C001", "电话", "确认报价与交付时间", None, 10]],
    })
    return folder


def _plain(paths, master, **kw):
    """The run as it was made before reading ahead: the master first, then the team files."""
    return validate(paths, master=pipeline.read_master(master), **kw)


def _seen(run) -> list[tuple]:
    return sorted((f.file, f.sheet, f.row, f.code, f.value) for f in run.findings)


def _jobs_counted(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = pipeline.run_jobs

    def counting(jobs, **kw):
        jobs = list(jobs)
        calls.append(len(jobs))
        return real(jobs, **kw)

    monkeypatch.setattr(pipeline, "run_jobs", counting)
    return calls


def test_a_master_with_the_default_settings_is_read_with_the_team_files(tmp_path, monkeypatch):
    team = _team(tmp_path / "team")
    master = write_master(tmp_path / "m.xlsx", ROSTER, TARGETS)
    expected = _plain([team], master, period="2026-11")
    calls = _jobs_counted(monkeypatch)
    run = validate([team], master=master, period="2026-11")
    assert calls == [2]  # one pool: the master and the one team file
    assert _seen(run) == _seen(expected)
    assert [f.sha256 for f in run.files] == [f.sha256 for f in expected.files]
    assert run.master.path == str(master)


@pytest.mark.parametrize("settings", [
    [["min_date", "2025-01-01"]],  # the 2024 activity is now out of range
    [["max_future_days", "0"], ["reader.workers", "1"]],
    [["reader.max_file_mb", "1"]],
])
def test_a_master_whose_settings_read_otherwise_has_the_files_read_again(tmp_path, monkeypatch, settings):
    team = _team(tmp_path / "team")
    master = write_master(tmp_path / "m.xlsx", ROSTER, TARGETS, settings=settings)
    expected = _plain([team], master, period="2026-11", as_of=date(2026, 11, 1))
    calls = _jobs_counted(monkeypatch)
    run = validate([team], master=master, period="2026-11", as_of=date(2026, 11, 1))
    assert calls == [2, 1]  # stopped once the master was read, then read with its settings
    assert _seen(run) == _seen(expected)
    if settings[0][0] == "min_date":
        assert any(f.code == "out-of-range" and f.sheet == "活动" for f in run.findings)


def test_a_master_that_cannot_be_used_is_said_first_and_stops_the_team_reading(tmp_path):
    team = _team(tmp_path / "team")
    bad = write_workbook(tmp_path / "bad.xlsx", {"设置": [["键", "值", "说明"]]})  # no roster
    with pytest.raises(MasterError, match="Roster"):
        consolidate(team, master=bad, period="2026-11")
    unknown = write_master(tmp_path / "u.xlsx", ROSTER, TARGETS, settings=[["no_such_setting", "1"]])
    with pytest.raises(pipeline.SettingsError, match="no_such_setting"):
        validate([team], master=unknown)


def test_the_master_error_comes_before_a_missing_team_folder(tmp_path):
    bad = write_workbook(tmp_path / "bad.xlsx", {"设置": [["键", "值", "说明"]]})
    with pytest.raises(MasterError):
        consolidate(tmp_path / "nowhere", master=bad, period="2026-11")
    good = write_master(tmp_path / "m.xlsx", ROSTER, TARGETS)
    with pytest.raises(NothingToRead):
        validate([tmp_path / "nowhere"], master=good)


def test_consolidate_reads_ahead_and_scores_as_before(tmp_path, monkeypatch):
    team = _team(tmp_path / "team")
    master = write_master(tmp_path / "m.xlsx", ROSTER, TARGETS)
    expected = consolidate(team, master=pipeline.read_master(master), period="2026-11")
    calls = _jobs_counted(monkeypatch)
    c = consolidate(team, master=master, period="2026-11")
    assert calls == [2]
    assert c.scorecards.equals(expected.scorecards)
    assert _seen(c.run) == _seen(expected.run)


def test_the_biggest_team_file_is_read_first_and_the_run_keeps_label_order(tmp_path, monkeypatch):
    """The workers get the largest file first (a big one read last leaves the other workers idle); the
    master still goes before every team file, and the run's files are in label order all the same."""
    team = tmp_path / "team"
    rows = [[date(2026, 11, 3), "S001", "C001", "拜访", f"第{i}次拜访，介绍新产品的方案", None, 30] for i in range(400)]
    write_workbook(team / "a_small.xlsx", {"活动": [ACTIVITY_HEADER, rows[0]]})
    write_workbook(team / "b_big.xlsx", {"活动": [ACTIVITY_HEADER, *rows]})
    write_workbook(team / "c_middle.xlsx", {"活动": [ACTIVITY_HEADER, *rows[:60]]})
    master = write_master(tmp_path / "m.xlsx", ROSTER, TARGETS)
    given: list[list[str]] = []
    real = pipeline.run_jobs

    def recording(jobs, **kw):
        jobs = list(jobs)
        given.append([j.key for j in jobs])
        return real(jobs, **kw)

    monkeypatch.setattr(pipeline, "run_jobs", recording)
    ahead = validate([team], master=master, period="2026-11")
    plain = validate([team], period="2026-11")
    assert given[0] == [pipeline._MASTER_JOB, "b_big.xlsx", "c_middle.xlsx", "a_small.xlsx"]
    assert given[1] == ["b_big.xlsx", "c_middle.xlsx", "a_small.xlsx"]
    for run in (ahead, plain):
        assert [f.label for f in run.files] == ["a_small.xlsx", "b_big.xlsx", "c_middle.xlsx"]
