"""Tests for sales reports: HTML content and masking, sandbox, missing fields, xlsx sheets, Chromium."""

import datetime as dt
import re
import shutil
import subprocess
from decimal import Decimal

import openpyxl
import pytest

from salesbook.documents.env import TemplateFieldMissing, TemplateSecurityError, required_variables
from salesbook.documents.reports import default_report_template, render_report_html, write_report_xlsx


def report_context(scope="rep", **extra):
    """A month's report for one rep (or a team) with one row in every table."""
    context = {
        "title": "2026年11月 销售月报",
        "period": "2026-11",
        "scope": scope,
        "name": "张伟" if scope == "rep" else "华东一组",
        "as_of": dt.date(2026, 11, 30),
        "activities_by_type": {"拜访 Visit": 12, "电话 Call": 30, "演示 Demo": 4},
        "new_customers": 3,
        "pipeline_by_stage": {
            "线索 Lead": (5, Decimal("500000"), Decimal("50000")),
            "方案 Proposal": {"count": 2, "amount": Decimal("320000"), "weighted": Decimal("160000")},
        },
        "revenue": Decimal("823456.78"),
        "revenue_target": Decimal("1000000"),
        "collections": Decimal("400000"),
        "collections_target": None,
        "revenue_attainment": None,  # None: actual / target, filled in when the report is rendered
        "collections_attainment": None,
        "overdue_follow_ups": [
            {
                "customer_id": "C001",
                "customer_name": "北京甲乙贸易有限公司",
                "contact": "张三",
                "phone": "13812345678",
                "grade": "A",
                "days_since": 12,
                "cadence": 7,
            }
        ],
        "overdue_orders": [
            {
                "order_id": "SO-1",
                "contract_id": "HT-1",
                "customer_name": '=HYPERLINK("http://evil")',
                "promised": "2026-11-10",
                "days_overdue": 20,
                "status": "生产中",
            }
        ],
        "open_complaints": [
            {
                "ticket_id": "T-9",
                "customer_name": "<script>alert(1)</script>丙公司",
                "contact": "李四",
                "phone": "010-87654321",
                "email": "lisi@example.com",
                "received": dt.date(2026, 11, 2),
                "category": "质量",
                "handler": "王五",
                "days_open": 28,
            }
        ],
        "findings_count": {"error": 2, "warning": 5, "info": 1},
        "commission": {
            "plan": "回款累进", "description": "回款 Collections · 达成率 Attainment · 累进 Progressive",
            "base_label": "回款 Collections", "base": Decimal("400000"), "target": Decimal("500000"),
            "position": "80.00%", "total": Decimal("4600.00"), "total_text": "4600.00", "held": False,
            "capped": False, "note": "",
            "lines": [{"kind": "tier", "label": "[0%, 50%)", "rate": Decimal("0.01"), "portion": Decimal("250000"),
                       "amount": Decimal("2500.00"), "amount_text": "2500.00"},
                      {"kind": "tier", "label": "[50%, 100%)", "rate": Decimal("0.014"),
                       "portion": Decimal("150000"), "amount": Decimal("2100.00"), "amount_text": "2100.00"}],
        },
        "trend": [
            {"period": "2026-09", "score": None, "revenue_pct": None, "collections_pct": None, "closed": False},
            {"period": "2026-10", "score": 88.5, "revenue_pct": 92.0, "collections_pct": 75.5, "closed": True},
            {"period": "2026-11", "score": 101.25, "revenue_pct": 82.3, "collections_pct": None, "closed": False},
        ] if scope == "rep" else [],
        "top_findings": [{"severity": "error", "where": "north.xlsx [合同] G16", "code": "contract-unreviewed",
                          "message": "合同已签订但法务审核未通过（违规）"}],
    }
    if scope == "team":
        context["members"] = [
            {
                "rep_id": "R1",
                "name": "张伟",
                "revenue": 100,
                "collections": 50,
                "new_customers": 1,
                "activities": 3,
                "attainment": 0.873,
                "score": 87.3,
                "rating": "B",
            }
        ]
    context.update(extra)
    return context


def test_report_html_has_every_section_and_masks_contacts():
    """The HTML report shows KPIs, four charts (the trend too) and its tables, with phones and e-mails masked and
    text escaped."""
    page = render_report_html(report_context())
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 4
    for needle in [
        "张伟",
        "¥823,456.78",
        "82.3%",
        "北京甲乙贸易有限公司",
        "SO-1",
        "T-9",
        "2026年11月10日",
        "线索 Lead (5)",
    ]:
        assert needle in page
    assert "138****5678" in page and "010-****4321" in page and "l***@example.com" in page
    assert "13812345678" not in page and "87654321" not in page and "lisi@" not in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert not re.search(r"(src|href)=\"?https?:", page) and "@import" not in page


