"""Appraisal statements (考核确认单): one page per rep, the commission's lines, masking, PDF.

The demo workspace runs the real button actions (consolidate, export-hr, statements) through the
file backend; every rep's commission must then agree across commissions.csv, the HR export and the
lines of the rep's statement.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_master, write_workbook

from salesbook.actions import run_action
from salesbook.cli import init_demo_workspace, main
from salesbook.documents.statements import mask_text, statement_contexts, write_statements
from salesbook.io.book import FileBook
from salesbook.pipeline import consolidate

PERIOD = "2026-11"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """The demo workspace after the consolidate, export-hr and statements buttons."""
    root = tmp_path_factory.mktemp("statements") / "ws"
    _, book = init_demo_workspace(root, period=PERIOD)
    for action in ("consolidate", "export-hr", "statements"):
        run_action(action, FileBook(book))
    return root


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


class _Amounts(HTMLParser):
    """The data-amount of every commission line and the data-total of a statement page."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[Decimal] = []
        self.total: Decimal | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-amount" in a:
            self.lines.append(Decimal(a["data-amount"]))
        if "data-total" in a:
            self.total = Decimal(a["data-total"])


def page_amounts(path: Path) -> _Amounts:
    p = _Amounts()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_demo_commission_agrees_in_csv_hr_export_and_statement_lines(workspace) -> None:
    """For every rep: commissions.csv = the HR export's commission = the sum of the statement's lines."""
    out = workspace / "out"
    paid = {r["employee_id"]: Decimal(r["commission"]) for r in read_csv(out / "consolidation" / "commissions.csv")}
    hr = {r["employee_id"]: Decimal(r["commission"]) for r in read_csv(out / "hr" / f"scorecards_{PERIOD}.csv")}
    index = read_csv(out / "statements" / "statements.csv")
    assert len(paid) == 12 and paid == hr
    assert sum(paid.values()) > 0 and sum(1 for v in paid.values() if v > 0) >= 8
    for row in index:
        amounts = page_amounts(out / "statements" / row["html"])
        assert sum(amounts.lines, Decimal(0)) == amounts.total == paid[row["employee_id"]], row["rep_id"]
        assert Decimal(row["commission"]) == paid[row["employee_id"]]
    assert {r["employee_id"] for r in index} == set(paid)


def test_demo_statements_show_progressive_tiers_and_a_whole_plan(workspace) -> None:
    """The demo has both kinds of plan: a progressive rep's page lists several tiers, a whole one lists one."""
    pages = {r["rep_id"]: workspace / "out" / "statements" / r["html"]
             for r in read_csv(workspace / "out" / "statements" / "statements.csv")}
    progressive = pages["S001"].read_text("utf-8")
    assert "回款累进" in progressive and len(page_amounts(pages["S001"]).lines) >= 3
    whole = pages["S005"].read_text("utf-8")
    assert "签约全额" in whole and len(page_amounts(pages["S005"]).lines) == 1
    no_target = pages["S011"].read_text("utf-8")
    assert "无目标" in no_target and page_amounts(pages["S011"]).total == Decimal("0.00")


def test_a_page_holds_only_its_own_reps_data(workspace) -> None:
    """No other rep's id, name or employee id appears on a rep's page; signature lines are there."""
    roster = read_csv(workspace / "out" / "consolidation" / "commissions.csv")
    pages = {r["rep_id"]: workspace / "out" / "statements" / r["html"]
             for r in read_csv(workspace / "out" / "statements" / "statements.csv")}
    assert set(pages) == {r["rep_id"] for r in roster}
    for me in roster:
        text = pages[me["rep_id"]].read_text("utf-8")
        assert me["name"] in text and me["employee_id"] in text
        assert "销售代表签字" in text and "主管签字" in text
        for other in roster:
            if other["rep_id"] == me["rep_id"]:
                continue
            assert other["rep_id"] not in text and other["employee_id"] not in text
            if other["name"] not in me["name"]:
                assert other["name"] not in text, (me["rep_id"], other["name"])


def test_deductions_list_the_violating_rows(workspace) -> None:
    """A rep with a violation sees the file, sheet, cell and points of each violating row."""
    ev = read_csv(workspace / "out" / "consolidation" / "evidence.csv")
    deductions = [e for e in ev if e["kpi"] == "deductions"]
    assert deductions
    first = deductions[0]
    index = {r["rep_id"]: r for r in read_csv(workspace / "out" / "statements" / "statements.csv")}
    text = (workspace / "out" / "statements" / index[first["rep_id"]]["html"]).read_text("utf-8")
    mine = [e for e in deductions if e["rep_id"] == first["rep_id"]]
    for e in mine:
        assert re.search(rf"<td>[A-Z]+{e['row']}</td>", text), e
    assert text.count(first["file"]) >= len({(e["file"], e["row"]) for e in mine})


@pytest.mark.chromium
@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_each_statement_is_one_pdf_page_with_the_reps_name(workspace) -> None:
    """Chromium prints every statement to a one-page A4 PDF that names the rep and masks no less."""
    index = read_csv(workspace / "out" / "statements" / "statements.csv")
    assert all(r["pdf"] for r in index)
    for r in index[:3]:
        pdf = workspace / "out" / "statements" / r["pdf"]
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert re.search(r"Pages:\s+1\b", info) and "A4" in info, info
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert r["name"] in text and "考核确认单" in text


