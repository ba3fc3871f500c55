"""Files Excel opens are read, whatever their extension and however their writer laid them out; what
cannot be read is rejected with a reason a manager understands. Every file is generated here (see
realworld.py), except tests/data/velvetsweatshop.xls (Apache POI's test file for bug 50833)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
import realworld as rw
from click.testing import CliRunner

from salesbook.cli import main
from salesbook.io.pool import Job, run_jobs
from salesbook.io.precheck import Limits
from salesbook.io.team_reader import read_team_file
from salesbook.pipeline import validate

DATA = Path(__file__).with_name("data")
SMALL_WORKER = 320 * 2**20  # far less than a parser would need to build any of the refused grids


def _run(folder: Path):
    run = validate([folder], workers=2)
    return run, {f.label: f for f in run.files}


def _customers(run) -> dict[str, str]:
    frame = run.dataset.frames["customers"]
    return dict(zip(frame["customer_id"], frame["customer_name"], strict=True))


def _codes(run, label: str) -> list[str]:
    return [f.code for f in run.findings if f.file == label and f.code != "missing-sheet"]


def _read_in_small_worker(path: Path):
    """read_team_file in a worker allowed SMALL_WORKER bytes: a refusal comes back as a result, a
    parser that tried to build the grid would have died instead."""
    done = run_jobs([Job("f", read_team_file, (str(path), path.name, date(2000, 1, 1), None, Limits()))],
                    workers=1, timeout=60, max_bytes=SMALL_WORKER)
    return done["f"]


@pytest.fixture
def team(tmp_path) -> Path:
    folder = tmp_path / "team"
    folder.mkdir()
    return folder


# --- guard the sheets that are read, by what the parser returns ----------------------------------------

def test_a_notes_sheet_with_a_cell_in_column_xfd_does_not_block_the_workbook(team):
    """A 备注 sheet holding one cell in XFD (its dimension A1:XFD1) is not read, so the workbook is."""
    rw.customers_xlsx(team / "a.xlsx", 备注=[["见附件"] + [None] * 16382 + ["最后一列"]])
    run, files = _run(team)
    assert files["a.xlsx"].status == "accepted" and _customers(run) == rw.CUSTOMERS


def test_excels_stray_formatted_cells_far_away_do_not_block_a_read_sheet(team):
    """Formatting-only cells at A1048576 or XFD1048576 of 客户 itself (as Excel saves them) count for
    nothing: the sheet's data is two rows and it is read."""
    def formatted(row: int, col: int):
        return lambda wb, ws: next(iter(ws.values())).write_blank(row, col, None, wb.add_format({"bold": True}))

    rw.xlsx(team / "tall.xlsx", {"客户": [rw.HEADERS, *rw.ROWS]}, extra=formatted(1048575, 0))
    rw.xlsx(team / "corner.xlsx", {"Customers": [rw.HEADERS, rw.ROWS[0]]}, extra=formatted(1048575, 16383))
    rw.xlsx(team / "empty.xlsx", {"客户": [rw.HEADERS, *rw.ROWS]})
    rw.set_dimension(team / "empty.xlsx", "xl/worksheets/sheet1.xml", None)
    run, files = _run(team)
    import zipfile

    assert b'<dimension ref="A1:XFD1048576"/>' in zipfile.ZipFile(team / "corner.xlsx").read("xl/worksheets/sheet1.xml")
    assert {k: (f.status, f.rows) for k, f in files.items()} == {
        "tall.xlsx": ("accepted", 2), "corner.xlsx": ("accepted", 1), "empty.xlsx": ("accepted", 2)}


def test_a_wps_lookup_sheet_spanning_a1_to_xfd23_is_not_read(team):
    """A lookup sheet of values from A1 to XFD23 (as WPS Spreadsheets saves drop-down lists) beside the
    team sheets leaves the workbook readable."""
    lookup = [["选项"] + [None] * 16382 + [f"v{i}"] for i in range(23)]
    rw.customers_xlsx(team / "wps.xlsx", 下拉列表=lookup)
    run, files = _run(team)
    assert files["wps.xlsx"].status == "accepted" and _customers(run) == rw.CUSTOMERS


