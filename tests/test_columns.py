"""The columnar path from the reader workers: encoded tables give the very frames the plain lists give."""

from __future__ import annotations

import copy
from datetime import date

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz_tables import SCHEMAS, cells

from salesbook.core.activities import effective_activities
from salesbook.core.dataset import combine
from salesbook.core.settings import load_settings
from salesbook.core.table import CheckContext, build_table
from salesbook.core.vector import group_ids
from salesbook.io import columns


def _tables(kinds_rows, extra: bool) -> list:
    out = []
    for k, (kind, rows) in enumerate(kinds_rows):
        header = [c.zh for c in kind.columns] + (["备注"] if extra else [])
        ctx = CheckContext(f"f{k % 3}.xlsx", max_date=date(2027, 11, 30))
        out.append(build_table(kind, f"{kind.zh}{k}", [header, *rows], ctx))
    return out


def _assert_same(tables: list) -> None:
    plain = combine(copy.deepcopy(tables))
    encoded = copy.deepcopy(tables)
    for t in encoded:
        columns.encode(t)
        assert t.data is None and t.payload is not None
    arrow = columns.dataset(encoded)
    assert plain.spans == arrow.spans and plain.sheet_schemas == arrow.sheet_schemas
    for name, frame in plain.frames.items():
        pd.testing.assert_frame_equal(frame, arrow.frames[name], check_dtype=True, check_exact=True)
        for c in frame.columns:  # the same Python types cell by cell (a date stays a date, text stays text)
            assert [type(v) for v in frame[c]] == [type(v) for v in arrow.frames[name][c]], (name, c)
    for (name, c), (numbers, values) in arrow.coded.items():  # the dictionaries' numbers: equal values alike
        cells = plain.frames[name][c]
        assert [None if k < 0 else values[k] for k in numbers.tolist()] == cells.tolist()
        assert group_ids([numbers]).tolist() == group_ids([cells.to_numpy(dtype=object)]).tolist()
    if not plain.frames["activities"].empty:  # the rules give the same with the numbers as without them
        st = load_settings([("activity.min_summary_chars", 2), ("activity.max_same_summary", 1)])
        assert effective_activities(arrow, st) == effective_activities(plain, st)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kinds_rows=st.lists(st.tuples(st.sampled_from(SCHEMAS),
                                     st.lists(st.lists(cells, min_size=0, max_size=22), max_size=10)),
                           max_size=5),
       extra=st.booleans())
def test_encoded_tables_give_the_frames_of_the_plain_lists(kinds_rows, extra) -> None:
    """Whatever the cells, the frames built from the workers' Arrow payloads equal those built from lists."""
    _assert_same(_tables(kinds_rows, extra))


def test_a_repeated_long_text_is_sent_once() -> None:
    """9,000 cells of one 3,999-character text travel as one dictionary entry, not 36 MB."""
    [kind] = [s for s in SCHEMAS if s.name == "customers"]
    header = [c.zh for c in kind.columns]
    row = {c.zh: "" for c in kind.columns}
    row.update({"客户名称": "长" * 3999, "负责销售": "S001", "联系人": "王", "联系电话": "13812345678",
                "建档日期": date(2026, 1, 5)})
    rows = [[f"C{i:05d}" if h == "客户编号" else row[h] for h in header] for i in range(9000)]
    t = build_table(kind, "客户", [header, *rows], CheckContext("a.xlsx"))
    columns.encode(t)
    assert t.rows == 9000 and len(t.payload) < 2_000_000  # the text alone would be 36 MB
    frame = columns.dataset([t]).frames["customers"]
    names = frame["customer_name"].tolist()
    assert len({id(v) for v in names}) == 1 and names[0] == "长" * 3999
