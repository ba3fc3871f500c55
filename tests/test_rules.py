"""Every finding code of SPEC §4 fires where it should and stays quiet on a near miss.

Each test writes tiny team workbooks into tmp_path, runs `validate` for period 2026-11 (as-of
2026-11-30 unless said otherwise) and asserts (file, sheet, row, column, cell, code) tuples.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from conftest import ACTIVITY_HEADER, CUSTOMER_HEADER, write_workbook

from salesbook.core.findings import CODES, Finding
from salesbook.pipeline import validate

# Column letters of the headers below (the tests rely on them for the cell).
# 客户: A 客户编号, B 客户名称, C 企业规模, D 年采购潜力, E 合作意愿, F 历史成交额, G 联系人, H 联系电话,
#       I 电子邮箱, J 负责销售, K 建档日期, L 最近更新, M 客户等级
# 活动: A 日期, B 销售代表, C 客户编号, D 活动类型, E 内容摘要, F 下次跟进, G 时长(分钟)
OPPORTUNITY_HEADER = ["商机编号", "客户编号", "商机名称", "阶段", "预计金额", "成功概率", "风险", "预计签约", "负责销售"]
CONTRACT_HEADER = ["合同编号", "客户编号", "商机编号", "合同金额", "折扣率", "法务审核", "财务审核", "主管授权",
                   "签订日期", "状态", "负责销售"]
LINE_HEADER = ["合同编号", "产品", "数量", "单价"]
ORDER_HEADER = ["订单编号", "合同编号", "下单日期", "承诺交期", "发货日期", "验收日期", "状态"]
COLLECTION_HEADER = ["回款编号", "合同编号", "回款日期", "回款金额"]
COMPLAINT_HEADER = ["投诉编号", "客户编号", "受理日期", "解决日期", "状态"]
EXPENSE_HEADER = ["报销编号", "销售代表", "日期", "类别", "金额", "发票号", "客户编号", "审批状态"]

# Codes tested elsewhere: scoring (missing-target), hostile input (the file-level codes), the reader's
# file formats (no-team-sheet, tests/test_reader_formats.py), effective activities
# (tests/test_activities.py) and commissions (tests/test_commission.py).
ELSEWHERE = {"missing-target", "file-unreadable", "file-encrypted", "file-unsupported", "no-team-sheet",
             "activity-not-counted", "commission-plan-unknown", "commission-plan-mixed", "commission-tier-overlap",
             "commission-tier-gap", "commission-no-target", "commission-held", "commission-rate-ambiguous",
             "violation-undated",  # test_scoring.py::test_an_undated_violation_is_deducted_in_no_period
             "targets-from-months",  # test_scoring.py::test_quarter_targets_are_the_sum_of_its_months
             "roster-row-error"}  # test_a_rep_whose_roster_row_has_an_error_is_told_so_not_unknown (own master)


def d(day: int, month: int = 11, year: int = 2026) -> date:
    return date(year, month, day)


CREATED, SIGNED, CLOSE = d(20), d(10), d(20, 12)


def customer(cid="C001", name="甲公司", owner="S001", *, size="小型", potential=0, will="低", history=0,
             contact="张三", phone="13812345678", email=None, created=CREATED, updated=None, grade=None) -> list:
    """A customer row; by default grade D (20 points), created ten days before the as-of date."""
    return [cid, name, size, potential, will, history, contact, phone, email, owner, created, updated, grade]


def activity(day: date, cid="C001", rep="S001", kind="拜访", summary="拜访客户", next_follow_up=None,
             minutes=30) -> list:
    return [day, rep, cid, kind, summary, next_follow_up, minutes]


def contract(kid="K001", cid="C001", *, amount=1000, discount=None, legal="通过", finance="通过", manager=None,
             signed=SIGNED, status="已签订", owner="S001", opp=None) -> list:
    return [kid, cid, opp, amount, discount, legal, finance, manager, signed, status, owner]


def team(customers=None, **sheets) -> dict[str, list[list]]:
    """A team workbook: 客户 (one default customer unless given) plus the named sheets with headers."""
    headers = {"活动": ACTIVITY_HEADER, "商机": OPPORTUNITY_HEADER, "合同": CONTRACT_HEADER,
               "合同明细": LINE_HEADER, "订单": ORDER_HEADER, "回款": COLLECTION_HEADER,
               "投诉": COMPLAINT_HEADER, "费用": EXPENSE_HEADER}
    out = {"客户": [CUSTOMER_HEADER, *(customers if customers is not None else [customer()])]}
    for name, rows in sheets.items():
        out[name] = [headers[name], *rows]
    return out


def run(tmp_path: Path, master: Path, files: dict[str, dict], *, other_files: dict[str, bytes] | None = None,
        **kw) -> list[Finding]:
    """Write `files` (and `other_files` as bytes) into a team folder, validate it, check every message is bilingual."""
    folder = tmp_path / "team"
    for name, sheets in files.items():
        write_workbook(folder / name, sheets)
    for name, data in (other_files or {}).items():
        (folder / name).write_bytes(data)
    kw.setdefault("period", "2026-11")
    findings = validate([folder], master=master, **kw).findings
    for f in findings:
        assert_bilingual(f)
    return findings


def assert_bilingual(f: Finding) -> None:
    zh, sep, en = f.message.partition(" / ")
    assert sep, f.message
    assert re.search(r"[\u4e00-\u9fff]", zh), f.message
    assert re.search(r"[A-Za-z]{2,}", en), f.message
    assert "{" not in f.message, f.message  # every template field was filled


def hits(findings: list[Finding], code: str) -> list[tuple]:
    return [(f.file, f.sheet, f.row, f.column, f.cell, f.code) for f in findings if f.code == code]


# ------------------------------------------------------------------ sheets and headers

def test_missing_sheet_is_info_per_absent_sheet(tmp_path, master):
    """A team workbook without 活动 gets a `missing-sheet` info for it, none for the sheets it has."""
    findings = run(tmp_path, master, {"a.xlsx": team(合同=[contract()], 合同明细=[], 订单=[], 回款=[], 投诉=[],
                                                     费用=[], 商机=[])})
    assert hits(findings, "missing-sheet") == [("a.xlsx", "活动", 0, "", "", "missing-sheet")]
    assert {f.severity for f in findings if f.code == "missing-sheet"} == {"info"}


def test_english_sheet_names_are_not_missing(tmp_path, master):
    """Sheets named in English (any case, extra spaces) count as present; the missing ones are named in English too."""
    sheets = {"customers": [CUSTOMER_HEADER, customer()], "Contract  Lines": [LINE_HEADER]}
    findings = run(tmp_path, master, {"a.xlsx": sheets})
    missing = {f.sheet for f in findings if f.code == "missing-sheet"}
    assert missing == {"Activities", "Opportunities", "Contracts", "Orders", "Collections", "Complaints", "Expenses"}


def test_missing_sheets_and_columns_are_named_in_the_workbooks_language(tmp_path, master):
    """A Chinese workbook's missing sheet and column are named in Chinese, an English workbook's in English."""
    en_header = ["Date", "Rep", "Customer ID", "Type"]  # Summary left out
    zh = {"客户": [CUSTOMER_HEADER, customer()], "活动": [ACTIVITY_HEADER[:4]]}
    en = {"Customers": [CUSTOMER_HEADER, customer()], "Activities": [en_header]}
    findings = run(tmp_path, master, {"zh.xlsx": zh, "en.xlsx": en})
    columns = {(f.file, f.column) for f in findings if f.code == "missing-column"}
    assert columns == {("zh.xlsx", "内容摘要"), ("en.xlsx", "Summary")}
    sheets = {(f.file, f.sheet) for f in findings if f.code == "missing-sheet"}
    assert ("zh.xlsx", "合同") in sheets and ("en.xlsx", "Contracts") in sheets
    assert not {s for fl, s in sheets if fl == "en.xlsx"} & {"合同", "回款", "费用"}


def test_an_empty_sheet_is_like_a_missing_sheet(tmp_path, master):
    """A 活动 sheet with nothing in it (not even a header) is a `missing-sheet` info, not missing columns."""
    findings = run(tmp_path, master, {"a.xlsx": {**team(), "活动": [], "商机": [[None], [""]]}})
    assert [h for h in hits(findings, "missing-sheet") if h[1] in ("活动", "商机")] == [
        ("a.xlsx", "活动", 0, "", "", "missing-sheet"), ("a.xlsx", "商机", 0, "", "", "missing-sheet")]
    assert hits(findings, "missing-column") == []


def test_missing_required_column_makes_the_sheet_unusable(tmp_path, master):
    """A 客户 sheet without 联系电话 is a `missing-column` error and its customers are not known."""
    header = [h for h in CUSTOMER_HEADER if h != "联系电话"]
    row = [v for h, v in zip(CUSTOMER_HEADER, customer(), strict=True) if h != "联系电话"]
    findings = run(tmp_path, master, {"a.xlsx": {"客户": [header, row], "活动": [ACTIVITY_HEADER, activity(d(25))]}})
    assert hits(findings, "missing-column") == [("a.xlsx", "客户", 0, "联系电话", "", "missing-column")]
    assert hits(findings, "unknown-reference") == [("a.xlsx", "活动", 2, "客户编号", "C2", "unknown-reference")]


def test_complete_header_has_no_missing_column(tmp_path, master):
    """Only optional columns absent (no 行业, 区域, 需求描述 …): no `missing-column`."""
    findings = run(tmp_path, master, {"a.xlsx": team(活动=[activity(d(25))])})
    assert hits(findings, "missing-column") == []
    assert hits(findings, "unknown-reference") == []


def test_ambiguous_column_refuses_to_guess(tmp_path, master):
    """客户编号 and Customer ID in one sheet: `ambiguous-column` at the second header; rows unused."""
    header = [*CUSTOMER_HEADER, "Customer ID"]
    findings = run(tmp_path, master, {"a.xlsx": {"客户": [header, [*customer(), "C009"]],
                                                 "活动": [ACTIVITY_HEADER, activity(d(25))]}})
    assert hits(findings, "ambiguous-column") == [("a.xlsx", "客户", 1, "Customer ID", "N1", "ambiguous-column")]
    assert hits(findings, "unknown-reference") == [("a.xlsx", "活动", 2, "客户编号", "C2", "unknown-reference")]


def test_two_sheets_of_one_kind_are_both_refused(tmp_path, master):
    """客户 and Customers in one workbook: `ambiguous-sheet` on each, neither read (no silent pick)."""
    findings = run(tmp_path, master, {"a.xlsx": {"客户": [CUSTOMER_HEADER, customer()],
                                                 "Customers": [CUSTOMER_HEADER, customer("C002", "乙")],
                                                 "活动": [ACTIVITY_HEADER, activity(d(25))]}})
    assert hits(findings, "ambiguous-sheet") == [("a.xlsx", "客户", 0, "", "", "ambiguous-sheet"),
                                                 ("a.xlsx", "Customers", 0, "", "", "ambiguous-sheet")]
    assert "missing-sheet" not in {f.code for f in findings if f.sheet in ("客户", "Customers")}
    assert hits(findings, "unknown-reference") == [("a.xlsx", "活动", 2, "客户编号", "C2", "unknown-reference")]


def test_one_sheet_of_each_kind_is_not_ambiguous(tmp_path, master):
    """A workbook with 客户 and 活动 (different kinds, one each) has no `ambiguous-sheet`."""
    findings = run(tmp_path, master, {"a.xlsx": team(活动=[activity(d(25))])})
    assert hits(findings, "ambiguous-sheet") == []


def test_distinct_headers_are_not_ambiguous(tmp_path, master):
    """客户编号 and 客户名称 share a prefix but are different columns."""
    findings = run(tmp_path, master, {"a.xlsx": team()})
    assert hits(findings, "ambiguous-column") == []


def test_unknown_column_is_info_and_known_optional_columns_are_not(tmp_path, master):
    """备注 is an `unknown-column` info at its header cell; 行业 (optional, known) is not."""
    header = [*CUSTOMER_HEADER, "行业", "备注"]
    findings = run(tmp_path, master, {"a.xlsx": {"客户": [header, [*customer(), "制造", "老客户"]]}})
    assert hits(findings, "unknown-column") == [("a.xlsx", "客户", 1, "备注", "O1", "unknown-column")]
    assert [f.severity for f in findings if f.code == "unknown-column"] == ["info"]


def test_header_below_title_rows_gives_real_row_numbers(tmp_path, master):
    """A title and a blank row above the header: findings name the real Excel rows."""
    sheets = {"客户": [["2026年11月 客户档案"], [], CUSTOMER_HEADER, customer(),
                       customer("C002", "乙公司", phone="12345")]}
    findings = run(tmp_path, master, {"a.xlsx": sheets})
    assert hits(findings, "bad-pattern") == [("a.xlsx", "客户", 5, "联系电话", "H5", "bad-pattern")]
    assert hits(findings, "missing-column") == []


def test_sheet_starting_below_and_right_of_a1_keeps_real_cells(tmp_path, master):
    """Used range starting at B3 (empty rows and column before it): rows and letters stay Excel's."""
    sheets = {"客户": [[], [], [None, "客户档案"], [None, *CUSTOMER_HEADER, "备注"], [None, *customer(phone="1")]]}
    findings = run(tmp_path, master, {"a.xlsx": sheets})
    assert hits(findings, "unknown-column") == [("a.xlsx", "客户", 4, "备注", "O4", "unknown-column")]
    assert hits(findings, "bad-pattern") == [("a.xlsx", "客户", 5, "联系电话", "I5", "bad-pattern")]


