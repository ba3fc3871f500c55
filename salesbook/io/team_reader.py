"""Reads one team file into checked sheet tables. Runs inside a worker process (see pool.py)."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..core.findings import Bilingual, Finding, make_finding
from ..core.schema import SheetSchema, match_sheet, normalize_name, team_schemas
from ..core.table import CheckContext, SheetTable, build_table, english_names, find_header_score
from . import columns, markup, ooxml
from .pool import Stopped, note_step
from .precheck import DAMAGED, Limits, Verdict, beyond_excel, precheck, too_large


@dataclass
class FileResult:
    """One file's outcome: accepted with its tables, or rejected with a reason."""

    label: str
    path: str
    status: str = "accepted"  # accepted | rejected
    reason: str = ""  # "中文 / English"
    sha256: str = ""
    rows: int = 0
    tables: list[SheetTable] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)  # the sheets read, in the order they stand in the file


class Refused(Exception):
    """The file is refused while it is parsed; the verdict says with which code and why."""

    def __init__(self, verdict: Verdict):
        super().__init__(str(verdict.reason))
        self.verdict = verdict


NOT_REGULAR = Bilingual("这不是普通文件（命名管道、套接字或设备）：未打开、未读取；团队文件夹里只放工作簿文件",
                        "not a regular file (a named pipe, socket or device): never opened, not read; put only "
                        "workbook files in the team folder")


def reject(label: str, path: str, code: str, reason: Bilingual, sha256: str = "") -> FileResult:
    res = FileResult(label=label, path=path, status="rejected", reason=str(reason), sha256=sha256)
    res.findings.append(make_finding(code, file=label, reason_zh=reason.zh, reason_en=reason.en, value=""))
    return res


def _reads(name: str) -> bool:
    """Sheets salesbook parses: those named like a team or a master sheet; notes sheets are not."""
    return match_sheet(name) is not None or match_sheet(name, "master") is not None


def read_team_file(path: str, label: str, min_date: date, max_date: date | None,
                   limits: Limits, scope: str = "team") -> FileResult:
    """Read, precheck, parse and check one file. Never raises for bad content."""
    p = Path(path)
    try:
        # Non-blocking: a named pipe put in place of a file since the folder was listed opens at once
        # (and is refused below) instead of waiting for a writer for ever.
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as fh:  # read-only, once; parsers get these bytes, never the path
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return reject(label, path, "file-unsupported", NOT_REGULAR)
            data = fh.read(limits.max_file_bytes + 1)
    except OSError as exc:
        return reject(label, path, "file-unreadable", _cannot_open(exc))
    digest = hashlib.sha256(data).hexdigest()
    try:
        verdict = precheck(p, data, limits, _reads)
    except (ValueError, LookupError, OSError, EOFError, RuntimeError, MemoryError):
        verdict = Verdict(code="file-unreadable", reason=DAMAGED)  # an odd container the checks did not foresee
    if verdict.rejected:
        return reject(label, path, verdict.code, verdict.reason, digest)
    ctx = CheckContext(file=label, min_date=min_date, max_date=max_date, max_text=limits.max_text_chars)
    try:
        sheets, names = _load_sheets(p, verdict.data or data, verdict, limits)
    except Refused as exc:
        return reject(label, path, exc.verdict.code, exc.verdict.reason, digest)
    except markup.TableError as exc:
        return reject(label, path, "file-unsupported", Bilingual(exc.zh, exc.en), digest)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - any parser failure on untrusted bytes (a Rust panic too) rejects the file
        if "Password" in type(exc).__name__:
            return reject(label, path, "file-encrypted", Bilingual("工作簿有密码保护", "the workbook is password-protected"), digest)
        if isinstance(exc, MemoryError):
            return reject(label, path, "file-unreadable", _out_of_memory(""), digest)
        return reject(label, path, "file-unreadable", DAMAGED, digest)
    res = FileResult(label=label, path=path, sha256=digest, reason=str(verdict.note or ""),
                     sheets=[s[0] for s in sheets])
    schemas = team_schemas() if scope == "team" else None
    seen: set[str] = set()
    alone = len(sheets) == 1
    matched = [(sheet, _schema_for(sheet[0], sheet[1], verdict.kind, p, scope, alone)) for sheet in sheets]
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
        if scope == "team":  # sent back as columnar bytes; the master's few rows stay lists
            columns.encode(table)
        res.tables.append(table)
        res.findings.extend(table.findings)
        table.findings = []
        res.rows += table.rows
    single = verdict.kind in _SINGLE_TABLE_KINDS
    if schemas is not None and not single:
        # a missing sheet is named as the workbook names its sheets: Contracts in an English one
        english = sum(1 for (name, *_), sch in matched if sch is not None and normalize_name(name) in english_names(sch))
        english = english * 2 > sum(1 for _, sch in matched if sch is not None)
        for schema in schemas:
            if schema.name not in seen:
                res.findings.append(make_finding("missing-sheet", file=label, sheet=schema.en if english else schema.zh))
    if not res.tables and not any(f.code == "ambiguous-sheet" for f in res.findings):
        return _no_team_sheet(res, scope, single, names)
    if not res.tables:
        res.status = "rejected"
        res.reason = str(Bilingual("同类工作表不止一个，均未使用", "more than one sheet of a kind; none was used"))
    return res


