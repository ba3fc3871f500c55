"""Contracts: one .docx per contract from a docxtpl template, an index of them, and PDF via LibreOffice.

Rendering is done the way docxtpl does it, but prepared once per template instead of once per
contract: the template's zip is read once, docxtpl's own XML pre-processing of the tags
(``DocxTemplate.patch_xml``) runs once, the Jinja template is compiled once; per contract only
the document body (and any header/footer/core property with tags) is rendered, post-processed
exactly as docxtpl does, and written into a new zip that copies the other parts' compressed bytes
unchanged. ``tests/test_documents_contracts.py`` checks that document.xml equals docxtpl's own.

Context shape (a plain dict per contract; see ``ContractContext``)::

    {
      "contract_id": "HT-2026-001",
      "customer": {"name": str, "contact": str, "phone": str, "address": str (optional)},
      "seller":   {"name": str, "address": str, "contact": str, "phone": str},
      "lines": [{"product": str, "spec": str (optional), "quantity": number,
                 "unit": str (optional), "unit_price": number, "line_total": number}, ...],
      "subtotal": number, "discount_rate": number (0.05 = 5 %), "discount_amount": number,
      "total": number,                 # the final amount; written in figures and in capitals
      "payment_terms": str,
      "signed": date | datetime | "2026-11-26" | None,
      "owner_name": str,               # the rep handling the contract
      "status": str,                   # e.g. "Signed" / "已签订"; listed in contracts.csv
      "legal_review": str, "finance_review": str,   # "Approved"/"通过"; anything else = not approved
      "is_draft": bool (optional),     # can only add the draft mark, never remove it
      "is_terminated": bool (optional),  # 已终止: marked TERMINATED instead of DRAFT
      "mark_reason": str (optional),   # why it is a draft (or terminated), shown with the mark
    }

``is_draft`` is True for every document that must not be signed — drafts and terminated
contracts — so a template that knows only ``is_draft`` never renders those as final; the
shipped templates show 已终止 / TERMINATED when ``is_terminated`` is set and 草稿 / DRAFT otherwise,
each with ``mark_reason``.

Numbers may be Decimal, int, float or text ("1,234.50"). ``build_contract_context`` builds this
dict from contract, line, customer and seller records and does the arithmetic.
"""

from __future__ import annotations

import copy
import html
import io
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import jinja2
from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.oxml import parse_xml
from docxtpl import DocxTemplate
from lxml import etree

from ..io.atomic import TEMP_PREFIX, atomic_write_bytes, publish
from .docx_source import docx_template_source
from .env import (
    DocumentError,
    check_context,
    checked_env,
    clean_data,
    parse_checked,
    render_guard,
)
from .filenames import inside, safe_filename
from .filters import to_decimal
from .worker import DEFAULT_TIMEOUT, RenderWorker, can_pass_objects

__all__ = [
    "APPROVED",
    "ContractContext",
    "ContractDoc",
    "ContractLine",
    "Party",
    "PdfConversionFailed",
    "PdfConverterMissing",
    "PdfResult",
    "PreparedDocx",
    "build_contract_context",
    "contracts_index",
    "convert_to_pdf",
    "default_contract_template",
    "docx_template_source",
    "is_draft",
    "mark_of",
    "pdf_converter",
    "render_contract_plain",
    "render_contracts",
]

APPROVED = frozenset({"approved", "通过", "已通过", "批准", "已批准"})
_FEN = Decimal("0.01")
_CORE_PROPERTIES = ("creator", "description", "identifier", "language", "subject", "title")
_JINJA_MARK = re.compile(r"\{[{%#]")


class Party(TypedDict):
    """One side of the contract. ``address`` is optional for the customer."""

    name: str
    contact: str
    phone: str
    address: NotRequired[str]


class ContractLine(TypedDict):
    """One line item; amounts in CNY."""

    product: str
    spec: NotRequired[str]
    quantity: Any
    unit: NotRequired[str]
    unit_price: Any
    line_total: Any


class ContractContext(TypedDict):
    """What a contract template is rendered with (see the module docstring)."""

    contract_id: str
    customer: Party
    seller: Party
    lines: list[ContractLine]
    subtotal: Any
    discount_rate: Any
    discount_amount: Any
    total: Any
    payment_terms: str
    signed: Any
    owner_name: str
    status: str
    legal_review: str
    finance_review: str
    is_draft: NotRequired[bool]
    is_terminated: NotRequired[bool]
    mark_reason: NotRequired[str]


