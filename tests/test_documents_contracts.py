"""Tests for contract rendering: content, drafts, field checks, sandbox, docxtpl equivalence, PDF."""

import datetime as dt
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import docx
import pytest

from salesbook.documents import contracts as contracts_module
from salesbook.documents.contracts import (
    PdfConverterMissing,
    PreparedDocx,
    build_contract_context,
    contracts_index,
    convert_to_pdf,
    default_contract_template,
    is_draft,
    render_contract_plain,
    render_contracts,
)
from salesbook.documents.env import TemplateFieldMissing, TemplateSecurityError, make_env, required_variables
from salesbook.documents.filters import money, rmb_upper

ZH = default_contract_template("zh")
EN = default_contract_template("en")

SELLER = {
    "name": "上海示例科技有限公司",
    "address": "上海市浦东新区世纪大道100号",
    "contact": "王经理",
    "phone": "021-12345678",
}


def make_context(
    contract_id="HT-2026-001", *, approved=True, customer="北京甲乙贸易有限公司", lines=None, **extra
):
    """A contract context built the way the CLI will build it."""
    lines = lines or [
        {"product": "工业传感器", "spec": "S-100", "quantity": 10, "unit": "台", "unit_price": "1200.50"},
        {"product": "安装调试服务", "spec": "", "quantity": Decimal("2.5"), "unit": "天", "unit_price": 800},
        {
            "product": "数据网关 & 软件 <年费>",
            "spec": "G-2",
            "quantity": 3,
            "unit": "套",
            "unit_price": "3333.33",
        },
    ]
    contract = {
        "contract_id": contract_id,
        "discount_rate": "0.05",
        "payment_terms": "合同签订后7日内支付30%预付款，验收合格后30日内付清余款。",
        "signed": dt.date(2026, 11, 26),
        "owner_name": "李四",
        "status": "Signed" if approved else "In Review",
        "legal_review": "Approved",
        "finance_review": "通过" if approved else "待审",
        **extra,
    }
    buyer = {"name": customer, "contact": "张三", "phone": "13812345678", "address": "北京市朝阳区建国路1号"}
    return build_contract_context(contract, lines, buyer, SELLER)


def document_text(path: Path) -> str:
    """All visible text of a .docx: paragraphs, table cells, footers."""
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    for section in document.sections:
        parts.extend(p.text for p in section.footer.paragraphs)
    return "\n".join(parts)


def tiny_template(path: Path, *paragraphs: str) -> Path:
    """A one-page .docx template holding the given paragraphs (tags included)."""
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path


def test_contract_shows_parties_lines_total_and_capitals(tmp_path):
    """An approved contract names both parties, every line item, the total and its Chinese capitals, and no draft mark."""
    context = make_context()
    [doc] = render_contracts([context], tmp_path, template=ZH)
    text = document_text(doc.path)
    assert doc.path.name == "HT-2026-001_北京甲乙贸易有限公司.docx" and not doc.is_draft
    for needle in [
        SELLER["name"],
        SELLER["address"],
        "北京甲乙贸易有限公司",
        "张三",
        "13812345678",
        "合同编号：HT-2026-001",
    ]:
        assert needle in text
    for product, quantity, price, line_total in [
        ("工业传感器", "10", "1,200.50", "12,005.00"),
        ("安装调试服务", "2.5", "800.00", "2,000.00"),
        ("数据网关 & 软件 <年费>", "3", "3,333.33", "9,999.99"),
    ]:
        row = next(r for r in docx.Document(str(doc.path)).tables[1].rows if r.cells[1].text == product)
        assert [c.text for c in row.cells[3:4] + row.cells[5:7]] == [quantity, price, line_total]
    assert context["total"] == Decimal("22804.74")  # 24004.99 - 5 % (1200.2495 -> 1200.25)
    assert "¥24,004.99" in text and "-¥1,200.25" in text and "¥22,804.74" in text
    assert "合同总价（大写）：人民币贰万贰仟捌佰零肆元柒角肆分（小写：¥22,804.74）" in text
    assert "2026年11月26日" in text
    assert "草稿" not in text
    assert docx.Document(str(doc.path)).paragraphs[0].text == "销售合同"


def test_unreviewed_contract_is_only_a_draft(tmp_path):
    """A contract without both reviews Approved carries 草稿 in its title, a draft line and file name, and is listed as a draft."""
    docs = render_contracts(
        [make_context(approved=False), make_context("HT-2026-002")], tmp_path, template=ZH
    )
    draft, final = docs
    assert draft.is_draft and not final.is_draft
    assert draft.path.name == "HT-2026-001_北京甲乙贸易有限公司_草稿.docx"
    document = docx.Document(str(draft.path))
    assert document.paragraphs[0].text == "销售合同（草稿）"
    assert "不得签署" in document.paragraphs[1].text and "财务审核" in document.paragraphs[1].text  # says why
    assert "草稿，不得签署：财务审核" in document.sections[0].footer.paragraphs[0].text  # on every page
    rows = contracts_index(docs)
    assert [(r["contract"], r["draft"], r["document"], r["amount"], r["status"]) for r in rows] == [
        ("HT-2026-001", "yes", "draft", "22804.74", "In Review"),
        ("HT-2026-002", "no", "final", "22804.74", "Signed"),
    ]
    assert rows[0]["file"] == draft.path.name and rows[0]["customer"] == "北京甲乙贸易有限公司"
    assert "财务审核" in rows[0]["reason"] and rows[1]["reason"] == ""


