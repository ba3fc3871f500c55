"""Benchmark data: N seeded team workbooks (mostly clean), their master workbook, one big sheet.

Reuses the demo generator's public surface (`salesbook.demo_data`): `TeamBuilder` (names, companies,
phones, activities, deals, expenses), `write_team` with `team_layouts` / `SheetLayout`, the name
vocabulary (CITIES, BRANDS, TRADES, COMPANY_SUFFIXES) and `write_master_xlsx`.
What differs from the demo: one builder per file with 8 reps, every id carries the file
number (so ids are unique across files), company names are drawn from a per-file share of the
name space (so no two files hold the same company), and no defects are injected.
Everything comes from `random.Random(seed + file number)`: the same parameters give the same files.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

from salesbook import demo_data as dd
from salesbook.core.settings import default_rows

PERIOD = "2026-11"
REPS_PER_FILE = 8
DATA_VERSION = 2  # bump when the generated data changes (the cache key includes it)
SHAPES = ("clean", "busy")
_REGIONS = ["华东", "华南", "华北"]  # the regions with eight cities each in the demo vocabulary
_BRAND_PAIRS = [(a, b) for a in dd.BRANDS for b in dd.BRANDS if a != b]


class BenchBuilder(dd.TeamBuilder):
    """The demo builder for one team file numbered `file_no` (ids and names unique across files)."""

    def __init__(self, seed: int, file_no: int, n_files: int, period: str = PERIOD) -> None:
        super().__init__(seed + file_no, period)
        self.file_no = file_no
        self.file = f"team_{file_no:04d}.xlsx"
        self.rows = {self.file: {s: [] for s in dd.TEAM_SHEETS}}
        # this file's share of the (brand, brand) pairs: company names never repeat across files
        step = max(1, min(n_files, len(_BRAND_PAIRS) // 2))
        self.brand_pairs = _BRAND_PAIRS[file_no % step :: step]

    def next_id(self, kind: str, fmt: str) -> str:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return fmt.replace("{:04d}", f"{self.file_no:04d}-{{:04d}}").format(self.counters[kind])

    def receipt(self) -> str:
        while True:
            r = f"{self.file_no:04d}{self.rng.randint(10000000, 99999999)}"
            if r not in self.receipts:
                self.receipts.add(r)
                return r

    def company(self, region: str) -> tuple[str, str, str, str]:
        cities = [c for c in dd.CITIES if c[1] == region] if self.rng.random() < 0.8 else dd.CITIES
        while True:
            city, reg, area = self.rng.choice(cities)
            trade, industry = self.rng.choice(dd.TRADES)
            a, b = self.rng.choice(self.brand_pairs)
            name = city + a + b + trade + self.rng.choice(dd.COMPANY_SUFFIXES)
            if dd.normalise_company(name) not in self.customer_names:
                self.customer_names.add(dd.normalise_company(name))
                return name, industry, reg, area

    def build_reps(self) -> None:
        region = _REGIONS[self.file_no % len(_REGIONS)]
        manager = self.person()[0]
        for k in range(1, REPS_PER_FILE + 1):
            rep_id = f"S{self.file_no:04d}{k:02d}"
            self.reps.append(
                {
                    "rep_id": rep_id,
                    "name": self.person()[0],
                    "employee_id": f"E{self.file_no:04d}{k:02d}",
                    "team": f"{region}销售{self.file_no + 1}组",
                    "region": region,
                    "manager": manager,
                    "status": "Active",
                }
            )
            self.team_of[rep_id] = self.file

    def build(self) -> None:  # no injected defects, no personal workbook
        self.build_reps()
        self.build_customers()
        self.build_deals()
        self.build_complaints_and_expenses()
        self.sort()

    def more_activities(self, total: int) -> None:
        """Add activities of the existing customers until the sheet holds `total` rows."""
        rows = self.rows[self.file]["activities"]
        customers = list(self.customers.values())
        while len(rows) < total:
            c = self.rng.choice(customers)
            self.activity(c, self.day(c["_created"], self.as_of))
        self.sort()


class BusyBuilder(BenchBuilder):
    """A busy month: what a real month's files hold besides clean rows.

    One customer in eight has had no activity for months (overdue for follow-up), a third of the
    open opportunities are past their expected close, and each file carries a few error rows of
    the usual kinds (bad enum, bad date, unknown customer, unreviewed signed contract, duplicate
    receipt), so findings and evidence have a realistic density.
    """

    def build(self) -> None:
        super().build()
        self.make_busy()
        self.sort()

    def make_busy(self) -> None:
        rng = self.rng
        sheets = self.rows[self.file]
        stale = {cid for cid in self.customers if rng.random() < 1 / 8}
        quiet_from = self.as_of - timedelta(days=120)
        sheets["activities"] = [
            a for a in sheets["activities"] if a["customer_id"] not in stale or a["_date"] < quiet_from
        ]
        for o in sheets["opportunities"]:
            if o["stage"] not in ("Won", "Lost") and rng.random() < 1 / 3:
                o["expected_close"] = self.as_of - timedelta(days=rng.randint(1, 60))
        # about two error rows a file, of the kinds a month brings (a few hundred in 200 files)
        if rng.random() < 0.4:
            rng.choice(sheets["activities"])["activity_type"] = "拜仿"  # a typo: bad-enum
        if rng.random() < 0.4:
            rng.choice(sheets["activities"])["customer_id"] = f"C{self.file_no:04d}-9999"  # unknown-reference
        if rng.random() < 0.4:
            rng.choice(sheets["expenses"])["date"] = "2026-13-01"  # bad-type
        signed = [k for k in sheets["contracts"] if k["status"] == "Signed"]
        if signed and rng.random() < 0.4:
            rng.choice(signed)["finance_review"] = "Pending"  # contract-unreviewed (a violation)
        if rng.random() < 0.2:
            a, b = rng.sample(sheets["expenses"], 2)
            b["receipt_no"] = a["receipt_no"]  # expense-duplicate-receipt on both rows


def _layouts(b: BenchBuilder) -> dict:
    """The demo's three workbook styles in turn (title row, English headers, totals row, extra column)."""
    return dd.team_layouts(dd.TEAMS[b.file_no % len(dd.TEAMS)][0], b.start)


