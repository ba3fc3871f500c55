"""write_xlsx's text-built cells (io.xlsxcells) against XlsxWriter's own write_* calls: the same workbook.

The reference is `write_xlsx(..., _cell_by_cell=True)`, the writer as it was before the cells were built
as text; both are read back with openpyxl and compared cell by cell (value, type, number format, font,
fill, alignment, hyperlink) and sheet by sheet (widths, heights, panes, autofilter, conditional
formats, print setup, defined names).
"""

from __future__ import annotations

import csv
import math
import shutil
import subprocess
import zipfile
from datetime import date, datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from xlsx_facts import workbook_facts

from salesbook.io import writers
from salesbook.io.presentation import row_link, row_links
from salesbook.io.writers import write_xlsx
from salesbook.io.xlsxcells import number_text

HOSTILE = ["=1+1", "@SUM(A1)", "+1", "-2", "＝1+1", "=HYPERLINK(\"http://x\",\"y\")", "http://x", "mailto:a@b.c",
           "ctl\x01\x07\x1f", "cr\rlf\nend", "tab\tx", "_x0041_ stays", " leading", "trailing ", "\ufffe\uffff",
           "lone \ud800 surrogate", "x" * 40_000, "#DIV/0!", "TRUE", "1e5", "007", "a & b < c > d \"q\" 'a'",
           "中文，全角", "emoji 😀"]
ROWS = 60  # rows of each sheet; the capped sheet shows MAX of them
MAX = 45


def _team(tmp_path: Path) -> dict[str, str]:
    team = tmp_path / "team dir#1"
    team.mkdir()
    return {"north.xlsx": str(team / "north.xlsx"), "south 50%.xlsx": str(team / "south 50%.xlsx"),
            "plain.csv": str(team / "plain.csv")}


def _obj(values: list) -> pd.Series:
    return pd.Series(values, dtype=object)  # as a frame of cells read from files holds text (any code point)


