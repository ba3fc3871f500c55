"""The demo generator: deterministic files, every finding code injected at a real cell, clean rows clean.

`_reference_findings` is a small, independent reading of SPEC §3–§5 (as the issue spells it out)
used as an oracle: run over the demo, it must find exactly the injected row-level defects.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import msoffcrypto
import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from salesbook.core.findings import CODES, MASTER_CODES
from salesbook.demo_data import (
    _SCHEMAS,
    ENCRYPTION_PASSWORD,
    compute_grade,
    demo_master_data,
    generate_demo,
    normalise_company,
)

STRUCTURAL = {
    "file-unreadable", "file-encrypted", "file-unsupported", "no-team-sheet", "missing-sheet", "missing-column",
    "ambiguous-column", "ambiguous-sheet", "unknown-column", "totals-row-skipped", "file-open-elsewhere",
}  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return generate_demo(tmp_path_factory.mktemp("demo"))


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _decrypted(data: bytes) -> bytes:
    f = msoffcrypto.OfficeFile(io.BytesIO(data))
    f.load_key(password=ENCRYPTION_PASSWORD)
    out = io.BytesIO()
    f.decrypt(out)
    return out.getvalue()


def test_two_runs_are_byte_identical(demo, tmp_path):
    """Two runs with the same seed write the same bytes (the salted encrypted file: the same plaintext)."""
    again = generate_demo(tmp_path)
    first, second = _files(demo.root), _files(again.root)
    assert first.keys() == second.keys()
    for name in first:
        if name.endswith("encrypted.xlsx"):
            assert _decrypted(first[name]) == _decrypted(second[name])
        else:
            assert first[name] == second[name], name
    assert demo.defects == again.defects


def test_another_seed_gives_other_data(demo, tmp_path):
    """The seed drives the content."""
    other = generate_demo(tmp_path, seed=7)
    assert (other.team_dir / "team_east.xlsx").read_bytes() != (demo.team_dir / "team_east.xlsx").read_bytes()


def test_every_code_but_missing_target_is_injected(demo):
    """defects.json names every team-file finding code (not those about the master or scoring)."""
    listed = json.loads((demo.root / "defects.json").read_text("utf-8"))
    assert listed == demo.defects
    assert {d["code"] for d in listed} == set(CODES) - MASTER_CODES
    assert all(set(d) == {"file", "sheet", "row", "column", "code"} for d in listed)
    assert demo.scoring_notes == [
        {"rep_id": "S011", "period": "2026-11", "kpi": "collections", "code": code}
        for code in ("missing-target", "commission-no-target")
    ]


def test_skipped_and_rejected_files_exist(demo):
    """The lock file, the hidden file and the three unreadable kinds are in the team folder."""
    names = {p.name for p in demo.team_dir.iterdir()}
    assert {
        "~$team_east.xlsx",
        ".team_east_backup.xlsx",
        "corrupt.xlsx",
        "encrypted.xlsx",
        "notes.xlsx",
    } <= names
    assert msoffcrypto.OfficeFile(io.BytesIO((demo.team_dir / "encrypted.xlsx").read_bytes())).is_encrypted()
    openpyxl.load_workbook(io.BytesIO(_decrypted((demo.team_dir / "encrypted.xlsx").read_bytes())))
    assert not any(d["file"].startswith(("~$", ".")) for d in demo.defects)


def _header_row(ws, header: str) -> int:
    for r in range(1, 11):
        if header in [str(c.value).strip() for c in ws[r] if c.value is not None]:
            return r
    raise AssertionError(f"no header {header!r} in {ws.title}")


def test_each_defect_points_at_a_real_cell(demo):
    """Every row-level defect names a header that is in its sheet and a row that holds the bad value."""
    books = {}
    for d in demo.defects:
        if d["code"] in ("file-unreadable", "file-encrypted", "file-unsupported", "no-team-sheet",
                         "file-open-elsewhere"):
            assert d["row"] == 0 and d["sheet"] == ""
            continue
        book = books.setdefault(d["file"], openpyxl.load_workbook(demo.team_dir / d["file"]))
        if d["code"] == "missing-sheet":
            assert d["sheet"] not in book.sheetnames
            continue
        ws = book[d["sheet"]]
        if d["code"] == "ambiguous-sheet":
            assert d["row"] == 0 and d["column"] == ""
            continue
        if d["code"] == "missing-column":
            assert d["column"] not in [c.value for c in ws[1]]
            continue
        if d["code"] == "totals-row-skipped":
            assert ws.cell(d["row"], 1).value == "合计" and d["row"] == ws.max_row
            continue
        head = _header_row(ws, d["column"])
        if d["code"] in ("unknown-column", "ambiguous-column"):
            assert d["row"] == head
            continue
        assert head < d["row"] <= ws.max_row
        col = [None if c.value is None else str(c.value).strip() for c in ws[head]].index(d["column"]) + 1
        value = ws.cell(d["row"], col).value
        if d["code"] in ("required-missing", "signed-without-date", "expense-missing-customer"):
            assert value is None, d
        elif d["code"] in ("bad-type", "bad-enum", "bad-pattern"):
            assert isinstance(value, str), d
        else:
            assert value is not None, d


def test_master_data(demo):
    """The master workbook holds settings, a roster with one leaver and targets with one blank."""
    settings, roster, targets = demo_master_data()
    assert len(roster) == 12 and [r["status"] for r in roster].count("Left") == 1
    assert [t["rep_id"] for t in targets if t["collections_target"] is None] == ["S011"]
    book = openpyxl.load_workbook(demo.master_path)
    assert book.sheetnames == ["设置", "花名册", "提成方案", "目标"]
    assert [c.value for c in book["花名册"][1]] == [
        "销售代表",
        "姓名",
        "工号",
        "团队",
        "区域",
        "主管",
        "状态",
        "提成方案",
    ]
    assert book["设置"].max_row == len(settings) + 1
    assert [row[6] for row in book["花名册"].iter_rows(min_row=2, values_only=True)].count("离职") == 1
    assert [t["revenue_target"] for t in targets] == [
        r[2] for r in book["目标"].iter_rows(min_row=2, values_only=True)
    ]
    left = next(r["rep_id"] for r in roster if r["status"] == "Left")
    acts = CalamineWorkbook.from_path(demo.team_dir / "team_south.xlsx").get_sheet_by_name("活动").to_python()
    assert any(row[1] == left and isinstance(row[0], date) and row[0] >= date(2026, 11, 1) for row in acts)


def test_grade_and_name_rules():
    """The generator's grade and name normalisation follow SPEC §5 and the issue."""
    assert compute_grade("Large", 600, "High", 0) == "A"
    assert compute_grade("Medium", 150, "Medium", 0) == "B"
    assert compute_grade(None, None, None, None) == "D"
    assert (
        normalise_company(" 上海 华东精密机械股份有限公司")
        == normalise_company("上海华东精密机械")
        == "上海华东精密机械"
    )