def test_a_read_sheet_whose_data_is_absurdly_wide_is_refused_naming_it(team):
    """客户 with a value in column ALM (1,001 columns of data) is refused, naming the sheet and the span."""
    rw.customers_xlsx(team / "wide.xlsx")
    rw.with_cell(team / "wide.xlsx", "xl/worksheets/sheet1.xml", "ALM3")
    run, files = _run(team)
    reason = files["wide.xlsx"].reason
    assert files["wide.xlsx"].status == "rejected" and "'客户'" in reason and "A1:ALM3" in reason, reason
    assert _codes(run, "wide.xlsx") == ["file-unsupported"]


# --- content under another extension --------------------------------------------------------------------

def test_xlsb_and_xls_are_read_by_their_content_whatever_their_name(team):
    """Binary workbooks (.xlsb) and Excel 97-2003 files are read, also when named .xlsx."""
    rows = [rw.HEADERS, *rw.ROWS]
    rw.xlsb(team / "binary.xlsb", {"客户": rows})
    rw.xlsb(team / "binary_named.xlsx", {"Customers": rows})
    rw.xls(team / "old.xls", {"客户": [rw.HEADERS, [*rw.ROWS[0][:5], date(2026, 11, 3)]]})
    rw.xls(team / "old_named.xlsx", {"客户": rows})
    run, files = _run(team)
    assert {k: (f.status, f.rows) for k, f in files.items()} == {
        "binary.xlsb": ("accepted", 2), "binary_named.xlsx": ("accepted", 2), "old.xls": ("accepted", 1),
        "old_named.xlsx": ("accepted", 2)}
    assert [f for f in run.findings if f.severity == "error" and f.code != "duplicate-key"] == []


def test_opendocument_spreadsheets_are_read_also_under_another_name(team):
    """An .ods (as LibreOffice or WPS saves it), also one named .xlsx, is read; an OpenDocument text is not
    taken for a spreadsheet."""
    rw.ods(team / "libre.ods", {"客户": [rw.HEADERS, rw.ROWS[0]]})
    rw.ods(team / "libre_named.xlsx", {"Customers": [rw.HEADERS, rw.ROWS[1]]})
    rw.ods(team / "letter.ods", {"客户": [rw.HEADERS]})
    rw.rewrite_zip(team / "letter.ods", lambda n, d: (n, b"application/vnd.oasis.opendocument.text" if n == "mimetype"
                                                      else d))
    run, files = _run(team)
    assert {k: (f.status, f.rows) for k, f in files.items()} == {
        "libre.ods": ("accepted", 1), "libre_named.xlsx": ("accepted", 1), "letter.ods": ("rejected", 0)}
    assert _customers(run) == rw.CUSTOMERS and "OpenDocument" in files["letter.ods"].reason


def test_html_and_spreadsheetml_exports_named_xls_are_read(team):
    """What web and ERP systems export as "Excel": an HTML table inside a layout table (found by its
    header), one in a GBK page named by Excel's own sheet name, and SpreadsheetML 2003 (by sheet name,
    or by file name when it has one sheet)."""
    rw.html_table(team / "客户列表.xls", [rw.HEADERS, rw.ROWS[0]], layout=True)
    rw.html_table(team / "export.xls", [rw.HEADERS, rw.ROWS[1]], excel_name="客户", encoding="gbk", layout=True)
    rw.spreadsheetml(team / "erp.xls", {"客户": [rw.HEADERS, ["C003", "广州测试", "王五", "13712345678", "S001",
                                                             date(2026, 11, 7)]]})
    rw.spreadsheetml(team / "客户导出.xls", {"Sheet1": [rw.HEADERS, ["C004", "深圳某公司", "赵六", 13612345678,
                                                                     "S001", "2026/11/8"]]})
    run, files = _run(team)
    assert {k: (f.status, f.rows) for k, f in files.items()} == {
        "客户列表.xls": ("accepted", 1), "export.xls": ("accepted", 1), "erp.xls": ("accepted", 1),
        "客户导出.xls": ("accepted", 1)}
    assert _customers(run) == {**rw.CUSTOMERS, "C003": "广州测试", "C004": "深圳某公司"}
    assert [f for f in run.findings if f.severity == "error"] == []