def test_terminated_and_flagged_contracts_are_marked_with_why(tmp_path):
    """A terminated contract says 已终止 (not 草稿) on title and footer; a reviewed one with a reason is a draft saying it."""
    terminated = {**make_context("HT-2026-003"), "is_terminated": True}
    flagged = {**make_context("HT-2026-004"), "is_draft": True, "mark_reason": "折扣率 20% 超过 10%，未获主管授权"}
    for template in (ZH, EN):
        out = tmp_path / template.stem
        docs = render_contracts([terminated, flagged, make_context("HT-2026-005")], out, template=template)
        assert [(d.mark, d.path.name.endswith(s)) for d, s in zip(docs, ("_已终止.docx", "_草稿.docx", "司.docx"),
                                                                  strict=True)] == [
            ("terminated", True), ("draft", True), ("final", True)]
        term, flag, final = (docx.Document(str(d.path)) for d in docs)
        if template is ZH:
            assert term.paragraphs[0].text == "销售合同（已终止）" and "已终止" in term.sections[0].footer.paragraphs[0].text
            assert "草稿" not in term.paragraphs[0].text
            assert flag.paragraphs[0].text == "销售合同（草稿）"
            assert "未获主管授权" in flag.paragraphs[1].text and "未获主管授权" in flag.sections[0].footer.paragraphs[0].text
            assert final.paragraphs[0].text == "销售合同" and "草稿" not in final.sections[0].footer.paragraphs[0].text
        else:
            assert term.paragraphs[0].text == "SALES CONTRACT (TERMINATED)"
            assert "TERMINATED" in term.sections[0].footer.paragraphs[0].text
            assert flag.paragraphs[0].text == "SALES CONTRACT (DRAFT)" and "主管授权" in flag.paragraphs[1].text
        rows = contracts_index(docs)
        assert [(r["document"], r["draft"]) for r in rows] == [("terminated", "no"), ("draft", "yes"), ("final", "no")]
        assert "终止" in rows[0]["reason"] and "主管授权" in rows[1]["reason"]


def test_draft_flag_cannot_be_cleared_by_the_context():
    """is_draft=False in the data does not make an unreviewed contract final; is_draft=True marks a reviewed one."""
    assert is_draft({"legal_review": "Approved", "finance_review": "Pending", "is_draft": False})
    assert is_draft({"legal_review": "通过", "finance_review": "Approved", "is_draft": True})
    assert not is_draft({"legal_review": " approved ", "finance_review": "通过"})
    assert is_draft({})


def test_english_template_has_the_same_fields(tmp_path):
    """The English contract shows the same parties, totals and capitals, with DRAFT in a draft's title."""
    assert required_variables(EN) == required_variables(ZH)
    [doc] = render_contracts([make_context(approved=False)], tmp_path, template=EN)
    text = document_text(doc.path)
    assert docx.Document(str(doc.path)).paragraphs[0].text == "SALES CONTRACT (DRAFT)"
    assert "Buyer: 北京甲乙贸易有限公司" in text and "26 November 2026" in text
    assert rmb_upper(Decimal("22804.74")) in text and money(Decimal("22804.74")) in text


def test_control_characters_in_data_do_not_corrupt_the_document(tmp_path):
    """Control characters pasted into a customer name are dropped instead of breaking document.xml."""
    [doc] = render_contracts([make_context(customer="甲\x01乙\x1b公司")], tmp_path, template=ZH)
    assert "乙方（买方）：甲乙公司" in document_text(doc.path)


def test_typo_in_top_level_field_fails_before_writing(tmp_path):
    """A template using a field the data lacks fails with TemplateFieldMissing naming field and template, writing nothing."""
    template = tiny_template(tmp_path / "typo.docx", "合同 {{ contract_idd }}")
    out = tmp_path / "out"
    with pytest.raises(TemplateFieldMissing) as caught:
        render_contracts([make_context()], out, template=template)
    assert caught.value.field == "contract_idd"
    assert "'contract_idd'" in str(caught.value) and "typo.docx" in str(caught.value)
    assert list(out.iterdir()) == []


def test_typo_in_nested_field_fails_at_render(tmp_path):
    """A misspelt attribute (customer.nmae) surfaces as TemplateFieldMissing naming it, not as a traceback or a blank."""
    template = tiny_template(tmp_path / "nested.docx", "买方 {{ customer.nmae }}")
    with pytest.raises(TemplateFieldMissing, match=r"nested\.docx uses the field 'nmae'"):
        render_contracts([make_context()], tmp_path / "out", template=template)