# ---------------------------------------------------------------- an independent oracle


def _norm(text: object) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).casefold()


def _date(v):
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    m = re.fullmatch(r"(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})日?", str(v).strip())
    if not m:
        raise ValueError(v)
    return date(int(m[1]), int(m[2]), int(m[3]))


def _money(v):
    if isinstance(v, int | float):
        return float(v)
    t = str(v).strip().replace("¥", "").replace(",", "")
    return float(t[:-1]) * 10000 if t.endswith("万") else float(t)


def _pct(v):
    if isinstance(v, str):
        t = v.strip()
        return float(t[:-1]) / 100 if t.endswith("%") else _pct(float(t))
    return v / 100 if v > 1 else float(v)


def _int(v):
    f = float(v)
    if f != int(f):
        raise ValueError(v)
    return int(f)


def _id(v):
    return str(int(v)) if isinstance(v, float) and v == int(v) else str(v).strip()


def _phone(v):
    t = _id(v)
    t = re.sub(r"^(\+86|0086)", "", re.sub(r"[\s-]", "", t))
    if not (re.fullmatch(r"1[3-9]\d{9}", t) or re.fullmatch(r"0\d{2,3}\d{7,8}", t)):
        raise LookupError(v)
    return t


def _email(v):
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", str(v).strip()):
        raise LookupError(v)
    return str(v).strip()


