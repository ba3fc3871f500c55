"""The button actions, written once against the Book port (Excel through xlwings, or the file).

Each action reads the master's inputs from the book, reads the team files from disk with the safe
reader, writes its output sheets back into the book and files into the output folder, and returns
the message shown to the user.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd

from .core.periods import parse_period
from .core.schema import master_schemas, normalize_name
from .core.scoring import dec
from .core.settings import SettingsError
from .documents.env import HTML_TEMPLATE, WORD_TEMPLATE, check_template_file
from .io.book import Book, ChartSpec, SheetData
from .io.staging import OutputFolder, check_output_folder, deferred_interrupt
from .io.writers import MONEY_COLUMNS, PCT_COLUMNS, SEVERITY_COLOURS
from .outputs import files_frame, findings_frame
from .pipeline import (
    Consolidation,
    FolderError,
    Master,
    MasterError,
    Run,
    check_outside_team,
    master_from_sheets,
)

SHEETS = {  # output sheet -> (Chinese name as in workbook/layout.toml)
    "findings": "校验结果",
    "files": "文件状态",
    "customer_grades": "客户分级",
    "pipeline": "商机评估",
    "scorecards": "考核表",
    "evidence": "依据",
    "commissions": "提成",
    "dashboard": "仪表板",
}
MAX_SHEET_ROWS = 10_000  # the master stays small (openpyxl rewrites it); the full tables are in the output folder
MONEY_FMT = "#,##0.00"
PCT_FMT = "0.0%"


class ActionError(Exception):
    """The action cannot run as the workbook is set up; the message says what to fix."""


def _master(book: Book) -> Master:
    book.progress().phase("reading the master workbook")
    sheets = {}
    wanted = {n for s in master_schemas() for n in s.names}
    names = book.sheet_names()
    for name in names:
        if normalize_name(name) in wanted:
            sheets[name] = book.read(name)
    return master_from_sheets(sheets, book.fullname, sheet_names=names)


FOLDER_SETTINGS = {"team_folder": "team", "output_folder": "out"}


def _folder(book: Book, master: Master, key: str) -> Path:
    value = str(master.settings[key]).strip() or FOLDER_SETTINGS[key]
    p = Path(value)
    p = p if p.is_absolute() else book.folder / p
    if key == "output_folder":  # refused before any work: a file where the output folder belongs
        check_output_folder(p, option=f"设置 Settings '{key}'")
    return p


def _save_with(book: Book, staged: OutputFolder | None = None) -> None:
    """Save the workbook and move the staged output files into place as one step a Ctrl-C waits for."""
    book.progress().phase("saving the workbook")
    with deferred_interrupt(f"{book.fullname.name}" + (f" and {staged.target}" if staged else "")):
        book.save()
        if staged is not None:
            staged.commit()


def _folders(book: Book, master: Master, *, output: bool = True) -> tuple[Path, Path, list[str]]:
    """The team and output folders the settings name, and a warning for each that leads out of the
    workbook's folder; an output folder inside the team folder is refused (its files would be read
    as team files on the next run)."""
    team, out = _folder(book, master, "team_folder"), _folder(book, master, "output_folder")
    if output:
        check_outside_team(out, [team])
    home = Path(book.folder).resolve()
    notes = []
    for key, path in (("team_folder", team), ("output_folder", out))[: 2 if output else 1]:
        real = path.resolve()
        if real != home and home not in real.parents:
            notes.append(f"注意：设置 {key} 指向工作簿所在文件夹以外的 {real} / "
                         f"Note: the setting {key} leads outside the workbook's folder, to {real}")
    return team, out, notes


def _with_notes(message: str, notes: list[str]) -> str:
    return "\n".join([message, *notes])


def _period(master: Master) -> tuple[str, date | None]:
    period = str(master.settings["period"]).strip()
    if not period:
        raise ActionError("Set the period (e.g. 2026-11 or 2026-Q4) in the 设置 / Settings sheet, key 'period'.")
    parse_period(period)
    raw = str(master.settings["as_of"]).strip()
    if not raw:
        return period, None
    try:
        return period, date.fromisoformat(raw[:10])
    except ValueError:
        raise SettingsError(f"Setting 'as_of' must be a date like 2026-11-30, got {raw!r}.") from None


def _headers_notes(sheet: str) -> dict[str, str]:
    try:
        from .xlsm.builder import load_layout

        layout = load_layout()
        return {h: n for h, n in layout.sheet(sheet).columns}
    except Exception:  # noqa: BLE001 - notes are help text; a missing layout must not stop an action
        return {}


def frame_sheet(name: str, frame: pd.DataFrame, *, fills: dict[int, str] | None = None) -> SheetData:
    """A DataFrame as an output sheet: capped rows, header notes from the layout, number formats."""
    header = [str(c) for c in frame.columns]
    notes_by_header = _headers_notes(name)
    rows = [list(r) for r in frame.head(MAX_SHEET_ROWS).itertuples(index=False, name=None)]
    if len(frame) > MAX_SHEET_ROWS:
        rows.append([f"… {len(frame) - MAX_SHEET_ROWS} more rows in the output folder's CSV"])
    formats = {}
    for j, h in enumerate(header):
        if h in MONEY_COLUMNS:
            formats[j] = MONEY_FMT
        elif h in PCT_COLUMNS:
            formats[j] = PCT_FMT
    return SheetData(name=name, header=header, rows=rows,
                     notes={j: notes_by_header[h] for j, h in enumerate(header) if h in notes_by_header},
                     fills=fills or {}, number_formats=formats)


def _findings_sheets(run: Run) -> list[SheetData]:
    ff = findings_frame(run.findings)
    fills = {i: SEVERITY_COLOURS[s] for i, s in enumerate(ff["severity"].head(MAX_SHEET_ROWS))
             if s in ("error", "warning")}
    return [frame_sheet(SHEETS["findings"], ff, fills=fills), frame_sheet(SHEETS["files"], files_frame(run.files))]


def _summary(run: Run) -> str:
    sev = Counter(f.severity for f in run.findings)
    status = Counter(f.status for f in run.files)
    ok, rejected = status.get("accepted", 0), status.get("rejected", 0)
    text = (f"{ok} 个文件已读取，{rejected} 个被拒绝；错误 {sev.get('error', 0)}，警告 {sev.get('warning', 0)}。\n"
            f"{ok} files read, {rejected} rejected; {sev.get('error', 0)} errors, {sev.get('warning', 0)} warnings.")
    for f in run.files:
        if f.status == "skipped":
            text += f"\n{f.label}: {f.reason}"
    return text


def validate(book: Book) -> str:
    """校验 Validate: check every team file; findings and file status into the workbook."""
    from .pipeline import validate as run_validate

    master = _master(book)
    period = str(master.settings["period"]).strip() or None
    as_of = _period(master)[1] if period else None
    team, _out, notes = _folders(book, master, output=False)
    run = run_validate([team], master=master, period=period, as_of=as_of, progress=book.progress())
    for sheet in _findings_sheets(run):
        book.write(sheet)
    _save_with(book)
    return _with_notes("校验完成 / Validation done.\n" + _summary(run), notes)


def _dashboard(book: Book, c: Consolidation) -> None:
    """Small data blocks on the Dashboard and native charts over them."""
    cards = c.scorecards
    rows: list[list] = []
    charts: list[ChartSpec] = []
    r = 1
    kpis = ["revenue", "volume", "collections", "new_customers", "activities"]
    att = [[x["rep_id"] + " " + str(x["name"])] + [_pct(x[f"{k}_attainment"]) for k in kpis]
           for x in cards.to_dict("records")]
    block = [["rep", *[f"{k} %" for k in kpis]], *att]
    charts.append(ChartSpec("目标达成率 Attainment by rep", "column", r, r + len(att), 1, 1 + len(kpis), "H1"))
    rows += block + [[]]
    r += len(block) + 1
    ratings = Counter(cards["rating"]) if not cards.empty else Counter()
    block = [["rating", "reps"], *[[k, ratings.get(k, 0)] for k in ("S", "A", "B", "C", "D")]]
    charts.append(ChartSpec("评级分布 Rating distribution", "pie", r, r + 5, 1, 2, "H18"))
    rows += block + [[]]
    r += len(block) + 1
    pipe = c.run.pipeline
    stages = ["Lead", "Qualified", "Proposal", "Negotiation", "Won", "Lost"]
    by_stage = pipe.groupby("stage")["weighted_amount"].sum() if pipe is not None and not pipe.empty else {}
    block = [["stage", "weighted_amount"], *[[s, float(round(by_stage.get(s, 0.0), 2))] for s in stages]]
    charts.append(ChartSpec("商机阶段（加权金额） Pipeline by stage", "bar", r, r + 6, 1, 2, "H35"))
    rows += block
    book.write(SheetData(name=SHEETS["dashboard"], header=rows[0], rows=rows[1:]))
    book.charts(SHEETS["dashboard"], charts)


def _pct(v: object) -> float | None:
    """Attainment in percent; a KPI without a target has none and shows as a gap, not as 0 %."""
    return None if v is None or (isinstance(v, float) and v != v) else round(float(v) * 100, 1)


def _staged(book: Book, master: Master, sub: str) -> OutputFolder:
    """The action's output folder (out/<sub>), checked now and written all at once at the end."""
    return OutputFolder(_folder(book, master, "output_folder") / sub, option="设置 Settings 'output_folder'")


