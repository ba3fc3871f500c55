"""Hostile team files: each is rejected with its reason, the run stays fast and small, the good file
beside it is still read, and no team file is ever written. Every file is generated here in tmp_path."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import subprocess
import sys
import time
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from conftest import write_workbook

from salesbook.io.pool import Job, run_jobs
from salesbook.pipeline import validate

HEADERS = ["客户编号", "客户名称", "联系人", "联系电话", "负责销售", "建档日期"]
GOOD_ROW = ["C001", "上海某某有限公司", "张三", "13812345678", "S001", date(2026, 11, 3)]
SECRET = "SECRET-MARKER-7f3a9c"
GIB = 2**30

# --- a hand-made .xlsx, so each XML member can be made hostile -------------------------------------

_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
       '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/xl/workbook.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       '<Override PartName="/xl/worksheets/sheet1.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
       '<Override PartName="/xl/sharedStrings.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
       '</Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WB = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
       '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
       '<sheets><sheet name="客户" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WB_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/{sheet}"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'sharedStrings" Target="sharedStrings.xml"/></Relationships>')
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
          + "]>")
QUADRATIC = f'<!DOCTYPE q [<!ENTITY a "{"a" * 100_000}">]>'
XXE = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{path}">]>'
LONG_COMMENT = "<!--" + "padding " * 2000 + "-->"  # pushes a DTD past the first 8 KB


def sst_xml(prolog: str = "", extra: str = "") -> str:
    items = "".join(f"<si><t>{h}</t></si>" for h in HEADERS) + (f"<si><t>{extra}</t></si>" if extra else "")
    return f'{_DECL}{prolog}<sst {_NS} count="7" uniqueCount="7">{items}</sst>'


def sheet_xml(prolog: str = "", name: str = "某公司", dimension: str = "", tail: str = "") -> str:
    """A 客户 sheet: shared-string headers and one valid row, C900; `name` goes in as written."""
    header = "".join(f'<c r="{c}1" t="s"><v>{i}</v></c>' for i, c in enumerate("ABCDEF"))
    cells = [("A2", "C900"), ("B2", name), ("C2", "李四"), ("D2", "13912345678"), ("E2", "S001")]
    row2 = "".join(f'<c r="{r}" t="inlineStr"><is><t>{v}</t></is></c>' for r, v in cells)
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (f'{_DECL}{prolog}<worksheet {_NS}>{dim}<sheetData><row r="1">{header}</row>'
            f'<row r="2">{row2}<c r="F2"><v>46329</v></c></row>{tail}</sheetData></worksheet>')


def write_raw_xlsx(path: Path, sheet: str | bytes, sst: str | bytes | None = None, *,
                   sheet_member: str = "sheet1.xml", extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        ct = _CT if sheet_member.endswith(".xml") else _CT.replace(
            "</Types>", '<Default Extension="dat" ContentType="application/vnd.openxmlformats-'
                        'officedocument.spreadsheetml.worksheet+xml"/></Types>')
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS.format(sheet=sheet_member))
        z.writestr(f"xl/worksheets/{sheet_member}", sheet)
        z.writestr("xl/sharedStrings.xml", sst if sst is not None else sst_xml())
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return path


def write_zip_bomb(path: Path, inflated: int) -> Path:
    """An .xlsx whose sheet member is `inflated` bytes of blanks, streamed (never held in memory)."""
    head, tail = sheet_xml().split("<sheetData>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS.format(sheet="sheet1.xml"))
        z.writestr("xl/sharedStrings.xml", sst_xml())
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write((head + "<sheetData>").encode())
            chunk = b" " * (4 << 20)
            left = inflated
            while left > 0:
                fh.write(chunk[: min(left, len(chunk))])
                left -= len(chunk)
            fh.write(tail.encode())
    return path


def write_far_cell(path: Path, *, dimension: bool) -> Path:
    """An XlsxWriter workbook with cells A1 and XFD1048576; without `dimension`, its element removed."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("客户")
    ws.write_row(0, 0, HEADERS)
    ws.write_number(1048575, 16383, 1)
    wb.close()
    if not dimension:
        buf = io.BytesIO()
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                data = src.read(info)
                if info.filename == "xl/worksheets/sheet1.xml":
                    assert b'<dimension ref="A1:XFD1048576"/>' in data
                    data = data.replace(b'<dimension ref="A1:XFD1048576"/>', b"")
                dst.writestr(info.filename, data)
        path.write_bytes(buf.getvalue())
    return path


