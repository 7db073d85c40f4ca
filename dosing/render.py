"""Moved to dosing.documents.render (issue 14, item 2); this name stays only until every caller imports from there."""

from dosing.documents.render import html, pdf, pdf_from_html, templates_directory, warm_up  # noqa: F401
