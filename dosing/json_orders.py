"""Moved to dosing.documents.json_orders (issue 14, item 2); this name stays only until every caller imports from there."""

from dosing.documents.json_orders import as_dict, bag_dict  # noqa: F401