def test_header_is_the_first_row_naming_half_the_required_columns(tmp_path, master):
    """A row naming 2 of the 6 required 客户 columns is skipped; the next, naming 3, is the header."""
    sheets = {"客户": [["客户编号", "客户名称"], ["客户编号", "客户名称", "联系人"], ["C001", "甲", "张三"]]}
    findings = run(tmp_path, master, {"a.xlsx": sheets})
    assert sorted(f.column for f in findings if f.code == "missing-column") == sorted(["联系电话", "负责销售", "建档日期"])
    assert hits(findings, "unknown-column") == []


def test_header_detection_scans_only_the_first_ten_rows(tmp_path, master):
    """A header on row 11 is not found: every required column is reported missing."""
    sheets = {"客户": [[f"说明 {i}"] for i in range(10)] + [CUSTOMER_HEADER, customer()]}
    findings = run(tmp_path, master, {"a.xlsx": sheets})
    assert sorted(f.column for f in findings if f.code == "missing-column") == sorted(
        ["客户编号", "客户名称", "联系人", "联系电话", "负责销售", "建档日期"])


def test_english_headers_and_sheet_names(tmp_path, master):
    """An all-English workbook is read; findings carry the headers as written."""
    header = ["Customer ID", "Customer Name", "Company Size", "Contact", "Phone", "Owner", "Created", "Grade"]
    rows = [["C001", "Acme", "Large", "Ann", "13812345678", "S001", d(20), None],
            ["C002", "Beta", "Huge", "Bob", "13812345679", "S001", d(20), None]]
    acts = [["Date", "Rep", "Customer ID", "Type", "Summary"], [d(25), "S001", "C001", "Visit", "met"]]
    findings = run(tmp_path, master, {"a.xlsx": {"Customers": [header, *rows], "Activities": acts}})
    assert hits(findings, "bad-enum") == [("a.xlsx", "Customers", 3, "Company Size", "C3", "bad-enum")]
    assert [f.code for f in findings if f.severity == "error"] == ["bad-enum"]


