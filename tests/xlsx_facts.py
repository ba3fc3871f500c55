"""What a person (and Excel) sees in an .xlsx, read with openpyxl: to compare two writers of one workbook."""

from __future__ import annotations

from pathlib import Path

import openpyxl


def _colour(c) -> object:
    return None if c is None else (c.type, c.rgb if c.type == "rgb" else c.theme if c.type == "theme" else c.indexed)


def cell_facts(c) -> tuple:
    """A cell's value, type and look (number format, font, fill, alignment) and its hyperlink."""
    f, fill, al = c.font, c.fill, c.alignment
    link = c.hyperlink
    return (c.value, c.data_type, c.number_format,
            (f.b, f.i, f.u, f.sz, f.name, _colour(f.color)),
            (fill.fill_type, _colour(fill.fgColor), _colour(fill.bgColor)),
            (al.wrap_text, al.vertical, al.horizontal),
            None if link is None else (link.target, link.location, link.display))


def sheet_facts(ws) -> dict:
    """Everything of a worksheet that the output sheets set, cells by coordinate."""
    cells = {c.coordinate: cell_facts(c) for row in ws.iter_rows() for c in row
             if c.value is not None or c.hyperlink is not None or c.has_style}
    cf = [(str(rng.sqref), [(r.type, tuple(r.formula), r.dxf.fill.fgColor.rgb if r.dxf and r.dxf.fill else None,
                             r.dxf.fill.bgColor.rgb if r.dxf and r.dxf.fill else None, r.stopIfTrue)
                            for r in rules]) for rng, rules in ws.conditional_formatting._cf_rules.items()]
    ps = ws.page_setup
    return {
        "cells": cells,
        "widths": {k: d.width for k, d in ws.column_dimensions.items()},
        "column_styles": {k: (d.min, d.max, d.number_format, d.font.b, _colour(d.font.color), d.alignment.wrap_text,
                              d.alignment.vertical) for k, d in ws.column_dimensions.items()},
        "heights": {k: (d.height, d.customHeight) for k, d in ws.row_dimensions.items() if d.height is not None},
        "freeze": ws.freeze_panes,
        "filter": ws.auto_filter.ref,
        "conditional": cf,
        "print": (ps.orientation, ps.paperSize, ps.fitToWidth, ps.fitToHeight, ws.sheet_properties.pageSetUpPr.fitToPage,
                  ws.print_title_rows, ws.page_margins.left, ws.page_margins.right),
        "dimensions": ws.dimensions,
    }


def workbook_facts(path: Path) -> dict:
    """Each sheet's facts by name, in the workbook's order, and its defined names."""
    wb = openpyxl.load_workbook(path)
    try:
        out = {ws.title: sheet_facts(ws) for ws in wb.worksheets}
        out["<names>"] = sorted((n, str(d.attr_text)) for ws in wb.worksheets for n, d in ws.defined_names.items())
        out["<order>"] = wb.sheetnames
        return out
    finally:
        wb.close()
