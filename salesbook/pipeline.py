"""Validation and consolidation runs: find the files, read them safely in workers, apply the rules.

This is where io (reading) and core (rules, scores) meet; the CLI and the workbook actions call it.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from .core import rules
from .core.activities import effective_activities
from .core.counted import collections_not_counted
from .core.dataset import Dataset
from .core.findings import (
    ERROR,
    Bilingual,
    Finding,
    Findings,
    echo,
    make_finding,
    sort_key,
    values_of,
    workbook_sorted,
)
from .core.periods import Period, parse_period
from .core.schema import match_sheet, team_schemas
from .core.settings import Settings, SettingsError, load_settings
from .core.table import SheetTable
from .io import columns
from .io.memory import cycle_collector_paused, release_memory
from .io.pool import Job, run_jobs
from .io.precheck import READ_EXTENSIONS, Limits
from .io.team_reader import NOT_REGULAR, FileResult, failure_reason, read_team_file, reject
from .progress import Progress, as_progress


class NothingToRead(Exception):
    """No team file could be found or read at the given paths."""


class MasterError(Exception):
    """The master workbook cannot be used; the message says why and what to do."""


class FolderError(Exception):
    """An output folder inside a team folder: its outputs would be read as team files next time."""


def check_outside_team(out: Path, team_paths: list[Path]) -> None:
    """Refuse an output folder that is (or is inside) one of the team folders."""
    out_real = Path(out).resolve()
    for team in team_paths:
        team = Path(team)
        if team.is_dir() and _inside(out_real, team.resolve()):
            raise FolderError(
                f"输出文件夹 {out} 位于团队文件夹 {team} 之内，输出会在下次被当作团队文件读取；请换一个团队文件夹以外的输出文件夹。\n"
                f"The output folder {out} is inside the team folder {team}: its files would be read as team files "
                "on the next run. Choose an output folder outside the team folder.")


@dataclass
class Master:
    """The master workbook's inputs: settings, roster and targets."""

    path: str = ""
    settings: Settings = field(default_factory=load_settings)
    roster: pd.DataFrame | None = None
    targets: pd.DataFrame | None = None
    findings: list[Finding] = field(default_factory=list)
    plans: dict = field(default_factory=dict)  # normalised plan name -> core.commission.Plan
    plan_of: dict[str, str] = field(default_factory=dict)  # rep id -> the plan name it is on
    sheets: list[str] = field(default_factory=list)  # its sheets in workbook order (findings follow it)
    # Every roster row as read, those left out for errors too (payroll guards name them).
    roster_rows: pd.DataFrame | None = None
    # Rep id -> where the errors of its roster row are, for reps whose only roster row was left out.
    roster_errors: dict[str, str] = field(default_factory=dict)
    sha256: str = ""

    @property
    def roster_ids(self) -> set[str] | None:
        if self.roster is None:
            return None
        return set(self.roster["rep_id"].dropna())


@dataclass
class Run:
    """Everything one validation or consolidation produced."""

    files: list[FileResult]
    dataset: Dataset
    findings: Findings  # in reading order; a list while it is built
    master: Master
    period: Period | None
    as_of: date | None
    grades: pd.DataFrame | None = None
    pipeline: pd.DataFrame | None = None
    sheet_positions: dict[tuple[str, str], int] = field(default_factory=dict)  # (file, sheet) -> index in file

    def sorted(self, findings: list[Finding] | Findings) -> Findings:
        """Findings in reading order: file by file, sheets as they stand in each workbook, then row and cell."""
        rank = {name: i for i, s in enumerate(team_schemas()) for name in (s.en, s.zh)}  # missing sheets, zh or en
        return workbook_sorted(findings, self.sheet_positions, rank)

    @property
    def error_count(self) -> int:
        return values_of(self.findings, "severity").count(ERROR)

    def counts(self) -> Counter:
        return Counter(values_of(self.findings, "code"))


