"""Moved to dosing.documents (issue 14, item 2); this name stays only until every caller imports from there."""

from dosing.documents import Document, documents  # noqa: F401
