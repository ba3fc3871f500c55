"""Fingerprints of the source rows behind each figure, so that a later run can say which row changed.

A row is known by its file label, its kind of sheet and its business key (contract id, payment id,
customer id …; for sheets without an id column, the columns that tell its rows apart), and its
fingerprint is the SHA-256 of its parsed values. Row numbers are kept for the reader but are not
part of the identity: inserting a row above another does not make it "changed".
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..core.dataset import Dataset
from ..core.schema import load_schemas

# Sheets without an id column: the columns that tell their rows apart, for the key.
COMPOSITE_KEYS = {
    "activities": ("date", "rep_id", "customer_id", "activity_type"),
    "contract_lines": ("contract_id", "product", "spec"),
}


class SourceRow(NamedTuple):
    """One evidence row's source row; a tuple, as a run's 150k of them are held at once."""

    rep_id: str
    figure: str
    file: str
    sheet_kind: str
    sheet: str
    row: int
    key: str
    sha256: str

    def __getitem__(self, item):  # row["file"], as on the rows read back from the ledger
        return getattr(self, item) if isinstance(item, str) else tuple.__getitem__(self, item)


SOURCE_ROW_COLUMNS = SourceRow._fields


def canonical(value: object) -> object:
    """A parsed cell as JSON-able data, the same for the same value on every run."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        if value != value:
            return None
        return int(value) if value.is_integer() else repr(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return canonical(value.item())
    return str(value)


def _canonical_column(series: pd.Series) -> list:
    vals = series.tolist()
    if series.dtype.kind == "f":
        return [None if v != v else (int(v) if v.is_integer() else repr(v)) for v in vals]
    if set(map(type, vals)) <= _BY_VALUE:  # text, dates, blanks: once per distinct value
        shown = {v: v if v.__class__ is str else canonical(v) for v in set(vals)}
        return list(map(shown.__getitem__, vals))
    return [v if v.__class__ is str else canonical(v) for v in vals]


# Cell types equal only to themselves (True == 1 == 1.0 would share an entry).
_BY_VALUE = frozenset({str, type(None), date, datetime})


def _json_column(values: list) -> list[str]:
    """Each canonical value as json.dumps writes it inside a row (text not ASCII-escaped)."""
    kinds = set(map(type, values))
    if not (bool in kinds and int in kinds):  # no True beside 1: equal values are the same cell
        texts = {v: json.dumps(v, ensure_ascii=False) for v in set(values)}
        return list(map(texts.__getitem__, values))
    shown: dict = {}
    out = []
    for v in values:
        key = (v.__class__, v)  # True and 1 are told apart
        frag = shown.get(key)
        if frag is None:
            frag = shown[key] = json.dumps(v, ensure_ascii=False)
        out.append(frag)
    return out


def source_fingerprints(ds: Dataset, evidence: pd.DataFrame) -> list[SourceRow]:
    """One SourceRow per evidence row: rep_id, figure, file, sheet_kind, sheet, row, key, sha256.

    The fingerprint of a row is sha256(json.dumps(columns) + json.dumps(row values)); a row's JSON
    is assembled from each cell's JSON, made once per distinct value of its column.
    """
    if evidence is None or evidence.empty:
        return []
    schemas = load_schemas()
    ev_rep, ev_fig, ev_file, ev_sheet, ev_row = (evidence[c].tolist() for c in ("rep_id", "kpi", "file", "sheet", "row"))
    wanted: dict[tuple[str, str], set[int]] = {}
    for fl, sh, rw in zip(ev_file, ev_sheet, ev_row, strict=True):
        wanted.setdefault((fl, sh), set()).add(int(rw))
    found: dict[tuple[str, str, int], tuple[str, str, str]] = {}
    by_kind: dict[str, list[tuple[tuple[int, int], set[int]]]] = {}
    for sheet, rows in wanted.items():
        span, kind = ds.spans.get(sheet), ds.sheet_schemas.get(sheet)
        if span is not None and kind is not None:
            by_kind.setdefault(kind, []).append((span, rows))
    for kind, frame in ds.frames.items():
        if frame.empty or kind not in by_kind:
            continue
        at = frame["_row"].to_numpy()
        positions = []  # the frame's rows named by the evidence, in frame order (each sheet over its span)
        for (start, stop), rows in sorted(by_kind[kind], key=lambda sr: sr[0]):
            positions.append(np.flatnonzero(np.isin(at[start:stop], list(rows))) + start)
        if not positions:
            continue
        sub = frame.iloc[np.concatenate(positions)]
        if sub.empty:
            continue
        schema = schemas[kind]
        cols = [c.key for c in schema.columns if c.key in sub.columns]
        key_col = schema.key if schema.key in cols else None
        key_cols = [key_col] if key_col else [c for c in COMPOSITE_KEYS.get(kind, ()) if c in cols]
        values = [_canonical_column(sub[c]) for c in cols]  # one type decision per column, not per cell
        if len(key_cols) == 1:  # the usual id column: its text
            keys = ["" if v is None else str(v) for v in values[cols.index(key_cols[0])]]
        elif key_cols:
            keys = ["/".join("" if v is None else str(v) for v in parts)
                    for parts in zip(*(values[cols.index(c)] for c in key_cols), strict=True)]
        else:
            keys = [""] * len(sub)
        prefix = hashlib.sha256(json.dumps(cols).encode("utf-8"))  # the columns are part of what was hashed
        texts = ["[" + ", ".join(parts) + "]" for parts in zip(*map(_json_column, values), strict=True)]
        seen: dict[tuple[str, str], int] = {}
        for fl, sh, rw, key, text in zip(sub["_file"].tolist(), sub["_sheet"].tolist(), sub["_row"].tolist(), keys,
                                         texts, strict=True):
            h = prefix.copy()
            h.update(text.encode("utf-8"))
            n = seen.get((fl, key), 0) + 1
            seen[(fl, key)] = n
            if n > 1:  # two rows of one file with the same key: keep them apart in their row order
                key = f"{key}#{n}"
            found[(fl, sh, int(rw))] = (kind, key, h.hexdigest())
    make = tuple.__new__  # SourceRow(...) goes through a Python-level __new__: a third of the time here
    out = []
    for rep, fig, fl, sh, rw in zip(ev_rep, ev_fig, ev_file, ev_sheet, ev_row, strict=True):
        rw = int(rw)
        hit = found.get((fl, sh, rw))
        if hit is not None:
            out.append(make(SourceRow, (str(rep), str(fig), fl, hit[0], sh, rw, hit[1], hit[2])))
    return out
