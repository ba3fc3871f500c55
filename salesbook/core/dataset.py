"""The consolidated row-level data of many team files, with where every row and column came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd

from .findings import ERROR, Finding, Findings, findings_frame_of, make_finding
from .schema import SheetSchema, load_schemas, team_schemas
from .table import TYPED, ColumnPlace, SheetTable

SOURCE_COLUMNS = ["_file", "_sheet", "_row"]
# the text columns whose distinct values io numbers from the reader's dictionaries (`Dataset.codes`)
CODED = {"activities": ("rep_id", "customer_id", "date", "activity_type", "summary")}


@dataclass
class Dataset:
    """Per sheet schema one frame of all files' rows (`_file`, `_sheet`, `_row`, `_valid` + keys)."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    places: dict[tuple[str, str], dict[str, ColumnPlace]] = field(default_factory=dict)
    sheet_schemas: dict[tuple[str, str], str] = field(default_factory=dict)  # (file, sheet) -> schema name
    spans: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # rows of a sheet in its frame
    # the same columns in the reader's columnar form, by schema then column, where io built the
    # frames from it (`io.columns.dataset`); the parquet output is written from these
    columnar: dict[str, dict[str, object]] = field(default_factory=dict)
    # for the CODED columns, each cell's number among its column's distinct values (-1: blank), where io
    # had them from the reader's dictionaries: the rules group by these without hashing every cell
    coded: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def codes(self, schema: str, column: str, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(code of each row of `frame`, the distinct values) for `column` (`frame`: the schema's frame or
        some of its rows): equal values alike, -1 for a blank, as pandas.factorize numbers them (maybe in
        another order) — from the reader's dictionaries where io kept them, else factorized here."""
        got, whole = self.coded.get((schema, column)), self.frames[schema]
        if got is not None and len(got[0]) == len(whole) and whole.index.equals(pd.RangeIndex(len(whole))):
            return got[0][frame.index.to_numpy()], got[1]  # the frame's labels are positions in the whole
        return pd.factorize(frame[column].to_numpy(dtype=object))

    def frame(self, schema: str) -> pd.DataFrame:
        return self.frames[schema]

    def drop_columnar(self) -> None:
        """Forget the reader's Arrow columns (kept only for the parquet output) once that is being made."""
        self.columnar = {}

    def drop_rows(self) -> None:
        """Forget every row (frames, Arrow columns, codes) once nothing in this process will read them again;
        where each sheet and column sat stays, so findings can still be placed."""
        self.frames, self.columnar, self.coded = {}, {}, {}

    def valid(self, schema: str) -> pd.DataFrame:
        f = self.frames[schema]
        return f[f["_valid"]]

    def place(self, file: str, sheet: str, key: str) -> ColumnPlace | None:
        return self.places.get((file, sheet), {}).get(key)

    def finding(self, code: str, row: pd.Series | dict, key: str, *, value: object = None,
                rep_id: str = "", **fmt) -> Finding:
        """A finding at `row`'s cell of column `key` (header and letter as written in its file)."""
        file, sheet, n = row["_file"], row["_sheet"], int(row["_row"])
        header, letter = self.column_at(file, sheet, key)
        cell = f"{letter}{n}" if letter is not None else ""
        if value is None:
            value = _cell_value(typed(row, key))
        return make_finding(code, file=file, sheet=sheet, row=n, column=header, cell=cell,
                            value=show_value(value), rep_id=rep_id or "", **fmt)

    def findings_of(self, code: str, rows: pd.DataFrame, key: str, *, rep_id: list, **fmt) -> Findings:
        """`finding` for every row of `rows` (rows of one kind's frame) at once, built as a frame of findings:
        `rep_id` and each field of `fmt` a list with one value per row, or one value for all."""
        n = len(rows)
        files, sheets = rows["_file"].tolist(), rows["_sheet"].tolist()
        numbers = [int(r) for r in rows["_row"].tolist()]
        at = {fs: self.column_at(*fs, key) for fs in dict.fromkeys(zip(files, sheets, strict=True))}  # once each
        where = [at[fs] for fs in zip(files, sheets, strict=True)]
        base = rows[key].tolist() if key in rows.columns else [None] * n
        if TYPED + key in rows.columns:  # the cell as typed where that is kept (`typed`)
            base = [t if t is not None else b for t, b in zip(rows[TYPED + key].tolist(), base, strict=True)]
        shown: dict[object, str] = {}
        values = []
        for v in map(_cell_value, base):
            if v.__class__ in _BY_VALUE:  # equal values show the same: once per distinct value
                got = shown.get(v)
                if got is None:
                    got = shown[v] = show_value(v)
            else:
                got = show_value(v)
            values.append(got)
        return Findings(frame=findings_frame_of(
            code, n, file=files, sheet=sheets, row=numbers, column=[h for h, _ in where],
            cell=[f"{x}{r}" if x is not None else "" for (_, x), r in zip(where, numbers, strict=True)],
            value=values, rep_id=[r or "" for r in rep_id] if isinstance(rep_id, list) else rep_id or "", **fmt))

    def column_at(self, file: str, sheet: str, key: str) -> tuple[str, str | None]:
        """(header, letter) of column `key` in a sheet as written in its file; for a column the sheet
        lacks, the schema's header and no letter."""
        place = self.place(file, sheet, key)
        return (place.header, place.letter) if place else (self._column_name(file, sheet, key), None)

    def _column_name(self, file: str, sheet: str, key: str) -> str:
        """The schema's Chinese header for a column the sheet does not have (e.g. 法务审核 left out)."""
        schema = load_schemas().get(self.sheet_schemas.get((file, sheet), ""))
        col = next((c for c in schema.columns if c.key == key), None) if schema else None
        return col.zh if col else key

    def mark_errors(self, *findings: list[Finding] | Findings) -> None:
        """Set `_valid` False on every row that carries an error finding (of any of the parts given)."""
        self.set_valid(self.validity(*findings))

    def validity(self, *findings: list[Finding] | Findings) -> dict[str, np.ndarray]:
        """What `mark_errors(*findings)` would make `_valid` of each frame it changes, the frames untouched."""
        bad: dict[tuple[str, str], set[int]] = {}
        for part in findings:
            if isinstance(part, Findings):  # its fields a column at a time: no objects made from a frame
                places = zip(*(part.values(c) for c in ("severity", "file", "sheet", "row")), strict=True)
            else:
                places = ((f.severity, f.file, f.sheet, f.row) for f in part)
            for severity, fl, sh, n in places:
                if severity == ERROR and n:
                    bad.setdefault((fl, sh), set()).add(n)
        out: dict[str, np.ndarray] = {}
        if not bad:
            return out
        for name, frame in self.frames.items():
            sheets = {key for key, kind in self.sheet_schemas.items() if kind == name and key in bad and key in self.spans}
            if frame.empty or not sheets:
                continue
            valid = frame["_valid"].to_numpy(copy=True)
            rows = frame["_row"].to_numpy()
            for key in sheets:  # only the sheets that have errors, each over its own span of rows
                start, stop = self.spans[key]
                valid[start:stop] &= ~pd.Series(rows[start:stop]).isin(bad[key]).to_numpy()
            out[name] = valid
        return out

    def set_valid(self, validity: dict[str, np.ndarray]) -> None:
        """Put in place the `_valid` columns `validity` gave."""
        for name, valid in validity.items():
            self.frames[name]["_valid"] = valid


_BY_VALUE = frozenset({str, date, datetime})  # types no value of another type equals


def _cell_value(v: object) -> object:
    """A cell's value as a finding takes it: a missing one (None, NaN) is blank."""
    return "" if v is None or (isinstance(v, float) and v != v) else v


def typed(row: pd.Series | dict, key: str) -> object:
    """The cell of `key` as the rep typed it where that is kept (enum columns: 待审), else its parsed value."""
    if not hasattr(row, "get"):
        return None
    raw = row.get(TYPED + key)
    return raw if raw is not None else row.get(key)


def records(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict]:
    """Rows as dicts of plain Python values (much faster than DataFrame.to_dict on Arrow strings)."""
    cols = list(frame.columns) if columns is None else columns
    data = [frame[c].tolist() for c in cols]
    return [dict(zip(cols, row, strict=True)) for row in zip(*data, strict=True)]


def show_value(value: object) -> str:
    """A cell's value as a finding echoes it: whole numbers without .0, dates in ISO form, nothing as blank."""
    if isinstance(value, float):
        if value != value:
            return ""
        if value.is_integer():
            return str(int(value))
        return f"{value:.10g}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "" if value is None else str(value)


def frame_columns(schema: SheetSchema, part_columns: list[list[str]]) -> tuple[list[str], dict[str, str]]:
    """A sheet kind's frame columns (after `_file`, `_sheet`, `_row`) and their dtypes: the schema's
    columns, then unknown and as-typed columns in the order the files (`part_columns`) first have them."""
    types = {c.key: "float64" if c.type in ("money", "number", "int", "pct") else "object" for c in schema.columns}
    cols = [c.key for c in schema.columns]
    seen = set(cols)
    for names in part_columns:  # unknown columns kept as text, in the order first seen
        for k in names:
            if k not in seen and k.startswith(("extra:", TYPED)):
                cols.append(k)
                seen.add(k)
    return cols, types


def combine(tables: list[SheetTable]) -> Dataset:
    """Concatenate the usable tables of every file by schema, in (file, row) order."""
    ds = Dataset()
    by_schema: dict[str, list[SheetTable]] = {}
    for t in sorted(tables, key=lambda t: (t.file, t.sheet)):
        ds.places[(t.file, t.sheet)] = t.places
        ds.sheet_schemas[(t.file, t.sheet)] = t.schema
        if not t.usable or t.data is None:
            continue
        by_schema.setdefault(t.schema, []).append(t)
    for s in team_schemas():
        parts = by_schema.get(s.name, [])
        cols, types = frame_columns(s, [list(t.data) for t in parts])
        data: dict[str, list] = {"_file": [], "_sheet": [], "_row": []}
        data.update({c: [] for c in cols})
        valid: list[bool] = []
        for t in parts:
            n = t.rows
            ds.spans[(t.file, t.sheet)] = (len(data["_row"]), len(data["_row"]) + n)
            data["_file"] += [t.file] * n
            data["_sheet"] += [t.sheet] * n
            data["_row"] += t.data["_row"]
            for c in cols:
                data[c] += t.data.get(c) or [None] * n
            bad = t.error_rows
            valid += [r not in bad for r in t.data["_row"]] if bad else [True] * n
        frame = pd.DataFrame({k: pd.Series(v, dtype="int64" if k == "_row" else types.get(k, "object"))
                              for k, v in data.items()})
        frame["_valid"] = pd.Series(valid, dtype=bool)
        ds.frames[s.name] = frame
    return ds
