"""Files a consolidation writes: the CSV set, the formatted workbook, parquet, and the HR export."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from .core.dataset import Dataset
from .core.schema import load_schemas
from .core.table import TYPED
from .io.memory import release_memory
from .io.writers import atomic_write_bytes, write_csv, write_xlsx
from .outputs import files_frame, findings_frame
from .pipeline import Consolidation
from .progress import Progress, as_progress

HR_COLUMNS = [
    "employee_id", "name", "team", "status", "period", "score", "rating", "coefficient", "commission",
    "base_score", "deductions", "violations",
    "revenue", "revenue_target", "volume", "volume_target", "collections", "collections_target",
    "new_customers", "new_customers_target", "activities", "activities_target",
]
HR_VIEW = "人事导出"  # the layout view giving the HR workbook its look (status shown as 在职 / 离职)


SOURCE_RENAMES = {"_file": "file", "_sheet": "sheet", "_row": "row", "_valid": "valid"}


def source_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A team sheet kind's rows for the outputs: file, sheet, row, valid named plainly; internal columns dropped."""
    return frame.drop(columns=[c for c in frame.columns if str(c).startswith(TYPED)]).rename(columns=SOURCE_RENAMES)


PARQUET_ROWS = 65_536  # rows per row group of consolidated.parquet


def write_parquet(path: Path, ds: Dataset, made: Callable[[], bytes] | None = None) -> Path:
    """consolidated.parquet (see `parquet_bytes`); `made()`, when given, gives its bytes (`start_parquet`)."""
    atomic_write_bytes(path, parquet_bytes(ds) if made is None else made())
    return Path(path)  # no library versions inside: same data, same bytes


def start_parquet(ds: Dataset, marks: dict | None = None):
    """`parquet_bytes(ds, marks)` made in a forked child (io.background) from now on: call the result for
    them. The rows must not change meanwhile; `marks` are the rows' validity where the frames are yet to be
    marked (`Dataset.validity`)."""
    return _in_background("consolidated.parquet", parquet_bytes, ds, marks)


def parquet_bytes(ds: Dataset, marks: dict | None = None) -> bytes:
    """Every team sheet's rows in one table: table, file, sheet, row, valid, then the columns.

    Written a kind of sheet at a time (in row groups of PARQUET_ROWS) against the union of the columns, so
    memory holds one sheet kind's Arrow data at a time, never a wide frame of every column. `marks`: a
    kind's `_valid` where it differs from its frame's (`Dataset.validity`); the frames stay as they are.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = []  # (schema, a function making the table): a sheet kind's table is made when it is written
    for name, frame in ds.frames.items():
        if frame.empty:
            continue
        if marks and name in marks:
            frame = frame.assign(_valid=marks[name])  # a new frame: the caller's is graded meanwhile
        if name in ds.columnar:  # the reader's Arrow columns: no conversion from Python objects
            parts.append((_arrow_schema(frame, ds.columnar[name]),
                          lambda name=name, frame=frame: _arrow_part(name, frame, ds.columnar[name])))
            continue
        f = source_frame(frame)
        f.insert(0, "table", name)
        for c in f.columns:
            if str(c).startswith("extra:"):
                f[c] = f[c].astype(object)
        t = pa.Table.from_pandas(f, preserve_index=False).replace_schema_metadata(None)
        parts.append((t.schema, lambda t=t: t))
    sink = pa.BufferOutputStream()
    if not parts:
        pq.write_table(pa.table({"table": pa.array([], pa.string())}), sink, compression="zstd")
        return sink.getvalue().to_pybytes()
    schema = pa.unify_schemas([sc for sc, _ in parts], promote_options="permissive")
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        for _, make in parts:
            whole = make()
            # A slice at a time is cast from the dictionaries to plain text and written (a row
            # group each): the text of 300k activities decoded at once was ~100 MiB.
            for start in range(0, max(whole.num_rows, 1), PARQUET_ROWS):
                t = whole.slice(start, PARQUET_ROWS)
                nulls: dict = {}  # one all-blank column per type, shared by every column this kind lacks
                columns = [t.column(field.name).cast(field.type) if field.name in t.column_names
                           else nulls[field.type] if field.type in nulls
                           else nulls.setdefault(field.type, pa.nulls(t.num_rows, field.type))
                           for field in schema]
                writer.write_table(pa.Table.from_arrays(columns, schema=schema))
                del t, columns
            del whole  # one sheet kind's columns in memory at a time
    return sink.getvalue().to_pybytes()


def _arrow_schema(frame: pd.DataFrame, columns: dict):
    """The schema `_arrow_part` gives, without making the table."""
    import pyarrow as pa

    fields = [pa.field("table", pa.large_string())]
    for c in frame.columns:
        if str(c).startswith(TYPED):
            continue
        if c in ("_file", "_sheet"):
            typ = pa.string()
        elif c == "_valid":
            typ = pa.bool_()
        else:
            typ = columns[c].type
            typ = typ.value_type if pa.types.is_dictionary(typ) else typ
        fields.append(pa.field(SOURCE_RENAMES.get(c, c), typ))
    return pa.schema(fields)


def _arrow_part(name: str, frame: pd.DataFrame, columns: dict):
    """One sheet kind's parquet table from its Arrow columns, typed as pyarrow types its frame
    (text as string, dates as date32, an all-blank column as null), in the frame's column order."""
    import pyarrow as pa

    n = len(frame)
    arrays, names = [], []
    for c in frame.columns:
        if str(c).startswith(TYPED):
            continue
        if c in ("_file", "_sheet"):
            arr = pa.array(frame[c].to_numpy(), pa.string())
        elif c == "_valid":
            arr = pa.array(frame[c].to_numpy(), pa.bool_())
        else:
            arr = columns[c]  # dictionary text stays so until its slice is written (write_parquet)
        if not arrays:  # typed as pyarrow types the pandas text column the frame path inserts
            arrays.append(pa.array([name] * n, pa.large_string()))
            names.append("table")
        arrays.append(arr)
        names.append(SOURCE_RENAMES.get(c, c))
    return pa.Table.from_arrays(arrays, names=names)


