"""The ledger database: where it is, its schema (Alembic, migrated on first use) and its operations.

SQLite by default (one file beside the master workbook), PostgreSQL through psycopg 3 for a
ledger that many managers share. Every write is one transaction; a close is recorded and marked in
the same transaction, and a unique index on the live close of a period makes the second of two
simultaneous closes fail on either database.
"""

from __future__ import annotations

import getpass
import json
import os
import signal
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import islice
from pathlib import Path

from sqlalchemy import and_, create_engine, event, func, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError

from ..io.memory import cycle_collector_paused
from .fingerprints import SOURCE_ROW_COLUMNS, SourceRows
from .tables import close_files, closes, run_files, runs, scorecard_figures, source_rows, source_sets

HEAD = "0001"  # the newest schema revision this program knows (migrations/versions)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LOCK_KEY = 0x5A1E5B00C  # PostgreSQL advisory lock held while the schema is checked and migrated
DEFAULT_FILE = "salesbook.db"
FAULT_ENV = "SALESBOOK_FAULT_AT"  # tests only: kill this process at the named step of a close
PAUSE_ENV = "SALESBOOK_PAUSE_AT"  # tests only: "step=seconds" waits there (two closes racing)


ROW_BATCH = 5_000  # source rows per statement and per slice of the digest (each slice made, then dropped)


class LedgerError(Exception):
    """The ledger cannot be used (bad URL, not reachable, no rights); the message says what to do."""


class LedgerTooNew(LedgerError):
    """The ledger was written by a newer salesbook; upgrade salesbook to use it."""


class PeriodClosed(LedgerError):
    """The period is already closed; reopen it first to close it again."""

    def __init__(self, message: str, close: CloseInfo):
        super().__init__(message)
        self.close = close


class PeriodNotClosed(LedgerError):
    """The period is not closed, so there is nothing to reopen."""


def fault_point(step: str) -> None:
    """Tests set SALESBOOK_FAULT_AT=step to kill the process here, as a crash or power cut would, and
    SALESBOOK_PAUSE_AT=step=seconds to hold it here while another close races it."""
    pause = os.environ.get(PAUSE_ENV, "")
    if pause.startswith(step + "="):
        import time

        time.sleep(float(pause.split("=", 1)[1]))
    if os.environ.get(FAULT_ENV) == step:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry (containers): fall back to the environment
        return os.environ.get("USERNAME") or os.environ.get("USER") or "unknown"


def now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes: they were stored as UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def show_time(value: datetime | None) -> str:
    """A time as the reader's local time, to the second."""
    v = _aware(value)
    return "" if v is None else v.astimezone().isoformat(sep=" ", timespec="seconds")


# ------------------------------------------------------------------ what goes in and comes out


@dataclass
class RunRecord:
    """One consolidation as the ledger keeps it."""

    book: str
    kind: str
    period: str
    as_of: date | None
    master_file: str
    master_sha256: str
    settings: dict[str, object]
    quality: dict[str, object]
    files: list[dict]  # label, sha256, status, reason, rows
    cards: list[dict[str, str | None]]  # one per rep, figure -> exact text
    rows: Sequence  # SourceRows, or SourceRow tuples or dicts: rep_id, figure, file, sheet_kind, sheet, row, key,
    # sha256
    os_user: str = field(default_factory=os_user)
    host: str = field(default_factory=socket.gethostname)
    created_at: datetime = field(default_factory=now)


@dataclass(frozen=True)
class CloseInfo:
    id: int
    book: str
    period: str
    run_id: int
    closed_at: datetime
    closed_by: str
    note: str
    accepted_errors: int
    reopened_at: datetime | None = None
    reopened_by: str | None = None
    reopen_reason: str | None = None

    @property
    def who_when(self) -> str:
        return f"{show_time(self.closed_at)} by {self.closed_by}"


@dataclass(frozen=True)
class PeriodState:
    """A period's figures in history: the live close's run, else the latest run."""

    period: str
    run_id: int
    run_at: datetime
    close: CloseInfo | None


# ------------------------------------------------------------------ where the ledger is