class PdfConverterMissing(DocumentError):
    """Cannot make PDFs: LibreOffice ({program}) is not installed or not on PATH. Hint: install LibreOffice (Debian: apt-get install libreoffice-writer) or run without --pdf; the .docx files are written either way."""


class PdfConversionFailed(DocumentError):
    """LibreOffice could not convert {files}: {reason}. Hint: open the .docx in LibreOffice to see the problem, or close other LibreOffice windows and retry."""


@dataclass(frozen=True)
class PdfResult:
    """One document's conversion: the PDF written, or why there is none."""

    source: Path
    pdf: Path | None
    reason: str = ""


@dataclass(frozen=True)
class ContractDoc:
    """A rendered contract: what it is, whether it is only a draft, and where it was written."""

    contract_id: str
    customer: str
    amount: Decimal | None
    status: str
    is_draft: bool
    path: Path
    pdf: Path | None = None
    pdf_error: str = ""  # why the PDF asked for is missing
    mark: str = "final"  # final | draft | terminated
    reason: str = ""


def default_contract_template(language: str = "zh") -> Path:
    """The shipped contract template for ``language`` ("zh" or "en")."""
    name = f"contract_{language}.docx"
    here = Path(__file__).resolve()
    for candidate in (
        here.parents[2] / "templates" / name,  # source checkout
        here.parents[1] / "_shipped" / "templates" / name,  # installed wheel
    ):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"contract template {name} not found next to the salesbook package")


def is_draft(context: Mapping[str, Any]) -> bool:
    """True unless both legal and finance reviews are Approved (and the context does not ask for a draft)."""

    def approved(key: str) -> bool:
        return str(context.get(key) or "").strip().casefold() in APPROVED

    return bool(context.get("is_draft")) or not (approved("legal_review") and approved("finance_review"))


def _money(value: Any) -> Decimal:
    return to_decimal(value).quantize(_FEN, rounding=ROUND_HALF_UP)


def build_contract_context(
    contract: Mapping[str, Any],
    lines: Iterable[Mapping[str, Any]],
    customer: Mapping[str, Any],
    seller: Mapping[str, Any],
) -> dict[str, Any]:
    """Assemble a ContractContext from records, doing the arithmetic.

    ``contract``: contract_id, payment_terms, signed, owner_name, status, legal_review,
    finance_review, discount_rate (default 0) and optionally amount (the final amount; when
    given it is the total, otherwise total = subtotal - discount). ``lines``: product, spec,
    quantity, unit, unit_price (line_total is computed when absent). ``customer`` and
    ``seller``: name, contact, phone, address.
    """
    built_lines = []
    for line in lines:
        item = dict(line)
        item.setdefault("spec", "")
        item.setdefault("unit", "")
        if item.get("line_total") is None:
            item["line_total"] = _money(to_decimal(item["quantity"]) * to_decimal(item["unit_price"]))
        built_lines.append(item)
    subtotal = sum((_money(line["line_total"]) for line in built_lines), Decimal("0.00"))
    rate = to_decimal(contract.get("discount_rate") or 0)
    if contract.get("amount") not in (None, ""):
        total = _money(contract["amount"])
        discount_amount = max(subtotal - total, Decimal("0.00")) if rate else Decimal("0.00")
    else:
        discount_amount = _money(subtotal * rate)
        total = subtotal - discount_amount
    context = {
        "contract_id": str(contract["contract_id"]),
        "customer": {"address": "", **customer},
        "seller": {"address": "", **seller},
        "lines": built_lines,
        "subtotal": subtotal,
        "discount_rate": rate,
        "discount_amount": discount_amount,
        "total": total,
        "payment_terms": contract.get("payment_terms") or "",
        "signed": contract.get("signed"),
        "owner_name": contract.get("owner_name") or "",
        "status": contract.get("status") or "",
        "legal_review": contract.get("legal_review") or "",
        "finance_review": contract.get("finance_review") or "",
        "is_terminated": bool(contract.get("is_terminated")),
        "mark_reason": contract.get("mark_reason") or "",
    }
    context["is_draft"] = is_draft({**context, "is_draft": contract.get("is_draft")})
    return context