def output_tables(c: Consolidation) -> dict[str, pd.DataFrame]:
    run = c.run
    return {
        "findings": findings_frame(run.findings),
        "files": files_frame(run.files),
        "customer_grades": run.grades,
        "pipeline": run.pipeline,
        "scorecards": c.scorecards,
        "evidence": c.evidence,
        "commissions": commissions_frame(c),
    }


def commissions_frame(c: Consolidation) -> pd.DataFrame:
    """commissions.csv (SPEC §10): one row per scorecard, 0 where a rep has no plan."""
    from .core.commission import COMMISSION_COLUMNS

    return c.commissions if c.commissions is not None else pd.DataFrame(columns=COMMISSION_COLUMNS)


XLSX_ROWS = 10_000
SHEET_NAMES = {"scorecards": "考核表", "findings": "校验结果", "files": "文件状态", "customer_grades": "客户分级",
               "pipeline": "商机评估", "evidence": "依据", "commissions": "提成"}


def write_consolidation(c: Consolidation, out: Path, *, full: bool = False, progress: Progress | None = None,
                        meanwhile: Callable[[], object] | None = None) -> list[Path]:
    """findings.csv … evidence.csv, consolidated.xlsx and consolidated.parquet in `out`.

    `meanwhile()`, when given, runs here while the forked writers finish (the ledger's record of the run).
    """
    p = as_progress(progress)
    p.phase("writing outputs", 3, "parts")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = output_tables(c)
    csvs = [out / f"{name}.csv" for name in tables]
    sheets = [(SHEET_NAMES[n], tables[n]) for n in ("scorecards", "commissions", "findings", "files",
                                                     "customer_grades", "pipeline", "evidence")]
    if full:
        schemas = load_schemas()
        for name, frame in c.run.dataset.frames.items():
            sheets.append((f"数据-{schemas[name].zh}", source_frame(frame)))
    # The formatted workbook is for reading: a sheet over XLSX_ROWS rows shows its first rows and
    # points to the CSV (an xlsx writer needs ~3 µs a cell); --full writes everything.
    # The xlsx and the CSVs are written in forked processes while this one writes the parquet.
    xlsx = out / "consolidated.xlsx"
    sources = {f.label: f.path for f in c.run.files}
    jobs = []
    try:
        jobs.append(_in_background(xlsx, write_xlsx, xlsx, sheets, constant_memory=full,
                                   max_rows=None if full else XLSX_ROWS, sources=sources))
        jobs.append(_in_background(out, _write_csvs, csvs, list(tables.values())))
        parquet = write_parquet(out / "consolidated.parquet", c.run.dataset, made=c.parquet)
        p.update(1)
        if meanwhile is not None:
            # the parquet's Arrow buffers (~20 MiB kept by Arrow's pool) before the record; no cycles to collect
            release_memory(collect=False)
            meanwhile()
        jobs[1]()
        p.update(2)
        jobs[0]()
        p.update(3)
    except BaseException:  # an error or Ctrl-C: stop the writers before the caller removes their folder
        for job in jobs + ([c.parquet] if c.parquet is not None else []):
            job.cancel()
        raise
    return [*csvs, xlsx, parquet]