def test_exports_are_parsed_without_entities_and_within_limits(team):
    """A SpreadsheetML file with a DTD, one placing a cell past XFD, and an HTML table 1,200 columns
    wide are refused with their reasons; none is expanded."""
    rw.spreadsheetml(team / "dtd.xls", {"客户": [rw.HEADERS, ["&lol;"]]},
                     prolog='<!DOCTYPE x [<!ENTITY lol "lollollol">]>')
    (team / "dtd.xls").write_text((team / "dtd.xls").read_text("utf-8").replace("&amp;lol;", "&lol;"), "utf-8")
    rw.spreadsheetml(team / "far.xls", {"客户": [rw.HEADERS, rw.ROWS[0]]}, skip_to={"at": 1, "col": 20000})
    rw.html_table(team / "wide.xls", [rw.HEADERS + [f"c{i}" for i in range(1200)], rw.ROWS[0]])
    run, files = _run(team)
    assert "DTD" in files["dtd.xls"].reason and "lollollol" not in repr(run.findings)
    assert "XFD" in files["far.xls"].reason and "20000" in files["far.xls"].reason
    assert "1,001 columns, more than salesbook reads" in files["wide.xls"].reason
    assert {f.file: f.code for f in run.findings} == {"dtd.xls": "file-unsupported", "far.xls": "file-unsupported",
                                                      "wide.xls": "file-unsupported"}


def test_csv_as_utf16_tab_text_semicolons_or_a_tab_file_named_xls_is_read(team):
    """Excel's "Unicode text" (UTF-16 with BOM, tabs) as .txt, a semicolon CSV, and tab-separated text
    named .xls (a common web export) are read."""
    def text(sep: str, rows: list[list]) -> str:
        return "\r\n".join(sep.join(r) for r in rows) + "\r\n"

    (team / "客户.txt").write_bytes(text("\t", [rw.HEADERS, rw.ROWS[0]]).encode("utf-16"))
    (team / "客户_semicolon.csv").write_bytes(text(";", [rw.HEADERS, rw.ROWS[1]]).encode("utf-8-sig"))
    (team / "客户_web.xls").write_bytes(text("\t", [rw.HEADERS, ["C005", "杭州示例", "钱七", "13712345679", "S001",
                                                                  "2026-11-09"]]).encode("gb18030"))
    assert (team / "客户.txt").read_bytes()[:2] == b"\xff\xfe"
    run, files = _run(team)
    assert {k: (f.status, f.rows) for k, f in files.items()} == {
        "客户.txt": ("accepted", 1), "客户_semicolon.csv": ("accepted", 1), "客户_web.xls": ("accepted", 1)}
    assert _customers(run) == {**rw.CUSTOMERS, "C005": "杭州示例"}


# --- package layouts, passwords, macro sheets --------------------------------------------------------

def test_a_workbook_part_elsewhere_or_behind_backslashes_is_found_by_its_relationships(team):
    """The workbook part under wtf/ (found through _rels/.rels), or every member named with backslashes,
    is read."""
    rw.moved_package(rw.customers_xlsx(team / "moved.xlsx"))
    rw.moved_package(rw.customers_xlsx(team / "backslash.xlsx"), "xl", backslashes=True)
    import zipfile

    assert "wtf/workbook.xml" in zipfile.ZipFile(team / "moved.xlsx").namelist()
    assert "xl\\workbook.xml" in zipfile.ZipFile(team / "backslash.xlsx").namelist()
    run, files = _run(team)
    assert {k: (f.status, f.rows) for k, f in files.items()} == {"moved.xlsx": ("accepted", 2),
                                                                 "backslash.xlsx": ("accepted", 2)}


def test_excels_default_password_is_opened_as_excel_opens_it_and_a_real_one_is_not(team, tmp_path):
    """A workbook "protected" with Excel's built-in VelvetSweatshop opens (.xlsx generated here, .xls from
    Apache POI); one with a real password stays `file-encrypted`."""
    plain = rw.customers_xlsx(tmp_path / "plain.xlsx")
    rw.encrypt(team / "velvet.xlsx", plain, "VelvetSweatshop")
    rw.encrypt(team / "secret.xlsx", plain, "s3cret")
    (team / "velvet.xls").write_bytes((DATA / "velvetsweatshop.xls").read_bytes())
    run, files = _run(team)
    assert files["velvet.xlsx"].status == "accepted" and files["velvet.xlsx"].rows == 2
    assert "default password" in files["velvet.xlsx"].reason
    assert _codes(run, "velvet.xls") == ["no-team-sheet"]  # opened and read: its sheets are Sheet1…3
    assert "Sheet1" in next(f.message for f in run.findings if f.file == "velvet.xls")
    assert _codes(run, "secret.xlsx") == ["file-encrypted"]