def _one_file(args: tuple[int, int, int, str, str]) -> tuple[list[dict], list[dict], dict[str, int]]:
    seed, file_no, n_files, team_dir, shape = args
    b = (BusyBuilder if shape == "busy" else BenchBuilder)(seed, file_no, n_files)
    b.build()
    dd.write_team(Path(team_dir) / b.file, b.file, b.rows[b.file], _layouts(b), [])
    counts = {s: len(rows) for s, rows in b.rows[b.file].items()}
    return b.reps, b.targets(), counts


def _workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def team_set(root: Path, n_files: int, seed: int = 2026, log=print, shape: str = "clean") -> dict:
    """Generate (or reuse) N team workbooks and their master under root; returns the manifest.

    shape "clean": no errors, few overdue rows; "busy": the findings a real month has (BusyBuilder).
    """
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}")
    root = Path(root).resolve()  # the manifest's paths are used from other folders (a workspace's settings)
    prefix = "team-set" if shape == "clean" else f"team-set-{shape}"
    d = Path(root) / f"{prefix}-v{DATA_VERSION}-n{n_files}-s{seed}"
    manifest = d / "manifest.json"
    if manifest.exists():
        return json.loads(manifest.read_text("utf-8"))
    final, d = d, _scratch(d)
    team_dir = d / "team"
    team_dir.mkdir(parents=True)
    log(f"generating {n_files} {shape} team workbooks in {d} …")
    jobs = [(seed, i, n_files, str(team_dir), shape) for i in range(n_files)]
    reps: list[dict] = []
    targets: list[dict] = []
    rows: dict[str, int] = {}
    with ProcessPoolExecutor(_workers()) as ex:
        for r, t, counts in ex.map(_one_file, jobs, chunksize=4):
            reps += r
            targets += t
            for s, n in counts.items():
                rows[s] = rows.get(s, 0) + n
    master = d / "master.xlsx"
    dd.write_master_xlsx(master, default_rows(), reps, targets, dd.DEMO_PLANS)  # the reps name the demo's plans
    info = {
        "dir": str(final),
        "team_dir": str(final / "team"),
        "master": str(final / "master.xlsx"),
        "period": PERIOD,
        "files": n_files,
        "shape": shape,
        "seed": seed,
        "reps": len(reps),
        "rows": rows,
        "total_rows": sum(rows.values()),
        "bytes": sum(p.stat().st_size for p in team_dir.iterdir()),
    }
    return _publish(d, final, info)


