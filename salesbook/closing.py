"""Consolidations in the ledger: recording runs, closing and reopening periods, what changed since a
close, adjustments for HR, history across periods and each rep's trend (SPEC §8).

The CLI and the workbook actions call these; the ledger package stores what they hand over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from .core.findings import ERROR, select
from .core.periods import Period, PeriodError, parse_period
from .core.scoring import SCORECARD_COLUMNS
from .core.settings import Settings
from .ledger import (
    CloseInfo,
    Ledger,
    PeriodClosed,
    RunRecord,
    fault_point,
    open_ledger,
    resolve_url,
    show_time,
    source_fingerprints,
)
from .ledger.fingerprints import SourceRows
from .pipeline import Consolidation, Master

IDENTITY = ("rep_id", "name", "employee_id", "team", "period")
CHANGES_COLUMNS = ["rep_id", "figure", "closed_value", "new_value", "delta", "change", "file", "sheet", "row", "key"]
ADJUSTMENT_COLUMNS = ["rep_id", "employee_id", "figure", "closed", "now", "delta"]
HISTORY_LEAD = ["period", "rep_id", "name", "employee_id", "team", "closed", "closed_at", "closed_by", "run_id",
                "run_at"]
# What the 变动 column of the 考核表 spells out (attainments follow from these).
CHANGE_SUMMARY_SKIP = ("_attainment",)


class CloseRefused(Exception):
    """The period was not closed; the message says why and how to go on."""


# ------------------------------------------------------------------ the ledger of a master


def book_name(settings: Settings) -> str:
    """The master's name in the ledger (setting ledger_book; one ledger may hold many masters)."""
    return str(settings["ledger_book"]).strip() or "default"


def ledger_url(master: Master, cli: str | None = None) -> str:
    return resolve_url(cli, str(master.settings["ledger_url"]), master.path or None)


def open_master_ledger(master: Master, cli: str | None = None) -> Ledger:
    """The master's ledger, created or migrated on first use."""
    return open_ledger(ledger_url(master, cli))


def existing_ledger(master: Master, cli: str | None = None) -> Ledger | None:
    """The master's ledger if it exists already (a PostgreSQL ledger always does), checked before any
    long work; None for a SQLite ledger not made yet, which is created only when a run is recorded
    (so that an interrupted or refused command leaves the workspace as it was). A bad URL raises."""
    from sqlalchemy.engine import make_url

    url = ledger_url(master, cli)
    if url.startswith("sqlite") and not Path(make_url(url).database or "").exists():
        return None
    return open_ledger(url)


# ------------------------------------------------------------------ exact text of figures


def canon(value: object) -> str | None:
    """A scorecard value as the exact text the ledger keeps (100000.0 -> "100000", 0.8333 -> "0.8333")."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value:
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if hasattr(value, "item") and not isinstance(value, str):
        return canon(value.item())
    return str(value)


def _number(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        return None


def paid_cards(c: Consolidation) -> pd.DataFrame:
    """The scorecards with each rep's commission (SPEC §10) beside the score: what the ledger keeps."""
    cards = c.scorecards.copy()
    paid = {} if c.commissions is None else dict(zip(c.commissions["rep_id"], c.commissions["commission"],
                                                     strict=True))
    cards["commission"] = [float(paid.get(r, 0.0)) for r in cards["rep_id"]]
    return cards


# The evidence names the rows behind a commission "commission_base" (its base KPI's rows).
ROWS_OF = {"commission": "commission_base"}


def card_texts(scorecards: pd.DataFrame) -> list[dict[str, str | None]]:
    cols = list(scorecards.columns)
    return [{c: canon(v) for c, v in zip(cols, row, strict=True)}
            for row in scorecards.itertuples(index=False, name=None)]


def cards_frame(cards: list[dict[str, str | None]]) -> pd.DataFrame:
    """Stored scorecards back as a frame: numbers as floats, text as text, blank as missing."""
    cols = list(SCORECARD_COLUMNS) + [k for c in cards for k in c if k not in SCORECARD_COLUMNS]
    cols = list(dict.fromkeys(cols))
    data = {c: [_value(c, card.get(c)) for card in cards] for c in cols}
    frame = pd.DataFrame(data, columns=cols)
    for c in cols:
        if c not in IDENTITY and c != "rating" and frame[c].map(lambda v: v is None or isinstance(v, float)).all():
            frame[c] = frame[c].astype("float64")
    return frame


