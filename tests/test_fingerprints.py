"""The ledger's source-row fingerprints (SourceRows) against a plain per-row computation of the same rows."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from salesbook.closing import _by_figure
from salesbook.core.dataset import Dataset
from salesbook.core.schema import load_schemas
from salesbook.ledger import RunRecord, open_ledger, source_fingerprints, store
from salesbook.ledger.fingerprints import COMPOSITE_KEYS, SOURCE_ROW_COLUMNS, SourceRows, canonical
from salesbook.ledger.store import _normalise

NASTY = "已签 \"引号\" \\ 换行\n\t é ß 😀"


def _contract(cid, amount, status, signed, owner="王五"):
    return {"contract_id": cid, "customer_id": "C1", "amount": amount, "status": status, "signed": signed,
            "owner": owner}


def _activity(day, rep, cust, kind, minutes):
    return {"date": day, "rep_id": rep, "customer_id": cust, "activity_type": kind, "summary": NASTY,
            "minutes": minutes}


# (file, sheet, rows) per kind, in the order of the frame: b.xlsx before a.xlsx, and b.xlsx with two
# contract sheets whose keys are counted together.
SHEETS = {
    "contracts": [
        ("b.xlsx", "合同", [_contract("K1", 100.0, "Signed", True), _contract("K9", float("nan"), None, 1),
                           _contract("K1", 0.1, NASTY, date(2026, 11, 3))]),
        ("a.xlsx", "合同", [_contract("K1", 1.0, "Signed", 1), _contract("K1", 1.0, "Signed", True),
                           _contract(7.0, 1e20, "Draft", datetime(2026, 11, 3, 10, 30)),
                           _contract(None, -2.5, "Draft", None), _contract("K1", 2.0, "签", float("nan")),
                           _contract("K2", 3.0, "Signed", np.int64(5))]),
        ("b.xlsx", "合同2", [_contract("K1", 5.0, "Signed", "TRUE"), _contract("K3", 6.0, "", "")]),
    ],
    "activities": [
        ("a.xlsx", "活动", [_activity(date(2026, 11, 2), "S001", "C1", "Visit", 30.0),
                           _activity(date(2026, 11, 2), "S001", "C1", "Visit", 45.0),
                           _activity(date(2026, 11, 2), "S001", "C1", "Visit", float("nan")),
                           _activity(date(2026, 11, 3), "S001", None, "Call", 5.0),
                           _activity(date(2026, 11, 4), "S002", "C2", "Demo", 1.0)]),
    ],
    "customers": [("a.xlsx", "客户", [{"customer_id": "C1", "customer_name": "甲"}])],
}


def _dataset() -> Dataset:
    """A dataset whose frames mix the dtypes the reader makes: text (pandas str), floats, objects."""
    ds = Dataset()
    for kind, sheets in SHEETS.items():
        records = []
        for file, sheet, rows in sheets:
            start = len(records)
            records += [{"_file": file, "_sheet": sheet, "_row": i + 2, "_valid": True, **r} for i, r in enumerate(rows)]
            ds.sheet_schemas[(file, sheet)] = kind
            ds.spans[(file, sheet)] = (start, len(records))
        frame = pd.DataFrame(records)
        for c in ("status", "owner", "summary", "activity_type", "customer_name"):
            if c in frame:
                frame[c] = frame[c].astype("str")
        for c in ("signed", "contract_id", "date", "customer_id"):
            if c in frame:
                frame[c] = pd.Series(frame[c].tolist(), dtype=object)
        ds.frames[kind] = frame
    return ds


def _evidence(rep_dtype=None) -> pd.DataFrame:
    """Evidence naming rows for several reps and figures, the same row more than once, and rows and sheets the
    data does not have (which have no fingerprint)."""
    named = [("a.xlsx", "合同", r) for r in range(2, 8)] + [("b.xlsx", "合同", r) for r in (2, 3, 4)]
    named += [("b.xlsx", "合同2", 2), ("b.xlsx", "合同2", 3), ("a.xlsx", "合同", 99), ("c.xlsx", "合同", 2)]
    named += [("a.xlsx", "活动", r) for r in (6, 2, 3, 4, 5)]
    rows = []
    for i, (file, sheet, row) in enumerate(named):
        rows.append(("S001" if i % 3 else "S002", "revenue", file, sheet, row))
        if i % 2:
            rows.append(("S002", "commission_base", file, sheet, row))
    rows += rows[:4]  # the same rows again, for the same figures
    frame = pd.DataFrame(rows, columns=["rep_id", "kpi", "file", "sheet", "row"])
    frame.insert(1, "period", "2026-11")
    frame["value"], frame["code"] = 1.0, ""
    if rep_dtype is object:  # evidence not typed as text: a rep id that is a number, rows as Python ints
        frame = frame.astype(object)
        frame.loc[0, "rep_id"] = 7
    return frame


def _reference(ds: Dataset, evidence: pd.DataFrame) -> list[tuple]:
    """Each evidence row's source row computed a row at a time: sha256 of json(columns) + json(row values)."""
    schemas = load_schemas()
    named = {(f, s, int(r)) for f, s, r in zip(evidence["file"], evidence["sheet"], evidence["row"], strict=True)}
    found = {}
    for kind, frame in ds.frames.items():
        schema = schemas[kind]
        cols = [c.key for c in schema.columns if c.key in frame.columns]
        key_cols = [schema.key] if schema.key in cols else [c for c in COMPOSITE_KEYS.get(kind, ()) if c in cols]
        values = {c: frame[c].tolist() for c in cols}
        seen: dict[tuple, int] = {}
        spans = sorted((span, fs) for fs, span in ds.spans.items() if ds.sheet_schemas[fs] == kind)
        for (start, stop), (file, sheet) in spans:
            for i in range(start, stop):
                row = int(frame["_row"].iloc[i])
                if (file, sheet, row) not in named:
                    continue
                cells = [canonical(values[c][i]) for c in cols]
                key = "/".join("" if cells[cols.index(c)] is None else str(cells[cols.index(c)]) for c in key_cols)
                n = seen[(file, key)] = seen.get((file, key), 0) + 1
                key = f"{key}#{n}" if n > 1 else key
                digest = hashlib.sha256((json.dumps(cols) + json.dumps(cells, ensure_ascii=False)).encode("utf-8"))
                found[(file, sheet, row)] = (kind, key, digest.hexdigest())
    out = []
    for rep, fig, file, sheet, row in zip(*(evidence[c] for c in ("rep_id", "kpi", "file", "sheet", "row")),
                                          strict=True):
        hit = found.get((file, sheet, int(row)))
        if hit:
            out.append((str(rep), str(fig), file, hit[0], sheet, int(row), hit[1], hit[2]))
    return out