def resolve_url(cli: str | None, setting: str | None, master_path: str | Path | None) -> str:
    """--ledger, else $SALESBOOK_LEDGER, else the ledger_url setting, else salesbook.db beside the master.

    A relative SQLite path in the setting is taken from the master's folder (the setting travels
    with the workbook); on the command line and in the environment, from the current folder.
    """
    folder = Path(master_path).resolve().parent if master_path else Path.cwd()
    for value, base in ((cli, None), (os.environ.get("SALESBOOK_LEDGER"), None), (setting, folder)):
        if value and str(value).strip():
            return _normalise(str(value).strip(), base)
    return "sqlite:///" + (folder / DEFAULT_FILE).as_posix()


def _normalise(url: str, base: Path | None) -> str:
    try:
        u = make_url(url)
    except ArgumentError:
        raise LedgerError(f"Ledger URL {url!r} is not a database URL. Write sqlite:///path/salesbook.db "
                          "or postgresql://user@host/dbname.") from None
    backend = u.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if backend == "sqlite":
        db = u.database or ""
        if not db or db == ":memory:":
            raise LedgerError(f"Ledger URL {url!r} names no file; write sqlite:///path/salesbook.db.")
        path = Path(db)
        if not path.is_absolute() and base is not None:
            path = base / path
        return "sqlite:///" + path.resolve().as_posix()
    raise LedgerError(f"Ledger URL {_hide(url)!r}: only SQLite (sqlite:///…) and PostgreSQL (postgresql://…) "
                      "ledgers are supported.")


