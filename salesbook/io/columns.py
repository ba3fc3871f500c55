"""Checked sheet tables as Arrow: what a reader worker sends back, and the parent's frames built from it.

A worker turns each team sheet's checked columns into one Arrow IPC stream (`encode`): numbers as
float64, row numbers as int64, and text and dates dictionary-encoded, so a value repeated down a
column (an enum, a rep id, a date, one long text pasted 9,000 times) is held and sent once. The
parent concatenates every file's tables of a kind and builds one frame per kind (`dataset`), with
the same columns, types and values as `core.dataset.combine` builds from plain lists; the Arrow
tables are kept beside the frames so the parquet output is written from them directly.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..core.dataset import CODED, Dataset, frame_columns
from ..core.schema import team_schemas
from ..core.table import SheetTable

_NUMERIC = {"float64": pa.float64(), "int64": pa.int64()}
_TEXT = pa.dictionary(pa.int32(), pa.string())


def encode(table: SheetTable) -> None:
    """Move `table.data` (one list per column) into `table.payload`, one Arrow IPC stream."""
    if table.data is None:
        return
    batch = _batch(table.data, table.types)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    table.payload = sink.getvalue().to_pybytes()
    table.n_rows = batch.num_rows
    table.data = None


def _batch(data: dict[str, list], types: dict[str, str]) -> pa.RecordBatch:
    arrays = []
    for key, values in data.items():
        kind = types.get(key, "object")
        if kind in _NUMERIC:
            try:
                arr = pa.array(values, _NUMERIC[kind])
            except (pa.ArrowInvalid, OverflowError):  # a whole number past int64 (1e30 in an int column)
                arr = pa.array([None if v is None else float(v) for v in values], _NUMERIC[kind])
        else:
            arr = _dictionary(values)
        arrays.append(arr)
    return pa.RecordBatch.from_arrays(arrays, names=list(data))


def _dictionary(values: list) -> pa.Array:
    """A text or date column (a column is one or the other, by its type), each distinct value once."""
    first = next(filter(_not_none, values), None)
    if first is None:
        return pa.nulls(len(values))  # typed as pandas would type it: no values, no type
    if first.__class__ is date and set(map(type, values)) <= _DATE_CLASSES:
        return pa.array(values, pa.date32()).dictionary_encode()  # what inference gives, without the text attempt
    try:
        return pa.array(values, _TEXT)
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # dates, or values of several kinds
        return pa.array(values).dictionary_encode()


def _not_none(v: object) -> bool:
    return v is not None


_DATE_CLASSES = {date, type(None)}


def decode(table: SheetTable) -> pa.Table | None:
    """The Arrow table of an encoded sheet table, or None when it has no payload."""
    if table.payload is None:
        return None
    with pa.ipc.open_stream(table.payload) as reader:
        return reader.read_all()


def dataset(tables: list[SheetTable]) -> Dataset:
    """One frame per team sheet kind from every file's encoded tables, as `core.dataset.combine` makes."""
    ds = Dataset()
    by_schema: dict[str, list[tuple[SheetTable, pa.Table]]] = {}
    for t in sorted(tables, key=lambda t: (t.file, t.sheet)):
        ds.places[(t.file, t.sheet)] = t.places
        ds.sheet_schemas[(t.file, t.sheet)] = t.schema
        if not t.usable or (t.payload is None and t.data is None):
            continue
        arrow = decode(t) if t.payload is not None else _from_lists(t)
        by_schema.setdefault(t.schema, []).append((t, arrow))
    for s in team_schemas():
        parts = by_schema.get(s.name, [])
        cols, types = frame_columns(s, [list(a.column_names) for _, a in parts])
        counts = [a.num_rows for _, a in parts]
        offset = 0
        for (t, _), n in zip(parts, counts, strict=True):
            ds.spans[(t.file, t.sheet)] = (offset, offset + n)
            offset += n
        total = offset
        files = np.array([t.file for t, _ in parts], dtype=object)
        sheets = np.array([t.sheet for t, _ in parts], dtype=object)
        data: dict[str, object] = {
            "_file": pd.Series(np.repeat(files, counts) if parts else np.empty(0, object), dtype=object),
            "_sheet": pd.Series(np.repeat(sheets, counts) if parts else np.empty(0, object), dtype=object),
        }
        arrow_cols: dict[str, pa.ChunkedArray] = {}
        coded = set(CODED.get(s.name, ()))
        by_name = [dict(zip(a.column_names, a.columns, strict=True)) for _, a in parts]  # a.column(name) looks up
        for c in ["_row", *cols]:
            kind = "int64" if c == "_row" else types.get(c, "object")
            chunks = [have.get(c) for have in by_name]
            col = _concat(chunks, counts, kind)
            arrow_cols[c] = col
            if c in coded and kind == "object":
                values = _coded(col, ds, s.name, c)
            else:
                values = _to_numpy(col, kind)
            data[c] = pd.Series(values, dtype="int64" if c == "_row" else kind)
        valid = np.ones(total, dtype=bool)
        for (t, a), (start, stop) in zip(parts, [ds.spans[(t.file, t.sheet)] for t, _ in parts], strict=True):
            if t.error_rows:
                valid[start:stop] = ~np.isin(a.column("_row").to_numpy(), list(t.error_rows))
        data["_valid"] = pd.Series(valid, dtype=bool)
        ds.frames[s.name] = pd.DataFrame(data, copy=False)
        ds.columnar[s.name] = arrow_cols
    return ds