def test_macro_and_dialog_sheets_are_skipped_and_the_rest_is_read(team):
    """An Excel 4 macro sheet (in .xlsm or .xlsb) or a dialog sheet no longer makes the file unreadable:
    the team sheets are read and the skipped macro sheet is noted."""
    rw.with_macro_sheet(rw.customers_xlsx(team / "macro.xlsm"))
    rw.with_macro_sheet(rw.customers_xlsx(team / "dialog.xlsm"), "dialogsheet")
    rw.xlsb(team / "macro.xlsb", {"Customers": [rw.HEADERS, *rw.ROWS]}, macro_sheet=True)
    run, files = _run(team)
    assert {k: (f.status, f.rows) for k, f in files.items()} == {
        "macro.xlsm": ("accepted", 2), "dialog.xlsm": ("accepted", 2), "macro.xlsb": ("accepted", 2)}
    assert "Macro1" in files["macro.xlsm"].reason and "Macro1" in files["macro.xlsb"].reason


# --- limits before the grid -----------------------------------------------------------------------------

def test_an_xls_declaring_65536_by_256_cells_is_refused_before_the_parser_reserves_them(tmp_path):
    """A small .xls whose notes sheet has cells at A1 and IV65536 is refused by its declared range, in a
    worker far too small for the half gigabyte the parser would reserve, naming the sheet."""
    path = rw.xls(tmp_path / "big.xls", {"客户": [rw.HEADERS, *rw.ROWS],
                                         "备注": [["a"]] + [[]] * 65534 + [[None] * 255 + ["z"]]})
    assert path.stat().st_size < 50_000
    status, res = _read_in_small_worker(path)
    assert status == "ok" and res.status == "rejected", (status, str(res)[:300])
    assert "'备注'" in res.reason and "65,536 rows × 256 columns" in res.reason


def test_a_cell_reference_past_xfd_is_refused_before_any_grid(tmp_path):
    """r="NaNA17" (column 247,105): with the sheet's dimension or without it, the file is refused in a
    small worker, naming the sheet and the reference; nothing was allocated for it."""
    small = rw.with_cell(rw.customers_xlsx(tmp_path / "a.xlsx"), "xl/worksheets/sheet1.xml", "NaNA17")
    nodim = rw.set_dimension(rw.with_cell(rw.customers_xlsx(tmp_path / "b.xlsx"), "xl/worksheets/sheet1.xml",
                                          "NaNA17"), "xl/worksheets/sheet1.xml", None)
    for path in (small, nodim):
        status, res = _read_in_small_worker(path)
        assert status == "ok" and res.status == "rejected", (path.name, status, str(res)[:300])
        assert "'客户'" in res.reason and "XFD" in res.reason and "NANA17" in res.reason.upper(), res.reason


def test_a_far_cell_in_a_long_sheet_that_lies_about_its_size_ends_the_worker_not_the_run(team):
    """One cell at NaNA300 in a 300-row sheet whose dimension claims A1:F300 would need a 2 GB grid: the
    reader's worker hits its memory limit and the file is rejected saying so in the manager's words,
    naming the sheet; the file beside it is read."""
    rows = [rw.HEADERS] + [[f"C{i:04d}", "某公司", "张三", "13812345678", "S001", "2026-11-03"] for i in range(299)]
    rw.with_cell(rw.xlsx(team / "mutated.xlsx", {"客户": rows}), "xl/worksheets/sheet1.xml", "NaNA300")
    rw.xlsx(team / "good.xlsx", {"Customers": [rw.HEADERS, rw.ROWS[0]]})
    run, files = _run(team)
    reason = files["mutated.xlsx"].reason
    assert files["mutated.xlsx"].status == "rejected" and "memory" in reason and "'客户'" in reason, reason
    for internal in ("SIGABRT", "memory allocation of", "panicked", "exit "):
        assert internal not in reason
    assert files["good.xlsx"].status == "accepted"