def test_full_width_header_characters(tmp_path, master):
    """Full-width letters, parentheses and spaces in headers are read after NFKC."""
    header = ["Ｃｕｓｔｏｍｅｒ　ＩＤ", "客户名称", "企业规模", "年采购潜力（万元）", "联系人", "联系电话", "负责销售",
              "建档日期"]
    rows = [["C001", "甲公司", "小型", -5, "张三", "13812345678", "S001", d(20)]]
    findings = run(tmp_path, master, {"a.xlsx": {"客户": [header, *rows]}})
    assert hits(findings, "missing-column") == []
    assert hits(findings, "unknown-column") == []
    assert hits(findings, "out-of-range") == [("a.xlsx", "客户", 2, "年采购潜力（万元）", "D2", "out-of-range")]


def test_totals_row_is_skipped_with_info(tmp_path, master):
    """A trailing 合计 row is skipped (info), not read as a customer with missing values."""
    findings = run(tmp_path, master, {"a.xlsx": team([customer(), ["合计", None, None, 600]])})
    assert hits(findings, "totals-row-skipped") == [("a.xlsx", "客户", 3, "", "A3", "totals-row-skipped")]
    assert [f for f in findings if f.severity == "error"] == []


def test_a_total_word_not_in_the_first_cell_or_not_last_is_data(tmp_path, master):
    """合计 as a customer name, or a Total row that is not the last row, is an ordinary data row."""
    rows = [customer(name="合计"), ["Total", None], customer("C003", "丙公司")]
    findings = run(tmp_path, master, {"a.xlsx": team(rows)})
    assert hits(findings, "totals-row-skipped") == []
    assert ("a.xlsx", "客户", 3, "客户名称", "B3", "required-missing") in hits(findings, "required-missing")


def test_the_blank_team_template_is_recognised(tmp_path, master):
    """Our own team template, filled with one customer, has every sheet and header recognised."""
    from salesbook.io.team_template import write_team_template

    path = write_team_template(tmp_path / "team" / "a.xlsx")
    findings = validate([tmp_path / "team"], master=master, period="2026-11").findings
    assert [f.code for f in findings] == []
    assert path.exists()


# ------------------------------------------------------------------ cells

def test_required_missing(tmp_path, master):
    """A blank 联系人 is `required-missing`; a blank optional 电子邮箱 is fine."""
    findings = run(tmp_path, master, {"a.xlsx": team([customer(contact=None), customer("C002", "乙", email=None)])})
    assert hits(findings, "required-missing") == [("a.xlsx", "客户", 2, "联系人", "G2", "required-missing")]


def test_required_missing_counts_whitespace_as_blank(tmp_path, master):
    """A contact of only spaces is blank."""
    findings = run(tmp_path, master, {"a.xlsx": team([customer(contact="   ")])})
    assert hits(findings, "required-missing") == [("a.xlsx", "客户", 2, "联系人", "G2", "required-missing")]


def test_bad_type_and_accepted_date_forms(tmp_path, master):
    """建档日期 '下周' is `bad-type`; 2026年11月3日, 2026/11/3 and 20261103 are dates."""
    rows = [customer(created="下周"), customer("C002", "乙", created="2026年11月3日"),
            customer("C003", "丙", created="2026/11/3"), customer("C004", "丁", created="20261103")]
    findings = run(tmp_path, master, {"a.xlsx": team(rows)})
    assert hits(findings, "bad-type") == [("a.xlsx", "客户", 2, "建档日期", "K2", "bad-type")]
    assert [f.value for f in findings if f.code == "bad-type"] == ["下周"]


def test_bad_type_money(tmp_path, master):
    """Money 'abc' is `bad-type`; '¥1,234.50' and '1.2万' are amounts."""
    rows = [contract("K1", amount="abc"), contract("K2", amount="¥1,234.50"), contract("K3", amount="1.2万")]
    findings = run(tmp_path, master, {"a.xlsx": team(合同=rows)})
    assert hits(findings, "bad-type") == [("a.xlsx", "合同", 2, "合同金额", "D2", "bad-type")]


def test_a_boolean_cell_is_bad_type_even_after_a_one(tmp_path, master):
    """数量 TRUE is `bad-type` although an earlier row holds the number 1 (which equals True in Python)."""
    lines = [["K001", "服务器", 1, 100], ["K001", "服务器", True, 100]]
    findings = run(tmp_path, master, {"a.xlsx": team(合同=[contract(amount=100)], 合同明细=lines)})
    assert hits(findings, "bad-type") == [("a.xlsx", "合同明细", 3, "数量", "C3", "bad-type")]


def test_bad_enum_and_both_languages_accepted(tmp_path, master):
    """企业规模 '超大' is `bad-enum`; 'Large', '大型' and ' large ' are accepted."""
    rows = [customer(size="超大"), customer("C002", "乙", size="Large"), customer("C003", "丙", size="大型"),
            customer("C004", "丁", size=" large ")]
    findings = run(tmp_path, master, {"a.xlsx": team(rows)})
    assert hits(findings, "bad-enum") == [("a.xlsx", "客户", 2, "企业规模", "C2", "bad-enum")]


def test_bad_pattern_phone_and_accepted_phone_forms(tmp_path, master):
    """A 10-digit mobile is `bad-pattern`; +86, dashes, spaces, a number cell and a landline are fine."""
    rows = [customer(phone="1381234567"), customer("C002", "乙", phone="+86 138-1234-5678"),
            customer("C003", "丙", phone=13812345678.0), customer("C004", "丁", phone="021-12345678"),
            customer("C005", "戊", phone="0086 13812345678"), customer("C006", "己", phone="12812345678")]
    findings = run(tmp_path, master, {"a.xlsx": team(rows)})
    assert hits(findings, "bad-pattern") == [("a.xlsx", "客户", 2, "联系电话", "H2", "bad-pattern"),
                                             ("a.xlsx", "客户", 7, "联系电话", "H7", "bad-pattern")]


def test_bad_pattern_email(tmp_path, master):
    """'zhang@' is `bad-pattern`; 'zhang.san@example.com.cn' is fine."""
    rows = [customer(email="zhang@"), customer("C002", "乙", email="zhang.san@example.com.cn")]
    findings = run(tmp_path, master, {"a.xlsx": team(rows)})
    assert hits(findings, "bad-pattern") == [("a.xlsx", "客户", 2, "电子邮箱", "I2", "bad-pattern")]