def write_encrypted(path: Path, plain: Path) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile

    with open(plain, "rb") as fin, open(path, "wb") as fout:
        OOXMLFile(fin).encrypt("pw", fout)
    return path


# --- the cases --------------------------------------------------------------------------------------

def _good(folder: Path) -> Path:
    return write_workbook(folder / "good.xlsx", {"客户": [HEADERS, GOOD_ROW]})


def _half_of_real(p: Path) -> Path:
    data = write_workbook(p.with_suffix(".tmp.xlsx"), {"客户": [HEADERS, GOOD_ROW] * 50}).read_bytes()
    p.with_suffix(".tmp.xlsx").unlink()
    p.write_bytes(data[: len(data) // 2])
    return p


def _secret_file(folder: Path) -> Path:
    secret = folder.parent / "secret.txt"
    secret.write_text(SECRET)
    return secret


# name -> (builder(path) -> path, expected code, words the reason must contain)
CASES = {
    "laughs_sheet.xlsx": (lambda p: write_raw_xlsx(p, sheet_xml(LAUGHS, "&lol9;")), "file-unsupported", "DTD"),
    "laughs_sst.xlsx": (lambda p: write_raw_xlsx(p, sheet_xml(), sst_xml(LAUGHS, "&lol9;")),
                        "file-unsupported", "DTD"),
    "quadratic_sheet.xlsx": (lambda p: write_raw_xlsx(p, sheet_xml(QUADRATIC, "&a;" * 10_000)),
                             "file-unsupported", "DTD"),
    "quadratic_sst.xlsx": (lambda p: write_raw_xlsx(p, sheet_xml(), sst_xml(QUADRATIC, "&a;" * 10_000)),
                           "file-unsupported", "DTD"),
    # the DTD after an 16 KB comment, in UTF-16, or in a member not named .xml: still seen
    "laughs_late.xlsx": (lambda p: write_raw_xlsx(p, sheet_xml(LONG_COMMENT + LAUGHS, "&lol9;")),
                         "file-unsupported", "DTD"),
    "laughs_late_sst.xlsx": (lambda p: write_raw_xlsx(p, sheet_xml(), sst_xml(LONG_COMMENT + LAUGHS, "&lol9;")),
                             "file-unsupported", "DTD"),
    "laughs_utf16.xlsx": (lambda p: write_raw_xlsx(p, sheet_xml(LAUGHS, "&lol9;").replace(
        'encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")), "file-unsupported", "DTD"),
    "laughs_dat.xlsx": (lambda p: write_raw_xlsx(p, sheet_xml(LAUGHS, "&lol9;"), sheet_member="sheet1.dat"),
                        "file-unsupported", "DTD"),
    "xxe.xlsx": (lambda p: write_raw_xlsx(p, sheet_xml(XXE.format(path=_secret_file(p.parent)), "&xxe;")),
                 "file-unsupported", "DTD"),
    "xxe_late_sst.xlsx": (lambda p: write_raw_xlsx(
        p, sheet_xml(), sst_xml(LONG_COMMENT + XXE.format(path=_secret_file(p.parent)), "&xxe;")),
        "file-unsupported", "DTD"),
    "far_cell_dimension.xlsx": (lambda p: write_far_cell(p, dimension=True), "file-unsupported", "XFD1048576"),
    "far_cell_no_dimension.xlsx": (lambda p: write_far_cell(p, dimension=False), "file-unsupported", "XFD1048576"),
    "encrypted.xlsx": (lambda p: write_encrypted(p, _good(p.parent.parent / "plain")), "file-encrypted", "password"),
    "truncated.xlsx": (_half_of_real, "file-unreadable", "truncated"),
    "empty.xlsx": (lambda p: (p.write_bytes(b""), p)[1], "file-unreadable", "empty"),
    "random.xlsx": (lambda p: (p.write_bytes(os.urandom(8192)), p)[1], "file-unreadable", "not a valid"),
    "text.xlsx": (lambda p: (p.write_text("客户编号,客户名称\nC1,某公司\n"), p)[1], "file-unsupported", "text file"),
}


def _digests(folder: Path) -> dict[str, tuple[str, int]]:
    return {str(p): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _customers(run) -> dict[str, str]:
    frame = run.dataset.frames["customers"]
    return dict(zip(frame["customer_id"], frame["customer_name"], strict=True))


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_file_is_rejected_with_its_reason_and_the_good_file_is_read(tmp_path, name):
    """Each hostile file is rejected with its code and a telling reason; the good file beside it is read."""
    build, code, words = CASES[name]
    team = tmp_path / "team"
    team.mkdir()
    _good(team)
    build(team / name)
    before = _digests(team)
    started = time.monotonic()
    run = validate([team], workers=2)
    assert time.monotonic() - started < 60
    status = {f.label: (f.status, f.reason, f.rows) for f in run.files}
    assert status["good.xlsx"] == ("accepted", "", 1)
    assert status[name][0] == "rejected" and words in status[name][1], status[name]
    assert [f.code for f in run.findings if f.file == name] == [code]
    assert _customers(run) == {"C001": "上海某某有限公司"}
    assert SECRET not in repr(run.findings) + repr(status)
    assert _digests(team) == before


def test_calamine_aborts_on_a_far_cell_and_the_pool_survives_it(tmp_path):
    """Without a dimension the parser really aborts (a ~512 GiB allocation) and only its worker dies; the
    run measures the sheet's cells first and refuses the file before the parser sees it."""
    team = tmp_path / "team"
    team.mkdir()
    far = write_far_cell(team / "far.xlsx", dimension=False)
    assert far.stat().st_size < 10_000
    _good(team)
    done = run_jobs([Job("far", _parse_unchecked, (str(far),)), Job("next", _echo, ("still here",))],
                    workers=1, timeout=60, max_bytes=512 * 2**20)
    assert done["far"][0] == "crash" and "SIGABRT" in done["far"][1] and "memory allocation" in done["far"][1]
    assert done["next"] == ("ok", "still here")
    run = validate([team], workers=1)
    reason = {f.label: f.reason for f in run.files}["far.xlsx"]
    assert "A1:XFD1048576" in reason and "memory" not in reason, reason
    assert _customers(run) == {"C001": "上海某某有限公司"}


def _parse_unchecked(path: str) -> object:
    """Parse a file with python-calamine, skipping the precheck (runs in a worker)."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(path)
    return [wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names]


def test_the_parser_itself_never_expands_entities(tmp_path):
    """Behind the precheck, python-calamine refuses custom entities instead of expanding or fetching them."""
    laughs = write_raw_xlsx(tmp_path / "laughs.xlsx", sheet_xml(LONG_COMMENT + LAUGHS, "&lol9;"))
    xxe = write_raw_xlsx(tmp_path / "xxe.xlsx", sheet_xml(XXE.format(path=_secret_file(tmp_path / "x")), "&xxe;"))
    done = run_jobs([Job("laughs", _parse_unchecked, (str(laughs),)), Job("xxe", _parse_unchecked, (str(xxe),))],
                    workers=2, timeout=30, max_bytes=512 * 2**20)
    assert done["laughs"][0] == "error" and "entity" in done["laughs"][1]
    assert done["xxe"][0] == "error" and "entity" in done["xxe"][1] and SECRET not in done["xxe"][1]


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory) -> Path:
    """2 MB on disk, 2 GiB inflated (written once, ~7 s)."""
    return write_zip_bomb(tmp_path_factory.mktemp("bomb") / "bomb.xlsx", 2 * GIB)


@pytest.mark.slow
def test_zip_bomb_is_rejected_before_it_is_inflated(tmp_path, zip_bomb):
    """A sheet member of 2 MB that inflates to 2 GiB is refused by its declared size, in seconds."""
    assert zip_bomb.stat().st_size < 4 * 2**20
    assert zipfile.ZipFile(zip_bomb).getinfo("xl/worksheets/sheet1.xml").file_size > 2 * GIB
    team = tmp_path / "team"
    team.mkdir()
    (team / "bomb.xlsx").write_bytes(zip_bomb.read_bytes())
    _good(team)
    started = time.monotonic()
    run = validate([team], workers=2)
    assert time.monotonic() - started < 60
    status = {f.label: (f.status, f.reason) for f in run.files}
    assert status["bomb.xlsx"][0] == "rejected" and "2048 MiB" in status["bomb.xlsx"][1]
    assert [f.code for f in run.findings if f.file == "bomb.xlsx"] == ["file-unsupported"]
    assert _customers(run) == {"C001": "上海某某有限公司"}


def test_a_member_below_the_size_limit_is_refused_by_its_compression_ratio(tmp_path):
    """64 MiB of blanks (under the 512 MiB limit) compress ~1000:1, above the 200:1 ratio rule."""
    team = tmp_path / "team"
    team.mkdir()
    write_zip_bomb(team / "ratio.xlsx", 64 * 2**20)
    _good(team)
    run = validate([team], workers=2)
    status = {f.label: (f.status, f.reason) for f in run.files}
    assert status["ratio.xlsx"][0] == "rejected" and "compresses" in status["ratio.xlsx"][1]
    assert status["good.xlsx"][0] == "accepted"


def test_macros_are_read_as_data_and_csv_encodings_and_skipped_names(tmp_path):
    """An .xlsm is read (its macros noted, not run); GB18030 and UTF-8-BOM CSVs read; lock/hidden skipped."""
    team = tmp_path / "team"
    (team / "sub").mkdir(parents=True)
    good = _good(team)
    write_raw_xlsx(team / "macro.xlsm", sheet_xml(), extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + os.urandom(2048)})
    (team / "客户.csv").write_bytes(
        "客户编号,客户名称,联系人,联系电话,负责销售,建档日期\n"
        "C777,北京龍飛科技有限公司,王五,13712345678,S001,2026-11-03\n".encode("gb18030"))
    (team / "sub" / "Customers.csv").write_bytes(
        "\ufeffCustomer ID,Customer Name,Contact,Phone,Owner,Created\n"
        "C778,广州测试,赵六,+86 136-1234-5678,S001,2026/11/3\n".encode())
    (team / "~$good.xlsx").write_bytes(b"\x00" * 165)
    (team / ".hidden.xlsx").write_bytes(good.read_bytes())
    before = _digests(team)
    run = validate([team], workers=2)
    status = {f.label: (f.status, f.reason, f.rows) for f in run.files}
    assert sorted(status) == ["good.xlsx", "macro.xlsm", "sub/Customers.csv", "~$good.xlsx", "客户.csv"]
    assert status["~$good.xlsx"][0] == "skipped" and "someone has good.xlsx open" in status["~$good.xlsx"][1]
    assert status["macro.xlsm"] == ("accepted", "含宏（未运行） / contains macros (not run)", 1)
    assert status["客户.csv"] == ("accepted", "", 1) and status["sub/Customers.csv"] == ("accepted", "", 1)
    assert _customers(run) == {"C001": "上海某某有限公司", "C900": "某公司", "C777": "北京龍飛科技有限公司",
                               "C778": "广州测试"}
    assert not [f for f in run.findings if f.severity == "error"]
    assert _digests(team) == before


# --- the command line on one folder of everything -----------------------------------------------------

def _cli() -> list[str]:
    script = Path(sys.executable).with_name("salesbook")
    return [str(script)] if script.exists() else [sys.executable, "-m", "salesbook.cli"]


def _xlsx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


@pytest.mark.slow
def test_cli_on_a_folder_of_hostile_files(tmp_path, zip_bomb):
    """`salesbook validate` on every hostile file at once: exit 1, no traceback, < 60 s, < 1 GiB, no leak."""
    team = tmp_path / "team"
    team.mkdir()
    _good(team)
    for name, (build, _, _) in CASES.items():
        build(team / name)
    (team / "bomb.xlsx").write_bytes(zip_bomb.read_bytes())
    (team / "客户.csv").write_bytes(
        "客户编号,客户名称,联系人,联系电话,负责销售,建档日期\n"
        "C777,北京龍飛科技有限公司,王五,13712345678,S001,2026-11-03\n"
        "C779,杭州示例,钱七,13712345679,S001,去年十一月\n".encode("gb18030"))
    (team / "~$good.xlsx").write_bytes(b"\x00" * 165)
    (team / ".hidden.xlsx").write_bytes(b"not read")
    before = _digests(team)
    out = tmp_path / "out"
    env = {**os.environ, "RUST_BACKTRACE": "1"}  # the worst case for a leaked native backtrace
    started = time.monotonic()
    # A fresh wrapper process runs the CLI, so the peak it reports is the CLI's and its workers' alone
    # (this test process's own RUSAGE_CHILDREN also holds every earlier test's subprocesses).
    wrapper = ("import resource, subprocess, sys; "
               "p = subprocess.run(sys.argv[1:]); "
               "sys.stderr.write('PEAK_KIB=%d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
               "sys.exit(p.returncode)")
    proc = subprocess.run([sys.executable, "-c", wrapper, *_cli(), "validate", str(team), "--out", str(out),
                           "--workers", "2"], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    elapsed = time.monotonic() - started
    peak_kib = int(proc.stderr.rsplit("PEAK_KIB=", 1)[1].split()[0])  # the CLI and its workers, KiB
    proc.stderr = proc.stderr.rsplit("PEAK_KIB=", 1)[0]
    console = proc.stdout + proc.stderr
    assert proc.returncode == 1, console
    assert elapsed < 60
    assert peak_kib < 1024 * 1024
    for sign in ("Traceback", "stack backtrace", "panicked", "rust_oom"):
        assert sign not in console
    assert "memory allocation of" not in console  # a parser's words never reach the manager
    assert f"Files: 2 accepted, {len(CASES) + 1} rejected" in proc.stdout
    files = {r[0]: r[1:3] for r in openpyxl.load_workbook(out / "findings.xlsx", read_only=True)["文件状态"]
             .iter_rows(min_row=2, values_only=True)}
    assert set(files) == {"good.xlsx", "客户.csv", "bomb.xlsx", "~$good.xlsx", *CASES}
    assert files["good.xlsx"][0] == "accepted" and files["客户.csv"][0] == "accepted"
    for name, (_, _, words) in CASES.items():
        assert files[name][0] == "rejected" and words in files[name][1], (name, files[name])
    findings = (out / "findings.csv").read_text(encoding="utf-8-sig")
    rows = [r for r in csv.DictReader(io.StringIO(findings)) if r["code"] != "missing-sheet"]
    assert {r["file"]: r["code"] for r in rows if r["file"] in CASES} == {n: c[1] for n, c in CASES.items()}
    assert [(r["file"], r["row"], r["cell"], r["code"], r["value"]) for r in rows if r["file"] == "客户.csv"] == [
        ("客户.csv", "3", "F3", "bad-type", "去年十一月")]  # GB18030 text arrives intact
    for text in (console, findings, _xlsx_text(out / "findings.xlsx")):
        assert SECRET not in text
    assert _digests(team) == before


# --- the pool on its own ----------------------------------------------------------------------------------

def _sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "slept"


def _echo(value: str) -> str:
    return value


def _abort() -> None:
    os.abort()


def test_a_job_past_its_timeout_is_reported_and_the_rest_go_on():
    """A job sleeping past timeout=1 is reported as a time-out; the jobs queued after it still run."""
    jobs = [Job("slow", _sleep, (30,)), *(Job(f"j{i}", _echo, (f"v{i}",)) for i in range(4))]
    started = time.monotonic()
    done = run_jobs(jobs, workers=1, timeout=1)
    assert time.monotonic() - started < 15
    assert done["slow"][0] == "timeout" and "1 s" in done["slow"][1]
    assert {k: v for k, v in done.items() if k != "slow"} == {f"j{i}": ("ok", f"v{i}") for i in range(4)}


def test_a_job_that_aborts_is_a_crash_and_the_next_job_runs():
    """os.abort() in a job kills its worker: reported as a crash with the signal; the next job runs."""
    done = run_jobs([Job("a", _echo, ("x",)), Job("boom", _abort, ()), Job("b", _echo, ("y",))], workers=1, timeout=30)
    assert done["a"] == ("ok", "x") and done["b"] == ("ok", "y")
    assert done["boom"][0] == "crash" and "SIGABRT" in done["boom"][1]


@pytest.mark.parametrize("pad", [0, 8180, 8186, 8190, 73_720, 73_726, 200_000])
def test_a_dtd_anywhere_in_the_prolog_is_found_across_read_boundaries(pad):
    """The prolog scan finds a DOCTYPE after comments and PIs of any length, split at any read boundary."""
    from salesbook.io.precheck import _prolog_declares_dtd

    def scan(xml: bytes) -> bool:
        fh = io.BytesIO(xml)
        return _prolog_declares_dtd(fh.read(8192), fh)

    prolog = b'<?xml version="1.0"?>\n<?pi x?>\n<!--' + b"c" * pad + b"-->\n"
    assert scan(prolog + b'<!DOCTYPE x [<!ENTITY a "b">]><root>&a;</root>')
    assert not scan(prolog + b"<root><!DOCTYPE not-in-the-prolog></root>")
    assert not scan(prolog)
    assert not scan(b"\xd0\xcf\x11\xe0" + b"<!DOCTYPE" * 10)  # binary: not markup, not scanned