@contextmanager
def _untouched_if_interrupted(staged: OutputFolder):
    """A Ctrl-C before the writing began: say that the output folder was left as it was."""
    try:
        yield
    except KeyboardInterrupt as exc:
        exc.add_note(staged.untouched_note)
        raise


def _consolidate(book: Book, sub: str) -> tuple[Consolidation, Master, OutputFolder, list[str]]:
    from .pipeline import consolidate as run_consolidate

    master = _master(book)
    period, as_of = _period(master)
    team, _out, notes = _folders(book, master)
    staged = _staged(book, master, sub)
    with _untouched_if_interrupted(staged):
        c = run_consolidate(team, master=master, period=period, as_of=as_of, progress=book.progress())
    return c, master, staged, notes


def consolidate(book: Book) -> str:
    """汇总考核 Consolidate & score: grades, pipeline, scorecards, evidence and the dashboard."""
    from .exports import commissions_frame, write_consolidation

    c, _master_, staged, notes = _consolidate(book, "consolidation")
    with staged as tmp:
        write_consolidation(c, tmp, progress=book.progress())
        for sheet in _findings_sheets(c.run):
            book.write(sheet)
        book.write(frame_sheet(SHEETS["customer_grades"], c.run.grades))
        book.write(frame_sheet(SHEETS["pipeline"], c.run.pipeline))
        book.write(frame_sheet(SHEETS["scorecards"], c.scorecards))
        book.write(frame_sheet(SHEETS["evidence"], c.evidence))
        book.write(frame_sheet(SHEETS["commissions"], commissions_frame(c)))
        _dashboard(book, c)
        _save_with(book, staged)
    ratings = Counter(c.scorecards["rating"])
    return _with_notes("汇总考核完成 / Consolidation done.\n" + _summary(c.run) + "\n"
                       + f"{len(c.scorecards)} scorecards: " + ", ".join(f"{k} {ratings.get(k, 0)}" for k in "SABCD")
                       + f"\n{_commission_total(c)}"
                       + f"\n{staged.target}", notes)