def test_out_of_range_numbers_at_the_boundary(tmp_path, master):
    """Potential −1 and minutes 1441 are out of range; 0 and 1440 are not."""
    rows = [customer(potential=-1), customer("C002", "乙", potential=0)]
    acts = [activity(d(25), minutes=1441), activity(d(25), minutes=1440), activity(d(25), minutes=0)]
    findings = run(tmp_path, master, {"a.xlsx": team(rows, 活动=acts)})
    assert hits(findings, "out-of-range") == [("a.xlsx", "客户", 2, "年采购潜力(万元)", "D2", "out-of-range"),
                                              ("a.xlsx", "活动", 2, "时长(分钟)", "G2", "out-of-range")]


def test_out_of_range_amount_must_be_positive(tmp_path, master):
    """A contract amount of 0 is out of range (> 0); 0.01 is not."""
    findings = run(tmp_path, master, {"a.xlsx": team(合同=[contract("K1", amount=0), contract("K2", amount=0.01)])})
    assert hits(findings, "out-of-range") == [("a.xlsx", "合同", 2, "合同金额", "D2", "out-of-range")]


def test_out_of_range_dates(tmp_path, master):
    """Dates before 2000-01-01 or more than 365 days after the as-of date are out of range."""
    acts = [activity(d(31, 12, 1999)), activity(d(1, 1, 2000)),
            activity(d(25), next_follow_up=d(1, 12, 2027)), activity(d(25), next_follow_up=d(30, 11, 2027))]
    findings = run(tmp_path, master, {"a.xlsx": team(活动=acts)})
    assert hits(findings, "out-of-range") == [("a.xlsx", "活动", 2, "日期", "A2", "out-of-range"),
                                              ("a.xlsx", "活动", 4, "下次跟进", "F4", "out-of-range")]


def test_date_order_at_the_later_column(tmp_path, master):
    """最近更新 before 建档日期 and 发货日期 before 下单日期 are `date-order` at the later column."""
    rows = [customer(created=d(10), updated=d(9)), customer("C002", "乙", created=d(10), updated=d(10))]
    contracts = [contract()]
    orders = [["O1", "K001", d(10), None, d(9), None, "已发货"], ["O2", "K001", d(10), None, d(10), d(10), "已验收"]]
    findings = run(tmp_path, master, {"a.xlsx": team(rows, 合同=contracts, 订单=orders)})
    assert hits(findings, "date-order") == [("a.xlsx", "客户", 2, "最近更新", "L2", "date-order"),
                                            ("a.xlsx", "订单", 2, "发货日期", "E2", "date-order")]


def test_complaint_resolved_before_received_is_date_order(tmp_path, master):
    """解决日期 before 受理日期 is `date-order` at 解决日期 (and no complaint rule runs on that row)."""
    complaints = [["T1", "C001", d(10), d(1), "已解决"]]
    findings = run(tmp_path, master, {"a.xlsx": team(投诉=complaints)})
    assert hits(findings, "date-order") == [("a.xlsx", "投诉", 2, "解决日期", "D2", "date-order")]
    assert hits(findings, "complaint-overdue") == []


# ------------------------------------------------------------------ keys and references across files

def test_duplicate_key_across_files_flags_later_rows_only(tmp_path, master):
    """C001 in a.xlsx and b.xlsx: only b.xlsx's row is flagged; a number 1001 equals the text '1001 '."""
    files = {
        "b.xlsx": team([customer("C001", "乙公司"), customer(1001, "丙公司")]),
        "a.xlsx": team([customer("C001", "甲公司"), customer("1001 ", "丁公司"), customer("C001", "戊公司")]),
    }
    findings = run(tmp_path, master, files)
    assert hits(findings, "duplicate-key") == [("a.xlsx", "客户", 4, "客户编号", "A4", "duplicate-key"),
                                               ("b.xlsx", "客户", 2, "客户编号", "A2", "duplicate-key"),
                                               ("b.xlsx", "客户", 3, "客户编号", "A3", "duplicate-key")]
    first = next(f for f in findings if f.code == "duplicate-key" and f.file == "b.xlsx")
    assert "a.xlsx [客户] A2" in first.message


def test_distinct_keys_are_not_duplicates(tmp_path, master):
    """C001 and C0010, and the same id on two different sheets, are not duplicates."""
    files = {"a.xlsx": team([customer("C001"), customer("C0010", "乙")], 商机=[
        ["C001", "C001", "扩容", "线索", 1000, None, None, d(20, 12), "S001"]])}
    findings = run(tmp_path, master, files)
    assert hits(findings, "duplicate-key") == []


def test_unknown_reference_across_files(tmp_path, master):
    """An activity in b.xlsx for a customer filed in a.xlsx is fine; C999 and rep S999 are unknown."""
    files = {
        "a.xlsx": team([customer("C001")]),
        "b.xlsx": team([customer("C002", "乙公司", owner="S999")],
                       活动=[activity(d(25), "C001", rep="S002"), activity(d(25), "C999", rep="S002")]),
    }
    findings = run(tmp_path, master, files)
    assert hits(findings, "unknown-reference") == [("b.xlsx", "客户", 2, "负责销售", "J2", "unknown-reference"),
                                                   ("b.xlsx", "活动", 3, "客户编号", "C3", "unknown-reference")]


def test_unknown_reference_for_contracts_and_optional_refs(tmp_path, master):
    """A collection for an unknown contract and an expense naming an unknown customer are flagged."""
    coll = [["P1", "K001", d(12), 100], ["P2", "K404", d(12), 100]]
    exp = [["E1", "S001", d(12), "招待费", 100, "R1", "C001", None], ["E2", "S001", d(12), "招待费", 100, "R2", "C404", None]]
    findings = run(tmp_path, master, {"a.xlsx": team(合同=[contract()], 回款=coll, 费用=exp)})
    assert hits(findings, "unknown-reference") == [("a.xlsx", "回款", 3, "合同编号", "B3", "unknown-reference"),
                                                   ("a.xlsx", "费用", 3, "客户编号", "G3", "unknown-reference")]


def test_a_rep_whose_roster_row_has_an_error_is_told_so_not_unknown(tmp_path):
    """Rows naming a rep whose only roster row was left out (a blank 工号) get roster-row-error pointing at that
    roster cell, in the team files and in 目标; a rep not in the roster at all is still unknown-reference."""
    from conftest import write_master

    master = write_master(tmp_path / "m.xlsx",
                          [["S001", "王芳", "E1001", "一组", "华东", "李强", "在职"],
                           ["S002", "陈明", None, "一组", "华东", "李强", "离职"]],
                          [["S001", "2026-11", 100, 1, 100, 1, 1], ["S002", "2026-11", 100, 1, 100, 1, 1]])
    files = {"a.xlsx": team([customer("C001"), customer("C002", "乙公司", owner="S002"),
                             customer("C003", "丙公司", owner="S999")],
                            活动=[activity(d(25), "C002", rep="S002")])}
    findings = run(tmp_path, master, files)
    assert hits(findings, "roster-row-error") == [("a.xlsx", "客户", 3, "负责销售", "J3", "roster-row-error"),
                                                  ("a.xlsx", "活动", 2, "销售代表", "B2", "roster-row-error"),
                                                  ("m.xlsx", "目标", 3, "销售代表", "A3", "roster-row-error")]
    assert all("m.xlsx [花名册] C3 required-missing" in f.message and f.value == "S002"
               for f in findings if f.code == "roster-row-error")
    assert hits(findings, "unknown-reference") == [("a.xlsx", "客户", 4, "负责销售", "J4", "unknown-reference")]


# ------------------------------------------------------------------ customers

