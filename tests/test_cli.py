"""The command line contract: commands, exit codes, outputs, and that every command is documented."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import write_master, write_workbook

from salesbook.cli import main
from salesbook.demo_data import generate_demo

ROOT = Path(__file__).resolve().parents[1]


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return generate_demo(tmp_path_factory.mktemp("demo"))


def test_every_command_is_documented_in_the_readme() -> None:
    """Each `salesbook` command appears in the README's command list."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, cmd in main.commands.items():
        names = [f"{name} {sub}" for sub in cmd.commands] if hasattr(cmd, "commands") else [name]
        for n in names:
            assert f"salesbook {n}" in readme, n


def test_validate_exit_codes(tmp_path: Path, master: Path) -> None:
    """validate exits 0 on clean files, 1 with error findings, 3 when nothing is readable, 2 on a bad period."""
    head = ["客户编号", "客户名称", "联系人", "联系电话", "负责销售", "建档日期"]
    clean = write_workbook(tmp_path / "ok" / "a.xlsx", {"客户": [head, ["C1", "甲公司", "张三", "13812345678", "S001",
                                                                      "2026-11-02"]]})
    bad = write_workbook(tmp_path / "bad" / "a.xlsx", {"客户": [head, ["C1", "甲公司", "张三", "123", "S001",
                                                                      "2026-11-02"]]})
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "x.xlsx").write_bytes(b"not a workbook")
    assert invoke("validate", clean.parent, "--master", master, "--period", "2026-11").exit_code == 0
    r = invoke("validate", bad.parent, "--master", master, "--period", "2026-11", "--out", tmp_path / "o")
    assert r.exit_code == 1
    assert "bad-pattern" in r.output and "a.xlsx [客户] D2" in r.output
    rows = list(csv.DictReader(open(tmp_path / "o" / "findings.csv", encoding="utf-8-sig")))
    assert [(x["file"], x["sheet"], x["row"], x["column"], x["cell"], x["code"]) for x in rows
            if x["severity"] == "error"] == [("a.xlsx", "客户", "2", "联系电话", "D2", "bad-pattern")]
    assert (tmp_path / "o" / "findings.xlsx").stat().st_size > 0
    assert invoke("validate", tmp_path / "junk").exit_code == 3
    assert invoke("validate", tmp_path / "nowhere").exit_code == 3
    r = invoke("validate", clean.parent, "--period", "2026-13")
    assert r.exit_code == 2 and "2026-13" in r.output and "Traceback" not in r.output


def test_invalid_settings_stop_with_exit_2_naming_the_key(tmp_path: Path) -> None:
    """Weights that do not sum to 1, an unknown key or a wrong type stop consolidate with exit 2 and a fix."""
    write_workbook(tmp_path / "team" / "a.xlsx", {"客户": [["客户编号"]]})
    roster = [["S001", "王芳", "E1", "一组", "华东", "李强", "在职"]]
    cases = [
        ([["weight.revenue", "0.5", ""]], "sum to 1.15"),
        ([["weight.revnue", "0.35", ""]], "Unknown setting 'weight.revnue'"),
        ([["cadence.A", "seven", ""]], "Setting 'cadence.A' must be a number"),
    ]
    for i, (settings, needle) in enumerate(cases):
        m = write_master(tmp_path / f"m{i}.xlsx", roster, [], settings)
        r = invoke("consolidate", tmp_path / "team", "--master", m, "--period", "2026-11", "--out", tmp_path / "o")
        assert r.exit_code == 2, r.output
        assert needle in r.output and "Traceback" not in r.output


