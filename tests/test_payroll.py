"""What may reach payroll (SPEC §9): each guard of export-hr and close with its message, the manifest's
data_quality, leavers' status and whole-number counts, and the same guards behind the workbook button."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import write_master
from test_scoring import build_example

from salesbook.cli import main

ROSTER = [["S001", "王芳", "E1001", "一组", "华东", "李强", "在职"],
          ["S002", "陈明", "E1002", "一组", "华东", "李强", "在职"],
          ["S003", "刘洋", "E1003", "二组", "华南", "赵敏", "在职"]]
TARGETS = [[r, "2026-11", 100000, 10, 80000, 2, 4] for r in ("S001", "S002", "S003")]


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def team(tmp_path: Path) -> Path:
    return build_example(tmp_path)[0]


def payroll_commands(team: Path, master: Path, out: Path, period: str = "2026-11") -> dict[str, list]:
    common = [team, "--master", master, "--period", period, "--out", out, "--ledger",
              f"sqlite:///{master.parent / 'ledger.db'}"]
    return {"export-hr": ["export-hr", *common], "close": ["close", *common, "--accept-errors"]}


def assert_refused(result, out: Path, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for n in needles:
        assert n in result.output, (n, result.output)
    assert not out.exists(), "a refused export wrote files"


@pytest.mark.parametrize("command", ["export-hr", "close"])
def test_a_week_is_refused(team: Path, tmp_path: Path, command: str) -> None:
    """export-hr and close of a week exit 2, write nothing and point to the weekly report."""
    master = write_master(tmp_path / "m.xlsx", ROSTER, TARGETS)
    out = tmp_path / "out"
    cmd = payroll_commands(team, master, out, "2026-W48")[command]
    assert_refused(invoke(*cmd), out, "2026-W48 is a week", "--weekly 2026-W48")
    assert not (tmp_path / "ledger.db").exists()


def test_consolidate_of_a_week_produces_no_scorecards(team: Path, tmp_path: Path) -> None:
    """consolidate --period 2026-W48 exits 2, writes no scorecards and says to use report --weekly."""
    master = write_master(tmp_path / "m.xlsx", ROSTER, TARGETS)
    out = tmp_path / "out"
    r = invoke("consolidate", team, "--master", master, "--period", "2026-W48", "--out", out)
    assert_refused(r, out, "salesbook report", "--weekly 2026-W48")


@pytest.mark.parametrize("command", ["export-hr", "close"])
def test_a_period_without_any_target_is_refused(team: Path, tmp_path: Path, command: str) -> None:
    """A mistyped period (2025-11 for 2026-11), where no active rep has a target, is refused and the message lists
    the periods that have targets."""
    master = write_master(tmp_path / "m.xlsx", ROSTER, TARGETS)
    out = tmp_path / "out"
    r = invoke(*payroll_commands(team, master, out, "2025-11")[command])
    assert_refused(r, out, "No active rep has a target for 2025-11", "mistyped", "2026-11")
    assert not (tmp_path / "ledger.db").exists(), "a refused export made the ledger"


@pytest.mark.parametrize("command", ["export-hr", "close"])
def test_an_active_rep_without_employee_id_is_refused(team: Path, tmp_path: Path, command: str) -> None:
    """An active rep with a blank 工号 stops the export, naming the roster row and the rep."""
    roster = [ROSTER[0], ROSTER[1], ["S003", "刘洋", None, "二组", "华南", "赵敏", "在职"]]
    master = write_master(tmp_path / "m.xlsx", roster, TARGETS)
    out = tmp_path / "out"
    r = invoke(*payroll_commands(team, master, out)[command])
    assert_refused(r, out, "花名册 row 4 (S003 刘洋) has no 工号 / Employee ID")


def test_a_leaver_without_employee_id_does_not_stop_the_export(team: Path, tmp_path: Path) -> None:
    """A rep who left (离职) with no 工号 and no rows in the period is not paid, so the export goes on."""
    roster = [*ROSTER, ["S009", "离开", None, "二组", "华南", "赵敏", "离职"]]
    master = write_master(tmp_path / "m.xlsx", roster, TARGETS)
    r = invoke(*payroll_commands(team, master, tmp_path / "out")["export-hr"])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("command", ["export-hr", "close"])
def test_a_leaver_without_employee_id_but_with_rows_is_refused(team: Path, tmp_path: Path, command: str) -> None:
    """A leaver (离职) with rows in the period and a blank 工号 stops the export (rather than vanish from it),
    naming the master file, the roster row, the rows and telling HR to fill in the 工号."""
    roster = [*ROSTER, ["S006", "杨帆", None, "三组", "华北", "周杰", "离职"]]  # S006 has an activity in November
    master = write_master(tmp_path / "m.xlsx", roster, TARGETS)
    out = tmp_path / "out"
    r = invoke(*payroll_commands(team, master, out)[command])
    assert_refused(r, out, "m.xlsx 花名册 row 5 (S006 杨帆, 离职 left) has no 工号 / Employee ID",
                   "rows in 2026-11 (a.xlsx 活动 row", "fill in the rep's 工号")
    assert not (tmp_path / "ledger.db").exists(), "a refused export made the ledger"


def test_the_export_button_refuses_a_leaver_without_employee_id(tmp_path: Path) -> None:
    """The workbook's export-hr action refuses the same leaver with the same message and leaves the workbook."""
    from salesbook.cli import init_workspace
    from salesbook.core.settings import default_rows

    team, _ = build_example(tmp_path / "src")
    root = tmp_path / "ws"
    roster = [*ROSTER, ["S006", "杨帆", None, "三组", "华北", "周杰", "离职"]]
    book = init_workspace(root, roster_rows=roster, targets_rows=TARGETS,
                          settings_rows=[(k, "2026-11" if k == "period" else v, n) for k, v, n in default_rows()])
    shutil.rmtree(root / "team")
    shutil.copytree(team, root / "team")
    before = book.read_bytes()
    r = invoke("run", "export-hr", "--book", book)
    assert_refused(r, root / "out" / "hr", "SalesBook.xlsm 花名册 row 5 (S006 杨帆, 离职 left) has no 工号",
                   "fill in the rep's 工号")
    assert book.read_bytes() == before