def test_customer_conflict_across_owners_ignoring_suffixes(tmp_path, master):
    """The same company filed by S001 and S002 (有限公司 / Co., Ltd. ignored) warns on every row involved."""
    files = {
        "a.xlsx": team([customer("C001", "上海甲科技有限公司"), customer("C002", "Acme Co., Ltd.")]),
        "b.xlsx": team([customer("C101", "上海甲科技", owner="S002"), customer("C102", "ACME", owner="S002")]),
    }
    findings = run(tmp_path, master, files)
    assert hits(findings, "customer-conflict") == [("a.xlsx", "客户", 2, "客户名称", "B2", "customer-conflict"),
                                                   ("a.xlsx", "客户", 3, "客户名称", "B3", "customer-conflict"),
                                                   ("b.xlsx", "客户", 2, "客户名称", "B2", "customer-conflict"),
                                                   ("b.xlsx", "客户", 3, "客户名称", "B3", "customer-conflict")]
    by_place = {(f.file, f.row): f for f in findings if f.code == "customer-conflict"}
    assert by_place[("a.xlsx", 2)].severity == "warning" and by_place[("a.xlsx", 2)].rep_id == "S001"
    assert by_place[("b.xlsx", 2)].rep_id == "S002"
    # each names the other owner and file; same Created date: the sorted file (a.xlsx) filed first
    assert "also filed by S002 (b.xlsx [客户] B2" in by_place[("a.xlsx", 2)].message
    assert "also filed by S001 (a.xlsx [客户] B2" in by_place[("b.xlsx", 2)].message
    assert all("first filed by S001 (a.xlsx [客户] B" in f.message for f in by_place.values())


def test_customer_conflict_first_filer_is_decided_by_created_date(tmp_path, master):
    """The later file's row filed on an earlier 建档日期 owns the customer; ties go to the sorted file, then row."""
    files = {
        "a.xlsx": team([customer("C001", "甲公司", created=d(15)), customer("C002", "乙公司", created=d(5))]),
        "b.xlsx": team([customer("C101", "甲公司有限公司", owner="S002", created=d(3)),
                        customer("C102", "乙公司", owner="S002", created=d(5))]),
    }
    findings = run(tmp_path, master, files)
    msgs = {(f.file, f.row): f.message for f in findings if f.code == "customer-conflict"}
    assert len(msgs) == 4
    assert "first filed by S002 (b.xlsx [客户] B2, 2026-11-03)" in msgs[("a.xlsx", 2)]
    assert "first filed by S002 (b.xlsx [客户] B2, 2026-11-03)" in msgs[("b.xlsx", 2)]
    assert "first filed by S001 (a.xlsx [客户] B3, 2026-11-05)" in msgs[("b.xlsx", 3)]  # tie: a.xlsx sorts first
    assert "最先建档的是 S002" in msgs[("a.xlsx", 2)]


def test_customer_conflict_names_every_other_owner_not_the_same_owners_copy(tmp_path, master):
    """One owner filing a company twice is no conflict; with a second owner every row names only the others."""
    same = {"a.xlsx": team([customer("C001", "甲公司"), customer("C002", "甲公司有限公司")])}
    assert hits(run(tmp_path / "1", master, same), "customer-conflict") == []
    three = {"a.xlsx": team([customer("C001", "甲公司"), customer("C002", "甲公司")]),
             "b.xlsx": team([customer("C101", "甲公司", owner="S002")])}
    found = {(f.file, f.row): f.message for f in run(tmp_path / "2", master, three) if f.code == "customer-conflict"}
    assert set(found) == {("a.xlsx", 2), ("a.xlsx", 3), ("b.xlsx", 2)}
    assert "also filed by S002 (b.xlsx [客户] B2, 2026-11-20); first filed by S001 (a.xlsx [客户] B2" in found[("a.xlsx", 3)]
    english = found[("b.xlsx", 2)].split(" / ", 1)[1]
    assert english.count("S001 (a.xlsx") == 3  # both rows of S001 named, and S001 filed first


def test_customer_conflict_not_for_different_companies(tmp_path, master):
    """Different names, and English suffixes that are part of a word (Zinc vs Z Inc.), are no conflict."""
    files = {
        "a.xlsx": team([customer("C001", "上海甲科技有限公司"), customer("C002", "Zinc")]),
        "b.xlsx": team([customer("C101", "上海乙科技有限公司", owner="S002"), customer("C102", "Z Inc.", owner="S002")]),
    }
    findings = run(tmp_path, master, files)
    assert hits(findings, "customer-conflict") == []


def test_grade_mismatch(tmp_path, master):
    """A customer marked A with 20 points (computed D) is a `grade-mismatch` at 客户等级."""
    findings = run(tmp_path, master, {"a.xlsx": team([customer(grade="A")])})
    assert hits(findings, "grade-mismatch") == [("a.xlsx", "客户", 2, "客户等级", "M2", "grade-mismatch")]
    assert "D" in next(f.message for f in findings if f.code == "grade-mismatch")


def test_grade_at_band_boundary_matches(tmp_path, master):
    """Exactly 80 points is A and exactly 60 is B (no mismatch); 75 marked A is; a blank grade is never."""
    rows = [customer("C001", "甲", size="大型", potential=100, will="高", grade="A"),  # 40 + 20 + 20 = 80
            customer("C002", "乙", size="大型", potential=20, will="中", grade="B"),  # 40 + 10 + 10 = 60
            customer("C003", "丙", size="大型", potential=100, will="中", history=1, grade="A"),  # 75 → B
            customer("C004", "丁", size="大型", potential=600, will="高", history=150, grade=None)]
    acts = [activity(d(29), c) for c in ("C001", "C002", "C003", "C004")]
    findings = run(tmp_path, master, {"a.xlsx": team(rows, 活动=acts)})
    assert hits(findings, "grade-mismatch") == [("a.xlsx", "客户", 4, "客户等级", "M4", "grade-mismatch")]


def test_follow_up_overdue_against_cadence(tmp_path, master):
    """Grade A: last activity 8 days before the as-of date is overdue, 7 days is not; grade D uses Created."""
    a = dict(size="大型", potential=600, will="高")  # 90 points → A, cadence 7
    rows = [customer("C001", "甲", **a), customer("C002", "乙", **a),
            customer("C003", "丙", created=d(1, 9)),   # D, 90 days → not overdue
            customer("C004", "丁", created=d(31, 8))]  # D, 91 days → overdue
    acts = [activity(d(22), "C001"), activity(d(10), "C002"), activity(d(23), "C002")]
    findings = run(tmp_path, master, {"a.xlsx": team(rows, 活动=acts)})
    assert hits(findings, "follow-up-overdue") == [("a.xlsx", "客户", 2, "客户编号", "A2", "follow-up-overdue"),
                                                   ("a.xlsx", "客户", 5, "客户编号", "A5", "follow-up-overdue")]
    assert [f.rep_id for f in findings if f.code == "follow-up-overdue"] == ["S001", "S001"]


def test_follow_up_ignores_an_activity_row_with_an_error(tmp_path, master):
    """A customer's only recent activity has a bad type: it does not count, so the follow-up is overdue."""
    rows = [customer("C001", "甲", created=d(1, 7))]
    acts = [activity(d(25), kind="喝茶")]
    findings = run(tmp_path, master, {"a.xlsx": team(rows, 活动=acts)})
    assert hits(findings, "bad-enum") == [("a.xlsx", "活动", 2, "活动类型", "D2", "bad-enum")]
    assert hits(findings, "follow-up-overdue") == [("a.xlsx", "客户", 2, "客户编号", "A2", "follow-up-overdue")]