@pytest.mark.parametrize(
    "payload",
    [
        "{{ contract_id.__class__.__mro__[1].__subclasses__() }}",
        "{{ os.system('id') }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ (lines | attr('__class__')) }}",
    ],
)
def test_docx_template_cannot_escape_the_sandbox(tmp_path, payload):
    """A .docx template reaching for __class__, __subclasses__, __globals__ or os fails with TemplateSecurityError naming it."""
    template = tiny_template(tmp_path / "evil.docx", "x " + payload)
    with pytest.raises(TemplateSecurityError, match=r"evil\.docx tried something unsafe"):
        render_contracts([make_context()], tmp_path / "out", template=template)


def contexts_for_equivalence():
    """Contexts that exercise escaping, tabs/newlines, many rows, drafts and blank optional fields."""
    many = [{"product": f"零件 {i}", "quantity": i + 1, "unit_price": "9.99"} for i in range(40)]
    return [
        make_context(),
        make_context(approved=False, customer='A&B "Quotes" <Co> 有限公司'),
        make_context(lines=many, payment_terms="第一行\n第二行\t带制表符", signed=None),
        make_context(discount_rate=0, customer="ÆØÅ \u202e RTL \x01\x1b控制"),
    ]


@pytest.mark.parametrize("template", [ZH, EN], ids=["zh", "en"])
def test_fast_path_equals_docxtpl(tmp_path, template):
    """The prepared fast path writes the same document.xml and footer XML as plain docxtpl, in a valid zip."""
    env = make_env()
    prepared = PreparedDocx(template, env)
    for i, context in enumerate(contexts_for_equivalence()):
        context = {**context, "is_draft": is_draft(context)}
        plain = render_contract_plain(context, tmp_path / f"plain{i}.docx", template=template, env=env)
        fast = tmp_path / f"fast{i}.docx"
        prepared.render_to(context, fast)
        with zipfile.ZipFile(plain) as a, zipfile.ZipFile(fast) as b:
            assert b.testzip() is None
            assert sorted(a.namelist()) == sorted(b.namelist())
            for part in ("word/document.xml", "word/footer1.xml"):
                assert a.read(part).decode() == b.read(part).decode(), part
            assert b.read("word/styles.xml") == zipfile.ZipFile(template).read("word/styles.xml")
        assert document_text(fast) == document_text(plain)
        fast_title = docx.Document(str(fast)).core_properties.title
        assert fast_title == docx.Document(str(plain)).core_properties.title
        assert fast_title.endswith(" " + context["contract_id"])


def test_unsafe_environments_are_refused_or_made_safe(tmp_path):
    """A non-sandboxed environment is refused; one without autoescape still escapes "&" and "<" in the XML."""
    import jinja2

    with pytest.raises(TypeError, match="sandboxed"):
        render_contracts([make_context()], tmp_path, template=ZH, env=jinja2.Environment())
    loose = make_env(autoescape=False)
    [doc] = render_contracts([make_context(customer="A&B <Co>")], tmp_path, template=ZH, env=loose)
    assert "乙方（买方）：A&B <Co>" in document_text(doc.path)


def test_output_names_are_safe_and_unique(tmp_path):
    """Hostile contract ids and customer names give safe, distinct files inside out_dir."""
    docs = render_contracts(
        [
            make_context("../../x", customer="CON"),
            make_context("../../x", customer="con"),
            make_context("A/B", customer="合" * 200),
        ],
        tmp_path,
        template=ZH,
    )
    names = [doc.path.name for doc in docs]
    assert names[0] == "_._x_CON.docx" and names[1] == "_._x_con (2).docx"
    assert all(doc.path.parent == tmp_path.resolve() and doc.path.exists() for doc in docs)
    assert len(names[2].encode()) <= 200


def test_pdf_converter_missing_is_a_clear_error(tmp_path, monkeypatch):
    """Without LibreOffice, asking for PDFs fails with PdfConverterMissing telling how to install it."""
    monkeypatch.setattr(contracts_module.shutil, "which", lambda name: None)
    with pytest.raises(PdfConverterMissing, match="apt-get install libreoffice-writer"):
        convert_to_pdf([tmp_path / "a.docx"], tmp_path)


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_contract_pdf_via_libreoffice(tmp_path):
    """LibreOffice turns a rendered contract into a PDF whose text holds the total in Chinese capitals."""
    [doc] = render_contracts([make_context()], tmp_path, template=ZH, pdf=True)
    assert doc.pdf is not None and doc.pdf.stat().st_size > 1000
    text = subprocess.run(
        ["pdftotext", "-layout", str(doc.pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    compact = "".join(text.split())
    assert rmb_upper(Decimal("22804.74")) in compact
    assert "北京甲乙贸易有限公司" in compact