# ------------------------------------------------------------------ small cases


def _small(tmp_path: Path):
    roster = [["S001", "王芳", "E1001", "一组", "华东", "李强", "在职"], ["S002", "陈明", "E1002", "一组", "华东", "李强", "在职"]]
    master = write_master(tmp_path / "master.xlsx", roster, [["S001", PERIOD, 100000, None, None, None, None]])
    exp = ["报销编号", "销售代表", "日期", "类别", "金额", "发票号", "客户编号", "审批状态"]
    rows = [["X1", "S001", date(2026, 11, 3), "其他", 100, "13812345678", None, "已批准"],
            ["X2", "S001", date(2026, 11, 4), "其他", 100, "138 1234 5678", None, "已批准"]]
    write_workbook(tmp_path / "team" / "a.xlsx", {"费用": [exp, *rows]})
    return consolidate(tmp_path / "team", master=master, period=PERIOD)


def test_phones_and_emails_are_masked_in_values(tmp_path) -> None:
    """A receipt number that is a phone number shows masked on the page (138****5678), never in full."""
    c = _small(tmp_path)
    [s001] = [ctx for ctx in statement_contexts(c, c.run.master.settings) if ctx["rep"]["rep_id"] == "S001"]
    assert [x["value"] for x in s001["deductions"]] == ["138****5678", "138****5678"]
    written = write_statements(c, c.run.master.settings, tmp_path / "out", pdf=False)
    text = written.html[0].read_text("utf-8")
    assert "138****5678" in text and "13812345678" not in text and "1234 5678" not in text
    assert mask_text("call 021-12345678 or zhang.san@example.com") == "call 021-****5678 or z***@example.com"


def test_without_chromium_or_libreoffice_html_is_written_and_the_message_says_so(tmp_path, monkeypatch) -> None:
    """No PDF program: every HTML page is written, no PDF, and the message names what to install."""
    import salesbook.documents.statements as statements

    c = _small(tmp_path)
    monkeypatch.setattr(statements.shutil, "which", lambda name: None)
    written = write_statements(c, c.run.master.settings, tmp_path / "out")
    assert len(written.html) == 2 and written.pdf == []
    assert "install-system-deps.sh" in written.message() and "No PDF written" in written.message()
    assert [r["pdf"] for r in read_csv(tmp_path / "out" / "statements.csv")] == ["", ""]


def test_statements_command_and_a_broken_template(tmp_path) -> None:
    """`salesbook statements` writes a page per rep; a template naming a missing field is exit 2, naming it."""
    _small(tmp_path)
    runner = CliRunner()
    args = ["statements", str(tmp_path / "team"), "--master", str(tmp_path / "master.xlsx"), "--period", PERIOD,
            "--out", str(tmp_path / "st"), "--no-pdf"]
    r = runner.invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "2 appraisal statements written" in r.output
    assert sorted(p.name for p in (tmp_path / "st").glob("*.html")) == [
        "statement_2026-11_S001_王芳.html", "statement_2026-11_S002_陈明.html"]
    bad = tmp_path / "bad.html.j2"
    bad.write_text("<p>{{ rep.name }} {{ bonus_pool }}</p>", encoding="utf-8")
    r = runner.invoke(main, [*args, "--template", str(bad)])
    assert r.exit_code == 2 and "bonus_pool" in r.output



def test_demo_master_sheet_and_reports_show_the_commissions(workspace) -> None:
    """The master's 提成 sheet holds commissions.csv; each rep's report shows its commission and tiers."""
    from openpyxl import load_workbook

    from salesbook.cli import main as cli

    paid = read_csv(workspace / "out" / "consolidation" / "commissions.csv")
    book = load_workbook(workspace / "SalesBook.xlsm", read_only=True)
    head, *rows = [r for r in book["提成"].iter_rows(values_only=True) if any(v is not None for v in r)]
    from salesbook.io.presentation import sheet_look

    look = sheet_look("提成", list(paid[0]))  # the CSV's columns, Chinese over English, key columns first
    assert list(head) == look.header
    rep, amount = look.keys.index("rep_id"), look.keys.index("commission")
    assert [(r[rep], r[amount]) for r in rows] == [(p["rep_id"], float(p["commission"])) for p in paid]
    out = workspace / "out" / "rep-reports"
    r = CliRunner().invoke(cli, ["report", str(workspace / "team"), "--master", str(workspace / "SalesBook.xlsm"),
                                 "--period", PERIOD, "--out", str(out)])
    assert r.exit_code == 0, r.output
    s001 = next(out.glob("report_2026-11_S001_*.html")).read_text("utf-8")
    amount = next(p["commission"] for p in paid if p["rep_id"] == "S001")
    assert "提成 Commission：回款累进" in s001 and f"{Decimal(amount):,.2f}" in s001
    assert s001.count("[") >= 3  # the tiers crossed, e.g. [0%, 80%), [80%, 100%), …