_PARSE = {
    "date": _date,
    "money": _money,
    "number": _money,
    "int": _int,
    "pct": _pct,
    "id": _id,
    "text": lambda v: str(v).strip(),
    "phone": _phone,
    "email": _email,
}


def _reference_findings(team_dir: Path, as_of: date, roster: set[str]) -> set[tuple]:
    """(file, sheet, row, column, code) for every row-level finding in the readable team files."""
    found: set[tuple] = set()
    rows: dict[str, list[dict]] = defaultdict(list)  # sheet key -> rows with '_f', '_s', '_r', '_h', '_err'
    sheets_by_name = {_norm(s[lang]): k for k, s in _SCHEMAS["sheets"].items() for lang in ("zh", "en")}
    for path in sorted(p for p in team_dir.glob("*.xlsx") if p.name.startswith(("team_", "personal_"))):
        wb = CalamineWorkbook.from_path(path)
        kinds = Counter(sheets_by_name[_norm(n)] for n in wb.sheet_names)
        for name in wb.sheet_names:
            key = sheets_by_name[_norm(name)]
            if kinds[key] > 1:
                continue  # two sheets of one kind: neither is used
            cols = _SCHEMAS["sheets"][key]["columns"]
            names = {_norm(n): c for c in cols for n in [c["zh"], c["en"], *c.get("aliases", [])]}
            data = wb.get_sheet_by_name(name).to_python()
            need = [c for c in cols if c.get("required")]
            head = next(
                i for i, r in enumerate(data[:10]) if sum(_norm(v) in names for v in r) * 2 >= len(need)
            )
            headers = data[head]
            matched = [names.get(_norm(h)) for h in headers]
            keys = [c["key"] for c in matched if c]
            if len(keys) != len(set(keys)) or any(c["key"] not in keys for c in need):
                continue  # ambiguous or missing column: the sheet is not used
            for i, raw in enumerate(data[head + 1 :], start=head + 2):
                if all(v in ("", None) for v in raw):
                    continue
                if _norm(raw[0]) in ("合计", "总计", "total"):
                    continue
                row = {"_f": path.name, "_s": name, "_r": i, "_h": {}, "_err": False}
                for c, h, v in zip(matched, headers, raw, strict=False):
                    if c is None:
                        continue
                    row["_h"][c["key"]] = str(h).strip()  # findings name the header as written, trimmed

                    def bad(code, h=h, row=row, where=(path.name, name, i)):
                        found.add((*where, h, code))
                        row["_err"] = True

                    if v in ("", None):
                        row[c["key"]] = c.get("default")
                        if c.get("required"):
                            bad("required-missing")
                        continue
                    if isinstance(v, str) and len(v) > 4000:  # longer text in one cell is not data
                        bad("text-too-long")
                        continue
                    try:
                        if c["type"] == "enum":
                            allowed = {
                                _norm(x): en
                                for en, zh in _SCHEMAS["enums"][c["enum"]]["values"]
                                for x in (en, zh)
                            }
                            if _norm(v) not in allowed:
                                bad("bad-enum")
                                continue
                            value = allowed[_norm(v)]
                        else:
                            value = _PARSE[c["type"]](v)
                    except LookupError:
                        bad("bad-pattern")
                        continue
                    except ValueError:
                        bad("bad-type")
                        continue
                    row[c["key"]] = value
                    if c["type"] == "date" and not (date(2000, 1, 1) <= value <= as_of + timedelta(days=365)):
                        bad("out-of-range")
                    elif (
                        ("min" in c and value < c["min"])
                        or ("max" in c and value > c["max"])
                        or ("min_exclusive" in c and value <= c["min_exclusive"])
                    ):
                        bad("out-of-range")
                    elif c.get("roster") and value not in roster:
                        bad("unknown-reference")
                for c in cols:
                    other = c.get("not_before")
                    if (
                        other
                        and isinstance(row.get(c["key"]), date)
                        and isinstance(row.get(other), date)
                        and row[c["key"]] < row[other]
                    ):
                        found.add((path.name, name, i, row["_h"][c["key"]], "date-order"))
                        row["_err"] = True
                rows[key].append(row)

    def at(row, key, code):
        found.add((row["_f"], row["_s"], row["_r"], row["_h"][key], code))

    def error(row, key, code):
        at(row, key, code)
        row["_err"] = True

    for key, s in _SCHEMAS["sheets"].items():  # duplicate keys; rows are already in (file, row) order
        for c in s["columns"]:
            if c.get("unique"):
                seen = set()
                for row in rows[key]:
                    v = row.get(c["key"])
                    if v in seen:
                        error(row, c["key"], "duplicate-key")
                    seen.add(v)
    ids = {k: {r.get(f"{k[:-1]}_id") for r in rows[k]} for k in ("customers", "contracts")}
    ids["opportunities"] = {r.get("opportunity_id") for r in rows["opportunities"]}
    for key, s in _SCHEMAS["sheets"].items():
        for c in s["columns"]:
            if "ref" in c:
                target = c["ref"].split(".")[0]
                for row in rows[key]:
                    if row.get(c["key"]) and row[c["key"]] not in ids[target]:
                        error(row, c["key"], "unknown-reference")
    ok = {k: [r for r in v if not r["_err"]] for k, v in rows.items()}

    seen, per_day = set(), Counter()  # effective activities: a repeat, or past 12 counted that day
    for a in ok["activities"]:
        key = (a["rep_id"], a["customer_id"], a["date"], a["activity_type"])
        if key in seen or per_day[(a["rep_id"], a["date"])] >= 12:
            at(a, "date", "activity-not-counted")
            continue
        seen.add(key)
        per_day[(a["rep_id"], a["date"])] += 1

    names, last_seen = {}, defaultdict(lambda: None)
    for a in ok["activities"]:
        if a["date"] <= as_of and (
            last_seen[a["customer_id"]] is None or a["date"] > last_seen[a["customer_id"]]
        ):
            last_seen[a["customer_id"]] = a["date"]
    for c in ok["customers"]:
        names.setdefault(normalise_company(c["customer_name"]), []).append(c)
    for group in names.values():  # every row of a company filed by more than one owner
        if len({c["owner"] for c in group}) > 1:
            for c in group:
                at(c, "customer_name", "customer-conflict")
    for c in ok["customers"]:
        grade = compute_grade(
            c.get("company_size"),
            c.get("annual_potential"),
            c.get("willingness"),
            c.get("historical_revenue"),
        )
        if c.get("grade") and c["grade"] != grade:
            at(c, "grade", "grade-mismatch")
        since = last_seen[c["customer_id"]] or c["created"]
        if c["created"] <= as_of and (as_of - since).days > {"A": 7, "B": 14, "C": 30, "D": 90}[grade]:
            at(c, "customer_id", "follow-up-overdue")
    for o in ok["opportunities"]:
        if o["stage"] in ("Won", "Lost"):
            continue
        if o.get("expected_close") and o["expected_close"] < as_of:
            at(o, "expected_close", "opportunity-overdue")
        if not any(
            a["customer_id"] == o["customer_id"] and as_of - timedelta(days=30) <= a["date"] <= as_of
            for a in ok["activities"]
        ):
            at(o, "opportunity_id", "opportunity-stale")
    lines = defaultdict(float)
    has_lines = set()
    for line in ok["contract_lines"]:
        has_lines.add(line["contract_id"])
    contracts = {}
    for k in ok["contracts"]:
        if k["status"] == "Signed" and (k.get("legal_review") or "Pending") != "Approved":
            error(k, "legal_review", "contract-unreviewed")
        elif k["status"] == "Signed" and (k.get("finance_review") or "Pending") != "Approved":
            error(k, "finance_review", "contract-unreviewed")
        if (k.get("discount") or 0) > 0.1 and k.get("manager_approval") != "Approved":
            error(k, "discount", "discount-unauthorized")
        if k["status"] == "Signed" and not k.get("signed"):
            error(k, "signed", "signed-without-date")
        contracts[k["contract_id"]] = k
    for line in ok["contract_lines"]:
        k = contracts.get(line["contract_id"])
        if k:
            lines[k["contract_id"]] += line["quantity"] * line["unit_price"] * (1 - (k.get("discount") or 0))
    for cid in has_lines:
        if cid in contracts and abs(lines[cid] - contracts[cid]["amount"]) > 1:
            at(contracts[cid], "amount", "contract-amount-mismatch")
    for o in ok["orders"]:
        if (
            o.get("promised")
            and o["promised"] < as_of
            and not o.get("shipped")
            and o.get("status") != "Cancelled"
        ):
            at(o, "promised", "order-overdue")
    for t in ok["complaints"]:
        if (t.get("resolved") and (t["resolved"] - t["received"]).days > 7) or (
            not t.get("resolved") and t.get("status") != "Resolved" and (as_of - t["received"]).days > 7
        ):
            at(t, "received", "complaint-overdue")
    limits = {
        "Travel": 5000,
        "Entertainment": 2000,
        "Marketing": 20000,
        "Transport": 1000,
        "Telecom": 500,
        "Other": 1000,
    }
    receipts = defaultdict(list)
    for e in ok["expenses"]:
        if e["amount"] > limits[e["category"]] and e.get("approval") != "Approved":
            at(e, "amount", "expense-over-limit")
        receipts[re.sub(r"[\s-]", "", _norm(e["receipt_no"]))].append(e)
        if e["category"] == "Entertainment" and not e.get("customer_id"):
            at(e, "customer_id", "expense-missing-customer")
    for group in receipts.values():
        if len(group) > 1:
            for e in group:
                at(e, "receipt_no", "expense-duplicate-receipt")
    running = defaultdict(float)
    for p in sorted(ok["collections"], key=lambda p: (p["date"], p["_f"], p["_r"])):
        k = contracts.get(p["contract_id"])
        if k is None:
            continue
        before = running[k["contract_id"]]
        running[k["contract_id"]] += p["amount"]
        if before <= k["amount"] < running[k["contract_id"]]:
            at(p, "amount", "collection-exceeds-contract")
    first_of: dict = {}  # a collection counts on a contract (its first row) without errors, Signed or Terminated
    for k in rows["contracts"]:
        first_of.setdefault(k.get("contract_id"), k)
    for p in ok["collections"]:
        k = first_of.get(p["contract_id"])
        if k is not None and (k["_err"] or k["status"] not in ("Signed", "Terminated")):
            at(p, "contract_id", "collection-not-counted")
    return found


def test_reference_reading_finds_exactly_the_injected_defects(demo):
    """An independent reading of the rules finds every injected row-level defect and nothing else."""
    roster = {r["rep_id"] for r in demo.reps}
    expected = {
        (d["file"], d["sheet"], d["row"], d["column"], d["code"])
        for d in demo.defects
        if d["code"] not in STRUCTURAL
    }
    found = _reference_findings(demo.team_dir, demo.as_of, roster)
    assert sorted(found - expected) == []
    assert sorted(expected - found) == []


def test_demo_is_realistic_in_size(demo):
    """A few hundred customers, a few thousand activities, about 120 contracts and 300 expenses."""
    counts = Counter()
    for name in ("team_east.xlsx", "team_south.xlsx", "team_north.xlsx"):
        wb = CalamineWorkbook.from_path(demo.team_dir / name)
        for sheet in wb.sheet_names:
            counts[_norm(sheet)] += len(wb.get_sheet_by_name(sheet).to_python()) - 1
    assert 280 <= counts["客户"] <= 360
    assert 2500 <= counts["活动"] + counts["activities"] <= 3500
    assert 100 <= counts["合同"] + counts["contracts"] <= 160
    assert 250 <= counts["费用"] <= 350
