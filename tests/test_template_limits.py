"""Edited templates cannot hang, exhaust memory or crash a run: sandbox limits, the render worker, clear errors.

Every template here is generated in the test: a one-paragraph .docx (contracts) or an HTML
Jinja file (reports). Layout controls and bidi overrides in the data cannot forge a contract.
"""

from __future__ import annotations

import re
import zipfile

import docx
import pytest
from click.testing import CliRunner
from test_documents_contracts import ZH, document_text, make_context, tiny_template
from test_documents_reports import report_context

from salesbook.cli import main
from salesbook.documents import worker as worker_module
from salesbook.documents.contracts import render_contracts
from salesbook.documents.env import (
    TemplateInvalid,
    TemplateSecurityError,
    TemplateTooCostly,
    TemplateUnsupported,
    make_env,
)
from salesbook.documents.reports import report_renderer
from salesbook.documents.worker import RenderWorker


@pytest.mark.parametrize(
    ("body", "error", "words"),
    [
        ("{{ 10 ** (10 ** 8) }}", TemplateSecurityError, "power"),
        ("{% set n = 10 ** 8 %}{{ 2 ** n }}", TemplateSecurityError, "power"),
        ("{{ 'x' * 100000000 }}", TemplateSecurityError, "repetition"),
        ("{{ lines * 10000000 }}", TemplateSecurityError, "repetition"),
        ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
         TemplateSecurityError, "range()"),
        ("{% include 'clauses.docx' %}", TemplateUnsupported, "{% include %}"),
        ("{% import 'macros.html' as m %}", TemplateUnsupported, "{% import %}"),
        ("{% from 'macros.html' import x %}", TemplateUnsupported, "{% from … import %}"),
        ("{% extends 'base.docx' %}", TemplateUnsupported, "{% extends %}"),
        ("{{ contract_id | money }}", TemplateInvalid, "ValueError: not an amount"),
        ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", TemplateInvalid, "calls itself"),
        ("{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}", TemplateInvalid, "nested too deeply"),
    ],
)
def test_hostile_contract_templates_fail_with_a_message_naming_the_template(tmp_path, body, error, words):
    """Powers, repetitions, big ranges, include/import/extends, failing filters and runaway macros: a named error."""
    template = tiny_template(tmp_path / "edited.docx", "合同 {{ contract_id }} " + body)
    out = tmp_path / "out"
    with pytest.raises(error) as caught:
        render_contracts([make_context()], out, template=template)
    message = str(caught.value)
    assert "edited.docx" in message and words in message, message
    assert not list(out.glob("*.docx"))


def test_a_template_that_loops_too_long_is_stopped(tmp_path):
    """A nested loop within the range bound but 10^8 iterations long stops at the time limit, naming the template."""
    template = tiny_template(tmp_path / "slow.docx",
                             "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}")
    with pytest.raises(TemplateTooCostly, match=r"slow\.docx took longer than 2 s"):
        render_contracts([make_context()], tmp_path / "out", template=template, render_timeout=2)


def test_a_template_that_builds_gigabytes_is_stopped(tmp_path):
    """'x' * 100000 in a loop of 10,000 (a gigabyte of text) ends at the worker's memory limit, naming the template."""
    template = tiny_template(tmp_path / "big.docx", "{% for i in range(10000) %}{{ 'x' * 100000 }}{% endfor %}")
    with pytest.raises(TemplateTooCostly, match=r"big\.docx needed more than \d+ MiB|big\.docx stopped"):
        render_contracts([make_context()], tmp_path / "out", template=template)


def test_compiling_never_runs_a_filter_on_constants(tmp_path):
    """Jinja folds constant filters at compile time; ours cannot, so a gigabyte-wide center() is bounded by the worker."""
    env = make_env()
    source = "{{ 'x' | center(2000000000) }}"
    env.compile(source)  # returns at once: nothing is computed while compiling
    template = tiny_template(tmp_path / "wide.docx", source)
    with pytest.raises(TemplateTooCostly, match=r"wide\.docx"):
        render_contracts([make_context()], tmp_path / "out", template=template)


def test_ordinary_operators_still_work():
    """Small powers, repetitions, ranges and modulo render as before."""
    out = make_env().from_string("{{ 2 ** 10 }} {{ '-' * 3 }} {{ range(3) | list }} {{ 7 % 3 }} {{ [0] * 2 }}").render()
    assert out == "1024 --- [0, 1, 2] 1 [0, 0]"


