"""The ledger (SPEC §8) on SQLite and on a real PostgreSQL server: schema migrations, runs, closing,
reopening, changes since a close, the closed HR export, history, racing and killed closes."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, text
from test_scoring import build_example

from salesbook.cli import main
from salesbook.closing import book_name
from salesbook.ledger import FAULT_ENV, HEAD, PAUSE_ENV, LedgerTooNew, open_ledger
from salesbook.ledger.store import MIGRATIONS, _normalise
from salesbook.ledger.tables import metadata
from salesbook.pipeline import read_master

ROOT = Path(__file__).resolve().parents[1]


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def example(tmp_path: Path) -> tuple[Path, Path]:
    """The hand-worked example of test_scoring: team folder and master (its errors are violations)."""
    return build_example(tmp_path)


def edit_cell(path: Path, sheet: str, key: str, column: int, value) -> None:
    """Change one cell of the row whose first cell is `key` (as a rep would in Excel)."""
    wb = openpyxl.load_workbook(path)
    for r in wb[sheet].iter_rows(min_row=2):
        if r[0].value == key:
            r[column].value = value
    wb.save(path)


def append_row(path: Path, sheet: str, values: list) -> None:
    wb = openpyxl.load_workbook(path)
    wb[sheet].append(values)
    wb.save(path)


# ----------------------------------------------------------------------------- schema


def test_migration_creates_the_schema_on_an_empty_database(ledger_url: str) -> None:
    """First use of an empty database creates every table at the newest revision, matching tables.py."""
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD
    engine = create_engine(_normalise(ledger_url, None))
    assert inspect(engine).get_table_names() == []
    open_ledger(ledger_url).dispose()
    open_ledger(ledger_url).dispose()  # a second use finds it current and changes nothing
    names = set(inspect(engine).get_table_names())
    assert {"runs", "run_files", "scorecard_figures", "source_sets", "source_rows", "closes", "close_files",
            "alembic_version"} <= names
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD]
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], diff
    engine.dispose()


def test_a_ledger_newer_than_the_program_is_refused(ledger_url: str, example) -> None:
    """A ledger stamped with a revision this salesbook does not know is refused, and left as it was."""
    team, master = example
    open_ledger(ledger_url).dispose()
    engine = create_engine(_normalise(ledger_url, None))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
    with pytest.raises(LedgerTooNew, match="newer salesbook"):
        open_ledger(ledger_url)
    r = invoke("consolidate", team, "--master", master, "--period", "2026-11", "--out", master.parent / "o",
               "--ledger", ledger_url)
    assert r.exit_code == 2, r.output
    assert "newer salesbook" in r.output and "Upgrade salesbook" in r.output and "Traceback" not in r.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0099_future"
        assert conn.execute(text("SELECT count(*) FROM runs")).scalar_one() == 0
    engine.dispose()


def test_two_first_uses_at_once_migrate_once(ledger_url: str) -> None:
    """Two processes opening an empty ledger at the same moment both succeed; the schema is made once."""
    code = "import sys; from salesbook.ledger import open_ledger; open_ledger(sys.argv[1]); print('ok')"
    procs = [subprocess.Popen([sys.executable, "-c", code, ledger_url], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    engine = create_engine(_normalise(ledger_url, None))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD]
    engine.dispose()


def test_ledger_url_defaults_beside_the_master_and_follows_env_and_setting(tmp_path: Path, monkeypatch) -> None:
    """--ledger beats $SALESBOOK_LEDGER beats the ledger_url setting beats salesbook.db beside the master."""
    from salesbook.ledger import LedgerError, resolve_url

    monkeypatch.delenv("SALESBOOK_LEDGER", raising=False)
    m = tmp_path / "ws" / "SalesBook.xlsm"
    assert resolve_url(None, "", m) == f"sqlite:///{(tmp_path / 'ws' / 'salesbook.db').as_posix()}"
    assert resolve_url(None, "sqlite:///books/l.db", m) == f"sqlite:///{(tmp_path / 'ws' / 'books' / 'l.db')}"
    assert resolve_url(None, "postgresql://a@h/db", m) == "postgresql+psycopg://a@h/db"
    monkeypatch.setenv("SALESBOOK_LEDGER", "postgresql://env@h/db")
    assert resolve_url(None, "postgresql://setting@h/db", m) == "postgresql+psycopg://env@h/db"
    assert resolve_url("postgresql://cli@h/db", "x", m) == "postgresql+psycopg://cli@h/db"
    with pytest.raises(LedgerError, match="only SQLite"):
        resolve_url("mysql://u:secret@h/db", None, m)
    try:
        resolve_url("mysql://u:secret@h/db", None, m)
    except LedgerError as exc:
        assert "secret" not in str(exc)


# ----------------------------------------------------------------------------- runs


def test_consolidate_records_its_run_with_hashes_settings_and_source_rows(example, ledger_url: str) -> None:
    """A consolidate run is in the ledger: who, when, period, settings, master and file hashes, scorecards and a
    fingerprint for every evidence row."""
    team, master = example
    out = master.parent / "out"
    r = invoke("consolidate", team, "--master", master, "--period", "2026-11", "--out", out, "--ledger", ledger_url)
    assert r.exit_code == 0, r.output
    assert "Recorded as run 1" in r.output
    lg = open_ledger(ledger_url)
    run = lg.run(1)
    assert run["kind"] == "consolidate" and run["period"] == "2026-11" and run["as_of"].isoformat() == "2026-11-30"
    assert run["os_user"] and run["master_file"] == "master.xlsx"
    import hashlib

    assert run["master_sha256"] == hashlib.sha256(master.read_bytes()).hexdigest()
    assert run["settings"]["weight.revenue"] == 0.35 and "ledger_url" in run["settings"]
    files = {f["file"]: f for f in rows(out / "files.csv")}
    engine = create_engine(_normalise(ledger_url, None))
    with engine.connect() as conn:
        stored = {r.label: (r.sha256, r.status) for r in conn.execute(text("SELECT * FROM run_files"))}
    engine.dispose()
    assert stored == {k: (v["sha256"], v["status"]) for k, v in files.items()}
    cards = lg.cards(1)
    assert [c["rep_id"] for c in cards] == [r["rep_id"] for r in rows(out / "scorecards.csv")]
    s001 = next(c for c in cards if c["rep_id"] == "S001")
    assert s001["revenue"] == "120000" and s001["score"] == "94.25" and s001["rating"] == "B"
    evidence = rows(out / "evidence.csv")
    fps = lg.source_rows(1)
    assert len(fps) == len(evidence)
    k1 = next(f for f in fps if f["figure"] == "revenue" and f["rep_id"] == "S001")
    assert (k1["file"], k1["sheet_kind"], k1["row"], k1["key"]) == ("b.xlsx", "contracts", 2, "K1")
    assert len(k1["sha256"]) == 64
    # The same files again: a second run, sharing the first one's fingerprints; an edit makes a new set.
    assert invoke("consolidate", team, "--master", master, "--period", "2026-11", "--out", out, "--ledger",
                  ledger_url).exit_code == 0
    edit_cell(team / "b.xlsx", "合同", "K1", 2, 130000)
    assert invoke("consolidate", team, "--master", master, "--period", "2026-11", "--out", out, "--ledger",
                  ledger_url).exit_code == 0
    assert lg.source_rows(2) == fps and lg.count_runs() == 3
    changed = [f for f in lg.source_rows(3) if f["key"] == "K1"]
    assert changed and all(f["sha256"] != k1["sha256"] for f in changed)
    engine = create_engine(_normalise(ledger_url, None))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM source_sets")).scalar_one() == 2
        assert conn.execute(text("SELECT count(*) FROM source_rows")).scalar_one() == 2 * len(fps)
    engine.dispose()
    lg.dispose()


# ----------------------------------------------------------------------------- close, refuse, reopen


def test_close_refuse_and_reopen(example, ledger_url: str) -> None:
    """close refuses errors without --accept-errors, closes with it, refuses a second close naming when and by
    whom, and reopen (with a reason) lets the period be closed again; every step is recorded."""
    team, master = example
    base = ["--master", master, "--period", "2026-11", "--ledger", ledger_url]
    out = master.parent / "close"
    r = invoke("close", team, *base, "--out", out)
    assert r.exit_code == 2 and "error-level findings" in r.output and "--accept-errors" in r.output
    assert not out.exists(), "a refused close wrote files"
    r = invoke("close", team, *base, "--out", out, "--accept-errors", "--note", "November payroll")
    assert r.exit_code == 0, r.output
    for name in ("scorecards.csv", "findings.csv", "scorecards_2026-11.csv", "scorecards_2026-11.xlsx",
                 "manifest.json"):
        assert (out / name).exists(), name
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["data_quality"]["closed"] is True and manifest["data_quality"]["run_id"] == 1
    lg = open_ledger(ledger_url)
    settings = read_master(master).settings
    live = lg.live_close(book_name(settings), "2026-11")
    assert live is not None and live.note == "November payroll" and live.accepted_errors == 7
    r = invoke("close", team, *base, "--out", master.parent / "again", "--accept-errors")
    assert r.exit_code == 2
    assert "already closed" in r.output and live.closed_by in r.output and "salesbook reopen" in r.output
    assert not (master.parent / "again").exists()
    r = invoke("reopen", "--master", master, "--period", "2026-11", "--reason", "K1 amount corrected",
               "--ledger", ledger_url)
    assert r.exit_code == 0 and "Reopened 2026-11" in r.output
    assert lg.live_close(book_name(settings), "2026-11") is None
    r = invoke("reopen", "--master", master, "--period", "2026-11", "--reason", "x", "--ledger", ledger_url)
    assert r.exit_code == 2 and "not closed" in r.output
    r = invoke("close", team, *base, "--out", master.parent / "second", "--accept-errors")
    assert r.exit_code == 0, r.output
    history = lg.closes_of(book_name(settings), "2026-11")
    assert [(c.reopen_reason, c.reopened_at is None) for c in history] == [("K1 amount corrected", False),
                                                                             (None, True)]
    lg.dispose()


def test_an_edit_after_close_shows_in_changes_since_close(example, ledger_url: str) -> None:
    """After a close, a changed contract amount and a new collection appear in changes_since_close.csv with the
    right delta and the source row (file, sheet, row, key); the 考核表 of the workbook action shows it too."""
    team, master = example
    base = ["--master", master, "--period", "2026-11", "--ledger", ledger_url]
    assert invoke("close", team, *base, "--out", master.parent / "c", "--accept-errors").exit_code == 0
    out = master.parent / "o1"
    assert invoke("consolidate", team, *base, "--out", out).exit_code == 0
    assert rows(out / "changes_since_close.csv") == []  # closed, and nothing changed yet
    edit_cell(team / "b.xlsx", "合同", "K1", 2, 130000)  # 120,000 -> 130,000
    from datetime import datetime

    append_row(team / "b.xlsx", "回款", ["P6", "K1", datetime(2026, 11, 28), 5000])
    out = master.parent / "o2"
    r = invoke("consolidate", team, *base, "--out", out)
    assert r.exit_code == 0 and "is closed" in r.output
    got = rows(out / "changes_since_close.csv")
    by = {(g["rep_id"], g["figure"]): g for g in got}
    rev = by[("S001", "revenue")]
    assert (rev["closed_value"], rev["new_value"], float(rev["delta"])) == ("120000", "130000", 10000.0)
    assert (rev["change"], rev["file"], rev["sheet"], rev["row"], rev["key"]) == ("changed", "b.xlsx", "合同", "2",
                                                                                  "K1")
    col = by[("S001", "collections")]
    assert float(col["delta"]) == 5000.0 and (col["change"], col["key"], col["sheet"]) == ("added", "P6", "回款")
    assert by[("S001", "rating")]["closed_value"] == "B" and by[("S001", "rating")]["new_value"] == "A"
    assert {g["rep_id"] for g in got} == {"S001"}, "only S001's figures changed"


def test_changes_since_close_never_outlives_its_run(example, tmp_path: Path) -> None:
    """changes_since_close.csv in an output folder is rewritten by each consolidation of a closed period and
    removed by one of an open period (reopened since), of a run that read nothing, and by a new close."""
    team, master = example
    base = ["--master", master, "--period", "2026-11", "--ledger", f"sqlite:///{tmp_path / 'l.db'}"]
    out = tmp_path / "o"
    assert invoke("close", team, *base, "--out", tmp_path / "c", "--accept-errors").exit_code == 0
    edit_cell(team / "b.xlsx", "合同", "K1", 2, 130000)
    assert invoke("consolidate", team, *base, "--out", out).exit_code == 0
    assert {g["figure"] for g in rows(out / "changes_since_close.csv")} >= {"revenue"}
    edit_cell(team / "b.xlsx", "合同", "K1", 2, 120000)  # back to the closed amount: rewritten, now empty
    assert invoke("consolidate", team, *base, "--out", out).exit_code == 0
    assert rows(out / "changes_since_close.csv") == []
    edit_cell(team / "b.xlsx", "合同", "K1", 2, 130000)
    assert invoke("consolidate", team, *base, "--out", out).exit_code == 0
    assert rows(out / "changes_since_close.csv")
    assert invoke("consolidate", _broken_copy(team, tmp_path / "broken"), *base, "--out", out).exit_code == 3
    assert not (out / "changes_since_close.csv").exists(), "a run that read nothing left the earlier changes"
    assert invoke("consolidate", team, *base, "--out", out).exit_code == 0
    assert (out / "changes_since_close.csv").exists()
    reopen = ["reopen", "--master", master, "--period", "2026-11", "--reason", "K1 corrected", "--ledger", base[-1]]
    assert invoke(*reopen).exit_code == 0
    assert invoke("close", team, *base, "--out", out, "--accept-errors").exit_code == 0
    assert not (out / "changes_since_close.csv").exists(), "a new close left the changes since the old one"
    assert invoke("consolidate", team, *base, "--out", out).exit_code == 0
    assert rows(out / "changes_since_close.csv") == []  # closed again, nothing changed since
    assert invoke(*reopen).exit_code == 0
    assert invoke("consolidate", team, *base, "--out", out).exit_code == 0
    assert not (out / "changes_since_close.csv").exists(), "an open period showed changes from an earlier run"


def test_export_of_a_closed_period_is_byte_identical_plus_adjustments(example, ledger_url: str) -> None:
    """export-hr of a closed period writes the files of the close byte for byte; after an edit it adds
    adjustments_<P>.csv with closed, now and delta per figure, and drops it again when the edit is undone."""
    team, master = example
    base = ["--master", master, "--period", "2026-11", "--ledger", ledger_url]
    closed = master.parent / "closed"
    assert invoke("close", team, *base, "--out", closed, "--accept-errors").exit_code == 0
    names = ["scorecards_2026-11.csv", "scorecards_2026-11.xlsx", "manifest.json"]
    hr = master.parent / "hr"
    r = invoke("export-hr", team, *base, "--out", hr)
    assert r.exit_code == 0 and "nothing changed" in r.output
    for n in names:
        assert (hr / n).read_bytes() == (closed / n).read_bytes(), n
    assert not (hr / "adjustments_2026-11.csv").exists()
    edit_cell(team / "b.xlsx", "合同", "K1", 2, 130000)
    r = invoke("export-hr", team, *base, "--out", hr)
    assert r.exit_code == 0 and "adjustments_2026-11.csv" in r.output
    for n in names:
        assert (hr / n).read_bytes() == (closed / n).read_bytes(), f"{n} changed after an edit"
    adj = {(a["employee_id"], a["figure"]): a for a in rows(hr / "adjustments_2026-11.csv")}
    assert list(rows(hr / "adjustments_2026-11.csv")[0]) == ["rep_id", "employee_id", "figure", "closed", "now",
                                                             "delta"]
    assert (adj[("E1001", "revenue")]["closed"], adj[("E1001", "revenue")]["now"]) == ("120000", "130000")
    assert float(adj[("E1001", "revenue")]["delta"]) == 10000.0
    assert float(adj[("E1001", "score")]["delta"]) == pytest.approx(3.5)  # 0.35 × (1.3 − 1.2) × 100
    assert {a["employee_id"] for a in adj.values()} == {"E1001"}
    edit_cell(team / "b.xlsx", "合同", "K1", 2, 120000)
    assert invoke("export-hr", team, *base, "--out", hr).exit_code == 0
    assert not (hr / "adjustments_2026-11.csv").exists(), "a stale adjustments file was left behind"


def _broken_copy(team: Path, to: Path) -> Path:
    """The team files cut short (as a failed copy leaves them): not one can be read."""
    to.mkdir()
    for f in team.iterdir():
        (to / f.name).write_bytes(f.read_bytes()[:500])
    return to


def test_a_consolidation_that_read_nothing_is_not_recorded(example, tmp_path: Path) -> None:
    """consolidate where every team file is rejected exits 3, says it was not recorded, and leaves the ledger
    (runs and history) with the earlier real figures."""
    team, master = example
    url = f"sqlite:///{tmp_path / 'l.db'}"
    base = ["--master", master, "--period", "2026-11", "--ledger", url]
    assert invoke("consolidate", team, *base, "--out", tmp_path / "c1").exit_code == 0
    broken = _broken_copy(team, tmp_path / "broken")
    r = invoke("consolidate", broken, *base, "--out", tmp_path / "c2")
    assert r.exit_code == 3 and "Not recorded in the ledger" in r.output, r.output
    assert (tmp_path / "c2" / "files.csv").exists(), "the outputs still say why every file was rejected"
    lg = open_ledger(url)
    try:
        assert lg.count_runs() == 1
    finally:
        lg.dispose()
    assert invoke("history", "--master", master, "--ledger", url, "--out", tmp_path / "h").exit_code == 0
    assert {g["run_id"] for g in rows(tmp_path / "h" / "history.csv")} == {"1"}
    assert any(float(g["revenue"]) > 0 for g in rows(tmp_path / "h" / "history.csv"))


def test_a_recording_whose_parent_goes_away_ends_and_stores_nothing(example, tmp_path: Path) -> None:
    """The forked recording waits to hear that the outputs were written; when the parent goes away instead
    (its end of the pipe closes, nobody kills the child) the child hears it, records nothing and ends —
    it does not wait for ever on its own inherited copy of the parent's end."""
    import threading

    from salesbook.closing import Recording
    from salesbook.pipeline import consolidate

    team, master = example
    c = consolidate(team, master=master, period="2026-11")
    lg = open_ledger(f"sqlite:///{tmp_path / 'l.db'}")
    try:
        recording = Recording(c)
        recording.start(lg)
        child, recording._child = recording._child, None
        recording._go.close()  # as the parent's death would close it
        got: list = []
        waiting = threading.Thread(target=lambda: got.append(child()), daemon=True)
        waiting.start()
        waiting.join(timeout=60)
        if waiting.is_alive():
            child.cancel()
            pytest.fail("the recording child never heard that its parent went away")
        assert got == [None] and lg.count_runs() == 0
        again = Recording(c)
        again.start(lg)
        assert again.record(lg) == 1 and lg.count_runs() == 1
    finally:
        lg.dispose()