def team_files(paths: list[Path], skipped: list[tuple[str, Path, Bilingual]] | None = None) -> list[tuple[str, Path]]:
    """(label, path) of every file to read, sorted by label; lock files and hidden files skipped.

    A symbolic link in a folder is read only when it leads to a file inside that folder that is not
    read anyway (then from its real place); one that leads outside, or nowhere, is not followed and
    goes to `skipped` with the reason, so it is listed as rejected rather than silently left out.
    """
    out: list[tuple[str, Path]] = []
    links: list[tuple[str, Path]] = []
    for base in paths:
        base = Path(base)
        if base.is_dir():
            root_real = base.resolve()
            for root, dirs, files in os.walk(base):
                dirs[:] = sorted(d for d in dirs if not d.startswith((".", "~$", "__")))
                for d in [d for d in dirs if (Path(root) / d).is_symlink()]:
                    dirs.remove(d)  # os.walk would not go in; say so when it leads out of the folder
                    link = Path(root) / d
                    if not _inside(link.resolve(), root_real) and skipped is not None:
                        skipped.append((link.relative_to(base).as_posix(), link, _outside_link(link)))
                for name in files:
                    if name.startswith((".", "~$")):
                        continue
                    p = Path(root) / name
                    if p.suffix.lower() not in READ_EXTENSIONS:
                        continue
                    label = p.relative_to(base).as_posix()
                    if p.is_symlink():
                        real = p.resolve()
                        if _inside(real, root_real) and real.is_file():
                            links.append((label, real))
                        elif skipped is not None:
                            inside_odd = _inside(real, root_real) and real.exists()
                            skipped.append((label, p, NOT_REGULAR if inside_odd else _outside_link(p)))
                        continue
                    if not _regular(p, follow=False):  # a named pipe would block the reader for ever
                        if skipped is not None:
                            skipped.append((label, p, NOT_REGULAR))
                        continue
                    out.append((label, p))
        elif base.exists():
            if _regular(base, follow=True):
                out.append((base.name, base))
            elif skipped is not None:
                skipped.append((base.name, base, NOT_REGULAR))
        else:
            raise NothingToRead(f"{base} does not exist. Give a team folder or workbook that exists.")
    read = {p.resolve() for _, p in out} if links else set()
    for label, real in sorted(links):  # a link to a file read anyway would read it twice
        if real not in read:
            out.append((label, real))
            read.add(real)
    labels = Counter(label for label, _ in out)
    if any(n > 1 for n in labels.values()):  # two arguments with the same file name: keep them apart
        out = [(str(p), p) for _, p in out]
    return sorted(out, key=lambda lp: lp[0])


def _regular(path: Path, *, follow: bool) -> bool:
    """A regular file by its directory entry (lstat), looked at without opening it (a file gone since the
    folder was listed is left to the reader, which says it was moved or deleted)."""
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _outside_link(link: Path) -> Bilingual:
    try:
        target = os.readlink(link)
    except OSError:
        target = "?"
    if not link.exists():
        return Bilingual(f"这是一个快捷方式（符号链接），指向不存在的 {target}：未读取",
                         f"a shortcut (symbolic link) to {target}, which does not exist: not read")
    return Bilingual(f"这是一个快捷方式（符号链接），指向团队文件夹以外的 {target}：未读取；请把文件本身复制到团队文件夹",
                     f"a shortcut (symbolic link) to {target}, outside the team folder: not followed; copy the file "
                     "itself into the team folder")


def lock_files(paths: list[Path]) -> list[tuple[str, str, bool]]:
    """(lock label, workbook label, workbook exists) of every Excel (~$x.xlsx) and LibreOffice
    (.~lock.x.xlsx#) lock file in the team folders: someone has that workbook open. Only names are
    looked at; lock files are never read."""
    out: list[tuple[str, str, bool]] = []
    for base in map(Path, paths):
        if not base.is_dir():
            continue
        for root, dirs, files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "~$", "__")))
            names = set(files)
            for name in sorted(files):
                if name.startswith("~$"):
                    target = name[2:]
                    if target not in names:  # Word-style owner file: ~$ replaces the first two letters
                        target = next((n for n in sorted(names) if len(n) == len(name) and n.endswith(name[2:])
                                       and not n.startswith("~$")), target)
                elif name.startswith(".~lock.") and name.endswith("#"):
                    target = name[len(".~lock."):-1]
                else:
                    continue
                rel = Path(root).relative_to(base)
                out.append(((rel / name).as_posix(), (rel / target).as_posix(), target in names))
    return out


def _lock_results(locks: list[tuple[str, str, bool]], read: set[str]) -> tuple[list[FileResult], list[Finding]]:
    """Lock files as skipped entries of the file list, and a note on each workbook someone has open."""
    results, findings = [], []
    for lock, target, exists in locks:
        if exists:
            reason = f"lock file: someone has {target} open; its last saved version was read"
            if target in read:
                findings.append(make_finding("file-open-elsewhere", file=target, lock=Path(lock).name))
        else:
            reason = f"lock file left behind ({target} is not in the folder); skipped"
        results.append(FileResult(label=lock, path="", status="skipped", reason=reason))
    return results, findings


def limits_from(settings: Settings) -> Limits:
    return Limits(
        max_file_bytes=int(settings["reader.max_file_mb"]) * 2**20,
        timeout_seconds=float(settings["reader.timeout_seconds"]),
    )