@pytest.mark.parametrize("rep_dtype", [None, object])
def test_source_rows_are_the_rows_a_per_row_computation_gives(rep_dtype, monkeypatch) -> None:
    """SourceRows give, in the evidence's order, the same eight fields a per-row computation gives (keys
    numbered #2, #3 within a file, composite keys, blanks, NaN, dates, True beside 1, non-ASCII text),
    whole, sliced and indexed, computed a small chunk at a time."""
    from salesbook.ledger import fingerprints

    monkeypatch.setattr(fingerprints, "CHUNK", 2)  # the keys' numbering carries over from chunk to chunk
    ds, evidence = _dataset(), _evidence(rep_dtype)
    expected = _reference(ds, evidence)
    rows = source_fingerprints(ds, evidence)
    assert isinstance(rows, SourceRows)
    absent = ((evidence["row"] == 99) | (evidence["file"] == "c.xlsx")).sum()
    assert absent and len(rows) == len(expected) == len(evidence) - absent  # a row not in the data has none
    assert list(rows) == expected
    assert [tuple(r) for r in rows[3:11]] == expected[3:11] and rows[-1] == expected[-1] and rows[0] == expected[0]
    assert rows[5]["key"] == expected[5][6] and rows[5].sha256 == expected[5][7]
    keys = {r[6] for r in expected}
    assert {"7", ""} <= keys  # the id 7.0 is "7"; no id is ""
    for file in ("a.xlsx", "b.xlsx"):  # K1 three times in each (in b.xlsx over its two contract sheets)
        assert {r[6] for r in expected if r[2] == file and r[6].startswith("K1")} == {"K1", "K1#2", "K1#3"}
    assert "2026-11-02/S001/C1/Visit#3" in keys and "2026-11-03/S001//Call" in keys
    with pytest.raises(IndexError):
        rows[len(rows)]


def test_no_evidence_gives_no_source_rows() -> None:
    """Without evidence (or with evidence naming no row of the data, even a row number no sheet can have)
    there are no source rows to record."""
    ds = _dataset()
    assert len(source_fingerprints(ds, pd.DataFrame())) == 0 and not source_fingerprints(ds, None)
    ev = _evidence()
    ev["file"] = "other.xlsx"
    none = source_fingerprints(ds, ev)
    assert len(none) == 0 and list(none) == [] and none[0:5] == []
    odd = _evidence()
    odd["row"] = [-1, 2**40 + 2] * (len(odd) // 2) + [2**32 + 2] * (len(odd) % 2)  # no such rows (nor row 2)
    assert len(source_fingerprints(ds, odd)) == 0


def test_ledger_stores_source_rows_as_the_whole_list_and_digest(tmp_path, monkeypatch) -> None:
    """The ledger stores SourceRows as the same rows, in order, under the digest of the whole list's JSON, so a
    run recorded from plain tuples of the same rows shares the set; what changed since a close reads the same
    from the rows made now and from the rows read back."""
    monkeypatch.setattr(store, "ROW_BATCH", 3)
    ds, evidence = _dataset(), _evidence()
    expected = _reference(ds, evidence)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    lg = open_ledger(url)

    def rec(rows) -> RunRecord:
        return RunRecord(book="b", kind="consolidate", period="2026-11", as_of=date(2026, 11, 30), master_file="m",
                         master_sha256="0" * 64, settings={}, quality={}, files=[],
                         cards=[{"rep_id": "S001", "score": "1"}, {"rep_id": "S002", "score": "2"}], rows=rows)

    rows = source_fingerprints(ds, evidence)
    first, second = lg.record_run(rec(rows)), lg.record_run(rec(expected))
    back = lg.source_rows(first)
    assert [tuple(r[c] for c in SOURCE_ROW_COLUMNS) for r in back] == expected
    assert lg.source_rows(second) == back
    assert lg.cards(first) == [{"rep_id": "S001", "score": "1"}, {"rep_id": "S002", "score": "2"}]
    whole = hashlib.sha256(json.dumps([list(r) for r in expected], ensure_ascii=False).encode("utf-8")).hexdigest()
    engine = create_engine(_normalise(url, None))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT digest, rows FROM source_sets")).all() == [(whole, len(expected))]
    engine.dispose()
    lg.dispose()
    now, stored = _by_figure(rows), _by_figure(back)
    assert now.keys() == stored.keys()
    for fig in now:
        assert {k: (r["row"], r["sha256"]) for k, r in now[fig].items()} == {
            k: (r["row"], r["sha256"]) for k, r in stored[fig].items()}
