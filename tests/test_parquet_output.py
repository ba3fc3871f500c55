"""consolidated.parquet written a slice at a time: the same rows and values as written whole."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_columns import _tables
from test_fuzz_tables import SCHEMAS, cells

from salesbook import exports
from salesbook.io import columns


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(kinds_rows=st.lists(st.tuples(st.sampled_from(SCHEMAS),
                                     st.lists(st.lists(cells, min_size=0, max_size=22), max_size=7)),
                           min_size=1, max_size=4))
def test_parquet_in_slices_holds_what_the_whole_table_holds(kinds_rows, tmp_path_factory, monkeypatch) -> None:
    """Row groups of 2 rows give the same table (columns, types, rows, values) as one row group per kind."""
    tables = _tables(kinds_rows, extra=False)
    for t in tables:
        columns.encode(t)
    ds = columns.dataset(tables)
    out = tmp_path_factory.mktemp("pq")
    whole = exports.write_parquet(out / "whole.parquet", ds)
    with monkeypatch.context() as m:
        m.setattr(exports, "PARQUET_ROWS", 2)
        sliced = exports.write_parquet(out / "sliced.parquet", ds)
    a, b = pq.read_table(whole), pq.read_table(sliced)
    assert a.schema == b.schema
    pd.testing.assert_frame_equal(a.to_pandas(), b.to_pandas(), check_exact=True)
    if any(len(f) > 2 for f in ds.frames.values()):  # a kind of sheet over one slice
        assert pq.ParquetFile(sliced).num_row_groups > pq.ParquetFile(whole).num_row_groups


def test_an_empty_dataset_still_gives_a_readable_parquet(tmp_path: Path) -> None:
    """No rows at all: a parquet with the table column and no rows, not an error."""
    ds = columns.dataset([])
    t = pq.read_table(exports.write_parquet(tmp_path / "e.parquet", ds))
    assert t.num_rows == 0 and "table" in t.column_names


def test_the_parquet_marks_invalid_the_rows_a_domain_check_refused(tmp_path: Path) -> None:
    """consolidated.parquet is started before the frames carry the domain checks' errors, yet its valid
    column is the frames' own: an expense over its limit (an error) is invalid there, its neighbour valid."""
    from conftest import write_master, write_workbook

    from salesbook.pipeline import consolidate

    header = ["报销编号", "销售代表", "日期", "类别", "金额", "发票号", "客户编号", "审批状态", "说明"]
    write_workbook(tmp_path / "team" / "team_a.xlsx", {"费用": [
        header,
        ["E1", "S001", date(2026, 11, 3), "差旅费", 200.0, "R-1", None, "待审批", ""],
        ["E2", "S001", date(2026, 11, 4), "差旅费", 999_999.0, "R-2", None, "待审批", ""],
    ]})
    master = write_master(tmp_path / "m.xlsx", [["S001", "王芳", "E1001", "华东一组", "华东", "李强", "在职"]],
                          [["S001", "2026-11", 100000, 10, 80000, 2, 20]])
    c = consolidate(tmp_path / "team", master=master, period="2026-11", outputs=True)
    assert any(f.code == "expense-over-limit" and f.row == 3 for f in c.run.findings)
    out = exports.write_consolidation(c, tmp_path / "out")
    table = pq.read_table([p for p in out if p.name == "consolidated.parquet"][0]).to_pandas()
    expenses = table[table["table"] == "expenses"].sort_values("row")
    assert expenses["valid"].tolist() == [True, False]
    assert c.run.dataset.frames["expenses"]["_valid"].tolist() == [True, False]