def read_files(files: list[tuple[str, Path]], *, min_date: date, max_date: date | None, limits: Limits,
               workers: int, scope: str = "team",
               progress: Callable[[int, int], None] | None = None) -> list[FileResult]:
    """Read every file in worker processes; a crash or time-out rejects only that file."""
    jobs = _reading_jobs(files, min_date, max_date, limits, scope)
    done = run_jobs(jobs, workers=workers, timeout=limits.timeout_seconds,
                    max_bytes=limits.worker_memory_bytes, on_done=progress)
    return [_result_of(label, path, *done.get(label, ("crash", "no result"))) for label, path in files]


def _reading_jobs(files: list[tuple[str, Path]], min_date: date, max_date: date | None, limits: Limits,
                  scope: str) -> list[Job]:
    """The files' reading jobs, the largest file first: a big one read last keeps one worker busy while
    the others have nothing left (results are keyed by label, so the order shows nowhere)."""
    return [Job(label, read_team_file, (str(path), label, min_date, max_date, limits, scope))
            for label, path in sorted(files, key=_size_first)]


def _size_first(file: tuple[str, Path]) -> tuple[int, str]:
    try:
        size = file[1].stat().st_size
    except OSError:  # gone or unreadable: the reader says so in its turn
        size = 0
    return -size, file[0]


def _result_of(label: str, path: Path, status: str, payload: object) -> FileResult:
    """A worker's outcome for one file: its result, or the file rejected saying why the reader stopped."""
    if status == "ok":
        return payload
    return reject(label, str(path), "file-unreadable", failure_reason(status, payload))


def read_master(path: Path | None) -> Master:
    """Settings, roster and targets from the master workbook (or the defaults when there is none)."""
    if path is None:
        return Master()
    path = Path(path)
    if not path.exists():
        raise MasterError(f"Master workbook {path} does not exist. Run `salesbook init DIR` to create one.")
    [res] = read_files([(path.name, path)], min_date=MASTER_MIN_DATE, max_date=None, limits=Limits(),
                       workers=1, scope="master")
    return _master_of(path, res)


MASTER_MIN_DATE = date(2000, 1, 1)


def _master_of(path: Path, res: FileResult) -> Master:
    """The Master of the master workbook's read result; raises MasterError when it cannot be used."""
    if res.status == "rejected" and not res.tables:
        _refuse_team_workbook(path, res.sheets)
        raise MasterError(f"Master workbook {path} cannot be read: {res.reason or res.findings[0].message}")
    master = master_from_tables(res.tables, path, sheet_names=res.sheets, findings=res.findings)
    master.sha256 = res.sha256
    master.findings = [f for f in res.findings if f.code not in ("missing-sheet", "unknown-column")] + master.findings
    return master


def _refuse_team_workbook(path: Path, sheet_names: list[str]) -> None:
    """A team workbook given where the master belongs: say exactly that."""
    team = [n for n in sheet_names if match_sheet(n, "team") is not None]
    if team:
        raise MasterError(
            f"{Path(path).name} is a team workbook (it has the sheets {', '.join(team[:4])}), not the master "
            "workbook. Give the master SalesBook.xlsm, the one with 设置 Settings, 花名册 Roster and 目标 Targets "
            "(`salesbook init DIR` creates one); team workbooks go in the team folder."
        )


def master_from_tables(tables_list: list[SheetTable], path: Path, sheet_names: list[str] | None = None,
                       findings: list[Finding] | None = None) -> Master:
    """Settings, roster and targets from the master's checked sheet tables (`sheet_names`: all its sheets, in
    order; `findings`: the tables' own findings, which say why a roster row was left out)."""
    tables = {t.schema: t for t in tables_list}
    master = Master(path=str(path), sheets=list(sheet_names or [t.sheet for t in tables_list]))
    settings_rows = []
    st = tables.get("settings")
    if st is not None and st.usable and st.frame is not None:
        settings_rows = [(k, None if rules.blank(v) else v)
                         for k, v in zip(st.frame["key"], st.frame["value"], strict=True)]
    try:
        master.settings = load_settings(settings_rows)
    except SettingsError as exc:
        raise SettingsError(f"{path.name} [设置 Settings]: {exc}") from None
    for name in ("roster", "targets"):
        t = tables.get(name)
        if t is None or not t.usable or t.frame is None:
            if name == "roster":
                _refuse_team_workbook(path, master.sheets)
                raise MasterError(
                    f"{path.name} has no usable 花名册 / Roster sheet (rep id, name, employee id). "
                    "Add it (see `salesbook init`) and fill in the reps."
                )
            continue
        frame = t.frame.copy()
        if name == "roster":
            master.roster_rows = frame.assign(_file=path.name, _sheet=t.sheet)
        bad = set(t.error_rows)
        frame = frame[~frame["_row"].isin(bad)] if bad else frame
        frame["_file"], frame["_sheet"] = path.name, t.sheet
        checks = (_check_roster(frame, t) if name == "roster"
                  else _check_targets(frame, t, master.roster, master.roster_errors))
        master.findings += checks
        dropped = {f.row for f in checks}
        frame = frame[~frame["_row"].isin(dropped)] if dropped else frame
        setattr(master, name, frame.reset_index(drop=True))
        if name == "roster":
            master.roster_errors = _roster_errors(master.roster_rows, master.roster, t,
                                                  [*(findings or []), *t.findings])
    _read_plans(master, tables)
    return master


