"""The file backend of the Book port: atomic saves with a backup, and refusing an open workbook."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from salesbook.cli import main
from salesbook.io.book import FileBook, SheetData, WorkbookLocked, lock_file
from salesbook.xlsm.builder import build_workbook


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return build_workbook(tmp_path / "SalesBook.xlsm", interpreter="python")


def test_save_keeps_vba_buttons_and_codenames(book: Path) -> None:
    """A sheet written and saved through FileBook keeps the VBA project, the buttons and the codenames."""
    from oletools.olevba import VBA_Parser

    fb = FileBook(book)
    fb.write(SheetData(name="考核表", header=["rep_id", "score"], rows=[["S001", 90.5]]))
    fb.save()
    wb = openpyxl.load_workbook(book, keep_vba=True)
    assert wb["考核表"]["B2"].value == 90.5
    assert wb["考核表"].sheet_properties.codeName == "shScorecards"
    modules = {m[2] for m in VBA_Parser(str(book)).extract_macros()}
    assert "SalesBook.bas" in modules or any("SalesBook" in m for m in modules)
    import zipfile

    with zipfile.ZipFile(book) as z:
        vml = b"".join(z.read(n) for n in z.namelist() if n.endswith(".vml"))
    from salesbook.xlsm.builder import load_layout

    assert vml.count(b'ObjectType="Button"') == len(load_layout().buttons) == 7
    assert (book.with_name(book.name + ".bak")).exists()


def test_crash_during_save_leaves_the_workbook_byte_identical(book: Path) -> None:
    """A process killed in the middle of saving leaves the workbook as it was, and a backup beside it."""
    before = _sha(book)
    script = textwrap.dedent(f"""
        import os
        from salesbook.io import book as b
        fb = b.FileBook({str(book)!r})
        fb.write(b.SheetData(name="考核表", header=["x"], rows=[[1]] * 1000))
        real_replace = os.replace
        def die(src, dst, *a, **k):
            if str(dst).endswith(".xlsm"):  # the backup is written; the workbook's own replace dies
                os._exit(9)  # the process dies between writing the new file and replacing the old one
            return real_replace(src, dst, *a, **k)
        b.os.replace = die
        fb.save()
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    assert _sha(book) == before
    assert _sha(book.with_name(book.name + ".bak")) == before
    # The next run cleans the half-written temporary file up and saves normally.
    fb = FileBook(book)
    assert not list(book.parent.glob(".~sb-*"))
    fb.write(SheetData(name="考核表", header=["x"], rows=[[2]]))
    fb.save()
    assert openpyxl.load_workbook(book)["考核表"]["A2"].value == 2


def test_error_while_writing_leaves_the_workbook_untouched(book: Path, monkeypatch) -> None:
    """An exception raised while the new file is written leaves the workbook byte-identical."""
    before = _sha(book)
    fb = FileBook(book)
    fb.write(SheetData(name="考核表", header=["x"], rows=[[1]]))

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(fb.wb, "save", boom)
    with pytest.raises(OSError):
        fb.save()
    assert _sha(book) == before
    assert not list(book.parent.glob(".~sb-*"))


def test_locked_workbook_is_refused_and_untouched(book: Path, tmp_path: Path) -> None:
    """With Excel's lock file beside it, `salesbook run` says the workbook is open and writes nothing."""
    lock_file(book).write_bytes(b"owner")
    before = _sha(book)
    with pytest.raises(WorkbookLocked, match="open in Excel"):
        FileBook(book)
    result = CliRunner().invoke(main, ["run", "validate", "--book", str(book)])
    assert result.exit_code == 2
    assert "is open in Excel" in result.output and "Nothing was written" in result.output
    assert "Traceback" not in result.output
    assert _sha(book) == before
    assert not book.with_name(book.name + ".bak").exists()


