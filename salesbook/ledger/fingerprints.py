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

import pandas as pd

from ..core.dataset import Dataset
from ..core.schema import load_schemas

# Sheets without an id column: the columns that tell their rows apart, for the key.
COMPOSITE_KEYS = {
    "activities": ("date", "rep_id", "customer_id", "activity_type"),
    "contract_lines": ("contract_id", "product", "spec"),
}


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
    return [v if v.__class__ is str else canonical(v) for v in vals]


def source_fingerprints(ds: Dataset, evidence: pd.DataFrame) -> list[dict]:
    """One dict per evidence row: rep_id, figure, file, sheet_kind, sheet, row, key, sha256."""
    if evidence is None or evidence.empty:
        return []
    schemas = load_schemas()
    ev = evidence[["rep_id", "kpi", "file", "sheet", "row"]]
    wanted = ev[["file", "sheet", "row"]].drop_duplicates()
    found: dict[tuple[str, str, int], tuple[str, str, str]] = {}
    for kind, frame in ds.frames.items():
        if frame.empty:
            continue
        sub = frame.merge(wanted, left_on=["_file", "_sheet", "_row"], right_on=["file", "sheet", "row"])
        if sub.empty:
            continue
        schema = schemas[kind]
        cols = [c.key for c in schema.columns if c.key in sub.columns]
        key_col = schema.key if schema.key in cols else None
        key_cols = [key_col] if key_col else [c for c in COMPOSITE_KEYS.get(kind, ()) if c in cols]
        values = [_canonical_column(sub[c]) for c in cols]  # one type decision per column, not per cell
        keys = ["/".join("" if v is None else str(v) for v in parts)
                for parts in zip(*(values[cols.index(c)] for c in key_cols), strict=True)] if key_cols else \
            [""] * len(sub)
        prefix = hashlib.sha256(json.dumps(cols).encode("utf-8"))  # the columns are part of what was hashed
        seen: dict[tuple[str, str], int] = {}
        for fl, sh, rw, key, row in zip(sub["_file"].tolist(), sub["_sheet"].tolist(), sub["_row"].tolist(), keys,
                                        zip(*values, strict=True), strict=True):
            h = prefix.copy()
            h.update(json.dumps(row, ensure_ascii=False).encode("utf-8"))
            n = seen.get((fl, key), 0) + 1
            seen[(fl, key)] = n
            if n > 1:  # two rows of one file with the same key: keep them apart in their row order
                key = f"{key}#{n}"
            found[(fl, sh, int(rw))] = (kind, key, h.hexdigest())
    out = []
    for rep, fig, fl, sh, rw in ev.itertuples(index=False, name=None):
        hit = found.get((fl, sh, int(rw)))
        if hit is None:
            continue
        kind, key, digest = hit
        out.append({"rep_id": str(rep), "figure": str(fig), "file": fl, "sheet_kind": kind, "sheet": sh,
                    "row": int(rw), "key": key, "sha256": digest})
    return out