def test_a_parser_panic_in_process_is_a_rejection_like_any_other(tmp_path):
    """An .xlsb cell pointing past its string table makes the parser panic (a PanicException, which is
    no Exception); read_team_file called in this process rejects the file instead of raising."""
    path = rw.xlsb(tmp_path / "panic.xlsb", {"客户": [rw.HEADERS, *rw.ROWS]}, bad_string_index=True)
    res = read_team_file(str(path), path.name, date(2000, 1, 1), None, Limits())
    assert res.status == "rejected" and [f.code for f in res.findings] == ["file-unreadable"]
    assert "Excel" in res.reason and "panic" not in res.reason.lower()


# --- no sheet we know, messages, validate --out -----------------------------------------------------------

def test_a_readable_workbook_or_csv_without_a_known_sheet_is_no_team_sheet(team):
    """A price list workbook and a CSV of unknown columns are rejected with `no-team-sheet`, the
    workbook's message naming the sheets it has."""
    rw.xlsx(team / "价目表.xlsx", {"价目表": [["产品", "单价"], ["服务器", 52000]], "Sheet2": []})
    (team / "stock.csv").write_text("sku,qty\nA1,3\n", encoding="utf-8")
    run, files = _run(team)
    assert _codes(run, "价目表.xlsx") == ["no-team-sheet"] and _codes(run, "stock.csv") == ["no-team-sheet"]
    assert files["价目表.xlsx"].status == "rejected"
    message = next(f.message for f in run.findings if f.file == "价目表.xlsx")
    assert "价目表" in message and "Sheet2" in message and "team template" in message


def _bad_folder(folder: Path) -> None:
    rw.customers_xlsx(folder / "ok.xlsx")
    (folder / "zip.xlsx").write_bytes(_zip_of({"readme.txt": b"hello"}))
    (folder / "doc.xls").write_bytes(DATA.joinpath("velvetsweatshop.xls").read_bytes()[:4096])
    rw.xlsb(folder / "panic.xlsb", {"客户": [rw.HEADERS, *rw.ROWS]}, bad_string_index=True)
    rw.xls(folder / "huge.xls", {"备注": [["a"]] + [[]] * 65534 + [[None] * 255 + ["z"]]})
    rw.with_cell(rw.customers_xlsx(folder / "nana.xlsx"), "xl/worksheets/sheet1.xml", "NaNA17")
    (folder / "empty.xlsx").write_bytes(b"")
    (folder / "random.xls").write_bytes(bytes(range(256)) * 8)


def _zip_of(members: dict[str, bytes]) -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_reasons_are_in_each_language_free_of_parser_internals_and_stable(team):
    """Every rejection says what happened and what to do, in Chinese and in English separately, names
    sheets by name, shows no parser internals, and reads the same on a second run."""
    _bad_folder(team)
    first = {f.label: f.reason for f in validate([team], workers=2).files}
    second = {f.label: f.reason for f in validate([team], workers=1).files}
    assert first == second
    rejected = {k: v for k, v in first.items() if k != "ok.xlsx"}
    assert len(rejected) == 7 and first["ok.xlsx"] == ""
    for label, reason in rejected.items():
        zh, sep, en = reason.partition(" / ")
        assert sep and re.search(r"[\u4e00-\u9fff]", zh) and re.search(r"[A-Za-z]{3,} [a-z]{2,}", en), (label, reason)
        assert not re.search(r"[A-Za-z]+ [a-z]+ [a-z]+", zh), (label, zh)  # no English sentence in the Chinese
        for internal in ("Calamine", "calamine", "panicked", "thread", ".rs:", "xl/worksheets", "Error:", "0x"):
            assert internal not in reason, (label, reason)
    assert "'备注'" in first["huge.xls"] and "'客户'" in first["nana.xlsx"]
    assert "zip archive" in first["zip.xlsx"] and "save it as .xlsx" in first["panic.xlsb"]


def test_validate_out_writes_files_csv_as_consolidate_does(team, tmp_path):
    """`salesbook validate --out` writes files.csv (file, status, reason, sha256, rows) beside the findings."""
    _bad_folder(team)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["validate", str(team), "--out", str(out), "--workers", "2"])
    assert result.exit_code == 1, result.output
    rows = list(csv.DictReader(open(out / "files.csv", encoding="utf-8-sig")))
    assert list(rows[0]) == ["file", "status", "reason", "sha256", "rows"]
    assert {r["file"]: r["status"] for r in rows}["ok.xlsx"] == "accepted"
    assert sum(r["status"] == "rejected" for r in rows) == 7
    assert (out / "findings.csv").exists() and (out / "findings.xlsx").exists()