def big_sheet(root: Path, n_rows: int, seed: int = 2026, log=print) -> dict:
    """One workbook with an activities sheet of n_rows (and the 200 customers it refers to)."""
    root = Path(root).resolve()
    d = Path(root) / f"big-sheet-v{DATA_VERSION}-r{n_rows}-s{seed}"
    manifest = d / "manifest.json"
    if manifest.exists():
        return json.loads(manifest.read_text("utf-8"))
    final, d = d, _scratch(d)
    log(f"generating a {n_rows}-row activities sheet in {d} …")
    b = BenchBuilder(seed, 9000, 1)
    b.build_reps()
    b.build_customers()
    b.more_activities(n_rows)
    path = d / "activities.xlsx"
    sheets = {s: b.rows[b.file][s] for s in ("customers", "activities")}
    dd.write_team(path, b.file, sheets, {s: dd.SheetLayout(s) for s in sheets}, [])
    master = d / "master.xlsx"
    dd.write_master_xlsx(master, default_rows(), b.reps, [], dd.DEMO_PLANS)
    info = {
        "dir": str(final),
        "file": str(final / path.name),
        "master": str(final / master.name),
        "period": PERIOD,
        "rows": {s: len(r) for s, r in sheets.items()},
        "bytes": path.stat().st_size,
    }
    return _publish(d, final, info)


def _scratch(final: Path) -> Path:
    """A private folder next to `final` to generate into (another benchmark may generate at once)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=final.name + ".tmp-", dir=final.parent))


def _publish(scratch: Path, final: Path, info: dict) -> dict:
    """Move the finished data set into place (first one wins) and return its manifest."""
    (scratch / "manifest.json").write_text(json.dumps(info, ensure_ascii=False, indent=1), "utf-8")
    if final.exists() and not (final / "manifest.json").exists():
        shutil.rmtree(final, ignore_errors=True)  # a generation that was cut short
    try:
        scratch.rename(final)
    except OSError:  # another run finished first with the same parameters: same seeded data
        shutil.rmtree(scratch, ignore_errors=True)
    return json.loads((final / "manifest.json").read_text("utf-8"))


_SELLER = {
    "name": "上海博远智能装备有限公司",
    "contact": "周建华",
    "phone": "021-61234567",
    "address": "上海市浦东新区张江路 88 号",
}


def contract_contexts(n: int, seed: int = 2026) -> list[dict]:
    """n contract contexts built from the benchmark's own contracts (files 0, 1, … in memory)."""
    from salesbook.documents import build_contract_context

    out: list[dict] = []
    file_no = 0
    while len(out) < n:
        b = BenchBuilder(seed, file_no, 1)
        b.build()
        names = {r["rep_id"]: r["name"] for r in b.reps}
        for k in b.rows[b.file]["contracts"]:
            if len(out) >= n or not k["_lines"]:
                continue
            c = b.customers[k["customer_id"]]
            lines = [
                {x: line[x] for x in ("product", "spec", "quantity", "unit", "unit_price")}
                for line in k["_lines"]
            ]
            record = {
                "contract_id": k["contract_id"],
                "payment_terms": k["payment_terms"],
                "signed": k["_signed"],
                "owner_name": names[k["owner"]],
                "status": k["status"],
                "legal_review": k["legal_review"],
                "finance_review": k["finance_review"],
                "discount_rate": _rate(k["discount"]),
                "amount": k["_amount"],
            }
            customer = {
                "name": c["customer_name"],
                "contact": c["contact"],
                "phone": str(c["phone"]),
                "address": f"{c['region']}",
            }
            out.append(build_contract_context(record, lines, customer, _SELLER))
        file_no += 1
    return out


def _rate(v: object) -> float:
    if isinstance(v, str) and v.endswith("%"):
        return float(v[:-1]) / 100
    return float(v or 0)