def test_masking_survives_a_template_without_filters(tmp_path):
    """Even a template that prints phone and e-mail raw shows them masked."""
    template = tmp_path / "raw.html.j2"
    template.write_text(
        "{% for r in open_complaints %}{{ r.phone }} {{ r.email }}{% endfor %}", encoding="utf-8"
    )
    assert render_report_html(report_context(), template=template) == "010-****4321 l***@example.com"


def test_contacts_in_free_text_are_masked_in_html_and_xlsx(tmp_path):
    """A phone or e-mail typed into contact, handler or category is masked in the page and the workbook; ids are kept."""
    ctx = report_context()
    ctx["open_complaints"] = [{**ctx["open_complaints"][0], "contact": "李四 13987654321",
                               "handler": "王五 wang.wu@example.com", "category": "回电 010-66667777",
                               "ticket_id": "T13912345678"}]
    page = render_report_html(ctx)
    path = write_report_xlsx([ctx], tmp_path / "r.xlsx")
    values = "\n".join(str(v) for ws in openpyxl.load_workbook(path) for row in ws.iter_rows(values_only=True)
                       for v in row)
    for text in (page, values):
        assert "13987654321" not in text and "wang.wu@" not in text and "66667777" not in text
        assert "139****4321" in text and "w***@example.com" in text and "010-****7777" in text
        assert "T13912345678" in text  # an id is not free text


def test_team_report_lists_members():
    """A team report names the team and lists its members."""
    page = render_report_html(report_context("team"))
    assert "团队 Team" in page and "华东一组" in page and "团队成员 Team members" in page


def test_report_template_typo_names_field_and_template(tmp_path):
    """A typo'd field in a report template fails with TemplateFieldMissing naming the field and the template."""
    template = tmp_path / "typo.html.j2"
    template.write_text("<h1>{{ titel }}</h1>", encoding="utf-8")
    with pytest.raises(TemplateFieldMissing) as caught:
        render_report_html(report_context(), template=template)
    assert caught.value.field == "titel" and "typo.html.j2" in str(caught.value)
    nested = tmp_path / "nested.html.j2"
    nested.write_text("{{ findings_count.errors }}", encoding="utf-8")
    with pytest.raises(TemplateFieldMissing, match="'errors'.*|nested"):
        render_report_html(report_context(), template=nested)


def test_shipped_report_needs_only_documented_fields():
    """The shipped template needs exactly the documented report fields."""
    assert required_variables(default_report_template()) == set(report_context("team"))


@pytest.mark.parametrize(
    "payload",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ title.__class__ }}",
        "{{ os.popen('id').read() }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ title | attr('__class__') }}",
    ],
)
def test_html_template_cannot_escape_the_sandbox(tmp_path, payload):
    """An HTML template reaching for __class__, __subclasses__, __globals__ or os fails with TemplateSecurityError naming it."""
    template = tmp_path / "evil.html.j2"
    template.write_text(payload, encoding="utf-8")
    with pytest.raises(TemplateSecurityError, match=r"evil\.html\.j2 tried something unsafe"):
        render_report_html(report_context(), template=template)


