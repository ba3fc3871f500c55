"""Build the default contract templates (templates/contract_zh.docx, templates/contract_en.docx).

Run:  .venv/bin/python scripts/make_templates.py [OUT_DIR]     (default: templates/)

The documents are ordinary Word files written with python-docx that carry docxtpl tags; open
them in Word or LibreOffice to restyle them, keeping the {{ ... }} and {%tr ... %} tags. The
fields they use are documented in salesbook/documents/contracts.py (ContractContext).
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

ROOT = Path(__file__).resolve().parent.parent

DRAFT_RED = RGBColor(0xC0, 0x00, 0x00)

ZH = {
    "font": "Times New Roman",
    "east_asia": "宋体",
    "title": "销售合同{% if is_terminated %}（已终止）{% elif is_draft %}（草稿）{% endif %}",
    "draft_line": "{% if is_terminated %}已终止 TERMINATED —— 本合同已终止，不得签署或履行。"
    "{% else %}草稿 DRAFT —— 本合同不得签署或盖章，仅供内部讨论。{% endif %}原因：{{ mark_reason }}",
    "number": "合同编号：{{ contract_id }}",
    "seller": "甲方（卖方）：{{ seller.name }}",
    "seller_rows": [
        "地址：{{ seller.address }}",
        "联系人：{{ seller.contact }}    电话：{{ seller.phone }}",
    ],
    "buyer": "乙方（买方）：{{ customer.name }}",
    "buyer_rows": [
        "地址：{{ customer.address | default('') }}",
        "联系人：{{ customer.contact }}    电话：{{ customer.phone }}",
    ],
    "preamble": "甲乙双方本着平等互利的原则，经友好协商，就乙方向甲方采购下列产品事宜达成如下条款，共同遵守。",
    "art1": "第一条  产品、数量及价款",
    "headers": ["序号", "产品名称", "规格型号", "数量", "单位", "单价（元）", "金额（元）"],
    "subtotal": "小计",
    "discount": "折扣（{{ discount_rate | percent }}）",
    "total": "合同总价",
    "upper": "合同总价（大写）：人民币{{ total | rmb_upper }}（小写：{{ total | money }}）",
    "art2": "第二条  付款方式",
    "terms": "{{ payment_terms }}",
    "clauses": [
        (
            "第三条  交货与验收",
            "甲方按双方确认的交货期交货；乙方应在收货后七日内验收，逾期未提出书面异议的视为验收合格。",
        ),
        ("第四条  违约责任", "任何一方违反本合同约定的，应承担违约责任并赔偿守约方因此遭受的损失。"),
        (
            "第五条  争议解决",
            "因本合同引起的争议，双方应协商解决；协商不成的，提交甲方所在地有管辖权的人民法院诉讼解决。",
        ),
        ("第六条  其他", "本合同一式两份，甲乙双方各执一份，经双方签字并盖章后生效。"),
    ],
    "sign_seller": ["甲方（盖章）：{{ seller.name }}", "授权代表（签字）：", "经办人：{{ owner_name }}"],
    "sign_buyer": [
        "乙方（盖章）：{{ customer.name }}",
        "授权代表（签字）：",
        "联系人：{{ customer.contact }}",
    ],
    "date": "签订日期：{% if signed %}{{ signed | cn_date }}{% else %}____年__月__日{% endif %}",
    "footer": "合同编号 {{ contract_id }}{% if is_terminated %}  ·  已终止，不得签署：{{ mark_reason }}"
    "{% elif is_draft %}  ·  草稿，不得签署：{{ mark_reason }}{% endif %}",
    "core_title": "销售合同 {{ contract_id }}",
}

EN = {
    "font": "Calibri",
    "east_asia": "宋体",
    "title": "SALES CONTRACT{% if is_terminated %} (TERMINATED){% elif is_draft %} (DRAFT){% endif %}",
    "draft_line": "{% if is_terminated %}TERMINATED 已终止 — this contract is terminated; do not sign or perform it."
    "{% else %}DRAFT 草稿 — for internal discussion only, do not sign or stamp.{% endif %} Why: {{ mark_reason }}",
    "number": "Contract No.: {{ contract_id }}",
    "seller": "Seller: {{ seller.name }}",
    "seller_rows": [
        "Address: {{ seller.address }}",
        "Contact: {{ seller.contact }}    Phone: {{ seller.phone }}",
    ],
    "buyer": "Buyer: {{ customer.name }}",
    "buyer_rows": [
        "Address: {{ customer.address | default('') }}",
        "Contact: {{ customer.contact }}    Phone: {{ customer.phone }}",
    ],
    "preamble": "The Seller and the Buyer, through friendly negotiation, agree that the Buyer purchases the following products from the Seller on the terms below.",
    "art1": "Article 1  Products, quantities and prices",
    "headers": ["No.", "Product", "Spec.", "Qty", "Unit", "Unit price (CNY)", "Amount (CNY)"],
    "subtotal": "Subtotal",
    "discount": "Discount ({{ discount_rate | percent }})",
    "total": "Contract total",
    "upper": "Contract total in words (Chinese capitals): 人民币{{ total | rmb_upper }} ({{ total | money }})",
    "art2": "Article 2  Payment terms",
    "terms": "{{ payment_terms }}",
    "clauses": [
        (
            "Article 3  Delivery and acceptance",
            "The Seller delivers on the agreed date; the Buyer inspects the goods within seven days of receipt, after which they are deemed accepted unless the Buyer objects in writing.",
        ),
        (
            "Article 4  Liability for breach",
            "A party that breaches this contract is liable for the breach and compensates the other party's resulting losses.",
        ),
        (
            "Article 5  Disputes",
            "Disputes are settled by negotiation; failing that, by the competent people's court where the Seller is located.",
        ),
        (
            "Article 6  Miscellaneous",
            "This contract is made in two originals, one for each party, and takes effect when signed and stamped by both parties.",
        ),
    ],
    "sign_seller": [
        "Seller (stamp): {{ seller.name }}",
        "Authorised signature:",
        "Handled by: {{ owner_name }}",
    ],
    "sign_buyer": [
        "Buyer (stamp): {{ customer.name }}",
        "Authorised signature:",
        "Contact: {{ customer.contact }}",
    ],
    "date": "Date signed: {% if signed %}{{ signed | en_date }}{% else %}______________{% endif %}",
    "footer": "Contract No. {{ contract_id }}{% if is_terminated %}  ·  TERMINATED, do not sign: {{ mark_reason }}"
    "{% elif is_draft %}  ·  DRAFT, do not sign: {{ mark_reason }}{% endif %}",
    "core_title": "Sales contract {{ contract_id }}",
}


def _set_fonts(run_or_style_element, latin: str, east_asia: str) -> None:
    rpr = run_or_style_element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), latin)
    fonts.set(qn("w:eastAsia"), east_asia)


def _shade(cell, fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def _cell_text(cell, text: str, *, bold: bool = False, align=WD_ALIGN_PARAGRAPH.LEFT) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(0)
    run = paragraph.add_run(text)
    run.bold = bold


def _fix_widths(table, widths) -> None:
    """Fixed column widths that Word and LibreOffice both honour (grid columns and every cell)."""
    table.autofit = False
    grid = table._tbl.tblGrid
    for width, column in zip(widths, grid.findall(qn("w:gridCol")), strict=True):
        column.set(qn("w:w"), str(int(width.twips)))
    for row in table.rows:
        for tc in row._tr.tc_lst:
            span = tc.grid_span
            start = sum(1 for _ in tc.itersiblings(preceding=True, tag=qn("w:tc")))
            before = sum(t.grid_span for t in row._tr.tc_lst[:start])
            tc.width = sum(widths[before : before + span], Cm(0))


def _heading(doc, text: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.paragraph_format.space_before = Pt(8)
    paragraph.paragraph_format.space_after = Pt(4)
    run = paragraph.add_run(text)
    run.bold = True
    run.font.size = Pt(11.5)


def build_contract(labels: dict, out: Path) -> None:
    """Write one contract template with the given labels."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.3)
    section.top_margin = section.bottom_margin = Cm(2.2)

    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    _set_fonts(normal.element, labels["font"], labels["east_asia"])
    normal.paragraph_format.space_after = Pt(3)
    normal.paragraph_format.line_spacing = 1.25

    doc.core_properties.title = labels["core_title"]
    doc.core_properties.author = "salesbook"
    doc.core_properties.comments = "Template: keep the Jinja tags when restyling."

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_after = Pt(6)
    run = title.add_run(labels["title"])
    run.bold = True
    run.font.size = Pt(20)

    # The draft line (and why) exists only in drafts and terminated contracts: {%p if %} removes
    # the whole paragraph otherwise. The footer repeats the mark on every page.
    doc.add_paragraph("{%p if is_draft %}")
    draft = doc.add_paragraph()
    draft.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = draft.add_run(labels["draft_line"])
    run.bold = True
    run.font.color.rgb = DRAFT_RED
    doc.add_paragraph("{%p endif %}")

    number = doc.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    number.add_run(labels["number"]).bold = True

    parties = doc.add_table(rows=1, cols=2)
    parties.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, head, rows in (
        (parties.rows[0].cells[0], labels["seller"], labels["seller_rows"]),
        (parties.rows[0].cells[1], labels["buyer"], labels["buyer_rows"]),
    ):
        _cell_text(cell, head, bold=True)
        for row in rows:
            paragraph = cell.add_paragraph(row)
            paragraph.paragraph_format.space_after = Pt(0)

    doc.add_paragraph(labels["preamble"]).paragraph_format.space_before = Pt(8)

    _heading(doc, labels["art1"])
    widths = [Cm(1.1), Cm(3.9), Cm(2.5), Cm(1.5), Cm(1.5), Cm(2.8), Cm(3.1)]
    right = WD_ALIGN_PARAGRAPH.RIGHT
    center = WD_ALIGN_PARAGRAPH.CENTER
    table = doc.add_table(rows=7, cols=7)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, head in enumerate(labels["headers"]):
        _cell_text(table.rows[0].cells[i], head, bold=True, align=center)
        _shade(table.rows[0].cells[i], "D9E2F3")
    # Row loop: docxtpl repeats the row between the {%tr for %} and {%tr endfor %} rows.
    _cell_text(table.rows[1].cells[0], "{%tr for line in lines %}")
    cells = table.rows[2].cells
    for i, (text, align) in enumerate(
        [
            ("{{ loop.index }}", center),
            ("{{ line.product }}", WD_ALIGN_PARAGRAPH.LEFT),
            ("{{ line.spec | default('') }}", WD_ALIGN_PARAGRAPH.LEFT),
            ("{{ line.quantity | quantity }}", right),
            ("{{ line.unit | default('') }}", center),
            ("{{ line.unit_price | money('') }}", right),
            ("{{ line.line_total | money('') }}", right),
        ]
    ):
        _cell_text(cells[i], text, align=align)
    _cell_text(table.rows[3].cells[0], "{%tr endfor %}")
    for row_index, label, value, bold in (
        (4, labels["subtotal"], "{{ subtotal | money }}", False),
        (5, labels["discount"], "-{{ discount_amount | money }}", False),
        (6, labels["total"], "{{ total | money }}", True),
    ):
        row = table.rows[row_index]
        merged = row.cells[0].merge(row.cells[5])
        _cell_text(merged, label, bold=bold, align=right)
        _cell_text(row.cells[6], value, bold=bold, align=right)
    _fix_widths(table, widths)

    upper = doc.add_paragraph()
    upper.paragraph_format.space_before = Pt(6)
    upper.add_run(labels["upper"]).bold = True

    _heading(doc, labels["art2"])
    doc.add_paragraph(labels["terms"])
    for head, body in labels["clauses"]:
        _heading(doc, head)
        doc.add_paragraph(body)

    doc.add_paragraph().paragraph_format.space_before = Pt(12)
    signatures = doc.add_table(rows=1, cols=2)
    for cell, rows in (
        (signatures.rows[0].cells[0], labels["sign_seller"]),
        (signatures.rows[0].cells[1], labels["sign_buyer"]),
    ):
        _cell_text(cell, rows[0], bold=True)
        for row in rows[1:]:
            paragraph = cell.add_paragraph(row)
            paragraph.paragraph_format.space_before = Pt(14)
        cell.add_paragraph(labels["date"]).paragraph_format.space_before = Pt(14)

    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = footer.add_run(labels["footer"])
    run.font.size = Pt(8)

    doc.save(out)


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else ROOT / "templates"
    out_dir.mkdir(parents=True, exist_ok=True)
    build_contract(ZH, out_dir / "contract_zh.docx")
    build_contract(EN, out_dir / "contract_en.docx")
    print(f"wrote {out_dir / 'contract_zh.docx'} and {out_dir / 'contract_en.docx'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