@pytest.mark.parametrize("command", ["export-hr", "close"])
def test_a_repeated_employee_id_or_rep_is_refused(team: Path, tmp_path: Path, command: str) -> None:
    """Two active reps with one 工号, or one rep id on two roster rows, stop the export naming every row."""
    roster = [ROSTER[0], ["S002", "陈明", "E1001", "一组", "华东", "李强", "在职"], ROSTER[2],
              ["S003", "刘洋二", "E1009", "二组", "华南", "赵敏", "在职"]]
    master = write_master(tmp_path / "m.xlsx", roster, TARGETS)
    out = tmp_path / "out"
    r = invoke(*payroll_commands(team, master, out)[command])
    assert_refused(r, out, "工号 / Employee ID E1001 appears 2 times", "花名册 row 2 (S001 王芳)",
                   "花名册 row 3 (S002 陈明)", "销售代表 / Rep ID S003 appears 2 times", "花名册 row 5 (S003 刘洋二)")


@pytest.mark.parametrize("command", ["export-hr", "close"])
def test_no_accepted_team_file_is_refused(tmp_path: Path, command: str) -> None:
    """When every team file is rejected, the export is refused (exit 2) naming the files and why."""
    master = write_master(tmp_path / "m.xlsx", ROSTER, TARGETS)
    team = tmp_path / "team"
    team.mkdir()
    (team / "broken.xlsx").write_bytes(b"this is not a workbook")
    out = tmp_path / "out"
    r = invoke(*payroll_commands(team, master, out)[command])
    assert_refused(r, out, "No team file was accepted", "broken.xlsx")


def test_manifest_data_quality_status_and_integer_counts(tmp_path: Path) -> None:
    """manifest.json's data_quality names accepted and rejected files, counts errors in all and by code, lists
    reps without targets or activity, the run id and closed; leavers carry their status; counts are integers."""
    team, _ = build_example(tmp_path)
    (team / "broken.xlsx").write_bytes(b"not a workbook")
    roster = [*ROSTER, ["S006", "杨帆", "E1006", "三组", "华北", "周杰", "离职"],
              ["S005", "李娜", "E1005", "三组", "华北", "周杰", "在职"]]
    master = write_master(tmp_path / "m.xlsx", roster, TARGETS)  # S005 has no target
    out = tmp_path / "hr"
    r = invoke(*payroll_commands(team, master, out)["export-hr"])
    assert r.exit_code == 0, r.output
    dq = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["data_quality"]
    assert dq["files_accepted"] == ["a.xlsx", "b.xlsx"] and dq["files_rejected"] == ["broken.xlsx"]
    assert dq["errors"] == sum(dq["errors_by_code"].values()) and dq["errors_by_code"]["contract-unreviewed"] == 2
    assert sum(n for code, n in dq["errors_by_code"].items() if code.startswith("file-")) == 1
    assert dq["reps_without_targets"] == ["S005"]
    assert dq["reps_without_activity"] == ["S005"]
    assert dq["run_id"] == 1 and dq["closed"] is False
    with open(out / "scorecards_2026-11.csv", encoding="utf-8-sig", newline="") as fh:
        got = {r["employee_id"]: r for r in csv.DictReader(fh)}
    assert got["E1006"]["status"] == "Left" and got["E1001"]["status"] == "Active"
    assert got["E1001"]["activities"] == "4" and got["E1001"]["new_customers"] == "1"
    assert got["E1001"]["activities_target"] == "4" and got["E1001"]["new_customers_target"] == "2"
    ws = openpyxl.load_workbook(out / "scorecards_2026-11.xlsx").active
    header = [c.value for c in ws[1]]  # Chinese over English: the English line names the column
    values = {c.value.split("\n")[-1]: v.value for c, v in zip(ws[1], ws[2], strict=True)}
    assert "在职状态\nStatus" in header and isinstance(values["Activities"], int)
    assert isinstance(values["New customers"], int)