def test_workbook_changed_on_disk_during_an_action_is_not_overwritten(book: Path) -> None:
    """If the workbook is saved by someone else while an action runs, salesbook refuses to overwrite it."""
    import os

    fb = FileBook(book)
    fb.write(SheetData(name="考核表", header=["x"], rows=[[1]]))
    st = book.stat()
    os.utime(book, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    after_edit = _sha(book)
    with pytest.raises(WorkbookLocked, match="changed on disk"):
        fb.save()
    assert _sha(book) == after_edit


def test_text_is_stored_as_text_whatever_it_looks_like(book: Path) -> None:
    """Formula-, error- and escape-like text is a string cell read back exactly; a control character becomes U+FFFD."""
    from python_calamine import CalamineWorkbook

    texts = ['=WEBSERVICE("http://x/?"&A1)', "=1", "#N/A", "#REF!", "_x0041_", "a\x01b\x1fc", " =1+1", "＝1+1",
             "x" * 40_000]
    fb = FileBook(book)
    fb.write(SheetData(name="考核表", header=["=header"], rows=[[t] for t in texts]))
    fb.save()
    ws = openpyxl.load_workbook(book, keep_vba=True)["考核表"]
    assert {c.data_type for row in ws.iter_rows() for c in row if c.value is not None} == {"s"}
    read = [r[0] for r in CalamineWorkbook.from_path(str(book)).get_sheet_by_name("考核表").to_python()]
    expected = ["=header", *texts[:5], "a\ufffdb\ufffdc", *texts[6:8], "x" * 32_767]
    assert read == expected  # what Excel shows: "_x0041_" stays "_x0041_", long text cut to Excel's limit


def test_backup_link_is_replaced_not_followed(book: Path, tmp_path: Path) -> None:
    """A symbolic link planted at SalesBook.xlsm.bak is replaced by the backup; the file it pointed to is untouched."""
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("keep")
    backup = book.with_name(book.name + ".bak")
    backup.symlink_to(outside)
    before = _sha(book)
    fb = FileBook(book)
    fb.write(SheetData(name="考核表", header=["x"], rows=[[1]]))
    fb.save()
    assert outside.read_text() == "keep"
    assert not backup.is_symlink() and _sha(backup) == before


def _cells(path: Path, sheet: str) -> list[tuple]:
    """Every cell of `sheet` with what it shows and how it looks, and the sheet's row heights and links."""
    ws = openpyxl.load_workbook(path, keep_vba=True)[sheet]
    cells = [(c.coordinate, c.value, c.data_type, c.number_format, repr(c.font), repr(c.fill), repr(c.alignment),
              (c.hyperlink.target, c.hyperlink.location) if c.hyperlink else None,
              c.comment.text if c.comment else None)
             for row in ws.iter_rows() for c in row if c.value is not None or c.has_style]
    heights = {r: d.height for r, d in ws.row_dimensions.items() if d.height}
    return [*cells, heights, ws.freeze_panes, ws.auto_filter.ref, ws.print_title_rows, ws.dimensions,
            [str(r.sqref) for r in ws.conditional_formatting]]


def _varied_sheet(name: str, n: int = 300, cell_formats: dict | None = None) -> SheetData:
    from datetime import date, datetime
    from decimal import Decimal

    from salesbook.io.presentation import ColourRule

    texts = ["a&b<c>\"d\"", " lead", "trail ", "line\r\nbreak\ttab", "_x0041_", "=1+1", "#N/A", "中文 ok", "",
             "x\x01y", "😀"]
    mixed = [0, -0.0, 0.0, 1, 1.0, True, False, 2**60, 1e20, 7.5, -0.0, 0]  # equal values, different cells
    rows = []
    for i in range(n):
        rows.append([f"S{i:03d}", texts[i % len(texts)], i * 1.25, i, i % 2 == 0, date(2026, 11, 1 + i % 28),
                     datetime(2026, 11, 2, 8, i % 60), Decimal("12.34"), None, float("nan"), mixed[i % len(mixed)]])
    return SheetData(name=name, header=["id", "text", "money", "n", "flag", "day", "when", "dec", "blank", "nan",
                                        "mixed"],
                     rows=rows, notes={0: "the rep's id"}, fills={1: "#FFC7CE", 7: "#C6EFCE"},
                     number_formats={2: "#,##0.00"}, widths={1: 30}, wrap={1}, frozen_columns=1,
                     links={(0, 0): "../team/a b.xlsx#'客户'!D17", (3, 8): "../team/c.csv"},
                     row_heights={2: 45.0}, header_rows={5}, title_rows={6},
                     cell_formats={(4, 3): "0.0%"} if cell_formats is None else cell_formats,
                     rules=[ColourRule(column=1, kind="value", colour="#FFEB9C", value="中文 ok")],
                     page_breaks=[50])


def test_text_route_saves_what_openpyxl_cells_save(book: Path, tmp_path: Path) -> None:
    """An output sheet written as text at save time has the same cells, looks, links, notes and rows as one
    written through openpyxl cells."""
    import shutil

    other = tmp_path / "cells" / book.name
    other.parent.mkdir()
    shutil.copy(book, other)
    for path, as_cells in ((book, False), (other, True)):
        fb = FileBook(path)
        fb.write(_varied_sheet("考核表"))
        fb.write(_varied_sheet("依据", cell_formats={}))  # no cell formats: plain rows are made a column at a time
        fb.write(SheetData(name="仪表板", header=[], rows=[["Title"], [], ["k", 1.5]], title_rows={0},
                           header_rows={2}, freeze=False, autofilter=False))
        if as_cells:
            for name in list(fb._fast):
                fb._as_cells(name)  # openpyxl's own cells, as before the text route
        fb.save()
    for sheet in ("考核表", "依据", "仪表板"):
        assert _cells(book, sheet) == _cells(other, sheet)
    assert _cells(book, "花名册") == _cells(other, "花名册")  # the sheets nobody wrote are as they were


def test_sheets_to_be_rewritten_are_loaded_without_cells_and_kept_when_not(book: Path, tmp_path: Path) -> None:
    """A sheet named as rewritten is not loaded, yet one not written after all keeps every cell, one read
    shows its cells, and the saved workbook equals one edited with every sheet loaded."""
    import shutil

    fb = FileBook(book)
    fb.write(_varied_sheet("考核表", 3000))  # big enough to be left out
    fb.write(_varied_sheet("依据", 3000))
    fb.save()
    before = {s: _cells(book, s) for s in ("考核表", "依据")}
    other = tmp_path / "whole" / book.name
    other.parent.mkdir()
    shutil.copy(book, other)

    lean = FileBook(book, rewrites=["考核表", "依据"])
    assert lean._lean == {"考核表", "依据"}
    lean.write(_varied_sheet("考核表", 10))
    lean.save()  # 依据 was not written: its cells are kept
    whole = FileBook(other)
    whole.write(_varied_sheet("考核表", 10))
    whole.save()
    assert _cells(book, "依据") == before["依据"] == _cells(other, "依据")
    assert _cells(book, "考核表") == _cells(other, "考核表") != before["考核表"]

    read = FileBook(book, rewrites=["依据"])
    assert read.read("依据")[1][0] == "S000" and len(read.read("依据")) == 3001


def _parts(path: Path) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist() if not n.startswith("docProps/")}  # docProps: the save's time


