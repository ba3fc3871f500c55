"""The reader's fast paths give what the general paths give: same columns, types, findings and Arrow arrays."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesbook.core import table as table_mod
from salesbook.core.schema import load_schemas
from salesbook.core.table import CheckContext, build_table
from salesbook.io import columns, precheck

# Cells as a reader gives them: numbers (huge and NaN too), text (numbers, dates and blanks as text),
# dates in and out of the window, datetimes, booleans, None.
CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from(["", " ", "  \t", "abc", "1,234.50", "12,34", "2026-11-03", "2026年11月3日", "20261103",
                     "拜访", "Visit", " Call ", "TRUE", "15%", "0.15", "1e400", "待审", "合计", "x" * 4_100]),
    st.text(max_size=6),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31)),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 12, 31)),
    st.booleans(),
    st.none(),
)
# Columns mostly of one kind (as real sheets are: the fast paths), with odd cells sprinkled in.
DATES = st.dates(min_value=date(2020, 1, 1), max_value=date(2027, 6, 30))
MOSTLY = {
    "date": DATES,
    "float": st.floats(min_value=0, max_value=1e6, allow_nan=False),
    "text": st.sampled_from(["客户甲", "Acme", "拜访", "Visit", "R001", "高", "Pending"]),
}


def _column(kind: str):
    main = MOSTLY[kind]
    return st.lists(st.one_of(main, main, main, CELLS), min_size=0, max_size=40)


def _general_dates(raw_values, kinds, first_sight, min_date, max_date):
    """The memo path every column took before: each distinct value checked once, in order of first sight."""
    memo: dict = {}
    out = [memo[v] if v in memo else memo.setdefault(v, first_sight(v)) for v in raw_values]
    return out, any(v.__class__ is table_mod._Fail for v in memo.values())


def _general_texts(raw_values, distinct, missing, max_text, check):
    """Each text cell stripped on its own (the path before texts were stripped once per distinct value)."""
    out = [(v.strip() or missing) if len(v) <= max_text else check(v) for v in raw_values]
    return out, any(v.__class__ is table_mod._Fail for v in out)


def _general_non_empty(rows, width, first=None):
    return _ORIGINAL_NON_EMPTY(rows, width)


_ORIGINAL_NON_EMPTY = table_mod._non_empty


def _sheet(schema, columns_by_key: dict[str, list]) -> list[list]:
    """A sheet of the schema's headers (in its order) and the given cells, ragged columns padded with blanks."""
    keys = [c.key for c in schema.columns]
    headers = [schema.column(k).zh for k in keys]
    n = max((len(v) for v in columns_by_key.values()), default=0)
    body = [[columns_by_key.get(k, [])[i] if i < len(columns_by_key.get(k, [])) else "" for k in keys]
            for i in range(n)]
    return [headers, *body]


def _as_compared(t) -> tuple:
    return (t.data, t.types, t.places, [f.__dict__ if hasattr(f, "__dict__") else f for f in t.findings],
            t.error_rows, t.usable, t.extras, t.header_row)


def _both_ways(monkeypatch, schema, rows, ctx):
    fast = build_table(schema, "Sheet", rows, ctx, row_offset=2, col_offset=1)
    with monkeypatch.context() as m:
        m.setattr(table_mod, "_dates", _general_dates)
        m.setattr(table_mod, "_non_empty", _general_non_empty)
        m.setattr(table_mod, "_texts", _general_texts)
        general = build_table(schema, "Sheet", rows, ctx, row_offset=2, col_offset=1)
    return fast, general


CTX = CheckContext(file="t.xlsx", min_date=date(2021, 1, 1), max_date=date(2027, 1, 31))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_customers_fast_paths_match_the_general_paths(monkeypatch, data) -> None:
    """Mixed cells in id, text, enum, money, phone and two date columns (with date order) give identical tables."""
    schema = load_schemas()["customers"]
    cols = {c.key: data.draw(_column("date" if c.type == "date" else
                                     "float" if c.type == "money" else "text"), label=c.key)
            for c in schema.columns}
    fast, general = _both_ways(monkeypatch, schema, _sheet(schema, cols), CTX)
    assert _as_compared(fast) == _as_compared(general)


# Text cells only, as most id and text columns are: repeated, padded, blank, and one over the text limit.
WORDS = st.sampled_from(["客户甲", " 客户甲 ", "Acme", "R001", "R001 ", "", " ", "\u3000", "跟进", "x" * 4_100])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_text_columns_stripped_once_per_distinct_text_match_each_cell_stripped(monkeypatch, data) -> None:
    """Id and text columns of text cells (repeating or mostly distinct, blanks where a value is required,
    text past the limit) give the same tables and findings as stripping every cell on its own."""
    for name in ("customers", "activities"):
        schema = load_schemas()[name]
        cols = {c.key: data.draw(st.lists(st.one_of(WORDS, st.text(max_size=5)), max_size=40), label=f"{name}.{c.key}")
                for c in schema.columns if c.type in ("id", "text")}
        rows = _sheet(schema, cols)
        fast, general = _both_ways(monkeypatch, schema, rows, CTX)
        assert _as_compared(fast) == _as_compared(general)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_activities_and_contracts_fast_paths_match_the_general_paths(monkeypatch, data) -> None:
    """Sheets with number, int, pct, money and date columns of mixed cells give identical tables and findings."""
    for name in ("activities", "contracts", "orders", "expenses"):
        schema = load_schemas()[name]
        cols = {c.key: data.draw(_column("date" if c.type == "date" else
                                         "float" if c.type in ("money", "number", "int", "pct") else "text"),
                                 label=f"{name}.{c.key}")
                for c in schema.columns}
        fast, general = _both_ways(monkeypatch, schema, _sheet(schema, cols), CTX)
        assert _as_compared(fast) == _as_compared(general)