def _write_csvs(paths: list[Path], frames: list[pd.DataFrame]) -> None:
    for path, frame in zip(paths, frames, strict=True):
        write_csv(path, frame)


def _in_background(what: object, fn, *args, **kwargs):
    """`fn(*args, **kwargs)` in a forked child (see io.background), returning a waiter for its result; a
    failure is raised as an OSError saying it was writing `what`."""
    from .io.background import ChildFailed, Waiter, in_background

    def written():
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise OSError(f"writing {what} failed: {type(exc).__name__}: {exc}") from None

    child = in_background(written)

    def wait():
        try:
            return child()
        except ChildFailed as exc:  # it died (killed, out of memory)
            raise OSError(f"writing {what} failed: {exc}") from None

    return Waiter(wait, child.cancel)


COUNT_COLUMNS = ("new_customers", "new_customers_target", "activities", "activities_target", "violations")


def hr_frame(scorecards: pd.DataFrame, commissions: pd.DataFrame | None = None,
             roster: pd.DataFrame | None = None) -> pd.DataFrame:
    """Only what payroll needs: no customer data, no ids other than the employee id; the base score,
    deductions and violations that explain the coefficient.

    `commission` is each rep's commission of commissions.csv (0 without a plan). Each rep's roster
    status (Active, or Left for leavers with rows in the period) is exported, and counts are whole
    numbers.
    """
    frame = scorecards.copy()
    paid = {} if commissions is None else dict(zip(commissions["rep_id"], commissions["commission"], strict=True))
    frame["commission"] = [float(paid.get(r, 0.0)) for r in frame["rep_id"]]
    status = {} if roster is None else dict(zip(roster["rep_id"], roster["status"], strict=True))
    frame["status"] = [status.get(r) or "Active" for r in frame["rep_id"]]
    frame = frame[[c for c in HR_COLUMNS if c in frame.columns]].copy()
    for c in COUNT_COLUMNS:
        if c in frame.columns:
            # Python ints (None where blank): "3" in the CSV, a number in the xlsx, never "3.0"
            frame[c] = pd.Series([None if v is None or v != v else int(round(v)) for v in frame[c].tolist()],
                                 index=frame.index, dtype=object)
    return frame


def hr_files(c: Consolidation, *, data_quality: dict | None = None) -> dict[str, bytes]:
    """The HR export as bytes: scorecards_<period>.csv (UTF-8 with BOM), .xlsx, and manifest.json.

    Bytes, so that a close can store exactly what it exported and give the same files again.
    """
    import tempfile

    period = c.run.period.label if c.run.period else "period"
    frame = hr_frame(c.scorecards, c.commissions, c.run.master.roster)
    names = [f"scorecards_{period}.csv", f"scorecards_{period}.xlsx"]
    with tempfile.TemporaryDirectory(prefix="salesbook-hr-") as tmp:
        csv_path = write_csv(Path(tmp) / names[0], frame)
        xlsx_path = write_xlsx(Path(tmp) / names[1], [("考核表", frame)], views={"考核表": HR_VIEW})
        files = {names[0]: csv_path.read_bytes(), names[1]: xlsx_path.read_bytes()}
    manifest = {
        "period": period,
        "files": [{"file": n, "sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b)} for n, b in files.items()],
        "columns": list(frame.columns),
        "rows": len(frame),
    }
    if data_quality is not None:
        manifest["data_quality"] = data_quality
    files["manifest.json"] = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    return files


def write_files(out: Path, files: dict[str, bytes]) -> list[Path]:
    """Each file into `out`, atomically, in the given order."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in files.items():
        atomic_write_bytes(out / name, data)
        paths.append(out / name)
    return paths


def write_hr_export(c: Consolidation, out: Path, *, data_quality: dict | None = None,
                    progress: Progress | None = None) -> list[Path]:
    """scorecards_<period>.csv (UTF-8 with BOM) and .xlsx, and manifest.json with SHA-256 of each."""
    as_progress(progress).phase("writing outputs")
    return write_files(out, hr_files(c, data_quality=data_quality))
