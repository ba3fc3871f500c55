"""Contracts (.docx, optionally PDF) and sales reports (HTML, .xlsx) rendered from Jinja templates.

Public entry points; the context shapes are documented in ``contracts`` and ``reports``.
"""

from .contracts import (
    ContractDoc,
    PdfConversionFailed,
    PdfConverterMissing,
    PdfResult,
    PreparedDocx,
    build_contract_context,
    contracts_index,
    convert_to_pdf,
    default_contract_template,
    render_contracts,
)
from .env import (
    DocumentError,
    TemplateFieldMissing,
    TemplateInvalid,
    TemplateSecurityError,
    TemplateTooCostly,
    TemplateUnsupported,
    make_env,
    required_variables,
)
from .filenames import UnsafeOutputPath, inside, safe_filename
from .reports import default_report_template, render_report_html, write_report_xlsx

__all__ = [
    "ContractDoc",
    "DocumentError",
    "PdfConversionFailed",
    "PdfConverterMissing",
    "PdfResult",
    "PreparedDocx",
    "TemplateFieldMissing",
    "TemplateInvalid",
    "TemplateSecurityError",
    "TemplateTooCostly",
    "TemplateUnsupported",
    "UnsafeOutputPath",
    "build_contract_context",
    "contracts_index",
    "convert_to_pdf",
    "default_contract_template",
    "default_report_template",
    "inside",
    "make_env",
    "render_contracts",
    "render_report_html",
    "required_variables",
    "safe_filename",
    "write_report_xlsx",
]
