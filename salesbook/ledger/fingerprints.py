"""Fingerprints of the source rows behind each figure, so that a later run can say which row changed.

A row is known by its file label, its kind of sheet and its business key (contract id, payment id,
customer id …; for sheets without an id column, the columns that tell its rows apart), and its
fingerprint is the SHA-256 of its parsed values. Row numbers are kept for the reader but are not
part of the identity: inserting a row above another does not make it "changed".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..core.dataset import Dataset
from ..core.schema import load_schemas
from ..core.vector import sorted_distinct
from ..io.memory import cycle_collector_paused

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


_text_json = json.encoder.encode_basestring  # what json.dumps(text, ensure_ascii=False) returns, without
# making a JSONEncoder per call


def _fragment(v: object) -> str:
    """A canonical value as json.dumps(v, ensure_ascii=False) writes it."""
    if v.__class__ is str:
        return _text_json(v)
    if v is None:
        return "null"
    if v.__class__ is int:
        return int.__repr__(v)
    return json.dumps(v, ensure_ascii=False)


def _json_column(values: list) -> list[str]:
    """Each canonical value as json.dumps writes it inside a row (text not ASCII-escaped)."""
    kinds = set(map(type, values))
    if not (bool in kinds and int in kinds):  # no True beside 1: equal values are the same cell
        texts = {v: _fragment(v) for v in set(values)}
        return list(map(texts.__getitem__, values))
    shown: dict = {}
    out = []
    for v in values:
        key = (v.__class__, v)  # True and 1 are told apart
        frag = shown.get(key)
        if frag is None:
            frag = shown[key] = _fragment(v)
        out.append(frag)
    return out


CHUNK = 2048  # source rows canonicalised, serialised and hashed at a time (their JSON is a transient)
ROW_BITS = 32  # an evidence row's (file, sheet, row) as one int64: pair code << ROW_BITS | row


class SourceRows:
    """A run's source rows, columnar: each distinct source row once (its file, sheet, kind, row and key, and
    its digest as 32 bytes of one array) and per evidence row three small codes (rep, figure, source row).

    A busy month names 150k evidence rows; as SourceRow tuples, each with its hex digest a new string,
    they were ~800 bytes a row, now ~100. Indexing and slicing give SourceRow tuples (a slice at a time
    is what the ledger hashes and inserts); iterating gives them all, a slice at a time.
    """

    __slots__ = ("_names", "_src_file", "_src_sheet", "_src_kind", "_src_row", "_keys", "_sha", "_rep", "_fig",
                 "_src")

    def __init__(self, names: list[str], src_file: np.ndarray, src_sheet: np.ndarray, src_kind: np.ndarray,
                 src_row: np.ndarray, keys, sha: np.ndarray, rep: np.ndarray, fig: np.ndarray,
                 src: np.ndarray) -> None:
        # names: every text but the keys (reps, figures, files, sheets, kinds), coded by the int32 arrays;
        # keys: an Arrow text array (one buffer, not a str object a row); sha: (n, 32) uint8
        self._names = np.empty(len(names), object)
        self._names[:] = names
        self._keys, self._sha = keys, sha
        self._src_file, self._src_sheet, self._src_kind, self._src_row = src_file, src_sheet, src_kind, src_row
        self._rep, self._fig, self._src = rep, fig, src

    @classmethod
    def empty(cls) -> SourceRows:
        import pyarrow as pa

        i = np.zeros(0, np.int32)
        return cls([], i, i, i, np.zeros(0, np.int64), pa.array([], pa.string()), np.zeros((0, 32), np.uint8), i, i, i)

    def __len__(self) -> int:
        return len(self._src)

    def __getitem__(self, item):
        if isinstance(item, slice):
            return self._rows(self._rep[item], self._fig[item], self._src[item])
        n = len(self)
        i = int(item) + n if int(item) < 0 else int(item)
        if not 0 <= i < n:
            raise IndexError("source row index out of range")
        return self._rows(self._rep[i:i + 1], self._fig[i:i + 1], self._src[i:i + 1])[0]

    def __iter__(self) -> Iterator[SourceRow]:
        for start in range(0, len(self), CHUNK):
            yield from self[start:start + CHUNK]

    def __repr__(self) -> str:
        return f"<SourceRows: {len(self)} evidence rows over {self.distinct} source rows>"

    @property
    def distinct(self) -> int:
        """How many distinct source rows the evidence rows name."""
        return len(self._src_row)

    def digest(self) -> str:
        """The SHA-256 of json.dumps(list(self), ensure_ascii=False), the digest the ledger stores a set of
        rows under, made from the columns: each distinct text's JSON once, each row's a format of them
        (a third of the time of the rows' tuples and their JSON)."""
        names = np.array([_fragment(v) for v in self._names.tolist()] + [""], dtype=object)
        keys = np.array([_fragment(v) for v in self._keys.to_pylist()] + [""], dtype=object)
        hexed = self._sha.tobytes().hex()
        shas = np.array([f'"{hexed[i:i + 64]}"' for i in range(0, len(hexed), 64)] + [""], dtype=object)
        h = hashlib.sha256(b"[")
        for start in range(0, len(self), CHUNK):
            rep, fig, src = (a[start:start + CHUNK] for a in (self._rep, self._fig, self._src))
            rows = map("[%s, %s, %s, %s, %s, %d, %s, %s]".__mod__, zip(
                names[rep].tolist(), names[fig].tolist(), names[self._src_file[src]].tolist(),
                names[self._src_kind[src]].tolist(), names[self._src_sheet[src]].tolist(),
                self._src_row[src].tolist(), keys[src].tolist(), shas[src].tolist(), strict=True))
            h.update(((", " if start else "") + ", ".join(rows)).encode("utf-8"))
        h.update(b"]")
        return h.hexdigest()

    def _rows(self, rep: np.ndarray, fig: np.ndarray, src: np.ndarray) -> list[SourceRow]:
        names = self._names
        hexed = self._sha[src].tobytes().hex()  # one hex text for the slice, cut into each row's 64 characters
        shas = [hexed[i:i + 64] for i in range(0, len(hexed), 64)]
        keys = self._keys.take(src).to_pylist() if len(src) else []
        make = tuple.__new__  # SourceRow(...) goes through a Python-level __new__
        with cycle_collector_paused():  # acyclic tuples; a collection would walk the run's frames
            return [make(SourceRow, t) for t in zip(
                names[rep].tolist(), names[fig].tolist(), names[self._src_file[src]].tolist(),
                names[self._src_kind[src]].tolist(), names[self._src_sheet[src]].tolist(),
                self._src_row[src].tolist(), keys, shas, strict=True)]


def _factorized(column: pd.Series) -> tuple[np.ndarray, list[str]] | None:
    """Codes and distinct values of a column of text, made in C (a pandas text column's values are not
    made into a Python string each); None when it holds blanks or anything but text."""
    codes, uniques = pd.factorize(column)
    uniques = list(uniques)
    if len(codes) and codes.min() < 0 or any(u.__class__ is not str for u in uniques):
        return None
    return codes, uniques


def _coded(column: pd.Series, names: dict) -> np.ndarray:
    """Each value's text (str(value)) as its code in `names`, which gets the texts not in it yet."""
    made = _factorized(column)
    if made is not None:
        codes, uniques = made
        return np.fromiter((names.setdefault(u, len(names)) for u in uniques), np.int32, len(uniques))[codes]
    return np.fromiter((names.setdefault(str(v), len(names)) for v in column.tolist()), np.int32, len(column))


def _pairs(files: pd.Series, sheets: pd.Series) -> tuple[np.ndarray, list[tuple]]:
    """Each evidence row's (file, sheet) as a code, and the distinct pairs in the order of their codes."""
    f, s = _factorized(files), _factorized(sheets)
    if f is not None and s is not None:
        (fc, fu), (sc, su) = f, s
        pc, pu = pd.factorize(fc.astype(np.int64) * len(su) + sc)
        return pc.astype(np.int64), [(fu[i // len(su)], su[i % len(su)]) for i in pu.tolist()]
    seen: dict[tuple, int] = {}
    codes = np.fromiter((seen.setdefault(p, len(seen)) for p in zip(files.tolist(), sheets.tolist(), strict=True)),
                        np.int64, len(files))
    return codes, list(seen)


def source_fingerprints(ds: Dataset, evidence: pd.DataFrame) -> SourceRows:
    """One SourceRow per evidence row whose row is in the data: rep_id, figure, file, sheet_kind, sheet, row,
    key, sha256 (in the evidence's order), held columnar (SourceRows).

    The fingerprint of a row is sha256(json.dumps(columns) + json.dumps(row values)); a row's JSON
    is assembled from each cell's JSON, made once per distinct value of its column, and each source
    row is hashed once however many figures name it, a bounded chunk of rows at a time.
    """
    if evidence is None or evidence.empty:
        return SourceRows.empty()
    import pyarrow as pa

    schemas = load_schemas()
    names: dict[str, int] = {}  # every text but the keys, once
    code = names.setdefault
    rep, fig = _coded(evidence["rep_id"], names), _coded(evidence["kpi"], names)
    pair, pairs = _pairs(evidence["file"], evidence["sheet"])
    rows = evidence["row"]
    ev_row = rows.to_numpy(np.int64) if rows.dtype.kind in "iu" else np.fromiter(map(int, rows.tolist()), np.int64,
                                                                                   len(rows))
    ev_at = np.where((ev_row >= 0) & (ev_row < 1 << ROW_BITS), (pair << ROW_BITS) | ev_row, -1)  # -1: no row
    del pair, ev_row
    wanted = sorted_distinct(ev_at)  # sorted by pair, then row
    cut = np.searchsorted(wanted >> ROW_BITS, np.arange(len(pairs) + 1))
    by_kind: dict[str, list[tuple[tuple[int, int], int]]] = {}
    for p, (fl, sh) in enumerate(pairs):
        span, kind = ds.spans.get((fl, sh)), ds.sheet_schemas.get((fl, sh))
        if span is not None and kind is not None:
            by_kind.setdefault(kind, []).append((span, p))
    pair_file = np.fromiter((code(fl, len(names)) for fl, _ in pairs), np.int32, len(pairs))
    pair_sheet = np.fromiter((code(sh, len(names)) for _, sh in pairs), np.int32, len(pairs))
    # First where the named rows are (per kind, in frame order, each sheet over its span), then their
    # digests and keys into arrays made once at their full size.
    named = []  # (kind, frame, positions in the frame, pair of each)
    for kind, frame in ds.frames.items():
        if frame.empty or kind not in by_kind:
            continue
        at = frame["_row"].to_numpy()
        positions, owners = [], []
        for (start, stop), p in sorted(by_kind[kind], key=lambda sp: sp[0]):
            rows = wanted[cut[p]:cut[p + 1]] & ((1 << ROW_BITS) - 1)
            hit = np.flatnonzero(np.isin(at[start:stop], rows)) + start
            positions.append(hit)
            owners.append(np.full(len(hit), p, np.int64))
        positions = np.concatenate(positions)
        if len(positions):
            named.append((kind, frame, positions, np.concatenate(owners)))
    del wanted
    total = sum(len(pos) for _, _, pos, _ in named)
    if not total:
        return SourceRows.empty()
    src_at = np.empty(total, np.int64)
    src_row = np.empty(total, np.int64)
    src_kind, src_file, src_sheet = (np.empty(total, np.int32) for _ in range(3))
    sha = np.empty((total, 32), np.uint8)
    keys = []  # Arrow text arrays, a chunk each
    at_n = 0
    for kind, frame, positions, owners in named:
        schema = schemas[kind]
        cols = [c.key for c in schema.columns if c.key in frame.columns]
        key_col = schema.key if schema.key in cols else None
        key_cols = [key_col] if key_col else [c for c in COMPOSITE_KEYS.get(kind, ()) if c in cols]
        prefix = hashlib.sha256(json.dumps(cols).encode("utf-8"))  # the columns are part of what was hashed
        n_kind = len(positions)
        rows_at = frame["_row"].to_numpy()[positions].astype(np.int64)
        span = slice(at_n, at_n + n_kind)
        src_at[span] = (owners << ROW_BITS) | rows_at
        src_row[span], src_kind[span] = rows_at, code(kind, len(names))
        src_file[span], src_sheet[span] = pair_file[owners], pair_sheet[owners]
        files = src_file[span].tolist()
        last = {f: i for i, f in enumerate(files)}  # a file's last row of this kind
        seen: dict[int, dict[str, int]] = {}  # per file its keys so far, while rows of the file are to come
        for lo in range(0, n_kind, CHUNK):
            sub = frame.iloc[positions[lo:lo + CHUNK]]
            values = [_canonical_column(sub[c]) for c in cols]  # one type decision per column, not per cell
            parts = [["" if v is None else str(v) for v in values[cols.index(c)]] for c in key_cols]
            if len(parts) == 1:  # the usual id column: its text
                kk = parts[0]
            elif parts:
                kk = list(map("/".join, zip(*parts, strict=True)))
            else:
                kk = [""] * len(sub)
            digests = bytearray()
            for i, text in enumerate(map(", ".join, zip(*map(_json_column, values), strict=True))):
                h = prefix.copy()
                h.update(f"[{text}]".encode())
                digests += h.digest()
                f = files[lo + i]
                mine = seen.get(f)
                if mine is None:
                    mine = seen[f] = {}
                n = mine.get(kk[i], 0) + 1
                mine[kk[i]] = n
                if n > 1:  # two rows of one file with the same key: keep them apart in their row order
                    kk[i] = f"{kk[i]}#{n}"
                if last[f] == lo + i:
                    del seen[f]
            keys.append(pa.array(kk, pa.string()))
            sha[at_n + lo:at_n + lo + len(kk)] = np.frombuffer(digests, np.uint8).reshape(-1, 32)
        at_n += n_kind
    order = np.argsort(src_at, kind="stable")
    ranked = src_at[order]
    del src_at
    # each evidence row's source row (a row found twice: the later one, as a dict keyed by row would keep)
    pos = np.searchsorted(ranked, ev_at, side="right") - 1
    hit = (pos >= 0) & (ranked[np.maximum(pos, 0)] == ev_at)
    src = order[pos[hit]].astype(np.int32)
    return SourceRows(list(names), src_file, src_sheet, src_kind, src_row, pa.concat_arrays(keys), sha,
                      rep[hit], fig[hit], src)