def test_follow_up_ignores_activities_after_the_as_of_date(tmp_path, master):
    """An activity dated after the as-of date is not a follow-up yet."""
    findings = run(tmp_path, master, {"a.xlsx": team([customer(created=d(1, 7))], 活动=[activity(d(5, 12))])})
    assert hits(findings, "follow-up-overdue") == [("a.xlsx", "客户", 2, "客户编号", "A2", "follow-up-overdue")]


def test_follow_up_counts_activities_from_other_files_and_reps(tmp_path, master):
    """An activity logged by another rep in another file is a follow-up of the customer."""
    files = {"a.xlsx": team([customer("C001", "甲", created=d(1, 7))]),
             "b.xlsx": team([customer("C002", "乙")], 活动=[activity(d(25), "C001", rep="S002")])}
    findings = run(tmp_path, master, files)
    assert hits(findings, "follow-up-overdue") == []


# ------------------------------------------------------------------ opportunities

def opportunity(oid="O001", cid="C001", stage="方案", close=CLOSE) -> list:
    return [oid, cid, "扩容项目", stage, 10000, None, "中", close, "S001"]


def test_opportunity_overdue(tmp_path, master):
    """Expected close 11-29 on an open opportunity is overdue; 11-30 (the as-of date) and Won are not."""
    opps = [opportunity("O1", close=d(29)), opportunity("O2", close=d(30)), opportunity("O3", "C001", "赢单", d(1))]
    findings = run(tmp_path, master, {"a.xlsx": team(活动=[activity(d(29))], 商机=opps)})
    assert hits(findings, "opportunity-overdue") == [("a.xlsx", "商机", 2, "预计签约", "H2", "opportunity-overdue")]


def test_opportunity_stale_window_is_thirty_days(tmp_path, master):
    """Last activity 31 days before as-of → stale; exactly 30 days → not; closed opportunities never."""
    rows = [customer("C001", "甲"), customer("C002", "乙"), customer("C003", "丙")]
    acts = [activity(d(30, 10), "C001"), activity(d(31, 10), "C002"), activity(d(30, 10), "C003")]
    opps = [opportunity("O1", "C001"), opportunity("O2", "C002"), opportunity("O3", "C003", "输单")]
    findings = run(tmp_path, master, {"a.xlsx": team(rows, 活动=acts, 商机=opps)})
    assert hits(findings, "opportunity-stale") == [("a.xlsx", "商机", 2, "商机编号", "A2", "opportunity-stale")]


def test_opportunity_stale_ignores_activities_after_the_as_of_date(tmp_path, master):
    """An activity dated after the as-of date does not keep an opportunity fresh."""
    findings = run(tmp_path, master, {"a.xlsx": team(活动=[activity(d(5, 12))], 商机=[opportunity()])})
    assert hits(findings, "opportunity-stale") == [("a.xlsx", "商机", 2, "商机编号", "A2", "opportunity-stale")]


# ------------------------------------------------------------------ contracts

def test_contract_unreviewed_at_the_review_not_approved(tmp_path, master):
    """Signed with legal pending → at 法务审核; legal approved, finance blank → at 财务审核."""
    rows = [contract("K1", legal="待审"), contract("K2", finance=None), contract("K3"),
            contract("K4", legal="驳回", finance="待审", status="审批中", signed=None)]
    findings = run(tmp_path, master, {"a.xlsx": team(合同=rows)})
    assert hits(findings, "contract-unreviewed") == [("a.xlsx", "合同", 2, "法务审核", "F2", "contract-unreviewed"),
                                                     ("a.xlsx", "合同", 3, "财务审核", "G3", "contract-unreviewed")]
    assert {f.severity for f in findings if f.code == "contract-unreviewed"} == {"error"}


def test_contract_without_review_columns_is_unreviewed_at_the_schema_header(tmp_path, master):
    """No 法务审核 column means Pending: the finding names 法务审核 (no cell), never a code-side key."""
    sheets = {**team(), "合同": [["合同编号", "客户编号", "合同金额", "签订日期", "状态", "负责销售"],
                                 ["K1", "C001", 1000, d(10), "已签订", "S001"]]}
    findings = run(tmp_path, master, {"a.xlsx": sheets})
    assert hits(findings, "contract-unreviewed") == [("a.xlsx", "合同", 2, "法务审核", "", "contract-unreviewed")]


def test_discount_unauthorized_above_the_limit_only(tmp_path, master):
    """15 % without approval fires; exactly 10 % (written 10%, 0.1 or 10), and 20 % approved do not."""
    rows = [contract("K1", discount="15%"), contract("K2", discount="10%"), contract("K3", discount=0.1),
            contract("K4", discount=10), contract("K5", discount=0.2, manager="通过"),
            contract("K6", discount=0.11, manager="待审")]
    findings = run(tmp_path, master, {"a.xlsx": team(合同=rows)})
    assert hits(findings, "discount-unauthorized") == [
        ("a.xlsx", "合同", 2, "折扣率", "E2", "discount-unauthorized"),
        ("a.xlsx", "合同", 7, "折扣率", "E7", "discount-unauthorized")]


def test_contract_with_an_error_is_left_out_of_contract_rules(tmp_path, master):
    """A signed, unreviewed contract whose owner is not in the roster is an error row: no contract rule runs."""
    rows = [contract("K1", legal="待审", signed=None, discount="30%", owner="S999")]
    findings = run(tmp_path, master, {"a.xlsx": team(合同=rows)})
    assert hits(findings, "unknown-reference") == [("a.xlsx", "合同", 2, "负责销售", "K2", "unknown-reference")]
    assert [f.code for f in findings if f.sheet == "合同"] == ["unknown-reference"]


def test_signed_without_date(tmp_path, master):
    """Status 已签订 without 签订日期 fires at 签订日期; a draft without a date does not."""
    rows = [contract("K1", signed=None), contract("K2", signed=None, status="草稿"), contract("K3")]
    findings = run(tmp_path, master, {"a.xlsx": team(合同=rows)})
    assert hits(findings, "signed-without-date") == [("a.xlsx", "合同", 2, "签订日期", "I2", "signed-without-date")]


def test_contract_amount_mismatch_beyond_one_yuan(tmp_path, master):
    """Lines 2 × 500 at 10 % discount = 900: amount 902 mismatches, 901 does not; lines across files count."""
    rows = [contract("K1", amount=902, discount="10%"), contract("K2", amount=901, discount="10%"),
            contract("K3", amount=1000)]
    lines = [["K1", "服务器", 2, 500], ["K2", "服务器", 2, 500], ["K3", "服务器", 1, 400]]
    files = {"a.xlsx": team(合同=rows, 合同明细=lines),
             "b.xlsx": team([customer("C002", "乙")], 合同明细=[["K3", "存储", 1, 600]])}
    findings = run(tmp_path, master, files)
    assert hits(findings, "contract-amount-mismatch") == [
        ("a.xlsx", "合同", 2, "合同金额", "D2", "contract-amount-mismatch")]


# ------------------------------------------------------------------ orders, collections, complaints