def test_consolidate_outputs_and_full(demo, tmp_path: Path) -> None:
    """consolidate writes the seven CSVs, the formatted workbook with Chinese sheet names and the parquet."""
    from openpyxl import load_workbook

    out = tmp_path / "out"
    r = invoke("consolidate", demo.team_dir, "--master", demo.master_path, "--period", "2026-11", "--out", out)
    assert r.exit_code == 0, r.output
    assert "Scorecards:" in r.output and "rejected" in r.output
    assert "Commissions:" in r.output
    for name in ("findings", "files", "customer_grades", "pipeline", "scorecards", "evidence", "commissions"):
        assert (out / f"{name}.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    wb = load_workbook(out / "consolidated.xlsx", read_only=True)
    assert wb.sheetnames == ["考核表", "提成", "校验结果", "文件状态", "客户分级", "商机评估", "依据"]
    rows = pd.read_parquet(out / "consolidated.parquet")
    assert {"table", "file", "sheet", "row", "valid"} <= set(rows.columns)
    assert (rows["table"] == "activities").sum() > 2000
    full = tmp_path / "full"
    assert invoke("consolidate", demo.team_dir, "--master", demo.master_path, "--period", "2026-11", "--out", full,
                  "--full").exit_code == 0
    assert any(n.startswith("数据-") for n in load_workbook(full / "consolidated.xlsx", read_only=True).sheetnames)


def test_demo_scorecards_are_reproduced_from_the_rows_evidence_names(demo, tmp_path: Path) -> None:
    """Each KPI in scorecards.csv equals the sum over the source rows that evidence.csv names, read from the data."""
    out = tmp_path / "out"
    assert invoke("consolidate", demo.team_dir, "--master", demo.master_path, "--period", "2026-11",
                  "--out", out).exit_code == 0
    cards = pd.read_csv(out / "scorecards.csv", encoding="utf-8-sig", dtype={"rep_id": str})
    ev = pd.read_csv(out / "evidence.csv", encoding="utf-8-sig", dtype={"rep_id": str})
    rows = pd.read_parquet(out / "consolidated.parquet")
    source = {"revenue": ("contracts", "amount"), "volume": ("contract_lines", "quantity"),
              "collections": ("collections", "amount"), "new_customers": ("customers", None),
              "activities": ("activities", None)}
    index = rows.set_index(["table", "file", "sheet", "row"])
    checked = 0
    for card in cards.to_dict("records"):
        for kpi, (table, col) in source.items():
            mine = ev[(ev["rep_id"] == card["rep_id"]) & (ev["kpi"] == kpi)]
            total = 0.0
            for e in mine.to_dict("records"):
                src = index.loc[(table, e["file"], e["sheet"], e["row"])]
                assert bool(src["valid"])
                # an activity that does not count (SPEC §11), or a collection on a contract that does not,
                # is listed with 0 and its finding code
                counts = e["code"] not in ("activity-not-counted", "collection-not-counted")
                assert e["value"] == (1.0 if counts else 0.0) or (col is not None and counts)
                total += (1.0 if counts else 0.0) if col is None else float(src[col]) if counts else 0.0
            assert round(total, 2) == round(card[kpi], 2), (card["rep_id"], kpi)
            checked += 1
    assert checked == 5 * len(cards) and len(cards) == 12


def test_contracts_and_reports_commands(demo, tmp_path: Path) -> None:
    """contracts writes one .docx per contract plus contracts.csv; report writes HTML per rep and team, masked."""
    out = tmp_path / "c"
    r = invoke("contracts", demo.team_dir, "--master", demo.master_path, "--out", out)
    assert r.exit_code == 0, r.output
    index = list(csv.DictReader(open(out / "contracts.csv", encoding="utf-8-sig")))
    assert len(index) == len(list(out.glob("*.docx"))) > 100
    assert all((out / row["file"]).exists() for row in index)
    drafts = [row for row in index if row["draft"] == "yes"]
    assert drafts and all("草稿" in row["file"] for row in drafts)
    only = invoke("contracts", demo.team_dir, "--master", demo.master_path, "--out", tmp_path / "one",
                  "--only", index[0]["contract"])
    assert only.exit_code == 0 and len(list((tmp_path / "one").glob("*.docx"))) == 1
    rep = tmp_path / "r"
    r = invoke("report", demo.team_dir, "--master", demo.master_path, "--period", "2026-11", "--out", rep)
    assert r.exit_code == 0, r.output
    pages = list(rep.glob("*.html"))
    assert len(pages) == 12 + 3 and (rep / "report_2026-11.xlsx").exists()
    from salesbook.documents.reports import own_passages

    for p in pages:
        text = p.read_text(encoding="utf-8")
        customer_text = text
        for own in own_passages():  # salesbook's own hint ("a mobile like 13812345678") is not customer data
            customer_text = customer_text.replace(own, "")
        assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", customer_text), p.name
        assert "http://" not in text.replace("http://www.w3.org", "") and "<script src" not in text
    assert invoke("report", demo.team_dir, "--master", demo.master_path, "--weekly", "2026-W48",
                  "--out", tmp_path / "w").exit_code == 0
    assert invoke("report", demo.team_dir, "--master", demo.master_path, "--out", tmp_path / "x").exit_code == 2


def test_template_team_has_every_sheet_and_validation(tmp_path: Path, master: Path) -> None:
    """The blank team workbook has every team sheet, notes on headers, drop-downs and rep ids from the roster."""
    from openpyxl import load_workbook

    out = tmp_path / "t.xlsx"
    assert invoke("template", "team", out, "--master", master).exit_code == 0
    wb = load_workbook(out)
    assert [s for s in wb.sheetnames if s not in ("_lists", "说明")] == ["客户", "活动", "商机", "合同", "合同明细", "订单", "回款",
                                                            "投诉", "费用"]
    ws = wb["合同"]
    assert ws.freeze_panes == "A2"
    assert all(c.comment is not None for c in ws[1] if c.value)
    kinds = {dv.type for dv in ws.data_validations.dataValidation}
    assert {"list", "date", "decimal"} <= kinds
    sources = [dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert '"已签订' in "".join(sources) or "已签订" in "".join(sources)
    assert "RepIds" in "".join(sources)
    assert invoke("validate", out, "--master", master).exit_code == 0


def test_report_contexts_count_the_reps_data_findings(demo) -> None:
    """A rep's report counts the findings on the rep's rows, not the scoring notes about targets."""
    from salesbook.documents.from_run import report_contexts
    from salesbook.pipeline import consolidate

    c = consolidate(demo.team_dir, master=demo.master_path, period="2026-W48")
    contexts = {x["_rep_id"]: x for x in report_contexts(c, c.run.findings) if x["scope"] == "rep"}
    for rep, ctx in contexts.items():
        mine = [f for f in c.run.findings if f.rep_id == rep and f.code != "missing-target"]
        assert sum(ctx["findings_count"].values()) == len(mine)
        assert ctx["revenue_target"] is None  # targets are set per month or quarter, not per week
    assert any(f.code == "missing-target" for f in c.run.findings)


def test_master_roster_and_targets_are_checked(tmp_path: Path) -> None:
    """A rep twice in the roster, a target for an unknown rep, a bad period and a repeated target are findings."""
    from salesbook.pipeline import read_master

    m = write_master(tmp_path / "m.xlsx",
                     [["S001", "王芳", "E1", "一组", "华东", "李强", "在职"],
                      ["S001", "王芳二", "E2", "一组", "华东", "李强", "在职"]],
                     [["S001", "2026-11", 1, 1, 1, 1, 1], ["S999", "2026-11", 1, 1, 1, 1, 1],
                      ["S001", "十一月", 1, 1, 1, 1, 1], ["S001", "2026-11", 2, 2, 2, 2, 2]])
    master = read_master(m)
    got = sorted((f.sheet, f.row, f.column, f.cell, f.code) for f in master.findings)
    assert got == [("目标", 3, "销售代表", "A3", "unknown-reference"), ("目标", 4, "周期", "B4", "bad-type"),
                   ("目标", 5, "周期", "B5", "duplicate-key"), ("花名册", 3, "销售代表", "A3", "duplicate-key")]
    assert list(master.roster["name"]) == ["王芳"]
    assert list(master.targets["_row"]) == [2]


def test_every_finding_code_is_documented() -> None:
    """docs/findings.md has a row for every finding code."""
    from salesbook.core.findings import CODES

    doc = (ROOT / "docs" / "findings.md").read_text(encoding="utf-8")
    assert [c for c in CODES if f"| `{c}` |" not in doc] == []