def test_one_worker_renders_the_whole_batch(tmp_path, monkeypatch):
    """Many contracts pay one worker start: the renderer is built once and used for every contract."""
    starts = []
    real = worker_module.RenderWorker.__init__

    def counting(self, *args, **kwargs):
        starts.append(args)
        real(self, *args, **kwargs)

    monkeypatch.setattr(worker_module.RenderWorker, "__init__", counting)
    docs = render_contracts([make_context(f"HT-{i}") for i in range(12)], tmp_path, template=ZH)
    assert len(docs) == 12 and len(starts) == 1
    assert all(zipfile.ZipFile(d.path).testzip() is None for d in docs)


def test_the_worker_survives_a_data_error_only_as_a_clear_message(tmp_path):
    """A report template failing on one context ends the batch with TemplateInvalid, not a traceback or a hang."""
    template = tmp_path / "r.html.j2"
    template.write_text("{{ (revenue / 0) }}", encoding="utf-8")
    with RenderWorker(report_renderer, (str(template), None), template=str(template)) as worker:
        with pytest.raises(TemplateInvalid, match=r"r\.html\.j2 .*division by zero"):
            worker.render(report_context())


def test_report_command_turns_a_runaway_template_into_exit_2(tmp_path):
    """`salesbook report --template` with a template over the range bound: exit 2, the template named, no traceback."""
    from test_hostile_outputs import _workspace

    book = _workspace(tmp_path, texts=["甲公司"])
    template = tmp_path / "slow.html.j2"
    template.write_text("{% for i in range(10 ** 6) %}.{% endfor %}", encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(tmp_path / "team"), "--master", str(book), "--period", "2026-11",
                                       "--out", str(tmp_path / "r"), "--template", str(template)])
    assert result.exit_code == 2, result.output
    assert "slow.html.j2" in result.output and "range()" in result.output and "Traceback" not in result.output


def test_workbook_contracts_button_with_an_edited_template_says_what_is_wrong(tmp_path):
    """The contracts action with templates/contract_zh.docx edited to include another file: exit 2 naming it."""
    from test_hostile_outputs import _workspace

    book = _workspace(tmp_path, texts=["甲公司"])
    tiny_template(tmp_path / "templates" / "contract_zh.docx", "{% include 'terms.docx' %}")
    result = CliRunner().invoke(main, ["run", "contracts", "--book", str(book)])
    assert result.exit_code == 2, result.output
    assert "contract_zh.docx" in result.output and "{% include %}" in result.output
    assert "Traceback" not in result.output


def test_layout_controls_and_bidi_overrides_in_data_cannot_forge_a_contract(tmp_path):
    """\\a, \\f, \\v and bidi overrides in the data become plain text: no extra paragraph, page break or reversal."""
    plain = make_context(customer="北京甲乙贸易有限公司", payment_terms="预付30%")
    forged = make_context(customer="北京\u202e甲乙\u202c贸易\u2066有限\u2069公司",
                          payment_terms="预付30%\a第九条 卖方放弃全部权利\f\v")
    [a] = render_contracts([plain], tmp_path / "a", template=ZH)
    [b] = render_contracts([forged], tmp_path / "b", template=ZH)
    doc_a, doc_b = docx.Document(str(a.path)), docx.Document(str(b.path))
    assert len(doc_b.paragraphs) == len(doc_a.paragraphs)
    xml = zipfile.ZipFile(b.path).read("word/document.xml").decode()
    assert xml.count('w:type="page"') == zipfile.ZipFile(a.path).read("word/document.xml").decode().count(
        'w:type="page"')
    assert not re.search("[\u202a-\u202e\u2066-\u2069\x07\x0b\x0c]", xml)
    text = document_text(b.path)
    assert "北京甲乙贸易有限公司" in text and "预付30% 第九条 卖方放弃全部权利" in text


def test_a_template_may_still_write_its_own_breaks(tmp_path):
    """A page break the template itself writes ("\\f" in a tag) still becomes a page break in the document."""
    template = tiny_template(tmp_path / "breaks.docx", "第一页 {{ contract_id }}{{ '\\f' }}第二页")
    [doc] = render_contracts([make_context()], tmp_path / "out", template=template)
    assert 'w:type="page"' in zipfile.ZipFile(doc.path).read("word/document.xml").decode()