def test_sheets_made_ahead_of_the_save_give_the_same_workbook(book: Path, tmp_path: Path) -> None:
    """The output sheets' XML made before the save (while the writers run) gives a workbook whose parts are
    the bytes of one saved without it; a sheet changed after it was made (rewritten, a row made taller, a
    cell restyled) is saved with the cells and looks it has at the save."""
    import shutil

    from openpyxl.styles import Font

    copies = {}
    for label in ("plain", "ahead", "changed", "changed-plain"):
        copies[label] = tmp_path / label / book.name
        copies[label].parent.mkdir()
        shutil.copy(book, copies[label])
    for label, path in copies.items():
        fb = FileBook(path)
        fb.write(_varied_sheet("考核表"))
        fb.write(_varied_sheet("依据", cell_formats={}))
        if label in ("ahead", "changed"):
            fb.prepare_save()
            assert all(cells._made is not None for _, cells, _ in fb._fast.values())
        if label.startswith("changed"):
            fb.write(_varied_sheet("考核表", 40))  # written anew after its XML was made
            fb._fast["依据"][0].row_dimensions[4].height = 60  # a row made taller
            fb._fast["依据"][1].restyle(3, 2, lambda c: setattr(c, "font", Font(bold=True)))  # a cell restyled
        fb.save()
    assert _parts(copies["ahead"]) == _parts(copies["plain"])
    # changed after they were made: the same cells and looks (the looks made ahead keep their style ids)
    for sheet in ("考核表", "依据", "花名册"):
        assert _cells(copies["changed"], sheet) == _cells(copies["changed-plain"], sheet)
    assert _cells(copies["changed"], "考核表") != _cells(copies["plain"], "考核表")
    ws = openpyxl.load_workbook(copies["changed"])["依据"]
    assert ws.row_dimensions[4].height == 60 and ws.cell(3, 2).font.b