def _commission_total(c: Consolidation) -> str:
    paid = c.commissions if c.commissions is not None else pd.DataFrame({"commission": []})
    total = sum((dec(v) for v in paid["commission"]), Decimal(0))
    n = int((paid["commission"] > 0).sum()) if len(paid) else 0
    return f"提成合计 {total:,.2f} 元（{n} 人） / Commissions: {total:,.2f} CNY for {n} reps"


def export_hr(book: Book) -> str:
    """导出人事 Export for HR: the period's scorecards for payroll, with a manifest."""
    from .exports import commissions_frame, write_hr_export

    c, _master_, staged, notes = _consolidate(book, "hr")
    with staged as tmp:
        paths = write_hr_export(c, tmp, progress=book.progress())
        book.write(frame_sheet(SHEETS["scorecards"], c.scorecards))
        book.write(frame_sheet(SHEETS["commissions"], commissions_frame(c)))
        _save_with(book, staged)
    paths = [staged.target / p.relative_to(tmp) for p in paths]
    return _with_notes(f"人事导出完成 / HR export written: {len(c.scorecards)} scorecards.\n"
                       + "\n".join(str(p) for p in paths), notes)


def contracts(book: Book) -> str:
    """生成合同 Contracts: one Word contract per contract; drafts until both reviews are approved."""
    from .documents.from_run import write_contracts
    from .pipeline import validate as run_validate

    master = _master(book)
    team, _out, folder_notes = _folders(book, master)
    staged = _staged(book, master, "contracts")
    out = staged.target
    template = book.folder / "templates" / f"contract_{master.settings['contract_language'] or 'zh'}.docx"
    template = check_template_file(template, WORD_TEMPLATE, "templates/") if template.exists() else None
    with _untouched_if_interrupted(staged):
        run = run_validate([team], master=master, progress=book.progress())
    with staged as tmp:
        docs, notes = write_contracts(run, master.settings, tmp, template=template, progress=book.progress())
    marks = Counter(d.mark for d in docs)
    msg = (f"合同已生成 {len(docs)} 份（草稿 {marks['draft']} 份，已终止 {marks['terminated']} 份） / "
           f"{len(docs)} contracts written ({marks['draft']} drafts, {marks['terminated']} terminated).\n{out}")
    if notes:
        msg += "\n" + "\n".join(notes[:10])
    return _with_notes(msg, folder_notes)