def test_report_xlsx_sheets_masked_and_formatted(tmp_path):
    """The workbook has a summary row per report and one sheet per table, masked, typed and formula-free."""
    path = write_report_xlsx([report_context(), report_context("team")], tmp_path / "report.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [
        "汇总 Summary",
        "活动 Activities",
        "商机 Pipeline",
        "团队成员 Members",
        "逾期跟进 Follow-ups",
        "逾期订单 Orders",
        "未结投诉 Complaints",
        "问题 Findings",
    ]
    summary = list(book["汇总 Summary"].iter_rows(values_only=True))
    assert len(summary) == 3
    header = [h.replace("\n", " ") for h in summary[0]]
    rep = dict(zip(header, summary[1], strict=True))
    assert rep["名称 Name"] == "张伟" and rep["签约额 Revenue"] == pytest.approx(823456.78)
    assert rep["签约完成率 Revenue attainment"] == pytest.approx(0.82345678)
    assert rep["回款完成率 Collections attainment"] is None
    assert rep["活动 Activities"] == 46 and rep["错误 Errors"] == 2
    assert book["汇总 Summary"]["D2"].number_format == "#,##0.00"
    assert book["汇总 Summary"].freeze_panes == "A2"
    assert all(ws.page_setup.orientation == "landscape" for ws in book)
    members = book["团队成员 Members"]
    assert [c.value.replace("\n", " ") for c in members[1]][4:7] == ["综合达成率 Attainment", "得分 Score", "评级 Rating"]
    assert members["E2"].number_format == "0.0%" and members["F2"].number_format == "0.00"
    assert any('"B"' in r.formula[0] for cf in members.conditional_formatting for r in cf.rules)
    assert [c.value for c in book["问题 Findings"][2]][2:4] == ["error", "north.xlsx [合同] G16"]
    follow = list(book["逾期跟进 Follow-ups"].iter_rows(values_only=True))
    assert follow[1][:6] == ("rep", "张伟", "C001", "北京甲乙贸易有限公司", "张三", "138****5678")
    complaints = list(book["未结投诉 Complaints"].iter_rows(values_only=True))
    assert complaints[1][5:7] == ("010-****4321", "l***@example.com")
    assert complaints[1][7] == dt.datetime(2026, 11, 2)
    orders = book["逾期订单 Orders"]
    assert orders["E2"].value == '=HYPERLINK("http://evil")' and orders["E2"].data_type == "s"
    every_value = [
        v for ws in book for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str)
    ]
    assert not any("13812345678" in v or "87654321" in v or "lisi@" in v for v in every_value)
    assert len(list(book["团队成员 Members"].iter_rows())) == 2


@pytest.mark.chromium
@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_report_prints_in_headless_chromium(tmp_path):
    """Headless Chromium prints the report to a non-empty PDF whose text holds the rep's name and no raw phone."""
    page = tmp_path / "report.html"
    page.write_text(render_report_html(report_context()), encoding="utf-8")
    pdf = tmp_path / "report.pdf"
    command = [
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
        page.as_uri(),
    ]
    subprocess.run(command, capture_output=True, timeout=120, check=True)
    assert pdf.stat().st_size > 2000
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "张伟" in text and "138****5678" in text and "13812345678" not in text


def test_rep_report_draws_the_six_period_trend():
    """A rep's page has the trend chart: a point per period and figure that has a value, lines only between
    neighbouring values, every period labelled, the closed one marked; a team page has none."""
    import re

    html = render_report_html(report_context())
    svg = html[html.index('<svg class="chart trend"'):]
    svg = svg[:svg.index("</svg>")]
    assert len(re.findall(r"<circle ", svg)) == 5  # 2026-09 has no run; November has no collections target
    assert len(re.findall(r'class="ln s\d"', svg)) == 2  # score and revenue from October to November
    assert all(p in svg for p in ("2026-09", "2026-10", "2026-11")) and svg.count("已结账 closed") == 1
    assert "近六期趋势" in html and "101.25" in html
    assert '<svg class="chart trend"' not in render_report_html(report_context("team"))


def _bar_fills(page: str) -> dict[str, str]:
    """Each bar's label -> its fill colour, from the report's SVG charts."""
    labels = re.findall(r'class="lbl">([^<]+)</text>\s*<rect[^>]*class="bar"[^>]*fill="([^"]+)"', page)
    return {label.split(" (")[0]: fill for label, fill in labels}


def test_a_category_keeps_its_colour_in_every_report():
    """谈判 is the same colour in two reports whatever the order of the bars, and two stages differ."""
    first = report_context(pipeline_by_stage={"谈判 Negotiation": (1, 10, 5), "线索 Lead": (2, 20, 2)},
                           activities_by_type={"谈判 Negotiation": 2, "拜访 Visit": 1})
    second = report_context(pipeline_by_stage={"线索 Lead": (2, 20, 2), "方案 Proposal": (1, 5, 2),
                                               "谈判 Negotiation": (4, 40, 30)},
                            activities_by_type={"电话 Call": 3, "谈判 Negotiation": 1})
    a, b = _bar_fills(render_report_html(first)), _bar_fills(render_report_html(second))
    assert a["谈判 Negotiation"] == b["谈判 Negotiation"] and a["线索 Lead"] == b["线索 Lead"]
    assert a["谈判 Negotiation"] != a["线索 Lead"] and b["电话 Call"] != b["方案 Proposal"]