def test_the_consolidate_button_that_read_nothing_records_no_run(example, tmp_path: Path) -> None:
    """The consolidate action over a team folder of unreadable files says it recorded nothing, and makes no
    ledger; over readable files it records run 1."""
    from salesbook.cli import init_workspace
    from salesbook.core.settings import default_rows

    team, master = example
    wb = openpyxl.load_workbook(master)
    roster = [list(r) for r in wb["花名册"].iter_rows(min_row=2, values_only=True)]
    targets = [list(r) for r in wb["目标"].iter_rows(min_row=2, values_only=True)]
    root = tmp_path / "ws"
    book = init_workspace(root, roster_rows=roster, targets_rows=targets,
                          settings_rows=[(k, "2026-11" if k == "period" else v, n) for k, v, n in default_rows()])
    shutil.rmtree(root / "team")
    _broken_copy(team, root / "team")
    r = invoke("run", "consolidate", "--book", book)
    # exit 3 as `salesbook consolidate` gives when nothing could be read
    assert r.exit_code == 3 and "Not recorded in the ledger" in r.output and "(run " not in r.output, r.output
    assert not (root / "salesbook.db").exists(), "a run that read nothing made a ledger"
    shutil.rmtree(root / "team")
    shutil.copytree(team, root / "team")
    r = invoke("run", "consolidate", "--book", book)
    assert "(run 1)" in r.output and "Not recorded" not in r.output, r.output