def _roster_errors(every: pd.DataFrame, kept: pd.DataFrame, t: SheetTable, findings: list[Finding]) -> dict[str, str]:
    """Rep id -> "file [sheet] cell code; …" for each rep whose roster row was left out for an error (and
    who has no other, usable row): rows naming the rep are then told to fix that roster row."""
    known = set(kept["rep_id"])
    why: dict[int, list[str]] = {}
    for f in findings:
        if f.severity == ERROR and f.sheet == t.sheet and f.row and f.file in ("", t.file):
            why.setdefault(f.row, []).append(f"{f.cell or f'row {f.row}'} {f.code}")
    out: dict[str, str] = {}
    for rid, n in zip(every["rep_id"], every["_row"], strict=True):
        if rules.blank(rid) or rid in known or rid in out:
            continue
        n = int(n)
        out[rid] = f"{t.file} [{t.sheet}] " + ("; ".join(dict.fromkeys(why.get(n, []))) or f"row {n}")
    return out


def _read_plans(master: Master, tables: dict[str, SheetTable]) -> None:
    """The 提成方案 plans and each rep's plan (SPEC §10); their problems become master findings."""
    from .core.commission import load_plans, plan_assignments

    master.plans, found = load_plans(tables.get("commission_plans"))
    master.plan_of, unknown = plan_assignments(
        master.roster, tables.get("roster"), master.plans, str(master.settings["commission.default_plan"]),
        settings_table=tables.get("settings"), master_file=Path(master.path).name)
    master.findings += found + unknown


def _master_finding(code: str, t: SheetTable, r: dict, key: str, **fmt) -> Finding:
    place = t.places.get(key)
    return make_finding(code, file=t.file, sheet=t.sheet, row=int(r["_row"]), column=place.header if place else key,
                        cell=t.cell(key, int(r["_row"])), value=r.get(key) or "", **fmt)


def _check_roster(frame: pd.DataFrame, t: SheetTable) -> list[Finding]:
    """A rep id twice in the roster: the later rows are `duplicate-key` and not used."""
    out, first = [], {}
    for r in frame.to_dict("records"):
        rid = r["rep_id"]
        if rid in first:
            out.append(_master_finding("duplicate-key", t, r, "rep_id", first=f"{t.sheet} row {first[rid]}"))
        else:
            first[rid] = r["_row"]
    return out


def _check_targets(frame: pd.DataFrame, t: SheetTable, roster: pd.DataFrame | None,
                   roster_errors: dict[str, str]) -> list[Finding]:
    """Targets name a roster rep and a period like 2026-11 or 2026-Q4, once per rep and period."""
    from .core.periods import PeriodError

    reps = set(roster["rep_id"]) if roster is not None else None
    out, first = [], {}
    for r in frame.to_dict("records"):
        if reps is not None and r["rep_id"] not in reps:
            if r["rep_id"] in roster_errors:
                out.append(_master_finding("roster-row-error", t, r, "rep_id", where=roster_errors[r["rep_id"]]))
            else:
                out.append(_master_finding("unknown-reference", t, r, "rep_id", target_zh="花名册中的销售代表",
                                           target_en="rep (not in the roster)"))
            continue
        try:
            label = parse_period(r["period"]).label
        except PeriodError:
            out.append(_master_finding("bad-type", t, r, "period", type_zh="周期（如 2026-11 或 2026-Q4）",
                                       type_en="a period (e.g. 2026-11 or 2026-Q4)"))
            continue
        key = (r["rep_id"], label)
        if key in first:
            out.append(_master_finding("duplicate-key", t, r, "period", first=f"{t.sheet} row {first[key]}"))
        else:
            first[key] = r["_row"]
    return out