def _value(figure: str, text: str | None) -> object:
    if text is None:
        return None
    if figure in IDENTITY or figure == "rating":
        return text
    n = _number(text)
    return text if n is None else float(n)


# ------------------------------------------------------------------ recording a run


def run_record(c: Consolidation, *, kind: str) -> RunRecord:
    """What the ledger keeps of a consolidation: settings, hashes, file statuses, scorecards, source rows."""
    run = c.run
    m = run.master
    errors: dict[str, int] = {}
    for f in select(run.findings, severity=ERROR):
        errors[f.code] = errors.get(f.code, 0) + 1
    return RunRecord(
        book=book_name(m.settings), kind=kind, period=run.period.label, as_of=run.as_of,
        master_file=Path(m.path).name if m.path else "", master_sha256=m.sha256,
        settings={k: _jsonable(v) for k, v in m.settings.values.items()},
        quality={"errors": sum(errors.values()), "errors_by_code": errors,
                 "files_accepted": sum(1 for f in run.files if f.status == "accepted"),
                 "files_rejected": sum(1 for f in run.files if f.status == "rejected")},
        files=[{"label": f.label, "sha256": f.sha256, "status": f.status, "reason": f.reason, "rows": f.rows}
               for f in run.files],
        cards=card_texts(paid_cards(c)),
        rows=source_fingerprints(run.dataset, c.evidence),
    )


def _jsonable(v: object) -> object:
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    return v


def record(ledger: Ledger, c: Consolidation, *, kind: str = "consolidate", rec: RunRecord | None = None,
           conn=None) -> int:
    """Record the consolidation (`rec`: its run_record, made beforehand; `conn`: a transaction of the
    ledger's to record it in, else one of its own); returns its run id."""
    return ledger.record_run(rec if rec is not None else run_record(c, kind=kind), conn)


class _NotWanted(Exception):
    """The outputs were not written: the record's transaction is rolled back."""


class Recording:
    """A run's ledger record made while its outputs are written: either in a forked process
    (`start(ledger)`, then `record(ledger)` waits for it) or here (`write_consolidation(…, meanwhile=it)`,
    then `record(ledger)`, which also keeps the source rows in `rows` for changes_since_close)."""

    def __init__(self, c: Consolidation, kind: str = "consolidate") -> None:
        self.c, self.kind, self.rec, self._child = c, kind, None, None

    def __call__(self) -> None:
        self.rec = run_record(self.c, kind=self.kind)

    def start(self, ledger: Ledger) -> None:
        """Fingerprint the run in a forked process (where fork exists; else `record` does it all) and
        record it there once `record` says the outputs are written: a failed run is never recorded."""
        import multiprocessing as mp

        from .io.background import forks, in_background

        if not forks():
            return
        go_in, self._go = mp.Pipe(duplex=False)

        def work() -> int | None:
            self._go.close()  # the parent's end, inherited: kept open here, the parent's going away is never heard
            ledger.in_forked_child()
            rec = run_record(self.c, kind=self.kind)
            # Stored while the outputs are written, in a transaction committed only once they are: a
            # failed run rolls back (on PostgreSQL its run id stays unused). SQLite's write lock is held meanwhile.
            try:
                with ledger.transaction() as conn:
                    run_id = record(ledger, self.c, kind=self.kind, rec=rec, conn=conn)
                    try:
                        wanted = go_in.recv()
                    except EOFError:  # the parent went away
                        wanted = False
                    if not wanted:
                        raise _NotWanted
            except _NotWanted:
                return None
            return run_id

        ledger.dispose()  # no open connection is carried into the child
        self._child = in_background(work)
        go_in.close()

    @property
    def forked(self) -> bool:
        """The record is being made in a forked process, which has the run's rows: this one needs them no more."""
        return self._child is not None

    def record(self, ledger: Ledger) -> int:
        if self._child is not None:
            child, self._child = self._child, None
            self._go.send(True)
            self._go.close()
            return int(child())
        return record(ledger, self.c, kind=self.kind, rec=self.rec)

    def cancel(self) -> None:
        """Drop a started record (an error or Ctrl-C before the outputs were written): nothing is recorded."""
        if self._child is not None:
            child, self._child = self._child, None
            self._go.close()  # the child hears EOF and records nothing
            child.cancel()

    @property
    def rows(self) -> SourceRows | None:
        """The run's source rows (columnar), once made."""
        return None if self.rec is None else self.rec.rows