def _hide(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


# ------------------------------------------------------------------ the ledger


class Ledger:
    """A ledger database, migrated to this program's schema; every method is one transaction."""

    def __init__(self, url: str):
        url = _normalise(url, None)  # postgresql:// always through psycopg 3
        self.url = url
        self.shown = _hide(url)
        self.engine = _engine(url)
        self.dialect = self.engine.dialect.name

    # -------------------------------------------------------------- connection and schema

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction; on SQLite it holds the write lock from the start (BEGIN IMMEDIATE)."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except (OperationalError, DBAPIError) as exc:
            if isinstance(exc, IntegrityError):
                raise
            raise LedgerError(f"The ledger {self.shown} cannot be used: {_reason(exc)}") from None

    def migrate(self) -> None:
        """Create or upgrade the schema to HEAD; refuse a ledger written by a newer salesbook."""
        with self.transaction() as conn:
            if self.dialect == "postgresql":  # two first uses at once: one migrates, the other waits
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
            current = _current_revisions(conn)
            if current == {HEAD}:
                return
            from alembic.config import Config
            from alembic.script import ScriptDirectory

            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            script = ScriptDirectory.from_config(cfg)
            known = {r.revision for r in script.walk_revisions()}
            unknown = sorted(current - known)
            if unknown:
                raise LedgerTooNew(
                    f"The ledger {self.shown} was written by a newer salesbook (schema {', '.join(unknown)}; this "
                    f"salesbook knows up to {HEAD}). Upgrade salesbook (pip install -U salesbook) on this computer; "
                    "nothing was changed.")
            from alembic import command

            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def dispose(self) -> None:
        """Close the pooled connections (the ledger stays usable: it connects again when used)."""
        self.engine.dispose()

    def in_forked_child(self) -> None:
        """In a process forked from the one that opened the ledger: connections of its own, never the
        parent's (the parent disposes of its pool before forking, so there are none to inherit)."""
        self.engine.dispose(close=False)

    # -------------------------------------------------------------- writing

    def record_run(self, rec: RunRecord, conn: Connection | None = None) -> int:
        """Store a run with its files, scorecards and source rows; returns the run id."""
        if conn is None:
            with self.transaction() as c:
                return self.record_run(rec, c)
        run_id = conn.execute(runs.insert().returning(runs.c.id), {
            "book": rec.book, "kind": rec.kind, "created_at": rec.created_at, "os_user": rec.os_user[:200],
            "host": rec.host[:255], "program_version": _version(), "period": rec.period, "as_of": rec.as_of,
            "master_file": rec.master_file, "master_sha256": rec.master_sha256,
            "settings": json.dumps(rec.settings, ensure_ascii=False, sort_keys=True, default=str),
            "quality": json.dumps(rec.quality, ensure_ascii=False, sort_keys=True, default=str),
        }).scalar_one()
        if rec.files:
            conn.execute(run_files.insert(), [{"run_id": run_id, "label": f["label"], "sha256": f.get("sha256") or "",
                                               "status": f["status"], "reason": f.get("reason") or "",
                                               "rows": int(f.get("rows") or 0)} for f in rec.files])
        # a busy month's 40k figures as dicts held at once were ~20 MiB of the parent's peak: a slice at a time
        figures = ((run_id, card["rep_id"], i, k, v) for i, card in enumerate(rec.cards) for k, v in card.items())
        _insert_many(conn, scorecard_figures, ["run_id", "rep_id", "position", "figure", "value"],
                     lambda: list(islice(figures, ROW_BATCH)))
        if rec.rows:
            conn.execute(runs.update().where(runs.c.id == run_id).values(source_set_id=self._source_set(conn, rec.rows)))
        return run_id

    def _source_set(self, conn: Connection, rows) -> int:
        """The id of a stored set with exactly these fingerprints, storing it when there is none."""
        import hashlib

        def sliced(start: int) -> list[tuple]:  # SourceRows make their tuples a slice at a time
            return [r if isinstance(r, tuple) else tuple(r[c] for c in SOURCE_ROW_COLUMNS)
                    for r in rows[start:start + ROW_BATCH]]

        if isinstance(rows, SourceRows):  # a run's rows: the same digest, made from their columns
            digest = rows.digest()
        else:  # the SHA-256 of json.dumps(rows), made a slice at a time: a run's rows are ~30 MB of JSON
            h = hashlib.sha256(b"[")
            for start in range(0, len(rows), ROW_BATCH):
                part = json.dumps(sliced(start), ensure_ascii=False)[1:-1]
                h.update(((", " if start else "") + part).encode("utf-8"))
            h.update(b"]")
            digest = h.hexdigest()
        found = conn.execute(select(source_sets.c.id).where(source_sets.c.digest == digest)
                             .order_by(source_sets.c.id).limit(1)).scalar()
        if found is not None:
            return int(found)
        set_id = conn.execute(source_sets.insert().returning(source_sets.c.id),
                              {"digest": digest, "rows": len(rows)}).scalar_one()
        starts = iter(range(0, len(rows), ROW_BATCH))
        _insert_many(conn, source_rows, ["set_id", *SOURCE_ROW_COLUMNS],
                     lambda: [(set_id, *r) for r in sliced(next(starts, len(rows)))])
        return int(set_id)

    def close_period(self, rec: RunRecord, *, export: Callable[[int], dict[str, bytes]], note: str,
                     accepted_errors: int) -> tuple[CloseInfo, dict[str, bytes]]:
        """Record the run, make its HR export and mark the period closed, all in one transaction.

        `export(run_id)` returns the HR export's files (name -> bytes); they are stored with the
        close so that a later export of the period gives the same bytes. Raises PeriodClosed when
        the period is (or, racing another close, just became) closed.
        """
        try:
            with self.transaction() as conn:
                live = self._live_close(conn, rec.book, rec.period)
                if live is not None:
                    raise self.closed_error(live)
                run_id = self.record_run(rec, conn)
                fault_point("recorded")
                files = export(run_id)
                fault_point("exported")
                close_id = conn.execute(closes.insert().returning(closes.c.id), {
                    "book": rec.book, "period": rec.period, "run_id": run_id, "closed_at": rec.created_at,
                    "closed_by": rec.os_user[:200], "note": note or "", "accepted_errors": accepted_errors,
                }).scalar_one()
                import hashlib

                conn.execute(close_files.insert(), [
                    {"close_id": close_id, "name": name, "sha256": hashlib.sha256(data).hexdigest(), "content": data}
                    for name, data in files.items()])
                fault_point("marked")
        except IntegrityError:  # the other close committed first: its row holds the unique index
            live = self.live_close(rec.book, rec.period)
            if live is None:
                raise
            raise self.closed_error(live) from None
        closed = self.live_close(rec.book, rec.period)
        assert closed is not None and closed.id == close_id
        return closed, files

    def reopen(self, book: str, period: str, *, reason: str, user: str | None = None) -> CloseInfo:
        """Reopen a closed period (the close stays in the ledger, marked reopened, with the reason)."""
        with self.transaction() as conn:
            live = self._live_close(conn, book, period)
            if live is None:
                raise PeriodNotClosed(f"{period} is not closed in the ledger {self.shown}; there is nothing to reopen.")
            conn.execute(closes.update().where(closes.c.id == live.id).values(
                reopened_at=now(), reopened_by=(user or os_user())[:200], reopen_reason=reason))
            row = conn.execute(select(closes).where(closes.c.id == live.id)).mappings().one()
        return _close_info(row)

    # -------------------------------------------------------------- reading

    def live_close(self, book: str, period: str) -> CloseInfo | None:
        with self.transaction() as conn:
            return self._live_close(conn, book, period)

    def closes_of(self, book: str, period: str) -> list[CloseInfo]:
        """Every close of the period, the reopened ones too, oldest first."""
        with self.transaction() as conn:
            rows = conn.execute(select(closes).where(and_(closes.c.book == book, closes.c.period == period))
                                .order_by(closes.c.id)).mappings().all()
        return [_close_info(r) for r in rows]

    def close_files(self, close_id: int) -> dict[str, bytes]:
        with self.transaction() as conn:
            rows = conn.execute(select(close_files.c.name, close_files.c.content)
                                .where(close_files.c.close_id == close_id).order_by(close_files.c.id)).all()
        return {name: bytes(content) for name, content in rows}

    def cards(self, run_id: int) -> list[dict[str, str | None]]:
        """The run's scorecards, in their order, each figure as the exact text stored."""
        with self.transaction() as conn:
            rows = conn.execute(select(scorecard_figures.c.position, scorecard_figures.c.figure,
                                       scorecard_figures.c.value)
                                .where(scorecard_figures.c.run_id == run_id)
                                .order_by(scorecard_figures.c.position, scorecard_figures.c.id)).all()
        out: dict[int, dict[str, str | None]] = {}
        for pos, figure, value in rows:
            out.setdefault(pos, {})[figure] = value
        return [out[p] for p in sorted(out)]

    def cards_of_runs(self, run_ids: list[int]) -> dict[int, list[dict[str, str | None]]]:
        """cards() of many runs in one query."""
        if not run_ids:
            return {}
        with self.transaction() as conn:
            rows = conn.execute(select(scorecard_figures.c.run_id, scorecard_figures.c.position,
                                       scorecard_figures.c.figure, scorecard_figures.c.value)
                                .where(scorecard_figures.c.run_id.in_(run_ids))
                                .order_by(scorecard_figures.c.run_id, scorecard_figures.c.position,
                                          scorecard_figures.c.id)).all()
        grouped: dict[int, dict[int, dict[str, str | None]]] = {}
        for run_id, pos, figure, value in rows:
            grouped.setdefault(run_id, {}).setdefault(pos, {})[figure] = value
        return {r: [g[p] for p in sorted(g)] for r, g in grouped.items()}

    def source_rows(self, run_id: int) -> list[dict]:
        """The fingerprints of the source rows behind the run's figures."""
        with self.transaction() as conn:
            rows = conn.execute(select(source_rows.c.rep_id, source_rows.c.figure, source_rows.c.file,
                                       source_rows.c.sheet_kind, source_rows.c.sheet, source_rows.c.row,
                                       source_rows.c.key, source_rows.c.sha256)
                                .join(runs, runs.c.source_set_id == source_rows.c.set_id)
                                .where(runs.c.id == run_id).order_by(source_rows.c.id)).mappings().all()
        return [dict(r) for r in rows]

    def run(self, run_id: int) -> dict | None:
        with self.transaction() as conn:
            row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
        if row is None:
            return None
        out = dict(row)
        out["created_at"] = _aware(out["created_at"])
        out["settings"] = json.loads(out["settings"])
        out["quality"] = json.loads(out["quality"])
        return out

    def count_runs(self, book: str | None = None, period: str | None = None) -> int:
        q = select(func.count()).select_from(runs)
        if book is not None:
            q = q.where(runs.c.book == book)
        if period is not None:
            q = q.where(runs.c.period == period)
        with self.transaction() as conn:
            return int(conn.execute(q).scalar_one())

    def periods(self, book: str) -> list[PeriodState]:
        """Every period of the book with a run: its live close's run, else its latest run."""
        with self.transaction() as conn:
            latest = conn.execute(select(runs.c.period, func.max(runs.c.id)).where(runs.c.book == book)
                                  .group_by(runs.c.period)).all()
            live = conn.execute(select(closes).where(and_(closes.c.book == book, closes.c.reopened_at.is_(None))))\
                .mappings().all()
            chosen = {p: rid for p, rid in latest}
            live_by = {r["period"]: _close_info(r) for r in live}
            for p, c in live_by.items():
                chosen[p] = c.run_id
            times = dict(conn.execute(select(runs.c.id, runs.c.created_at)
                                      .where(runs.c.id.in_(list(chosen.values()) or [-1]))).all())
        return [PeriodState(p, rid, _aware(times[rid]), live_by.get(p)) for p, rid in sorted(chosen.items())]

    # -------------------------------------------------------------- helpers

    def _live_close(self, conn: Connection, book: str, period: str) -> CloseInfo | None:
        row = conn.execute(select(closes).where(and_(closes.c.book == book, closes.c.period == period,
                                                     closes.c.reopened_at.is_(None)))).mappings().first()
        return None if row is None else _close_info(row)

    def closed_error(self, live: CloseInfo) -> PeriodClosed:
        note = f"; note: {live.note}" if live.note else ""
        return PeriodClosed(
            f"{live.period} is already closed: closed {live.who_when} (run {live.run_id}{note}). Its figures stay as "
            f"paid. To change them, first reopen it: salesbook reopen --master M --period {live.period} "
            "--reason TEXT. Nothing was closed.", live)


def _insert_many(conn: Connection, table, keys: list[str], batch: Callable[[], list[tuple]]) -> None:
    """Insert the rows `batch()` gives (tuples in the order of `keys`), a batch at a time until it gives
    none, through the driver's own executemany: SQLAlchemy's per-row parameter handling is 3/4 of the
    time of a run's source rows."""
    sql = str(table.insert().compile(dialect=conn.dialect, column_keys=keys))
    while True:
        with cycle_collector_paused():  # the parameters are acyclic; a collection would walk the run's frames
            params = batch()
            if params and not conn.dialect.positional:
                params = [dict(zip(keys, r, strict=True)) for r in params]
        if not params:
            return
        conn.exec_driver_sql(sql, params)
        del params  # the next batch is made without this one beside it


def _close_info(row) -> CloseInfo:
    return CloseInfo(id=row["id"], book=row["book"], period=row["period"], run_id=row["run_id"],
                     closed_at=_aware(row["closed_at"]), closed_by=row["closed_by"], note=row["note"],
                     accepted_errors=row["accepted_errors"], reopened_at=_aware(row["reopened_at"]),
                     reopened_by=row["reopened_by"], reopen_reason=row["reopen_reason"])


def _current_revisions(conn: Connection) -> set[str]:
    from sqlalchemy import inspect

    if not inspect(conn).has_table("alembic_version"):
        return set()
    return {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}


def _version() -> str:
    from .. import __version__

    return __version__


def _reason(exc: Exception) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = Path(make_url(url).database or "")
        if not path.parent.exists():
            raise LedgerError(f"The ledger's folder {path.parent} does not exist; create it or give another "
                              "--ledger / SALESBOOK_LEDGER / ledger_url.")
        # A close holds the write lock while it stores its run: the other close waits, then sees it.
        engine = create_engine(url, connect_args={"timeout": 120})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn, _record) -> None:
            dbapi_conn.isolation_level = None  # SQLAlchemy's begin below starts every transaction itself
            dbapi_conn.execute("PRAGMA foreign_keys = ON")

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    try:
        return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 15})
    except ImportError as exc:
        raise LedgerError(f"PostgreSQL ledgers need psycopg 3 ({exc}); pip install 'psycopg[binary]'.") from None


def open_ledger(url: str) -> Ledger:
    """The ledger at `url`, its schema created or migrated; LedgerError says why it cannot be used."""
    ledger = Ledger(url)
    try:
        ledger.migrate()
    except LedgerError:
        ledger.dispose()
        raise
    return ledger