def test_findings_tile_lists_the_top_findings_with_their_cells():
    """The findings tile lists where each top finding is (file, sheet, cell) and what it says."""
    page = render_report_html(report_context())
    assert "north.xlsx [合同] G16" in page and "合同已签订但法务审核未通过" in page


def test_team_report_shows_each_reps_attainment_score_and_rating():
    """The team report's member table has attainment, score and rating per rep; the footer names nobody again."""
    page = render_report_html(report_context("team"))
    assert "综合达成率 Attainment" in page and "87.3%" in page and "87.30" in page and 'class="rating rB"' in page
    footer = page[page.index("<footer>"):]
    assert "华东一组" not in footer and "张伟" not in footer
    assert render_report_html(report_context()).count("张伟") == 2  # the heading line and the page title only


def test_reports_from_a_run_show_the_open_pipeline_and_the_reps_top_findings(tmp_path):
    """Reports built from the demo leave won and lost opportunities out, list each rep's first findings with
    their cells, and give the team report a row per rep with attainment, score and rating."""
    from salesbook.demo_data import generate_demo
    from salesbook.documents.from_run import report_contexts
    from salesbook.pipeline import consolidate

    demo = generate_demo(tmp_path / "demo", period="2026-11")
    c = consolidate(demo.team_dir, master=demo.master_path, period="2026-11")
    contexts = report_contexts(c, c.run.findings)
    stages = {s for ctx in contexts for s in ctx["pipeline_by_stage"]}
    assert stages and not stages & {"赢单", "输单"}
    reps = [ctx for ctx in contexts if ctx["scope"] == "rep"]
    with_findings = [ctx for ctx in reps if ctx["findings_count"]["error"] + ctx["findings_count"]["warning"]]
    assert with_findings and all(ctx["top_findings"] for ctx in with_findings)
    assert all(ctx["name"] not in ctx["title"] for ctx in contexts)
    team = next(ctx for ctx in contexts if ctx["scope"] == "team")
    cards = {r["rep_id"]: r for r in c.scorecards.to_dict("records")}
    for m in team["members"]:
        assert m["score"] == cards[m["rep_id"]]["score"] and m["rating"] == cards[m["rep_id"]]["rating"]
    scores = [m["score"] for m in team["members"]]
    assert scores == sorted(scores, reverse=True)


def test_a_findings_message_quoting_a_contact_is_masked_in_reports(tmp_path):
    """A finding that echoes a phone or an e-mail in its message shows them masked in the HTML and the xlsx."""
    leak = [{"severity": "error", "where": "a.xlsx [客户] J9", "code": "bad-pattern",
             "message": "「联系电话」格式不正确：13912345678x；邮箱 wang.wu@example.com", "value": "13912345678x"}]
    page = render_report_html(report_context(top_findings=leak))
    assert "139****5678" in page and "w***@example.com" in page
    assert "13912345678" not in page and "wang.wu@" not in page
    path = write_report_xlsx([report_context(top_findings=leak)], tmp_path / "r.xlsx")
    values = [v for ws in openpyxl.load_workbook(path) for row in ws.iter_rows(values_only=True) for v in row
              if isinstance(v, str)]
    assert not any("13912345678" in v or "wang.wu@" in v for v in values)


def _office_with_gaps(tmp_path):
    """A consolidation with repeated activities (not counted), a rep without a collections target and a bad phone."""
    from conftest import ACTIVITY_HEADER, CUSTOMER_HEADER, write_master, write_workbook

    from salesbook.pipeline import consolidate

    roster = [["S001", "王芳", "E1001", "华东", "华东", "李强", "在职"],
              ["S002", "陈明", "E1002", "华东", "华东", "李强", "在职"]]
    targets = [["S001", "2026-11", 100000, 10, 80000, 2, 20], ["S002", "2026-11", 50000, 5, None, 1, 10]]
    master = write_master(tmp_path / "master.xlsx", roster, targets)
    collections = [["回款编号", "合同编号", "回款日期", "回款金额", "负责销售"]]
    contracts = [["合同编号", "客户编号", "合同金额", "折扣率", "法务审核", "财务审核", "主管授权", "签订日期", "状态",
                  "负责销售"]]
    for i, (rep, amount) in enumerate((("S001", 40000), ("S002", 90000))):
        contracts.append([f"HT-{i}", f"C00{i}", 100000, 0, "通过", "通过", None, "2026-11-03", "已签订", rep])
        collections.append([f"HK-{i}", f"HT-{i}", "2026-11-20", amount, rep])
    write_workbook(tmp_path / "team" / "east.xlsx", {
        "客户": [CUSTOMER_HEADER,
                 ["C000", "甲公司", "小型", 0, "低", 0, "张三", "13812345678", None, "S001", "2026-11-02", None, None],
                 ["C001", "乙公司", "小型", 0, "低", 0, "李四", "13912345678", None, "S002", "2026-11-02", None, None],
                 ["C002", "丙公司", "小型", 0, "低", 0, "赵五", "12345", None, "S001", "2026-11-02", None, None]],
        "活动": [ACTIVITY_HEADER,
                 ["2026-11-20", "S001", "C000", "拜访", "拜访客户", None, 30],
                 ["2026-11-20", "S001", "C000", "拜访", "又一次拜访", None, 30],  # a repeat: does not count
                 ["2026-11-21", "S001", "C000", "电话", "电话沟通", None, 10]],
        "合同": contracts, "回款": collections,
    })
    return consolidate(tmp_path / "team", master=master, period="2026-11")


