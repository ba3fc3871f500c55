"""Contracts (.docx, optionally PDF) and sales reports (HTML, .xlsx) rendered from Jinja templates."""