# ------------------------------------------------------------------ closing


def error_summary(c: Consolidation, first: int = 8) -> str:
    counts: dict[str, int] = {}
    for f in select(c.run.findings, severity=ERROR):
        counts[f.code] = counts.get(f.code, 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:first]
    return ", ".join(f"{code} {n}" for code, n in top)


def close_period(c: Consolidation, ledger: Ledger, *, note: str = "", accept_errors: bool = False,
                 hr_files) -> tuple[CloseInfo, dict[str, bytes]]:
    """Close the consolidation's period: record it, make the HR export and mark the period closed in
    one transaction. Returns the close and the HR export's files (to be written by the caller).

    Refuses (CloseRefused, PeriodClosed; nothing closed) when the period is already closed or when
    error-level findings exist without `accept_errors`. `hr_files(run_id)` makes the export.
    """
    period = c.run.period.label
    book = book_name(c.run.master.settings)
    live = ledger.live_close(book, period)
    if live is not None:
        raise ledger.closed_error(live)
    errors = c.run.error_count
    if errors and not accept_errors:
        raise CloseRefused(
            f"{period} was not closed: {errors} error-level findings exist ({error_summary(c)}). The rows with "
            "errors are left out of the figures. Fix them and close again, or close anyway (salesbook close "
            "--accept-errors; in the workbook, answer Yes when asked); the number of errors accepted is kept with "
            "the close.")
    fault_point("consolidated")
    return ledger.close_period(run_record(c, kind="close"), export=hr_files, note=note, accepted_errors=errors)


@dataclass
class ClosedView:
    """A closed period as the ledger keeps it."""

    close: CloseInfo
    cards: list[dict[str, str | None]]
    rows: list[dict]

    @property
    def label(self) -> str:
        return f"已结账 closed {show_time(self.close.closed_at)[:10]} {self.close.closed_by}"


def closed_view(ledger: Ledger, settings: Settings, period: Period | str) -> ClosedView | None:
    """The live close of the period with its figures and source rows, or None when it is open."""
    label = period.label if isinstance(period, Period) else period
    live = ledger.live_close(book_name(settings), label)
    if live is None:
        return None
    return ClosedView(live, ledger.cards(live.run_id), ledger.source_rows(live.run_id))


def reopen(ledger: Ledger, settings: Settings, period: str, *, reason: str) -> CloseInfo:
    if not reason.strip():
        raise CloseRefused("Give the reason for reopening (--reason TEXT); it is kept in the ledger.")
    return ledger.reopen(book_name(settings), parse_period(period).label, reason=reason.strip())


# ------------------------------------------------------------------ what changed since the close


def _figures(*card_lists: list[dict[str, str | None]]) -> list[str]:
    seen = [c for c in SCORECARD_COLUMNS if c not in IDENTITY]
    for cards in card_lists:
        for card in cards:
            seen += [k for k in card if k not in IDENTITY and k not in seen]
    return seen


def _delta(old: str | None, new: str | None) -> float | None:
    a, b = _number(old), _number(new)
    if a is None and b is None:
        return None
    return float((b or Decimal(0)) - (a or Decimal(0)))


def _by_figure(rows: list[dict]) -> dict[tuple[str, str], dict[tuple[str, str, str], dict]]:
    out: dict[tuple[str, str], dict[tuple[str, str, str], dict]] = {}
    for r in rows:
        out.setdefault((r["rep_id"], r["figure"]), {})[(r["file"], r["sheet_kind"], r["key"])] = r
    return out