def test_report_activity_counts_are_the_effective_activities_of_the_scorecard(tmp_path):
    """A repeated activity (activity-not-counted) is left out of the report's activities, as in the scorecard."""
    from salesbook.documents.from_run import report_contexts

    c = _office_with_gaps(tmp_path)
    assert any(f.code == "activity-not-counted" for f in c.run.findings)
    cards = {r["rep_id"]: r for r in c.scorecards.to_dict("records")}
    contexts = report_contexts(c, c.run.findings)
    rep = next(ctx for ctx in contexts if ctx["_rep_id"] == "S001")
    assert sum(rep["activities_by_type"].values()) == int(cards["S001"]["activities"]) == 2
    team = next(ctx for ctx in contexts if ctx["scope"] == "team")
    assert sum(team["activities_by_type"].values()) == sum(int(r["activities"]) for r in cards.values())


def test_team_collections_attainment_compares_like_with_like(tmp_path):
    """A rep without a collections target adds to the team's collections but not to its attainment, in HTML and xlsx."""
    from salesbook.documents.from_run import write_reports

    c = _office_with_gaps(tmp_path)
    cards = {r["rep_id"]: r for r in c.scorecards.to_dict("records")}
    assert cards["S002"]["collections"] > 0 and cards["S002"]["collections_target"] != cards["S002"]["collections_target"]
    expected = cards["S001"]["collections"] / cards["S001"]["collections_target"]  # 40,000 / 80,000
    paths = write_reports(c, tmp_path / "out")
    page = next(p for p in paths if p.name.startswith("report_2026-11_team_")).read_text(encoding="utf-8")
    assert f"完成 {expected * 100:.1f}%" in page
    wrong = (cards["S001"]["collections"] + cards["S002"]["collections"]) / cards["S001"]["collections_target"]
    assert f"完成 {wrong * 100:.1f}%" not in page
    summary = openpyxl.load_workbook(paths[-1])["汇总 Summary"]
    header = [str(v) for v in next(summary.iter_rows(values_only=True))]
    col = next(i for i, h in enumerate(header) if "Collections attainment" in h)
    rows = [r for r in summary.iter_rows(min_row=2, values_only=True) if r[0] == "team"]
    assert rows and rows[0][col] == pytest.approx(expected)


def test_salesbooks_own_example_numbers_are_not_masked_but_customer_values_are(tmp_path):
    """The bad-pattern hint's example phone numbers stay as written; a customer's phone in a message is masked."""
    from salesbook.core.table import PATTERN_HINTS

    hint = PATTERN_HINTS["phone"]
    message = (f"「联系电话」格式不正确：13812345678 3（{hint['hint_zh']}） / "
               f"'联系电话' has the wrong format: 13812345678 3 ({hint['hint_en']})")
    rows = [{"severity": "error", "where": "a.xlsx [客户] H4", "code": "bad-pattern", "message": message}]
    page = render_report_html(report_context(top_findings=rows))
    assert hint["hint_zh"] in page and hint["hint_en"] in page
    assert "格式不正确：138****5678 3" in page and "wrong format: 138****5678 3" in page
    path = write_report_xlsx([report_context(top_findings=rows)], tmp_path / "r.xlsx")
    values = [v for row in openpyxl.load_workbook(path)["问题 Findings"].iter_rows(values_only=True) for v in row
              if isinstance(v, str)]
    assert any(hint["hint_en"] in v and "format: 138****5678 3" in v for v in values)