def master_from_sheets(sheets: dict[str, list[list]], path: Path, sheet_names: list[str] | None = None) -> Master:
    """The master's inputs from sheet values already in memory (the workbook open in Excel)."""
    from .core.table import CheckContext, build_table

    ctx = CheckContext(file=Path(path).name)
    tables, findings = [], []
    for name, rows in sheets.items():
        schema = match_sheet(name, "master")
        if schema is None:
            continue
        t = build_table(schema, name, rows, ctx)
        tables.append(t)
        findings += [f for f in t.findings if f.code != "unknown-column"]
    master = master_from_tables(tables, Path(path), sheet_names=sheet_names or list(sheets), findings=findings)
    master.findings = findings + master.findings
    return master


def check_roster(m: Master) -> None:
    """A run against a master needs reps in its roster: an empty one would make every row an error."""
    if m.roster is None or not m.roster.empty:
        return
    name = Path(m.path).name if m.path else "the master workbook"
    problems = [f"{f.where}: {f.message}" for f in m.findings if f.sheet in ("花名册", "Roster")][:3]
    detail = (" None of its rows can be used: " + "; ".join(problems)) if problems else ""
    raise MasterError(
        f"{name} [花名册 Roster] has no reps.{detail} Fill in one row per rep (rep id, name, employee id) "
        "and run again."
    )


def _fill_rep_ids(findings: list[Finding], ds: Dataset) -> list[Finding]:
    """Give row findings the rep id of their row where the row names one (owner / rep)."""
    reps = _filled_reps([f.file for f in findings], [f.sheet for f in findings], [f.row for f in findings],
                        [f.rep_id for f in findings], ds)
    if reps is None:
        return findings
    return [f if rep == f.rep_id else dataclasses.replace(f, rep_id=rep)
            for f, rep in zip(findings, reps, strict=True)]


def _fill_rep_ids_of(findings: Findings, ds: Dataset) -> Findings:
    """`_fill_rep_ids` of findings built as a frame, on the frame (objects: as `_fill_rep_ids`)."""
    if not findings.has_frame:
        return Findings(_fill_rep_ids(list(findings), ds))
    reps = _filled_reps(*(findings.values(c) for c in ("file", "sheet", "row", "rep_id")), ds)
    if reps is None:
        return findings
    filled = findings.frame().copy()
    filled["rep_id"] = np.array(reps, dtype=object)
    return Findings(frame=filled)


def _filled_reps(files: list, sheets: list, rows: list, reps: list, ds: Dataset) -> list | None:
    """The findings' rep ids with the blank ones of row findings given their row's rep (cut like any echo,
    a value from a file); None when no finding needs one."""
    need: dict[tuple[str, str], set[int]] = {}
    for fl, sh, n, rep in zip(files, sheets, rows, reps, strict=True):
        if n and not rep:
            need.setdefault((fl, sh), set()).add(n)
    if not need:
        return None
    rep_of = _reps_of_rows(need, ds)
    out = list(reps)
    for k, (fl, sh, n, rep) in enumerate(zip(files, sheets, rows, reps, strict=True)):
        if n and not rep:
            found = rep_of.get((fl, sh, n))
            if found:
                out[k] = echo(found)
    return out


def _on_contracts(findings: Findings, ds: Dataset) -> list[Finding]:
    """The error findings on rows of contract sheets, in order: what `collections_not_counted` reads."""
    files, sheets = findings.values("file"), findings.values("sheet")
    kinds = {fs: ds.sheet_schemas.get(fs) for fs in dict.fromkeys(zip(files, sheets, strict=True))}
    at = [k for k, (fl, sh, sev, n) in enumerate(zip(files, sheets, findings.values("severity"),
                                                     findings.values("row"), strict=True))
          if sev == ERROR and n and kinds[(fl, sh)] == "contracts"]
    return [findings[k] for k in at]


def _reps_of_rows(need: dict[tuple[str, str], set[int]], ds: Dataset) -> dict[tuple[str, str, int], object]:
    """The rep each of the rows `need` ((file, sheet) -> rows) names (owner / rep, or its contract's or
    customer's owner), where it names one."""
    owners: dict[str, dict[str, str]] = {}
    rep_of: dict[tuple[str, str, int], str] = {}
    for (fl, sh), wanted in need.items():  # each sheet over its own span of rows in its kind's frame
        name, span = ds.sheet_schemas.get((fl, sh)), ds.spans.get((fl, sh))
        frame = ds.frames.get(name) if name else None
        if frame is None or span is None or frame.empty:
            continue
        if "owner" in frame.columns:
            col, lookup = "owner", None
        elif "rep_id" in frame.columns:
            col, lookup = "rep_id", None
        elif "contract_id" in frame.columns:
            col = "contract_id"
            lookup = owners.get(col) or owners.setdefault(col, rules.contract_owners(ds))
        elif "customer_id" in frame.columns:
            col = "customer_id"
            lookup = owners.get(col) or owners.setdefault(col, rules.customer_owners(ds))
        else:
            continue
        start, stop = span
        rows = frame["_row"].to_numpy()[start:stop]
        hit = np.isin(rows, list(wanted))
        for r, v in zip(rows[hit].tolist(), frame[col].to_numpy()[start:stop][hit].tolist(), strict=True):
            rep = lookup.get(v) if lookup is not None else v
            if not rules.blank(rep):
                rep_of[(fl, sh, int(r))] = rep
    return rep_of