def changes_since_close(view: ClosedView, c: Consolidation, rows: list | None = None) -> pd.DataFrame:
    """Per rep and figure that changed (or whose source rows changed): closed, new, delta and the rows
    added, removed or changed since the close (file, sheet, row, key). `rows`: the run's source rows
    when already made."""
    new_cards = card_texts(paid_cards(c))
    new_rows = rows if rows is not None else source_fingerprints(c.run.dataset, c.evidence)
    old_by, new_by = {x["rep_id"]: x for x in view.cards}, {x["rep_id"]: x for x in new_cards}
    old_rows, now_rows = _by_figure(view.rows), _by_figure(new_rows)
    reps = list(dict.fromkeys([*old_by, *new_by]))
    out = []
    for rep in reps:
        for fig in _figures(view.cards, new_cards):
            old = old_by.get(rep, {}).get(fig)
            new = new_by.get(rep, {}).get(fig)
            rows_fig = ROWS_OF.get(fig, fig)
            before, after = old_rows.get((rep, rows_fig), {}), now_rows.get((rep, rows_fig), {})
            moved = []
            for k in sorted(set(before) | set(after)):
                if k not in after:
                    moved.append(("removed", before[k]))
                elif k not in before:
                    moved.append(("added", after[k]))
                elif before[k]["sha256"] != after[k]["sha256"]:
                    moved.append(("changed", after[k]))
            if old == new and not moved:
                continue
            delta = _delta(old, new) if fig != "rating" else None
            head = [rep, fig, old, new, delta]
            if not moved:
                out.append([*head, "", "", "", None, ""])
            for change, r in sorted(moved, key=lambda m: (m[1]["file"], m[1]["sheet"], m[1]["row"])):
                out.append([*head, change, r["file"], r["sheet"], r["row"], r["key"]])
    return pd.DataFrame(out, columns=CHANGES_COLUMNS, dtype=object)


def adjustments(view: ClosedView, c: Consolidation, columns: list[str]) -> pd.DataFrame:
    """The payroll figures (`columns` of the HR export) that differ from the close, per rep."""
    new_by = {x["rep_id"]: x for x in card_texts(paid_cards(c))}
    old_by = {x["rep_id"]: x for x in view.cards}
    figures = [f for f in columns if f not in IDENTITY and f != "status"]
    out = []
    for rep in dict.fromkeys([*old_by, *new_by]):
        old, new = old_by.get(rep, {}), new_by.get(rep, {})
        emp = new.get("employee_id") or old.get("employee_id")
        for fig in figures:
            a, b = old.get(fig), new.get(fig)
            if a != b:
                out.append([rep, emp, fig, a, b, None if fig == "rating" else _delta(a, b)])
    return pd.DataFrame(out, columns=ADJUSTMENT_COLUMNS, dtype=object)


def _summary_text(rep: str, changes: pd.DataFrame) -> str:
    mine = changes[changes["rep_id"] == rep].drop_duplicates(["figure"])
    parts = []
    for r in mine.to_dict("records"):
        if r["figure"].endswith(CHANGE_SUMMARY_SKIP) or r["closed_value"] == r["new_value"]:
            continue
        d = r["delta"]
        shown = "" if d is None or d != d else f" ({'+' if d > 0 else ''}{canon(d)})"
        parts.append(f"{r['figure']} {r['closed_value'] or '—'} → {r['new_value'] or '—'}{shown}")
    rows = changes[(changes["rep_id"] == rep) & (changes["change"] != "")]
    if not parts and len(rows):
        parts.append(f"{len(rows)} 行来源变动、数值不变 / source rows changed, figures the same")
    return "; ".join(parts) or "无变动 / none"


def closed_scorecards(view: ClosedView, c: Consolidation, changes: pd.DataFrame) -> pd.DataFrame:
    """The 考核表 of a closed period: the figures as closed, a `closed` column and a 变动 column saying
    what has changed since (reps added after the close follow with their current figures)."""
    closed = cards_frame(view.cards)
    closed["closed"] = view.label
    closed["变动"] = [_summary_text(r, changes) for r in closed["rep_id"]]
    current = paid_cards(c)
    extra = current[~current["rep_id"].isin(set(closed["rep_id"]))].copy()
    if not extra.empty:
        extra["closed"] = "结账后新增 / added after the close"
        extra["变动"] = "不在已结账数据中 / not in the closed figures"
        closed = pd.concat([closed, extra[[c for c in closed.columns if c in extra.columns]]], ignore_index=True)
    return closed


# ------------------------------------------------------------------ the HR export


@dataclass
class HrExport:
    message: str
    paths: list[Path]
    closed: ClosedView | None = None
    adjustments: pd.DataFrame | None = None
    stale: list[str] = field(default_factory=list)  # names no longer true in the output folder