# ----------------------------------------------------------------------------- history


def test_history_across_three_periods(tmp_path: Path, ledger_url: str) -> None:
    """history.csv has one row per rep per period: closed periods as closed (even after later runs), open ones
    from their latest run; --rep, --from and --to filter it."""
    from conftest import write_master

    team, _ = build_example(tmp_path)
    targets = [["S001", p, 100000, 10, 80000, 2, 4] for p in ("2026-09", "2026-10", "2026-11")]
    master = write_master(tmp_path / "m3.xlsx", [["S001", "王芳", "E1001", "一组", "华东", "李强", "在职"]], targets)
    base = ["--master", master, "--ledger", ledger_url]
    for p in ("2026-09", "2026-10", "2026-11"):
        assert invoke("consolidate", team, *base, "--period", p, "--out", tmp_path / p).exit_code == 0, p
    assert invoke("close", team, *base, "--period", "2026-10", "--out", tmp_path / "c10",
                  "--accept-errors").exit_code == 0
    edit_cell(team / "b.xlsx", "合同", "K10", 2, 60000)  # October's contract grows after the close
    assert invoke("consolidate", team, *base, "--period", "2026-10", "--out", tmp_path / "again").exit_code == 0
    assert invoke("consolidate", team, *base, "--period", "2026-11", "--out", tmp_path / "n2").exit_code == 0
    r = invoke("history", *base, "--out", tmp_path / "h")
    assert r.exit_code == 0 and "3 periods (1 closed)" in r.output, r.output
    got = rows(tmp_path / "h" / "history.csv")
    assert [(g["period"], g["rep_id"], g["closed"]) for g in got] == [
        ("2026-09", "S001", "FALSE"), ("2026-10", "S001", "TRUE"), ("2026-11", "S001", "FALSE")]
    oct_ = got[1]
    assert float(oct_["revenue"]) == 50000.0, "the closed figure, not the later run's 60000"
    assert oct_["run_id"] == "4" and oct_["closed_by"]
    assert got[2]["run_id"] == "6" and oct_["activities"] == "1" and got[2]["new_customers"] == "1"
    r = invoke("history", *base, "--rep", "S001", "--from", "2026-10", "--to", "2026-10", "--out", tmp_path / "h2")
    assert [g["period"] for g in rows(tmp_path / "h2" / "history.csv")] == ["2026-10"]