def test_order_overdue(tmp_path, master):
    """Promised 11-29 and not shipped fires at 承诺交期; promised 11-30, shipped, cancelled do not."""
    orders = [["O1", "K001", d(1), d(29), None, None, "生产中"],
              ["O2", "K001", d(1), d(30), None, None, "生产中"],
              ["O3", "K001", d(1), d(20), d(21), None, "已发货"],
              ["O4", "K001", d(1), d(20), None, None, "已取消"]]
    findings = run(tmp_path, master, {"a.xlsx": team(合同=[contract()], 订单=orders)})
    assert hits(findings, "order-overdue") == [("a.xlsx", "订单", 2, "承诺交期", "D2", "order-overdue")]


def test_order_with_shipped_status_is_not_overdue(tmp_path, master):
    """Status 已发货 / 已验收 means shipped even when 发货日期 was left blank."""
    orders = [["O1", "K001", d(1), d(20), None, None, "已发货"], ["O2", "K001", d(1), d(20), None, None, "已验收"]]
    findings = run(tmp_path, master, {"a.xlsx": team(合同=[contract()], 订单=orders)})
    assert hits(findings, "order-overdue") == []


def test_collection_exceeds_contract_at_the_first_exceeding_row(tmp_path, master):
    """Running total by date across files: 200 (b, 11-03) + 600 (11-05) + 300 (11-10) passes 1000 at 11-10."""
    files = {"a.xlsx": team(合同=[contract("K001", amount=1000), contract("K002", amount=1000)],
                            回款=[["P1", "K001", d(10), 300], ["P2", "K001", d(5), 600],
                                  ["P3", "K002", d(5), 600], ["P4", "K002", d(6), 400]]),
             "b.xlsx": team([customer("C002", "乙")], 回款=[["P9", "K001", d(3), 200]])}
    findings = run(tmp_path, master, files)
    assert hits(findings, "collection-exceeds-contract") == [
        ("a.xlsx", "回款", 2, "回款金额", "D2", "collection-exceeds-contract")]
    assert next(f for f in findings if f.code == "collection-exceeds-contract").severity == "warning"


def test_collection_running_total_breaks_date_ties_by_file_then_row(tmp_path, master):
    """Same date everywhere: a.xlsx rows 2 and 3 come before b.xlsx row 2, so a.xlsx row 3 exceeds."""
    files = {"a.xlsx": team(合同=[contract(amount=1000)], 回款=[["P1", "K001", d(5), 600], ["P2", "K001", d(5), 500]]),
             "b.xlsx": team([customer("C002", "乙")], 回款=[["P3", "K001", d(5), 500]])}
    findings = run(tmp_path, master, files)
    assert hits(findings, "collection-exceeds-contract") == [
        ("a.xlsx", "回款", 3, "回款金额", "D3", "collection-exceeds-contract")]


def test_collection_row_with_an_error_is_not_counted(tmp_path, master):
    """A collection with a bad date is left out, so 600 + 400 equals the amount and nothing fires."""
    coll = [["P1", "K001", d(5), 600], ["P2", "K001", "下周", 300], ["P3", "K001", d(6), 400]]
    findings = run(tmp_path, master, {"a.xlsx": team(合同=[contract(amount=1000)], 回款=coll)})
    assert hits(findings, "bad-type") == [("a.xlsx", "回款", 3, "回款日期", "C3", "bad-type")]
    assert hits(findings, "collection-exceeds-contract") == []


def test_complaint_overdue_resolved_and_open(tmp_path, master):
    """Resolved on day 8 or open 8 days at as-of fires at 受理日期; day 7, or marked resolved, does not."""
    complaints = [["T1", "C001", d(1), d(9), "已解决"], ["T2", "C001", d(1), d(8), "已解决"],
                  ["T3", "C001", d(22), None, "处理中"], ["T4", "C001", d(23), None, "处理中"],
                  ["T5", "C001", d(2), None, None], ["T6", "C001", d(1), None, "已解决"]]
    findings = run(tmp_path, master, {"a.xlsx": team(投诉=complaints)})
    assert hits(findings, "complaint-overdue") == [("a.xlsx", "投诉", 2, "受理日期", "C2", "complaint-overdue"),
                                                   ("a.xlsx", "投诉", 4, "受理日期", "C4", "complaint-overdue"),
                                                   ("a.xlsx", "投诉", 6, "受理日期", "C6", "complaint-overdue")]


def test_complaint_overdue_says_whether_it_was_resolved_late_or_is_still_open(tmp_path, master):
    """A complaint resolved on day 9 "took 8 days to resolve"; one still open at as-of is "open for N days"."""
    complaints = [["T1", "C001", d(1), d(9), "已解决"], ["T2", "C001", d(20), None, "处理中"]]
    findings = run(tmp_path, master, {"a.xlsx": team(投诉=complaints)})
    late, still_open = sorted((f for f in findings if f.code == "complaint-overdue"), key=lambda f: f.row)
    assert "took 8 days to resolve" in late.message and "用了 8 天才解决" in late.message
    assert "open" not in late.message.split(" / ")[1] and "未解决" not in late.message
    assert "open for 10 days" in still_open.message and "10 天未解决" in still_open.message


def test_discount_unauthorized_shows_the_discount_as_typed(tmp_path, master):
    """The discount in the finding is what the rep sees: 15% for a percent cell (even a formula's
    0.15000000000000002), "15%" as typed, 15 as typed — never 15.00% or 0.15000001."""
    rows = [contract("K1", discount=0.15000000000000002), contract("K2", discount="15%"), contract("K3", discount=15),
            contract("K4", discount=0.125)]
    findings = run(tmp_path, master, {"a.xlsx": team(合同=rows)})
    shown = {f.row: (f.value, f.message) for f in findings if f.code == "discount-unauthorized"}
    assert {r: v for r, (v, _) in shown.items()} == {2: "15%", 3: "15%", 4: "15", 5: "12.5%"}
    assert "折扣率 15% 超过 10%" in shown[2][1] and "12.5%" in shown[5][1]


# ------------------------------------------------------------------ expenses

def expense(eid, amount=100, *, rep="S001", category="差旅费", receipt=None, cid=None, approval=None) -> list:
    return [eid, rep, d(12), category, amount, receipt or f"R-{eid}", cid, approval]


def test_expense_over_limit(tmp_path, master):
    """Travel 5000.01 fires at 金额; 5000 exactly, 6000 approved, and Telecom 500 do not."""
    rows = [expense("E1", 5000.01), expense("E2", 5000), expense("E3", 6000, approval="已批准"),
            expense("E4", 500, category="通讯费"), expense("E5", 501, category="Telecom", approval="待审批")]
    findings = run(tmp_path, master, {"a.xlsx": team(费用=rows)})
    assert hits(findings, "expense-over-limit") == [("a.xlsx", "费用", 2, "金额", "E2", "expense-over-limit"),
                                                    ("a.xlsx", "费用", 6, "金额", "E6", "expense-over-limit")]


def test_expense_duplicate_receipt_flags_every_row_across_reps(tmp_path, master):
    """The same receipt written with spaces and dashes by two reps flags all three rows; others not."""
    files = {"a.xlsx": team(费用=[expense("E1", receipt="FP 0012-3456"), expense("E2", receipt="FP00123457")]),
             "b.xlsx": team([customer("C002", "乙")], 费用=[expense("E3", rep="S002", receipt="fp00123456"),
                                                           expense("E4", rep="S002", receipt="ＦＰ００１２３４５６")])}
    findings = run(tmp_path, master, files)
    assert hits(findings, "expense-duplicate-receipt") == [
        ("a.xlsx", "费用", 2, "发票号", "F2", "expense-duplicate-receipt"),
        ("b.xlsx", "费用", 2, "发票号", "F2", "expense-duplicate-receipt"),
        ("b.xlsx", "费用", 3, "发票号", "F3", "expense-duplicate-receipt")]
    assert [f.rep_id for f in findings if f.code == "expense-duplicate-receipt"] == ["S001", "S002", "S002"]