def validate(paths: list[Path], *, master: Path | Master | None = None, period: str | None = None,
             as_of: date | None = None, workers: int | None = None,
             progress: Progress | Callable[[int, int], None] | None = None) -> Run:
    """Read and check every team file under `paths`; all findings of SPEC §4.

    `progress` hears of each phase (reading the files, checking the rules) with its steps."""
    return _validate(paths, master=master, period=period, as_of=as_of, workers=workers, progress=progress,
                     accept=check_roster)


def _validate(paths: list[Path], *, master: Path | Master | None, period: str | None, as_of: date | None,
              workers: int | None, progress: Progress | Callable[[int, int], None] | None,
              accept: Callable[[Master], None],
              on_marked: Callable[[Dataset, dict[str, np.ndarray]], None] | None = None) -> Run:
    """`validate`, with `accept(master)` raising when the master cannot be used for this run, and
    `on_marked(dataset, validity)` called once every row's validity is known (`Dataset.validity`: the
    frames are marked so later), while the frames are as the keys left them and grading is yet to come."""
    p = as_progress(progress)
    m, ahead = _master_reading_ahead(master, paths, period, as_of, workers, p, accept)
    st = m.settings
    per = parse_period(period) if period else None
    if as_of is None and per is not None:
        as_of = per.end
    if ahead is not None:
        files, skipped, results = ahead
    else:
        skipped = []
        files = team_files(paths, skipped)
        if not files and not skipped:
            raise NothingToRead("No team workbooks (.xlsx, .xlsm, .xlsb, .xls, .ods, .csv, .txt) were found at "
                                + ", ".join(str(p) for p in paths))
        results = None
    if results is None:
        how = _team_reading(st, as_of, workers)
        p.phase("reading team files", len(files), "files")
        results = read_files(files, min_date=how.min_date, max_date=how.max_date, limits=how.limits,
                             workers=how.workers, progress=lambda done, _total: p.update(done))
    if skipped:
        results = sorted(results + [reject(label, str(path), "file-unsupported", why) for label, path, why in skipped],
                         key=lambda r: r.label)
    locked, lock_notes = _lock_results(lock_files(paths), {label for label, _ in files})
    with cycle_collector_paused():  # the rules make many containers and next to no cycles
        steps = iter(range(1, 9))
        p.phase("checking rules", 8, "steps")
        tables: list[SheetTable] = [t for r in results for t in r.tables]
        findings: list[Finding] = [f for r in results for f in r.findings] + list(m.findings) + lock_notes
        ds = columns.dataset(tables)
        for t in tables:  # the frames hold the values now; the per-file columns would double the memory
            t.data = t.payload = None
        release_memory(collect=False)  # the payloads are freed as they are dropped: no cycles to look for
        p.update(next(steps))
        # Keys and references first; domain rules then see only rows without errors so far. A file of
        # unknown ids has a finding a row: they stay a frame of findings (`keys`), never made objects here.
        keys = rules.check_keys_and_references(ds, m.roster_ids, m.roster_errors)
        ds.mark_errors(findings, keys)
        p.update(next(steps))
        # The domain checks, like grading, read the rows as the keys leave them and change nothing: made
        # first, they tell every row's validity before grading (`on_marked`: the parquet, made meanwhile).
        domain: list[Finding] = []
        for check in (lambda: rules.check_contracts(ds, st), lambda: rules.check_orders_and_collections(ds, as_of),
                      lambda: rules.check_complaints(ds, st, as_of), lambda: rules.check_expenses(ds, st)):
            domain += check()
            p.update(next(steps))
        marks = ds.validity(domain)  # the frames carry the reader's and the keys' errors already
        if on_marked is not None:
            on_marked(ds, marks)
        # warnings with their rep, a busy month's thousands built as frames: never needed below as objects
        grades, f_grades = rules.grade_customers(ds, st, as_of)
        p.update(next(steps))
        pipeline, f_pipe = rules.evaluate_pipeline(ds, st, as_of)
        p.update(next(steps))
        not_counted = effective_activities(ds, st)  # info only (no error to mark), and named by rep: a frame
        ds.set_valid(marks)  # the domain checks' errors marked
        # needs the contracts' errors marked, and each in the order it was found
        domain += collections_not_counted(ds, [*findings, *_on_contracts(keys, ds), *domain])
        run = Run(files=results + locked, dataset=ds, findings=[], master=m, period=per, as_of=as_of,
                  grades=grades, pipeline=pipeline, sheet_positions=_sheet_positions(results, m))
        run.findings = run.sorted(Findings.concat([_fill_rep_ids(findings, ds), _fill_rep_ids_of(keys, ds),
                                                   _fill_rep_ids(domain, ds), f_grades, f_pipe, not_counted]))
        return run