def test_history_with_a_target_blank_for_one_rep_only(tmp_path: Path) -> None:
    """A run where one rep has an activities target and another has none gives history.csv with that target
    blank for the one rep (no crash on the missing value) and whole numbers for the other."""
    from conftest import write_master

    team, _ = build_example(tmp_path)
    roster = [["S001", "王芳", "E1001", "一组", "华东", "李强", "在职"], ["S002", "陈明", "E1002", "一组", "华东", "李强", "在职"]]
    targets = [["S001", "2026-11", 100000, 10, 80000, None, None], ["S002", "2026-11", 100000, 10, 80000, 2, 10]]
    master = write_master(tmp_path / "m.xlsx", roster, targets)
    base = ["--master", master, "--ledger", f"sqlite:///{tmp_path / 'l.db'}"]
    assert invoke("consolidate", team, *base, "--period", "2026-11", "--out", tmp_path / "c").exit_code == 0
    r = invoke("history", *base, "--out", tmp_path / "h")
    assert r.exit_code == 0, r.output
    got = {g["rep_id"]: g for g in rows(tmp_path / "h" / "history.csv")}
    assert got["S001"]["activities_target"] == "" and got["S001"]["new_customers_target"] == ""
    assert got["S002"]["activities_target"] == "10" and got["S002"]["new_customers_target"] == "2"


