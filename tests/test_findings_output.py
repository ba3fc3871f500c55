"""Findings as a manager reads them (blank rows, workbook order, what the rep typed, did-you-mean hints),
which contracts are drafts (SPEC §6), and the progress every phase reports."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import ACTIVITY_HEADER, CUSTOMER_HEADER, write_workbook

from salesbook.cli import main
from salesbook.core.rules import ContractMark, contract_marks
from salesbook.pipeline import validate
from salesbook.progress import StatusProgress

CONTRACT_HEADER = ["合同编号", "客户编号", "合同金额", "折扣率", "法务审核", "财务审核", "主管授权", "签订日期",
                   "状态", "负责销售"]
LINE_HEADER = ["合同编号", "产品", "数量", "单价"]


def customer(cid="C001", name="甲公司", owner="S001") -> list:
    return [cid, name, "小型", 0, "低", 0, "张三", "13812345678", None, owner, date(2026, 11, 2), None, None]


def activity(cid="C001", rep="S001") -> list:
    return [date(2026, 11, 20), rep, cid, "拜访", "拜访客户", None, 30]


def contract(kid, *, discount=None, legal="通过", finance="通过", manager=None, signed=date(2026, 11, 10),
             status="已签订", amount=1000) -> list:
    return [kid, "C001", amount, discount, legal, finance, manager, signed, status, "S001"]


def run_of(tmp_path: Path, master: Path, sheets: dict, name: str = "a.xlsx"):
    write_workbook(tmp_path / "team" / name, sheets)
    return validate([tmp_path / "team"], master=master, period="2026-11")


# ------------------------------------------------------------------ did you mean


def test_unknown_references_suggest_the_id_that_differs_only_in_case_width_or_spaces(tmp_path, master):
    """s001 / Ｃ００１ / "C 001" get "did you mean …?"; an id like no other gets no hint."""
    acts = [activity("c001"), activity("Ｃ００１"), activity("C 001"), activity("C999"), activity("C001", rep="s001")]
    run = run_of(tmp_path, master, {"客户": [CUSTOMER_HEADER, customer()], "活动": [ACTIVITY_HEADER, *acts]})
    refs = {(f.cell, f.value): f.message for f in run.findings if f.code == "unknown-reference"}
    assert set(refs) == {("C2", "c001"), ("C3", "Ｃ００１"), ("C4", "C 001"), ("C5", "C999"), ("B6", "s001")}
    for key in [("C2", "c001"), ("C3", "Ｃ００１"), ("C4", "C 001")]:
        assert "(did you mean C001?)" in refs[key] and "是否为 C001" in refs[key], refs[key]
    assert "did you mean" not in refs[("C5", "C999")] and "是否为" not in refs[("C5", "C999")]
    assert "(did you mean S001?)" in refs[("B6", "s001")]


def test_no_hint_when_two_known_ids_look_alike(tmp_path, master):
    """Known ids AB-1 and ab-1 both match "Ab-1": no guess between them."""
    custs = [customer("AB-1", "甲"), customer("ab-1", "乙")]
    run = run_of(tmp_path, master, {"客户": [CUSTOMER_HEADER, *custs], "活动": [ACTIVITY_HEADER, activity("Ab-1")]})
    [ref] = [f for f in run.findings if f.code == "unknown-reference"]
    assert "did you mean" not in ref.message


# ------------------------------------------------------------------ what the rep typed, blank rows, order


def test_domain_findings_show_the_value_as_typed(tmp_path, master):
    """contract-unreviewed shows 待审 (not Pending), "pending" as typed, and blank for an empty review."""
    rows = [contract("K1", legal="待审"), contract("K2", legal="pending"), contract("K3", finance=None)]
    run = run_of(tmp_path, master, {"客户": [CUSTOMER_HEADER, customer()], "合同": [CONTRACT_HEADER, *rows]})
    got = [(f.cell, f.value) for f in run.findings if f.code == "contract-unreviewed"]
    assert got == [("E2", "待审"), ("E3", "pending"), ("F4", "")]
    assert not any(str(c).startswith("_typed") for c in __import__("salesbook.exports", fromlist=["x"])
                   .source_frame(run.dataset.frame("contracts")).columns)


def test_file_level_findings_have_a_blank_row_in_every_output(tmp_path, master):
    """missing-sheet has no row: blank in findings.csv and findings.xlsx, never 0."""
    write_workbook(tmp_path / "team" / "a.xlsx", {"客户": [CUSTOMER_HEADER, customer()]})
    out = tmp_path / "o"
    r = CliRunner().invoke(main, ["validate", str(tmp_path / "team"), "--master", str(master), "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(open(out / "findings.csv", encoding="utf-8-sig")))
    missing = [x for x in rows if x["code"] == "missing-sheet"]
    assert missing and all(x["row"] == "" for x in missing)
    ws = openpyxl.load_workbook(out / "findings.xlsx")["校验结果"]
    from salesbook.core.findings import FINDING_COLUMNS
    from salesbook.io.presentation import sheet_look

    look = sheet_look("校验结果", FINDING_COLUMNS)  # the sheet's headers are Chinese over English, key columns first
    assert [c.value for c in ws[1]] == look.header
    code, row = look.keys.index("code"), look.keys.index("row")
    cells = [(r[code], r[row]) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert {row for code, row in cells if code == "missing-sheet"} == {None}


def test_findings_follow_the_order_of_the_sheets_in_the_workbook(tmp_path, master):
    """A workbook with 合同 before 客户 lists its 合同 findings first; the file's own findings come before both."""
    sheets = {"合同": [CONTRACT_HEADER, contract("K1", legal="待审")],
              "客户": [CUSTOMER_HEADER, customer(), customer("C002", "乙", owner="S999")]}
    run = run_of(tmp_path, master, sheets)
    order = [f.sheet for f in run.findings if f.code != "missing-sheet"]
    assert order.index("合同") < order.index("客户"), order
    sheets_seen = list(dict.fromkeys(f.sheet for f in run.findings))
    assert sheets_seen[:2] == ["合同", "客户"]  # then the sheets the file lacks, in schema order
    missing = [f.sheet for f in run.findings if f.code == "missing-sheet"]
    assert missing == ["活动", "商机", "合同明细", "订单", "回款", "投诉", "费用"]
    again = run_of(tmp_path / "again", master, sheets)
    assert [(f.sheet, f.row, f.code) for f in again.findings] == [(f.sheet, f.row, f.code) for f in run.findings]