def test_a_save_made_ahead_is_put_in_place_only_while_nothing_changed(book: Path, tmp_path: Path) -> None:
    """save_ahead makes the saved workbook in a child while the caller waits for other work: saved
    unchanged, it is the workbook a plain save gives; written to after it, the save is made anew with
    the change; discarded (an error), it leaves no temporary file and the workbook untouched."""
    import shutil

    copies = {}
    for label in ("plain", "ahead", "changed", "discarded"):
        copies[label] = tmp_path / label / book.name
        copies[label].parent.mkdir()
        shutil.copy(book, copies[label])
    before = _sha(copies["discarded"])
    for label, path in copies.items():
        fb = FileBook(path)
        fb.write(_varied_sheet("考核表"))
        if label != "plain":
            fb.save_ahead()
            assert fb._ahead is not None and fb._ahead[0].exists()
        if label == "changed":
            fb.set_cells("考核表", {"B2": "after the save was made"})
        if label == "discarded":
            temporary = fb._ahead[0]
            fb.discard_save_ahead()
            assert not temporary.exists() and fb._ahead is None
            continue
        fb.save()
        assert not list(path.parent.glob(".~sb-*"))  # the temporary file became the workbook
    assert _parts(copies["ahead"]) == _parts(copies["plain"])
    assert openpyxl.load_workbook(copies["changed"])["考核表"]["B2"].value == "after the save was made"
    assert openpyxl.load_workbook(copies["plain"])["考核表"]["B2"].value != "after the save was made"
    assert _sha(copies["discarded"]) == before and not list(copies["discarded"].parent.glob(".~sb-*"))


def test_links_written_as_text_are_links_in_their_place(book: Path) -> None:
    """An output sheet's links are written as text at save time: each cell links to its file and place (a
    relationship of its own, ids unique beside a note's), `<hyperlinks>` stands where the schema puts it
    (after the conditional formats, before the page margins), and a second run's save links anew."""
    import re
    import zipfile

    from salesbook.io.presentation import ColourRule

    def sheet(n: int, salt: str) -> SheetData:
        rows = [[f"S{i}", f"team/{salt}{i % 3}.xlsx"] for i in range(n)]
        links = {(i, 1): f"../team/{salt}{i % 3} & co.xlsx#'客户'!D{i + 2}" for i in range(0, n, 2)}
        links[(1, 0)] = "../team/plain.csv"  # a file without a place
        return SheetData(name="校验结果", header=["rep", "file"], rows=rows, links=links, notes={0: "a note"},
                         rules=[ColourRule(column=0, kind="value", colour="#FFEB9C", value="S1")])

    for salt, n in (("a", 40), ("b", 7)):  # the second save replaces the first run's links
        fb = FileBook(book, rewrites=["校验结果"])
        data = sheet(n, salt)
        fb.write(data)
        fb.save()
        ws = openpyxl.load_workbook(book, keep_vba=True)["校验结果"]
        got = {(c.row, c.column): (c.hyperlink.target, c.hyperlink.location)
               for row in ws.iter_rows() for c in row if c.hyperlink}
        want = {(i + 2, j + 1): (t.partition("#")[0], t.partition("#")[2] or None) for (i, j), t in data.links.items()}
        assert got == want
        assert ws["B2"].font.underline == ws["A3"].font.underline == "single" and ws["A3"].value == "S1"
        assert ws["B3"].font.underline is None  # no link there
        with zipfile.ZipFile(book) as zf:
            part = next(n for n in zf.namelist() if n.startswith("xl/worksheets/sheet")
                        and b"<hyperlinks>" in zf.read(n))
            xml = zf.read(part)
            rels = zf.read(part.replace("worksheets/", "worksheets/_rels/") + ".rels")
        assert xml.index(b"<conditionalFormatting") < xml.index(b"<hyperlinks>") < xml.index(b"<pageMargins")
        ids = re.findall(rb'Id="([^"]*)"', rels)
        assert len(ids) == len(set(ids)) == len(want) + 2  # the links', and the note's comments and drawing