def test_history_refuses_an_unknown_rep_and_a_backward_range(tmp_path: Path) -> None:
    """history --rep for a rep in neither the roster nor the ledger, and --from after --to, exit 2 with a
    message and write nothing; a rep in the ledger but no longer in the roster is still given."""
    from conftest import write_master

    team, _ = build_example(tmp_path)
    targets = [["S001", "2026-11", 100000, 10, 80000, 2, 4]]
    master = write_master(tmp_path / "m.xlsx", [["S001", "王芳", "E1001", "一组", "华东", "李强", "在职"]], targets)
    base = ["--master", master, "--ledger", f"sqlite:///{tmp_path / 'l.db'}"]
    assert invoke("consolidate", team, *base, "--period", "2026-11", "--out", tmp_path / "c").exit_code == 0
    r = invoke("history", *base, "--rep", "S999", "--out", tmp_path / "h1")
    assert r.exit_code == 2 and "--rep S999" in r.output and "no such rep" in r.output, r.output
    r = invoke("history", *base, "--rep", "s001", "--out", tmp_path / "h1")
    assert r.exit_code == 2 and "did you mean S001?" in r.output, r.output
    r = invoke("history", *base, "--from", "2026-12", "--to", "2026-11", "--out", tmp_path / "h1")
    assert r.exit_code == 2 and "--from 2026-12 is after --to 2026-11" in r.output, r.output
    assert not (tmp_path / "h1").exists()
    later = write_master(tmp_path / "m2.xlsx", [["S002", "陈明", "E1002", "一组", "华东", "李强", "在职"]], targets)
    shutil.copy(later, master)  # S001 has left the roster; the ledger still holds the figures
    r = invoke("history", *base, "--rep", "S001", "--out", tmp_path / "h2")
    assert r.exit_code == 0, r.output
    assert [g["rep_id"] for g in rows(tmp_path / "h2" / "history.csv")] == ["S001"]