def reports(book: Book) -> str:
    """生成报告 Reports: the period's report per rep and per team (HTML and xlsx)."""
    from .documents.from_run import write_reports

    template = book.folder / "templates" / "report.html.j2"
    template = check_template_file(template, HTML_TEMPLATE, "templates/") if template.exists() else None
    c, master, staged, notes = _consolidate(book, "reports")
    with staged as tmp:
        paths = write_reports(c, tmp, template=template, progress=book.progress())
    return _with_notes(f"报告已生成 {len(paths) - 1} 份 / {len(paths) - 1} reports written.\n{staged.target}", notes)


def statements(book: Book) -> str:
    """考核确认单 Statements: one page per rep for the period, HTML and PDF, for signing."""
    from .documents.statements import write_statements

    template = book.folder / "templates" / "statement.html.j2"
    template = check_template_file(template, HTML_TEMPLATE, "templates/") if template.exists() else None
    c, master, staged, notes = _consolidate(book, "statements")
    with staged as tmp:
        book.progress().phase("writing statements")
        written = write_statements(c, master.settings, tmp, template=template)
    written.out = staged.target  # the message names where they are now
    return _with_notes(written.message(), notes)


ACTIONS = {"validate": validate, "consolidate": consolidate, "contracts": contracts, "reports": reports,
           "export-hr": export_hr, "statements": statements}
ALIASES = {"report": "reports"}  # the CLI command is `report`; both names run the same action


def run_action(name: str, book: Book) -> str:
    """Run action `name` on `book`; returns the message for the user.

    Interrupted (Ctrl-C) before it saved, the workbook is left as it was and the exception says so.
    """
    name = ALIASES.get(name, name)
    if name not in ACTIONS:
        raise ActionError(f"Unknown action {name!r}; choose one of: {', '.join(sorted([*ACTIONS, *ALIASES]))}.")
    progress = book.progress()
    try:
        return ACTIONS[name](book)
    except KeyboardInterrupt as exc:
        if not any("written in full" in n for n in getattr(exc, "__notes__", [])):
            exc.add_note(f"{book.fullname.name} is unchanged.")
        raise
    finally:
        progress.close()


def _expected_errors() -> tuple[type[Exception], ...]:
    from .core.periods import PeriodError
    from .documents.env import DocumentError
    from .io.book import BookError, WorkbookLocked
    from .io.staging import OutputPathError
    from .pipeline import NothingToRead

    return (ActionError, MasterError, SettingsError, PeriodError, NothingToRead, DocumentError, BookError,
            WorkbookLocked, OutputPathError, FolderError)


EXPECTED_ERRORS = _expected_errors()  # errors.describe() is the full list (OSError and library errors too)

__all__ = ["ACTIONS", "ALIASES", "EXPECTED_ERRORS", "ActionError", "MasterError", "run_action"]
