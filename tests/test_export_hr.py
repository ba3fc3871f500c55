"""The HR export: payroll columns only, neutralised text, hashes in the manifest."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from test_scoring import build_example

from salesbook.exports import HR_COLUMNS, write_hr_export
from salesbook.io.writers import csv_bytes, neutralize
from salesbook.pipeline import consolidate

PHONE = re.compile(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


FORMULA_CHARS = "=+-@＝＋－＠"  # ASCII and full-width
LEADING = ("\t", "\r", "\n")


def _runs_as_formula(text: str) -> bool:
    return text.startswith(LEADING) or text.lstrip()[:1] in tuple(FORMULA_CHARS)


@given(st.text(alphabet=st.sampled_from(list(FORMULA_CHARS) + [" ", "\u3000", "\xa0", "\t", "\n", "a", "1", "'"]))
       | st.text())
def test_neutralised_text_never_starts_like_a_formula(text: str) -> None:
    """After neutralising, no text starts with = + - @ (ASCII or full-width, also after spaces), tab, CR or LF;
    safe text is unchanged and neutralised text only gains a leading apostrophe."""
    out = neutralize(text)
    assert not _runs_as_formula(out)
    if _runs_as_formula(text):
        assert out == "'" + text
    else:
        assert out == text


@given(st.lists(st.text(min_size=1), min_size=1, max_size=5))
def test_csv_cells_are_neutralised(cells: list[str]) -> None:
    """Every cell of an exported CSV row is neutralised."""
    import csv
    import io

    data = csv_bytes([f"c{i}" for i in range(len(cells))], [cells])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    for cell in rows[1]:
        assert not _runs_as_formula(cell)


def test_hr_export_files_columns_and_manifest(tmp_path: Path) -> None:
    """The export has payroll columns only, no phone or e-mail anywhere, and the manifest's hashes match."""
    team, master = build_example(tmp_path)
    c = consolidate(team, master=master, period="2026-11")
    out = tmp_path / "hr"
    paths = write_hr_export(c, out)
    assert [p.name for p in paths] == ["scorecards_2026-11.csv", "scorecards_2026-11.xlsx", "manifest.json"]
    raw = (out / "scorecards_2026-11.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0].split(",") == HR_COLUMNS
    assert "王芳" in text and "E1001" in text
    assert not PHONE.search(text) and not EMAIL.search(text)
    assert "甲机械" not in text and "C1" not in text  # no customer names or ids
    wb = load_workbook(out / "scorecards_2026-11.xlsx", read_only=True)
    cells = [str(v) for row in wb.active.iter_rows(values_only=True) for v in row if v is not None]
    for v in cells:
        assert not PHONE.search(v) and not EMAIL.search(v)
        assert not v.startswith(("=", "+", "@", "\t", "\r")) and not (v.startswith("-") and not _is_number(v))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        assert hashlib.sha256((out / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]


def test_hr_export_explains_the_coefficient_flags_leavers_and_counts_whole(tmp_path: Path) -> None:
    """The HR files carry status, base score, deductions and violations; counts are whole numbers in the CSV;
    the xlsx shows Chinese over English headers, 在职 / 离职, integer and money formats, the key columns frozen."""
    import csv
    import io

    team, master = build_example(tmp_path)
    c = consolidate(team, master=master, period="2026-11")
    write_hr_export(c, tmp_path / "hr")
    text = (tmp_path / "hr" / "scorecards_2026-11.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {"status", "base_score", "deductions", "violations"} <= set(rows[0])
    by_name = {r["name"]: r for r in rows}
    assert by_name["杨帆"]["status"] == "Left" and by_name["王芳"]["status"] == "Active"
    for r in rows:
        for col in ("violations", "new_customers", "activities"):
            assert r[col].isdigit(), (col, r[col])  # 81, never 81.0
        assert float(r["score"]) == max(0.0, round(float(r["base_score"]) - float(r["deductions"]), 2))
    wb = load_workbook(tmp_path / "hr" / "scorecards_2026-11.xlsx")
    ws = wb.active
    header = [c.value for c in ws[1]]
    assert header[:5] == ["工号\nEmployee ID", "姓名\nName", "得分\nScore", "评级\nRating", "绩效系数\nCoefficient"]
    assert ws.freeze_panes == "F2" and ws.page_setup.orientation == "landscape"
    col = {h.split("\n")[1]: j for j, h in enumerate(header, start=1)}
    status = [ws.cell(r, col["Status"]).value for r in range(2, ws.max_row + 1)]
    assert "离职" in status and "在职" in status and "Left" not in status
    assert ws.cell(2, col["Activities"]).number_format == "0" and isinstance(ws.cell(2, col["Activities"]).value, int)
    assert ws.cell(2, col["Revenue"]).number_format == "#,##0.00"
    widths = {j: ws.column_dimensions[ws.cell(1, j).column_letter].width for j in col.values()}
    for r in range(2, ws.max_row + 1):  # no ###: every amount fits its column
        v = ws.cell(r, col["Revenue"]).value
        assert v is None or len(f"{v:,.2f}") < widths[col["Revenue"]]
    rules = [r.formula[0] for cf in ws.conditional_formatting for r in cf.rules]
    assert any("离职" in f for f in rules) and any('="S"' in f for f in rules)


def _is_number(v: str) -> bool:
    try:
        float(v)
        return True
    except ValueError:
        return False


def test_hostile_names_are_neutralised_in_hr_export(tmp_path: Path) -> None:
    """A rep name like '=HYPERLINK(…)' from the roster reaches HR as inert text."""
    from conftest import write_master

    team, _ = build_example(tmp_path)
    master = write_master(tmp_path / "evil.xlsx",
                          [["S001", '=HYPERLINK("http://x","a")', "E1", "@team", "华东", "李强", "在职"]],
                          [["S001", "2026-11", 1, 1, 1, 1, 1]])
    c = consolidate(team, master=master, period="2026-11")
    write_hr_export(c, tmp_path / "hr")
    text = (tmp_path / "hr" / "scorecards_2026-11.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and "'@team" in text
    wb = load_workbook(tmp_path / "hr" / "scorecards_2026-11.xlsx")
    cells = [c for row in wb.active.iter_rows() for c in row]
    values = [c.value for c in cells]
    assert "=HYPERLINK(\"http://x\",\"a\")" in values and "@team" in values  # the exact text, no apostrophe
    assert not [c.coordinate for c in cells if c.data_type == "f"]