def mark_of(context: Mapping[str, Any]) -> str:
    """final, draft or terminated: how the document for `context` is marked."""
    if context.get("is_terminated"):
        return "terminated"
    return "draft" if is_draft(context) else "final"


def _default_reason(context: Mapping[str, Any]) -> str:
    """Why a draft is a draft when the caller did not say: the reviews that are not approved."""
    missing = [label for key, label in (("legal_review", "法务审核 legal review"), ("finance_review", "财务审核 finance review"))
               if str(context.get(key) or "").strip().casefold() not in APPROVED]
    return "、".join(missing) + " 未通过 / not approved" if missing else ""


# --------------------------------------------------------------------------- zip writing


def _dos_time(date_time: tuple[int, ...]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time[:6]
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


@dataclass(frozen=True)
class _ZipEntry:
    """One member of a zip, held compressed, ready to be copied byte for byte."""

    name: bytes
    flags: int
    method: int
    crc: int
    compressed: bytes
    size: int
    dos_time: int
    dos_date: int

    @classmethod
    def deflate(cls, name: str, data: bytes, dos: tuple[int, int]) -> _ZipEntry:
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        compressed = packer.compress(data) + packer.flush()
        encoded, flags = _zip_name(name)
        return cls(encoded, flags, 8, zlib.crc32(data), compressed, len(data), dos[0], dos[1])


def _zip_name(name: str) -> tuple[bytes, int]:
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), 0x800


def _read_raw_entries(path: Path) -> tuple[list[str], dict[str, _ZipEntry]]:
    """Every member of a zip with its compressed bytes, in archive order."""
    order: list[str] = []
    entries: dict[str, _ZipEntry] = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as raw:
        for info in archive.infolist():
            raw.seek(info.header_offset)
            header = raw.read(30)
            name_len, extra_len = struct.unpack("<HH", header[26:30])
            raw.seek(info.header_offset + 30 + name_len + extra_len)
            compressed = raw.read(info.compress_size)
            if info.compress_type not in (0, 8):
                # Unusual method: recompress so the copy is readable everywhere.
                data = archive.read(info)
                entry = _ZipEntry.deflate(info.filename, data, _dos_time(info.date_time))
            else:
                encoded, flags = _zip_name(info.filename)
                time, date = _dos_time(info.date_time)
                entry = _ZipEntry(
                    encoded, flags, info.compress_type, info.CRC, compressed, info.file_size, time, date
                )
            order.append(info.filename)
            entries[info.filename] = entry
    return order, entries