def export_for_hr(c: Consolidation, ledger: Ledger, out: Path) -> HrExport:
    """The HR export after the payroll guards: an open period's figures now (recorded as a run), or a
    closed period's files exactly as at its close plus adjustments_<P>.csv when anything changed."""
    from .exports import HR_COLUMNS, hr_files, write_files
    from .io.writers import write_csv
    from .payroll import check_payroll, data_quality

    check_payroll(c)
    out = Path(out)
    period = c.run.period.label
    adj_name = f"adjustments_{period}.csv"
    view = closed_view(ledger, c.run.master.settings, c.run.period)
    run_id = record(ledger, c, kind="export-hr")
    if view is None:
        paths = write_files(out, hr_files(c, data_quality=data_quality(c, run_id=run_id, closed=False)))
        # an adjustments file from an earlier close of a period since reopened is no longer true
        return HrExport(f"HR export for {period}: {len(c.scorecards)} scorecards (run {run_id})", paths,
                        stale=[adj_name])
    paths = write_files(out, ledger.close_files(view.close.id))
    adj = adjustments(view, c, HR_COLUMNS)
    if len(adj):
        paths.append(write_csv(out / adj_name, adj))
        tail = f"; {len(adj)} figures of {adj['rep_id'].nunique()} reps changed since, in {adj_name}"
        stale = []
    else:
        tail, stale = "; nothing changed since", [adj_name]
    return HrExport(f"HR export for {period}: closed {view.close.who_when}, the files as at the close "
                    f"(run {view.close.run_id}){tail}", paths, view, adj, stale)


def remove_stale(folder: Path, report: HrExport) -> None:
    """After the export is in place: remove the files it says are no longer true (an old adjustments file)."""
    remove_files(folder, report.stale)


CHANGES_FILE = "changes_since_close.csv"


def remove_files(folder: Path, names: list[str]) -> None:
    """Remove files no longer true from an output folder (a link is removed, never followed; a folder stays)."""
    for name in names:
        path = Path(folder) / name
        if path.is_symlink() or path.is_file():
            path.unlink(missing_ok=True)


def remove_stale_changes(folder: Path, written: bool) -> None:
    """After a consolidation's outputs are in place: a changes_since_close.csv it did not write is from an
    earlier run (a period since reopened, another period, a run that read nothing), so it goes."""
    if not written:
        remove_files(folder, [CHANGES_FILE])


# ------------------------------------------------------------------ history


def _period_sort(label: str) -> tuple:
    try:
        p = parse_period(label)
        return (p.start, p.end, label)
    except PeriodError:
        return (date.max, date.max, label)


class HistoryRefused(Exception):
    """The history asked for cannot be given as asked (an unknown rep, --from after --to); the message says why."""


def _missing(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v)


def check_history_request(ledger: Ledger, settings: Settings, roster_ids: set[str] | None, *,
                          rep: str | None = None, start: str | None = None, end: str | None = None) -> None:
    """Refuse (HistoryRefused) a range that ends before it starts, or a rep neither in the roster nor in any
    recorded run, rather than write an empty history.csv that reads as "no figures"."""
    if start and end and parse_period(start).start > parse_period(end).end:
        raise HistoryRefused(f"--from {start} is after --to {end}: no period can lie in between. "
                             "Give the earlier period to --from and the later one to --to.")
    if not rep:
        return
    states = ledger.periods(book_name(settings))
    known = set(roster_ids or ())
    for cards in ledger.cards_of_runs([s.run_id for s in states]).values():
        known |= {str(c.get("rep_id")) for c in cards if c.get("rep_id")}
    if rep in known:
        return
    from .core.rules import Suggest

    hint = Suggest(known).hint(rep).get("hint_en", "")
    raise HistoryRefused(f"--rep {rep}: no such rep in the roster or in the ledger{hint}. "
                         "Give a rep id as in 花名册 / Roster (e.g. S001).")