def test_the_export_button_applies_the_same_guards(tmp_path: Path) -> None:
    """The workbook's export-hr action with a mistyped period says why, writes nothing and leaves the workbook."""
    from salesbook.cli import init_workspace
    from salesbook.core.settings import default_rows

    team, _ = build_example(tmp_path / "src")
    root = tmp_path / "ws"
    book = init_workspace(root, roster_rows=[r[:7] for r in ROSTER], targets_rows=TARGETS,
                          settings_rows=[(k, "2025-11" if k == "period" else v, n) for k, v, n in default_rows()])
    shutil.rmtree(root / "team")
    shutil.copytree(team, root / "team")
    before = book.read_bytes()
    r = invoke("run", "export-hr", "--book", book)
    assert_refused(r, root / "out" / "hr", "No active rep has a target for 2025-11")
    assert book.read_bytes() == before
    wb = openpyxl.load_workbook(book, keep_vba=True)
    ws = wb["设置"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == "period":
            row[1].value = "2026-W48"
    wb.save(book)
    r = invoke("run", "export-hr", "--book", book)
    assert_refused(r, root / "out" / "hr", "2026-W48 is a week")


@pytest.mark.parametrize(("period", "needle"), [
    ("2026-W48", "2026-W48 is a week"), ("2026-13", "month must be 01–12"), ("2026Q5", "'2026Q5' is not a month"),
    ("2025-11", "No active rep has a target for 2025-11")])
def test_statements_apply_the_period_guards_of_the_hr_export(team: Path, tmp_path: Path, period: str,
                                                             needle: str) -> None:
    """`salesbook statements` for a week, a mistyped period or a period nobody has a target for exits 2 with
    the reason and writes no statement."""
    master = write_master(tmp_path / "m.xlsx", ROSTER, TARGETS)
    out = tmp_path / "st"
    r = invoke("statements", team, "--master", master, "--period", period, "--out", out, "--no-pdf")
    assert_refused(r, out, needle)


def _workspace_with_period(tmp_path: Path, period: str) -> tuple[Path, Path]:
    from salesbook.cli import init_workspace
    from salesbook.core.settings import default_rows

    team, _ = build_example(tmp_path / "src")
    root = tmp_path / "ws"
    book = init_workspace(root, roster_rows=[r[:7] for r in ROSTER], targets_rows=TARGETS,
                          settings_rows=[(k, period if k == "period" else v, n) for k, v, n in default_rows()])
    shutil.rmtree(root / "team")
    shutil.copytree(team, root / "team")
    return root, book


@pytest.mark.parametrize(("period", "needle"), [
    ("2026-W48", "2026-W48 is a week"), ("2026-13", "month must be 01–12"), ("2026Q5", "'2026Q5' is not a month"),
    ("2025-11", "No active rep has a target for 2025-11")])
def test_the_statements_button_applies_the_same_guards(tmp_path: Path, period: str, needle: str) -> None:
    """The workbook's statements action with a week or a mistyped period in 设置 says why (exit 2 headless),
    writes no statement and leaves the workbook as it was."""
    root, book = _workspace_with_period(tmp_path, period)
    before = book.read_bytes()
    r = invoke("run", "statements", "--book", book)
    assert_refused(r, root / "out" / "statements", needle)
    assert book.read_bytes() == before


def test_the_statements_button_writes_statements_for_a_month(tmp_path: Path) -> None:
    """With a month that has targets, the same statements action writes a page per scored rep."""
    root, book = _workspace_with_period(tmp_path, "2026-11")
    r = invoke("run", "statements", "--book", book)
    assert r.exit_code == 0, r.output
    assert list((root / "out" / "statements").glob("statement_2026-11_*.html"))


def test_the_statements_button_with_no_readable_team_file_writes_none(tmp_path: Path) -> None:
    """The statements action over a team folder where no file can be read exits 3 headless (as the CLI does)
    and writes no statement."""
    root, book = _workspace_with_period(tmp_path, "2026-11")
    for f in (root / "team").iterdir():
        f.write_bytes(b"not a workbook")
    r = invoke("run", "statements", "--book", book)
    assert r.exit_code == 3 and "no statements written" in r.output, r.output
    assert not (root / "out" / "statements").exists()