def _from_lists(t: SheetTable) -> pa.Table:
    """An unencoded table (checked in this process) as Arrow, the way a worker would have sent it."""
    return pa.Table.from_batches([_batch(t.data, t.types)])


def _concat(chunks: list, counts: list[int], kind: str) -> pa.ChunkedArray:
    """The parts' arrays of one column as one chunked array; a part without the column gives nulls."""
    present = [c for c in chunks if c is not None]
    if kind in _NUMERIC:
        typ = _NUMERIC[kind]
    else:
        value_types = {t.value_type if pa.types.is_dictionary(t) else t for t in {c.type for c in present}}
        value_types.discard(pa.null())
        if len(value_types) > 1:  # never built so; text is the safe common form
            value_types = {pa.string()}
        typ = pa.dictionary(pa.int32(), value_types.pop()) if value_types else pa.null()
    out = []
    for c, n in zip(chunks, counts, strict=True):
        if c is None or c.type == pa.null():
            out.append(pa.nulls(n, typ))
        elif c.type != typ:
            out += [chunk.cast(typ) for chunk in c.chunks]
        else:
            out += c.chunks
    return pa.chunked_array(out, typ)


def _coded(col: pa.ChunkedArray, ds: Dataset, schema: str, name: str) -> np.ndarray:
    """`_to_numpy` of a text or date column, keeping its dictionary's numbers in `ds.coded` when the
    dictionary holds each value once (then equal cells have equal numbers, as factorizing would give)."""
    col = col.unify_dictionaries() if pa.types.is_dictionary(col.type) else col
    col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if not pa.types.is_dictionary(col.type) or col.dictionary.null_count \
            or pc.count_distinct(col.dictionary).as_py() != len(col.dictionary):
        return _to_numpy(col, "object")
    values = np.empty(len(col.dictionary) + 1, dtype=object)
    values[:-1] = col.dictionary.to_pylist()
    numbers = col.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    ds.coded[(schema, name)] = (numbers, values[:-1])
    return values[numbers]  # a blank is -1: the None at the end


def _to_numpy(col: pa.ChunkedArray | pa.Array, kind: str) -> np.ndarray:
    """One column as numpy: numbers as they are (null → NaN), text and dates as Python objects
    (None for a blank), each distinct value one object shared by every cell that holds it."""
    if isinstance(col, pa.ChunkedArray):
        col = col.unify_dictionaries() if pa.types.is_dictionary(col.type) else col
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if kind in _NUMERIC:
        if kind == "int64":
            return col.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        return col.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    if col.type == pa.null():
        return np.empty(len(col), dtype=object)  # all None
    if not pa.types.is_dictionary(col.type):
        col = col.dictionary_encode()
    values = np.empty(len(col.dictionary) + 1, dtype=object)
    values[:-1] = col.dictionary.to_pylist()
    codes = col.indices.fill_null(len(col.dictionary)).to_numpy(zero_copy_only=False)
    return values[codes]