def history_frame(ledger: Ledger, settings: Settings, *, rep: str | None = None, start: str | None = None,
                  end: str | None = None) -> pd.DataFrame:
    """One row per rep per period: closed periods with their closed figures, open ones with their
    latest run (column `closed`)."""
    lo = parse_period(start).start if start else None
    hi = parse_period(end).end if end else None
    states = [s for s in ledger.periods(book_name(settings)) if "-W" not in s.period]
    chosen = []
    for s in sorted(states, key=lambda s: _period_sort(s.period)):
        try:
            p = parse_period(s.period)
        except PeriodError:
            continue
        if (lo is None or p.start >= lo) and (hi is None or p.end <= hi):
            chosen.append(s)
    cards = ledger.cards_of_runs([s.run_id for s in chosen])
    rows = []
    figures = _figures(*cards.values())
    for s in chosen:
        for card in cards.get(s.run_id, []):
            if rep and card.get("rep_id") != rep:
                continue
            lead = {"period": s.period, "rep_id": card.get("rep_id"), "name": card.get("name"),
                    "employee_id": card.get("employee_id"), "team": card.get("team"), "closed": s.close is not None,
                    "closed_at": show_time(s.close.closed_at) if s.close else "",
                    "closed_by": s.close.closed_by if s.close else "", "run_id": s.run_id,
                    "run_at": show_time(s.run_at)}
            rows.append({**lead, **{f: _value(f, card.get(f)) for f in figures}})
    frame = pd.DataFrame(rows, columns=HISTORY_LEAD + figures)
    from .exports import COUNT_COLUMNS

    for f in figures:
        if f in COUNT_COLUMNS:  # whole numbers, as in the HR export
            # pandas turns a blank among numbers into NaN: a blank stays blank, never a crash
            frame[f] = pd.Series([None if _missing(v) else int(v) for v in frame[f]], index=frame.index,
                                 dtype=object)
        elif f != "rating" and frame[f].map(lambda v: v is None or isinstance(v, float)).all():
            frame[f] = frame[f].astype("float64")
    return frame


def previous_periods(period: Period, n: int) -> list[str]:
    """The labels of the n periods of the same kind ending with `period`, oldest first."""
    label = period.label
    if "-W" in label:
        return [label]
    year, quarter = period.start.year, "-Q" in label
    step = 3 if quarter else 1
    out = []
    month = period.start.month
    for i in range(n):
        m0 = month - 1 - i * step
        y, m = year + m0 // 12, m0 % 12 + 1
        out.append(f"{y:04d}-Q{(m - 1) // 3 + 1}" if quarter else f"{y:04d}-{m:02d}")
    return out[::-1]


TREND_FIGURES = ("score", "revenue_attainment", "collections_attainment")


def trends(ledger: Ledger, settings: Settings, c: Consolidation, n: int = 6) -> dict[str, list[dict]]:
    """Each rep's last `n` periods: score, revenue and collections attainment (this run for the
    current period; the ledger's closed or latest figures for the ones before)."""
    period = c.run.period
    labels = previous_periods(period, n)
    states = {s.period: s for s in ledger.periods(book_name(settings))}
    earlier = [states[p] for p in labels[:-1] if p in states]
    stored = ledger.cards_of_runs([s.run_id for s in earlier])
    per: dict[str, dict[str, dict]] = {}
    for s in earlier:
        for card in stored.get(s.run_id, []):
            per.setdefault(s.period, {})[card["rep_id"]] = {f: _value(f, card.get(f)) for f in TREND_FIGURES} | {
                "closed": s.close is not None}
    current = {r["rep_id"]: r for r in c.scorecards.to_dict("records")}
    out = {}
    for rep, card in current.items():
        points = []
        for p in labels:
            if p == period.label:
                v = {f: _float(card.get(f)) for f in TREND_FIGURES} | {"closed": False}
            else:
                v = per.get(p, {}).get(rep, {f: None for f in TREND_FIGURES} | {"closed": False})
            points.append({"period": p, **v})
        out[rep] = points
    return out


def report_trends(c: Consolidation, cli_url: str | None = None) -> dict[str, list[dict]] | None:
    """Six-period trends for the reports, or None for a week or when the ledger cannot be read
    (a report is still worth having without its trend)."""
    from .ledger import LedgerError

    if c.run.period is None or "-W" in c.run.period.label:
        return None
    try:
        ledger = open_master_ledger(c.run.master, cli_url)
        try:
            return trends(ledger, c.run.master.settings, c)
        finally:
            ledger.dispose()
    except LedgerError:
        return None


def _float(v: object) -> float | None:
    if v is None or (isinstance(v, float) and v != v):
        return None
    return float(v)


__all__ = ["ADJUSTMENT_COLUMNS", "CHANGES_COLUMNS", "CloseRefused", "ClosedView", "HistoryRefused", "HrExport",
           "check_history_request", "CHANGES_FILE", "remove_files", "remove_stale_changes", "export_for_hr", "remove_stale", "PeriodClosed", "adjustments",
           "book_name", "canon", "cards_frame", "changes_since_close", "close_period", "closed_scorecards",
           "closed_view", "existing_ledger", "history_frame", "ledger_url", "open_master_ledger", "previous_periods", "record",
           "Recording", "reopen", "report_trends", "run_record", "trends"]