@dataclass(frozen=True)
class _TeamReading:
    """How the team files are read: what the workers are given, all of it from the master's settings."""

    min_date: date
    max_date: date | None
    limits: Limits
    workers: int


def _team_reading(st: Settings, as_of: date | None, workers: int | None) -> _TeamReading:
    max_date = None if as_of is None else as_of + timedelta(days=int(st["max_future_days"]))
    return _TeamReading(st["min_date"], max_date, limits_from(st), workers or int(st["reader.workers"]))


_MASTER_JOB = "\0master"  # a key no team file's label can be


class _SettingsDiffer(Exception):
    """The master's settings read the team files otherwise than the defaults they were started with."""

    def __init__(self, master: Master):
        super().__init__("settings differ")
        self.master = master


def _master_reading_ahead(master: Path | Master | None, paths: list[Path], period: str | None,
                          as_of: date | None, workers: int | None, p: Progress,
                          accept: Callable[[Master], None]) -> tuple[Master, tuple | None]:
    """The master, accepted by `accept`, and (files, skipped, results) of the team files, results None
    when they must be read with the master's settings; None instead when they were not listed here.

    The master is read in the same workers as the team files, which start with the default settings
    rather than wait for it. When the master's own settings read them otherwise (its date window,
    reader limits or workers), what was started is stopped as soon as the master is read (the first
    job) and the caller reads the files again; a master that cannot be used stops them too. Every
    error is said in the order the plain path says it: the master's first."""
    if master is None or isinstance(master, Master):
        m = master if master is not None else Master()
        accept(m)
        return m, None
    path = Path(master)
    skipped: list[tuple[str, Path, Bilingual]] = []
    try:
        per = parse_period(period) if period else None
        files = team_files(paths, skipped)
    except Exception:  # noqa: BLE001 - said in its turn, after the master's own errors, by the plain path
        files = []
    if not files or not path.exists():
        m = read_master(path)
        accept(m)
        return m, None
    end = as_of if as_of is not None or per is None else per.end
    guess = _team_reading(load_settings(), end, workers)
    jobs = [Job(_MASTER_JOB, read_team_file, (str(path), path.name, MASTER_MIN_DATE, None, Limits(), "master"))]
    jobs += _reading_jobs(files, guess.min_date, guess.max_date, guess.limits, "team")
    got: dict[str, object] = {"read": 0}

    def on_result(key: str, status: str, payload: object) -> None:
        if key == _MASTER_JOB:
            m = _master_of(path, _result_of(path.name, path, status, payload))
            accept(m)
            if _team_reading(m.settings, end, workers) != guess:
                raise _SettingsDiffer(m)
            got["master"] = m
            p.phase("reading team files", len(files), "files")
        else:
            got["read"] += 1
        if "master" in got:
            p.update(got["read"])

    try:
        done = run_jobs(jobs, workers=guess.workers, timeout=guess.limits.timeout_seconds,
                        max_bytes=guess.limits.worker_memory_bytes, on_result=on_result)
    except _SettingsDiffer as exc:
        return exc.master, (files, skipped, None)
    results = [_result_of(label, fp, *done.get(label, ("crash", "no result"))) for label, fp in files]
    return got["master"], (files, skipped, results)


def _sheet_positions(results: list[FileResult], m: Master) -> dict[tuple[str, str], int]:
    """Where each sheet stands in its workbook, for reading-order findings."""
    out = {(r.label, name): i for r in results for i, name in enumerate(r.sheets)}
    if m.path:
        out.update({(Path(m.path).name, name): i for i, name in enumerate(m.sheets)})
    return out


def all_rejected(run: Run) -> bool:
    """True when files were found and not one could be read (lock files left aside)."""
    read = [f for f in run.files if f.status != "skipped"]
    return bool(read) and all(f.status == "rejected" for f in read)