_SINGLE_TABLE_KINDS = ("csv", "html", "spreadsheetml")


def _cannot_open(exc: OSError) -> Bilingual:
    import errno

    if exc.errno in (errno.EACCES, errno.EPERM):
        return Bilingual("没有读取此文件的权限：请检查文件权限或是否被其他程序锁定",
                         "no permission to read the file: check its permissions or whether another program locks it")
    if exc.errno == errno.ENOENT:
        return Bilingual("文件在读取前已被移走或删除", "the file was moved or deleted before it could be read")
    return Bilingual("无法打开文件：请检查文件是否完好、磁盘是否可用",
                     f"cannot open the file ({exc.strerror or type(exc).__name__}): check the file and the disk")


def _no_team_sheet(res: FileResult, scope: str, single: bool, names: list[str]) -> FileResult:
    schemas = team_schemas() if scope == "team" else [s for s in _all_schemas() if s.scope == scope]
    expected_zh = "、".join(s.zh for s in schemas[:4]) + ("等" if len(schemas) > 4 else "")
    expected_en = ", ".join(s.en for s in schemas[:4]) + (", …" if len(schemas) > 4 else "")
    if single:
        hint = Bilingual("请按工作表给文件命名（如 客户.csv），或使用团队模板的表头",
                         "name the file after its sheet (e.g. 客户.csv) or use the team template's headers")
    else:
        found = "、".join(names[:5]) or "无"
        hint = Bilingual(f"文件中的工作表为 {found}；请按团队模板命名工作表（salesbook template team）",
                         f"its sheets are {', '.join(names[:5]) or 'none'}; name the sheets as in the team template "
                         "(salesbook template team)")
    res.status = "rejected"
    res.reason = str(Bilingual(f"没有可识别的工作表（{expected_zh}）", f"no sheet salesbook knows ({expected_en})"))
    res.findings = [f for f in res.findings if f.code != "missing-sheet"]
    res.findings.append(make_finding("no-team-sheet", file=res.label, expected_zh=expected_zh, expected_en=expected_en,
                                     hint_zh=hint.zh, hint_en=hint.en))
    return res


def _all_schemas() -> list[SheetSchema]:
    from ..core.schema import load_schemas

    return list(load_schemas().values())


def _schema_for(sheet_name: str, rows: list, kind: str, p: Path, scope: str, alone: bool) -> SheetSchema | None:
    """A sheet's schema by its name; a CSV's or an export's table (which has no telling name) by the
    file's name when it is the file's only table, else by its header row."""
    found = match_sheet(sheet_name, scope)
    if found is not None or kind not in _SINGLE_TABLE_KINDS or scope != "team":
        return found
    if kind == "spreadsheetml" and not alone:
        return None  # a workbook of named sheets: its other sheets are not ours
    candidates = sorted(team_schemas(), key=lambda s: -max(len(n) for n in s.names))
    if alone:
        stem = normalize_name(p.stem)
        for s in candidates:
            if any(n and n in stem for n in s.names):
                return s
    best = max(candidates, key=lambda s: find_header_score(rows, s))
    return best if find_header_score(rows, best) > 0 else None


