"""The Jinja source docxtpl compiles from a .docx: what both the template checks (env) and the
contract renderer (contracts) read. Its own module so that env and contracts need not import each other."""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.oxml import parse_xml
from docxtpl import DocxTemplate
from lxml import etree

__all__ = ["docx_template_source"]


def docx_template_source(path: str | Path) -> str:
    """The Jinja source docxtpl would compile for a .docx (body, headers, footers), for checks."""
    tpl = DocxTemplate(str(path))
    doc = Document(str(path))
    source = tpl.patch_xml(etree.tostring(doc.element.body, encoding="unicode"))
    for rel in doc.part.rels.values():
        if rel.reltype in (RT.HEADER, RT.FOOTER) and not rel.is_external and rel.target_part.blob:
            source += tpl.patch_xml(etree.tostring(parse_xml(rel.target_part.blob), encoding="unicode"))
    return source
