"""Arbitrary cell values never crash the checks: every sheet kind, then the whole pipeline."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

from conftest import write_workbook
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesbook.core.dataset import combine
from salesbook.core.findings import CODES
from salesbook.core.rules import check_keys_and_references, grade_customers
from salesbook.core.schema import team_schemas
from salesbook.core.settings import DEFAULTS
from salesbook.core.table import CheckContext, build_table
from salesbook.pipeline import validate

TRICKY = ["", " ", "　", "合计", "Total", "=1+1", "@SUM(A1)", "-1", "1e400", "NaN", "inf", "１２３", "2026-02-30",
          "2026年13月1日", "20261301", "¥", "万", "1.2万", "10%", "%", "通过", "Approved", "已签订", "C001", "S001",
          "+86 138 1234 5678", "0086", "a@b", "x" * 300, "\x00", "\u202e", "None", "TRUE"]
cells = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.dates(date(1899, 12, 30), date(2200, 1, 1)), st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1)),
    st.sampled_from([time(12, 30), timedelta(days=3)]),
    st.sampled_from(TRICKY), st.text(max_size=20),
)
SCHEMAS = team_schemas()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(SCHEMAS), rows=st.lists(st.lists(cells, min_size=0, max_size=22), max_size=12),
       title=st.booleans())
def test_any_cells_under_a_header_give_findings_not_exceptions(kind, rows, title) -> None:
    """Whatever the cells under a real header, build_table returns findings with known codes and real cells."""
    header = [c.zh for c in kind.columns]
    sheet = ([["标题"]] if title else []) + [header, *rows]
    t = build_table(kind, kind.zh, sheet, CheckContext("f.xlsx", max_date=date(2027, 11, 30)))
    assert t.usable
    for f in t.findings:
        assert f.code in CODES
        assert f.severity == CODES[f.code][0]
        if f.row:
            assert f.row > (2 if title else 1) and f.row <= len(sheet)
        if f.cell:
            assert f.cell.endswith(str(f.row))
    assert t.rows <= len(rows)
    assert t.error_rows <= set(t.data["_row"])
    ds = combine([t])
    check_keys_and_references(ds, {"S001"})
    grade_customers(ds, DEFAULTS, date(2026, 11, 30))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_team_workbooks_run_through_the_whole_pipeline(tmp_path_factory, data) -> None:
    """Random rows in every sheet of two team files: validate finishes and every finding has a known code."""
    folder: Path = tmp_path_factory.mktemp("fuzz")
    for name in ("a.xlsx", "b.xlsx"):
        sheets = {}
        for kind in SCHEMAS:
            rows = data.draw(st.lists(st.lists(cells, max_size=len(kind.columns)), max_size=6))
            sheets[kind.zh] = [[c.zh for c in kind.columns], *[_cellsafe(r) for r in rows]]
        write_workbook(folder / name, sheets)
    run = validate([folder], period="2026-11")
    assert all(f.code in CODES for f in run.findings)
    assert {f.status for f in run.files} <= {"accepted", "rejected"}


def _cellsafe(row: list) -> list:
    """What a workbook can hold: no times or durations, no NUL characters, no dates before 1900."""
    out = []
    for v in row:
        if isinstance(v, time | timedelta):
            v = str(v)
        elif isinstance(v, str):
            v = v.replace("\x00", "")[:1000]
        elif isinstance(v, date) and v.year < 1900:
            v = None
        out.append(v)
    return out