def _load_sheets(p: Path, data: bytes, verdict: Verdict,
                 limits: Limits) -> tuple[list[tuple[str, list, int, int]], list[str]]:
    """(sheet name, rows, row offset, column offset) for every sheet salesbook reads; and the names of
    all the file's sheets."""
    if verdict.kind == "csv":
        return [(p.stem, markup.read_csv(data), 0, 0)], [p.stem]
    if verdict.kind == "html":
        tables, names = markup.read_html(data, limits.max_cells, limits.max_columns)
        if len(names) != len(tables):
            names = [p.stem if len(tables) == 1 else f"{p.stem} ({i + 1})" for i in range(len(tables))]
        return [(name, rows, 0, 0) for name, rows in zip(names, tables, strict=True)], names
    if verdict.kind == "spreadsheetml":
        sheets = markup.read_spreadsheetml(data, limits.max_cells, limits.max_columns)
        return [(name, rows, 0, 0) for name, rows in sheets], [name for name, _ in sheets]
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    out = []
    try:
        names = list(wb.sheet_names)
        for meta in wb.sheets_metadata:
            name = meta.name
            if meta.typ != SheetTypeEnum.WorkSheet or not _reads(name):
                continue  # not ours: never parsed
            note_step(f"sheet {name}")
            sheet = wb.get_sheet_by_name(name)
            _check_extent(name, sheet, limits)
            start = sheet.start or (0, 0)
            out.append((name, sheet.to_python(skip_empty_area=True), start[0], start[1]))
    finally:
        wb.close()
    return out, names


def _check_extent(name: str, sheet, limits: Limits) -> None:
    """Refuse a sheet the parser built larger than salesbook reads, before it becomes Python lists."""
    if sheet.start is None or sheet.end is None:
        return
    (r0, c0), (r1, c1) = sheet.start, sheet.end
    if r1 >= ooxml.EXCEL_MAX_ROWS or c1 >= ooxml.EXCEL_MAX_COLUMNS:
        raise Refused(beyond_excel(name, ooxml.cell_name(r1, c1)))
    rows, cols = r1 - r0 + 1, c1 - c0 + 1
    if cols > limits.max_columns or rows * cols > limits.max_cells:
        span = f"{ooxml.cell_name(r0, c0)}:{ooxml.cell_name(r1, c1)}"
        raise Refused(too_large(name, span, rows, cols, limits))


def _out_of_memory(step: str) -> Bilingual:
    where_zh = f"（工作表「{step}」）" if step else ""
    where_en = f" (sheet '{step}')" if step else ""
    return Bilingual(f"读取时内存不足{where_zh}：文件内部远比磁盘上大（有远离数据的单元格、文件损坏或被改动）；请在 Excel 中打开，删除多余的单元格，另存为 .xlsx",
                     f"reading ran out of memory{where_en}: the file is far larger inside than on disk (cells far from the "
                     "data, or a damaged or altered file); open it in Excel, delete stray cells and save it as .xlsx")


def failure_reason(status: str, payload: object) -> Bilingual:
    """A reader worker's crash, time-out or error as a reason a manager understands (no parser internals)."""
    text = str(payload)
    step = payload.step if isinstance(payload, Stopped) else ""
    sheet = step[len("sheet "):] if step.startswith("sheet ") else ""
    if status == "timeout":
        seconds = text.rsplit("than ", 1)[-1].split(" ")[0] if "than " in text else "?"
        where_zh = f"（停在工作表「{sheet}」）" if sheet else ""
        where_en = f" (stopped at sheet '{sheet}')" if sheet else ""
        return Bilingual(f"读取超过 {seconds} 秒，已停止{where_zh}：文件过大或已损坏；请在 Excel 中另存为 .xlsx，或调大设置 reader.timeout_seconds",
                         f"reading took longer than {seconds} s and was stopped{where_en}: the file is very large or damaged; "
                         "save it from Excel as .xlsx, or raise the setting reader.timeout_seconds")
    said = payload.said if isinstance(payload, Stopped) else text
    if "memory allocation" in said or "out of memory" in said.lower() or "MemoryError" in said:
        return _out_of_memory(sheet)
    if status == "error" and not isinstance(payload, Stopped):
        kind = text.split(":", 1)[0].strip()[:60]
        return Bilingual(f"salesbook 读取此文件时出错（{kind}），请把文件发给维护人员", f"salesbook failed reading it ({kind}); please "
                         "send the file to whoever maintains salesbook")
    where_zh = f"（工作表「{sheet}」）" if sheet else ""
    where_en = f" (sheet '{sheet}')" if sheet else ""
    return Bilingual(f"读取程序在解析时意外停止{where_zh}：文件已损坏或被改动；请在 Excel 中打开并另存为 .xlsx",
                     f"the reader stopped unexpectedly while parsing it{where_en}: the file is damaged or was altered; "
                     "open it in Excel and save it as .xlsx")