# ------------------------------------------------------------------ contracts (SPEC §6)


def _contract_team(tmp_path: Path) -> Path:
    rows = [contract("K1", discount="20%"),                       # approved, but an unauthorised discount
            contract("K2", signed=None),                          # signed without a date
            contract("K3", status="已终止"),                       # terminated
            contract("K4"),                                       # clean: the final document
            contract("K5"),                                       # a line item that cannot be read
            contract("K6", finance="驳回", status="审批中")]        # a review rejected
    lines = [["K1", "服务器", 1, 1250], ["K4", "服务器", 1, 1000], ["K5", "服务器", "一台", 1000]]
    write_workbook(tmp_path / "team" / "a.xlsx", {"客户": [CUSTOMER_HEADER, customer()],
                                                  "合同": [CONTRACT_HEADER, *rows], "合同明细": [LINE_HEADER, *lines]})
    return tmp_path / "team"


def test_contract_marks_follow_the_rows_errors_reviews_and_status(tmp_path, master):
    """Core rule: an error on the row or a line makes a draft even when reviews are approved; 已终止 is terminated."""
    run = validate([_contract_team(tmp_path)], master=master, period="2026-11")
    marks = contract_marks(run.dataset, run.findings)
    assert {k: m.kind for k, m in marks.items()} == {"K1": "draft", "K2": "draft", "K3": "terminated",
                                                    "K4": "final", "K5": "draft", "K6": "draft"}
    assert "主管授权" in marks["K1"].reason and "20%" in marks["K1"].reason and "20.00%" not in marks["K1"].reason  # as typed
    assert "没有签订日期" in marks["K2"].reason
    assert "合同明细 a.xlsx [合同明细] C4" in marks["K5"].reason
    assert "财务审核未通过（驳回）" in marks["K6"].reason
    assert marks["K4"] == ContractMark("final")


