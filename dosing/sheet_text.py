"""Moved to dosing.documents.read_back (issue 14, item 2); this name stays only until every caller imports from there."""

from dosing.documents.read_back import Printed, differences, html_text, pages, printed, squeezed  # noqa: F401