def test_expense_missing_customer(tmp_path, master):
    """Entertainment without 客户编号 fires at 客户编号; with a customer, or Travel without one, does not."""
    rows = [expense("E1", category="招待费"), expense("E2", category="招待费", cid="C001"), expense("E3")]
    findings = run(tmp_path, master, {"a.xlsx": team(费用=rows)})
    assert hits(findings, "expense-missing-customer") == [
        ("a.xlsx", "费用", 2, "客户编号", "G2", "expense-missing-customer")]


# ------------------------------------------------------------------ the as-of date

def test_as_of_overrides_the_period_end(tmp_path, master):
    """With as_of 11-15, an opportunity closing 11-20 is not overdue yet; with the period end it is."""
    files = {"a.xlsx": team(活动=[activity(d(10))], 商机=[opportunity(close=d(20))])}
    at_end = run(tmp_path, master, files)
    mid = validate([tmp_path / "team"], master=master, period="2026-11", as_of=d(15)).findings
    assert hits(at_end, "opportunity-overdue") == [("a.xlsx", "商机", 2, "预计签约", "H2", "opportunity-overdue")]
    assert hits(mid, "opportunity-overdue") == []


def test_rules_follow_the_as_of_date_not_the_wall_clock(tmp_path, master):
    """For period 2020-01 a close date of 2020-02-15 is not overdue and 2021-03-01 is too far ahead."""
    rows = [customer(created=d(1, 1, 2020))]
    opps = [opportunity("O1", close=d(15, 1, 2020)), opportunity("O2", close=d(15, 2, 2020)),
            opportunity("O3", close=d(1, 3, 2021))]
    findings = run(tmp_path, master, {"a.xlsx": team(rows, 活动=[activity(d(20, 1, 2020))], 商机=opps)},
                   period="2020-01")
    assert hits(findings, "opportunity-overdue") == [("a.xlsx", "商机", 2, "预计签约", "H2", "opportunity-overdue")]
    assert hits(findings, "out-of-range") == [("a.xlsx", "商机", 4, "预计签约", "H4", "out-of-range")]
    assert hits(findings, "opportunity-stale") == []


def test_no_period_and_no_as_of_runs_no_date_rules(tmp_path, master):
    """Without a period or as-of date, nothing is overdue (no clock is consulted)."""
    files = {"a.xlsx": team([customer(created=d(1, 1, 2020))], 商机=[opportunity(close=d(1, 1, 2020))])}
    findings = run(tmp_path, master, files, period=None)
    assert [f.code for f in findings if f.code.endswith(("overdue", "stale"))] == []


def test_text_over_the_limit_is_a_finding_and_its_row_is_left_out(tmp_path, master):
    """A 4,001-character summary is `text-too-long` at its cell (the row is not counted); 4,000 is data."""
    acts = [activity(d(25), summary="长" * 4001), activity(d(26), summary="短" * 4000)]
    findings = run(tmp_path, master, {"a.xlsx": team(活动=acts)})
    assert hits(findings, "text-too-long") == [("a.xlsx", "活动", 2, "内容摘要", "E2", "text-too-long")]
    [f] = [f for f in findings if f.code == "text-too-long"]
    assert f.severity == "error" and f.value == "长" * 49 + "…" and "4000" in f.message


def test_long_text_in_a_typed_column_is_too_long_not_a_type_error(tmp_path, master):
    """A 5,000-character 企业规模 or 客户编号 is `text-too-long`, never echoed whole in a message."""
    findings = run(tmp_path, master, {"a.xlsx": team([customer(size="大" * 5000), customer("C" * 5000, "乙")])})
    assert sorted(hits(findings, "text-too-long")) == [("a.xlsx", "客户", 2, "企业规模", "C2", "text-too-long"),
                                                       ("a.xlsx", "客户", 3, "客户编号", "A3", "text-too-long")]
    assert max(len(f.message) + len(f.value) for f in findings) < 600


def test_an_echoed_value_is_cut_to_200_characters(tmp_path, master):
    """SPEC §7: a 1,000-character bad phone shows 200 characters in the finding's value and message."""
    findings = run(tmp_path, master, {"a.xlsx": team([customer(phone="1" * 1000)])})
    [f] = [f for f in findings if f.code == "bad-pattern"]
    assert len(f.value) == 200 and f.value.endswith("…") and "1" * 200 not in f.message


# ------------------------------------------------------------------ coverage and messages

COVERED = {
    "missing-sheet", "missing-column", "ambiguous-column", "ambiguous-sheet", "unknown-column", "required-missing", "bad-type",
    "bad-enum", "bad-pattern", "out-of-range", "duplicate-key", "unknown-reference", "date-order",
    "totals-row-skipped", "file-open-elsewhere", "customer-conflict", "grade-mismatch", "follow-up-overdue", "opportunity-overdue",
    "opportunity-stale", "contract-unreviewed", "discount-unauthorized", "signed-without-date",
    "contract-amount-mismatch", "order-overdue", "complaint-overdue", "expense-over-limit",
    "expense-duplicate-receipt", "expense-missing-customer", "collection-exceeds-contract", "text-too-long",
    "collection-not-counted",
}


def test_every_code_is_covered_here_or_elsewhere():
    """A new code in CODES needs a test in this file (or a named home elsewhere)."""
    assert set(CODES) == COVERED | ELSEWHERE


def test_every_covered_code_fires_in_one_workbook_with_bilingual_messages(tmp_path, master):
    """One messy workbook set raises every covered code; every message has a zh and an en part."""
    bad = {"客户": [["标题"], [*CUSTOMER_HEADER, "备注", "客户编号"]],  # ambiguous: 客户 unusable here
           "活动": [[h for h in ACTIVITY_HEADER if h != "内容摘要"]],
           "费用": [EXPENSE_HEADER], "Expenses": [EXPENSE_HEADER]}  # two expense sheets: neither used
    good = team(
        [customer("C001", "上海甲科技有限公司", grade="A", created=d(1, 7)),
         customer("C002", "乙", size="超大", phone="123", potential=-1, created=d(10), updated=d(1, 1)),
         customer("C003", "上海甲科技", owner="S002"), customer("C001", "丙"), customer("C004", "丁", contact=None),
         ["合计"]],
        活动=[activity(d(25), "C999"), activity("昨天", "C003"), activity(d(26), "C003", summary="长" * 4001)],
        商机=[opportunity(close=d(1))],
        合同=[contract("K1", legal="待审", signed=None, discount="20%", amount=5000)],
        合同明细=[["K1", "服务器", 1, 100]],
        订单=[["O1", "K1", d(1), d(2), None, None, None]],
        回款=[["P1", "K1", d(3), 6000]],
        投诉=[["T1", "C003", d(1), None, None]],
        费用=[expense("E1", 9000, category="招待费", receipt="R1"), expense("E2", receipt="R 1")],
    )
    lock = {"~$good.xlsx": b"\x05excel owner file"}  # someone has good.xlsx open
    findings = run(tmp_path, master, {"bad.xlsx": bad, "good.xlsx": good}, other_files=lock)
    assert {f.code for f in findings} == COVERED
    for code in COVERED:
        assert [f.severity for f in findings if f.code == code][0] == CODES[code][0]