@dataclass
class Consolidation:
    """A validation run plus the period's scorecards and their evidence."""

    run: Run
    scorecards: pd.DataFrame
    evidence: pd.DataFrame
    commissions: pd.DataFrame | None = None  # SPEC §10 commissions.csv
    commission_results: dict = field(default_factory=dict)  # rep id -> core.commission.Commission
    details: dict = field(default_factory=dict)  # rep id -> core.scoring.RepScore
    parquet: Callable[[], bytes] | None = None  # consolidated.parquet's bytes, made while scoring (`outputs`)

    def drop_rows(self) -> None:
        """Forget the team files' rows here (`Dataset.drop_rows`) and give their memory back to the system:
        once the ledger's record is made in its own process, the outputs need only the results."""
        self.run.dataset.drop_rows()
        release_memory(collect=False)  # arrays and their values go by reference counting: nothing to collect


def consolidate(team_dir: Path | list[Path], *, master: Path | Master, period: str, as_of: date | None = None,
                workers: int | None = None, outputs: bool = False,
                progress: Progress | Callable[[int, int], None] | None = None) -> Consolidation:
    """Validate every team file, then grade, evaluate the pipeline and score each rep for `period`.

    `outputs`: the outputs will be written (`exports.write_consolidation`): consolidated.parquet, which
    needs every row's validity, is then made in a forked child from the moment that is known (before
    grading) while customers are graded and the reps scored."""
    p = as_progress(progress)

    def accept(m: Master) -> None:
        if m.roster is None:
            raise MasterError("Scoring needs the master workbook's 花名册 / Roster sheet; give --master.")
        check_roster(m)

    paths = team_dir if isinstance(team_dir, list) else [team_dir]
    made: list = []  # the parquet's waiter, once started

    def parquet_meanwhile(ds: Dataset, marks: dict[str, np.ndarray]) -> None:
        from .exports import start_parquet

        # made while the rules grade and the reps are scored: the writing phase then waits for it no more
        made.append(start_parquet(ds, marks))
        # its Arrow columns were the parent's largest part after the frames (84 MiB of a busy month), and
        # every writer forked later would have started with them
        ds.drop_columnar()
        release_memory(collect=False)  # Arrow's pool keeps freed buffers until asked

    try:
        run = _validate(paths, master=master, period=period, as_of=as_of, workers=workers, progress=p,
                        accept=accept, on_marked=parquet_meanwhile if outputs else None)
        m = run.master
        assert run.period is not None
        with cycle_collector_paused():  # scoring, like the rules, makes many containers and next to no cycles
            return _scored(run, m, p, made[0] if made else None)
    except BaseException:  # an error or Ctrl-C: the parquet's child is not left running
        for waiter in made:
            waiter.cancel()
        raise


def _scored(run: Run, m: Master, p: Progress, parquet) -> Consolidation:
    """The period's scorecards, evidence and commissions of a validated run (`parquet`: see consolidate)."""
    from .core.commission import score_commissions
    from .core.scoring import score_reps

    p.phase("scoring", 2, "steps")
    master_file = Path(m.path).name if m.path else ""
    scoring = score_reps(run.dataset, run.findings, run.period, m.settings, m.roster, m.targets,
                         master_file=master_file, as_of=run.as_of)
    p.update(1)
    roster_rows = dict(zip(m.roster["rep_id"], m.roster["_row"].astype(int), strict=True)) \
        if "_row" in m.roster.columns else {}
    roster_sheet = str(m.roster["_sheet"].iloc[0]) if "_sheet" in m.roster.columns and len(m.roster) else "花名册"
    paid = score_commissions(scoring.scorecards.to_dict("records"), scoring.details, m.plans, m.plan_of,
                             run.period.label, m.settings, master_file=master_file, roster_rows=roster_rows,
                             roster_sheet=roster_sheet)
    evidence = scoring.evidence
    if paid.evidence:
        evidence = pd.concat([evidence, pd.DataFrame(paid.evidence, columns=evidence.columns)], ignore_index=True)
    run.findings = run.sorted(run.findings + scoring.findings + paid.findings)
    p.update(2)
    # the rules' and scoring's working frames, before the writers fork: made with the collector paused, so
    # young (a full collection walked the whole dataset too: 0.15 s on the busy set, for nothing more)
    release_memory(young=True)
    return Consolidation(run=run, scorecards=scoring.scorecards, evidence=evidence, commissions=paid.frame,
                         commission_results=paid.results, details=scoring.details, parquet=parquet)


__all__ = ["Consolidation", "FolderError", "Master", "MasterError", "NothingToRead", "Run", "SettingsError",
           "all_rejected", "check_outside_team", "check_roster", "consolidate", "lock_files", "make_finding",
           "read_master", "sort_key", "team_files", "validate"]
