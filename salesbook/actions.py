"""The button actions, written once against the Book port (Excel through xlwings, or the file).

Each action reads the master's inputs from the book, reads the team files from disk with the safe
reader, writes its output sheets back into the book and files into the output folder, and returns
the message shown to the user.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd

from .core.findings import values_of
from .core.periods import parse_period
from .core.schema import master_schemas, normalize_name
from .core.scoring import dec
from .core.settings import KPIS, SettingsError
from .documents.env import HTML_TEMPLATE, WORD_TEMPLATE, check_template_file
from .errors import EXIT_FINDINGS, EXIT_NOTHING, EXIT_OK
from .io.book import Book, ChartSpec, SheetData
from .io.presentation import (
    MAX_LINKS,
    NUMBER_FORMATS,
    display_width,
    enum_names,
    palettes,
    sheet_links,
    sheet_look,
)
from .io.staging import OutputFolder, check_output_folder, deferred_interrupt
from .outputs import files_frame, findings_frame
from .pipeline import (
    Consolidation,
    FolderError,
    Master,
    MasterError,
    NothingToRead,
    Run,
    all_rejected,
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
MONEY_FMT = NUMBER_FORMATS["money"]
PCT_FMT = NUMBER_FORMATS["pct"]


class ActionError(Exception):
    """The action cannot run as the workbook is set up; the message says what to fix."""


class Outcome(str):
    """An action's message for the user, carrying the exit code the matching command gives
    (`salesbook run ACTION` exits with it; a button shows the message)."""

    exit_code: int = EXIT_OK

    def __new__(cls, message: str, exit_code: int = EXIT_OK) -> Outcome:
        done = super().__new__(cls, message)
        done.exit_code = exit_code
        return done


def _outcome(message: str, run: Run, *, check: bool = False) -> Outcome:
    """3 when no team file could be read; for a check (validate) 1 when error-level findings exist."""
    if all_rejected(run):
        return Outcome(message, EXIT_NOTHING)
    return Outcome(message, EXIT_FINDINGS if check and run.error_count else EXIT_OK)


def _refuse_nothing_read(run: Run, what: str, what_zh: str) -> None:
    """Documents from no data at all would mislead: refused (exit 3) before anything is written."""
    if all_rejected(run):
        raise NothingToRead(f"没有任何团队文件可以读取，未生成{what_zh}（见「文件状态」）。 / No team file could be read; "
                            f"no {what} written.")


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


def frame_sheet(name: str, frame: pd.DataFrame, *, fills: dict[int, str] | None = None,
                sources: dict[str, str] | None = None, base: Path | None = None) -> SheetData:
    """A DataFrame as an output sheet for people: columns in the layout's order with Chinese/English
    headers, notes, number formats, widths from the content, colours by value, capped rows.

    With `sources` (team file label -> path), rows naming a file link to their place in it (a
    finding's cell, a source row), relative to the master's folder `base`."""
    look = sheet_look(name, [str(c) for c in frame.columns], sample=lambda k: frame[k].head(200).tolist())
    shown = frame.head(MAX_SHEET_ROWS)
    # Column lists, not itertuples: iterating an Arrow text column is ten times slower than tolist.
    shown_columns = look.display_columns([shown[k].tolist() for k in look.keys]) if len(shown) else []
    rows = [list(r) for r in zip(*shown_columns, strict=True)]
    links = sheet_links(look.keys, shown, sources, base, MAX_LINKS) if sources and base is not None else {}
    widths = look.widths(rows)
    heights = look.row_heights(rows, widths)
    if len(frame) > MAX_SHEET_ROWS:
        rows.append([f"… 另有 {len(frame) - MAX_SHEET_ROWS} 行见输出文件夹的 CSV / {len(frame) - MAX_SHEET_ROWS} "
                     "more rows in the output folder's CSV"])
    return SheetData(name=name, header=look.header, rows=rows, notes=look.notes(), fills=fills or {},
                     number_formats=look.number_formats(), widths=widths, wrap=look.wrap_columns(),
                     rules=look.rules(), links=links, frozen_columns=look.frozen,
                     header_lines=look.header_lines(widths), row_heights=heights)


def sources_of(run: Run) -> dict[str, str]:
    """Team file label -> its path, for links from output rows into the team files."""
    return {f.label: f.path for f in run.files}


def _findings_sheets(run: Run, base: Path) -> list[SheetData]:
    src = sources_of(run)
    return [frame_sheet(SHEETS["findings"], findings_frame(run.findings), sources=src, base=base),
            frame_sheet(SHEETS["files"], files_frame(run.files), sources=src, base=base)]


def _summary(run: Run) -> str:
    sev = Counter(values_of(run.findings, "severity"))
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
    for sheet in _findings_sheets(run, book.folder):
        book.write(sheet)
    _last_run(book, "validate", run, period or "", team)
    _save_with(book)
    return _outcome(_with_notes("校验完成 / Validation done.\n" + _summary(run), notes), run, check=True)


STAGE_ORDER = ("Lead", "Qualified", "Proposal", "Negotiation")  # the open pipeline: no Won / Lost
RATING_ORDER = ("S", "A", "B", "C", "D")


def _dashboard(book: Book, c: Consolidation) -> None:
    """Three charts where the eye lands, each above its own small table: attainment by rep with the
    100 % line, the rating distribution in the rating colours, and the open pipeline in 万元."""
    cards = c.scorecards
    period = c.run.period.label if c.run.period else ""
    as_of = c.run.as_of or (c.run.period.end if c.run.period else None)
    rows: list[list] = [[f"仪表板 Dashboard · {period}"],
                        [f"截至 As of {as_of.isoformat() if as_of else ''} · {len(cards)} 名销售代表 reps · "
                         "由「汇总考核」按钮生成 / drawn by the Consolidate & score button"], []]
    title_rows, header_rows, formats, charts, breaks = {0}, set(), {}, [], []
    rating_colour = palettes().get("rating", {})

    def table(header: list[str], body: list[list], fmt: dict[int, str]) -> tuple[int, int]:
        """Append a table; return its 1-based header row and last row on the sheet."""
        top = len(rows)
        header_rows.add(top)
        rows.append(header)
        for line in body:
            for j, f in fmt.items():
                formats[(len(rows), j)] = f
            rows.append(line)
        rows.append([])
        return top + 1, top + len(body) + 1

    def chart_space(height_cm: float) -> str:
        if len(rows) > 3:
            breaks.append(len(rows))  # each chart with its table on a printed page of its own
        anchor = f"A{len(rows) + 1}"
        rows.extend([] for _ in range(int(height_cm / 0.53) + 2))
        return anchor

    # 1. Attainment by rep: base score / 100 is the weighted attainment of the KPIs with a target.
    att = []
    for x in cards.to_dict("records"):
        has_target = any(not _blank(x.get(f"{k}_target")) and x.get(f"{k}_target") for k in KPIS)
        att.append((f"{x['rep_id']} {x['name']}", float(x["base_score"]) / 100 if has_target else None, x["rating"]))
    att.sort(key=lambda t: (t[1] is None, -(t[1] or 0), t[0]))
    height = max(8.0, min(13.0, 6 + 0.12 * len(att)))
    width = max(16.0, min(40.0, 4 + 0.7 * len(att)))
    anchor = chart_space(height)
    first, last = table(["销售代表 Rep", "综合达成率 Attainment", "目标 Target"],
                        [[label, v, 1.0] for label, v, _ in att], {1: "0%", 2: "0%"})
    charts.append(ChartSpec("综合达成率 Attainment", "column", first, max(last, first + 1), 1, 3,
                            anchor, line_series=(1,), point_colours=tuple(rating_colour.get(r, "#9DC3E6")
                                                                          for _, _, r in att),
                            value_format="0%", width_cm=width, height_cm=height))
    # 2. Rating distribution, S to D in the rating colours.
    counts = Counter(cards["rating"]) if not cards.empty else Counter()
    anchor = chart_space(7.5)
    first, last = table(["评级 Rating", "人数 Reps"], [[k, int(counts.get(k, 0))] for k in RATING_ORDER], {1: "0"})
    charts.append(ChartSpec("评级分布 Ratings", "column", first, last, 1, 2, anchor,
                            point_colours=tuple(rating_colour.get(k, "#9DC3E6") for k in RATING_ORDER),
                            value_format="0", legend=False, width_cm=12, height_cm=7.5))
    # 3. The open pipeline by stage in 万元 (weighted), with the plain amount and the count beside it.
    pipe = c.run.pipeline
    open_pipe = pipe[pipe["stage"].isin(STAGE_ORDER)] if pipe is not None and not pipe.empty else None
    stage_colour = palettes().get("category", {})
    stage_zh = enum_names("stage")
    body = []
    for s in STAGE_ORDER:
        part = open_pipe[open_pipe["stage"] == s] if open_pipe is not None else None
        n = 0 if part is None else len(part)
        weighted = 0.0 if part is None else float(part["weighted_amount"].sum())
        amount = 0.0 if part is None else float(part["amount"].sum())
        body.append([f"{stage_zh[s]} {s}", round(weighted / 10_000, 2), round(amount / 10_000, 2), n])
    anchor = chart_space(7.5)
    first, last = table(["阶段 Stage", "加权金额(万元) Weighted", "金额(万元) Amount", "商机数 Count"], body,
                        {1: "#,##0.0", 2: "#,##0.0", 3: "0"})
    charts.append(ChartSpec("在手商机（加权，万元） Open pipeline", "bar", first, last, 1, 2,
                            anchor, point_colours=tuple(stage_colour.get(stage_zh[s], "#9DC3E6")
                                                        for s in STAGE_ORDER),
                            value_format="#,##0", axis_title="万元 10k CNY", legend=False, width_cm=14,
                            height_cm=7.5, reverse_categories=True))
    widths = {j: float(min(40, max(10, max((display_width(str(r[j])) for r in rows[3:]  # the tables, not the titles
                                             if j < len(r) and r[j] is not None), default=0) + 2)))
              for j in range(4)}
    book.write(SheetData(name=SHEETS["dashboard"], header=[], rows=rows, widths=widths, freeze=False,
                         autofilter=False, title_rows=title_rows, header_rows=header_rows, cell_formats=formats,
                         page_breaks=breaks))
    book.charts(SHEETS["dashboard"], charts)


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def _last_run(book: Book, action: str, run: Run, period: str, team: Path, result: str = "") -> None:
    """The start sheet's status block: what is in force and what the last action did."""
    try:
        from .xlsm.builder import load_layout, start_cells

        cells = start_cells(load_layout())
    except Exception:  # noqa: BLE001 - the status block is help text; a missing layout must not stop an action
        return
    if book.sheet_names() and cells["sheet"] not in book.sheet_names():
        return
    sev = Counter(values_of(run.findings, "severity"))
    status = Counter(f.status for f in run.files)
    ok, rejected = status.get("accepted", 0), status.get("rejected", 0)  # lock files are skipped, not rejected
    entry = {"close": "close_period"}.get(action, action.replace("-", "_"))  # the button's salesbook.excel function
    caption = next((b.caption for b in load_layout().buttons if b.python == entry), action)
    book.set_cells(cells["sheet"], {
        cells["period"]: period or "（未设置 not set）",
        cells["team_folder"]: _shown(book, team),
        cells["action"]: caption,
        cells["time"]: datetime.now().strftime("%Y-%m-%d %H:%M"),
        cells["files"]: f"已读取 {ok}，被拒绝 {rejected} / {ok} read, {rejected} rejected",
        cells["findings"]: (f"错误 {sev.get('error', 0)}，警告 {sev.get('warning', 0)}，提示 {sev.get('info', 0)} / "
                            f"{sev.get('error', 0)} errors, {sev.get('warning', 0)} warnings, "
                            f"{sev.get('info', 0)} info"),
        cells["result"]: _shown(book, Path(result)) if result else "",
    })


def _shown(book: Book, path: Path) -> str:
    """A folder as the manager reads it: relative to the workbook's folder when inside it, so the
    start sheet stays true when the workspace is moved or copied (the demo is built elsewhere, then moved)."""
    try:
        return Path(path).resolve().relative_to(Path(book.folder).resolve()).as_posix() or "."
    except ValueError:
        return str(path)


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


_OPENED: list = []  # ledgers an action opened: closed when it ends (the workspace may move, or Excel stay open)


def _consolidate(book: Book, sub: str, *, payroll: str = "", ledger: str | None = None, monthly: str = ""):
    """The period's consolidation, its staged output folder, the folder notes and (for `payroll`
    actions, which refuse a week and record their run) the master's ledger. A `monthly` action refuses
    a week too, without a ledger."""
    from .closing import existing_ledger, open_master_ledger
    from .payroll import refuse_week
    from .pipeline import all_rejected
    from .pipeline import consolidate as run_consolidate

    master = _master(book)
    period, as_of = _period(master)
    if payroll or monthly:
        refuse_week(period, payroll or monthly)
    master.sha256 = _file_sha256(book.fullname)
    team, _out, notes = _folders(book, master)
    staged = _staged(book, master, sub)
    lg = existing_ledger(master, ledger) if payroll else None  # checked before the long read
    with _untouched_if_interrupted(staged):
        c = run_consolidate(team, master=master, period=period, as_of=as_of, outputs=sub == "consolidation",
                            progress=book.progress())
    if payroll and lg is None and not all_rejected(c.run):  # nothing read: nothing to record, no ledger made
        lg = open_master_ledger(master, ledger)  # a first run: the ledger is made now
    if lg is not None:
        _OPENED.append(lg)
    return c, master, staged, notes, lg


def _file_sha256(path: Path) -> str:
    """The master as saved on disk (Excel may hold unsaved edits; those are in the figures, not here)."""
    from .io.writers import sha256_file

    try:
        return sha256_file(path)
    except OSError:
        return ""


def _scorecards_sheet(c: Consolidation, view, changes) -> SheetData:
    """考核表: this run's scorecards, or for a closed period the closed figures with closed and 变动."""
    from .closing import closed_scorecards

    if view is None:
        return frame_sheet(SHEETS["scorecards"], c.scorecards)
    return frame_sheet(SHEETS["scorecards"], closed_scorecards(view, c, changes))


def _write_consolidation_sheets(book: Book, c: Consolidation, view, changes) -> None:
    from .exports import commissions_frame

    for sheet in _findings_sheets(c.run, book.folder):
        book.write(sheet)
    src = sources_of(c.run)
    book.write(frame_sheet(SHEETS["customer_grades"], c.run.grades, sources=src, base=book.folder))
    book.write(frame_sheet(SHEETS["pipeline"], c.run.pipeline, sources=src, base=book.folder))
    book.write(_scorecards_sheet(c, view, changes))
    book.write(frame_sheet(SHEETS["evidence"], c.evidence, sources=src, base=book.folder))
    book.write(frame_sheet(SHEETS["commissions"], commissions_frame(c)))
    _dashboard(book, c)


def _sheets_made_for_saving(book: Book, c: Consolidation) -> None:
    """The consolidation's sheets, and their part of the save made too (while the writers run)."""
    from .io.memory import cycle_collector_paused

    # Each full collection here walked the whole run (0.1-0.3 s, twice on a busy month) for a few
    # thousand openpyxl cycles, which the collector takes later
    with cycle_collector_paused():
        _write_consolidation_sheets(book, c, None, None)
        book.prepare_save()


def consolidate(book: Book, *, ledger: str | None = None) -> str:
    """汇总考核 Consolidate & score: grades, pipeline, scorecards, evidence and the dashboard."""
    from .closing import CHANGES_FILE, Recording, changes_since_close, closed_view, remove_stale_changes
    from .exports import write_consolidation
    from .io.writers import write_csv
    from .pipeline import all_rejected

    c, master, staged, notes, lg = _consolidate(book, "consolidation", payroll="consolidate (scorecards)",
                                                ledger=ledger)
    # Nothing read: all-zero scorecards must not stand as the period's latest figures in the ledger.
    nothing = all_rejected(c.run)
    closed_note = ""
    view = None if nothing else closed_view(lg, master.settings, c.run.period)
    recording = Recording(c)
    with staged as tmp:
        try:
            if view is None:  # the usual case: the record and this workbook's sheets are made while the writers run
                if not nothing:
                    recording.start(lg)
                if recording.forked or nothing:  # the rows are in the record's process: the writers fork smaller
                    c.drop_rows()
                meanwhile = lambda: _sheets_made_for_saving(book, c)  # noqa: E731
            else:  # a closed period: the changes need this run's source rows here
                meanwhile = recording
            write_consolidation(c, tmp, progress=book.progress(), meanwhile=meanwhile)
            if view is None:  # the workbook is made (in a child) while the ledger's record finishes
                _last_run(book, "consolidate", c.run, c.run.period.label, _folder(book, master, "team_folder"),
                          str(staged.target))
                book.save_ahead()
            run_id = None if nothing else recording.record(lg)
        except BaseException:
            recording.cancel()
            book.discard_save_ahead()
            raise
        if view is not None:
            changes = changes_since_close(view, c, recording.rows)
            write_csv(tmp / CHANGES_FILE, changes)
            closed_note = (f"\n{c.run.period.label} 已结账 / is closed ({view.close.who_when}); 考核表 shows the "
                           f"closed figures, {changes['rep_id'].nunique()} reps changed since (变动, "
                           "changes_since_close.csv).")
            _write_consolidation_sheets(book, c, view, changes)
            _last_run(book, "consolidate", c.run, c.run.period.label, _folder(book, master, "team_folder"),
                      str(staged.target))
        _save_with(book, staged)
    remove_stale_changes(staged.target, written=view is not None)
    ratings = Counter(c.scorecards["rating"])
    return _outcome(_with_notes("汇总考核完成 / Consolidation done.\n" + _summary(c.run) + "\n"
                                + f"{len(c.scorecards)} scorecards: "
                                + ", ".join(f"{k} {ratings.get(k, 0)}" for k in "SABCD")
                                + (f" (run {run_id}){closed_note}" if run_id is not None else "\n" + NOT_RECORDED)
                                + f"\n{_commission_total(c)}"
                                + f"\n{staged.target}", notes), c.run)


NOT_RECORDED = ("未记入台账：没有任何团队文件可以读取（见「文件状态」），这些考核数据没有依据；台账保留本期此前的数据。"
                "请修复文件后重新汇总。 / Not recorded in the ledger: no team file could be read (see 文件状态), so "
                "these scorecards rest on nothing; the ledger keeps the period's earlier figures. Fix the files and "
                "consolidate again.")


def _commission_total(c: Consolidation) -> str:
    paid = c.commissions if c.commissions is not None else pd.DataFrame({"commission": []})
    total = sum((dec(v) for v in paid["commission"]), Decimal(0))
    n = int((paid["commission"] > 0).sum()) if len(paid) else 0
    return f"提成合计 {total:,.2f} 元（{n} 人） / Commissions: {total:,.2f} CNY for {n} reps"


def export_hr(book: Book, *, ledger: str | None = None) -> str:
    """导出人事 Export for HR: the period's scorecards for payroll, with a manifest (closed: as at the close)."""
    from .closing import changes_since_close, export_for_hr, remove_stale
    from .exports import commissions_frame

    c, master, staged, notes, lg = _consolidate(book, "hr", payroll="the HR export", ledger=ledger)
    with staged as tmp:  # the payroll guards refuse inside: the folder and the workbook stay as they were
        book.progress().phase("writing outputs")
        report = export_for_hr(c, lg, tmp)
        changes = changes_since_close(report.closed, c) if report.closed is not None else None
        book.write(_scorecards_sheet(c, report.closed, changes))
        book.write(frame_sheet(SHEETS["commissions"], commissions_frame(c)))
        _last_run(book, "export-hr", c.run, c.run.period.label, _folder(book, master, "team_folder"),
                  str(staged.target))
        _save_with(book, staged)
    remove_stale(staged.target, report)
    paths = [staged.target / p.relative_to(tmp) for p in report.paths]
    return _with_notes(f"人事导出完成 / {report.message}.\n" + "\n".join(str(p) for p in paths), notes)


def close(book: Book, *, ledger: str | None = None, accept_errors: bool = False, note: str = "") -> str:
    """结账 Close period: consolidate, export for HR and keep those figures as closed, in one transaction."""
    from .closing import (
        CHANGES_COLUMNS,
        book_name,
        close_period,
        closed_view,
        error_summary,
        remove_stale_changes,
    )
    from .exports import hr_files, write_consolidation, write_files
    from .payroll import check_payroll, data_quality

    c, master, staged, notes, lg = _consolidate(book, "consolidation", payroll="closing", ledger=ledger)
    staged_hr = _staged(book, master, "hr")
    period = c.run.period.label
    live = lg.live_close(book_name(master.settings), period) if lg is not None else None
    if live is not None:
        raise lg.closed_error(live)
    check_payroll(c)
    errors = c.run.error_count
    if errors and not accept_errors:
        accept_errors = book.confirm(
            f"{period}: {errors} 个错误（{error_summary(c)}），这些行不计入考核。仍要结账吗？\n"
            f"{errors} error findings ({error_summary(c)}); those rows are left out of the figures. "
            "Close the period anyway?")
    book.progress().phase(f"closing {period}")
    info, files = close_period(c, lg, note=note or "结账按钮 / Close period button", accept_errors=accept_errors,
                               hr_files=lambda run_id: hr_files(c, data_quality=data_quality(c, run_id=run_id,
                                                                                             closed=True)))
    view = closed_view(lg, master.settings, c.run.period)
    with staged as tmp, staged_hr as tmp_hr:
        write_consolidation(c, tmp, progress=book.progress())
        paths = write_files(tmp_hr, files)
        _write_consolidation_sheets(book, c, view, pd.DataFrame(columns=CHANGES_COLUMNS, dtype=object))
        _last_run(book, "close", c.run, period, _folder(book, master, "team_folder"), str(staged_hr.target))
        _save_with(book, staged)
        staged_hr.commit()
    remove_stale_changes(staged.target, written=False)  # just closed: nothing has changed since
    paths = [staged_hr.target / p.relative_to(tmp_hr) for p in paths]
    accepted = f"，接受 {info.accepted_errors} 个错误 / {info.accepted_errors} errors accepted" if info.accepted_errors else ""
    return _with_notes(f"结账完成 / {period} closed (run {info.run_id}{accepted}): {len(c.scorecards)} scorecards "
                       "as paid.\n" + "\n".join(str(p) for p in paths), notes)


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
    _refuse_nothing_read(run, "contracts", "合同")
    with staged as tmp:
        docs, notes = write_contracts(run, master.settings, tmp, template=template, progress=book.progress())
        _last_run(book, "contracts", run, str(master.settings["period"]).strip(), team, str(out))
        _save_with(book, staged)
    marks = Counter(d.mark for d in docs)
    msg = (f"合同已生成 {len(docs)} 份（草稿 {marks['draft']} 份，已终止 {marks['terminated']} 份） / "
           f"{len(docs)} contracts written ({marks['draft']} drafts, {marks['terminated']} terminated).\n{out}")
    if notes:
        msg += "\n" + "\n".join(notes[:10])
    return _with_notes(msg, folder_notes)


def reports(book: Book, *, ledger: str | None = None) -> str:
    """生成报告 Reports: the period's report per rep and per team (HTML and xlsx), with each rep's trend."""
    from .closing import report_trends
    from .documents.from_run import write_reports

    template = book.folder / "templates" / "report.html.j2"
    template = check_template_file(template, HTML_TEMPLATE, "templates/") if template.exists() else None
    c, master, staged, notes, _lg = _consolidate(book, "reports")
    _refuse_nothing_read(c.run, "reports", "报告")
    with staged as tmp:
        paths = write_reports(c, tmp, template=template, progress=book.progress(), trends=report_trends(c, ledger))
        _last_run(book, "reports", c.run, c.run.period.label, _folder(book, master, "team_folder"),
                  str(staged.target))
        _save_with(book, staged)
    return _with_notes(f"报告已生成 {len(paths) - 1} 份 / {len(paths) - 1} reports written.\n{staged.target}", notes)


def statements(book: Book) -> str:
    """考核确认单 Statements: one page per rep for the period, HTML and PDF, for signing."""
    from .documents.statements import write_statements
    from .payroll import STATEMENTS, check_statements
    from .pipeline import NothingToRead, all_rejected

    template = book.folder / "templates" / "statement.html.j2"
    template = check_template_file(template, HTML_TEMPLATE, "templates/") if template.exists() else None
    c, master, staged, notes, _lg = _consolidate(book, "statements", monthly=STATEMENTS)
    if all_rejected(c.run):
        raise NothingToRead("没有任何团队文件可以读取，未生成考核确认单（见「文件状态」）。 / No team file could be read; "
                            "no statements written.")
    check_statements(c)
    with staged as tmp:
        book.progress().phase("writing statements")
        written = write_statements(c, master.settings, tmp, template=template)
        _last_run(book, "statements", c.run, c.run.period.label, _folder(book, master, "team_folder"),
                  str(staged.target))
        _save_with(book, staged)
    written.out = staged.target  # the message names where they are now
    return _with_notes(written.message(), notes)


ACTIONS = {"validate": validate, "consolidate": consolidate, "contracts": contracts, "reports": reports,
           "export-hr": export_hr, "statements": statements, "close": close}
ALIASES = {"report": "reports"}  # the CLI command is `report`; both names run the same action
# The output sheets each action writes anew: the file backend does not load their old cells.
REWRITES = {"validate": [SHEETS["findings"], SHEETS["files"]], "consolidate": list(SHEETS.values()),
            "close": list(SHEETS.values()), "export-hr": [SHEETS["scorecards"], SHEETS["commissions"]]}
# Options of `salesbook run` that an action takes (the buttons give none: they ask or use the settings).
ACTION_OPTIONS = {"consolidate": {"ledger"}, "reports": {"ledger"}, "export-hr": {"ledger"},
                  "close": {"ledger", "accept_errors", "note"}}


def rewritten_sheets(name: str) -> list[str]:
    """The sheets action `name` writes anew (a FileBook opened for it need not load their cells)."""
    return REWRITES.get(ALIASES.get(name, name), [])


def run_action(name: str, book: Book, **options) -> Outcome:
    """Run action `name` on `book`; returns the message for the user (with the command's exit code).

    Interrupted (Ctrl-C) before it saved, the workbook is left as it was and the exception says so.
    """
    name = ALIASES.get(name, name)
    if name not in ACTIONS:
        raise ActionError(f"Unknown action {name!r}; choose one of: {', '.join(sorted([*ACTIONS, *ALIASES]))}.")
    given = {k: v for k, v in options.items() if v not in (None, False, "")}
    unknown = set(given) - ACTION_OPTIONS.get(name, set())
    if unknown:
        flags = ", ".join("--" + k.replace("_", "-") for k in sorted(unknown))
        raise ActionError(f"{flags} does not apply to the {name} action.")
    progress = book.progress()
    try:
        done = ACTIONS[name](book, **given)
        return done if isinstance(done, Outcome) else Outcome(done)
    except KeyboardInterrupt as exc:
        if not any("written in full" in n for n in getattr(exc, "__notes__", [])):
            exc.add_note(f"{book.fullname.name} is unchanged.")
        raise
    finally:
        progress.close()
        while _OPENED:
            _OPENED.pop().dispose()


def _expected_errors() -> tuple[type[Exception], ...]:
    from .closing import CloseRefused
    from .core.periods import PeriodError
    from .documents.env import DocumentError
    from .io.book import BookError, WorkbookLocked
    from .io.staging import OutputPathError
    from .ledger import LedgerError
    from .payroll import PayrollRefused
    from .pipeline import NothingToRead

    return (ActionError, MasterError, SettingsError, PeriodError, NothingToRead, DocumentError, BookError,
            WorkbookLocked, OutputPathError, FolderError, LedgerError, PayrollRefused, CloseRefused)


EXPECTED_ERRORS = _expected_errors()  # errors.describe() is the full list (OSError and library errors too)

__all__ = ["ACTIONS", "ACTION_OPTIONS", "ALIASES", "EXPECTED_ERRORS", "ActionError", "MasterError", "Outcome",
           "rewritten_sheets",
           "run_action"]
