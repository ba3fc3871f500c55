"""Shared fixtures: tiny workbooks written by the tests themselves."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

ROSTER_HEADER = ["销售代表", "姓名", "工号", "团队", "区域", "主管", "状态"]
TARGET_HEADER = ["销售代表", "周期", "销售额目标", "销售量目标", "回款目标", "新客户目标", "活动目标"]


def write_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """Write `sheets` (name -> rows, first row usually the header) as an .xlsx with XlsxWriter."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": datetime(2026, 1, 1)})
    datef = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, datetime):
                    ws.write_datetime(i, j, v, datef)
                elif isinstance(v, date):
                    ws.write_datetime(i, j, datetime(v.year, v.month, v.day), datef)
                elif isinstance(v, bool):
                    ws.write_boolean(i, j, v)
                elif isinstance(v, int | float):
                    ws.write_number(i, j, v)
                else:
                    ws.write_string(i, j, str(v))
    wb.close()
    return path


def write_master(path: Path, roster: list[list], targets: list[list], settings: list[list] | None = None) -> Path:
    sheets = {"花名册": [ROSTER_HEADER, *roster], "目标": [TARGET_HEADER, *targets]}
    sheets["设置"] = [["键", "值", "说明"], *(settings or [])]
    return write_workbook(path, sheets)


CUSTOMER_HEADER = ["客户编号", "客户名称", "企业规模", "年采购潜力(万元)", "合作意愿", "历史成交额(万元)",
                   "联系人", "联系电话", "电子邮箱", "负责销售", "建档日期", "最近更新", "客户等级"]
ACTIVITY_HEADER = ["日期", "销售代表", "客户编号", "活动类型", "内容摘要", "下次跟进", "时长(分钟)"]


@pytest.fixture
def master(tmp_path: Path) -> Path:
    """A master workbook with two reps (S001, S002) and November targets."""
    return write_master(
        tmp_path / "master.xlsx",
        roster=[["S001", "王芳", "E1001", "华东一组", "华东", "李强", "在职"],
                ["S002", "陈明", "E1002", "华东一组", "华东", "李强", "在职"]],
        targets=[["S001", "2026-11", 100000, 10, 80000, 2, 20], ["S002", "2026-11", 50000, 5, 40000, 1, 10]],
    )


# ----------------------------------------------------------------------------- a real PostgreSQL server


def _pg_program(name: str) -> str | None:
    """initdb / pg_ctl on PATH, else in Debian's /usr/lib/postgresql/<version>/bin."""
    import glob
    import shutil

    found = shutil.which(name)
    if found:
        return found
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                      key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return versions[-1] if versions else None


class PgServer:
    """A PostgreSQL server the tests started: 127.0.0.1 only, trust authentication, in a temporary folder."""

    def __init__(self, port: int, user: str):
        self.port, self.user = port, user
        self._n = 0

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import uuid

        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(host="127.0.0.1", port=self.port, user=self.user, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{name}"


@pytest.fixture(scope="session")
def pg_server():
    """Start a real PostgreSQL server for the session (initdb into a temporary folder, pg_ctl start on
    127.0.0.1 with a free port); skipped only where the server programs are not installed."""
    import os
    import shutil
    import socket
    import subprocess
    import tempfile

    initdb, pg_ctl = _pg_program("initdb"), _pg_program("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL is not installed (scripts/install-system-deps.sh installs Debian's postgresql)")
    base = Path(tempfile.mkdtemp(prefix="salesbook-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as the unprivileged postgres user
        import pwd

        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the PostgreSQL server as")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") else ["su", "postgres", "-c"]
    data, sock, log = base / "data", base / "sock", base / "server.log"

    def as_server(args: list[str]) -> list[str]:
        if run_as[-1:] == ["-c"]:  # su takes one shell command
            import shlex

            return [*run_as, " ".join(shlex.quote(a) for a in args)]
        return [*run_as, *args]

    subprocess.run(as_server(["mkdir", "-m", "700", str(sock)]), check=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    init = subprocess.run(as_server([initdb, "-D", str(data), "-A", "trust", "-U", "salesbook", "-E", "UTF8",
                                     "--locale=C", "--no-sync"]), capture_output=True, text=True, timeout=180)
    assert init.returncode == 0, init.stdout + init.stderr
    opts = (f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=40")
    start = subprocess.run(as_server([pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "120", "-o", opts,
                                      "start"]), capture_output=True, text=True, timeout=180)
    assert start.returncode == 0, start.stdout + start.stderr + (log.read_text() if log.exists() else "")
    try:
        yield PgServer(port, "salesbook")
    finally:
        subprocess.run(as_server([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]), capture_output=True,
                       timeout=120)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request, tmp_path: Path) -> str:
    """An empty ledger on SQLite, and on the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("pg_server").new_database()