def _zip_bytes(entries: Sequence[_ZipEntry]) -> bytes:
    """A plain (non-zip64) zip of already-compressed entries."""
    chunks: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for e in entries:
        local = struct.pack(
            "<4sHHHHHLLLHH",
            b"PK\x03\x04",
            20,
            e.flags,
            e.method,
            e.dos_time,
            e.dos_date,
            e.crc,
            len(e.compressed),
            e.size,
            len(e.name),
            0,
        )
        chunks += (local, e.name, e.compressed)
        central.append(
            struct.pack(
                "<4sHHHHHHLLLHHHHHLL",
                b"PK\x01\x02",
                20,
                20,
                e.flags,
                e.method,
                e.dos_time,
                e.dos_date,
                e.crc,
                len(e.compressed),
                e.size,
                len(e.name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + e.name
        )
        offset += len(local) + len(e.name) + len(e.compressed)
    directory = b"".join(central)
    end = struct.pack(
        "<4sHHHHLLH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), offset, 0
    )
    return b"".join(chunks) + directory + end


# --------------------------------------------------------------------------- preparing a template


def _prepare_source(tpl: DocxTemplate, xml: str) -> str:
    # Same steps as DocxTemplate.build_xml / render_xml_part before compiling.
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", tpl.patch_xml(xml))


def _finish_xml(tpl: DocxTemplate, rendered: str) -> str:
    # Same steps as the end of DocxTemplate.render_xml_part.
    rendered = re.sub(r"\n<w:p([ >])", r"<w:p\1", rendered)
    rendered = rendered.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
    return tpl.resolve_listing(rendered)


class PreparedDocx:
    """A docx template read, pre-processed and compiled once, then rendered fast many times.

    Supports what salesbook templates use: the body, headers and footers, and the core document
    properties (title, subject, ...) with Jinja tags. Templates whose footnotes carry tags, or
    that use docxtpl's InlineImage/Subdoc objects, should go through ``render_contract_plain``.
    """

    def __init__(self, template: str | Path, env: jinja2.Environment | None = None) -> None:
        self.path = Path(template)
        self.env = checked_env(env)
        self._tpl = DocxTemplate(str(self.path))  # used only for docxtpl's XML helpers
        doc = Document(str(self.path))
        self._order, self._entries = _read_raw_entries(self.path)
        main_name = doc.part.partname.lstrip("/")
        self._dos = (self._entries[main_name].dos_time, self._entries[main_name].dos_date)

        body = doc.element.body
        body_source = _prepare_source(self._tpl, etree.tostring(body, encoding="unicode"))
        sources = [body_source]
        self._body = self._compile(body_source)
        skeleton = copy.deepcopy(doc.element)
        skeleton_body = skeleton.body
        for child in list(skeleton_body):
            skeleton_body.remove(child)
        self._skeleton = skeleton
        self._main_name = main_name

        # Headers and footers with tags, rendered the way docxtpl renders them.
        self._parts: dict[str, jinja2.Template] = {}
        for rel in doc.part.rels.values():
            if rel.reltype in (RT.HEADER, RT.FOOTER) and not rel.is_external and rel.target_part.blob:
                part = rel.target_part
                xml = etree.tostring(parse_xml(part.blob), encoding="unicode")
                if _JINJA_MARK.search(xml):
                    source = _prepare_source(self._tpl, xml)
                    sources.append(source)
                    self._parts[part.partname.lstrip("/")] = self._compile(source)

        # Core properties (docxtpl renders title, subject, author, ... as templates too).
        self._core_name = "docProps/core.xml"
        self._core: tuple[Any, dict[str, jinja2.Template]] | None = None
        if self._core_name in self._entries:
            with zipfile.ZipFile(self.path) as archive:
                core_root = etree.fromstring(archive.read(self._core_name))
            templates = {}
            for element in core_root:
                local = etree.QName(element).localname
                if local in _CORE_PROPERTIES and element.text and _JINJA_MARK.search(element.text):
                    sources.append(element.text)
                    templates[local] = self._compile(element.text)
            if templates:
                self._core = (core_root, templates)

        # docxtpl also renders footnotes; rare in contracts, so such templates take the plain path.
        self.plain = False
        with zipfile.ZipFile(self.path) as archive:
            for name in self._entries:
                if "footnotes" in name and _JINJA_MARK.search(archive.read(name).decode("utf-8", "replace")):
                    self.plain = True
        self.required = self._required(sources)

    def _compile(self, source: str) -> jinja2.Template:
        ast = parse_checked(self.env, source, self.path)
        return render_guard(self.path, lambda: self.env.from_string(ast))  # type: ignore[arg-type]

    def _required(self, sources: list[str]) -> set[str]:
        from jinja2 import meta

        names: set[str] = set()
        for source in sources:
            names |= meta.find_undeclared_variables(self.env.parse(source))
        return names - set(self.env.globals)

    def render_bytes(self, context: Mapping[str, Any]) -> dict[str, bytes]:
        """The parts that change for this context: zip name -> new uncompressed bytes."""
        check_context(self.required, context, self.path)
        context = clean_data(context)
        return render_guard(self.path, lambda: self._render(context))

    def _render(self, context: Mapping[str, Any]) -> dict[str, bytes]:
        tpl = self._tpl
        body_xml = _finish_xml(tpl, self._body.render(context))
        tree = tpl.fix_tables(body_xml)
        ids = 1000
        for element in tree.xpath("//wp:docPr", namespaces={"wp": _WP}):
            ids += 1
            element.attrib["id"] = str(ids)
        root = copy.deepcopy(self._skeleton)
        root.replace(root.body, tree)
        changed = {self._main_name: etree.tostring(root, encoding="UTF-8", standalone=True)}
        for name, template in self._parts.items():
            xml = _finish_xml(tpl, template.render(context))
            changed[name] = etree.tostring(parse_xml(xml.encode("utf-8")), encoding="UTF-8", standalone=True)
        if self._core is not None:
            core_root, templates = self._core
            core = copy.deepcopy(core_root)
            for element in core:
                local = etree.QName(element).localname
                if local in templates:
                    # docxtpl renders the plain text and python-docx escapes it; with
                    # autoescape on, undo the HTML escaping before lxml escapes again.
                    element.text = _unescape(templates[local].render(context))
            changed[self._core_name] = etree.tostring(core, encoding="UTF-8", standalone=True)
        return changed

    def render(self, context: Mapping[str, Any]) -> bytes:
        """The whole .docx for one context, as bytes."""
        if self.plain:
            check_context(self.required, context, self.path)
            return _plain_docx_bytes(context, self.path, self.env)
        changed = self.render_bytes(context)
        entries = [
            _ZipEntry.deflate(name, changed[name], self._dos) if name in changed else self._entries[name]
            for name in self._order
        ]
        return _zip_bytes(entries)

    def render_to(self, context: Mapping[str, Any], out_path: Path) -> None:
        """Render one context into a new .docx at out_path (written atomically)."""
        atomic_write_bytes(out_path, self.render(context))


_WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"


def _unescape(text: str) -> str:
    return html.unescape(text)


# --------------------------------------------------------------------------- public API


def _plain_docx_bytes(context: Mapping[str, Any], template: str | Path, env: jinja2.Environment) -> bytes:
    tpl = DocxTemplate(str(template))
    data = clean_data(dict(context))
    render_guard(template, lambda: tpl.render(data, jinja_env=env))
    buf = io.BytesIO()
    tpl.save(buf)
    return buf.getvalue()


def render_contract_plain(
    context: Mapping[str, Any],
    out_path: str | Path,
    *,
    template: str | Path,
    env: jinja2.Environment | None = None,
) -> Path:
    """Render one contract with plain docxtpl (the reference path; slower, supports every docxtpl feature)."""
    env = checked_env(env)
    atomic_write_bytes(out_path, _plain_docx_bytes(context, template, env))
    return Path(out_path)


def _prepared_docx(template: str, env: jinja2.Environment | None) -> PreparedDocx:
    """What the render worker builds (a module-level function, so a spawned worker can be given it)."""
    return PreparedDocx(template, env)


def render_contracts(
    contexts: Sequence[Mapping[str, Any]],
    out_dir: str | Path,
    *,
    template: str | Path | None = None,
    env: jinja2.Environment | None = None,
    pdf: bool = False,
    draft_suffix: str = "_草稿",
    terminated_suffix: str = "_已终止",
    taken: set[str] | None = None,
    render_timeout: float = DEFAULT_TIMEOUT,
    on_done=None,
) -> list[ContractDoc]:
    """Render one .docx per contract context into out_dir (and a PDF of each when ``pdf``).

    A contract whose legal and finance reviews are not both Approved is rendered as a draft:
    ``is_draft`` is set in the context it is rendered with (title and footer carry 草稿/DRAFT,
    a red draft line follows the title) and its file name ends with ``draft_suffix``; so is one
    whose context asks for it (an error on its row). A terminated one (``is_terminated``) is
    marked 已终止 / TERMINATED instead and its name ends with ``terminated_suffix``. The mark
    carries ``mark_reason`` (by default: which review is not approved). ``on_done(n, total)``
    hears of each contract written.
    Every context is checked against the template's fields before anything is written, so a
    missing field fails fast with TemplateFieldMissing. File names are
    "<contract_id>_<customer name>[_草稿].docx", made safe and unique (``taken`` shares the
    used names with other writers into out_dir). The template runs in a worker process, each
    contract within ``render_timeout`` seconds (``TemplateTooCostly`` otherwise). With ``pdf``
    a PDF that cannot be made is noted on its ContractDoc (``pdf_error``); the others are made.
    """
    template = Path(template) if template is not None else default_contract_template()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if pdf:
        pdf_converter()  # before anything is written: without LibreOffice, say so first
    env = checked_env(env) if env is not None else None
    # The template is compiled and each contract rendered in one worker process with time and
    # memory limits; a custom environment cannot be sent to a spawned worker (Windows, macOS).
    in_process = env is not None and not can_pass_objects()
    with RenderWorker(_prepared_docx, (str(template), env), template=str(template), timeout=render_timeout,
                      in_process=in_process) as worker:
        required = worker.required or set()
        prepared_contexts = []
        for context in contexts:
            ctx = dict(context)
            ctx["is_terminated"] = bool(ctx.get("is_terminated"))
            ctx["is_draft"] = ctx["is_terminated"] or is_draft(ctx)
            if ctx["is_draft"] and not ctx.get("mark_reason"):
                ctx["mark_reason"] = ("合同已终止 / the contract is terminated" if ctx["is_terminated"]
                                      else _default_reason(ctx))
            ctx.setdefault("mark_reason", "")
            check_context(required, ctx, template)
            prepared_contexts.append(ctx)
        taken = taken if taken is not None else {p.name.casefold() for p in out.iterdir()}
        docs = []
        suffixes = {"final": "", "draft": draft_suffix, "terminated": terminated_suffix}
        for n, (ctx, data) in enumerate(zip(prepared_contexts, worker.render_all(prepared_contexts), strict=True),
                                        start=1):
            customer = ctx.get("customer") or {}
            customer_name = str(customer.get("name", "")) if isinstance(customer, Mapping) else str(customer)
            mark = mark_of(ctx)
            stem = f"{ctx.get('contract_id', '')}_{customer_name}" + suffixes[mark]
            path = inside(out, safe_filename(stem, "docx", taken))
            atomic_write_bytes(path, data)
            docs.append(
                ContractDoc(
                    contract_id=str(ctx.get("contract_id", "")),
                    customer=customer_name,
                    amount=_money(ctx["total"]) if ctx.get("total") not in (None, "") else None,
                    status=str(ctx.get("status", "")),
                    is_draft=ctx["is_draft"],
                    path=path,
                    mark=mark,
                    reason=str(ctx["mark_reason"]) if mark != "final" else "",
                )
            )
            if on_done is not None:
                on_done(n, len(prepared_contexts))
    if pdf and docs:
        results = convert_to_pdf([doc.path for doc in docs], out)
        docs = [replace(doc, pdf=r.pdf, pdf_error=r.reason) for doc, r in zip(docs, results, strict=True)]
    return docs


def contracts_index(docs: Iterable[ContractDoc], out_dir: str | Path | None = None) -> list[dict[str, str]]:
    """Rows for contracts.csv: contract, customer, amount, status, draft ("yes"/"no"), document
    (final / draft / terminated), reason (why it is not final), file, pdf, pdf_error (why a PDF
    asked for is missing).

    ``file`` and ``pdf`` are relative to out_dir when given (default: the file name).
    """
    rows = []
    base = Path(out_dir).resolve() if out_dir is not None else None
    for doc in docs:
        file = doc.path.relative_to(base) if base is not None else doc.path.name
        pdf = "" if doc.pdf is None else doc.pdf.relative_to(base) if base is not None else doc.pdf.name
        rows.append(
            {
                "contract": doc.contract_id,
                "customer": doc.customer,
                "amount": f"{doc.amount:.2f}" if doc.amount is not None else "",
                "status": doc.status,
                "draft": "yes" if doc.mark == "draft" else "no",
                "document": doc.mark,
                "reason": doc.reason,
                "file": str(file),
                "pdf": str(pdf),
                "pdf_error": doc.pdf_error,
            }
        )
    return rows


def pdf_converter() -> str:
    """The LibreOffice program that makes PDFs; PdfConverterMissing when there is none."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    raise PdfConverterMissing(program="soffice")


PDF_TIMEOUT = 60.0  # seconds per document, after LibreOffice has started
PDF_STARTUP = 120.0  # LibreOffice's first start with a fresh profile, on a busy machine
GIVE_UP_AFTER = 3  # documents failed in a row before any PDF was made


def _complete_pdf(path: Path) -> bool:
    """A PDF LibreOffice has finished writing ends with %%EOF."""
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, path.stat().st_size - 1024))
            return b"%%EOF" in fh.read()
    except OSError:
        return False


def _kill_group(proc: subprocess.Popen) -> None:
    """LibreOffice runs as a launcher and soffice.bin: end the whole process group (tree on Windows)."""
    if os.name == "nt":
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(proc.pid)], capture_output=True, check=False)
    else:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def _soffice_run(program: str, files: list[Path], work: Path, profile: Path, per_file: float,
                 startup: float) -> tuple[str, bool]:
    """Convert `files` into `work`; returns (LibreOffice's output, whether it ran out of time).

    Each document has `per_file` seconds from the last one finished (the first also has
    `startup`); past that, the process group is killed.
    """
    command = [program, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--nolockcheck", "--convert-to", "pdf", "--outdir", str(work), *map(str, files)]
    pending = {work / (f.stem + ".pdf") for f in files}
    with tempfile.TemporaryFile() as log:
        kwargs: dict[str, Any] = {"stdout": log, "stderr": subprocess.STDOUT, "stdin": subprocess.DEVNULL}
        if os.name == "posix":
            kwargs["start_new_session"] = True  # its own process group, killed as one
        proc = subprocess.Popen(command, **kwargs)
        deadline, timed_out = time.monotonic() + startup + per_file, False
        try:
            while proc.poll() is None:
                finished = {p for p in pending if _complete_pdf(p)}
                if finished:
                    pending -= finished
                    deadline = time.monotonic() + per_file
                if time.monotonic() > deadline:
                    timed_out = True
                    break
                time.sleep(0.1)
        finally:
            _kill_group(proc)  # also after a normal exit: nothing of it may outlive this call
        log.seek(0)
        said = log.read()[-4000:].decode("utf-8", "replace")
    return said, timed_out


def _reason(said: str) -> str:
    lines = [ln.strip() for ln in said.splitlines() if ln.strip() and not ln.startswith("convert ")]
    return lines[-1][:300] if lines else "LibreOffice wrote no PDF"


def convert_to_pdf(
    paths: Sequence[str | Path], out_dir: str | Path, *, timeout: float | None = None, batch: int = 50,
    startup: float | None = None,
) -> list[PdfResult]:
    """Convert documents to PDF with LibreOffice headless; one PdfResult per path, in order.

    Runs ``soffice --headless --convert-to pdf`` with a private, throw-away user profile (so it
    neither collides with a running LibreOffice nor touches the user's settings), ``batch`` files
    per run, each document within ``timeout`` seconds (default PDF_TIMEOUT, after LibreOffice's
    start, ``startup``); a document past it, or one LibreOffice
    cannot convert, fails alone and the others go on. LibreOffice writes into a private folder;
    each PDF then replaces its name in ``out_dir`` atomically. No LibreOffice process outlives the call.
    """
    program = pdf_converter()
    timeout = PDF_TIMEOUT if timeout is None else timeout
    startup = PDF_STARTUP if startup is None else startup
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    sources = [Path(p).resolve() for p in paths]
    results: dict[int, PdfResult] = {}
    with tempfile.TemporaryDirectory(prefix="salesbook-lo-") as profile_dir, \
            tempfile.TemporaryDirectory(prefix=TEMP_PREFIX + "pdf-", dir=out) as work_dir:
        work, profile = Path(work_dir), Path(profile_dir)

        def run(chunk: list[int], first: bool) -> list[int]:
            """Convert one run's documents; publish the PDFs made; return the indexes still missing."""
            said, timed_out = _soffice_run(program, [sources[i] for i in chunk], work, profile, timeout,
                                           startup if first else min(startup, 30.0))
            missing = []
            for i in chunk:
                made = work / (sources[i].stem + ".pdf")
                if _complete_pdf(made):
                    publish(made, out / made.name)
                    results[i] = PdfResult(sources[i], out / made.name)
                else:
                    made.unlink(missing_ok=True)
                    missing.append(i)
            if missing and (timed_out or len(chunk) == 1):
                # The document being converted (the first not done: LibreOffice goes in order) fails.
                why = f"no PDF within {timeout:g} s" if timed_out else _reason(said)
                results[missing[0]] = PdfResult(sources[missing[0]], None, why)
                return missing[1:]
            return missing

        def hopeless() -> bool:  # LibreOffice itself is broken: do not spend minutes per document
            return len(results) >= GIVE_UP_AFTER and not any(r.pdf for r in results.values())

        queue, first = list(range(len(sources))), True
        while queue and not hopeless():
            chunk, queue = queue[:batch], queue[batch:]
            missing = run(chunk, first)
            first = False
            if missing and len(missing) < len(chunk):
                queue = missing + queue  # e.g. after a time-out: the documents behind it go on
            else:  # LibreOffice gave up on all of these: each once more on its own, to fail alone
                for i in missing:
                    if not hopeless():
                        run([i], False)
        for i in range(len(sources)):
            results.setdefault(i, PdfResult(sources[i], None, "not tried: LibreOffice made no PDF of the "
                                                              f"first {GIVE_UP_AFTER} documents"))
    return [results[i] for i in range(len(sources))]