def _sheets() -> list[tuple[str, pd.DataFrame]]:
    n = ROWS
    text = _obj([HOSTILE[i % len(HOSTILE)] for i in range(n)])
    findings = pd.DataFrame({
        "file": [["north.xlsx", "south 50%.xlsx", "plain.csv", "unknown.xlsx", None][i % 5] for i in range(n)],
        "sheet": [["客户", "O'Brien's", "", None, "S" * 2100][i % 5] if i % 7 else "客户" for i in range(n)],
        "row": pd.Series([i + 2 if i % 3 else None for i in range(n)], dtype=object),
        "column": ["客户编号"] * n,
        "cell": [f"A{i + 2}" if i % 2 else "" for i in range(n)],
        "severity": [["error", "warning", "info"][i % 3] for i in range(n)],
        "code": ["follow-up-overdue"] * n,
        "message": _obj([t + " / long message that wraps " * (i % 4) for i, t in enumerate(text)]),
        "value": text,
        "rep_id": [f"S{i:06d}" for i in range(n)],
    })
    grades = pd.DataFrame({
        "customer_id": [f"C{i:04d}" for i in range(n)],
        "customer_name": text,
        "owner": [None if i % 9 == 0 else f"S{i % 4:06d}" for i in range(n)],
        "points": [float(i) * 1.5 if i % 6 else np.nan for i in range(n)],
        "grade": [["A", "B", "C", "D", ""][i % 5] for i in range(n)],
        "grade_given": [["A", "C", "C", "", None][i % 5] for i in range(n)],
        "last_activity": [date(2026, 11, 1 + i % 28) if i % 4 else None for i in range(n)],
        "days_since_follow_up": list(range(n)),
        "follow_up_overdue": [i % 2 == 0 for i in range(n)],
        "file": ["north.xlsx"] * n,
        "sheet": ["客户"] * n,
        "row": list(range(2, n + 2)),
    })
    odd = pd.DataFrame({  # a sheet the layout does not know: formats guessed, values of every kind
        "when": [datetime(2026, 1, 1 + i % 28, i % 24, i % 60, 30) if i % 5 else pd.NaT for i in range(n)],
        "stamp": pd.to_datetime(["2026-03-04 05:06:07"] * n),
        "big": [2**53 + i if i % 2 else -(2**63) + i for i in range(n)],
        "ratio": [0.1 + 0.2, 1 / 3, 1e20, -0.0, 5e-324, 1e300, 123456.789, float("nan")] * (n // 8) + [2.5] * (n % 8),
        "flag": [True, False] * (n // 2),
        "mixed": [[1, True, 1.0, "1", None, date(2026, 1, 2), float("nan"), np.int64(7), np.float64(2.5),
                   "=A1", b"bytes", 3 + 4j][i % 12] for i in range(n)],
        "count": np.arange(n, dtype=np.int64),
        "text": pd.Series([t.replace("\ud800", "?") for t in text], dtype="string"),  # Arrow holds no lone surrogate
    })
    return [("校验结果", findings), ("客户分级", grades), ("杂项", odd), ("空", pd.DataFrame({"a": []}))]


def _both(tmp_path: Path, sheets, **kw) -> tuple[Path, Path]:
    old = write_xlsx(tmp_path / "out" / "old.xlsx", sheets, _cell_by_cell=True, **kw)
    new = write_xlsx(tmp_path / "out" / "new.xlsx", sheets, **kw)
    return old, new


def _number_key(v: object) -> object:
    """Numbers to 15 significant digits: the old writer wrote 16 (%.16G), the new one the shortest exact text."""
    if isinstance(v, int | float) and not isinstance(v, bool):
        return float(f"{v:.15G}")
    return v


def _comparable(facts: dict) -> dict:
    out = {}
    for name, sheet in facts.items():
        if name.startswith("<"):
            out[name] = sheet
            continue
        cells = {k: (_number_key(c[0]),) + c[1:] for k, c in sheet["cells"].items()}
        out[name] = {**sheet, "cells": cells}
    return out


@pytest.mark.filterwarnings("ignore:Ignoring URL")
def test_text_built_cells_match_the_cell_by_cell_writer(tmp_path):
    """Every cell's value, type and look, the links, widths, heights, panes, filter, colours and print setup
    are the same as XlsxWriter's write_* calls make them, with hostile text, blanks, dates, bools, big ints
    and a sheet over max_rows."""
    sources = _team(tmp_path)
    old, new = _both(tmp_path, _sheets(), max_rows=MAX, sources=sources)
    a, b = _comparable(workbook_facts(old)), _comparable(workbook_facts(new))
    assert a.keys() == b.keys()
    for name in a:
        if name.startswith("<"):
            assert a[name] == b[name], name
            continue
        for part in a[name]:
            if part == "cells":
                diff = {k: (a[name][part].get(k), b[name][part].get(k))
                        for k in a[name][part].keys() | b[name][part].keys()
                        if a[name][part].get(k) != b[name][part].get(k)}
                assert not diff, (name, sorted(diff.items())[:5])
            else:
                assert a[name][part] == b[name][part], (name, part)
    findings = b["校验结果"]
    links = [c[6] for c in findings["cells"].values() if c[6] is not None]
    assert len(links) > 20 and any(loc and "!A" in loc for _, loc, _ in links)
    assert findings["cells"][f"A{MAX + 2}"][0].startswith(f"… 另有 {ROWS - MAX} 行")
    assert b["客户分级"]["conditional"] and findings["heights"] and findings["freeze"] and findings["filter"]


def test_new_cells_hold_the_exact_values(tmp_path):
    """Numbers read back exactly (shortest text Excel reads as the same double), text stays text (never a
    formula, control characters made visible, cut at 32,767), dates are date serials in the date format."""
    sheets = _sheets()
    new = write_xlsx(tmp_path / "new.xlsx", sheets, max_rows=MAX)
    ws = openpyxl.load_workbook(new)["杂项"]
    header = [c.value for c in ws[1]]
    col = {h.split("\n")[-1]: j for j, h in enumerate(header)}
    odd = sheets[2][1]
    for i in range(MAX):
        ratio, big = odd["ratio"][i], odd["big"][i]
        got = ws.cell(i + 2, col["ratio"] + 1).value
        assert (got is None) if math.isnan(ratio) else got == ratio
        assert float(ws.cell(i + 2, col["big"] + 1).value) == float(big)
        text = ws.cell(i + 2, col["text"] + 1)
        assert text.data_type == "s" and "\x01" not in text.value and len(text.value) <= 32_767
        when = ws.cell(i + 2, col["when"] + 1)
        assert when.value is None if odd["when"][i] is pd.NaT else (when.value == odd["when"][i] and when.is_date)
    with zipfile.ZipFile(new) as zf:
        xml = b"".join(zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/sheet"))
    assert b"<f>" not in xml  # no formula anywhere: every text a string cell


def test_rich_text_markup_from_a_file_stays_literal_text(tmp_path):
    """Text shaped like XlsxWriter's rich-string markup ("<r>…</r>") is an escaped string, not markup."""
    texts = ["<r><t>x</t></r>", "<r>&</r>", "<r><rPr><b/></rPr><t>bold</t></r>"]
    path = write_xlsx(tmp_path / "r.xlsx", [("杂项", pd.DataFrame({"t": texts}))])
    ws = openpyxl.load_workbook(path).active
    assert [ws.cell(i + 2, 1).value for i in range(len(texts))] == texts


def test_same_data_gives_the_same_bytes(tmp_path):
    """Two writes of the same sheets are byte for byte the same file."""
    sources = _team(tmp_path)
    one = write_xlsx(tmp_path / "a" / "c.xlsx", _sheets(), max_rows=MAX, sources=sources).read_bytes()
    two = write_xlsx(tmp_path / "b" / "c.xlsx", _sheets(), max_rows=MAX, sources=sources).read_bytes()
    assert one == two


@pytest.mark.filterwarnings("ignore:Ignoring URL")
def test_other_parts_are_xlsxwriters_own(tmp_path):
    """Every part but the sheets and the styles (shared strings, relationships, workbook, content types …)
    and each sheet's <hyperlinks> are byte for byte what XlsxWriter's write_* calls make."""
    old, new = _both(tmp_path, _sheets(), max_rows=MAX, sources=_team(tmp_path))
    with zipfile.ZipFile(old) as a, zipfile.ZipFile(new) as b:
        assert a.namelist() == b.namelist()
        same = [n for n in a.namelist() if not n.startswith("xl/worksheets/sheet") and n != "xl/styles.xml"]
        assert "xl/sharedStrings.xml" in same and any("_rels/sheet" in n for n in same)
        for n in same:
            assert a.read(n) == b.read(n), n
        for n in (n for n in a.namelist() if n.startswith("xl/worksheets/sheet")):
            x, y = a.read(n), b.read(n)
            assert x[x.find(b"<hyperlinks>"):x.find(b"</hyperlinks>")] == y[y.find(b"<hyperlinks>"):y.find(b"</hyperlinks>")]


def test_constant_memory_workbook_has_the_same_cells(tmp_path, monkeypatch):
    """A workbook of every row (constant memory, strings inline, made a block of rows at a time) holds the
    same values, types and links."""
    monkeypatch.setattr(writers, "LAZY_ROWS", 7)  # many blocks, links and heights across their edges
    sources = _team(tmp_path)
    old, new = _both(tmp_path, _sheets()[:3], constant_memory=True, sources=sources)
    a, b = _comparable(workbook_facts(old)), _comparable(workbook_facts(new))
    for name in ("校验结果", "客户分级", "杂项"):
        keep = lambda cells: {k: c[:3] + c[6:] for k, c in cells.items()}  # noqa: E731 - values, types, links
        assert keep(a[name]["cells"]) == keep(b[name]["cells"]), name
    with zipfile.ZipFile(new) as zf:
        assert "xl/sharedStrings.xml" not in zf.namelist()


def test_row_links_match_row_link(tmp_path):
    """row_links over columns gives row_link of each row, for every kind of row."""
    sources = _team(tmp_path)
    frame = _sheets()[0][1]
    columns = {k: frame[k].tolist() for k in ("file", "sheet", "cell", "row")}
    want = [row_link(rec, sources, tmp_path / "out") for rec in frame.to_dict("records")]
    assert row_links(columns, sources, tmp_path / "out") == want
    assert row_links({"file": frame["file"].tolist()}, sources, tmp_path) == [
        row_link({"file": f}, sources, tmp_path) for f in frame["file"]]


def test_number_text_is_the_shortest_exact_text():
    """Each number's text reads back as the same double, whole numbers without a decimal point."""
    for v in (0.1 + 0.2, 1 / 3, 1e20, 5e-324, -0.0, 12.0, 2**53, 2**53 + 1, -(2**63), 10**30):
        assert float(number_text(v)) == float(v)
    assert number_text(12.0) == "12" and number_text(7) == "7" and number_text(1e20) == "1e+20"


def _libreoffice_csv(path: Path, out: Path) -> dict[str, list[list[str]]]:
    """Every sheet of the workbook as LibreOffice shows it, exported to CSV (one file a sheet)."""
    subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation={(out / 'profile').as_uri()}",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                    "--outdir", str(out), str(path)], capture_output=True, timeout=300, check=True)
    return {p.stem.split("-", 1)[-1]: list(csv.reader(p.open(encoding="utf-8", newline="")))
            for p in out.glob("*.csv")}


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
@pytest.mark.filterwarnings("ignore:Ignoring URL")
def test_libreoffice_shows_the_same_workbook(tmp_path):
    """LibreOffice opens the text-built workbook and shows every sheet exactly as it shows the one XlsxWriter's
    write_* calls make: hostile text as text, numbers, dates, the links' text, the note of the rows left out."""
    old, new = _both(tmp_path, _sheets()[:3], max_rows=MAX, sources=_team(tmp_path))
    want = _libreoffice_csv(old, tmp_path / "old")
    got = _libreoffice_csv(new, tmp_path / "new")
    assert {"校验结果", "客户分级", "杂项"} <= got.keys(), got.keys()
    assert got == want
    values = {v for row in got["校验结果"] for v in row}
    assert {"=1+1", "@SUM(A1)", "http://x", "cr\nlf\nend", "_x0041_ stays"} <= values
    assert len(got["校验结果"]) == MAX + 2  # the header, MAX rows, the note


def test_widths_and_shown_values_once_per_distinct_value_are_the_same():
    """Column widths and shown values worked out once per distinct value equal those worked out cell by cell."""
    from salesbook.io.presentation import MIN_WIDTH, display_function, display_width, sheet_look, shown_text
    from salesbook.io.writers import _display_column

    for name, frame in _sheets():
        look = sheet_look(name, list(frame.columns), sample=lambda k, f=frame: f[k].head(200).tolist())
        rows = [list(r) for r in zip(*(frame[k].tolist() for k in look.keys), strict=True)]
        for j, col in enumerate(look.columns):
            lines = col.label.split("\n")
            need = max([display_width(lines[0])] + [display_width(w) for line in lines[1:] for w in line.split()])
            for row in rows:
                if row[j] is not None:
                    need = max(need, display_width(shown_text(row[j], col.format)))
            assert look.widths(rows)[j] == float(min(col.max_width, max(col.width, MIN_WIDTH, need + 2))), (name, j)
            show = display_function(col)
            if show is not None:
                got = _display_column(col, frame[col.key])
                want = [show(v) for v in frame[col.key].tolist()]
                key = lambda v: (type(v), "NaN" if v != v else v)  # noqa: E731 - NaN equal to NaN here
                assert list(map(key, got)) == list(map(key, want)), (name, col.key)


def test_text_shaped_like_the_cells_mark_stays_text_and_every_sheet_gets_its_own_cells(tmp_path) -> None:
    """The mark where a sheet's cells are put at packaging never takes text from a file, and each sheet's
    cells land in that sheet (three sheets, one of them empty)."""
    import openpyxl

    from salesbook.io.writers import write_xlsx

    mark = '<salesbook-cells n="0"/>'
    sheets = [("一", pd.DataFrame({"text": [mark, "a"]})), ("二", pd.DataFrame({"text": []}, dtype=object)),
              ("三", pd.DataFrame({"text": ["c", mark + "x"], "n": [1.5, 2]}))]
    path = write_xlsx(tmp_path / "m.xlsx", sheets)
    wb = openpyxl.load_workbook(path)
    assert [c.value for c in wb["一"]["A"]][1:] == [mark, "a"]
    assert wb["二"].max_row == 1
    assert [c.value for c in wb["三"]["A"]][1:] == ["c", mark + "x"] and wb["三"]["B3"].value == 2