def test_dates_fast_path_is_taken_and_keeps_each_first_seen_date() -> None:
    """An all-date column in the window is itself, each value the object first seen (as the memo gave it)."""
    d1, d2 = date(2026, 1, 5), date(2026, 1, 6)
    d1_again = date(2026, 1, 5)
    out, fails = table_mod._dates([d1, d2, d1_again], {date}, lambda v: pytest.fail("checked one by one"),
                                  date(2021, 1, 1), date(2027, 1, 1))
    assert out == [d1, d2, d1] and out[2] is d1 and not fails


def test_dates_outside_the_window_are_findings_like_before(monkeypatch) -> None:
    """A date before the window among good ones is out-of-range with the same finding either way."""
    schema = load_schemas()["customers"]
    cols = {"customer_id": ["C1", "C2", "C3"], "customer_name": ["a", "b", "c"], "contact": ["x", "y", "z"],
            "phone": ["13812345678"] * 3, "owner": ["R1"] * 3,
            "created": [date(2026, 1, 1), date(2019, 5, 5), "2026/2/3"],
            "updated": [date(2025, 12, 1), None, date(2026, 3, 1)]}
    fast, general = _both_ways(monkeypatch, schema, _sheet(schema, cols), CTX)
    assert _as_compared(fast) == _as_compared(general)
    codes = [f.code for f in fast.findings]
    assert "out-of-range" in codes and "date-order" in codes


def test_blank_first_cells_are_found_by_the_fast_blank_row_test() -> None:
    """Rows whose first cell is blank text (a space, a tab) are kept or dropped exactly as a whole-row look decides."""
    rows = [[" ", "", ""], ["", "", ""], ["\t", "x", ""], [1.0, "", ""], [None, None, None], ["a", "", ""]]
    cols = list(zip(*rows, strict=True))
    assert table_mod._non_empty(rows, 3, cols[0]) == _ORIGINAL_NON_EMPTY(rows, 3) == [2, 3, 5]
    clean = [["a", 1], ["b", 2]]
    assert table_mod._non_empty(clean, 2, ("a", "b")) == [0, 1]


def _old_dictionary(values: list) -> pa.Array:
    """How a text or date column was encoded before: as text, else by inference."""
    if values.count(None) == len(values):
        return pa.nulls(len(values))
    try:
        return pa.array(values, columns._TEXT)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array(values).dictionary_encode()


@pytest.mark.parametrize("values", [
    [date(2026, 1, 1), None, date(2026, 1, 1), date(2025, 5, 5)],
    [None, None],
    [],
    [None, "a", "b", "a", None],
    [date(2026, 1, 1), datetime(2026, 1, 1, 10, 30)],
    [None, date(2026, 1, 1), "2026-01-01"],
    ["x", date(2026, 1, 1)],
    [datetime(2026, 1, 1, 9), None],
])
def test_dictionary_encoding_matches_the_old_encoding(values) -> None:
    """Each text, date or mixed column becomes the same Arrow array (type, dictionary, nulls) as before."""
    try:
        old = _old_dictionary(values)
    except (pa.ArrowTypeError, pa.ArrowInvalid) as exc:
        with pytest.raises(type(exc)):
            columns._dictionary(values)
        return
    new = columns._dictionary(values)
    assert new.type == old.type and new.equals(old)


def _xlsx_with_members(tmp_path: Path, extra_members: int, dimension: bool) -> Path:
    """A workbook whose one sheet has a cell at XFD1048576 but declares A1:A2 (or, without `dimension`,
    declares nothing), behind `extra_members` filler parts in the zip."""
    from conftest import write_workbook

    src = write_workbook(tmp_path / "src.xlsx", {"客户": [["客户编号"], ["C1"]]})
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for i in range(extra_members):
            zout.writestr(f"customXml/filler{i}.xml", b"<a/>")
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                assert b'<dimension ref="A1:A2"/>' in data
                if not dimension:
                    data = data.replace(b'<dimension ref="A1:A2"/>', b"")
                data = data.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
            zout.writestr(info, data)
    path = tmp_path / f"m{extra_members}-{dimension}.xlsx"
    path.write_bytes(out.getvalue())
    return path


@pytest.mark.parametrize("extra", [0, precheck._KEPT_HEADS + 5])
def test_sheet_head_reuse_reads_the_sheets_own_dimension(tmp_path, extra) -> None:
    """The sheet's <dimension> comes from its own first bytes, kept by the DTD pass or (past the kept number
    of members) read afresh: a small declared one is trusted (the parser's range is checked later), and
    without one the cells are measured and the far cell refused."""
    small = _xlsx_with_members(tmp_path, extra, dimension=True)
    assert not precheck.precheck(small, small.read_bytes(), precheck.Limits()).rejected
    none = _xlsx_with_members(tmp_path, extra, dimension=False)
    verdict = precheck.precheck(none, none.read_bytes(), precheck.Limits())
    assert verdict.rejected and "XFD1048576" in verdict.reason.en