# ----------------------------------------------------------------------------- races and crashes


def _close_cmd(team: Path, master: Path, out: Path, ledger_url: str) -> list[str]:
    return [sys.executable, "-m", "salesbook", "close", str(team), "--master", str(master), "--period", "2026-11",
            "--out", str(out), "--accept-errors", "--ledger", ledger_url]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (FAULT_ENV, PAUSE_ENV, "SALESBOOK_LEDGER")}
    return {**env, **extra}


@pytest.mark.slow
@pytest.mark.parametrize("pause_at", ["consolidated", "recorded"])
def test_two_simultaneous_closes_one_wins(example, ledger_url: str, pause_at: str) -> None:
    """Two `salesbook close` processes of one period at the same time: one exits 0, the other 2 ("already
    closed"), one close and one run are in the ledger. Both pass the first check and wait there together
    ("consolidated"), or both have recorded their run inside the transaction ("recorded")."""
    team, master = example
    env = _env(**{PAUSE_ENV: f"{pause_at}=3"})
    procs = [subprocess.Popen(_close_cmd(team, master, master.parent / f"out{i}", ledger_url), env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2], outs
    loser = outs[[p.returncode for p in procs].index(2)]
    assert "already closed" in loser[1] and "Traceback" not in loser[1], loser
    lg = open_ledger(ledger_url)
    settings = read_master(master).settings
    assert len(lg.closes_of(book_name(settings), "2026-11")) == 1
    assert lg.count_runs() == 1, "the losing close left rows behind"
    winner = [p.returncode for p in procs].index(0)
    assert (master.parent / f"out{winner}" / "scorecards_2026-11.csv").exists()
    assert not (master.parent / f"out{1 - winner}").exists(), "the losing close wrote files"
    lg.dispose()


@pytest.mark.slow
def test_a_killed_close_leaves_the_period_open(example, ledger_url: str) -> None:
    """A close killed after each of its steps (consolidated, recorded, exported, marked) leaves the period open,
    no rows of its run in the ledger and no HR export; a close afterwards works."""
    team, master = example
    open_ledger(ledger_url).dispose()
    settings = read_master(master).settings
    for step in ("consolidated", "recorded", "exported", "marked"):
        out = master.parent / f"killed-{step}"
        p = subprocess.run(_close_cmd(team, master, out, ledger_url), env=_env(**{FAULT_ENV: step}),
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == -9, (step, p.returncode, p.stderr)
        lg = open_ledger(ledger_url)
        assert lg.live_close(book_name(settings), "2026-11") is None, step
        assert lg.count_runs() == 0, f"killed at {step}: half-written rows"
        engine = create_engine(_normalise(ledger_url, None))
        with engine.connect() as conn:
            for table in ("run_files", "scorecard_figures", "source_sets", "source_rows", "closes", "close_files"):
                assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0, (step, table)
        engine.dispose()
        lg.dispose()
        assert not list(out.glob("scorecards_*")) if out.exists() else True, step
    p = subprocess.run(_close_cmd(team, master, master.parent / "ok", ledger_url), env=_env(), capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr


# ----------------------------------------------------------------------------- the workbook and the reports


def _workspace(tmp_path: Path, period: str = "2026-11") -> tuple[Path, Path]:
    """A workspace (SalesBook.xlsm + team/) holding the hand-worked example."""
    import shutil

    from salesbook.cli import init_workspace
    from salesbook.core.settings import default_rows

    team, master = build_example(tmp_path / "src")
    m = read_master(master)
    roster = [[r[k] if r[k] == r[k] else None for k in ("rep_id", "name", "employee_id", "team", "region",
                                                         "manager")] + [{"Left": "离职"}.get(r["status"], "在职")]
              for r in m.roster.to_dict("records")]
    targets = [[t[k] if t[k] == t[k] else None for k in ("rep_id", "period", "revenue_target", "volume_target",
                                                         "collections_target", "new_customers_target",
                                                         "activities_target")] for t in m.targets.to_dict("records")]
    root = tmp_path / "ws"
    book = init_workspace(root, roster_rows=roster, targets_rows=targets, settings_rows=[(k, period if k == "period" else v, n) for k, v, n in default_rows()])
    shutil.rmtree(root / "team")
    shutil.copytree(team, root / "team")
    return root, book


def test_the_close_button_then_an_edit_shows_closed_figures_and_changes(tmp_path: Path, monkeypatch) -> None:
    """`salesbook run close` refuses errors unless accepted; afterwards consolidating after an edit keeps the
    closed figures in 考核表 with a 变动 column naming the change, and writes changes_since_close.csv."""
    monkeypatch.delenv("SALESBOOK_LEDGER", raising=False)
    root, book = _workspace(tmp_path)
    r = invoke("run", "close", "--book", book)
    assert r.exit_code == 2 and "answer Yes" in r.output
    r = invoke("run", "close", "--book", book, "--accept-errors", "--note", "Nov")
    assert r.exit_code == 0 and "2026-11 closed" in r.output, r.output
    assert (root / "salesbook.db").exists(), "the default ledger is beside the master"
    assert (root / "out" / "hr" / "scorecards_2026-11.csv").exists()
    edit_cell(root / "team" / "b.xlsx", "合同", "K1", 2, 130000)
    r = invoke("run", "consolidate", "--book", book)
    assert r.exit_code == 0 and "is closed" in r.output, r.output
    ws = openpyxl.load_workbook(book, keep_vba=True)["考核表"]
    grid = [list(row) for row in ws.iter_rows(values_only=True)]
    head = [h.split("\n")[-1] for h in grid[0]]  # Chinese over English headers: compare the English line
    assert head[-2:] == ["Closed", "Changes since close"]
    s001 = next(row for row in grid[1:] if row[0] == "S001")
    assert s001[head.index("Revenue")] == 120000, "the 考核表 keeps the closed figure"
    assert "revenue 120000 → 130000 (+10000)" in s001[-1] and str(s001[-2]).startswith("已结账 closed")
    s002 = next(row for row in grid[1:] if row[0] == "S002")
    assert s002[-1] == "无变动 / none"
    changes = rows(root / "out" / "consolidation" / "changes_since_close.csv")
    assert ("S001", "revenue", "K1") in {(c["rep_id"], c["figure"], c["key"]) for c in changes}
    r = invoke("run", "close", "--book", book, "--accept-errors")
    assert r.exit_code == 2 and "already closed" in r.output


def test_the_consolidate_button_removes_changes_of_a_period_since_reopened(tmp_path: Path, monkeypatch) -> None:
    """The consolidate action writes changes_since_close.csv for a closed period and removes it once the period
    is reopened, so out/consolidation never shows an earlier run's changes as current."""
    monkeypatch.delenv("SALESBOOK_LEDGER", raising=False)
    root, book = _workspace(tmp_path)
    assert invoke("run", "close", "--book", book, "--accept-errors").exit_code == 0
    edit_cell(root / "team" / "b.xlsx", "合同", "K1", 2, 130000)
    assert invoke("run", "consolidate", "--book", book).exit_code == 0
    changes = root / "out" / "consolidation" / "changes_since_close.csv"
    assert rows(changes)
    r = invoke("reopen", "--master", book, "--period", "2026-11", "--reason", "K1 corrected")
    assert r.exit_code == 0, r.output
    r = invoke("run", "consolidate", "--book", book)
    assert r.exit_code == 0 and "is closed" not in r.output, r.output
    assert not changes.exists(), "the changes of the earlier, closed run were left as if current"


def test_reports_show_the_trend_from_the_ledger(tmp_path: Path, ledger_url: str) -> None:
    """A rep's report for 2026-11 draws the six-period trend with October from its close and September from its
    latest run."""
    from conftest import write_master

    team, _ = build_example(tmp_path)
    targets = [["S001", p, 100000, 10, 80000, 2, 4] for p in ("2026-09", "2026-10", "2026-11")]
    master = write_master(tmp_path / "m3.xlsx", [["S001", "王芳", "E1001", "一组", "华东", "李强", "在职"]], targets)
    base = ["--master", master, "--ledger", ledger_url]
    assert invoke("consolidate", team, *base, "--period", "2026-09", "--out", tmp_path / "o9").exit_code == 0
    assert invoke("close", team, *base, "--period", "2026-10", "--out", tmp_path / "c10",
                  "--accept-errors").exit_code == 0
    r = invoke("report", team, *base, "--period", "2026-11", "--out", tmp_path / "rep")
    assert r.exit_code == 0, r.output
    [page] = [p for p in (tmp_path / "rep").glob("report_2026-11_S001*.html")]
    html = page.read_text(encoding="utf-8")
    svg = html[html.index('<svg class="chart trend"'):]
    svg = svg[:svg.index("</svg>")]
    for p in ("2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"):
        assert f">{p}</text>" in svg, p
    assert svg.count("已结账 closed") == 1
    assert len([m for m in svg.split("<circle ")[1:]]) == 9  # three periods with figures, three figures each


def test_six_periods_back_cross_the_year() -> None:
    """The trend's periods are the five before the current one, of the same kind, across year ends."""
    from salesbook.closing import previous_periods
    from salesbook.core.periods import parse_period

    assert previous_periods(parse_period("2026-02"), 6) == ["2025-09", "2025-10", "2025-11", "2025-12", "2026-01",
                                                            "2026-02"]
    assert previous_periods(parse_period("2026-Q1"), 3) == ["2025-Q3", "2025-Q4", "2026-Q1"]


def test_the_ledger_keeps_the_commission_and_its_changes(tmp_path: Path) -> None:
    """The commission (SPEC §10) is stored with each closed scorecard: an edit after the close shows as a
    commission change with its source row, and as an adjustment for HR."""
    from conftest import ROSTER_HEADER, TARGET_HEADER, write_workbook

    team, _ = build_example(tmp_path)
    roster = [["S001", "王芳", "E1001", "一组", "华东", "李强", "在职", "P2"],
              ["S002", "陈明", "E1002", "一组", "华东", "李强", "在职", None]]
    master = write_workbook(tmp_path / "mc.xlsx", {
        "设置": [["键", "值", "说明"]], "花名册": [ROSTER_HEADER + ["提成方案"], *roster],
        "提成方案": [["方案", "基数", "档位依据", "下限", "上限", "费率", "计算方式"],
                  ["P2", "签约", "金额", 0, None, "2%", "全额"]],
        "目标": [TARGET_HEADER, ["S001", "2026-11", 100000, 10, 80000, 2, 4], ["S002", "2026-11", 1, 1, 1, 1, 1]]})
    ledger = f"sqlite:///{tmp_path / 'l.db'}"
    base = ["--master", master, "--period", "2026-11", "--ledger", ledger]
    r = invoke("close", team, *base, "--out", tmp_path / "c", "--accept-errors")
    assert r.exit_code == 0, r.output
    lg = open_ledger(ledger)
    [s001] = [x for x in lg.cards(1) if x["rep_id"] == "S001"]
    assert s001["commission"] == "2400"
    edit_cell(team / "b.xlsx", "合同", "K1", 2, 130000)
    assert invoke("consolidate", team, *base, "--out", tmp_path / "o").exit_code == 0
    changes = [c for c in rows(tmp_path / "o" / "changes_since_close.csv") if c["figure"] == "commission"]
    assert [(c["closed_value"], c["new_value"], float(c["delta"]), c["change"], c["key"]) for c in changes] == [
        ("2400", "2600", 200.0, "changed", "K1")]
    assert invoke("export-hr", team, *base, "--out", tmp_path / "hr").exit_code == 0
    adj = {a["figure"]: a for a in rows(tmp_path / "hr" / "adjustments_2026-11.csv")}
    assert (adj["commission"]["closed"], adj["commission"]["now"], float(adj["commission"]["delta"])) == (
        "2400", "2600", 200.0)
    lg.dispose()


def test_source_rows_stored_in_slices_keep_their_order_and_the_whole_list_digest(ledger_url: str,
                                                                                 monkeypatch) -> None:
    """Source rows written and hashed a slice at a time come back complete and in order, and the set's
    digest is the SHA-256 of the whole list's JSON, so a second run with the same rows shares the set."""
    import hashlib
    from datetime import date

    from salesbook.ledger import RunRecord, store
    from salesbook.ledger.fingerprints import SourceRow

    monkeypatch.setattr(store, "ROW_BATCH", 3)  # 8 rows: slices of 3, 3 and 2
    made = [SourceRow(f"S00{i % 2}", "revenue", "a.xlsx", "contracts", "合同", i + 2, f"K{i}, \"引号\"", f"{i:064x}")
            for i in range(8)]

    def rec() -> RunRecord:
        return RunRecord(book="b", kind="consolidate", period="2026-11", as_of=date(2026, 11, 30), master_file="m",
                         master_sha256="0" * 64, settings={}, quality={}, files=[], cards=[], rows=made)

    lg = open_ledger(ledger_url)
    first, second = lg.record_run(rec()), lg.record_run(rec())
    back = lg.source_rows(first)
    assert [tuple(r.values()) for r in back] == [tuple(r) for r in made]
    assert lg.source_rows(second) == back
    whole = hashlib.sha256(json.dumps([list(r) for r in made], ensure_ascii=False).encode("utf-8")).hexdigest()
    engine = create_engine(_normalise(ledger_url, None))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT digest, rows FROM source_sets")).all() == [(whole, 8)]
    engine.dispose()
    lg.dispose()