def test_contracts_command_writes_drafts_that_say_why_and_lists_them(tmp_path, master):
    """contracts: K1/K2/K5/K6 are _草稿 with the reason in the footer, K3 is _已终止, K4 final; contracts.csv says so."""
    import docx

    out = tmp_path / "c"
    r = CliRunner().invoke(main, ["contracts", str(_contract_team(tmp_path)), "--master", str(master),
                                  "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "1 final, 4 drafts" in r.output and "1 terminated" in r.output
    index = {row["contract"]: row for row in csv.DictReader(open(out / "contracts.csv", encoding="utf-8-sig"))}
    assert {k: (v["document"], v["draft"]) for k, v in index.items()} == {
        "K1": ("draft", "yes"), "K2": ("draft", "yes"), "K3": ("terminated", "no"), "K4": ("final", "no"),
        "K5": ("draft", "yes"), "K6": ("draft", "yes")}
    assert index["K4"]["reason"] == "" and "主管授权" in index["K1"]["reason"]
    assert index["K3"]["file"].endswith("_已终止.docx") and index["K1"]["file"].endswith("_草稿.docx")
    k1 = docx.Document(str(out / index["K1"]["file"]))
    assert k1.paragraphs[0].text == "销售合同（草稿）" and "主管授权" in k1.sections[0].footer.paragraphs[0].text
    k3 = docx.Document(str(out / index["K3"]["file"]))
    assert k3.paragraphs[0].text == "销售合同（已终止）"
    k4 = docx.Document(str(out / index["K4"]["file"]))
    assert k4.paragraphs[0].text == "销售合同" and "不得签署" not in k4.sections[0].footer.paragraphs[0].text


# ------------------------------------------------------------------ progress


def test_status_progress_shows_each_phase_with_the_time_left():
    """The status bar line names the phase (Chinese and English), the count and the time left."""
    shown, now = [], [0.0]
    p = StatusProgress(shown.append, interval=0.5, clock=lambda: now[0])
    p.phase("reading team files", 10, "files")
    now[0] = 5.0
    p.update(5)
    now[0] = 5.1
    p.update(6)  # within the interval: not shown
    p.phase("checking rules", 8, "steps")
    assert shown == ["salesbook: 读取团队文件 reading team files …",
                     "salesbook: 读取团队文件 reading team files: 5/10 files, 00:05 left",
                     "salesbook: 校验规则 checking rules …"]


@pytest.mark.slow
def test_workbook_actions_report_every_phase_through_the_status_bar(tmp_path):
    """`consolidate` on the workbook file reports reading, rules, scoring, writing and saving via book.status."""
    from cli_helpers import ROSTER, TARGETS, settings_rows, team_folder

    from salesbook.actions import run_action
    from salesbook.cli import init_workspace
    from salesbook.io.book import FileBook

    root = tmp_path / "ws"
    book_path = init_workspace(root, roster_rows=ROSTER, targets_rows=TARGETS,
                               settings_rows=settings_rows(period="2026-11"))
    team_folder(root)
    book = FileBook(book_path)
    run_action("consolidate", book)
    phases = [m for m in book.messages if m.endswith("…")]
    assert phases == [f"salesbook: {zh} {en} …" for zh, en in (
        ("读取主工作簿", "reading the master workbook"), ("读取团队文件", "reading team files"),
        ("校验规则", "checking rules"), ("计算考核", "scoring"), ("写入结果", "writing outputs"),
        ("保存工作簿", "saving the workbook"))]
    assert any(m.startswith("salesbook: 读取团队文件 reading team files: 2/2 files") for m in book.messages)
