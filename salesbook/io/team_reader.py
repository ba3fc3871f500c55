"""Reads one team file into checked sheet tables. Runs inside a worker process (see pool.py)."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..core.findings import Finding, make_finding
from ..core.schema import SheetSchema, match_sheet, normalize_name, team_schemas
from ..core.table import CheckContext, SheetTable, build_table, find_header_score
from .precheck import Limits, Verdict, precheck


@dataclass
class FileResult:
    """One file's outcome: accepted with its tables, or rejected with a reason."""

    label: str
    path: str
    status: str = "accepted"  # accepted | rejected
    reason: str = ""
    sha256: str = ""
    rows: int = 0
    tables: list[SheetTable] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)  # the sheets read, in the order they stand in the file


def reject(label: str, path: str, code: str, reason: str, sha256: str = "") -> FileResult:
    res = FileResult(label=label, path=path, status="rejected", reason=reason, sha256=sha256)
    res.findings.append(make_finding(code, file=label, reason=reason, value=""))
    return res


def read_team_file(path: str, label: str, min_date: date, max_date: date | None,
                   limits: Limits, scope: str = "team") -> FileResult:
    """Read, precheck, parse and check one file. Never raises for bad content."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:  # read-only, once; parsers get these bytes, never the path
            data = fh.read(limits.max_file_bytes + 1)
    except OSError as exc:
        return reject(label, path, "file-unreadable", f"cannot open the file ({exc.strerror or exc})")
    digest = hashlib.sha256(data).hexdigest()
    verdict = precheck(p, data, limits)
    if verdict.rejected:
        return reject(label, path, verdict.code, verdict.reason, digest)
    ctx = CheckContext(file=label, min_date=min_date, max_date=max_date)
    try:
        sheets = _load_sheets(p, data, verdict)
    except Exception as exc:  # noqa: BLE001 - any parser failure on untrusted bytes rejects the file
        name = type(exc).__name__
        if "Password" in name:
            return reject(label, path, "file-encrypted", "the workbook is password-protected", digest)
        return reject(label, path, "file-unreadable", f"the parser could not read it ({name}: {str(exc)[:200]})", digest)
    res = FileResult(label=label, path=path, sha256=digest, reason=verdict.note, sheets=[s[0] for s in sheets])
    schemas = team_schemas() if scope == "team" else None
    seen: set[str] = set()
    matched = [(sheet, _schema_for(sheet[0], sheet[1], verdict, p, scope)) for sheet in sheets]
    names_of: dict[str, list[str]] = {}
    for (sheet_name, *_), schema in matched:
        if schema is not None:
            names_of.setdefault(schema.name, []).append(sheet_name)
    for (sheet_name, rows, row_off, col_off), schema in matched:
        if schema is None:
            continue
        seen.add(schema.name)
        if len(names_of[schema.name]) > 1:  # refuse to guess which of two sheets is the real one
            res.findings.append(make_finding("ambiguous-sheet", file=label, sheet=sheet_name,
                                             sheets="、".join(names_of[schema.name]), kind_zh=schema.zh,
                                             kind_en=schema.en))
            continue
        table = build_table(schema, sheet_name, rows, ctx, row_offset=row_off, col_offset=col_off)
        res.tables.append(table)
        res.findings.extend(table.findings)
        table.findings = []
        res.rows += table.rows
    if schemas is not None and verdict.kind != "csv":
        for schema in schemas:
            if schema.name not in seen:
                res.findings.append(make_finding("missing-sheet", file=label, sheet=schema.zh))
    if not res.tables:
        if verdict.kind == "csv":
            return reject(label, path, "file-unsupported",
                          "a CSV whose name and header match no sheet (name it e.g. 客户.csv)", digest)
        res.status = "rejected"
        res.reason = ("no sheet of a team workbook was found (客户, 活动, 商机, 合同, …)" if scope == "team"
                      else "no sheet of the master workbook was found (设置, 花名册, 目标)")
    return res


def _schema_for(sheet_name: str, rows: list, verdict: Verdict, p: Path, scope: str) -> SheetSchema | None:
    if verdict.kind != "csv":
        return match_sheet(sheet_name, scope)
    stem = normalize_name(p.stem)
    candidates = sorted(team_schemas(), key=lambda s: -max(len(n) for n in s.names))
    for s in candidates:
        if any(n and n in stem for n in s.names):
            return s
    best = max(candidates, key=lambda s: find_header_score(rows, s))
    return best if find_header_score(rows, best) > 0 else None


def _load_sheets(p: Path, data: bytes, verdict: Verdict) -> list[tuple[str, list, int, int]]:
    """(sheet name, rows, row offset, column offset) for every worksheet."""
    if verdict.kind == "csv":
        return [(p.stem, _read_csv(data), 0, 0)]
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    out = []
    try:
        for name in wb.sheet_names:
            if match_sheet(name) is None and match_sheet(name, "master") is None:
                continue  # not ours: never parsed
            sheet = wb.get_sheet_by_name(name)
            start = sheet.start or (0, 0)
            out.append((name, sheet.to_python(skip_empty_area=True), start[0], start[1]))
    finally:
        wb.close()
    return out


def _read_csv(data: bytes) -> list[list]:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError("neither UTF-8 nor GB18030 text")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text, newline=""), dialect)]
